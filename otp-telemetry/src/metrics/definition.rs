//! Metric definitions over events, as `Telemetry.Metrics` (TMM-01 to TMM-03).

use std::fmt;
use std::sync::Arc;

use crate::event::Event;
use crate::name::EventName;

use super::MetricError;

/// The type of a metric (TMM-01); what a reporter makes of each is up to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// +1 per event that carries the measurement.
    Counter,
    /// The running sum of the measurement.
    Sum,
    /// The latest value of the measurement.
    LastValue,
    /// Statistics over the measurement, chosen by the reporter.
    Summary,
    /// A histogram of the measurement (buckets in [`MetricBuilder::buckets`]).
    Distribution,
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetricKind::Counter => "counter",
            MetricKind::Sum => "sum",
            MetricKind::LastValue => "last_value",
            MetricKind::Summary => "summary",
            MetricKind::Distribution => "distribution",
        })
    }
}

/// A unit of time or size, for [`MetricBuilder::unit`] and [`MetricBuilder::convert_unit`] (TMM-03).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// The unit of this crate's clocks ([`monotonic_time`](crate::monotonic_time), span
    /// durations): nanoseconds.
    Native,
    /// Nanoseconds.
    Nanosecond,
    /// Microseconds.
    Microsecond,
    /// Milliseconds.
    Millisecond,
    /// Seconds.
    Second,
    /// Bytes.
    Byte,
    /// 1000 bytes (as `Telemetry.Metrics`).
    Kilobyte,
    /// 1 000 000 bytes (as `Telemetry.Metrics`).
    Megabyte,
}

impl Unit {
    /// (dimension, size of the unit in its base unit): time in nanoseconds, size in bytes.
    fn scale(self) -> (u8, f64) {
        match self {
            Unit::Native | Unit::Nanosecond => (0, 1.0),
            Unit::Microsecond => (0, 1e3),
            Unit::Millisecond => (0, 1e6),
            Unit::Second => (0, 1e9),
            Unit::Byte => (1, 1.0),
            Unit::Kilobyte => (1, 1e3),
            Unit::Megabyte => (1, 1e6),
        }
    }

    /// The matching unit of the `metrics` crate, where there is an exact one.
    pub fn to_metrics_unit(self) -> Option<::metrics::Unit> {
        match self {
            Unit::Native | Unit::Nanosecond => Some(::metrics::Unit::Nanoseconds),
            Unit::Microsecond => Some(::metrics::Unit::Microseconds),
            Unit::Millisecond => Some(::metrics::Unit::Milliseconds),
            Unit::Second => Some(::metrics::Unit::Seconds),
            Unit::Byte => Some(::metrics::Unit::Bytes),
            // `metrics` only knows the binary multiples (KiB, MiB).
            Unit::Kilobyte | Unit::Megabyte => None,
        }
    }
}

type MeasureFn = dyn Fn(&Event<'_>) -> Option<f64> + Send + Sync;
type Predicate = dyn Fn(&Event<'_>) -> bool + Send + Sync;
type TagFn = dyn Fn(&Event<'_>) -> Vec<(String, String)> + Send + Sync;

#[derive(Clone)]
enum Measurement {
    Key(String),
    Fn(Arc<MeasureFn>),
}

#[derive(Clone)]
enum Filter {
    All,
    Keep(Arc<Predicate>),
    Drop(Arc<Predicate>),
}

struct Inner {
    kind: MetricKind,
    name: String,
    event_name: EventName,
    measurement: Measurement,
    tags: Vec<String>,
    tag_values: Option<Arc<TagFn>>,
    filter: Filter,
    description: Option<String>,
    unit: Option<Unit>,
    factor: f64,
    buckets: Option<Vec<f64>>,
}

/// A metric definition: which event it listens to, which measurement it takes, how it is
/// labelled and filtered (TMM-01 to TMM-03). Cheap to clone.
///
/// Built with [`Metric::counter`], [`Metric::sum`], [`Metric::last_value`],
/// [`Metric::summary`] or [`Metric::distribution`], then [`MetricBuilder::build`]; reporters
/// such as [`attach`](super::attach) turn definitions into handlers.
///
/// ```
/// use otp_telemetry::metrics::{Metric, Unit};
///
/// // Event `["otp", "supervisor", "child", "restart"]`, measurement `count`.
/// let restarts = Metric::counter("otp.supervisor.child.restart.count")
///     .tags(["child_id"])
///     .build()
///     .unwrap();
/// assert_eq!(restarts.event_name().to_string(), "otp.supervisor.child.restart");
///
/// let calls = Metric::distribution("otp.gen_server.call.stop.duration")
///     .convert_unit(Unit::Native, Unit::Millisecond)
///     .build()
///     .unwrap();
/// assert_eq!(calls.unit(), Some(Unit::Millisecond));
/// ```
#[derive(Clone)]
pub struct Metric(Arc<Inner>);

impl Metric {
    /// A counter (TMM-01): +1 per event that carries the measurement.
    pub fn counter(name: &str) -> MetricBuilder {
        MetricBuilder::new(MetricKind::Counter, name)
    }

    /// A sum of the measurement (TMM-01).
    pub fn sum(name: &str) -> MetricBuilder {
        MetricBuilder::new(MetricKind::Sum, name)
    }

    /// The last value of the measurement (TMM-01).
    pub fn last_value(name: &str) -> MetricBuilder {
        MetricBuilder::new(MetricKind::LastValue, name)
    }

    /// A summary of the measurement, statistics chosen by the reporter (TMM-01).
    pub fn summary(name: &str) -> MetricBuilder {
        MetricBuilder::new(MetricKind::Summary, name)
    }

    /// A distribution (histogram) of the measurement (TMM-01).
    pub fn distribution(name: &str) -> MetricBuilder {
        MetricBuilder::new(MetricKind::Distribution, name)
    }

    /// The metric's type.
    pub fn kind(&self) -> MetricKind {
        self.0.kind
    }

    /// The metric's name, segments joined by `.`.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The event the metric listens to.
    pub fn event_name(&self) -> &EventName {
        &self.0.event_name
    }

    /// The measurement key, unless the measurement is a closure.
    pub fn measurement_key(&self) -> Option<&str> {
        match &self.0.measurement {
            Measurement::Key(key) => Some(key),
            Measurement::Fn(_) => None,
        }
    }

    /// The metadata keys taken as tags.
    pub fn tags(&self) -> &[String] {
        &self.0.tags
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The unit of the recorded values, if any (the target unit of a conversion).
    pub fn unit(&self) -> Option<Unit> {
        self.0.unit
    }

    /// The histogram buckets given for a distribution, if any.
    pub fn buckets(&self) -> Option<&[f64]> {
        self.0.buckets.as_deref()
    }

    /// Whether the keep/drop predicate lets `event` through (TMM-03).
    pub fn accepts(&self, event: &Event<'_>) -> bool {
        match &self.0.filter {
            Filter::All => true,
            Filter::Keep(keep) => keep(event),
            Filter::Drop(drop) => !drop(event),
        }
    }

    /// The measurement of `event`, unit-converted; `None` if the event lacks it.
    pub fn measure(&self, event: &Event<'_>) -> Option<f64> {
        let value = match &self.0.measurement {
            Measurement::Key(key) => event.measurement(key),
            Measurement::Fn(f) => f(event),
        }?;
        Some(value * self.0.factor)
    }

    /// The labels of `event`: the tags from its metadata (formatted), then those of the
    /// `tag_values` closure. `None` if a tag key is missing from the metadata.
    pub fn labels(&self, event: &Event<'_>) -> Option<Vec<(String, String)>> {
        let mut labels = Vec::with_capacity(self.0.tags.len());
        for tag in &self.0.tags {
            labels.push((tag.clone(), event.meta(tag)?.to_string()));
        }
        if let Some(f) = &self.0.tag_values {
            labels.extend(f(event));
        }
        Some(labels)
    }
}

impl fmt::Debug for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metric")
            .field("kind", &self.0.kind)
            .field("name", &self.0.name)
            .field("event_name", &self.0.event_name)
            .field("measurement", &self.measurement_key())
            .field("tags", &self.0.tags)
            .field("unit", &self.0.unit)
            .finish_non_exhaustive()
    }
}

/// The options of a [`Metric`] (TMM-02, TMM-03); [`MetricBuilder::build`] checks them.
#[must_use = "a builder does nothing until `build` is called"]
pub struct MetricBuilder {
    kind: MetricKind,
    name: String,
    event_name: Option<Vec<String>>,
    measurement: Option<Measurement>,
    tags: Vec<String>,
    tag_values: Option<Arc<TagFn>>,
    keep: Option<Arc<Predicate>>,
    drop: Option<Arc<Predicate>>,
    description: Option<String>,
    unit: Option<Unit>,
    conversion: Option<(Unit, Unit)>,
    buckets: Option<Vec<f64>>,
}

impl MetricBuilder {
    fn new(kind: MetricKind, name: &str) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            event_name: None,
            measurement: None,
            tags: Vec::new(),
            tag_values: None,
            keep: None,
            drop: None,
            description: None,
            unit: None,
            conversion: None,
            buckets: None,
        }
    }

    /// The event to listen to, instead of all but the last segment of the name (TMM-02).
    pub fn event_name(mut self, event: &[&str]) -> Self {
        self.event_name = Some(event.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// The measurement key, instead of the last segment of the name (TMM-02).
    pub fn measurement(mut self, key: &str) -> Self {
        self.measurement = Some(Measurement::Key(key.to_owned()));
        self
    }

    /// The measurement computed from the event (its measurements and metadata) (TMM-02);
    /// `None` skips the event.
    pub fn measurement_fn(
        mut self,
        f: impl Fn(&Event<'_>) -> Option<f64> + Send + Sync + 'static,
    ) -> Self {
        self.measurement = Some(Measurement::Fn(Arc::new(f)));
        self
    }

    /// Metadata keys taken as tags (labels), values formatted with `Display` (TMM-03).
    pub fn tags<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.tags = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Extra tags computed from the event, after those of [`tags`](Self::tags) (TMM-03).
    pub fn tag_values(
        mut self,
        f: impl Fn(&Event<'_>) -> Vec<(String, String)> + Send + Sync + 'static,
    ) -> Self {
        self.tag_values = Some(Arc::new(f));
        self
    }

    /// Record only the events for which `keep` is true (TMM-03; exclusive with [`drop`](Self::drop)).
    pub fn keep(mut self, keep: impl Fn(&Event<'_>) -> bool + Send + Sync + 'static) -> Self {
        self.keep = Some(Arc::new(keep));
        self
    }

    /// Skip the events for which `drop` is true (TMM-03; exclusive with [`keep`](Self::keep)).
    pub fn drop(mut self, drop: impl Fn(&Event<'_>) -> bool + Send + Sync + 'static) -> Self {
        self.drop = Some(Arc::new(drop));
        self
    }

    /// A human-readable description (TMM-03).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The unit of the values, without conversion (TMM-03).
    pub fn unit(mut self, unit: Unit) -> Self {
        self.unit = Some(unit);
        self.conversion = None;
        self
    }

    /// Converts values from `from` to `to`, e.g. `(Native, Millisecond)`; the metric's unit
    /// is then `to` (TMM-03).
    pub fn convert_unit(mut self, from: Unit, to: Unit) -> Self {
        self.unit = Some(to);
        self.conversion = Some((from, to));
        self
    }

    /// Histogram bucket upper bounds for a distribution (`reporter_options` buckets, TMM-01).
    pub fn buckets(mut self, buckets: impl Into<Vec<f64>>) -> Self {
        self.buckets = Some(buckets.into());
        self
    }

    /// The checked definition.
    ///
    /// # Errors
    /// [`MetricError::EmptyName`], [`MetricError::NoEventName`] (a one-segment name without
    /// [`event_name`](Self::event_name)), [`MetricError::EmptyEventName`],
    /// [`MetricError::KeepAndDrop`], [`MetricError::IncompatibleUnits`],
    /// [`MetricError::InvalidBuckets`].
    pub fn build(self) -> Result<Metric, MetricError> {
        let segments: Vec<&str> = self.name.split('.').collect();
        if self.name.is_empty() || segments.iter().any(|s| s.is_empty()) {
            return Err(MetricError::EmptyName(self.name));
        }
        let (last, prefix) = segments.split_last().expect("split yields a segment");
        let event_name = match self.event_name {
            Some(event) if event.is_empty() => return Err(MetricError::EmptyEventName(self.name)),
            Some(event) => EventName::from(event),
            None if prefix.is_empty() => return Err(MetricError::NoEventName(self.name)),
            None => EventName::from(prefix),
        };
        let measurement = self
            .measurement
            .unwrap_or_else(|| Measurement::Key((*last).to_owned()));
        let filter = match (self.keep, self.drop) {
            (Some(_), Some(_)) => return Err(MetricError::KeepAndDrop(self.name)),
            (Some(keep), None) => Filter::Keep(keep),
            (None, Some(drop)) => Filter::Drop(drop),
            (None, None) => Filter::All,
        };
        let factor = match self.conversion {
            None => 1.0,
            Some((from, to)) => {
                let ((from_dim, from_scale), (to_dim, to_scale)) = (from.scale(), to.scale());
                if from_dim != to_dim {
                    return Err(MetricError::IncompatibleUnits {
                        metric: self.name,
                        from,
                        to,
                    });
                }
                from_scale / to_scale
            }
        };
        if let Some(buckets) = &self.buckets
            && (buckets.is_empty()
                || buckets.iter().any(|b| !b.is_finite())
                || buckets.windows(2).any(|w| w[0] >= w[1]))
        {
            return Err(MetricError::InvalidBuckets(self.name));
        }
        Ok(Metric(Arc::new(Inner {
            kind: self.kind,
            name: self.name,
            event_name,
            measurement,
            tags: self.tags,
            tag_values: self.tag_values,
            filter,
            description: self.description,
            unit: self.unit,
            factor,
            buckets: self.buckets,
        })))
    }
}
