//! Restart intensity (SUP-04), giving up and escalation (SUP-05), failed restarts retried while
//! the supervisor stays responsive (SUP-12); with the matching cases of OTP's
//! `supervisor_SUITE`. Time is tokio's paused clock.

mod common;

use std::time::Duration;

use otp_core::process::ExitReason;
use otp_core::supervisor::{
    ChildStatus, DynamicSupervisorRef, Restart, Shutdown, Strategy, SupFlags, Supervisor,
    SupervisorError, SupervisorRef,
};
use tokio::time::sleep;

use common::supervision::*;
use common::watch_exit;

/// Crashes the running child `id` of `sup`.
async fn crash_id(sup: &SupervisorRef, id: &str) {
    crash(sup, pid_of(sup, id).await, abnormal()).await;
}

/// SUP-03, SUP-04: with the default flags, 3 restarts in 5 s, three crashes within the window
/// are restarted and the fourth makes the supervisor give up with `shutdown`.
#[tokio::test(start_paused = true)]
async fn sup04_fourth_restart_within_the_period_gives_up() {
    let log = Log::new();
    let sup = Supervisor::start_link([Worker::new("w", &log).spec()], SupFlags::default())
        .await
        .unwrap();
    for _ in 0..3 {
        crash_id(&sup, "w").await;
        sleep(Duration::from_secs(1)).await;
    }
    assert!(sup.is_alive());
    assert_shuts_down(&sup, pid_of(&sup, "w").await, abnormal()).await;
}

/// SUP-04: the window slides: restarts older than the period no longer count, and one exactly
/// a period old still does.
#[tokio::test(start_paused = true)]
async fn sup04_window_slides() {
    let log = Log::new();
    let flags = otp_flags(Strategy::OneForOne, 3, 5);
    let sup = Supervisor::start_link([Worker::new("w", &log).spec()], flags)
        .await
        .unwrap();
    // Restarts at t = 0, 1, 2.
    crash_id(&sup, "w").await;
    sleep(Duration::from_secs(1)).await;
    crash_id(&sup, "w").await;
    sleep(Duration::from_secs(1)).await;
    crash_id(&sup, "w").await;
    // t = 5.5: the restart at 0 has left the window: [1, 2, 5.5].
    sleep(Duration::from_millis(3500)).await;
    crash_id(&sup, "w").await;
    assert!(sup.is_alive());
    // t = 6: the restart at 1 is exactly one period old and still counts: [1, 2, 5.5, 6].
    sleep(Duration::from_millis(500)).await;
    assert_shuts_down(&sup, pid_of(&sup, "w").await, abnormal()).await;
}

/// SUP-04: with intensity 0 the first restart gives up.
#[tokio::test(start_paused = true)]
async fn sup04_intensity_zero_gives_up_at_first_restart() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [Worker::new("w", &log).spec()],
        SupFlags::one_for_one().intensity(0),
    )
    .await
    .unwrap();
    assert_shuts_down(&sup, pid_of(&sup, "w").await, abnormal()).await;
}

/// SUP-05: giving up stops the remaining children in reverse start order, and the supervisor
/// exits `shutdown`.
#[tokio::test(start_paused = true)]
async fn sup05_giving_up_stops_the_rest_in_reverse_order() {
    let log = Log::new();
    let children = ["a", "b", "c", "d"]
        .iter()
        .map(|id| Worker::trapping(id, &log, Duration::ZERO).spec());
    let sup = Supervisor::start_link(children, SupFlags::one_for_one().intensity(0))
        .await
        .unwrap();
    assert_shuts_down(&sup, pid_of(&sup, "b").await, abnormal()).await;
    assert_eq!(log.stopping(), ["d", "c", "a"]);
}

/// SUP-05: a supervisor that gives up ends `shutdown`; its parent restarts it when it is
/// permanent there, and does not when it is transient.
#[tokio::test(start_paused = true)]
async fn sup05_escalation_to_the_parent() {
    for (restart, restarted) in [(Restart::Permanent, true), (Restart::Transient, false)] {
        let log = Log::new();
        let inner = Supervisor::child_spec(
            "inner",
            [Worker::new("w", &log).spec()],
            SupFlags::one_for_one().intensity(0),
        )
        .restart(restart);
        let top = Supervisor::start_link([inner], SupFlags::one_for_one())
            .await
            .unwrap();
        let inner_pid = pid_of(&top, "inner").await;
        let inner_sup = SupervisorRef::from_pid(inner_pid).unwrap();
        let inner_ended = watch_exit(inner_pid);
        let w = pid_of(&inner_sup, "w").await;
        kill_child(w, abnormal()).await;
        assert_eq!(inner_ended.await, ExitReason::Shutdown);
        settle(&top).await;
        let which = which(&top).await;
        assert_eq!(which.len(), 1);
        match which[0].1 {
            ChildStatus::Running(p) => {
                assert!(restarted, "a transient supervisor was restarted");
                assert_ne!(p, inner_pid);
            }
            ChildStatus::NotRunning => assert!(!restarted, "not restarted"),
            ChildStatus::Restarting => panic!("restarting"),
        }
        top.stop().await.unwrap();
    }
}

/// SUP-12: a child whose restart fails is shown restarting, is retried through a message the
/// supervisor sends itself (so it serves calls between attempts), and every attempt counts,
/// so a child that never starts again takes the supervisor down.
#[tokio::test(start_paused = true)]
async fn sup12_failed_restart_is_retried_and_counted() {
    let log = Log::new();
    let w = Worker::new("w", &log);
    let flags = otp_flags(Strategy::OneForOne, 5, 3600);
    let sup = Supervisor::start_link([w.spec()], flags).await.unwrap();
    w.plan(Plan::SlowFail(Duration::from_secs(1)));
    let pid = pid_of(&sup, "w").await;
    let ended = watch_exit(sup.pid());
    kill_child(pid, abnormal()).await;
    // While attempts fail, the supervisor answers.
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        which(&sup).await,
        [("w".to_owned(), ChildStatus::Restarting)]
    );
    assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
    assert_eq!(ended.await, ExitReason::Shutdown);
    // Five restarts allowed: five failed attempts, the sixth gives up before starting.
    assert_eq!(w.starts(), 1 + 5);
}

/// supervisor_SUITE: multiple_restarts — intensity 1 in 1 s; restarts 2.1 s apart never exceed
/// it.
#[tokio::test(start_paused = true)]
async fn multiple_restarts() {
    let log = Log::new();
    let child = Worker::new("child1", &log)
        .spec()
        .shutdown(Shutdown::BrutalKill);
    let flags = otp_flags(Strategy::OneForOne, 1, 1);
    let sup = Supervisor::start_link([child], flags).await.unwrap();
    crash_id(&sup, "child1").await;
    for _ in 0..3 {
        sleep(Duration::from_millis(2100)).await;
        crash_id(&sup, "child1").await;
    }
    assert!(sup.is_alive());
    sup.terminate_child("child1").await.unwrap();
    sup.delete_child("child1").await.unwrap();
    sup.stop().await.unwrap();
}

/// SUP-05, SUP-12, DS-04, supervisor_SUITE: one_for_one_escalation, one_for_all_escalation,
/// rest_for_one_escalation, simple_one_for_one_escalation; Elixir: "child triggers maximum
/// intensity when trying again" — after child1 crashes, one child cannot be started again:
/// every failed attempt counts toward the intensity, the supervisor gives up with `shutdown`,
/// and child2 (restarted or bystander) is stopped with `shutdown`.
#[tokio::test(start_paused = true)]
async fn escalation_when_a_child_cannot_be_restarted() {
    //                      kind                   strategy         cannot be restarted
    escalates::<SupervisorRef>(Strategy::OneForOne, "child1").await;
    escalates::<SupervisorRef>(Strategy::OneForAll, "child2").await;
    escalates::<SupervisorRef>(Strategy::RestForOne, "child2").await;
    escalates::<DynamicSupervisorRef>(Strategy::OneForOne, "child1").await;
}

/// A `K` with this strategy and intensity 4, children child1 and child2, of which
/// `cannot_restart` starts only once; child1 crashes.
async fn escalates<K: Kind>(strategy: Strategy, cannot_restart: &str) {
    let row = format!("{} {strategy:?}", K::NAME);
    let log = Log::new();
    let workers = ["child1", "child2"].map(|id| Worker::new(id, &log));
    let failing = &workers[usize::from(cannot_restart == "child2")];
    failing.plan(Plan::FailAfterFirst);
    let flags = otp_flags(strategy, 4, 3600);
    let sup = K::start_with(flags, workers.iter().map(Worker::spec).collect()).await;
    let child2_ended = watch_exit(pid_of(&sup, "child2").await);
    assert_shuts_down(&sup, pid_of(&sup, "child1").await, abnormal()).await;
    assert_eq!(child2_ended.await, ExitReason::Shutdown, "{row}");
    // The first start, then four failed attempts; the fifth would exceed the intensity.
    assert_eq!(failing.starts(), 1 + 4, "{row}");
}

/// SUP-12, SUP-13, supervisor_SUITE: hanging_restart_loop and
/// hanging_restart_loop_rest_for_one — while a child's restarts keep failing (each attempt
/// taking 2 s), the supervisor answers calls: `start_child` of its spec is `already_present`,
/// `restart_child` and `delete_child` are `restarting`; under rest_for_one the children after
/// it are not running and those before it run on. The restarting child can be terminated, and
/// restarted by hand; a supervisor shut down while a child hangs in its restart loop does not
/// hang.
#[tokio::test(start_paused = true)]
async fn hanging_restart_loop() {
    use Status::{NotRunning as Stopped, Restarting, Running};
    //            strategy              children, latest first, while child... hangs
    hangs(Strategy::OneForOne, "child1", &[("child1", Restarting)]).await;
    hangs(
        Strategy::RestForOne,
        "child2",
        &[
            ("child3", Stopped),
            ("child2", Restarting),
            ("child1", Running),
        ],
    )
    .await;
}

/// A child's status, its pid aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Running,
    Restarting,
    NotRunning,
}

/// The children of `sup`, latest first, with their status; a running child must run with the
/// pid it had in `first`.
async fn shape(sup: &SupervisorRef, first: &[(String, ChildStatus)]) -> Vec<(String, Status)> {
    let mut shape = Vec::new();
    for (id, status) in which(sup).await {
        let status = match status {
            ChildStatus::Running(pid) => {
                assert!(
                    first.contains(&(id.clone(), ChildStatus::Running(pid))),
                    "{id} restarted"
                );
                Status::Running
            }
            ChildStatus::Restarting => Status::Restarting,
            ChildStatus::NotRunning => Status::NotRunning,
        };
        shape.push((id, status));
    }
    shape
}

/// Starts the children of `hanging` (`child1` to `child3`, as many as `expected` lists) one by
/// one, makes `hanging` hang in its restart loop, and checks the supervisor shows `expected`.
async fn hangs(strategy: Strategy, hanging: &'static str, expected: &[(&str, Status)]) {
    let log = Log::new();
    let flags = otp_flags(strategy, 8, 10);
    let sup = Supervisor::start_link([], flags).await.unwrap();
    let brutal = |w: &Worker| w.spec().shutdown(Shutdown::BrutalKill);
    let w = Worker::new(hanging, &log);
    for id in ["child1", "child2", "child3"]
        .into_iter()
        .take(expected.len())
    {
        let spec = if id == hanging {
            brutal(&w)
        } else {
            brutal(&Worker::new(id, &log))
        };
        sup.start_child(spec).await.unwrap().unwrap();
    }
    let first = which(&sup).await;
    hang_restarts(&w, pid_of(&sup, hanging).await).await;

    assert_eq!(
        sup.start_child(brutal(&w)).await,
        Err(SupervisorError::AlreadyPresent)
    );
    assert_eq!(
        sup.restart_child(hanging).await,
        Err(SupervisorError::Restarting)
    );
    assert_eq!(
        sup.delete_child(hanging).await,
        Err(SupervisorError::Restarting)
    );
    let expected: Vec<_> = expected
        .iter()
        .map(|(id, s)| ((*id).to_owned(), *s))
        .collect();
    assert_eq!(shape(&sup, &first).await, expected, "{strategy:?}");
    let active = expected
        .iter()
        .filter(|(_, s)| *s == Status::Running)
        .count();
    assert_eq!(
        counts(&sup).await,
        [expected.len(), active, 0, expected.len()]
    );

    sup.terminate_child(hanging).await.unwrap();
    let terminated: Vec<_> = expected
        .iter()
        .map(|(id, s)| match s {
            Status::Restarting => (id.clone(), Status::NotRunning),
            _ => (id.clone(), *s),
        })
        .collect();
    assert_eq!(shape(&sup, &first).await, terminated, "{strategy:?}");

    w.plan(Plan::Ok);
    let again = sup.restart_child(hanging).await.unwrap().unwrap();
    hang_restarts(&w, again).await;
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
}

/// supervisor_SUITE: tree — nested supervisors: a crash deep in the tree restarts only that
/// child; a child that cannot be restarted makes its supervisor give up, and the one_for_all
/// top supervisor restarts both subtrees from their specs (children added later are gone).
#[tokio::test(start_paused = true)]
async fn tree() {
    let log = Log::new();
    let flags = otp_flags(Strategy::OneForOne, 4, 3600);
    let child1 = Worker::new("child1", &log).spec();
    let child2 = Worker::new("child2", &log).spec();
    let w3 = Worker::new("child3", &log);
    w3.plan(Plan::FailAfterFirst);
    let child4 = Worker::new("child4", &log).spec();
    let sup1 = Supervisor::child_spec("supchild1", [child1, child2], flags);
    let sup2 = Supervisor::child_spec("supchild2", [], flags);

    let top = Supervisor::start_link([], SupFlags::one_for_all().intensity(4))
        .await
        .unwrap();
    let s1 = top.start_child(sup1).await.unwrap().unwrap();
    let s2 = top.start_child(sup2).await.unwrap().unwrap();
    assert_eq!(counts(&top).await, [2, 2, 2, 0]);
    let s1 = SupervisorRef::from_pid(s1).unwrap();
    let s2 = SupervisorRef::from_pid(s2).unwrap();

    let w1 = which(&s1).await;
    assert_eq!(w1[0].0, "child2");
    assert_eq!(w1[1].0, "child1");
    assert_eq!(counts(&s1).await, [2, 2, 0, 2]);
    assert_eq!(counts(&s2).await, [0, 0, 0, 0]);

    let c3 = s2.start_child(w3.spec()).await.unwrap().unwrap();
    let c4 = s2.start_child(child4).await.unwrap().unwrap();
    assert_eq!(counts(&s2).await, [2, 2, 0, 2]);

    // Only the process that dies is restarted.
    crash(&s2, c4, abnormal()).await;
    assert_eq!(which(&s1).await, w1);
    let w2 = which(&s2).await;
    assert_eq!(w2[1], ("child3".to_owned(), ChildStatus::Running(c3)));
    assert!(matches!(w2[0].1, ChildStatus::Running(p) if p != c4));

    // child3 cannot be restarted: supchild2 gives up, the top restarts the whole tree.
    let s2_ended = watch_exit(s2.pid());
    kill_child(c3, abnormal()).await;
    assert_eq!(s2_ended.await, ExitReason::Shutdown);
    settle(&top).await;

    let top_children = which(&top).await;
    assert_eq!(top_children[0].0, "supchild2");
    assert_eq!(top_children[1].0, "supchild1");
    assert_eq!(counts(&top).await, [2, 2, 2, 0]);
    let new_s1 = SupervisorRef::from_pid(top_children[1].1.pid().unwrap()).unwrap();
    let new_s2 = SupervisorRef::from_pid(top_children[0].1.pid().unwrap()).unwrap();
    assert_ne!(new_s1, s1);
    assert_ne!(new_s2, s2);
    let ids: Vec<_> = which(&new_s1).await.into_iter().map(|c| c.0).collect();
    assert_eq!(ids, ["child2", "child1"]);
    assert_eq!(counts(&new_s1).await, [2, 2, 0, 2]);
    assert_eq!(counts(&new_s2).await, [0, 0, 0, 0]);
    top.stop().await.unwrap();
}
