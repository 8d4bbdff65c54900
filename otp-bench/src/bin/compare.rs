//! `compare`: otp-core against raw tokio, ractor, kameo and actix, side by side, in one run;
//! distribution (two nodes over loopback TCP) against raw tokio + rmp-serde frames
//! (tcp-rmp) and the BEAM's own distribution; and pipelines of stages (producer → 2
//! processors → batcher → sink) against raw tokio tasks and bounded channels
//! (tokio-pipeline).
//!
//! Every (framework, workload, runtime) runs in a fresh child process (this binary re-executed
//! as `compare --child <framework> <workload> --n N --runtime R`), several rounds each; the
//! tables show the median across rounds, its range and its ratio to the baseline on the same
//! runtime (raw tokio; tcp-rmp for the remote workloads, tokio-pipeline for the pipelines).
//! With `--instructions`, each counted workload also runs untimed under valgrind on
//! the current-thread runtime, at two operation counts, for its instructions per operation;
//! those decide the budget verdicts. See `BENCHMARKS.md` for the method.

use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use otp_bench::budget::{BUDGETS, Budget, DIST_BUDGETS, STAGE_BUDGETS};
use otp_bench::child::{self, OPERATIONS};
use otp_bench::frameworks::beam;
use otp_bench::instructions::{self, InstructionResults};
use otp_bench::options::{self, ChildOptions, Invocation, Options, USAGE};
use otp_bench::report::{
    self, Column, DIST_METRICS, MAIN_METRICS, MILLION_METRICS, PIPELINE_METRICS,
    SUPERVISION_METRICS,
};
use otp_bench::results::{Results, Spread};
use otp_bench::runtime::WORKER_THREADS;
use otp_bench::{Framework, Metric, Mode, Runtime, Workload};
use serde_json::json;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match options::parse(&args) {
        Ok(Invocation::Help) => {
            print!("{USAGE}");
            Ok(())
        }
        Ok(Invocation::Child(options)) => child(&options),
        Ok(Invocation::Parent(options)) => parent(&options),
        Err(message) => Err(message),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("compare: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Child mode: runs one workload and prints its result line.
fn child(options: &ChildOptions) -> Result<(), String> {
    let metrics =
        options
            .framework
            .run(options.workload, options.n, options.runtime, options.mode)?;
    let line = match options.mode {
        Mode::Timed => child::result_line(metrics.iter().map(|&(m, v)| (m.name(), v))),
        Mode::Counted => child::result_line([(OPERATIONS, options.n as f64)]),
    };
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write the result: {e}"))
}

/// What a run collected.
#[derive(Default)]
struct Run {
    results: Results,
    instructions: InstructionResults,
    failures: Vec<String>,
    /// The one-minute load average before each wall-clock round and after the last.
    loads: Vec<f64>,
    wall_clock_secs: f64,
    instruction_secs: f64,
}

/// Parent mode: runs every child, prints the tables, writes the JSON.
fn parent(options: &Options) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
    let valgrind = if options.instructions {
        Some(instructions::check_valgrind()?)
    } else {
        None
    };
    let mut options = options.clone();
    let remote = options.wall_clock && options.workloads.iter().any(|w| w.is_remote());
    let erlang = if remote && options.frameworks.contains(&Framework::Beam) {
        match beam::check_erl() {
            Ok(release) => Some(release),
            Err(why) => {
                eprintln!(
                    "note: {why}: the BEAM's distribution (framework beam) is skipped; install \
                     Erlang/OTP (Debian/Ubuntu: `apt-get install erlang-nox`) to measure it"
                );
                options.frameworks.retain(|&f| f != Framework::Beam);
                None
            }
        }
    } else {
        None
    };
    let options = &options;
    if options.frameworks.contains(&Framework::Actix)
        && !options.runtimes.contains(&Runtime::CurrentThread)
        && options.wall_clock
    {
        eprintln!(
            "note: actix runs on its one-thread System and is compared with tokio on the \
             current-thread runtime, which --runtime multi leaves out: no wall-clock actix figures"
        );
    }
    let started_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut run = Run::default();
    if options.wall_clock {
        let started = Instant::now();
        wall_clock(options, &exe, &mut run);
        run.wall_clock_secs = started.elapsed().as_secs_f64();
    }
    if options.instructions {
        let started = Instant::now();
        count_instructions(options, &exe, &mut run);
        run.instruction_secs = started.elapsed().as_secs_f64();
    }
    print_report(options, &run, valgrind.as_deref(), erlang.as_deref());
    if let Some(path) = &options.json {
        let document = json!({
            "started_unix_secs": started_at,
            "command": std::env::args().collect::<Vec<_>>(),
            "machine": machine_description(),
            "valgrind": valgrind,
            "erlang": erlang,
            "rounds": options.rounds,
            "million_rounds": options.million_rounds,
            "quick": options.quick,
            "worker_threads": WORKER_THREADS,
            "load_average_1min": run.loads,
            "wall_clock_secs": run.wall_clock_secs,
            "instruction_secs": run.instruction_secs,
            "wall_clock": run.results.to_json(),
            "instructions": run.instructions.to_json(),
            "budgets": budgets_json(options, &run),
            "failures": run.failures,
        });
        let text = serde_json::to_string_pretty(&document)
            .map_err(|e| format!("cannot encode the JSON: {e}"))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("JSON written to {}", path.display());
    }
    if run.failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} child run(s) failed:\n  {}",
            run.failures.len(),
            run.failures.join("\n  ")
        ))
    }
}

/// The wall-clock rounds: rounds outermost (round 1 of every runtime, workload and framework,
/// then round 2, ...), so that a slow drift of the machine spreads over all alike; then the
/// million-servers rounds.
fn wall_clock(options: &Options, exe: &Path, run: &mut Run) {
    let main_workloads: Vec<Workload> = options
        .workloads
        .iter()
        .copied()
        .filter(|w| !w.is_million())
        .collect();
    let million_workloads: Vec<Workload> = options
        .workloads
        .iter()
        .copied()
        .filter(|w| w.is_million())
        .collect();
    let timed = |run: &mut Run, framework, workload, runtime, round, label: String| {
        let child = ChildOptions {
            framework,
            workload,
            n: options.n(workload),
            runtime,
            mode: Mode::Timed,
        };
        eprint!(
            "[{label}] {framework} {workload} on {runtime} (n = {}) ... ",
            child.n
        );
        let mut command = Command::new(exe);
        command.args(child.to_args());
        match child::run(command, options.timeout, false)
            .and_then(|out| child::parse_metrics(&out.stdout))
        {
            Ok(values) => {
                let shown: Vec<String> = values
                    .iter()
                    .map(|&(m, v)| format!("{m} = {}", report::format_value(m, v)))
                    .collect();
                eprintln!("{}", shown.join(", "));
                for (metric, value) in values {
                    run.results.add(framework, runtime, metric, round, value);
                }
            }
            Err(error) => {
                eprintln!("FAILED: {error}");
                run.failures.push(format!(
                    "{framework} {workload} on {runtime} [{label}]: {error}"
                ));
            }
        }
    };
    for round in 1..=options.rounds {
        run.loads.extend(load_average());
        for &runtime in &options.runtimes {
            for &workload in &main_workloads {
                for &framework in &options.frameworks {
                    if framework.takes_part(workload, runtime) {
                        let label = format!("round {round}/{}", options.rounds);
                        timed(run, framework, workload, runtime, round, label);
                    }
                }
            }
        }
    }
    if !million_workloads.is_empty() {
        for round in 1..=options.million_rounds {
            run.loads.extend(load_average());
            for &runtime in &options.runtimes {
                for &workload in &million_workloads {
                    for &framework in &options.frameworks {
                        if framework.takes_part(workload, runtime) {
                            let label = format!("million {round}/{}", options.million_rounds);
                            timed(run, framework, workload, runtime, round, label);
                        }
                    }
                }
            }
        }
    }
    run.loads.extend(load_average());
}

/// The instruction counts: for each counted workload and framework, `--instruction-runs`
/// times, the untimed child under valgrind at both operation counts.
fn count_instructions(options: &Options, exe: &Path, run: &mut Run) {
    let runtime = Runtime::CurrentThread;
    for workload in Workload::COUNTED {
        if !options.workloads.contains(&workload) {
            continue;
        }
        let Some((n1, n2)) = workload.instruction_counts() else {
            continue;
        };
        let (n1, n2) = if options.quick {
            (n1 / 10, n2 / 10)
        } else {
            (n1, n2)
        };
        for &framework in &options.frameworks {
            if !framework.takes_part(workload, runtime) || !framework.counts_instructions() {
                continue;
            }
            for count in 1..=options.instruction_runs {
                for n in [n1, n2] {
                    let child = ChildOptions {
                        framework,
                        workload,
                        n,
                        runtime,
                        mode: Mode::Counted,
                    };
                    eprint!(
                        "[instructions {count}/{}] {framework} {workload} (n = {n}) ... ",
                        options.instruction_runs
                    );
                    let counted = child::run(
                        instructions::valgrind_command(exe, &child.to_args()),
                        options.timeout,
                        true,
                    )
                    .and_then(|out| {
                        let operations = child::parse_operations(&out.stdout)?;
                        if operations != n {
                            return Err(format!("the child made {operations} operations, not {n}"));
                        }
                        instructions::parse_instructions(&out.stderr)
                            .ok_or_else(|| "no instruction count in valgrind's report".to_owned())
                    });
                    match counted {
                        Ok(count) => {
                            eprintln!("{} instructions", report::thousands(count));
                            run.instructions.add(framework, workload, n1, n2, n, count);
                        }
                        Err(error) => {
                            eprintln!("FAILED: {error}");
                            run.failures.push(format!(
                                "instructions of {framework} {workload} (n = {n}): {error}"
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// Prints every table.
fn print_report(options: &Options, run: &Run, valgrind: Option<&str>, erlang: Option<&str>) {
    let results = &run.results;
    println!();
    println!(
        "otp-bench compare{}: machine: {}",
        if options.quick { " (QUICK)" } else { "" },
        machine_description()
    );
    if let Some(load) = Spread::of(&run.loads) {
        println!(
            "load average (1 min) during the wall-clock rounds: {:.2}–{:.2}",
            load.min, load.max
        );
    }
    println!();
    let has = |workloads: &[Workload], metric: Metric| {
        workloads.iter().any(|w| w.metrics().contains(&metric))
    };
    if options.wall_clock {
        for &runtime in &options.runtimes {
            let columns_for = |metrics: &[Metric]| -> Vec<Column> {
                options
                    .frameworks
                    .iter()
                    .copied()
                    .filter(|&f| {
                        options.workloads.iter().any(|&w| {
                            f.takes_part(w, runtime)
                                && metrics.iter().any(|m| w.metrics().contains(m))
                        })
                    })
                    .map(|f| Column::named(f, runtime))
                    .collect()
            };
            let main: Vec<Metric> = MAIN_METRICS
                .into_iter()
                .filter(|&m| has(&options.workloads, m))
                .collect();
            let actix = if runtime == Runtime::CurrentThread {
                " (actix: its actix-rt System, one thread)"
            } else {
                ""
            };
            if !main.is_empty() {
                println!(
                    "wall clock, {}{actix}: median of {} rounds (median ratio to tokio on this \
                     runtime; range of the rounds):",
                    runtime.label(),
                    options.rounds
                );
                println!();
                print!("{}", report::table(results, &main, &columns_for(&main)));
                println!();
            }
            let supervision: Vec<Metric> = SUPERVISION_METRICS
                .into_iter()
                .filter(|&m| has(&options.workloads, m))
                .collect();
            if !supervision.is_empty() {
                println!(
                    "wall clock, {}: {}:",
                    runtime.label(),
                    report::supervision_heading(
                        options
                            .workloads
                            .contains(&Workload::Restart)
                            .then(|| options.n(Workload::Restart)),
                        options
                            .workloads
                            .contains(&Workload::SupStart)
                            .then(|| options.n(Workload::SupStart)),
                    )
                );
                println!();
                print!(
                    "{}",
                    report::table(results, &supervision, &columns_for(&supervision))
                );
                println!();
            }
            let dist: Vec<Metric> = DIST_METRICS
                .into_iter()
                .filter(|&m| has(&options.workloads, m))
                .collect();
            if !dist.is_empty() {
                let beam_nodes = match erlang {
                    Some(release) if options.frameworks.contains(&Framework::Beam) => format!(
                        " (beam: two Erlang nodes, {release}, {} scheduler(s) each)",
                        beam::schedulers(runtime)
                    ),
                    _ => String::new(),
                };
                println!(
                    "wall clock, distribution: two nodes in one process over 127.0.0.1 TCP, each \
                     on its own {}{beam_nodes}; median of {} rounds (median ratio to tcp-rmp; \
                     range of the rounds):",
                    match runtime {
                        Runtime::CurrentThread => "current-thread runtime".to_owned(),
                        Runtime::MultiThread =>
                            format!("multi-thread runtime of {WORKER_THREADS} workers"),
                    },
                    options.rounds
                );
                println!();
                print!("{}", report::table(results, &dist, &columns_for(&dist)));
                println!();
                if let Some(aim) = report::dist_aim(results, runtime) {
                    println!("otp-dist's remote casts/s over the BEAM's: {aim}");
                    println!();
                }
            }
            let pipeline: Vec<Metric> = PIPELINE_METRICS
                .into_iter()
                .filter(|&m| has(&options.workloads, m))
                .collect();
            if !pipeline.is_empty() {
                println!(
                    "wall clock, pipelines, {}: producer -> 2 processors -> batcher -> sink over \
                     bounded channels of batches, events/s in steady state; median of {} rounds \
                     (median ratio to tokio-pipeline; range of the rounds):",
                    runtime.label(),
                    options.rounds
                );
                println!();
                print!(
                    "{}",
                    report::table(results, &pipeline, &columns_for(&pipeline))
                );
                println!();
            }
        }
        let million: Vec<Metric> = MILLION_METRICS
            .into_iter()
            .filter(|&m| has(&options.workloads, m))
            .collect();
        if !million.is_empty() {
            let columns: Vec<Column> = options
                .runtimes
                .iter()
                .flat_map(|&rt| {
                    [Framework::Tokio, Framework::Otp]
                        .into_iter()
                        .filter(|f| options.frameworks.contains(f))
                        .map(move |f| Column::qualified(f, rt))
                })
                .collect();
            println!(
                "{} idle servers, spawned then stopped one after the other ({} rounds):",
                report::thousands(options.n(Workload::Million)),
                options.million_rounds
            );
            println!();
            print!("{}", report::table(results, &million, &columns));
            println!();
        }
    }
    let counted: Vec<Workload> = Workload::COUNTED
        .into_iter()
        .filter(|w| options.workloads.contains(w))
        .collect();
    if options.instructions && !counted.is_empty() {
        let frameworks_of = |workloads: &[Workload]| -> Vec<Framework> {
            options
                .frameworks
                .iter()
                .copied()
                .filter(|&f| {
                    f.counts_instructions()
                        && workloads
                            .iter()
                            .any(|&w| f.takes_part(w, Runtime::CurrentThread))
                })
                .collect()
        };
        let (remote, local): (Vec<Workload>, Vec<Workload>) =
            counted.iter().partition(|w| w.is_remote());
        let (pipelines, local): (Vec<Workload>, Vec<Workload>) =
            local.iter().partition(|w| w.is_pipeline());
        if !local.is_empty() {
            println!(
                "instructions per operation, current-thread runtime ({}; (I(n2) − I(n1)) / (n2 − \
                 n1), median of {} counts; ratio to tokio in brackets):",
                valgrind.unwrap_or("valgrind"),
                options.instruction_runs
            );
            println!();
            print!(
                "{}",
                report::instruction_table(&run.instructions, &frameworks_of(&local), &local)
            );
            println!();
        }
        if !remote.is_empty() {
            println!(
                "instructions per operation, remote workloads, user space only (both nodes on \
                 current-thread runtimes; the kernel's TCP, system calls and wake-ups are not \
                 counted, so the wall clock decides; ratio to tcp-rmp in brackets):"
            );
            println!();
            print!(
                "{}",
                report::instruction_table(&run.instructions, &frameworks_of(&remote), &remote)
            );
            println!();
        }
        if !pipelines.is_empty() {
            println!(
                "instructions per event, pipelines, current-thread runtime ((I(n2) − I(n1)) / \
                 (n2 − n1) over events, median of {} counts; ratio to tokio-pipeline in \
                 brackets):",
                options.instruction_runs
            );
            println!();
            print!(
                "{}",
                report::instruction_table(
                    &run.instructions,
                    &frameworks_of(&pipelines),
                    &pipelines
                )
            );
            println!();
        }
        if let Some((framework, workload, difference)) = run.instructions.worst_repeat() {
            println!(
                "repeatability: the same count made {} times differed by at most {} \
                 instructions ({framework} {workload})",
                options.instruction_runs,
                report::thousands(difference)
            );
            println!();
        }
        if let Some(table) = report::macro_table(&run.instructions, &counted) {
            println!(
                "the derived server (otp-macro) against the hand-written one (otp), instructions:"
            );
            println!();
            print!("{table}");
            println!();
        }
    }
    if BUDGETS.iter().any(|b| has(&options.workloads, b.metric)) {
        println!(
            "otp's budgets (DESIGN.md): ratio budgets decided by instruction counts, memory by \
             RSS; wall-clock medians beside, with the range of the per-round ratios:"
        );
        println!();
        let runtimes: Vec<Runtime> = if options.wall_clock {
            options.runtimes.clone()
        } else {
            Vec::new()
        };
        print!(
            "{}",
            report::budget_table(&BUDGETS, &run.instructions, results, &runtimes)
        );
        println!();
    }
    if options.wall_clock
        && DIST_BUDGETS
            .iter()
            .any(|b| has(&options.workloads, b.metric))
    {
        let measured = Runtime::ALL.into_iter().any(|rt| {
            DIST_BUDGETS
                .iter()
                .any(|b| !results.samples(b.subject, rt, b.metric).is_empty())
        });
        if measured {
            println!(
                "otp-dist's budgets (DIST.md): decided by the per-round ratios to tcp-rmp of \
                 every runtime; each runtime's beside:"
            );
            println!();
            print!(
                "{}",
                report::budget_table(&DIST_BUDGETS, &run.instructions, results, &options.runtimes)
            );
        } else {
            println!(
                "otp-dist's budgets (DIST.md: remote casts/s >= 0.7x tcp-rmp, remote call median \
                 <= 1.3x tcp-rmp, casts/s aimed at >= 10x the BEAM's): not measured, otp-dist is \
                 not plugged into compare yet (otp-bench/src/frameworks/otp_dist.rs)."
            );
        }
        println!();
    }
    if options.wall_clock
        && STAGE_BUDGETS
            .iter()
            .any(|b| has(&options.workloads, b.metric))
    {
        let measured = Runtime::ALL.into_iter().any(|rt| {
            STAGE_BUDGETS
                .iter()
                .any(|b| !results.samples(b.subject, rt, b.metric).is_empty())
        });
        if measured {
            println!(
                "otp-stage's budget: decided by the per-round ratios to tokio-pipeline of every \
                 runtime; each runtime's beside:"
            );
            println!();
            print!(
                "{}",
                report::budget_table(
                    &STAGE_BUDGETS,
                    &run.instructions,
                    results,
                    &options.runtimes
                )
            );
        } else {
            println!(
                "otp-stage's budget (events/s >= 0.5x tokio-pipeline at each batch size): not \
                 measured, no round of otp-stage in this run (not chosen with --only, or its runs \
                 failed)."
            );
        }
        println!();
    }
    println!(
        "time: wall clock {:.1} s, instructions {:.1} s",
        run.wall_clock_secs, run.instruction_secs
    );
}

/// The budgets, their verdicts and the figures beside them, for the JSON output.
fn budgets_json(options: &Options, run: &Run) -> serde_json::Value {
    BUDGETS
        .iter()
        .chain(DIST_BUDGETS.iter())
        .chain(STAGE_BUDGETS.iter())
        .map(|budget: &Budget| {
            let wall: serde_json::Map<String, serde_json::Value> = options
                .runtimes
                .iter()
                .filter_map(|&rt| {
                    let spread = budget.wall_clock(&run.results, rt)?;
                    Some((
                        rt.name().to_owned(),
                        json!({
                            "median": spread.median,
                            "min": spread.min,
                            "max": spread.max,
                            "rounds": spread.count,
                            "position": budget.judge_spread(&spread).position(),
                        }),
                    ))
                })
                .collect();
            json!({
                "subject": budget.subject.name(),
                "metric": budget.metric.name(),
                "baseline": budget.metric.baseline().name(),
                "limit": budget.limit,
                "absolute": budget.absolute,
                "at_least": budget.at_least,
                "instruction_workload": budget.counted.map(Workload::name),
                "instruction_ratio": budget.instruction_ratio(&run.instructions),
                "verdict": budget.decide(&run.instructions, &run.results).decision(),
                "wall_clock": wall,
            })
        })
        .collect()
}

/// The one-minute load average, from `/proc/loadavg` where it exists.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU model and count, from `/proc/cpuinfo` where it exists.
fn machine_description() -> String {
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cpus} CPUs available, {model}")
}
