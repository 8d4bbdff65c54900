//! The tracing bridge: chosen events logged through `tracing`, at the chosen level.

mod common;

use otp_telemetry::{AttachError, PidValue, Value, detach, execute, list_handlers, tracing_bridge};
use tracing::Level;

use common::{lines_with, logs};

/// The event is logged with its dotted name as the message, the bridge's target, and the
/// measurements and metadata rendered as `key=value` pairs.
#[test]
fn bridge_logs_name_measurements_and_metadata() {
    logs();
    tracing_bridge::attach(
        "bridge-format",
        &[&["bridge_format", "child", "restart"]],
        Level::INFO,
    )
    .unwrap();
    let pid = PidValue {
        node: 0,
        serial: 12,
        creation: 0,
    };
    execute(
        &["bridge_format", "child", "restart"],
        &[("duration", 1200.0), ("count", 1.0)],
        &[("child_id", Value::Str("worker")), ("pid", Value::Pid(pid))],
    );
    detach("bridge-format").unwrap();

    let lines = lines_with("bridge_format.child.restart");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.contains(" INFO "), "{line}");
    assert!(line.contains("otp_telemetry::bridge"), "{line}");
    assert!(
        line.contains("measurements=duration=1200 count=1"),
        "{line}"
    );
    assert!(
        line.contains("metadata=child_id=worker pid=<0.12.0>"),
        "{line}"
    );
}

/// Each level is used as given, and only the attached events are logged.
#[test]
fn bridge_logs_at_the_given_level() {
    logs();
    let levels = [
        (Level::TRACE, "TRACE"),
        (Level::DEBUG, "DEBUG"),
        (Level::INFO, "INFO"),
        (Level::WARN, "WARN"),
        (Level::ERROR, "ERROR"),
    ];
    for (level, label) in levels {
        let id = format!("bridge-level-{label}");
        tracing_bridge::attach(&id, &[&["bridge_level", label]], level).unwrap();
        execute(&["bridge_level", label], &[("n", 1.0)], &[]);
        detach(&id).unwrap();
        let lines = lines_with(&format!("bridge_level.{label}"));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains(&format!("{label} ")), "{}", lines[0]);
    }
    execute(&["bridge_level", "unattached"], &[], &[]);
    assert!(lines_with("bridge_level.unattached").is_empty());
}

/// One handler serves several events; empty measurements and metadata render as empty fields.
#[test]
fn bridge_attaches_to_several_events() {
    logs();
    tracing_bridge::attach(
        "bridge-many",
        &[&["bridge_many", "a"], &["bridge_many", "b"]],
        Level::WARN,
    )
    .unwrap();
    assert_eq!(list_handlers(&["bridge_many"]).len(), 2);
    execute(&["bridge_many", "a"], &[], &[]);
    execute(&["bridge_many", "b"], &[("x", 0.5)], &[]);
    detach("bridge-many").unwrap();
    assert_eq!(lines_with("bridge_many.a").len(), 1);
    let b = lines_with("bridge_many.b");
    assert_eq!(b.len(), 1);
    assert!(b[0].contains("measurements=x=0.5"), "{}", b[0]);
}

/// Bad arguments are typed errors, as for `attach_many`.
#[test]
fn bridge_attach_errors_are_typed() {
    assert_eq!(
        tracing_bridge::attach("bridge-none", &[], Level::INFO),
        Err(AttachError::NoEvents)
    );
    assert_eq!(
        tracing_bridge::attach("bridge-empty", &[&[]], Level::INFO),
        Err(AttachError::EmptyEventName)
    );
    tracing_bridge::attach("bridge-twice", &[&["bridge_twice", "e"]], Level::INFO).unwrap();
    assert!(matches!(
        tracing_bridge::attach("bridge-twice", &[&["bridge_twice", "e"]], Level::INFO),
        Err(AttachError::AlreadyExists(_))
    ));
    detach("bridge-twice").unwrap();
}
