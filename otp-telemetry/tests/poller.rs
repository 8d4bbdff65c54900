//! The poller: periodic measurements emitted as events, like Erlang's `telemetry_poller`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use otp_telemetry::poller::{
    DEFAULT_PERIOD, MEMORY_EVENT, Poller, PollerError, PollerHandle, TOKIO_EVENT,
};
use otp_telemetry::testing::EventCapture;
use otp_telemetry::{execute, testing};

use common::logs;

/// A measurement that emits `event` with a `count` of its calls.
fn counting(event: &'static [&'static str]) -> impl FnMut() + Send + 'static {
    let mut calls = 0.0;
    move || {
        calls += 1.0;
        execute(event, &[("count", calls)], &[]);
    }
}

/// Lets the spawned poller task run up to its next wait.
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

#[test]
fn default_period_is_five_seconds() {
    assert_eq!(DEFAULT_PERIOD, Duration::from_secs(5));
    assert!(format!("{:?}", Poller::new()).contains("5s"));
}

/// poll_once emits the memory event with a resident size and a virtual size above zero.
#[test]
fn poll_once_emits_memory() {
    let capture = testing::attach_event_handlers(&[MEMORY_EVENT]).unwrap();
    let mut poller = Poller::new().memory();
    poller.poll_once();
    // Other tests of this binary may poll memory at the same time: look at any of the events.
    let events = capture.drain();
    assert!(!events.is_empty());
    for event in &events {
        assert!(event.measurement("total").unwrap() > 0.0);
        assert!(event.measurement("virtual").unwrap() > 0.0);
        assert!(event.metadata.is_empty());
    }
}

/// poll_once inside a runtime emits the tokio event with the runtime's figures.
#[test]
fn poll_once_emits_tokio_runtime_metrics() {
    let capture = testing::attach_event_handlers(&[TOKIO_EVENT]).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let mut poller = Poller::new().tokio_runtime();
    runtime.block_on(async {
        let _task = tokio::spawn(std::future::pending::<()>());
        poller.poll_once();
    });
    // Another test's runtime may poll at the same time: find this runtime's event (2 workers).
    let event = capture
        .drain()
        .into_iter()
        .find(|event| event.measurement("workers") == Some(2.0))
        .expect("the event of the 2-worker runtime");
    assert!(event.measurement("alive_tasks").unwrap() >= 1.0);
    assert!(event.measurement("global_queue_depth").unwrap() >= 0.0);
    assert!(event.measurement("busy_duration").unwrap() >= 0.0);
    assert!(event.measurement("park_count").unwrap() >= 0.0);
}

/// Outside a runtime the tokio measurement does not fail (it emits nothing) and is kept.
#[test]
fn poll_once_outside_a_runtime_keeps_the_tokio_measurement() {
    // A handler, so that the measurement does look for a runtime.
    let _capture = testing::attach_event_handlers(&[TOKIO_EVENT]).unwrap();
    let mut poller = Poller::new().tokio_runtime();
    poller.poll_once();
    assert_eq!(
        poller.measurement_names().collect::<Vec<_>>(),
        ["tokio_runtime"]
    );
}

/// run polls once at start, then once per period of the (paused) clock.
#[tokio::test(start_paused = true)]
async fn run_polls_at_start_and_once_per_period() {
    const EVENT: &[&str] = &["poller_test", "run", "tick"];
    let capture = testing::attach_event_handlers(&[EVENT]).unwrap();
    let poller = Poller::new()
        .period(Duration::from_secs(10))
        .measurement("tick", counting(EVENT));
    let task = tokio::spawn(poller.run());

    settle().await;
    assert_eq!(capture.drain().len(), 1, "the first poll is at once");

    tokio::time::advance(Duration::from_secs(9)).await;
    settle().await;
    assert!(capture.drain().is_empty(), "no poll before the period");

    tokio::time::advance(Duration::from_secs(1)).await;
    settle().await;
    let events = capture.drain();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].measurement("count"), Some(2.0));

    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(10)).await;
        settle().await;
    }
    let counts: Vec<_> = capture
        .drain()
        .iter()
        .map(|event| event.measurement("count").unwrap())
        .collect();
    assert_eq!(counts, [3.0, 4.0, 5.0]);
    task.abort();
}

/// A measurement that panics is removed and logged through tracing; the others go on.
#[test]
fn panicking_measurement_is_removed_and_others_go_on() {
    let logs = logs();
    const EVENT: &[&str] = &["poller_test", "panic", "good"];
    let capture = testing::attach_event_handlers(&[EVENT]).unwrap();
    let bad_calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&bad_calls);
    let mut poller = Poller::new()
        .measurement("poller-test-bad", move || {
            seen.fetch_add(1, Ordering::SeqCst);
            panic!("measurement failed");
        })
        .measurement("good", counting(EVENT));

    poller.poll_once();
    poller.poll_once();
    poller.poll_once();

    assert_eq!(bad_calls.load(Ordering::SeqCst), 1);
    assert_eq!(poller.measurement_names().collect::<Vec<_>>(), ["good"]);
    let counts: Vec<_> = capture
        .drain()
        .iter()
        .map(|event| event.measurement("count").unwrap())
        .collect();
    assert_eq!(counts, [1.0, 2.0, 3.0]);

    let logged = logs.text();
    let line = logged
        .lines()
        .find(|line| line.contains("poller-test-bad"))
        .expect("the removal is logged");
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("measurement failed"), "{line}");
    assert!(line.contains("removed"), "{line}");
}

/// A zero period is a typed error, from run and from spawn.
#[tokio::test(start_paused = true)]
async fn zero_period_is_an_error() {
    let poller = || Poller::new().period(Duration::ZERO).memory();
    assert_eq!(poller().run().await.unwrap_err(), PollerError::ZeroPeriod);
    assert_eq!(poller().spawn().unwrap_err(), PollerError::ZeroPeriod);
}

/// spawn outside a tokio runtime is a typed error.
#[test]
fn spawn_outside_a_runtime_is_an_error() {
    assert_eq!(
        Poller::new().memory().spawn().unwrap_err(),
        PollerError::NoRuntime
    );
}

/// spawn on a runtime without timers is a typed error, not a panic.
#[test]
fn spawn_without_timers_is_an_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let spawned = runtime.block_on(async { Poller::new().memory().spawn() });
    assert_eq!(spawned.unwrap_err(), PollerError::TimersDisabled);
}

/// Spawns a poller that emits `event` every second, captured, and lets it make its first poll.
async fn spawn_ticker(event: &'static [&'static str]) -> (EventCapture, PollerHandle) {
    let capture = testing::attach_event_handlers(&[event]).unwrap();
    let handle = Poller::new()
        .period(Duration::from_secs(1))
        .measurement("tick", counting(event))
        .spawn()
        .unwrap();
    settle().await;
    (capture, handle)
}

/// A spawned poller polls at once and per period until its handle is dropped, then stops.
#[tokio::test(start_paused = true)]
async fn dropping_the_handle_stops_the_poller() {
    let (capture, handle) = spawn_ticker(&["poller_test", "spawn", "tick"]).await;
    tokio::time::advance(Duration::from_secs(1)).await;
    settle().await;
    assert_eq!(capture.drain().len(), 2);
    assert!(!handle.is_finished());

    drop(handle);
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(1)).await;
        settle().await;
    }
    assert!(capture.drain().is_empty());
}

/// PollerHandle::stop stops the poller too.
#[tokio::test(start_paused = true)]
async fn stop_stops_the_poller() {
    let (capture, handle) = spawn_ticker(&["poller_test", "stop", "tick"]).await;
    assert_eq!(capture.drain().len(), 1);
    handle.stop();
    tokio::time::advance(Duration::from_secs(5)).await;
    settle().await;
    assert!(capture.drain().is_empty());
}
