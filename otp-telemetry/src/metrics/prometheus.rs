//! The Prometheus reporter (TMM-04), on `metrics-exporter-prometheus` and its HTTP listener.
//!
//! [`PrometheusReporter::start`] serves the exposition text on [`DEFAULT_ADDR`],
//! `127.0.0.1:9568`: the loopback interface only, so that nothing outside the host reads the
//! metrics unless you say so. To be scraped from elsewhere, pick the address with
//! [`PrometheusReporter::start_on`] (e.g. `0.0.0.0:9568`, every interface).
//!
//! # The endpoint's thread
//!
//! The HTTP listener runs on a thread of its own, with a private single-threaded tokio
//! runtime, so the reporter works the same from synchronous code and from inside any tokio
//! runtime, and a slow scrape never takes time from the application's tasks. That runtime is
//! built, run and dropped on its thread only: tokio forbids dropping a runtime from async code,
//! and a start that fails (a port taken, say) must be an error, not a panic.
//!
//! # Units
//!
//! Prometheus names values in base units: seconds, bytes. Convert durations with
//! [`MetricBuilder::convert_unit`](super::MetricBuilder::convert_unit) (`Unit::Native` to
//! `Unit::Second`), name them so (`....duration_seconds`) and give their buckets in seconds, as
//! [`DEFAULT_BUCKETS`] are.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};

use metrics_exporter_prometheus::{
    BuildError, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use super::{Metric, MetricError, MetricKind, Reporter, StartCause};

/// The default port, as `TelemetryMetricsPrometheus` (TMM-04).
pub const DEFAULT_PORT: u16 = 9568;

/// The address of [`PrometheusReporter::start`]: [`DEFAULT_PORT`] on the loopback interface,
/// `127.0.0.1:9568`. Metrics tell much about an application (its processes, its load, its
/// errors): they are not served beyond the host unless you choose an address with
/// [`PrometheusReporter::start_on`].
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT);

/// The buckets of a distribution given none: the Prometheus clients' defaults, in seconds.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A running Prometheus endpoint fed by metric definitions.
///
/// Serves the exposition text over HTTP at `/metrics` (the listener answers any path but
/// `/health` with it). Counter → counter, sum → gauge, last value → gauge, distribution →
/// histogram with buckets, summary → summary (quantiles computed by the exporter).
///
/// Dropping it detaches the handlers, stops the HTTP listener and waits for the listener's
/// thread to end: once it is dropped, the port is free again.
///
/// ```no_run
/// use otp_telemetry::metrics::{Metric, Unit, prometheus::PrometheusReporter};
///
/// let calls = Metric::distribution("otp.gen_server.call.stop.duration_seconds")
///     .measurement("duration")
///     .convert_unit(Unit::Native, Unit::Second)
///     .build()?;
/// // http://127.0.0.1:9568/metrics, until `reporter` drops.
/// let reporter = PrometheusReporter::start("calls", &[calls])?;
/// # Ok::<(), otp_telemetry::metrics::MetricError>(())
/// ```
#[must_use = "dropping the reporter stops the endpoint"]
pub struct PrometheusReporter {
    // Dropped in this order: the handlers are detached before the listener stops.
    reporter: Reporter,
    handle: PrometheusHandle,
    addr: SocketAddr,
    // Kept for its drop, which stops the listener.
    _listener: Listener,
}

impl PrometheusReporter {
    /// Starts the endpoint on [`DEFAULT_ADDR`], `127.0.0.1:9568` (TMM-04's port, on the
    /// loopback interface only), and attaches `metrics`.
    ///
    /// A Prometheus server on the same host scrapes `http://127.0.0.1:9568/metrics`; to serve
    /// other hosts, choose the address with [`start_on`](Self::start_on).
    ///
    /// # Errors
    /// As [`start_on`](Self::start_on).
    pub fn start(reporter_id: &str, metrics: &[Metric]) -> Result<Self, MetricError> {
        Self::start_on(reporter_id, metrics, DEFAULT_ADDR)
    }

    /// Starts the endpoint on `addr` and attaches `metrics` (handler ids prefixed
    /// `reporter_id`).
    ///
    /// `addr` is an explicit choice of who may read the metrics: `127.0.0.1` (as
    /// [`start`](Self::start)) keeps them on the host; `0.0.0.0` or a public address serves
    /// them to the network, which is what a Prometheus server on another host needs, but they
    /// tell much about the application, and the endpoint has no authentication: put it on an
    /// interface only the scraper reaches, or behind a firewall. Port 0 is not resolved:
    /// [`addr`](Self::addr) would not say which port was picked.
    ///
    /// Blocks the calling thread until the listener is bound or has failed (the time to start
    /// a thread and bind a socket), which is fine in async code at start-up.
    ///
    /// # Errors
    /// - [`MetricError::Start`], naming `addr` and the [`StartCause`]: the address cannot be
    ///   bound ([`StartCause::Bind`]: the port is taken, say), the listener's thread or runtime
    ///   cannot be created ([`StartCause::Runtime`]), or the exporter refuses a histogram's
    ///   buckets ([`StartCause::Config`]);
    /// - [`MetricError::Attach`] if a handler id is taken (`reporter_id` already in use).
    ///
    /// Either way nothing is left running: no listener, no thread, no handler. Never panics,
    /// in or out of a tokio runtime.
    pub fn start_on(
        reporter_id: &str,
        metrics: &[Metric],
        addr: SocketAddr,
    ) -> Result<Self, MetricError> {
        let start_error = |cause| MetricError::Start { addr, cause };
        let mut builder = PrometheusBuilder::new().with_http_listener(addr);
        for metric in metrics {
            if metric.kind() == MetricKind::Distribution {
                let buckets = metric.buckets().unwrap_or(DEFAULT_BUCKETS);
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(metric.name().to_owned()), buckets)
                    .map_err(|e| {
                        start_error(StartCause::Config(format!(
                            "metric `{}`: {e}",
                            metric.name()
                        )))
                    })?;
            }
        }
        let (listener, recorder) = Listener::spawn(reporter_id, builder).map_err(start_error)?;
        let handle = recorder.handle();
        // On error `listener` drops: the listener stops and its thread is joined.
        let reporter = super::attach_to_recorder(reporter_id, metrics, Arc::new(recorder))?;
        Ok(Self {
            reporter,
            handle,
            addr,
            _listener: listener,
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

impl std::fmt::Debug for PrometheusReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusReporter")
            .field("addr", &self.addr)
            .field("reporter", &self.reporter)
            .finish_non_exhaustive()
    }
}

/// What the listener's thread reports once it has tried to start: the recorder, or why not.
type Ready = Result<PrometheusRecorder, StartCause>;

/// The thread that runs the HTTP listener. Dropping it stops the listener and joins the thread.
struct Listener {
    // Dropping the sender tells the thread to stop.
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// Starts the thread, which binds the listener; returns once the listener is bound, with
    /// the recorder whose metrics it serves, or with why it is not (the thread then joined).
    fn spawn(
        reporter_id: &str,
        builder: PrometheusBuilder,
    ) -> Result<(Self, PrometheusRecorder), StartCause> {
        let (ready, readiness) = mpsc::sync_channel::<Ready>(1);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name(format!("otp-prometheus-{reporter_id}"))
            .spawn(move || serve(builder, &ready, stopped))
            .map_err(|e| StartCause::Runtime(format!("cannot spawn its thread: {e}")))?;
        // From here on, dropping `listener` (on any return) stops and joins the thread.
        let listener = Listener {
            stop: Some(stop),
            thread: Some(thread),
        };
        match readiness.recv() {
            Ok(Ok(recorder)) => Ok((listener, recorder)),
            Ok(Err(cause)) => Err(cause),
            // The thread dropped its sender without a word: it panicked.
            Err(mpsc::RecvError) => Err(StartCause::Runtime(
                "its thread ended before the listener was up".to_owned(),
            )),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // Quick: the thread stops at once, and its runtime has nothing to wait for. A
            // panic of the thread has nothing more to report here.
            let _ = thread.join();
        }
    }
}

/// The listener's thread: builds the runtime and the exporter (which binds `addr`), reports to
/// `ready`, serves until `stopped` hangs up, then drops the runtime, here, outside any async
/// context, which closes the listener.
fn serve(builder: PrometheusBuilder, ready: &mpsc::SyncSender<Ready>, stopped: mpsc::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(StartCause::Runtime(format!(
                "cannot build its tokio runtime: {e}"
            ))));
            return;
        }
    };
    // `build` spawns the upkeep task and binds the listener: both need the runtime's context.
    let built = {
        let _context = runtime.enter();
        builder.build()
    };
    let exporter = match built {
        Ok((recorder, exporter)) => {
            if ready.send(Ok(recorder)).is_err() {
                return; // Nobody waits for the endpoint any more.
            }
            exporter
        }
        Err(e) => {
            let _ = ready.send(Err(start_cause(e)));
            return;
        }
    };
    runtime.block_on(async move {
        tokio::spawn(async move {
            if let Err(e) = exporter.await {
                tracing::error!(error = ?e, "the Prometheus endpoint stopped serving");
            }
        });
        // Serve until the reporter drops its sender (`recv` then fails).
        let _ = tokio::task::spawn_blocking(move || stopped.recv()).await;
    });
}

/// The cause of a failed `PrometheusBuilder::build`.
fn start_cause(error: BuildError) -> StartCause {
    match error {
        BuildError::FailedToCreateHTTPListener(why) => StartCause::Bind(why),
        other => StartCause::Config(other.to_string()),
    }
}
