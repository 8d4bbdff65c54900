//! Side-by-side benchmarks of an otp-core `GenServer` against raw tokio, ractor, kameo and actix.
//!
//! Every framework implements the same tiny counter server ([`Server`]): its state is a `u64`, a
//! cast adds a `u64` to it, a call with request `r` replies `state + r`. The supervision
//! workloads need a supervisor as well ([`Supervision`]): one that restarts a crashing child
//! ([`CrashChild`]), and one that starts many counters. The workloads in [`harness`] are written
//! once, generic over these traits, and the `compare` binary runs each (framework, workload) pair
//! in a fresh child process. See `BENCHMARKS.md` at the workspace root for the method.

use std::fmt;
use std::future::Future;
use std::str::FromStr;

use tokio::sync::mpsc;

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

/// The child of the `restart` workload, seen from its client: a server whose state is 0, that
/// answers calls as the counter does and crashes on request.
///
/// Every incarnation of the child sends a value of the implementing type, its handle, on the
/// channel its supervisor was started with ([`Supervision::start_restarting`]) once it runs.
pub trait CrashChild: Send + Sync + 'static {
    /// Sends the child a fire-and-forget message whose handler panics with [`harness::CRASH`]
    /// (through [`harness::crash`]).
    fn crash(&self);

    /// Asks the child for `state + request` (its state is 0) and waits for the reply.
    fn call(&self, request: u64) -> impl Future<Output = u64> + Send;
}

/// A supervisor as each framework writes one: with its built-in supervision where it has one
/// (otp, kameo), by hand where it has not (raw tokio, ractor).
///
/// Supervisors run on the tokio runtime of [`frameworks::tokio_two_workers`].
pub trait Supervision: Sized + Send + 'static {
    /// The handle to the child of the `restart` workload.
    type Child: CrashChild;

    /// What [`start_children`](Supervision::start_children) is given: the children's
    /// descriptions (otp's child specs), prepared before the clock starts.
    type Children: Send + 'static;

    /// Starts a one-for-one supervisor, with a restart limit it never reaches, of one child
    /// that is restarted whenever it crashes. Every incarnation of the child sends its handle
    /// on `running` once it runs. Resolves once the supervisor and its first child are started.
    fn start_restarting(
        running: mpsc::UnboundedSender<Self::Child>,
    ) -> impl Future<Output = Self> + Send;

    /// Describes `n` idle counter servers (state 0) as children.
    fn children(n: u64) -> Self::Children;

    /// Starts a supervisor of `children`, started one after the other, each start waited for
    /// (SUP-01); resolves once every child is started.
    fn start_children(children: Self::Children) -> impl Future<Output = Self> + Send;

    /// Stops the supervisor and its children; resolves once they are gone.
    fn stop(self) -> impl Future<Output = ()> + Send;
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
    /// differs from raw tokio in its calls only, so it is measured on calls only; actix has no
    /// supervisor that restarts an actor whose handler panicked (its `Supervisor` restarts an
    /// actor that stopped itself, and a panic is not caught), so it sits out the supervision
    /// workloads.
    pub fn measures(self, workload: Workload) -> bool {
        match workload {
            Workload::Call => true,
            Workload::Restart | Workload::SupStart => {
                !matches!(self, Framework::TokioTimeout | Framework::Actix)
            }
            _ => self != Framework::TokioTimeout,
        }
    }

    /// Runs `workload` with `n` iterations (or servers, or children) on this framework, in this
    /// process. Fails if the framework does not take part in the workload
    /// ([`measures`](Framework::measures)).
    pub fn run(self, workload: Workload, n: u64) -> Result<Vec<(Metric, f64)>, String> {
        if !self.measures(workload) {
            return Err(format!("{self} does not take part in {workload}"));
        }
        if workload.is_supervision() {
            return match self {
                Framework::Tokio => {
                    Ok(harness::run_supervision::<frameworks::tokio::TokioSupervisor>(workload, n))
                }
                Framework::Otp => Ok(harness::run_supervision::<frameworks::otp::OtpSupervisor>(
                    workload, n,
                )),
                Framework::OtpMacro => Ok(harness::run_supervision::<
                    frameworks::otp_macro::OtpMacroSupervisor,
                >(workload, n)),
                Framework::Ractor => Ok(harness::run_supervision::<
                    frameworks::ractor::RactorSupervisor,
                >(workload, n)),
                Framework::Kameo => {
                    Ok(harness::run_supervision::<frameworks::kameo::KameoSupervisor>(workload, n))
                }
                Framework::TokioTimeout | Framework::Actix => {
                    Err(format!("{self} does not take part in {workload}"))
                }
            };
        }
        Ok(match self {
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
        })
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
    /// `n` crashes of a supervised child, each timed from the crash until its replacement
    /// answered a call.
    Restart,
    /// Start a supervisor of `n` idle children, then stop it.
    SupStart,
    /// Spawn `n` (a million) idle servers, then stop them all.
    Million,
}

impl Workload {
    /// All workloads, in the order the parent runs them.
    pub const ALL: [Workload; 7] = [
        Workload::SpawnStop,
        Workload::Memory,
        Workload::Cast,
        Workload::Call,
        Workload::Restart,
        Workload::SupStart,
        Workload::Million,
    ];

    /// The name used on the child's command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::SpawnStop => "spawn_stop",
            Workload::Memory => "mem",
            Workload::Cast => "cast",
            Workload::Call => "call",
            Workload::Restart => "restart",
            Workload::SupStart => "sup_start",
            Workload::Million => "million",
        }
    }

    /// Whether this workload measures supervisors ([`Supervision`]) rather than servers.
    pub fn is_supervision(self) -> bool {
        matches!(self, Workload::Restart | Workload::SupStart)
    }

    /// The iteration (or server, or child) count of a full run.
    pub fn default_n(self) -> u64 {
        match self {
            Workload::Restart | Workload::SupStart => 10_000,
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
            Workload::Restart => &[Metric::RestartMedianNs, Metric::RestartP99Ns],
            Workload::SupStart => &[
                Metric::SupStartPerChildNs,
                Metric::SupStartNs,
                Metric::SupStopPerChildNs,
                Metric::SupStopNs,
                Metric::SupMemBytes,
            ],
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
                    "unknown workload `{s}` (expected one of spawn_stop, mem, cast, call, restart, sup_start, million)"
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
    /// Median time from a supervised child's crash until its replacement answered a call,
    /// nanoseconds.
    RestartMedianNs,
    /// 99th percentile of the same, nanoseconds.
    RestartP99Ns,
    /// Nanoseconds to start a supervisor with all its children, per child.
    SupStartPerChildNs,
    /// Nanoseconds to start a supervisor with all its children, in total.
    SupStartNs,
    /// Nanoseconds to stop a supervisor with all its children, per child.
    SupStopPerChildNs,
    /// Nanoseconds to stop a supervisor with all its children, in total.
    SupStopNs,
    /// Resident bytes per child of a started supervisor, its own bookkeeping included.
    SupMemBytes,
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
    pub const ALL: [Metric; 16] = [
        Metric::SpawnStopNs,
        Metric::MemBytes,
        Metric::CastPerS,
        Metric::CallMedianNs,
        Metric::CallP99Ns,
        Metric::RestartMedianNs,
        Metric::RestartP99Ns,
        Metric::SupStartPerChildNs,
        Metric::SupStartNs,
        Metric::SupStopPerChildNs,
        Metric::SupStopNs,
        Metric::SupMemBytes,
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
            Metric::RestartMedianNs => "restart_median_ns",
            Metric::RestartP99Ns => "restart_p99_ns",
            Metric::SupStartPerChildNs => "sup_start_per_child_ns",
            Metric::SupStartNs => "sup_start_ns",
            Metric::SupStopPerChildNs => "sup_stop_per_child_ns",
            Metric::SupStopNs => "sup_stop_ns",
            Metric::SupMemBytes => "sup_mem_bytes",
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
