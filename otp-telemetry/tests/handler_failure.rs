//! A handler that panics is detached, logged and reported; the emitter carries on (TM-04).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use otp_telemetry::{
    HANDLER_FAILURE_EVENT, OwnedEvent, OwnedValue, attach, attach_many, detach, execute,
    list_handlers, testing,
};

use common::logs;

/// The failure events about `handler_id` (other tests of this binary may fail handlers too).
fn failures_of(capture: &testing::EventCapture, handler_id: &str) -> Vec<OwnedEvent> {
    capture
        .drain()
        .into_iter()
        .filter(|event| event.meta("handler_id") == Some(&OwnedValue::Str(handler_id.into())))
        .collect()
}

/// TM-04: the panicking handler is detached from all its events, the failure event carries the
/// handler id, event name, kind and reason, the other handlers still run, execute returns, and the
/// panic is logged through tracing.
#[test]
fn tm04_panicking_handler_is_detached_and_reported() {
    let logs = logs();
    let capture = testing::attach_event_handlers(&[HANDLER_FAILURE_EVENT]).unwrap();
    let good_calls = Arc::new(AtomicUsize::new(0));
    let bad_calls = Arc::new(AtomicUsize::new(0));

    let seen = Arc::clone(&bad_calls);
    attach_many(
        "tm04-bad",
        &[&["tm04", "boom"], &["tm04", "other"]],
        move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
            panic!("handler exploded");
        },
    )
    .unwrap();
    let seen = Arc::clone(&good_calls);
    attach("tm04-good", &["tm04", "boom"], move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();

    execute(&["tm04", "boom"], &[("n", 1.0)], &[]);

    assert_eq!(bad_calls.load(Ordering::SeqCst), 1);
    assert_eq!(good_calls.load(Ordering::SeqCst), 1);
    // Detached from both of its events.
    let left: Vec<_> = list_handlers(&["tm04"])
        .into_iter()
        .map(|info| info.id)
        .collect();
    assert_eq!(left, ["tm04-good"]);

    let failures = failures_of(&capture, "tm04-bad");
    assert_eq!(failures.len(), 1);
    let failure = &failures[0];
    assert_eq!(failure.name, HANDLER_FAILURE_EVENT);
    assert_eq!(
        failure.meta("event_name"),
        Some(&OwnedValue::Str("tm04.boom".into()))
    );
    assert_eq!(failure.meta("kind"), Some(&OwnedValue::Str("panic".into())));
    assert_eq!(
        failure.meta("reason"),
        Some(&OwnedValue::Str("handler exploded".into()))
    );
    assert!(failure.measurement("monotonic_time").is_some());
    assert!(failure.measurement("system_time").is_some());

    let logged = logs.text();
    assert!(logged.contains("ERROR"), "{logged}");
    assert!(logged.contains("tm04-bad"), "{logged}");
    assert!(logged.contains("handler exploded"), "{logged}");

    // It is gone: the next events reach only the good handler, and no new failure.
    execute(&["tm04", "boom"], &[], &[]);
    execute(&["tm04", "other"], &[], &[]);
    assert_eq!(bad_calls.load(Ordering::SeqCst), 1);
    assert_eq!(good_calls.load(Ordering::SeqCst), 2);
    assert!(failures_of(&capture, "tm04-bad").is_empty());
    detach("tm04-good").unwrap();
}

/// TM-04: a panic with a non-string payload is reported too.
#[test]
fn tm04_non_string_panic_payload_is_reported() {
    let capture = testing::attach_event_handlers(&[HANDLER_FAILURE_EVENT]).unwrap();
    attach("tm04-any", &["tm04_any", "event"], |_| {
        std::panic::panic_any(42_u32)
    })
    .unwrap();
    execute(&["tm04_any", "event"], &[], &[]);
    let failures = failures_of(&capture, "tm04-any");
    assert_eq!(failures.len(), 1);
    assert!(matches!(
        failures[0].meta("reason"),
        Some(OwnedValue::Str(_))
    ));
    assert!(list_handlers(&["tm04_any", "event"]).is_empty());
}

/// TM-04: a handler of the failure event that panics is detached in turn; no loop, no panic out.
#[test]
fn tm04_failing_failure_handler_does_not_loop() {
    attach("tm04-first", &["tm04_chain", "event"], |_| panic!("first")).unwrap();
    // This handler sees every failure of the binary; it fails on the first one and is detached.
    attach("tm04-failure-handler", HANDLER_FAILURE_EVENT, |_| {
        panic!("second")
    })
    .unwrap();
    execute(&["tm04_chain", "event"], &[], &[]);
    assert!(list_handlers(&["tm04_chain", "event"]).is_empty());
    assert!(
        !list_handlers(HANDLER_FAILURE_EVENT)
            .iter()
            .any(|info| info.id == "tm04-failure-handler")
    );
}
