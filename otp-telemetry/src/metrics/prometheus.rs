//! The Prometheus reporter (TMM-04), on `metrics-exporter-prometheus` and its HTTP listener.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, mpsc};
use std::thread;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::{Metric, MetricError, MetricKind, Reporter};

/// The default port, as `TelemetryMetricsPrometheus` (TMM-04).
pub const DEFAULT_PORT: u16 = 9568;

/// The buckets of a distribution given none: the Prometheus clients' defaults.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A running Prometheus endpoint fed by metric definitions.
///
/// Serves the exposition text over HTTP at `/metrics` (the listener answers any path but
/// `/health` with it). Counter → counter, sum → gauge, last value → gauge, distribution →
/// histogram with buckets, summary → summary (quantiles computed by the exporter).
///
/// Dropping it detaches the handlers and stops the HTTP listener.
#[must_use = "dropping the reporter stops the endpoint"]
pub struct PrometheusReporter {
    reporter: Reporter,
    handle: PrometheusHandle,
    addr: SocketAddr,
    // Dropped on drop: the server thread then returns and its runtime shuts the listener down.
    _stop: mpsc::Sender<()>,
}

impl PrometheusReporter {
    /// Starts the endpoint on `0.0.0.0:9568` (TMM-04).
    ///
    /// # Errors
    /// As [`start_on`](Self::start_on).
    pub fn start(reporter_id: &str, metrics: &[Metric]) -> Result<Self, MetricError> {
        Self::start_on(
            reporter_id,
            metrics,
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, DEFAULT_PORT)),
        )
    }

    /// Starts the endpoint on `addr` and attaches `metrics` (handler ids prefixed `reporter_id`).
    ///
    /// # Errors
    /// [`MetricError::Start`] if the address cannot be bound or the runtime not built;
    /// [`MetricError::Attach`] if a handler id is taken.
    pub fn start_on(
        reporter_id: &str,
        metrics: &[Metric],
        addr: SocketAddr,
    ) -> Result<Self, MetricError> {
        let mut builder = PrometheusBuilder::new().with_http_listener(addr);
        for metric in metrics {
            if metric.kind() == MetricKind::Distribution {
                let buckets = metric.buckets().unwrap_or(DEFAULT_BUCKETS);
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(metric.name().to_owned()), buckets)
                    .map_err(|e| MetricError::Start(e.to_string()))?;
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| MetricError::Start(e.to_string()))?;
        // `build` binds the listener (errors surface here) and spawns the upkeep task.
        let (recorder, exporter) = {
            let _guard = runtime.enter();
            builder
                .build()
                .map_err(|e| MetricError::Start(e.to_string()))?
        };
        let handle = recorder.handle();
        let (stop, stopped) = mpsc::channel::<()>();
        thread::Builder::new()
            .name(format!("otp-prometheus-{reporter_id}"))
            .spawn(move || {
                runtime.spawn(exporter);
                // Drive the listener until the reporter drops its sender.
                let _ = runtime.block_on(async move {
                    tokio::task::spawn_blocking(move || stopped.recv()).await
                });
            })
            .map_err(|e| MetricError::Start(e.to_string()))?;
        let reporter = super::attach_to_recorder(reporter_id, metrics, Arc::new(recorder))?;
        Ok(Self {
            reporter,
            handle,
            addr,
            _stop: stop,
        })
    }

    /// The address the endpoint was asked to listen on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The exposition text, as served at `/metrics`.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// The attached handlers.
    pub fn reporter(&self) -> &Reporter {
        &self.reporter
    }
}
