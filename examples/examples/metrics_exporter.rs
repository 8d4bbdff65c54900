//! Metrics exporter: an application whose runtime events become Prometheus metrics.
//!
//! Starts the application of [`otp_examples::metrics_app`] — a supervisor with a worker that
//! crashes when told to and a catalog server that answers calls — with the GenServer call span
//! turned on, a poller measuring the processes and the memory, and a Prometheus endpoint on
//! `http://127.0.0.1:9568/metrics` fed by metric definitions over the runtime's events: restarts
//! by child, process exits by reason, call durations by server type, mailbox lengths, memory.
//!
//! It then causes some activity (three crashes of the worker, calls to the catalog), scrapes its
//! own endpoint once with an HTTP client, prints the interesting lines, stops the application
//! and exits with its status, 0.
//!
//! ```sh
//! cargo run -p otp-examples --example metrics_exporter
//! # or keep serving until Ctrl-C, and look with curl from another shell:
//! cargo run -p otp-examples --example metrics_exporter -- --serve
//! curl -s http://127.0.0.1:9568/metrics | grep '^otp_'
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use otp_examples::metrics_app::{
    CRASH, CatalogClient, JOB_TIME, MetricsApp, POLL_PERIOD, WorkerClient, scrape,
};

/// Where the endpoint listens: localhost, on Prometheus's port for this exporter (TMM-04).
const ADDR: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(Ipv4Addr::LOCALHOST),
    otp::telemetry::metrics::prometheus::DEFAULT_PORT,
);
/// The jobs cast to the worker at once.
const JOBS: usize = 500;
/// The bound on the scrape.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);

/// The metrics worth printing: the application's own, not the exporter's.
const INTERESTING: &[&str] = &[
    "otp_supervisor_child_restart_count",
    "otp_process_exit_count",
    "otp_gen_server_call_stop_duration_count",
    "otp_gen_server_call_stop_duration_sum",
    "otp_vm_processes",
    "otp_vm_memory_total",
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
    let app = MetricsApp::start(ADDR).await?;
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

    if serve {
        println!(
            "\nServing until Ctrl-C: curl -s http://{}/metrics | grep '^otp_'",
            app.addr()
        );
        tokio::signal::ctrl_c().await?;
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
