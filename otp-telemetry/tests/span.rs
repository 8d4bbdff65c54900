//! Spans around sync and async code: start, stop, exception events (TM-05).

use std::panic::{AssertUnwindSafe, catch_unwind};

use futures_util::FutureExt;
use otp_telemetry::span::{CANCELLED_KIND, CANCELLED_REASON, Span};
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

/// TM-05: a future dropped after its start event and before it completes emits the exception
/// event with kind "cancelled", the start metadata, the span context and the end measurements.
#[tokio::test]
async fn tm05_dropped_span_future_emits_cancelled_exception() {
    let capture = capture("dropped");
    {
        let mut future = Box::pin(span_async(
            &["tm05", "dropped"],
            &[("job", Value::Str("upload"))],
            std::future::pending::<()>(),
        ));
        // One poll: the start event is out, the inner future is pending.
        assert!(future.as_mut().now_or_never().is_none());
    }
    let events = capture.drain();
    let names: Vec<_> = events.iter().map(segments).collect();
    assert_eq!(
        names,
        [
            ["tm05", "dropped", "start"],
            ["tm05", "dropped", "exception"]
        ]
    );
    let exception = &events[1];
    assert!(exception.measurement("duration").unwrap() >= 0.0);
    assert!(exception.measurement("monotonic_time").is_some());
    assert_eq!(
        exception.meta("job"),
        Some(&OwnedValue::Str("upload".into()))
    );
    assert_eq!(
        exception.meta("kind"),
        Some(&OwnedValue::Str(CANCELLED_KIND.into()))
    );
    assert_eq!(
        exception.meta("reason"),
        Some(&OwnedValue::Str(
            "the future was dropped before it completed".into()
        ))
    );
    assert_eq!(
        exception.meta(SPAN_CONTEXT_KEY),
        events[0].meta(SPAN_CONTEXT_KEY)
    );
}

/// TM-05: a span future dropped before its first poll emitted no start event and emits nothing.
#[tokio::test]
async fn tm05_span_future_dropped_unpolled_emits_nothing() {
    let capture = capture("unpolled");
    drop(span_async(&["tm05", "unpolled"], &[], async { 1 }));
    drop(Span::new(&["tm05", "unpolled"]).run_async(async |_stop| 1));
    assert!(capture.drain().is_empty());
}

/// TM-05: a completed span future emits stop only, never a cancelled exception afterwards.
#[tokio::test]
async fn tm05_completed_span_future_emits_no_cancelled_exception() {
    let capture = capture("completed");
    let future = span_async(&["tm05", "completed"], &[], async { 5 });
    assert_eq!(future.await, 5);
    let names: Vec<_> = capture.drain().iter().map(segments).collect();
    assert_eq!(
        names,
        [
            ["tm05", "completed", "start"],
            ["tm05", "completed", "stop"]
        ]
    );
}

/// TM-05: the builder's stop measurements are added to duration and monotonic_time, which
/// cannot be overridden; without stop metadata the stop event carries the start metadata.
#[test]
fn tm05_builder_adds_stop_measurements() {
    let capture = capture("builder_measurements");
    let result = Span::new(&["tm05", "builder_measurements"])
        .metadata(&[("job", Value::Str("resize"))])
        .run(|stop| {
            assert!(stop.is_active());
            stop.measurement("rows", 3.0)
                .measurement("bytes", 10.0)
                .measurement("bytes", 12.0)
                .measurement("duration", -1.0)
                .measurement("monotonic_time", -1.0);
            "done"
        });
    assert_eq!(result, "done");

    let events = capture.drain();
    assert_eq!(events.len(), 2);
    let stop = &events[1];
    assert_eq!(segments(stop), ["tm05", "builder_measurements", "stop"]);
    assert_eq!(stop.measurement("rows"), Some(3.0));
    assert_eq!(stop.measurement("bytes"), Some(12.0));
    assert!(stop.measurement("duration").unwrap() >= 0.0);
    assert!(stop.measurement("monotonic_time").unwrap() >= 0.0);
    // duration, monotonic_time, rows, bytes: the overrides were ignored, the repeat replaced.
    assert_eq!(stop.measurements.len(), 4);
    assert_eq!(stop.meta("job"), Some(&OwnedValue::Str("resize".into())));
    assert_eq!(
        stop.meta(SPAN_CONTEXT_KEY),
        events[0].meta(SPAN_CONTEXT_KEY)
    );
}

/// TM-05: stop metadata replaces the start metadata on the stop event (as Erlang's
/// `{Result, StopMetadata}`); the span context is still there.
#[test]
fn tm05_builder_stop_metadata_replaces_start_metadata() {
    let capture = capture("builder_metadata");
    Span::new(&["tm05", "builder_metadata"])
        .metadata(&[("job", Value::Str("resize")), ("size", Value::UInt(9))])
        .run(|stop| {
            stop.metadata("outcome", "ok")
                .metadata("rows", 2_u64)
                .metadata("rows", 3_u64)
                .metadata(String::from("owned_key"), Value::Int(-1));
        });
    let events = capture.drain();
    let (start, stop) = (&events[0], &events[1]);
    assert_eq!(start.meta("job"), Some(&OwnedValue::Str("resize".into())));
    assert_eq!(stop.meta("job"), None);
    assert_eq!(stop.meta("size"), None);
    assert_eq!(stop.meta("outcome"), Some(&OwnedValue::Str("ok".into())));
    assert_eq!(stop.meta("rows"), Some(&OwnedValue::UInt(3)));
    assert_eq!(stop.meta("owned_key"), Some(&OwnedValue::Int(-1)));
    assert_eq!(stop.metadata.len(), 4);
    assert_eq!(stop.meta(SPAN_CONTEXT_KEY), start.meta(SPAN_CONTEXT_KEY));
}

/// TM-05: a caller-given span context is used on all three events instead of a fresh one.
#[test]
fn tm05_builder_uses_the_given_context() {
    let capture = capture("given_context");
    Span::new(&["tm05", "given_context"])
        .context(424_242)
        .run(|_| ());
    let _ = catch_unwind(AssertUnwindSafe(|| {
        Span::new(&["tm05", "given_context"])
            .context(424_243)
            .run(|_| panic!("with a context"))
    }));
    let contexts: Vec<_> = capture
        .drain()
        .iter()
        .map(|event| {
            (
                segments(event)[2].clone(),
                event.meta(SPAN_CONTEXT_KEY).cloned(),
            )
        })
        .collect();
    assert_eq!(
        contexts,
        [
            ("start".to_owned(), Some(OwnedValue::UInt(424_242))),
            ("stop".to_owned(), Some(OwnedValue::UInt(424_242))),
            ("start".to_owned(), Some(OwnedValue::UInt(424_243))),
            ("exception".to_owned(), Some(OwnedValue::UInt(424_243))),
        ]
    );
}

/// TM-05: on a panic the builder emits the exception event with the start metadata plus kind and
/// reason, without the stop measurements or stop metadata, and resumes the panic.
#[test]
fn tm05_builder_panic_emits_exception_with_start_metadata() {
    let capture = capture("builder_panic");
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        Span::new(&["tm05", "builder_panic"])
            .metadata(&[("job", Value::UInt(4))])
            .run(|stop| -> () {
                stop.measurement("rows", 1.0).metadata("outcome", "ok");
                panic!("builder body failed")
            })
    }));
    assert!(outcome.is_err());
    let events = capture.drain();
    assert_eq!(events.len(), 2);
    let exception = &events[1];
    assert_eq!(segments(exception), ["tm05", "builder_panic", "exception"]);
    assert_eq!(exception.meta("job"), Some(&OwnedValue::UInt(4)));
    assert_eq!(exception.meta("outcome"), None);
    assert_eq!(exception.measurement("rows"), None);
    assert_eq!(
        exception.meta("kind"),
        Some(&OwnedValue::Str("panic".into()))
    );
    assert_eq!(
        exception.meta("reason"),
        Some(&OwnedValue::Str("builder body failed".into()))
    );
}

/// TM-05: with nobody listening, the SpanStop is inactive and records nothing.
#[test]
fn tm05_builder_unobserved_stop_records_nothing() {
    let value = Span::new(&["tm05", "builder_nobody"]).run(|stop| {
        assert!(!stop.is_active());
        stop.measurement("rows", 1.0).metadata("outcome", "ok");
        assert_eq!(stop.measurements().len(), 0);
        assert!(stop.stop_metadata().is_none());
        7
    });
    assert_eq!(value, 7);
}

/// TM-05: the async builder fills the stop event across awaits, and keeps a given context.
#[tokio::test]
async fn tm05_builder_async_adds_stop_measurements_and_metadata() {
    let capture = capture("builder_async");
    let value = Span::new(&["tm05", "builder_async"])
        .metadata(&[("job", Value::Str("fetch"))])
        .context(99)
        .run_async(async |stop| {
            stop.measurement("attempts", 1.0);
            tokio::task::yield_now().await;
            stop.measurement("attempts", 2.0)
                .metadata("status", 200_u64);
            "body"
        })
        .await;
    assert_eq!(value, "body");
    let events = capture.drain();
    assert_eq!(events.len(), 2);
    let stop = &events[1];
    assert_eq!(segments(stop), ["tm05", "builder_async", "stop"]);
    assert_eq!(stop.measurement("attempts"), Some(2.0));
    assert!(stop.measurement("duration").is_some());
    assert_eq!(stop.meta("status"), Some(&OwnedValue::UInt(200)));
    assert_eq!(stop.meta("job"), None);
    assert_eq!(stop.meta(SPAN_CONTEXT_KEY), Some(&OwnedValue::UInt(99)));
    assert_eq!(
        events[0].meta(SPAN_CONTEXT_KEY),
        Some(&OwnedValue::UInt(99))
    );
}

/// TM-05: the async builder emits the cancelled exception event when dropped mid-way, with the
/// start metadata and not the stop metadata added so far.
#[tokio::test]
async fn tm05_builder_async_dropped_emits_cancelled_exception() {
    let capture = capture("builder_dropped");
    {
        let mut future = Box::pin(
            Span::new(&["tm05", "builder_dropped"])
                .metadata(&[("job", Value::Str("sync"))])
                .run_async(async |stop| {
                    stop.metadata("outcome", "never");
                    std::future::pending::<()>().await
                }),
        );
        assert!(future.as_mut().now_or_never().is_none());
    }
    let events = capture.drain();
    assert_eq!(events.len(), 2);
    let exception = &events[1];
    assert_eq!(
        segments(exception),
        ["tm05", "builder_dropped", "exception"]
    );
    assert_eq!(exception.meta("job"), Some(&OwnedValue::Str("sync".into())));
    assert_eq!(exception.meta("outcome"), None);
    assert_eq!(
        exception.meta("kind"),
        Some(&OwnedValue::Str("cancelled".into()))
    );
    assert_eq!(
        exception.meta("reason"),
        Some(&OwnedValue::Str(CANCELLED_REASON.into()))
    );
}

/// TM-05: a spawned task that is aborted while in a span emits the cancelled exception event.
#[tokio::test]
async fn tm05_aborted_task_in_span_emits_cancelled_exception() {
    let capture = capture("aborted");
    let task = tokio::spawn(async {
        span_async(&["tm05", "aborted"], &[], std::future::pending::<()>()).await
    });
    // Let the task start its span.
    while capture.try_recv().is_none() {
        tokio::task::yield_now().await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let exception = capture.try_recv().unwrap();
    assert_eq!(segments(&exception), ["tm05", "aborted", "exception"]);
    assert_eq!(
        exception.meta("kind"),
        Some(&OwnedValue::Str("cancelled".into()))
    );
}

/// TM-05: the async builder's future is Send when the closure's future is, so it can be spawned.
#[tokio::test]
async fn tm05_builder_async_future_is_send() {
    let handle = tokio::spawn(async {
        Span::new(&["tm05", "builder_send"])
            .metadata(&[("n", Value::UInt(1))])
            .run_async(async |stop| {
                tokio::task::yield_now().await;
                stop.measurement("n", 1.0);
                1
            })
            .await
    });
    assert_eq!(handle.await.unwrap(), 1);
}

/// TM-05: a panic in the async builder's future emits the exception event and resumes.
#[tokio::test]
async fn tm05_builder_async_panic_emits_exception_and_resumes() {
    let capture = capture("builder_async_panic");
    let outcome = AssertUnwindSafe(Span::new(&["tm05", "builder_async_panic"]).run_async(
        async |stop| -> () {
            stop.measurement("rows", 1.0);
            tokio::task::yield_now().await;
            panic!("async builder failed")
        },
    ))
    .catch_unwind()
    .await;
    assert!(outcome.is_err());
    let events = capture.drain();
    let names: Vec<_> = events.iter().map(segments).collect();
    assert_eq!(
        names,
        [
            ["tm05", "builder_async_panic", "start"],
            ["tm05", "builder_async_panic", "exception"]
        ]
    );
    assert_eq!(events[1].measurement("rows"), None);
    assert_eq!(
        events[1].meta("reason"),
        Some(&OwnedValue::Str("async builder failed".into()))
    );
}
