//! `ConsumerSupervisor`: a consumer that starts one child per event, with at most `max_demand`
//! children per producer at a time, and asks for more as they end (CS-01).

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use otp_core::gen_server::CallError;
use otp_core::process::{ExitReason, Info, Pid};
use otp_core::supervisor::{ChildCounts, ChildType, IntoChildStart, Restart};
use rustc_hash::FxHashMap;
use tokio::time::Instant;

use crate::options::SubscribeOptions;
use crate::protocol::{Subscription, SubscriptionTag};
use crate::stage::handle::{StageRef, SubscribeTo};
use crate::stage::{Demand, Emit, Nothing, Stage, StageCallResult, StageContext, StageInit};

type StartFuture = Pin<Box<dyn Future<Output = Result<Option<Pid>, ExitReason>> + Send>>;
type StartFn<E> = Arc<dyn Fn(E) -> StartFuture + Send + Sync>;

/// What a [`ConsumerSupervisor`] starts for each event, and how it treats its children.
pub struct ConsumerSupervisorSpec<E> {
    start: StartFn<E>,
    restart: Restart,
    child_type: ChildType,
    max_restarts: usize,
    max_seconds: Duration,
    subscribe_to: Vec<SubscribeTo<E>>,
}

impl<E: Clone + Send + 'static> ConsumerSupervisorSpec<E> {
    /// Children started by `start(event)` — a function that starts a child **linked** to the
    /// calling process (a server's `start_link`, `spawn_link`), as a supervisor's child spec
    /// does. Restart `temporary`; at most 3 restarts in 5 s.
    pub fn new<F, Fut>(start: F) -> Self
    where
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoChildStart,
    {
        let start = Arc::new(start);
        ConsumerSupervisorSpec {
            start: Arc::new(move |event| {
                let start = start.clone();
                Box::pin(async move {
                    start(event)
                        .await
                        .into_child_start()
                        .map_err(ExitReason::error)
                })
            }),
            restart: Restart::Temporary,
            child_type: ChildType::Worker,
            max_restarts: 3,
            max_seconds: Duration::from_secs(5),
            subscribe_to: Vec::new(),
        }
    }

    /// The children's restart type: `transient` or `temporary` (`permanent` is refused at
    /// start, as upstream: a child per event cannot run forever).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Whether the children are workers (the default) or supervisors. Only
    /// [`count_children`](StageRef::count_children) tells them apart (upstream's template
    /// `type`).
    pub fn child_type(mut self, child_type: ChildType) -> Self {
        self.child_type = child_type;
        self
    }

    /// At most `restarts` restarts within `within`; one more and the supervisor exits
    /// `shutdown`, taking its children.
    pub fn intensity(mut self, restarts: usize, within: Duration) -> Self {
        self.max_restarts = restarts;
        self.max_seconds = within;
        self
    }

    /// A producer to take events from.
    pub fn subscribe_to(mut self, to: SubscribeTo<E>) -> Self {
        self.subscribe_to.push(to);
        self
    }
}

impl<E> fmt::Debug for ConsumerSupervisorSpec<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumerSupervisorSpec")
            .field("restart", &self.restart)
            .field("child_type", &self.child_type)
            .field("max_restarts", &self.max_restarts)
            .field("max_seconds", &self.max_seconds)
            .field("subscribe_to", &self.subscribe_to)
            .finish_non_exhaustive()
    }
}

/// A child and what it was started for.
struct Child<E> {
    event: E,
    producer: SubscriptionTag,
}

/// The message a [`ConsumerSupervisor`] sends itself to try again a restart that failed:
/// the old pid of the child being restarted (upstream's `{:"$gen_restart", pid}`).
struct RetryRestart(Pid);

/// One producer's subscription: its handle and demand.
struct Producer<E> {
    sub: Subscription<E>,
    max: usize,
    min: usize,
    /// Children started for it and still running (restarting ones included).
    live: usize,
    /// Asked for and not yet received.
    outstanding: usize,
}

/// A consumer stage that supervises one child per event (Elixir's `ConsumerSupervisor`,
/// CS-01): strategy one-for-one; at most `max_demand` children per producer at once; when the
/// running ones fall to `min_demand` it asks for more; a `transient` child that fails is
/// restarted with the same event, within the intensity; if that restart fails, it is tried
/// again (each try counts against the intensity) and the child counts as *restarting*
/// meanwhile, still against its producer's demand; children outlive their producer.
/// Its calls: [`StageRef::which_children`] and [`StageRef::count_children`]
/// ([`ConsumerSupervisorCall`]).
pub struct ConsumerSupervisor<E: Clone + Send + 'static> {
    start: StartFn<E>,
    restart: Restart,
    child_type: ChildType,
    max_restarts: usize,
    max_seconds: Duration,
    restarts: VecDeque<Instant>,
    children: FxHashMap<Pid, Child<E>>,
    /// Children whose restart failed and is being tried again, by their old pid.
    restarting: FxHashMap<Pid, Child<E>>,
    producers: FxHashMap<SubscriptionTag, Producer<E>>,
}

/// A call to a [`ConsumerSupervisor`]; [`StageRef::which_children`] and
/// [`StageRef::count_children`] make them and unwrap the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerSupervisorCall {
    /// The pids of its running children: [`ConsumerSupervisorReply::Children`].
    WhichChildren,
    /// How many children it has: [`ConsumerSupervisorReply::Counts`].
    CountChildren,
}

/// A [`ConsumerSupervisor`]'s reply to a [`ConsumerSupervisorCall`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerSupervisorReply {
    /// The pids of the running children (those being restarted have none), in no order.
    Children(Vec<Pid>),
    /// The counts of the children.
    Counts(ChildCounts),
}

impl<E: Clone + Send + 'static> StageRef<ConsumerSupervisor<E>> {
    /// The pids of the consumer supervisor's running children, in no order (children being
    /// restarted have none and are left out). A stopped supervisor is
    /// [`CallError::NoProc`].
    pub async fn which_children(&self) -> Result<Vec<Pid>, CallError> {
        match self.call(ConsumerSupervisorCall::WhichChildren).await? {
            ConsumerSupervisorReply::Children(pids) => Ok(pids),
            ConsumerSupervisorReply::Counts(_) => Err(CallError::WrongReply),
        }
    }

    /// How many children the consumer supervisor has (CS-01, upstream's
    /// `ConsumerSupervisor.count_children/1`), in the shape otp-core's supervisors give:
    ///
    /// - `specs` is always 1: the one template every child is started from (as upstream, and as
    ///   a `simple_one_for_one` supervisor, SUP-09);
    /// - `active`: the children running (alive), not counting those being restarted — a
    ///   transient child whose restart failed and is tried again;
    /// - `workers` (or `supervisors`, by [`ConsumerSupervisorSpec::child_type`]): all the
    ///   children, those being restarted included; the other one is 0.
    ///
    /// A child that has ended but whose exit the supervisor has not handled yet is counted
    /// in `workers` but not in `active`. A stopped supervisor is [`CallError::NoProc`].
    ///
    /// `assert_eq!(sup.count_children().await?.active, 3);`
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        match self.call(ConsumerSupervisorCall::CountChildren).await? {
            ConsumerSupervisorReply::Counts(counts) => Ok(counts),
            ConsumerSupervisorReply::Children(_) => Err(CallError::WrongReply),
        }
    }
}

/// The counts of [`StageRef::count_children`], from the number of children running, those
/// being restarted, and their type.
fn child_counts(
    running: impl Iterator<Item = Pid>,
    restarting: usize,
    child_type: ChildType,
) -> ChildCounts {
    let mut counts = ChildCounts::default();
    counts.specs = 1;
    let mut all = restarting;
    for pid in running {
        all += 1;
        if otp_core::process::is_alive(pid) {
            counts.active += 1;
        }
    }
    match child_type {
        ChildType::Worker => counts.workers = all,
        ChildType::Supervisor => counts.supervisors = all,
    }
    counts
}

impl<E: Clone + Send + 'static> ConsumerSupervisor<E> {
    /// Starts a child for `event`: `Ok(true)` if it runs, `Ok(false)` if it chose not to
    /// (ignore), `Err` (logged) if its start failed.
    async fn start_child(
        &mut self,
        event: E,
        producer: SubscriptionTag,
        ctx: &mut StageContext<Self>,
    ) -> Result<bool, ExitReason> {
        match (self.start)(event.clone()).await {
            Ok(Some(pid)) => {
                self.children.insert(pid, Child { event, producer });
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(reason) => {
                tracing::error!(
                    pid = %ctx.pid(),
                    "ConsumerSupervisor failed to start a child: {reason}"
                );
                Err(reason)
            }
        }
    }

    /// Restarts `child` (whose pid was `old`), if the intensity allows: if its start fails,
    /// it is *restarting* and tried again from a message to itself (upstream's
    /// `{:"$gen_restart", pid}`), still counted against its producer's demand.
    async fn restart_child(
        &mut self,
        old: Pid,
        child: Child<E>,
        ctx: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        if !self.restart_allowed() {
            tracing::error!(
                pid = %ctx.pid(),
                "ConsumerSupervisor reached its maximum restart intensity: it shuts down"
            );
            return Emit::Stop(ExitReason::Shutdown);
        }
        let producer = child.producer;
        match self.start_child(child.event.clone(), producer, ctx).await {
            Ok(true) => {}
            Ok(false) => self.child_gone(producer),
            Err(_) => {
                self.restarting.insert(old, child);
                let _ = otp_core::name::send(ctx.pid(), RetryRestart(old));
            }
        }
        Emit::none()
    }

    /// A child of `producer` is gone for good: ask for more once few enough are left.
    fn child_gone(&mut self, producer: SubscriptionTag) {
        let Some(p) = self.producers.get_mut(&producer) else {
            return;
        };
        p.live = p.live.saturating_sub(1);
        let running = p.live + p.outstanding;
        if running <= p.min {
            let ask = p.max - running;
            p.outstanding += ask;
            let _ = p.sub.ask(ask);
        }
    }

    /// Records a restart; `false` if that makes too many within the period.
    fn restart_allowed(&mut self) -> bool {
        let now = Instant::now();
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.max_seconds)
        {
            self.restarts.pop_front();
        }
        self.restarts.push_back(now);
        self.restarts.len() <= self.max_restarts
    }
}

impl<E: Clone + Send + 'static> Stage for ConsumerSupervisor<E> {
    type Args = ConsumerSupervisorSpec<E>;
    type In = E;
    type Out = Nothing;
    type Call = ConsumerSupervisorCall;
    type Reply = ConsumerSupervisorReply;
    type Cast = ();

    async fn init(spec: Self::Args, ctx: &mut StageContext<Self>) -> StageInit<Self> {
        if spec.restart == Restart::Permanent {
            return StageInit::Stop(ExitReason::error(
                "a ConsumerSupervisor's children cannot be permanent: use transient or temporary",
            ));
        }
        ctx.trap_exit(true);
        StageInit::Consumer(
            ConsumerSupervisor {
                start: spec.start,
                restart: spec.restart,
                child_type: spec.child_type,
                max_restarts: spec.max_restarts,
                max_seconds: spec.max_seconds,
                restarts: VecDeque::new(),
                children: FxHashMap::default(),
                restarting: FxHashMap::default(),
                producers: FxHashMap::default(),
            },
            spec.subscribe_to,
        )
    }

    async fn handle_subscribe_producer(
        &mut self,
        producer: &Subscription<E>,
        options: &SubscribeOptions,
        _: &mut StageContext<Self>,
    ) -> Demand {
        let (max, min) = options.demand().unwrap_or((1, 0));
        let _ = producer.ask(max);
        self.producers.insert(
            producer.tag(),
            Producer {
                sub: producer.clone(),
                max,
                min,
                live: 0,
                outstanding: max,
            },
        );
        Demand::Manual
    }

    async fn handle_events(
        &mut self,
        events: Vec<E>,
        from: &Subscription<E>,
        ctx: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        let tag = from.tag();
        for event in events {
            if let Some(p) = self.producers.get_mut(&tag) {
                p.outstanding = p.outstanding.saturating_sub(1);
                p.live += 1;
            }
            if self.start_child(event, tag, ctx).await != Ok(true) {
                // Nothing runs for it: it counts as ended at once.
                self.child_gone(tag);
            }
        }
        Emit::none()
    }

    async fn handle_cancel(
        &mut self,
        ended: crate::stage::Ended<'_, E>,
        _: &crate::protocol::Cancel,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        if let crate::stage::Ended::Producer(sub) = ended {
            // Its children stay; they are no longer counted against any demand.
            self.producers.remove(&sub.tag());
        }
        Emit::none()
    }

    async fn handle_call(
        &mut self,
        request: ConsumerSupervisorCall,
        _: &mut StageContext<Self>,
    ) -> StageCallResult<Self> {
        match request {
            ConsumerSupervisorCall::WhichChildren => StageCallResult::Reply(
                ConsumerSupervisorReply::Children(self.children.keys().copied().collect()),
                Vec::new(),
            ),
            ConsumerSupervisorCall::CountChildren => StageCallResult::Reply(
                ConsumerSupervisorReply::Counts(child_counts(
                    self.children.keys().copied(),
                    self.restarting.len(),
                    self.child_type,
                )),
                Vec::new(),
            ),
        }
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut StageContext<Self>) -> Emit<Nothing> {
        let signal = match info {
            Info::Exit(signal) => signal,
            Info::Message(m) => {
                if let Ok(RetryRestart(old)) = m.downcast::<RetryRestart>()
                    && let Some(child) = self.restarting.remove(&old)
                {
                    return self.restart_child(old, child, ctx).await;
                }
                return Emit::none();
            }
            _ => return Emit::none(),
        };
        let Some(from) = signal.from() else {
            return Emit::none();
        };
        if ctx.parent() == Some(from) {
            return Emit::Stop(signal.reason().clone());
        }
        let Some(child) = self.children.remove(&from) else {
            return Emit::none();
        };
        let reason = signal.reason();
        if self.restart.restarts_after(reason) {
            return self.restart_child(from, child, ctx).await;
        }
        self.child_gone(child.producer);
        Emit::none()
    }

    async fn terminate(&mut self, reason: &ExitReason, ctx: &mut StageContext<Self>) {
        let reason = match reason {
            ExitReason::Normal => ExitReason::Shutdown,
            other => other.clone(),
        };
        for pid in self.children.keys() {
            ctx.exit(*pid, reason.clone());
        }
    }
}
