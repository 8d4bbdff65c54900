//! [`Myself`]: what a running process does to and for itself, shared by a plain process's
//! [`Process`](super::Process) and a GenServer's [`Context`](crate::gen_server::Context).

use ref_cast::{RefCastCustom, ref_cast_custom};

use super::core::{Node, ProcessEntry};
use super::signals::{self, LinkError};
use super::spawn::{SpawnOptions, spawn_with, spawned};
use crate::exit::{ExitReason, IntoExitReason};
use crate::message::{MonitorRef, Monitored, Name};
use crate::pid::Pid;
use crate::process::Process;

/// A running process's handle on itself: link, monitor, trap exits, spawn children, send exit
/// signals — the operations Erlang's processes do on `self()`.
///
/// A plain process's [`Process`] and a GenServer's [`Context`](crate::gen_server::Context)
/// both dereference to it, so `me.link(pid)` and `ctx.link(pid)` are the same operation. It is
/// only ever borrowed from one of them. Registering a name ([`register`](Myself::register)) and
/// timers ([`send_after`](Myself::send_after), [`send_interval`](Myself::send_interval)) are
/// here too, from the modules that own them.
#[derive(RefCastCustom)]
#[repr(transparent)]
pub struct Myself(dyn ProcessEntry);

impl Myself {
    /// Views a process's control block as its handle on itself.
    #[ref_cast_custom]
    pub(crate) fn of(entry: &dyn ProcessEntry) -> &Myself;

    /// This process's pid.
    pub fn pid(&self) -> Pid {
        self.0.core().pid
    }

    /// The node this process belongs to.
    pub fn node(&self) -> Node {
        self.0.core().node
    }

    /// The process that spawned or started this one, if it was made from a process.
    pub fn parent(&self) -> Option<Pid> {
        self.0.core().parent
    }

    /// Links this process with `other` (Erlang's `link/1`): at most one link per pair, a no-op
    /// for itself. If `other` has ended: an error `NoProc` if this process does not trap exits,
    /// else an [`Info::Exit`](crate::message::Info::Exit) with reason `NoProc`.
    pub fn link(&self, other: Pid) -> Result<(), LinkError> {
        signals::link(&self.0, other)
    }

    /// Removes the link with `other`, if any. From now on `other` ending does not affect this
    /// process; an exit message already queued stays (see `unlink_flush` on
    /// [`Process`](super::Process::unlink_flush) and
    /// [`Context`](crate::gen_server::Context::unlink_flush)).
    pub fn unlink(&self, other: Pid) {
        signals::unlink(self.0.core(), other);
    }

    /// The processes linked to this one, in no particular order (Erlang's
    /// `process_info(self(), links)`).
    pub fn links(&self) -> Vec<Pid> {
        self.0.core().links()
    }

    /// Monitors `target`: when it ends, this process gets an
    /// [`Info::Down`](crate::message::Info::Down) with the returned reference (at once, with
    /// reason `NoProc`, if it has already ended). Each call sets a new, independent monitor.
    pub fn monitor(&self, target: Pid) -> MonitorRef {
        signals::monitor(&self.0, Some(target), Monitored::Pid(target))
    }

    /// Monitors the process registered under `name`; the `Down` names it. If nobody holds the
    /// name, the `Down` (reason `NoProc`) comes at once.
    pub fn monitor_name(&self, name: impl Into<Name>) -> MonitorRef {
        let name = name.into();
        let pid = self.0.core().node.whereis(&name);
        signals::monitor(&self.0, pid, Monitored::Name(name))
    }

    /// Removes a monitor. Returns `true` if it was active, `false` if it had already fired (its
    /// `Down` may be queued; see `demonitor_flush`) or was already removed. No `Down` for it is
    /// queued after this returns.
    pub fn demonitor(&self, reference: MonitorRef) -> bool {
        signals::demonitor(self.0.core(), reference)
    }

    /// Sets whether this process traps exits; returns the previous setting. A trapping process
    /// receives exit signals as [`Info::Exit`](crate::message::Info::Exit) messages instead of
    /// ending (except an `exit(pid, Kill)`).
    pub fn trap_exit(&self, on: bool) -> bool {
        self.0.core().set_trap_exit(on)
    }

    /// Publishes what this process says of itself: [`process_info`](super::process_info)
    /// lists it as [`ProcessInfo::details`](super::ProcessInfo::details) (a GenStage's kind,
    /// buffered count and subscriptions, for one). Replaces what was published before.
    pub fn set_details(&self, details: std::sync::Arc<dyn super::ProcessDetails>) {
        self.0.core().set_details(details);
    }

    /// Whether this process traps exits.
    pub fn traps_exits(&self) -> bool {
        self.0.core().traps_exits()
    }

    /// Sends an exit signal from this process; see [`exit`](super::exit).
    pub fn exit(&self, pid: Pid, reason: ExitReason) {
        let core = self.0.core();
        signals::send_exit_signal(core.node, pid, Some(core.pid), reason, false);
    }

    /// Messages waiting in this process's mailbox.
    pub fn mailbox_len(&self) -> usize {
        self.0.mailbox_len()
    }

    /// Spawns a process whose parent is this one, not linked.
    #[track_caller]
    pub fn spawn<F, Fut>(&self, f: F) -> Pid
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        spawned(spawn_with(
            Some(&self.0),
            SpawnOptions::default(),
            f,
            |_| (),
        ))
        .0
    }

    /// Spawns a process linked to this one; the link exists before the new process runs.
    #[track_caller]
    pub fn spawn_link<F, Fut>(&self, f: F) -> Pid
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        self.spawn_link_opt(SpawnOptions::default(), f)
    }

    /// Spawns a process linked to this one, with options.
    #[track_caller]
    pub fn spawn_link_opt<F, Fut>(&self, opts: SpawnOptions, f: F) -> Pid
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        let me = self.0.core();
        spawned(spawn_with(Some(&self.0), opts, f, |child| {
            signals::link_pair(me, child.core());
        }))
        .0
    }

    /// Spawns a process monitored by this one; the monitor exists before it runs.
    #[track_caller]
    pub fn spawn_monitor<F, Fut>(&self, f: F) -> (Pid, MonitorRef)
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        spawned(spawn_with(
            Some(&self.0),
            SpawnOptions::default(),
            f,
            |child| {
                let pid = child.core().pid;
                signals::monitor(&self.0, Some(pid), Monitored::Pid(pid))
            },
        ))
    }
}

impl std::fmt::Debug for Myself {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Myself").field("pid", &self.pid()).finish()
    }
}
