//! Supervisor restart strategies: start order (SUP-01), stop order (SUP-02), one_for_one
//! (SUP-06), one_for_all (SUP-07), rest_for_one (SUP-08), temporary bystanders (SUP-11) and
//! group restarts with a failing sibling (SUP-13); with the matching cases of OTP's
//! `supervisor_SUITE`.

mod common;
mod supervision;

use std::time::Duration;

use otp_core::process::{ExitReason, is_alive};
use otp_core::supervisor::{ChildStatus, Restart, SupFlags, Supervisor};

use common::watch_exit;
use supervision::*;

fn abnormal() -> ExitReason {
    ExitReason::Error("died".into())
}

/// SUP-01: children start in spec order, one after the other; `start_link` returns once all
/// have started.
#[tokio::test(start_paused = true)]
async fn sup01_children_start_in_order_before_start_returns() {
    let log = Log::new();
    let ids = ["ch7", "ch3", "ch10", "ch2", "ch5"];
    let children: Vec<_> = ids.iter().map(|id| Worker::new(id, &log).spec()).collect();
    let sup = Supervisor::start_link(children, SupFlags::one_for_one())
        .await
        .unwrap();
    assert_eq!(log.started(), ids);
    assert_eq!(counts(&sup).await, [5, 5, 0, 5]);
    sup.stop().await.unwrap();
}

/// SUP-02: on stop, children are stopped in reverse start order, one at a time.
#[tokio::test(start_paused = true)]
async fn sup02_children_stop_in_reverse_order() {
    let log = Log::new();
    let ids = ["a", "b", "c", "d"];
    let children: Vec<_> = ids
        .iter()
        .map(|id| Worker::trapping(id, &log, Duration::from_millis(10)).spec())
        .collect();
    let sup = Supervisor::start_link(children, SupFlags::one_for_one())
        .await
        .unwrap();
    sup.stop().await.unwrap();
    assert_eq!(log.stopping(), ["d", "c", "b", "a"]);
    for e in log.events() {
        if let Event::Stopping(_, reason) = e {
            assert_eq!(reason, ExitReason::Shutdown);
        }
    }
}

/// SUP-06: one_for_one restarts only the child that ended, with a new pid in the same place.
#[tokio::test(start_paused = true)]
async fn sup06_one_for_one_restarts_only_the_failed_child() {
    let log = Log::new();
    let (a, b, c) = (
        Worker::new("a", &log),
        Worker::new("b", &log),
        Worker::new("c", &log),
    );
    let sup = Supervisor::start_link([a.spec(), b.spec(), c.spec()], SupFlags::one_for_one())
        .await
        .unwrap();
    let before = which(&sup).await;
    let b_pid = pid_of(&sup, "b").await;
    crash(&sup, b_pid, abnormal()).await;
    let after = which(&sup).await;
    assert_eq!(after[0], before[0]);
    assert_eq!(after[2], before[2]);
    assert_eq!(after[1].0, "b");
    assert!(matches!(after[1].1, ChildStatus::Running(p) if p != b_pid));
    assert_eq!((a.starts(), b.starts(), c.starts()), (1, 2, 1));
}

/// SUP-07: one_for_all stops the others in reverse start order, then starts all again in
/// start order.
#[tokio::test(start_paused = true)]
async fn sup07_one_for_all_restarts_all_in_order() {
    let log = Log::new();
    let ws: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| Worker::trapping(id, &log, Duration::ZERO))
        .collect();
    let sup = Supervisor::start_link(ws.iter().map(Worker::spec), SupFlags::one_for_all())
        .await
        .unwrap();
    let old: Vec<_> = sup.which_children().await.unwrap();
    log.take();
    let b = pid_of(&sup, "b").await;
    crash(&sup, b, abnormal()).await;
    assert_eq!(log.stopping(), ["d", "c", "a"]);
    assert_eq!(log.started(), ["a", "b", "c", "d"]);
    let new = sup.which_children().await.unwrap();
    for (o, n) in old.iter().zip(&new) {
        assert_ne!(o.pid(), n.pid());
        assert!(!is_alive(o.pid().unwrap()));
    }
    assert_eq!(counts(&sup).await, [4, 4, 0, 4]);
}

/// SUP-08: rest_for_one stops the children started after the failed one (reverse order),
/// then restarts it and them in order; earlier children keep their pids.
#[tokio::test(start_paused = true)]
async fn sup08_rest_for_one_restarts_the_rest() {
    let log = Log::new();
    let ws: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| Worker::trapping(id, &log, Duration::ZERO))
        .collect();
    let sup = Supervisor::start_link(ws.iter().map(Worker::spec), SupFlags::rest_for_one())
        .await
        .unwrap();
    let a = pid_of(&sup, "a").await;
    let b = pid_of(&sup, "b").await;
    log.take();
    crash(&sup, b, abnormal()).await;
    assert_eq!(log.stopping(), ["d", "c"]);
    assert_eq!(log.started(), ["b", "c", "d"]);
    assert_eq!(pid_of(&sup, "a").await, a);
    assert_ne!(pid_of(&sup, "b").await, b);
}

/// supervisor_SUITE: one_for_one — the other child is untouched, counts `[2,2,0,2]`, and two
/// more crashes exceed intensity 2.
#[tokio::test(start_paused = true)]
async fn one_for_one() {
    let log = Log::new();
    let flags = SupFlags::one_for_one()
        .intensity(2)
        .period(Duration::from_secs(3600));
    let sup = Supervisor::start_link(
        [
            Worker::new("child1", &log).spec(),
            Worker::new("child2", &log).spec(),
        ],
        flags,
    )
    .await
    .unwrap();
    let c1 = pid_of(&sup, "child1").await;
    let c2 = pid_of(&sup, "child2").await;
    crash(&sup, c1, abnormal()).await;
    assert_eq!(pid_of(&sup, "child2").await, c2);
    assert_eq!(counts(&sup).await, [2, 2, 0, 2]);
    // Restart frequency: two more restarts make three in the period.
    crash(&sup, c2, abnormal()).await;
    let latest = sup.which_children().await.unwrap()[0].pid().unwrap();
    let ended = watch_exit(sup.pid());
    kill_child(latest, abnormal()).await;
    assert_eq!(ended.await, ExitReason::Shutdown);
}

/// supervisor_SUITE: one_for_all — the sibling dies, no old child survives, counts
/// `[2,2,0,2]`, then intensity is exceeded.
#[tokio::test(start_paused = true)]
async fn one_for_all() {
    let log = Log::new();
    let flags = SupFlags::one_for_all()
        .intensity(2)
        .period(Duration::from_secs(3600));
    let sup = Supervisor::start_link(
        [
            Worker::new("child1", &log).spec(),
            Worker::new("child2", &log).spec(),
        ],
        flags,
    )
    .await
    .unwrap();
    let c1 = pid_of(&sup, "child1").await;
    let c2 = pid_of(&sup, "child2").await;
    let c2_ended = watch_exit(c2);
    crash(&sup, c1, abnormal()).await;
    assert_eq!(c2_ended.await, ExitReason::Shutdown);
    let children = sup.which_children().await.unwrap();
    assert_eq!(children.len(), 2);
    for c in &children {
        assert!(c.pid() != Some(c1) && c.pid() != Some(c2));
    }
    assert_eq!(counts(&sup).await, [2, 2, 0, 2]);
    let p3 = children[0].pid().unwrap();
    crash(&sup, p3, abnormal()).await;
    let p4 = sup.which_children().await.unwrap()[0].pid().unwrap();
    let ended = watch_exit(sup.pid());
    kill_child(p4, abnormal()).await;
    assert_eq!(ended.await, ExitReason::Shutdown);
}

/// supervisor_SUITE: rest_for_one — child3 dies with child2, child1 survives, counts
/// `[3,3,0,3]`, then intensity is exceeded.
#[tokio::test(start_paused = true)]
async fn rest_for_one() {
    let log = Log::new();
    let flags = SupFlags::rest_for_one()
        .intensity(2)
        .period(Duration::from_secs(3600));
    let sup = Supervisor::start_link(
        [
            Worker::new("child1", &log).spec(),
            Worker::new("child2", &log).spec(),
            Worker::new("child3", &log).spec(),
        ],
        flags,
    )
    .await
    .unwrap();
    assert_eq!(counts(&sup).await, [3, 3, 0, 3]);
    let c1 = pid_of(&sup, "child1").await;
    let c2 = pid_of(&sup, "child2").await;
    let c3 = pid_of(&sup, "child3").await;
    let c3_ended = watch_exit(c3);
    crash(&sup, c2, abnormal()).await;
    assert_eq!(c3_ended.await, ExitReason::Shutdown);
    let pids: Vec<_> = sup
        .which_children()
        .await
        .unwrap()
        .iter()
        .map(|c| c.pid().unwrap())
        .collect();
    assert_eq!(pids.len(), 3);
    assert!(pids.contains(&c1) && !pids.contains(&c2) && !pids.contains(&c3));
    assert_eq!(counts(&sup).await, [3, 3, 0, 3]);
    let p3 = pid_of(&sup, "child3").await;
    crash(&sup, p3, abnormal()).await;
    let p2 = pid_of(&sup, "child2").await;
    let ended = watch_exit(sup.pid());
    kill_child(p2, abnormal()).await;
    assert_eq!(ended.await, ExitReason::Shutdown);
}

/// supervisor_SUITE: order_of_children — start order, the rest of a rest_for_one restart
/// stopped in reverse order and started again in order, and every child stopped in reverse
/// start order when the supervisor is shut down (SUP-01, SUP-02, SUP-08).
#[tokio::test(start_paused = true)]
async fn order_of_children() {
    let log = Log::new();
    let ids = ["ch7", "ch3", "ch10", "ch2", "ch5"];
    let children: Vec<_> = ids
        .iter()
        .map(|id| Worker::trapping(id, &log, Duration::ZERO).spec())
        .collect();
    let sup = Supervisor::start_link(children, SupFlags::rest_for_one())
        .await
        .unwrap();
    assert_eq!(log.started(), ids);
    let which1 = sup.which_children().await.unwrap();
    assert!(which1.iter().all(|c| c.pid().is_some()));
    log.take();
    let pid3 = pid_of(&sup, "ch10").await;
    crash(&sup, pid3, abnormal()).await;
    assert_eq!(log.stopping(), ["ch5", "ch2"]);
    assert_eq!(log.started(), ["ch10", "ch2", "ch5"]);
    assert_eq!(pid_of(&sup, "ch7").await, which1[4].pid().unwrap());
    assert_eq!(pid_of(&sup, "ch3").await, which1[3].pid().unwrap());
    log.take();
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(log.stopping(), ["ch5", "ch2", "ch10", "ch3", "ch7"]);
}

/// SUP-11, supervisor_SUITE: temporary_bystander — a temporary child stopped by a sibling's
/// one_for_all or rest_for_one restart is not restarted and is dropped; the supervisor does
/// not crash trying.
#[tokio::test(start_paused = true)]
async fn temporary_bystander() {
    for flags in [SupFlags::one_for_all(), SupFlags::rest_for_one()] {
        let flags = flags.intensity(2).period(Duration::from_millis(300));
        let log = Log::new();
        let child1 = Worker::new("child1", &log).spec();
        let child2 = Worker::new("child2", &log)
            .spec()
            .restart(Restart::Temporary);
        let sup = Supervisor::start_link([child1, child2], flags)
            .await
            .unwrap();
        let c1 = pid_of(&sup, "child1").await;
        crash(&sup, c1, ExitReason::Normal).await;
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(sup.is_alive());
        let which = which(&sup).await;
        assert_eq!(which.len(), 1, "{which:?}");
        assert_eq!(which[0].0, "child1");
        sup.stop().await.unwrap();
    }
}

/// SUP-13, supervisor_SUITE: one_for_all_other_child_fails_restart — during a one_for_all
/// restart child2 fails to start; the retry stops the already restarted child1 (with
/// `shutdown`) and restarts everything.
#[tokio::test(start_paused = true)]
async fn one_for_all_other_child_fails_restart() {
    let log = Log::new();
    let (tx, mut asks) = tokio::sync::mpsc::unbounded_channel();
    let w1 = Worker::new("child1", &log);
    let w2 = Worker::new("child2", &log);
    w1.plan(Plan::Ask(tx.clone()));
    w2.plan(Plan::Ask(tx));
    let flags = SupFlags::one_for_all()
        .intensity(3)
        .period(Duration::from_secs(3600));
    let starter = tokio::spawn(Supervisor::start_link([w1.spec(), w2.spec()], flags));
    // Let the children start.
    assert_eq!(answer(&mut asks, Decision::Start).await, "child1");
    assert_eq!(answer(&mut asks, Decision::Start).await, "child2");
    let sup = starter.await.unwrap().unwrap();
    let c1 = pid_of(&sup, "child1").await;
    log.take();
    kill_child(c1, ExitReason::Error("die".into())).await;
    // Let child1 restart but not child2.
    assert_eq!(answer(&mut asks, Decision::Start).await, "child1");
    assert_eq!(answer(&mut asks, Decision::Fail).await, "child2");
    let restarted1 = match log.events()[..] {
        [Event::Started("child1", p)] => p,
        ref other => panic!("{other:?}"),
    };
    let restarted1_ended = watch_exit(restarted1);
    // The retry restarts the whole group: the restarted child1 is stopped first.
    assert_eq!(answer(&mut asks, Decision::Start).await, "child1");
    assert_eq!(restarted1_ended.await, ExitReason::Shutdown);
    assert_eq!(answer(&mut asks, Decision::Start).await, "child2");
    settle(&sup).await;
    assert_eq!(log.started(), ["child1", "child1", "child2"]);
    let which = sup.which_children().await.unwrap();
    assert!(which.iter().all(|c| c.pid().is_some()), "{which:?}");
    assert!(!which.iter().any(|c| c.pid() == Some(restarted1)));
    sup.stop().await.unwrap();
}

/// SUP-13, supervisor_SUITE: rest_for_one_other_child_fails_restart — during a rest_for_one
/// restart child2 fails to start; the retry restarts only child2, keeping the restarted
/// child1.
#[tokio::test(start_paused = true)]
async fn rest_for_one_other_child_fails_restart() {
    let log = Log::new();
    let (tx, mut asks) = tokio::sync::mpsc::unbounded_channel();
    let w1 = Worker::new("child1", &log);
    let w2 = Worker::new("child2", &log);
    w1.plan(Plan::Ask(tx.clone()));
    w2.plan(Plan::Ask(tx));
    let flags = SupFlags::rest_for_one()
        .intensity(3)
        .period(Duration::from_secs(3600));
    let starter = tokio::spawn(Supervisor::start_link([w1.spec(), w2.spec()], flags));
    assert_eq!(answer(&mut asks, Decision::Start).await, "child1");
    assert_eq!(answer(&mut asks, Decision::Start).await, "child2");
    let sup = starter.await.unwrap().unwrap();
    let c1 = pid_of(&sup, "child1").await;
    log.take();
    kill_child(c1, ExitReason::Error("die".into())).await;
    assert_eq!(answer(&mut asks, Decision::Start).await, "child1");
    assert_eq!(answer(&mut asks, Decision::Fail).await, "child2");
    let restarted1 = match log.events()[..] {
        [Event::Started("child1", p)] => p,
        ref other => panic!("{other:?}"),
    };
    // The retry restarts child2 only, not child1.
    assert_eq!(answer(&mut asks, Decision::Start).await, "child2");
    settle(&sup).await;
    assert_eq!(log.started(), ["child1", "child2"]);
    assert_eq!(pid_of(&sup, "child1").await, restarted1);
    assert!(is_alive(restarted1));
    sup.stop().await.unwrap();
}

/// SUP-06 on the multi-thread runtime: 50 children crashed at once from other tasks are all
/// restarted, each once, with new pids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sup06_concurrent_crashes_on_the_multi_thread_runtime() {
    let log = Log::new();
    let workers: Vec<_> = (0..50)
        .map(|i| Worker::new(Box::leak(format!("w{i}").into_boxed_str()), &log))
        .collect();
    let flags = SupFlags::one_for_one()
        .intensity(100)
        .period(Duration::from_secs(60));
    let sup = Supervisor::start_link(workers.iter().map(Worker::spec), flags)
        .await
        .unwrap();
    let old: Vec<_> = sup
        .which_children()
        .await
        .unwrap()
        .iter()
        .map(|c| c.pid().unwrap())
        .collect();
    let crashes: Vec<_> = old
        .iter()
        .map(|&pid| tokio::spawn(kill_child(pid, abnormal())))
        .collect();
    for c in crashes {
        c.await.unwrap();
    }
    settle(&sup).await;
    let new = sup.which_children().await.unwrap();
    assert_eq!(new.len(), 50);
    for c in &new {
        let pid = c.pid().expect("running");
        assert!(!old.contains(&pid));
        assert!(is_alive(pid));
    }
    assert!(workers.iter().all(|w| w.starts() == 2));
    sup.stop().await.unwrap();
}
