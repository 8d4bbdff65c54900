//! Which exit reasons restart which restart type (SUP-10, DS-04: the exit-reason matrix), under
//! a static and a dynamic supervisor, with the `*_normal`, `*_shutdown` and `*_abnormal` cases
//! of OTP's `supervisor_SUITE`.

mod common;

use otp_core::process::{ExitReason, exit};
use otp_core::supervisor::{
    ChildStatus, DynamicSupervisorRef, Restart, Strategy, SupFlags, Supervisor, SupervisorError,
    SupervisorRef,
};

use common::supervision::*;
use common::watch_exit;

/// OTP's test flags `{one_for_one, 2, 3600}`.
fn flags() -> SupFlags {
    otp_flags(Strategy::OneForOne, 2, 3600)
}

/// How the child is made to end.
#[derive(Clone, Debug)]
enum Ending {
    /// It ends by itself with this reason.
    Returns(ExitReason),
    /// It is sent an exit signal with this reason.
    Signal(ExitReason),
}

/// What the supervisor did with a child that ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Started again, with a new pid.
    Restarted,
    /// Not restarted; its spec is kept, not running.
    Kept,
    /// Not restarted, and forgotten.
    Forgotten,
}

/// SUP-10, DS-04, supervisor_SUITE: permanent_normal, transient_normal, temporary_normal,
/// permanent_abnormal, transient_abnormal, temporary_abnormal (rows of this matrix); Elixir:
/// "temporary child is not restarted regardless of reason", "transient child is restarted
/// unless normal/shutdown/{shutdown, _}", "permanent child is restarted regardless of reason" —
/// the whole matrix, under a static and a dynamic supervisor: permanent always restarts;
/// transient restarts unless `normal`, `shutdown` or `{shutdown, _}` (so `killed`, `kill`
/// through a link, a panic or an error restart it), and otherwise is kept not running by a
/// static supervisor and forgotten by a dynamic one; temporary never restarts and is forgotten.
#[tokio::test(start_paused = true)]
async fn sup10_exit_reason_matrix() {
    matrix::<SupervisorRef>().await;
    matrix::<DynamicSupervisorRef>().await;
}

async fn matrix<K: Kind>() {
    let endings = [
        // ending                                                   clean
        (Ending::Returns(ExitReason::Normal), true),
        (Ending::Returns(ExitReason::Shutdown), true),
        (Ending::Signal(ExitReason::Shutdown), true),
        (Ending::Returns(ExitReason::shutdown_with("x")), true),
        (Ending::Signal(ExitReason::shutdown_with("info")), true),
        (Ending::Signal(ExitReason::Kill), false),
        (Ending::Returns(ExitReason::Kill), false),
        (Ending::Returns(ExitReason::Panic("boom".into())), false),
        (Ending::Returns(ExitReason::Error("abnormal".into())), false),
        (Ending::Returns(ExitReason::NoConnection), false),
    ];
    for (ending, clean) in endings {
        for restart in [Restart::Permanent, Restart::Transient, Restart::Temporary] {
            let expected = match restart {
                Restart::Permanent => Outcome::Restarted,
                Restart::Transient if !clean => Outcome::Restarted,
                Restart::Transient if K::KEEPS_ENDED_CHILDREN => Outcome::Kept,
                Restart::Transient | Restart::Temporary => Outcome::Forgotten,
            };
            assert_eq!(
                outcome::<K>(restart, ending.clone()).await,
                expected,
                "{}, {restart:?}, {ending:?}",
                K::NAME
            );
        }
    }
}

/// Starts a `K` with a child of this restart type, makes the child end, and returns what the
/// supervisor did (checking its counts agree).
async fn outcome<K: Kind>(restart: Restart, ending: Ending) -> Outcome {
    let log = Log::new();
    let spec = Worker::new("child1", &log).spec().restart(restart);
    let sup = K::start_with(flags(), vec![spec]).await;
    let pid = pid_of(&sup, "child1").await;
    match ending {
        Ending::Returns(reason) => kill_child(pid, reason).await,
        Ending::Signal(reason) => {
            let ended = watch_exit(pid);
            exit(pid, reason);
            ended.await;
        }
    }
    settle(&sup).await;
    let outcome = match statuses(&sup).await[..] {
        [ChildStatus::Running(p)] => {
            assert_ne!(p, pid);
            assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
            Outcome::Restarted
        }
        [ChildStatus::NotRunning] => {
            assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
            Outcome::Kept
        }
        [] => {
            assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
            assert_eq!(
                sup.terminate_child(K::child("child1", pid)).await,
                Err(SupervisorError::NotFound)
            );
            Outcome::Forgotten
        }
        ref other => panic!("{other:?}"),
    };
    sup.stop().await.unwrap();
    outcome
}

/// supervisor_SUITE: permanent_shutdown, transient_shutdown, temporary_shutdown — a child ended
/// with `shutdown`, then with `{shutdown, some_info}`: a permanent child is restarted each
/// time; a transient one is not, keeps its spec and is started again by `restart_child`; a
/// temporary one is forgotten, and can be started again with `start_child`.
#[tokio::test(start_paused = true)]
async fn shutdown_by_restart_type() {
    for restart in [Restart::Permanent, Restart::Transient, Restart::Temporary] {
        let sup = Supervisor::start_link([], flags()).await.unwrap();
        let log = Log::new();
        let spec = Worker::new("child1", &log).spec().restart(restart);
        let mut pid = sup.start_child(spec.clone()).await.unwrap().unwrap();
        for reason in [ExitReason::Shutdown, ExitReason::shutdown_with("some_info")] {
            let ended = watch_exit(pid);
            exit(pid, reason.clone());
            assert_eq!(ended.await, reason);
            settle(&sup).await;
            pid = match restart {
                Restart::Permanent => {
                    let again = pid_of(&sup, "child1").await;
                    assert_ne!(again, pid);
                    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
                    again
                }
                Restart::Transient => {
                    assert_eq!(statuses(&sup).await, [ChildStatus::NotRunning]);
                    assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
                    sup.restart_child("child1").await.unwrap().unwrap()
                }
                Restart::Temporary => {
                    assert!(which(&sup).await.is_empty());
                    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
                    sup.start_child(spec.clone()).await.unwrap().unwrap()
                }
            };
        }
    }
}

/// supervisor_SUITE: do_not_save_child_specs_for_temporary_children — whatever ends it
/// (kill, normal, abnormal, `terminate_child`) and whatever the strategy, a temporary child's
/// spec is gone and it can be started again; a permanent one is restarted (or, terminated by
/// the API, present); a transient one after `normal` or the API is present, and restarted
/// otherwise.
#[tokio::test(start_paused = true)]
async fn do_not_save_child_specs_for_temporary_children() {
    for strategy in [
        Strategy::OneForAll,
        Strategy::OneForOne,
        Strategy::RestForOne,
    ] {
        for how in ["kill", "normal", "abnormal", "supervisor"] {
            let sup = Supervisor::start_link([], flags().strategy(strategy))
                .await
                .unwrap();
            let log = Log::new();
            for (id, restart) in [
                ("child1", Restart::Permanent),
                ("child2", Restart::Transient),
                ("child3", Restart::Temporary),
            ] {
                let spec = Worker::new(id, &log).spec().restart(restart);
                let pid = sup.start_child(spec.clone()).await.unwrap().unwrap();
                match how {
                    "kill" => {
                        let ended = watch_exit(pid);
                        exit(pid, ExitReason::Kill);
                        ended.await;
                        settle(&sup).await;
                    }
                    "normal" => crash(&sup, pid, ExitReason::Normal).await,
                    "abnormal" => crash(&sup, pid, abnormal()).await,
                    _ => sup.terminate_child(id).await.unwrap(),
                }
                let restarted = match restart {
                    Restart::Permanent => how != "supervisor",
                    Restart::Transient => how == "kill" || how == "abnormal",
                    Restart::Temporary => false,
                };
                let row = format!("{strategy:?}, {how}, {restart:?}");
                match sup.start_child(spec).await {
                    Err(SupervisorError::AlreadyStarted(_)) => assert!(restarted, "{row}"),
                    Err(SupervisorError::AlreadyPresent) => {
                        assert!(!restarted && restart != Restart::Temporary, "{row}");
                        assert!(sup.restart_child(id).await.unwrap().is_some(), "{row}");
                    }
                    Ok(Some(_)) => assert_eq!(restart, Restart::Temporary, "{row}"),
                    other => panic!("{row}: {other:?}"),
                }
            }
            sup.stop().await.unwrap();
        }
    }
}
