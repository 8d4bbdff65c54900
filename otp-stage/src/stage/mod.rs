//! The behaviour a user implements: one trait for the three kinds of stage, the kind chosen by
//! `init` (GST-01).

use std::convert::Infallible;

use otp_core::gen_server::{Context, ReplyTo};
use otp_core::process::{ExitReason, Info};

use crate::options::SubscribeOptions;
use crate::producer::ProducerOptions;
use crate::protocol::{Cancel, ConsumerRef, Subscription};

pub(crate) mod handle;
pub(crate) mod server;
mod stats;

use self::handle::SubscribeTo;
use self::server::{ReplyKind, StageReply, StageServer};

/// The kind of a running stage, as its `init` chose it (GST-01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Emits events on demand.
    Producer,
    /// Takes events and emits others.
    ProducerConsumer,
    /// Takes events.
    Consumer,
}

impl Kind {
    pub(crate) fn produces(self) -> bool {
        self != Kind::Consumer
    }
    pub(crate) fn consumes(self) -> bool {
        self != Kind::Producer
    }
}

/// The context a stage's callbacks get: the server context of the stage's process (its pid,
/// links, monitors, `trap_exit`, ...).
pub type StageContext<S> = Context<StageServer<S>>;

/// A producer's input, or a consumer's output: there is none.
pub type Nothing = Infallible;

/// What `init` decided (GST-01).
pub enum StageInit<S: Stage> {
    /// A producer: it emits `S::Out` on demand (`S::In` is unused, [`Nothing`] by convention).
    Producer(S, ProducerOptions<S::Out>),
    /// A producer-consumer: it takes `S::In` from its producers and emits `S::Out` to its
    /// consumers, never faster than they ask.
    ProducerConsumer(S, ProducerOptions<S::Out>, Vec<SubscribeTo<S::In>>),
    /// A consumer: it takes `S::In` from the producers it subscribes to, here or later.
    Consumer(S, Vec<SubscribeTo<S::In>>),
    /// Do not start (the start returns `Ignored`).
    Ignore,
    /// Fail to start with this reason.
    Stop(ExitReason),
}

/// What a callback decided: events to emit (a producer's or producer-consumer's; a consumer
/// emits none), or stop.
#[derive(Debug)]
pub enum Emit<E> {
    /// Emit these events (possibly none) and go on.
    Events(Vec<E>),
    /// Stop with this reason.
    Stop(ExitReason),
}

impl<E> Emit<E> {
    /// Go on, emitting nothing.
    pub fn none() -> Self {
        Emit::Events(Vec::new())
    }
}

/// What `handle_call` decided (GST-11: the reply is sent after the events are dispatched).
pub enum StageCallResult<S: Stage> {
    /// Emit these events, then reply.
    Reply(S::Reply, Vec<S::Out>),
    /// Emit these events (dispatched as [`Reply`](Self::Reply)'s are), and reply later: the
    /// handler took the caller's [`StageReplyTo`] with [`StageReplyTo::defer`] and answers
    /// through it when it can, from this stage or any other task (GenStage's
    /// `{:noreply, events, state}` and `GenStage.reply/2`). If the handle is dropped without a
    /// reply, or was never taken, the caller's call ends with its timeout
    /// ([`CallError::Timeout`](otp_core::gen_server::CallError::Timeout), after 5 s by default),
    /// as in Erlang.
    NoReply(Vec<S::Out>),
    /// Reply, then stop with this reason.
    Stop(ExitReason, S::Reply),
}

/// The handle to answer one call to a stage later (GenStage's `from`, answered with
/// `GenStage.reply/2`, GST-11): taken in [`Stage::handle_call`] with
/// [`defer`](Self::defer), which then returns [`StageCallResult::NoReply`]; answered once, with
/// [`reply`](Self::reply), from any task.
///
/// Dropping it without replying leaves the caller waiting until its call times out
/// ([`CallError::Timeout`](otp_core::gen_server::CallError::Timeout)), as a process that never
/// replies does in Erlang. A thin wrapper around otp-core's [`ReplyTo`], whose `reply` wraps
/// the stage's reply into the stage process's own reply type.
///
/// ```
/// use otp_stage::{StageCallResult, StageReplyTo};
/// # use otp_stage::{Emit, Nothing, ProducerOptions, Stage, StageContext, StageInit};
/// # struct Later(Option<StageReplyTo<Later>>);
/// # impl Stage for Later {
/// #     type Args = (); type In = Nothing; type Out = u64;
/// #     type Call = (); type Reply = &'static str; type Cast = ();
/// #     async fn init((): (), _: &mut StageContext<Self>) -> StageInit<Self> {
/// #         StageInit::Producer(Later(None), ProducerOptions::producer())
/// #     }
/// // In `handle_call`: emit now, answer later.
/// async fn handle_call(&mut self, (): (), ctx: &mut StageContext<Self>) -> StageCallResult<Self> {
///     self.0 = StageReplyTo::defer(ctx);
///     StageCallResult::NoReply(vec![1, 2, 3])
/// }
/// // Later, in another callback (or another task):
/// async fn handle_cast(&mut self, (): (), _: &mut StageContext<Self>) -> Emit<u64> {
///     if let Some(to) = self.0.take() {
///         to.reply("done");
///     }
///     Emit::none()
/// }
/// # }
/// ```
pub struct StageReplyTo<S: Stage>(ReplyTo<StageServer<S>, S::Reply>);

impl<S: Stage> StageReplyTo<S> {
    /// Takes the reply handle of the call `handle_call` is serving, to reply later (return
    /// [`StageCallResult::NoReply`]). `None` outside `handle_call`, or if already taken.
    pub fn defer(ctx: &mut StageContext<S>) -> Option<Self> {
        ctx.defer_reply_as(|reply| StageReply(ReplyKind::User(reply)))
            .map(StageReplyTo)
    }

    /// Sends the reply. Returns whether the caller was still waiting for it (a reply after the
    /// call timed out is dropped).
    pub fn reply(self, reply: S::Reply) -> bool {
        self.0.reply(reply)
    }

    /// Whether the caller is still waiting for the reply.
    pub fn is_waiting(&self) -> bool {
        self.0.is_waiting()
    }
}

impl<S: Stage> std::fmt::Debug for StageReplyTo<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageReplyTo")
            .field("stage", &std::any::type_name::<S>())
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

/// How a consumer's subscription asks for events (GST-06).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Demand {
    /// The stage asks by itself, after each batch (GST-04; the default).
    #[default]
    Automatic,
    /// The stage asks through [`Subscription::ask`].
    Manual,
}

/// Which subscription ended, as `handle_cancel` is told.
#[derive(Debug)]
pub enum Ended<'a, E> {
    /// One of this stage's producers (this stage is a consumer of it).
    Producer(&'a Subscription<E>),
    /// One of this stage's consumers (this stage is its producer).
    Consumer(ConsumerRef),
}

/// A GenStage: a producer, a consumer or a producer-consumer, chosen by [`init`](Stage::init).
///
/// Producers implement [`handle_demand`](Stage::handle_demand); consumers and
/// producer-consumers [`handle_events`](Stage::handle_events) (GST-01). Events travel as
/// `Vec<Self::Out>`, one vector per dispatch, never boxed one by one.
pub trait Stage: Sized + Send + 'static {
    /// What `init` takes.
    type Args: Send + 'static;
    /// The events it consumes ([`Nothing`] for a producer).
    type In: Send + 'static;
    /// The events it produces ([`Nothing`] for a consumer).
    type Out: Send + 'static;
    /// Its calls.
    type Call: Send + 'static;
    /// Its calls' replies.
    type Reply: Send + 'static;
    /// Its casts.
    type Cast: Send + 'static;

    /// Chooses the kind of stage and its options.
    fn init(
        args: Self::Args,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = StageInit<Self>> + Send;

    /// A producer's consumers asked for `demand` more events than it has buffered: emit up
    /// to that many (more are buffered, fewer are fine: the demand is remembered).
    fn handle_demand(
        &mut self,
        demand: usize,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Emit<Self::Out>> + Send {
        let _ = (demand, ctx);
        async {
            Emit::Stop(ExitReason::error(format!(
                "{} is a producer without handle_demand",
                std::any::type_name::<Self>()
            )))
        }
    }

    /// Events from one of this stage's producers, at most `max_demand - min_demand` at a time
    /// with automatic demand (GST-04).
    fn handle_events(
        &mut self,
        events: Vec<Self::In>,
        from: &Subscription<Self::In>,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Emit<Self::Out>> + Send {
        let _ = (events, from, ctx);
        async {
            Emit::Stop(ExitReason::error(format!(
                "{} is a consumer without handle_events",
                std::any::type_name::<Self>()
            )))
        }
    }

    /// This stage (a consumer) subscribed to a producer: automatic or manual demand (GST-06).
    fn handle_subscribe_producer(
        &mut self,
        producer: &Subscription<Self::In>,
        options: &SubscribeOptions,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Demand> + Send {
        let _ = (producer, options, ctx);
        async { Demand::Automatic }
    }

    /// A consumer subscribed to this stage (a producer). A producer's demand is always
    /// automatic (GST-19).
    fn handle_subscribe_consumer(
        &mut self,
        consumer: ConsumerRef,
        options: &SubscribeOptions,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (consumer, options, ctx);
        async {}
    }

    /// A subscription ended (GST-09, GST-19). For a consumer, its cancel mode then decides
    /// whether it exits.
    fn handle_cancel(
        &mut self,
        ended: Ended<'_, Self::In>,
        why: &Cancel,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Emit<Self::Out>> + Send {
        let _ = (ended, why, ctx);
        async { Emit::none() }
    }

    /// A call: reply, after emitting events, or take the caller's [`StageReplyTo`] and reply
    /// later (GST-11).
    fn handle_call(
        &mut self,
        request: Self::Call,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = StageCallResult<Self>> + Send {
        let _ = (request, ctx);
        async {
            panic!(
                "attempted to call stage {} but no handle_call was provided",
                std::any::type_name::<Self>()
            )
        }
    }

    /// A cast.
    fn handle_cast(
        &mut self,
        message: Self::Cast,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Emit<Self::Out>> + Send {
        let _ = (message, ctx);
        async {
            panic!(
                "attempted to cast stage {} but no handle_cast was provided",
                std::any::type_name::<Self>()
            )
        }
    }

    /// Any other message: exits and `Down`s that are not the stage's subscriptions, timers,
    /// plain sends.
    fn handle_info(
        &mut self,
        info: Info,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Emit<Self::Out>> + Send {
        let pid = ctx.pid();
        async move {
            otp_core::gen_server::unexpected_info::<Self>(pid, &info);
            Emit::none()
        }
    }

    /// The stage is stopping with `reason`.
    fn terminate(
        &mut self,
        reason: &ExitReason,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }
}
