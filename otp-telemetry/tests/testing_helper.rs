//! The test helper that forwards chosen events to the test (TM-08).

use std::time::Duration;

use otp_telemetry::{OwnedValue, PidValue, Value, execute, list_handlers, testing};

/// TM-08: chosen events arrive with name, measurements and metadata; other events do not.
#[test]
fn tm08_forwards_chosen_events() {
    let capture =
        testing::attach_event_handlers(&[&["tm08", "chosen", "a"], &["tm08", "chosen", "b"]])
            .unwrap();
    let pid = PidValue {
        node: 0,
        serial: 5,
        creation: 2,
    };
    execute(
        &["tm08", "chosen", "a"],
        &[("count", 1.0)],
        &[("pid", Value::Pid(pid))],
    );
    execute(&["tm08", "ignored"], &[("count", 9.0)], &[]);
    execute(&["tm08", "chosen", "b"], &[], &[("text", Value::Str("hi"))]);

    let events = capture.drain();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].name, ["tm08", "chosen", "a"]);
    assert_eq!(events[0].measurements, [("count".to_owned(), 1.0)]);
    assert_eq!(events[0].meta("pid"), Some(&OwnedValue::Pid(pid)));
    assert_eq!(events[1].name, ["tm08", "chosen", "b"]);
    assert_eq!(events[1].meta("text"), Some(&OwnedValue::Str("hi".into())));
    assert!(capture.try_recv().is_none());
}

/// TM-08: the capture's id is the handler id; dropping the capture detaches it.
#[test]
fn tm08_capture_id_and_detach_on_drop() {
    let capture = testing::attach_event_handlers(&[&["tm08", "drop"]]).unwrap();
    let listed = list_handlers(&["tm08", "drop"]);
    assert_eq!(listed.len(), 1);
    assert_eq!(&listed[0].id, capture.id());

    let other = testing::attach_event_handlers(&[&["tm08", "drop"]]).unwrap();
    assert_ne!(capture.id(), other.id());
    drop(capture);
    drop(other);
    assert!(list_handlers(&["tm08", "drop"]).is_empty());
}

/// TM-08: events emitted by another thread can be awaited with a timeout.
#[test]
fn tm08_events_from_other_threads() {
    let capture = testing::attach_event_handlers(&[&["tm08", "thread"]]).unwrap();
    std::thread::spawn(|| execute(&["tm08", "thread"], &[("n", 3.0)], &[]))
        .join()
        .unwrap();
    let event = capture.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(event.measurement("n"), Some(3.0));
}

/// TM-08: bad event names are refused as by attach_many.
#[test]
fn tm08_bad_event_names_are_refused() {
    assert!(testing::attach_event_handlers(&[]).is_err());
    assert!(testing::attach_event_handlers(&[&[]]).is_err());
}
