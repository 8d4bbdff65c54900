//! Automatic shutdown with significant children (SUP-30), with the `significant_*` cases of OTP's
//! `supervisor_SUITE`.

mod common;

use otp_core::process::{ExitReason, exit};
use otp_core::supervisor::{
    AutoShutdown, ChildStatus, Restart, SupFlags, Supervisor, SupervisorRef,
};

use common::supervision::*;
use common::watch_exit;

fn any() -> SupFlags {
    SupFlags::one_for_one().auto_shutdown(AutoShutdown::AnySignificant)
}

fn all() -> SupFlags {
    SupFlags::one_for_one().auto_shutdown(AutoShutdown::AllSignificant)
}

/// A significant child of this restart type.
fn significant(id: &'static str, restart: Restart, log: &Log) -> otp_core::supervisor::ChildSpec {
    Worker::new(id, log)
        .spec()
        .restart(restart)
        .significant(true)
}

/// Starts an `AnySignificant` supervisor with a significant child `sig` of this restart type
/// (and a bystander), ends `sig` with `reason` (sent as an exit signal if `by_signal`), and
/// tells whether the supervisor shut down (with `shutdown`), or else restarted `sig`.
async fn shuts_down(restart: Restart, reason: ExitReason, by_signal: bool) -> bool {
    let log = Log::new();
    let other = Worker::new("other", &log).spec();
    let sup = Supervisor::start_link([other, significant("sig", restart, &log)], any())
        .await
        .unwrap();
    let ended = watch_exit(sup.pid());
    let pid = pid_of(&sup, "sig").await;
    if by_signal {
        let sig_ended = watch_exit(pid);
        exit(pid, reason);
        sig_ended.await;
    } else {
        kill_child(pid, reason).await;
    }
    settle(&sup).await;
    if sup.is_alive() {
        assert!(matches!(which(&sup).await[0].1, ChildStatus::Running(p) if p != pid));
        sup.stop().await.unwrap();
        false
    } else {
        assert_eq!(ended.await, ExitReason::Shutdown);
        true
    }
}

/// SUP-30, supervisor_SUITE: significant_temporary — with `AnySignificant`, a significant
/// temporary child ending (with any reason) shuts the supervisor down with `shutdown`; with
/// `AllSignificant`, only the last one does.
#[tokio::test(start_paused = true)]
async fn significant_temporary() {
    for reason in [ExitReason::Normal, ExitReason::Error("died".into())] {
        assert!(shuts_down(Restart::Temporary, reason, false).await);
    }

    let log = Log::new();
    let sig = |id| significant(id, Restart::Temporary, &log);
    let sup = Supervisor::start_link([sig("s1"), sig("s2")], all())
        .await
        .unwrap();
    crash(&sup, pid_of(&sup, "s1").await, ExitReason::Normal).await;
    assert!(sup.is_alive());
    assert_shuts_down(&sup, pid_of(&sup, "s2").await, ExitReason::Normal).await;
}

/// SUP-30, supervisor_SUITE: significant_transient — a significant transient child that ends
/// cleanly shuts the supervisor down; one that is killed is restarted and nothing shuts down.
#[tokio::test(start_paused = true)]
async fn significant_transient() {
    assert!(!shuts_down(Restart::Transient, ExitReason::Kill, true).await);
    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::shutdown_with("done"),
    ] {
        assert!(shuts_down(Restart::Transient, reason, false).await);
    }
}

/// SUP-30: terminating a significant child with `terminate_child` does not shut the
/// supervisor down.
#[tokio::test(start_paused = true)]
async fn sup30_terminate_child_does_not_trigger() {
    let log = Log::new();
    let sup = Supervisor::start_link([significant("sig", Restart::Transient, &log)], any())
        .await
        .unwrap();
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
    let sig = significant("sig", Restart::Temporary, &log);
    let flags = SupFlags::one_for_all().auto_shutdown(AutoShutdown::AnySignificant);
    let sup = Supervisor::start_link([worker, sig], flags).await.unwrap();
    crash(&sup, pid_of(&sup, "worker").await, abnormal()).await;
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
    let sig = significant("sig", Restart::Transient, &log);
    let inner = Supervisor::child_spec("inner", [sig], any())
        .restart(Restart::Transient)
        .significant(true);
    let top = Supervisor::start_link([Worker::new("other", &log).spec(), inner], any())
        .await
        .unwrap();
    let inner = SupervisorRef::from_pid(pid_of(&top, "inner").await).unwrap();
    let other = watch_exit(pid_of(&top, "other").await);
    let inner_ended = watch_exit(inner.pid());
    let top_ended = watch_exit(top.pid());
    kill_child(pid_of(&inner, "sig").await, ExitReason::Normal).await;
    assert_eq!(inner_ended.await, ExitReason::Shutdown);
    assert_eq!(top_ended.await, ExitReason::Shutdown);
    assert_eq!(other.await, ExitReason::Shutdown);
}
