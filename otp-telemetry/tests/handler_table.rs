//! The handler table: attach, attach_many, detach, list_handlers (TM-01, TM-02, TM-06).
//!
//! Every test uses its own event names and handler ids: the table is global to the process.

use otp_telemetry::{
    AttachError, DetachError, HandlerId, attach, attach_many, detach, list_handlers,
};

fn ids_and_events(prefix: &[&str]) -> Vec<(String, String)> {
    list_handlers(prefix)
        .into_iter()
        .map(|info| (info.id.to_string(), info.event.to_string()))
        .collect()
}

/// TM-01: attach succeeds once; the same id again is `AlreadyExists`, even for another event.
#[test]
fn tm01_duplicate_handler_id_is_already_exists() {
    attach("tm01-dup", &["tm01", "dup", "a"], |_| {}).unwrap();
    assert_eq!(
        attach("tm01-dup", &["tm01", "dup", "b"], |_| {}),
        Err(AttachError::AlreadyExists(HandlerId::from("tm01-dup")))
    );
    assert_eq!(
        attach_many("tm01-dup", &[&["tm01", "dup", "c"]], |_| {}),
        Err(AttachError::AlreadyExists(HandlerId::from("tm01-dup")))
    );
    assert_eq!(
        ids_and_events(&["tm01", "dup"]),
        [("tm01-dup".into(), "tm01.dup.a".into())]
    );
    detach("tm01-dup").unwrap();
}

/// TM-01: event names must be non-empty, and attach_many needs at least one.
#[test]
fn tm01_empty_event_names_are_refused() {
    assert_eq!(
        attach("tm01-empty", &[], |_| {}),
        Err(AttachError::EmptyEventName)
    );
    assert_eq!(
        attach_many("tm01-empty", &[&["tm01", "ok"], &[]], |_| {}),
        Err(AttachError::EmptyEventName)
    );
    assert_eq!(
        attach_many("tm01-empty", &[], |_| {}),
        Err(AttachError::NoEvents)
    );
    // Nothing was attached by the refused calls.
    assert_eq!(
        detach("tm01-empty"),
        Err(DetachError::NotFound("tm01-empty".into()))
    );
}

/// TM-01: attach is attach_many with one event; duplicate names in attach_many count once.
#[test]
fn tm01_attach_many_deduplicates_event_names() {
    attach_many(
        "tm01-many",
        &[
            &["tm01", "many", "x"],
            &["tm01", "many", "y"],
            &["tm01", "many", "x"],
        ],
        |_| {},
    )
    .unwrap();
    assert_eq!(
        ids_and_events(&["tm01", "many"]),
        [
            ("tm01-many".into(), "tm01.many.x".into()),
            ("tm01-many".into(), "tm01.many.y".into()),
        ]
    );
    detach("tm01-many").unwrap();
}

/// TM-02: detach returns NotFound for an unknown id, and for an id detached already.
#[test]
fn tm02_detach_unknown_id_is_not_found() {
    assert_eq!(
        detach("tm02-nobody"),
        Err(DetachError::NotFound("tm02-nobody".into()))
    );
    attach("tm02-once", &["tm02", "once"], |_| {}).unwrap();
    assert_eq!(detach("tm02-once"), Ok(()));
    assert_eq!(
        detach("tm02-once"),
        Err(DetachError::NotFound("tm02-once".into()))
    );
}

/// TM-02: detaching an attach_many handler removes it from all its events; the id is free again.
#[test]
fn tm02_detach_removes_attach_many_handler_from_all_events() {
    attach_many(
        "tm02-many",
        &[&["tm02", "many", "a"], &["tm02", "many", "b"]],
        |_| {},
    )
    .unwrap();
    assert_eq!(list_handlers(&["tm02", "many"]).len(), 2);
    detach("tm02-many").unwrap();
    assert!(list_handlers(&["tm02", "many"]).is_empty());
    attach("tm02-many", &["tm02", "many", "a"], |_| {}).unwrap();
    detach("tm02-many").unwrap();
}

/// TM-06: list_handlers by prefix; attach_many handlers once per event; empty prefix lists all.
#[test]
fn tm06_list_handlers_by_prefix() {
    attach_many(
        "tm06-many",
        &[
            &["tm06", "a", "start"],
            &["tm06", "a", "stop"],
            &["tm06", "b"],
        ],
        |_| {},
    )
    .unwrap();
    attach("tm06-one", &["tm06", "a", "start"], |_| {}).unwrap();

    assert_eq!(
        ids_and_events(&["tm06", "a"]),
        [
            ("tm06-many".into(), "tm06.a.start".into()),
            ("tm06-many".into(), "tm06.a.stop".into()),
            ("tm06-one".into(), "tm06.a.start".into()),
        ]
    );
    assert_eq!(
        ids_and_events(&["tm06", "b"]),
        [("tm06-many".into(), "tm06.b".into())]
    );
    assert_eq!(ids_and_events(&["tm06"]).len(), 4);
    // A prefix is whole segments: "tm0" is not a prefix of "tm06".
    assert!(list_handlers(&["tm0"]).is_empty());
    // Longer than any attached name: nothing.
    assert!(list_handlers(&["tm06", "b", "deeper"]).is_empty());

    let all = list_handlers(&[]);
    assert!(all.iter().any(|info| info.id == "tm06-one"));
    assert_eq!(all.iter().filter(|info| info.id == "tm06-many").count(), 3);
    assert!(all.iter().any(|info| info.event == ["tm06", "b"]));

    detach("tm06-many").unwrap();
    detach("tm06-one").unwrap();
    assert!(list_handlers(&["tm06"]).is_empty());
}
