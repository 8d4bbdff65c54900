//! An application that exports its metrics to Prometheus: the code of the `metrics_exporter`
//! example, and of the test that scrapes it (`tests/metrics_exporter.rs`).
//!
//! The runtime emits telemetry events whether or not anybody listens (see
//! [`otp::core::telemetry`]). This application turns some of them into metrics, the way an
//! Elixir application lists `Telemetry.Metrics` definitions and hands them to a reporter:
//!
//! | metric | over the event | Prometheus |
//! |---|---|---|
//! | `otp.supervisor.child.restart.count`, by `child_id` | a supervisor restarted a child | counter `otp_supervisor_child_restart_count` |
//! | `otp.process.exit.count`, by `reason_kind` | a process ended | counter `otp_process_exit_count` |
//! | `otp.gen_server.call.stop.duration_seconds`, by `server_type` | a GenServer call returned | histogram `otp_gen_server_call_stop_duration_seconds` |
//! | `otp.vm.processes.count`, `.total_mailbox_length`, `.largest_mailbox_length` | the poller's process table walk | gauges |
//! | `otp.vm.memory.total_bytes` | the poller's memory reading | gauge `otp_vm_memory_total_bytes` |
//!
//! Values are in base units, as Prometheus wants them and says in their names: the call span
//! measures its `duration` in native units (nanoseconds), which the definition converts to
//! seconds ([`MetricBuilder::convert_unit`](otp::telemetry::metrics::MetricBuilder::convert_unit)),
//! with buckets in seconds too; memory is in bytes. As these names end with the unit, not with
//! the measurement's key, the definitions name the key
//! ([`MetricBuilder::measurement`](otp::telemetry::metrics::MetricBuilder::measurement)).
//!
//! The pieces, started by [`MetricsApp::start`]:
//!
//! - the **call span** of every GenServer call, off by default, turned on with
//!   [`set_call_spans`](otp::core::telemetry::set_call_spans);
//! - the **Prometheus reporter** of `otp-telemetry`, which attaches one handler per metric and
//!   serves the exposition text at `http://ADDR/metrics` (the example serves on
//!   `127.0.0.1:9568`, the reporter's default, the loopback interface only);
//! - the **poller** of `otp-core`, which emits the process counts, mailbox lengths and memory
//!   every [`POLL_PERIOD`];
//! - the **supervision tree**, run as an [`Application`]:
//!
//! ```text
//! metrics_app   one_for_one (at most 10 restarts in 5 s)
//! ├── Worker    crashes when told to (`MetricsApp::crash_worker`)
//! └── Catalog   answers calls: the price of an item
//! ```
//!
//! Recording is synchronous: a handler runs in the thread that emits the event, so once a
//! supervisor has answered a call made after a restart, the restart is in the counter.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use otp::application::AppExit;
use otp::core::telemetry as otp_events;
use otp::prelude::*;
use otp::supervisor::{SupervisorRef, SupervisorStartError};
use otp::telemetry::metrics::prometheus::PrometheusReporter;
use otp::telemetry::metrics::{Metric, MetricError, Unit};
use otp::telemetry::poller::{PollerError, PollerHandle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The registered name of the root supervisor.
pub const ROOT: &str = "metrics_app";

/// The id of the crashing worker among the root's children (the derived `child_spec`'s id:
/// the type's name), and its registered name.
pub const WORKER: &str = "Worker";

/// The registered name of the catalog server.
pub const CATALOG: &str = "catalog";

/// The panic message of a worker told to crash.
pub const CRASH: &str = "told to crash";

/// How often the poller measures the processes and the memory.
pub const POLL_PERIOD: Duration = Duration::from_millis(200);

/// How long a worker's job takes.
pub const JOB_TIME: Duration = Duration::from_millis(1);

/// The handler id prefix of the reporter's handlers.
const REPORTER_ID: &str = "metrics_app";

/// The histogram buckets of the call durations, in seconds: 10 µs to 50 ms (calls to servers
/// that answer at once; Prometheus' default buckets start at 5 ms).
const CALL_BUCKETS_SECONDS: [f64; 8] = [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05];

/// A worker that crashes when told to: the source of the restarts.
#[derive(GenServer)]
#[gen_server(name = "Worker")]
pub struct Worker {
    jobs: u64,
}

#[handlers]
impl Worker {
    /// A fresh worker, after each restart.
    #[init]
    fn init() -> Self {
        Worker { jobs: 0 }
    }

    /// Does a job, which takes [`JOB_TIME`]: jobs cast faster than that wait in the mailbox.
    #[cast]
    async fn work(&mut self) {
        tokio::time::sleep(JOB_TIME).await;
        self.jobs += 1;
    }

    /// Panics with [`CRASH`]: the worker's process ends and its supervisor restarts it.
    #[cast]
    fn crash(&mut self) {
        panic!("{CRASH}");
    }
}

/// A server that answers calls: prices by item.
#[derive(GenServer)]
#[gen_server(name = "catalog")]
pub struct Catalog {
    prices: HashMap<String, u64>,
}

#[handlers]
impl Catalog {
    /// A catalog of a few items.
    #[init]
    fn init() -> Self {
        let prices = [("apple", 30), ("bread", 250), ("coffee", 900)]
            .into_iter()
            .map(|(item, cents)| (item.to_owned(), cents))
            .collect();
        Catalog { prices }
    }

    /// The price of `item` in cents, if the catalog has it.
    #[call]
    fn price(&self, item: String) -> Option<u64> {
        self.prices.get(&item).copied()
    }
}

/// The application's metric definitions (see the [module docs](self)).
///
/// # Errors
/// A [`MetricError`] if a definition is refused (none is, unless this code is changed).
pub fn metrics() -> Result<Vec<Metric>, MetricError> {
    Ok(vec![
        Metric::counter("otp.supervisor.child.restart.count")
            .tags(["child_id"])
            .description("Children restarted by their supervisor")
            .build()?,
        Metric::counter("otp.process.exit.count")
            .tags(["reason_kind"])
            .description("Processes that ended, by the kind of their exit reason")
            .build()?,
        Metric::distribution("otp.gen_server.call.stop.duration_seconds")
            .measurement("duration")
            .tags(["server_type"])
            .convert_unit(Unit::Native, Unit::Second)
            .buckets(CALL_BUCKETS_SECONDS)
            .description("GenServer call durations in seconds, caller's side")
            .build()?,
        Metric::last_value("otp.vm.processes.count")
            .description("Live processes")
            .build()?,
        Metric::last_value("otp.vm.processes.total_mailbox_length")
            .description("Messages waiting in all mailboxes")
            .build()?,
        Metric::last_value("otp.vm.processes.largest_mailbox_length")
            .description("Messages waiting in the longest mailbox")
            .build()?,
        Metric::last_value("otp.vm.memory.total_bytes")
            .measurement("total")
            .unit(Unit::Byte)
            .description("Resident memory in bytes")
            .build()?,
    ])
}

/// Why [`MetricsApp::start`] failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A metric was refused, or the Prometheus endpoint did not start: then a
    /// [`MetricError::Start`] names the address and the cause (e.g. the port is taken, by
    /// another instance of the application, say).
    #[error("the metrics did not start: {0}")]
    Metrics(#[from] MetricError),
    /// The poller did not start (e.g. called outside a tokio runtime).
    #[error("the poller did not start: {0}")]
    Poller(#[from] PollerError),
    /// The supervision tree did not start.
    #[error("the application did not start: {0}")]
    Application(AppExit),
}

/// Why a request to the running application failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The process is not running (e.g. between a crash and its restart, or after a stop).
    #[error("{0} is not running")]
    NotRunning(&'static str),
    /// A call to the supervisor failed.
    #[error(transparent)]
    Supervisor(#[from] otp::supervisor::SupervisorError),
}

/// Why [`scrape`] got no exposition text.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// No answer (or no whole body) within the time given.
    #[error("GET /metrics: no answer within {0:?}")]
    Timeout(Duration),
    /// The request failed (connection refused, reset, ...).
    #[error("GET /metrics: {0}")]
    Request(#[from] hyper_util::client::legacy::Error),
    /// The endpoint answered with another status than 200 OK.
    #[error("GET /metrics: status {0}")]
    Status(hyper::StatusCode),
    /// The body could not be read.
    #[error("GET /metrics, the body: {0}")]
    Body(#[from] hyper::Error),
    /// The body is not UTF-8.
    #[error("GET /metrics: the body is not UTF-8")]
    NotUtf8(#[from] std::string::FromUtf8Error),
}

/// `GET http://{addr}/metrics` with an HTTP client (hyper-util's): the exposition text, the
/// request and the body each bounded by `timeout`.
pub async fn scrape(addr: SocketAddr, timeout: Duration) -> Result<String, ScrapeError> {
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let uri = hyper::Uri::from_maybe_shared(format!("http://{addr}/metrics"))
        .expect("a socket address makes a valid URI");
    let response = tokio::time::timeout(timeout, client.get(uri))
        .await
        .map_err(|_| ScrapeError::Timeout(timeout))??;
    if response.status() != hyper::StatusCode::OK {
        return Err(ScrapeError::Status(response.status()));
    }
    let body = tokio::time::timeout(timeout, response.into_body().collect())
        .await
        .map_err(|_| ScrapeError::Timeout(timeout))??;
    Ok(String::from_utf8(body.to_bytes().to_vec())?)
}

/// Starts the supervision tree (in the application master, which `start_link` links it to).
async fn start_tree() -> Result<SupervisorRef, SupervisorStartError> {
    Supervisor::start_link_with(
        [Worker::child_spec(), Catalog::child_spec()],
        SupFlags::one_for_one().intensity(10),
        StartOptions::new().name(ROOT),
    )
    .await
}

/// The running application: its tree, its Prometheus endpoint and its poller.
///
/// Dropping it stops the endpoint and the poller at once, and the tree soon after (its
/// application sees the stop when the runtime next runs it); [`stop`](Self::stop) waits for
/// the tree.
pub struct MetricsApp {
    addr: SocketAddr,
    root: SupervisorRef,
    reporter: PrometheusReporter,
    _poller: PollerHandle,
    stop: oneshot::Sender<()>,
    app: JoinHandle<AppExit>,
}

impl MetricsApp {
    /// Starts the Prometheus endpoint on `addr` and the poller, turns on the call span, then
    /// starts the supervision tree as an [`Application`]; returns once the tree is up.
    ///
    /// `addr` is who may read the metrics: a loopback address (as the example's
    /// [`DEFAULT_ADDR`](otp::telemetry::metrics::prometheus::DEFAULT_ADDR)) keeps them on the
    /// host; see [`PrometheusReporter::start_on`].
    ///
    /// Must run inside a tokio runtime with timers (the poller and the application run as its
    /// tasks). The root and the servers are registered under fixed names, so one application
    /// runs at a time.
    ///
    /// # Errors
    /// A [`StartError`] says which part did not start; what had started is stopped.
    pub async fn start(addr: SocketAddr) -> Result<Self, StartError> {
        let reporter = PrometheusReporter::start_on(REPORTER_ID, &metrics()?, addr)?;
        let poller = otp_events::poller().period(POLL_PERIOD).spawn()?;
        otp_events::set_call_spans(true);
        let (started, tree_up) = oneshot::channel();
        let (stop, stop_asked) = oneshot::channel::<()>();
        let app = tokio::spawn(Application::new("metrics_app").run_until(
            move || async move {
                let root = start_tree().await?;
                let pid = root.pid();
                let _ = started.send(root);
                Ok::<_, SupervisorStartError>(pid)
            },
            // Stops when asked, or when the handle is dropped.
            async move {
                let _ = stop_asked.await;
            },
        ));
        let root = match tree_up.await {
            Ok(root) => root,
            // The start function ended without a tree: the application says why.
            Err(_) => {
                let exit = app
                    .await
                    .unwrap_or_else(|e| AppExit::StartFailed(e.to_string()));
                return Err(StartError::Application(exit));
            }
        };
        Ok(MetricsApp {
            addr,
            root,
            reporter,
            _poller: poller,
            stop,
            app,
        })
    }

    /// The address of the Prometheus endpoint: `http://{addr}/metrics`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The root supervisor.
    pub fn root(&self) -> &SupervisorRef {
        &self.root
    }

    /// The catalog server, to call.
    ///
    /// # Errors
    /// [`AppError::NotRunning`] if it is not running.
    pub fn catalog(&self) -> Result<ServerRef<Catalog>, AppError> {
        ServerRef::whereis(CATALOG).ok_or(AppError::NotRunning(CATALOG))
    }

    /// The worker, as it runs now.
    ///
    /// # Errors
    /// [`AppError::NotRunning`] if it is not running.
    pub fn worker(&self) -> Result<ServerRef<Worker>, AppError> {
        ServerRef::whereis(WORKER).ok_or(AppError::NotRunning(WORKER))
    }

    /// Tells the worker to crash and returns once its supervisor has restarted it, with the
    /// new worker's pid.
    ///
    /// # Errors
    /// [`AppError::NotRunning`] if the worker is not running before, or not after;
    /// [`AppError::Supervisor`] if the root does not answer.
    pub async fn crash_worker(&self) -> Result<Pid, AppError> {
        let worker = self.worker()?;
        // Set up before the crash, this wait resolves once the worker's exit signal has reached
        // its supervisor: the supervisor answers what it is asked next after the restart.
        let exited = otp::process::wait_exit(worker.pid());
        worker.crash().map_err(|_| AppError::NotRunning(WORKER))?;
        exited.await;
        let children = self.root.which_children().await?;
        children
            .iter()
            .find(|child| child.id == WORKER)
            .and_then(|child| child.pid())
            .filter(|pid| *pid != worker.pid())
            .ok_or(AppError::NotRunning(WORKER))
    }

    /// The exposition text, as the endpoint serves it (without HTTP).
    pub fn render(&self) -> String {
        self.reporter.render()
    }

    /// Stops the tree (in reverse start order), then the poller and the endpoint; returns how
    /// the application ended.
    pub async fn stop(self) -> AppExit {
        let MetricsApp {
            stop,
            app,
            reporter,
            ..
        } = self;
        let _ = stop.send(());
        let exit = app
            .await
            .unwrap_or_else(|e| AppExit::StopFailed(ExitReason::error(e.to_string())));
        drop(reporter);
        exit
    }
}
