//! The Prometheus reporter (TMM-04): what it serves, its default address, and its failures,
//! typed errors that leave nothing running, in and out of a tokio runtime.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use otp_telemetry::metrics::prometheus::{DEFAULT_ADDR, DEFAULT_PORT, PrometheusReporter};
use otp_telemetry::metrics::{Metric, MetricError, StartCause, Unit};
use otp_telemetry::{Value, execute, list_handlers};

/// A unique event prefix (and reporter id) per test: tests run in parallel on the one global
/// handler table.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A counter over the event `[p, "x"]`.
fn counter(p: &str) -> Metric {
    Metric::counter(&format!("{p}.x.count")).build().unwrap()
}

/// A localhost address whose port was free a moment ago.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// TMM-04: the endpoint serves a counter of three after three events, labelled, and a
/// histogram in seconds; dropping the reporter detaches its handlers and frees the port.
#[test]
fn prometheus_endpoint_serves_counter() {
    let p = unique("tmm_prom");
    let restarts = Metric::counter(&format!("{p}.supervisor.restart.count"))
        .tags(["child_id"])
        .description("child restarts")
        .build()
        .unwrap();
    let durations = Metric::distribution(&format!("{p}.call.stop.duration_seconds"))
        .measurement("duration")
        .convert_unit(Unit::Native, Unit::Second)
        .buckets([0.001, 0.01])
        .build()
        .unwrap();
    let addr = free_port();
    let reporter = PrometheusReporter::start_on(&p, &[restarts, durations], addr).unwrap();
    assert_eq!(reporter.addr(), addr);

    for _ in 0..3 {
        execute(
            &[&p, "supervisor", "restart"],
            &[("count", 1.0)],
            &[("child_id", Value::Str("w"))],
        );
    }
    // 5 ms, in native units (nanoseconds).
    execute(&[&p, "call", "stop"], &[("duration", 5_000_000.0)], &[]);

    let response = http_get(addr, "/metrics");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let expected = format!("{p}_supervisor_restart_count{{child_id=\"w\"}} 3");
    assert!(
        response.contains(&expected),
        "no `{expected}` in:\n{response}"
    );
    for sample in [
        format!("{p}_call_stop_duration_seconds_bucket{{le=\"0.001\"}} 0"),
        format!("{p}_call_stop_duration_seconds_bucket{{le=\"0.01\"}} 1"),
        format!("{p}_call_stop_duration_seconds_sum 0.005"),
    ] {
        assert!(response.contains(&sample), "no `{sample}` in:\n{response}");
    }
    assert!(response.contains("# HELP"), "{response}");
    assert!(reporter.render().contains(&expected));

    drop(reporter);
    assert!(list_handlers(&[&p]).is_empty());
    // The drop waited for the listener's thread: the port is free at once.
    assert!(
        TcpStream::connect(addr).is_err(),
        "the listener is still up"
    );
    TcpListener::bind(addr).expect("the port is free again");
}

/// `start_on` a port that another socket holds: a `Start` error naming the address and the
/// bind failure, no handler attached; called from `context` (for the message).
fn start_on_a_taken_port(context: &str) {
    let p = unique("tmm_prom_taken");
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap();

    let result = PrometheusReporter::start_on(&p, &[counter(&p)], addr);

    let error = result.expect_err("the port is taken");
    match &error {
        MetricError::Start {
            addr: failed,
            cause: StartCause::Bind(_),
        } => assert_eq!(*failed, addr, "{context}"),
        other => panic!("{context}: expected a bind failure, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains(&addr.to_string()),
        "{context}: the address is not in `{message}`"
    );
    assert!(list_handlers(&[&p]).is_empty(), "{context}: handlers left");
    // The holder is untouched.
    assert_eq!(holder.local_addr().unwrap(), addr);
}

/// Issue 10: the failed start dropped the exporter's runtime inside the caller's runtime, a
/// panic ("Cannot drop a runtime in a context where blocking is not allowed").
#[tokio::test]
async fn taken_port_is_a_start_error_in_a_current_thread_runtime() {
    start_on_a_taken_port("current_thread runtime");
}

/// As above, from a worker of a multi-thread runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_port_is_a_start_error_in_a_multi_thread_runtime() {
    start_on_a_taken_port("multi_thread runtime");
}

/// As above, from plain synchronous code.
#[test]
fn taken_port_is_a_start_error_outside_a_runtime() {
    start_on_a_taken_port("no runtime");
}

/// A handler id taken once the listener is up: an `Attach` error, and the listener is
/// stopped and its thread joined before `start_on` returns (the port is free at once); the
/// first reporter is untouched.
#[tokio::test]
async fn attach_failure_stops_the_listener() {
    let p = unique("tmm_prom_attach");
    let first_addr = free_port();
    let first = PrometheusReporter::start_on(&p, &[counter(&p)], first_addr).unwrap();

    let second_addr = free_port();
    let second = PrometheusReporter::start_on(&p, &[counter(&p)], second_addr);

    assert!(
        matches!(second, Err(MetricError::Attach(_))),
        "{:?}",
        second.err()
    );
    TcpListener::bind(second_addr).expect("the second listener is stopped");
    assert_eq!(
        list_handlers(&[&p]).len(),
        1,
        "the first reporter's handler"
    );
    execute(&[&p, "x"], &[("count", 1.0)], &[]);
    assert!(first.render().contains(&format!("{p}_x_count 1")));
}

/// Dropping a reporter inside a runtime neither panics nor leaves the port taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_in_a_runtime_frees_the_port() {
    let p = unique("tmm_prom_drop");
    let addr = free_port();
    let reporter = PrometheusReporter::start_on(&p, &[counter(&p)], addr).unwrap();
    drop(reporter);
    TcpListener::bind(addr).expect("the port is free again");
}

/// `start` listens on the loopback interface, port 9568, not on every interface.
#[test]
fn start_defaults_to_loopback() {
    assert_eq!(
        DEFAULT_ADDR,
        SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT))
    );
    assert_eq!(DEFAULT_PORT, 9568);

    let p = unique("tmm_prom_default");
    match PrometheusReporter::start(&p, &[counter(&p)]) {
        Ok(reporter) => {
            assert_eq!(reporter.addr(), DEFAULT_ADDR);
            let response = http_get(DEFAULT_ADDR, "/metrics");
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        }
        // Another program holds the port: the error still names the address tried.
        Err(MetricError::Start {
            addr,
            cause: StartCause::Bind(_),
        }) => assert_eq!(addr, DEFAULT_ADDR),
        Err(other) => panic!("{other}"),
    }
}
