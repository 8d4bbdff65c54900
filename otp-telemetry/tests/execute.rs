//! Emitting events: exact name match, synchronous in the emitter, measurements and metadata (TM-03).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use otp_telemetry::{PidValue, Value, attach, detach, execute, has_handlers};

/// TM-03: only the exact name matches: neither a prefix nor a longer name.
#[test]
fn tm03_exact_name_match_only() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    attach("tm03-exact", &["tm03", "exact", "event"], move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();

    execute(&["tm03", "exact"], &[], &[]);
    execute(&["tm03", "exact", "event", "longer"], &[], &[]);
    execute(&["tm03", "exact", "other"], &[], &[]);
    execute(&["tm03", "exactevent"], &[], &[]);
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    execute(&["tm03", "exact", "event"], &[], &[]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(has_handlers(&["tm03", "exact", "event"]));
    assert!(!has_handlers(&["tm03", "exact"]));

    detach("tm03-exact").unwrap();
    execute(&["tm03", "exact", "event"], &[], &[]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// TM-03: handlers run synchronously, in the emitting thread, before execute returns.
#[test]
fn tm03_handlers_run_synchronously_in_the_emitter() {
    let threads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&threads);
    attach("tm03-sync", &["tm03", "sync"], move |_| {
        seen.lock().unwrap().push(std::thread::current().id());
    })
    .unwrap();

    let emitter = std::thread::spawn(|| {
        execute(&["tm03", "sync"], &[], &[]);
        std::thread::current().id()
    })
    .join()
    .unwrap();
    execute(&["tm03", "sync"], &[], &[]);

    assert_eq!(
        *threads.lock().unwrap(),
        [emitter, std::thread::current().id()]
    );
    detach("tm03-sync").unwrap();
}

/// TM-03: every handler on the event runs, and sees the measurements and metadata as emitted.
#[test]
fn tm03_all_handlers_get_measurements_and_metadata() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    for id in ["tm03-data-1", "tm03-data-2"] {
        let seen = Arc::clone(&seen);
        attach(id, &["tm03", "data"], move |event| {
            assert_eq!(event.name(), ["tm03", "data"]);
            seen.lock().unwrap().push((
                id,
                event.measurement("duration"),
                event.measurement("missing"),
                event.meta("pid").and_then(|v| v.as_pid()),
                event
                    .meta("route")
                    .and_then(|v| v.as_str().map(str::to_owned)),
                event.meta("count").and_then(|v| v.as_i64()),
                event.meta("ok").map(|v| v.to_string()),
            ));
        })
        .unwrap();
    }
    let pid = PidValue {
        node: 0,
        serial: 17,
        creation: 1,
    };
    execute(
        &["tm03", "data"],
        &[("duration", 1.5)],
        &[
            ("pid", Value::Pid(pid)),
            ("route", Value::from("/users")),
            ("count", Value::from(3_u32)),
            ("ok", Value::Bool(true)),
        ],
    );
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by_key(|entry| entry.0);
    let expected = |id| {
        (
            id,
            Some(1.5),
            None,
            Some(pid),
            Some("/users".to_owned()),
            Some(3),
            Some("true".to_owned()),
        )
    };
    assert_eq!(seen, [expected("tm03-data-1"), expected("tm03-data-2")]);
    assert_eq!(pid.to_string(), "<0.17.1>");
    detach("tm03-data-1").unwrap();
    detach("tm03-data-2").unwrap();
}

struct CountingDisplay(AtomicUsize);

impl fmt::Display for CountingDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str("formatted")
    }
}

/// TM-03 (cost): a `Value::Display` is formatted only when a handler reads it, never on emit.
#[test]
fn tm03_display_values_are_formatted_only_by_handlers() {
    let reason = CountingDisplay(AtomicUsize::new(0));
    execute(
        &["tm03", "lazy"],
        &[],
        &[("reason", Value::Display(&reason))],
    );
    assert_eq!(reason.0.load(Ordering::SeqCst), 0);

    attach("tm03-lazy", &["tm03", "lazy"], |event| {
        let owned = event.to_owned_event();
        assert_eq!(
            owned.meta("reason").map(|v| v.to_string()),
            Some("formatted".to_owned())
        );
    })
    .unwrap();
    execute(
        &["tm03", "lazy"],
        &[],
        &[("reason", Value::Display(&reason))],
    );
    assert_eq!(reason.0.load(Ordering::SeqCst), 1);
    detach("tm03-lazy").unwrap();
}

/// TM-03: a handler may attach, detach and execute from inside a handler without deadlock, and
/// an event it emits after attaching reaches the handler it just attached.
#[test]
fn tm03_handlers_may_use_the_bus() {
    let inner_calls = Arc::new(AtomicUsize::new(0));
    let late_calls = Arc::new(AtomicUsize::new(0));
    let inner_seen = Arc::clone(&inner_calls);
    attach(
        "tm03-nested-inner",
        &["tm03", "nested", "inner"],
        move |_| {
            inner_seen.fetch_add(1, Ordering::SeqCst);
        },
    )
    .unwrap();
    let late = Arc::clone(&late_calls);
    attach(
        "tm03-nested-outer",
        &["tm03", "nested", "outer"],
        move |_| {
            execute(&["tm03", "nested", "inner"], &[], &[]);
            let late_seen = Arc::clone(&late);
            attach("tm03-nested-late", &["tm03", "nested", "late"], move |_| {
                late_seen.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
            execute(&["tm03", "nested", "late"], &[], &[]);
            detach("tm03-nested-late").unwrap();
            execute(&["tm03", "nested", "late"], &[], &[]);
        },
    )
    .unwrap();
    execute(&["tm03", "nested", "outer"], &[], &[]);
    assert_eq!(inner_calls.load(Ordering::SeqCst), 1);
    assert_eq!(late_calls.load(Ordering::SeqCst), 1);
    detach("tm03-nested-outer").unwrap();
    detach("tm03-nested-inner").unwrap();
}

/// TM-03: while other handlers come and go, a handler attached throughout sees every event of
/// every emitting thread exactly once.
#[test]
fn tm03_concurrent_attach_detach_loses_no_event() {
    const THREADS: usize = 2;
    const EVENTS: usize = 5_000;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    attach("tm03-steady", &["tm03", "steady"], move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    let emitters: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(|| {
                for i in 0..EVENTS {
                    execute(&["tm03", "steady"], &[("i", i as f64)], &[]);
                }
            })
        })
        .collect();
    for round in 0..200 {
        let id = format!("tm03-churn-{round}");
        attach(id.as_str(), &["tm03", "steady"], |_| {}).unwrap();
        attach(format!("{id}-other"), &["tm03", "churn", "other"], |_| {}).unwrap();
        detach(id.as_str()).unwrap();
        detach(format!("{id}-other")).unwrap();
    }
    for emitter in emitters {
        emitter.join().unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), THREADS * EVENTS);
    detach("tm03-steady").unwrap();
}
