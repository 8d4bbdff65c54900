//! The tokio runtimes a measurement runs on, and where on them the benchmark itself runs.
//!
//! Every tokio-based framework is measured on two runtimes, and the runtime is part of what a
//! figure is ([`Runtime`]):
//!
//! - **current-thread** (`Builder::new_current_thread`, as `#[tokio::main(flavor =
//!   "current_thread")]`): the benchmark, the servers and tokio's drivers share one thread. Its
//!   instruction counts are repeatable (nothing runs beside the measured code), so the budget
//!   verdicts come from them; and it is actix's matching baseline, since an actix-rt `System`
//!   is a current-thread runtime too.
//! - **multi-thread, two workers** (`Builder::new_multi_thread().worker_threads(2)`): what a
//!   server application uses.
//!
//! On both, the benchmark future is spawned onto the runtime ([`Driver::SpawnedTask`]), so that
//! it runs as a task, as a client task would: on a worker of the multi-thread runtime, and
//! beside the servers on the current-thread one. [`Driver::MainThread`] drives it with
//! `Runtime::block_on` instead, as the body of `#[tokio::main]` is run. That is slower on both,
//! because the future `block_on` drives is not a task: on the current-thread runtime each of
//! its wake-ups costs a turn of the I/O driver (an `epoll_wait`) before it is polled again; on
//! the multi-thread runtime it runs on the main thread, which is not a worker, so each wait for
//! a server is two cross-thread wake-ups (a worker woken through the injection queue, then the
//! main thread unparked). The `million_main` workload measures what that costs.

use std::fmt;
use std::future::Future;
use std::str::FromStr;

/// The number of worker threads of the multi-thread runtime.
pub const WORKER_THREADS: usize = 2;

/// The runtime a measurement ran on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// tokio's current-thread runtime (actix: its actix-rt `System`, also one thread).
    CurrentThread,
    /// tokio's multi-thread runtime with [`WORKER_THREADS`] workers.
    MultiThread,
}

impl Runtime {
    /// Both runtimes, in table order.
    pub const ALL: [Runtime; 2] = [Runtime::CurrentThread, Runtime::MultiThread];

    /// The name used on the command line and in the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::CurrentThread => "current",
            Runtime::MultiThread => "multi",
        }
    }

    /// A human label, for table headings.
    pub fn label(self) -> &'static str {
        match self {
            Runtime::CurrentThread => "current-thread runtime",
            Runtime::MultiThread => "multi-thread runtime, 2 workers",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Runtime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Runtime::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown runtime `{s}` (expected current or multi)"))
    }
}

/// Where the benchmark future runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// Spawned onto the runtime, so that it runs as a task: on a worker (the default).
    SpawnedTask,
    /// Driven by `Runtime::block_on` on the main thread, which is not a worker: what the body
    /// of `#[tokio::main]` is.
    MainThread,
}

/// Runs `future` to completion on a fresh tokio runtime of kind `runtime`, placed as `driver`
/// says.
pub fn block_on<F>(runtime: Runtime, driver: Driver, future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = match runtime {
        Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Runtime::MultiThread => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(WORKER_THREADS);
            builder
        }
    }
    .enable_all()
    .build()
    .expect("failed to build the tokio runtime");
    match driver {
        Driver::MainThread => rt.block_on(future),
        Driver::SpawnedTask => rt.block_on(async move {
            tokio::spawn(future)
                .await
                .expect("the benchmark task panicked")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for runtime in Runtime::ALL {
            assert_eq!(runtime.name().parse::<Runtime>(), Ok(runtime));
        }
        assert!("both".parse::<Runtime>().is_err());
    }

    #[test]
    fn runs_where_asked() {
        let main = std::thread::current().id();
        let on = |runtime, driver| block_on(runtime, driver, async { std::thread::current().id() });
        assert_eq!(on(Runtime::CurrentThread, Driver::SpawnedTask), main);
        assert_eq!(on(Runtime::MultiThread, Driver::MainThread), main);
        assert_ne!(on(Runtime::MultiThread, Driver::SpawnedTask), main);
    }
}
