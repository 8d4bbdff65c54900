//! otp-stage's pipeline: producer → 2 processors → batcher → sink as five otp-stage stages
//! (otp-core processes), each subscription with `min_demand: B, max_demand: 2B`
//! ([`Spec::min_demand`], [`Spec::max_demand`]). What each stage does is the shared code of
//! [`pipeline`](crate::pipeline) ([`produce`], [`process`], [`Rebatcher`], [`Tally::record`]),
//! the same as the baseline's ([`tokio_pipeline`](crate::frameworks::tokio_pipeline)), so
//! that the two differ in their plumbing only.
//!
//! - **The producer** ([`Producer`], `StageInit::Producer` with the demand dispatcher,
//!   `Dispatch::demand()`): `handle_demand(d)` emits the next `d` events ([`produce`]), fewer
//!   once it reaches the end. A processor asks `2B` when it subscribes, then `B` each time it
//!   has handled `B`; the demand dispatcher sends what an ask makes to the consumer that asked
//!   (the one with the most demand), so in steady state each batch is `B` events, made for the
//!   processor that has room, as the baseline's producer reserves a slot before it produces.
//! - **Two processors** ([`Processor`], `StageInit::ProducerConsumer`, each subscribed to the
//!   producer): `handle_events` maps the batch with [`process`] (in place) and emits it.
//! - **The batcher** ([`Batcher`], `StageInit::ProducerConsumer` subscribed to both
//!   processors): pushes each batch into a [`Rebatcher`] and emits the full batches; a batch of
//!   `B` that arrives while nothing is buffered is emitted as it is. It knows how many events the
//!   run carries and emits the short rest, if any, once it has taken the last.
//! - **The sink** ([`Sink`], `StageInit::Consumer` subscribed to the batcher): records every
//!   batch on the run's [`Tally`]; once it has counted every event it says so to
//!   [`Pipeline::run`].
//!
//! Events travel as one `Vec<u64>` per dispatch (`Emit::Events`), a cast to the next stage's
//! process; each ask is a cast the other way.
//!
//! **The end.** A GenStage pipeline ends from its source by cancellation: here the producer is
//! stopped (`normal`) once the sink has counted the last event, and its subscriptions' cancel
//! mode (permanent, the default) stops the processors, whose end stops the batcher, whose end
//! stops the sink; [`Pipeline::run`] resolves once all five have exited. The producer is not
//! stopped earlier, as soon as it has emitted its last event, because a producer-consumer
//! whose subscription ends drops the events of that subscription it holds and has not handled
//! yet (its consumers had not asked for them): the last events could be lost on their way. The batcher's short rest is for the same reason
//! flushed on the count of events rather than on its producers' end.

use std::sync::Arc;

use otp_core::process::ExitReason;
use otp_stage::{
    Dispatch, Emit, Nothing, ProducerOptions, Stage, StageContext, StageInit, StageRef,
    SubscribeOptions, SubscribeTo, Subscription,
};
use tokio::sync::oneshot;

use crate::pipeline::{PROCESSORS, Pipeline, Rebatcher, Spec, Tally, process, produce};

/// The otp-stage pipeline.
pub struct OtpStagePipeline;

/// Every subscription of the pipeline: `max_demand: 2B`, `min_demand: B`.
fn subscription(spec: &Spec) -> SubscribeOptions {
    SubscribeOptions::new()
        .max_demand(spec.max_demand())
        .min_demand(spec.min_demand())
}

impl Pipeline for OtpStagePipeline {
    async fn run(spec: Spec, tally: Arc<Tally>) {
        let options = subscription(&spec);
        let producer = StageRef::<Producer>::start(spec.events)
            .await
            .expect("the producer did not start");
        let mut processors = Vec::with_capacity(PROCESSORS);
        for _ in 0..PROCESSORS {
            processors.push(
                StageRef::<Processor>::start(SubscribeTo::new(&producer, options.clone()))
                    .await
                    .expect("a processor did not start"),
            );
        }
        let to_processors = processors
            .iter()
            .map(|processor| SubscribeTo::new(processor, options.clone()))
            .collect();
        let batcher = StageRef::<Batcher>::start((to_processors, spec))
            .await
            .expect("the batcher did not start");
        let (done, counted) = oneshot::channel();
        let sink = StageRef::<Sink>::start(SinkArgs {
            to: SubscribeTo::new(&batcher, options),
            tally,
            events: spec.events,
            done: Some(done),
        })
        .await
        .expect("the sink did not start");
        if spec.events > 0 {
            counted.await.expect("the sink ended before the last event");
        }
        producer
            .stop(ExitReason::Normal)
            .await
            .expect("the producer did not stop");
        for processor in &processors {
            processor.wait_exit().await;
        }
        batcher.wait_exit().await;
        sink.wait_exit().await;
    }
}

/// The producer: the events `next..end`, made on demand.
pub struct Producer {
    next: u64,
    end: u64,
}

impl Stage for Producer {
    /// How many events to emit.
    type Args = u64;
    type In = Nothing;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(events: u64, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Producer(
            Producer {
                next: 0,
                end: events,
            },
            ProducerOptions::producer().dispatcher(Dispatch::demand()),
        )
    }

    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        let to = self.next.saturating_add(demand as u64).min(self.end);
        let events = produce(self.next, to);
        self.next = to;
        Emit::Events(events)
    }
}

/// A processor: doubles every event of each batch ([`process`]) and emits the batch.
pub struct Processor;

impl Stage for Processor {
    /// Its subscription to the producer.
    type Args = SubscribeTo<u64>;
    type In = u64;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(to: SubscribeTo<u64>, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::ProducerConsumer(
            Processor,
            ProducerOptions::producer_consumer().dispatcher(Dispatch::demand()),
            vec![to],
        )
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<u64> {
        Emit::Events(process(events))
    }
}

/// The batcher: re-batches what both processors send to batches of `B` ([`Rebatcher`]), and
/// emits the short rest once it has taken the run's last event.
pub struct Batcher {
    rebatcher: Option<Rebatcher>,
    /// Events taken so far.
    taken: u64,
    /// Events the run carries.
    events: u64,
}

impl Stage for Batcher {
    /// Its subscriptions to the processors, and what the run carries.
    type Args = (Vec<SubscribeTo<u64>>, Spec);
    type In = u64;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init((to, spec): Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::ProducerConsumer(
            Batcher {
                rebatcher: Some(Rebatcher::new(spec.batch)),
                taken: 0,
                events: spec.events,
            },
            ProducerOptions::producer_consumer(),
            to,
        )
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<u64> {
        let Some(rebatcher) = self.rebatcher.as_mut() else {
            return Emit::Stop(ExitReason::error("events after the last"));
        };
        self.taken += events.len() as u64;
        rebatcher.push(events);
        // With batches of `B` from the processors, at most one full batch: emitted as it is.
        let mut out: Option<Vec<u64>> = None;
        while let Some(full) = rebatcher.next_full() {
            match out.as_mut() {
                None => out = Some(full),
                Some(out) => out.extend_from_slice(&full),
            }
        }
        if self.taken >= self.events
            && let Some(rest) = self.rebatcher.take().and_then(Rebatcher::finish)
        {
            match out.as_mut() {
                None => out = Some(rest),
                Some(out) => out.extend_from_slice(&rest),
            }
        }
        Emit::Events(out.unwrap_or_default())
    }
}

/// What the sink is started with.
pub struct SinkArgs {
    to: SubscribeTo<u64>,
    tally: Arc<Tally>,
    events: u64,
    done: Option<oneshot::Sender<()>>,
}

/// The sink: records every batch on the run's [`Tally`]; says when it has counted the last
/// event.
pub struct Sink {
    tally: Arc<Tally>,
    /// Events counted so far.
    counted: u64,
    /// Events the run carries.
    events: u64,
    done: Option<oneshot::Sender<()>>,
}

impl Stage for Sink {
    type Args = SinkArgs;
    type In = u64;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(args: SinkArgs, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Consumer(
            Sink {
                tally: args.tally,
                counted: 0,
                events: args.events,
                done: args.done,
            },
            vec![args.to],
        )
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        self.tally.record(&events);
        self.counted += events.len() as u64;
        if self.counted >= self.events
            && let Some(done) = self.done.take()
        {
            let _ = done.send(());
        }
        Emit::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tests::carries_every_event;

    /// otp-stage's pipeline carries every event, each doubled once, on both runtimes, at every
    /// batch size, whole batches or not, and ends (see [`carries_every_event`]).
    #[test]
    fn otp_stage_pipeline_carries_every_event() {
        carries_every_event::<OtpStagePipeline>();
    }
}
