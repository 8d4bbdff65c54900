//! DynamicSupervisor conformance (DS-01 to DS-07, and SUP-18 for the concurrent shutdown), with
//! the `simple_one_for_one*` cases of OTP's `supervisor_SUITE` and cases of Elixir's
//! `dynamic_supervisor_test.exs`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use otp_core::gen_server::{GenServer, StartOptions, handlers};
use otp_core::process::{ExitReason, exit, is_alive, spawn};
use otp_core::supervisor::{
    AutoShutdown, ChildSpec, ChildStartError, ChildStatus, ChildType, DynamicOptions,
    DynamicSupervisor, DynamicSupervisorRef, Restart, Shutdown, SpecError, Strategy, SupFlags,
    SupervisorError, SupervisorStartError,
};
use tokio::time::{Instant, sleep};

use common::supervision::*;
use common::{quiet_panics, watch_exit};

/// OTP's test flags `{simple_one_for_one, 2, 3600}`.
fn opts() -> DynamicOptions {
    DynamicOptions::new().flags(otp_flags(Strategy::OneForOne, 2, 3600))
}

async fn start(options: DynamicOptions) -> DynamicSupervisorRef {
    DynamicSupervisor::start_link(options).await.unwrap()
}

/// DS-01: only one_for_one and auto-shutdown never are accepted, and `max_children` must not
/// be zero; defaults are 3 restarts in 5 s and no `max_children`.
#[tokio::test(start_paused = true)]
async fn ds01_options() {
    for (flags, error) in [
        (
            SupFlags::one_for_all(),
            SpecError::DynamicStrategy(Strategy::OneForAll),
        ),
        (
            SupFlags::rest_for_one(),
            SpecError::DynamicStrategy(Strategy::RestForOne),
        ),
        (
            SupFlags::default().auto_shutdown(AutoShutdown::AnySignificant),
            SpecError::DynamicAutoShutdown(AutoShutdown::AnySignificant),
        ),
        (
            SupFlags::default().period(Duration::ZERO),
            SpecError::ZeroPeriod,
        ),
    ] {
        assert_eq!(
            DynamicSupervisor::start_link(DynamicOptions::new().flags(flags))
                .await
                .unwrap_err(),
            SupervisorStartError::InvalidSpec(error)
        );
    }
    assert_eq!(
        DynamicSupervisor::start_link(DynamicOptions::new().max_children(0))
            .await
            .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::ZeroMaxChildren)
    );
    // Defaults: the fourth restart within 5 s gives up.
    let log = Log::new();
    let sup = start(DynamicOptions::new()).await;
    let mut pid = sup
        .start_child(Worker::new("w", &log).spec())
        .await
        .unwrap()
        .unwrap();
    for _ in 0..3 {
        crash(&sup, pid, abnormal()).await;
        pid = running(&sup).await[0];
    }
    assert_shuts_down(&sup, pid, abnormal()).await;
}

/// DS-01: a significant child is refused.
#[tokio::test(start_paused = true)]
async fn ds01_significant_children_refused() {
    let log = Log::new();
    let sup = start(opts()).await;
    let spec = Worker::new("s", &log)
        .spec()
        .restart(Restart::Temporary)
        .significant(true);
    assert_eq!(
        sup.start_child(spec).await,
        Err(SupervisorError::InvalidSpec(SpecError::DynamicSignificant(
            "s".into()
        )))
    );
}

/// A server with a fixed name, for the name clash of DS-02.
#[derive(GenServer, Default)]
struct Named;

#[handlers]
impl Named {}

/// DS-02, Elixir: "with different returns", "with throw/error/exit", "with registered process"
/// — started, ignored (nothing kept), failed (error or panic, nothing kept), a name clash.
#[tokio::test(start_paused = true)]
async fn ds02_start_child_returns() {
    quiet_panics();
    let log = Log::new();
    let sup = start(opts()).await;
    let ok = Worker::new("ok", &log);
    let pid = sup.start_child(ok.spec()).await.unwrap().unwrap();
    let ignored = Worker::new("ignored", &log);
    ignored.plan(Plan::Ignore);
    assert_eq!(sup.start_child(ignored.spec()).await, Ok(None));
    let failed = Worker::new("failed", &log);
    failed.plan(Plan::Fail);
    assert_eq!(
        sup.start_child(failed.spec()).await,
        Err(SupervisorError::StartFailed(refused()))
    );
    let panics = Worker::new("panics", &log);
    panics.plan(Plan::Panic);
    assert!(matches!(
        sup.start_child(panics.spec()).await,
        Err(SupervisorError::StartFailed(ChildStartError::Failed(
            ExitReason::Panic(_)
        )))
    ));
    // Ids are ignored: the same id again is fine.
    let pid2 = sup.start_child(ok.spec()).await.unwrap().unwrap();
    assert_ne!(pid, pid2);
    // A name clash.
    let name = "ds02_named_server";
    let named = ChildSpec::new("named", move || {
        Named::start_link_with(StartOptions::new().name(name))
    });
    let holder = sup.start_child(named.clone()).await.unwrap().unwrap();
    assert_eq!(
        sup.start_child(named).await,
        Err(SupervisorError::StartFailed(
            ChildStartError::AlreadyStarted(holder)
        ))
    );
    assert_eq!(counts(&sup).await, [3, 3, 0, 3]);
}

/// DS-02, Elixir: "with max_children" — beyond `max_children`, `start_child` fails; once a
/// child is gone there is room again.
#[tokio::test(start_paused = true)]
async fn ds02_max_children() {
    let log = Log::new();
    let sup = start(opts().max_children(2)).await;
    let w = Worker::new("w", &log);
    let p1 = sup.start_child(w.spec()).await.unwrap().unwrap();
    sup.start_child(w.spec()).await.unwrap().unwrap();
    assert_eq!(
        sup.start_child(w.spec()).await,
        Err(SupervisorError::MaxChildren)
    );
    assert_eq!(w.starts(), 2);
    sup.terminate_child(p1).await.unwrap();
    assert!(sup.start_child(w.spec()).await.unwrap().is_some());
}

/// DS-03, Elixir: "supports extra arguments" — every start and restart gets a clone of the
/// supervisor's extra argument.
#[tokio::test(start_paused = true)]
async fn ds03_extra_argument() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sup = DynamicSupervisor::start_link(opts().extra_arg(String::from("pool-a")))
        .await
        .unwrap();
    let log = Log::new();
    let w = Worker::new("w", &log);
    let spec = {
        let seen = seen.clone();
        ChildSpec::with_arg("w", move |extra: String| {
            seen.lock().unwrap().push(extra);
            let w = w.clone();
            async move { w.start().await }
        })
    };
    let pid = sup.start_child(spec).await.unwrap().unwrap();
    crash(&sup, pid, abnormal()).await;
    assert_eq!(*seen.lock().unwrap(), ["pool-a", "pool-a"]);
    assert_eq!(sup.count_children().await.unwrap().active, 1);
}

/// DS-04, Elixir: "child is restarted when trying again", "restarting on init children counted
/// in max_children" — a failed restart marks the child restarting (counted in
/// `max_children`, not active) and is retried until it succeeds.
#[tokio::test(start_paused = true)]
async fn ds04_failed_restart_retried() {
    let log = Log::new();
    let sup = start(
        DynamicOptions::new()
            .flags(otp_flags(Strategy::OneForOne, 10, 60))
            .max_children(1),
    )
    .await;
    let w = Worker::new("w", &log);
    let pid = sup.start_child(w.spec()).await.unwrap().unwrap();
    w.plan(Plan::SlowFail(Duration::from_secs(1)));
    kill_child(pid, abnormal()).await;
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(statuses(&sup).await, [ChildStatus::Restarting]);
    assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
    assert_eq!(
        sup.start_child(Worker::new("x", &log).spec()).await,
        Err(SupervisorError::MaxChildren)
    );
    w.plan(Plan::Ok);
    sleep(Duration::from_secs(2)).await;
    settle(&sup).await;
    assert!(matches!(statuses(&sup).await[..], [ChildStatus::Running(p)] if p != pid));
}

/// DS-05: `which_children` lists running and restarting children with their kind;
/// `count_children` counts specs, active, supervisors and workers.
#[tokio::test(start_paused = true)]
async fn ds05_introspection() {
    let log = Log::new();
    let sup = start(opts()).await;
    let w = Worker::new("w", &log);
    let p1 = sup.start_child(w.spec()).await.unwrap().unwrap();
    let p2 = sup
        .start_child(w.spec().kind(ChildType::Supervisor))
        .await
        .unwrap()
        .unwrap();
    let children = sup.which_children().await.unwrap();
    assert_eq!(
        children
            .iter()
            .map(|c| (c.status, c.kind))
            .collect::<Vec<_>>(),
        [
            (ChildStatus::Running(p1), ChildType::Worker),
            (ChildStatus::Running(p2), ChildType::Supervisor),
        ]
    );
    assert_eq!(counts(&sup).await, [2, 2, 1, 1]);
}

/// DS-06, supervisor_SUITE: child_adm_simple — children are terminated by pid; a pid that is
/// not a child (or no longer one) is not found and left alone.
#[tokio::test(start_paused = true)]
async fn child_adm_simple() {
    let log = Log::new();
    let sup = start(opts()).await;
    assert!(sup.which_children().await.unwrap().is_empty());
    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
    let w = Worker::new("child", &log);
    let c1 = sup.start_child(w.spec()).await.unwrap().unwrap();
    assert_eq!(
        sup.which_children().await.unwrap()[0].status,
        ChildStatus::Running(c1)
    );
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
    let c2 = sup.start_child(w.spec()).await.unwrap().unwrap();
    let pids: Vec<_> = sup
        .which_children()
        .await
        .unwrap()
        .iter()
        .filter_map(|c| c.pid())
        .collect();
    assert_eq!(pids, [c1, c2]);
    assert_eq!(counts(&sup).await, [2, 2, 0, 2]);

    let ended = watch_exit(c1);
    sup.terminate_child(c1).await.unwrap();
    // Synchronous: the child has ended when the call returns.
    assert!(!is_alive(c1));
    assert_eq!(ended.await, ExitReason::Shutdown);
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
    assert_eq!(
        sup.terminate_child(c1).await,
        Err(SupervisorError::NotFound)
    );
    let stranger = spawn(|_| std::future::pending::<()>());
    assert_eq!(
        sup.terminate_child(stranger).await,
        Err(SupervisorError::NotFound)
    );
    assert!(is_alive(stranger));
    exit(stranger, ExitReason::Kill);
}

/// DS-07, SUP-18, supervisor_SUITE: simple_one_for_one_shutdown — on shutdown all children are
/// sent the exit signal at once, each killed when its own shutdown time runs out: children that
/// need 1 s end `shutdown`, the one that needs 5 s is killed at 2 s; the whole takes at least 1 s
/// and less than 5 s (paused clock).
#[tokio::test(start_paused = true)]
async fn simple_one_for_one_shutdown() {
    let log = Log::new();
    let sup = start(opts()).await;
    let t = Shutdown::Timeout(Duration::from_secs(2));
    let quick = Worker::trapping("quick", &log, Duration::from_secs(1));
    let slow = Worker::trapping("slow", &log, Duration::from_secs(5));
    let p1 = sup
        .start_child(quick.spec().shutdown(t))
        .await
        .unwrap()
        .unwrap();
    let p2 = sup
        .start_child(quick.spec().shutdown(t))
        .await
        .unwrap()
        .unwrap();
    let p3 = sup
        .start_child(slow.spec().shutdown(t))
        .await
        .unwrap()
        .unwrap();
    let (e1, e2, e3) = (watch_exit(p1), watch_exit(p2), watch_exit(p3));
    let began = Instant::now();
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
    let took = began.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(e1.await, ExitReason::Shutdown);
    assert_eq!(e2.await, ExitReason::Shutdown);
    assert_eq!(e3.await, ExitReason::Killed);
}

/// supervisor_SUITE: simple_one_for_one_extra — a restarted child gets the same extra
/// argument, and the other children are untouched.
#[tokio::test(start_paused = true)]
async fn simple_one_for_one_extra() {
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(opts().extra_arg(7u32))
        .await
        .unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let w = Worker::new("child", &log);
    let spec = {
        let got = got.clone();
        ChildSpec::with_arg("child", move |n: u32| {
            got.lock().unwrap().push(n);
            let w = w.clone();
            async move { w.start().await }
        })
    };
    let c1 = sup.start_child(spec.clone()).await.unwrap().unwrap();
    let c2 = sup.start_child(spec).await.unwrap().unwrap();
    crash(&sup, c1, abnormal()).await;
    let children = sup.which_children().await.unwrap();
    assert_eq!(children.len(), 2);
    assert!(children.iter().any(|c| c.pid() == Some(c2)));
    assert_eq!(*got.lock().unwrap(), [7, 7, 7]);
}

/// SUP-21, supervisor_SUITE: simple_one_for_one_restart_ignore — a child whose restart is
/// ignored is removed.
#[tokio::test(start_paused = true)]
async fn simple_one_for_one_restart_ignore() {
    let log = Log::new();
    let sup = start(opts()).await;
    let w = Worker::new("child", &log);
    let pid = sup.start_child(w.spec()).await.unwrap().unwrap();
    w.plan(Plan::Ignore);
    crash(&sup, pid, abnormal()).await;
    assert!(sup.which_children().await.unwrap().is_empty());
    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
}

/// supervisor_SUITE: sup_start_ignore_temporary_child_start_child_simple and
/// sup_start_ignore_permanent_child_start_child_simple — an ignored start stores nothing,
/// temporary or permanent; the supervisor then shuts down cleanly.
#[tokio::test(start_paused = true)]
async fn sup_start_ignore_child_start_child_simple() {
    for restart in [Restart::Temporary, Restart::Permanent] {
        let log = Log::new();
        let sup = start(opts()).await;
        let ignoring = Worker::new("child1", &log);
        ignoring.plan(Plan::Ignore);
        assert_eq!(
            sup.start_child(ignoring.spec().restart(restart)).await,
            Ok(None)
        );
        let cpid2 = sup
            .start_child(Worker::new("child1", &log).spec().restart(restart))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            sup.which_children().await.unwrap()[0].status,
            ChildStatus::Running(cpid2)
        );
        assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
        sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
            .await
            .unwrap();
    }
}

/// supervisor_SUITE: sup_start_child_returns_error_simple — the start error is returned as is
/// and nothing is kept.
#[tokio::test(start_paused = true)]
async fn sup_start_child_returns_error_simple() {
    let sup = start(opts()).await;
    let failing = ChildSpec::new("child1", || async {
        Err::<otp_core::process::Pid, &str>("reason")
    });
    assert_eq!(
        sup.start_child(failing).await,
        Err(SupervisorError::StartFailed(ChildStartError::Failed(
            ExitReason::Error("reason".into())
        )))
    );
    assert!(sup.which_children().await.unwrap().is_empty());
}

/// supervisor_SUITE: count_children and count_children_supervisor — 1,000 then 2,000
/// temporary children counted, by kind; after they are killed, none.
#[tokio::test(start_paused = true)]
async fn count_children() {
    for kind in [ChildType::Worker, ChildType::Supervisor] {
        let log = Log::new();
        let sup = start(opts()).await;
        let spec = Worker::new("child", &log)
            .spec()
            .restart(Restart::Temporary)
            .kind(kind);
        for _ in 0..1000 {
            sup.start_child(spec.clone()).await.unwrap();
        }
        let children = running(&sup).await;
        let counts1 = counts(&sup).await;
        for _ in 0..1000 {
            sup.start_child(spec.clone()).await.unwrap();
        }
        let counts2 = counts(&sup).await;
        let children2 = running(&sup).await;
        assert_eq!(children.len(), 1000);
        assert_eq!(children2.len(), 2000);
        let (sups, workers) = match kind {
            ChildType::Worker => (0, 1),
            ChildType::Supervisor => (1, 0),
        };
        assert_eq!(counts1, [1000, 1000, 1000 * sups, 1000 * workers]);
        assert_eq!(counts2, [2000, 2000, 2000 * sups, 2000 * workers]);
        for pid in children2 {
            let ended = watch_exit(pid);
            exit(pid, ExitReason::Kill);
            ended.await;
        }
        settle(&sup).await;
        assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
    }
}

/// DS-04, DS-05, supervisor_SUITE: count_restarting_children — children whose restart fails
/// are counted but not active; once their restarts succeed they are active again; terminated
/// children are gone.
#[tokio::test(start_paused = true)]
async fn count_restarting_children() {
    let log = Log::new();
    let sup = start(DynamicOptions::new().flags(otp_flags(Strategy::OneForOne, 20, 10))).await;
    let w = Worker::new("child", &log);
    let spec = w.spec().shutdown(Shutdown::BrutalKill);
    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
    let mut pids = Vec::new();
    for n in 1..=3 {
        pids.push(sup.start_child(spec.clone()).await.unwrap().unwrap());
        assert_eq!(counts(&sup).await, [n, n, 0, n]);
    }
    for pid in pids {
        crash(&sup, pid, abnormal()).await;
    }
    assert_eq!(counts(&sup).await, [3, 3, 0, 3]);
    let ch2 = running(&sup).await;

    w.plan(Plan::SlowFail(Duration::from_secs(2)));
    kill_child(ch2[0], abnormal()).await;
    kill_child(ch2[1], abnormal()).await;
    sleep(Duration::from_secs(4)).await;
    assert_eq!(counts(&sup).await, [3, 1, 0, 3]);

    w.plan(Plan::Ok);
    sleep(Duration::from_secs(4)).await;
    settle(&sup).await;
    assert_eq!(counts(&sup).await, [3, 3, 0, 3]);

    sup.terminate_child(ch2[2]).await.unwrap();
    assert_eq!(counts(&sup).await, [2, 2, 0, 2]);
    let ch3 = running(&sup).await;
    sup.terminate_child(ch3[0]).await.unwrap();
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
    sup.terminate_child(ch3[1]).await.unwrap();
    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
}

/// DS-06, supervisor_SUITE: hanging_restart_loop_simple; Elixir: "terminates restarting child"
/// — while a child's restarts keep failing, the supervisor answers; the restarting child is
/// terminated by its last pid; the supervisor can be shut down.
#[tokio::test(start_paused = true)]
async fn hanging_restart_loop_simple() {
    let log = Log::new();
    let sup = start(DynamicOptions::new().flags(otp_flags(Strategy::OneForOne, 8, 10))).await;
    let w = Worker::new("child1", &log);
    let spec = w.spec().shutdown(Shutdown::BrutalKill);
    let c1 = sup.start_child(spec.clone()).await.unwrap().unwrap();
    hang_restarts(&w, c1).await;
    assert_eq!(statuses(&sup).await, [ChildStatus::Restarting]);
    assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
    sup.terminate_child(c1).await.unwrap();
    assert!(which(&sup).await.is_empty());

    w.plan(Plan::Ok);
    let c2 = sup.start_child(spec).await.unwrap().unwrap();
    hang_restarts(&w, c2).await;
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
}

/// DS-02, supervisor_SUITE: simple_one_for_one_scale_many_temporary_children (without its
/// timing) — 1,000 temporary children started and terminated one by one.
#[tokio::test(start_paused = true)]
async fn simple_one_for_one_scale_many_temporary_children() {
    let log = Log::new();
    let sup = start(opts()).await;
    let spec = Worker::new("child", &log)
        .spec()
        .restart(Restart::Temporary);
    let mut pids = Vec::new();
    for _ in 0..1000 {
        pids.push(sup.start_child(spec.clone()).await.unwrap().unwrap());
    }
    for pid in pids {
        sup.terminate_child(pid).await.unwrap();
    }
    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);
}

/// A dynamic supervisor nests under a static one, as a supervisor child.
#[tokio::test(start_paused = true)]
async fn dynamic_supervisor_as_a_child() {
    use otp_core::supervisor::{Supervisor, SupervisorRef};
    let top = Supervisor::start_link(
        [DynamicSupervisor::child_spec("pool", DynamicOptions::new())],
        SupFlags::default(),
    )
    .await
    .unwrap();
    let spec = top.get_childspec("pool").await.unwrap();
    assert_eq!(spec.child_type(), ChildType::Supervisor);
    assert_eq!(spec.shutdown_mode(), Shutdown::Infinity);
    let pool: DynamicSupervisorRef =
        DynamicSupervisorRef::from_pid(pid_of(&top, "pool").await).unwrap();
    let log = Log::new();
    let child = pool
        .start_child(Worker::trapping("w", &log, Duration::ZERO).spec())
        .await
        .unwrap()
        .unwrap();
    let ended = watch_exit(child);
    top.stop().await.unwrap();
    assert_eq!(ended.await, ExitReason::Shutdown);
    assert!(SupervisorRef::from_pid(pool.pid()).is_err());
}
