//! `ConsumerSupervisor` (CS-01): one child per event, at most `max_demand` at once, more asked
//! as they end; restarts by type and intensity; children that outlive their producer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use otp_core::gen_server::CallError;
use otp_core::process::{ExitReason, Info, Pid, spawn_link};
use otp_core::supervisor::Restart;
use otp_stage::{
    CancelMode, ConsumerSupervisor, ConsumerSupervisorSpec, StageRef, SubscribeOptions, SubscribeTo,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

mod common;

use common::Numbers;

/// How a child is told to end.
#[derive(Clone, Copy, Debug)]
enum End {
    Normally,
    Failing,
}

/// Children that report `(event, pid)` when they start and end when told.
fn spec(started: UnboundedSender<(u64, Pid)>) -> ConsumerSupervisorSpec<u64> {
    ConsumerSupervisorSpec::new(move |event: u64| {
        let started = started.clone();
        async move { child(event, started) }
    })
}

/// As [`spec`], but while `fail` is set a start fails after a second (so that the supervisor
/// waits between attempts and the paused clock moves, as otp-core's SUP-12 test), and
/// reports its event on `failed`.
fn failing_spec(
    started: UnboundedSender<(u64, Pid)>,
    fail: Arc<AtomicBool>,
    failed: UnboundedSender<u64>,
) -> ConsumerSupervisorSpec<u64> {
    ConsumerSupervisorSpec::new(move |event: u64| {
        let (started, fail, failed) = (started.clone(), fail.clone(), failed.clone());
        async move {
            if fail.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = failed.send(event);
                return Err(ExitReason::error("cannot start"));
            }
            Ok(child(event, started))
        }
    })
}

/// A child for `event` that reports `(event, pid)` and ends when told.
fn child(event: u64, started: UnboundedSender<(u64, Pid)>) -> Pid {
    spawn_link(move |mut p| async move {
        let _ = started.send((event, p.pid()));
        loop {
            if let Info::Message(m) = p.recv().await
                && let Ok(end) = m.downcast::<End>()
            {
                return match end {
                    End::Normally => ExitReason::Normal,
                    End::Failing => ExitReason::error("failed"),
                };
            }
        }
    })
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn drain(rx: &mut UnboundedReceiver<(u64, Pid)>) -> Vec<(u64, Pid)> {
    let mut out = Vec::new();
    while let Ok(x) = rx.try_recv() {
        out.push(x);
    }
    out
}

/// CS-01: at most `max_demand` children run at once; when they fall to `min_demand` it asks
/// for more (test "start child limited by max_demand").
#[tokio::test(start_paused = true)]
async fn cs01_children_limited_by_max_demand() {
    let producer = StageRef::<Numbers>::start(()).await.unwrap();
    let (tx, mut started) = unbounded_channel();
    let options = SubscribeOptions::new().max_demand(3).min_demand(1);
    let sup = StageRef::<ConsumerSupervisor<u64>>::start(
        spec(tx).subscribe_to(SubscribeTo::new(&producer, options)),
    )
    .await
    .unwrap();
    settle().await;
    let first = drain(&mut started);
    assert_eq!(first.iter().map(|(e, _)| *e).collect::<Vec<_>>(), [0, 1, 2]);
    let children = sup.which_children().await.unwrap();
    assert_eq!(children.len(), 3);
    // One ends: 2 left, above min_demand 1, nothing more is asked.
    otp_core::name::send(first[0].1, End::Normally).unwrap();
    settle().await;
    assert!(drain(&mut started).is_empty());
    // Another ends: 1 left, at min_demand: two more are asked and started.
    otp_core::name::send(first[1].1, End::Normally).unwrap();
    settle().await;
    let next = drain(&mut started);
    assert_eq!(next.iter().map(|(e, _)| *e).collect::<Vec<_>>(), [3, 4]);
    let children = sup.which_children().await.unwrap();
    assert_eq!(children.len(), 3);
}

/// CS-01: a transient child that fails is restarted with its event; one that ends normally
/// is not; a permanent child spec is refused at start.
#[tokio::test(start_paused = true)]
async fn cs01_transient_children_restart_with_their_event() {
    let producer = StageRef::<Numbers>::start(()).await.unwrap();
    let (tx, mut started) = unbounded_channel();
    let options = SubscribeOptions::new().max_demand(1).min_demand(0);
    let _sup = StageRef::<ConsumerSupervisor<u64>>::start(
        spec(tx.clone())
            .restart(Restart::Transient)
            .subscribe_to(SubscribeTo::new(&producer, options)),
    )
    .await
    .unwrap();
    let (event, pid) = started.recv().await.unwrap();
    assert_eq!(event, 0);
    otp_core::name::send(pid, End::Failing).unwrap();
    let (again, pid2) = started.recv().await.unwrap();
    assert_eq!(again, 0, "restarted with the same event");
    assert_ne!(pid, pid2);
    otp_core::name::send(pid2, End::Normally).unwrap();
    let (next, _) = started.recv().await.unwrap();
    assert_eq!(next, 1, "ended normally: the next event, not a restart");

    let refused =
        StageRef::<ConsumerSupervisor<u64>>::start(spec(tx).restart(Restart::Permanent)).await;
    assert!(refused.is_err(), "permanent children are refused");
}

/// CS-01: more restarts than the intensity allows (3 in 5 s by default) shut it down.
#[tokio::test(start_paused = true)]
async fn cs01_restart_intensity() {
    let producer = StageRef::<Numbers>::start(()).await.unwrap();
    let (tx, mut started) = unbounded_channel();
    let options = SubscribeOptions::new().max_demand(1).min_demand(0);
    let sup = StageRef::<ConsumerSupervisor<u64>>::start(
        spec(tx)
            .restart(Restart::Transient)
            .subscribe_to(SubscribeTo::new(&producer, options)),
    )
    .await
    .unwrap();
    for _ in 0..4 {
        let (_, pid) = started.recv().await.unwrap();
        otp_core::name::send(pid, End::Failing).unwrap();
    }
    assert_eq!(sup.wait_exit().await, ExitReason::Shutdown);
}

/// CS-01: children stay when their producer goes down (test "children remain after producer
/// down"), with a temporary subscription.
#[tokio::test(start_paused = true)]
async fn cs01_children_remain_after_producer_down() {
    let producer = StageRef::<Numbers>::start(()).await.unwrap();
    let (tx, mut started) = unbounded_channel();
    let options = SubscribeOptions::new()
        .max_demand(2)
        .min_demand(0)
        .cancel(CancelMode::Temporary);
    let sup = StageRef::<ConsumerSupervisor<u64>>::start(
        spec(tx).subscribe_to(SubscribeTo::new(&producer, options)),
    )
    .await
    .unwrap();
    settle().await;
    let children = drain(&mut started);
    assert_eq!(children.len(), 2);
    producer.stop(ExitReason::Shutdown).await.unwrap();
    settle().await;
    assert!(sup.is_alive());
    let running = sup.which_children().await.unwrap();
    assert_eq!(running.len(), 2);
    for (_, pid) in children {
        assert!(otp_core::process::is_alive(pid));
    }
}

/// CS-01 `count_children` (upstream `ConsumerSupervisor.count_children/1`): `specs` is 1,
/// `workers` all children, `active` those running — with children running, after some end
/// normally, while a transient child's failed restart is tried again (restarting: counted in
/// `workers`, not `active`), once it is back; a stopped supervisor is `NoProc`.
#[tokio::test(start_paused = true)]
async fn cs01_count_children() {
    let producer = StageRef::<Numbers>::start(()).await.unwrap();
    let (tx, mut started) = unbounded_channel();
    let (failed_tx, mut failed) = unbounded_channel();
    let fail = Arc::new(AtomicBool::new(false));
    let options = SubscribeOptions::new().max_demand(3).min_demand(0);
    let sup = StageRef::<ConsumerSupervisor<u64>>::start(
        failing_spec(tx, fail.clone(), failed_tx)
            .restart(Restart::Transient)
            .intensity(100, Duration::from_secs(3600))
            .subscribe_to(SubscribeTo::new(&producer, options)),
    )
    .await
    .unwrap();
    settle().await;
    let first = drain(&mut started);
    assert_eq!(first.len(), 3);
    let counts = sup.count_children().await.unwrap();
    assert_eq!(
        counts.as_array(),
        [1, 3, 0, 3],
        "[specs, active, supervisors, workers]"
    );

    // One ends normally: not restarted; 2 left, above min_demand 0, nothing more asked.
    otp_core::name::send(first[0].1, End::Normally).unwrap();
    settle().await;
    assert!(drain(&mut started).is_empty());
    assert_eq!(sup.count_children().await.unwrap().as_array(), [1, 2, 0, 2]);

    // One fails while starts fail: it is restarting, counted in workers but not active.
    fail.store(true, Ordering::SeqCst);
    otp_core::name::send(first[1].1, End::Failing).unwrap();
    assert_eq!(failed.recv().await, Some(first[1].0));
    assert_eq!(sup.count_children().await.unwrap().as_array(), [1, 1, 0, 2]);
    assert_eq!(sup.which_children().await.unwrap(), [first[2].1]);

    // Starts work again: the retry brings it back with its event.
    fail.store(false, Ordering::SeqCst);
    let (event, _) = started.recv().await.unwrap();
    assert_eq!(event, first[1].0);
    assert_eq!(sup.count_children().await.unwrap().as_array(), [1, 2, 0, 2]);

    sup.stop(ExitReason::Shutdown).await.unwrap();
    assert!(matches!(sup.count_children().await, Err(CallError::NoProc)));
}
