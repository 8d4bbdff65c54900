//! The pipeline workloads: GenStage-style stages passing batches of events, producer → 2
//! processors → batcher → sink, at batch sizes 5, 100 and 1000.
//!
//! # The pipeline
//!
//! Every framework builds the same five stages ([`Pipeline::run`]) and gives each the same
//! code, from this module, so that only the plumbing between the stages differs:
//!
//! - **the producer** emits the events `0..events` (`u64`s) in batches of `B` ([`produce`]),
//!   each only once a processor has room for it (demand), to whichever of the two processors
//!   has room;
//! - **two processors**, each taking its share of the producer's batches and mapping every
//!   event `x` to `2x` ([`process`]);
//! - **one batcher**, subscribed to both processors, which re-batches what they send to batches
//!   of exactly `B` ([`Rebatcher`]; the last may be short) for
//! - **the sink**, which records every batch on the run's [`Tally`]: the events counted, their
//!   sum, and the instants the count reached the marks the harness set.
//!
//! **Demand.** The batch size `B` stands for a GenStage subscription with `min_demand: B`,
//! `max_demand: 2B` ([`Spec::min_demand`], [`Spec::max_demand`]): a consumer asks for `2B`
//! events when it subscribes, then for `B` more each time it has handled `B`, so events come in
//! batches of `B` and at most `2B` — two batches — are outstanding on each subscription. The
//! reference figures of the issue (about 6 M events/s at max 10 / min 5, about 100 M events/s at
//! max 1000 / min 500) were taken on such subscriptions. A framework without demand bounds the
//! same thing with its queues ([`Spec::window`] batches per subscription).
//!
//! # The workloads and the metric
//!
//! `pipeline_b5`, `pipeline_b100` and `pipeline_b1000` ([`Workload::batch_size`]), one child
//! each, reporting `pipeline_events_per_s_b5`, `_b100` and `_b1000`:
//!
//! - **timed**: the pipeline carries `n / 10` warm-up events and then `n` timed ones, in one run
//!   of the pipeline; the rate is `n` over the time from the instant the sink counted the last
//!   warm-up event to the instant it counted the last event ([`Tally`] notes both, on the
//!   sink's side). So the stages' spawning, the first batches filling the queues and the
//!   teardown are outside the time: the figure is the pipeline's steady state. The count and the
//!   sum are checked afterwards (every event, each doubled exactly once: `Σ 2x` over `0..n`).
//! - **counted** ([`Mode::Counted`]): exactly `n` events, no warm-up and no clock, for an
//!   instruction count per event on the current-thread runtime.
//!
//! The full-run `n` ([`Workload::default_n`]) makes a round take 0.25–0.5 s at the reference
//! rates: 1,500,000 events at batch 5 (6 M/s: 0.25 s), 20,000,000 at batch 100, 50,000,000 at
//! batch 1000 (100 M/s: 0.5 s). The raw baseline runs larger batches several times faster than
//! the reference (hundreds of M events/s at batch 1000 on the reference machine), so its
//! batch-1000 rounds are the shortest, about a tenth of a second.
//!
//! # The frameworks
//!
//! The ratio of every pipeline metric is taken against `tokio-pipeline`
//! ([`frameworks::tokio_pipeline`](crate::frameworks::tokio_pipeline), the raw baseline).
//! [`Framework::OtpStage`](crate::Framework::OtpStage) (`otp-stage`,
//! [`frameworks::otp_stage`](crate::frameworks::otp_stage)) builds the five stages as
//! otp-stage stages — a producer whose `handle_demand` makes the events with [`produce`], two
//! producer-consumers mapping with [`process`] behind the producer's demand dispatcher, a
//! producer-consumer batcher with a [`Rebatcher`] subscribed to both, a consumer recording on
//! the [`Tally`] — every subscription with [`Spec::min_demand`] and [`Spec::max_demand`]. Its
//! budget ([`STAGE_BUDGETS`](crate::budget::STAGE_BUDGETS)): at least 0.5× the baseline's
//! events/s at each batch size, decided by the per-round ratios of every runtime.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::harness::warmup;
use crate::runtime::{self, Driver};
use crate::{Metric, Mode, Runtime, Workload};

/// The number of processors between the producer and the batcher.
pub const PROCESSORS: usize = 2;

/// The batch sizes of the pipeline workloads, in table order.
pub const BATCH_SIZES: [usize; 3] = [5, 100, 1000];

/// What one run of a pipeline carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The batch size `B`: the producer's batches, and the batcher's.
    pub batch: usize,
    /// How many events the producer emits: `0..events`.
    pub events: u64,
}

impl Spec {
    /// The `max_demand` of every subscription: `2B`.
    pub fn max_demand(&self) -> usize {
        2 * self.batch
    }

    /// The `min_demand` of every subscription: `B`.
    pub fn min_demand(&self) -> usize {
        self.batch
    }

    /// How many batches may be outstanding on one subscription: `max_demand / B`, 2.
    pub fn window(&self) -> usize {
        self.max_demand() / self.batch
    }

    /// The sum of every event the sink must receive: each of `0..events` doubled, so
    /// `events × (events − 1)`.
    pub fn expected_sum(&self) -> u64 {
        self.events * self.events.saturating_sub(1)
    }
}

/// A framework's pipeline: producer → [`PROCESSORS`] processors → batcher → sink.
pub trait Pipeline: 'static {
    /// Builds and runs one pipeline carrying `spec.events` events in batches of `spec.batch`:
    /// the producer emits them with [`produce`], each processor maps them with [`process`], the
    /// batcher re-batches them with a [`Rebatcher`], and the sink records every batch it
    /// receives on `tally` ([`Tally::record`]). Resolves once every stage has ended, the sink
    /// having recorded the last event.
    fn run(spec: Spec, tally: Arc<Tally>) -> impl Future<Output = ()> + Send;

    /// Runs `future` to completion on a fresh runtime of kind `runtime`: by default tokio's,
    /// with `future` spawned as a task ([`runtime::block_on`]).
    fn block_on<F>(runtime: Runtime, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        runtime::block_on(runtime, Driver::SpawnedTask, future)
    }
}

/// The producer's work: the batch of events `from..to`.
pub fn produce(from: u64, to: u64) -> Vec<u64> {
    (from..to).collect()
}

/// A processor's work: every event `x` of `batch` becomes `2x`, in place.
pub fn process(mut batch: Vec<u64>) -> Vec<u64> {
    for event in &mut batch {
        *event *= 2;
    }
    batch
}

/// The batcher's work: takes batches of any size and hands out batches of exactly `size`, in
/// the order of their events; [`Rebatcher::finish`] hands out the short rest.
///
/// A batch that arrives whole (exactly `size` events) while nothing is buffered is handed on as
/// it is; otherwise its events are copied into the batch being filled.
#[derive(Debug)]
pub struct Rebatcher {
    size: usize,
    /// The batch being filled.
    buffer: Vec<u64>,
    /// The last batch pushed, of which `pending[offset..]` is not handed out yet.
    pending: Vec<u64>,
    offset: usize,
}

impl Rebatcher {
    /// A re-batcher to batches of `size` events (at least 1).
    pub fn new(size: usize) -> Self {
        assert!(size > 0, "a batch holds at least one event");
        Rebatcher {
            size,
            buffer: Vec::with_capacity(size),
            pending: Vec::new(),
            offset: 0,
        }
    }

    /// Adds `batch`; take the full batches with [`Rebatcher::next_full`] before the next push.
    pub fn push(&mut self, batch: Vec<u64>) {
        assert!(
            self.offset >= self.pending.len(),
            "the previous batch was not taken in full"
        );
        self.pending = batch;
        self.offset = 0;
    }

    /// The next full batch, if the events pushed make one.
    pub fn next_full(&mut self) -> Option<Vec<u64>> {
        if self.buffer.is_empty() && self.offset == 0 && self.pending.len() == self.size {
            // `pending` is left empty, `offset` at 0.
            return Some(std::mem::take(&mut self.pending));
        }
        let rest = &self.pending[self.offset..];
        let take = (self.size - self.buffer.len()).min(rest.len());
        self.buffer.extend_from_slice(&rest[..take]);
        self.offset += take;
        (self.buffer.len() == self.size)
            .then(|| std::mem::replace(&mut self.buffer, Vec::with_capacity(self.size)))
    }

    /// The events left once every batch was pushed and every full one taken: a last, short
    /// batch, if any.
    pub fn finish(self) -> Option<Vec<u64>> {
        assert!(
            self.offset >= self.pending.len(),
            "the last batch was not taken in full"
        );
        (!self.buffer.is_empty()).then_some(self.buffer)
    }
}

/// What the sink saw: how many events, their sum, and (in a timed run) the instants the count
/// reached the warm-up's end and the last event.
///
/// Only the sink calls [`Tally::record`], once per batch: two atomic additions per batch and,
/// twice per run, a clock read — the same for every framework.
#[derive(Debug)]
pub struct Tally {
    count: AtomicU64,
    sum: AtomicU64,
    /// Whether the marks are noted (a timed run).
    timed: bool,
    /// The count at which the clock starts: the last warm-up event.
    warm: u64,
    /// The count at which the clock stops: the last event.
    total: u64,
    warmed_at: OnceLock<Instant>,
    done_at: OnceLock<Instant>,
}

impl Tally {
    /// A tally that notes the instants the count reaches `warm` and `total`.
    pub fn timed(warm: u64, total: u64) -> Self {
        Tally::new(true, warm, total)
    }

    /// A tally that only counts and sums (no clock is read).
    pub fn untimed() -> Self {
        Tally::new(false, 0, u64::MAX)
    }

    fn new(timed: bool, warm: u64, total: u64) -> Self {
        Tally {
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            timed,
            warm,
            total,
            warmed_at: OnceLock::new(),
            done_at: OnceLock::new(),
        }
    }

    /// Records a batch the sink received.
    pub fn record(&self, batch: &[u64]) {
        let sum = batch
            .iter()
            .fold(0u64, |sum, &event| sum.wrapping_add(event));
        self.sum.fetch_add(sum, Ordering::Relaxed);
        let len = batch.len() as u64;
        let before = self.count.fetch_add(len, Ordering::Relaxed);
        if self.timed {
            let after = before + len;
            if before < self.warm && self.warm <= after {
                let _ = self.warmed_at.set(Instant::now());
            }
            if before < self.total && self.total <= after {
                let _ = self.done_at.set(Instant::now());
            }
        }
    }

    /// The events recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The sum of the events recorded (wrapping).
    pub fn sum(&self) -> u64 {
        self.sum.load(Ordering::Relaxed)
    }

    /// Checks that the sink received exactly the events of `spec`, each doubled once.
    pub fn check(&self, spec: &Spec) -> Result<(), String> {
        if self.count() != spec.events {
            return Err(format!(
                "the sink counted {} events, not {}",
                self.count(),
                spec.events
            ));
        }
        if self.sum() != spec.expected_sum() {
            return Err(format!(
                "the events' sum is {}, not {}: an event was lost, repeated or not processed",
                self.sum(),
                spec.expected_sum()
            ));
        }
        Ok(())
    }

    /// The time from the warm-up's last event (or, without warm-up, from `started`) to the
    /// last event, both as counted by the sink; `None` before the last was counted.
    pub fn elapsed(&self, started: Instant) -> Option<Duration> {
        let from = if self.warm == 0 {
            started
        } else {
            *self.warmed_at.get()?
        };
        Some(self.done_at.get()?.duration_since(from))
    }
}

/// Runs the pipeline workload `workload` with `n` events on framework `P`, on a runtime of kind
/// `runtime`, timed or counted (which returns no metrics); returns its metric.
pub fn run<P: Pipeline>(
    workload: Workload,
    n: u64,
    runtime: Runtime,
    mode: Mode,
) -> Vec<(Metric, f64)> {
    assert!(n > 0, "a workload needs at least one event");
    let batch = workload
        .batch_size()
        .unwrap_or_else(|| panic!("{workload} is not a pipeline workload"));
    let metric = workload.metrics()[0];
    let warm = match mode {
        Mode::Timed => warmup(n),
        Mode::Counted => 0,
    };
    let spec = Spec {
        batch,
        events: warm + n,
    };
    let tally = Arc::new(match mode {
        Mode::Timed => Tally::timed(warm, spec.events),
        Mode::Counted => Tally::untimed(),
    });
    P::block_on(runtime, async move {
        let started = Instant::now();
        P::run(spec, tally.clone()).await;
        if let Err(error) = tally.check(&spec) {
            panic!("{workload}: {error}");
        }
        match mode {
            Mode::Timed => {
                let elapsed = tally
                    .elapsed(started)
                    .expect("the sink counted the last event");
                vec![(metric, n as f64 / elapsed.as_secs_f64())]
            }
            Mode::Counted => Vec::new(),
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::frameworks::tokio_pipeline::TokioPipeline;

    fn rebatch(size: usize, batches: &[&[u64]]) -> Vec<Vec<u64>> {
        let mut rebatcher = Rebatcher::new(size);
        let mut out = Vec::new();
        for batch in batches {
            rebatcher.push(batch.to_vec());
            while let Some(full) = rebatcher.next_full() {
                out.push(full);
            }
        }
        out.extend(rebatcher.finish());
        out
    }

    #[test]
    fn rebatches_in_order() {
        assert_eq!(
            rebatch(3, &[&[1, 2], &[3, 4, 5, 6, 7], &[], &[8]]),
            vec![vec![1, 2, 3], vec![4, 5, 6], vec![7, 8]]
        );
        // Whole batches pass as they are; a short one is completed by the next.
        assert_eq!(
            rebatch(2, &[&[1, 2], &[3], &[4, 5], &[6, 7]]),
            vec![vec![1, 2], vec![3, 4], vec![5, 6], vec![7]]
        );
        assert_eq!(rebatch(4, &[]), Vec::<Vec<u64>>::new());
    }

    #[test]
    fn stages_work() {
        assert_eq!(produce(3, 6), vec![3, 4, 5]);
        assert_eq!(process(vec![0, 1, 7]), vec![0, 2, 14]);
        let spec = Spec {
            batch: 5,
            events: 4,
        };
        assert_eq!(
            (spec.min_demand(), spec.max_demand(), spec.window()),
            (5, 10, 2)
        );
        assert_eq!(spec.expected_sum(), 2 * (1 + 2 + 3));
    }

    #[test]
    fn tally_marks_and_checks() {
        let tally = Tally::timed(2, 5);
        let started = Instant::now();
        tally.record(&[0, 2]);
        assert!(tally.elapsed(started).is_none(), "not at the end yet");
        tally.record(&[4, 6, 8]);
        assert!(tally.elapsed(started).is_some());
        let spec = Spec {
            batch: 2,
            events: 5,
        };
        assert_eq!(tally.check(&spec), Ok(()));
        tally.record(&[1]);
        assert!(tally.check(&spec).is_err(), "one event too many");
        let untimed = Tally::untimed();
        untimed.record(&[0, 2, 4, 6, 8]);
        assert_eq!(untimed.check(&spec), Ok(()));
        assert!(untimed.elapsed(started).is_none(), "no clock read");
        let wrong = Tally::untimed();
        wrong.record(&[0, 1, 2, 3, 4]);
        assert!(wrong.check(&spec).is_err(), "not processed");
    }

    /// The raw baseline carries every event (see [`carries_every_event`]).
    #[test]
    fn tokio_pipeline_carries_every_event() {
        carries_every_event::<TokioPipeline>();
    }

    /// A pipeline `P` carries every event, each doubled once, on both runtimes, at every batch
    /// size, whole batches or not, and ends; its timed run reports its one metric and its
    /// counted run none. No timing is asserted.
    pub(crate) fn carries_every_event<P: Pipeline>() {
        for runtime in Runtime::ALL {
            for batch in [1, 5, 100] {
                for events in [0, 1, 999, 1_000] {
                    let spec = Spec { batch, events };
                    let tally = Arc::new(Tally::untimed());
                    let seen = tally.clone();
                    runtime::block_on(runtime, Driver::SpawnedTask, async move {
                        P::run(spec, seen).await;
                    });
                    assert_eq!(tally.check(&spec), Ok(()), "{runtime} {spec:?}");
                }
            }
        }
        for workload in Workload::PIPELINES {
            for mode in [Mode::Timed, Mode::Counted] {
                let metrics = run::<P>(workload, 2_000, Runtime::CurrentThread, mode);
                match mode {
                    Mode::Timed => {
                        assert_eq!(metrics.len(), 1);
                        assert_eq!(metrics[0].0, workload.metrics()[0]);
                        assert!(metrics[0].1 > 0.0);
                    }
                    Mode::Counted => assert!(metrics.is_empty()),
                }
            }
        }
    }
}
