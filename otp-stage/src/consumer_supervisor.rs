//! `ConsumerSupervisor`: a consumer that starts one child per event, with at most `max_demand`
//! children per producer at a time, and asks for more as they end (CS-01).

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use otp_core::process::{ExitReason, Info, Pid};
use otp_core::supervisor::{IntoChildStart, Restart};
use rustc_hash::FxHashMap;
use tokio::time::Instant;

use crate::options::SubscribeOptions;
use crate::protocol::{Subscription, SubscriptionTag};
use crate::stage::handle::SubscribeTo;
use crate::stage::{Demand, Emit, Nothing, Stage, StageCallResult, StageContext, StageInit};

type StartFuture = Pin<Box<dyn Future<Output = Result<Option<Pid>, ExitReason>> + Send>>;
type StartFn<E> = Arc<dyn Fn(E) -> StartFuture + Send + Sync>;

/// What a [`ConsumerSupervisor`] starts for each event, and how it treats its children.
pub struct ConsumerSupervisorSpec<E> {
    start: StartFn<E>,
    restart: Restart,
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
/// restarted with the same event, within the intensity; children outlive their producer.
/// Its calls: [`ConsumerSupervisorCall`].
pub struct ConsumerSupervisor<E: Clone + Send + 'static> {
    start: StartFn<E>,
    restart: Restart,
    max_restarts: usize,
    max_seconds: Duration,
    restarts: VecDeque<Instant>,
    children: FxHashMap<Pid, Child<E>>,
    producers: FxHashMap<SubscriptionTag, Producer<E>>,
}

/// A call to a [`ConsumerSupervisor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerSupervisorCall {
    /// The pids of its running children.
    WhichChildren,
}

impl<E: Clone + Send + 'static> ConsumerSupervisor<E> {
    async fn start_child(
        &mut self,
        event: E,
        producer: SubscriptionTag,
        ctx: &mut StageContext<Self>,
    ) -> bool {
        match (self.start)(event.clone()).await {
            Ok(Some(pid)) => {
                self.children.insert(pid, Child { event, producer });
                true
            }
            Ok(None) => false,
            Err(reason) => {
                tracing::error!(
                    pid = %ctx.pid(),
                    "ConsumerSupervisor failed to start a child: {reason}"
                );
                false
            }
        }
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
    type Reply = Vec<Pid>;
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
                max_restarts: spec.max_restarts,
                max_seconds: spec.max_seconds,
                restarts: VecDeque::new(),
                children: FxHashMap::default(),
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
            if !self.start_child(event, tag, ctx).await {
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
            ConsumerSupervisorCall::WhichChildren => {
                StageCallResult::Reply(self.children.keys().copied().collect(), Vec::new())
            }
        }
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut StageContext<Self>) -> Emit<Nothing> {
        let Info::Exit(signal) = info else {
            return Emit::none();
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
            if !self.restart_allowed() {
                tracing::error!(
                    pid = %ctx.pid(),
                    "ConsumerSupervisor reached its maximum restart intensity: it shuts down"
                );
                return Emit::Stop(ExitReason::Shutdown);
            }
            let producer = child.producer;
            if self.start_child(child.event, producer, ctx).await {
                return Emit::none();
            }
            self.child_gone(producer);
            return Emit::none();
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
