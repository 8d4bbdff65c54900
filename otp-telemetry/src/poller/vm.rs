//! The built-in measurements: process memory and the tokio runtime.

use crate::registry::{execute, has_handlers};

/// The event of [`Poller::memory`](super::Poller::memory).
///
/// Measurements: `total`, the resident set size in bytes (the physical memory in use; the working
/// set on Windows), and `virtual`, the virtual memory size in bytes (the pagefile usage on
/// Windows). No metadata.
pub const MEMORY_EVENT: &[&str] = &["otp", "vm", "memory"];

/// The event of [`Poller::tokio_runtime`](super::Poller::tokio_runtime).
///
/// Measurements, from the stable `tokio::runtime::RuntimeMetrics` of the runtime the poll runs
/// in:
///
/// - `workers`: the number of worker threads (1 for a current-thread runtime);
/// - `alive_tasks`: the number of tasks alive in the runtime;
/// - `global_queue_depth`: the number of tasks in the runtime's global queue;
/// - `busy_duration`: the time all workers have spent busy since the runtime started, in
///   nanoseconds, summed over the workers (a counter: take differences between polls);
/// - `park_count`: how many times the workers have parked since the runtime started, summed over
///   the workers (a counter).
///
/// The last two need 64-bit atomics (`target_has_atomic = "64"`) and are absent without them.
/// No metadata.
pub const TOKIO_EVENT: &[&str] = &["otp", "vm", "tokio"];

/// Emits [`MEMORY_EVENT`]; nothing if the platform gives no figures, or nobody listens.
pub(super) fn memory() {
    if !has_handlers(MEMORY_EVENT) {
        return;
    }
    let Some(stats) = memory_stats::memory_stats() else {
        return;
    };
    execute(
        MEMORY_EVENT,
        &[
            ("total", stats.physical_mem as f64),
            ("virtual", stats.virtual_mem as f64),
        ],
        &[],
    );
}

/// Emits [`TOKIO_EVENT`] for the current runtime; nothing outside a runtime, or if nobody
/// listens.
pub(super) fn tokio_runtime() {
    if !has_handlers(TOKIO_EVENT) {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let metrics = handle.metrics();
    let workers = metrics.num_workers();
    let base = [
        ("workers", workers as f64),
        ("alive_tasks", metrics.num_alive_tasks() as f64),
        ("global_queue_depth", metrics.global_queue_depth() as f64),
    ];
    #[cfg(target_has_atomic = "64")]
    {
        let busy: f64 = (0..workers)
            .map(|worker| crate::span::nanos(metrics.worker_total_busy_duration(worker)))
            .sum();
        let parks: u64 = (0..workers)
            .map(|worker| metrics.worker_park_count(worker))
            .fold(0, u64::saturating_add);
        let [workers, alive, depth] = base;
        execute(
            TOKIO_EVENT,
            &[
                workers,
                alive,
                depth,
                ("busy_duration", busy),
                ("park_count", parks as f64),
            ],
            &[],
        );
    }
    #[cfg(not(target_has_atomic = "64"))]
    execute(TOKIO_EVENT, &base, &[]);
}
