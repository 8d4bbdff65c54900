//! Recording into the `metrics` crate.

use std::sync::Arc;

use ::metrics::{Key, Label, Level, Metadata, Recorder, SharedString};

use super::{Metric, MetricKind, MetricSink};

static METADATA: Metadata<'static> =
    Metadata::new("otp_telemetry::metrics", Level::INFO, Some(module_path!()));

/// A [`MetricSink`] that records into a `metrics` [`Recorder`]: counter → counter, sum →
/// gauge increment, last value → gauge set, summary and distribution → histogram; tags become
/// labels.
pub struct RecorderSink {
    recorder: Option<Arc<dyn Recorder + Send + Sync>>,
}

impl RecorderSink {
    /// Records into the current recorder of the `metrics` crate, looked up at each update.
    pub fn current() -> Self {
        Self { recorder: None }
    }

    /// Records into `recorder`.
    pub fn new(recorder: Arc<dyn Recorder + Send + Sync>) -> Self {
        Self {
            recorder: Some(recorder),
        }
    }

    fn with(&self, f: impl FnOnce(&dyn Recorder)) {
        match &self.recorder {
            Some(recorder) => f(&**recorder),
            None => ::metrics::with_recorder(f),
        }
    }
}

impl MetricSink for RecorderSink {
    fn describe(&self, metric: &Metric) {
        let Some(description) = metric.description() else {
            return;
        };
        let name = ::metrics::KeyName::from(metric.name().to_owned());
        let unit = metric.unit().and_then(|u| u.to_metrics_unit());
        let description = SharedString::from(description.to_owned());
        self.with(|r| match metric.kind() {
            MetricKind::Counter => r.describe_counter(name, unit, description),
            MetricKind::Sum | MetricKind::LastValue => r.describe_gauge(name, unit, description),
            MetricKind::Summary | MetricKind::Distribution => {
                r.describe_histogram(name, unit, description)
            }
        });
    }

    fn record(&self, metric: &Metric, labels: &[(String, String)], value: f64) {
        let labels: Vec<Label> = labels
            .iter()
            .map(|(k, v)| Label::new(k.clone(), v.clone()))
            .collect();
        let key = Key::from_parts(metric.name().to_owned(), labels);
        self.with(|r| match metric.kind() {
            MetricKind::Counter => r.register_counter(&key, &METADATA).increment(1),
            MetricKind::Sum => r.register_gauge(&key, &METADATA).increment(value),
            MetricKind::LastValue => r.register_gauge(&key, &METADATA).set(value),
            MetricKind::Summary | MetricKind::Distribution => {
                r.register_histogram(&key, &METADATA).record(value)
            }
        });
    }
}
