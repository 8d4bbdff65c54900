//! Child specifications: what a supervisor starts, how it restarts it, and how it stops it.

use std::borrow::Borrow;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::backoff::Backoff;
use crate::exit::{ExitReason, panic_message};
use crate::gen_server::{GenServer, ServerRef, StartError};
use crate::pid::Pid;

/// The default shutdown of a worker: 5 seconds, as in Erlang and Elixir.
pub const DEFAULT_WORKER_SHUTDOWN: Duration = Duration::from_secs(5);

/// The name of a child within its supervisor (Erlang's child `id`). Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildId(Arc<str>);

impl ChildId {
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ChildId {
    fn from(s: &str) -> Self {
        ChildId(Arc::from(s))
    }
}

impl From<String> for ChildId {
    fn from(s: String) -> Self {
        ChildId(Arc::from(s))
    }
}

impl From<&String> for ChildId {
    fn from(s: &String) -> Self {
        ChildId(Arc::from(s.as_str()))
    }
}

impl From<&ChildId> for ChildId {
    fn from(id: &ChildId) -> Self {
        id.clone()
    }
}

impl Borrow<str> for ChildId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ChildId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ChildId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for ChildId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// When a child that ended is restarted (SUP-10), by the reason it ended with:
///
/// | reason | `Permanent` | `Transient` | `Temporary` |
/// |---|---|---|---|
/// | `normal`, `shutdown`, `{shutdown, _}` | restarted | not restarted, spec kept | not restarted, spec removed |
/// | any other (`killed`, a panic, an error…) | restarted | restarted | not restarted, spec removed |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Restart {
    /// Always restarted (the default).
    #[default]
    Permanent,
    /// Restarted only if it ends abnormally: not for `normal`, `shutdown` or `{shutdown, _}`.
    Transient,
    /// Never restarted; its spec is removed once it ends.
    Temporary,
}

impl Restart {
    /// Whether a child of this restart type that ended with `reason` is restarted.
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_clean(),
            Restart::Temporary => false,
        }
    }
}

/// How a supervisor stops a child (SUP-14 to SUP-16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// `exit(child, Kill)` at once: the child ends `killed`, without cleaning up.
    BrutalKill,
    /// `exit(child, Shutdown)`, then wait this long for it to end; if it has not, kill it.
    /// A child that does not trap exits ends at once with `shutdown`; one that traps exits
    /// (a GenServer running `terminate`) has this long to finish.
    Timeout(Duration),
    /// `exit(child, Shutdown)` and wait as long as it takes: for children that are
    /// supervisors (their own children take their own time), or workers that must finish.
    Infinity,
}

/// Whether a child is a worker or a supervisor. Only introspection (`count_children`) and the
/// default shutdown depend on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChildType {
    /// Any process that is not a supervisor (the default); default shutdown 5 s.
    #[default]
    Worker,
    /// A supervisor; default shutdown [`Shutdown::Infinity`].
    Supervisor,
}

impl ChildType {
    /// The default shutdown of this kind of child: 5 s for a worker, infinity for a supervisor.
    pub fn default_shutdown(self) -> Shutdown {
        match self {
            ChildType::Worker => Shutdown::Timeout(DEFAULT_WORKER_SHUTDOWN),
            ChildType::Supervisor => Shutdown::Infinity,
        }
    }
}

/// Why a child's start function did not start it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChildStartError {
    /// The child's name is already held by this process (a GenServer started with a name that
    /// is taken): Erlang's `{already_started, Pid}`.
    #[error("already started: {0}")]
    AlreadyStarted(Pid),
    /// The start function failed (returned an error, panicked, or its process stopped or timed
    /// out during `init`).
    #[error("{0}")]
    Failed(ExitReason),
}

impl ChildStartError {
    /// The failure as an exit reason (`AlreadyStarted` becomes an error naming the pid).
    pub fn to_exit_reason(&self) -> ExitReason {
        match self {
            ChildStartError::AlreadyStarted(pid) => {
                ExitReason::Error(format!("already_started {pid}"))
            }
            ChildStartError::Failed(reason) => reason.clone(),
        }
    }
}

/// What a child's start function returns: a started child, an ignored start, or a failure.
///
/// The start function's future may resolve to any of these:
///
/// | output | started | ignored (SUP-21) | failed |
/// |---|---|---|---|
/// | `Result<ServerRef<S>, StartError>` (what `start_link` of a GenServer returns) | `Ok` | `Err(Ignored)` | other `Err` |
/// | `Result<H, SupervisorStartError>` for any supervisor handle `H` ([`SupervisorRef`], [`DynamicSupervisorRef<A>`], a task supervisor's) | `Ok` | — | `Err` |
/// | `Result<Pid, E>` with `E: Into<ExitReason>` | `Ok` | — | `Err` |
/// | `Result<Option<Pid>, ChildStartError>` | `Ok(Some)` | `Ok(None)` | `Err` |
/// | `Pid` | always | — | — |
///
/// [`SupervisorRef`]: super::SupervisorRef
/// [`SupervisorStartError`]: super::SupervisorStartError
/// [`DynamicSupervisorRef<A>`]: super::DynamicSupervisorRef
pub trait IntoChildStart: Send + 'static {
    /// `Ok(Some(pid))` if the child started, `Ok(None)` if it chose not to (ignore), `Err` if
    /// it failed.
    fn into_child_start(self) -> Result<Option<Pid>, ChildStartError>;
}

impl IntoChildStart for Result<Option<Pid>, ChildStartError> {
    fn into_child_start(self) -> Result<Option<Pid>, ChildStartError> {
        self
    }
}

impl IntoChildStart for Pid {
    fn into_child_start(self) -> Result<Option<Pid>, ChildStartError> {
        Ok(Some(self))
    }
}

impl<S: GenServer> IntoChildStart for Result<ServerRef<S>, StartError> {
    fn into_child_start(self) -> Result<Option<Pid>, ChildStartError> {
        match self {
            Ok(server) => Ok(Some(server.pid())),
            Err(StartError::Ignored) => Ok(None),
            Err(StartError::AlreadyStarted(pid)) => Err(ChildStartError::AlreadyStarted(pid)),
            Err(StartError::Stopped(reason)) => Err(ChildStartError::Failed(reason)),
            Err(StartError::Timeout) => Err(ChildStartError::Failed(ExitReason::Error(
                "timeout".to_owned(),
            ))),
        }
    }
}

impl<E: Into<ExitReason> + Send + 'static> IntoChildStart for Result<Pid, E> {
    fn into_child_start(self) -> Result<Option<Pid>, ChildStartError> {
        self.map(Some)
            .map_err(|e| ChildStartError::Failed(e.into()))
    }
}

/// The output of a start function, boxed.
pub(crate) type StartFuture = BoxFuture<'static, Result<Option<Pid>, ChildStartError>>;

/// A start function taking the supervisor's extra argument.
type StartFn<A> = Arc<dyn Fn(A) -> StartFuture + Send + Sync>;

/// Boxes a start function's future, turning its output into a child start and a panic (in the
/// call or in the future) into a failure.
fn boxed<A, F, Fut>(start: F) -> StartFn<A>
where
    A: 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoChildStart,
{
    Arc::new(move |arg: A| -> StartFuture {
        match std::panic::catch_unwind(AssertUnwindSafe(|| start(arg))) {
            Ok(fut) => Box::pin(AssertUnwindSafe(fut).catch_unwind().map(|out| match out {
                Ok(out) => out.into_child_start(),
                Err(p) => Err(ChildStartError::Failed(ExitReason::Panic(panic_message(
                    &*p,
                )))),
            })),
            Err(p) => {
                let reason = ExitReason::Panic(panic_message(&*p));
                Box::pin(async move { Err(ChildStartError::Failed(reason)) })
            }
        }
    })
}

/// What a supervisor needs to know to start, restart and stop one child (Erlang's child spec,
/// Elixir's child specification map).
///
/// Built with [`ChildSpec::new`] from an id and a start function, then adjusted:
///
/// ```
/// use std::time::Duration;
/// use otp_core::supervisor::{ChildSpec, Restart, Shutdown};
/// # use otp_core::gen_server::{Context, GenServer, Init};
/// # struct Counter(u64);
/// # impl GenServer for Counter {
/// #     type Args = u64; type Call = (); type Reply = u64; type Cast = (); type Continue = ();
/// #     async fn init(n: u64, _: &mut Context<Self>) -> Init<Self> { Init::Ok(Counter(n)) }
/// # }
///
/// let spec = ChildSpec::new("counter", || Counter::start_link(0))
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
/// assert_eq!(spec.id(), "counter");
/// assert_eq!(spec.restart_type(), Restart::Transient);
/// ```
///
/// Defaults, as Elixir's: [`Restart::Permanent`], [`ChildType::Worker`], a shutdown of 5 s for
/// a worker and [`Shutdown::Infinity`] for a supervisor, not significant, no restart backoff.
///
/// The start function is called from inside the supervisor's process, each time the child is
/// started or restarted: a GenServer's `start_link` (or [`spawn_link`](crate::process::spawn_link)
/// for a plain process) links the child to its supervisor, which is how the supervisor learns
/// that it ended. It must return once the child is ready (starts are synchronous: the
/// supervisor does nothing else meanwhile). Its output is anything that implements
/// [`IntoChildStart`].
///
/// The type parameter `A` is the extra argument a [`DynamicSupervisor`](super::DynamicSupervisor)
/// gives the start function (see [`ChildSpec::with_arg`]); for a [`Supervisor`](super::Supervisor)
/// it is `()`.
pub struct ChildSpec<A = ()> {
    id: ChildId,
    start: StartFn<A>,
    restart: Restart,
    shutdown: Option<Shutdown>,
    kind: ChildType,
    significant: bool,
    backoff: Option<Backoff>,
    once: bool,
}

impl<A> Clone for ChildSpec<A> {
    fn clone(&self) -> Self {
        ChildSpec {
            id: self.id.clone(),
            start: self.start.clone(),
            restart: self.restart,
            shutdown: self.shutdown,
            kind: self.kind,
            significant: self.significant,
            backoff: self.backoff.clone(),
            once: self.once,
        }
    }
}

impl<A> fmt::Debug for ChildSpec<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown_mode())
            .field("type", &self.kind)
            .field("significant", &self.significant)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl ChildSpec<()> {
    /// A worker named `id`, started by calling `start` (a closure returning a future, such as
    /// `|| Counter::start_link(0)`). Restart permanent, shutdown 5 s.
    pub fn new<F, Fut>(id: impl Into<ChildId>, start: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoChildStart,
    {
        Self::with_arg(id, move |()| start())
    }

    /// A child that is a supervisor: [`ChildType::Supervisor`], shutdown infinity.
    pub fn supervisor<F, Fut>(id: impl Into<ChildId>, start: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoChildStart,
    {
        Self::new(id, start).kind(ChildType::Supervisor)
    }
}

impl<A: 'static> ChildSpec<A> {
    /// A worker named `id`, started by calling `start` with the extra argument of the
    /// [`DynamicSupervisor`](super::DynamicSupervisor) it is started under (a clone of it, on
    /// every start and restart: Elixir's `extra_arguments`, DS-03).
    pub fn with_arg<F, Fut>(id: impl Into<ChildId>, start: F) -> Self
    where
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoChildStart,
    {
        ChildSpec {
            id: id.into(),
            start: boxed(start),
            restart: Restart::Permanent,
            shutdown: None,
            kind: ChildType::Worker,
            significant: false,
            backoff: None,
            once: false,
        }
    }

    /// A temporary child whose start function can run only once: for work that is started
    /// once and never restarted, such as a task (the closure may consume what it captured).
    /// Its restart type cannot be changed: a supervisor refuses the spec unless it is
    /// [`Restart::Temporary`].
    pub fn once<F, Fut>(id: impl Into<ChildId>, start: F) -> Self
    where
        A: Send,
        F: FnOnce(A) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoChildStart,
    {
        let slot = Mutex::new(Some(start));
        let mut spec = Self::with_arg(id, move |arg: A| {
            let start = match slot.lock() {
                Ok(mut f) => f.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            async move {
                match start {
                    Some(f) => f(arg).await.into_child_start(),
                    None => Err(ChildStartError::Failed(ExitReason::Error(
                        "a start-once child cannot be started twice".to_owned(),
                    ))),
                }
            }
        });
        spec.restart = Restart::Temporary;
        spec.once = true;
        spec
    }

    /// Sets the restart type (default [`Restart::Permanent`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how the child is stopped (default: 5 s for a worker, infinity for a supervisor).
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = Some(shutdown);
        self
    }

    /// Sets whether the child is a worker or a supervisor (default worker). Unless a shutdown
    /// was set, the default shutdown follows the kind.
    pub fn kind(mut self, kind: ChildType) -> Self {
        self.kind = kind;
        self
    }

    /// Marks the child significant for the supervisor's [`AutoShutdown`](super::AutoShutdown)
    /// (SUP-30). Only a transient or temporary child may be significant, and only under a
    /// supervisor whose auto-shutdown is not `Never`.
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// Delays the child's restarts with an exponential backoff (see [`Backoff`]). Off by
    /// default.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }
}

impl<A> ChildSpec<A> {
    /// The child's id.
    pub fn id(&self) -> &ChildId {
        &self.id
    }

    /// Gives the child another id.
    pub fn with_id(mut self, id: impl Into<ChildId>) -> Self {
        self.id = id.into();
        self
    }

    /// The restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// How the child is stopped, with the default for its kind filled in.
    pub fn shutdown_mode(&self) -> Shutdown {
        self.shutdown
            .unwrap_or_else(|| self.kind.default_shutdown())
    }

    /// Whether the child is a worker or a supervisor.
    pub fn child_type(&self) -> ChildType {
        self.kind
    }

    /// Whether the child is significant (SUP-30).
    pub fn is_significant(&self) -> bool {
        self.significant
    }

    /// The restart backoff, if any.
    pub fn backoff_policy(&self) -> Option<&Backoff> {
        self.backoff.as_ref()
    }

    /// Whether the start function may run only once (see [`ChildSpec::once`]).
    pub fn is_once(&self) -> bool {
        self.once
    }

    /// Calls the start function.
    pub(crate) fn start_with(&self, arg: A) -> StartFuture {
        (self.start)(arg)
    }
}
