//! The runtime's own telemetry events (`otp_core::telemetry`): process spawn and exit, and the
//! supervisor events that follow OTP's supervisor reports (SUP-04, SUP-05, SUP-06, SUP-07,
//! SUP-10, SUP-19).
//!
//! Handlers are global and the tests of this file run in parallel, so each test keeps only the
//! events of the processes and supervisors it started.

mod common;

use otp_core::name::register;
use otp_core::process::{ExitReason, Info, Pid, spawn, wait_exit};
use otp_core::supervisor::{
    DynamicOptions, DynamicSupervisor, Strategy, SupFlags, Supervisor, SupervisorError,
};
use otp_core::telemetry::{
    CHILD_RESTART, CHILD_START, CHILD_START_ERROR, CHILD_TERMINATE, PROCESS_EXIT, PROCESS_SPAWN,
    SUPERVISOR_GIVE_UP,
};
use otp_telemetry::testing::{EventCapture, attach_event_handlers};
use otp_telemetry::{OwnedEvent, OwnedValue, PidValue};

use common::supervision::*;

fn pid(p: Pid) -> OwnedValue {
    OwnedValue::Pid(PidValue::from(p))
}

fn text(event: &OwnedEvent, key: &str) -> String {
    event
        .meta(key)
        .unwrap_or_else(|| panic!("no {key} in {event:?}"))
        .to_string()
}

/// The events captured so far whose metadata `key` is `value`.
fn about(capture: &EventCapture, key: &str, value: &OwnedValue) -> Vec<OwnedEvent> {
    capture
        .drain()
        .into_iter()
        .filter(|e| e.meta(key) == Some(value))
        .collect()
}

/// Short descriptions `(event's last segment, child_id)` of supervisor events.
fn steps(events: &[OwnedEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            let last = e.name.segments().last().unwrap_or_default();
            let child = e
                .meta("child_id")
                .map(ToString::to_string)
                .unwrap_or_default();
            (last.to_string(), child)
        })
        .collect()
}

fn supervisor_events() -> EventCapture {
    attach_event_handlers(&[
        CHILD_START,
        CHILD_RESTART,
        CHILD_TERMINATE,
        CHILD_START_ERROR,
        SUPERVISOR_GIVE_UP,
    ])
    .unwrap()
}

#[tokio::test]
async fn spawn_and_exit_events_carry_pid_kind_parent_and_reason() {
    let capture = attach_event_handlers(&[PROCESS_SPAWN, PROCESS_EXIT]).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let parent = spawn(move |_me| async move {
        let child = spawn(|mut me| async move {
            me.recv().await;
            ExitReason::error("boom")
        });
        let _ = tx.send(child);
    });
    let child = rx.await.unwrap();
    let ended = wait_exit(child);
    otp_core::name::send(child, ()).unwrap();
    assert_eq!(ended.await, ExitReason::error("boom"));
    wait_exit(parent).await;

    let child_events = about(&capture, "pid", &pid(child));
    assert_eq!(child_events.len(), 2, "{child_events:?}");
    let (spawned, exited) = (&child_events[0], &child_events[1]);
    assert_eq!(spawned.name, PROCESS_SPAWN);
    assert_eq!(spawned.measurement("count"), Some(1.0));
    assert_eq!(spawned.meta("parent"), Some(&pid(parent)));
    assert_eq!(text(spawned, "kind"), "process");
    assert_eq!(exited.name, PROCESS_EXIT);
    assert_eq!(text(exited, "reason_kind"), "error");
    assert_eq!(text(exited, "reason"), "error: boom");
    assert_eq!(exited.meta("name"), None);
}

/// Whoever saw a process end may count on its exit event: it is emitted before links,
/// monitors and waiters are told. A registered process's event carries its name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_event_precedes_the_exit_being_seen_and_names_the_process() {
    let capture = attach_event_handlers(&[PROCESS_EXIT]).unwrap();
    let worker = spawn(|mut me| async move {
        me.recv().await;
        ExitReason::Shutdown
    });
    register("telemetry_events_named", worker).unwrap();
    let ended = wait_exit(worker);
    otp_core::name::send(worker, ()).unwrap();
    assert_eq!(ended.await, ExitReason::Shutdown);
    let events = about(&capture, "pid", &pid(worker));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(text(&events[0], "reason_kind"), "shutdown");
    assert_eq!(text(&events[0], "name"), "telemetry_events_named");
}

/// A plain process ended by a panic reports the kind `panic`.
#[tokio::test]
async fn panic_exit_reports_reason_kind_panic() {
    common::quiet_panics();
    let capture = attach_event_handlers(&[PROCESS_EXIT]).unwrap();
    let worker = spawn(|mut me| async move {
        if let Info::Message(_) = me.recv().await {
            panic!("telemetry test panic");
        }
    });
    let ended = wait_exit(worker);
    otp_core::name::send(worker, ()).unwrap();
    assert!(matches!(ended.await, ExitReason::Panic(_)));
    let events = about(&capture, "pid", &pid(worker));
    assert_eq!(text(&events[0], "reason_kind"), "panic");
}

/// SUP-06, SUP-10, SUP-04: three crashes of a permanent child are three `terminate` events
/// (by itself) each followed by a `restart` with the new pid; the initial starts are `start`
/// events; `terminate_child` is a `terminate` by the supervisor.
#[tokio::test(start_paused = true)]
async fn sup06_one_for_one_start_terminate_restart_events() {
    let capture = supervisor_events();
    let log = Log::new();
    let a = Worker::new("a", &log);
    let b = Worker::new("b", &log);
    let sup = Supervisor::start_link([a.spec(), b.spec()], SupFlags::one_for_one().intensity(5))
        .await
        .unwrap();
    let first_a = pid_of(&sup, "a").await;
    let mut crashed = Vec::new();
    for _ in 0..3 {
        let child = pid_of(&sup, "a").await;
        crashed.push(child);
        crash(&sup, child, ExitReason::error("crash")).await;
    }
    sup.terminate_child("b").await.unwrap();

    let events = about(&capture, "supervisor", &pid(sup.pid()));
    let expected: Vec<(String, String)> = [
        ("start", "a"),
        ("start", "b"),
        ("terminate", "a"),
        ("restart", "a"),
        ("terminate", "a"),
        ("restart", "a"),
        ("terminate", "a"),
        ("restart", "a"),
        ("terminate", "b"),
    ]
    .iter()
    .map(|(e, c)| ((*e).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(steps(&events), expected);
    assert_eq!(events[0].meta("child_pid"), Some(&pid(first_a)));
    for (round, old) in crashed.iter().enumerate() {
        let terminated = &events[2 + 2 * round];
        let restarted = &events[3 + 2 * round];
        assert_eq!(terminated.meta("child_pid"), Some(&pid(*old)));
        assert_eq!(text(terminated, "reason_kind"), "error");
        assert_eq!(text(terminated, "reason"), "error: crash");
        assert_eq!(
            terminated.meta("by_supervisor"),
            Some(&OwnedValue::Bool(false))
        );
        assert_ne!(restarted.meta("child_pid"), Some(&pid(*old)));
        assert_eq!(restarted.measurement("count"), Some(1.0));
    }
    let stopped = &events[8];
    assert_eq!(stopped.meta("by_supervisor"), Some(&OwnedValue::Bool(true)));
    assert_eq!(text(stopped, "reason_kind"), "shutdown");
    assert_eq!(a.starts(), 4);
}

/// SUP-07: with one_for_all, one crash restarts every child, each with its `restart` event,
/// after the others were stopped by the supervisor.
#[tokio::test(start_paused = true)]
async fn sup07_one_for_all_restarts_every_child_with_an_event() {
    let capture = supervisor_events();
    let log = Log::new();
    let specs = [Worker::new("x", &log).spec(), Worker::new("y", &log).spec()];
    let sup = Supervisor::start_link(specs, SupFlags::one_for_all())
        .await
        .unwrap();
    let x = pid_of(&sup, "x").await;
    crash(&sup, x, ExitReason::error("crash")).await;
    let events = about(&capture, "supervisor", &pid(sup.pid()));
    let got = steps(&events);
    let want: Vec<(String, String)> = [
        ("start", "x"),
        ("start", "y"),
        ("terminate", "x"),
        ("terminate", "y"),
        ("restart", "x"),
        ("restart", "y"),
    ]
    .iter()
    .map(|(e, c)| ((*e).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(
        events[2].meta("by_supervisor"),
        Some(&OwnedValue::Bool(false))
    );
    assert_eq!(
        events[3].meta("by_supervisor"),
        Some(&OwnedValue::Bool(true))
    );
}

/// SUP-05: the restart one too many emits `give_up` with the intensity and period, and the
/// supervisor's name when it has one.
#[tokio::test(start_paused = true)]
async fn sup05_give_up_event_when_intensity_is_exceeded() {
    let capture = supervisor_events();
    let log = Log::new();
    let flags = otp_flags(Strategy::OneForOne, 2, 10);
    let sup = Supervisor::start_link([Worker::new("w", &log).spec()], flags)
        .await
        .unwrap();
    register("telemetry_events_sup", sup.pid()).unwrap();
    for _ in 0..2 {
        let w = pid_of(&sup, "w").await;
        crash(&sup, w, ExitReason::error("crash")).await;
    }
    let ended = common::watch_exit(sup.pid());
    let w = pid_of(&sup, "w").await;
    kill_child(w, ExitReason::error("crash")).await;
    assert_eq!(ended.await, ExitReason::Shutdown);

    let events = about(&capture, "supervisor", &pid(sup.pid()));
    let give_up: Vec<_> = events
        .iter()
        .filter(|e| e.name == SUPERVISOR_GIVE_UP)
        .collect();
    assert_eq!(give_up.len(), 1, "{events:?}");
    let give_up = give_up[0];
    assert_eq!(give_up.measurement("intensity"), Some(2.0));
    assert_eq!(give_up.measurement("period"), Some(10_000.0));
    assert_eq!(text(give_up, "child_id"), "w");
    assert_eq!(text(give_up, "reason"), "reached_max_restart_intensity");
    assert_eq!(text(give_up, "supervisor_name"), "telemetry_events_sup");
    let restarts = events.iter().filter(|e| e.name == CHILD_RESTART).count();
    assert_eq!(restarts, 2);
}

/// SUP-19: a child that fails to start is a `start_error` event naming it.
#[tokio::test(start_paused = true)]
async fn sup19_start_error_event_names_the_child() {
    let capture = supervisor_events();
    let log = Log::new();
    let bad = Worker::new("bad", &log);
    bad.plan(Plan::Fail);
    let sup = Supervisor::start_link([], SupFlags::one_for_one())
        .await
        .unwrap();
    let refused = sup.start_child(bad.spec()).await;
    assert!(matches!(refused, Err(SupervisorError::StartFailed(_))));
    // A child whose restart fails: the failure is retried, each try a `start_error`.
    let flaky = Worker::new("flaky", &log);
    flaky.plan(Plan::FailAfterFirst);
    sup.start_child(flaky.spec()).await.unwrap();
    let first = pid_of(&sup, "flaky").await;
    kill_child(first, ExitReason::error("crash")).await;
    settle(&sup).await;
    let events = about(&capture, "supervisor", &pid(sup.pid()));
    let errors: Vec<_> = events
        .iter()
        .filter(|e| e.name == CHILD_START_ERROR)
        .collect();
    assert!(!errors.is_empty(), "{events:?}");
    assert!(errors.iter().all(|e| text(e, "child_id") == "flaky"));
    assert_eq!(text(errors[0], "reason"), "error: start refused");
}

/// DS-04: a dynamic supervisor's children: `start` for start_child, `terminate` and `restart`
/// for a crash.
#[tokio::test(start_paused = true)]
async fn ds04_dynamic_supervisor_events() {
    let capture = supervisor_events();
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicOptions::new())
        .await
        .unwrap();
    let child = sup
        .start_child(Worker::new("d", &log).dyn_spec())
        .await
        .unwrap()
        .unwrap();
    crash(&sup, child, ExitReason::error("crash")).await;
    let events = about(&capture, "supervisor", &pid(sup.pid()));
    let want: Vec<(String, String)> = [("start", "d"), ("terminate", "d"), ("restart", "d")]
        .iter()
        .map(|(e, c)| ((*e).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(steps(&events), want);
    assert_eq!(events[0].meta("child_pid"), Some(&pid(child)));
    assert_eq!(events[1].meta("child_pid"), Some(&pid(child)));
}
