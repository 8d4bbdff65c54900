//! The command line of `compare`: the parent's options, and the child's.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::{Framework, Mode, Runtime, Workload};

/// The usage text.
pub const USAGE: &str = "\
usage: compare [OPTIONS]
       compare --child <framework> <workload> --runtime current|multi [--n N] [--untimed]

Runs each (framework, workload, runtime) in a fresh child process, several rounds, and prints the
median of each metric with its range across rounds and its ratio to the baseline on the same
runtime (raw tokio; for the remote workloads, tcp-rmp; for the pipelines, tokio-pipeline); with
--instructions, also the
instructions per operation, counted under valgrind on the current-thread runtime, which decide
the budget verdicts.

options:
  --rounds N            wall-clock rounds per (framework, workload, runtime) [9; --quick: 1]
  --million-rounds N    rounds of the one-million-servers runs [3; --quick: 1]
  --quick               a tenth of the iterations and one round: a smoke test
  --only LIST           comma-separated frameworks to run (tokio, tokio+timeout, otp, otp-macro,
                        ractor, kameo, actix; for the remote workloads tcp-rmp, beam, otp-dist;
                        for the pipelines tokio-pipeline, otp-stage); the baselines tokio,
                        tcp-rmp and tokio-pipeline are always added
  --workloads LIST      comma-separated workloads:
                          spawn_stop, mem, cast, call   one server, its client in the same node
                          restart, sup_start            supervisors
                          remote_cast, remote_call      a counter on node b, its client on node a,
                                                        two nodes in this process over 127.0.0.1
                                                        TCP: tcp-rmp (raw tokio + rmp-serde
                                                        frames, the baseline), beam (two Erlang
                                                        nodes, run by `erl`; skipped if `erl` is
                                                        missing) and otp-dist
                          pipeline_b5, pipeline_b100,   producer -> 2 processors -> batcher ->
                          pipeline_b1000                sink over bounded channels of batches of
                                                        5, 100, 1000 events (min/max demand B/2B):
                                                        tokio-pipeline (raw tokio tasks and mpsc
                                                        channels, the baseline) and otp-stage
                                                        (otp-stage stages); `pipeline` names all
                                                        three
                          million, million_main         one million idle servers
                        [all]
  --no-million          skip the one-million-servers runs (million, million_main)
  --runtime R           current, multi or both [both]: tokio's current-thread runtime, its
                        multi-thread runtime with 2 workers, or both (actix always runs on its
                        one-thread System, compared with tokio on the current-thread runtime;
                        in the remote workloads each node has a runtime of this kind, and each
                        BEAM node as many schedulers as it has threads: 1 or 2)
  --instructions        also count instructions per operation under valgrind (current-thread
                        runtime; call, cast, spawn_stop, restart, sup_start, the pipelines (per
                        event), and remote_call, remote_cast in user space only, not the BEAM's)
  --instruction-runs N  how many times each instruction count is made, to show it repeats [2]
  --no-wall-clock       skip the wall-clock rounds (with --instructions: counts only)
  --json FILE           also write every round's values, the instruction counts and the verdicts
                        to FILE
  --timeout SECS        kill a child that runs longer than this [600]
  -h, --help            this text
";

/// The default number of wall-clock rounds. With 9 rounds the median lies between the second
/// lowest and second highest round with 96 % confidence (for any distribution: 1 − 2 ×
/// P(Binomial(9, ½) ≤ 1)), and between the lowest and highest with 99.6 %; with the 5 rounds of
/// earlier versions only the full range gave 94 %. A wall-clock range is printed beside every
/// median, so more rounds narrow what it can say, at about a minute per round.
pub const DEFAULT_ROUNDS: usize = 9;

/// The default number of rounds of the one-million-servers runs (each takes seconds).
pub const DEFAULT_MILLION_ROUNDS: usize = 3;

/// The default number of times each instruction count is made.
pub const DEFAULT_INSTRUCTION_RUNS: usize = 2;

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Invocation {
    /// Print the usage.
    Help,
    /// Run the comparison.
    Parent(Options),
    /// Run one workload in this process.
    Child(ChildOptions),
}

/// The parent's options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Wall-clock rounds per (framework, workload, runtime).
    pub rounds: usize,
    /// Rounds of the million-servers runs.
    pub million_rounds: usize,
    /// A tenth of the iterations.
    pub quick: bool,
    /// The frameworks, the baselines (raw tokio, tcp-rmp) always among them.
    pub frameworks: Vec<Framework>,
    /// The workloads.
    pub workloads: Vec<Workload>,
    /// The runtimes of the wall-clock rounds.
    pub runtimes: Vec<Runtime>,
    /// Whether to run the wall-clock rounds.
    pub wall_clock: bool,
    /// Whether to count instructions.
    pub instructions: bool,
    /// How many times each instruction count is made.
    pub instruction_runs: usize,
    /// Where to write the JSON output.
    pub json: Option<PathBuf>,
    /// How long a child may run.
    pub timeout: Duration,
}

impl Options {
    /// The iteration count of `workload` in a wall-clock run.
    pub fn n(&self, workload: Workload) -> u64 {
        if self.quick {
            workload.quick_n()
        } else {
            workload.default_n()
        }
    }
}

/// The child's options.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildOptions {
    /// The framework.
    pub framework: Framework,
    /// The workload.
    pub workload: Workload,
    /// Its iteration count.
    pub n: u64,
    /// The runtime.
    pub runtime: Runtime,
    /// Timed, or only the operations.
    pub mode: Mode,
}

impl ChildOptions {
    /// The child's command line, without the program.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--child".to_owned(),
            self.framework.name().to_owned(),
            self.workload.name().to_owned(),
            "--n".to_owned(),
            self.n.to_string(),
            "--runtime".to_owned(),
            self.runtime.name().to_owned(),
        ];
        if self.mode == Mode::Counted {
            args.push("--untimed".to_owned());
        }
        args
    }
}

/// Parses the command line (without the program's name).
pub fn parse(args: &[String]) -> Result<Invocation, String> {
    if args.first().map(String::as_str) == Some("--child") {
        return parse_child(&args[1..]).map(Invocation::Child);
    }
    let mut rounds = None;
    let mut million_rounds = None;
    let mut quick = false;
    let mut frameworks = Framework::ALL.to_vec();
    let mut workloads = Workload::ALL.to_vec();
    let mut no_million = false;
    let mut runtimes = Runtime::ALL.to_vec();
    let mut wall_clock = true;
    let mut instructions = false;
    let mut instruction_runs = DEFAULT_INSTRUCTION_RUNS;
    let mut json = None;
    let mut timeout = Duration::from_secs(600);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--rounds" => rounds = Some(parse_count(&value("--rounds")?)?),
            "--million-rounds" => million_rounds = Some(parse_count(&value("--million-rounds")?)?),
            "--quick" => quick = true,
            "--only" => {
                let mut chosen: Vec<Framework> = parse_list(&value("--only")?)?;
                chosen.extend(Framework::BASELINES);
                chosen.sort();
                chosen.dedup();
                frameworks = chosen;
            }
            "--workloads" => workloads = parse_workloads(&value("--workloads")?)?,
            "--no-million" => no_million = true,
            "--runtime" => runtimes = parse_runtimes(&value("--runtime")?)?,
            "--instructions" => instructions = true,
            "--instruction-runs" => {
                instruction_runs = parse_count(&value("--instruction-runs")?)?;
            }
            "--no-wall-clock" => wall_clock = false,
            "--json" => json = Some(PathBuf::from(value("--json")?)),
            "--timeout" => timeout = Duration::from_secs(parse_count(&value("--timeout")?)? as u64),
            "-h" | "--help" => return Ok(Invocation::Help),
            other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
        }
    }
    if no_million {
        workloads.retain(|w| !w.is_million());
    }
    if workloads.is_empty() {
        return Err("--workloads names no workload".to_owned());
    }
    if !wall_clock && !instructions {
        return Err("--no-wall-clock leaves nothing to do without --instructions".to_owned());
    }
    Ok(Invocation::Parent(Options {
        rounds: rounds.unwrap_or(if quick { 1 } else { DEFAULT_ROUNDS }),
        million_rounds: million_rounds.unwrap_or(if quick { 1 } else { DEFAULT_MILLION_ROUNDS }),
        quick,
        frameworks,
        workloads,
        runtimes,
        wall_clock,
        instructions,
        instruction_runs,
        json,
        timeout,
    }))
}

fn parse_child(args: &[String]) -> Result<ChildOptions, String> {
    let [framework, workload, rest @ ..] = args else {
        return Err(format!("--child needs <framework> <workload>\n\n{USAGE}"));
    };
    let framework: Framework = framework.parse()?;
    let workload: Workload = workload.parse()?;
    let mut n = workload.default_n();
    let mut runtime = None;
    let mut mode = Mode::Timed;
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--n" => n = parse_count(&value("--n")?)? as u64,
            "--runtime" => runtime = Some(value("--runtime")?.parse::<Runtime>()?),
            "--untimed" => mode = Mode::Counted,
            other => return Err(format!("unexpected child argument `{other}`")),
        }
    }
    let runtime = runtime.ok_or("--child needs --runtime current or --runtime multi")?;
    Ok(ChildOptions {
        framework,
        workload,
        n,
        runtime,
        mode,
    })
}

/// `current`, `multi` or `both`.
fn parse_runtimes(s: &str) -> Result<Vec<Runtime>, String> {
    if s == "both" {
        Ok(Runtime::ALL.to_vec())
    } else {
        s.parse::<Runtime>()
            .map(|r| vec![r])
            .map_err(|_| format!("unknown runtime `{s}` (expected current, multi or both)"))
    }
}

/// A comma-separated list of workloads, where `pipeline` names every pipeline workload
/// ([`Workload::PIPELINES`]); each workload once, in the order first named.
fn parse_workloads(s: &str) -> Result<Vec<Workload>, String> {
    let mut workloads = Vec::new();
    for item in s.split(',').filter(|item| !item.is_empty()) {
        let named = if item == "pipeline" {
            Workload::PIPELINES.to_vec()
        } else {
            vec![item.parse::<Workload>()?]
        };
        for workload in named {
            if !workloads.contains(&workload) {
                workloads.push(workload);
            }
        }
    }
    Ok(workloads)
}

fn parse_count(s: &str) -> Result<usize, String> {
    match s.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive number, got `{s}`")),
    }
}

fn parse_list<T: FromStr<Err = String>>(s: &str) -> Result<Vec<T>, String> {
    s.split(',')
        .filter(|item| !item.is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn parent(line: &str) -> Options {
        match parse(&args(line)) {
            Ok(Invocation::Parent(options)) => options,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let o = parent("");
        assert_eq!(
            (o.rounds, o.million_rounds),
            (DEFAULT_ROUNDS, DEFAULT_MILLION_ROUNDS)
        );
        assert_eq!(o.runtimes, Runtime::ALL.to_vec());
        assert_eq!(o.frameworks, Framework::ALL.to_vec());
        assert_eq!(o.workloads, Workload::ALL.to_vec());
        assert!(o.wall_clock && !o.instructions && !o.quick);
        assert_eq!(o.instruction_runs, DEFAULT_INSTRUCTION_RUNS);
        assert_eq!(o.n(Workload::Call), 100_000);
        let q = parent("--quick");
        assert_eq!(
            (q.rounds, q.million_rounds, q.n(Workload::Call)),
            (1, 1, 10_000)
        );
    }

    #[test]
    fn options() {
        let o = parent(
            "--runtime current --only otp,actix --workloads call,cast,million --no-million \
             --instructions --instruction-runs 3 --no-wall-clock --rounds 11 --json r.json",
        );
        assert_eq!(o.runtimes, vec![Runtime::CurrentThread]);
        assert_eq!(
            o.frameworks,
            vec![
                Framework::Tokio,
                Framework::Otp,
                Framework::Actix,
                Framework::TcpRmp,
                Framework::TokioPipeline,
            ]
        );
        assert_eq!(
            parent("--only beam --workloads remote_cast,remote_call").frameworks,
            vec![
                Framework::Tokio,
                Framework::TcpRmp,
                Framework::Beam,
                Framework::TokioPipeline
            ]
        );
        assert_eq!(o.workloads, vec![Workload::Call, Workload::Cast]);
        assert!(o.instructions && !o.wall_clock);
        assert_eq!((o.rounds, o.instruction_runs), (11, 3));
        assert_eq!(o.json, Some(PathBuf::from("r.json")));
        assert_eq!(
            parent("--runtime multi").runtimes,
            vec![Runtime::MultiThread]
        );
        assert_eq!(parent("--runtime both").runtimes, Runtime::ALL.to_vec());
        assert_eq!(parse(&args("--help")), Ok(Invocation::Help));
        for bad in [
            "--runtime two",
            "--rounds 0",
            "--rounds",
            "--only erlang",
            "--workloads million --no-million",
            "--no-wall-clock",
            "--frobnicate",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn pipeline_workloads() {
        let o = parent("--workloads pipeline --only tokio-pipeline");
        assert_eq!(o.workloads, Workload::PIPELINES.to_vec());
        assert_eq!(
            o.frameworks,
            vec![
                Framework::Tokio,
                Framework::TcpRmp,
                Framework::TokioPipeline
            ]
        );
        assert_eq!(
            parent("--workloads pipeline_b100,cast,pipeline").workloads,
            vec![
                Workload::PipelineB100,
                Workload::Cast,
                Workload::PipelineB5,
                Workload::PipelineB1000
            ]
        );
        assert_eq!(
            parent("--only otp-stage").frameworks,
            vec![
                Framework::Tokio,
                Framework::TcpRmp,
                Framework::TokioPipeline,
                Framework::OtpStage
            ]
        );
        assert_eq!(
            parent("--quick").n(Workload::PipelineB1000),
            Workload::PipelineB1000.default_n() / 10
        );
        assert!(parse(&args("--workloads pipelines")).is_err());
        assert!(USAGE.contains("pipeline_b1000") && USAGE.contains("tokio-pipeline"));
        let child = ChildOptions {
            framework: Framework::TokioPipeline,
            workload: Workload::PipelineB5,
            n: 1_500_000,
            runtime: Runtime::MultiThread,
            mode: Mode::Timed,
        };
        assert_eq!(
            child.to_args().join(" "),
            "--child tokio-pipeline pipeline_b5 --n 1500000 --runtime multi"
        );
        assert_eq!(parse(&child.to_args()), Ok(Invocation::Child(child)));
    }

    #[test]
    fn child_arguments_round_trip() {
        let child = ChildOptions {
            framework: Framework::OtpMacro,
            workload: Workload::SpawnStop,
            n: 20_000,
            runtime: Runtime::CurrentThread,
            mode: Mode::Counted,
        };
        let line = child.to_args();
        assert_eq!(
            line.join(" "),
            "--child otp-macro spawn_stop --n 20000 --runtime current --untimed"
        );
        assert_eq!(parse(&line), Ok(Invocation::Child(child)));
        match parse(&args("--child otp call --runtime multi")) {
            Ok(Invocation::Child(c)) => {
                assert_eq!((c.n, c.mode), (100_000, Mode::Timed));
                assert_eq!(c.runtime, Runtime::MultiThread);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            parse(&args("--child otp call")).is_err(),
            "the runtime is required"
        );
        assert!(parse(&args("--child otp call --runtime multi --n x")).is_err());
        assert!(parse(&args("--child otp")).is_err());
    }
}
