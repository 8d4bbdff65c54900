//! Processes: futures with a mailbox, linked and monitored as in Erlang.
//!
//! A process is a tokio task that owns its state and a mailbox, and ends with an
//! [`ExitReason`] on every path: the body returning (`()` is `normal`, an `Err(e)` is `e`), a
//! panic (caught at the process boundary; nothing else is affected), or an exit signal.
//! [`spawn`] starts one and returns its [`Pid`]; the body receives a [`Process`], its handle on
//! itself, to receive messages and — through [`Myself`], shared with a GenServer's `Context` —
//! to link, monitor, trap exits and spawn.
//!
//! **Links** are bidirectional and unique per pair. When a linked process ends, the other gets
//! an exit signal with its reason: `normal` is ignored, any other reason ends the receiver with
//! the same reason — unless it traps exits, and then the signal arrives as [`Info::Exit`].
//! [`exit`]`(pid, Kill)` cannot be trapped and ends the target with `killed`. Signals are acted
//! on at once, before any message already queued.
//!
//! **Monitors** are one-way: when the monitored process ends, the watcher gets an
//! [`Info::Down`] with the monitor's reference, the pid and the reason (`NoProc` at once if it
//! was already gone).
//!
//! Every process belongs to a [`Node`]: its pid says which, and the
//! operations that find a process by its pid look in the node of the code that calls them.
//!
//! ```
//! use otp_core::process::{ExitReason, Info, spawn};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (tx, rx) = tokio::sync::oneshot::channel();
//! spawn(move |mut me| async move {
//!     me.trap_exit(true);
//!     let child = me.spawn_link(|_| async { Err::<(), _>("boom") });
//!     if let Info::Exit(signal) = me.recv().await {
//!         let _ = tx.send((signal.from() == Some(child), signal.reason().clone()));
//!     }
//! });
//! assert_eq!(rx.await.unwrap(), (true, ExitReason::Error("boom".into())));
//! # }
//! ```
//!
//! # Inside the process layer
//!
//! It is the bottom of the runtime: it calls nothing above it. Its files, each using only those
//! listed before it: `bound` (mailbox bounds), `kind`, `route` (the [`Router`] and [`ServerRouter`] traits), `core`
//! (the data: a node and its tables, a control block and its operations), `mailbox`, `events`
//! (its own telemetry events, on the `otp-telemetry` bus below), `pcb` (a control block with
//! its mailbox), `current` (what a thread runs), `node` (a node's operations), `signals` (exit
//! signals, links, monitors), [`remote`] (what other nodes deliver), `end` (the clean-up),
//! `task` (the task of a process), `spawn`, `myself`, `info`. Names, timers and
//! registries above it use its operations (set a name, add a timer, add an exit hook); nothing
//! in it knows of them.

mod bound;
pub(crate) mod core;
mod current;
mod end;
pub(crate) mod events;
mod info;
mod kind;
mod mailbox;
mod myself;
pub(crate) mod node;
mod pcb;
pub mod remote;
mod route;
mod signals;
mod spawn;
mod task;

use std::future::poll_fn;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use self::bound::PushError;
pub use self::bound::{MailboxBound, Overflow};
pub(crate) use self::core::{ExitHook, ProcessEntry, lock};
pub(crate) use self::end::{abandon, end_unlaunched};
pub use self::info::{
    ProcessDetails, ProcessInfo, ProcessStatus, process_count, process_info, processes,
};
pub use self::kind::ProcessKind;
pub(crate) use self::mailbox::{Envelope, Receiver, Wake};
pub use self::myself::Myself;
pub(crate) use self::pcb::Pcb;
pub use self::route::{
    CastFeed, CastSink, DeliverError, Encode, LocalTarget, MAX_DEPTH, RemoteCallError,
    RemoteLookup, RemoteReply, RemoteRoom, RemoteStop, RemoteTarget, ReplySink, RouteError, Router,
    ServerRouter, decode_payload,
};
pub use self::signals::LinkError;
pub(crate) use self::signals::{link_pair, send_exit_signal, unlink};
pub use self::spawn::{
    SpawnError, SpawnOptions, spawn, spawn_link, spawn_link_opt, spawn_opt, try_spawn,
    try_spawn_opt,
};
pub(crate) use self::spawn::{launch, prepare, spawn_with, spawned};
pub(crate) use self::task::AsProcess;
pub use crate::exit::{ExitReason, IntoExitReason};
pub use crate::message::{Down, ExitSignal, Info, Message, MonitorRef, Monitored};
pub use crate::pid::Pid;
use crate::process::core::Node;

/// The process of the calling code's node with this pid, if it is in the table.
pub(crate) fn lookup(pid: Pid) -> Option<Arc<dyn ProcessEntry>> {
    Node::current().lookup(pid)
}

/// The control block of the process running this code, if it runs inside one.
pub(crate) fn current_entry() -> Option<Arc<dyn ProcessEntry>> {
    current::pid().and_then(lookup)
}

/// Sends an exit signal with `reason` to `pid`, as Erlang's `exit/2`.
///
/// The sender is the process running this call (none, outside processes). `Kill` ends the
/// target with `Killed` even if it traps exits; `Normal` ends it only if it is the caller
/// itself and it does not trap exits; any other reason ends a non-trapping target with that
/// reason and reaches a trapping one as [`Info::Exit`]. Sending to a process that has ended
/// does nothing.
pub fn exit(pid: Pid, reason: ExitReason) {
    send_exit_signal(Node::current(), pid, current::pid(), reason, false);
}

/// Sends an exit signal from `from`, the process running this code, to `to`.
pub(crate) fn exit_from(from: Pid, to: Pid, reason: ExitReason) {
    send_exit_signal(Node::current(), to, Some(from), reason, false);
}

/// Whether `pid` is a live process of the calling code's node.
pub fn is_alive(pid: Pid) -> bool {
    lookup(pid).is_some_and(|p| p.core().is_alive())
}

/// The pid of the process running this code, if it runs inside one.
pub fn current_pid() -> Option<Pid> {
    current::pid()
}

/// Resolves once the process `pid` of the calling code's node has ended, with its exit reason
/// (`NoProc` at once if there is no such process). Usable from anywhere, inside a process or
/// not.
///
/// A process that has ended but is still cleaning up (releasing its name, telling its links
/// and monitors) is waited for: the wait resolves with its reason once the clean-up is done,
/// when the process has left the process table. Only a process whose clean-up is over, or that
/// never existed, gives `NoProc`.
///
/// The wait starts when this is called, not when the future is first polled: a future taken
/// before an action that ends the process (`let exited = wait_exit(pid); exit(pid, Kill);`)
/// resolves with the reason even if the process is gone by the time it is awaited.
pub fn wait_exit(pid: Pid) -> impl Future<Output = ExitReason> + Send + 'static {
    let waiting = lookup(pid).map(|p| p.core().wait_exit());
    async move {
        match waiting {
            Some(exited) => exited.await,
            None => ExitReason::NoProc,
        }
    }
}

/// A plain process's handle on itself: its mailbox, and — through [`Myself`], to which it
/// dereferences — the operations a process does on itself (link, monitor, trap exits, spawn
/// children). Given to the body passed to [`spawn`].
pub struct Process {
    pub(crate) pcb: Arc<Pcb<Info>>,
    pub(crate) rx: Receiver<Info>,
}

impl Deref for Process {
    type Target = Myself;

    fn deref(&self) -> &Myself {
        Myself::of(&*self.pcb)
    }
}

impl Process {
    /// Waits for the next message. Exit signals that end this process take effect while it
    /// waits here (or anywhere else it awaits).
    pub async fn recv(&mut self) -> Info {
        let pcb = &*self.pcb;
        let rx = &mut self.rx;
        poll_fn(|cx| rx.poll_recv(&pcb.mailbox, &pcb.core, false, cx)).await
    }

    /// Waits for the next message at most `timeout`.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Option<Info> {
        tokio::time::timeout(timeout, self.recv()).await.ok()
    }

    /// Takes the next message if one is already queued.
    pub fn try_recv(&mut self) -> Option<Info> {
        self.rx.try_recv(&self.pcb.mailbox)
    }

    /// Unlinks `other` and removes any exit message from it already queued. Returns how many
    /// were removed.
    pub fn unlink_flush(&mut self, other: Pid) -> usize {
        self.unlink(other);
        self.rx.remove_exits_from(&self.pcb.mailbox, other)
    }

    /// Removes a monitor and any `Down` of it already queued. Returns as
    /// [`demonitor`](Myself::demonitor).
    pub fn demonitor_flush(&mut self, reference: MonitorRef) -> bool {
        let active = self.demonitor(reference);
        self.rx.remove_downs_of(&self.pcb.mailbox, reference);
        active
    }
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pcb.core.pid)
            .finish()
    }
}
