//! A handle on a running stage: start it, subscribe it, call and cast it.

use std::fmt;
use std::sync::Arc;

use otp_core::gen_server::{CallError, GenServer, ServerRef, StartError, StartOptions, StopError};
use otp_core::process::{ExitReason, Pid};

use super::server::{
    CallKind, CastKind, OtherCast, ReplyKind, Resubscription, StageCall, StageCast, StageServer,
};
use super::{Kind, Stage};
use crate::dispatcher::PartitionLayout;
use crate::error::StageError;
use crate::options::{DemandMode, SubscribeOptions};
use crate::protocol::{PartitionKey, Selector, SubscriptionTag, Upstream};

/// A producer to subscribe to, with the subscription's options: what a consumer's `init` lists
/// (GenStage's `subscribe_to`) and [`StageRef::subscribe`] takes.
pub struct SubscribeTo<E> {
    pub(crate) producer: Arc<dyn Upstream<E>>,
    pub(crate) options: SubscribeOptions,
    pub(crate) selector: Option<Selector<E>>,
    pub(crate) partition: Option<PartitionKey>,
}

impl<E: Send + 'static> SubscribeTo<E> {
    /// A subscription to `producer`, a stage whose events are `E`.
    pub fn new<P: Stage<Out = E>>(producer: &StageRef<P>, options: SubscribeOptions) -> Self {
        SubscribeTo {
            producer: Arc::new(producer.server.clone()),
            options,
            selector: None,
            partition: None,
        }
    }

    /// With a broadcast dispatcher, only the events for which `keep` is true (GST-14).
    pub fn selector(mut self, keep: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.selector = Some(Arc::new(keep));
        self
    }

    /// With a partition dispatcher, the partition to consume, by number (GST-15). A dispatcher
    /// made with [`Dispatch::partition_named`](crate::Dispatch::partition_named) numbers its
    /// partitions in the order of their names.
    pub fn partition(mut self, partition: usize) -> Self {
        self.partition = Some(PartitionKey::Index(partition));
        self
    }

    /// With a partition dispatcher made by
    /// [`Dispatch::partition_named`](crate::Dispatch::partition_named), the partition to
    /// consume, by name (GST-15): `SubscribeTo::new(&orders, options).partition_named("eu")`.
    /// A name the dispatcher does not have is [`StageError::UnknownPartitionName`] from
    /// [`StageRef::subscribe_to`].
    pub fn partition_named(mut self, name: impl Into<String>) -> Self {
        self.partition = Some(PartitionKey::Name(name.into().into()));
        self
    }
}

impl<E> fmt::Debug for SubscribeTo<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeTo")
            .field("producer", &self.producer.pid())
            .field("options", &self.options)
            .field("selector", &self.selector.is_some())
            .field("partition", &self.partition)
            .finish()
    }
}

/// A running stage of type `S`.
pub struct StageRef<S: Stage> {
    server: ServerRef<StageServer<S>>,
}

impl<S: Stage> Clone for StageRef<S> {
    fn clone(&self) -> Self {
        StageRef {
            server: self.server.clone(),
        }
    }
}

impl<S: Stage> fmt::Debug for StageRef<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageRef")
            .field("stage", &std::any::type_name::<S>())
            .field("pid", &self.server.pid())
            .finish()
    }
}

impl<S: Stage> StageRef<S> {
    /// Starts the stage, not linked.
    pub async fn start(args: S::Args) -> Result<Self, StartError> {
        StageServer::<S>::start(args).await.map(Self::of)
    }

    /// Starts the stage, linked to the caller.
    pub async fn start_link(args: S::Args) -> Result<Self, StartError> {
        StageServer::<S>::start_link(args).await.map(Self::of)
    }

    /// Starts the stage with options (a name, a start timeout, ...), not linked.
    pub async fn start_with(args: S::Args, options: StartOptions) -> Result<Self, StartError> {
        StageServer::<S>::start_with(args, options)
            .await
            .map(Self::of)
    }

    /// Starts the stage with options, linked to the caller.
    pub async fn start_link_with(args: S::Args, options: StartOptions) -> Result<Self, StartError> {
        StageServer::<S>::start_link_with(args, options)
            .await
            .map(Self::of)
    }

    /// A supervisor's child spec for this stage: started linked with `args()` on each start and
    /// restart (a consumer subscribing in `init` by name, with [`StageRef::whereis`], finds
    /// its restarted producer).
    pub fn child_spec(
        id: impl Into<otp_core::supervisor::ChildId>,
        args: impl Fn() -> S::Args + Send + Sync + 'static,
    ) -> otp_core::supervisor::ChildSpec {
        Self::child_spec_with(id, args, StartOptions::new())
    }

    /// [`child_spec`](Self::child_spec) with start options (a name, a start timeout, ...).
    pub fn child_spec_with(
        id: impl Into<otp_core::supervisor::ChildId>,
        args: impl Fn() -> S::Args + Send + Sync + 'static,
        options: StartOptions,
    ) -> otp_core::supervisor::ChildSpec {
        otp_core::supervisor::ChildSpec::new(id, move || {
            StageServer::<S>::start_link_with(args(), options.clone())
        })
    }

    /// The handle of the stage behind a server reference.
    pub fn of(server: ServerRef<StageServer<S>>) -> Self {
        StageRef { server }
    }

    /// The stage's process, as a server.
    pub fn server(&self) -> &ServerRef<StageServer<S>> {
        &self.server
    }

    /// The stage's pid.
    pub fn pid(&self) -> Pid {
        self.server.pid()
    }

    /// Whether the stage runs.
    pub fn is_alive(&self) -> bool {
        self.server.is_alive()
    }

    /// The stage's kind, as its `init` chose it.
    pub async fn kind(&self) -> Result<Kind, StageError> {
        self.describe().await.map(|(kind, _)| kind)
    }

    /// The stage's kind, and its partitions if it has a partition dispatcher.
    async fn describe(&self) -> Result<(Kind, Option<PartitionLayout>), StageError> {
        match self.server.call(StageCall(CallKind::Kind)).await {
            Ok(reply) => match reply.0 {
                ReplyKind::Kind(kind, partitions) => Ok((kind, partitions)),
                _ => Err(StageError::Call("a wrong reply".to_owned())),
            },
            Err(e) => Err(StageError::from_call(e)),
        }
    }

    /// Subscribes this stage (a consumer or producer-consumer) to `producer` and returns the
    /// subscription's tag once the subscribe message is sent (GST-10's `sync_subscribe`).
    /// A dead producer is [`StageError::NoProc`]; a consumer in its place
    /// [`StageError::NotAProducer`]; this stage a producer, [`StageError::NotAConsumer`].
    pub async fn subscribe<P: Stage<Out = S::In>>(
        &self,
        producer: &StageRef<P>,
        options: SubscribeOptions,
    ) -> Result<SubscriptionTag, StageError> {
        self.subscribe_to(producer, SubscribeTo::new(producer, options))
            .await
    }

    /// [`subscribe`](Self::subscribe) with a [`SubscribeTo`]: a selector for a broadcast
    /// dispatcher, a partition for a partition dispatcher. A partition the producer does not
    /// have, or none given to a partition dispatcher, is [`StageError::UnknownPartition`]
    /// ([`StageError::UnknownPartitionName`] for a name).
    pub async fn subscribe_to<P: Stage<Out = S::In>>(
        &self,
        producer: &StageRef<P>,
        to: SubscribeTo<S::In>,
    ) -> Result<SubscriptionTag, StageError> {
        Self::check(producer, &to).await?;
        self.subscribed(CallKind::Subscribe(Box::new(to))).await
    }

    /// Checks a subscription before it is made: its options, and that its producer runs, is
    /// a producer and has the partition it asks for.
    async fn check<P: Stage<Out = S::In>>(
        producer: &StageRef<P>,
        to: &SubscribeTo<S::In>,
    ) -> Result<(), StageError> {
        to.options.demand()?;
        let (kind, partitions) = producer.describe().await?;
        if kind == Kind::Consumer {
            return Err(StageError::NotAProducer);
        }
        if let Some(layout) = partitions {
            layout.resolve(to.partition.as_ref())?;
        }
        Ok(())
    }

    /// Makes a (re)subscription call and reads its reply.
    async fn subscribed(&self, call: CallKind<S>) -> Result<SubscriptionTag, StageError> {
        match self.server.call(StageCall(call)).await {
            Ok(reply) => match reply.0 {
                ReplyKind::Subscribed(result) => result,
                _ => Err(StageError::Call("a wrong reply".to_owned())),
            },
            Err(e) => Err(StageError::from_call(e)),
        }
    }

    /// Asks this stage (a consumer or producer-consumer) to subscribe to `producer`, and
    /// returns at once (GST-10's `async_subscribe`): usable from the stage's own callbacks,
    /// with `StageRef::of(ctx.server_ref())`. Only bad options are an error here
    /// ([`StageError::BadOptions`]); anything else shows once the stage handles the request,
    /// as upstream: a dead producer ends the subscription with `noproc`, a consumer in the
    /// producer's place or a partition it lacks cancel it, and the subscription's cancel mode
    /// decides whether the stage exits; this stage being a producer is logged.
    ///
    /// `consumer.async_subscribe(&producer, SubscribeOptions::new().max_demand(10))?;`
    pub fn async_subscribe<P: Stage<Out = S::In>>(
        &self,
        producer: &StageRef<P>,
        options: SubscribeOptions,
    ) -> Result<(), StageError> {
        self.async_subscribe_to(SubscribeTo::new(producer, options))
    }

    /// [`async_subscribe`](Self::async_subscribe) with a [`SubscribeTo`] (a selector, a
    /// partition).
    pub fn async_subscribe_to(&self, to: SubscribeTo<S::In>) -> Result<(), StageError> {
        to.options.demand()?;
        self.server
            .cast(StageCast(CastKind::Other(OtherCast::Subscribe(Box::new(
                to,
            )))))
            .map_err(|e| StageError::Call(e.to_string()))
    }

    /// Cancels this stage's subscription `tag` with `reason` and subscribes it to `producer`
    /// with `options` in one step, returning the new subscription's tag (GST-10's
    /// `sync_resubscribe`): to change a subscription's demand, say, mid-stream.
    ///
    /// The new subscription is checked first, as by [`subscribe`](Self::subscribe), and a
    /// `tag` that is not one of this stage's live subscriptions is
    /// [`StageError::UnknownSubscription`]; either way nothing changes. The old subscription
    /// asks for nothing more; the events its producer had already sent are still handled, and
    /// once the producer confirms the cancel, `handle_cancel` is told
    /// (`Cancel::Cancelled(reason)`), but its cancel mode does not apply: the stage asked for
    /// the end and does not exit for it. (A producer-consumer still drops the old
    /// subscription's events that it holds waiting for its own consumers' demand when the end
    /// is confirmed, as it does whenever a subscription ends.)
    ///
    /// `let tag = consumer.resubscribe(tag, ExitReason::Normal, &producer, options).await?;`
    pub async fn resubscribe<P: Stage<Out = S::In>>(
        &self,
        tag: SubscriptionTag,
        reason: ExitReason,
        producer: &StageRef<P>,
        options: SubscribeOptions,
    ) -> Result<SubscriptionTag, StageError> {
        self.resubscribe_to(tag, reason, producer, SubscribeTo::new(producer, options))
            .await
    }

    /// [`resubscribe`](Self::resubscribe) with a [`SubscribeTo`] (a selector, a partition).
    pub async fn resubscribe_to<P: Stage<Out = S::In>>(
        &self,
        tag: SubscriptionTag,
        reason: ExitReason,
        producer: &StageRef<P>,
        to: SubscribeTo<S::In>,
    ) -> Result<SubscriptionTag, StageError> {
        Self::check(producer, &to).await?;
        self.subscribed(CallKind::Resubscribe(Box::new(Resubscription {
            tag,
            reason,
            to,
        })))
        .await
    }

    /// [`resubscribe`](Self::resubscribe) that returns at once (GST-10's
    /// `async_resubscribe`). Bad options are an error here; an unknown `tag` is logged and
    /// nothing changes (no new subscription either); the new subscription's failures show as
    /// [`async_subscribe`](Self::async_subscribe)'s do.
    pub fn async_resubscribe<P: Stage<Out = S::In>>(
        &self,
        tag: SubscriptionTag,
        reason: ExitReason,
        producer: &StageRef<P>,
        options: SubscribeOptions,
    ) -> Result<(), StageError> {
        self.async_resubscribe_to(tag, reason, SubscribeTo::new(producer, options))
    }

    /// [`async_resubscribe`](Self::async_resubscribe) with a [`SubscribeTo`].
    pub fn async_resubscribe_to(
        &self,
        tag: SubscriptionTag,
        reason: ExitReason,
        to: SubscribeTo<S::In>,
    ) -> Result<(), StageError> {
        to.options.demand()?;
        self.server
            .cast(StageCast(CastKind::Other(OtherCast::Resubscribe(
                Box::new(Resubscription { tag, reason, to }),
            ))))
            .map_err(|e| StageError::Call(e.to_string()))
    }

    /// Calls the stage.
    pub async fn call(&self, request: S::Call) -> Result<S::Reply, CallError> {
        match self
            .server
            .call(StageCall(CallKind::User(request)))
            .await?
            .0
        {
            ReplyKind::User(reply) => Ok(reply),
            _ => Err(CallError::WrongReply),
        }
    }

    /// Casts to the stage (dropped if it is not running, as a cast to a dead process).
    pub fn cast(&self, message: S::Cast) -> Result<(), StageError> {
        self.server
            .cast(StageCast(CastKind::Other(OtherCast::User(message))))
            .map_err(|e| StageError::Call(e.to_string()))
    }

    /// Sets a producer's demand mode (GST-08's `demand/2`).
    pub fn demand(&self, mode: DemandMode) -> Result<(), StageError> {
        self.server
            .cast(StageCast(CastKind::Other(OtherCast::Demand(mode))))
            .map_err(|e| StageError::Call(e.to_string()))
    }

    /// Sends `message` to every consumer of this producer, after the events it has already
    /// buffered (GST-12's `async_info`): each consumer gets it in `handle_info` as
    /// `Info::Message`, after those events.
    pub fn async_info<T: Clone + Send + Sync + 'static>(
        &self,
        message: T,
    ) -> Result<(), StageError> {
        self.server
            .cast(StageCast(CastKind::Other(OtherCast::Info(
                Self::info_send(message),
            ))))
            .map_err(|e| StageError::Call(e.to_string()))
    }

    /// [`async_info`](Self::async_info) as a call (GST-12's `sync_info`): returns once the
    /// producer has queued `message` behind the events it has buffered (or sent it, with none
    /// buffered). A stage that is not running is [`StageError::NoProc`].
    ///
    /// `producer.sync_info(Flush).await?;`
    pub async fn sync_info<T: Clone + Send + Sync + 'static>(
        &self,
        message: T,
    ) -> Result<(), StageError> {
        match self
            .server
            .call(StageCall(CallKind::Info(Self::info_send(message))))
            .await
        {
            Ok(reply) => match reply.0 {
                ReplyKind::Done => Ok(()),
                _ => Err(StageError::Call("a wrong reply".to_owned())),
            },
            Err(e) => Err(StageError::from_call(e)),
        }
    }

    /// What sends `message` to one consumer.
    fn info_send<T: Clone + Send + Sync + 'static>(message: T) -> super::server::InfoSend {
        Arc::new(move |pid| {
            let _ = otp_core::name::send(pid, message.clone());
        })
    }

    /// A stage registered under `name` (GST-18), if it runs.
    pub fn whereis(name: impl Into<otp_core::name::Name>) -> Option<Self> {
        ServerRef::whereis(name).map(Self::of)
    }

    /// How many events the producer holds in its buffer (GST-07).
    pub async fn estimate_buffered_count(&self) -> Result<usize, StageError> {
        match self
            .server
            .call(StageCall(CallKind::EstimateBuffered))
            .await
        {
            Ok(reply) => match reply.0 {
                ReplyKind::Count(n) => Ok(n),
                _ => Err(StageError::Call("a wrong reply".to_owned())),
            },
            Err(e) => Err(StageError::from_call(e)),
        }
    }

    /// Stops the stage with `reason` and waits until it has exited.
    pub async fn stop(&self, reason: ExitReason) -> Result<(), StopError> {
        self.server.stop(reason).await
    }

    /// Waits until the stage has exited, and returns why.
    pub async fn wait_exit(&self) -> ExitReason {
        self.server.wait_exit().await
    }
}
