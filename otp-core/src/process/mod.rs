//! Processes: futures with a mailbox, linked and monitored as in Erlang.
//!
//! A process is a tokio task that owns its state and a mailbox, and ends with an
//! [`ExitReason`] on every path: the body returning (`()` is `normal`, an
//! `Err(e)` is `e`), a panic (caught at the process boundary; nothing else is affected), or an
//! exit signal. [`spawn`] starts one and returns its [`Pid`]; the body receives a [`Process`],
//! its handle on itself, to receive messages and to link, monitor, trap exits and spawn.
//!
//! **Links** are bidirectional and unique per pair. When a linked process ends, the other gets
//! an exit signal with its reason: `normal` is ignored, any other reason ends the receiver with
//! the same reason — unless it traps exits, and then the signal arrives as
//! [`Info::Exit`]. [`exit`]`(pid, Kill)` cannot be trapped and ends the target
//! with `killed`. Signals are acted on at once, before any message already queued.
//!
//! **Monitors** are one-way: when the monitored process ends, the watcher gets an
//! [`Info::Down`] with the monitor's reference, the pid and the reason
//! (`NoProc` at once if it was already gone).
//!
//! ```
//! use otp_core::{spawn, Info, ExitReason};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (tx, rx) = tokio::sync::oneshot::channel();
//! spawn(move |mut me| async move {
//!     me.trap_exit(true);
//!     let child = me.spawn_link(|_| async { Err::<(), _>("boom") });
//!     if let Info::Exit(signal) = me.recv().await {
//!         let _ = tx.send((signal.from() == child, signal.reason().clone()));
//!     }
//! });
//! assert_eq!(rx.await.unwrap(), (true, ExitReason::Error("boom".into())));
//! # }
//! ```

mod core;
mod info;
mod mailbox;
pub(crate) mod table;
mod task;

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

pub use self::core::LinkError;
pub(crate) use self::core::{ExitHook, Pcb, ProcessEntry, TimerEntry, lock};
pub use self::info::{ProcessInfo, ProcessStatus, process_count, process_info, processes};
pub(crate) use self::mailbox::{Envelope, PushError, Receiver, Wake};
pub use self::mailbox::{MailboxBound, Overflow};
use self::task::ProcessTask;
pub(crate) use self::task::{AsProcess, end_unlaunched};
use crate::exit::{ExitReason, IntoExitReason};
use crate::message::{Info, MonitorRef};
use crate::pid::Pid;

/// The kind shown by introspection for processes started with [`spawn`].
pub(crate) const PLAIN_KIND: &str = "process";

/// Creates a process control block and enters it in the process table. The process exists
/// from here on (it can be linked, monitored, named) but runs only once [`launch`]ed.
pub(crate) fn prepare<M: Envelope>(
    parent: Option<Pid>,
    kind: &'static str,
    bound: Option<MailboxBound>,
) -> Arc<Pcb<M>> {
    let pid = Pid::next_local();
    let pcb = Arc::new(Pcb::new(pid, parent, kind, bound));
    table::insert(pid, pcb.clone());
    crate::telemetry::process_spawned(pid, parent, kind);
    pcb
}

/// Removes a prepared process that was never launched.
pub(crate) fn abandon<M: Envelope>(pcb: &Arc<Pcb<M>>) {
    if let Some(cold) = pcb.core.begin_exit(&ExitReason::NoProc) {
        let (pid, kind) = (pcb.core.pid, pcb.core.kind);
        crate::telemetry::process_exited(pid, kind, cold.name(), &ExitReason::NoProc);
        self::core::finish_exit(&pcb.core, cold, &ExitReason::NoProc);
    }
}

/// Starts the task of a prepared process.
///
/// # Panics
/// Outside a tokio runtime, as `tokio::spawn` does.
#[track_caller]
pub(crate) fn launch<M, F>(pcb: Arc<Pcb<M>>, body: F)
where
    M: Envelope,
    F: Future + Send + 'static,
    F::Output: IntoExitReason,
{
    drop(tokio::spawn(ProcessTask::new(pcb, body)));
}

/// Why a process could not be spawned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// There is no tokio runtime to run the process on: the spawn was called from a thread
    /// that is not running one (plain `main`, a thread of its own, a non-tokio executor).
    #[error(
        "cannot spawn a process outside a tokio runtime: call it from code a tokio runtime runs \
         (`#[tokio::main]`, `Runtime::block_on`), or enter one first (`Runtime::enter`)"
    )]
    NoRuntime,
}

/// The value of a spawn that must succeed: panics with the error, at the caller's location.
#[track_caller]
pub(crate) fn spawned<T>(result: Result<T, SpawnError>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{e}"),
    }
}

/// Options for [`spawn_opt`].
#[derive(Clone, Debug, Default)]
pub struct SpawnOptions {
    mailbox: Option<MailboxBound>,
    trap_exit: bool,
}

impl SpawnOptions {
    /// Default options: an unbounded mailbox, not trapping exits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bounds the mailbox.
    pub fn mailbox(mut self, bound: MailboxBound) -> Self {
        self.mailbox = Some(bound);
        self
    }

    /// Starts the process already trapping exits, so no signal can reach it before it could
    /// set the flag itself.
    pub fn trap_exit(mut self, on: bool) -> Self {
        self.trap_exit = on;
        self
    }
}

/// How a spawned process is tied to its spawner.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tie {
    None,
    Link,
    Monitor,
}

pub(crate) fn spawn_with<F, Fut>(
    spawner: Option<&dyn ProcessEntry>,
    tie: Tie,
    opts: SpawnOptions,
    f: F,
) -> Result<(Pid, Option<MonitorRef>), SpawnError>
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExitReason,
{
    // Checked before anything exists, so that a failed spawn leaves no trace.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Err(SpawnError::NoRuntime);
    };
    let parent = spawner.map(|s| s.core().pid).or_else(table::current);
    let pcb = prepare::<Info>(parent, PLAIN_KIND, opts.mailbox);
    let pid = pcb.core.pid;
    if opts.trap_exit {
        pcb.core.set_trap_exit(true);
    }
    let mut monitor = None;
    if let Some(s) = spawner {
        match tie {
            Tie::Link => {
                pcb.core.with_cold(|c| c.links.insert(s.core().pid));
                s.core().with_cold(|c| c.links.insert(pid));
            }
            Tie::Monitor => {
                monitor = Some(self::core::monitor(
                    s,
                    Some(pid),
                    crate::message::Monitored::Pid(pid),
                ));
            }
            Tie::None => {}
        }
    }
    let process = Process {
        pcb: pcb.clone(),
        rx: Receiver::new(),
    };
    drop(runtime.spawn(ProcessTask::new(pcb, f(process))));
    Ok((pid, monitor))
}

/// Spawns a process running `f` and returns its pid. Not linked to anything.
///
/// `f` receives the [`Process`] handle; the value its future returns becomes the exit reason
/// (see [`IntoExitReason`]): `()` is `normal`, `Err(e)` is `e`.
///
/// A body that never returns — a receive loop, or one that ends in `panic!` — has the type
/// `!`, which is not an exit reason (stable Rust cannot implement a trait for `!`). Give the
/// async block its output type with an async closure, `async move |me| -> () { .. }`, or move
/// the body into an `async fn` that returns `()`:
///
/// ```
/// use otp_core::{Process, spawn};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // An async closure with its return type: the loop's `!` becomes `()`.
/// spawn(async move |mut me| -> () {
///     loop {
///         me.recv().await;
///     }
/// });
///
/// // An `async fn` declared to return `()`.
/// async fn serve(mut me: Process) {
///     loop {
///         me.recv().await;
///     }
/// }
/// spawn(serve);
///
/// spawn(async |_me| -> () { panic!("boom") });
/// # }
/// ```
///
/// ```compile_fail,E0277
/// # use otp_core::spawn;
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // error: `!` is not an exit reason: the block's type is `!`.
/// spawn(|mut me| async move { loop { me.recv().await; } });
/// # }
/// ```
///
/// # Panics
/// Outside a tokio runtime, at the caller's location; [`try_spawn`] returns an error instead.
#[track_caller]
pub fn spawn<F, Fut>(f: F) -> Pid
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExitReason,
{
    spawned(try_spawn(f))
}

/// Spawns a process as [`spawn`] does, or returns [`SpawnError::NoRuntime`] if called outside
/// a tokio runtime: for code that cannot know where it runs.
pub fn try_spawn<F, Fut>(f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExitReason,
{
    try_spawn_opt(SpawnOptions::default(), f)
}

/// Spawns a process with options. See [`spawn`].
///
/// # Panics
/// Outside a tokio runtime, at the caller's location; [`try_spawn_opt`] returns an error
/// instead.
#[track_caller]
pub fn spawn_opt<F, Fut>(opts: SpawnOptions, f: F) -> Pid
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExitReason,
{
    spawned(try_spawn_opt(opts, f))
}

/// Spawns a process with options, or returns [`SpawnError::NoRuntime`] if called outside a
/// tokio runtime. See [`spawn`].
pub fn try_spawn_opt<F, Fut>(opts: SpawnOptions, f: F) -> Result<Pid, SpawnError>
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExitReason,
{
    spawn_with(None, Tie::None, opts, f).map(|(pid, _)| pid)
}

/// Spawns a process linked to the calling process, as Erlang's `spawn_link/1`: the link exists
/// before the new process runs. Called outside any process, the new process is linked to
/// nothing.
///
/// This is how a supervisor's start function starts a plain process: start functions run in
/// the supervisor's process, so the child is linked to its supervisor.
///
/// # Panics
/// Outside a tokio runtime, at the caller's location.
#[track_caller]
pub fn spawn_link<F, Fut>(f: F) -> Pid
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExitReason,
{
    spawn_link_opt(SpawnOptions::default(), f)
}

/// Spawns a process linked to the calling process, with options. See [`spawn_link`].
///
/// # Panics
/// Outside a tokio runtime, at the caller's location.
#[track_caller]
pub fn spawn_link_opt<F, Fut>(opts: SpawnOptions, f: F) -> Pid
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExitReason,
{
    let me = table::current().and_then(table::lookup);
    spawned(spawn_with(me.as_deref(), Tie::Link, opts, f)).0
}

/// Sends an exit signal with `reason` to `pid`, as Erlang's `exit/2`.
///
/// The sender is the process running this call (or none, outside processes). `Kill` ends the
/// target with `Killed` even if it traps exits; `Normal` ends it only if it is the caller itself
/// and it does not trap exits; any other reason ends a non-trapping target with that reason and
/// reaches a trapping one as [`Info::Exit`]. Sending to a process that has ended does nothing.
pub fn exit(pid: Pid, reason: ExitReason) {
    let from = table::current().unwrap_or(Pid::from_parts(0, 0, 0));
    self::core::send_exit_signal(pid, from, reason, false);
}

/// Whether the local process `pid` is alive.
pub fn is_alive(pid: Pid) -> bool {
    table::lookup(pid).is_some_and(|p| p.core().is_alive())
}

/// The pid of the process running this code, if it runs inside one.
pub fn current_pid() -> Option<Pid> {
    table::current()
}

/// Resolves once the local process `pid` has ended, with its exit reason (`NoProc` at once if
/// there is no such process). Usable from anywhere, inside a process or not.
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
    let waiting = table::lookup(pid).map(|p| p.core().wait_exit());
    async move {
        match waiting {
            Some(exited) => exited.await,
            None => ExitReason::NoProc,
        }
    }
}

/// The methods a running process has on itself, shared by [`Process`] and the GenServer
/// [`Context`](crate::Context). Expects fields `pcb: Arc<Pcb<M>>` and `rx: Receiver<M>`.
macro_rules! process_self_ops {
    () => {
        /// This process's pid.
        pub fn pid(&self) -> $crate::Pid {
            self.pcb.core.pid
        }

        /// Links this process with `other` (Erlang's `link/1`): at most one link per pair, a
        /// no-op for itself. If `other` has ended: an error `NoProc` if this process does not
        /// trap exits, else an [`Info::Exit`](crate::Info::Exit) with reason `NoProc`.
        pub fn link(&self, other: $crate::Pid) -> Result<(), $crate::LinkError> {
            $crate::process::link_op(&*self.pcb, other)
        }

        /// The processes linked to this one, in no particular order (Erlang's
        /// `process_info(self(), links)`).
        pub fn links(&self) -> Vec<$crate::Pid> {
            self.pcb
                .core
                .read_cold(|c| c.map(|c| c.links.iter().copied().collect()))
                .flatten()
                .unwrap_or_default()
        }

        /// Removes the link with `other`, if any. From now on `other` ending does not affect
        /// this process; an exit message already queued stays (see
        /// [`unlink_flush`](Self::unlink_flush)).
        pub fn unlink(&self, other: $crate::Pid) {
            $crate::process::unlink_op(&self.pcb.core, other)
        }

        /// Unlinks `other` and removes any exit message from it already queued. Returns how
        /// many were removed.
        pub fn unlink_flush(&mut self, other: $crate::Pid) -> usize {
            $crate::process::unlink_op(&self.pcb.core, other);
            self.rx
                .remove_info(&self.pcb.mailbox, |i| i.exit_from() == Some(other))
        }

        /// Monitors `target`: when it ends, this process gets an
        /// [`Info::Down`](crate::Info::Down) with the returned reference (at once, with reason
        /// `NoProc`, if it has already ended). Each call sets a new, independent monitor.
        pub fn monitor(&self, target: $crate::Pid) -> $crate::MonitorRef {
            $crate::process::monitor_op(&*self.pcb, Some(target), $crate::Monitored::Pid(target))
        }

        /// Monitors the process registered under `name`; the `Down` names it. If nobody holds
        /// the name, the `Down` (reason `NoProc`) comes at once.
        pub fn monitor_name(&self, name: impl Into<$crate::Name>) -> $crate::MonitorRef {
            let name = name.into();
            let pid = $crate::whereis(&name);
            $crate::process::monitor_op(&*self.pcb, pid, $crate::Monitored::Name(name))
        }

        /// Removes a monitor. Returns `true` if it was active, `false` if it had already fired
        /// (its `Down` may be queued; see [`demonitor_flush`](Self::demonitor_flush)) or was
        /// already removed. No `Down` for it is queued after this returns.
        pub fn demonitor(&self, reference: $crate::MonitorRef) -> bool {
            $crate::process::demonitor_op(&self.pcb.core, reference)
        }

        /// Removes a monitor and any `Down` of it already queued. Returns as
        /// [`demonitor`](Self::demonitor).
        pub fn demonitor_flush(&mut self, reference: $crate::MonitorRef) -> bool {
            let active = $crate::process::demonitor_op(&self.pcb.core, reference);
            self.rx
                .remove_info(&self.pcb.mailbox, |i| i.down_ref() == Some(reference));
            active
        }

        /// Sets whether this process traps exits; returns the previous setting. A trapping
        /// process receives exit signals as [`Info::Exit`](crate::Info::Exit) messages instead
        /// of ending (except an `exit(pid, Kill)`).
        pub fn trap_exit(&self, on: bool) -> bool {
            self.pcb.core.set_trap_exit(on)
        }

        /// Whether this process traps exits.
        pub fn traps_exits(&self) -> bool {
            self.pcb.core.traps_exits()
        }

        /// Spawns a process whose parent is this one, not linked.
        #[track_caller]
        pub fn spawn<F, Fut>(&self, f: F) -> $crate::Pid
        where
            F: FnOnce($crate::Process) -> Fut,
            Fut: Future + Send + 'static,
            Fut::Output: $crate::IntoExitReason,
        {
            $crate::process::spawned($crate::process::spawn_with(
                Some(&*self.pcb),
                $crate::process::Tie::None,
                $crate::SpawnOptions::default(),
                f,
            ))
            .0
        }

        /// Spawns a process linked to this one; the link exists before the new process runs.
        #[track_caller]
        pub fn spawn_link<F, Fut>(&self, f: F) -> $crate::Pid
        where
            F: FnOnce($crate::Process) -> Fut,
            Fut: Future + Send + 'static,
            Fut::Output: $crate::IntoExitReason,
        {
            $crate::process::spawned($crate::process::spawn_with(
                Some(&*self.pcb),
                $crate::process::Tie::Link,
                $crate::SpawnOptions::default(),
                f,
            ))
            .0
        }

        /// Spawns a process linked to this one, with options.
        #[track_caller]
        pub fn spawn_link_opt<F, Fut>(&self, opts: $crate::SpawnOptions, f: F) -> $crate::Pid
        where
            F: FnOnce($crate::Process) -> Fut,
            Fut: Future + Send + 'static,
            Fut::Output: $crate::IntoExitReason,
        {
            $crate::process::spawned($crate::process::spawn_with(
                Some(&*self.pcb),
                $crate::process::Tie::Link,
                opts,
                f,
            ))
            .0
        }

        /// Spawns a process monitored by this one; the monitor exists before it runs.
        #[track_caller]
        pub fn spawn_monitor<F, Fut>(&self, f: F) -> ($crate::Pid, $crate::MonitorRef)
        where
            F: FnOnce($crate::Process) -> Fut,
            Fut: Future + Send + 'static,
            Fut::Output: $crate::IntoExitReason,
        {
            let (pid, monitor) = $crate::process::spawned($crate::process::spawn_with(
                Some(&*self.pcb),
                $crate::process::Tie::Monitor,
                $crate::SpawnOptions::default(),
                f,
            ));
            match monitor {
                Some(m) => (pid, m),
                None => unreachable!("spawn_with sets a monitor for Tie::Monitor"),
            }
        }

        /// Registers this process under a local name (one name per process).
        pub fn register(&self, name: impl Into<$crate::Name>) -> Result<(), $crate::RegisterError> {
            $crate::register(name, self.pcb.core.pid)
        }

        /// Sends an exit signal from this process; see [`exit`](crate::exit).
        pub fn exit(&self, pid: $crate::Pid, reason: $crate::ExitReason) {
            $crate::process::exit_from(self.pcb.core.pid, pid, reason)
        }

        /// Sends `msg` to this process after `delay`, as an info message. The timer is
        /// cancelled if this process ends first.
        pub fn send_after<T: std::any::Any + Send>(
            &self,
            msg: T,
            delay: std::time::Duration,
        ) -> $crate::TimerRef {
            $crate::send_after(self.pcb.core.pid, msg, delay)
        }

        /// Sends a clone of `msg` to this process every `period`, until cancelled or until
        /// this process ends.
        pub fn send_interval<T: std::any::Any + Send + Clone>(
            &self,
            msg: T,
            period: std::time::Duration,
        ) -> $crate::TimerRef {
            $crate::send_interval(self.pcb.core.pid, msg, period)
        }

        /// Messages waiting in this process's mailbox.
        pub fn mailbox_len(&self) -> usize {
            self.pcb.mailbox.len()
        }
    };
}
pub(crate) use process_self_ops;

pub(crate) fn link_op(me: &dyn ProcessEntry, other: Pid) -> Result<(), LinkError> {
    self::core::link(me, other)
}

pub(crate) fn unlink_op(me: &self::core::ProcessCore, other: Pid) {
    self::core::unlink(me, other)
}

pub(crate) fn monitor_op(
    me: &dyn ProcessEntry,
    target: Option<Pid>,
    object: crate::message::Monitored,
) -> MonitorRef {
    self::core::monitor(me, target, object)
}

pub(crate) fn demonitor_op(me: &self::core::ProcessCore, reference: MonitorRef) -> bool {
    self::core::demonitor(me, reference)
}

pub(crate) fn exit_from(from: Pid, to: Pid, reason: ExitReason) {
    self::core::send_exit_signal(to, from, reason, false);
}

/// A running process's handle on itself: its mailbox, and the operations a process does on
/// itself (link, monitor, trap exits, spawn children). Given to the body passed to [`spawn`].
pub struct Process {
    pcb: Arc<Pcb<Info>>,
    rx: Receiver<Info>,
}

impl Process {
    process_self_ops!();

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
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pcb.core.pid)
            .finish()
    }
}
