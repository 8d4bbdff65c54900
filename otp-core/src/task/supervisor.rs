//! [`TaskSupervisor`]: a dynamic supervisor of tasks — Elixir's `Task.Supervisor` (T-10 to
//! T-12) — its options and the handle to it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::Task;
use super::start::{TaskBody, caller};
use crate::exit::{ExitReason, IntoExitReason};
use crate::gen_server::{ServerName, ServerRef, StartOptions};
use crate::pid::Pid;
use crate::process::{self, Process};
use crate::supervisor::{
    ChildId, ChildSpec, ChildStartError, ChildStatus, DEFAULT_WORKER_SHUTDOWN, DynamicOptions,
    DynamicSupervisor, DynamicSupervisorRef, Handle, Restart, Shutdown, SupervisorError,
    SupervisorHandle, SupervisorStartError, inherent_handle_methods,
};

/// The id every task has under its supervisor (ids are not used by a dynamic supervisor).
const TASK_ID: &str = "task";

/// The default shutdown of a supervised task: 5 s, as in Elixir.
const DEFAULT_SHUTDOWN: Shutdown = Shutdown::Timeout(DEFAULT_WORKER_SHUTDOWN);

/// A supervisor of tasks, as Elixir's `Task.Supervisor` (T-10 to T-12): start one with
/// [`TaskSupervisor::start_link`], then start tasks through the returned
/// [`TaskSupervisorRef`].
///
/// A task supervisor is a [`DynamicSupervisor`] whose children are tasks: futures run as
/// processes, started on demand, each known by its pid. It gives tasks what a bare
/// [`Task::spawn`] cannot: a place in the supervision tree (stopping the supervisor stops its
/// tasks, each per its [`Shutdown`]), a bound on how many run at once (`max_children`), and —
/// with [`spawn_nolink`](TaskSupervisorRef::spawn_nolink) — a task whose crash is only a value
/// to the caller, because the task is linked to the supervisor, not to the caller.
///
/// | Elixir `Task.Supervisor` | here | linked to the caller | returns |
/// |---|---|---|---|
/// | `start_link(opts)` | [`TaskSupervisor::start_link`] with [`TaskSupervisorOptions`] | yes | [`TaskSupervisorRef`] |
/// | `start_child(sup, fun)` | [`start_child`](TaskSupervisorRef::start_child) | no | the task's pid |
/// | `start_child(sup, fun, shutdown: s)` | [`start_child_once`](TaskSupervisorRef::start_child_once) | no | the task's pid |
/// | `start_child(sup, fun, restart: r, shutdown: s)` | [`start_child_with`](TaskSupervisorRef::start_child_with) | no | the task's pid |
/// | `async(sup, fun, opts)` | [`spawn`](TaskSupervisorRef::spawn), [`spawn_with`](TaskSupervisorRef::spawn_with) | yes | a [`Task`] |
/// | `async_nolink(sup, fun, opts)` | [`spawn_nolink`](TaskSupervisorRef::spawn_nolink), [`spawn_nolink_with`](TaskSupervisorRef::spawn_nolink_with) | no | a [`Task`] |
/// | `async_stream(sup, enum, fun, opts)` | [`async_stream`](TaskSupervisorRef::async_stream) | as through a link | an [`AsyncStream`](super::AsyncStream) |
/// | `async_stream_nolink(sup, enum, fun, opts)` | [`async_stream_nolink`](TaskSupervisorRef::async_stream_nolink) | no | an [`AsyncStream`](super::AsyncStream) |
/// | `children(sup)` | [`children`](TaskSupervisorRef::children) | | pids |
/// | `terminate_child(sup, pid)` | [`terminate_child`](TaskSupervisorRef::terminate_child) | | |
///
/// Every task is linked to the supervisor, which traps exits: a task that crashes is logged
/// and, if it is temporary (the default, and the only kind a [`Task`] handle can have),
/// forgotten. Tasks started with [`start_child_with`](TaskSupervisorRef::start_child_with)
/// may be transient or permanent, and are then restarted as any child, counted toward the
/// supervisor's restart intensity (3 restarts in 5 s by default; beyond it the supervisor
/// stops its tasks and exits `shutdown`).
///
/// Differences from Elixir, each a Rust idiom:
///
/// - Where Elixir raises (`max_children` reached in `async*`), the calls return
///   [`SupervisorError::MaxChildren`]; an [`AsyncStream`](super::AsyncStream) yields
///   [`TaskError::NotStarted`](super::TaskError::NotStarted) and ends.
/// - A task that may be restarted needs a start function that can run again: `start_child`
///   takes a future (run once), [`start_child_with`](TaskSupervisorRef::start_child_with) a
///   closure (`Fn`) called on every start.
/// - A [`Task`] handle behaves as everywhere: dropping it shuts the task down (see
///   [`Task::ignore`] to let it run on), and its outcome is read by the handle, not from the
///   caller's mailbox — so `spawn_nolink` sends the caller no `:DOWN` message: the handle's
///   `Err(`[`TaskError::Exited`](super::TaskError::Exited)`)` is that message.
/// - `$callers` (T-13) is not kept; a task's parent is the supervisor.
///
/// ```
/// use otp_core::process::ExitReason;
/// use otp_core::task::{TaskError, TaskSupervisor, TaskSupervisorOptions};
/// use otp_core::supervisor::SupervisorError;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sup = TaskSupervisor::start_link(TaskSupervisorOptions::new().max_children(2))
///     .await
///     .unwrap();
///
/// // A task whose value the caller waits for.
/// let task = sup.spawn_nolink(async { 6 * 7 }).await.unwrap();
/// assert_eq!(task.await, Ok(42));
///
/// // A task that crashes: a value to the caller, never a crash of the caller.
/// let task = sup.spawn_nolink(async { panic!("boom") }).await.unwrap();
/// assert_eq!(task.await, Err::<(), _>(TaskError::Exited(ExitReason::Panic("boom".into()))));
///
/// // Fire and forget, within max_children.
/// let a = sup.start_child(std::future::pending::<()>()).await.unwrap();
/// let b = sup.start_child(std::future::pending::<()>()).await.unwrap();
/// assert_eq!(sup.children().await.unwrap(), [a, b]);
/// assert_eq!(sup.start_child(async {}).await, Err(SupervisorError::MaxChildren));
///
/// // Stopping the supervisor stops its tasks.
/// sup.stop().await.unwrap();
/// assert!(!otp_core::process::is_alive(a) && !otp_core::process::is_alive(b));
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct TaskSupervisor;

impl TaskSupervisor {
    /// Starts a task supervisor linked to the calling process (T-10). Fails with
    /// [`SupervisorStartError::InvalidSpec`] for options it cannot run with (a zero
    /// `max_children` or period), [`SupervisorStartError::AlreadyStarted`] if its name is
    /// taken.
    pub fn start_link(
        options: TaskSupervisorOptions,
    ) -> impl Future<Output = Result<TaskSupervisorRef, SupervisorStartError>> + Send {
        let started = DynamicSupervisor::start_link(options.dynamic);
        async move { started.await.map(|sup| TaskSupervisorRef { sup }) }
    }

    /// Starts a task supervisor not linked to the caller.
    pub fn start(
        options: TaskSupervisorOptions,
    ) -> impl Future<Output = Result<TaskSupervisorRef, SupervisorStartError>> + Send {
        let started = DynamicSupervisor::start(options.dynamic);
        async move { started.await.map(|sup| TaskSupervisorRef { sup }) }
    }

    /// The child spec of a task supervisor with these options, to run it under another
    /// supervisor (Elixir's `{Task.Supervisor, opts}`): [`ChildType::Supervisor`], shutdown
    /// infinity, permanent.
    ///
    /// [`ChildType::Supervisor`]: crate::supervisor::ChildType::Supervisor
    pub fn child_spec(id: impl Into<ChildId>, options: TaskSupervisorOptions) -> ChildSpec {
        ChildSpec::supervisor(id, move || TaskSupervisor::start_link(options.clone()))
    }
}

/// The options of a [`TaskSupervisor`] (T-10): the restart intensity of its transient and
/// permanent tasks (Elixir's `max_restarts`, default 3, and `max_seconds`, default 5 s),
/// `max_children` (no limit by default) and a name.
#[derive(Clone, Debug, Default)]
pub struct TaskSupervisorOptions {
    dynamic: DynamicOptions,
}

impl TaskSupervisorOptions {
    /// The defaults: 3 restarts in 5 s, no `max_children`, no name.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the most restarts allowed within the period (Elixir's `max_restarts`, default 3).
    pub fn intensity(mut self, restarts: u32) -> Self {
        self.dynamic = self.dynamic.intensity(restarts);
        self
    }

    /// Sets the period restarts are counted in (Elixir's `max_seconds`, default 5 s). Zero
    /// fails the start with [`SpecError::ZeroPeriod`](crate::supervisor::SpecError::ZeroPeriod).
    pub fn period(mut self, period: Duration) -> Self {
        self.dynamic = self.dynamic.period(period);
        self
    }

    /// Limits how many tasks may exist at once, those being restarted included: beyond, the
    /// start calls fail with [`SupervisorError::MaxChildren`]. Zero fails the start with
    /// [`SpecError::ZeroMaxChildren`](crate::supervisor::SpecError::ZeroMaxChildren).
    pub fn max_children(mut self, max: usize) -> Self {
        self.dynamic = self.dynamic.max_children(max);
        self
    }

    /// Registers the supervisor under a name.
    pub fn name(mut self, name: impl Into<ServerName>) -> Self {
        self.dynamic = self.dynamic.name(name);
        self
    }

    /// Sets the start options (name, start timeout).
    pub fn start_options(mut self, options: StartOptions) -> Self {
        self.dynamic = self.dynamic.start_options(options);
        self
    }
}

/// How a task started with [`TaskSupervisorRef::start_child_with`] is restarted and stopped
/// (Elixir's `:restart` and `:shutdown` options of `Task.Supervisor.start_child`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaskOptions {
    restart: Restart,
    shutdown: Shutdown,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            restart: Restart::Temporary,
            shutdown: DEFAULT_SHUTDOWN,
        }
    }
}

impl TaskOptions {
    /// The defaults, as Elixir's: [`Restart::Temporary`], a shutdown of 5 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the restart type (default [`Restart::Temporary`]: never restarted).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how the task is stopped when the supervisor stops it (default 5 s). A task that
    /// does not trap exits ends at once on the first signal either way; one that traps them has
    /// this long to finish.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// The restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// The shutdown.
    pub fn shutdown_mode(&self) -> Shutdown {
        self.shutdown
    }
}

/// A handle to a running [`TaskSupervisor`], to start tasks under it.
///
/// Cheap to clone. The calls common to every supervisor — `pid`, `which_children`,
/// `count_children`, `terminate_child` (by pid), `stop`... — are those of
/// [`SupervisorHandle`], which it implements (and has as its own methods, so that calling them
/// needs no import); the task calls below are a task supervisor's own.
///
/// The calls wait without a time limit; a call to a supervisor that is not running returns
/// [`SupervisorError::NoProc`]. A task started from inside one of the supervisor's own start
/// functions cannot be (it would wait for itself: [`SupervisorError::CallingSelf`]); tasks may
/// start tasks.
#[derive(Clone, PartialEq, Eq)]
pub struct TaskSupervisorRef {
    sup: DynamicSupervisorRef,
}

impl fmt::Debug for TaskSupervisorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskSupervisorRef{}", self.pid())
    }
}

impl Handle for TaskSupervisorRef {
    type Server = <DynamicSupervisorRef as Handle>::Server;

    fn server(&self) -> &ServerRef<Self::Server> {
        self.sup.server()
    }

    fn from_server(server: ServerRef<Self::Server>) -> Self {
        TaskSupervisorRef {
            sup: DynamicSupervisorRef::from_server(server),
        }
    }
}

/// Tasks are named by pid; a task supervisor is a dynamic supervisor without an extra
/// argument, so `from_pid` and `whereis` find any such supervisor.
impl SupervisorHandle for TaskSupervisorRef {
    type Child = Pid;
}

inherent_handle_methods!(TaskSupervisorRef);

impl TaskSupervisorRef {
    /// The supervisor as the [`DynamicSupervisor`] it is, for the rest of its API
    /// (`which_children`, children from any [`ChildSpec`]).
    pub fn as_dynamic(&self) -> &DynamicSupervisorRef {
        &self.sup
    }

    /// Starts a child and returns its pid; a spec of this module never ignores its start.
    async fn start(&self, spec: ChildSpec) -> Result<Pid, SupervisorError> {
        match self.sup.start_child(spec).await? {
            Some(pid) => Ok(pid),
            None => Err(SupervisorError::StartFailed(ChildStartError::Failed(
                ExitReason::error("the task's start was ignored"),
            ))),
        }
    }

    /// Runs `future` as a temporary task under the supervisor, linked to the supervisor only,
    /// and returns its pid once it has started — fire and forget (Elixir's
    /// `Task.Supervisor.start_child/2`, T-10). Shutdown 5 s.
    ///
    /// The future's output is the task's exit reason ([`IntoExitReason`]): `()` is `normal`,
    /// an `Err(e)` ends the task with `e` (logged by the supervisor), as does a panic. Nothing
    /// restarts it.
    ///
    /// Errors: [`SupervisorError::MaxChildren`], [`SupervisorError::NoProc`] if the supervisor
    /// is not running.
    pub async fn start_child<Fut>(&self, future: Fut) -> Result<Pid, SupervisorError>
    where
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        self.start_child_once(DEFAULT_SHUTDOWN, move |_| future)
            .await
    }

    /// [`start_child`](Self::start_child) with a shutdown, running the future `f` builds from
    /// the task's own [`Process`] (Elixir's `start_child(sup, fun, shutdown: s)`). A task that
    /// traps exits (`me.trap_exit(true)`) receives the supervisor's `shutdown` as a message
    /// and has `shutdown` to end; one that does not ends at once. Temporary: `f` runs once,
    /// in the task's process (a panic there is the task's).
    pub async fn start_child_once<F, Fut>(
        &self,
        shutdown: Shutdown,
        f: F,
    ) -> Result<Pid, SupervisorError>
    where
        F: FnOnce(Process) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        let spec = ChildSpec::once(TASK_ID, move |()| {
            let pid = process::spawn_link(move |me| async move { f(me).await });
            async move { pid }
        })
        .shutdown(shutdown);
        self.start(spec).await
    }

    /// Starts a task under the supervisor with a restart type and a shutdown (Elixir's
    /// `start_child(sup, fun, restart: r, shutdown: s)`, T-10): `f` is called on every start,
    /// in the task's process, to build the future it runs. A [`Restart::Transient`] task is
    /// restarted when it ends abnormally (a panic, an `Err`, a kill), a
    /// [`Restart::Permanent`] one whenever it ends; restarts count toward the supervisor's
    /// intensity. Returns the pid of the first run.
    ///
    /// Errors as [`start_child`](Self::start_child).
    pub async fn start_child_with<F, Fut>(
        &self,
        options: TaskOptions,
        f: F,
    ) -> Result<Pid, SupervisorError>
    where
        F: Fn(Process) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        let f = Arc::new(f);
        let spec = ChildSpec::new(TASK_ID, move || {
            let f = Arc::clone(&f);
            let pid = process::spawn_link(move |me| async move { f(me).await });
            async move { pid }
        })
        .restart(options.restart)
        .shutdown(options.shutdown);
        self.start(spec).await
    }

    /// Runs `future` as a task under the supervisor, **linked to the calling process** and
    /// awaited through the returned [`Task`] (Elixir's `Task.Supervisor.async/2`, T-10): the
    /// link is in place before the task runs, so, as with [`Task::spawn`], a task that crashes
    /// brings down a caller that does not trap exits, and a caller that crashes brings down its
    /// task. Called outside any process, there is nothing to link to (as
    /// [`spawn_nolink`](Self::spawn_nolink)). Temporary, shutdown 5 s.
    ///
    /// The caller is the process that calls `spawn`, not the one that awaits the returned
    /// future, should they differ.
    ///
    /// Errors: [`SupervisorError::MaxChildren`] (Elixir raises), [`SupervisorError::NoProc`].
    #[doc(alias = "async")]
    pub fn spawn<Fut>(
        &self,
        future: Fut,
    ) -> impl Future<Output = Result<Task<Fut::Output>, SupervisorError>> + Send + 'static + use<Fut>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn_with(DEFAULT_SHUTDOWN, move |_| future)
    }

    /// [`spawn`](Self::spawn) with a shutdown, running the future `f` builds from the task's
    /// own [`Process`] (Elixir's `async(sup, fun, shutdown: s)`); see
    /// [`start_child_once`](Self::start_child_once) for what the shutdown does.
    pub fn spawn_with<F, Fut>(
        &self,
        shutdown: Shutdown,
        f: F,
    ) -> impl Future<Output = Result<Task<Fut::Output>, SupervisorError>> + Send + 'static + use<F, Fut>
    where
        F: FnOnce(Process) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let owner = caller().map(|me| me.core().pid);
        self.start_task(owner, shutdown, f)
    }

    /// Runs `future` as a task under the supervisor, **not linked to the caller**, awaited
    /// through the returned [`Task`] (Elixir's `Task.Supervisor.async_nolink/2`, T-11).
    ///
    /// The task's crash is a value, never a crash of the caller: `task.await` gives
    /// `Err(`[`TaskError::Exited`](super::TaskError::Exited)`)` with its reason (a panic, an
    /// exit signal), and the caller — trapping exits or not — gets no signal and no message.
    /// The task is linked to the supervisor only, which logs the crash and forgets the task
    /// (it is always temporary: its handle would be lost on a restart). Stopping the
    /// supervisor stops it: the handle then gives `Exited(Shutdown)` (or `Killed`).
    ///
    /// As any [`Task`], dropping the handle shuts the task down; [`Task::ignore`] lets it run
    /// on, still supervised.
    ///
    /// Errors: [`SupervisorError::MaxChildren`] (Elixir raises), [`SupervisorError::NoProc`].
    #[doc(alias = "async_nolink")]
    pub async fn spawn_nolink<Fut>(&self, future: Fut) -> Result<Task<Fut::Output>, SupervisorError>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn_nolink_with(DEFAULT_SHUTDOWN, move |_| future)
            .await
    }

    /// [`spawn_nolink`](Self::spawn_nolink) with a shutdown, running the future `f` builds
    /// from the task's own [`Process`] (Elixir's `async_nolink(sup, fun, shutdown: s)`).
    pub async fn spawn_nolink_with<F, Fut>(
        &self,
        shutdown: Shutdown,
        f: F,
    ) -> Result<Task<Fut::Output>, SupervisorError>
    where
        F: FnOnce(Process) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.start_task(None, shutdown, f).await
    }

    /// Starts a temporary task under the supervisor, linked to `owner` too if given, and
    /// returns its handle. The returned future owns what it needs.
    ///
    /// The supervisor builds the handle while it starts the task (so that the handle holds the
    /// task's process entry from its creation: its exit reason is readable even if it ends at
    /// once) and sends it back; if the caller has stopped waiting by then, the handle is
    /// dropped on its way, which shuts the task down — nothing is left running unobserved.
    pub(crate) fn start_task<F, Fut>(
        &self,
        owner: Option<Pid>,
        shutdown: Shutdown,
        f: F,
    ) -> impl Future<Output = Result<Task<Fut::Output>, SupervisorError>> + Send + 'static + use<F, Fut>
    where
        F: FnOnce(Process) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let (handle_tx, mut handle_rx) = oneshot::channel();
        let spec = ChildSpec::once(TASK_ID, move |()| {
            let pid = spawn_supervised_task(owner, f, handle_tx);
            async move { pid }
        })
        .shutdown(shutdown);
        let this = self.clone();
        async move {
            this.start(spec).await?;
            handle_rx.try_recv().map_err(|_| {
                // The start function sends the handle before it returns the pid.
                SupervisorError::StartFailed(ChildStartError::Failed(ExitReason::NoProc))
            })
        }
    }

    /// The pids of the running tasks, in the order they were first started; tasks being
    /// restarted are left out (Elixir's `Task.Supervisor.children/1`, T-10).
    pub async fn children(&self) -> Result<Vec<Pid>, SupervisorError> {
        let children = self.sup.which_children().await?;
        Ok(children
            .into_iter()
            .filter_map(|c| match c.status {
                ChildStatus::Running(pid) => Some(pid),
                _ => None,
            })
            .collect())
    }
}

/// Spawns a task's process from inside its supervisor's start function: linked to the
/// supervisor (the process running the start function) and, if `owner` is given, to the owner,
/// both before it runs. Sends the handle through `handle` and returns the pid.
///
/// If the owner has ended meanwhile, the link cannot be made and the task ends `noproc`
/// without running `f`'s future (nobody is left to wait for it).
fn spawn_supervised_task<F, Fut>(
    owner: Option<Pid>,
    f: F,
    handle: oneshot::Sender<Task<Fut::Output>>,
) -> Pid
where
    F: FnOnce(Process) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    // `f` is called inside the task's process, so that a panic in it is the task's.
    let (body, reply) = TaskBody::new(move |me: Process| async move { f(me).await });
    let mut entry = None;
    let mut linked = true;
    let pid = process::spawn_link(|me| {
        let ok = owner.is_none_or(|owner| me.link(owner).is_ok());
        linked = ok;
        let (e, run) = body.start(me);
        entry = e;
        async move {
            if ok {
                run.await;
                Ok(())
            } else {
                Err(ExitReason::NoProc)
            }
        }
    });
    let owner = owner.filter(|_| linked);
    // If the caller no longer waits, the handle is dropped here, which shuts the task down.
    let _ = handle.send(Task::from_parts(pid, entry, owner, reply));
    pid
}
