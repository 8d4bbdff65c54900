//! Automatic shutdown with significant children (SUP-30), with the `significant_*` cases of OTP's
//! `supervisor_SUITE`.

mod common;
mod supervision;

use otp_core::process::{ExitReason, exit};
use otp_core::supervisor::{AutoShutdown, ChildStatus, Restart, SupFlags, Supervisor};

use common::watch_exit;
use supervision::*;

fn any() -> SupFlags {
    SupFlags::one_for_one().auto_shutdown(AutoShutdown::AnySignificant)
}

fn all() -> SupFlags {
    SupFlags::one_for_one().auto_shutdown(AutoShutdown::AllSignificant)
}

/// SUP-30, supervisor_SUITE: significant_temporary — with `AnySignificant`, a significant
/// temporary child ending (with any reason) shuts the supervisor down with `shutdown`; with
/// `AllSignificant`, only the last one does.
#[tokio::test(start_paused = true)]
async fn significant_temporary() {
    for reason in [ExitReason::Normal, ExitReason::Error("died".into())] {
        let log = Log::new();
        let sig = Worker::new("sig", &log)
            .spec()
            .restart(Restart::Temporary)
            .significant(true);
        let other = Worker::new("other", &log).spec();
        let sup = Supervisor::start_link([other, sig], any()).await.unwrap();
        let ended = watch_exit(sup.pid());
        kill_child(pid_of(&sup, "sig").await, reason).await;
        assert_eq!(ended.await, ExitReason::Shutdown);
    }

    let log = Log::new();
    let sig = |id| {
        Worker::new(id, &log)
            .spec()
            .restart(Restart::Temporary)
            .significant(true)
    };
    let sup = Supervisor::start_link([sig("s1"), sig("s2")], all())
        .await
        .unwrap();
    crash(&sup, pid_of(&sup, "s1").await, ExitReason::Normal).await;
    assert!(sup.is_alive());
    let ended = watch_exit(sup.pid());
    kill_child(pid_of(&sup, "s2").await, ExitReason::Normal).await;
    assert_eq!(ended.await, ExitReason::Shutdown);
}

/// SUP-30, supervisor_SUITE: significant_transient — a significant transient child that ends
/// cleanly shuts the supervisor down; one that is killed is restarted and nothing shuts down.
#[tokio::test(start_paused = true)]
async fn significant_transient() {
    let log = Log::new();
    let sig = Worker::new("sig", &log)
        .spec()
        .restart(Restart::Transient)
        .significant(true);
    let sup = Supervisor::start_link([sig.clone()], any()).await.unwrap();
    let pid = pid_of(&sup, "sig").await;
    let ended = watch_exit(pid);
    exit(pid, ExitReason::Kill);
    assert_eq!(ended.await, ExitReason::Killed);
    settle(&sup).await;
    assert!(sup.is_alive());
    assert!(matches!(which(&sup).await[0].1, ChildStatus::Running(p) if p != pid));

    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::shutdown_with("done"),
    ] {
        let sup = Supervisor::start_link([sig.clone()], any()).await.unwrap();
        let ended = watch_exit(sup.pid());
        kill_child(pid_of(&sup, "sig").await, reason).await;
        assert_eq!(ended.await, ExitReason::Shutdown);
    }
}

/// SUP-30: terminating a significant child with `terminate_child` does not shut the
/// supervisor down.
#[tokio::test(start_paused = true)]
async fn sup30_terminate_child_does_not_trigger() {
    let log = Log::new();
    let sig = Worker::new("sig", &log)
        .spec()
        .restart(Restart::Transient)
        .significant(true);
    let sup = Supervisor::start_link([sig], any()).await.unwrap();
    sup.terminate_child("sig").await.unwrap();
    settle(&sup).await;
    assert!(sup.is_alive());
    assert_eq!(
        which(&sup).await,
        [("sig".to_owned(), ChildStatus::NotRunning)]
    );
}

/// SUP-30, supervisor_SUITE: significant_bystander — a significant child stopped because a
/// sibling triggered a one_for_all restart does not shut the supervisor down.
#[tokio::test(start_paused = true)]
async fn significant_bystander() {
    let log = Log::new();
    let worker = Worker::new("worker", &log).spec();
    let sig = Worker::new("sig", &log)
        .spec()
        .restart(Restart::Temporary)
        .significant(true);
    let flags = SupFlags::one_for_all().auto_shutdown(AutoShutdown::AnySignificant);
    let sup = Supervisor::start_link([worker, sig], flags).await.unwrap();
    crash(
        &sup,
        pid_of(&sup, "worker").await,
        ExitReason::Error("died".into()),
    )
    .await;
    assert!(sup.is_alive());
    let which = which(&sup).await;
    assert_eq!(which.len(), 1);
    assert_eq!(which[0].0, "worker");
}

/// SUP-30, supervisor_SUITE: significant_escalation — a supervisor that shut down because of a
/// significant child is itself a significant (transient) child of its parent, which shuts down
/// in turn: the whole tree ends.
#[tokio::test(start_paused = true)]
async fn significant_escalation() {
    let log = Log::new();
    let sig = Worker::new("sig", &log)
        .spec()
        .restart(Restart::Transient)
        .significant(true);
    let inner = Supervisor::child_spec("inner", [sig], any())
        .restart(Restart::Transient)
        .significant(true);
    let top = Supervisor::start_link([Worker::new("other", &log).spec(), inner], any())
        .await
        .unwrap();
    let inner = otp_core::supervisor::SupervisorRef::from_pid(pid_of(&top, "inner").await).unwrap();
    let other = watch_exit(pid_of(&top, "other").await);
    let inner_ended = watch_exit(inner.pid());
    let top_ended = watch_exit(top.pid());
    kill_child(pid_of(&inner, "sig").await, ExitReason::Normal).await;
    assert_eq!(inner_ended.await, ExitReason::Shutdown);
    assert_eq!(top_ended.await, ExitReason::Shutdown);
    assert_eq!(other.await, ExitReason::Shutdown);
}
