//! The memory of an idle otp-stage stage, and of a buffered event: `cargo run --release -p
//! otp-bench --bin stage_memory [-- STAGES ROUNDS]`.
//!
//! Each round runs in a fresh child process (a process's allocator keeps what it freed, so a
//! second round in the same process would reuse it). A round measures its resident set, starts
//! `STAGES` idle producers (a producer with no consumer, its buffer empty: the stage's process,
//! its state, its published figures), and measures again; then one producer emits 1,000,000 `u64`
//! events that nobody asked for, which wait in its buffer, and the growth over them is the
//! memory of a buffered `u64` event. The figures of every round are printed, then their range.

use otp_bench::proc_stats::rss_bytes;
use otp_core::process::ExitReason;
use otp_stage::{Emit, Nothing, ProducerOptions, Stage, StageContext, StageInit, StageRef};

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

const BUFFERED: usize = 1_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--round") {
        let stages = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
        let (stage, event) = round(stages);
        println!("{stage:.0} {event:.2}");
        return;
    }
    let stages: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let exe = std::env::current_exe().expect("its own path");
    let (mut per_stage, mut per_event) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let output = std::process::Command::new(&exe)
            .args(["--round", &stages.to_string()])
            .output()
            .expect("a round runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let mut parts = text.split_whitespace().map(|p| p.parse::<f64>());
        let (Some(Ok(stage)), Some(Ok(event))) = (parts.next(), parts.next()) else {
            panic!("round {r} failed: {output:?}");
        };
        println!(
            "round {r}: {stages} idle stages, {stage:.0} B each; a buffered u64 event {event:.2} B"
        );
        per_stage.push(stage);
        per_event.push(event);
    }
    let range = |v: &[f64]| {
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(0.0, f64::max),
        )
    };
    let (s0, s1) = range(&per_stage);
    let (e0, e1) = range(&per_event);
    println!(
        "an idle stage: {s0:.0}–{s1:.0} B; a buffered u64 event: {e0:.2}–{e1:.2} B, over {rounds} rounds"
    );
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
                (after - before) as f64 / stages as f64,
                (after_events - before_events) as f64 / BUFFERED as f64,
            )
        })
        .await
        .expect("the round")
    })
}
