//! The optional restart backoff per child (beyond OTP): off by default; exponential delays with
//! a cap; a reset after a stable period; how it spreads restarts so the intensity is not burnt
//! in milliseconds, and how a low cap still lets the supervisor give up. Paused clock.

mod common;

use std::time::Duration;

use otp_core::supervisor::{
    Backoff, ChildStatus, DynamicOptions, DynamicSupervisor, SupFlags, Supervisor,
};
use tokio::time::{Instant, sleep};

use common::supervision::*;

fn backoff(initial_ms: u64, max_ms: u64) -> Backoff {
    Backoff::new(
        Duration::from_millis(initial_ms),
        Duration::from_millis(max_ms),
    )
    .jitter(0.0)
}

/// Without a backoff a child is restarted at once: no time passes.
#[tokio::test(start_paused = true)]
async fn off_by_default_restarts_at_once() {
    let log = Log::new();
    let sup = Supervisor::start_link([Worker::new("w", &log).spec()], SupFlags::default())
        .await
        .unwrap();
    assert!(
        sup.get_childspec("w")
            .await
            .unwrap()
            .backoff_policy()
            .is_none()
    );
    let began = Instant::now();
    let pid = pid_of(&sup, "w").await;
    crash(&sup, pid, abnormal()).await;
    assert!(matches!(which(&sup).await[0].1, ChildStatus::Running(p) if p != pid));
    assert_eq!(began.elapsed(), Duration::ZERO);
}

/// A child with a backoff waits `initial`, then twice as long, and so on: meanwhile it is shown
/// restarting and not active.
#[tokio::test(start_paused = true)]
async fn restarts_are_delayed_exponentially() {
    let log = Log::new();
    let spec = Worker::new("w", &log).spec().backoff(backoff(1000, 8000));
    let sup = Supervisor::start_link([spec], SupFlags::default())
        .await
        .unwrap();
    for delay in [1000, 2000, 4000] {
        let pid = pid_of(&sup, "w").await;
        crash(&sup, pid, abnormal()).await;
        assert_eq!(which(&sup).await[0].1, ChildStatus::Restarting);
        assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
        sleep(Duration::from_millis(delay - 1)).await;
        assert_eq!(which(&sup).await[0].1, ChildStatus::Restarting);
        sleep(Duration::from_millis(1)).await;
        settle(&sup).await;
        assert!(matches!(which(&sup).await[0].1, ChildStatus::Running(p) if p != pid));
    }
}

/// A child failing against a dependency that is down: with OTP's immediate restarts, the
/// default intensity (3 in 5 s) is exhausted at once; with a backoff the restarts are spread
/// out, the supervisor stays up, and the child runs once the dependency is back.
#[tokio::test(start_paused = true)]
async fn backoff_spares_the_intensity() {
    // Without backoff: the supervisor gives up at once.
    let log = Log::new();
    let w = Worker::new("db_client", &log);
    let sup = Supervisor::start_link([w.spec()], SupFlags::default())
        .await
        .unwrap();
    w.plan(Plan::Fail);
    let began = Instant::now();
    assert_shuts_down(&sup, pid_of(&sup, "db_client").await, abnormal()).await;
    assert_eq!(began.elapsed(), Duration::ZERO);

    // With backoff: retried at 1, 3, 7, 15, 23, 31… s, never more than 3 within 5 s.
    let log = Log::new();
    let w = Worker::new("db_client", &log);
    let spec = w.spec().backoff(backoff(1000, 8000));
    let sup = Supervisor::start_link([spec], SupFlags::default())
        .await
        .unwrap();
    w.plan(Plan::Fail);
    kill_child(pid_of(&sup, "db_client").await, abnormal()).await;
    sleep(Duration::from_secs(60)).await;
    assert!(sup.is_alive());
    assert_eq!(which(&sup).await[0].1, ChildStatus::Restarting);
    // Starts: the first, then attempts at 1, 3, 7, 15, 23, 31, 39, 47, 55 s.
    assert_eq!(w.starts(), 1 + 9);
    // The dependency is back: the next attempt succeeds.
    w.plan(Plan::Ok);
    sleep(Duration::from_secs(8)).await;
    settle(&sup).await;
    assert!(matches!(which(&sup).await[0].1, ChildStatus::Running(_)));
}

/// With a cap below `period / intensity`, a child that keeps failing still exhausts the
/// intensity, later: the supervisor gives up and the failure escalates.
#[tokio::test(start_paused = true)]
async fn a_low_cap_still_escalates() {
    let log = Log::new();
    let w = Worker::new("w", &log);
    let spec = w.spec().backoff(backoff(100, 400));
    let sup = Supervisor::start_link([spec], SupFlags::default())
        .await
        .unwrap();
    w.plan(Plan::Fail);
    let began = Instant::now();
    assert_shuts_down(&sup, pid_of(&sup, "w").await, abnormal()).await;
    // Restarts at 0.1, 0.3, 0.7, 1.1 s: the fourth within 5 s gives up.
    assert_eq!(began.elapsed(), Duration::from_millis(1100));
    assert_eq!(w.starts(), 1 + 3);
}

/// After running for the stable period, the delays start over from `initial`.
#[tokio::test(start_paused = true)]
async fn delays_reset_after_a_stable_run() {
    let log = Log::new();
    let spec = Worker::new("w", &log)
        .spec()
        .backoff(backoff(1000, 60_000).reset_after(Duration::from_secs(30)));
    let sup = Supervisor::start_link([spec], SupFlags::default().intensity(100))
        .await
        .unwrap();
    // Two quick failures: delays 1 s, then 2 s.
    for delay in [1000, 2000] {
        crash(&sup, pid_of(&sup, "w").await, abnormal()).await;
        sleep(Duration::from_millis(delay)).await;
        settle(&sup).await;
    }
    // A stable run, then a failure: back to 1 s.
    sleep(Duration::from_secs(30)).await;
    crash(&sup, pid_of(&sup, "w").await, abnormal()).await;
    sleep(Duration::from_millis(999)).await;
    assert_eq!(which(&sup).await[0].1, ChildStatus::Restarting);
    sleep(Duration::from_millis(1)).await;
    settle(&sup).await;
    assert!(matches!(which(&sup).await[0].1, ChildStatus::Running(_)));
}

/// Under one_for_all, the siblings are stopped at once and started again with the child when
/// its delay is over.
#[tokio::test(start_paused = true)]
async fn one_for_all_siblings_wait_with_the_child() {
    let log = Log::new();
    let a = Worker::trapping("a", &log, Duration::ZERO).spec();
    let b = Worker::new("b", &log).spec().backoff(backoff(1000, 1000));
    let sup = Supervisor::start_link([a, b], SupFlags::one_for_all())
        .await
        .unwrap();
    log.take();
    crash(&sup, pid_of(&sup, "b").await, abnormal()).await;
    assert_eq!(log.stopping(), ["a"]);
    assert_eq!(
        which(&sup).await,
        [
            ("b".to_owned(), ChildStatus::Restarting),
            ("a".to_owned(), ChildStatus::NotRunning)
        ]
    );
    sleep(Duration::from_secs(1)).await;
    settle(&sup).await;
    assert_eq!(log.started(), ["a", "b"]);
    assert_eq!(counts(&sup).await, [2, 2, 0, 2]);
}

/// A dynamic supervisor's children may have a backoff too; a delayed child can be terminated
/// by its last pid.
#[tokio::test(start_paused = true)]
async fn dynamic_children_backoff() {
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicOptions::new())
        .await
        .unwrap();
    let spec = Worker::new("w", &log).spec().backoff(backoff(1000, 1000));
    let pid = sup.start_child(spec.clone()).await.unwrap().unwrap();
    crash(&sup, pid, abnormal()).await;
    assert_eq!(statuses(&sup).await, [ChildStatus::Restarting]);
    sleep(Duration::from_secs(1)).await;
    settle(&sup).await;
    let new = running(&sup).await[0];
    assert_ne!(new, pid);
    crash(&sup, new, abnormal()).await;
    sup.terminate_child(new).await.unwrap();
    sleep(Duration::from_secs(5)).await;
    assert!(sup.which_children().await.unwrap().is_empty());
}
