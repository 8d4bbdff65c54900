//! The memory of an idle otp-stage stage, of a buffered event and of a subscription: `cargo
//! run --release -p otp-bench --bin stage_memory [-- STAGES ROUNDS]`.
//!
//! Each round runs in fresh child processes (a process's allocator keeps what it freed, so a
//! second round in the same process would reuse it). A round measures its resident set, starts
//! `STAGES` idle producers (a producer with no consumer, its buffer empty: the stage's process,
//! its state, its published figures), and measures again; then one producer emits 1,000,000 `u64`
//! events that nobody asked for, which wait in its buffer, and the growth over them is the
//! memory of a buffered `u64` event.
//!
//! The subscription is measured in a second fresh process of the round: it starts `STAGES` idle
//! producers and `STAGES` consumers, none subscribed, and measures its resident set; then
//! subscribes each consumer to its own producer (max_demand 1000, the default; no events flow,
//! the producers have none) and waits until both sides have handled the subscription and the
//! consumer's ask (a call to every producer, then to every consumer, twice over); the growth
//! over the `STAGES` subscriptions, divided by `STAGES`, is what one subscription adds on both
//! sides: the producer's entry, the consumer's entry, the counter they share, the monitors. The
//! stages and their processes are there before and after, so they cancel out. It is each
//! stage's first subscription, so it includes the first allocation of the maps that hold them;
//! a stage's further subscriptions may cost less.
//!
//! The figures of every round are printed, then their range.

use otp_bench::proc_stats::rss_bytes;
use otp_core::process::ExitReason;
use otp_stage::{
    DEFAULT_MAX_DEMAND, Emit, Nothing, ProducerOptions, Stage, StageContext, StageInit, StageRef,
    SubscribeOptions, Subscription,
};

/// A producer that emits only when cast to: `n` events, none of them asked for.
struct Idle;

impl Stage for Idle {
    type Args = ();
    type In = Nothing;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = usize;

    async fn init((): (), _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Producer(Idle, ProducerOptions::producer().buffer_size(None))
    }

    async fn handle_demand(&mut self, _: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        Emit::none()
    }

    async fn handle_cast(&mut self, n: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        Emit::Events((0..n as u64).collect())
    }
}

/// A consumer that drops what it gets (it gets nothing here).
struct Sink;

impl Stage for Sink {
    type Args = ();
    type In = u64;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init((): (), _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Consumer(Sink, Vec::new())
    }

    async fn handle_events(
        &mut self,
        _: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        Emit::none()
    }
}

const BUFFERED: usize = 1_000_000;

/// The growth of the resident set from `before` to `after`, per item.
fn per_item(before: u64, after: u64, items: usize) -> f64 {
    (after as f64 - before as f64) / items as f64
}

/// The least and the greatest of `v`.
fn range(v: &[f64]) -> (f64, f64) {
    (
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// Runs this program again with `args` and reads the numbers it prints.
fn child_round(exe: &std::path::Path, args: &[&str], r: usize) -> Vec<f64> {
    let output = std::process::Command::new(exe)
        .args(args)
        .output()
        .expect("a round runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let figures: Result<Vec<f64>, _> = text.split_whitespace().map(str::parse).collect();
    match figures {
        Ok(figures) if !figures.is_empty() => figures,
        _ => panic!("round {r} failed: {output:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--round") {
        let stages = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
        let (stage, event) = round(stages);
        println!("{stage:.0} {event:.2}");
        return;
    }
    if args.first().map(String::as_str) == Some("--round-subscriptions") {
        let stages = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
        println!("{:.0}", subscriptions_round(stages));
        return;
    }
    let stages: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let exe = std::env::current_exe().expect("its own path");
    let n = stages.to_string();
    let (mut per_stage, mut per_event, mut per_sub) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let [stage, event] = child_round(&exe, &["--round", &n], r)[..] else {
            panic!("round {r}: two figures expected");
        };
        println!(
            "round {r}: {stages} idle stages, {stage:.0} B each; a buffered u64 event {event:.2} B"
        );
        let [sub] = child_round(&exe, &["--round-subscriptions", &n], r)[..] else {
            panic!("round {r}: one figure expected");
        };
        println!(
            "round {r}: {stages} subscriptions (max_demand {DEFAULT_MAX_DEMAND}, no events), {sub:.0} B each"
        );
        per_stage.push(stage);
        per_event.push(event);
        per_sub.push(sub);
    }
    let (s0, s1) = range(&per_stage);
    let (e0, e1) = range(&per_event);
    let (b0, b1) = range(&per_sub);
    println!(
        "an idle stage: {s0:.0}–{s1:.0} B; a buffered u64 event: {e0:.2}–{e1:.2} B, over {rounds} rounds"
    );
    println!("a subscription: {b0:.0}–{b1:.0} B, over {rounds} rounds");
}

/// One round: the growth of the resident set per idle stage, and per buffered event.
fn round(stages: usize) -> (f64, f64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        tokio::spawn(async move {
            let before = rss_bytes();
            let mut started = Vec::with_capacity(stages);
            for _ in 0..stages {
                started.push(StageRef::<Idle>::start(()).await.expect("a stage starts"));
            }
            let after = rss_bytes();
            let one = &started[0];
            let before_events = rss_bytes();
            one.cast(BUFFERED).expect("the cast");
            assert_eq!(
                one.estimate_buffered_count().await.expect("the count"),
                BUFFERED
            );
            let after_events = rss_bytes();
            for s in &started {
                s.stop(ExitReason::Shutdown).await.expect("a stage stops");
            }
            (
                per_item(before, after, stages),
                per_item(before_events, after_events, BUFFERED),
            )
        })
        .await
        .expect("the round")
    })
}

/// One round of the subscription: the growth of the resident set per subscription, each of
/// `pairs` consumers subscribed to its own idle producer, against the same stages unsubscribed.
fn subscriptions_round(pairs: usize) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        tokio::spawn(async move {
            let mut producers = Vec::with_capacity(pairs);
            let mut consumers = Vec::with_capacity(pairs);
            for _ in 0..pairs {
                producers.push(
                    StageRef::<Idle>::start(())
                        .await
                        .expect("a producer starts"),
                );
                consumers.push(
                    StageRef::<Sink>::start(())
                        .await
                        .expect("a consumer starts"),
                );
            }
            settle(&producers, &consumers).await;
            let before = rss_bytes();
            let options = SubscribeOptions::new().max_demand(DEFAULT_MAX_DEMAND);
            for (producer, consumer) in producers.iter().zip(&consumers) {
                consumer
                    .subscribe(producer, options.clone())
                    .await
                    .expect("a subscription");
            }
            settle(&producers, &consumers).await;
            settle(&producers, &consumers).await;
            let after = rss_bytes();
            for s in &consumers {
                s.stop(ExitReason::Shutdown).await.expect("a stage stops");
            }
            for s in &producers {
                s.stop(ExitReason::Shutdown).await.expect("a stage stops");
            }
            per_item(before, after, pairs)
        })
        .await
        .expect("the round")
    })
}

/// Waits until every stage has handled what was sent to it before: a call to each producer,
/// then to each consumer.
async fn settle(producers: &[StageRef<Idle>], consumers: &[StageRef<Sink>]) {
    for p in producers {
        p.kind().await.expect("a producer answers");
    }
    for c in consumers {
        c.kind().await.expect("a consumer answers");
    }
}

#[cfg(test)]
mod tests {
    use super::{per_item, range};

    #[test]
    fn per_item_is_the_growth_over_the_items() {
        assert_eq!(per_item(1_000, 5_000, 4), 1_000.0);
        assert_eq!(
            per_item(5_000, 1_000, 4),
            -1_000.0,
            "a shrink is shown, not wrapped"
        );
    }

    #[test]
    fn range_is_the_least_and_greatest() {
        assert_eq!(range(&[3.0, -1.0, 2.0]), (-1.0, 3.0));
    }
}
