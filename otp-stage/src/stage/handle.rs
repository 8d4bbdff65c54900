//! A handle on a running stage: start it, subscribe it, call and cast it.

use std::fmt;
use std::sync::Arc;

use otp_core::gen_server::{CallError, GenServer, ServerRef, StartError, StartOptions, StopError};
use otp_core::process::{ExitReason, Pid};

use super::server::{CallKind, CastKind, ReplyKind, StageCall, StageCast, StageServer};
use super::{Kind, Stage};
use crate::error::StageError;
use crate::options::{DemandMode, SubscribeOptions};
use crate::protocol::{Selector, SubscriptionTag, Upstream};

/// A producer to subscribe to, with the subscription's options: what a consumer's `init` lists
/// (GenStage's `subscribe_to`) and [`StageRef::subscribe`] takes.
pub struct SubscribeTo<E> {
    pub(crate) producer: Arc<dyn Upstream<E>>,
    pub(crate) options: SubscribeOptions,
    pub(crate) selector: Option<Selector<E>>,
    pub(crate) partition: Option<usize>,
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

    /// With a partition dispatcher, the partition to consume (GST-15).
    pub fn partition(mut self, partition: usize) -> Self {
        self.partition = Some(partition);
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

    /// The stage's kind, and its number of partitions if it has a partition dispatcher.
    async fn describe(&self) -> Result<(Kind, Option<usize>), StageError> {
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
    /// have, or none given to a partition dispatcher, is [`StageError::UnknownPartition`].
    pub async fn subscribe_to<P: Stage<Out = S::In>>(
        &self,
        producer: &StageRef<P>,
        to: SubscribeTo<S::In>,
    ) -> Result<SubscriptionTag, StageError> {
        to.options.demand()?;
        let (kind, partitions) = producer.describe().await?;
        if kind == Kind::Consumer {
            return Err(StageError::NotAProducer);
        }
        if let Some(n) = partitions
            && to.partition.is_none_or(|p| p >= n)
        {
            return Err(StageError::UnknownPartition(to.partition));
        }
        match self.server.call(StageCall(CallKind::Subscribe(to))).await {
            Ok(reply) => match reply.0 {
                ReplyKind::Subscribed(result) => result,
                _ => Err(StageError::Call("a wrong reply".to_owned())),
            },
            Err(e) => Err(StageError::from_call(e)),
        }
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
            .cast(StageCast(CastKind::User(message)))
            .map_err(|e| StageError::Call(e.to_string()))
    }

    /// Sets a producer's demand mode (GST-08's `demand/2`).
    pub fn demand(&self, mode: DemandMode) -> Result<(), StageError> {
        self.server
            .cast(StageCast(CastKind::Demand(mode)))
            .map_err(|e| StageError::Call(e.to_string()))
    }

    /// Sends `message` to every consumer of this producer, after the events it has already
    /// buffered (GST-12's `async_info`): each consumer gets it in `handle_info` as
    /// `Info::Message`, after those events.
    pub fn async_info<T: Clone + Send + Sync + 'static>(
        &self,
        message: T,
    ) -> Result<(), StageError> {
        let send: super::server::InfoSend = std::sync::Arc::new(move |pid| {
            let _ = otp_core::name::send(pid, message.clone());
        });
        self.server
            .cast(StageCast(CastKind::Info(send)))
            .map_err(|e| StageError::Call(e.to_string()))
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
