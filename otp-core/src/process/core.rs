//! The process control block and the operations on it: exit signals, links, monitors, and the
//! clean-up that runs on every way a process ends.
//!
//! Each process has a [`ProcessCore`]: hot, lock-free flags (a signal is pending, the process
//! traps exits, the task's waker) and a small locked state. Links, monitors, the registered name
//! and timers live in a "cold" part allocated on first use, so an idle process that has none
//! costs nothing for them. Lock order, where two locks are held at once: a process's state, then
//! a mailbox queue or the name table; never the other way round.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use atomic_waker::AtomicWaker;
use rustc_hash::FxBuildHasher;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::mailbox::{Envelope, Mailbox, MailboxBound, PushError, Wake};
use super::table;
use crate::exit::ExitReason;
use crate::message::{Down, ExitSignal, Info, Message, MonitorRef, Monitored, next_ref_id};
use crate::pid::Pid;

/// Locks a mutex of the runtime. No user code runs while one is held, so a poisoned lock can
/// only come from a panic inside the runtime's own short critical sections; the data is still
/// consistent then, so the poison is ignored.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a link could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The process does not exist (and the caller does not trap exits; a trapping caller gets an
    /// exit message with reason `NoProc` instead).
    #[error("cannot link to {0}: no such process")]
    NoProc(Pid),
    /// The process is on a node that cannot be reached.
    #[error("cannot link to {0}: no connection to its node")]
    NoConnection(Pid),
}

/// Something that must learn when a process ends (a registry removing its entries).
pub(crate) trait ExitHook: Send + Sync {
    /// Called once, after the process `pid` has ended, for each hook it was given.
    fn process_exited(&self, pid: Pid);
}

/// A pending timer whose destination is this process.
pub(crate) struct TimerEntry {
    pub(crate) abort: AbortHandle,
    pub(crate) deadline: Instant,
}

type FxSet<K> = HashSet<K, FxBuildHasher>;
type FxMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// The rarely used part of a process, allocated on first use.
#[derive(Default)]
pub(crate) struct Cold {
    pub(crate) links: FxSet<Pid>,
    /// Monitors set on this process: reference id → (watcher, what it watched).
    pub(crate) monitored_by: FxMap<u64, (Pid, Monitored)>,
    /// Monitors this process holds: reference id → target.
    pub(crate) monitoring: FxMap<u64, Pid>,
    pub(crate) name: Option<crate::message::Name>,
    pub(crate) timers: FxMap<u64, TimerEntry>,
    pub(crate) waiters: Vec<oneshot::Sender<ExitReason>>,
    pub(crate) exit_hooks: Vec<Arc<dyn ExitHook>>,
}

pub(crate) struct ExitSig {
    from: Pid,
    reason: ExitReason,
    link: bool,
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

/// What a process leaves to tell when it ends.
pub(crate) struct Leftovers {
    cold: Option<Box<Cold>>,
    waiter: Option<oneshot::Sender<ExitReason>>,
}

impl Leftovers {
    /// The name the process had registered, if any (released by [`finish_exit`]).
    pub(crate) fn name(&self) -> Option<&crate::message::Name> {
        self.cold.as_ref().and_then(|c| c.name.as_ref())
    }
}

/// The non-generic part of a process control block.
pub(crate) struct ProcessCore {
    pub(crate) pid: Pid,
    pub(crate) parent: Option<Pid>,
    /// What kind of process this is, for introspection (`"process"` or a GenServer's type).
    pub(crate) kind: &'static str,
    pub(crate) waker: AtomicWaker,
    signal_pending: AtomicBool,
    trap_exit: AtomicBool,
    state: Mutex<CoreState>,
}

impl ProcessCore {
    fn new(pid: Pid, parent: Option<Pid>, kind: &'static str) -> Self {
        ProcessCore {
            pid,
            parent,
            kind,
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

    /// Runs `f` on the cold part, allocating it if needed; `None` if the process has ended.
    pub(crate) fn with_cold<R>(&self, f: impl FnOnce(&mut Cold) -> R) -> Option<R> {
        let mut st = lock(&self.state);
        if !st.alive {
            return None;
        }
        Some(f(st.cold.get_or_insert_with(Default::default)))
    }

    /// Reads the cold part without allocating it; `None` if the process has ended.
    pub(crate) fn read_cold<R>(&self, f: impl FnOnce(Option<&Cold>) -> R) -> Option<R> {
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

    /// Queues an exit signal and wakes the process.
    pub(crate) fn signal(&self, from: Pid, reason: ExitReason, link: bool) {
        let mut st = lock(&self.state);
        if !st.alive {
            return;
        }
        st.signals.push(ExitSig { from, reason, link });
        self.signal_pending.store(true, Ordering::Release);
        drop(st);
        self.waker.wake();
    }

    /// Marks the process as ended with `reason`. Returns what is left to tell (for the rest of
    /// the clean-up), or `None` if it had already ended: the first exit wins.
    pub(crate) fn begin_exit(&self, reason: &ExitReason) -> Option<Leftovers> {
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

    /// Resolves with the exit reason once the process has ended (at once if it already has).
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

/// A process control block: the core and a mailbox of `M`.
pub(crate) struct Pcb<M> {
    pub(crate) core: ProcessCore,
    pub(crate) mailbox: Mailbox<M>,
}

impl<M: Envelope> Pcb<M> {
    pub(crate) fn new(
        pid: Pid,
        parent: Option<Pid>,
        kind: &'static str,
        bound: Option<MailboxBound>,
    ) -> Self {
        Pcb {
            core: ProcessCore::new(pid, parent, kind),
            mailbox: Mailbox::new(bound),
        }
    }

    /// Queues a user envelope, applying the bound, and wakes the process if it was parked.
    pub(crate) fn push(&self, msg: M) -> Result<(), PushError<M>> {
        self.push_told(msg).map(|_| ())
    }

    /// Queues a user envelope as [`push`](Self::push) does, and tells what the process was
    /// doing: [`Wake::Idle`] means this message is the first it will handle.
    pub(crate) fn push_told(&self, msg: M) -> Result<Wake, PushError<M>> {
        let (wake, length) = self.mailbox.push_user(msg)?;
        if wake.needed() {
            self.core.waker.wake();
        }
        crate::telemetry::mailbox_pushed(self, length);
        Ok(wake)
    }

    /// Queues a runtime envelope, ignoring any bound. Returns `false` if the process has ended.
    pub(crate) fn push_system_envelope(&self, msg: M) -> bool {
        match self.mailbox.push_system(msg) {
            Ok(wake) => {
                if wake.needed() {
                    self.core.waker.wake();
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Queues a user envelope, waiting for room in a full mailbox whose policy is `Wait`.
    pub(crate) async fn push_wait(&self, mut msg: M) -> Result<(), PushError<M>> {
        loop {
            match self.push(msg) {
                Err(PushError::Full(m)) if self.mailbox.waits_when_full() => {
                    msg = m;
                    self.mailbox.room().await;
                }
                other => return other,
            }
        }
    }
}

/// A process as the rest of the runtime sees it, whatever its mailbox holds.
pub(crate) trait ProcessEntry: Send + Sync + 'static {
    fn core(&self) -> &ProcessCore;
    /// Queues a runtime message (never dropped by a bound).
    fn push_system(&self, info: Info);
    /// Queues a user info message, applying the bound.
    fn push_message(&self, msg: Message) -> Result<(), PushError<Message>>;
    /// Delivers a `Down` if the monitor is still active (atomic with `demonitor`).
    fn deliver_down(&self, reference: MonitorRef, object: Monitored, reason: ExitReason);
    fn mailbox_len(&self) -> usize;
    fn park_state(&self) -> (bool, bool);
    fn mailbox_dropped(&self) -> u64;
    fn mailbox_bound(&self) -> Option<MailboxBound>;
    /// Closes the mailbox at exit and drops what was queued.
    fn close_mailbox(&self);
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<M: Envelope> ProcessEntry for Pcb<M> {
    fn core(&self) -> &ProcessCore {
        &self.core
    }

    fn push_system(&self, info: Info) {
        self.push_system_envelope(M::from_info(info));
    }

    fn push_message(&self, msg: Message) -> Result<(), PushError<Message>> {
        match self.push(M::from_info(Info::Message(msg))) {
            Ok(()) => Ok(()),
            Err(e) => Err(map_push_error(e)),
        }
    }

    fn deliver_down(&self, reference: MonitorRef, object: Monitored, reason: ExitReason) {
        let mut st = lock(&self.core.state);
        if !st.alive {
            return;
        }
        let active = st
            .cold
            .as_mut()
            .is_some_and(|c| c.monitoring.remove(&reference.id).is_some());
        if !active {
            return;
        }
        let down = Info::Down(Down::new(reference, object, reason));
        let wake = matches!(self.mailbox.push_system(M::from_info(down)), Ok(w) if w.needed());
        drop(st);
        if wake {
            self.core.waker.wake();
        }
    }

    fn mailbox_len(&self) -> usize {
        self.mailbox.len()
    }

    fn park_state(&self) -> (bool, bool) {
        self.mailbox.park_state()
    }

    fn mailbox_dropped(&self) -> u64 {
        self.mailbox.dropped()
    }

    fn mailbox_bound(&self) -> Option<MailboxBound> {
        self.mailbox.bound()
    }

    fn close_mailbox(&self) {
        drop(self.mailbox.close());
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

fn map_push_error<M: Envelope>(e: PushError<M>) -> PushError<Message> {
    let back = |m: M| -> Message {
        match m.into_info() {
            Some(Info::Message(msg)) => msg,
            _ => unreachable!("a user info message was pushed"),
        }
    };
    match e {
        PushError::Closed(m) => PushError::Closed(back(m)),
        PushError::Full(m) => PushError::Full(back(m)),
    }
}

/// Sends an exit signal to a local process (dropped if it is not alive).
///
/// A process that traps exits gets the signal as a message, queued at once: behind what was
/// sent to it before, ahead of what is sent after, as Erlang delivers signals in order. (Were
/// it queued apart and turned into a message only when the process next runs, a message sent
/// after the signal — a call to a supervisor from someone who saw its child die — could be
/// handled first.) A `Kill` sent directly cannot be trapped; it, and every signal to a process
/// that does not trap exits, is acted on by the process itself.
pub(crate) fn send_exit_signal(to: Pid, from: Pid, reason: ExitReason, link: bool) {
    let Some(p) = table::lookup(to) else { return };
    let core = p.core();
    if core.traps_exits() && (link || reason != ExitReason::Kill) {
        // A link signal only counts while the link exists: after `unlink` returns, the linked
        // process no longer affects us.
        if link && !core.with_cold(|c| c.links.remove(&from)).unwrap_or(false) {
            return;
        }
        p.push_system(Info::Exit(ExitSignal::new(from, reason)));
        return;
    }
    core.signal(from, reason, link);
}

/// Acts on the pending exit signals of a process. Returns the reason it must exit with, if
/// one of them ends it (the first such signal wins).
pub(crate) fn handle_signals(me: &dyn ProcessEntry) -> Option<ExitReason> {
    let core = me.core();
    let signals = {
        let mut st = lock(&core.state);
        core.signal_pending.store(false, Ordering::Release);
        std::mem::take(&mut st.signals)
    };
    for ExitSig { from, reason, link } in signals {
        if link {
            // A link signal only counts while the link exists: after `unlink` returns, the
            // linked process no longer affects us.
            let linked = core.with_cold(|c| c.links.remove(&from)).unwrap_or(false);
            if !linked {
                continue;
            }
        }
        if !link && reason == ExitReason::Kill {
            return Some(ExitReason::Killed);
        }
        if core.traps_exits() {
            me.push_system(Info::Exit(ExitSignal::new(from, reason)));
            continue;
        }
        if reason == ExitReason::Normal {
            if from == core.pid {
                return Some(ExitReason::Normal);
            }
            continue;
        }
        return Some(reason);
    }
    None
}

/// Links the process `me` with `other` (both directions).
pub(crate) fn link(me: &dyn ProcessEntry, other: Pid) -> Result<(), LinkError> {
    let core = me.core();
    if other == core.pid {
        return Ok(());
    }
    let dead_reason = if !other.is_local() {
        Some(ExitReason::NoConnection)
    } else {
        match table::lookup(other) {
            Some(p) => match p.core().with_cold(|c| c.links.insert(core.pid)) {
                Some(_) => None,
                None => Some(ExitReason::NoProc),
            },
            None => Some(ExitReason::NoProc),
        }
    };
    match dead_reason {
        None => {
            core.with_cold(|c| c.links.insert(other));
            Ok(())
        }
        Some(reason) if core.traps_exits() => {
            me.push_system(Info::Exit(ExitSignal::new(other, reason)));
            Ok(())
        }
        Some(ExitReason::NoConnection) => Err(LinkError::NoConnection(other)),
        Some(_) => Err(LinkError::NoProc(other)),
    }
}

/// Removes the link between `me` and `other`, if any.
pub(crate) fn unlink(me: &ProcessCore, other: Pid) {
    me.with_cold(|c| c.links.remove(&other));
    if let Some(p) = table::lookup(other) {
        p.core().with_cold(|c| c.links.remove(&me.pid));
    }
}

/// Sets a monitor held by `me` on a process (by pid or by name).
pub(crate) fn monitor(me: &dyn ProcessEntry, target: Option<Pid>, object: Monitored) -> MonitorRef {
    let core = me.core();
    let target_pid = target.unwrap_or(Pid::from_parts(0, 0, 0));
    let reference = MonitorRef {
        id: next_ref_id(),
        target: target_pid,
    };
    core.with_cold(|c| c.monitoring.insert(reference.id, target_pid));
    let dead_reason = match target {
        Some(t) if !t.is_local() => Some(ExitReason::NoConnection),
        Some(t) => match table::lookup(t) {
            Some(p) => p
                .core()
                .with_cold(|c| {
                    c.monitored_by
                        .insert(reference.id, (core.pid, object.clone()))
                })
                .map_or(Some(ExitReason::NoProc), |_| None),
            None => Some(ExitReason::NoProc),
        },
        None => Some(ExitReason::NoProc),
    };
    if let Some(reason) = dead_reason {
        me.deliver_down(reference, object, reason);
    }
    reference
}

/// Removes a monitor held by `me`. Returns whether it was still active (no `Down` sent yet).
pub(crate) fn demonitor(me: &ProcessCore, reference: MonitorRef) -> bool {
    let active = me
        .with_cold(|c| c.monitoring.remove(&reference.id).is_some())
        .unwrap_or(false);
    if active && let Some(p) = table::lookup(reference.target) {
        p.core().with_cold(|c| c.monitored_by.remove(&reference.id));
    }
    active
}

/// The clean-up after a process ended, in Erlang's order: its name and registrations are
/// released first, then its timers cancelled, then its links and monitors told. The process
/// leaves the process table only then, and its waiters are told last: until the links and
/// monitors have been told it can still be found, so that a wait for its exit that starts
/// during the clean-up waits for the exit rather than finding no process; and whoever waited
/// for the exit finds it gone from the table and from the counts.
pub(crate) fn finish_exit(core: &ProcessCore, leftovers: Leftovers, reason: &ExitReason) {
    let Leftovers { cold, waiter } = leftovers;
    let waiters = cold.map(|cold| tell_cold(core.pid, *cold, reason));
    // Waits that started during the clean-up.
    let (late_waiter, late_cold) = {
        let mut st = lock(&core.state);
        st.told = true;
        (st.waiter.take(), st.cold.take())
    };
    table::remove(core.pid);
    let all = waiter
        .into_iter()
        .chain(waiters.into_iter().flatten())
        .chain(late_waiter)
        .chain(late_cold.into_iter().flat_map(|c| c.waiters));
    for waiter in all {
        let _ = waiter.send(reason.clone());
    }
}

/// Tells the names, hooks, timers, links and monitors of an ended process; returns its waiters,
/// to be told once it has left the table.
fn tell_cold(pid: Pid, cold: Cold, reason: &ExitReason) -> Vec<oneshot::Sender<ExitReason>> {
    let Cold {
        links,
        monitored_by,
        monitoring,
        name,
        timers,
        waiters,
        exit_hooks,
    } = cold;
    if let Some(name) = name {
        crate::name::release(&name, pid);
    }
    for hook in exit_hooks {
        hook.process_exited(pid);
    }
    for timer in timers.into_values() {
        timer.abort.abort();
    }
    for other in links {
        send_exit_signal(other, pid, reason.clone(), true);
    }
    for (id, (watcher, object)) in monitored_by {
        if let Some(w) = table::lookup(watcher) {
            w.deliver_down(MonitorRef { id, target: pid }, object, reason.clone());
        }
    }
    for (id, target) in monitoring {
        if let Some(p) = table::lookup(target) {
            p.core().with_cold(|c| c.monitored_by.remove(&id));
        }
    }
    waiters
}
