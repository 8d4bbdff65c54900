//! Supervisor start and management: start failures (SUP-19), what a start function may return
//! (SUP-20, SUP-21), `start_child`, `terminate_child`, `restart_child`, `delete_child`,
//! `which_children`, `count_children`, `get_childspec` (SUP-22 to SUP-28), refused specs and
//! flags (SUP-29), Elixir's specifics (SUP-31); with the matching cases of OTP's
//! `supervisor_SUITE`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use otp_core::gen_server::{Action, CallResult, Context, GenServer, Init, StartOptions};
use otp_core::process::spawn_link;
use otp_core::process::{ExitReason, Info, Pid, SpawnOptions, exit, is_alive, spawn_opt};
use otp_core::supervisor::{
    AutoShutdown, Backoff, ChildSpec, ChildStartError, ChildStatus, ChildType, Restart, Shutdown,
    SpecError, Strategy, SupFlags, Supervisor, SupervisorError, SupervisorRef,
    SupervisorStartError,
};
use tokio::sync::{mpsc, oneshot};

use common::supervision::*;
use common::{quiet_panics, watch_exit};

/// OTP's test flags `{one_for_one, 2, 3600}`.
fn flags() -> SupFlags {
    otp_flags(Strategy::OneForOne, 2, 3600)
}

/// A GenServer child: a counter whose `init` does what it is told, and which reports
/// `terminate`.
struct Counter {
    n: u64,
    terminated: Option<mpsc::UnboundedSender<ExitReason>>,
}

#[derive(Clone)]
enum CounterInit {
    Ok(u64),
    /// Traps exits and reports the reason `terminate` is called with.
    Trapping(mpsc::UnboundedSender<ExitReason>),
    Ignore,
    Stop,
}

impl GenServer for Counter {
    type Args = CounterInit;
    type Call = ();
    type Reply = u64;
    type Cast = u64;
    type Continue = ();

    async fn init(args: CounterInit, ctx: &mut Context<Self>) -> Init<Self> {
        match args {
            CounterInit::Ok(n) => Init::Ok(Counter {
                n,
                terminated: None,
            }),
            CounterInit::Trapping(tx) => {
                ctx.trap_exit(true);
                Init::Ok(Counter {
                    n: 0,
                    terminated: Some(tx),
                })
            }
            CounterInit::Ignore => Init::Ignore,
            CounterInit::Stop => Init::Stop(ExitReason::Error("init refused".into())),
        }
    }
    async fn handle_call(&mut self, _: (), _: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(self.n)
    }
    async fn handle_cast(&mut self, by: u64, _: &mut Context<Self>) -> Action<Self> {
        self.n += by;
        Action::NoReply
    }
    async fn terminate(&mut self, reason: &ExitReason, _: &mut Context<Self>) {
        if let Some(tx) = &self.terminated {
            let _ = tx.send(reason.clone());
        }
    }
}

/// A GenServer is a child with `ChildSpec::new(id, || Server::start_link(args))`; it is linked
/// to its supervisor, which is its parent.
#[tokio::test(start_paused = true)]
async fn genserver_children_start_with_start_link() {
    let spec = ChildSpec::new("counter", || Counter::start_link(CounterInit::Ok(41)));
    let sup = Supervisor::start_link([spec], flags()).await.unwrap();
    let pid = pid_of(&sup, "counter").await;
    let counter = otp_core::gen_server::ServerRef::<Counter>::from_pid(pid).unwrap();
    counter.cast(1).unwrap();
    assert_eq!(counter.call(()).await.unwrap(), 42);
    let info = otp_core::process::process_info(pid).unwrap();
    assert_eq!(info.parent, Some(sup.pid()));
    assert_eq!(info.links, vec![sup.pid()]);
    // Crashed, it is restarted from its spec.
    let ended = watch_exit(pid);
    exit(pid, ExitReason::Kill);
    assert_eq!(ended.await, ExitReason::Killed);
    settle(&sup).await;
    let again = otp_core::gen_server::ServerRef::<Counter>::from_pid(pid_of(&sup, "counter").await)
        .unwrap();
    assert_eq!(again.call(()).await.unwrap(), 41);
}

/// SUP-15, GS-16: a GenServer child that traps exits has `terminate` called with `shutdown`
/// when its supervisor stops it (the exit signal comes from its parent).
#[tokio::test(start_paused = true)]
async fn genserver_child_terminate_runs_on_shutdown() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let spec = ChildSpec::new("counter", move || {
        Counter::start_link(CounterInit::Trapping(tx.clone()))
    });
    let sup = Supervisor::start_link([spec], flags()).await.unwrap();
    sup.terminate_child("counter").await.unwrap();
    assert_eq!(rx.recv().await, Some(ExitReason::Shutdown));
    sup.stop().await.unwrap();
}

/// SUP-20, SUP-21: a GenServer whose `init` ignores is an ignored child; one whose `init`
/// stops is a failed start.
#[tokio::test(start_paused = true)]
async fn sup20_genserver_start_results() {
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    let ignored = ChildSpec::new("ignored", || Counter::start_link(CounterInit::Ignore));
    assert_eq!(sup.start_child(ignored).await, Ok(None));
    let stopped = ChildSpec::new("stopped", || Counter::start_link(CounterInit::Stop));
    assert_eq!(
        sup.start_child(stopped).await,
        Err(SupervisorError::StartFailed(ChildStartError::Failed(
            ExitReason::Error("init refused".into())
        )))
    );
    assert_eq!(
        which(&sup).await,
        [("ignored".to_owned(), ChildStatus::NotRunning)]
    );
}

/// SUP-20: start functions may return a pid, `Result<Pid, E>` with `E: Into<ExitReason>`, or
/// `Result<Option<Pid>, ChildStartError>`; a start function that panics, in the call or in its
/// future, is a failed start.
#[tokio::test(start_paused = true)]
async fn sup20_start_function_results() {
    quiet_panics();
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    let plain = ChildSpec::new("plain", || async {
        spawn_link(|_| std::future::pending::<()>())
    });
    assert!(sup.start_child(plain).await.unwrap().is_some());
    let err = ChildSpec::new("err", || async { Err::<Pid, &str>("no") });
    assert_eq!(
        sup.start_child(err).await,
        Err(SupervisorError::StartFailed(ChildStartError::Failed(
            ExitReason::Error("no".into())
        )))
    );
    let opt = ChildSpec::new("opt", || async { Ok::<Option<Pid>, ChildStartError>(None) });
    assert_eq!(sup.start_child(opt).await, Ok(None));
    let log = Log::new();
    let panicking = Worker::new("panics", &log);
    panicking.plan(Plan::Panic);
    assert!(matches!(
        sup.start_child(panicking.spec()).await,
        Err(SupervisorError::StartFailed(ChildStartError::Failed(
            ExitReason::Panic(_)
        )))
    ));
    #[allow(unreachable_code)]
    let panics_in_call = ChildSpec::new("call", || -> std::future::Ready<Pid> {
        panic!("in the call")
    });
    assert!(matches!(
        sup.start_child(panics_in_call).await,
        Err(SupervisorError::StartFailed(ChildStartError::Failed(
            ExitReason::Panic(_)
        )))
    ));
    assert!(sup.is_alive());
}

/// Runs `f` in a process that traps exits; returns its result and the messages the process
/// received within 100 ms after.
async fn in_trapping_process<F, Fut, T>(f: F) -> (T, Vec<Info>)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    spawn_opt(
        SpawnOptions::new().trap_exit(true),
        move |mut me| async move {
            let out = f().await;
            let mut infos = Vec::new();
            while let Some(info) = me.recv_timeout(Duration::from_millis(100)).await {
                infos.push(info);
            }
            let _ = tx.send((out, infos));
        },
    );
    rx.await.unwrap()
}

/// SUP-19: a child that fails to start fails the supervisor's start with an error naming it;
/// the children started before it are stopped in reverse order; a trapping caller receives no
/// exit message.
#[tokio::test(start_paused = true)]
async fn sup19_child_start_failure_fails_the_start() {
    let log = Log::new();
    let bad = Worker::new("c", &log);
    bad.plan(Plan::Fail);
    let children = vec![
        Worker::trapping("a", &log, Duration::ZERO).spec(),
        Worker::trapping("b", &log, Duration::ZERO).spec(),
        bad.spec(),
        Worker::new("d", &log).spec(),
    ];
    let (result, infos) =
        in_trapping_process(move || Supervisor::start_link(children, SupFlags::default())).await;
    assert_eq!(
        result.unwrap_err(),
        SupervisorStartError::ChildFailed {
            id: "c".into(),
            reason: refused(),
        }
    );
    assert!(infos.is_empty(), "the caller got {infos:?}");
    assert_eq!(log.started(), ["a", "b"]);
    assert_eq!(log.stopping(), ["b", "a"]);
    for e in log.events() {
        if let Event::Started(_, pid) = e {
            assert!(!is_alive(pid));
        }
    }
}

/// SUP-19: a start function that panics fails the start the same way, with the panic.
#[tokio::test(start_paused = true)]
async fn sup19_child_start_panic_fails_the_start() {
    quiet_panics();
    let log = Log::new();
    let bad = Worker::new("bad", &log);
    bad.plan(Plan::Panic);
    let err = Supervisor::start_link([Worker::new("ok", &log).spec(), bad.spec()], flags())
        .await
        .unwrap_err();
    match err {
        SupervisorStartError::ChildFailed {
            id,
            reason: ChildStartError::Failed(ExitReason::Panic(msg)),
        } => {
            assert_eq!(id, "bad");
            assert!(msg.contains("panicked"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err_is_shutdown_reason());
}

/// A child supervisor that fails to start is, to its parent, a start error with reason
/// `{shutdown, failed_to_start_child ...}`.
fn err_is_shutdown_reason() -> bool {
    let e = SupervisorStartError::ChildFailed {
        id: "x".into(),
        reason: refused(),
    };
    e.to_exit_reason().is_clean() && matches!(e.to_exit_reason(), ExitReason::ShutdownWith(_))
}

/// supervisor_SUITE: sup_start_normal — starts with no children, and stops.
#[tokio::test(start_paused = true)]
async fn sup_start_normal() {
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    assert!(sup.is_alive());
    assert!(sup.which_children().await.unwrap().is_empty());
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(sup.wait_exit().await, ExitReason::Shutdown);
}

/// SUP-21, SUP-26, supervisor_SUITE: sup_start_ignore_child — a permanent child that ignores
/// its start is kept as not running; counts `[2,1,0,2]`.
#[tokio::test(start_paused = true)]
async fn sup_start_ignore_child() {
    let log = Log::new();
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    let c1 = Worker::new("child1", &log);
    c1.plan(Plan::Ignore);
    assert_eq!(sup.start_child(c1.spec()).await, Ok(None));
    let cpid2 = sup
        .start_child(Worker::new("child2", &log).spec())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        which(&sup).await,
        [
            ("child2".to_owned(), ChildStatus::Running(cpid2)),
            ("child1".to_owned(), ChildStatus::NotRunning),
        ]
    );
    assert_eq!(counts(&sup).await, [2, 1, 0, 2]);
}

/// SUP-21, supervisor_SUITE: sup_start_ignore_temporary_child — a temporary child that
/// ignores its start at the supervisor's start is not kept.
#[tokio::test(start_paused = true)]
async fn sup_start_ignore_temporary_child() {
    let log = Log::new();
    let c1 = Worker::new("child1", &log);
    c1.plan(Plan::Ignore);
    let sup = Supervisor::start_link(
        [
            c1.spec().restart(Restart::Temporary),
            Worker::new("child2", &log)
                .spec()
                .restart(Restart::Temporary),
        ],
        flags(),
    )
    .await
    .unwrap();
    let which = which(&sup).await;
    assert_eq!(which.len(), 1);
    assert_eq!(which[0].0, "child2");
    assert!(which[0].1.pid().is_some());
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
}

/// SUP-21, supervisor_SUITE: sup_start_ignore_temporary_child_start_child — the same through
/// `start_child`, which returns `Ok(None)`.
#[tokio::test(start_paused = true)]
async fn sup_start_ignore_temporary_child_start_child() {
    let log = Log::new();
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    let c1 = Worker::new("child1", &log);
    c1.plan(Plan::Ignore);
    assert_eq!(
        sup.start_child(c1.spec().restart(Restart::Temporary)).await,
        Ok(None)
    );
    let cpid2 = sup
        .start_child(
            Worker::new("child2", &log)
                .spec()
                .restart(Restart::Temporary),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        which(&sup).await,
        [("child2".to_owned(), ChildStatus::Running(cpid2))]
    );
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
}

/// SUP-22, supervisor_SUITE: sup_start_child_returns_error — a start error is returned and
/// nothing is kept.
#[tokio::test(start_paused = true)]
async fn sup_start_child_returns_error() {
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    let c1 = ChildSpec::new("child1", || async {
        Err::<Pid, ExitReason>(ExitReason::Error("reason".into()))
    });
    let c2 = ChildSpec::new("child2", || async { Err::<Pid, &str>("error_reason") });
    assert_eq!(
        sup.start_child(c1).await,
        Err(SupervisorError::StartFailed(ChildStartError::Failed(
            ExitReason::Error("reason".into())
        )))
    );
    assert_eq!(
        sup.start_child(c2).await,
        Err(SupervisorError::StartFailed(ChildStartError::Failed(
            ExitReason::Error("error_reason".into())
        )))
    );
    assert!(which(&sup).await.is_empty());
}

/// SUP-24, supervisor_SUITE: sup_start_restart_child_returns_error — `restart_child` of a
/// child whose start now fails returns the error and leaves it not running.
#[tokio::test(start_paused = true)]
async fn sup_start_restart_child_returns_error() {
    let log = Log::new();
    let w = Worker::new("child1", &log);
    w.plan(Plan::FailAfterFirst);
    let sup = Supervisor::start_link([w.spec()], flags()).await.unwrap();
    sup.terminate_child("child1").await.unwrap();
    assert_eq!(
        sup.restart_child("child1").await,
        Err(SupervisorError::StartFailed(refused()))
    );
    assert_eq!(
        which(&sup).await,
        [("child1".to_owned(), ChildStatus::NotRunning)]
    );
}

/// SUP-28, supervisor_SUITE: sup_start_map — `get_childspec` gives the spec with its defaults:
/// permanent, 5 s for a worker, infinity for a supervisor; an unknown id is not found.
#[tokio::test(start_paused = true)]
async fn sup_start_map() {
    let log = Log::new();
    let child1 = Worker::new("child1", &log).spec();
    let child2 = Worker::new("child2", &log)
        .spec()
        .shutdown(Shutdown::BrutalKill);
    let child3 = Worker::new("child3", &log)
        .spec()
        .kind(ChildType::Supervisor);
    let sup = Supervisor::start_link([child1, child2, child3], SupFlags::default())
        .await
        .unwrap();
    let s1 = sup.get_childspec("child1").await.unwrap();
    assert_eq!(
        (
            s1.id().as_str(),
            s1.restart_type(),
            s1.shutdown_mode(),
            s1.child_type()
        ),
        (
            "child1",
            Restart::Permanent,
            Shutdown::Timeout(Duration::from_secs(5)),
            ChildType::Worker
        )
    );
    let s2 = sup.get_childspec("child2").await.unwrap();
    assert_eq!(
        (s2.restart_type(), s2.shutdown_mode(), s2.child_type()),
        (Restart::Permanent, Shutdown::BrutalKill, ChildType::Worker)
    );
    let s3 = sup.get_childspec("child3").await.unwrap();
    assert_eq!(
        (s3.restart_type(), s3.shutdown_mode(), s3.child_type()),
        (
            Restart::Permanent,
            Shutdown::Infinity,
            ChildType::Supervisor
        )
    );
    assert!(!s3.is_significant());
    assert_eq!(
        sup.get_childspec("child4").await.unwrap_err(),
        SupervisorError::NotFound
    );
}

/// SUP-29, supervisor_SUITE: sup_start_map_faulty_specs — a spec without an id is refused at
/// start, naming the problem; nothing is started.
#[tokio::test(start_paused = true)]
async fn sup_start_map_faulty_specs() {
    let log = Log::new();
    let w = Worker::new("x", &log);
    let no_id = w.spec().with_id("");
    assert_eq!(
        Supervisor::start_link([no_id], SupFlags::default())
            .await
            .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::EmptyId)
    );
    assert_eq!(w.starts(), 0);
}

/// SUP-22 to SUP-27, supervisor_SUITE: child_adm — `start_child`, `terminate_child`,
/// `restart_child`, `delete_child`, `which_children` and `count_children`, with OTP's errors.
#[tokio::test(start_paused = true)]
async fn child_adm() {
    let log = Log::new();
    let child = Worker::new("child1", &log)
        .spec()
        .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
    let sup = Supervisor::start_link([child.clone()], flags())
        .await
        .unwrap();
    let cpid = pid_of(&sup, "child1").await;
    assert_eq!(
        which(&sup).await,
        [("child1".to_owned(), ChildStatus::Running(cpid))]
    );
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);

    // Start of an already running child.
    assert_eq!(
        sup.start_child(child.clone()).await,
        Err(SupervisorError::AlreadyStarted(cpid))
    );

    // Termination.
    assert_eq!(
        sup.terminate_child("hej").await,
        Err(SupervisorError::NotFound)
    );
    let ended = watch_exit(cpid);
    sup.terminate_child("child1").await.unwrap();
    assert_eq!(ended.await, ExitReason::Shutdown);
    assert_eq!(
        which(&sup).await,
        [("child1".to_owned(), ChildStatus::NotRunning)]
    );
    assert_eq!(counts(&sup).await, [1, 0, 0, 1]);
    // Terminating a child that is not running is fine.
    sup.terminate_child("child1").await.unwrap();

    // Start of an existing child that is not running.
    assert_eq!(
        sup.start_child(child.clone()).await,
        Err(SupervisorError::AlreadyPresent)
    );

    // Restart.
    let cpid2 = sup.restart_child("child1").await.unwrap().unwrap();
    assert_eq!(
        which(&sup).await,
        [("child1".to_owned(), ChildStatus::Running(cpid2))]
    );
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);
    assert_eq!(
        sup.restart_child("child1").await,
        Err(SupervisorError::Running)
    );
    assert_eq!(
        sup.restart_child("child2").await,
        Err(SupervisorError::NotFound)
    );

    // Deletion.
    assert_eq!(
        sup.delete_child("child1").await,
        Err(SupervisorError::Running)
    );
    assert_eq!(
        sup.delete_child("hej").await,
        Err(SupervisorError::NotFound)
    );
    sup.terminate_child("child1").await.unwrap();
    sup.delete_child("child1").await.unwrap();
    assert_eq!(
        sup.restart_child("child1").await,
        Err(SupervisorError::NotFound)
    );
    assert!(which(&sup).await.is_empty());
    assert_eq!(counts(&sup).await, [0, 0, 0, 0]);

    // Start.
    let cpid3 = sup.start_child(child).await.unwrap().unwrap();
    assert_eq!(
        which(&sup).await,
        [("child1".to_owned(), ChildStatus::Running(cpid3))]
    );
    assert_eq!(counts(&sup).await, [1, 1, 0, 1]);

    // A supervisor that is not running.
    sup.stop().await.unwrap();
    assert_eq!(sup.which_children().await, Err(SupervisorError::NoProc));
    assert_eq!(sup.count_children().await, Err(SupervisorError::NoProc));
    assert_eq!(
        sup.terminate_child("child1").await,
        Err(SupervisorError::NoProc)
    );
}

/// SUP-29, supervisor_SUITE: child_specs — invalid specs are refused, by `start_child` and at
/// start, naming the problem; valid ones are accepted; duplicate ids are refused.
#[tokio::test(start_paused = true)]
async fn child_specs() {
    let log = Log::new();
    let w = Worker::new("child", &log);
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    let bad_backoff = w
        .spec()
        .backoff(Backoff::new(Duration::ZERO, Duration::from_secs(1)));
    assert!(matches!(
        sup.start_child(bad_backoff.clone()).await,
        Err(SupervisorError::InvalidSpec(
            SpecError::InvalidBackoff { .. }
        ))
    ));
    assert_eq!(
        sup.start_child(w.spec().with_id("")).await,
        Err(SupervisorError::InvalidSpec(SpecError::EmptyId))
    );
    assert_eq!(
        sup.start_child(w.spec().restart(Restart::Transient).significant(true))
            .await,
        Err(SupervisorError::InvalidSpec(
            SpecError::SignificantWithoutAutoShutdown("child".into())
        ))
    );
    let once = ChildSpec::once("once", |()| async {
        spawn_link(|_| std::future::pending::<()>())
    })
    .restart(Restart::Permanent);
    assert_eq!(
        sup.start_child(once).await,
        Err(SupervisorError::InvalidSpec(SpecError::OnceNotTemporary(
            "once".into()
        )))
    );
    assert_eq!(w.starts(), 0);
    // Valid specs.
    for spec in [
        w.spec()
            .shutdown(Shutdown::Infinity)
            .kind(ChildType::Supervisor),
        w.spec().kind(ChildType::Supervisor),
        w.spec().restart(Restart::Temporary),
        w.spec().restart(Restart::Transient),
        w.spec().shutdown(Shutdown::Infinity),
    ] {
        assert!(sup.start_child(spec).await.unwrap().is_some());
        sup.terminate_child("child").await.unwrap();
        let _ = sup.delete_child("child").await;
    }
    // Faulty specs at start.
    assert!(matches!(
        Supervisor::start_link([bad_backoff], flags()).await,
        Err(SupervisorStartError::InvalidSpec(
            SpecError::InvalidBackoff { .. }
        ))
    ));
    assert_eq!(
        Supervisor::start_link([w.spec(), w.spec().kind(ChildType::Supervisor)], flags())
            .await
            .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::DuplicateId("child".into()))
    );
}

/// SUP-29, SUP-30, supervisor_SUITE: sup_flags — a zero period is refused; a significant
/// child needs an auto-shutdown and must not be permanent.
#[tokio::test(start_paused = true)]
async fn sup_flags() {
    let log = Log::new();
    assert_eq!(
        Supervisor::start_link([], SupFlags::default().period(Duration::ZERO))
            .await
            .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::ZeroPeriod)
    );
    let significant = Worker::new("s", &log)
        .spec()
        .restart(Restart::Transient)
        .significant(true);
    assert_eq!(
        Supervisor::start_link([significant.clone()], SupFlags::default())
            .await
            .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown("s".into()))
    );
    assert_eq!(
        Supervisor::start_link(
            [significant.restart(Restart::Permanent)],
            SupFlags::default().auto_shutdown(AutoShutdown::AnySignificant)
        )
        .await
        .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::SignificantPermanent("s".into()))
    );
    // Intensity 0 and a short period are fine.
    let sup = Supervisor::start_link(
        [],
        SupFlags::default()
            .intensity(0)
            .period(Duration::from_millis(1)),
    )
    .await
    .unwrap();
    sup.stop().await.unwrap();
}

/// SUP-26: `which_children` lists the latest started first, with pids, `Restarting` and
/// `NotRunning`, and each child's kind.
#[tokio::test(start_paused = true)]
async fn sup26_which_children_in_reverse_start_order() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [
            Worker::new("a", &log).spec(),
            Worker::new("b", &log).spec().kind(ChildType::Supervisor),
            Worker::new("c", &log).spec(),
        ],
        flags(),
    )
    .await
    .unwrap();
    sup.terminate_child("b").await.unwrap();
    let children = sup.which_children().await.unwrap();
    let ids: Vec<_> = children.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c", "b", "a"]);
    assert_eq!(children[1].status, ChildStatus::NotRunning);
    assert_eq!(children[1].kind, ChildType::Supervisor);
    assert_eq!(children[0].kind, ChildType::Worker);
    // A child added later comes first.
    sup.start_child(Worker::new("d", &log).spec())
        .await
        .unwrap();
    assert_eq!(sup.which_children().await.unwrap()[0].id, "d");
}

/// SUP-27: `count_children`: specs, active (alive), supervisors and workers (running or not).
#[tokio::test(start_paused = true)]
async fn sup27_count_children() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [
            Worker::new("a", &log).spec(),
            Worker::new("b", &log).spec().kind(ChildType::Supervisor),
            Worker::new("c", &log).spec().kind(ChildType::Supervisor),
        ],
        flags(),
    )
    .await
    .unwrap();
    assert_eq!(counts(&sup).await, [3, 3, 2, 1]);
    sup.terminate_child("c").await.unwrap();
    let c = sup.count_children().await.unwrap();
    assert_eq!((c.specs, c.active, c.supervisors, c.workers), (3, 2, 2, 1));
}

/// SUP-31: duplicate ids refuse the start; `stop` ends the supervisor with `normal`; a named
/// supervisor is found by name, and a second one with the name is refused.
#[tokio::test(start_paused = true)]
async fn sup31_elixir_specifics() {
    let log = Log::new();
    assert_eq!(
        Supervisor::start_link(
            [Worker::new("a", &log).spec(), Worker::new("a", &log).spec()],
            SupFlags::default()
        )
        .await
        .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::DuplicateId("a".into()))
    );
    let name = "sup31_named_supervisor";
    let sup = Supervisor::start_link_with([], SupFlags::default(), StartOptions::new().name(name))
        .await
        .unwrap();
    assert_eq!(SupervisorRef::whereis(name), Some(sup.clone()));
    assert_eq!(
        Supervisor::start_with([], SupFlags::default(), StartOptions::new().name(name))
            .await
            .unwrap_err(),
        SupervisorStartError::AlreadyStarted(sup.pid())
    );
    sup.stop().await.unwrap();
    assert_eq!(sup.wait_exit().await, ExitReason::Normal);
    assert_eq!(SupervisorRef::whereis(name), None);
}

/// A start-once child runs its start function once: started by `start_child`, it is
/// temporary and not restarted.
#[tokio::test(start_paused = true)]
async fn once_children_are_temporary() {
    let runs = Arc::new(AtomicUsize::new(0));
    let seen = runs.clone();
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    let once = ChildSpec::once("task", move |()| async move {
        seen.fetch_add(1, Ordering::SeqCst);
        spawn_link(|mut me| async move {
            let _ = me.recv().await;
        })
    });
    assert_eq!(once.restart_type(), Restart::Temporary);
    let pid = sup.start_child(once).await.unwrap().unwrap();
    // It ends on any message (normal).
    kill_child(pid, ExitReason::Normal).await;
    settle(&sup).await;
    assert!(which(&sup).await.is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// Supervisor refs: recovered from a pid, refused for a pid that is not a supervisor.
#[tokio::test(start_paused = true)]
async fn supervisor_ref_from_pid() {
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    assert_eq!(SupervisorRef::from_pid(sup.pid()).unwrap(), sup);
    let counter = Counter::start(CounterInit::Ok(0)).await.unwrap();
    assert!(SupervisorRef::from_pid(counter.pid()).is_err());
}

/// supervisor_SUITE: scale_start_stop_many_children (without its timing) — 1,000 then 10,000
/// children started with `start_child` and terminated one by one; and a supervisor started
/// with 10,000 children.
#[tokio::test(start_paused = true)]
async fn scale_start_stop_many_children() {
    let sup = Supervisor::start_link([], flags()).await.unwrap();
    let spec = |i: usize| {
        ChildSpec::new(i.to_string(), || async {
            spawn_link(|_| std::future::pending::<()>())
        })
    };
    for n in [1_000, 10_000] {
        for i in 0..n {
            sup.start_child(spec(i)).await.unwrap().unwrap();
        }
        assert_eq!(counts(&sup).await, [n, n, 0, n]);
        for i in 0..n {
            sup.terminate_child(i.to_string()).await.unwrap();
        }
        assert_eq!(counts(&sup).await, [n, 0, 0, n]);
        for i in 0..n {
            sup.delete_child(i.to_string()).await.unwrap();
        }
    }
    sup.stop().await.unwrap();

    let big = Supervisor::start_link((0..10_000).map(spec), flags())
        .await
        .unwrap();
    assert_eq!(counts(&big).await, [10_000, 10_000, 0, 10_000]);
    big.stop().await.unwrap();
}

/// SUP-03: the default flags are Elixir's: one_for_one, 3 restarts in 5 s, no auto-shutdown;
/// defaults of a child spec are permanent, a worker, 5 s shutdown, not significant.
#[test]
fn sup03_defaults() {
    let flags = SupFlags::default();
    assert_eq!(flags.strategy, Strategy::OneForOne);
    assert_eq!(flags.intensity, 3);
    assert_eq!(flags.period, Duration::from_secs(5));
    assert_eq!(flags.auto_shutdown, AutoShutdown::Never);
    let spec = ChildSpec::new("c", || async { Err::<Pid, &str>("unused") });
    assert_eq!(spec.restart_type(), Restart::Permanent);
    assert_eq!(spec.child_type(), ChildType::Worker);
    assert_eq!(
        spec.shutdown_mode(),
        Shutdown::Timeout(Duration::from_secs(5))
    );
    assert!(!spec.is_significant());
    assert!(spec.backoff_policy().is_none());
    let sup = ChildSpec::supervisor("s", || async { Err::<Pid, &str>("unused") });
    assert_eq!(sup.shutdown_mode(), Shutdown::Infinity);
}
