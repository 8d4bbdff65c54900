//! Metrics exporter: an application whose runtime events become Prometheus metrics.
//!
//! Starts the application of [`otp_examples::metrics_app`] — a supervisor with a worker that
//! crashes when told to and a catalog server that answers calls — with the GenServer call span
//! turned on, a poller measuring the processes and the memory, and a Prometheus endpoint on
//! `http://127.0.0.1:9568/metrics` fed by metric definitions over the runtime's events: restarts
//! by child, process exits by reason, call durations by server type (in seconds, Prometheus'
//! base unit), mailbox lengths, memory (in bytes).
//!
//! It then causes some activity (three crashes of the worker, calls to the catalog), scrapes its
//! own endpoint once with an HTTP client, prints the interesting lines, stops the application
//! and exits with its status, 0.
//!
//! ```sh
//! cargo run -p otp-examples --example metrics_exporter
//! # or keep serving until Ctrl-C or SIGTERM, and look with curl from another shell:
//! cargo run -p otp-examples --example metrics_exporter -- --serve
//! curl -s http://127.0.0.1:9568/metrics | grep '^otp_'
//! ```
//!
//! The endpoint listens on the reporter's default address, `127.0.0.1:9568`: the loopback
//! interface, so only this host can read the metrics. A Prometheus server elsewhere needs
//! another address, chosen with `PrometheusReporter::start_on` (here, the address given to
//! `MetricsApp::start`).
//!
//! With `--serve`, Ctrl-C (SIGINT) or SIGTERM (`kill PID`, what a service manager sends) stops
//! the application's tree cleanly, in reverse start order, and the program exits with status 0,
//! as [`Application::run`](otp::application::Application::run) would.
//!
//! Only one instance can serve on the port: a second one, or any program holding the port,
//! makes this one fail at start with a message naming the address and the cause (`Address
//! already in use`) and exit with status 1.

use std::process::ExitCode;
use std::time::Duration;

use otp::telemetry::metrics::prometheus::DEFAULT_ADDR;
use otp_examples::metrics_app::{
    CRASH, CatalogClient, JOB_TIME, MetricsApp, POLL_PERIOD, WorkerClient, scrape,
};

/// The jobs cast to the worker at once.
const JOBS: usize = 500;
/// The bound on the scrape.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);

/// The metrics worth printing: the application's own, not the exporter's.
const INTERESTING: &[&str] = &[
    "otp_supervisor_child_restart_count",
    "otp_process_exit_count",
    "otp_gen_server_call_stop_duration_seconds_count",
    "otp_gen_server_call_stop_duration_seconds_sum",
    "otp_vm_processes",
    "otp_vm_memory_total_bytes",
];

type Outcome<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The activity: crashes, calls, a burst of jobs.
async fn activity(app: &MetricsApp) -> Outcome {
    println!(
        "\n1. The worker is told to crash, three times; each time its supervisor restarts it:"
    );
    for n in 1..=3 {
        let old = app.worker()?.pid();
        let new = app.crash_worker().await?;
        println!("   crash {n}: worker {old} panicked, restarted as {new}");
    }

    let catalog = app.catalog()?;
    let items = ["apple", "bread", "coffee", "unicorn"];
    let mut found = 0;
    for i in 0..20 {
        if catalog
            .price(items[i % items.len()].to_owned())
            .await?
            .is_some()
        {
            found += 1;
        }
    }
    println!(
        "\n2. 20 calls to the catalog ({found} items found): each call is a span, its stop event \
         a sample of the call-duration histogram (tagged by server type: the supervisor's \
         which_children after each crash is a call too)."
    );

    let worker = app.worker()?;
    for _ in 0..JOBS {
        worker.work()?;
    }
    // The poller measures the mailboxes every period; measure them now too, while the worker
    // is busy (each job takes `JOB_TIME`), so that the scrape below sees its queue.
    otp::core::telemetry::emit_process_counts();
    println!(
        "\n3. {JOBS} jobs cast to the worker, which takes {JOB_TIME:?} per job: they wait in its \
         mailbox."
    );
    Ok(())
}

async fn run(serve: bool) -> Outcome<ExitCode> {
    // With `--serve`, Ctrl-C and SIGTERM are heard from now on: one that comes during the
    // activity stops the application once the figures are printed.
    let stop = if serve {
        Some(otp::application::Application::stop_signal()?)
    } else {
        None
    };
    // The reporter's default address, `127.0.0.1:9568`: localhost only, TMM-04's port.
    let app = MetricsApp::start(DEFAULT_ADDR).await?;
    println!(
        "The application is up: root supervisor {}, Prometheus endpoint on http://{}/metrics, \
         the poller measuring every {POLL_PERIOD:?}.",
        app.root().pid(),
        app.addr()
    );
    activity(&app).await?;

    let text = scrape(app.addr(), SCRAPE_TIMEOUT).await?;
    println!(
        "\n4. GET http://{}/metrics: {} lines; the interesting ones:",
        app.addr(),
        text.lines().count()
    );
    for name in INTERESTING {
        for line in text
            .lines()
            .filter(|line| !line.starts_with('#') && line.starts_with(name))
        {
            println!("   {line}");
        }
    }

    if let Some(stop) = stop {
        println!(
            "\nServing until Ctrl-C or SIGTERM (kill {}): curl -s http://{}/metrics | grep '^otp_'",
            std::process::id(),
            app.addr()
        );
        stop.await;
    }
    let ending = app.stop().await;
    println!(
        "\nThe application stopped its tree: {ending}. Exit status {}.",
        ending.status()
    );
    Ok(ending.exit_code())
}

#[tokio::main]
async fn main() -> ExitCode {
    // The runtime and the supervisor report the crashes through `tracing`: on stderr.
    otp_examples::log_to_stderr();
    // The runtime already reports the worker's panics; the default hook would print them twice.
    otp_examples::quiet_expected_panics(|message| message == CRASH);

    let serve = std::env::args().skip(1).any(|arg| arg == "--serve");
    match run(serve).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("metrics_exporter failed: {e}");
            ExitCode::FAILURE
        }
    }
}
