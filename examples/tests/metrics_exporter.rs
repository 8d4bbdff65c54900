//! The `metrics_exporter` application, scraped over HTTP; its start on a taken port; its
//! `--serve` mode stopped by SIGTERM.
//!
//! Starts [`MetricsApp`] on a free localhost port, causes known events (worker crashes, catalog
//! calls), then reads `GET /metrics` with an HTTP client and checks the figures. Its own test
//! binary, because what it counts is process-wide: the application registers fixed names, turns
//! the call span on for every server, and its metrics count every process exit and restart in
//! the process (other tests alongside would add to the figures). The SIGTERM test runs the
//! application in a child process, this test binary re-executed, since the signal goes to the
//! whole process.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use otp::application::AppExit;
use otp::core::telemetry::CHILD_RESTART;
use otp::telemetry::metrics::{MetricError, StartCause};
use otp::telemetry::testing::attach_event_handlers;
use otp_examples::metrics_app::{
    Catalog, CatalogClient, MetricsApp, POLL_PERIOD, StartError, WORKER, scrape,
};

/// The worker crashes the test causes.
const CRASHES: u64 = 3;
/// The catalog calls the test makes.
const CALLS: u64 = 25;
/// The bound on any single wait: nothing here should take more than a fraction of it.
const WAIT: Duration = Duration::from_secs(10);
/// The bound on the whole test.
const WHOLE_TEST: Duration = Duration::from_secs(60);
/// Scrapes before giving up on the poller's gauges (one per poll period).
const GAUGE_TRIES: u32 = 50;

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(WAIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: no answer within {WAIT:?}"),
    }
}

/// A localhost address with a port that was free a moment ago.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("the bound address")
}

/// `GET /metrics` of the application, which must answer within [`WAIT`].
async fn scrape_app(addr: SocketAddr) -> String {
    match scrape(addr, WAIT).await {
        Ok(text) => text,
        Err(e) => panic!("{e}"),
    }
}

/// The value of the sample `series` (a metric name with its labels, as printed) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
}

/// TMM-04 end to end: restarts, call durations and mailbox gauges of a running application,
/// served by its Prometheus endpoint.
#[tokio::test]
async fn scraped_metrics_count_restarts_calls_and_mailboxes() {
    let test = async {
        let app = MetricsApp::start(free_addr())
            .await
            .expect("the application starts");

        // Known events: CRASHES restarts of the worker, each waited for.
        let restarts = attach_event_handlers(&[CHILD_RESTART]).expect("attach a capture");
        for _ in 0..CRASHES {
            let old = app.worker().expect("the worker runs").pid();
            let new = bounded("a restart", app.crash_worker())
                .await
                .expect("the worker is restarted");
            assert_ne!(old, new);
        }
        let restarted = restarts
            .drain()
            .into_iter()
            .filter(|event| {
                event.meta("child_id").map(ToString::to_string).as_deref() == Some(WORKER)
            })
            .count();
        assert_eq!(restarted as u64, CRASHES, "restart events seen");

        // Known events: CALLS calls to the catalog, the only calls it gets.
        let catalog = app.catalog().expect("the catalog runs");
        for i in 0..CALLS {
            let item = if i % 2 == 0 { "apple" } else { "unicorn" };
            let price = bounded("a call", catalog.price(item.to_owned()))
                .await
                .expect("the catalog answers");
            assert_eq!(price, (i % 2 == 0).then_some(30));
        }

        let text = scrape_app(app.addr()).await;
        let restarts_series =
            format!("otp_supervisor_child_restart_count{{child_id=\"{WORKER}\"}}");
        assert_eq!(
            sample(&text, &restarts_series),
            Some(CRASHES as f64),
            "`{restarts_series}` in:\n{text}"
        );
        let calls_series = format!(
            "otp_gen_server_call_stop_duration_seconds_count{{server_type=\"{}\"}}",
            std::any::type_name::<Catalog>()
        );
        assert_eq!(
            sample(&text, &calls_series),
            Some(CALLS as f64),
            "`{calls_series}` in:\n{text}"
        );
        let panics = "otp_process_exit_count{reason_kind=\"panic\"}";
        assert_eq!(
            sample(&text, panics),
            Some(CRASHES as f64),
            "`{panics}` in:\n{text}"
        );

        // The mailbox gauges come with the poller, once per period: scrape until they are in.
        let gauges = [
            "otp_vm_processes_total_mailbox_length",
            "otp_vm_processes_largest_mailbox_length",
        ];
        let mut text = text;
        for _ in 0..GAUGE_TRIES {
            if gauges.iter().all(|gauge| sample(&text, gauge).is_some()) {
                break;
            }
            tokio::time::sleep(POLL_PERIOD).await;
            text = scrape_app(app.addr()).await;
        }
        for gauge in gauges {
            let value = sample(&text, gauge);
            assert!(value.is_some_and(|v| v >= 0.0), "`{gauge}` in:\n{text}");
        }

        assert_eq!(bounded("the stop", app.stop()).await, AppExit::Stopped);
    };
    tokio::time::timeout(WHOLE_TEST, test)
        .await
        .expect("the test ends within its bound");
}

/// A port held by another program (another instance of the example, say): the start fails with
/// an error that names the address and the cause, inside the caller's runtime, without a panic.
#[tokio::test]
async fn start_on_a_taken_port_is_a_clear_error() {
    let holder = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    let addr = holder.local_addr().expect("the bound address");

    let error = match MetricsApp::start(addr).await {
        Ok(_) => panic!("the application started on a taken port"),
        Err(error) => error,
    };

    assert!(
        matches!(
            &error,
            StartError::Metrics(MetricError::Start { addr: failed, cause: StartCause::Bind(_) })
                if *failed == addr
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&addr.to_string()), "{message}");
}

/// The variable that makes this test binary, re-executed, the served application of
/// [`sigterm_in_serve_mode_stops_with_status_0`].
#[cfg(unix)]
const SERVE_CHILD: &str = "OTP_EXAMPLES_METRICS_SERVE_CHILD";

/// The line the child prints once it listens for signals.
#[cfg(unix)]
const SERVING: &str = "serving on";

/// The child process of [`sigterm_in_serve_mode_stops_with_status_0`]: the `--serve` mode of
/// the example — the application up, then [`otp::application::Application::stop_signal`], then a stop — ending
/// the process with the application's status, as the example's `main` does. Does nothing
/// unless run as that child.
#[cfg(unix)]
#[tokio::test]
#[ignore = "the child process of `sigterm_in_serve_mode_stops_with_status_0`"]
async fn serve_until_signalled() {
    if std::env::var_os(SERVE_CHILD).is_none() {
        return;
    }
    let app = MetricsApp::start(free_addr())
        .await
        .expect("the application starts");
    let stop = otp::application::Application::stop_signal().expect("listen for signals");
    println!("{SERVING} {}", app.addr());
    stop.await;
    let ending = app.stop().await;
    println!("the application {ending}");
    std::process::exit(i32::from(ending.status()));
}

/// `--serve` mode: SIGTERM (what `kill` and service managers send) stops the application's
/// tree cleanly and the process exits with status 0, not killed by the signal.
#[cfg(unix)]
#[test]
fn sigterm_in_serve_mode_stops_with_status_0() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    /// Sends `signal` to `pid` with procps' `kill`.
    fn kill(signal: &str, pid: u32) {
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}: {status}");
    }

    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "serve_until_signalled",
            "--include-ignored",
            "--nocapture",
        ])
        .env(SERVE_CHILD, "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let pid = child.id();
    let stdout = child.stdout.take().expect("the child's stdout");
    let (line_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    loop {
        match lines.recv_timeout(WAIT) {
            Ok(line) => {
                let serving = line.starts_with(SERVING);
                output.push(line);
                if serving {
                    break;
                }
            }
            Err(e) => {
                kill("-KILL", pid);
                panic!(
                    "the child is not serving ({e}); its output:\n{}",
                    output.join("\n")
                );
            }
        }
    }

    kill("-TERM", pid);
    let (status_tx, status) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = status_tx.send(child.wait());
    });
    let status = match status.recv_timeout(WAIT) {
        Ok(status) => status.expect("wait for the child"),
        Err(_) => {
            kill("-KILL", pid);
            panic!("the child did not end after SIGTERM");
        }
    };
    // The rest of its output, to the end of the pipe (closed by the child's exit).
    output.extend(lines.iter());
    let output = output.join("\n");
    assert_eq!(
        status.code(),
        Some(0),
        "{status}; the child's output:\n{output}"
    );
    assert!(output.contains("the application stopped"), "{output}");
}
