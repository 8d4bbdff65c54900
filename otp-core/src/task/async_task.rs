//! [`Task`]: a future run as a process linked to its caller, and the handle that waits for its
//! value.

use std::fmt;
use std::future::IntoFuture;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::sync::oneshot::error::TryRecvError;
use tokio::time::Instant;

use super::deadline::{deadline_after, within};
use super::start::{TaskBody, caller};
use super::{DEFAULT_TIMEOUT, TaskError};
use crate::exit::{ExitReason, IntoExitReason};
use crate::pid::Pid;
use crate::process::{self, Process, ProcessEntry, SpawnOptions, lookup};
use crate::supervisor::{ChildId, ChildSpec, Restart};

/// A future running as its own process, and the handle to wait for its value (Elixir's
/// `Task.async` / `Task.await`).
///
/// [`Task::spawn`] starts the process; when called from inside a process (a plain process, a
/// GenServer handler), the task is **linked** to it, so that a task that crashes brings down a
/// caller that does not trap exits, and a caller that crashes brings down its task (T-01).
/// Outside any process (a plain tokio task, `main`), there is nothing to link to: the task is a
/// process all the same, and its failures come back only as values.
///
/// The handle **monitors** the task: it sees the value, or the task's exit reason if it ended
/// without one — without a message in the caller's mailbox (Elixir's reply and `:DOWN` messages
/// are what this handle reads). Get the outcome with:
///
/// - `.await` (T-02): waits at most [`DEFAULT_TIMEOUT`] (5 s); [`await_timeout`](Self::await_timeout)
///   takes another. On timeout the task is killed and [`TaskError::Timeout`] returned.
/// - [`yield_for`](Self::yield_for) (T-04): waits at most a duration and gives `None` if the
///   task is still running, leaving it running; call it again later.
/// - [`shutdown`](Self::shutdown) / [`brutal_kill`](Self::brutal_kill) (T-06): stops the task
///   and returns its value if it came in time.
/// - [`ignore`](Self::ignore) (T-07): lets the task run on, unlinked; its value is dropped.
/// - [`await_many`](super::await_many), [`yield_many`](super::yield_many) (T-03, T-05): many
///   tasks at once.
///
/// **Dropping the handle** while the task runs shuts it down: the task is unlinked (so the
/// caller is not affected) and sent an exit signal `shutdown` — a task started with
/// [`spawn`](Self::spawn) ends at once; one that traps exits gets it as a message, to clean up
/// and end. A handle going out of scope, because its owner returned early or ended, is the
/// caller losing interest, as a caller's death is in Elixir. (When the owner is killed or
/// panics, the link is left to carry its reason to the task, as in Elixir; when it ends
/// otherwise, the handle's drop shuts the task down, where Elixir would leave it running
/// unobserved after a `normal` exit.) [`ignore`](Self::ignore) lets a task run on.
///
/// Unlike Elixir, where only the owner may await (`ArgumentError` otherwise), the handle can be
/// moved and awaited anywhere; the link stays with the process that spawned the task.
#[must_use = "dropping a Task shuts it down; use `ignore` to let it run on"]
pub struct Task<T> {
    pid: Pid,
    /// The task's process control block, kept to read its exit reason once it has ended.
    entry: Option<Arc<dyn ProcessEntry>>,
    /// The process the task is linked to.
    owner: Option<Pid>,
    reply: oneshot::Receiver<T>,
    /// The outcome has been taken, or the task let go: nothing more to wait for, nothing to kill.
    settled: bool,
}

/// How [`Task::shutdown`] and [`Task::brutal_kill`] stop a task.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Send `shutdown`, then kill after this grace period.
    Grace(Duration),
    /// Kill at once.
    Brutal,
}

impl<T: Send + 'static> Task<T> {
    /// Runs `future` as a new process and returns its handle. From inside a process, the task is
    /// linked to it (T-01); see the [type docs](Task).
    ///
    /// The future runs inside the task's process, so [`current_pid`](crate::process::current_pid) and
    /// nested tasks work there; a panic in it is caught and becomes the task's exit reason
    /// ([`ExitReason::Panic`]).
    ///
    /// # Panics
    /// Outside a tokio runtime, at the caller's location.
    #[track_caller]
    pub fn spawn<Fut>(future: Fut) -> Task<T>
    where
        Fut: Future<Output = T> + Send + 'static,
    {
        Self::spawn_process(move |_| future)
    }

    /// Runs the future `f` builds from the task's own [`Process`] handle: for a task that
    /// receives messages, traps exits (so that [`shutdown`](Self::shutdown)'s grace period lets
    /// it clean up), links or monitors others. Linked to the caller as [`spawn`](Self::spawn).
    ///
    /// # Panics
    /// Outside a tokio runtime, at the caller's location.
    #[track_caller]
    pub fn spawn_process<F, Fut>(f: F) -> Task<T>
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future<Output = T> + Send + 'static,
    {
        spawn_task(caller().as_ref(), SpawnOptions::default(), f)
    }

    /// Waits for the value at most `timeout` (`Duration::MAX`: without limit) — Elixir's
    /// `Task.await/2`.
    ///
    /// - The value: `Ok(value)`.
    /// - The task ended without one: [`TaskError::Exited`] with its reason (a panic, a kill, an
    ///   exit signal, or `normal` with no value). If the caller is a process linked to the task
    ///   and does not trap exits, a reason other than `normal` has also ended the caller,
    ///   through the link.
    /// - No value in time: the task is unlinked and killed, and [`TaskError::Timeout`] is
    ///   returned at once (the task ends at its next await point). Elixir's await *exits the
    ///   caller* instead, which takes the linked task down with it; here the caller gets the
    ///   error and decides, and the task is stopped all the same. A value it sends later is
    ///   never seen.
    /// - [`TaskError::Consumed`] if [`yield_for`](Self::yield_for) already took the outcome.
    ///
    /// A zero timeout looks once.
    pub async fn await_timeout(mut self, timeout: Duration) -> Result<T, TaskError> {
        let deadline = deadline_after(timeout);
        match self.outcome_until(deadline).await {
            Some(outcome) => outcome,
            None => {
                self.kill();
                Err(TaskError::Timeout)
            }
        }
    }

    /// Waits for the value at most `timeout` (`Duration::MAX`: without limit), leaving the task
    /// running if it has not come — Elixir's `Task.yield/2` (`yield` is a reserved word in Rust;
    /// this waits *for* a duration).
    ///
    /// - `Ok(Some(value))`: the value (even if the task has ended since).
    /// - `Err(`[`TaskError::Exited`]`)`: the task ended without a value. If the caller is a
    ///   process linked to the task and does not trap exits, an abnormal reason has also ended
    ///   the caller; so, as in Elixir, this is seen for a `normal` exit, an unlinked task, or a
    ///   trapping caller.
    /// - `Ok(None)`: nothing yet; the task runs on and this can be called again. Follow it with
    ///   [`shutdown`](Self::shutdown) to stop a task that took too long, keeping a value that
    ///   came meanwhile.
    /// - `Err(`[`TaskError::Consumed`]`)`: an earlier call already returned the outcome.
    pub async fn yield_for(&mut self, timeout: Duration) -> Result<Option<T>, TaskError> {
        let deadline = deadline_after(timeout);
        match self.outcome_until(deadline).await {
            Some(outcome) => outcome.map(Some),
            None => Ok(None),
        }
    }

    /// Unlinks the task and asks it to stop with an exit signal `shutdown`, killing it if it has
    /// not ended after `grace` (`Duration::MAX`: waits without limit) — Elixir's
    /// `Task.shutdown/2`. Returns once the task has ended:
    ///
    /// - `Ok(Some(value))` if its value came, before or during the shutdown;
    /// - `Ok(None)` if it was shut down (it ended with `shutdown`);
    /// - `Err(`[`TaskError::Exited`]`)` otherwise: it ended some other way before it could be
    ///   shut down (a panic, `normal` with no value...), or it outlived the grace period and was
    ///   killed (`killed`);
    /// - `Err(`[`TaskError::Consumed`]`)` if the outcome was already taken.
    ///
    /// A task started with [`spawn`](Self::spawn) does not trap exits, so the shutdown ends it at
    /// once; one started with [`spawn_process`](Self::spawn_process) that traps exits receives
    /// the signal as a message and has `grace` to finish.
    pub async fn shutdown(mut self, grace: Duration) -> Result<Option<T>, TaskError> {
        self.stop(Stop::Grace(grace)).await
    }

    /// Unlinks the task and kills it (untrappable) — Elixir's `Task.shutdown(task,
    /// :brutal_kill)`. Returns once it has ended: `Ok(Some(value))` if its value had come,
    /// `Ok(None)` if it was killed, `Err(`[`TaskError::Exited`]`)` if it had already ended
    /// another way without a value, `Err(`[`TaskError::Consumed`]`)` if the outcome was already
    /// taken.
    pub async fn brutal_kill(mut self) -> Result<Option<T>, TaskError> {
        self.stop(Stop::Brutal).await
    }

    /// Lets the task run on, unlinked, and drops its value when it comes — Elixir's
    /// `Task.ignore/1`. Returns what was already there: `Ok(Some(value))` if the value had come,
    /// `Err(`[`TaskError::Exited`]`)` if the task had ended without one, `Ok(None)` if it is
    /// still running (it keeps running, and ends on its own). `Err(`[`TaskError::Consumed`]`)`
    /// if the outcome was already taken.
    pub fn ignore(mut self) -> Result<Option<T>, TaskError> {
        self.ignore_in_place()
    }
}

/// Fire-and-forget tasks (T-09): a future run as a process nobody waits for, and the child spec
/// of such a task under a supervisor.
impl Task<()> {
    /// Runs `future` as a new process linked to nothing, and returns its pid — fire and forget
    /// (Elixir's `Task.start/1`, T-09). There is no handle: the future's output is the
    /// process's exit reason ([`IntoExitReason`]: `()` is `normal`, an `Err(e)` is `e`), and a
    /// panic in it ends only this process. For a task whose failure must be seen, start it
    /// under a [`TaskSupervisor`](super::TaskSupervisor) or use [`Task::spawn`].
    ///
    /// # Panics
    /// Outside a tokio runtime, at the caller's location.
    #[track_caller]
    pub fn start<Fut>(future: Fut) -> Pid
    where
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        process::spawn(move |_| future)
    }

    /// Runs `future` as a new process **linked to the calling process** (if called from one),
    /// and returns its pid (Elixir's `Task.start_link/1`, T-09): a task that ends abnormally
    /// brings down a caller that does not trap exits, and the other way round. This is how a
    /// supervisor starts a task child: see [`Task::child_spec`].
    ///
    /// # Panics
    /// Outside a tokio runtime, at the caller's location.
    #[track_caller]
    pub fn start_link<Fut>(future: Fut) -> Pid
    where
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        process::spawn_link(move |_| future)
    }

    /// The child spec of a fire-and-forget task, to run it under a supervisor (Elixir's
    /// `use Task` child spec, T-09): started with [`Task::start_link`] running the future `f`
    /// returns, **[`Restart::Temporary`]** by default (never restarted; change it with
    /// [`ChildSpec::restart`] — `f` is called again on each restart), shutdown 5 s.
    pub fn child_spec<F, Fut>(id: impl Into<ChildId>, f: F) -> ChildSpec
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        ChildSpec::new(id, move || {
            let pid = Task::start_link(f());
            async move { pid }
        })
        .restart(Restart::Temporary)
    }
}

impl<T> Task<T> {
    /// A handle on a task's process started elsewhere (by a spawn given a
    /// [`TaskBody`](super::start::TaskBody)): its pid, its entry in the process table (`None` if
    /// it could not be had: the exit reason then reads `noproc`), the process it is linked to,
    /// and the receiver of its value.
    pub(crate) fn from_parts(
        pid: Pid,
        entry: Option<Arc<dyn ProcessEntry>>,
        owner: Option<Pid>,
        reply: oneshot::Receiver<T>,
    ) -> Self {
        Task {
            pid,
            entry,
            owner,
            reply,
            settled: false,
        }
    }

    /// The task's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The process the task is linked to: the one that spawned it, if it was spawned inside a
    /// process (and not unlinked since by [`ignore`](Self::ignore) or a shutdown).
    pub fn owner(&self) -> Option<Pid> {
        self.owner
    }

    /// Whether the handle still waits for an outcome (none taken, the task not let go).
    pub(crate) fn is_pending(&self) -> bool {
        !self.settled
    }

    /// Whether the task's process is still running.
    fn is_alive(&self) -> bool {
        match &self.entry {
            Some(e) => e.core().is_alive(),
            None => process::is_alive(self.pid),
        }
    }

    /// The task's exit reason, once it has ended (`noproc` without its entry).
    fn exited(&self) -> impl Future<Output = ExitReason> + Send + 'static + use<T> {
        let waiting = self.entry.as_ref().map(|e| e.core().wait_exit());
        async move {
            match waiting {
                Some(exited) => exited.await,
                None => ExitReason::NoProc,
            }
        }
    }

    /// The outcome: the value, or the exit reason if the task ended without one. Cancel-safe:
    /// dropped before it resolves, nothing is lost. Marks the handle settled when it resolves.
    pub(crate) async fn outcome(&mut self) -> Result<T, TaskError> {
        if self.settled {
            return Err(TaskError::Consumed);
        }
        let outcome = match (&mut self.reply).await {
            Ok(value) => Ok(value),
            // The value's sender is dropped only after the exit reason is fixed.
            Err(_) => Err(TaskError::Exited(self.exited().await)),
        };
        self.settled = true;
        outcome
    }

    /// The outcome if it comes before `deadline`.
    pub(crate) async fn outcome_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Option<Result<T, TaskError>> {
        within(deadline, self.outcome()).await
    }

    /// The value if it has come, or the exit reason if the task has ended without one; `None`
    /// while it runs. Settles the handle unless `None`.
    fn try_outcome(&mut self) -> Option<Result<T, TaskError>> {
        if self.settled {
            return Some(Err(TaskError::Consumed));
        }
        let outcome = match self.reply.try_recv() {
            Ok(value) => Ok(value),
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Closed) => Err(TaskError::Exited(self.exit_reason_now())),
        };
        self.settled = true;
        Some(outcome)
    }

    /// The exit reason of a task whose value's sender is gone (so whose reason is fixed).
    fn exit_reason_now(&self) -> ExitReason {
        self.entry
            .as_ref()
            .and_then(|e| e.core().exit_reason())
            .unwrap_or(ExitReason::NoProc)
    }

    /// Removes the link with the owner, if any.
    fn unlink(&mut self) {
        if let Some(owner) = self.owner.take()
            && let Some(o) = lookup(owner)
        {
            process::unlink(o.core(), self.pid);
        }
    }

    /// Unlinks and kills the task if it still runs (untrappable), and settles the handle.
    pub(crate) fn kill(&mut self) {
        self.abandon(ExitReason::Kill);
    }

    /// Unlinks the task and sends it an exit signal with `reason` if it still runs, and
    /// settles the handle.
    ///
    /// A task that has already ended keeps its link until the owner has taken its exit signal:
    /// a crash still reaches the owner. A task whose owner is ending with an abnormal reason —
    /// the handle is dropped with the owner's state when the owner is killed or panics, before
    /// its links are told — is left to the link, which ends it with the owner's reason (or, if
    /// it traps exits, tells it), as in Elixir.
    fn abandon(&mut self, reason: ExitReason) {
        if !self.settled && self.is_alive() && !self.owner_takes_it_down() {
            self.unlink();
            process::exit(self.pid, reason);
        }
        self.settled = true;
    }

    /// Whether the owner has ended with an abnormal reason, which its link is carrying (or
    /// about to carry) to the task.
    fn owner_takes_it_down(&self) -> bool {
        self.owner
            .and_then(lookup)
            .and_then(|owner| owner.core().exit_reason())
            .is_some_and(|reason| !reason.is_normal())
    }

    /// Kills the task and waits until it has ended: its value if it came meanwhile, else
    /// [`TaskError::Timeout`]. For a task that timed out, where a slot must not be freed before
    /// its process is gone (an async stream's element).
    pub(crate) async fn kill_after_timeout(&mut self) -> Result<T, TaskError> {
        let exited = self.exited();
        self.kill();
        exited.await;
        match self.reply.try_recv() {
            Ok(value) => Ok(value),
            Err(_) => Err(TaskError::Timeout),
        }
    }

    /// Lets the task run on, unlinked; see [`ignore`](Task::ignore).
    pub(crate) fn ignore_in_place(&mut self) -> Result<Option<T>, TaskError> {
        if self.settled {
            return Err(TaskError::Consumed);
        }
        let outcome = self.try_outcome();
        // A task that ended without a value keeps its link: its exit signal still reaches the
        // owner, as Elixir's `ignore` leaves a dead task's link alone.
        if !matches!(outcome, Some(Err(_))) {
            self.unlink();
        }
        self.settled = true;
        outcome.transpose()
    }

    /// Stops the task; see [`shutdown`](Task::shutdown).
    pub(crate) async fn stop(&mut self, how: Stop) -> Result<Option<T>, TaskError> {
        if self.settled {
            return Err(TaskError::Consumed);
        }
        self.settled = true;
        // As in `abandon`: a task that has already ended keeps its link, so that a crash still
        // reaches the owner.
        if self.is_alive() {
            self.unlink();
        }
        let mut exited = std::pin::pin!(self.exited());
        let reason = match how {
            Stop::Brutal => {
                process::exit(self.pid, ExitReason::Kill);
                exited.await
            }
            Stop::Grace(grace) => {
                process::exit(self.pid, ExitReason::Shutdown);
                match within(deadline_after(grace), &mut exited).await {
                    Some(reason) => reason,
                    None => {
                        process::exit(self.pid, ExitReason::Kill);
                        exited.await
                    }
                }
            }
        };
        if let Ok(value) = self.reply.try_recv() {
            return Ok(Some(value));
        }
        match (how, reason) {
            (Stop::Grace(_), ExitReason::Shutdown) | (Stop::Brutal, ExitReason::Killed) => Ok(None),
            (_, reason) => Err(TaskError::Exited(reason)),
        }
    }
}

/// `task.await`: [`Task::await_timeout`] with the [`DEFAULT_TIMEOUT`] of 5 s, as Elixir's
/// `Task.await/1`.
impl<T: Send + 'static> IntoFuture for Task<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, TaskError>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.await_timeout(DEFAULT_TIMEOUT))
    }
}

/// A handle dropped while its task runs shuts the task down: see [`Task`].
impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.abandon(ExitReason::Shutdown);
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("pid", &self.pid)
            .field("owner", &self.owner)
            .field("pending", &!self.settled)
            .finish()
    }
}

/// Spawns a task's process running `f`, linked to `owner` if one is given (the link exists
/// before the task runs), and returns its handle.
///
/// # Panics
/// Outside a tokio runtime, at the caller's location.
#[track_caller]
pub(crate) fn spawn_task<F, Fut>(
    owner: Option<&Arc<dyn ProcessEntry>>,
    opts: SpawnOptions,
    f: F,
) -> Task<Fut::Output>
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let (body, reply) = TaskBody::new(f);
    let mut entry = None;
    let spawner = owner.map(|o| &**o as &dyn ProcessEntry);
    let (pid, ()) = process::spawned(process::spawn_with(
        spawner,
        opts,
        |process| {
            let (e, future) = body.start(process);
            entry = e;
            future
        },
        |task| {
            if let Some(owner) = spawner {
                process::link_pair(owner.core(), task.core());
            }
        },
    ));
    Task::from_parts(pid, entry, owner.map(|o| o.core().pid), reply)
}
