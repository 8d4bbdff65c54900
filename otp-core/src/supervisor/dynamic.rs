//! DynamicSupervisor: its options, its process, and the handle to it.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::fmt;
use std::time::Duration;

use super::backoff::{BackoffState, TryAgain};
use super::error::{SpecError, SupervisorError, SupervisorStartError};
use super::flags::{AutoShutdown, Strategy, SupFlags};
use super::info::{ChildCounts, ChildInfo, ChildStatus};
use super::intensity::Intensity;
use super::report::{
    report_child_started, report_child_terminated, report_max_intensity, report_start_error,
};
use super::server::Flow;
use super::shutdown::{Stopping, stop_child, stop_concurrently};
use super::spec::{ChildId, ChildSpec, ChildStartError, IntoChildStart};
use crate::exit::ExitReason;
use crate::gen_server::{
    Action, CallResult, Context, GenServer, Init, RefError, ServerName, ServerRef, StartOptions,
    StopError,
};
use crate::message::{Info, Name};
use crate::pid::Pid;

/// A supervisor of children started at run time (DS-01 to DS-07), as Elixir's `DynamicSupervisor`:
/// start one with [`DynamicSupervisor::start_link`], add children through the returned
/// [`DynamicSupervisorRef`].
///
/// A dynamic supervisor starts with no children; [`DynamicSupervisorRef::start_child`] starts
/// one from a [`ChildSpec`] and returns its pid, and the pid is how the child is known from then
/// on ([`terminate_child`](DynamicSupervisorRef::terminate_child) takes it). Ids are not used
/// and need not be unique. Restarts follow the child's restart type, one for one, with the same
/// restart intensity as a [`Supervisor`](super::Supervisor); on shutdown all children are
/// stopped at once, each with its own shutdown time.
///
/// **Extra arguments.** Elixir's `extra_arguments` are values the supervisor holds and prepends
/// to the arguments of every child it starts (DS-03). Here the supervisor holds one value of a
/// type `A` of your choice, given with [`DynamicOptions::extra_arg`]; children are started from
/// a [`ChildSpec<A>`] made with [`ChildSpec::with_arg`], whose start function receives a clone
/// of it on every start and restart. The caller of `start_child` need not know the value (a
/// pool's configuration, a connection handle). Most supervisors need none: `A` defaults to
/// `()`, and [`ChildSpec::new`] makes a `ChildSpec<()>`.
///
/// ```
/// use otp_core::process::spawn_link;
/// use otp_core::supervisor::{ChildSpec, DynamicOptions, DynamicSupervisor};
/// use otp_core::{ExitReason, Pid};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // Every worker of this pool gets the pool's name.
/// let pool = DynamicSupervisor::start(DynamicOptions::new().extra_arg("pool-a").max_children(10))
///     .await
///     .unwrap();
/// let worker = ChildSpec::with_arg("worker", |pool: &'static str| async move {
///     Ok::<Pid, ExitReason>(spawn_link(move |mut me| async move {
///         let _ = (pool, me.recv().await);
///     }))
/// });
/// let pid = pool.start_child(worker.clone()).await.unwrap().unwrap();
/// assert_eq!(pool.count_children().await.unwrap().active, 1);
/// pool.terminate_child(pid).await.unwrap();
/// pool.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct DynamicSupervisor;

/// The options of a [`DynamicSupervisor`] (DS-01): its flags (one-for-one only, intensity 3
/// restarts in 5 s by default), `max_children` (no limit by default), the extra argument given
/// to every child's start function (`()` by default), and start options (a name).
#[derive(Clone, Debug)]
pub struct DynamicOptions<A = ()> {
    flags: SupFlags,
    max_children: Option<usize>,
    extra: A,
    start: StartOptions,
}

impl Default for DynamicOptions<()> {
    fn default() -> Self {
        DynamicOptions {
            flags: SupFlags::default(),
            max_children: None,
            extra: (),
            start: StartOptions::new(),
        }
    }
}

impl DynamicOptions<()> {
    /// The defaults: 3 restarts in 5 s, no `max_children`, no extra argument, no name.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<A> DynamicOptions<A> {
    /// Sets the flags. Only [`Strategy::OneForOne`] and [`AutoShutdown::Never`] are accepted;
    /// others fail the start with [`SpecError::DynamicStrategy`] or
    /// [`SpecError::DynamicAutoShutdown`].
    pub fn flags(mut self, flags: SupFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Sets the most restarts allowed within the period (default 3).
    pub fn intensity(mut self, restarts: u32) -> Self {
        self.flags.intensity = restarts;
        self
    }

    /// Sets the period restarts are counted in (default 5 s).
    pub fn period(mut self, period: Duration) -> Self {
        self.flags.period = period;
        self
    }

    /// Limits how many children may exist at once, those being restarted included (DS-02,
    /// DS-04): beyond, `start_child` fails with [`SupervisorError::MaxChildren`].
    pub fn max_children(mut self, max: usize) -> Self {
        self.max_children = Some(max);
        self
    }

    /// Sets the value given (cloned) to the start function of every child, on every start and
    /// restart (Elixir's `extra_arguments`, DS-03). Children are then started from
    /// [`ChildSpec<B>`](ChildSpec::with_arg).
    pub fn extra_arg<B>(self, extra: B) -> DynamicOptions<B> {
        DynamicOptions {
            flags: self.flags,
            max_children: self.max_children,
            extra,
            start: self.start,
        }
    }

    /// Registers the supervisor under a name.
    pub fn name(mut self, name: impl Into<ServerName>) -> Self {
        self.start = self.start.name(name);
        self
    }

    /// Sets the start options (name, start timeout).
    pub fn start_options(mut self, options: StartOptions) -> Self {
        self.start = options;
        self
    }

    fn check(&self) -> Result<(), SpecError> {
        if self.flags.strategy != Strategy::OneForOne {
            return Err(SpecError::DynamicStrategy(self.flags.strategy));
        }
        if self.flags.auto_shutdown != AutoShutdown::Never {
            return Err(SpecError::DynamicAutoShutdown(self.flags.auto_shutdown));
        }
        if self.max_children == Some(0) {
            return Err(SpecError::ZeroMaxChildren);
        }
        self.flags.check()
    }
}

async fn start<A: Clone + Send + 'static>(
    options: DynamicOptions<A>,
    link: bool,
) -> Result<DynamicSupervisorRef<A>, SupervisorStartError> {
    options.check()?;
    let start_options = options.start.clone().supervisor();
    let started = if link {
        DynamicServer::start_link_with(options, start_options).await
    } else {
        DynamicServer::start_with(options, start_options).await
    };
    started
        .map(|server| DynamicSupervisorRef { server })
        .map_err(SupervisorStartError::from_start)
}

impl DynamicSupervisor {
    /// Starts a dynamic supervisor linked to the calling process, with no children. Fails with
    /// [`SupervisorStartError::InvalidSpec`] for options it does not support (a strategy other
    /// than one-for-one, an auto-shutdown, a zero period or `max_children`).
    pub fn start_link<A: Clone + Send + 'static>(
        options: DynamicOptions<A>,
    ) -> impl Future<Output = Result<DynamicSupervisorRef<A>, SupervisorStartError>> + Send {
        start(options, true)
    }

    /// Starts a dynamic supervisor not linked to the caller.
    pub fn start<A: Clone + Send + 'static>(
        options: DynamicOptions<A>,
    ) -> impl Future<Output = Result<DynamicSupervisorRef<A>, SupervisorStartError>> + Send {
        start(options, false)
    }

    /// The child spec of a dynamic supervisor with these options, to nest it under another
    /// supervisor: [`ChildType::Supervisor`](super::ChildType::Supervisor), shutdown infinity,
    /// permanent.
    pub fn child_spec<A: Clone + Send + Sync + 'static>(
        id: impl Into<ChildId>,
        options: DynamicOptions<A>,
    ) -> ChildSpec {
        ChildSpec::supervisor(id, move || DynamicSupervisor::start_link(options.clone()))
    }
}

/// The management calls of a dynamic supervisor.
pub(crate) enum DynCall<A> {
    WhichChildren,
    CountChildren,
    StartChild(ChildSpec<A>),
    TerminateChild(Pid),
}

/// Their replies.
pub(crate) enum DynReply {
    Children(Vec<ChildInfo>),
    Counts(ChildCounts),
    Started(Result<Option<Pid>, SupervisorError>),
    Done(Result<(), SupervisorError>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DynState {
    Running,
    Restarting(u64),
}

struct DynChild<A> {
    spec: ChildSpec<A>,
    /// The child's pid if it runs, its last pid while it is being restarted: how it is known
    /// to `terminate_child` (as Elixir keys a restarting child by its old pid).
    key: Pid,
    state: DynState,
    backoff: BackoffState,
}

/// The state of a dynamic supervisor.
pub(crate) struct DynamicServer<A> {
    extra: A,
    max_children: Option<usize>,
    flags: SupFlags,
    intensity: Intensity,
    /// The children by order of first start.
    children: BTreeMap<u64, DynChild<A>>,
    by_pid: FxHashMap<Pid, u64>,
    next_seq: u64,
    next_token: u64,
}

impl<A: Clone + Send + 'static> DynamicServer<A> {
    fn remove(&mut self, seq: u64) {
        if let Some(child) = self.children.remove(&seq) {
            self.by_pid.remove(&child.key);
        }
    }

    fn stopping(child: &DynChild<A>) -> Option<Stopping> {
        match child.state {
            DynState::Running => Some(Stopping {
                id: child.spec.id().clone(),
                pid: child.key,
                restart: child.spec.restart_type(),
                shutdown: child.spec.shutdown_mode(),
            }),
            DynState::Restarting(_) => None,
        }
    }

    fn schedule_retry(&mut self, ctx: &mut Context<Self>, seq: u64) {
        self.next_token += 1;
        let token = self.next_token;
        let Some(child) = self.children.get_mut(&seq) else {
            return;
        };
        child.state = DynState::Restarting(token);
        TryAgain { seq, token }.schedule(ctx, child.spec.backoff_policy(), &mut child.backoff);
    }

    async fn child_exited(
        &mut self,
        ctx: &mut Context<Self>,
        seq: u64,
        reason: ExitReason,
    ) -> Flow {
        let Some(child) = self.children.get(&seq) else {
            return Flow::Continue;
        };
        report_child_terminated(ctx.pid(), child.spec.id(), child.key, &reason);
        if !child.spec.restart_type().restarts_after(&reason) {
            self.remove(seq);
            return Flow::Continue;
        }
        if child.spec.backoff_policy().is_some() {
            self.schedule_retry(ctx, seq);
            return Flow::Continue;
        }
        self.restart_now(ctx, seq).await
    }

    /// Counts a restart and restarts the child (DS-04).
    async fn restart_now(&mut self, ctx: &mut Context<Self>, seq: u64) -> Flow {
        let Some(child) = self.children.get(&seq) else {
            return Flow::Continue;
        };
        if !self.intensity.add_restart() {
            report_max_intensity(ctx.pid(), child.spec.id(), &self.flags);
            self.remove(seq);
            return Flow::Shutdown;
        }
        let outcome = child.spec.start_with(self.extra.clone()).await;
        match outcome {
            Ok(Some(pid)) => {
                if let Some(child) = self.children.get_mut(&seq) {
                    report_child_started(ctx.pid(), child.spec.id(), pid, true);
                    let old = std::mem::replace(&mut child.key, pid);
                    child.state = DynState::Running;
                    child.backoff.started();
                    self.by_pid.remove(&old);
                    self.by_pid.insert(pid, seq);
                }
            }
            // A restart that is ignored removes the child (SUP-21).
            Ok(None) => self.remove(seq),
            Err(e) => {
                if let Some(child) = self.children.get(&seq) {
                    report_start_error(ctx.pid(), child.spec.id(), &e);
                }
                self.schedule_retry(ctx, seq);
            }
        }
        Flow::Continue
    }

    async fn start_child(
        &mut self,
        ctx: &mut Context<Self>,
        spec: ChildSpec<A>,
    ) -> Result<Option<Pid>, SupervisorError> {
        if spec.is_significant() {
            return Err(SupervisorError::InvalidSpec(SpecError::DynamicSignificant(
                spec.id().clone(),
            )));
        }
        spec.check(AutoShutdown::Never)
            .map_err(SupervisorError::InvalidSpec)?;
        if self
            .max_children
            .is_some_and(|max| self.children.len() >= max)
        {
            return Err(SupervisorError::MaxChildren);
        }
        match spec.start_with(self.extra.clone()).await {
            Ok(Some(pid)) => {
                report_child_started(ctx.pid(), spec.id(), pid, false);
                let seq = self.next_seq;
                self.next_seq += 1;
                let mut backoff = BackoffState::default();
                backoff.started();
                self.children.insert(
                    seq,
                    DynChild {
                        spec,
                        key: pid,
                        state: DynState::Running,
                        backoff,
                    },
                );
                self.by_pid.insert(pid, seq);
                Ok(Some(pid))
            }
            // An ignored start stores nothing (DS-02).
            Ok(None) => Ok(None),
            Err(e) => Err(SupervisorError::StartFailed(e)),
        }
    }

    async fn terminate_child(
        &mut self,
        ctx: &mut Context<Self>,
        pid: Pid,
    ) -> Result<(), SupervisorError> {
        let seq = *self.by_pid.get(&pid).ok_or(SupervisorError::NotFound)?;
        if let Some(stopping) = self.children.get(&seq).and_then(Self::stopping) {
            stop_child(ctx, &stopping).await;
        }
        self.remove(seq);
        Ok(())
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        self.children
            .values()
            .map(|c| {
                let status = match c.state {
                    DynState::Running => ChildStatus::Running(c.key),
                    DynState::Restarting(_) => ChildStatus::Restarting,
                };
                ChildInfo::new(c.spec.id().clone(), status, c.spec.child_type())
            })
            .collect()
    }

    fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for c in self.children.values() {
            let active = c.state == DynState::Running && crate::is_alive(c.key);
            counts.add(c.spec.child_type(), active);
        }
        counts
    }
}

fn flow_action<A: Clone + Send + 'static>(flow: Flow) -> Action<DynamicServer<A>> {
    match flow {
        Flow::Continue => Action::NoReply,
        Flow::Shutdown => Action::Stop(ExitReason::Shutdown),
    }
}

impl<A: Clone + Send + 'static> GenServer for DynamicServer<A> {
    type Args = DynamicOptions<A>;
    type Call = DynCall<A>;
    type Reply = DynReply;
    type Cast = ();
    type Continue = ();

    async fn init(options: DynamicOptions<A>, ctx: &mut Context<Self>) -> Init<Self> {
        ctx.trap_exit(true);
        Init::Ok(DynamicServer {
            extra: options.extra,
            max_children: options.max_children,
            flags: options.flags,
            intensity: Intensity::new(options.flags.intensity, options.flags.period),
            children: BTreeMap::new(),
            by_pid: FxHashMap::default(),
            next_seq: 0,
            next_token: 0,
        })
    }

    async fn handle_call(
        &mut self,
        request: DynCall<A>,
        ctx: &mut Context<Self>,
    ) -> CallResult<Self> {
        let reply = match request {
            DynCall::WhichChildren => DynReply::Children(self.which_children()),
            DynCall::CountChildren => DynReply::Counts(self.count_children()),
            DynCall::StartChild(spec) => DynReply::Started(self.start_child(ctx, spec).await),
            DynCall::TerminateChild(pid) => DynReply::Done(self.terminate_child(ctx, pid).await),
        };
        CallResult::Reply(reply)
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) -> Action<Self> {
        match info {
            Info::Exit(signal) => {
                match signal
                    .from()
                    .and_then(|from| self.by_pid.get(&from).copied())
                {
                    Some(seq)
                        if self
                            .children
                            .get(&seq)
                            .is_some_and(|c| c.state == DynState::Running) =>
                    {
                        let flow = self.child_exited(ctx, seq, signal.reason().clone()).await;
                        flow_action(flow)
                    }
                    _ => Action::NoReply,
                }
            }
            Info::Message(m) => match m.downcast::<TryAgain>() {
                Ok(again) => {
                    let due = self
                        .children
                        .get(&again.seq)
                        .is_some_and(|c| c.state == DynState::Restarting(again.token));
                    if due {
                        flow_action(self.restart_now(ctx, again.seq).await)
                    } else {
                        Action::NoReply
                    }
                }
                Err(m) => {
                    crate::gen_server::unexpected_info::<Self>(ctx.pid(), &Info::Message(m));
                    Action::NoReply
                }
            },
            other => {
                crate::gen_server::unexpected_info::<Self>(ctx.pid(), &other);
                Action::NoReply
            }
        }
    }

    /// Stops every child at once, each per its shutdown (DS-07).
    async fn terminate(&mut self, _reason: &ExitReason, ctx: &mut Context<Self>) {
        let stopping: Vec<Stopping> = self.children.values().filter_map(Self::stopping).collect();
        stop_concurrently(ctx, &stopping).await;
        self.children.clear();
        self.by_pid.clear();
    }
}

/// A typed handle to a running [`DynamicSupervisor`] whose children take an extra argument of
/// type `A` (`()` unless set with [`DynamicOptions::extra_arg`]).
///
/// Cheap to clone. The calls wait without a time limit; a call to a supervisor that is not
/// running returns [`SupervisorError::NoProc`].
pub struct DynamicSupervisorRef<A: Clone + Send + 'static = ()> {
    server: ServerRef<DynamicServer<A>>,
}

impl<A: Clone + Send + 'static> Clone for DynamicSupervisorRef<A> {
    fn clone(&self) -> Self {
        DynamicSupervisorRef {
            server: self.server.clone(),
        }
    }
}

impl<A: Clone + Send + 'static> PartialEq for DynamicSupervisorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl<A: Clone + Send + 'static> Eq for DynamicSupervisorRef<A> {}

impl<A: Clone + Send + 'static> fmt::Debug for DynamicSupervisorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynamicSupervisorRef{}", self.pid())
    }
}

impl<A: Clone + Send + 'static> DynamicSupervisorRef<A> {
    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.server.pid()
    }

    /// Recovers the handle from a pid, checking that it is a live dynamic supervisor with this
    /// extra argument type.
    pub fn from_pid(pid: Pid) -> Result<Self, RefError> {
        ServerRef::from_pid(pid).map(|server| DynamicSupervisorRef { server })
    }

    /// The dynamic supervisor registered under a local name, if it is one.
    pub fn whereis(name: impl Into<Name>) -> Option<Self> {
        ServerRef::whereis(name).map(|server| DynamicSupervisorRef { server })
    }

    /// Whether the supervisor is alive.
    pub fn is_alive(&self) -> bool {
        self.server.is_alive()
    }

    async fn call(&self, request: DynCall<A>) -> Result<DynReply, SupervisorError> {
        Ok(self.server.call_timeout(request, Duration::MAX).await?)
    }

    /// Starts a child from `spec`, its start function given a clone of the supervisor's extra
    /// argument (DS-02, DS-03). `Ok(Some(pid))` once started; `Ok(None)` if the start was
    /// ignored (nothing is kept). The supervisor does nothing else while the child starts.
    ///
    /// Errors: [`MaxChildren`](SupervisorError::MaxChildren),
    /// [`StartFailed`](SupervisorError::StartFailed) (with
    /// [`ChildStartError::AlreadyStarted`] for a name clash),
    /// [`InvalidSpec`](SupervisorError::InvalidSpec) (a significant child, a start-once child
    /// that is not temporary, a bad backoff).
    pub async fn start_child(&self, spec: ChildSpec<A>) -> Result<Option<Pid>, SupervisorError> {
        match self.call(DynCall::StartChild(spec)).await? {
            DynReply::Started(started) => started,
            _ => unreachable!("the supervisor answers start_child with the start"),
        }
    }

    /// Stops the child `pid` per its shutdown spec, waits until it has ended, and forgets it
    /// (DS-06). A child being restarted is known by its last pid, and stops being restarted.
    /// Error: [`NotFound`](SupervisorError::NotFound) if `pid` is not a child — also for a pid
    /// that was a child and has ended, as in Elixir (OTP's `simple_one_for_one` answers `ok`
    /// for that one).
    pub async fn terminate_child(&self, pid: Pid) -> Result<(), SupervisorError> {
        match self.call(DynCall::TerminateChild(pid)).await? {
            DynReply::Done(done) => done,
            _ => unreachable!("the supervisor answers terminate_child with its outcome"),
        }
    }

    /// The children, in the order they were first started, each running (with its pid) or
    /// restarting (DS-05).
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        match self.call(DynCall::WhichChildren).await? {
            DynReply::Children(children) => Ok(children),
            _ => unreachable!("the supervisor answers which_children with the children"),
        }
    }

    /// How many children there are: `specs` all of them, `active` those running (DS-05).
    pub async fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        match self.call(DynCall::CountChildren).await? {
            DynReply::Counts(counts) => Ok(counts),
            _ => unreachable!("the supervisor answers count_children with the counts"),
        }
    }

    /// Stops the supervisor with reason `normal`, waiting without a time limit: all children
    /// are stopped at once first, each per its shutdown spec (DS-07).
    pub async fn stop(&self) -> Result<(), StopError> {
        self.server.stop(ExitReason::Normal).await
    }

    /// Stops the supervisor with `reason`, waiting at most `timeout` until it has ended.
    pub async fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<(), StopError> {
        self.server.stop_timeout(reason, timeout).await
    }

    /// Resolves with the supervisor's exit reason once it has ended.
    pub async fn wait_exit(&self) -> ExitReason {
        self.server.wait_exit().await
    }
}

impl<A: Clone + Send + 'static> IntoChildStart
    for Result<DynamicSupervisorRef<A>, SupervisorStartError>
{
    fn into_child_start(self) -> Result<Option<Pid>, ChildStartError> {
        match self {
            Ok(sup) => Ok(Some(sup.pid())),
            Err(SupervisorStartError::AlreadyStarted(pid)) => {
                Err(ChildStartError::AlreadyStarted(pid))
            }
            Err(e) => Err(ChildStartError::Failed(e.to_exit_reason())),
        }
    }
}
