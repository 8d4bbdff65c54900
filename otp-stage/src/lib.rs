//! GenStage for otp-core: stages that exchange events on demand, so that a slow consumer slows
//! its producer instead of flooding memory (`GST-01` … `GST-19` of `otp-semantics.md`).
//!
//! A stage is a process of otp-core (supervisable, linkable, named, visible in introspection)
//! running a [`Stage`]: its `init` makes it a **producer** (it emits events in
//! [`handle_demand`](Stage::handle_demand)), a **consumer** (it takes them in
//! [`handle_events`](Stage::handle_events)) or a **producer-consumer** (both). A consumer
//! subscribes to producers with [`SubscribeOptions`] (`max_demand` 1000, `min_demand` half of
//! it, cancel permanent); with automatic demand it asks `max_demand` at once and asks again after
//! each batch of at most `max_demand - min_demand` events once its outstanding demand has fallen
//! to `min_demand`. A producer never sends more than was asked: what it emits beyond the demand
//! waits in its buffer (`buffer_size`, keeping the last or the first events). Events travel as one
//! `Vec` per dispatch.
//!
//! Two differences a producer can see: asks it has not read yet reach
//! [`handle_demand`](Stage::handle_demand) as one demand of their sum (never more than was
//! asked), and what a producer-consumer emits while handling the batches of one message goes out
//! as one message after the last batch (up to 4 KiB of events), in order. Both spare messages.
//!
//! - **Dispatchers** ([`Dispatch`]): by demand (the default), broadcast (every event to every
//!   consumer, per-subscription selectors), partition (numbered or named partitions, a hash
//!   that may drop an event, one consumer per partition, queues with an optional bound and
//!   drop policy).
//! - **Subscribing**: in `init`, or later with [`StageRef::subscribe`] (a call) or
//!   [`StageRef::async_subscribe`] (a cast); [`StageRef::resubscribe`] replaces a subscription
//!   (to change its demand mid-stream, say).
//! - **Bridges**: [`stream`] reads a producer as a `futures` `Stream`; [`from_iter`] and
//!   [`from_stream`] make producers of iterators and async streams, pulled on demand;
//!   [`ChannelSink`] is a consumer into a bounded channel.
//! - [`ConsumerSupervisor`]: one child per event, at most `max_demand` at once.
//! - **Supervision and introspection**: [`StageRef::child_spec`]; `process_info` lists a stage's
//!   kind, buffered and dropped counts, producers and consumers in `ProcessInfo::details`.
//! - **Telemetry**: the events of [`events`].
//!
//! Where this differs from GenStage is listed, behaviour by behaviour, in the workspace's
//! `CONFORMANCE.md`.
//!
//! ```
//! use otp_stage::{Emit, Nothing, StageContext, Stage, StageInit, StageRef, SubscribeOptions,
//!     SubscribeTo, Subscription, ProducerOptions};
//!
//! struct Numbers(u64);
//!
//! impl Stage for Numbers {
//!     type Args = u64;
//!     type In = Nothing;
//!     type Out = u64;
//!     type Call = ();
//!     type Reply = ();
//!     type Cast = ();
//!
//!     async fn init(from: u64, _: &mut StageContext<Self>) -> StageInit<Self> {
//!         StageInit::Producer(Numbers(from), ProducerOptions::producer())
//!     }
//!     async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<u64> {
//!         let events = (self.0..self.0 + demand as u64).collect();
//!         self.0 += demand as u64;
//!         Emit::Events(events)
//!     }
//! }
//!
//! struct Printer(tokio::sync::mpsc::UnboundedSender<u64>);
//!
//! impl Stage for Printer {
//!     type Args = (StageRef<Numbers>, tokio::sync::mpsc::UnboundedSender<u64>);
//!     type In = u64;
//!     type Out = Nothing;
//!     type Call = ();
//!     type Reply = ();
//!     type Cast = ();
//!
//!     async fn init((from, out): Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
//!         let to = SubscribeTo::new(&from, SubscribeOptions::new().max_demand(10));
//!         StageInit::Consumer(Printer(out), vec![to])
//!     }
//!     async fn handle_events(&mut self, events: Vec<u64>, _: &Subscription<u64>,
//!                            _: &mut StageContext<Self>) -> Emit<Nothing> {
//!         for e in events {
//!             let _ = self.0.send(e);
//!         }
//!         Emit::none()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let numbers = StageRef::<Numbers>::start(0).await.unwrap();
//! let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
//! let _printer = StageRef::<Printer>::start((numbers, tx)).await.unwrap();
//! for expected in 0..25 {
//!     assert_eq!(rx.recv().await, Some(expected));
//! }
//! # }
//! ```

mod bridge;
mod consumer_supervisor;
mod dispatcher;
mod error;
pub mod events;
mod grow;
mod options;
mod producer;
mod protocol;
mod stage;
mod tag;

pub use self::bridge::{
    ChannelSink, Fed, FromIter, IterProducer, StageStream, StreamProducer, from_iter, from_stream,
    stream, stream_to,
};
pub use self::consumer_supervisor::{
    ConsumerSupervisor, ConsumerSupervisorCall, ConsumerSupervisorReply, ConsumerSupervisorSpec,
};
pub use self::dispatcher::Dispatch;
pub use self::error::StageError;
pub use self::options::{
    BufferKeep, CancelMode, DEFAULT_BUFFER_SIZE, DEFAULT_MAX_DEMAND, DemandMode, SubscribeOptions,
};
pub use self::producer::ProducerOptions;
pub use self::protocol::{
    Cancel, ConsumerRef, PartitionFn, Selector, Subscription, SubscriptionTag,
};
pub use self::stage::handle::{StageRef, SubscribeTo};
pub use self::stage::server::{StageCall, StageCast, StageReply, StageServer};
pub use self::stage::{
    Demand, Emit, Ended, Kind, Nothing, Stage, StageCallResult, StageContext, StageInit,
    StageReplyTo,
};
