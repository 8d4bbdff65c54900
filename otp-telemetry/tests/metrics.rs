//! Metric definitions and reporters (TMM-01 to TMM-03; the Prometheus reporter, TMM-04, in
//! `metrics_prometheus.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind as RecorderKind};
use otp_telemetry::metrics::{self, Metric, MetricError, MetricKind, Unit};
use otp_telemetry::{Value, execute};

/// A unique event prefix per test: tests run in parallel on the one global handler table.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A private recorder, so parallel tests (and the global recorder) do not interfere.
fn recorder() -> (Arc<DebuggingRecorder>, Snapshotter) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    (Arc::new(recorder), snapshotter)
}

type Recorded = (RecorderKind, String, Vec<(String, String)>, DebugValue);

/// Values by (kind, name, sorted labels). Taking a snapshot drains the recorder: one per check.
fn values(snapshotter: &Snapshotter) -> Vec<Recorded> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value): (CompositeKey, _, _, DebugValue)| {
            let (kind, key) = key.into_parts();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            (kind, key.name().to_owned(), labels, value)
        })
        .collect()
}

/// The value of `name` with `labels` in a snapshot.
fn find<'a>(
    snapshot: &'a [Recorded],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a DebugValue> {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.sort();
    snapshot
        .iter()
        .find(|(_, n, l, _)| n == name && *l == labels)
        .map(|(_, _, _, v)| v)
}

/// TMM-02: the event name is all but the last segment, the measurement the last.
#[test]
fn name_splits_into_event_and_measurement() {
    let metric = Metric::counter("otp.supervisor.child.restart.count")
        .build()
        .unwrap();
    assert_eq!(metric.kind(), MetricKind::Counter);
    assert_eq!(
        metric.event_name().to_string(),
        "otp.supervisor.child.restart"
    );
    assert_eq!(metric.measurement_key(), Some("count"));

    let explicit = Metric::sum("my.total")
        .event_name(&["a", "b"])
        .measurement("bytes")
        .build()
        .unwrap();
    assert_eq!(explicit.event_name().to_string(), "a.b");
    assert_eq!(explicit.measurement_key(), Some("bytes"));
}

/// TMM-01, TMM-03: counters count events carrying the measurement, labelled by the tags.
#[test]
fn counter_counts_events_with_labels() {
    let p = unique("tmm_counter");
    let (rec, snap) = recorder();
    let name = format!("{p}.restart.count");
    let counter = Metric::counter(&name).tags(["child_id"]).build().unwrap();
    let _reporter = metrics::attach_to_recorder(&p, &[counter], rec).unwrap();

    let event = [p.as_str(), "restart"];
    for child in ["a", "a", "b"] {
        execute(
            &event,
            &[("count", 1.0)],
            &[("child_id", Value::Str(child))],
        );
    }
    // No measurement: not counted (TMM-01).
    execute(&event, &[("other", 1.0)], &[("child_id", Value::Str("a"))]);
    // A tag missing from the metadata: not recorded.
    execute(&event, &[("count", 1.0)], &[]);

    let snap = values(&snap);
    assert_eq!(
        find(&snap, &name, &[("child_id", "a")]),
        Some(&DebugValue::Counter(2))
    );
    assert_eq!(
        find(&snap, &name, &[("child_id", "b")]),
        Some(&DebugValue::Counter(1))
    );
    assert_eq!(snap.len(), 2);
}

/// TMM-01: sums and last values (gauges), with integer and pid tags formatted.
#[test]
fn sum_and_last_value() {
    let p = unique("tmm_gauges");
    let (rec, snap) = recorder();
    let sum = Metric::sum(&format!("{p}.io.bytes"))
        .tags(["node"])
        .build()
        .unwrap();
    let last = Metric::last_value(&format!("{p}.io.queue"))
        .build()
        .unwrap();
    let _reporter = metrics::attach_to_recorder(&p, &[sum, last], rec).unwrap();

    let event = [p.as_str(), "io"];
    execute(
        &event,
        &[("bytes", 10.0), ("queue", 4.0)],
        &[("node", Value::UInt(1))],
    );
    execute(
        &event,
        &[("bytes", 2.5), ("queue", 1.0)],
        &[("node", Value::UInt(1))],
    );

    let snap = values(&snap);
    let sum = find(&snap, &format!("{p}.io.bytes"), &[("node", "1")]);
    assert_eq!(sum, Some(&DebugValue::Gauge(12.5.into())));
    let last = find(&snap, &format!("{p}.io.queue"), &[]);
    assert_eq!(last, Some(&DebugValue::Gauge(1.0.into())));
}

/// TMM-01, TMM-02: distributions and summaries record every value; measurement closures and
/// `tag_values` closures.
#[test]
fn distribution_summary_and_closures() {
    let p = unique("tmm_hist");
    let (rec, snap) = recorder();
    let dist = Metric::distribution(&format!("{p}.call.duration"))
        .buckets([1.0, 10.0])
        .tag_values(|e| {
            vec![(
                "ok".to_owned(),
                e.measurement("error").is_none().to_string(),
            )]
        })
        .build()
        .unwrap();
    let summary = Metric::summary(&format!("{p}.call.double"))
        .event_name(&[&p, "call"])
        .measurement_fn(|e| e.measurement("duration").map(|d| d * 2.0))
        .build()
        .unwrap();
    let _reporter = metrics::attach_to_recorder(&p, &[dist, summary], rec).unwrap();

    let event = [p.as_str(), "call"];
    execute(&event, &[("duration", 3.0)], &[]);
    execute(&event, &[("duration", 5.0)], &[]);

    let snap = values(&snap);
    let dist = find(&snap, &format!("{p}.call.duration"), &[("ok", "true")]);
    assert_eq!(
        dist,
        Some(&DebugValue::Histogram(vec![3.0.into(), 5.0.into()]))
    );
    let summary = find(&snap, &format!("{p}.call.double"), &[]);
    assert_eq!(
        summary,
        Some(&DebugValue::Histogram(vec![6.0.into(), 10.0.into()]))
    );
}

/// TMM-03: keep and drop predicates.
#[test]
fn keep_and_drop() {
    let p = unique("tmm_filter");
    let (rec, snap) = recorder();
    let kept = Metric::counter(&format!("{p}.job.kept"))
        .measurement("n")
        .keep(|e| {
            e.meta("queue")
                .and_then(|v| v.as_str().map(|s| s == "fast"))
                == Some(true)
        })
        .build()
        .unwrap();
    let dropped = Metric::counter(&format!("{p}.job.dropped"))
        .measurement("n")
        .drop(|e| {
            e.meta("queue")
                .and_then(|v| v.as_str().map(|s| s == "fast"))
                == Some(true)
        })
        .build()
        .unwrap();
    let _reporter = metrics::attach_to_recorder(&p, &[kept, dropped], rec).unwrap();

    let event = [p.as_str(), "job"];
    for queue in ["fast", "slow", "fast"] {
        execute(&event, &[("n", 1.0)], &[("queue", Value::Str(queue))]);
    }
    let snap = values(&snap);
    assert_eq!(
        find(&snap, &format!("{p}.job.kept"), &[]),
        Some(&DebugValue::Counter(2))
    );
    assert_eq!(
        find(&snap, &format!("{p}.job.dropped"), &[]),
        Some(&DebugValue::Counter(1))
    );
}

/// TMM-03: native time (nanoseconds) converted to milliseconds; bytes to kilobytes.
#[test]
fn unit_conversion() {
    let p = unique("tmm_units");
    let (rec, snap) = recorder();
    let ms = Metric::last_value(&format!("{p}.span.stop.duration"))
        .convert_unit(Unit::Native, Unit::Millisecond)
        .description("duration of the span")
        .build()
        .unwrap();
    assert_eq!(ms.unit(), Some(Unit::Millisecond));
    let kb = Metric::last_value(&format!("{p}.span.stop.bytes"))
        .convert_unit(Unit::Byte, Unit::Kilobyte)
        .build()
        .unwrap();
    let _reporter = metrics::attach_to_recorder(&p, &[ms, kb], rec).unwrap();

    execute(
        &[&p, "span", "stop"],
        &[("duration", 2_500_000.0), ("bytes", 1500.0)],
        &[],
    );
    // The description and unit reach the recorder (units and descriptions are not drained).
    let described = snap
        .snapshot()
        .into_vec()
        .into_iter()
        .find(|(k, ..)| k.key().name() == format!("{p}.span.stop.duration"))
        .unwrap();
    assert_eq!(described.1, Some(::metrics::Unit::Milliseconds));
    assert_eq!(described.2.as_deref(), Some("duration of the span"));

    execute(
        &[&p, "span", "stop"],
        &[("duration", 2_500_000.0), ("bytes", 1500.0)],
        &[],
    );
    let snap = values(&snap);
    let ms = find(&snap, &format!("{p}.span.stop.duration"), &[]);
    assert_eq!(ms, Some(&DebugValue::Gauge(2.5.into())));
    let kb = find(&snap, &format!("{p}.span.stop.bytes"), &[]);
    assert_eq!(kb, Some(&DebugValue::Gauge(1.5.into())));
}

/// TMM-02, TMM-03: invalid definitions are typed errors, not panics.
#[test]
fn invalid_definitions() {
    let both = Metric::counter("a.b.c")
        .keep(|_| true)
        .drop(|_| false)
        .build();
    assert_eq!(both.unwrap_err(), MetricError::KeepAndDrop("a.b.c".into()));
    assert!(matches!(
        Metric::sum("").build(),
        Err(MetricError::EmptyName(_))
    ));
    assert!(matches!(
        Metric::sum("a..b").build(),
        Err(MetricError::EmptyName(_))
    ));
    assert!(matches!(
        Metric::sum("single").build(),
        Err(MetricError::NoEventName(_))
    ));
    assert!(Metric::sum("single").event_name(&["e"]).build().is_ok());
    assert!(matches!(
        Metric::sum("a.b").event_name(&[]).build(),
        Err(MetricError::EmptyEventName(_))
    ));
    assert!(matches!(
        Metric::sum("a.b")
            .convert_unit(Unit::Native, Unit::Byte)
            .build(),
        Err(MetricError::IncompatibleUnits { .. })
    ));
    assert!(matches!(
        Metric::distribution("a.b").buckets([2.0, 1.0]).build(),
        Err(MetricError::InvalidBuckets(_))
    ));
}

/// A reporter id in use is a typed error and leaves nothing attached; dropping detaches.
#[test]
fn reporter_attach_errors_and_detach() {
    let p = unique("tmm_ids");
    let (rec, snap) = recorder();
    let m = Metric::counter(&format!("{p}.x.count")).build().unwrap();
    let first = metrics::attach_to_recorder(&p, std::slice::from_ref(&m), rec.clone()).unwrap();
    let second = metrics::attach_to_recorder(&p, std::slice::from_ref(&m), rec.clone());
    assert!(matches!(second, Err(MetricError::Attach(_))));
    execute(&[&p, "x"], &[("count", 1.0)], &[]);
    first.detach();
    execute(&[&p, "x"], &[("count", 1.0)], &[]);
    let snap = values(&snap);
    assert_eq!(
        find(&snap, &format!("{p}.x.count"), &[]),
        Some(&DebugValue::Counter(1))
    );
    assert!(otp_telemetry::list_handlers(&[&p]).is_empty());
}

/// `metrics::attach` records into the `metrics` crate's current (here thread-local) recorder,
/// and the console reporter logs without failing.
#[test]
fn current_recorder_and_console() {
    let p = unique("tmm_current");
    let recorder = DebuggingRecorder::new();
    let snap = recorder.snapshotter();
    let m = Metric::counter(&format!("{p}.y.count")).build().unwrap();
    let _reporter = metrics::attach(&p, std::slice::from_ref(&m)).unwrap();
    let _console = metrics::console::attach(&format!("{p}-console"), &[m]).unwrap();
    ::metrics::with_local_recorder(&recorder, || {
        execute(&[&p, "y"], &[("count", 1.0)], &[]);
    });
    let snap = values(&snap);
    assert_eq!(
        find(&snap, &format!("{p}.y.count"), &[]),
        Some(&DebugValue::Counter(1))
    );
}
