//! Side-by-side benchmarks of an otp-core `GenServer` against raw tokio, ractor, kameo and actix,
//! of distribution (processes on two nodes over TCP) against a raw tokio + rmp-serde
//! connection and the BEAM's own distribution, and of GenStage-style pipelines against raw
//! tokio tasks joined by bounded channels.
//!
//! Every framework implements the same tiny counter server ([`Server`]): its state is a `u64`, a
//! cast adds a `u64` to it, a call with request `r` replies `state + r`. The supervision
//! workloads need a supervisor as well ([`Supervision`]): one that restarts a crashing child
//! ([`CrashChild`]), and one that starts many counters. The remote workloads put the counter on
//! one node and its client on another ([`remote::Remote`]). The pipeline workloads run producer
//! → 2 processors → batcher → sink ([`pipeline::Pipeline`]). The workloads in [`harness`],
//! [`remote`] and [`pipeline`] are written once, generic over these traits, and the `compare` binary runs each
//! (framework, workload) pair in a fresh child process, on each [`Runtime`]. See `BENCHMARKS.md`
//! at the workspace root for the method.

use std::fmt;
use std::future::Future;
use std::str::FromStr;

use tokio::sync::mpsc;

pub mod budget;
pub mod child;
pub mod frameworks;
pub mod harness;
pub mod instructions;
pub mod options;
pub mod pipeline;
pub mod proc_stats;
pub mod remote;
pub mod report;
pub mod results;
pub mod runtime;

pub use runtime::Runtime;

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

    /// Runs `future` to completion on a fresh runtime of kind `runtime`.
    ///
    /// The default is tokio's runtime ([`runtime::block_on`]); on the multi-thread one,
    /// `future` is spawned, so that the benchmark itself runs on a worker and not on a third
    /// thread.
    fn block_on<F>(runtime: Runtime, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        runtime::block_on(runtime, runtime::Driver::SpawnedTask, future)
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
/// Supervisors run on tokio's runtimes ([`runtime::block_on`]).
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
    /// The baseline of the remote workloads: two endpoints connected over 127.0.0.1 TCP by hand,
    /// frames of a 4-byte big-endian length and an rmp-serde body, batched writes.
    TcpRmp,
    /// otp-dist: two otp-core nodes connected over 127.0.0.1 TCP. Not plugged in yet: it takes
    /// part in no workload until `frameworks/otp_dist.rs` is built (see that file).
    OtpDist,
    /// The BEAM's own distribution: two Erlang nodes on 127.0.0.1, run by `erl`
    /// (`otp-bench/beam/dist_bench.erl`).
    Beam,
    /// The baseline of the pipeline workloads: producer → 2 processors → batcher → sink as
    /// tokio tasks joined by bounded mpsc channels of batches.
    TokioPipeline,
    /// otp-stage's pipeline: the five stages as otp-stage stages (otp-core processes) on
    /// subscriptions with `min_demand: B, max_demand: 2B` (`frameworks/otp_stage.rs`).
    OtpStage,
}

impl Framework {
    /// All frameworks, in table order; each baseline comes first among those it is the
    /// baseline of ([`Metric::baseline`]).
    pub const ALL: [Framework; 12] = [
        Framework::Tokio,
        Framework::TokioTimeout,
        Framework::Otp,
        Framework::OtpMacro,
        Framework::Ractor,
        Framework::Kameo,
        Framework::Actix,
        Framework::TcpRmp,
        Framework::OtpDist,
        Framework::Beam,
        Framework::TokioPipeline,
        Framework::OtpStage,
    ];

    /// The baselines, which every run includes: raw tokio for the local workloads, tcp-rmp for
    /// the remote ones, tokio-pipeline for the pipelines.
    pub const BASELINES: [Framework; 3] = [
        Framework::Tokio,
        Framework::TcpRmp,
        Framework::TokioPipeline,
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
            Framework::TcpRmp => "tcp-rmp",
            Framework::OtpDist => "otp-dist",
            Framework::Beam => "beam",
            Framework::TokioPipeline => "tokio-pipeline",
            Framework::OtpStage => "otp-stage",
        }
    }

    /// Whether this framework takes part in `workload`: the tokio server with a call timeout
    /// differs from raw tokio in its calls only, so it is measured on calls only; actix has no
    /// supervisor that restarts an actor whose handler panicked (its `Supervisor` restarts an
    /// actor that stopped itself, and a panic is not caught), so it sits out the supervision
    /// workloads; the million-servers runs are for raw tokio and otp only. The remote workloads
    /// are for the distribution frameworks (tcp-rmp, the BEAM, otp-dist), the pipeline
    /// workloads for the pipeline frameworks (tokio-pipeline, otp-stage), and
    /// those take part in nothing else.
    pub fn measures(self, workload: Workload) -> bool {
        match self {
            Framework::TcpRmp | Framework::Beam | Framework::OtpDist => {
                return workload.is_remote();
            }
            Framework::TokioPipeline | Framework::OtpStage => return workload.is_pipeline(),
            _ if workload.is_remote() || workload.is_pipeline() => return false,
            _ => {}
        }
        match workload {
            Workload::Call => true,
            Workload::Restart | Workload::SupStart => {
                !matches!(self, Framework::TokioTimeout | Framework::Actix)
            }
            Workload::Million | Workload::MillionMain => {
                matches!(self, Framework::Tokio | Framework::Otp)
            }
            _ => self != Framework::TokioTimeout,
        }
    }

    /// Whether this framework runs on `runtime`: actix runs on its own actix-rt `System`, a
    /// current-thread runtime, and on nothing else; its figures are compared with raw tokio's
    /// on the current-thread runtime. Every other framework runs on both.
    pub fn runs_on(self, runtime: Runtime) -> bool {
        self != Framework::Actix || runtime == Runtime::CurrentThread
    }

    /// Whether this framework's instructions can be counted: every framework's but the BEAM's,
    /// which runs in `erl`, outside the process valgrind watches.
    pub fn counts_instructions(self) -> bool {
        self != Framework::Beam
    }

    /// Whether (this framework, `workload`, `runtime`) is a measurement that exists.
    pub fn takes_part(self, workload: Workload, runtime: Runtime) -> bool {
        self.measures(workload) && self.runs_on(runtime)
    }

    /// Runs `workload` with `n` iterations (or servers, or children) on this framework, on
    /// `runtime`, in this process, timed ([`Mode::Timed`]: its metrics) or not
    /// ([`Mode::Counted`]: no metrics, only the operations, for an instruction count). Fails
    /// if the framework does not take part ([`takes_part`](Framework::takes_part)) or the
    /// workload cannot be counted.
    pub fn run(
        self,
        workload: Workload,
        n: u64,
        runtime: Runtime,
        mode: Mode,
    ) -> Result<Vec<(Metric, f64)>, String> {
        if !self.takes_part(workload, runtime) {
            return Err(format!(
                "{self} does not take part in {workload} on the {runtime} runtime"
            ));
        }
        if mode == Mode::Counted && !workload.counted() {
            return Err(format!("{workload} has no instruction count"));
        }
        if mode == Mode::Counted && !self.counts_instructions() {
            return Err(format!("{self}'s instructions are not counted"));
        }
        if workload.is_supervision() {
            use frameworks::{kameo, otp, otp_macro, ractor, tokio};
            let run = match self {
                Framework::Tokio => harness::run_supervision::<tokio::TokioSupervisor>,
                Framework::Otp => harness::run_supervision::<otp::OtpSupervisor>,
                Framework::OtpMacro => harness::run_supervision::<otp_macro::OtpMacroSupervisor>,
                Framework::Ractor => harness::run_supervision::<ractor::RactorSupervisor>,
                Framework::Kameo => harness::run_supervision::<kameo::KameoSupervisor>,
                Framework::TokioTimeout
                | Framework::Actix
                | Framework::TcpRmp
                | Framework::OtpDist
                | Framework::Beam
                | Framework::TokioPipeline
                | Framework::OtpStage => {
                    return Err(format!("{self} does not take part in {workload}"));
                }
            };
            return Ok(run(workload, n, runtime, mode));
        }
        if workload.is_pipeline() {
            use frameworks::{otp_stage, tokio_pipeline};
            return match self {
                Framework::TokioPipeline => Ok(pipeline::run::<tokio_pipeline::TokioPipeline>(
                    workload, n, runtime, mode,
                )),
                Framework::OtpStage => Ok(pipeline::run::<otp_stage::OtpStagePipeline>(
                    workload, n, runtime, mode,
                )),
                _ => Err(format!("{self} does not take part in {workload}")),
            };
        }
        if workload.is_remote() {
            use frameworks::{beam, otp_dist, tcp_rmp};
            return match self {
                Framework::TcpRmp => Ok(remote::run::<tcp_rmp::TcpRmpClient>(
                    workload, n, runtime, mode,
                )),
                Framework::OtpDist => Ok(remote::run::<otp_dist::OtpDistClient>(
                    workload, n, runtime, mode,
                )),
                Framework::Beam => beam::run(workload, n, runtime),
                _ => Err(format!("{self} does not take part in {workload}")),
            };
        }
        use frameworks::{actix, kameo, otp, otp_macro, ractor, tokio};
        let run = match self {
            Framework::Tokio => harness::run::<tokio::TokioServer>,
            Framework::TokioTimeout => harness::run::<tokio::TokioTimeoutServer>,
            Framework::Otp => harness::run::<otp::OtpServer>,
            Framework::OtpMacro => harness::run::<otp_macro::OtpMacroServer>,
            Framework::Ractor => harness::run::<ractor::RactorServer>,
            Framework::Kameo => harness::run::<kameo::KameoServer>,
            Framework::Actix => harness::run::<actix::ActixServer>,
            Framework::TcpRmp
            | Framework::OtpDist
            | Framework::Beam
            | Framework::TokioPipeline
            | Framework::OtpStage => {
                return Err(format!("{self} does not take part in {workload}"));
            }
        };
        Ok(run(workload, n, runtime, mode))
    }
}

/// Whether a child run measures time or only performs the operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The workload as the wall-clock tables measure it: warm-up, clocks, samples.
    Timed,
    /// The workload's `n` operations alone, without warm-up, clocks or samples: what an
    /// instruction count runs, so that it counts the frameworks and not the harness (reading a
    /// clock, sorting samples whose order changes from run to run).
    Counted,
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
                    "unknown framework `{s}` (expected one of tokio, tokio+timeout, otp, otp-macro, ractor, kameo, actix, tcp-rmp, otp-dist, beam, tokio-pipeline, otp-stage)"
                )
            })
    }
}

/// One workload, run in one child process; it yields one or more [`Metric`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// Spawn `n` (a million) idle servers, then stop them all, from a task spawned onto the
    /// runtime.
    Million,
    /// The same, from `Runtime::block_on` on the main thread, as in the body of
    /// `#[tokio::main]`.
    MillionMain,
    /// `n` casts from node a to a counter on node b, one way over loopback TCP.
    RemoteCast,
    /// `n` sequential calls from node a to a counter on node b, each timed.
    RemoteCall,
    /// `n` events through producer → 2 processors → batcher → sink, in batches of 5.
    PipelineB5,
    /// The same in batches of 100.
    PipelineB100,
    /// The same in batches of 1000.
    PipelineB1000,
}

impl Workload {
    /// All workloads, in the order the parent runs them.
    pub const ALL: [Workload; 13] = [
        Workload::SpawnStop,
        Workload::Memory,
        Workload::Cast,
        Workload::Call,
        Workload::Restart,
        Workload::SupStart,
        Workload::RemoteCast,
        Workload::RemoteCall,
        Workload::PipelineB5,
        Workload::PipelineB100,
        Workload::PipelineB1000,
        Workload::Million,
        Workload::MillionMain,
    ];

    /// The workloads whose instructions per operation `compare --instructions` counts.
    pub const COUNTED: [Workload; 10] = [
        Workload::Call,
        Workload::Cast,
        Workload::SpawnStop,
        Workload::Restart,
        Workload::SupStart,
        Workload::RemoteCall,
        Workload::RemoteCast,
        Workload::PipelineB5,
        Workload::PipelineB100,
        Workload::PipelineB1000,
    ];

    /// The pipeline workloads, one per batch size ([`pipeline::BATCH_SIZES`]); `pipeline` on
    /// the command line names all three.
    pub const PIPELINES: [Workload; 3] = [
        Workload::PipelineB5,
        Workload::PipelineB100,
        Workload::PipelineB1000,
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
            Workload::MillionMain => "million_main",
            Workload::RemoteCast => "remote_cast",
            Workload::RemoteCall => "remote_call",
            Workload::PipelineB5 => "pipeline_b5",
            Workload::PipelineB100 => "pipeline_b100",
            Workload::PipelineB1000 => "pipeline_b1000",
        }
    }

    /// Whether this workload runs between two nodes over TCP ([`remote`]).
    pub fn is_remote(self) -> bool {
        matches!(self, Workload::RemoteCast | Workload::RemoteCall)
    }

    /// Whether this workload runs a pipeline of stages ([`pipeline`]).
    pub fn is_pipeline(self) -> bool {
        self.batch_size().is_some()
    }

    /// The batch size of a pipeline workload; `None` for the others.
    pub fn batch_size(self) -> Option<usize> {
        match self {
            Workload::PipelineB5 => Some(5),
            Workload::PipelineB100 => Some(100),
            Workload::PipelineB1000 => Some(1000),
            _ => None,
        }
    }

    /// The framework this workload's figures are compared with: tcp-rmp for the remote
    /// workloads, tokio-pipeline for the pipelines, raw tokio for the others.
    pub fn baseline(self) -> Framework {
        if self.is_remote() {
            Framework::TcpRmp
        } else if self.is_pipeline() {
            Framework::TokioPipeline
        } else {
            Framework::Tokio
        }
    }

    /// Whether this workload is one of the million-servers runs.
    pub fn is_million(self) -> bool {
        matches!(self, Workload::Million | Workload::MillionMain)
    }

    /// Whether this workload can be run for an instruction count ([`Mode::Counted`]).
    pub fn counted(self) -> bool {
        Workload::COUNTED.contains(&self)
    }

    /// The two operation counts `(n1, n2)` of an instruction count: big enough that the
    /// difference dwarfs the noise of a run's start and end, small enough to take seconds
    /// under valgrind. `None` for a workload that is not counted.
    pub fn instruction_counts(self) -> Option<(u64, u64)> {
        match self {
            Workload::Call | Workload::SpawnStop => Some((20_000, 60_000)),
            Workload::Cast => Some((100_000, 300_000)),
            Workload::Restart | Workload::SupStart | Workload::RemoteCall => Some((2_000, 6_000)),
            Workload::RemoteCast => Some((100_000, 300_000)),
            // Events; whole batches at every count.
            Workload::PipelineB5 => Some((200_000, 600_000)),
            Workload::PipelineB100 => Some((1_000_000, 3_000_000)),
            Workload::PipelineB1000 => Some((4_000_000, 12_000_000)),
            _ => None,
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
            Workload::Cast | Workload::Million | Workload::MillionMain => 1_000_000,
            Workload::RemoteCast => 1_000_000,
            Workload::RemoteCall => remote::CALLS,
            // A round of 0.25 s at batch 5 and 0.5 s at batch 1000 at the reference rates (6 M
            // events/s, 100 M/s), a tenth more for the warm-up; whole batches, warm-up
            // included. The baseline runs faster at large batches (see BENCHMARKS.md).
            Workload::PipelineB5 => 1_500_000,
            Workload::PipelineB100 => 20_000_000,
            Workload::PipelineB1000 => 50_000_000,
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
            Workload::MillionMain => &[Metric::MillionMainSpawnNs, Metric::MillionMainStopNs],
            Workload::RemoteCast => &[Metric::RemoteCastPerS, Metric::WireBytesPerMsg],
            Workload::RemoteCall => &[Metric::RemoteCallMedianNs, Metric::RemoteCallP99Ns],
            Workload::PipelineB5 => &[Metric::PipelineEventsPerSB5],
            Workload::PipelineB100 => &[Metric::PipelineEventsPerSB100],
            Workload::PipelineB1000 => &[Metric::PipelineEventsPerSB1000],
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
                    "unknown workload `{s}` (expected one of spawn_stop, mem, cast, call, restart, sup_start, remote_cast, remote_call, pipeline_b5, pipeline_b100, pipeline_b1000, million, million_main)"
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
    /// Nanoseconds to spawn a million idle servers from the main thread, in total.
    MillionMainSpawnNs,
    /// Nanoseconds to stop a million idle servers from the main thread, in total.
    MillionMainStopNs,
    /// Casts from node a decoded on node b per second, one sender, over loopback TCP.
    RemoteCastPerS,
    /// Bytes put on the wire per cast from node a to node b (the TCP payload: frames and
    /// their headers, without the TCP/IP headers).
    WireBytesPerMsg,
    /// Median remote call round trip, node a to node b and back, nanoseconds.
    RemoteCallMedianNs,
    /// 99th percentile remote call round trip, nanoseconds.
    RemoteCallP99Ns,
    /// Events per second through producer → 2 processors → batcher → sink, batches of 5.
    PipelineEventsPerSB5,
    /// The same, batches of 100.
    PipelineEventsPerSB100,
    /// The same, batches of 1000.
    PipelineEventsPerSB1000,
}

impl Metric {
    /// All metrics, in table order.
    pub const ALL: [Metric; 25] = [
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
        Metric::MillionMainSpawnNs,
        Metric::MillionMainStopNs,
        Metric::RemoteCastPerS,
        Metric::WireBytesPerMsg,
        Metric::RemoteCallMedianNs,
        Metric::RemoteCallP99Ns,
        Metric::PipelineEventsPerSB5,
        Metric::PipelineEventsPerSB100,
        Metric::PipelineEventsPerSB1000,
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
            Metric::MillionMainSpawnNs => "million_main_spawn_ns",
            Metric::MillionMainStopNs => "million_main_stop_ns",
            Metric::RemoteCastPerS => "remote_cast_per_s",
            Metric::WireBytesPerMsg => "wire_bytes_per_msg",
            Metric::RemoteCallMedianNs => "remote_call_median_ns",
            Metric::RemoteCallP99Ns => "remote_call_p99_ns",
            Metric::PipelineEventsPerSB5 => "pipeline_events_per_s_b5",
            Metric::PipelineEventsPerSB100 => "pipeline_events_per_s_b100",
            Metric::PipelineEventsPerSB1000 => "pipeline_events_per_s_b1000",
        }
    }

    /// The framework every ratio of this metric is taken against: tcp-rmp for the remote
    /// metrics, tokio-pipeline for the pipelines', raw tokio for the others.
    pub fn baseline(self) -> Framework {
        match self {
            Metric::RemoteCastPerS
            | Metric::WireBytesPerMsg
            | Metric::RemoteCallMedianNs
            | Metric::RemoteCallP99Ns => Framework::TcpRmp,
            Metric::PipelineEventsPerSB5
            | Metric::PipelineEventsPerSB100
            | Metric::PipelineEventsPerSB1000 => Framework::TokioPipeline,
            _ => Framework::Tokio,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_runs_where() {
        // actix runs on its one-thread System only, and sits out the supervision workloads.
        assert!(Framework::Actix.takes_part(Workload::Call, Runtime::CurrentThread));
        assert!(!Framework::Actix.takes_part(Workload::Call, Runtime::MultiThread));
        assert!(!Framework::Actix.takes_part(Workload::Restart, Runtime::CurrentThread));
        // The timeout reference is measured on calls only.
        assert!(Framework::TokioTimeout.takes_part(Workload::Call, Runtime::MultiThread));
        assert!(!Framework::TokioTimeout.takes_part(Workload::Cast, Runtime::CurrentThread));
        // The million runs are for raw tokio and otp, on both runtimes.
        for runtime in Runtime::ALL {
            for workload in [Workload::Million, Workload::MillionMain] {
                assert!(Framework::Otp.takes_part(workload, runtime));
                assert!(Framework::Tokio.takes_part(workload, runtime));
                assert!(!Framework::Ractor.takes_part(workload, runtime));
            }
        }
        // The remote workloads are for the distribution frameworks, on both runtimes, and
        // those take part in nothing else.
        for runtime in Runtime::ALL {
            for workload in Workload::ALL {
                let remote = workload.is_remote();
                assert_eq!(Framework::TcpRmp.takes_part(workload, runtime), remote);
                assert_eq!(Framework::Beam.takes_part(workload, runtime), remote);
                assert_eq!(Framework::OtpDist.takes_part(workload, runtime), remote);
                assert!(!remote || !Framework::Otp.takes_part(workload, runtime));
                assert!(!remote || !Framework::Tokio.takes_part(workload, runtime));
            }
        }
        assert_eq!(Metric::RemoteCastPerS.baseline(), Framework::TcpRmp);
        assert_eq!(Workload::RemoteCall.baseline(), Framework::TcpRmp);
        assert!(!Framework::Beam.counts_instructions());
        assert_eq!(
            Framework::Beam.run(
                Workload::RemoteCall,
                1,
                Runtime::CurrentThread,
                Mode::Counted
            ),
            Err("beam's instructions are not counted".to_owned())
        );
        assert_eq!(Metric::CastPerS.baseline(), Framework::Tokio);
        for framework in Framework::ALL {
            assert_eq!(framework.name().parse::<Framework>(), Ok(framework));
        }
        assert_eq!(
            Framework::OtpDist.run(Workload::Cast, 1, Runtime::CurrentThread, Mode::Timed),
            Err("otp-dist does not take part in cast on the current runtime".to_owned())
        );
    }

    #[test]
    fn pipelines_against_tokio_pipeline() {
        // The pipeline workloads are for the pipeline frameworks, on both runtimes, and those
        // take part in nothing else.
        for runtime in Runtime::ALL {
            for workload in Workload::ALL {
                let pipeline = workload.is_pipeline();
                assert_eq!(
                    Framework::TokioPipeline.takes_part(workload, runtime),
                    pipeline,
                    "{workload}"
                );
                assert_eq!(
                    Framework::OtpStage.takes_part(workload, runtime),
                    pipeline,
                    "{workload}"
                );
                for framework in Framework::ALL {
                    if !matches!(framework, Framework::TokioPipeline | Framework::OtpStage) {
                        assert!(!pipeline || !framework.takes_part(workload, runtime));
                    }
                }
            }
        }
        let names: Vec<&str> = Workload::PIPELINES.iter().map(|w| w.name()).collect();
        assert_eq!(names, ["pipeline_b5", "pipeline_b100", "pipeline_b1000"]);
        let metrics: Vec<&str> = Workload::PIPELINES
            .iter()
            .flat_map(|w| w.metrics())
            .map(|m| m.name())
            .collect();
        assert_eq!(
            metrics,
            [
                "pipeline_events_per_s_b5",
                "pipeline_events_per_s_b100",
                "pipeline_events_per_s_b1000"
            ]
        );
        let sizes: Vec<usize> = Workload::PIPELINES
            .iter()
            .filter_map(|w| w.batch_size())
            .collect();
        assert_eq!(sizes, pipeline::BATCH_SIZES);
        for workload in Workload::PIPELINES {
            assert_eq!(workload.baseline(), Framework::TokioPipeline);
            assert_eq!(workload.metrics()[0].baseline(), Framework::TokioPipeline);
            assert!(workload.counted());
            // Whole batches in every run: the warm-up, the timed events, the quick run's, and
            // both instruction counts.
            let batch = workload.batch_size().unwrap() as u64;
            let (n1, n2) = workload.instruction_counts().unwrap();
            for n in [
                workload.default_n(),
                harness::warmup(workload.default_n()),
                workload.quick_n(),
                harness::warmup(workload.quick_n()),
                n1,
                n2,
                n1 / 10,
                n2 / 10,
            ] {
                assert_eq!(n % batch, 0, "{workload}: {n}");
            }
        }
        assert!(Framework::BASELINES.contains(&Framework::TokioPipeline));
        assert_eq!(
            "tokio-pipeline".parse::<Framework>(),
            Ok(Framework::TokioPipeline)
        );
        assert_eq!("otp-stage".parse::<Framework>(), Ok(Framework::OtpStage));
        assert!(Framework::OtpStage.counts_instructions());
        assert_eq!(
            Framework::OtpStage.run(Workload::Cast, 10, Runtime::CurrentThread, Mode::Timed),
            Err("otp-stage does not take part in cast on the current runtime".to_owned())
        );
        assert_eq!(
            Framework::Tokio.run(
                Workload::PipelineB5,
                10,
                Runtime::CurrentThread,
                Mode::Timed
            ),
            Err("tokio does not take part in pipeline_b5 on the current runtime".to_owned())
        );
        assert_eq!(
            Framework::TokioPipeline.run(Workload::Cast, 10, Runtime::CurrentThread, Mode::Timed),
            Err("tokio-pipeline does not take part in cast on the current runtime".to_owned())
        );
    }

    #[test]
    fn counted_workloads_have_two_counts() {
        for workload in Workload::ALL {
            match workload.instruction_counts() {
                Some((n1, n2)) => {
                    assert!(workload.counted() && n1 < n2, "{workload}");
                }
                None => assert!(!workload.counted(), "{workload}"),
            }
            assert_eq!(workload.name().parse::<Workload>(), Ok(workload));
        }
        assert_eq!(
            Framework::Otp.run(Workload::Memory, 1, Runtime::CurrentThread, Mode::Counted),
            Err("mem has no instruction count".to_owned())
        );
    }
}
