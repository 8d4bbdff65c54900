//! Conformance tests for `TaskSupervisor` (T-10 to T-12 of CONFORMANCE.md) and the
//! fire-and-forget `Task::start` / `start_link` (T-09), with the cases of Elixir's
//! `task/supervisor_test.exs` (and `task_test.exs` for T-09) they translate. Time runs on
//! tokio's paused clock.
//!
//! Where Elixir raises (`max_children` reached), ours returns `SupervisorError::MaxChildren`;
//! where Elixir's `Task.await` exits the caller, ours returns a `TaskError`. Cases about
//! `$callers` (T-13), `:proc_lib` initial calls, `spawn_opt` priorities and `{:global, _}` names
//! have no counterpart here.

mod common;

use std::future::pending;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use futures_util::future::poll_immediate;
use otp_core::process::{ExitReason, Info, Process, current_pid, exit, is_alive, process_info};
use otp_core::supervisor::{
    ChildStatus, Restart, Shutdown, SpecError, SupFlags, Supervisor, SupervisorError,
    SupervisorStartError,
};
use otp_core::task::{
    OnTimeout, StreamExit, Task, TaskError, TaskOptions, TaskSupervisor, TaskSupervisorOptions,
    TaskSupervisorRef,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

fn error(s: &str) -> ExitReason {
    ExitReason::error(s)
}

async fn start(options: TaskSupervisorOptions) -> TaskSupervisorRef {
    TaskSupervisor::start_link(options).await.unwrap()
}

async fn start_default() -> TaskSupervisorRef {
    start(TaskSupervisorOptions::new()).await
}

/// Waits until every task the supervisor has is gone and the supervisor has seen them go.
async fn no_tasks_left(sup: &TaskSupervisorRef) {
    for pid in sup.children().await.unwrap() {
        exit_reason(pid).await;
    }
    assert_eq!(sup.children().await.unwrap(), []);
}

/// The body of a task that traps exits and ignores every message: only a kill ends it. Tells
/// `ready` once it traps.
async fn stubborn(me: Process, ready: mpsc::UnboundedSender<()>) {
    let mut me = me;
    me.trap_exit(true);
    let _ = ready.send(());
    loop {
        let _ = me.recv().await;
    }
}

/// A future that panics with "boom".
async fn boom() {
    panic!("boom")
}

// ---------------------------------------------------------------------------------------------
// T-09: Task::start, Task::start_link, the child spec of a task

/// T-09: `Task::start` runs the future in a process linked to nothing; its crash affects
/// nobody.
#[tokio::test(start_paused = true)]
async fn t09_start_is_fire_and_forget() {
    quiet_panics();
    let caller = Probe::plain();
    let (tx, rx) = oneshot::channel();
    let pid = caller
        .run(move || async move {
            Task::start(async move {
                let _ = tx.send(current_pid());
            })
        })
        .await;
    assert_eq!(within("the task to run", rx).await.unwrap(), Some(pid));
    assert_eq!(links_of(caller.pid), []);
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let crashing = caller
        .run(|| async {
            Task::start(async {
                let _ = go_rx.await;
                boom().await
            })
        })
        .await;
    let crashed = watch_exit(crashing);
    go_tx.send(()).unwrap();
    assert_eq!(crashed.await, ExitReason::Panic("boom".into()));
    assert!(caller.survives().await);
}

/// T-09, task_test.exs "start_link/1": the task is linked to the caller, so an abnormal end
/// brings down a caller that does not trap exits; the future's `Err` is the task's exit
/// reason.
#[tokio::test(start_paused = true)]
async fn t09_start_link_links_the_task_to_the_caller() {
    let caller = Probe::plain();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = caller
        .run(move || async move {
            Task::start_link(async move {
                let _ = go_rx.await;
                Err::<(), _>(error("failed"))
            })
        })
        .await;
    assert_eq!(links_of(caller.pid), [pid]);
    assert_eq!(process_info(pid).unwrap().parent, Some(caller.pid));
    go_tx.send(()).unwrap();
    assert_eq!(caller.exit_reason().await, error("failed"));
}

/// T-09: `Task::child_spec` is temporary with a 5 s shutdown, as `use Task`: under a
/// supervisor the task runs linked to it, and is not restarted when it crashes; made
/// transient, it is.
#[tokio::test(start_paused = true)]
async fn t09_child_spec_defaults_to_temporary() {
    quiet_panics();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let spec = Task::child_spec("job", move || {
        let runs = counted.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(error("crash"))
        }
    });
    assert_eq!(spec.restart_type(), Restart::Temporary);
    assert_eq!(
        spec.shutdown_mode(),
        Shutdown::Timeout(Duration::from_secs(5))
    );
    let sup = Supervisor::start_link([spec.clone()], SupFlags::one_for_one())
        .await
        .unwrap();
    // The task ran once, crashed, and its temporary spec is gone.
    sleep(MS).await;
    assert_eq!(sup.which_children().await.unwrap(), []);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    sup.stop().await.unwrap();

    // Transient: restarted after each crash, until the intensity (3 in 5 s) is exceeded.
    let sup = Supervisor::start_link([spec.restart(Restart::Transient)], SupFlags::one_for_one())
        .await
        .unwrap();
    assert_eq!(sup.wait_exit().await, ExitReason::Shutdown);
    // One run under the first supervisor; here the first run and three restarts, the fourth
    // exceeding the intensity.
    assert_eq!(runs.load(Ordering::SeqCst), 1 + 4);
}

// ---------------------------------------------------------------------------------------------
// T-10: the task supervisor, start_child, children, terminate_child

/// T-10: options. A zero `max_children` or period is refused; a name registers the
/// supervisor; a name held already is an error naming the holder.
#[tokio::test(start_paused = true)]
async fn t10_options_are_checked_and_a_name_registers() {
    assert_eq!(
        TaskSupervisor::start_link(TaskSupervisorOptions::new().max_children(0))
            .await
            .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::ZeroMaxChildren)
    );
    assert_eq!(
        TaskSupervisor::start_link(TaskSupervisorOptions::new().period(Duration::ZERO))
            .await
            .unwrap_err(),
        SupervisorStartError::InvalidSpec(SpecError::ZeroPeriod)
    );
    let sup = start(TaskSupervisorOptions::new().name("t10_named_tasks")).await;
    assert_eq!(
        TaskSupervisorRef::whereis("t10_named_tasks"),
        Some(sup.clone())
    );
    assert_eq!(TaskSupervisorRef::from_pid(sup.pid()).unwrap(), sup);
    assert_eq!(
        TaskSupervisor::start_link(TaskSupervisorOptions::new().name("t10_named_tasks"))
            .await
            .unwrap_err(),
        SupervisorStartError::AlreadyStarted(sup.pid())
    );
    sup.stop().await.unwrap();
    assert_eq!(TaskSupervisorRef::whereis("t10_named_tasks"), None);
}

/// T-10, supervisor_test.exs "can be supervised directly": a task supervisor is a child of
/// another supervisor through its child spec, a supervisor child.
#[tokio::test(start_paused = true)]
async fn t10_can_be_supervised_directly() {
    let spec = TaskSupervisor::child_spec(
        "tasks",
        TaskSupervisorOptions::new().name("t10_supervised_tasks"),
    );
    assert_eq!(
        spec.child_type(),
        otp_core::supervisor::ChildType::Supervisor
    );
    let top = Supervisor::start_link([spec], SupFlags::one_for_one())
        .await
        .unwrap();
    let tasks = TaskSupervisorRef::whereis("t10_supervised_tasks").unwrap();
    assert_eq!(
        top.which_children().await.unwrap()[0].status,
        ChildStatus::Running(tasks.pid())
    );
    assert_eq!(tasks.children().await.unwrap(), []);
    let task = tasks.start_child(pending::<()>()).await.unwrap();
    // Stopping the tree stops the task supervisor, which stops its task.
    let ended = watch_exit(task);
    top.stop().await.unwrap();
    assert_eq!(ended.await, ExitReason::Shutdown);
}

/// T-10, supervisor_test.exs "counts and returns children": none at first; then the running
/// tasks, in start order, counted as active workers.
#[tokio::test(start_paused = true)]
async fn t10_counts_and_returns_children() {
    let sup = start_default().await;
    assert_eq!(sup.children().await.unwrap(), []);
    let counts = sup.count_children().await.unwrap();
    assert_eq!(
        [
            counts.specs,
            counts.active,
            counts.supervisors,
            counts.workers
        ],
        [0, 0, 0, 0]
    );
    let a = sup.start_child(pending::<()>()).await.unwrap();
    let b = sup.spawn_nolink(pending::<()>()).await.unwrap();
    assert_eq!(sup.children().await.unwrap(), [a, b.pid()]);
    let counts = sup.count_children().await.unwrap();
    assert_eq!(
        [
            counts.specs,
            counts.active,
            counts.supervisors,
            counts.workers
        ],
        [2, 2, 0, 2]
    );
    drop(b);
    sup.stop().await.unwrap();
}

/// T-10, supervisor_test.exs "start_child/1": the task runs under the supervisor, linked to
/// it and not to the caller; once it has ended it is forgotten.
#[tokio::test(start_paused = true)]
async fn t10_start_child_runs_a_task_under_the_supervisor() {
    let sup = start_default().await;
    let caller = Probe::plain();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel();
    let s = sup.clone();
    let pid = caller
        .run(move || async move {
            s.start_child(async move {
                let _ = ready_tx.send(());
                let _ = go_rx.await;
                let _ = done_tx.send("done");
            })
            .await
        })
        .await
        .unwrap();
    assert_eq!(sup.children().await.unwrap(), [pid]);
    assert_eq!(links_of(pid), [sup.pid()]);
    assert_eq!(links_of(caller.pid), []);
    assert_eq!(process_info(pid).unwrap().parent, Some(sup.pid()));
    within("the task to start", ready_rx.recv()).await.unwrap();
    let ended = watch_exit(pid);
    go_tx.send(()).unwrap();
    assert_eq!(within("the task's work", done_rx).await.unwrap(), "done");
    assert_eq!(ended.await, ExitReason::Normal);
    assert_eq!(sup.children().await.unwrap(), []);
}

/// T-10: a temporary task that crashes is not restarted, whatever the reason, and the
/// supervisor carries on; the crash is the task's alone.
#[tokio::test(start_paused = true)]
async fn t10_a_temporary_task_is_never_restarted() {
    quiet_panics();
    let sup = start_default().await;
    assert_eq!(TaskOptions::new().restart_type(), Restart::Temporary);
    let runs = Arc::new(AtomicUsize::new(0));
    // A panic, an error, a kill.
    for how in 0..3 {
        let counted = runs.clone();
        let pid = sup
            .start_child_with(TaskOptions::new(), move |_| {
                counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    match how {
                        0 => panic!("boom"),
                        1 => return Err(error("failed")),
                        _ => pending::<()>().await,
                    }
                    Ok::<(), ExitReason>(())
                }
            })
            .await
            .unwrap();
        if how == 2 {
            exit(pid, ExitReason::Kill);
        }
        no_tasks_left(&sup).await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert!(sup.is_alive());
}

/// T-10, supervisor_test.exs "start_child/1 with custom restart": a permanent task is started
/// again when it ends, even with `shutdown`; a transient one after an abnormal end only.
#[tokio::test(start_paused = true)]
async fn t10_start_child_with_custom_restart() {
    quiet_panics();
    let sup = start_default().await;
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let pid = sup
        .start_child_with(TaskOptions::new().restart(Restart::Permanent), move |_| {
            let _ = ready_tx.send(current_pid());
            pending::<()>()
        })
        .await
        .unwrap();
    assert_eq!(ready_rx.recv().await.unwrap(), Some(pid));
    let ended = watch_exit(pid);
    exit(pid, ExitReason::Shutdown);
    assert_eq!(ended.await, ExitReason::Shutdown);
    let again = within("the restart", ready_rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(again, pid);
    assert_eq!(sup.children().await.unwrap(), [again]);
    sup.terminate_child(again).await.unwrap();

    // Transient: a panic restarts it, a normal end does not.
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    sup.start_child_with(TaskOptions::new().restart(Restart::Transient), move |_| {
        let run = counted.fetch_add(1, Ordering::SeqCst);
        let ready = ready_tx.clone();
        async move {
            let _ = ready.send(());
            if run == 0 {
                panic!("first run fails");
            }
        }
    })
    .await
    .unwrap();
    within("the first run", ready_rx.recv()).await.unwrap();
    within("the restart", ready_rx.recv()).await.unwrap();
    no_tasks_left(&sup).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// T-10: restarted tasks count toward the supervisor's restart intensity; beyond it the
/// supervisor gives up with `shutdown`, its other tasks stopped.
#[tokio::test(start_paused = true)]
async fn t10_restarts_count_toward_the_intensity() {
    quiet_panics();
    let sup = start(TaskSupervisorOptions::new().intensity(2)).await;
    let bystander = sup.start_child(pending::<()>()).await.unwrap();
    let bystander_ended = watch_exit(bystander);
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    sup.start_child_with(TaskOptions::new().restart(Restart::Permanent), move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>(error("always failing")) }
    })
    .await
    .unwrap();
    assert_eq!(sup.wait_exit().await, ExitReason::Shutdown);
    // The first run and two restarts; the third restart exceeds the intensity.
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(bystander_ended.await, ExitReason::Shutdown);
}

/// T-10, supervisor_test.exs "start_child/1 with custom shutdown": a brutal-kill task is
/// killed at once when the supervisor stops, even though it traps exits; with the default
/// 5 s, a task that traps exits and does not end is killed after 5 s; one that ends on the
/// `shutdown` message ends `shutdown`.
#[tokio::test(start_paused = true)]
async fn t10_start_child_with_custom_shutdown() {
    // Brutal kill.
    let sup = start_default().await;
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let pid = sup
        .start_child_once(Shutdown::BrutalKill, move |me| stubborn(me, ready_tx))
        .await
        .unwrap();
    within("the task to trap exits", ready_rx.recv())
        .await
        .unwrap();
    let ended = watch_exit(pid);
    let began = Instant::now();
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(ended.await, ExitReason::Killed);
    assert_eq!(began.elapsed(), Duration::ZERO);

    // The default 5 s, then a kill.
    let sup = start_default().await;
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    assert_eq!(
        TaskOptions::new().shutdown_mode(),
        Shutdown::Timeout(Duration::from_secs(5))
    );
    let stubborn_pid = sup
        .start_child_with(TaskOptions::new(), move |me| stubborn(me, ready_tx.clone()))
        .await
        .unwrap();
    within("the task to trap exits", ready_rx.recv())
        .await
        .unwrap();
    // A task that cleans up on `shutdown`, with 1 s to do it.
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let clean_pid = sup
        .start_child_once(
            Shutdown::Timeout(Duration::from_secs(1)),
            move |mut me| async move {
                me.trap_exit(true);
                let _ = ready_tx.send(());
                loop {
                    if let Info::Exit(signal) = me.recv().await {
                        sleep(100 * MS).await;
                        return signal.reason().clone();
                    }
                }
            },
        )
        .await
        .unwrap();
    within("the task to trap exits", ready_rx.recv())
        .await
        .unwrap();
    let stubborn_ended = watch_exit(stubborn_pid);
    let clean_ended = watch_exit(clean_pid);
    let began = Instant::now();
    sup.stop().await.unwrap();
    assert_eq!(began.elapsed(), Duration::from_secs(5));
    assert_eq!(stubborn_ended.await, ExitReason::Killed);
    assert_eq!(clean_ended.await, ExitReason::Shutdown);
}

/// T-10, supervisor_test.exs "terminate_child/2": the task is stopped and forgotten; a second
/// time it is not found.
#[tokio::test(start_paused = true)]
async fn t10_terminate_child() {
    let sup = start_default().await;
    let pid = sup.start_child(pending::<()>()).await.unwrap();
    assert_eq!(sup.children().await.unwrap(), [pid]);
    let ended = watch_exit(pid);
    assert_eq!(sup.terminate_child(pid).await, Ok(()));
    assert_eq!(ended.await, ExitReason::Shutdown);
    assert_eq!(sup.children().await.unwrap(), []);
    assert_eq!(
        sup.terminate_child(pid).await,
        Err(SupervisorError::NotFound)
    );
    // A permanent task terminated is not restarted.
    let permanent = sup
        .start_child_with(TaskOptions::new().restart(Restart::Permanent), |_| {
            pending::<()>()
        })
        .await
        .unwrap();
    sup.terminate_child(permanent).await.unwrap();
    assert_eq!(sup.children().await.unwrap(), []);
}

/// T-10, T-11, supervisor_test.exs "raises when :max_children is reached" (for `async/1` and
/// `async_nolink/1`): every way to start a task is refused with a typed error while
/// `max_children` tasks exist, and accepted again once one has ended.
#[tokio::test(start_paused = true)]
async fn t10_max_children_reached_is_an_error() {
    let sup = start(TaskSupervisorOptions::new().max_children(1)).await;
    let first = sup.spawn_nolink(pending::<()>()).await.unwrap();
    assert_eq!(
        sup.spawn_nolink(async {}).await.unwrap_err(),
        SupervisorError::MaxChildren
    );
    assert_eq!(
        sup.spawn(async {}).await.unwrap_err(),
        SupervisorError::MaxChildren
    );
    assert_eq!(
        sup.start_child(async {}).await,
        Err(SupervisorError::MaxChildren)
    );
    assert_eq!(
        sup.start_child_with(TaskOptions::new().restart(Restart::Permanent), |_| async {})
            .await,
        Err(SupervisorError::MaxChildren)
    );
    assert_eq!(sup.children().await.unwrap(), [first.pid()]);
    assert_eq!(first.shutdown(Duration::from_secs(5)).await, Ok(None));
    no_tasks_left(&sup).await;
    let again = sup.spawn_nolink(async { "room again" }).await.unwrap();
    assert_eq!(again.await, Ok("room again"));
}

/// T-10: a supervisor that is not running refuses every call with `NoProc`; nothing panics.
#[tokio::test(start_paused = true)]
async fn t10_a_stopped_supervisor_refuses_with_noproc() {
    let sup = start_default().await;
    sup.stop().await.unwrap();
    assert!(!sup.is_alive());
    assert_eq!(
        sup.start_child(async {}).await,
        Err(SupervisorError::NoProc)
    );
    assert_eq!(
        sup.spawn_nolink(async {}).await.unwrap_err(),
        SupervisorError::NoProc
    );
    assert_eq!(
        sup.spawn(async {}).await.unwrap_err(),
        SupervisorError::NoProc
    );
    assert_eq!(sup.children().await, Err(SupervisorError::NoProc));
    assert_eq!(
        sup.terminate_child(sup.pid()).await,
        Err(SupervisorError::NoProc)
    );
    let items: Vec<_> = sup
        .async_stream_nolink([1], |x| async move { x })
        .collect()
        .await;
    assert_eq!(
        items,
        [Err(StreamExit {
            error: TaskError::NotStarted(SupervisorError::NoProc),
            input: None
        })]
    );
}

/// T-10, supervisor_test.exs "async/1 spawns tasks under the supervisor": the task is a child
/// of the supervisor, linked to the caller (before it runs) and to the supervisor, and its
/// value comes back.
#[tokio::test(start_paused = true)]
async fn t10_async_spawns_tasks_under_the_supervisor() {
    let sup = start_default().await;
    let caller = Probe::plain();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let s = sup.clone();
    let task = caller
        .run(move || {
            s.spawn(async move {
                let _ = go_rx.await;
                "done"
            })
        })
        .await
        .unwrap();
    assert_eq!(sup.children().await.unwrap(), [task.pid()]);
    assert_eq!(task.owner(), Some(caller.pid));
    assert_eq!(links_of(caller.pid), [task.pid()]);
    let mut task_links = links_of(task.pid());
    task_links.sort();
    let mut expected = vec![sup.pid(), caller.pid];
    expected.sort();
    assert_eq!(task_links, expected);
    go_tx.send(()).unwrap();
    assert_eq!(task.await, Ok("done"));
    no_tasks_left(&sup).await;
    assert!(caller.survives().await);
}

/// T-10 (T-01 through the supervisor): the link to the caller works both ways. A task that
/// crashes brings down a caller that does not trap exits; a caller that is killed takes its
/// task down; the supervisor forgets both tasks.
#[tokio::test(start_paused = true)]
async fn t10_async_links_the_task_to_the_caller_both_ways() {
    quiet_panics();
    let sup = start_default().await;
    let caller = Probe::plain();
    let s = sup.clone();
    let task = caller
        .run(move || {
            s.spawn(async {
                sleep(MS).await;
                panic!("boom")
            })
        })
        .await
        .unwrap();
    assert_eq!(caller.exit_reason().await, ExitReason::Panic("boom".into()));
    assert_eq!(
        task.await,
        Err::<(), _>(TaskError::Exited(ExitReason::Panic("boom".into())))
    );
    no_tasks_left(&sup).await;

    let caller = Probe::plain();
    let s = sup.clone();
    let task = caller.run(move || s.spawn(pending::<()>())).await.unwrap();
    let ended = watch_exit(task.pid());
    exit(caller.pid, ExitReason::Kill);
    assert_eq!(caller.exit_reason().await, ExitReason::Killed);
    assert_eq!(ended.await, ExitReason::Killed);
    assert_eq!(task.await, Err(TaskError::Exited(ExitReason::Killed)));
    no_tasks_left(&sup).await;
    assert!(sup.is_alive());
}

/// T-10, T-11, supervisor_test.exs "async/1 with custom shutdown" and "async_nolink/1 with
/// custom shutdown": a trapping caller; the task traps exits too, but with a brutal-kill
/// shutdown the supervisor's stop kills it at once, and the handle gives `killed`. The caller
/// of `async` gets the task's `killed` through the link, as a message; that of `async_nolink`
/// gets nothing.
#[tokio::test(start_paused = true)]
async fn t10_t11_async_and_async_nolink_with_custom_shutdown() {
    for linked in [true, false] {
        let sup = start_default().await;
        let mut caller = Probe::trapping();
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
        let s = sup.clone();
        let task = caller
            .run(move || async move {
                let task = move |me| stubborn(me, ready_tx);
                if linked {
                    s.spawn_with(Shutdown::BrutalKill, task).await
                } else {
                    s.spawn_nolink_with(Shutdown::BrutalKill, task).await
                }
            })
            .await
            .unwrap();
        within("the task to trap exits", ready_rx.recv())
            .await
            .unwrap();
        let pid = task.pid();
        let began = Instant::now();
        sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
            .await
            .unwrap();
        assert_eq!(began.elapsed(), Duration::ZERO);
        assert_eq!(task.await, Err(TaskError::Exited(ExitReason::Killed)));
        let messages: Vec<_> = caller.flush().await.into_iter().map(expect_exit).collect();
        let expected = if linked {
            vec![(Some(pid), ExitReason::Killed)]
        } else {
            vec![]
        };
        assert_eq!(messages, expected, "linked: {linked}");
    }
}

/// T-10, supervisor_test.exs "await/1 exits on task error / on task exit / on task throw": the
/// failure is the handle's error (Elixir exits the caller with it); a trapping caller survives.
#[tokio::test(start_paused = true)]
async fn t10_await_on_task_error_and_exit() {
    quiet_panics();
    let sup = start_default().await;
    let caller = Probe::trapping();
    let s = sup.clone();
    let outcomes = caller
        .run(move || async move {
            let raised = s.spawn(async { panic!("oops") }).await.unwrap();
            let exited = s
                .spawn_with(Shutdown::BrutalKill, |me| async move {
                    me.exit(me.pid(), ExitReason::error("unknown"));
                    pending::<()>().await
                })
                .await
                .unwrap();
            (raised.await, exited.await)
        })
        .await;
    assert_eq!(
        outcomes,
        (
            Err::<(), _>(TaskError::Exited(ExitReason::Panic("oops".into()))),
            Err::<(), _>(TaskError::Exited(error("unknown")))
        )
    );
    assert!(caller.survives().await);
}

/// T-10, supervisor_test.exs "await/1 demonitors and unalias on timeout": the wait times out
/// (here the task is killed too, where Elixir exits the caller, which takes the linked task
/// down) and no late value is ever seen; the supervisor forgets the task.
#[tokio::test(start_paused = true)]
async fn t10_await_times_out() {
    let sup = start_default().await;
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let task = sup
        .spawn(async move {
            let _ = go_rx.await;
            "done"
        })
        .await
        .unwrap();
    let ended = watch_exit(task.pid());
    assert_eq!(
        task.await_timeout(Duration::ZERO).await,
        Err(TaskError::Timeout)
    );
    assert_eq!(ended.await, ExitReason::Killed);
    assert!(go_tx.send(()).is_err());
    no_tasks_left(&sup).await;
}

// ---------------------------------------------------------------------------------------------
// T-11: async_nolink

/// T-11, supervisor_test.exs "async_nolink/1 spawns a task under the supervisor without
/// linking to the caller": the task is a child of the supervisor, linked to it only; the
/// value comes back through the handle, and the caller's mailbox stays empty (Elixir's reply
/// and `:DOWN` are read by the handle).
#[tokio::test(start_paused = true)]
async fn t11_async_nolink_spawns_a_task_under_the_supervisor_without_linking_to_the_caller() {
    let sup = start_default().await;
    let mut caller = Probe::trapping();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let s = sup.clone();
    let task = caller
        .run(move || async move {
            s.spawn_nolink(async move {
                let _ = ready_tx.send(());
                let _ = go_rx.await;
                "done"
            })
            .await
        })
        .await
        .unwrap();
    assert_eq!(sup.children().await.unwrap(), [task.pid()]);
    assert_eq!(task.owner(), None);
    assert_eq!(links_of(caller.pid), []);
    assert_eq!(links_of(task.pid()), [sup.pid()]);
    assert_eq!(process_info(task.pid()).unwrap().parent, Some(sup.pid()));
    within("the task to start", ready_rx.recv()).await.unwrap();
    go_tx.send(()).unwrap();
    assert_eq!(task.await, Ok("done"));
    no_tasks_left(&sup).await;
    assert!(caller.flush().await.is_empty());
}

/// T-11: a crash under async_nolink is a value. The task panics, exits with an error, or is
/// killed: the caller — not trapping exits — survives each, gets the reason from the handle,
/// and has nothing in its mailbox; the supervisor forgets the task (temporary) and carries on.
#[tokio::test(start_paused = true)]
async fn t11_a_crash_under_async_nolink_is_a_value() {
    quiet_panics();
    let sup = start_default().await;
    let mut caller = Probe::plain();
    let s = sup.clone();
    let outcomes = caller
        .run(move || async move {
            let panicked = s.spawn_nolink(async { panic!("boom") }).await.unwrap();
            let failed = s
                .spawn_nolink_with(Shutdown::BrutalKill, |me| async move {
                    sleep(MS).await;
                    me.exit(me.pid(), ExitReason::error("failed"));
                    pending::<()>().await
                })
                .await
                .unwrap();
            let killed = s.spawn_nolink(pending::<()>()).await.unwrap();
            exit(killed.pid(), ExitReason::Kill);
            (panicked.await, failed.await, killed.await)
        })
        .await;
    assert_eq!(
        outcomes,
        (
            Err::<(), _>(TaskError::Exited(ExitReason::Panic("boom".into()))),
            Err::<(), _>(TaskError::Exited(error("failed"))),
            Err::<(), _>(TaskError::Exited(ExitReason::Killed))
        )
    );
    assert!(caller.survives().await);
    assert!(caller.flush().await.is_empty());
    no_tasks_left(&sup).await;
    assert!(sup.is_alive());
}

/// T-11: as any `Task`, dropping the handle shuts the task down, and `ignore` lets it run on,
/// still supervised.
#[tokio::test(start_paused = true)]
async fn t11_dropping_the_handle_shuts_the_task_down() {
    let sup = start_default().await;
    let task = sup.spawn_nolink(pending::<()>()).await.unwrap();
    let ended = watch_exit(task.pid());
    drop(task);
    assert_eq!(ended.await, ExitReason::Shutdown);
    no_tasks_left(&sup).await;

    let task = sup.spawn_nolink(pending::<()>()).await.unwrap();
    let pid = task.pid();
    assert_eq!(task.ignore(), Ok(None));
    sleep(MS).await;
    assert_eq!(sup.children().await.unwrap(), [pid]);
    sup.stop().await.unwrap();
    assert!(!is_alive(pid));
}

/// T-11: a start abandoned while the supervisor starts the task (the caller stopped waiting)
/// leaves nothing running: the handle, dropped on its way back, shuts the task down.
#[tokio::test(start_paused = true)]
async fn t11_an_abandoned_start_leaves_no_task_behind() {
    let sup = start_default().await;
    let (started_tx, mut started_rx) = mpsc::unbounded_channel();
    {
        let mut start = pin!(sup.spawn_nolink(async move {
            let _ = started_tx.send(current_pid());
            pending::<()>().await
        }));
        // The call is sent; the supervisor has not run yet.
        assert!(poll_immediate(start.as_mut()).await.is_none());
    }
    // The supervisor started the task, then the handle it sent back was dropped.
    let children = sup.children().await.unwrap();
    assert_eq!(children.len(), 1);
    no_tasks_left(&sup).await;
    assert!(!is_alive(children[0]));
    // The shutdown came before the task first ran.
    assert!(started_rx.try_recv().is_err());
}

// ---------------------------------------------------------------------------------------------
// T-12: async streams under the supervisor

/// Elixir's `&sleep/1` of the tests: sleeps `ms` milliseconds, then gives `ms`.
async fn sleep_ms(ms: u64) -> u64 {
    if ms == u64::MAX {
        pending::<()>().await;
    }
    sleep(Duration::from_millis(ms)).await;
    ms
}

/// T-12, supervisor_test.exs "async_stream_nolink streams an enumerable with fun" and "with
/// slowest first": values in input order, every task a child of the supervisor.
#[tokio::test(start_paused = true)]
async fn t12_async_stream_nolink_streams_an_enumerable_with_fun() {
    let sup = start_default().await;
    for inputs in [[1, 2, 3, 4], [4, 3, 2, 1]] {
        let sup_pid = sup.pid();
        let items: Vec<_> = sup
            .async_stream_nolink(inputs, move |ms| async move {
                let me = current_pid().unwrap();
                let parent = process_info(me).unwrap().parent;
                (sleep_ms(ms).await, parent == Some(sup_pid))
            })
            .max_concurrency(4)
            .unwrap()
            .map(|item| item.unwrap())
            .collect()
            .await;
        assert_eq!(items, inputs.map(|ms| (ms, true)));
        no_tasks_left(&sup).await;
    }
}

/// T-12, supervisor_test.exs "async_stream_nolink streams an enumerable with exits": every
/// failure is an `Err` element, and the consumer — not trapping exits — survives with an empty
/// mailbox.
#[tokio::test(start_paused = true)]
async fn t12_async_stream_nolink_streams_an_enumerable_with_exits() {
    let sup = start_default().await;
    let mut caller = Probe::plain();
    let s = sup.clone();
    let items = caller
        .run(move || async move {
            s.async_stream_nolink(1..=4u64, |n| async move {
                let me = current_pid().unwrap();
                tokio::task::yield_now().await;
                exit(me, ExitReason::error(n));
                pending::<u64>().await
            })
            .max_concurrency(4)
            .unwrap()
            .collect::<Vec<_>>()
            .await
        })
        .await;
    let expected: Vec<_> = (1..=4u64)
        .map(|n| {
            Err(StreamExit {
                error: TaskError::Exited(ExitReason::error(n)),
                input: None,
            })
        })
        .collect();
    assert_eq!(items, expected);
    assert!(caller.survives().await);
    assert!(caller.flush().await.is_empty());
    no_tasks_left(&sup).await;
}

/// T-12 (T-08 under the supervisor): the linked `async_stream` passes a task's crash on to a
/// consumer that does not trap exits, as Elixir's link does.
#[tokio::test(start_paused = true)]
async fn t12_async_stream_passes_a_crash_to_the_consumer() {
    let sup = start_default().await;
    let caller = Probe::plain();
    let s = sup.clone();
    let _ = caller
        .try_run(move || async move {
            s.async_stream([1u64], |n| async move {
                exit(current_pid().unwrap(), ExitReason::error(n));
                pending::<u64>().await
            })
            .collect::<Vec<_>>()
            .await
        })
        .await;
    assert_eq!(caller.exit_reason().await, error("1"));
    no_tasks_left(&sup).await;
}

/// T-12, supervisor_test.exs "shuts down unused tasks" and "shuts down unused tasks without
/// leaking messages": a halted stream kills its tasks, which the supervisor forgets; the
/// consumer has no new link and no message.
#[tokio::test(start_paused = true)]
async fn t12_shuts_down_unused_tasks() {
    let sup = start_default().await;
    let mut caller = Probe::plain();
    let s = sup.clone();
    let first = caller
        .run(move || async move {
            s.async_stream_nolink([0, u64::MAX, u64::MAX, u64::MAX], sleep_ms)
                .max_concurrency(4)
                .unwrap()
                .take(1)
                .collect::<Vec<_>>()
                .await
        })
        .await;
    assert_eq!(first, [Ok(0)]);
    no_tasks_left(&sup).await;
    assert_eq!(links_of(caller.pid), []);
    assert!(caller.flush().await.is_empty());
}

/// T-12, supervisor_test.exs "raises an error if :max_children is reached with clean stream
/// shutdown": the refused task is the stream's last element, `NotStarted(MaxChildren)`; the
/// stream's other task is killed and nothing is left behind.
#[tokio::test(start_paused = true)]
async fn t12_max_children_reached_ends_the_stream_cleanly() {
    let sup = start(TaskSupervisorOptions::new().max_children(1)).await;
    let mut caller = Probe::plain();
    let s = sup.clone();
    let items = caller
        .run(move || async move {
            s.async_stream_nolink([u64::MAX, u64::MAX, u64::MAX], sleep_ms)
                .max_concurrency(2)
                .unwrap()
                .zip_input_on_exit(true)
                .collect::<Vec<_>>()
                .await
        })
        .await;
    assert_eq!(
        items,
        [Err(StreamExit {
            error: TaskError::NotStarted(SupervisorError::MaxChildren),
            input: Some(u64::MAX)
        })]
    );
    no_tasks_left(&sup).await;
    assert_eq!(links_of(caller.pid), []);
    assert!(caller.flush().await.is_empty());
}

/// T-12, supervisor_test.exs "async_stream with timeout and :zip_input_on_exit set to true":
/// the timed-out task is killed and its element carries its input.
#[tokio::test(start_paused = true)]
async fn t12_with_timeout_and_zip_input_on_exit() {
    let sup = start_default().await;
    let items: Vec<_> = sup
        .async_stream([1, 100], sleep_ms)
        .zip_input_on_exit(true)
        .on_timeout(OnTimeout::KillTask)
        .timeout(50 * MS)
        .collect()
        .await;
    assert_eq!(
        items,
        [
            Ok(1),
            Err(StreamExit {
                error: TaskError::Timeout,
                input: Some(100)
            })
        ]
    );
    no_tasks_left(&sup).await;
}

/// T-12: the stream's tasks are the supervisor's children, stopped per the stream's
/// `shutdown` when the supervisor stops; the consumer then sees them exit `shutdown` (or
/// `killed`).
#[tokio::test(start_paused = true)]
async fn t12_stream_tasks_are_stopped_with_the_supervisor() {
    let sup = start_default().await;
    let mut stream = pin!(
        sup.async_stream_nolink([u64::MAX, u64::MAX], sleep_ms)
            .max_concurrency(2)
            .unwrap()
            .ordered(false)
            .timeout(Duration::MAX)
    );
    // Polled once, the stream has asked for both tasks.
    assert!(poll_immediate(stream.next()).await.is_none());
    sleep(MS).await;
    assert!(poll_immediate(stream.next()).await.is_none());
    assert_eq!(sup.children().await.unwrap().len(), 2);
    sup.stop().await.unwrap();
    let items: Vec<_> = stream.collect().await;
    let exit = Err(StreamExit {
        error: TaskError::Exited(ExitReason::Shutdown),
        input: None,
    });
    assert_eq!(items, [exit.clone(), exit]);
}

// ---------------------------------------------------------------------------------------------
// T-10: the supervisor's shutdown stops its tasks

/// T-10 (DS-07): stopping the supervisor stops every task at once, each per its shutdown:
/// fire-and-forget and permanent tasks end `shutdown` and are not restarted, an awaited
/// `async_nolink` task gives `Exited(Shutdown)` to its handle, a task that traps exits is
/// killed after its 5 s. A caller linked to an `async` task that does not trap exits goes down
/// with `shutdown`, as in Elixir.
#[tokio::test(start_paused = true)]
async fn t10_stopping_the_supervisor_stops_its_tasks() {
    let sup = start_default().await;
    let fire = sup.start_child(pending::<()>()).await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let permanent = sup
        .start_child_with(TaskOptions::new().restart(Restart::Permanent), move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            pending::<()>()
        })
        .await
        .unwrap();
    let awaited = sup.spawn_nolink(pending::<()>()).await.unwrap();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let stubborn_pid = sup
        .start_child_once(Shutdown::Timeout(Duration::from_secs(5)), move |me| {
            stubborn(me, ready_tx)
        })
        .await
        .unwrap();
    within("the task to trap exits", ready_rx.recv())
        .await
        .unwrap();
    let caller = Probe::plain();
    let s = sup.clone();
    let linked = caller.run(move || s.spawn(pending::<()>())).await.unwrap();

    let ends = [fire, permanent, stubborn_pid, linked.pid()].map(watch_exit);
    let began = Instant::now();
    sup.stop().await.unwrap();
    assert_eq!(began.elapsed(), Duration::from_secs(5));
    let [fire_end, permanent_end, stubborn_end, linked_end] = ends;
    assert_eq!(fire_end.await, ExitReason::Shutdown);
    assert_eq!(permanent_end.await, ExitReason::Shutdown);
    assert_eq!(stubborn_end.await, ExitReason::Killed);
    assert_eq!(linked_end.await, ExitReason::Shutdown);
    assert_eq!(awaited.await, Err(TaskError::Exited(ExitReason::Shutdown)));
    assert_eq!(caller.exit_reason().await, ExitReason::Shutdown);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(sup.wait_exit().await, ExitReason::Normal);
}

/// T-10: a task may start tasks under its own supervisor (Elixir's "start_child/1 with
/// $callers" without the `$callers`): the supervisor is not blocked by the task that calls it.
#[tokio::test(start_paused = true)]
async fn t10_a_task_starts_tasks_under_its_supervisor() {
    let sup = start_default().await;
    let s = sup.clone();
    let outer = sup
        .spawn_nolink(async move {
            let inner = s.spawn_nolink(async { "inner" }).await.unwrap();
            inner.await
        })
        .await
        .unwrap();
    assert_eq!(outer.await, Ok(Ok("inner")));
    no_tasks_left(&sup).await;
}
