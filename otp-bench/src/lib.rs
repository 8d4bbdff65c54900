//! Side-by-side benchmarks of an otp-core `GenServer` against raw tokio, ractor, kameo and actix.
//!
//! Every framework implements the same tiny counter server ([`Server`]): its state is a `u64`, a
//! cast adds a `u64` to it, a call with request `r` replies `state + r`. The workloads in
//! [`harness`] are written once, generic over [`Server`], and the `compare` binary runs each
//! (framework, workload) pair in a fresh child process. See `BENCHMARKS.md` at the workspace root
//! for the method.

use std::fmt;
use std::future::Future;
use std::str::FromStr;

pub mod frameworks;
pub mod harness;
pub mod proc_stats;
pub mod report;

/// The counter server every framework implements, seen from its client.
///
/// A value of the implementing type is the handle a caller keeps to one running server.
pub trait Server: Sized + Send + Sync + 'static {
    /// Starts a server whose state is `initial`; resolves once the framework hands back a usable
    /// handle (for some frameworks that is after the actor's init ran, for others before).
    fn start(initial: u64) -> impl Future<Output = Self> + Send;

    /// Sends a fire-and-forget message asking the server to add `value` to its state.
    fn cast(&self, value: u64);

    /// Asks the server for `state + request` and waits for the reply.
    fn call(&self, request: u64) -> impl Future<Output = u64> + Send;

    /// Stops the server, waiting until it is gone where the framework offers a way to wait.
    fn stop(self) -> impl Future<Output = ()> + Send;

    /// Runs `future` to completion on this framework's runtime.
    ///
    /// The default is tokio's multi-thread runtime with exactly two worker threads; `future` is
    /// spawned onto it, so that the benchmark itself runs on a worker and not on a third thread.
    fn block_on<F>(future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        frameworks::tokio_two_workers(future)
    }
}

/// A framework under comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// Raw tokio: a spawned task with an unbounded mpsc channel, mpsc + oneshot for calls.
    Tokio,
    /// The raw tokio server, its calls wrapped in a 5 s `tokio::time::timeout`: a reference for
    /// otp's calls, which always have a timeout.
    TokioTimeout,
    /// Our otp-core `GenServer`.
    Otp,
    /// The same server written with `#[derive(GenServer)]` and `#[handlers]`, called through
    /// its generated client: measured to show the macros cost nothing.
    OtpMacro,
    /// ractor 0.16.
    Ractor,
    /// kameo 0.22 with an unbounded mailbox.
    Kameo,
    /// actix 0.13 on an actix-rt `System`.
    Actix,
}

impl Framework {
    /// All frameworks, in table order; the baseline comes first.
    pub const ALL: [Framework; 7] = [
        Framework::Tokio,
        Framework::TokioTimeout,
        Framework::Otp,
        Framework::OtpMacro,
        Framework::Ractor,
        Framework::Kameo,
        Framework::Actix,
    ];

    /// The name used on the command line, in the table and in the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Tokio => "tokio",
            Framework::TokioTimeout => "tokio+timeout",
            Framework::Otp => "otp",
            Framework::OtpMacro => "otp-macro",
            Framework::Ractor => "ractor",
            Framework::Kameo => "kameo",
            Framework::Actix => "actix",
        }
    }

    /// Whether this framework takes part in `workload`: the tokio server with a call timeout
    /// differs from raw tokio in its calls only, so it is measured on calls only.
    pub fn measures(self, workload: Workload) -> bool {
        self != Framework::TokioTimeout || workload == Workload::Call
    }

    /// Runs `workload` with `n` iterations (or servers) on this framework, in this process.
    pub fn run(self, workload: Workload, n: u64) -> Vec<(Metric, f64)> {
        match self {
            Framework::Tokio => harness::run::<frameworks::tokio::TokioServer>(workload, n),
            Framework::TokioTimeout => {
                harness::run::<frameworks::tokio::TokioTimeoutServer>(workload, n)
            }
            Framework::Otp => harness::run::<frameworks::otp::OtpServer>(workload, n),
            Framework::OtpMacro => {
                harness::run::<frameworks::otp_macro::OtpMacroServer>(workload, n)
            }
            Framework::Ractor => harness::run::<frameworks::ractor::RactorServer>(workload, n),
            Framework::Kameo => harness::run::<frameworks::kameo::KameoServer>(workload, n),
            Framework::Actix => harness::run::<frameworks::actix::ActixServer>(workload, n),
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Framework {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Framework::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown framework `{s}` (expected one of tokio, tokio+timeout, otp, otp-macro, ractor, kameo, actix)"
                )
            })
    }
}

/// One workload, run in one child process; it yields one or more [`Metric`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Spawn then stop one server, `n` times in sequence.
    SpawnStop,
    /// `n` idle servers alive at once; resident memory per server.
    Memory,
    /// `n` casts from one sender, then one call.
    Cast,
    /// `n` sequential calls, each timed.
    Call,
    /// Spawn `n` (a million) idle servers, then stop them all.
    Million,
}

impl Workload {
    /// All workloads, in the order the parent runs them.
    pub const ALL: [Workload; 5] = [
        Workload::SpawnStop,
        Workload::Memory,
        Workload::Cast,
        Workload::Call,
        Workload::Million,
    ];

    /// The name used on the child's command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::SpawnStop => "spawn_stop",
            Workload::Memory => "mem",
            Workload::Cast => "cast",
            Workload::Call => "call",
            Workload::Million => "million",
        }
    }

    /// The iteration (or server) count of a full run.
    pub fn default_n(self) -> u64 {
        match self {
            Workload::SpawnStop | Workload::Memory | Workload::Call => 100_000,
            Workload::Cast | Workload::Million => 1_000_000,
        }
    }

    /// The iteration (or server) count of a `--quick` run.
    pub fn quick_n(self) -> u64 {
        self.default_n() / 10
    }

    /// The metrics this workload reports.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            Workload::SpawnStop => &[Metric::SpawnStopNs],
            Workload::Memory => &[Metric::MemBytes],
            Workload::Cast => &[Metric::CastPerS],
            Workload::Call => &[Metric::CallMedianNs, Metric::CallP99Ns],
            Workload::Million => &[
                Metric::MillionSpawnNs,
                Metric::MillionStopNs,
                Metric::MillionMemBytes,
                Metric::MillionPeakRssBytes,
            ],
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown workload `{s}` (expected one of spawn_stop, mem, cast, call, million)"
                )
            })
    }
}

/// A measured quantity; values are in the unit the name ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Nanoseconds to spawn and stop one server.
    SpawnStopNs,
    /// Resident bytes per idle server.
    MemBytes,
    /// Casts handled per second, one sender.
    CastPerS,
    /// Median call round trip, nanoseconds.
    CallMedianNs,
    /// 99th percentile call round trip, nanoseconds.
    CallP99Ns,
    /// Nanoseconds to spawn a million idle servers, in total.
    MillionSpawnNs,
    /// Nanoseconds to stop a million idle servers, in total.
    MillionStopNs,
    /// Resident bytes per server with a million alive.
    MillionMemBytes,
    /// Peak resident memory of the whole process (`VmHWM`), bytes.
    MillionPeakRssBytes,
}

impl Metric {
    /// All metrics, in table order.
    pub const ALL: [Metric; 9] = [
        Metric::SpawnStopNs,
        Metric::MemBytes,
        Metric::CastPerS,
        Metric::CallMedianNs,
        Metric::CallP99Ns,
        Metric::MillionSpawnNs,
        Metric::MillionStopNs,
        Metric::MillionMemBytes,
        Metric::MillionPeakRssBytes,
    ];

    /// The name used in the child's output line and in the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Metric::SpawnStopNs => "spawn_stop_ns",
            Metric::MemBytes => "mem_bytes",
            Metric::CastPerS => "cast_per_s",
            Metric::CallMedianNs => "call_median_ns",
            Metric::CallP99Ns => "call_p99_ns",
            Metric::MillionSpawnNs => "million_spawn_ns",
            Metric::MillionStopNs => "million_stop_ns",
            Metric::MillionMemBytes => "million_mem_bytes",
            Metric::MillionPeakRssBytes => "million_peak_rss_bytes",
        }
    }

    /// Looks a metric up by [`Metric::name`].
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
