//! Bridges to Rust's async world: a producer consumed as a [`Stream`] (GenStage's `stream`,
//! GST-16), a producer of an iterator's items (`from_enumerable`, GST-17), and a consumer that
//! forwards into a bounded channel.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::{FutureExt, Stream, StreamExt};
use otp_core::process::ExitReason;
use tokio::sync::Semaphore;
use tokio::sync::mpsc;

use crate::error::StageError;
use crate::options::{CancelMode, SubscribeOptions};
use crate::producer::ProducerOptions;
use crate::protocol::{Cancel, ConsumerRef, Subscription};
use crate::stage::handle::{StageRef, SubscribeTo};
use crate::stage::server::StageCast;
use crate::stage::{Demand, Emit, Ended, Nothing, Stage, StageContext, StageInit};

/// What the hidden consumer behind a [`StageStream`] tells it.
enum Relay<E> {
    Subscribed(Subscription<E>),
    Events(Vec<E>),
    Ended(ExitReason),
}

/// The consumer behind a [`StageStream`]: manual demand, everything relayed to the stream.
struct StreamRelay<E: Send + 'static> {
    to: mpsc::UnboundedSender<Relay<E>>,
}

impl<E: Send + 'static> Stage for StreamRelay<E> {
    type Args = mpsc::UnboundedSender<Relay<E>>;
    type In = E;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(to: Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Consumer(StreamRelay { to }, Vec::new())
    }

    async fn handle_subscribe_producer(
        &mut self,
        producer: &Subscription<E>,
        _: &SubscribeOptions,
        _: &mut StageContext<Self>,
    ) -> Demand {
        let _ = self.to.send(Relay::Subscribed(producer.clone()));
        Demand::Manual
    }

    async fn handle_events(
        &mut self,
        events: Vec<E>,
        _: &Subscription<E>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        if self.to.send(Relay::Events(events)).is_err() {
            // The stream was dropped.
            return Emit::Stop(ExitReason::Normal);
        }
        Emit::none()
    }

    async fn handle_cancel(
        &mut self,
        _: Ended<'_, E>,
        why: &Cancel,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        let _ = self.to.send(Relay::Ended(why.reason().clone()));
        Emit::Stop(ExitReason::Normal)
    }
}

/// A producer's events as a [`Stream`], for code that is not a stage (GenStage's `stream`,
/// GST-16). It asks `max_demand` at first, then `max_demand - min_demand` each time that many
/// have been taken. The stream ends when the producer ends the subscription or exits;
/// [`end`](Self::end) then says why, and [`cancel mode`](CancelMode) decides whether that is an
/// error: where GenStage makes the enumerating process exit, the stream ends and
/// [`StageStream::failed`] is the reason. Dropping the stream cancels the subscription.
pub struct StageStream<E: Send + 'static> {
    from: mpsc::UnboundedReceiver<Relay<E>>,
    relay: StageRef<StreamRelay<E>>,
    sub: Option<Subscription<E>>,
    batch: VecDeque<E>,
    max: usize,
    step: usize,
    /// Taken since the last ask.
    taken: usize,
    cancel: CancelMode,
    end: Option<ExitReason>,
}

/// Consumes `producer` as a stream of its events (GST-16). A dead producer is
/// [`StageError::NoProc`], a consumer [`StageError::NotAProducer`], bad options
/// [`StageError::BadOptions`].
pub async fn stream<P: Stage>(
    producer: &StageRef<P>,
    options: SubscribeOptions,
) -> Result<StageStream<P::Out>, StageError> {
    stream_to(producer, SubscribeTo::new(producer, options)).await
}

/// [`stream`] with a [`SubscribeTo`] (a broadcast selector, a partition).
pub async fn stream_to<P: Stage>(
    producer: &StageRef<P>,
    to: SubscribeTo<P::Out>,
) -> Result<StageStream<P::Out>, StageError> {
    let (max, min) = to.options.demand()?;
    let cancel = to.options.cancel_mode();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let relay = StageRef::<StreamRelay<P::Out>>::start(tx)
        .await
        .map_err(|e| StageError::Call(e.to_string()))?;
    // The relay itself must outlive the producer's end to report it: temporary.
    let mut to = to;
    to.options = to.options.cancel(CancelMode::Temporary);
    if let Err(e) = relay.subscribe_to(producer, to).await {
        let _ = relay.stop(ExitReason::Normal).await;
        return Err(e);
    }
    let sub = match rx.recv().await {
        Some(Relay::Subscribed(sub)) => sub,
        _ => return Err(StageError::NoProc),
    };
    sub.ask(max)?;
    Ok(StageStream {
        from: rx,
        relay,
        sub: Some(sub),
        batch: VecDeque::new(),
        max,
        step: (max - min).max(1),
        taken: 0,
        cancel,
        end: None,
    })
}

impl<E: Send + 'static> StageStream<E> {
    /// Why the stream ended, once it has.
    pub fn end(&self) -> Option<&ExitReason> {
        self.end.as_ref()
    }

    /// The end's reason if the subscription's cancel mode counts it as a failure (`permanent`:
    /// any end; `transient`: an unclean one; `temporary`: none).
    pub fn failed(&self) -> Option<&ExitReason> {
        self.end.as_ref().filter(|r| self.cancel.exits_on(r))
    }

    /// `max_demand`, as asked at first.
    pub fn max_demand(&self) -> usize {
        self.max
    }
}

// Nothing in the stream is pinned: its events are moved out of a queue, never polled in place.
impl<E: Send + 'static> Unpin for StageStream<E> {}

impl<E: Send + 'static> Stream for StageStream<E> {
    type Item = E;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E>> {
        let this = &mut *self;
        loop {
            if let Some(e) = this.batch.pop_front() {
                this.taken += 1;
                if this.taken >= this.step {
                    if let Some(sub) = &this.sub {
                        let _ = sub.ask(this.taken);
                    }
                    this.taken = 0;
                }
                return Poll::Ready(Some(e));
            }
            if this.end.is_some() {
                return Poll::Ready(None);
            }
            match this.from.poll_recv(cx) {
                Poll::Ready(Some(Relay::Events(events))) => this.batch.extend(events),
                Poll::Ready(Some(Relay::Subscribed(sub))) => this.sub = Some(sub),
                Poll::Ready(Some(Relay::Ended(reason))) => {
                    this.sub = None;
                    this.end = Some(reason);
                }
                Poll::Ready(None) => {
                    this.sub = None;
                    this.end.get_or_insert(ExitReason::NoProc);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<E: Send + 'static> Drop for StageStream<E> {
    fn drop(&mut self) {
        if let Some(sub) = self.sub.take() {
            sub.cancel(ExitReason::Normal);
        }
        // The relay stops once its subscription is cancelled; a relay whose producer never
        // answered stops here.
        let _ = self.relay.server().cast(StageCast::stop());
    }
}

/// A producer of an iterator's items, pulled on demand (GenStage's `from_enumerable`, GST-17).
/// It exits `normal` once the iterator is exhausted and its last items are sent, which takes
/// `permanent` subscribers along (use `transient` or `temporary` to survive it). With
/// `stop_when_unsubscribed`, it also stops when its last consumer leaves (`on_cancel: :stop`).
pub struct IterProducer<I: Iterator + Send + 'static>
where
    I::Item: Send + 'static,
{
    iter: I,
    stop_when_unsubscribed: bool,
    consumers: usize,
}

/// What [`IterProducer`] starts from.
pub struct FromIter<I> {
    /// The items.
    pub iter: I,
    /// Stop when the last consumer leaves.
    pub stop_when_unsubscribed: bool,
}

impl<I: Iterator + Send + 'static> Stage for IterProducer<I>
where
    I::Item: Send + 'static,
{
    type Args = FromIter<I>;
    type In = Nothing;
    type Out = I::Item;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(args: FromIter<I>, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Producer(
            IterProducer {
                iter: args.iter,
                stop_when_unsubscribed: args.stop_when_unsubscribed,
                consumers: 0,
            },
            ProducerOptions::producer(),
        )
    }

    async fn handle_demand(
        &mut self,
        demand: usize,
        ctx: &mut StageContext<Self>,
    ) -> Emit<I::Item> {
        let events: Vec<I::Item> = self.iter.by_ref().take(demand).collect();
        if events.len() < demand {
            // Exhausted: these go out first, then the stage stops (a cast to itself comes
            // after them).
            let _ = ctx.server_ref().cast(StageCast::stop());
        }
        Emit::Events(events)
    }

    async fn handle_subscribe_consumer(
        &mut self,
        _: ConsumerRef,
        _: &SubscribeOptions,
        _: &mut StageContext<Self>,
    ) {
        self.consumers += 1;
    }

    async fn handle_cancel(
        &mut self,
        _: Ended<'_, Nothing>,
        _: &Cancel,
        _: &mut StageContext<Self>,
    ) -> Emit<I::Item> {
        self.consumers = self.consumers.saturating_sub(1);
        if self.consumers == 0 && self.stop_when_unsubscribed {
            return Emit::Stop(ExitReason::Normal);
        }
        Emit::none()
    }
}

/// Starts a producer of `iter`'s items, linked to the caller (GST-17).
pub async fn from_iter<I>(
    iter: impl IntoIterator<IntoIter = I>,
    stop_when_unsubscribed: bool,
) -> Result<StageRef<IterProducer<I>>, StageError>
where
    I: Iterator + Send + 'static,
    I::Item: Send + 'static,
{
    StageRef::start_link(FromIter {
        iter: iter.into_iter(),
        stop_when_unsubscribed,
    })
    .await
    .map_err(|e| StageError::Call(e.to_string()))
}

/// A consumer that forwards every event into a bounded channel, waiting for room: a full
/// channel holds the consumer, and through its demand the producer.
pub struct ChannelSink<E: Send + 'static> {
    to: mpsc::Sender<E>,
}

impl<E: Send + 'static> Stage for ChannelSink<E> {
    type Args = (mpsc::Sender<E>, Vec<SubscribeTo<E>>);
    type In = E;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init((to, from): Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Consumer(ChannelSink { to }, from)
    }

    async fn handle_events(
        &mut self,
        events: Vec<E>,
        _: &Subscription<E>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        for e in events {
            if self.to.send(e).await.is_err() {
                // Nobody reads the channel any more.
                return Emit::Stop(ExitReason::Normal);
            }
        }
        Emit::none()
    }
}

/// What the feeder of a [`StreamProducer`] sends it.
pub enum Fed<T> {
    /// Items pulled from the stream, no more than were asked.
    Items(Vec<T>),
    /// The stream ended.
    End,
}

impl<T> fmt::Debug for Fed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fed::Items(items) => write!(f, "Items({})", items.len()),
            Fed::End => f.write_str("End"),
        }
    }
}

/// A producer of an async [`Stream`]'s items, pulled only as far as its consumers asked: a
/// linked feeder process polls the stream while there is demand and hands the producer what it
/// got, so the producer stays free to answer its consumers meanwhile. It exits `normal` once
/// the stream ends and its last items are sent (as [`IterProducer`]).
pub struct StreamProducer<T: Send + 'static> {
    permits: Arc<Semaphore>,
    _item: std::marker::PhantomData<fn() -> T>,
}

impl<T: Send + 'static> Stage for StreamProducer<T> {
    type Args = Pin<Box<dyn Stream<Item = T> + Send>>;
    type In = Nothing;
    type Out = T;
    type Call = ();
    type Reply = ();
    type Cast = Fed<T>;

    async fn init(mut stream: Self::Args, ctx: &mut StageContext<Self>) -> StageInit<Self> {
        let permits = Arc::new(Semaphore::new(0));
        let feeder_permits = permits.clone();
        let me = ctx.server_ref();
        ctx.spawn_link(move |_| async move {
            loop {
                // Wait for demand, then for an item.
                let Ok(first) = feeder_permits.acquire().await else {
                    return ExitReason::Normal;
                };
                first.forget();
                let Some(item) = stream.next().await else {
                    let _ = me.cast(StageCast::user(Fed::End));
                    return ExitReason::Normal;
                };
                let mut items = vec![item];
                // More while there is demand and the stream has them ready.
                while let Ok(permit) = feeder_permits.try_acquire() {
                    match stream.next().now_or_never() {
                        Some(Some(item)) => {
                            permit.forget();
                            items.push(item);
                        }
                        Some(None) => {
                            let _ = me.cast(StageCast::user(Fed::Items(items)));
                            let _ = me.cast(StageCast::user(Fed::End));
                            return ExitReason::Normal;
                        }
                        // Not ready: the permit goes back.
                        None => break,
                    }
                }
                if me.cast(StageCast::user(Fed::Items(items))).is_err() {
                    return ExitReason::Normal;
                }
            }
        });
        StageInit::Producer(
            StreamProducer {
                permits,
                _item: std::marker::PhantomData,
            },
            ProducerOptions::producer(),
        )
    }

    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<T> {
        self.permits.add_permits(demand);
        Emit::none()
    }

    async fn handle_cast(&mut self, fed: Fed<T>, _: &mut StageContext<Self>) -> Emit<T> {
        match fed {
            Fed::Items(items) => Emit::Events(items),
            Fed::End => Emit::Stop(ExitReason::Normal),
        }
    }
}

/// Starts a producer of `stream`'s items, linked to the caller.
pub async fn from_stream<T: Send + 'static>(
    stream: impl Stream<Item = T> + Send + 'static,
) -> Result<StageRef<StreamProducer<T>>, StageError> {
    StageRef::start_link(Box::pin(stream) as Pin<Box<dyn Stream<Item = T> + Send>>)
        .await
        .map_err(|e| StageError::Call(e.to_string()))
}
