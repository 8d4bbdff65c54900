//! Spans around sync and async code: start, stop, exception events (TM-05).

use std::panic::{AssertUnwindSafe, catch_unwind};

use futures_util::FutureExt;
use otp_telemetry::{OwnedValue, SPAN_CONTEXT_KEY, Value, span, span_async, testing};

fn capture(prefix: &str) -> testing::EventCapture {
    testing::attach_event_handlers(&[
        &["tm05", prefix, "start"],
        &["tm05", prefix, "stop"],
        &["tm05", prefix, "exception"],
    ])
    .unwrap()
}

fn segments(event: &otp_telemetry::OwnedEvent) -> Vec<String> {
    event.name.segments().map(str::to_owned).collect()
}

/// TM-05: start carries system_time and monotonic_time, stop carries duration and monotonic_time;
/// both carry the start metadata and one span context; span returns the closure's value.
#[test]
fn tm05_sync_span_emits_start_and_stop() {
    let capture = capture("sync");
    let result = span(&["tm05", "sync"], &[("job", Value::Str("resize"))], || {
        40 + 2
    });
    assert_eq!(result, 42);

    let events = capture.drain();
    assert_eq!(events.len(), 2);
    let (start, stop) = (&events[0], &events[1]);
    assert_eq!(segments(start), ["tm05", "sync", "start"]);
    assert_eq!(segments(stop), ["tm05", "sync", "stop"]);

    assert!(start.measurement("system_time").unwrap() > 0.0);
    let started_at = start.measurement("monotonic_time").unwrap();
    let stopped_at = stop.measurement("monotonic_time").unwrap();
    assert!(stopped_at >= started_at);
    assert!(stop.measurement("duration").unwrap() >= 0.0);
    assert_eq!(stop.measurement("system_time"), None);

    for event in &events {
        assert_eq!(event.meta("job"), Some(&OwnedValue::Str("resize".into())));
    }
    let context = start.meta(SPAN_CONTEXT_KEY).unwrap();
    assert!(matches!(context, OwnedValue::UInt(_)));
    assert_eq!(stop.meta(SPAN_CONTEXT_KEY), Some(context));
}

/// TM-05: each span has its own context.
#[test]
fn tm05_span_contexts_are_unique() {
    let capture = capture("unique");
    span(&["tm05", "unique"], &[], || ());
    span(&["tm05", "unique"], &[], || ());
    let contexts: Vec<_> = capture
        .drain()
        .iter()
        .map(|event| event.meta(SPAN_CONTEXT_KEY).cloned().unwrap())
        .collect();
    assert_eq!(contexts.len(), 4);
    assert_eq!(contexts[0], contexts[1]);
    assert_eq!(contexts[2], contexts[3]);
    assert_ne!(contexts[0], contexts[2]);
}

/// TM-05: a panic emits the exception event (duration, kind, reason, start metadata, context),
/// no stop event, and then resumes.
#[test]
fn tm05_sync_span_panic_emits_exception_and_resumes() {
    let capture = capture("panic");
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        span(&["tm05", "panic"], &[("job", Value::UInt(9))], || -> u32 {
            panic!("span body failed")
        })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"span body failed"));

    let events = capture.drain();
    assert_eq!(events.len(), 2);
    let (start, exception) = (&events[0], &events[1]);
    assert_eq!(segments(exception), ["tm05", "panic", "exception"]);
    assert!(exception.measurement("duration").unwrap() >= 0.0);
    assert!(exception.measurement("monotonic_time").is_some());
    assert_eq!(exception.meta("job"), Some(&OwnedValue::UInt(9)));
    assert_eq!(
        exception.meta("kind"),
        Some(&OwnedValue::Str("panic".into()))
    );
    assert_eq!(
        exception.meta("reason"),
        Some(&OwnedValue::Str("span body failed".into()))
    );
    assert_eq!(
        exception.meta(SPAN_CONTEXT_KEY),
        start.meta(SPAN_CONTEXT_KEY)
    );
}

/// TM-05: long prefixes and long metadata (past the on-stack buffers) work the same.
#[test]
fn tm05_long_prefix_and_metadata() {
    let prefix: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
    let mut prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    prefix[0] = "tm05";
    let mut stop_name = prefix.clone();
    stop_name.push("stop");
    let capture = testing::attach_event_handlers(&[&stop_name]).unwrap();
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    let metadata: Vec<(&str, Value<'_>)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), Value::from(i)))
        .collect();

    span(&prefix, &metadata, || ());
    let stop = capture.try_recv().unwrap();
    assert_eq!(stop.name, stop_name.as_slice());
    assert_eq!(stop.metadata.len(), 21);
    assert_eq!(stop.meta("k19"), Some(&OwnedValue::UInt(19)));
}

/// TM-05: with no handler on its events, span just runs the closure.
#[test]
fn tm05_unobserved_span_runs_the_closure() {
    assert_eq!(span(&["tm05", "nobody"], &[], || "ran"), "ran");
}

/// TM-05: the async form emits start and stop around the whole await, with one context.
#[tokio::test]
async fn tm05_async_span_emits_start_and_stop() {
    let capture = capture("async");
    let value = span_async(&["tm05", "async"], &[("job", Value::Str("fetch"))], async {
        tokio::task::yield_now().await;
        7
    })
    .await;
    assert_eq!(value, 7);

    let events = capture.drain();
    let names: Vec<_> = events.iter().map(segments).collect();
    assert_eq!(
        names,
        [["tm05", "async", "start"], ["tm05", "async", "stop"]]
    );
    assert!(events[1].measurement("duration").unwrap() >= 0.0);
    assert_eq!(
        events[0].meta(SPAN_CONTEXT_KEY),
        events[1].meta(SPAN_CONTEXT_KEY)
    );
    assert_eq!(
        events[1].meta("job"),
        Some(&OwnedValue::Str("fetch".into()))
    );
}

/// TM-05: a panic in an awaited future emits the exception event and resumes the panic.
#[tokio::test]
async fn tm05_async_span_panic_emits_exception_and_resumes() {
    let capture = capture("async_panic");
    let outcome = AssertUnwindSafe(span_async(&["tm05", "async_panic"], &[], async {
        tokio::task::yield_now().await;
        panic!("future failed");
    }))
    .catch_unwind()
    .await;
    assert!(outcome.is_err());

    let events = capture.drain();
    let names: Vec<_> = events.iter().map(segments).collect();
    assert_eq!(
        names,
        [
            ["tm05", "async_panic", "start"],
            ["tm05", "async_panic", "exception"]
        ]
    );
    assert_eq!(
        events[1].meta("reason"),
        Some(&OwnedValue::Str("future failed".into()))
    );
}

/// TM-05: the span future is Send when its inner future is, so it can be spawned.
#[tokio::test]
async fn tm05_async_span_future_is_send() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let handle = tokio::spawn(assert_send(async {
        span_async(&["tm05", "send"], &[("n", Value::UInt(1))], async { 1 }).await
    }));
    assert_eq!(handle.await.unwrap(), 1);
}
