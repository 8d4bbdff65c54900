//! A GenStage pipeline with backpressure: a slow consumer slows only itself, and the producer
//! makes only what it is asked for.
//!
//! ```text
//! numbers ──▶ multiplier (×10) ──┬──▶ fast  (sleeps 1 ms an event)
//! producer    producer_consumer  └──▶ slow  (sleeps 8 ms an event)
//! ```
//!
//! Events flow down, demand flows up. Each consumer asks the multiplier for at most 10 events
//! and asks again, after each batch, for what it has handled; the multiplier's demand dispatcher
//! gives each batch to the consumer that has asked for the most, so the fast consumer, which
//! asks more often, gets more events, and the slow one never has more than 10 waiting for it.
//! The multiplier handles events only as fast as its consumers ask for them, and asks numbers
//! for at most 20 at a time. numbers records each demand in `handle_demand` and emits exactly
//! that much, so nothing piles up in its buffer.
//!
//! Every 100 ms the program prints what numbers has been asked for and has emitted, its buffered
//! count (`estimate_buffered_count`), the events on their way (emitted and not yet handled: never
//! more than the demands allow, 20 + 10 + 10), and how many events each consumer has handled.
//! After 1000 events it stops numbers: the end goes down the permanent subscriptions and the other
//! stages exit too. A summary checks that each event arrived exactly once.
//!
//! ```sh
//! cargo run -p otp-examples --example stage_pipeline
//! ```

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use otp::process::{ExitReason, wait_exit};
use otp::stage::{
    Emit, Nothing, ProducerOptions, Stage, StageCallResult, StageContext, StageInit, StageRef,
    SubscribeOptions, SubscribeTo, Subscription,
};

/// How many numbers flow through the pipeline: 1 to 1000.
const TOTAL: u64 = 1000;
/// What the multiplier multiplies by.
const FACTOR: u64 = 10;
/// The multiplier's `max_demand` on numbers (its `min_demand` is half of it).
const UPSTREAM_DEMAND: usize = 20;
/// Each consumer's `max_demand` on the multiplier (the same for both, as the demand dispatcher
/// expects).
const CONSUMER_DEMAND: usize = 10;
/// How often the table gets a row.
const EVERY: Duration = Duration::from_millis(100);
/// The run is a failure if it has not ended by then (it takes about two seconds).
const DEADLINE: Duration = Duration::from_secs(30);

/// What numbers has been asked for, and has emitted: its reply to a call.
#[derive(Clone, Copy, Debug, Default)]
struct Demanded {
    asks: usize,
    events: usize,
    largest: usize,
    emitted: u64,
}

/// The producer: 1, 2, 3, ... up to [`TOTAL`], as many as it is asked for.
struct Numbers {
    next: u64,
    demanded: Demanded,
}

impl Stage for Numbers {
    type Args = ();
    type In = Nothing;
    type Out = u64;
    type Call = ();
    type Reply = Demanded;
    type Cast = ();

    async fn init((): (), _: &mut StageContext<Self>) -> StageInit<Self> {
        let demanded = Demanded::default();
        StageInit::Producer(Numbers { next: 1, demanded }, ProducerOptions::producer())
    }

    /// Records the demand, and emits that many numbers (fewer once it runs out).
    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        let d = &mut self.demanded;
        (d.asks, d.events, d.largest) = (d.asks + 1, d.events + demand, d.largest.max(demand));
        let end = (self.next + demand as u64).min(TOTAL + 1);
        let events: Vec<u64> = (self.next..end).collect();
        self.next = end;
        d.emitted += events.len() as u64;
        Emit::Events(events)
    }

    async fn handle_call(&mut self, (): (), _: &mut StageContext<Self>) -> StageCallResult<Self> {
        StageCallResult::Reply(self.demanded, Vec::new())
    }
}

/// The producer-consumer: each number times [`FACTOR`].
struct Multiplier;

impl Stage for Multiplier {
    type Args = StageRef<Numbers>;
    type In = u64;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(numbers: StageRef<Numbers>, _: &mut StageContext<Self>) -> StageInit<Self> {
        let options = SubscribeOptions::new().max_demand(UPSTREAM_DEMAND);
        let to = vec![SubscribeTo::new(&numbers, options)];
        StageInit::ProducerConsumer(Multiplier, ProducerOptions::producer_consumer(), to)
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<u64> {
        Emit::Events(events.into_iter().map(|n| n * FACTOR).collect())
    }
}

/// The events a consumer has handled, in order: shared with `main`, which reads it.
type Log = Arc<Mutex<Vec<u64>>>;

/// A consumer that takes `pause` per event, printing its first batch and, when it stops, its
/// count.
struct Printer {
    name: &'static str,
    pause: Duration,
    log: Log,
}

impl Stage for Printer {
    type Args = (&'static str, Duration, StageRef<Multiplier>, Log);
    type In = u64;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(args: Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        let (name, pause, multiplier, log) = args;
        let options = SubscribeOptions::new().max_demand(CONSUMER_DEMAND);
        let to = vec![SubscribeTo::new(&multiplier, options)];
        StageInit::Consumer(Printer { name, pause, log }, to)
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        if self.log.lock().unwrap().is_empty() {
            println!("    [{}] its first batch: {events:?}", self.name);
        }
        for event in events {
            tokio::time::sleep(self.pause).await; // the work an event takes
            self.log.lock().unwrap().push(event);
        }
        Emit::none()
    }

    async fn terminate(&mut self, reason: &ExitReason, _: &mut StageContext<Self>) {
        let n = self.log.lock().unwrap().len();
        println!("    [{}] exits ({reason}) after {n} events", self.name);
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    otp_examples::log_to_stderr();
    if let Err(e) = run().await {
        eprintln!("The pipeline failed: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("Stage pipeline: numbers -> multiplier (x{FACTOR}) -> fast and slow consumers.\n");
    let numbers = StageRef::<Numbers>::start(()).await?;
    let multiplier = StageRef::<Multiplier>::start(numbers.clone()).await?;
    let (fast_log, slow_log) = (Log::default(), Log::default());
    let printer = |name, ms, log: &Log| {
        let pause = Duration::from_millis(ms);
        StageRef::<Printer>::start((name, pause, multiplier.clone(), log.clone()))
    };
    let fast = printer("fast", 1, &fast_log).await?;
    let slow = printer("slow", 8, &slow_log).await?;

    println!(
        "Every {EVERY:?}: what numbers was asked for, emitted and holds in its buffer; the events \
         on their way (emitted, not yet handled); what each consumer has handled.\n"
    );
    println!("   time | numbers: asked emitted buffered | on their way |  fast  slow");
    let (started, mut most_on_the_way, mut most_buffered) = (Instant::now(), 0, 0);
    loop {
        tokio::time::sleep(EVERY).await;
        // What numbers emitted is read before what the consumers handled: the difference can
        // only be underestimated by the time between the reads.
        let d = numbers.call(()).await?;
        let buffered = numbers.estimate_buffered_count().await?;
        let (f, s) = (
            fast_log.lock().unwrap().len(),
            slow_log.lock().unwrap().len(),
        );
        let on_the_way = (d.emitted as usize).saturating_sub(f + s);
        most_on_the_way = most_on_the_way.max(on_the_way);
        most_buffered = most_buffered.max(buffered);
        let t = started.elapsed().as_millis();
        let (asked, emitted) = (d.events, d.emitted);
        println!(
            "{t:>5}ms | {asked:>15} {emitted:>7} {buffered:>8} | {on_the_way:>11} | {f:>5} {s:>5}"
        );
        if (f + s) as u64 >= TOTAL {
            break;
        }
        if started.elapsed() > DEADLINE {
            return Err(format!("only {} of {TOTAL} events handled", f + s).into());
        }
    }
    let d = numbers.call(()).await?;

    // The consumers' subscriptions are permanent: when numbers stops, its end goes down the line.
    println!("\nAll {TOTAL} events handled: numbers stops, and the other stages follow it.");
    let exits = join_all([multiplier.pid(), fast.pid(), slow.pid()].map(wait_exit));
    numbers.stop(ExitReason::Normal).await?;
    exits.await;

    println!("\nSummary:");
    println!(
        "  numbers was asked {} times, for {} events, never more than {} at once (the \
         multiplier's max_demand); it emitted {}, and held at most {most_buffered} in its buffer.",
        d.asks, d.events, d.largest, d.emitted
    );
    let (fast_log, slow_log) = (fast_log.lock().unwrap(), slow_log.lock().unwrap());
    let (f, s) = (fast_log.len(), slow_log.len());
    let verdict = if f > s {
        ": the slow one held back only itself"
    } else {
        ""
    };
    println!("  fast handled {f} events, slow {s}{verdict}.");
    let bound = UPSTREAM_DEMAND + 2 * CONSUMER_DEMAND;
    println!(
        "  At most {most_on_the_way} events were on their way at once (the demands allow {bound})."
    );
    let mut all: Vec<u64> = fast_log.iter().chain(slow_log.iter()).copied().collect();
    all.sort_unstable();
    let expected: Vec<u64> = (1..=TOTAL).map(|n| n * FACTOR).collect();
    let ordered = |log: &[u64]| log.is_sorted_by(|a, b| a < b);
    if all != expected || !ordered(&fast_log) || !ordered(&slow_log) || most_on_the_way > bound {
        return Err(format!("{} events handled, not each of the {TOTAL} once", all.len()).into());
    }
    println!(
        "  Each of 10, 20, ..., {} was handled exactly once, in order by each consumer: none \
         lost, none duplicated.",
        TOTAL * FACTOR
    );
    Ok(())
}
