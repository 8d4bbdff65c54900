//! The operations of a [`Node`]: its identity, its process table, its registered names, and how
//! code finds the node it runs on.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use rustc_hash::FxBuildHasher;

use super::core::{Node, NodeInner, ProcessEntry};
use super::current;
use super::route::Router;
use crate::message::{MonitorRef, Name};
use crate::pid::Pid;

/// The name of the default node, as Erlang names a node that is not distributed.
pub const DEFAULT_NODE_NAME: &str = "nonode@nohost";

static DEFAULT: LazyLock<Node> = LazyLock::new(|| Node::leak(DEFAULT_NODE_NAME.into(), 0, 0));

impl Node {
    fn leak(name: Box<str>, id: u32, creation: u32) -> Node {
        Node(Box::leak(Box::new(NodeInner {
            name,
            id,
            creation,
            table: DashMap::with_hasher(FxBuildHasher),
            names: DashMap::new(),
            next_serial: AtomicU64::new(1),
            next_ref: AtomicU64::new(1),
            router: OnceLock::new(),
        })))
    }

    /// A new node named `name` (by convention `name@host`), with an empty process table and no
    /// registered names. Its id, the node part of its pids, is derived from the name (never 0,
    /// the default node's); its creation is random and non-zero, so that the pids of two nodes
    /// of one name — the same node restarted — are told apart.
    ///
    /// A node lives as long as the program: make one per node you need (a program usually needs
    /// only the default one, which exists without being made).
    pub fn new(name: impl Into<String>) -> Node {
        let name: Box<str> = name.into().into_boxed_str();
        let id = node_id(&name);
        let creation = loop {
            let c: u32 = rand::random();
            if c != 0 {
                break c;
            }
        };
        Node::leak(name, id, creation)
    }

    /// The default node: the node of every program that makes none, named
    /// [`DEFAULT_NODE_NAME`], with id and creation 0.
    pub fn default_node() -> Node {
        *DEFAULT
    }

    /// The node the calling code runs on: inside a process, the process's node; elsewhere, the
    /// node this thread was given (a thread of a node's [`runtime`](Node::runtime), or under
    /// [`enter`](Node::enter)); otherwise the default node.
    #[inline]
    pub fn current() -> Node {
        current::node().unwrap_or_else(|| *DEFAULT)
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The id a node named `name` has (the node part of its pids): how distribution tells which
    /// node a pid belongs to.
    pub fn id_of(name: &str) -> u32 {
        node_id(name)
    }

    /// The node's id: the node part of its pids.
    pub fn id(&self) -> u32 {
        self.0.id
    }

    /// The node's creation: the incarnation part of its pids.
    pub fn creation(&self) -> u32 {
        self.0.creation
    }

    /// Whether `pid` names a process of this node (live or not): its node and creation are this
    /// node's.
    #[inline]
    pub fn owns(&self, pid: Pid) -> bool {
        pid.node() == self.0.id && pid.creation() == self.0.creation
    }

    /// Makes this node the calling thread's node until the guard drops: what
    /// [`spawn`](crate::process::spawn), [`send`](crate::name::send),
    /// [`whereis`](crate::name::whereis) and the other free functions act on, outside processes.
    pub fn enter(&self) -> NodeGuard {
        NodeGuard {
            _restore: current::enter_node(*self),
            _not_send: std::marker::PhantomData,
        }
    }

    /// Runs `future` to completion on `runtime` with this node as the calling thread's node
    /// (see [`enter`](Node::enter)). With a runtime made by [`runtime`](Node::runtime), every
    /// task of the runtime works on this node too.
    pub fn block_on<F: Future>(&self, runtime: &tokio::runtime::Runtime, future: F) -> F::Output {
        let _node = self.enter();
        runtime.block_on(future)
    }

    /// Builds a tokio runtime whose threads work on this node: a node of its own per runtime,
    /// as separate hosts would have. `builder` is used as given, but for its thread start and
    /// stop hooks, which this sets. Drive it with [`block_on`](Node::block_on).
    ///
    /// ```
    /// use otp_core::node::Node;
    /// use otp_core::process::spawn;
    ///
    /// let a = Node::new("a@localhost");
    /// let runtime = a
    ///     .runtime(tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all())
    ///     .unwrap();
    /// let pid = a.block_on(&runtime, async { spawn(|_me| std::future::pending::<()>()) });
    /// assert!(a.owns(pid));
    /// assert!(!Node::default_node().owns(pid));
    /// ```
    ///
    /// # Errors
    /// As [`tokio::runtime::Builder::build`].
    pub fn runtime(
        &self,
        builder: &mut tokio::runtime::Builder,
    ) -> std::io::Result<tokio::runtime::Runtime> {
        let node = *self;
        builder
            .on_thread_start(move || current::set_node(Some(node)))
            .on_thread_stop(|| current::set_node(None))
            .build()
    }

    /// How many processes this node has (see [`process_count`](crate::process::process_count)).
    pub fn process_count(&self) -> usize {
        self.0.table.len()
    }

    /// The router through which `pid` is reached: `None` if `pid` is this node's own, or if this
    /// node is not distributed.
    #[inline]
    pub(crate) fn router_for(&self, pid: Pid) -> Option<&Arc<dyn Router>> {
        if self.owns(pid) {
            None
        } else {
            self.0.router.get()
        }
    }

    // ---- the process table ----

    /// A fresh pid of this node, never handed out before.
    pub(crate) fn next_pid(&self) -> Pid {
        let serial = self.0.next_serial.fetch_add(1, Ordering::Relaxed);
        Pid::from_parts(self.0.id, serial, self.0.creation)
    }

    /// A fresh monitor reference of this node, for a monitor on `target`.
    pub(crate) fn monitor_ref(&self, target: Option<Pid>) -> MonitorRef {
        MonitorRef {
            node: self.0.id,
            creation: self.0.creation,
            id: self.next_ref(),
            target,
        }
    }

    /// A fresh reference number of this node (monitors, timers).
    pub(crate) fn next_ref(&self) -> u64 {
        self.0.next_ref.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn insert(&self, pid: Pid, entry: Arc<dyn ProcessEntry>) {
        self.0.table.insert(pid.serial(), entry);
    }

    pub(crate) fn remove(&self, pid: Pid) {
        self.0.table.remove(&pid.serial());
    }

    /// The process of this node with this pid, if it is in the table (alive, or still telling
    /// its links that it ended).
    #[inline]
    pub(crate) fn lookup(&self, pid: Pid) -> Option<Arc<dyn ProcessEntry>> {
        if !self.owns(pid) {
            return None;
        }
        self.0
            .table
            .get(&pid.serial())
            .map(|e| Arc::clone(e.value()))
    }

    /// Every process in the table, in no particular order.
    pub(crate) fn all(&self) -> Vec<Arc<dyn ProcessEntry>> {
        self.0.table.iter().map(|e| Arc::clone(e.value())).collect()
    }

    // ---- registered names ----

    /// The process registered under `name`, if any.
    pub(crate) fn whereis(&self, name: &Name) -> Option<Pid> {
        self.0.names.get(name).map(|e| *e.value())
    }

    /// Binds `name` to `pid` unless it is taken; the holder if it is.
    pub(crate) fn claim_name(&self, name: &Name, pid: Pid) -> Result<(), Pid> {
        match self.0.names.entry(name.clone()) {
            Entry::Occupied(e) => Err(*e.get()),
            Entry::Vacant(v) => {
                v.insert(pid);
                Ok(())
            }
        }
    }

    /// Removes `name`; the process that held it.
    pub(crate) fn unbind_name(&self, name: &Name) -> Option<Pid> {
        self.0.names.remove(name).map(|(_, pid)| pid)
    }

    /// Releases `name` if `pid` still holds it (at `pid`'s exit).
    pub(crate) fn release_name(&self, name: &Name, pid: Pid) {
        self.0.names.remove_if(name, |_, holder| *holder == pid);
    }

    /// Every registered name with its process, ordered by name.
    pub(crate) fn registered(&self) -> Vec<(Name, Pid)> {
        let mut all: Vec<(Name, Pid)> = self
            .0
            .names
            .iter()
            .map(|e| (e.key().clone(), *e.value()))
            .collect();
        all.sort_unstable();
        all
    }
}

/// Makes a node the thread's node until dropped; see [`Node::enter`]. Not `Send`: it restores
/// the thread it was made on.
#[must_use = "the node is the thread's only until the guard drops"]
pub struct NodeGuard {
    _restore: current::Guard,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl fmt::Debug for NodeGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeGuard")
    }
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Node {}

impl Hash for Node {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::ptr::hash(self.0, state);
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Node({}, id {}, creation {})",
            self.0.name, self.0.id, self.0.creation
        )
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.name)
    }
}

/// The id of a named node: FNV-1a over its name, never 0 (the default node's). Stable across
/// builds and platforms, as it travels in pids.
fn node_id(name: &str) -> u32 {
    const OFFSET: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    let hash = name
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u32::from(b)).wrapping_mul(PRIME));
    hash.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_nodes_have_their_own_identity() {
        let a = Node::new("a@host");
        let b = Node::new("a@host");
        assert_eq!(a.id(), b.id(), "the id follows the name");
        assert_ne!(a.creation(), 0);
        assert_ne!(a, b, "two nodes, even of one name");
        assert_ne!(a.id(), Node::default_node().id());
        assert_eq!(Node::default_node().id(), 0);
        assert_eq!(Node::default_node().name(), DEFAULT_NODE_NAME);
        // FNV-1a of "a@host": the id is stable, as pids carry it.
        assert_eq!(node_id("a@host"), 0x33ed_7516);
    }

    #[test]
    fn a_pid_belongs_to_one_node() {
        let a = Node::new("a@host");
        let b = Node::new("b@host");
        let pid = a.next_pid();
        assert!(a.owns(pid));
        assert!(!b.owns(pid));
        assert!(!Node::default_node().owns(pid));
    }

    #[test]
    fn enter_sets_the_threads_node_until_dropped() {
        let a = Node::new("a@host");
        assert_eq!(Node::current(), Node::default_node());
        {
            let _a = a.enter();
            assert_eq!(Node::current(), a);
        }
        assert_eq!(Node::current(), Node::default_node());
    }
}
