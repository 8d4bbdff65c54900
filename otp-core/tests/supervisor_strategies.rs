//! Supervisor restart strategies: start order (SUP-01), stop order (SUP-02), one_for_one
//! (SUP-06), one_for_all (SUP-07), rest_for_one (SUP-08), temporary bystanders (SUP-11) and
//! group restarts with a failing sibling (SUP-13); with the matching cases of OTP's
//! `supervisor_SUITE`. Each table runs one scenario per strategy (and per kind of supervisor,
//! where a dynamic one has the strategy too).

mod common;

use std::time::Duration;

use otp_core::process::{ExitReason, is_alive};
use otp_core::supervisor::{
    DynamicSupervisorRef, Restart, Strategy, SupFlags, Supervisor, SupervisorRef,
};

use common::supervision::*;
use common::watch_exit;

/// OTP's test flags `{Strategy, 2, 3600}`.
fn flags(strategy: Strategy) -> SupFlags {
    otp_flags(strategy, 2, 3600)
}

/// SUP-06, SUP-07, SUP-08, supervisor_SUITE: one_for_one, one_for_all, rest_for_one,
/// simple_one_for_one — a child crashes: one_for_one restarts it alone, with a new pid in its
/// place; one_for_all stops every other child in reverse start order, then starts all again in
/// start order; rest_for_one does so with the children started after it, and the earlier ones
/// keep their pids. Whatever is restarted, a crash is one restart: two more exceed intensity 2.
#[tokio::test(start_paused = true)]
async fn a_crash_restarts_what_the_strategy_says() {
    //                      kind                strategy    stopped           started again
    crash_b::<SupervisorRef>(Strategy::OneForOne, &[], &["b"]).await;
    crash_b::<SupervisorRef>(Strategy::OneForAll, &["d", "c", "a"], &["a", "b", "c", "d"]).await;
    crash_b::<SupervisorRef>(Strategy::RestForOne, &["d", "c"], &["b", "c", "d"]).await;
    crash_b::<DynamicSupervisorRef>(Strategy::OneForOne, &[], &["b"]).await;
}

/// Crashes `b` of the children `a b c d` (trapping exits) of a `K` with this strategy, and
/// checks which were stopped and started again, in which order; then that the third restart
/// makes the supervisor give up.
async fn crash_b<K: Kind>(strategy: Strategy, stopped: &[&str], restarted: &[&str]) {
    let row = format!("{} {strategy:?}", K::NAME);
    let log = Log::new();
    let ids = ["a", "b", "c", "d"];
    let workers = ids.map(|id| Worker::trapping(id, &log, Duration::ZERO));
    let sup = K::start_with(flags(strategy), workers.iter().map(Worker::spec).collect()).await;
    let mut before = Vec::new();
    for id in ids {
        before.push(pid_of(&sup, id).await);
    }
    log.take();

    crash(&sup, before[1], abnormal()).await;
    assert_eq!(log.stopping(), stopped, "{row}: stopped");
    assert!(
        log.events()
            .iter()
            .all(|e| !matches!(e, Event::Stopping(_, r) if *r != ExitReason::Shutdown)),
        "{row}: stopped with another reason than shutdown: {:?}",
        log.events()
    );
    assert_eq!(log.started(), restarted, "{row}: started again");
    for (i, (id, old)) in ids.iter().zip(&before).enumerate() {
        let now = pid_of(&sup, id).await;
        assert_eq!(now == *old, !restarted.contains(id), "{row}: pid of {id}");
        assert_eq!(workers[i].starts(), 1 + usize::from(restarted.contains(id)));
    }
    assert_eq!(counts(&sup).await, [4, 4, 0, 4], "{row}");

    crash(&sup, pid_of(&sup, "a").await, abnormal()).await;
    assert_shuts_down(&sup, pid_of(&sup, "a").await, abnormal()).await;
}

/// SUP-01, SUP-02, SUP-08, supervisor_SUITE: order_of_children — children start in spec order,
/// one after the other, and `start_link` returns once all have; a rest_for_one restart stops
/// the children after the crashed one in reverse order and starts them again in order; on
/// shutdown every child is stopped, with `shutdown`, in reverse start order.
#[tokio::test(start_paused = true)]
async fn order_of_children() {
    let log = Log::new();
    let ids = ["ch7", "ch3", "ch10", "ch2", "ch5"];
    let children: Vec<_> = ids
        .iter()
        .map(|id| Worker::trapping(id, &log, Duration::from_millis(10)).spec())
        .collect();
    let sup = Supervisor::start_link(children, SupFlags::rest_for_one())
        .await
        .unwrap();
    assert_eq!(log.started(), ids);
    assert_eq!(counts(&sup).await, [5, 5, 0, 5]);
    let first = running(&sup).await;
    log.take();
    crash(&sup, pid_of(&sup, "ch10").await, abnormal()).await;
    assert_eq!(log.stopping(), ["ch5", "ch2"]);
    assert_eq!(log.started(), ["ch10", "ch2", "ch5"]);
    // `which_children` lists the latest started first.
    assert_eq!(pid_of(&sup, "ch7").await, first[4]);
    assert_eq!(pid_of(&sup, "ch3").await, first[3]);
    log.take();
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(log.stopping(), ["ch5", "ch2", "ch10", "ch3", "ch7"]);
    for e in log.events() {
        if let Event::Stopping(_, reason) = e {
            assert_eq!(reason, ExitReason::Shutdown);
        }
    }
}

/// SUP-11, supervisor_SUITE: temporary_bystander — a temporary child stopped by a sibling's
/// one_for_all or rest_for_one restart is not restarted and is dropped; the supervisor does
/// not crash trying.
#[tokio::test(start_paused = true)]
async fn temporary_bystander() {
    for strategy in [Strategy::OneForAll, Strategy::RestForOne] {
        let flags = flags(strategy).period(Duration::from_millis(300));
        let log = Log::new();
        let child1 = Worker::new("child1", &log).spec();
        let child2 = Worker::new("child2", &log)
            .spec()
            .restart(Restart::Temporary);
        let sup = Supervisor::start_link([child1, child2], flags)
            .await
            .unwrap();
        crash(&sup, pid_of(&sup, "child1").await, ExitReason::Normal).await;
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(sup.is_alive());
        let which = which(&sup).await;
        assert_eq!(which.len(), 1, "{strategy:?}: {which:?}");
        assert_eq!(which[0].0, "child1");
        sup.stop().await.unwrap();
    }
}

/// SUP-13, supervisor_SUITE: one_for_all_other_child_fails_restart and
/// rest_for_one_other_child_fails_restart — during a group restart after child1's crash,
/// child1 starts again but child2 fails to: the retry under one_for_all stops the restarted
/// child1 (with `shutdown`) and restarts both; under rest_for_one it restarts child2 only,
/// keeping the restarted child1.
#[tokio::test(start_paused = true)]
async fn other_child_fails_restart() {
    //                    strategy             the retry starts
    other_child_fails(Strategy::OneForAll, &["child1", "child2"]).await;
    other_child_fails(Strategy::RestForOne, &["child2"]).await;
}

/// Starts child1 and child2 asking the test for every start; crashes child1, lets it start
/// again and child2 fail; then checks that the retry starts `retried`, in this order.
async fn other_child_fails(strategy: Strategy, retried: &[&str]) {
    let log = Log::new();
    let (tx, mut asks) = tokio::sync::mpsc::unbounded_channel();
    let w1 = Worker::new("child1", &log);
    let w2 = Worker::new("child2", &log);
    w1.plan(Plan::Ask(tx.clone()));
    w2.plan(Plan::Ask(tx));
    let flags = flags(strategy).intensity(3);
    let starter = tokio::spawn(Supervisor::start_link([w1.spec(), w2.spec()], flags));
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
        ref other => panic!("{strategy:?}: {other:?}"),
    };
    let restarted1_ended = watch_exit(restarted1);
    for id in retried {
        assert_eq!(
            answer(&mut asks, Decision::Start).await,
            *id,
            "{strategy:?}"
        );
    }
    settle(&sup).await;
    let mut started = vec!["child1"];
    started.extend(retried);
    assert_eq!(log.started(), started, "{strategy:?}");
    if retried.contains(&"child1") {
        assert_eq!(restarted1_ended.await, ExitReason::Shutdown, "{strategy:?}");
        assert_ne!(pid_of(&sup, "child1").await, restarted1, "{strategy:?}");
    } else {
        assert_eq!(pid_of(&sup, "child1").await, restarted1, "{strategy:?}");
        assert!(is_alive(restarted1));
    }
    assert_eq!(running(&sup).await.len(), 2, "{strategy:?}");
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
    let flags = otp_flags(Strategy::OneForOne, 100, 60);
    let sup = Supervisor::start_link(workers.iter().map(Worker::spec), flags)
        .await
        .unwrap();
    let old = running(&sup).await;
    let crashes: Vec<_> = old
        .iter()
        .map(|&pid| tokio::spawn(kill_child(pid, abnormal())))
        .collect();
    for c in crashes {
        c.await.unwrap();
    }
    settle(&sup).await;
    let new = running(&sup).await;
    assert_eq!(new.len(), 50);
    for pid in &new {
        assert!(!old.contains(pid));
        assert!(is_alive(*pid));
    }
    assert!(workers.iter().all(|w| w.starts() == 2));
    sup.stop().await.unwrap();
}
