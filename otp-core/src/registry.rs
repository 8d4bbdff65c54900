//! An Elixir-style process registry: keys bound to processes, removed when they end.
//!
//! A [`Registry`] maps keys to `(pid, value)` entries. With [`Keys::Unique`] a key has at most
//! one entry; with [`Keys::Duplicate`] a key may have any number (a pub/sub topic, a pool). A
//! process registers itself ([`register`](Registry::register) acts for the calling process) and
//! its entries are removed when it ends — at once, before its links and monitors are told, so a
//! lookup never returns a process that ended. A unique registry also names servers:
//! [`via`](Registry::via) gives a [`ServerName`] for [`StartOptions::name`](crate::gen_server::StartOptions::name).
//!
//! ```
//! use otp_core::process::spawn;
//! use otp_core::registry::{Keys, Registry};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let topics: Registry<&'static str, u32> = Registry::new(Keys::Duplicate);
//! let (tx, rx) = tokio::sync::oneshot::channel();
//! let reg = topics.clone();
//! spawn(move |_me| async move {
//!     reg.register("news", 7).unwrap();
//!     let _ = tx.send(());
//!     std::future::pending::<()>().await
//! });
//! rx.await.unwrap();
//! assert_eq!(topics.lookup(&"news").len(), 1);
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::gen_server::{ServerName, ViaName};
use crate::node::Node;
use crate::pid::Pid;
use crate::process::{ExitHook, current_pid};

/// Whether a key may have one entry or many.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Keys {
    /// At most one process per key.
    Unique,
    /// Any number of entries per key, also several from the same process.
    Duplicate,
}

/// Why a registry operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The key of a unique registry is held by this live process (possibly the caller).
    #[error("the key is already registered to {0}")]
    AlreadyRegistered(Pid),
    /// The operation acts for the calling process, and was called outside any process.
    #[error("registry operations that act for the caller must run inside a process")]
    NotInProcess,
    /// The process has ended.
    #[error("no such process: {0}")]
    NoProc(Pid),
    /// The operation needs a unique registry (`via`, `update_value`).
    #[error("this operation needs a registry with unique keys")]
    NotUnique,
}

struct State<K, V> {
    by_key: HashMap<K, Vec<(Pid, V)>>,
    by_pid: HashMap<Pid, Vec<K>>,
}

struct Inner<K, V> {
    keys: Keys,
    /// The node whose processes register here.
    node: Node,
    state: RwLock<State<K, V>>,
}

impl<K, V> Inner<K, V> {
    fn read(&self) -> RwLockReadGuard<'_, State<K, V>> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }
    fn write(&self) -> RwLockWriteGuard<'_, State<K, V>> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A registry of processes by key. Cheap to clone: clones share the same entries.
pub struct Registry<K, V = ()> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Registry<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("keys", &self.inner.keys)
            .finish_non_exhaustive()
    }
}

impl<K, V> ExitHook for Inner<K, V>
where
    K: Hash + Eq + Send + Sync,
    V: Send + Sync,
{
    fn process_exited(&self, pid: Pid) {
        let mut st = self.write();
        let Some(keys) = st.by_pid.remove(&pid) else {
            return;
        };
        for key in keys {
            if let Some(entries) = st.by_key.get_mut(&key) {
                entries.retain(|(p, _)| *p != pid);
                if entries.is_empty() {
                    st.by_key.remove(&key);
                }
            }
        }
    }
}

fn caller() -> Result<Pid, RegistryError> {
    current_pid().ok_or(RegistryError::NotInProcess)
}

impl<K, V> Registry<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A new, empty registry for the processes of the calling code's node (a process of another
    /// node cannot register in it: [`RegistryError::NoProc`]).
    pub fn new(keys: Keys) -> Self {
        Registry {
            inner: Arc::new(Inner {
                keys,
                node: Node::current(),
                state: RwLock::new(State {
                    by_key: HashMap::new(),
                    by_pid: HashMap::new(),
                }),
            }),
        }
    }

    /// Whether keys are unique or duplicate.
    pub fn kind(&self) -> Keys {
        self.inner.keys
    }

    /// Registers the calling process under `key` with `value` (REG-02). In a unique registry, a
    /// key held by a live process (the caller included) is an error naming it.
    pub fn register(&self, key: K, value: V) -> Result<(), RegistryError> {
        self.register_for(caller()?, key, value)
    }

    /// Registers `pid`: the same as [`register`](Self::register), for another process (a
    /// server being started under a `via` name).
    pub(crate) fn register_for(&self, pid: Pid, key: K, value: V) -> Result<(), RegistryError> {
        let node = self.inner.node;
        let p = node.lookup(pid).ok_or(RegistryError::NoProc(pid))?;
        let hook: Arc<dyn ExitHook> = self.inner.clone();
        // Under the process's lock: it cannot end between the check and the insertion, so its
        // exit always sees the entry and removes it.
        p.core()
            .with_exit_hook(&hook, || {
                let mut st = self.inner.write();
                if self.inner.keys == Keys::Unique
                    && let Some(entries) = st.by_key.get(&key)
                    && let Some((holder, _)) = entries.first()
                {
                    if node.lookup(*holder).is_some() {
                        return Err(RegistryError::AlreadyRegistered(*holder));
                    }
                    let stale = *holder;
                    drop_entries(&mut st, stale, &key);
                }
                st.by_key.entry(key.clone()).or_default().push((pid, value));
                st.by_pid.entry(pid).or_default().push(key);
                Ok(())
            })
            .unwrap_or(Err(RegistryError::NoProc(pid)))
    }

    /// Removes the calling process's entries under `key` (REG-03).
    pub fn unregister(&self, key: &K) -> Result<(), RegistryError> {
        let pid = caller()?;
        drop_entries(&mut self.inner.write(), pid, key);
        Ok(())
    }

    /// Removes the calling process's entries under `key` whose value matches `pred`.
    pub fn unregister_match(
        &self,
        key: &K,
        mut pred: impl FnMut(&V) -> bool,
    ) -> Result<(), RegistryError> {
        let pid = caller()?;
        let mut st = self.inner.write();
        let mut now_empty = false;
        let mut still_has_key = false;
        if let Some(entries) = st.by_key.get_mut(key) {
            entries.retain(|(p, v)| *p != pid || !pred(v));
            still_has_key = entries.iter().any(|(p, _)| *p == pid);
            now_empty = entries.is_empty();
        }
        if now_empty {
            st.by_key.remove(key);
        }
        if !still_has_key {
            forget_key(&mut st, pid, key);
        }
        Ok(())
    }

    /// The entries under `key` (REG-05).
    pub fn lookup(&self, key: &K) -> Vec<(Pid, V)> {
        self.inner
            .read()
            .by_key
            .get(key)
            .cloned()
            .unwrap_or_default()
    }

    /// The process holding `key` in a unique registry (the first entry in a duplicate one).
    pub fn whereis(&self, key: &K) -> Option<Pid> {
        self.inner
            .read()
            .by_key
            .get(key)
            .and_then(|e| e.first())
            .map(|(p, _)| *p)
    }

    /// The entries under `key` whose value matches `pred`.
    pub fn match_entries(&self, key: &K, mut pred: impl FnMut(&V) -> bool) -> Vec<(Pid, V)> {
        self.inner
            .read()
            .by_key
            .get(key)
            .map(|e| e.iter().filter(|(_, v)| pred(v)).cloned().collect())
            .unwrap_or_default()
    }

    /// The keys `pid` is registered under.
    pub fn keys(&self, pid: Pid) -> Vec<K> {
        let mut keys = self
            .inner
            .read()
            .by_pid
            .get(&pid)
            .cloned()
            .unwrap_or_default();
        if self.inner.keys == Keys::Duplicate {
            let mut seen = std::collections::HashSet::new();
            keys.retain(|k| seen.insert(k.clone()));
        }
        keys
    }

    /// The values `pid` registered under `key`.
    pub fn values(&self, key: &K, pid: Pid) -> Vec<V> {
        self.inner
            .read()
            .by_key
            .get(key)
            .map(|e| {
                e.iter()
                    .filter(|(p, _)| *p == pid)
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many entries the registry holds.
    pub fn count(&self) -> usize {
        self.inner.read().by_key.values().map(Vec::len).sum()
    }

    /// How many entries are under `key`.
    pub fn count_key(&self, key: &K) -> usize {
        self.inner.read().by_key.get(key).map_or(0, Vec::len)
    }

    /// Calls `f` with the entries under `key`, in the calling task, if there are any (REG-06);
    /// returns whether it was called. The entries are a snapshot: `f` may use the registry.
    pub fn dispatch(&self, key: &K, f: impl FnOnce(&[(Pid, V)])) -> bool {
        let entries = self.lookup(key);
        if entries.is_empty() {
            return false;
        }
        f(&entries);
        true
    }

    /// Replaces the value of the calling process's entry under `key` in a unique registry
    /// (REG-08). Returns `(new, old)`, or `None` if the caller does not hold the key.
    pub fn update_value(
        &self,
        key: &K,
        f: impl FnOnce(&V) -> V,
    ) -> Result<Option<(V, V)>, RegistryError> {
        if self.inner.keys != Keys::Unique {
            return Err(RegistryError::NotUnique);
        }
        let pid = caller()?;
        let mut st = self.inner.write();
        let Some((_, value)) = st
            .by_key
            .get_mut(key)
            .and_then(|e| e.iter_mut().find(|(p, _)| *p == pid))
        else {
            return Ok(None);
        };
        let new = f(value);
        let old = std::mem::replace(value, new.clone());
        Ok(Some((new, old)))
    }

    /// A server name in this registry, for [`StartOptions::name`](crate::gen_server::StartOptions::name),
    /// with `V::default()` as the value (REG-07). Only for unique registries.
    pub fn via(&self, key: K) -> Result<ServerName, RegistryError>
    where
        K: fmt::Debug,
        V: Default,
    {
        self.via_with(key, V::default())
    }

    /// A server name in this registry with a value (REG-07). Only for unique registries.
    pub fn via_with(&self, key: K, value: V) -> Result<ServerName, RegistryError>
    where
        K: fmt::Debug,
    {
        if self.inner.keys != Keys::Unique {
            return Err(RegistryError::NotUnique);
        }
        Ok(ServerName::Via(Arc::new(RegistryName {
            registry: self.clone(),
            key,
            value,
        })))
    }
}

fn drop_entries<K: Hash + Eq + Clone, V>(st: &mut State<K, V>, pid: Pid, key: &K) {
    let mut now_empty = false;
    if let Some(entries) = st.by_key.get_mut(key) {
        entries.retain(|(p, _)| *p != pid);
        now_empty = entries.is_empty();
    }
    if now_empty {
        st.by_key.remove(key);
    }
    forget_key(st, pid, key);
}

fn forget_key<K: Hash + Eq, V>(st: &mut State<K, V>, pid: Pid, key: &K) {
    if let Some(keys) = st.by_pid.get_mut(&pid) {
        keys.retain(|k| k != key);
        if keys.is_empty() {
            st.by_pid.remove(&pid);
        }
    }
}

struct RegistryName<K, V> {
    registry: Registry<K, V>,
    key: K,
    value: V,
}

impl<K, V> ViaName for RegistryName<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + fmt::Debug + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn register_name(&self, pid: Pid) -> Result<(), Pid> {
        match self
            .registry
            .register_for(pid, self.key.clone(), self.value.clone())
        {
            Ok(()) => Ok(()),
            Err(RegistryError::AlreadyRegistered(holder)) => Err(holder),
            // The new server process exists until its start ends; nothing else can fail here.
            Err(_) => Err(pid),
        }
    }

    fn whereis_name(&self) -> Option<Pid> {
        self.registry.whereis(&self.key)
    }

    fn describe(&self) -> String {
        format!("Registry key {:?}", self.key)
    }
}
