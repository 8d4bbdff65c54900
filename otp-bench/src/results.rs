//! The wall-clock results of a run: every round's value of every (framework, runtime, metric),
//! their medians and spreads, and ratios to the matching baseline.
//!
//! A ratio is always taken against the metric's baseline ([`Metric::baseline`]: raw tokio, or
//! tcp-rmp for the remote metrics) **on the same runtime** (actix, which runs on a one-thread
//! actix-rt `System`, is only ever measured as [`Runtime::CurrentThread`], so its baseline is
//! raw tokio on the current-thread runtime). Rounds run one after the other, every
//! framework once per round, so a round's ratio compares runs made close together in time: the
//! ratio shown is the median of the per-round ratios, and its spread their range.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::harness::median;
use crate::{Framework, Metric, Runtime};

/// One round's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// The round it was measured in, from 1.
    pub round: usize,
    /// The value, in the metric's unit.
    pub value: f64,
}

/// A median with the lowest and highest value it was taken from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The lowest value.
    pub min: f64,
    /// The median.
    pub median: f64,
    /// The highest value.
    pub max: f64,
    /// How many values.
    pub count: usize,
}

impl Spread {
    /// The spread of `values`; `None` if there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Spread {
            min,
            median: median(values),
            max,
            count: values.len(),
        })
    }

    /// Whether `limit` lies inside the range (strictly between the lowest and highest value):
    /// some rounds are on one side of it and some on the other.
    pub fn straddles(&self, limit: f64) -> bool {
        self.min < limit && limit < self.max
    }
}

/// Every round's value of every (framework, runtime, metric) measured so far.
#[derive(Clone, Debug, Default)]
pub struct Results {
    samples: BTreeMap<(Runtime, Framework, Metric), Vec<Sample>>,
}

impl Results {
    /// An empty set of results.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `value` of `metric` for `framework` on `runtime`, measured in `round`.
    pub fn add(
        &mut self,
        framework: Framework,
        runtime: Runtime,
        metric: Metric,
        round: usize,
        value: f64,
    ) {
        self.samples
            .entry((runtime, framework, metric))
            .or_default()
            .push(Sample { round, value });
    }

    /// Every round's value, in the order they were recorded.
    pub fn samples(&self, framework: Framework, runtime: Runtime, metric: Metric) -> &[Sample] {
        self.samples
            .get(&(runtime, framework, metric))
            .map_or(&[], Vec::as_slice)
    }

    fn values(&self, framework: Framework, runtime: Runtime, metric: Metric) -> Vec<f64> {
        self.samples(framework, runtime, metric)
            .iter()
            .map(|s| s.value)
            .collect()
    }

    /// The median and range across rounds, if any round produced a value.
    pub fn spread(&self, framework: Framework, runtime: Runtime, metric: Metric) -> Option<Spread> {
        Spread::of(&self.values(framework, runtime, metric))
    }

    /// The median across rounds, if any round produced a value.
    pub fn median(&self, framework: Framework, runtime: Runtime, metric: Metric) -> Option<f64> {
        self.spread(framework, runtime, metric).map(|s| s.median)
    }

    /// `framework`'s value divided by its baseline's ([`Metric::baseline`]) on the same
    /// runtime, round by round (the rounds where both were measured).
    pub fn round_ratios(&self, framework: Framework, runtime: Runtime, metric: Metric) -> Vec<f64> {
        self.round_ratios_to(framework, metric.baseline(), runtime, metric)
    }

    /// `framework`'s value divided by `baseline`'s on the same runtime, round by round (the
    /// rounds where both were measured).
    pub fn round_ratios_to(
        &self,
        framework: Framework,
        baseline: Framework,
        runtime: Runtime,
        metric: Metric,
    ) -> Vec<f64> {
        let baseline = self.samples(baseline, runtime, metric);
        self.samples(framework, runtime, metric)
            .iter()
            .filter_map(|s| {
                let b = baseline.iter().find(|b| b.round == s.round)?;
                (b.value != 0.0).then(|| s.value / b.value)
            })
            .collect()
    }

    /// The median and range of the per-round ratios to the baseline on the same runtime.
    pub fn ratio_spread(
        &self,
        framework: Framework,
        runtime: Runtime,
        metric: Metric,
    ) -> Option<Spread> {
        Spread::of(&self.round_ratios(framework, runtime, metric))
    }

    /// The median of the per-round ratios to the baseline on the same runtime.
    pub fn ratio(&self, framework: Framework, runtime: Runtime, metric: Metric) -> Option<f64> {
        self.ratio_spread(framework, runtime, metric)
            .map(|s| s.median)
    }

    /// The JSON output: one object per measured (framework, runtime, metric) with its median
    /// `value`, `min` and `max`, the per-round `samples` and `rounds`, and the `ratio` to the
    /// `baseline` (raw tokio, or tcp-rmp for the remote metrics) on the same runtime (median of
    /// the per-round ratios) with its `ratio_min` and `ratio_max`.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.samples
                .iter()
                .map(|(&(runtime, framework, metric), samples)| {
                    let values: Vec<f64> = samples.iter().map(|s| s.value).collect();
                    let rounds: Vec<usize> = samples.iter().map(|s| s.round).collect();
                    let spread = Spread::of(&values);
                    let ratio = self.ratio_spread(framework, runtime, metric);
                    json!({
                        "framework": framework.name(),
                        "runtime": runtime.name(),
                        "metric": metric.name(),
                        "baseline": metric.baseline().name(),
                        "value": spread.map(|s| s.median),
                        "min": spread.map(|s| s.min),
                        "max": spread.map(|s| s.max),
                        "samples": values,
                        "rounds": rounds,
                        "ratio": ratio.map(|s| s.median),
                        "ratio_min": ratio.map(|s| s.min),
                        "ratio_max": ratio.map(|s| s.max),
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: Runtime = Runtime::CurrentThread;
    const MT: Runtime = Runtime::MultiThread;

    #[test]
    fn spreads() {
        let s = Spread::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.min, s.median, s.max, s.count), (1.0, 2.5, 10.0, 4));
        assert!(s.straddles(5.0));
        assert!(!s.straddles(10.0) && !s.straddles(0.5) && !s.straddles(11.0));
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn ratios_pair_rounds_on_the_same_runtime() {
        let mut r = Results::new();
        for (round, tokio, otp) in [(1, 100.0, 110.0), (2, 200.0, 260.0), (3, 150.0, 150.0)] {
            r.add(Framework::Tokio, CT, Metric::CallMedianNs, round, tokio);
            r.add(Framework::Otp, CT, Metric::CallMedianNs, round, otp);
        }
        // A round the baseline missed is left out; the other runtime is never mixed in.
        r.add(Framework::Otp, CT, Metric::CallMedianNs, 4, 1000.0);
        r.add(Framework::Tokio, MT, Metric::CallMedianNs, 1, 1.0);
        assert_eq!(
            r.round_ratios(Framework::Otp, CT, Metric::CallMedianNs),
            vec![1.1, 1.3, 1.0]
        );
        let s = r
            .ratio_spread(Framework::Otp, CT, Metric::CallMedianNs)
            .unwrap();
        assert_eq!((s.min, s.median, s.max), (1.0, 1.1, 1.3));
        assert_eq!(r.ratio(Framework::Otp, MT, Metric::CallMedianNs), None);
        assert_eq!(
            r.median(Framework::Otp, CT, Metric::CallMedianNs),
            Some(205.0)
        );
        assert_eq!(
            r.ratio(Framework::Tokio, CT, Metric::CallMedianNs),
            Some(1.0)
        );
    }

    #[test]
    fn json_keeps_every_round_and_the_runtime() {
        let mut r = Results::new();
        r.add(Framework::Tokio, MT, Metric::CastPerS, 1, 10e6);
        r.add(Framework::Tokio, MT, Metric::CastPerS, 2, 12e6);
        r.add(Framework::Actix, CT, Metric::CastPerS, 1, 5e6);
        let json = r.to_json();
        let rows = json.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        let tokio = rows.iter().find(|v| v["framework"] == "tokio").unwrap();
        assert_eq!(tokio["runtime"], "multi");
        assert_eq!(tokio["samples"], json!([10e6, 12e6]));
        assert_eq!(tokio["rounds"], json!([1, 2]));
        assert_eq!(tokio["value"], 11e6);
        assert_eq!(tokio["ratio"], 1.0);
        let actix = rows.iter().find(|v| v["framework"] == "actix").unwrap();
        assert_eq!(actix["runtime"], "current");
        // No current-thread tokio baseline was measured: no ratio.
        assert_eq!(actix["ratio"], Value::Null);
    }
}
