//! The console reporter: one `tracing` event per metric update.

use std::sync::Arc;

use super::{Metric, MetricError, MetricKind, MetricSink, Reporter};

/// A [`MetricSink`] that logs each update at `INFO` with target `otp_telemetry::metrics`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConsoleSink;

impl MetricSink for ConsoleSink {
    fn record(&self, metric: &Metric, labels: &[(String, String)], value: f64) {
        let update = match metric.kind() {
            MetricKind::Counter => "+1".to_owned(),
            MetricKind::Sum => format!("+{value}"),
            MetricKind::LastValue => format!("={value}"),
            MetricKind::Summary | MetricKind::Distribution => format!("observed {value}"),
        };
        tracing::info!(
            target: "otp_telemetry::metrics",
            metric = metric.name(),
            kind = %metric.kind(),
            unit = ?metric.unit(),
            labels = ?labels,
            "{update}"
        );
    }
}

/// Attaches `metrics` logging every update through `tracing`.
///
/// # Errors
/// As [`attach_sink`](super::attach_sink).
pub fn attach(reporter_id: &str, metrics: &[Metric]) -> Result<Reporter, MetricError> {
    super::attach_sink(reporter_id, metrics, Arc::new(ConsoleSink))
}
