//! The performance budgets of `DESIGN.md` ("Performance budgets") and how a run is judged
//! against them.
//!
//! A budget on a ratio to raw tokio (spawn + stop, casts, calls) is **decided by instruction
//! counts** on the current-thread runtime ([`crate::instructions`]), which repeat from run to
//! run; the wall-clock medians are printed beside the verdict with their spread, and a
//! wall-clock figure whose rounds fall on both sides of the limit is said to **straddle** it,
//! not to pass or fail. Memory per idle server is an absolute resident-set figure, decided by
//! its rounds (every runtime's): PASS if all are within the limit, FAIL if none is, and
//! straddling otherwise.
//!
//! otp-dist's budgets (`DIST.md`, "Performance": [`DIST_BUDGETS`]) are ratios to tcp-rmp, the
//! raw TCP baseline, and have no instruction count (see `BENCHMARKS.md`, "Distribution"): they
//! are decided by the per-round ratios of every runtime, as memory is by its rounds. So is
//! otp-stage's against tokio-pipeline ([`STAGE_BUDGETS`]).

use std::fmt;

use crate::instructions::InstructionResults;
use crate::results::{Results, Spread};
use crate::{Framework, Metric, Runtime, Workload};

/// One performance budget of one framework.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// The framework it applies to; a ratio is to the metric's baseline ([`Metric::baseline`]).
    pub subject: Framework,
    /// The wall-clock metric it applies to.
    pub metric: Metric,
    /// The limit, a ratio to the baseline or, where `absolute`, a value in the metric's unit.
    pub limit: f64,
    /// Whether `limit` is an absolute value rather than a ratio to the baseline.
    pub absolute: bool,
    /// Whether higher is better (the value must be at least the limit) rather than lower.
    pub at_least: bool,
    /// The workload whose instruction count per operation decides the budget, if any.
    pub counted: Option<Workload>,
}

/// The budgets of `DESIGN.md`, "Performance budgets", for otp.
pub const BUDGETS: [Budget; 4] = [
    Budget {
        subject: Framework::Otp,
        metric: Metric::SpawnStopNs,
        limit: 2.0,
        absolute: false,
        at_least: false,
        counted: Some(Workload::SpawnStop),
    },
    Budget {
        subject: Framework::Otp,
        metric: Metric::MemBytes,
        limit: 2600.0,
        absolute: true,
        at_least: false,
        counted: None,
    },
    Budget {
        subject: Framework::Otp,
        metric: Metric::CastPerS,
        limit: 0.6,
        absolute: false,
        at_least: true,
        counted: Some(Workload::Cast),
    },
    Budget {
        subject: Framework::Otp,
        metric: Metric::CallMedianNs,
        limit: 1.3,
        absolute: false,
        at_least: false,
        counted: Some(Workload::Call),
    },
];

/// The budgets of `DIST.md`, "Performance", for otp-dist against tcp-rmp: remote casts/s at
/// least 0.7 times the baseline's, the remote call's median round trip at most 1.3 times.
pub const DIST_BUDGETS: [Budget; 2] = [
    Budget {
        subject: Framework::OtpDist,
        metric: Metric::RemoteCastPerS,
        limit: 0.7,
        absolute: false,
        at_least: true,
        counted: None,
    },
    Budget {
        subject: Framework::OtpDist,
        metric: Metric::RemoteCallMedianNs,
        limit: 1.3,
        absolute: false,
        at_least: false,
        counted: None,
    },
];

/// The budget of the pipeline workloads' issue for otp-stage against tokio-pipeline, the raw
/// baseline: events/s at least half the baseline's at each batch size. Decided, as otp-dist's,
/// by the per-round ratios of every runtime: the stages run on both, and on two workers a
/// pipeline's time is largely wake-ups across threads, which an instruction count does not see.
/// The instructions per event are printed in their own table, not beside the verdict.
pub const STAGE_BUDGETS: [Budget; 3] = [
    stage_budget(Metric::PipelineEventsPerSB5),
    stage_budget(Metric::PipelineEventsPerSB100),
    stage_budget(Metric::PipelineEventsPerSB1000),
];

/// otp-stage's events/s of `metric` at least 0.5 times tokio-pipeline's.
const fn stage_budget(metric: Metric) -> Budget {
    Budget {
        subject: Framework::OtpStage,
        metric,
        limit: 0.5,
        absolute: false,
        at_least: true,
        counted: None,
    }
}

/// The aim of `DIST.md` beside its budgets: otp-dist's remote casts/s at least ten times the
/// BEAM's distribution's, measured in the same run.
pub const DIST_AIM_OVER_BEAM: f64 = 10.0;

/// Where a value, or a range of values, lies against a budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit (every value of a range).
    Pass,
    /// Beyond the limit (every value of a range).
    Fail,
    /// Some values of the range within the limit, some beyond.
    Straddles,
    /// Nothing to judge.
    Missing,
}

impl Verdict {
    /// How a deciding figure's verdict is printed: `PASS`, `FAIL`, `STRADDLES`, `n/a`.
    pub fn decision(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Straddles => "STRADDLES",
            Verdict::Missing => "n/a",
        }
    }

    /// How a wall-clock figure printed beside the verdict is described: `within`, `beyond`,
    /// `straddles`, `-`.
    pub fn position(self) -> &'static str {
        match self {
            Verdict::Pass => "within",
            Verdict::Fail => "beyond",
            Verdict::Straddles => "straddles",
            Verdict::Missing => "-",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.decision())
    }
}

impl Budget {
    /// The budget that applies to `metric`, if any.
    pub fn for_metric(metric: Metric) -> Option<Budget> {
        BUDGETS.into_iter().find(|b| b.metric == metric)
    }

    /// Whether `value` (a ratio in the budget's terms, or the absolute value) is within.
    pub fn within(&self, value: f64) -> bool {
        if self.at_least {
            value >= self.limit
        } else {
            value <= self.limit
        }
    }

    /// The verdict on one value.
    pub fn judge(&self, value: f64) -> Verdict {
        if !value.is_finite() {
            Verdict::Missing
        } else if self.within(value) {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }

    /// The verdict on a range of values: [`Verdict::Pass`] if even the worst is within,
    /// [`Verdict::Fail`] if even the best is beyond, [`Verdict::Straddles`] otherwise.
    pub fn judge_spread(&self, spread: &Spread) -> Verdict {
        let (worst, best) = if self.at_least {
            (spread.min, spread.max)
        } else {
            (spread.max, spread.min)
        };
        match (self.within(worst), self.within(best)) {
            (true, _) => Verdict::Pass,
            (false, false) => Verdict::Fail,
            (false, true) => Verdict::Straddles,
        }
    }

    /// The subject's instruction ratio in the budget's terms: instructions per operation of
    /// the subject over raw tokio's, or for a rate (casts/s, higher is better) raw tokio's over
    /// the subject's — the ratio of rates if time followed instructions.
    pub fn instruction_ratio(&self, instructions: &InstructionResults) -> Option<f64> {
        let workload = self.counted?;
        let ratio = instructions.ratio(self.subject, workload)?;
        Some(if self.at_least { 1.0 / ratio } else { ratio })
    }

    /// The subject's wall-clock figure on `runtime`: the per-round ratios to the baseline, or
    /// for an absolute budget the values themselves.
    pub fn wall_clock(&self, results: &Results, runtime: Runtime) -> Option<Spread> {
        if self.absolute {
            results.spread(self.subject, runtime, self.metric)
        } else {
            results.ratio_spread(self.subject, runtime, self.metric)
        }
    }

    /// Every round's figure on every runtime: the values themselves for an absolute budget,
    /// the per-round ratios to the baseline otherwise.
    pub fn rounds(&self, results: &Results) -> Option<Spread> {
        let values: Vec<f64> = Runtime::ALL
            .into_iter()
            .flat_map(|rt| {
                if self.absolute {
                    results
                        .samples(self.subject, rt, self.metric)
                        .iter()
                        .map(|s| s.value)
                        .collect()
                } else {
                    results.round_ratios(self.subject, rt, self.metric)
                }
            })
            .collect();
        Spread::of(&values)
    }

    /// The verdict: from the instruction ratio where the budget has one (a budget with an
    /// instruction count is never decided by wall clock alone: `Missing` until counted);
    /// otherwise from every round on every runtime ([`Budget::rounds`]).
    pub fn decide(&self, instructions: &InstructionResults, results: &Results) -> Verdict {
        if self.counted.is_some() {
            return self
                .instruction_ratio(instructions)
                .map_or(Verdict::Missing, |r| self.judge(r));
        }
        self.rounds(results)
            .map_or(Verdict::Missing, |s| self.judge_spread(&s))
    }

    /// The limit as printed, e.g. `<= 2.0x` or `<= 2,600 B`.
    pub fn describe(&self) -> String {
        let op = if self.at_least { ">=" } else { "<=" };
        if self.absolute {
            format!(
                "{op} {}",
                crate::report::format_value(self.metric, self.limit)
            )
        } else {
            format!("{op} {:.1}x", self.limit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: Runtime = Runtime::CurrentThread;
    const MT: Runtime = Runtime::MultiThread;

    fn budget(metric: Metric) -> Budget {
        Budget::for_metric(metric).unwrap()
    }

    fn spread(values: &[f64]) -> Spread {
        Spread::of(values).unwrap()
    }

    #[test]
    fn judges_values_and_ranges_both_ways() {
        let call = budget(Metric::CallMedianNs);
        assert_eq!(call.judge(1.3), Verdict::Pass);
        assert_eq!(call.judge(1.31), Verdict::Fail);
        assert_eq!(call.judge(f64::NAN), Verdict::Missing);
        assert_eq!(call.judge_spread(&spread(&[0.9, 1.0, 1.2])), Verdict::Pass);
        assert_eq!(
            call.judge_spread(&spread(&[0.91, 0.97, 1.41])),
            Verdict::Straddles
        );
        assert_eq!(call.judge_spread(&spread(&[1.31, 1.5])), Verdict::Fail);
        let cast = budget(Metric::CastPerS);
        assert_eq!(cast.judge_spread(&spread(&[0.6, 0.8])), Verdict::Pass);
        assert_eq!(cast.judge_spread(&spread(&[0.55, 0.8])), Verdict::Straddles);
        assert_eq!(cast.judge_spread(&spread(&[0.4, 0.59])), Verdict::Fail);
        assert_eq!(Verdict::Straddles.position(), "straddles");
        assert_eq!(Verdict::Fail.decision(), "FAIL");
        assert_eq!(cast.describe(), ">= 0.6x");
        assert_eq!(budget(Metric::MemBytes).describe(), "<= 2,600 B");
    }

    #[test]
    fn instructions_decide_ratio_budgets() {
        let mut counts = InstructionResults::new();
        let mut add = |f, w, per_op: u64| {
            counts.add(f, w, 10, 20, 10, 1_000);
            counts.add(f, w, 10, 20, 20, 1_000 + 10 * per_op);
        };
        add(Framework::Tokio, Workload::Call, 1_500);
        add(Framework::Otp, Workload::Call, 1_900);
        add(Framework::Tokio, Workload::Cast, 240);
        add(Framework::Otp, Workload::Cast, 300);
        add(Framework::Tokio, Workload::SpawnStop, 4_000);
        add(Framework::Otp, Workload::SpawnStop, 9_000);
        // The wall clock says otherwise; it does not decide.
        let mut wall = Results::new();
        for round in 1..=3 {
            wall.add(Framework::Tokio, MT, Metric::CallMedianNs, round, 300.0);
            wall.add(Framework::Otp, MT, Metric::CallMedianNs, round, 600.0);
        }
        let call = budget(Metric::CallMedianNs);
        assert!((call.instruction_ratio(&counts).unwrap() - 1.9 / 1.5).abs() < 1e-12);
        assert_eq!(call.decide(&counts, &wall), Verdict::Pass);
        assert_eq!(
            call.judge_spread(&call.wall_clock(&wall, MT).unwrap()),
            Verdict::Fail
        );
        // Casts: a rate, so the ratio is tokio's instructions over otp's.
        let cast = budget(Metric::CastPerS);
        assert_eq!(cast.instruction_ratio(&counts), Some(0.8));
        assert_eq!(cast.decide(&counts, &wall), Verdict::Pass);
        assert_eq!(
            budget(Metric::SpawnStopNs).decide(&counts, &wall),
            Verdict::Fail
        );
        // No instruction count: no verdict, whatever the wall clock says.
        assert_eq!(
            call.decide(&InstructionResults::new(), &wall),
            Verdict::Missing
        );
    }

    #[test]
    fn memory_is_decided_by_every_round_of_every_runtime() {
        let mem = budget(Metric::MemBytes);
        let mut r = Results::new();
        assert_eq!(mem.decide(&InstructionResults::new(), &r), Verdict::Missing);
        r.add(Framework::Otp, CT, Metric::MemBytes, 1, 1_264.0);
        r.add(Framework::Otp, MT, Metric::MemBytes, 1, 1_300.0);
        assert_eq!(mem.decide(&InstructionResults::new(), &r), Verdict::Pass);
        r.add(Framework::Otp, MT, Metric::MemBytes, 2, 2_700.0);
        assert_eq!(
            mem.decide(&InstructionResults::new(), &r),
            Verdict::Straddles
        );
        let wall = mem.wall_clock(&r, MT).unwrap();
        assert_eq!((wall.min, wall.max), (1_300.0, 2_700.0));
    }

    #[test]
    fn distribution_budgets_are_decided_by_the_rounds_against_tcp_rmp() {
        let casts = DIST_BUDGETS[0];
        let call = DIST_BUDGETS[1];
        assert_eq!(
            (casts.metric, call.metric),
            (Metric::RemoteCastPerS, Metric::RemoteCallMedianNs)
        );
        assert_eq!(
            (casts.describe(), call.describe()),
            (">= 0.7x".to_owned(), "<= 1.3x".to_owned())
        );
        let none = InstructionResults::new();
        let mut r = Results::new();
        assert_eq!(casts.decide(&none, &r), Verdict::Missing);
        for (round, rt, baseline, subject) in
            [(1, CT, 10e6, 8e6), (1, MT, 10e6, 7.5e6), (2, CT, 12e6, 9e6)]
        {
            r.add(
                Framework::TcpRmp,
                rt,
                Metric::RemoteCastPerS,
                round,
                baseline,
            );
            r.add(
                Framework::OtpDist,
                rt,
                Metric::RemoteCastPerS,
                round,
                subject,
            );
            // Raw tokio's rounds are not its baseline.
            r.add(Framework::Tokio, rt, Metric::RemoteCastPerS, round, 1.0);
        }
        assert_eq!(casts.decide(&none, &r), Verdict::Pass);
        r.add(Framework::TcpRmp, MT, Metric::RemoteCastPerS, 2, 10e6);
        r.add(Framework::OtpDist, MT, Metric::RemoteCastPerS, 2, 6e6);
        assert_eq!(casts.decide(&none, &r), Verdict::Straddles);
        let rounds = casts.rounds(&r).unwrap();
        assert_eq!((rounds.min, rounds.max, rounds.count), (0.6, 0.8, 4));
    }

    #[test]
    fn stage_budgets_are_half_of_tokio_pipeline_at_each_batch_size() {
        let metrics: Vec<Metric> = STAGE_BUDGETS.iter().map(|b| b.metric).collect();
        let expected: Vec<Metric> = Workload::PIPELINES.iter().map(|w| w.metrics()[0]).collect();
        assert_eq!(metrics, expected);
        let b5 = STAGE_BUDGETS[0];
        assert_eq!(b5.subject, Framework::OtpStage);
        assert_eq!(b5.describe(), ">= 0.5x");
        let none = InstructionResults::new();
        let mut r = Results::new();
        assert_eq!(b5.decide(&none, &r), Verdict::Missing);
        let metric = Metric::PipelineEventsPerSB5;
        for (round, rt, baseline, subject) in [(1, CT, 6e6, 4e6), (1, MT, 5e6, 2.6e6)] {
            r.add(Framework::TokioPipeline, rt, metric, round, baseline);
            r.add(Framework::OtpStage, rt, metric, round, subject);
            // Raw tokio's rounds are not its baseline.
            r.add(Framework::Tokio, rt, metric, round, 1.0);
        }
        assert_eq!(b5.decide(&none, &r), Verdict::Pass);
        r.add(Framework::TokioPipeline, CT, metric, 2, 6e6);
        r.add(Framework::OtpStage, CT, metric, 2, 2.4e6);
        assert_eq!(b5.decide(&none, &r), Verdict::Straddles);
    }
}
