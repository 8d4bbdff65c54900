//! `compare`: otp-core against raw tokio, ractor, kameo and actix, side by side, in one run.
//!
//! Every (framework, workload) pair runs in a fresh child process (this binary re-executed as
//! `compare --child <framework> <workload> [--n N]`), several rounds each; the table shows the
//! median across rounds and its ratio to raw tokio. See `BENCHMARKS.md` for the method.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use otp_bench::report::{
    self, MAIN_METRICS, MILLION_FRAMEWORKS, MILLION_METRICS, Results, SUPERVISION_METRICS,
};
use otp_bench::{Framework, Metric, Workload, frameworks};

/// The prefix of the one line a child prints with its result.
const RESULT_PREFIX: &str = "RESULT ";

const USAGE: &str = "\
usage: compare [OPTIONS]
       compare --child <framework> <workload> [--n N]

Runs each (framework, workload) pair in a fresh child process, several rounds, and prints the
median of each metric with its ratio to raw tokio.

options:
  --rounds N            child runs per (framework, workload) for the main table [5; --quick: 1]
  --million-rounds N    child runs per framework of the one-million-servers run [3; --quick: 1]
  --quick               a tenth of the iterations and one round: a smoke test
  --only LIST           comma-separated frameworks to run (tokio, tokio+timeout, otp, otp-macro,
                        ractor, kameo, actix); tokio is always added, as the baseline of every
                        ratio
  --workloads LIST      comma-separated workloads (spawn_stop, mem, cast, call, restart,
                        sup_start, million)
  --no-million          skip the one-million-servers run
  --json FILE           also write [{\"framework\", \"metric\", \"value\", \"samples\"}, ...] to FILE
  --timeout SECS        kill a child that runs longer than this [600]
  -h, --help            this text
";

/// The parent's options.
struct Options {
    rounds: usize,
    million_rounds: usize,
    quick: bool,
    frameworks: Vec<Framework>,
    workloads: Vec<Workload>,
    json: Option<PathBuf>,
    timeout: Duration,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..])
    } else {
        parse_options(&args).and_then(|options| parent(&options))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("compare: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Child mode: runs one workload and prints `RESULT {"<metric>": value, ...}`.
fn child(args: &[String]) -> Result<(), String> {
    let [framework, workload, rest @ ..] = args else {
        return Err(format!("--child needs <framework> <workload>\n\n{USAGE}"));
    };
    let framework: Framework = framework.parse()?;
    let workload: Workload = workload.parse()?;
    let n = match rest {
        [] => workload.default_n(),
        [flag, n] if flag == "--n" => n.parse().map_err(|_| format!("bad --n `{n}`"))?,
        _ => return Err(format!("unexpected child arguments {rest:?}")),
    };
    let metrics = framework.run(workload, n)?;
    let object: serde_json::Map<String, serde_json::Value> = metrics
        .into_iter()
        .map(|(metric, value)| (metric.name().to_owned(), value.into()))
        .collect();
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "{RESULT_PREFIX}{}",
        serde_json::Value::Object(object)
    )
    .and_then(|()| stdout.flush())
    .map_err(|e| format!("cannot write the result: {e}"))
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut rounds = None;
    let mut million_rounds = None;
    let mut quick = false;
    let mut frameworks = Framework::ALL.to_vec();
    let mut workloads = Workload::ALL.to_vec();
    let mut no_million = false;
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
                chosen.push(Framework::Tokio);
                chosen.sort();
                chosen.dedup();
                frameworks = chosen;
            }
            "--workloads" => workloads = parse_list(&value("--workloads")?)?,
            "--no-million" => no_million = true,
            "--json" => json = Some(PathBuf::from(value("--json")?)),
            "--timeout" => timeout = Duration::from_secs(parse_count(&value("--timeout")?)? as u64),
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
        }
    }
    if no_million {
        workloads.retain(|&w| w != Workload::Million);
    }
    Ok(Options {
        rounds: rounds.unwrap_or(if quick { 1 } else { 5 }),
        million_rounds: million_rounds.unwrap_or(if quick { 1 } else { 3 }),
        quick,
        frameworks,
        workloads,
        json,
        timeout,
    })
}

fn parse_count(s: &str) -> Result<usize, String> {
    match s.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive number, got `{s}`")),
    }
}

fn parse_list<T: std::str::FromStr<Err = String>>(s: &str) -> Result<Vec<T>, String> {
    s.split(',')
        .filter(|item| !item.is_empty())
        .map(str::parse)
        .collect()
}

/// Parent mode: runs every child, prints the tables, writes the JSON.
fn parent(options: &Options) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
    let n_of = |w: Workload| {
        if options.quick {
            w.quick_n()
        } else {
            w.default_n()
        }
    };
    let main_workloads: Vec<Workload> = options
        .workloads
        .iter()
        .copied()
        .filter(|&w| w != Workload::Million)
        .collect();
    let million_frameworks: Vec<Framework> = MILLION_FRAMEWORKS
        .into_iter()
        .filter(|f| options.frameworks.contains(f))
        .collect();
    let run_million = options.workloads.contains(&Workload::Million);

    let started = Instant::now();
    let mut results = Results::new();
    let mut failures = Vec::new();
    let mut run = |framework: Framework, workload: Workload, round: String| {
        let n = n_of(workload);
        eprint!("[{round}] {framework} {workload} (n = {n}) ... ");
        match run_child(&exe, framework, workload, n, options.timeout) {
            Ok(values) => {
                let shown: Vec<String> = values
                    .iter()
                    .map(|&(m, v)| format!("{m} = {}", report::format_value(m, v)))
                    .collect();
                eprintln!("{}", shown.join(", "));
                for (metric, value) in values {
                    results.add(framework, metric, value);
                }
            }
            Err(error) => {
                eprintln!("FAILED: {error}");
                failures.push(format!("{framework} {workload} [{round}]: {error}"));
            }
        }
    };
    // Rounds outermost, so that a slow drift of the machine spreads over all frameworks alike.
    for round in 1..=options.rounds {
        for &workload in &main_workloads {
            for &framework in &options.frameworks {
                if !framework.measures(workload) {
                    continue;
                }
                run(
                    framework,
                    workload,
                    format!("round {round}/{}", options.rounds),
                );
            }
        }
    }
    if run_million {
        for round in 1..=options.million_rounds {
            for &framework in &million_frameworks {
                run(
                    framework,
                    Workload::Million,
                    format!("million {round}/{}", options.million_rounds),
                );
            }
        }
    }
    let elapsed = started.elapsed();

    println!();
    println!(
        "otp-bench compare: {} rounds (million: {}), {}tokio multi-thread runtime with {} workers \
         (actix: actix-rt System, 1 thread), medians across rounds, ratio to tokio in brackets",
        options.rounds,
        if run_million {
            options.million_rounds.to_string()
        } else {
            "skipped".to_owned()
        },
        if options.quick { "QUICK, " } else { "" },
        frameworks::WORKER_THREADS,
    );
    println!("machine: {}", machine_description());
    println!();
    let selected = |metrics: &[Metric]| -> Vec<Metric> {
        metrics
            .iter()
            .copied()
            .filter(|m| main_workloads.iter().any(|w| w.metrics().contains(m)))
            .collect()
    };
    let metrics = selected(&MAIN_METRICS);
    if !metrics.is_empty() {
        print!(
            "{}",
            report::table(&results, &metrics, &options.frameworks, true)
        );
        println!();
    }
    let supervision_metrics = selected(&SUPERVISION_METRICS);
    let supervision_frameworks: Vec<Framework> = options
        .frameworks
        .iter()
        .copied()
        .filter(|&f| {
            main_workloads
                .iter()
                .any(|&w| w.is_supervision() && f.measures(w))
        })
        .collect();
    if !supervision_metrics.is_empty() {
        println!(
            "{}:",
            report::supervision_heading(
                options
                    .workloads
                    .contains(&Workload::Restart)
                    .then(|| n_of(Workload::Restart)),
                options
                    .workloads
                    .contains(&Workload::SupStart)
                    .then(|| n_of(Workload::SupStart)),
            )
        );
        println!();
        print!(
            "{}",
            report::table(
                &results,
                &supervision_metrics,
                &supervision_frameworks,
                false
            )
        );
        println!();
    }
    let macro_metrics: Vec<Metric> = metrics
        .iter()
        .chain(&supervision_metrics)
        .copied()
        .collect();
    if let Some(table) = report::macro_table(&results, &macro_metrics) {
        println!("the derived server (otp-macro) against the hand-written one (otp):");
        println!();
        print!("{table}");
        println!();
    }
    if run_million && !million_frameworks.is_empty() {
        println!(
            "{} idle servers, spawned then stopped one after the other:",
            report::thousands(n_of(Workload::Million))
        );
        println!();
        print!(
            "{}",
            report::table(&results, &MILLION_METRICS, &million_frameworks, false)
        );
        println!();
    }
    println!("total time: {:.1} s", elapsed.as_secs_f64());
    if let Some(path) = &options.json {
        let text = serde_json::to_string_pretty(&results.to_json())
            .map_err(|e| format!("cannot encode the JSON: {e}"))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("JSON written to {}", path.display());
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} child run(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

/// Runs one child and parses its result line.
fn run_child(
    exe: &PathBuf,
    framework: Framework,
    workload: Workload,
    n: u64,
    timeout: Duration,
) -> Result<Vec<(Metric, f64)>, String> {
    let mut child = Command::new(exe)
        .args([
            "--child",
            framework.name(),
            workload.name(),
            "--n",
            &n.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the child: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for the child: {e}")),
        }
    };
    let output = reader
        .join()
        .map_err(|_| "stdout reader panicked".to_owned())?
        .map_err(|e| format!("cannot read the child's output: {e}"))?;
    if !status.success() {
        return Err(format!("child exited with {status}"));
    }
    parse_result(&output)
}

/// Finds the `RESULT {...}` line in a child's output and decodes its metrics.
fn parse_result(output: &str) -> Result<Vec<(Metric, f64)>, String> {
    let line = output
        .lines()
        .find_map(|line| line.strip_prefix(RESULT_PREFIX))
        .ok_or_else(|| format!("no result line in the child's output: {output:?}"))?;
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("bad result line {line:?}: {e}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("result is not an object: {line}"))?;
    object
        .iter()
        .map(|(name, value)| {
            let metric =
                Metric::from_name(name).ok_or_else(|| format!("unknown metric `{name}`"))?;
            let value = value
                .as_f64()
                .ok_or_else(|| format!("metric `{name}` is not a number"))?;
            Ok((metric, value))
        })
        .collect()
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
