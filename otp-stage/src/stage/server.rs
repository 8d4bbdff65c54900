//! The process behind every stage: a `GenServer` that speaks the stage protocol (GST-02) around
//! the user's [`Stage`].

use std::collections::VecDeque;
use std::sync::Arc;

use otp_core::gen_server::{Action, CallResult, Context, GenServer, Init, ServerRef};
use otp_core::process::{ExitReason, Info, MonitorRef, Pid};

use super::handle::SubscribeTo;
use super::stats::StageStats;
use super::{Demand, Emit, Ended, Kind, Stage, StageCallResult, StageInit};
use crate::dispatcher::{ConsumerEntry, Dispatcher, PartitionLayout};
use crate::error::StageError;
use crate::events;
use crate::options::{BufferKeep, CancelMode, DemandMode};
use crate::producer::ProducerOptions;
use crate::protocol::{
    Cancel, ConsumerRef, Credit, Downstream, PartitionKey, SubscribeRequest, Subscription,
    SubscriptionTag, ToConsumer, ToProducer, Upstream,
};

/// A call to a stage's process (made through [`StageRef`](crate::StageRef)).
pub struct StageCall<S: Stage>(pub(crate) CallKind<S>);

/// A stage's reply (read through [`StageRef`](crate::StageRef)).
pub struct StageReply<S: Stage>(pub(crate) ReplyKind<S>);

/// A cast to a stage's process (made through [`StageRef`](crate::StageRef) and the protocol).
pub struct StageCast<S: Stage>(pub(crate) CastKind<S>);

pub(crate) enum CallKind<S: Stage> {
    /// The user's call.
    User(S::Call),
    /// Subscribe this stage (a consumer) to a producer (boxed, as every rare and large
    /// message: a stage's messages are as large as the largest, and the events' are small).
    Subscribe(Box<SubscribeTo<S::In>>),
    /// Cancel one of this stage's subscriptions and subscribe it anew (GST-10).
    Resubscribe(Box<Resubscription<S::In>>),
    /// The stage's kind.
    Kind,
    /// How many events the producer holds in its buffer.
    EstimateBuffered,
    /// Send a message to every consumer after the events already buffered, and reply once it
    /// is queued (GST-12's `sync_info`).
    Info(InfoSend),
}

pub(crate) enum ReplyKind<S: Stage> {
    /// The user's reply.
    User(S::Reply),
    /// The subscription's tag, or why it was refused.
    Subscribed(Result<SubscriptionTag, StageError>),
    /// The stage's kind, and its partitions if it has a partition dispatcher.
    Kind(Kind, Option<PartitionLayout>),
    /// A count.
    Count(usize),
    /// Done.
    Done,
}

pub(crate) enum CastKind<S: Stage> {
    /// A consumer's message to this stage as its producer.
    FromConsumer(ToProducer<S::Out>),
    /// A producer's message to this stage as its consumer.
    FromProducer(ToConsumer<S::In>),
    /// Any other cast (apart, so that the protocol's messages are handled a future less deep).
    Other(OtherCast<S>),
}

pub(crate) enum OtherCast<S: Stage> {
    /// The user's cast.
    User(S::Cast),
    /// Set the producer's demand mode (GST-08).
    Demand(DemandMode),
    /// Stop, `normal`, after the messages already queued (the bridges' own stops).
    Stop,
    /// Send a message to every consumer after the events already buffered (GST-12).
    Info(InfoSend),
    /// Subscribe this stage (a consumer) to a producer, without a reply (GST-10's
    /// `async_subscribe`).
    Subscribe(Box<SubscribeTo<S::In>>),
    /// Cancel one of this stage's subscriptions and subscribe it anew, without a reply
    /// (GST-10's `async_resubscribe`).
    Resubscribe(Box<Resubscription<S::In>>),
}

/// A subscription to cancel, with its reason, and the one to make instead (GST-10).
pub(crate) struct Resubscription<E> {
    pub(crate) tag: SubscriptionTag,
    pub(crate) reason: ExitReason,
    pub(crate) to: SubscribeTo<E>,
}

/// Sends one message to one consumer (a clone of it each time).
pub(crate) type InfoSend = Arc<dyn Fn(Pid) + Send + Sync>;

impl<S: Stage> StageCast<S> {
    pub(crate) fn stop() -> Self {
        StageCast(CastKind::Other(OtherCast::Stop))
    }

    pub(crate) fn user(message: S::Cast) -> Self {
        StageCast(CastKind::Other(OtherCast::User(message)))
    }
}

impl<S: Stage> Downstream<S::In> for ServerRef<StageServer<S>> {
    fn pid(&self) -> Pid {
        ServerRef::pid(self)
    }
    fn send(&self, message: ToConsumer<S::In>) -> bool {
        self.cast(StageCast(CastKind::FromProducer(message)))
            .is_ok()
            && self.is_alive()
    }
    #[inline]
    fn send_events(&self, tag: SubscriptionTag, events: Vec<S::In>) {
        // A consumer that is gone is removed when its monitor fires.
        let _ = self.cast(StageCast(CastKind::FromProducer(ToConsumer::Events {
            tag,
            events,
        })));
    }
}

impl<S: Stage> Upstream<S::Out> for ServerRef<StageServer<S>> {
    fn pid(&self) -> Pid {
        ServerRef::pid(self)
    }
    fn send(&self, message: ToProducer<S::Out>) -> bool {
        self.cast(StageCast(CastKind::FromConsumer(message)))
            .is_ok()
            && self.is_alive()
    }
    #[inline]
    fn send_ask(&self, tag: SubscriptionTag) -> bool {
        self.cast(StageCast(CastKind::FromConsumer(ToProducer::Ask { tag })))
            .is_ok()
            && self.is_alive()
    }
}

/// How a consumer's subscription asks.
enum Asking {
    Manual,
    Automatic {
        max: usize,
        min: usize,
        /// Asked for and not yet received.
        outstanding: usize,
    },
}

/// Whether `n` events of type `E`, emitted by the batches of one message, are gathered into one
/// vector to go out as one message: while that copies at most 4 KiB (sending a message costs
/// about as much as copying a few KiB; beyond, each batch's events go as they are).
#[inline]
fn gathers<E>(n: usize) -> bool {
    n.saturating_mul(std::mem::size_of::<E>()) <= 4096
}

/// One of a consumer's producers.
struct ProducerEntry<E> {
    sub: Subscription<E>,
    monitor: MonitorRef,
    cancel: CancelMode,
    asking: Asking,
    /// Cancelled by a resubscription: its end, when the producer confirms it, does not apply
    /// its cancel mode (GST-10).
    replaced: bool,
}

impl<E> ProducerEntry<E> {
    /// How many of `n` events `handle_events` takes at a time: `max - min` with automatic
    /// demand (logging events beyond the demand, GST-05), all of them with manual demand.
    #[inline]
    fn batch_size<S>(&self, n: usize, pid: Pid) -> usize {
        match &self.asking {
            Asking::Manual => usize::MAX,
            Asking::Automatic {
                max,
                min,
                outstanding,
            } => {
                if n > *outstanding {
                    tracing::error!(
                        %pid,
                        "GenStage consumer {} has received {} events in excess from {}",
                        std::any::type_name::<S>(),
                        n - *outstanding,
                        self.sub.producer()
                    );
                }
                (*max - *min).max(1)
            }
        }
    }
}

/// A consumer's producers by subscription tag: a vector searched in order (a stage has one or
/// a few, and the comparisons cost less than a hash), grown by half ([`crate::grow`]).
struct Producers<E>(Vec<(SubscriptionTag, ProducerEntry<E>)>);

impl<E> Producers<E> {
    #[inline]
    fn get(&self, tag: &SubscriptionTag) -> Option<&ProducerEntry<E>> {
        self.0.iter().find(|(t, _)| t == tag).map(|(_, e)| e)
    }

    #[inline]
    fn get_mut(&mut self, tag: &SubscriptionTag) -> Option<&mut ProducerEntry<E>> {
        self.0.iter_mut().find(|(t, _)| t == tag).map(|(_, e)| e)
    }

    /// Adds a subscription (its tag is new: tags are unique in the node).
    fn insert(&mut self, tag: SubscriptionTag, entry: ProducerEntry<E>) {
        crate::grow::push(&mut self.0, (tag, entry));
    }

    fn remove(&mut self, tag: &SubscriptionTag) -> Option<ProducerEntry<E>> {
        let i = self.0.iter().position(|(t, _)| t == tag)?;
        Some(self.0.remove(i).1)
    }

    fn iter(&self) -> impl Iterator<Item = (&SubscriptionTag, &ProducerEntry<E>)> {
        self.0.iter().map(|(t, e)| (t, e))
    }

    fn values(&self) -> impl Iterator<Item = &ProducerEntry<E>> {
        self.0.iter().map(|(_, e)| e)
    }
}

/// The producer side of a stage: its consumers, its buffer, its demand mode.
struct ProducerSide<E> {
    dispatcher: Dispatcher<E>,
    buffer: VecDeque<E>,
    options: ProducerOptions<E>,
    /// Demand held while the mode is `Accumulate`, one entry per ask (GST-08).
    accumulated: Vec<usize>,
    /// Events dropped by a full buffer so far.
    dropped: u64,
    /// Events ever put in the buffer, and ever taken out of it (sent or dropped): the
    /// positions of the info messages waiting behind buffered events.
    pushed: u64,
    left: u64,
    /// Info messages to send once the events buffered before them have left (GST-12).
    infos: VecDeque<(u64, InfoSend)>,
}

/// The consumer side of a stage: its producers; for a producer-consumer, the events that came
/// before its consumers asked for them.
struct ConsumerSide<E> {
    producers: Producers<E>,
    /// A producer-consumer's events not yet handled, with their subscription.
    queue: VecDeque<(SubscriptionTag, Vec<E>)>,
    /// A producer-consumer's demand from its consumers not yet met by handled events.
    demand: usize,
}

/// The process of a stage: the user's stage and the protocol's state around it. Started and
/// addressed through [`StageRef`](crate::StageRef).
pub struct StageServer<S: Stage> {
    user: S,
    kind: Kind,
    /// Its own pid, for logs and telemetry.
    pid: Pid,
    stats: Arc<StageStats>,
    /// The buffered and dropped counts last published in `stats`.
    published: (usize, u64),
    producer: ProducerSide<S::Out>,
    consumer: ConsumerSide<S::In>,
}

type Ctx<S> = Context<StageServer<S>>;

impl<S: Stage> GenServer for StageServer<S> {
    type Args = S::Args;
    type Call = StageCall<S>;
    type Reply = StageReply<S>;
    type Cast = StageCast<S>;
    type Continue = ();

    async fn init(args: S::Args, ctx: &mut Ctx<S>) -> Init<Self> {
        let (user, kind, options, subscribe_to) = match S::init(args, ctx).await {
            StageInit::Producer(s, o) => (s, Kind::Producer, o, Vec::new()),
            StageInit::ProducerConsumer(s, o, to) => (s, Kind::ProducerConsumer, o, to),
            StageInit::Consumer(s, to) => (s, Kind::Consumer, ProducerOptions::producer(), to),
            StageInit::Ignore => return Init::Ignore,
            StageInit::Stop(reason) => return Init::Stop(reason),
        };
        let stats = Arc::new(StageStats::new(kind));
        ctx.set_details(stats.clone());
        let mut server = StageServer {
            user,
            kind,
            pid: ctx.pid(),
            stats,
            published: (0, 0),
            producer: ProducerSide {
                dispatcher: Dispatcher::new(options.dispatcher.clone()),
                buffer: VecDeque::new(),
                accumulated: Vec::new(),
                options,
                dropped: 0,
                pushed: 0,
                left: 0,
                infos: VecDeque::new(),
            },
            consumer: ConsumerSide {
                producers: Producers(Vec::new()),
                queue: VecDeque::new(),
                demand: 0,
            },
        };
        for to in subscribe_to {
            if let Err(e) = server.subscribe(to, ctx).await {
                return Init::Stop(ExitReason::error(e));
            }
        }
        Init::Ok(server)
    }

    async fn handle_call(&mut self, request: StageCall<S>, ctx: &mut Ctx<S>) -> CallResult<Self> {
        match request.0 {
            CallKind::User(request) => match self.user.handle_call(request, ctx).await {
                StageCallResult::Reply(reply, events) => {
                    let action = self.emit(Emit::Events(events), ctx);
                    match self.settle(action, ctx).await {
                        Action::Stop(reason) => CallResult::ReplyThen(
                            StageReply(ReplyKind::User(reply)),
                            Action::Stop(reason),
                        ),
                        _ => CallResult::Reply(StageReply(ReplyKind::User(reply))),
                    }
                }
                StageCallResult::NoReply(events) => {
                    // The user took the caller's reply handle (or let the call time out).
                    let action = self.emit(Emit::Events(events), ctx);
                    CallResult::NoReply(self.settle(action, ctx).await)
                }
                StageCallResult::Stop(reason, reply) => {
                    CallResult::ReplyThen(StageReply(ReplyKind::User(reply)), Action::Stop(reason))
                }
            },
            CallKind::Subscribe(to) => {
                let result = if self.kind.consumes() {
                    self.subscribe(*to, ctx).await
                } else {
                    Err(StageError::NotAConsumer)
                };
                CallResult::Reply(StageReply(ReplyKind::Subscribed(result)))
            }
            CallKind::Resubscribe(r) => {
                let Resubscription { tag, reason, to } = *r;
                let result = self.resubscribe(tag, reason, to, ctx).await;
                CallResult::Reply(StageReply(ReplyKind::Subscribed(result)))
            }
            CallKind::Info(send) => {
                self.queue_info(send);
                CallResult::Reply(StageReply(ReplyKind::Done))
            }
            CallKind::Kind => {
                let partitions = self.producer.options.dispatcher.partitions();
                CallResult::Reply(StageReply(ReplyKind::Kind(self.kind, partitions)))
            }
            CallKind::EstimateBuffered => {
                CallResult::Reply(StageReply(ReplyKind::Count(self.producer.buffer.len())))
            }
        }
    }

    async fn handle_cast(&mut self, message: StageCast<S>, ctx: &mut Ctx<S>) -> Action<Self> {
        // The protocol's messages straight to their handlers, a future less deep than the rest.
        let action = match message.0 {
            CastKind::FromProducer(message) => self.on_producer_message(message, ctx).await,
            CastKind::FromConsumer(message) => self.on_consumer_message(message, ctx).await,
            CastKind::Other(other) => self.cast(other, ctx).await,
        };
        if self.producer.dispatcher.owes() {
            return self.settle(action, ctx).await;
        }
        self.publish();
        action
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut Ctx<S>) -> Action<Self> {
        let action = self.info(info, ctx).await;
        if self.producer.dispatcher.owes() {
            return self.settle(action, ctx).await;
        }
        self.publish();
        action
    }

    async fn terminate(&mut self, reason: &ExitReason, ctx: &mut Ctx<S>) {
        self.user.terminate(reason, ctx).await;
    }
}

impl<S: Stage> StageServer<S> {
    /// A cast other than the protocol's.
    async fn cast(&mut self, message: OtherCast<S>, ctx: &mut Ctx<S>) -> Action<Self> {
        match message {
            OtherCast::User(message) => {
                let emit = self.user.handle_cast(message, ctx).await;
                self.emit(emit, ctx)
            }
            OtherCast::Demand(mode) => self.set_demand(mode, ctx).await,
            OtherCast::Stop => Action::Stop(ExitReason::Normal),
            OtherCast::Info(send) => {
                self.queue_info(send);
                Action::NoReply
            }
            OtherCast::Subscribe(to) => {
                let result = if self.kind.consumes() {
                    self.subscribe(*to, ctx).await.map(drop)
                } else {
                    Err(StageError::NotAConsumer)
                };
                if let Err(e) = result {
                    tracing::error!(
                        pid = %ctx.pid(),
                        "GenStage stage {} could not subscribe: {e}",
                        std::any::type_name::<S>()
                    );
                }
                Action::NoReply
            }
            OtherCast::Resubscribe(r) => {
                let Resubscription { tag, reason, to } = *r;
                if let Err(e) = self.resubscribe(tag, reason, to, ctx).await {
                    tracing::error!(
                        pid = %ctx.pid(),
                        "GenStage stage {} could not resubscribe: {e}",
                        std::any::type_name::<S>()
                    );
                }
                Action::NoReply
            }
        }
    }

    /// Sends an info message to every consumer now if nothing is buffered, or once the events
    /// buffered before it have left (GST-12).
    fn queue_info(&mut self, send: InfoSend) {
        let p = &mut self.producer;
        if p.buffer.is_empty() {
            for c in p.dispatcher.consumers() {
                send(c.downstream.pid());
            }
        } else {
            p.infos.push_back((p.pushed, send));
        }
    }

    async fn info(&mut self, info: Info, ctx: &mut Ctx<S>) -> Action<Self> {
        if let Info::Down(down) = &info {
            let monitor = down.reference();
            let reason = down.reason().clone();
            if let Some(tag) = self.producer.dispatcher.by_monitor(monitor) {
                return self
                    .consumer_ended(tag, Cancel::Down(reason), false, ctx)
                    .await;
            }
            let producer = self
                .consumer
                .producers
                .iter()
                .find(|(_, p)| p.monitor == monitor)
                .map(|(tag, _)| *tag);
            if let Some(tag) = producer {
                return self.producer_ended(tag, Cancel::Down(reason), ctx).await;
            }
        }
        let emit = self.user.handle_info(info, ctx).await;
        self.emit(emit, ctx)
    }

    /// After a message: the demand a dispatcher found owed (a broadcast's filtered events) is
    /// acted on as an ask.
    async fn settle(&mut self, action: Action<Self>, ctx: &mut Ctx<S>) -> Action<Self> {
        if let Action::Stop(_) = action {
            return action;
        }
        if !self.producer.dispatcher.owes() {
            self.publish();
            return action;
        }
        loop {
            let owed = self.producer.dispatcher.take_owed();
            if owed == 0 {
                self.publish();
                return action;
            }
            if let Action::Stop(reason) = self.demanded(owed, ctx).await {
                return Action::Stop(reason);
            }
        }
    }
    /// Acts on what a callback decided: events go to the consumers (a consumer's are dropped
    /// with a warning, GST-11).
    #[inline]
    fn emit(&mut self, emit: Emit<S::Out>, ctx: &mut Ctx<S>) -> Action<Self> {
        match emit {
            Emit::Stop(reason) => Action::Stop(reason),
            Emit::Events(events) if events.is_empty() => Action::NoReply,
            Emit::Events(events) if !self.kind.produces() => {
                tracing::warn!(
                    pid = %ctx.pid(),
                    "GenStage consumer {} cannot emit events: {} dropped",
                    std::any::type_name::<S>(),
                    events.len()
                );
                Action::NoReply
            }
            Emit::Events(events) => {
                self.dispatch(events, self.pid);
                Action::NoReply
            }
        }
    }

    /// Sends events to the consumers that asked; buffers the rest (GST-07).
    fn dispatch(&mut self, events: Vec<S::Out>, pid: Pid) {
        let p = &mut self.producer;
        let left = if p.buffer.is_empty() {
            let left = p.dispatcher.dispatch(events, pid);
            let dropped = p.dispatcher.take_dropped();
            if dropped > 0 {
                events::dropped::<S>(pid, dropped, "partition");
            }
            left
        } else {
            // Earlier events wait in the buffer: these go after them.
            Some(events)
        };
        let Some(mut left) = left else {
            return;
        };
        let dropped = match (p.options.buffer_size, p.options.buffer_keep) {
            (None, _) => {
                p.pushed += left.len() as u64;
                p.buffer.extend(left);
                0
            }
            (Some(max), BufferKeep::Last) => {
                p.pushed += left.len() as u64;
                p.buffer.extend(left);
                let over = p.buffer.len().saturating_sub(max);
                p.buffer.drain(..over);
                p.left += over as u64;
                over
            }
            (Some(max), BufferKeep::First) => {
                let room = max.saturating_sub(p.buffer.len());
                let over = left.len().saturating_sub(room);
                left.truncate(room);
                p.pushed += left.len() as u64;
                p.buffer.extend(left);
                over
            }
        };
        Self::release_infos(p);
        if dropped > 0 {
            events::dropped::<S>(pid, dropped, "buffer");
            p.dropped += dropped as u64;
            tracing::warn!(
                %pid,
                dropped,
                "GenStage producer {} has discarded {dropped} events from buffer",
                std::any::type_name::<S>()
            );
        }
    }

    /// Keeps the figures `process_info` shows current: a few relaxed loads, and stores only
    /// when a figure changed.
    #[inline]
    fn publish(&mut self) {
        let now = (self.producer.buffer.len(), self.dropped());
        if now != self.published {
            self.published = now;
            self.stats.counts(now.0, now.1);
        }
    }

    /// Publishes the stage's producers and consumers (when a subscription starts or ends).
    fn publish_subscriptions(&self) {
        self.stats.producers(
            self.subscriptions()
                .into_iter()
                .map(|(_, pid)| pid)
                .collect(),
        );
        self.stats
            .consumers(self.consumers().into_iter().map(|c| c.pid).collect());
    }

    /// Sends the info messages whose buffered events have all left the buffer (GST-12).
    #[inline]
    fn release_infos(p: &mut ProducerSide<S::Out>) {
        if p.infos.is_empty() {
            return;
        }
        while p.infos.front().is_some_and(|(mark, _)| *mark <= p.left) {
            if let Some((_, send)) = p.infos.pop_front() {
                for c in p.dispatcher.consumers() {
                    send(c.downstream.pid());
                }
            }
        }
    }

    /// Subscribes this stage to a producer (GST-02, GST-10).
    async fn subscribe(
        &mut self,
        to: SubscribeTo<S::In>,
        ctx: &mut Ctx<S>,
    ) -> Result<SubscriptionTag, StageError> {
        let (max, min) = to.options.demand()?;
        let tag = SubscriptionTag::new();
        let monitor = ctx.monitor(to.producer.pid());
        let consumer: Arc<dyn Downstream<S::In>> = Arc::new(ctx.server_ref());
        let credit = Arc::new(Credit::default());
        to.producer
            .send(ToProducer::Subscribe(Box::new(SubscribeRequest {
                tag,
                consumer,
                credit: credit.clone(),
                options: to.options.clone(),
                selector: to.selector,
                partition: to.partition,
            })));
        let sub = Subscription {
            tag,
            producer: to.producer,
            credit,
        };
        let demand = self
            .user
            .handle_subscribe_producer(&sub, &to.options, ctx)
            .await;
        let asking = match demand {
            Demand::Manual => Asking::Manual,
            Demand::Automatic => {
                sub.request(max);
                Asking::Automatic {
                    max,
                    min,
                    outstanding: max,
                }
            }
        };
        self.consumer.producers.insert(
            tag,
            ProducerEntry {
                sub,
                monitor,
                cancel: to.options.cancel_mode(),
                asking,
                replaced: false,
            },
        );
        self.publish_subscriptions();
        Ok(tag)
    }

    /// Cancels subscription `tag` with `reason`, then subscribes anew (GST-10). An unknown
    /// `tag`, or bad options, change nothing.
    async fn resubscribe(
        &mut self,
        tag: SubscriptionTag,
        reason: ExitReason,
        to: SubscribeTo<S::In>,
        ctx: &mut Ctx<S>,
    ) -> Result<SubscriptionTag, StageError> {
        if !self.kind.consumes() {
            return Err(StageError::NotAConsumer);
        }
        to.options.demand()?;
        let Some(entry) = self
            .consumer
            .producers
            .get_mut(&tag)
            .filter(|e| !e.replaced)
        else {
            return Err(StageError::UnknownSubscription(tag));
        };
        entry.replaced = true;
        if let Asking::Automatic { outstanding, .. } = &mut entry.asking {
            // Out of reach: `ask_after` never finds it fallen to `min_demand`, so the events
            // still on their way are handled and nothing more is asked for.
            *outstanding = usize::MAX;
        }
        // The producer confirms after the events it sent on this subscription: they all come
        // before its end, and none is lost.
        entry.sub.cancel(reason);
        self.subscribe(to, ctx).await
    }

    /// A consumer's message: subscribe, ask or cancel.
    async fn on_consumer_message(
        &mut self,
        message: ToProducer<S::Out>,
        ctx: &mut Ctx<S>,
    ) -> Action<Self> {
        match message {
            ToProducer::Subscribe(request) => {
                let SubscribeRequest {
                    tag,
                    consumer,
                    credit,
                    options,
                    selector,
                    partition,
                } = *request;
                if !self.kind.produces() {
                    consumer.send(ToConsumer::Cancel {
                        tag,
                        reason: ExitReason::error(StageError::NotAProducer),
                    });
                    return Action::NoReply;
                }
                let partition = match partition {
                    None => None,
                    Some(PartitionKey::Index(p)) => Some(p),
                    // A name is looked up once, here; a dispatcher that does not partition
                    // ignores it, as it ignores a number.
                    Some(key @ PartitionKey::Name(_)) => {
                        match self.producer.options.dispatcher.partitions() {
                            None => None,
                            Some(layout) => match layout.resolve(Some(&key)) {
                                Ok(p) => Some(p),
                                Err(e) => {
                                    consumer.send(ToConsumer::Cancel {
                                        tag,
                                        reason: ExitReason::error(e),
                                    });
                                    return Action::NoReply;
                                }
                            },
                        }
                    }
                };
                let (max_demand, _) = options.demand().unwrap_or((1, 0));
                let pid = consumer.pid();
                let monitor = ctx.monitor(pid);
                let subscribed = self.producer.dispatcher.subscribe(ConsumerEntry {
                    tag,
                    downstream: consumer.clone(),
                    credit,
                    monitor,
                    demand: 0,
                    max_demand,
                    selector,
                    partition,
                });
                if let Err(reason) = subscribed {
                    ctx.demonitor(monitor);
                    consumer.send(ToConsumer::Cancel { tag, reason });
                    return Action::NoReply;
                }
                events::subscribed::<S>(ctx.pid(), pid, tag, max_demand);
                self.publish_subscriptions();
                self.user
                    .handle_subscribe_consumer(ConsumerRef { tag, pid }, &options, ctx)
                    .await;
                Action::NoReply
            }
            ToProducer::Ask { tag } => {
                let Some(asked) = self.producer.dispatcher.ask_credit(tag) else {
                    tracing::debug!(%tag, "GenStage producer got an ask for an unknown subscription");
                    return Action::NoReply;
                };
                // `None`: an earlier ask took this one's demand with its own.
                let Some(counter) = asked else {
                    return Action::NoReply;
                };
                self.demanded(counter, ctx).await
            }
            ToProducer::Cancel { tag, reason } => {
                self.consumer_ended(tag, Cancel::Cancelled(reason), true, ctx)
                    .await
            }
        }
    }

    /// `counter` more events were asked for: from the buffer first, then from the producer's
    /// `handle_demand`, or for a producer-consumer from the events it holds (GST-07).
    async fn demanded(&mut self, counter: usize, ctx: &mut Ctx<S>) -> Action<Self> {
        if self.producer.options.demand == DemandMode::Accumulate {
            self.producer.accumulated.push(counter);
            return Action::NoReply;
        }
        // The buffer first: as much of it as the consumers' demand takes now (GST-07).
        let p = &mut self.producer;
        let buffered = p.buffer.len();
        if buffered > 0 {
            let events: Vec<S::Out> = p.buffer.drain(..).collect();
            if let Some(left) = p.dispatcher.dispatch(events, self.pid) {
                p.buffer.extend(left);
            }
        }
        let taken = buffered - p.buffer.len();
        p.left += taken as u64;
        Self::release_infos(p);
        // A broadcast's counter already leaves out what the buffer holds.
        let counter = if p.dispatcher.counts_buffered() {
            counter
        } else {
            counter.saturating_sub(taken)
        };
        if counter == 0 {
            return Action::NoReply;
        }
        match self.kind {
            Kind::Producer => {
                events::demanded::<S>(self.pid, counter);
                let emit = self.user.handle_demand(counter, ctx).await;
                self.emit(emit, ctx)
            }
            _ => {
                events::demanded::<S>(self.pid, counter);
                self.consumer.demand += counter;
                while let Some((tag, events)) = self.next_queued() {
                    if let Action::Stop(reason) = self.consume(tag, events, ctx).await {
                        return Action::Stop(reason);
                    }
                }
                Action::NoReply
            }
        }
    }

    /// Sets the demand mode; going back to `Forward` acts on each held ask in turn (GST-08).
    async fn set_demand(&mut self, mode: DemandMode, ctx: &mut Ctx<S>) -> Action<Self> {
        self.producer.options.demand = mode;
        if mode == DemandMode::Forward {
            for counter in std::mem::take(&mut self.producer.accumulated) {
                if let Action::Stop(reason) = self.demanded(counter, ctx).await {
                    return Action::Stop(reason);
                }
            }
        }
        Action::NoReply
    }

    /// A consumer's subscription ended: it cancelled (`confirm`: tell it so) or went down.
    async fn consumer_ended(
        &mut self,
        tag: SubscriptionTag,
        why: Cancel,
        confirm: bool,
        ctx: &mut Ctx<S>,
    ) -> Action<Self> {
        let Some((entry, counter)) = self.producer.dispatcher.cancel(tag) else {
            return Action::NoReply;
        };
        ctx.demonitor(entry.monitor);
        if confirm {
            entry.downstream.send(ToConsumer::Cancel {
                tag,
                reason: why.reason().clone(),
            });
        }
        let consumer = ConsumerRef {
            tag,
            pid: entry.downstream.pid(),
        };
        events::cancelled::<S>(ctx.pid(), consumer.pid, tag, &why);
        self.publish_subscriptions();
        let emit = self
            .user
            .handle_cancel(Ended::Consumer(consumer), &why, ctx)
            .await;
        if let Action::Stop(reason) = self.emit(emit, ctx) {
            return Action::Stop(reason);
        }
        if counter > 0 {
            return self.demanded(counter, ctx).await;
        }
        Action::NoReply
    }

    /// A producer's message: events, or the end of the subscription.
    async fn on_producer_message(
        &mut self,
        message: ToConsumer<S::In>,
        ctx: &mut Ctx<S>,
    ) -> Action<Self> {
        match message {
            ToConsumer::Events { tag, events } => {
                if self.kind != Kind::ProducerConsumer {
                    return self.consume(tag, events, ctx).await;
                }
                // A producer-consumer handles events only as far as its consumers asked.
                if self.consumer.queue.is_empty() && events.len() <= self.consumer.demand {
                    self.consumer.demand -= events.len();
                    return self.consume(tag, events, ctx).await;
                }
                self.consumer.queue.push_back((tag, events));
                while let Some((tag, events)) = self.next_queued() {
                    if let Action::Stop(reason) = self.consume(tag, events, ctx).await {
                        return Action::Stop(reason);
                    }
                }
                Action::NoReply
            }
            ToConsumer::Cancel { tag, reason } => {
                self.producer_ended(tag, Cancel::Cancelled(reason), ctx)
                    .await
            }
        }
    }

    /// A producer-consumer's next events to handle: the oldest it holds, as many as its
    /// consumers asked for (the rest held on); `None` when it holds none or none was asked.
    ///
    /// Plain code, looped over by its callers around `consume`, so that handling a held batch
    /// is one future deep, not two.
    #[inline]
    fn next_queued(&mut self) -> Option<(SubscriptionTag, Vec<S::In>)> {
        if self.consumer.demand == 0 {
            return None;
        }
        let (tag, mut events) = self.consumer.queue.pop_front()?;
        if events.len() > self.consumer.demand {
            let rest = events.split_off(self.consumer.demand);
            self.consumer.queue.push_front((tag, rest));
        }
        self.consumer.demand -= events.len();
        Some((tag, events))
    }

    /// Hands events to `handle_events`, in batches of at most `max - min` with automatic
    /// demand, asking for more after each batch (GST-04, GST-05).
    ///
    /// One future for every batch of the message: the work before and after each
    /// `handle_events` is plain code ([`ProducerEntry::batch_size`], [`Self::handled`]).
    ///
    /// The events emitted while handling one message's batches go out together once the last
    /// is handled (or a callback stops the stage), up to 4 KiB of them ([`gathers`]): one
    /// message to each consumer instead of one per batch, in the same order. Upstream
    /// dispatches after each batch, so only a message the stage sends a consumer itself from a
    /// later batch's `handle_events` could overtake them.
    async fn consume(
        &mut self,
        tag: SubscriptionTag,
        events: Vec<S::In>,
        ctx: &mut Ctx<S>,
    ) -> Action<Self> {
        let Some(entry) = self.consumer.producers.get(&tag) else {
            tracing::debug!(%tag, "GenStage consumer got events for an unknown subscription");
            return Action::NoReply;
        };
        let batch = entry.batch_size::<S>(events.len(), ctx.pid());
        let n = events.len();
        if n <= batch {
            // The user's state and the subscription are distinct fields: both borrowed at once.
            let emit = self.user.handle_events(events, &entry.sub, ctx).await;
            return self.handled(tag, n, emit, ctx);
        }
        // The batches after the first, cut from the back (each cut moves its own events only),
        // so the first keeps the message's allocation; taken back in order.
        // Two batches (two asks that rode together) need no list, so no allocation for it.
        let mut events = events;
        let mut second = None;
        let mut later = Vec::new();
        if n <= 2 * batch {
            second = Some(events.split_off(batch));
        } else {
            later.reserve_exact((n - 1) / batch);
            while events.len() > batch {
                let cut = (events.len() - 1) / batch * batch;
                later.push(events.split_off(cut));
            }
        }
        let mut chunk = events;
        let mut out: Vec<S::Out> = Vec::new();
        loop {
            // Still subscribed: only this stage's own messages end a subscription.
            let Some(entry) = self.consumer.producers.get(&tag) else {
                return self.emit(Emit::Events(out), ctx);
            };
            let n = chunk.len();
            match self.user.handle_events(chunk, &entry.sub, ctx).await {
                Emit::Events(events) if out.is_empty() => out = events,
                Emit::Events(events) if gathers::<S::Out>(out.len() + events.len()) => {
                    out.extend(events)
                }
                Emit::Events(events) => {
                    // Too large to copy for a message less: what came before goes now.
                    let before = std::mem::replace(&mut out, events);
                    self.emit(Emit::Events(before), ctx);
                }
                Emit::Stop(reason) => {
                    // What the batches before emitted still goes out.
                    self.emit(Emit::Events(out), ctx);
                    return Action::Stop(reason);
                }
            }
            self.ask_after(tag, n);
            match second.take().or_else(|| later.pop()) {
                Some(next) => chunk = next,
                None => return self.emit(Emit::Events(out), ctx),
            }
        }
    }

    /// After `handle_events` took `n` events of subscription `tag`: its events go out and, with
    /// automatic demand, the stage asks again if the outstanding demand fell to `min_demand`.
    #[inline]
    fn handled(
        &mut self,
        tag: SubscriptionTag,
        n: usize,
        emit: Emit<S::Out>,
        ctx: &mut Ctx<S>,
    ) -> Action<Self> {
        let action = self.emit(emit, ctx);
        self.ask_after(tag, n);
        action
    }

    /// `handle_events` took `n` events of subscription `tag`: with automatic demand, ask again
    /// if the outstanding demand fell to `min_demand` (GST-04).
    #[inline]
    fn ask_after(&mut self, tag: SubscriptionTag, n: usize) {
        if let Some(entry) = self.consumer.producers.get_mut(&tag)
            && let Asking::Automatic {
                max,
                min,
                outstanding,
            } = &mut entry.asking
        {
            *outstanding = outstanding.saturating_sub(n);
            if *outstanding <= *min {
                let ask = *max - *outstanding;
                *outstanding = *max;
                entry.sub.request(ask);
            }
        }
    }

    /// A producer's subscription ended (GST-09): `handle_cancel`, then the cancel mode decides.
    async fn producer_ended(
        &mut self,
        tag: SubscriptionTag,
        why: Cancel,
        ctx: &mut Ctx<S>,
    ) -> Action<Self> {
        let Some(entry) = self.consumer.producers.remove(&tag) else {
            return Action::NoReply;
        };
        ctx.demonitor(entry.monitor);
        self.publish_subscriptions();
        self.consumer.queue.retain(|(t, _)| *t != tag);
        let emit = self
            .user
            .handle_cancel(Ended::Producer(&entry.sub), &why, ctx)
            .await;
        if let Action::Stop(reason) = self.emit(emit, ctx) {
            return Action::Stop(reason);
        }
        if !entry.replaced && entry.cancel.exits_on(why.reason()) {
            Action::Stop(why.reason().clone())
        } else {
            Action::NoReply
        }
    }

    /// The events a full buffer or a full partition queue dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.producer.dropped + self.producer.dispatcher.partition_dropped()
    }

    /// The options of the stage's subscriptions to producers, for introspection.
    pub(crate) fn subscriptions(&self) -> Vec<(SubscriptionTag, Pid)> {
        self.consumer
            .producers
            .values()
            .map(|p| (p.sub.tag, p.sub.producer()))
            .collect()
    }

    /// The stage's consumers.
    pub(crate) fn consumers(&self) -> Vec<ConsumerRef> {
        self.producer
            .dispatcher
            .consumers()
            .iter()
            .map(|c| ConsumerRef {
                tag: c.tag,
                pid: c.downstream.pid(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

    use super::*;
    use crate::stage::handle::StageRef;
    use crate::stage::{Nothing, StageContext};
    use crate::{Dispatch, SubscribeOptions};

    /// A producer that never emits on its own.
    struct Idle;

    impl Stage for Idle {
        type Args = ();
        type In = Nothing;
        type Out = u64;
        type Call = ();
        type Reply = ();
        type Cast = ();

        async fn init((): (), _: &mut StageContext<Self>) -> StageInit<Self> {
            StageInit::Producer(Idle, ProducerOptions::producer())
        }

        async fn handle_demand(&mut self, _: usize, _: &mut StageContext<Self>) -> Emit<u64> {
            Emit::none()
        }
    }

    /// A consumer that reports every batch.
    struct Report(UnboundedSender<Vec<u64>>);

    impl Stage for Report {
        type Args = UnboundedSender<Vec<u64>>;
        type In = u64;
        type Out = Nothing;
        type Call = ();
        type Reply = ();
        type Cast = ();

        async fn init(out: Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
            StageInit::Consumer(Report(out), Vec::new())
        }

        async fn handle_events(
            &mut self,
            events: Vec<u64>,
            _: &Subscription<u64>,
            _: &mut StageContext<Self>,
        ) -> Emit<Nothing> {
            let _ = self.0.send(events);
            Emit::none()
        }
    }

    /// GST-05: events beyond the demand are still delivered (an error is logged).
    #[tokio::test]
    async fn gst05_excess_events_are_delivered() {
        let producer = StageRef::<Idle>::start(()).await.unwrap();
        let (tx, mut rx) = unbounded_channel();
        let consumer = StageRef::<Report>::start(tx).await.unwrap();
        let options = SubscribeOptions::new().max_demand(2).min_demand(1);
        let tag = consumer.subscribe(&producer, options).await.unwrap();
        // A misbehaving producer: five events where two were asked.
        consumer
            .server()
            .cast(StageCast(CastKind::FromProducer(ToConsumer::Events {
                tag,
                events: vec![1, 2, 3, 4, 5],
            })))
            .unwrap_or_else(|_| panic!("the consumer's mailbox refused"));
        let mut got = Vec::new();
        while got.len() < 5 {
            got.extend(rx.recv().await.unwrap());
        }
        assert_eq!(got, vec![1, 2, 3, 4, 5]);
        assert!(consumer.is_alive());
    }

    /// The events of one message's batches are gathered while that copies at most 4 KiB.
    #[test]
    fn gathers_up_to_four_kib() {
        assert!(gathers::<u64>(512));
        assert!(!gathers::<u64>(513));
        assert!(gathers::<[u8; 4096]>(1));
        assert!(!gathers::<[u8; 4096]>(2));
        assert!(gathers::<()>(usize::MAX), "nothing to copy");
    }

    /// A consumer as its producer's dispatcher sees it, recording what it is sent.
    struct Probe(Pid, std::sync::Mutex<Vec<ToConsumer<u64>>>);

    impl Downstream<u64> for Probe {
        fn pid(&self) -> Pid {
            self.0
        }
        fn send(&self, message: ToConsumer<u64>) -> bool {
            self.1.lock().unwrap().push(message);
            true
        }
        fn send_events(&self, tag: SubscriptionTag, events: Vec<u64>) {
            self.send(ToConsumer::Events { tag, events });
        }
    }

    /// GST-02: a subscription's tag subscribing again is refused as duplicated; an ask on an
    /// unknown subscription is not taken as demand.
    #[tokio::test]
    async fn gst02_duplicated_and_unknown_subscriptions() {
        let producer = StageRef::<Idle>::start(()).await.unwrap();
        let me = producer.pid();
        // A monitor reference, made by a process of its own.
        let (tx, mut rx) = unbounded_channel();
        otp_core::process::spawn(move |p| async move {
            let _ = tx.send(p.monitor(me));
        });
        let monitor = rx.recv().await.unwrap();
        let mut d = Dispatcher::<u64>::new(Dispatch::demand());
        let probe = Arc::new(Probe(me, Default::default()));
        let entry = |tag| ConsumerEntry {
            credit: Arc::default(),
            tag,
            downstream: probe.clone() as Arc<dyn Downstream<u64>>,
            monitor,
            demand: 0,
            max_demand: 10,
            selector: None,
            partition: None,
        };
        let tag = SubscriptionTag::new();
        d.subscribe(entry(tag)).unwrap();
        assert_eq!(
            d.subscribe(entry(tag)).err(),
            Some(ExitReason::error("duplicated_subscription"))
        );
        assert_eq!(
            d.ask(SubscriptionTag::new(), 5),
            None,
            "unknown subscription"
        );
        assert_eq!(d.ask(tag, 5), Some(5));
        assert!(d.dispatch(vec![1, 2, 3], me).is_none());
        assert_eq!(
            d.dispatch(vec![4, 5, 6], me),
            Some(vec![6]),
            "only what was asked"
        );
    }
}
