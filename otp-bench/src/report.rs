//! The tables: wall-clock medians with their spread, per runtime; instruction counts; the
//! budgets and their verdicts; the derived server against the hand-written one.
//!
//! Every table is Markdown, aligned for a terminal. A wall-clock cell reads
//! `330 ns (0.97x; 301–420 ns)`: the median across rounds, the median of the per-round ratios
//! to raw tokio on the same runtime, and the range (lowest–highest) of the rounds' values.

use std::fmt::Write as _;

use crate::budget::{BUDGETS, Budget, DIST_AIM_OVER_BEAM};
use crate::instructions::InstructionResults;
use crate::results::{Results, Spread};
use crate::{Framework, Metric, Runtime, Workload};

/// The metrics of the main table, in row order.
pub const MAIN_METRICS: [Metric; 5] = [
    Metric::SpawnStopNs,
    Metric::MemBytes,
    Metric::CastPerS,
    Metric::CallMedianNs,
    Metric::CallP99Ns,
];

/// The metrics of the one-million-servers table, in row order.
pub const MILLION_METRICS: [Metric; 6] = [
    Metric::MillionSpawnNs,
    Metric::MillionStopNs,
    Metric::MillionMainSpawnNs,
    Metric::MillionMainStopNs,
    Metric::MillionMemBytes,
    Metric::MillionPeakRssBytes,
];

/// The metrics of the supervision table (the `restart` and `sup_start` workloads), in row order.
pub const SUPERVISION_METRICS: [Metric; 7] = [
    Metric::RestartMedianNs,
    Metric::RestartP99Ns,
    Metric::SupStartPerChildNs,
    Metric::SupStartNs,
    Metric::SupStopPerChildNs,
    Metric::SupStopNs,
    Metric::SupMemBytes,
];

/// The metrics of the distribution table (the `remote_cast` and `remote_call` workloads), in
/// row order.
pub const DIST_METRICS: [Metric; 4] = [
    Metric::RemoteCastPerS,
    Metric::RemoteCallMedianNs,
    Metric::RemoteCallP99Ns,
    Metric::WireBytesPerMsg,
];

/// The metrics of the pipeline table (the `pipeline_b*` workloads), in row order.
pub const PIPELINE_METRICS: [Metric; 3] = [
    Metric::PipelineEventsPerSB5,
    Metric::PipelineEventsPerSB100,
    Metric::PipelineEventsPerSB1000,
];

/// One column of a wall-clock table: a framework on a runtime, and its header.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The framework.
    pub framework: Framework,
    /// The runtime.
    pub runtime: Runtime,
    /// The header text.
    pub header: String,
}

impl Column {
    /// The column of `framework` on `runtime`, headed with the framework's name alone.
    pub fn named(framework: Framework, runtime: Runtime) -> Column {
        Column {
            framework,
            runtime,
            header: framework.name().to_owned(),
        }
    }

    /// The column of `framework` on `runtime`, headed with both.
    pub fn qualified(framework: Framework, runtime: Runtime) -> Column {
        let runtime_name = match runtime {
            Runtime::CurrentThread => "current-thread",
            Runtime::MultiThread => "2 workers",
        };
        Column {
            framework,
            runtime,
            header: format!("{framework}, {runtime_name}"),
        }
    }
}

/// How each of `budgets` is judged, its wall-clock figures beside: a table with one row per
/// budget. `runtimes` are the runtimes whose wall-clock figures are shown.
pub fn budget_table(
    budgets: &[Budget],
    instructions: &InstructionResults,
    results: &Results,
    runtimes: &[Runtime],
) -> String {
    let mut header = vec![
        "budget".to_owned(),
        "limit".to_owned(),
        "deciding figure".to_owned(),
        "verdict".to_owned(),
    ];
    header.extend(runtimes.iter().map(|r| match r {
        Runtime::CurrentThread => "wall clock, current-thread".to_owned(),
        Runtime::MultiThread => "wall clock, 2 workers".to_owned(),
    }));
    let mut rows = vec![header];
    for budget in budgets {
        let deciding = match budget.counted {
            Some(workload) => match budget.instruction_ratio(instructions) {
                Some(ratio) => {
                    let per_op = |f| {
                        instructions
                            .per_operation(f, workload)
                            .map_or_else(|| "-".to_owned(), |v| thousands(v.round() as u64))
                    };
                    format!(
                        "{ratio:.2}x instructions ({} {} / tokio {})",
                        budget.subject,
                        per_op(budget.subject),
                        per_op(Framework::Tokio)
                    )
                }
                None => "no instruction count (--instructions)".to_owned(),
            },
            None => match budget.rounds(results) {
                Some(s) if budget.absolute => format!(
                    "{} RSS ({})",
                    format_value(budget.metric, s.median),
                    format_range(budget.metric, s.min, s.max)
                ),
                Some(s) => format!(
                    "{:.2}x ({}), {} rounds",
                    s.median,
                    format_ratio_range(s.min, s.max),
                    s.count
                ),
                None => "-".to_owned(),
            },
        };
        let mut row = vec![
            metric_label(budget.metric).to_owned(),
            budget.describe(),
            deciding,
            budget.decide(instructions, results).decision().to_owned(),
        ];
        row.extend(
            runtimes
                .iter()
                .map(|&rt| wall_clock_beside(budget, results, rt)),
        );
        rows.push(row);
    }
    render(&rows)
}

/// otp-dist's remote casts/s over the BEAM's, round by round, on `runtime`, against the aim of
/// [`DIST_AIM_OVER_BEAM`]: `12.31x (10.10–14.02x): aim >= 10x within`; `None` unless both
/// were measured in the same rounds.
pub fn dist_aim(results: &Results, runtime: Runtime) -> Option<String> {
    let ratios = results.round_ratios_to(
        Framework::OtpDist,
        Framework::Beam,
        runtime,
        Metric::RemoteCastPerS,
    );
    let spread = Spread::of(&ratios)?;
    let position = if spread.min >= DIST_AIM_OVER_BEAM {
        "within"
    } else if spread.max < DIST_AIM_OVER_BEAM {
        "beyond"
    } else {
        "straddles"
    };
    Some(format!(
        "{:.2}x ({}): aim >= {DIST_AIM_OVER_BEAM:.0}x {position}",
        spread.median,
        format_ratio_range(spread.min, spread.max)
    ))
}

/// The subject's wall-clock figure for `budget` on `runtime`, with its range and where the
/// range lies:
/// `0.97x (0.91–1.41x) straddles`.
pub fn wall_clock_beside(budget: &Budget, results: &Results, runtime: Runtime) -> String {
    let Some(spread) = budget.wall_clock(results, runtime) else {
        return "-".to_owned();
    };
    let position = budget.judge_spread(&spread).position();
    if budget.absolute {
        format!(
            "{} ({}) {position}",
            format_value(budget.metric, spread.median),
            format_range(budget.metric, spread.min, spread.max)
        )
    } else {
        format!(
            "{:.2}x ({}) {position}",
            spread.median,
            format_ratio_range(spread.min, spread.max)
        )
    }
}

/// The label of a counted workload's row in the instruction table.
pub fn instruction_label(workload: Workload) -> &'static str {
    match workload {
        Workload::Call => "call round trip",
        Workload::Cast => "cast",
        Workload::SpawnStop => "spawn + stop",
        Workload::Restart => "restart: crash → replacement answered",
        Workload::SupStart => "supervised child: start + stop",
        Workload::RemoteCall => "remote call round trip (user space)",
        Workload::RemoteCast => "remote cast (user space)",
        Workload::PipelineB5 => "pipeline event, batches of 5",
        Workload::PipelineB100 => "pipeline event, batches of 100",
        Workload::PipelineB1000 => "pipeline event, batches of 1000",
        _ => "-",
    }
}

/// Instructions per operation (current-thread runtime): one row per counted workload, one
/// column per framework, each cell with its ratio to raw tokio; the last columns give the
/// largest difference between two counts of the same operation count in the row (in
/// instructions, and per operation) and otp's budget verdict where one applies (a column left
/// out when none applies to any row).
pub fn instruction_table(
    instructions: &InstructionResults,
    frameworks: &[Framework],
    workloads: &[Workload],
) -> String {
    let mut header = vec!["per operation".to_owned()];
    header.extend(frameworks.iter().map(|f| f.name().to_owned()));
    header.push("same count twice".to_owned());
    let budgeted = workloads
        .iter()
        .any(|&w| BUDGETS.iter().any(|b| b.counted == Some(w)));
    if budgeted {
        header.push("otp budget".to_owned());
    }
    let mut rows = vec![header];
    for &workload in workloads {
        let mut row = vec![instruction_label(workload).to_owned()];
        row.extend(frameworks.iter().map(|&f| {
            match (
                instructions.per_operation(f, workload),
                instructions.ratio(f, workload),
            ) {
                (Some(v), Some(r)) => format!("{} ({r:.2}x)", thousands(v.round() as u64)),
                (Some(v), None) => thousands(v.round() as u64),
                _ => "-".to_owned(),
            }
        }));
        let counts: Vec<_> = frameworks
            .iter()
            .filter_map(|&f| instructions.counts(f, workload))
            .collect();
        let repeat = counts.iter().filter_map(|c| c.repeat_difference()).max();
        let per_op = counts
            .iter()
            .filter_map(|c| c.per_operation_difference())
            .fold(None, |acc: Option<f64>, d| {
                Some(acc.map_or(d, |a| a.max(d)))
            });
        row.push(match (repeat, per_op) {
            (Some(d), Some(p)) => format!("Δ ≤ {} ({p:.2}/op)", thousands(d)),
            _ => "-".to_owned(),
        });
        let budget = BUDGETS.into_iter().find(|b| b.counted == Some(workload));
        if !budgeted {
            rows.push(row);
            continue;
        }
        row.push(match budget {
            Some(b) => match b.instruction_ratio(instructions) {
                Some(ratio) => format!("{} ({ratio:.2}x, {})", b.judge(ratio), b.describe()),
                None => format!("n/a ({})", b.describe()),
            },
            None => String::new(),
        });
        rows.push(row);
    }
    render(&rows)
}

/// How far a server written with the macros may be from the hand-written one: 5 % (issue 3),
/// judged on instructions per operation.
pub const MACRO_MARGIN: f64 = 0.05;

/// The derived server against the hand-written one, by instructions per operation: each
/// counted workload's figures, their ratio and whether it is within [`MACRO_MARGIN`]. `None`
/// if neither was counted.
pub fn macro_table(instructions: &InstructionResults, workloads: &[Workload]) -> Option<String> {
    let mut rows = vec![vec![
        "per operation".to_owned(),
        "otp".to_owned(),
        "otp-macro".to_owned(),
        "otp-macro / otp".to_owned(),
        "within 5%".to_owned(),
    ]];
    for &workload in workloads {
        let (Some(hand), Some(derived)) = (
            instructions.per_operation(Framework::Otp, workload),
            instructions.per_operation(Framework::OtpMacro, workload),
        ) else {
            continue;
        };
        let ratio = derived / hand;
        rows.push(vec![
            instruction_label(workload).to_owned(),
            thousands(hand.round() as u64),
            thousands(derived.round() as u64),
            format!("{ratio:.3}"),
            if macro_passes(ratio) { "PASS" } else { "FAIL" }.to_owned(),
        ]);
    }
    (rows.len() > 1).then(|| render(&rows))
}

/// Whether `ratio` (derived / hand-written instructions per operation) is within
/// [`MACRO_MARGIN`].
pub fn macro_passes(ratio: f64) -> bool {
    ratio <= 1.0 + MACRO_MARGIN
}

/// A human label for a metric's row.
pub fn metric_label(metric: Metric) -> &'static str {
    match metric {
        Metric::SpawnStopNs => "spawn + stop, per process",
        Metric::MemBytes => "memory per idle process",
        Metric::CastPerS => "casts/s, one sender",
        Metric::CallMedianNs => "call round trip, median",
        Metric::CallP99Ns => "call round trip, p99",
        Metric::MillionSpawnNs => "spawn all, from a spawned task",
        Metric::MillionStopNs => "stop all, from a spawned task",
        Metric::MillionMainSpawnNs => "spawn all, from block_on (main thread)",
        Metric::MillionMainStopNs => "stop all, from block_on (main thread)",
        Metric::MillionMemBytes => "memory per idle process",
        Metric::MillionPeakRssBytes => "peak RSS (VmHWM)",
        Metric::RestartMedianNs => "crash → replacement answers, median",
        Metric::RestartP99Ns => "crash → replacement answers, p99",
        Metric::SupStartPerChildNs => "supervisor start, per child",
        Metric::SupStartNs => "supervisor start, total",
        Metric::SupStopPerChildNs => "supervisor stop, per child",
        Metric::SupStopNs => "supervisor stop, total",
        Metric::SupMemBytes => "memory per child",
        Metric::RemoteCastPerS => "remote casts/s, one sender",
        Metric::RemoteCallMedianNs => "remote call round trip, median",
        Metric::RemoteCallP99Ns => "remote call round trip, p99",
        Metric::WireBytesPerMsg => "bytes on the wire per cast",
        Metric::PipelineEventsPerSB5 => "events/s, batches of 5 (min/max demand 5/10)",
        Metric::PipelineEventsPerSB100 => "events/s, batches of 100 (min/max demand 100/200)",
        Metric::PipelineEventsPerSB1000 => "events/s, batches of 1000 (min/max demand 1000/2000)",
    }
}

/// A range of values of `metric`, the unit written once where both ends share it:
/// `301–420 ns`, `980 ns–1.02 µs`.
pub fn format_range(metric: Metric, min: f64, max: f64) -> String {
    let (low, high) = (format_value(metric, min), format_value(metric, max));
    match (low.rsplit_once(' '), high.rsplit_once(' ')) {
        (Some((low_number, low_unit)), Some((_, high_unit))) if low_unit == high_unit => {
            format!("{low_number}–{high}")
        }
        _ => format!("{low}–{high}"),
    }
}

/// A range of ratios: `0.91–1.41x`; `0.012–0.025x` for ratios under 0.1.
pub fn format_ratio_range(min: f64, max: f64) -> String {
    format!("{}–{}x", ratio_digits(min), ratio_digits(max))
}

/// A ratio: `0.97x`; `0.012x` under 0.1 (the BEAM's remote casts against tcp-rmp), where two
/// decimals would say nothing.
pub fn format_ratio(ratio: f64) -> String {
    format!("{}x", ratio_digits(ratio))
}

fn ratio_digits(ratio: f64) -> String {
    if ratio.abs() < 0.1 && ratio != 0.0 {
        format!("{ratio:.3}")
    } else {
        format!("{ratio:.2}")
    }
}

/// One wall-clock cell: the median, the median per-round ratio to raw tokio on the same
/// runtime, and the range of the rounds' values, e.g. `330 ns (0.97x; 301–420 ns)`; without
/// the range for a single round, without the ratio where there is no baseline; `-` if not
/// measured.
pub fn cell(results: &Results, framework: Framework, runtime: Runtime, metric: Metric) -> String {
    let Some(spread) = results.spread(framework, runtime, metric) else {
        return "-".to_owned();
    };
    let mut parts = Vec::new();
    if let Some(ratio) = results.ratio(framework, runtime, metric) {
        parts.push(format_ratio(ratio));
    }
    if spread.count > 1 {
        parts.push(format_range(metric, spread.min, spread.max));
    }
    let value = format_value(metric, spread.median);
    if parts.is_empty() {
        value
    } else {
        format!("{value} ({})", parts.join("; "))
    }
}

/// A Markdown table with `metrics` as rows and `columns` as columns.
pub fn table(results: &Results, metrics: &[Metric], columns: &[Column]) -> String {
    let mut header = vec!["metric".to_owned()];
    header.extend(columns.iter().map(|c| c.header.clone()));
    let mut rows = vec![header];
    for &metric in metrics {
        let mut row = vec![metric_label(metric).to_owned()];
        row.extend(
            columns
                .iter()
                .map(|c| cell(results, c.framework, c.runtime, metric)),
        );
        rows.push(row);
    }
    render(&rows)
}

/// Formats `value` in `metric`'s unit for a human: `272 ns`, `2.71 µs`, `1,810 B`, `13.9 M/s`.
pub fn format_value(metric: Metric, value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    match metric {
        Metric::SpawnStopNs
        | Metric::CallMedianNs
        | Metric::CallP99Ns
        | Metric::MillionSpawnNs
        | Metric::MillionStopNs
        | Metric::MillionMainSpawnNs
        | Metric::MillionMainStopNs
        | Metric::RestartMedianNs
        | Metric::RestartP99Ns
        | Metric::SupStartPerChildNs
        | Metric::SupStartNs
        | Metric::SupStopPerChildNs
        | Metric::SupStopNs
        | Metric::RemoteCallMedianNs
        | Metric::RemoteCallP99Ns => format_duration_ns(value),
        Metric::MemBytes
        | Metric::MillionMemBytes
        | Metric::MillionPeakRssBytes
        | Metric::SupMemBytes => format_bytes(value),
        Metric::CastPerS
        | Metric::RemoteCastPerS
        | Metric::PipelineEventsPerSB5
        | Metric::PipelineEventsPerSB100
        | Metric::PipelineEventsPerSB1000 => format_rate(value),
        Metric::WireBytesPerMsg => format!("{value:.1} B"),
    }
}

fn format_duration_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{} µs", three_digits(ns / 1e3))
    } else if ns < 1e9 {
        format!("{} ms", three_digits(ns / 1e6))
    } else {
        format!("{} s", three_digits(ns / 1e9))
    }
}

fn format_bytes(bytes: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes < 1e6 {
        format!("{} B", thousands(bytes.round() as u64))
    } else if bytes < 1024.0 * MIB {
        format!("{} MiB", three_digits(bytes / MIB))
    } else {
        format!("{} GiB", three_digits(bytes / (1024.0 * MIB)))
    }
}

fn format_rate(per_s: f64) -> String {
    if per_s >= 1e6 {
        format!("{} M/s", three_digits(per_s / 1e6))
    } else if per_s >= 1e3 {
        format!("{} k/s", three_digits(per_s / 1e3))
    } else {
        format!("{per_s:.0} /s")
    }
}

/// Three significant digits for values from 1 to 999.
fn three_digits(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}")
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

/// `1810` as `1,810`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The line above the supervision table, saying what was measured: `restart_n` crashes of a
/// supervised child, a supervisor of `sup_start_n` children started and stopped (each `None` if
/// that workload did not run).
pub fn supervision_heading(restart_n: Option<u64>, sup_start_n: Option<u64>) -> String {
    let parts: Vec<String> = [
        restart_n.map(|n| {
            format!(
                "restart: {} crashes of a supervised child, each timed until its replacement answered a call",
                thousands(n)
            )
        }),
        sup_start_n.map(|n| {
            format!(
                "sup_start: a supervisor of {} idle children started, then stopped",
                thousands(n)
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!("supervision ({})", parts.join("; "))
}

/// Renders `rows` (the first is the header) as an aligned Markdown table: the first column
/// left-aligned, the others right-aligned.
fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
                .max(3)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        out.push('|');
        for (c, width) in widths.iter().enumerate() {
            let text = row.get(c).map_or("", String::as_str);
            if c == 0 {
                let _ = write!(out, " {text:<width$} |");
            } else {
                let _ = write!(out, " {text:>width$} |");
            }
        }
        out.push('\n');
        if i == 0 {
            out.push('|');
            for (c, width) in widths.iter().enumerate() {
                let dashes = "-".repeat(*width);
                if c == 0 {
                    let _ = write!(out, " {dashes} |");
                } else {
                    let _ = write!(out, " {}: |", &dashes[1..]);
                }
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::{DIST_BUDGETS, STAGE_BUDGETS, Verdict};

    const CT: Runtime = Runtime::CurrentThread;
    const MT: Runtime = Runtime::MultiThread;

    #[test]
    fn formats_units() {
        assert_eq!(format_value(Metric::CallMedianNs, 272.4), "272 ns");
        assert_eq!(format_value(Metric::SpawnStopNs, 2_710.0), "2.71 µs");
        assert_eq!(
            format_value(Metric::MillionSpawnNs, 1_234_000_000.0),
            "1.23 s"
        );
        assert_eq!(format_value(Metric::MemBytes, 1_810.2), "1,810 B");
        assert_eq!(
            format_value(Metric::MillionPeakRssBytes, 2.5 * 1024.0 * 1024.0 * 1024.0),
            "2.50 GiB"
        );
        assert_eq!(format_value(Metric::CastPerS, 13_900_000.0), "13.9 M/s");
        assert_eq!(format_value(Metric::CastPerS, 850_000.0), "850 k/s");
        assert_eq!(format_value(Metric::MillionMainStopNs, 13.7e9), "13.7 s");
        assert_eq!(format_value(Metric::CallMedianNs, f64::NAN), "n/a");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn formats_spreads() {
        assert_eq!(
            format_range(Metric::CallMedianNs, 301.0, 420.0),
            "301–420 ns"
        );
        assert_eq!(
            format_range(Metric::CallMedianNs, 980.0, 1_020.0),
            "980 ns–1.02 µs"
        );
        assert_eq!(
            format_range(Metric::CastPerS, 7.2e6, 9.0e6),
            "7.20–9.00 M/s"
        );
        assert_eq!(
            format_range(Metric::MemBytes, 1_264.0, 1_270.0),
            "1,264–1,270 B"
        );
        assert_eq!(format_ratio_range(0.912, 1.405), "0.91–1.41x");
        assert_eq!(format_ratio_range(0.0142, 0.0251), "0.014–0.025x");
        assert_eq!(format_ratio(0.0142), "0.014x");
        let mut r = Results::new();
        for (round, tokio, otp) in [(1, 300.0, 330.0), (2, 250.0, 350.0), (3, 400.0, 380.0)] {
            r.add(Framework::Tokio, MT, Metric::CallMedianNs, round, tokio);
            r.add(Framework::Otp, MT, Metric::CallMedianNs, round, otp);
        }
        // Median 350 ns; per-round ratios 1.10, 1.40, 0.95: median 1.10.
        assert_eq!(
            cell(&r, Framework::Otp, MT, Metric::CallMedianNs),
            "350 ns (1.10x; 330–380 ns)"
        );
        assert_eq!(
            cell(&r, Framework::Tokio, MT, Metric::CallMedianNs),
            "300 ns (1.00x; 250–400 ns)"
        );
        assert_eq!(cell(&r, Framework::Otp, CT, Metric::CallMedianNs), "-");
        // One round: no range; no baseline: no ratio.
        r.add(Framework::Actix, CT, Metric::CallMedianNs, 1, 1_040.0);
        assert_eq!(
            cell(&r, Framework::Actix, CT, Metric::CallMedianNs),
            "1.04 µs"
        );
        let budget = Budget::for_metric(Metric::CallMedianNs).unwrap();
        assert_eq!(
            wall_clock_beside(&budget, &r, MT),
            "1.10x (0.95–1.40x) straddles"
        );
        assert_eq!(wall_clock_beside(&budget, &r, CT), "-");
    }

    #[test]
    fn tables_by_runtime_align() {
        let mut r = Results::new();
        r.add(Framework::Tokio, CT, Metric::RestartMedianNs, 1, 4_000.0);
        r.add(Framework::Otp, CT, Metric::RestartMedianNs, 1, 6_000.0);
        r.add(Framework::Tokio, MT, Metric::SupMemBytes, 1, 2_000.0);
        let t = table(
            &r,
            &[Metric::RestartMedianNs, Metric::SupMemBytes],
            &[
                Column::named(Framework::Tokio, CT),
                Column::named(Framework::Otp, CT),
                Column::qualified(Framework::Tokio, MT),
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[0].contains("tokio, 2 workers"), "{t}");
        assert!(lines[1].starts_with("| ---"));
        assert!(lines[2].starts_with("| crash → replacement answers, median"));
        assert!(lines[2].contains("4.00 µs (1.00x)") && lines[2].contains("6.00 µs (1.50x)"));
        assert!(
            lines[3].contains("2,000 B (1.00x)") && lines[3].contains(" - |"),
            "{t}"
        );
        // The columns line up although the label holds multi-byte characters.
        let width = |line: &str| line.chars().count();
        assert!(lines.iter().all(|l| width(l) == width(lines[0])), "{t}");
        assert_eq!(
            supervision_heading(Some(10_000), Some(1_000)),
            "supervision (restart: 10,000 crashes of a supervised child, each timed until its \
             replacement answered a call; sup_start: a supervisor of 1,000 idle children \
             started, then stopped)"
        );
    }

    #[test]
    fn distribution_cells_are_against_tcp_rmp() {
        let mut r = Results::new();
        for (round, tcp, beam, dist) in [(1, 9e6, 2e5, 7e6), (2, 10e6, 2.5e5, 6e6)] {
            r.add(Framework::TcpRmp, CT, Metric::RemoteCastPerS, round, tcp);
            r.add(Framework::Beam, CT, Metric::RemoteCastPerS, round, beam);
            r.add(Framework::OtpDist, CT, Metric::RemoteCastPerS, round, dist);
            r.add(Framework::Tokio, CT, Metric::RemoteCastPerS, round, 1.0);
        }
        // Per-round ratios 0.022 and 0.025: median 0.0236.
        assert_eq!(
            cell(&r, Framework::Beam, CT, Metric::RemoteCastPerS),
            "225 k/s (0.024x; 200–250 k/s)"
        );
        // otp-dist over the BEAM: 35x and 24x.
        assert_eq!(
            dist_aim(&r, CT).unwrap(),
            "29.50x (24.00–35.00x): aim >= 10x within"
        );
        assert_eq!(dist_aim(&r, MT), None);
        let b = budget_table(&DIST_BUDGETS, &InstructionResults::new(), &r, &[CT]);
        let casts = b.lines().find(|l| l.contains("remote casts/s")).unwrap();
        assert!(
            casts.contains("0.69x (0.60–0.78x), 2 rounds") && casts.contains("STRADDLES"),
            "{b}"
        );
        assert!(
            b.lines()
                .any(|l| l.contains("remote call") && l.contains("n/a")),
            "{b}"
        );
        assert_eq!(format_value(Metric::WireBytesPerMsg, 46.001), "46.0 B");
    }

    #[test]
    fn pipeline_cells_are_against_tokio_pipeline() {
        let mut r = Results::new();
        let metric = Metric::PipelineEventsPerSB1000;
        for (round, baseline, stage) in [(1, 100e6, 60e6), (2, 80e6, 60e6)] {
            r.add(Framework::TokioPipeline, CT, metric, round, baseline);
            r.add(Framework::OtpStage, CT, metric, round, stage);
            r.add(Framework::Tokio, CT, metric, round, 1.0);
        }
        // Per-round ratios 0.6 and 0.75: median 0.675.
        assert_eq!(
            cell(&r, Framework::OtpStage, CT, metric),
            "60.0 M/s (0.68x; 60.0–60.0 M/s)"
        );
        assert_eq!(
            cell(&r, Framework::TokioPipeline, CT, metric),
            "90.0 M/s (1.00x; 80.0–100 M/s)"
        );
        let t = table(
            &r,
            &PIPELINE_METRICS,
            &[Column::named(Framework::TokioPipeline, CT)],
        );
        assert!(
            t.lines().next().unwrap().ends_with(" tokio-pipeline |"),
            "{t}"
        );
        assert!(
            t.lines().any(
                |l| l.starts_with("| events/s, batches of 5 (min/max demand 5/10)")
                    && l.contains(" - |")
            ),
            "{t}"
        );
        let mut counts = InstructionResults::new();
        counted(
            &mut counts,
            Framework::TokioPipeline,
            Workload::PipelineB5,
            200,
        );
        counted(&mut counts, Framework::Tokio, Workload::PipelineB5, 1);
        let t = instruction_table(
            &counts,
            &[Framework::TokioPipeline],
            &[Workload::PipelineB5],
        );
        assert!(
            t.contains("pipeline event, batches of 5") && t.contains("200 (1.00x)"),
            "{t}"
        );
        let b = budget_table(&STAGE_BUDGETS, &InstructionResults::new(), &r, &[CT]);
        let b1000 = b.lines().find(|l| l.contains("batches of 1000")).unwrap();
        assert!(b1000.contains(">= 0.5x") && b1000.contains("PASS"), "{b}");
    }

    fn counted(r: &mut InstructionResults, f: Framework, w: Workload, per_op: u64) {
        r.add(f, w, 10, 20, 10, 5_000);
        r.add(f, w, 10, 20, 20, 5_000 + 10 * per_op);
    }

    #[test]
    fn instruction_and_budget_tables() {
        let mut counts = InstructionResults::new();
        counted(&mut counts, Framework::Tokio, Workload::Call, 1_500);
        counted(&mut counts, Framework::Otp, Workload::Call, 2_100);
        counted(&mut counts, Framework::OtpMacro, Workload::Call, 2_110);
        counted(&mut counts, Framework::Tokio, Workload::Restart, 50_000);
        counted(&mut counts, Framework::Otp, Workload::Restart, 40_000);
        let t = instruction_table(
            &counts,
            &[Framework::Tokio, Framework::Otp],
            &[Workload::Call, Workload::Restart],
        );
        assert!(
            t.contains("1,500 (1.00x)") && t.contains("2,100 (1.40x)"),
            "{t}"
        );
        assert!(t.contains("FAIL (1.40x, <= 1.3x)"), "{t}");
        assert!(t.contains("40,000 (0.80x)"), "{t}");
        // The remote rows are against tcp-rmp, and no otp budget applies to them.
        counted(&mut counts, Framework::TcpRmp, Workload::RemoteCast, 900);
        counted(&mut counts, Framework::Tokio, Workload::RemoteCast, 1);
        let t = instruction_table(&counts, &[Framework::TcpRmp], &[Workload::RemoteCast]);
        assert!(
            t.contains("900 (1.00x)") && !t.contains("otp budget"),
            "{t}"
        );
        let m = macro_table(&counts, &[Workload::Call, Workload::Cast]).unwrap();
        assert!(
            m.contains("1.005") && m.contains("PASS") && !m.contains("cast"),
            "{m}"
        );
        assert!(macro_table(&counts, &[Workload::Cast]).is_none());
        assert!(macro_passes(1.05) && !macro_passes(1.06));

        let mut wall = Results::new();
        for (round, tokio, otp) in [(1, 300.0, 330.0), (2, 250.0, 350.0)] {
            wall.add(Framework::Tokio, MT, Metric::CallMedianNs, round, tokio);
            wall.add(Framework::Otp, MT, Metric::CallMedianNs, round, otp);
        }
        wall.add(Framework::Otp, CT, Metric::MemBytes, 1, 1_266.0);
        let b = budget_table(&BUDGETS, &counts, &wall, &[CT, MT]);
        let row = |label: &str| b.lines().find(|l| l.contains(label)).unwrap().to_owned();
        let call = row("call round trip, median");
        assert!(
            call.contains("1.40x instructions (otp 2,100 / tokio 1,500)"),
            "{b}"
        );
        assert!(
            call.contains("FAIL") && call.contains("1.25x (1.10–1.40x) straddles"),
            "{b}"
        );
        let mem = row("memory per idle process");
        assert!(mem.contains("1,266 B RSS") && mem.contains("PASS"), "{b}");
        let cast = row("casts/s");
        assert!(
            cast.contains("no instruction count") && cast.contains("n/a"),
            "{b}"
        );
        assert_eq!(
            Budget::for_metric(Metric::CallMedianNs)
                .unwrap()
                .decide(&counts, &wall),
            Verdict::Fail
        );
    }
}
