//! Collecting the rounds' results, the tables, the budget verdicts and the JSON output.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::harness::median;
use crate::{Framework, Metric};

/// The metrics of the main table, in row order.
pub const MAIN_METRICS: [Metric; 5] = [
    Metric::SpawnStopNs,
    Metric::MemBytes,
    Metric::CastPerS,
    Metric::CallMedianNs,
    Metric::CallP99Ns,
];

/// The metrics of the one-million-servers table, in row order.
pub const MILLION_METRICS: [Metric; 4] = [
    Metric::MillionSpawnNs,
    Metric::MillionStopNs,
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

/// The frameworks the million-servers measurement runs for.
pub const MILLION_FRAMEWORKS: [Framework; 2] = [Framework::Tokio, Framework::Otp];

/// Every round's value of every (framework, metric) measured so far.
#[derive(Clone, Debug, Default)]
pub struct Results {
    samples: BTreeMap<(Framework, Metric), Vec<f64>>,
}

impl Results {
    /// An empty set of results.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one round's `value` of `metric` for `framework`.
    pub fn add(&mut self, framework: Framework, metric: Metric, value: f64) {
        self.samples
            .entry((framework, metric))
            .or_default()
            .push(value);
    }

    /// Every round's value of `metric` for `framework`, in the order they were recorded.
    pub fn samples(&self, framework: Framework, metric: Metric) -> &[f64] {
        self.samples
            .get(&(framework, metric))
            .map_or(&[], Vec::as_slice)
    }

    /// The median across rounds, if any round produced a value.
    pub fn median(&self, framework: Framework, metric: Metric) -> Option<f64> {
        let samples = self.samples(framework, metric);
        (!samples.is_empty()).then(|| median(samples))
    }

    /// `framework`'s median divided by raw tokio's, if both were measured.
    pub fn ratio(&self, framework: Framework, metric: Metric) -> Option<f64> {
        let baseline = self.median(Framework::Tokio, metric)?;
        let value = self.median(framework, metric)?;
        (baseline != 0.0).then(|| value / baseline)
    }

    /// The JSON output: one object per measured (framework, metric) with its median `value`,
    /// plus the per-round `samples`.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.samples
                .iter()
                .map(|(&(framework, metric), samples)| {
                    json!({
                        "framework": framework.name(),
                        "metric": metric.name(),
                        "value": median(samples),
                        "samples": samples,
                    })
                })
                .collect(),
        )
    }
}

/// One performance budget of the otp column, from `DESIGN.md`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// The metric it applies to.
    pub metric: Metric,
    /// The limit, a ratio to raw tokio or, where `absolute`, a value in the metric's unit.
    pub limit: f64,
    /// Whether `limit` is an absolute value rather than a ratio to tokio.
    pub absolute: bool,
    /// Whether higher is better (the value must be at least the limit) rather than lower.
    pub at_least: bool,
}

/// The budgets of `DESIGN.md`, "Performance budgets".
pub const BUDGETS: [Budget; 4] = [
    Budget {
        metric: Metric::SpawnStopNs,
        limit: 2.0,
        absolute: false,
        at_least: false,
    },
    Budget {
        metric: Metric::MemBytes,
        limit: 2600.0,
        absolute: true,
        at_least: false,
    },
    Budget {
        metric: Metric::CastPerS,
        limit: 0.6,
        absolute: false,
        at_least: true,
    },
    Budget {
        metric: Metric::CallMedianNs,
        limit: 1.3,
        absolute: false,
        at_least: false,
    },
];

impl Budget {
    /// The budget that applies to `metric`, if any.
    pub fn for_metric(metric: Metric) -> Option<Budget> {
        BUDGETS.into_iter().find(|b| b.metric == metric)
    }

    /// Whether otp met this budget in `results`; `None` if a needed value is missing.
    pub fn passes(&self, results: &Results) -> Option<bool> {
        let measured = if self.absolute {
            results.median(Framework::Otp, self.metric)?
        } else {
            results.ratio(Framework::Otp, self.metric)?
        };
        Some(if self.at_least {
            measured >= self.limit
        } else {
            measured <= self.limit
        })
    }

    /// The limit as printed, e.g. `<= 2.0x` or `<= 2,600 B`.
    pub fn describe(&self) -> String {
        let op = if self.at_least { ">=" } else { "<=" };
        if self.absolute {
            format!("{op} {}", format_value(self.metric, self.limit))
        } else {
            format!("{op} {:.1}x", self.limit)
        }
    }

    /// The budget cell of the otp column: `PASS (<= 2.0x)`, `FAIL (...)` or `n/a (...)`.
    pub fn verdict(&self, results: &Results) -> String {
        let verdict = match self.passes(results) {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "n/a",
        };
        format!("{verdict} ({})", self.describe())
    }
}

/// How far a server written with the macros may be from the hand-written one: 5 % on casts/s
/// and on the call median (issue 3).
pub const MACRO_MARGIN: f64 = 0.05;

/// The metrics on which the derived server is held to [`MACRO_MARGIN`].
pub const MACRO_METRICS: [Metric; 2] = [Metric::CastPerS, Metric::CallMedianNs];

/// The derived server against the hand-written one: each metric's medians, their ratio and, for
/// [`MACRO_METRICS`], the verdict. `None` if either was not measured.
pub fn macro_table(results: &Results, metrics: &[Metric]) -> Option<String> {
    let mut rows = vec![vec![
        "metric".to_owned(),
        "otp".to_owned(),
        "otp-macro".to_owned(),
        "otp-macro / otp".to_owned(),
        "within 5%".to_owned(),
    ]];
    for &metric in metrics {
        let (Some(hand), Some(derived)) = (
            results.median(Framework::Otp, metric),
            results.median(Framework::OtpMacro, metric),
        ) else {
            continue;
        };
        let ratio = derived / hand;
        let verdict = if !MACRO_METRICS.contains(&metric) {
            String::new()
        } else if macro_passes(metric, ratio) {
            "PASS".to_owned()
        } else {
            "FAIL".to_owned()
        };
        rows.push(vec![
            metric_label(metric).to_owned(),
            format_value(metric, hand),
            format_value(metric, derived),
            format!("{ratio:.3}"),
            verdict,
        ]);
    }
    (rows.len() > 1).then(|| render(&rows))
}

/// Whether `ratio` (derived / hand-written) of `metric` is within [`MACRO_MARGIN`], in the
/// direction that matters: a rate may not fall by more, a time may not grow by more.
pub fn macro_passes(metric: Metric, ratio: f64) -> bool {
    if metric == Metric::CastPerS {
        ratio >= 1.0 - MACRO_MARGIN
    } else {
        ratio <= 1.0 + MACRO_MARGIN
    }
}

/// A human label for a metric's row.
pub fn metric_label(metric: Metric) -> &'static str {
    match metric {
        Metric::SpawnStopNs => "spawn + stop, per process",
        Metric::MemBytes => "memory per idle process",
        Metric::CastPerS => "casts/s, one sender",
        Metric::CallMedianNs => "call round trip, median",
        Metric::CallP99Ns => "call round trip, p99",
        Metric::MillionSpawnNs => "spawn all, total",
        Metric::MillionStopNs => "stop all, total",
        Metric::MillionMemBytes => "memory per idle process",
        Metric::MillionPeakRssBytes => "peak RSS (VmHWM)",
        Metric::RestartMedianNs => "crash → replacement answers, median",
        Metric::RestartP99Ns => "crash → replacement answers, p99",
        Metric::SupStartPerChildNs => "supervisor start, per child",
        Metric::SupStartNs => "supervisor start, total",
        Metric::SupStopPerChildNs => "supervisor stop, per child",
        Metric::SupStopNs => "supervisor stop, total",
        Metric::SupMemBytes => "memory per child",
    }
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
        | Metric::RestartMedianNs
        | Metric::RestartP99Ns
        | Metric::SupStartPerChildNs
        | Metric::SupStartNs
        | Metric::SupStopPerChildNs
        | Metric::SupStopNs => format_duration_ns(value),
        Metric::MemBytes
        | Metric::MillionMemBytes
        | Metric::MillionPeakRssBytes
        | Metric::SupMemBytes => format_bytes(value),
        Metric::CastPerS => format_rate(value),
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

/// One cell: the median and its ratio to tokio, e.g. `2.71 µs (1.04x)`; `-` if not measured.
pub fn cell(results: &Results, framework: Framework, metric: Metric) -> String {
    match results.median(framework, metric) {
        None => "-".to_owned(),
        Some(value) => match results.ratio(framework, metric) {
            Some(ratio) => format!("{} ({ratio:.2}x)", format_value(metric, value)),
            None => format_value(metric, value),
        },
    }
}

/// A Markdown table with `metrics` as rows and `frameworks` as columns; with `budgets`, a last
/// column gives otp's verdict against each budget.
pub fn table(
    results: &Results,
    metrics: &[Metric],
    frameworks: &[Framework],
    budgets: bool,
) -> String {
    let mut header = vec!["metric".to_owned()];
    header.extend(frameworks.iter().map(|f| f.name().to_owned()));
    if budgets {
        header.push("otp budget".to_owned());
    }
    let mut rows = vec![header];
    for &metric in metrics {
        let mut row = vec![metric_label(metric).to_owned()];
        row.extend(frameworks.iter().map(|&f| cell(results, f, metric)));
        if budgets {
            row.push(
                Budget::for_metric(metric)
                    .map(|b| b.verdict(results))
                    .unwrap_or_default(),
            );
        }
        rows.push(row);
    }
    render(&rows)
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

    #[test]
    fn macro_margin_applies_in_the_direction_that_matters() {
        assert!(macro_passes(Metric::CastPerS, 0.96));
        assert!(macro_passes(Metric::CastPerS, 1.30));
        assert!(!macro_passes(Metric::CastPerS, 0.94));
        assert!(macro_passes(Metric::CallMedianNs, 1.04));
        assert!(macro_passes(Metric::CallMedianNs, 0.80));
        assert!(!macro_passes(Metric::CallMedianNs, 1.06));
        let mut r = Results::new();
        r.add(Framework::Otp, Metric::CallMedianNs, 400.0);
        r.add(Framework::OtpMacro, Metric::CallMedianNs, 430.0);
        let table = macro_table(&r, &[Metric::CallMedianNs]).unwrap();
        assert!(table.contains("1.075") && table.contains("FAIL"), "{table}");
        assert!(macro_table(&r, &[Metric::CastPerS]).is_none());
    }

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
    }

    #[test]
    fn medians_ratios_and_budgets() {
        let mut r = Results::new();
        for v in [3.0, 1.0, 2.0] {
            r.add(Framework::Tokio, Metric::SpawnStopNs, v * 1000.0);
        }
        r.add(Framework::Otp, Metric::SpawnStopNs, 5000.0);
        r.add(Framework::Otp, Metric::MemBytes, 925.0);
        r.add(Framework::Tokio, Metric::CastPerS, 10e6);
        r.add(Framework::Otp, Metric::CastPerS, 5e6);
        assert_eq!(
            r.median(Framework::Tokio, Metric::SpawnStopNs),
            Some(2000.0)
        );
        assert_eq!(r.ratio(Framework::Otp, Metric::SpawnStopNs), Some(2.5));
        let budget = |m| Budget::for_metric(m).unwrap();
        assert_eq!(budget(Metric::SpawnStopNs).passes(&r), Some(false));
        assert_eq!(budget(Metric::MemBytes).passes(&r), Some(true));
        assert_eq!(budget(Metric::CastPerS).passes(&r), Some(false));
        assert_eq!(budget(Metric::CallMedianNs).passes(&r), None);
        assert_eq!(
            cell(&r, Framework::Otp, Metric::SpawnStopNs),
            "5.00 µs (2.50x)"
        );
        assert_eq!(cell(&r, Framework::Kameo, Metric::SpawnStopNs), "-");
    }

    #[test]
    fn formats_supervision_metrics() {
        assert_eq!(format_value(Metric::RestartMedianNs, 4_321.0), "4.32 µs");
        assert_eq!(format_value(Metric::RestartP99Ns, 27_450.0), "27.4 µs");
        assert_eq!(format_value(Metric::SupStartPerChildNs, 812.0), "812 ns");
        assert_eq!(format_value(Metric::SupStartNs, 8_120_000.0), "8.12 ms");
        assert_eq!(format_value(Metric::SupStopNs, 1_500_000_000.0), "1.50 s");
        assert_eq!(format_value(Metric::SupMemBytes, 1_433.4), "1,433 B");
        assert_eq!(
            metric_label(Metric::RestartMedianNs),
            "crash → replacement answers, median"
        );
        for metric in SUPERVISION_METRICS {
            assert!(
                !MAIN_METRICS.contains(&metric) && Budget::for_metric(metric).is_none(),
                "{metric} belongs to the supervision table only"
            );
        }
    }

    #[test]
    fn supervision_table_and_heading() {
        let mut r = Results::new();
        r.add(Framework::Tokio, Metric::RestartMedianNs, 4_000.0);
        r.add(Framework::Otp, Metric::RestartMedianNs, 6_000.0);
        r.add(Framework::Tokio, Metric::SupMemBytes, 2_000.0);
        let t = table(
            &r,
            &[Metric::RestartMedianNs, Metric::SupMemBytes],
            &[Framework::Tokio, Framework::Otp, Framework::Kameo],
            false,
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(!lines[0].contains("budget"), "{t}");
        assert!(lines[2].starts_with("| crash → replacement answers, median"));
        assert!(lines[2].contains("4.00 µs (1.00x)") && lines[2].contains("6.00 µs (1.50x)"));
        assert!(lines[3].contains("2,000 B (1.00x)") && lines[3].trim_end().ends_with("- |"));
        // The columns line up although the label holds multi-byte characters.
        let width = |line: &str| line.chars().count();
        assert!(lines.iter().all(|l| width(l) == width(lines[0])), "{t}");
        assert_eq!(
            supervision_heading(Some(10_000), Some(1_000)),
            "supervision (restart: 10,000 crashes of a supervised child, each timed until its \
             replacement answered a call; sup_start: a supervisor of 1,000 idle children \
             started, then stopped)"
        );
        assert_eq!(
            supervision_heading(None, Some(10_000)),
            "supervision (sup_start: a supervisor of 10,000 idle children started, then stopped)"
        );
    }

    #[test]
    fn renders_a_markdown_table() {
        let mut r = Results::new();
        r.add(Framework::Tokio, Metric::CallMedianNs, 272.0);
        r.add(Framework::Otp, Metric::CallMedianNs, 300.0);
        let t = table(
            &r,
            &[Metric::CallMedianNs],
            &[Framework::Tokio, Framework::Otp],
            true,
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("| ---"));
        assert!(lines[2].contains("272 ns (1.00x)"));
        assert!(lines[2].contains("300 ns (1.10x)"));
        assert!(lines[2].contains("PASS (<= 1.3x)"));
        let json = r.to_json();
        assert_eq!(json[0]["framework"], "tokio");
        assert_eq!(json[0]["metric"], "call_median_ns");
        assert_eq!(json[0]["value"], 272.0);
    }
}
