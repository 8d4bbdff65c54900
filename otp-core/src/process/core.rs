//! The data of the process layer: a node and its tables, a process's control block, and the
//! object-safe view of a process that the tables hold.
//!
//! A node and its processes point at each other (the node's table holds its processes, a
//! process knows its node), so their types are defined together here; the operations live in
//! the modules that use them ([`node`](super::node), [`signals`](super::signals),
//! [`end`](super::end)).
//!
//! Each process has a [`ProcessCore`]: hot, lock-free flags (a signal is pending, the process
//! traps exits, the task's waker) and a small locked state. Links, monitors, the registered name,
//! timers and exit hooks live in a "cold" part allocated on first use, so an idle process that
//! has none costs nothing for them. Its fields are private: the rest of the runtime uses the
//! operations below. Lock order, where two locks are held at once: a process's state, then a
//! mailbox queue or the node's name table; never the other way round.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use atomic_waker::AtomicWaker;
use dashmap::DashMap;
use rustc_hash::FxBuildHasher;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::bound::{MailboxBound, PushError};
use super::info::ProcessDetails;
use super::kind::ProcessKind;
use super::route::{CastFeed, DeliverError, ReplySink, Router};
use crate::exit::ExitReason;
use crate::message::{Info, Message, MonitorRef, Monitored, Name};
use crate::pid::Pid;

/// Locks a mutex of the runtime. No user code runs while one is held, so a poisoned lock can
/// only come from a panic inside the runtime's own short critical sections; the data is still
/// consistent then, so the poison is ignored.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) type FxSet<K> = HashSet<K, FxBuildHasher>;
pub(super) type FxMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// A node: a process table, a table of registered names, and an identity that every pid of
/// its processes carries. See [`node`](crate::node) for what a node is and how to have several.
///
/// `Node` is a `Copy` handle: a node lives as long as the program (it is created rarely: the
/// default node, and the nodes a test or a distributed program names).
#[derive(Clone, Copy)]
pub struct Node(pub(super) &'static NodeInner);

pub(super) struct NodeInner {
    pub(super) name: Box<str>,
    /// The node part of its pids: 0 for the default node, derived from the name otherwise.
    pub(super) id: u32,
    /// Its incarnation: 0 for the default node, random and non-zero otherwise.
    pub(super) creation: u32,
    /// Every live process by serial (a process that has ended stays until its links, monitors
    /// and waiters are told).
    pub(super) table: DashMap<u64, Arc<dyn ProcessEntry>, FxBuildHasher>,
    /// Registered names.
    pub(super) names: DashMap<Name, Pid>,
    pub(super) next_serial: AtomicU64,
    /// Monitor and timer references.
    pub(super) next_ref: AtomicU64,
    /// How it reaches other nodes, once distributed.
    pub(super) router: OnceLock<Arc<dyn Router>>,
}

/// A process as the rest of the runtime sees it, whatever its mailbox holds.
pub(crate) trait ProcessEntry: Send + Sync + 'static {
    fn core(&self) -> &ProcessCore;
    /// Queues a runtime message (never dropped by a bound). Returns `false` if the process has
    /// ended.
    fn push_system(&self, info: Info) -> bool;
    /// Queues a user info message, applying the bound.
    fn push_message(&self, msg: Message) -> Result<(), PushError<Message>>;
    /// Delivers a `Down` if the monitor is still active (atomic with `demonitor`).
    fn deliver_down(&self, reference: MonitorRef, object: Monitored, reason: ExitReason);
    fn mailbox_len(&self) -> usize;
    /// `(waiting on an empty mailbox, hibernating)`.
    fn park_state(&self) -> (bool, bool);
    fn mailbox_dropped(&self) -> u64;
    fn mailbox_bound(&self) -> Option<MailboxBound>;
    /// Closes the mailbox at exit and drops what was queued.
    fn close_mailbox(&self);
    /// Queues a call from another node (see [`Node::deliver_call`]).
    fn deliver_remote_call(
        &self,
        request: &[u8],
        reply: Box<dyn ReplySink>,
    ) -> Result<(), DeliverError>;
    /// Queues a cast from another node (see [`Node::deliver_cast`]).
    fn deliver_remote_cast(&self, message: &[u8]) -> Result<(), DeliverError>;
    /// Queues the casts from another node that `feed` hands to the sink it is given, decoded
    /// one by one as they come and queued together (see [`Deliveries::casts`]). Returns
    /// whether they woke the process from an empty mailbox.
    fn deliver_remote_casts(&self, feed: &mut CastFeed<'_>) -> bool;
    /// Ready once the process has taken what its mailbox holds, or has ended (see
    /// [`Deliveries::taken`]).
    fn poll_taken(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()>;
    /// Queues a stop asked from another node (see [`Node::deliver_stop`]).
    fn deliver_remote_stop(&self, reason: ExitReason) -> Result<(), DeliverError>;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// Something that must learn when a process ends (a registry removing its entries).
pub(crate) trait ExitHook: Send + Sync {
    /// Called once, after the process `pid` has ended, for each hook it was given.
    fn process_exited(&self, pid: Pid);
}

/// A pending timer whose destination is this process.
pub(super) struct TimerEntry {
    pub(super) abort: AbortHandle,
    deadline: Instant,
}

/// The rarely used part of a process, allocated on first use.
#[derive(Default)]
struct Cold {
    links: FxSet<Pid>,
    /// Monitors set on this process: reference → (watcher, what it watched).
    monitored_by: FxMap<MonitorRef, (Pid, Monitored)>,
    /// Monitors this process holds.
    monitoring: FxSet<MonitorRef>,
    name: Option<Name>,
    timers: FxMap<u64, TimerEntry>,
    waiters: Vec<oneshot::Sender<ExitReason>>,
    exit_hooks: Vec<Arc<dyn ExitHook>>,
    details: Option<Arc<dyn ProcessDetails>>,
}

/// An exit signal waiting for its process to act on it.
pub(super) struct ExitSig {
    pub(super) from: Option<Pid>,
    pub(super) reason: ExitReason,
    /// Sent through a link (the sender ended), rather than by `exit`.
    pub(super) link: bool,
}

struct CoreState {
    alive: bool,
    /// Set once the clean-up has told the links, monitors and waiters: until then, a wait for
    /// the exit that starts after the process ended still waits, so that it never resolves
    /// before the links have been told.
    told: bool,
    exit_reason: Option<ExitReason>,
    signals: Vec<ExitSig>,
    /// The first task waiting for the exit (a `stop`, a failed start): kept here rather than in
    /// the cold part, so that the common stop allocates nothing for it.
    waiter: Option<oneshot::Sender<ExitReason>>,
    cold: Option<Box<Cold>>,
}

/// What an ended process leaves to tell, taken from its control block by
/// [`ProcessCore::begin_exit`].
pub(super) struct Leftovers {
    cold: Option<Box<Cold>>,
    waiter: Option<oneshot::Sender<ExitReason>>,
}

/// The parts of [`Leftovers`], in the order the clean-up tells them, in the collections they
/// were kept in (taken apart without copying: the clean-up runs at every exit).
pub(super) struct Told {
    pub(super) name: Option<Name>,
    pub(super) exit_hooks: Vec<Arc<dyn ExitHook>>,
    pub(super) timers: FxMap<u64, TimerEntry>,
    pub(super) links: FxSet<Pid>,
    /// The monitors set on the process: reference → (watcher, what it watched).
    pub(super) monitored_by: FxMap<MonitorRef, (Pid, Monitored)>,
    /// The monitors the process held.
    pub(super) monitoring: FxSet<MonitorRef>,
    /// The first wait for the exit, and the others.
    pub(super) waiter: Option<oneshot::Sender<ExitReason>>,
    pub(super) waiters: Vec<oneshot::Sender<ExitReason>>,
}

impl Leftovers {
    /// The name the process had registered, if any.
    pub(super) fn name(&self) -> Option<&Name> {
        self.cold.as_ref().and_then(|c| c.name.as_ref())
    }

    /// Takes everything apart, for the clean-up.
    pub(super) fn into_told(self) -> Told {
        let Cold {
            links,
            monitored_by,
            monitoring,
            name,
            timers,
            waiters,
            exit_hooks,
            details: _,
        } = self.cold.map(|c| *c).unwrap_or_default();
        Told {
            name,
            exit_hooks,
            timers,
            links,
            monitored_by,
            monitoring,
            waiter: self.waiter,
            waiters,
        }
    }
}

/// What introspection sees of a process's links, monitors and name.
#[derive(Default)]
pub(super) struct Relations {
    pub(super) name: Option<Name>,
    pub(super) links: Vec<Pid>,
    pub(super) monitors: Vec<Pid>,
    pub(super) monitored_by: Vec<Pid>,
    pub(super) details: Option<Arc<dyn ProcessDetails>>,
}

/// The variant of a [`ProcessKind`], without its name.
#[derive(Clone, Copy)]
enum KindTag {
    Plain,
    Server,
    Supervisor,
}

/// The non-generic part of a process control block.
pub(crate) struct ProcessCore {
    pub(crate) pid: Pid,
    pub(crate) parent: Option<Pid>,
    /// The kind, kept as its two parts (an enum with a `&str` in two variants would take 8
    /// bytes more in every process): see [`kind`](Self::kind).
    kind_name: &'static str,
    kind_tag: KindTag,
    pub(crate) node: Node,
    pub(crate) waker: AtomicWaker,
    signal_pending: AtomicBool,
    trap_exit: AtomicBool,
    state: Mutex<CoreState>,
}

impl ProcessCore {
    pub(super) fn new(pid: Pid, parent: Option<Pid>, kind: ProcessKind, node: Node) -> Self {
        let (kind_tag, kind_name) = match kind {
            ProcessKind::Plain => (KindTag::Plain, ""),
            ProcessKind::Server(name) => (KindTag::Server, name),
            ProcessKind::Supervisor(name) => (KindTag::Supervisor, name),
        };
        ProcessCore {
            pid,
            parent,
            kind_name,
            kind_tag,
            node,
            waker: AtomicWaker::new(),
            signal_pending: AtomicBool::new(false),
            trap_exit: AtomicBool::new(false),
            state: Mutex::new(CoreState {
                alive: true,
                told: false,
                exit_reason: None,
                signals: Vec::new(),
                waiter: None,
                cold: None,
            }),
        }
    }

    /// What kind of process this is.
    #[inline]
    pub(crate) fn kind(&self) -> ProcessKind {
        match self.kind_tag {
            KindTag::Plain => ProcessKind::Plain,
            KindTag::Server => ProcessKind::Server(self.kind_name),
            KindTag::Supervisor => ProcessKind::Supervisor(self.kind_name),
        }
    }

    /// Runs `f` on the cold part, allocating it if needed; `None` if the process has ended.
    fn with_cold<R>(&self, f: impl FnOnce(&mut Cold) -> R) -> Option<R> {
        let mut st = lock(&self.state);
        if !st.alive {
            return None;
        }
        Some(f(st.cold.get_or_insert_with(Default::default)))
    }

    /// Reads the cold part without allocating it; `None` if the process has ended.
    fn read_cold<R>(&self, f: impl FnOnce(Option<&Cold>) -> R) -> Option<R> {
        let st = lock(&self.state);
        if !st.alive {
            return None;
        }
        Some(f(st.cold.as_deref()))
    }

    #[inline]
    pub(crate) fn is_alive(&self) -> bool {
        lock(&self.state).alive
    }

    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        lock(&self.state).exit_reason.clone()
    }

    #[inline]
    pub(crate) fn signal_pending(&self) -> bool {
        self.signal_pending.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn traps_exits(&self) -> bool {
        self.trap_exit.load(Ordering::Relaxed)
    }

    pub(crate) fn set_trap_exit(&self, on: bool) -> bool {
        self.trap_exit.swap(on, Ordering::Relaxed)
    }

    // ---- links ----

    /// Adds a link to `other` on this side. `false` if this process has ended.
    pub(super) fn add_link(&self, other: Pid) -> bool {
        self.with_cold(|c| c.links.insert(other)).is_some()
    }

    /// Removes the link to `other` on this side; whether it was there (`false` if this process
    /// has ended).
    pub(super) fn remove_link(&self, other: Pid) -> bool {
        self.with_cold(|c| c.links.remove(&other)).unwrap_or(false)
    }

    /// The processes linked to this one, in no particular order.
    pub(crate) fn links(&self) -> Vec<Pid> {
        self.read_cold(|c| c.map(|c| c.links.iter().copied().collect()))
            .flatten()
            .unwrap_or_default()
    }

    // ---- monitors ----

    /// Records a monitor set on this process by `watcher`. `false` if this process has ended.
    pub(super) fn add_monitored_by(
        &self,
        reference: MonitorRef,
        watcher: Pid,
        object: Monitored,
    ) -> bool {
        self.with_cold(|c| c.monitored_by.insert(reference, (watcher, object)))
            .is_some()
    }

    /// Forgets a monitor set on this process.
    pub(super) fn remove_monitored_by(&self, reference: MonitorRef) {
        self.with_cold(|c| c.monitored_by.remove(&reference));
    }

    /// Records a monitor this process holds.
    pub(super) fn add_monitoring(&self, reference: MonitorRef) {
        self.with_cold(|c| c.monitoring.insert(reference));
    }

    /// Removes a monitor this process holds; whether it was still active.
    pub(super) fn remove_monitoring(&self, reference: MonitorRef) -> bool {
        self.with_cold(|c| c.monitoring.remove(&reference))
            .unwrap_or(false)
    }

    /// If the monitor `reference` is still active, removes it and runs `deliver` (which queues its
    /// `Down`) under this process's lock, so that a concurrent `demonitor` either sees the
    /// monitor active and no `Down` queued, or the `Down` queued. Returns what `deliver`
    /// returned, or `false` if the monitor was not active.
    pub(super) fn fire_monitor(
        &self,
        reference: MonitorRef,
        deliver: impl FnOnce() -> bool,
    ) -> bool {
        let mut st = lock(&self.state);
        if !st.alive {
            return false;
        }
        let active = st
            .cold
            .as_mut()
            .is_some_and(|c| c.monitoring.remove(&reference));
        active && deliver()
    }

    // ---- name ----

    /// The registered name, if any.
    pub(crate) fn name(&self) -> Option<Name> {
        self.read_cold(|c| c.and_then(|c| c.name.clone())).flatten()
    }

    /// Runs `f` on the name slot, under this process's lock (so that registering is atomic with
    /// the process ending); `None` if the process has ended.
    pub(crate) fn update_name<R>(&self, f: impl FnOnce(&mut Option<Name>) -> R) -> Option<R> {
        self.with_cold(|c| f(&mut c.name))
    }

    // ---- timers ----

    /// Starts a timer aimed at this process: `start` spawns its task, under this process's
    /// lock, so that it cannot fire (and remove its entry) before the entry exists. Nothing is
    /// started, and `false` returned, if the process has ended.
    pub(crate) fn add_timer(
        &self,
        id: u64,
        deadline: Instant,
        start: impl FnOnce() -> AbortHandle,
    ) -> bool {
        self.with_cold(|c| {
            let abort = start();
            c.timers.insert(id, TimerEntry { abort, deadline });
        })
        .is_some()
    }

    /// Removes a timer; the time it had left, if it was pending. The caller aborts it with the
    /// returned handle.
    pub(crate) fn remove_timer(&self, id: u64) -> Option<(AbortHandle, Instant)> {
        self.with_cold(|c| c.timers.remove(&id))
            .flatten()
            .map(|t| (t.abort, t.deadline))
    }

    /// Moves a pending timer's deadline (an interval timer that fired).
    pub(crate) fn set_timer_deadline(&self, id: u64, deadline: Instant) {
        self.with_cold(|c| {
            if let Some(t) = c.timers.get_mut(&id) {
                t.deadline = deadline;
            }
        });
    }

    // ---- exit hooks ----

    /// Runs `f` under this process's lock — so that the process cannot end meanwhile — and, if
    /// it succeeds, adds `hook`, told when this process ends (once per hook, however often it
    /// is added). `None` if the process has ended (`f` did not run).
    pub(crate) fn with_exit_hook<R, E>(
        &self,
        hook: &Arc<dyn ExitHook>,
        f: impl FnOnce() -> Result<R, E>,
    ) -> Option<Result<R, E>> {
        self.with_cold(|c| {
            let done = f();
            if done.is_ok() && !c.exit_hooks.iter().any(|h| Arc::ptr_eq(h, hook)) {
                c.exit_hooks.push(Arc::clone(hook));
            }
            done
        })
    }

    // ---- introspection ----

    /// Publishes what this process says of itself in [`process_info`](super::process_info).
    pub(crate) fn set_details(&self, details: Arc<dyn ProcessDetails>) {
        self.with_cold(|c| c.details = Some(details));
    }

    /// The name, links and monitors, each list sorted; `None` if the process has ended.
    pub(super) fn relations(&self) -> Option<Relations> {
        self.read_cold(|cold| {
            let Some(c) = cold else {
                return Relations::default();
            };
            let mut links: Vec<Pid> = c.links.iter().copied().collect();
            links.sort_unstable();
            let mut monitors: Vec<Pid> = c.monitoring.iter().filter_map(|r| r.target).collect();
            monitors.sort_unstable();
            let mut monitored_by: Vec<Pid> = c.monitored_by.values().map(|(w, _)| *w).collect();
            monitored_by.sort_unstable();
            Relations {
                name: c.name.clone(),
                links,
                monitors,
                monitored_by,
                details: c.details.clone(),
            }
        })
    }

    // ---- signals ----

    /// Queues an exit signal and wakes the process.
    pub(super) fn signal(&self, from: Option<Pid>, reason: ExitReason, link: bool) {
        let mut st = lock(&self.state);
        if !st.alive {
            return;
        }
        st.signals.push(ExitSig { from, reason, link });
        self.signal_pending.store(true, Ordering::Release);
        drop(st);
        self.waker.wake();
    }

    /// Takes the pending exit signals, clearing the flag.
    pub(super) fn take_signals(&self) -> Vec<ExitSig> {
        let mut st = lock(&self.state);
        self.signal_pending.store(false, Ordering::Release);
        std::mem::take(&mut st.signals)
    }

    // ---- the end ----

    /// Marks the process as ended with `reason`. Returns what is left to tell (for the rest of
    /// the clean-up), or `None` if it had already ended: the first exit wins.
    pub(super) fn begin_exit(&self, reason: &ExitReason) -> Option<Leftovers> {
        let mut st = lock(&self.state);
        if !st.alive {
            return None;
        }
        st.alive = false;
        st.exit_reason = Some(reason.clone());
        st.signals = Vec::new();
        self.signal_pending.store(false, Ordering::Release);
        Some(Leftovers {
            cold: st.cold.take(),
            waiter: st.waiter.take(),
        })
    }

    /// Marks the clean-up as done and returns the waits that started during it.
    pub(super) fn finish_told(
        &self,
    ) -> (
        Option<oneshot::Sender<ExitReason>>,
        Vec<oneshot::Sender<ExitReason>>,
    ) {
        let mut st = lock(&self.state);
        st.told = true;
        let late = st.cold.take().map(|c| c.waiters).unwrap_or_default();
        (st.waiter.take(), late)
    }

    /// Resolves with the exit reason once the process has ended and its clean-up is done (at
    /// once if it is).
    pub(crate) fn wait_exit(&self) -> impl Future<Output = ExitReason> + Send + use<> {
        let mut st = lock(&self.state);
        let ready = if st.alive || !st.told {
            let (tx, rx) = oneshot::channel();
            if st.waiter.is_none() {
                st.waiter = Some(tx);
            } else {
                st.cold
                    .get_or_insert_with(Default::default)
                    .waiters
                    .push(tx);
            }
            Err(rx)
        } else {
            Ok(st.exit_reason.clone().unwrap_or(ExitReason::NoProc))
        };
        drop(st);
        async move {
            match ready {
                Ok(reason) => reason,
                // The sender is only dropped unsent if the runtime shuts down under us.
                Err(rx) => rx.await.unwrap_or(ExitReason::Killed),
            }
        }
    }
}
