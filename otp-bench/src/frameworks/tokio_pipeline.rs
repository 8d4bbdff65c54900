//! tokio-pipeline, the baseline of the pipeline workloads: producer → 2 processors → batcher →
//! sink as five tokio tasks joined by bounded `tokio::sync::mpsc` channels that carry batches
//! (`Vec<u64>`), as a competent raw tokio program would write it, with no framework between
//! the stages. What each stage does is the shared code of [`pipeline`](crate::pipeline)
//! ([`produce`], [`process`], [`Rebatcher`], [`Tally::record`]), so that a framework measured
//! against this one differs in its plumbing only.
//!
//! - **Producer → processors: one channel per processor, capacity [`Spec::window`] batches
//!   (2).** A GenStage subscription with `max_demand: 2B, min_demand: B` lets a consumer have
//!   at most `2B` events, two batches, outstanding; a bounded channel of two batches is that
//!   demand, enforced by the channel: the producer first **reserves a slot** (a permit,
//!   `Sender::try_reserve`) and only then produces the batch, so it never makes events no
//!   processor asked for. Sharing: it takes the processors in turn and, when the one whose
//!   turn it is has no room, gives the batch to the other if that one has room (as GenStage's
//!   `DemandDispatcher` sends to whichever consumer has demand); when neither has room it
//!   waits for the first that has (`select!` over both `Sender::reserve`s). So both get an
//!   equal share while they keep up, and a stalled one does not hold the other back. A single
//!   channel with its receiver shared behind a lock was not chosen: the processors would take
//!   turns at the lock rather than each having its own demand, and a processor waiting for the
//!   lock while the other waits for a batch is a wake-up more per batch.
//! - **Processors → batcher: one channel, capacity `2 × window` (4)**, a clone of its sender
//!   in each processor: the batcher is subscribed to both processors, each allowed two batches
//!   outstanding. Each processor doubles every event of a batch in place and sends the batch on
//!   (no allocation).
//! - **Batcher → sink: one channel, capacity `window` (2).** The batcher re-batches to exactly
//!   `B` events; since the processors' batches are already of `B`, each is handed on whole
//!   unless a short one came first (the last).
//! - **Sink**: records every batch on the run's [`Tally`] (count, sum, the instants of the two
//!   marks) and drops it: each batch is allocated once, by the producer, and freed once, by
//!   the sink.
//!
//! The pipeline ends from its source: the producer's senders are dropped after the last
//! batch, each stage's loop ends when its input is closed and empty, and
//! [`Pipeline::run`] resolves once every task has ended.

use std::sync::Arc;

use tokio::sync::mpsc::{self, Permit, error::TrySendError};

use crate::pipeline::{PROCESSORS, Pipeline, Rebatcher, Spec, Tally, process, produce};

/// A batch of events, as every channel of the pipeline carries them.
type Batch = Vec<u64>;

/// The raw tokio pipeline.
pub struct TokioPipeline;

impl Pipeline for TokioPipeline {
    async fn run(spec: Spec, tally: Arc<Tally>) {
        let window = spec.window();
        let (to_sink, sink_input) = mpsc::channel::<Batch>(window);
        let (to_batcher, batcher_input) = mpsc::channel::<Batch>(window * PROCESSORS);
        let sink = tokio::spawn(sink(sink_input, tally));
        let batcher = tokio::spawn(batcher(batcher_input, to_sink, spec.batch));
        let mut processors = Vec::with_capacity(PROCESSORS);
        let to_processors: [mpsc::Sender<Batch>; PROCESSORS] = std::array::from_fn(|_| {
            let (to_processor, processor_input) = mpsc::channel::<Batch>(window);
            processors.push(tokio::spawn(processor(processor_input, to_batcher.clone())));
            to_processor
        });
        drop(to_batcher);
        let producer = tokio::spawn(producer(spec, to_processors));
        producer.await.expect("the producer panicked");
        for processor in processors {
            processor.await.expect("a processor panicked");
        }
        batcher.await.expect("the batcher panicked");
        sink.await.expect("the sink panicked");
    }
}

/// The producer: `0..spec.events` in batches of `spec.batch`, each produced once a processor
/// has room for it ([`demand`]).
async fn producer(spec: Spec, outputs: [mpsc::Sender<Batch>; PROCESSORS]) {
    let mut turn = 0;
    let mut next = 0;
    while next < spec.events {
        let permit = demand(&outputs, &mut turn).await;
        let to = next.saturating_add(spec.batch as u64).min(spec.events);
        permit.send(produce(next, to));
        next = to;
    }
}

/// A slot for one batch on a processor's channel: the processor whose `turn` it is if it has
/// room, else the other if it has, else the first that gets room; `turn` passes to the
/// processor after the one chosen.
async fn demand<'a>(
    outputs: &'a [mpsc::Sender<Batch>; PROCESSORS],
    turn: &mut usize,
) -> Permit<'a, Batch> {
    for i in 0..PROCESSORS {
        let k = (*turn + i) % PROCESSORS;
        match outputs[k].try_reserve() {
            Ok(permit) => {
                *turn = (k + 1) % PROCESSORS;
                return permit;
            }
            Err(TrySendError::Full(())) => {}
            Err(TrySendError::Closed(())) => panic!("a processor ended before the producer"),
        }
    }
    let [first, second] = outputs;
    let (k, permit) = tokio::select! {
        permit = first.reserve() => (0, permit),
        permit = second.reserve() => (1, permit),
    };
    *turn = (k + 1) % PROCESSORS;
    permit.expect("a processor ended before the producer")
}

/// A processor: doubles every event of each batch and sends the batch on to the batcher.
async fn processor(mut input: mpsc::Receiver<Batch>, output: mpsc::Sender<Batch>) {
    while let Some(batch) = input.recv().await {
        output
            .send(process(batch))
            .await
            .expect("the batcher ended before the processors");
    }
}

/// The batcher: re-batches what both processors send to batches of `size` for the sink, and
/// sends the short rest, if any, once both processors have ended.
async fn batcher(mut input: mpsc::Receiver<Batch>, output: mpsc::Sender<Batch>, size: usize) {
    let mut rebatcher = Rebatcher::new(size);
    while let Some(batch) = input.recv().await {
        rebatcher.push(batch);
        while let Some(full) = rebatcher.next_full() {
            output
                .send(full)
                .await
                .expect("the sink ended before the batcher");
        }
    }
    if let Some(rest) = rebatcher.finish() {
        output
            .send(rest)
            .await
            .expect("the sink ended before the batcher");
    }
}

/// The sink: records every batch on `tally`.
async fn sink(mut input: mpsc::Receiver<Batch>, tally: Arc<Tally>) {
    while let Some(batch) = input.recv().await {
        tally.record(&batch);
    }
}
