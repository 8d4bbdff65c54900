//! Metrics over events, as `Telemetry.Metrics` (TMM-01 to TMM-04).
//!
//! A [`Metric`] names an event, a measurement of it and how to label it; a **reporter** attaches
//! one telemetry handler per metric and records each update somewhere:
//!
//! - [`attach`] / [`attach_to_recorder`]: into the `metrics` crate (counters,
//!   gauges, histograms labelled by the tags), so any `metrics` exporter works;
//! - [`console::attach`]: a `tracing` event per update;
//! - `prometheus::PrometheusReporter` (feature `prometheus`): a Prometheus HTTP endpoint
//!   (on `127.0.0.1:9568` by default, port 9568 as TMM-04) through `metrics-exporter-prometheus`;
//! - [`attach_sink`]: any [`MetricSink`].
//!
//! The mapping onto `metrics` (and so onto Prometheus, TMM-04): counter → counter (+1 per
//! event), sum → gauge (incremented), last value → gauge (set), summary and distribution →
//! histogram (a Prometheus summary, or buckets for a distribution).
//!
//! An event that lacks the measurement, fails the keep/drop predicate or lacks a tag key in its
//! metadata is not recorded.
//!
//! ```
//! use otp_telemetry::{execute, metrics::{self, Metric}, Value};
//!
//! let restarts = Metric::counter("otp.supervisor.child.restart.count")
//!     .tags(["child_id"])
//!     .build()
//!     .unwrap();
//! // Records into the `metrics` crate's recorder; detached when `reporter` drops.
//! let reporter = metrics::attach("doc-restarts", &[restarts]).unwrap();
//! execute(
//!     &["otp", "supervisor", "child", "restart"],
//!     &[("count", 1.0)],
//!     &[("child_id", Value::Str("worker"))],
//! );
//! drop(reporter);
//! ```

pub mod console;
mod definition;
#[cfg(feature = "prometheus")]
pub mod prometheus;
mod reporter;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::error::AttachError;
use crate::event::Event;
use crate::handler::HandlerId;

pub use definition::{Metric, MetricBuilder, MetricKind, Unit};
pub use reporter::RecorderSink;

/// Why a metric definition or a reporter was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricError {
    /// The metric name is empty or has an empty segment.
    #[error("metric name `{0}` is empty or has an empty segment")]
    EmptyName(String),
    /// The name has one segment, so no event name can be derived, and none was given (TMM-02).
    #[error("metric `{0}`: a one-segment name needs an explicit event name")]
    NoEventName(String),
    /// The explicit event name is empty.
    #[error("metric `{0}`: the event name must have at least one segment")]
    EmptyEventName(String),
    /// Both `keep` and `drop` were given (TMM-03).
    #[error("metric `{0}`: `keep` and `drop` are mutually exclusive")]
    KeepAndDrop(String),
    /// A unit conversion between a time and a size.
    #[error("metric `{metric}`: cannot convert {from:?} to {to:?}")]
    IncompatibleUnits {
        /// The metric.
        metric: String,
        /// The unit converted from.
        from: Unit,
        /// The unit converted to.
        to: Unit,
    },
    /// Histogram buckets empty, not finite or not strictly increasing.
    #[error("metric `{0}`: buckets must be finite and strictly increasing")]
    InvalidBuckets(String),
    /// A handler could not be attached (e.g. the reporter id is in use).
    #[error(transparent)]
    Attach(#[from] AttachError),
    /// A reporter's endpoint could not start on `addr` (e.g. the Prometheus port is taken);
    /// nothing of it is left running.
    #[error("cannot start the metrics endpoint on {addr}: {cause}")]
    Start {
        /// The address the endpoint was to listen on.
        addr: SocketAddr,
        /// What failed.
        cause: StartCause,
    },
}

/// What kept a reporter's endpoint from starting ([`MetricError::Start`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartCause {
    /// The address could not be bound: the port is taken, the address is not one of this
    /// host's, or binding it is not allowed. The message is the operating system's.
    #[error("cannot listen: {0}")]
    Bind(String),
    /// The endpoint's thread or its runtime could not be created, or the thread ended before
    /// the endpoint was up.
    #[error("cannot run the endpoint: {0}")]
    Runtime(String),
    /// The exporter refused its configuration (e.g. a metric's histogram buckets).
    #[error("the exporter refused its configuration: {0}")]
    Config(String),
}

/// Where a reporter records metric updates.
pub trait MetricSink: Send + Sync + 'static {
    /// Called once per metric when the reporter attaches (e.g. to register a description).
    fn describe(&self, _metric: &Metric) {}

    /// Records one update: `value` is the converted measurement (a counter's is ignored: +1).
    fn record(&self, metric: &Metric, labels: &[(String, String)], value: f64);
}

/// Attached metric handlers; dropping it (or [`Reporter::detach`]) detaches them.
#[must_use = "dropping the reporter detaches its handlers"]
#[derive(Debug)]
pub struct Reporter {
    handlers: Vec<HandlerId>,
}

impl Reporter {
    /// The ids of the telemetry handlers, one per metric: `{reporter id}/{index}/{metric name}`.
    pub fn handler_ids(&self) -> &[HandlerId] {
        &self.handlers
    }

    /// Detaches the handlers now.
    pub fn detach(self) {}
}

impl Drop for Reporter {
    fn drop(&mut self) {
        for id in self.handlers.drain(..) {
            let _ = crate::detach(id);
        }
    }
}

/// Attaches one handler per metric that records into `sink`.
///
/// # Errors
/// [`MetricError::Attach`] if a handler id is taken; nothing stays attached then.
pub fn attach_sink(
    reporter_id: &str,
    metrics: &[Metric],
    sink: Arc<dyn MetricSink>,
) -> Result<Reporter, MetricError> {
    let mut reporter = Reporter {
        handlers: Vec::with_capacity(metrics.len()),
    };
    for (index, metric) in metrics.iter().enumerate() {
        sink.describe(metric);
        let id = HandlerId::from(format!("{reporter_id}/{index}/{}", metric.name()));
        let segments: Vec<&str> = metric.event_name().segments().collect();
        let (metric, sink) = (metric.clone(), Arc::clone(&sink));
        // On error `reporter` drops and detaches what was attached.
        crate::attach(id.clone(), &segments, move |event: &Event<'_>| {
            record(&metric, &*sink, event);
        })?;
        reporter.handlers.push(id);
    }
    Ok(reporter)
}

fn record(metric: &Metric, sink: &dyn MetricSink, event: &Event<'_>) {
    if !metric.accepts(event) {
        return;
    }
    let Some(value) = metric.measure(event) else {
        return;
    };
    let Some(labels) = metric.labels(event) else {
        tracing::debug!(metric = metric.name(), tags = ?metric.tags(), "event lacks a tag; not recorded");
        return;
    };
    sink.record(metric, &labels, value);
}

/// Attaches `metrics` recording into the `metrics` crate's current recorder (the
/// thread's local one if set, else the global one), looked up at each update.
///
/// # Errors
/// As [`attach_sink`].
pub fn attach(reporter_id: &str, metrics: &[Metric]) -> Result<Reporter, MetricError> {
    attach_sink(reporter_id, metrics, Arc::new(RecorderSink::current()))
}

/// Attaches `metrics` recording into `recorder` (not installed globally).
///
/// # Errors
/// As [`attach_sink`].
pub fn attach_to_recorder(
    reporter_id: &str,
    metrics: &[Metric],
    recorder: Arc<dyn ::metrics::Recorder + Send + Sync>,
) -> Result<Reporter, MetricError> {
    attach_sink(reporter_id, metrics, Arc::new(RecorderSink::new(recorder)))
}
