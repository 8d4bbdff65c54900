//! The workloads, written once and generic over [`Server`] (or, for the supervision workloads,
//! [`Supervision`]).
//!
//! Each runs inside the framework's runtime ([`Server::block_on`]; the supervisors on
//! [`tokio_two_workers`]) and returns its metrics. None of them prints; the `compare` binary
//! does.

use std::hint::black_box;
use std::mem::size_of;
use std::panic;
use std::sync::Once;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::frameworks::tokio_two_workers;
use crate::proc_stats::{peak_rss_bytes, rss_bytes};
use crate::{CrashChild, Metric, Server, Supervision, Workload};

/// How long the memory workloads wait before reading the resident set, so that every freshly
/// spawned server has been polled at least once and is parked idle.
pub const SETTLE: Duration = Duration::from_millis(200);

/// Runs `workload` with `n` iterations (or servers) on `S`'s runtime.
pub fn run<S: Server>(workload: Workload, n: u64) -> Vec<(Metric, f64)> {
    assert!(n > 0, "a workload needs at least one iteration");
    S::block_on(async move {
        match workload {
            Workload::SpawnStop => vec![(Metric::SpawnStopNs, spawn_stop::<S>(n).await)],
            Workload::Memory => vec![(Metric::MemBytes, memory::<S>(n).await)],
            Workload::Cast => vec![(Metric::CastPerS, cast::<S>(n).await)],
            Workload::Call => {
                let (median, p99) = call::<S>(n).await;
                vec![(Metric::CallMedianNs, median), (Metric::CallP99Ns, p99)]
            }
            Workload::Million => million::<S>(n).await,
            Workload::Restart | Workload::SupStart => {
                panic!("{workload} is a supervision workload: see run_supervision")
            }
        }
    })
}

/// Runs the supervision workload `workload` with `n` crashes (or children) on the supervisor
/// `S`, on [`tokio_two_workers`].
pub fn run_supervision<S: Supervision>(workload: Workload, n: u64) -> Vec<(Metric, f64)> {
    assert!(n > 0, "a workload needs at least one iteration");
    tokio_two_workers(async move {
        match workload {
            Workload::Restart => {
                let (median, p99) = restart::<S>(n).await;
                vec![
                    (Metric::RestartMedianNs, median),
                    (Metric::RestartP99Ns, p99),
                ]
            }
            Workload::SupStart => sup_start::<S>(n).await,
            other => panic!("{other} is not a supervision workload: see run"),
        }
    })
}

/// Untimed iterations before a timed loop: a tenth of the timed count.
fn warmup(n: u64) -> u64 {
    n / 10
}

/// Mean nanoseconds to start one server and stop it again, over `n` servers in sequence.
pub async fn spawn_stop<S: Server>(n: u64) -> f64 {
    for _ in 0..warmup(n) {
        S::start(0).await.stop().await;
    }
    let started = Instant::now();
    for _ in 0..n {
        S::start(0).await.stop().await;
    }
    started.elapsed().as_nanos() as f64 / n as f64
}

/// Starts `n` servers and keeps their handles; returns them with the resident bytes they added,
/// per server, not counting the caller's vector of handles itself.
async fn start_idle<S: Server>(n: u64) -> (Vec<S>, Duration, f64) {
    // Reserved up front but not yet touched, so not yet resident: its pages are counted as the
    // handles are pushed, and subtracted below.
    let mut servers: Vec<S> = Vec::with_capacity(n as usize);
    tokio::time::sleep(SETTLE).await;
    let before = rss_bytes();
    let started = Instant::now();
    for _ in 0..n {
        servers.push(S::start(0).await);
    }
    let spawn_time = started.elapsed();
    tokio::time::sleep(SETTLE).await;
    let after = rss_bytes();
    let handles = (n as usize * size_of::<S>()) as u64;
    let per_server = after.saturating_sub(before).saturating_sub(handles) as f64 / n as f64;
    (servers, spawn_time, per_server)
}

/// Resident bytes per idle server, with `n` of them alive.
pub async fn memory<S: Server>(n: u64) -> f64 {
    let (servers, _, per_server) = start_idle::<S>(n).await;
    // Dropped only after the reading: the handles stay alive while measuring. Tearing the
    // servers down afterwards is not measured.
    drop(black_box(servers));
    per_server
}

/// Casts per second from one sender: `n` casts, then one call to make sure all were handled.
pub async fn cast<S: Server>(n: u64) -> f64 {
    let server = S::start(0).await;
    let warm = warmup(n);
    for _ in 0..warm {
        server.cast(1);
    }
    assert_eq!(server.call(0).await, warm, "warm-up casts lost");
    let started = Instant::now();
    for _ in 0..n {
        server.cast(1);
    }
    let total = server.call(0).await;
    let elapsed = started.elapsed();
    assert_eq!(total, warm + n, "casts lost");
    server.stop().await;
    n as f64 / elapsed.as_secs_f64()
}

/// Median and 99th percentile, in nanoseconds, of `n` sequential calls, each timed alone.
pub async fn call<S: Server>(n: u64) -> (f64, f64) {
    let server = S::start(0).await;
    for i in 0..warmup(n) {
        black_box(server.call(i).await);
    }
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n {
        let started = Instant::now();
        let reply = server.call(black_box(i)).await;
        samples.push(started.elapsed().as_nanos() as u64);
        assert_eq!(reply, i, "wrong reply");
    }
    server.stop().await;
    samples.sort_unstable();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

/// Spawns `n` idle servers, then stops them all, one after the other.
pub async fn million<S: Server>(n: u64) -> Vec<(Metric, f64)> {
    let (servers, spawn_time, per_server) = start_idle::<S>(n).await;
    let started = Instant::now();
    for server in servers {
        server.stop().await;
    }
    let stop_time = started.elapsed();
    vec![
        (Metric::MillionSpawnNs, spawn_time.as_nanos() as f64),
        (Metric::MillionStopNs, stop_time.as_nanos() as f64),
        (Metric::MillionMemBytes, per_server),
        (Metric::MillionPeakRssBytes, peak_rss_bytes() as f64),
    ]
}

/// The payload every child of the `restart` workload panics with ([`crash`]).
pub const CRASH: &str = "otp-bench: the crash the restart workload asked for";

/// Panics with [`CRASH`] as the payload: what a child of the `restart` workload does when told
/// to crash. The panic message is not printed (see [`silence_crashes`]).
pub fn crash() -> ! {
    panic::panic_any(CRASH)
}

/// Installs, once per process, a panic hook that prints nothing for a [`crash`] and defers to
/// the hook it replaced for every other panic: ten thousand "thread panicked" messages would
/// cost more than the restarts being measured, and would bury real failures.
pub fn silence_crashes() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&CRASH) {
                previous(info);
            }
        }));
    });
}

/// Median and 99th percentile, in nanoseconds, of `n` restarts of a crashing child: for each,
/// the time from telling the child to crash until its replacement (whose handle its supervisor
/// sends once it runs) answered a call. `n / 10` untimed restarts come first.
pub async fn restart<S: Supervision>(n: u64) -> (f64, f64) {
    silence_crashes();
    let (running, mut started) = mpsc::unbounded_channel();
    let supervisor = S::start_restarting(running).await;
    let mut child = started
        .recv()
        .await
        .expect("the supervisor did not start its child");
    for _ in 0..warmup(n) {
        child.crash();
        child = started
            .recv()
            .await
            .expect("the supervisor stopped restarting its child");
        assert_eq!(child.call(1).await, 1, "the replacement answered wrong");
    }
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n {
        let t0 = Instant::now();
        child.crash();
        child = started
            .recv()
            .await
            .expect("the supervisor stopped restarting its child");
        let reply = child.call(black_box(i)).await;
        samples.push(t0.elapsed().as_nanos() as u64);
        assert_eq!(reply, i, "the replacement answered wrong");
    }
    drop(child);
    supervisor.stop().await;
    assert!(
        started.try_recv().is_err(),
        "a child was started that did not replace a crashed one"
    );
    samples.sort_unstable();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

/// Starts a supervisor of `n` idle counters and stops it: the time from the start's call until
/// it returned with every child started, and from the stop's call until the supervisor and its
/// children were gone, each in total and per child; and the resident memory per child of the
/// started supervisor (its own bookkeeping, the child descriptions it keeps included).
pub async fn sup_start<S: Supervision>(n: u64) -> Vec<(Metric, f64)> {
    tokio::time::sleep(SETTLE).await;
    let before = rss_bytes();
    let children = S::children(n);
    let started = Instant::now();
    let supervisor = S::start_children(children).await;
    let start_time = started.elapsed().as_nanos() as f64;
    tokio::time::sleep(SETTLE).await;
    let per_child = rss_bytes().saturating_sub(before) as f64 / n as f64;
    let stopping = Instant::now();
    supervisor.stop().await;
    let stop_time = stopping.elapsed().as_nanos() as f64;
    vec![
        (Metric::SupStartPerChildNs, start_time / n as f64),
        (Metric::SupStartNs, start_time),
        (Metric::SupStopPerChildNs, stop_time / n as f64),
        (Metric::SupStopNs, stop_time),
        (Metric::SupMemBytes, per_child),
    ]
}

/// The `p` quantile (0..=1) of `sorted` by the nearest-rank method; 0 for no samples.
pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64
}

/// The median of `values` (mean of the two middle ones for an even count); NaN for none.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert_eq!(percentile(&[7], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
