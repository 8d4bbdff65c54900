//! Which exit reasons restart which restart type (SUP-10, the exit-reason matrix), with the
//! `*_normal`, `*_shutdown` and `*_abnormal` cases of OTP's `supervisor_SUITE`.

mod common;
mod supervision;

use std::time::Duration;

use otp_core::process::{ExitReason, exit};
use otp_core::supervisor::{ChildStatus, Restart, SupFlags, Supervisor, SupervisorRef};

use common::watch_exit;
use supervision::*;

/// A supervisor with no children and OTP's test flags `{one_for_one, 2, 3600}`.
async fn sup() -> SupervisorRef {
    let flags = SupFlags::one_for_one()
        .intensity(2)
        .period(Duration::from_secs(3600));
    Supervisor::start_link([], flags).await.unwrap()
}

/// How the child is made to end.
#[derive(Clone, Debug)]
enum Ending {
    /// It ends by itself with this reason.
    Returns(ExitReason),
    /// It is sent an exit signal with this reason.
    Signal(ExitReason),
}

/// Starts a child of this restart type, makes it end, and returns what the supervisor did:
/// `Some(status)` if the spec was kept, `None` if it was removed.
async fn outcome(restart: Restart, ending: Ending) -> Option<ChildStatus> {
    let sup = sup().await;
    let log = Log::new();
    let spec = Worker::new("child1", &log).spec().restart(restart);
    let pid = sup.start_child(spec).await.unwrap().unwrap();
    match ending {
        Ending::Returns(reason) => kill_child(pid, reason).await,
        Ending::Signal(reason) => {
            let ended = watch_exit(pid);
            exit(pid, reason);
            ended.await;
        }
    }
    settle(&sup).await;
    let which = which(&sup).await;
    let status = which.first().map(|(_, status)| *status);
    if let Some(ChildStatus::Running(p)) = status {
        assert_ne!(p, pid);
    }
    let counts = counts(&sup).await;
    match status {
        Some(ChildStatus::Running(_)) => assert_eq!(counts, [1, 1, 0, 1]),
        Some(_) => assert_eq!(counts, [1, 0, 0, 1]),
        None => assert_eq!(counts, [0, 0, 0, 0]),
    }
    sup.stop().await.unwrap();
    status
}

fn restarted(s: Option<ChildStatus>) -> bool {
    matches!(s, Some(ChildStatus::Running(_)))
}

/// SUP-10: the whole matrix — permanent always restarts; transient restarts unless `normal`,
/// `shutdown` or `{shutdown, _}` (so `killed`, `kill` through a link, a panic or an error
/// restart it); temporary never restarts and its spec is removed.
#[tokio::test(start_paused = true)]
async fn sup10_exit_reason_matrix() {
    let endings = [
        (Ending::Returns(ExitReason::Normal), true),
        (Ending::Signal(ExitReason::Shutdown), true),
        (Ending::Signal(ExitReason::shutdown_with("info")), true),
        (Ending::Signal(ExitReason::Kill), false),
        (Ending::Returns(ExitReason::Kill), false),
        (Ending::Returns(ExitReason::Panic("boom".into())), false),
        (Ending::Returns(ExitReason::Error("died".into())), false),
        (Ending::Returns(ExitReason::NoConnection), false),
    ];
    for (ending, clean) in endings {
        let permanent = outcome(Restart::Permanent, ending.clone()).await;
        assert!(restarted(permanent), "permanent, {ending:?}: {permanent:?}");
        let transient = outcome(Restart::Transient, ending.clone()).await;
        if clean {
            assert_eq!(
                transient,
                Some(ChildStatus::NotRunning),
                "transient, {ending:?}"
            );
        } else {
            assert!(restarted(transient), "transient, {ending:?}: {transient:?}");
        }
        let temporary = outcome(Restart::Temporary, ending.clone()).await;
        assert_eq!(temporary, None, "temporary, {ending:?}");
    }
}

/// supervisor_SUITE: permanent_normal — a permanent child is restarted after `normal`.
#[tokio::test(start_paused = true)]
async fn permanent_normal() {
    let s = outcome(Restart::Permanent, Ending::Returns(ExitReason::Normal)).await;
    assert!(restarted(s), "{s:?}");
}

/// supervisor_SUITE: transient_normal — a transient child is not restarted after `normal`;
/// its spec stays.
#[tokio::test(start_paused = true)]
async fn transient_normal() {
    let s = outcome(Restart::Transient, Ending::Returns(ExitReason::Normal)).await;
    assert_eq!(s, Some(ChildStatus::NotRunning));
}

/// supervisor_SUITE: temporary_normal — a temporary child is not restarted and its spec is
/// removed.
#[tokio::test(start_paused = true)]
async fn temporary_normal() {
    let s = outcome(Restart::Temporary, Ending::Returns(ExitReason::Normal)).await;
    assert_eq!(s, None);
}

/// supervisor_SUITE: permanent_shutdown — restarted after `shutdown` and after
/// `{shutdown, some_info}`.
#[tokio::test(start_paused = true)]
async fn permanent_shutdown() {
    let sup = sup().await;
    let log = Log::new();
    let c1 = sup
        .start_child(Worker::new("child1", &log).spec())
        .await
        .unwrap()
        .unwrap();
    let ended = watch_exit(c1);
    exit(c1, ExitReason::Shutdown);
    assert_eq!(ended.await, ExitReason::Shutdown);
    settle(&sup).await;
    let c2 = pid_of(&sup, "child1").await;
    assert_ne!(c2, c1);
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
    let ended = watch_exit(c2);
    exit(c2, ExitReason::shutdown_with("some_info"));
    assert_eq!(ended.await, ExitReason::shutdown_with("some_info"));
    settle(&sup).await;
    let c3 = pid_of(&sup, "child1").await;
    assert_ne!(c3, c2);
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
}

/// supervisor_SUITE: transient_shutdown — not restarted after `shutdown`, restarted by
/// `restart_child`, not restarted after `{shutdown, some_info}`.
#[tokio::test(start_paused = true)]
async fn transient_shutdown() {
    let sup = sup().await;
    let log = Log::new();
    let spec = Worker::new("child1", &log)
        .spec()
        .restart(Restart::Transient);
    let c1 = sup.start_child(spec).await.unwrap().unwrap();
    let ended = watch_exit(c1);
    exit(c1, ExitReason::Shutdown);
    ended.await;
    settle(&sup).await;
    assert_eq!(
        which(&sup).await,
        [("child1".to_owned(), ChildStatus::NotRunning)]
    );
    assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
    let c2 = sup.restart_child("child1").await.unwrap().unwrap();
    let ended = watch_exit(c2);
    exit(c2, ExitReason::shutdown_with("some_info"));
    ended.await;
    settle(&sup).await;
    assert_eq!(
        which(&sup).await,
        [("child1".to_owned(), ChildStatus::NotRunning)]
    );
    assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
}

/// supervisor_SUITE: temporary_shutdown — not restarted, spec removed, and it can be started
/// again with `start_child`.
#[tokio::test(start_paused = true)]
async fn temporary_shutdown() {
    let sup = sup().await;
    let log = Log::new();
    let spec = Worker::new("child1", &log)
        .spec()
        .restart(Restart::Temporary);
    let c1 = sup.start_child(spec.clone()).await.unwrap().unwrap();
    let ended = watch_exit(c1);
    exit(c1, ExitReason::Shutdown);
    ended.await;
    settle(&sup).await;
    assert!(which(&sup).await.is_empty());
    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
    let c2 = sup.start_child(spec).await.unwrap().unwrap();
    let ended = watch_exit(c2);
    exit(c2, ExitReason::shutdown_with("some_info"));
    ended.await;
    settle(&sup).await;
    assert!(which(&sup).await.is_empty());
    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
}

/// supervisor_SUITE: permanent_abnormal — restarted after an abnormal reason.
#[tokio::test(start_paused = true)]
async fn permanent_abnormal() {
    let s = outcome(
        Restart::Permanent,
        Ending::Returns(ExitReason::Error("abnormal".into())),
    )
    .await;
    assert!(restarted(s), "{s:?}");
}

/// supervisor_SUITE: transient_abnormal — restarted after an abnormal reason.
#[tokio::test(start_paused = true)]
async fn transient_abnormal() {
    let s = outcome(
        Restart::Transient,
        Ending::Returns(ExitReason::Error("abnormal".into())),
    )
    .await;
    assert!(restarted(s), "{s:?}");
}

/// supervisor_SUITE: temporary_abnormal — not restarted, spec removed.
#[tokio::test(start_paused = true)]
async fn temporary_abnormal() {
    let s = outcome(
        Restart::Temporary,
        Ending::Returns(ExitReason::Error("abnormal".into())),
    )
    .await;
    assert_eq!(s, None);
}

/// supervisor_SUITE: do_not_save_child_specs_for_temporary_children — whatever ends it
/// (kill, normal, abnormal, `terminate_child`), a temporary child's spec is gone and it can be
/// started again; a permanent one is restarted (or, terminated by the API, present); a
/// transient one after `normal` is present.
#[tokio::test(start_paused = true)]
async fn do_not_save_child_specs_for_temporary_children() {
    use otp_core::supervisor::SupervisorError;
    for flags in [
        SupFlags::one_for_all(),
        SupFlags::one_for_one(),
        SupFlags::rest_for_one(),
    ] {
        for how in ["kill", "normal", "abnormal", "supervisor"] {
            let sup =
                Supervisor::start_link([], flags.intensity(2).period(Duration::from_secs(3600)))
                    .await
                    .unwrap();
            let log = Log::new();
            let end = |sup: SupervisorRef, id: &'static str, pid| async move {
                match how {
                    "kill" => {
                        let ended = watch_exit(pid);
                        exit(pid, ExitReason::Kill);
                        ended.await;
                        settle(&sup).await;
                    }
                    "normal" => crash(&sup, pid, ExitReason::Normal).await,
                    "abnormal" => crash(&sup, pid, ExitReason::Error("died".into())).await,
                    _ => sup.terminate_child(id).await.unwrap(),
                }
            };
            // Permanent: restarted, unless terminated through the API.
            let perm = Worker::new("child1", &log).spec();
            let p = sup.start_child(perm.clone()).await.unwrap().unwrap();
            end(sup.clone(), "child1", p).await;
            if how == "supervisor" {
                assert_eq!(
                    sup.start_child(perm).await,
                    Err(SupervisorError::AlreadyPresent)
                );
                assert!(sup.restart_child("child1").await.unwrap().is_some());
            } else {
                assert!(matches!(
                    sup.start_child(perm).await,
                    Err(SupervisorError::AlreadyStarted(_))
                ));
            }
            // Transient: present after normal or through the API, restarted otherwise.
            let trans = Worker::new("child2", &log)
                .spec()
                .restart(Restart::Transient);
            let p = sup.start_child(trans.clone()).await.unwrap().unwrap();
            end(sup.clone(), "child2", p).await;
            if how == "supervisor" || how == "normal" {
                assert_eq!(
                    sup.start_child(trans).await,
                    Err(SupervisorError::AlreadyPresent)
                );
                assert!(sup.restart_child("child2").await.unwrap().is_some());
            } else {
                assert!(matches!(
                    sup.start_child(trans).await,
                    Err(SupervisorError::AlreadyStarted(_))
                ));
            }
            // Temporary: gone, and can be started again.
            let temp = Worker::new("child3", &log)
                .spec()
                .restart(Restart::Temporary);
            let p = sup.start_child(temp.clone()).await.unwrap().unwrap();
            end(sup.clone(), "child3", p).await;
            assert!(
                sup.start_child(temp).await.unwrap().is_some(),
                "{flags:?} {how}"
            );
            sup.stop().await.unwrap();
        }
    }
}
