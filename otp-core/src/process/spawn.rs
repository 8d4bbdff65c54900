//! Making processes: a control block entered in its node's table, then its task.

use std::sync::Arc;

use super::bound::MailboxBound;
use super::core::{Node, ProcessCore, ProcessEntry};
use super::current;
use super::events;
use super::kind::ProcessKind;
use super::mailbox::{Envelope, Receiver};
use super::pcb::Pcb;
use super::signals;
use super::task::ProcessTask;
use super::{Process, current_entry};
use crate::exit::IntoExitReason;
use crate::message::Info;
use crate::pid::Pid;

/// Creates a process control block on `node` and enters it in the node's table. The process
/// exists from here on (it can be linked, monitored, named) but runs only once [`launch`]ed.
pub(crate) fn prepare<M: Envelope>(
    node: Node,
    parent: Option<Pid>,
    kind: ProcessKind,
    bound: Option<MailboxBound>,
) -> Arc<Pcb<M>> {
    let pid = node.next_pid();
    let pcb = Arc::new(Pcb::new(ProcessCore::new(pid, parent, kind, node), bound));
    node.insert(pid, pcb.clone());
    events::process_spawned(&pcb.core);
    pcb
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

/// Spawns a plain process running `f`, made by `spawner` if given (its parent, on its node;
/// else the current process, on the current node). `tie` runs on the new process before its
/// task starts: it links or monitors it, so that the tie exists before the process runs.
pub(crate) fn spawn_with<F, Fut, T>(
    spawner: Option<&dyn ProcessEntry>,
    opts: SpawnOptions,
    f: F,
    tie: impl FnOnce(&dyn ProcessEntry) -> T,
) -> Result<(Pid, T), SpawnError>
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExitReason,
{
    // Checked before anything exists, so that a failed spawn leaves no trace.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Err(SpawnError::NoRuntime);
    };
    let (node, parent) = match spawner {
        Some(s) => (s.core().node, Some(s.core().pid)),
        None => (Node::current(), current::pid()),
    };
    let pcb = prepare::<Info>(node, parent, ProcessKind::Plain, opts.mailbox);
    let pid = pcb.core.pid;
    if opts.trap_exit {
        pcb.core.set_trap_exit(true);
    }
    let tied = tie(&*pcb);
    let process = Process {
        pcb: pcb.clone(),
        rx: Receiver::new(),
    };
    drop(runtime.spawn(ProcessTask::new(pcb, f(process))));
    Ok((pid, tied))
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
/// use otp_core::process::{Process, spawn};
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
/// # use otp_core::process::spawn;
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
    spawn_with(None, opts, f, |_| ()).map(|(pid, ())| pid)
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
    let me = current_entry();
    let spawner = me.as_deref();
    spawned(spawn_with(spawner, opts, f, |child| {
        if let Some(me) = spawner {
            signals::link_pair(me.core(), child.core());
        }
    }))
    .0
}
