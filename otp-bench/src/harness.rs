//! The workloads, written once and generic over [`Server`] (or, for the supervision workloads,
//! [`Supervision`]).
//!
//! Each runs inside the framework's runtime ([`Server::block_on`]; the supervisors on tokio's
//! [`runtime::block_on`]) and returns its metrics. Each workload also has an untimed form
//! ([`Mode::Counted`]): its operations alone, `n` of them, for an instruction count. None of
//! them prints; the `compare` binary does.

use std::hint::black_box;
use std::mem::size_of;
use std::panic;
use std::sync::Once;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::proc_stats::{peak_rss_bytes, rss_bytes};
use crate::runtime::{self, Driver, Runtime};
use crate::{CrashChild, Metric, Mode, Server, Supervision, Workload};

/// How long the memory workloads wait before reading the resident set, so that every freshly
/// spawned server has been polled at least once and is parked idle.
pub const SETTLE: Duration = Duration::from_millis(200);

/// Runs `workload` with `n` iterations (or servers) on `S`'s runtime of kind `runtime`, timed
/// or counted (which returns no metrics).
pub fn run<S: Server>(
    workload: Workload,
    n: u64,
    runtime: Runtime,
    mode: Mode,
) -> Vec<(Metric, f64)> {
    assert!(n > 0, "a workload needs at least one iteration");
    if mode == Mode::Counted {
        S::block_on(runtime, count::<S>(workload, n));
        return Vec::new();
    }
    if workload == Workload::MillionMain {
        // Not through `S::block_on`: this one is about where tokio's `block_on` runs.
        return runtime::block_on(runtime, Driver::MainThread, async move {
            let all = spawn_and_stop_all::<S>(n).await;
            vec![
                (Metric::MillionMainSpawnNs, all.spawn.as_nanos() as f64),
                (Metric::MillionMainStopNs, all.stop.as_nanos() as f64),
            ]
        });
    }
    S::block_on(runtime, async move {
        match workload {
            Workload::SpawnStop => vec![(Metric::SpawnStopNs, spawn_stop::<S>(n).await)],
            Workload::Memory => vec![(Metric::MemBytes, memory::<S>(n).await)],
            Workload::Cast => vec![(Metric::CastPerS, cast::<S>(n).await)],
            Workload::Call => {
                let (median, p99) = call::<S>(n).await;
                vec![(Metric::CallMedianNs, median), (Metric::CallP99Ns, p99)]
            }
            Workload::Million => million::<S>(n).await,
            Workload::MillionMain => unreachable!("handled above"),
            Workload::Restart | Workload::SupStart => {
                panic!("{workload} is a supervision workload: see run_supervision")
            }
            Workload::RemoteCast | Workload::RemoteCall => {
                panic!("{workload} is a remote workload: see remote::run")
            }
            Workload::PipelineB5 | Workload::PipelineB100 | Workload::PipelineB1000 => {
                panic!("{workload} is a pipeline workload: see pipeline::run")
            }
        }
    })
}

/// The untimed form of a server workload: its `n` operations and nothing else.
async fn count<S: Server>(workload: Workload, n: u64) {
    match workload {
        Workload::SpawnStop => {
            for _ in 0..n {
                S::start(0).await.stop().await;
            }
        }
        Workload::Cast => {
            let server = S::start(0).await;
            for _ in 0..n {
                server.cast(1);
            }
            assert_eq!(server.call(0).await, n, "casts lost");
            server.stop().await;
        }
        Workload::Call => {
            let server = S::start(0).await;
            for i in 0..n {
                assert_eq!(server.call(black_box(i)).await, i, "wrong reply");
            }
            server.stop().await;
        }
        other => panic!("{other} has no untimed form for a server"),
    }
}

/// Runs the supervision workload `workload` with `n` crashes (or children) on the supervisor
/// `S`, on tokio's runtime of kind `runtime`, timed or counted (which returns no metrics).
pub fn run_supervision<S: Supervision>(
    workload: Workload,
    n: u64,
    runtime: Runtime,
    mode: Mode,
) -> Vec<(Metric, f64)> {
    assert!(n > 0, "a workload needs at least one iteration");
    if mode == Mode::Counted {
        runtime::block_on(
            runtime,
            Driver::SpawnedTask,
            count_supervision::<S>(workload, n),
        );
        return Vec::new();
    }
    runtime::block_on(runtime, Driver::SpawnedTask, async move {
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

/// The untimed form of a supervision workload: `n` restarts, or a supervisor of `n` children
/// started and stopped, and nothing else.
async fn count_supervision<S: Supervision>(workload: Workload, n: u64) {
    match workload {
        Workload::Restart => {
            let mut crashing = Crashing::<S>::start().await;
            for i in 0..n {
                let reply = crashing.crash_then_call(black_box(i)).await;
                assert_eq!(reply, i, "the replacement answered wrong");
            }
            crashing.stop().await;
        }
        Workload::SupStart => S::start_children(S::children(n)).await.stop().await,
        other => panic!("{other} has no untimed form for a supervisor"),
    }
}

/// Untimed iterations before a timed loop: a tenth of the timed count.
pub fn warmup(n: u64) -> u64 {
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

/// What [`spawn_and_stop_all`] measured.
struct AllServers {
    /// The time to start all of them.
    spawn: Duration,
    /// The time to stop all of them.
    stop: Duration,
    /// Resident bytes per server with all of them alive.
    per_server: f64,
}

/// Spawns `n` idle servers, then stops them all, one after the other.
async fn spawn_and_stop_all<S: Server>(n: u64) -> AllServers {
    let (servers, spawn, per_server) = start_idle::<S>(n).await;
    let started = Instant::now();
    for server in servers {
        server.stop().await;
    }
    AllServers {
        spawn,
        stop: started.elapsed(),
        per_server,
    }
}

/// Spawns `n` idle servers, then stops them all, one after the other: the times, the memory
/// per server and the process's peak resident memory.
pub async fn million<S: Server>(n: u64) -> Vec<(Metric, f64)> {
    let all = spawn_and_stop_all::<S>(n).await;
    vec![
        (Metric::MillionSpawnNs, all.spawn.as_nanos() as f64),
        (Metric::MillionStopNs, all.stop.as_nanos() as f64),
        (Metric::MillionMemBytes, all.per_server),
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

/// A supervisor of one crashing child, for the `restart` workload: its current child, and the
/// channel on which every incarnation of the child reports once it runs.
struct Crashing<S: Supervision> {
    supervisor: S,
    child: S::Child,
    started: mpsc::UnboundedReceiver<S::Child>,
}

impl<S: Supervision> Crashing<S> {
    /// Starts the supervisor and waits for its first child.
    async fn start() -> Self {
        silence_crashes();
        let (running, mut started) = mpsc::unbounded_channel();
        let supervisor = S::start_restarting(running).await;
        let child = started
            .recv()
            .await
            .expect("the supervisor did not start its child");
        Crashing {
            supervisor,
            child,
            started,
        }
    }

    /// Crashes the child, waits for its replacement, and calls it with `request`.
    async fn crash_then_call(&mut self, request: u64) -> u64 {
        self.child.crash();
        self.child = self
            .started
            .recv()
            .await
            .expect("the supervisor stopped restarting its child");
        self.child.call(request).await
    }

    /// Stops the supervisor; no child may have started that did not replace a crashed one.
    async fn stop(self) {
        let Crashing {
            supervisor,
            child,
            mut started,
        } = self;
        drop(child);
        supervisor.stop().await;
        assert!(
            started.try_recv().is_err(),
            "a child was started that did not replace a crashed one"
        );
    }
}

/// Median and 99th percentile, in nanoseconds, of `n` restarts of a crashing child: for each,
/// the time from telling the child to crash until its replacement (whose handle its supervisor
/// sends once it runs) answered a call. `n / 10` untimed restarts come first.
pub async fn restart<S: Supervision>(n: u64) -> (f64, f64) {
    let mut crashing = Crashing::<S>::start().await;
    for _ in 0..warmup(n) {
        let reply = crashing.crash_then_call(1).await;
        assert_eq!(reply, 1, "the replacement answered wrong");
    }
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n {
        let t0 = Instant::now();
        let reply = crashing.crash_then_call(black_box(i)).await;
        samples.push(t0.elapsed().as_nanos() as u64);
        assert_eq!(reply, i, "the replacement answered wrong");
    }
    crashing.stop().await;
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
