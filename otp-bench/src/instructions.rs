//! Instruction counts: how many instructions one operation takes, counted by valgrind, on the
//! current-thread runtime, where they repeat from run to run whatever the machine's load.
//!
//! For a (framework, workload), `compare --instructions` runs the child
//! `compare --child <framework> <workload> --n N --runtime current --untimed` under
//! `valgrind --tool=cachegrind --cache-sim=no` at two operation counts `n1 < n2` (the untimed
//! form of a workload performs exactly `n` operations: no warm-up, no clock, no samples), reads
//! the instructions valgrind counted, `I(n)`, and takes
//!
//! ```text
//! per operation = (I(n2) − I(n1)) / (n2 − n1)
//! ```
//!
//! which cancels everything a run does once (loading the program, building the runtime, the
//! first server's start). Each count is made [`Counts::runs`] times: on the current-thread
//! runtime the same count gives the same number, or within a few instructions in millions,
//! and the report shows by how much they differed. On the multi-thread runtime they would
//! not: valgrind runs one thread at a time, and the idle worker's spinning and parking are
//! counted, differently every run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::median;
use crate::{Framework, Workload};

/// The valgrind command line an instruction count runs the child under (the child's own
/// arguments follow): cachegrind without its cache simulation only counts instructions, the
/// fastest of valgrind's tools that does.
pub const VALGRIND_ARGS: [&str; 3] = [
    "--tool=cachegrind",
    "--cache-sim=no",
    "--cachegrind-out-file=/dev/null",
];

/// Checks that valgrind can be run; returns its version, or a message saying what to do.
pub fn check_valgrind() -> Result<String, String> {
    let missing = |why: String| {
        format!(
            "--instructions needs valgrind, which {why}; install it (Debian/Ubuntu: `apt-get \
             install valgrind`) or run without --instructions"
        )
    };
    let output = Command::new("valgrind")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing(format!("could not be run ({e})")))?;
    if !output.status.success() {
        return Err(missing(format!(
            "failed: `valgrind --version` exited with {}",
            output.status
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The command that counts the instructions of `exe` run with `args`.
pub fn valgrind_command(exe: &Path, args: &[String]) -> Command {
    let mut command = Command::new("valgrind");
    command.args(VALGRIND_ARGS).arg(exe).args(args);
    command
}

/// The total instruction count in valgrind's report on stderr: cachegrind's
/// `==PID== I   refs:      1,234,567` or callgrind's `==PID== Collected : 1234567`.
pub fn parse_instructions(stderr: &str) -> Option<u64> {
    stderr.lines().rev().find_map(|line| {
        let rest = line.strip_prefix("==")?;
        let (_pid, report) = rest.split_once("==")?;
        let report = report.trim();
        let number = report
            .strip_prefix("I")
            .and_then(|r| r.trim_start().strip_prefix("refs:"))
            .or_else(|| {
                report
                    .strip_prefix("Collected")
                    .and_then(|r| r.trim_start().strip_prefix(':'))
            })?;
        let digits: String = number.trim().chars().filter(|&c| c != ',').collect();
        digits.parse().ok()
    })
}

/// Instructions per operation from the counts `low` at `n1` operations and `high` at `n2`:
/// `(high − low) / (n2 − n1)`. `None` unless `n2 > n1` (a count that fell as `n` grew gives a
/// negative figure, shown as it is).
pub fn per_operation(n1: u64, low: u64, n2: u64, high: u64) -> Option<f64> {
    (n2 > n1).then(|| (high as f64 - low as f64) / (n2 - n1) as f64)
}

/// The counts of one (framework, workload): the instructions of each run at `n1` and at `n2`
/// operations.
#[derive(Clone, Debug, PartialEq)]
pub struct Counts {
    /// The smaller operation count.
    pub n1: u64,
    /// The larger operation count.
    pub n2: u64,
    /// `I(n1)`, once per run.
    pub low: Vec<u64>,
    /// `I(n2)`, once per run.
    pub high: Vec<u64>,
}

impl Counts {
    /// No counts yet, at `n1` and `n2` operations.
    pub fn new(n1: u64, n2: u64) -> Self {
        Counts {
            n1,
            n2,
            low: Vec::new(),
            high: Vec::new(),
        }
    }

    /// How many runs have both counts.
    pub fn runs(&self) -> usize {
        self.low.len().min(self.high.len())
    }

    /// Instructions per operation of each run that has both counts.
    pub fn per_run(&self) -> Vec<f64> {
        self.low
            .iter()
            .zip(&self.high)
            .filter_map(|(&low, &high)| per_operation(self.n1, low, self.n2, high))
            .collect()
    }

    /// Instructions per operation: the median over runs.
    pub fn per_operation(&self) -> Option<f64> {
        let per_run = self.per_run();
        (!per_run.is_empty()).then(|| median(&per_run))
    }

    /// How far the runs' counts of the same `n` were apart, in instructions: the largest
    /// difference at `n1` or at `n2` (0 when every repeat gave the same count). `None` for a
    /// single run.
    pub fn repeat_difference(&self) -> Option<u64> {
        let range = |v: &[u64]| v.iter().max().zip(v.iter().min()).map(|(a, b)| a - b);
        if self.runs() < 2 {
            return None;
        }
        Some(range(&self.low)?.max(range(&self.high)?))
    }

    /// How far the runs' per-operation figures were apart, in instructions per operation.
    pub fn per_operation_difference(&self) -> Option<f64> {
        let per_run = self.per_run();
        if per_run.len() < 2 {
            return None;
        }
        let max = per_run.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = per_run.iter().copied().fold(f64::INFINITY, f64::min);
        Some(max - min)
    }
}

/// The instruction counts of a run, by (framework, workload).
#[derive(Clone, Debug, Default)]
pub struct InstructionResults {
    counts: BTreeMap<(Workload, Framework), Counts>,
}

impl InstructionResults {
    /// No counts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one run's count `instructions` at `n` operations of (framework, workload),
    /// whose two operation counts are `n1` and `n2`.
    pub fn add(
        &mut self,
        framework: Framework,
        workload: Workload,
        n1: u64,
        n2: u64,
        n: u64,
        instructions: u64,
    ) {
        let counts = self
            .counts
            .entry((workload, framework))
            .or_insert_with(|| Counts::new(n1, n2));
        if n == n1 {
            counts.low.push(instructions);
        } else {
            counts.high.push(instructions);
        }
    }

    /// The counts of (framework, workload), if any were made.
    pub fn counts(&self, framework: Framework, workload: Workload) -> Option<&Counts> {
        self.counts.get(&(workload, framework))
    }

    /// Instructions per operation of (framework, workload).
    pub fn per_operation(&self, framework: Framework, workload: Workload) -> Option<f64> {
        self.counts(framework, workload)?.per_operation()
    }

    /// Instructions per operation of (framework, workload) divided by the workload's
    /// baseline's ([`Workload::baseline`]: raw tokio, or tcp-rmp for the remote workloads), on
    /// the same, current-thread, runtime.
    pub fn ratio(&self, framework: Framework, workload: Workload) -> Option<f64> {
        let baseline = self.per_operation(workload.baseline(), workload)?;
        let value = self.per_operation(framework, workload)?;
        (baseline > 0.0).then(|| value / baseline)
    }

    /// The largest difference between two counts of the same `n`, over every (framework,
    /// workload) counted more than once, with the count it belongs to.
    pub fn worst_repeat(&self) -> Option<(Framework, Workload, u64)> {
        self.counts
            .iter()
            .filter_map(|(&(w, f), c)| Some((f, w, c.repeat_difference()?)))
            .max_by_key(|&(_, _, d)| d)
    }

    /// The JSON output: one object per (framework, workload) with both operation counts, every
    /// run's instruction counts, the per-run and median figure per operation, and the ratio to
    /// raw tokio.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.counts
                .iter()
                .map(|(&(workload, framework), c)| {
                    json!({
                        "framework": framework.name(),
                        "workload": workload.name(),
                        "runtime": "current",
                        "n1": c.n1,
                        "n2": c.n2,
                        "instructions_n1": c.low,
                        "instructions_n2": c.high,
                        "per_operation_runs": c.per_run(),
                        "per_operation": c.per_operation(),
                        "repeat_difference": c.repeat_difference(),
                        "ratio": self.ratio(framework, workload),
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cachegrind_and_callgrind_reports() {
        let cachegrind = "\
==3964== Cachegrind, a cache and branch-prediction profiler
==3964== Command: target/release/compare --child otp call --n 20000
==3964== \n\
RESULT {\"operations\": 20000}
==3964== I   refs:      1,234,567,890
";
        assert_eq!(parse_instructions(cachegrind), Some(1_234_567_890));
        assert_eq!(
            parse_instructions("==3970== Collected : 126545\n==3970== \n"),
            Some(126_545)
        );
        assert_eq!(parse_instructions("==1== I refs: 42"), Some(42));
        // The child's own output, or a report without the count, gives nothing.
        assert_eq!(
            parse_instructions("I   refs: 12\nthread 'main' panicked"),
            None
        );
        assert_eq!(parse_instructions("==1== I   refs: many"), None);
        assert_eq!(parse_instructions(""), None);
    }

    #[test]
    fn differences_two_counts() {
        assert_eq!(
            per_operation(20_000, 1_000_000, 60_000, 81_000_000),
            Some(2_000.0)
        );
        assert_eq!(per_operation(10, 500, 20, 400), Some(-10.0));
        assert_eq!(per_operation(10, 1, 10, 2), None);
        assert_eq!(per_operation(20, 1, 10, 2), None);
    }

    #[test]
    fn counts_repeat_and_median() {
        let mut c = Counts::new(100, 300);
        assert_eq!((c.per_operation(), c.repeat_difference()), (None, None));
        c.low.push(10_000);
        c.high.push(30_000);
        assert_eq!(c.per_operation(), Some(100.0));
        assert_eq!(
            (c.repeat_difference(), c.per_operation_difference()),
            (None, None)
        );
        c.low.push(10_000);
        c.high.push(30_040);
        assert_eq!(c.per_run(), vec![100.0, 100.2]);
        assert_eq!(c.per_operation(), Some(100.1));
        assert_eq!(c.repeat_difference(), Some(40));
        assert!((c.per_operation_difference().unwrap() - 0.2).abs() < 1e-9);
    }

    #[test]
    fn results_ratios_against_tokio() {
        let mut r = InstructionResults::new();
        for (f, low, high) in [
            (Framework::Tokio, 1_000_000, 61_000_000),
            (Framework::Otp, 2_000_000, 80_000_000),
        ] {
            for _ in 0..2 {
                r.add(f, Workload::Call, 20_000, 60_000, 20_000, low);
                r.add(f, Workload::Call, 20_000, 60_000, 60_000, high);
            }
        }
        assert_eq!(
            r.per_operation(Framework::Tokio, Workload::Call),
            Some(1_500.0)
        );
        assert_eq!(
            r.per_operation(Framework::Otp, Workload::Call),
            Some(1_950.0)
        );
        assert_eq!(r.ratio(Framework::Otp, Workload::Call), Some(1.3));
        assert_eq!(r.ratio(Framework::Otp, Workload::Cast), None);
        assert_eq!(r.worst_repeat().map(|(_, _, d)| d), Some(0));
        let json = r.to_json();
        assert_eq!(json[1]["framework"], "otp");
        assert_eq!(json[1]["instructions_n2"], json!([80_000_000, 80_000_000]));
        assert_eq!(json[1]["ratio"], 1.3);
    }
}
