//! Conformance tests for `Task`: spawn (T-01), await (T-02), yield (T-04), shutdown (T-06) and
//! ignore (T-07) of CONFORMANCE.md, with the cases of Elixir's `task_test.exs` they
//! translate. Time runs on tokio's paused clock.
//!
//! Where Elixir's function *exits the caller* (await on a failure or a timeout), ours returns a
//! `TaskError`: the translated cases assert that value. Cases about `:noconnection` wait for
//! distribution; "raises when invoked from a non-owner process" is a deliberate difference (any
//! holder of the handle may wait for it), tested as such.

mod common;

use std::future::{IntoFuture, pending};
use std::time::Duration;

use common::*;
use otp_core::name::send;
use otp_core::process::{
    ExitReason, Info, SpawnOptions, current_pid, exit, is_alive, process_info, spawn, spawn_opt,
};
use otp_core::task::{DEFAULT_TIMEOUT, Task, TaskError};
use tokio::sync::oneshot;
use tokio::time::sleep;

const MS: Duration = Duration::from_millis(1);

fn error(s: &str) -> ExitReason {
    ExitReason::error(s)
}

/// A task that ends with `reason` without giving a value (Elixir's `exit(reason)` in a task).
fn exiting(reason: ExitReason) -> Task<()> {
    Task::spawn_process(move |me| async move {
        me.exit(me.pid(), reason);
        pending::<()>().await
    })
}

/// A task that runs until stopped.
fn endless() -> Task<()> {
    Task::spawn(pending::<()>())
}

/// A task whose process traps exits and ignores every message: it ends only when killed.
fn stubborn(ready: oneshot::Sender<()>) -> Task<()> {
    Task::spawn_process(move |mut me| async move {
        me.trap_exit(true);
        let _ = ready.send(());
        loop {
            let _ = me.recv().await;
        }
    })
}

// ---------------------------------------------------------------------------------------------
// T-01: spawn

/// T-01, task_test.exs "async/1": the task is linked to the calling process, its parent is the
/// caller, the value comes back, and the task ends `normal`. A caller that traps exits gets the
/// link's exit message when the task ends, as in Elixir.
#[tokio::test]
async fn t01_async_links_the_task_to_the_calling_process() {
    let mut caller = Probe::trapping();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let task = caller
        .with(move |_| {
            Task::spawn(async move {
                let _ = go_rx.await;
                "done"
            })
        })
        .await;
    assert_eq!(task.owner(), Some(caller.pid));
    assert_eq!(links_of(caller.pid), vec![task.pid()]);
    assert_eq!(process_info(task.pid()).unwrap().parent, Some(caller.pid));
    let pid = task.pid();
    let ended = watch_exit(pid);
    go_tx.send(()).unwrap();
    assert_eq!(within("the task", task.into_future()).await, Ok("done"));
    assert_eq!(ended.await, ExitReason::Normal);
    assert_eq!(
        expect_exit(caller.next().await),
        (Some(pid), ExitReason::Normal)
    );
}

/// T-01: outside any process the task still runs as a process, linked to nothing.
#[tokio::test]
async fn t01_outside_a_process_the_task_is_not_linked() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let task = Task::spawn(async move {
        let _ = go_rx.await;
        current_pid()
    });
    assert_eq!(task.owner(), None);
    assert!(links_of(task.pid()).is_empty());
    let pid = task.pid();
    go_tx.send(()).unwrap();
    assert_eq!(
        task.await,
        Ok(Some(pid)),
        "the future runs inside the task's process"
    );
}

/// T-01: a task that crashes brings down a caller that does not trap exits, through the link,
/// with the task's reason.
#[tokio::test]
async fn t01_a_crashing_task_brings_down_a_non_trapping_caller() {
    quiet_panics();
    let caller = Probe::plain();
    let task = caller.with(|_| Task::spawn(async { panic!("boom") })).await;
    assert_eq!(caller.exit_reason().await, ExitReason::Panic("boom".into()));
    // The handle, held here, still tells why.
    assert_eq!(
        task.await,
        Err::<(), _>(TaskError::Exited(ExitReason::Panic("boom".into())))
    );
}

/// T-01: a caller that crashes brings down its task, through the link, with the caller's
/// reason.
#[tokio::test]
async fn t01_a_crashing_caller_brings_down_its_task() {
    let caller = Probe::plain();
    let task = caller.with(|_| endless()).await;
    let ended = watch_exit(task.pid());
    exit(caller.pid, error("caller died"));
    assert_eq!(ended.await, error("caller died"));
    assert_eq!(task.await, Err(TaskError::Exited(error("caller died"))));
}

/// T-01: dropping the handle while the task runs shuts the task down, unlinked first, so the
/// caller is not affected.
#[tokio::test]
async fn t01_dropping_the_handle_shuts_the_task_down_not_the_caller() {
    let mut caller = Probe::trapping();
    let (pid_tx, pid_rx) = oneshot::channel();
    caller
        .with(move |_| {
            let task = endless();
            let _ = pid_tx.send((task.pid(), watch_exit(task.pid())));
            drop(task);
        })
        .await;
    let (pid, ended) = pid_rx.await.unwrap();
    assert_eq!(ended.await, ExitReason::Shutdown);
    assert!(!is_alive(pid));
    assert!(caller.survives().await);
    assert!(caller.flush().await.is_empty(), "no exit message: unlinked");
    assert!(links_of(caller.pid).is_empty());
}

/// T-01: a task that traps exits gets the shutdown of its dropped handle as a message, and
/// ends in its own time.
#[tokio::test]
async fn t01_a_trapping_task_gets_the_shutdown_of_its_dropped_handle() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let (seen_tx, seen_rx) = oneshot::channel();
    let task = Task::spawn_process(move |mut me| async move {
        me.trap_exit(true);
        let _ = ready_tx.send(());
        loop {
            if let Info::Exit(signal) = me.recv().await {
                let _ = seen_tx.send(signal.reason().clone());
                return;
            }
        }
    });
    let ended = watch_exit(task.pid());
    ready_rx.await.unwrap();
    drop(task);
    assert_eq!(seen_rx.await.unwrap(), ExitReason::Shutdown);
    assert_eq!(ended.await, ExitReason::Normal);
}

/// T-01: an owner killed while it holds the handle takes the task down through the link, with
/// its own reason (the handle, dropped with the owner, leaves it to the link); a trapping task
/// is told, as in Elixir.
#[tokio::test]
async fn t01_an_owner_killed_holding_the_handle_takes_the_task_down_with_its_reason() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let (seen_tx, seen_rx) = oneshot::channel();
    let owner = spawn(move |_| async move {
        let plain = endless();
        let trapping = Task::spawn_process(move |mut me| async move {
            me.trap_exit(true);
            loop {
                if let Info::Exit(signal) = me.recv().await {
                    let _ = seen_tx.send((signal.from(), signal.reason().clone()));
                    return;
                }
            }
        });
        let _ = ready_tx.send((watch_exit(plain.pid()), watch_exit(trapping.pid())));
        pending::<()>().await;
        drop((plain, trapping));
    });
    let (plain_ended, trapping_ended) = ready_rx.await.unwrap();
    exit(owner, error("owner failed"));
    assert_eq!(plain_ended.await, error("owner failed"));
    assert_eq!(seen_rx.await.unwrap(), (Some(owner), error("owner failed")));
    assert_eq!(trapping_ended.await, ExitReason::Normal);
}

/// T-01: an owner that returns while it holds the handle shuts the task down (Elixir leaves
/// the task of an owner that exits `normal` running, unobserved).
#[tokio::test]
async fn t01_an_owner_returning_with_the_handle_shuts_the_task_down() {
    let (tx, rx) = oneshot::channel();
    let owner = spawn(move |_| async move {
        let task = endless();
        let _ = tx.send(watch_exit(task.pid()));
    });
    let owner_ended = watch_exit(owner);
    let ended = rx.await.unwrap();
    assert_eq!(ended.await, ExitReason::Shutdown);
    assert_eq!(owner_ended.await, ExitReason::Normal);
}

/// T-01: a task started with `spawn_process` has its own mailbox.
#[tokio::test]
async fn t01_spawn_process_gives_the_task_its_process() {
    let task = Task::spawn_process(|mut me| async move {
        match me.recv().await {
            Info::Message(m) => m.downcast::<u32>().ok(),
            _ => None,
        }
    });
    send(task.pid(), 42u32).unwrap();
    assert_eq!(task.await, Ok(Some(42)));
}

// ---------------------------------------------------------------------------------------------
// T-02: await

/// T-02, task_test.exs "async/3": await returns the value.
#[tokio::test]
async fn t02_await_returns_the_value() {
    let task = Task::spawn(async { [1, [2].len() as i32, 3] });
    assert_eq!(task.await, Ok([1, 1, 3]));
}

/// T-02, task_test.exs "await/2 exits on timeout" and "await/2 demonitors and unalias on
/// timeout": after the timeout the caller gets `Timeout`, the task is killed — its owner is not
/// affected, having been unlinked — and its value, due later, never shows up anywhere.
#[tokio::test(start_paused = true)]
async fn t02_await_times_out_and_stops_the_task() {
    let mut caller = Probe::trapping();
    let task = caller
        .with(|_| {
            Task::spawn(async {
                sleep(200 * MS).await;
                "late"
            })
        })
        .await;
    let ended = watch_exit(task.pid());
    assert_eq!(task.await_timeout(100 * MS).await, Err(TaskError::Timeout));
    assert_eq!(ended.await, ExitReason::Killed);
    sleep(500 * MS).await;
    assert!(caller.survives().await);
    assert!(
        caller.flush().await.is_empty(),
        "no late reply, no exit message"
    );
}

/// T-02: the default timeout of `task.await` is 5 s.
#[tokio::test(start_paused = true)]
async fn t02_await_defaults_to_five_seconds() {
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(5));
    let in_time = Task::spawn(async {
        sleep(4_900 * MS).await;
        1
    });
    assert_eq!(within("the task", in_time.into_future()).await, Ok(1));
    let too_late = Task::spawn(async {
        sleep(5_100 * MS).await;
        2
    });
    assert_eq!(
        within("the task", too_late.into_future()).await,
        Err(TaskError::Timeout)
    );
}

/// T-02: a zero timeout looks once; `Duration::MAX` waits without limit.
#[tokio::test(start_paused = true)]
async fn t02_await_zero_looks_once_and_max_waits_without_limit() {
    let task = endless();
    assert_eq!(
        task.await_timeout(Duration::ZERO).await,
        Err(TaskError::Timeout)
    );
    let task = Task::spawn(async {
        sleep(Duration::from_secs(3_600)).await;
        "an hour later"
    });
    assert_eq!(task.await_timeout(Duration::MAX).await, Ok("an hour later"));
}

/// T-02, task_test.exs "await/2 exits on normal exit": a task that ends `normal` without a
/// value.
#[tokio::test]
async fn t02_await_on_normal_exit() {
    let task = exiting(ExitReason::Normal);
    assert_eq!(task.await, Err(TaskError::Exited(ExitReason::Normal)));
}

/// T-02, task_test.exs "await/2 exits on task error" (trapping caller): the panic's reason, and
/// the caller, trapping, survives with the link's exit message.
#[tokio::test]
async fn t02_await_on_task_error() {
    quiet_panics();
    let mut caller = Probe::trapping();
    let task = caller.with(|_| Task::spawn(async { panic!("oops") })).await;
    let pid = task.pid();
    assert_eq!(
        task.await,
        Err::<(), _>(TaskError::Exited(ExitReason::Panic("oops".into())))
    );
    assert_eq!(
        expect_exit(caller.next().await),
        (Some(pid), ExitReason::Panic("oops".into()))
    );
    assert!(caller.survives().await);
}

/// T-02, task_test.exs "await/2 exits on task exit" (trapping caller): the task's own reason.
#[tokio::test]
async fn t02_await_on_task_exit() {
    let caller = Probe::trapping();
    let task = caller.with(|_| exiting(error("unknown"))).await;
    assert_eq!(task.await, Err(TaskError::Exited(error("unknown"))));
    assert!(caller.survives().await);
}

/// T-02: `task.await?` in a process body ends the caller with the task's reason, which is
/// what Elixir's await does.
#[tokio::test(start_paused = true)]
async fn t02_question_mark_ends_the_caller_as_elixir_await_does() {
    let opts = SpawnOptions::new().trap_exit(true);
    let caller = spawn_opt(opts, |_| async {
        exiting(error("bad")).await?;
        Ok::<_, ExitReason>(())
    });
    assert_eq!(exit_reason(caller).await, error("bad"));
    let caller = spawn(|_| async {
        endless().await_timeout(10 * MS).await?;
        Ok::<_, ExitReason>(())
    });
    assert_eq!(exit_reason(caller).await, error("task timed out"));
}

/// T-02, task_test.exs "raises when invoked from a non-owner process", a deliberate
/// difference: the handle can be moved to another process and awaited there; the link stays
/// with the process that spawned the task.
#[tokio::test]
async fn t02_another_process_may_await_the_handle() {
    let owner = Probe::plain();
    let task = owner.with(|_| Task::spawn(async { 7 })).await;
    let (tx, rx) = oneshot::channel();
    spawn(move |_| async move {
        let _ = tx.send(task.await);
    });
    assert_eq!(within("the other process", rx).await.unwrap(), Ok(7));
    assert!(owner.survives().await);
}

// ---------------------------------------------------------------------------------------------
// T-04: yield

/// T-04, task_test.exs "yield/2 returns nil on timeout": `None`, the task still running, and
/// it can be yielded again; once the outcome is taken there is nothing more.
#[tokio::test(start_paused = true)]
async fn t04_yield_returns_none_on_timeout_and_can_be_called_again() {
    let mut task = Task::spawn(async {
        sleep(100 * MS).await;
        "done"
    });
    assert_eq!(task.yield_for(Duration::ZERO).await, Ok(None));
    assert_eq!(task.yield_for(10 * MS).await, Ok(None));
    assert!(is_alive(task.pid()));
    assert_eq!(task.yield_for(DEFAULT_TIMEOUT).await, Ok(Some("done")));
    assert_eq!(task.yield_for(10 * MS).await, Err(TaskError::Consumed));
    assert_eq!(task.await, Err(TaskError::Consumed));
}

/// T-04, task_test.exs "yield/2 return exit on normal exit".
#[tokio::test]
async fn t04_yield_returns_exit_on_normal_exit() {
    let mut task = exiting(ExitReason::Normal);
    assert_eq!(
        task.yield_for(DEFAULT_TIMEOUT).await,
        Err(TaskError::Exited(ExitReason::Normal))
    );
}

/// T-04, task_test.exs "yield/2 returns {:ok, result} when reply and :DOWN in message queue":
/// the value is there even once the task has ended.
#[tokio::test]
async fn t04_yield_returns_the_value_of_a_task_that_has_ended() {
    let mut task = Task::spawn(async { 5 });
    assert_eq!(watch_exit(task.pid()).await, ExitReason::Normal);
    assert_eq!(task.yield_for(Duration::ZERO).await, Ok(Some(5)));
}

// ---------------------------------------------------------------------------------------------
// T-06: shutdown

/// T-06, task_test.exs "shutdown/2 returns nil on shutting down task": the task ends
/// `shutdown`; its owner, unlinked first, is not affected even without trapping exits.
#[tokio::test]
async fn t06_shutdown_returns_none_on_shutting_down_task() {
    let caller = Probe::plain();
    let task = caller.with(|_| endless()).await;
    let ended = watch_exit(task.pid());
    assert_eq!(task.shutdown(DEFAULT_TIMEOUT).await, Ok(None));
    assert_eq!(ended.await, ExitReason::Shutdown);
    assert!(caller.survives().await);
    assert!(links_of(caller.pid).is_empty());
}

/// T-06, task_test.exs "shutdown/2 returns {:ok, result} when reply and normal :DOWN in
/// message queue" (and the same with `:brutal_kill`).
#[tokio::test]
async fn t06_shutdown_returns_the_value_of_a_task_that_has_ended() {
    let task = Task::spawn(async { "result" });
    assert_eq!(watch_exit(task.pid()).await, ExitReason::Normal);
    assert_eq!(task.shutdown(DEFAULT_TIMEOUT).await, Ok(Some("result")));
    let task = Task::spawn(async { "result" });
    assert_eq!(watch_exit(task.pid()).await, ExitReason::Normal);
    assert_eq!(task.brutal_kill().await, Ok(Some("result")));
}

/// T-06, task_test.exs "shutdown/2 returns exit on abnormal :DOWN in message queue" and
/// "returns exit on normal :DOWN in message queue" (and both with `:brutal_kill`).
#[tokio::test]
async fn t06_shutdown_returns_the_exit_of_a_task_that_ended_without_value() {
    for reason in [error("abnormal"), ExitReason::Normal] {
        let task = exiting(reason.clone());
        assert_eq!(watch_exit(task.pid()).await, reason);
        assert_eq!(
            task.shutdown(DEFAULT_TIMEOUT).await,
            Err(TaskError::Exited(reason.clone()))
        );
        let task = exiting(reason.clone());
        assert_eq!(watch_exit(task.pid()).await, reason);
        assert_eq!(task.brutal_kill().await, Err(TaskError::Exited(reason)));
    }
}

/// T-06, task_test.exs "shutdown/2 returns nil on shutdown :DOWN in message queue" and, with
/// `:brutal_kill`, "returns exit on shutdown :DOWN in message queue".
#[tokio::test]
async fn t06_a_task_already_shut_down() {
    let task = endless();
    exit(task.pid(), ExitReason::Shutdown);
    assert_eq!(watch_exit(task.pid()).await, ExitReason::Shutdown);
    assert_eq!(task.shutdown(DEFAULT_TIMEOUT).await, Ok(None));
    let task = endless();
    exit(task.pid(), ExitReason::Shutdown);
    assert_eq!(watch_exit(task.pid()).await, ExitReason::Shutdown);
    assert_eq!(
        task.brutal_kill().await,
        Err(TaskError::Exited(ExitReason::Shutdown))
    );
}

/// T-06, task_test.exs "shutdown/2 returns exit on killed :DOWN in message queue" and, with
/// `:brutal_kill`, "returns nil on killed :DOWN in message queue".
#[tokio::test]
async fn t06_a_task_already_killed() {
    let task = endless();
    exit(task.pid(), ExitReason::Kill);
    assert_eq!(watch_exit(task.pid()).await, ExitReason::Killed);
    assert_eq!(
        task.shutdown(DEFAULT_TIMEOUT).await,
        Err(TaskError::Exited(ExitReason::Killed))
    );
    let task = endless();
    exit(task.pid(), ExitReason::Kill);
    assert_eq!(watch_exit(task.pid()).await, ExitReason::Killed);
    assert_eq!(task.brutal_kill().await, Ok(None));
}

/// T-06, task_test.exs "shutdown/2 returns nil on killing task": `:brutal_kill` on a task
/// that traps exits.
#[tokio::test]
async fn t06_brutal_kill_returns_none_on_killing_a_trapping_task() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let task = stubborn(ready_tx);
    ready_rx.await.unwrap();
    let ended = watch_exit(task.pid());
    assert_eq!(task.brutal_kill().await, Ok(None));
    assert_eq!(ended.await, ExitReason::Killed);
}

/// T-06, task_test.exs "shutdown/2 with :brutal_kill returns exit on killing task after
/// shutdown timeout": a trapping task that outlives the grace period is killed, and that is an
/// exit.
#[tokio::test(start_paused = true)]
async fn t06_shutdown_kills_a_task_that_outlives_the_grace_period() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let task = stubborn(ready_tx);
    ready_rx.await.unwrap();
    assert_eq!(
        task.shutdown(MS).await,
        Err(TaskError::Exited(ExitReason::Killed))
    );
}

/// T-06: the grace period lets a trapping task finish: its value, given on the shutdown
/// signal, is the result.
#[tokio::test(start_paused = true)]
async fn t06_shutdown_grace_lets_a_trapping_task_give_its_value() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let task = Task::spawn_process(move |mut me| async move {
        me.trap_exit(true);
        let _ = ready_tx.send(());
        loop {
            if let Info::Exit(signal) = me.recv().await {
                sleep(10 * MS).await; // cleaning up
                return format!("stopped on {}", signal.reason());
            }
        }
    });
    ready_rx.await.unwrap();
    assert_eq!(
        task.shutdown(100 * MS).await,
        Ok(Some("stopped on shutdown".to_owned()))
    );
}

/// T-06, task_test.exs "shutdown/2 returns {:exit, :noproc} if task handled": a handle whose
/// outcome was taken has nothing left to shut down.
#[tokio::test]
async fn t06_shutdown_after_the_outcome_was_taken() {
    let mut task = Task::spawn(async { 1 });
    assert_eq!(task.yield_for(DEFAULT_TIMEOUT).await, Ok(Some(1)));
    assert_eq!(
        task.shutdown(DEFAULT_TIMEOUT).await,
        Err(TaskError::Consumed)
    );
}

// ---------------------------------------------------------------------------------------------
// T-07: ignore

/// T-07, task_test.exs "ignore/1 discards late replies": the task runs on, unlinked, to its
/// end; its value goes nowhere and the caller gets no message.
#[tokio::test(start_paused = true)]
async fn t07_ignore_lets_the_task_run_on_and_discards_its_value() {
    let mut caller = Probe::trapping();
    let task = caller
        .with(|_| {
            Task::spawn(async {
                sleep(100 * MS).await;
                "late"
            })
        })
        .await;
    let pid = task.pid();
    let ended = watch_exit(pid);
    assert_eq!(task.ignore(), Ok(None));
    assert!(links_of(caller.pid).is_empty());
    assert!(is_alive(pid), "an ignored task runs on");
    assert_eq!(ended.await, ExitReason::Normal);
    assert!(caller.flush().await.is_empty());
}

/// T-07: ignore returns what was already there: the value, or the exit.
#[tokio::test]
async fn t07_ignore_returns_what_already_came() {
    let task = Task::spawn(async { 3 });
    assert_eq!(watch_exit(task.pid()).await, ExitReason::Normal);
    assert_eq!(task.ignore(), Ok(Some(3)));
    let task = exiting(error("gone"));
    assert_eq!(watch_exit(task.pid()).await, error("gone"));
    assert_eq!(task.ignore(), Err(TaskError::Exited(error("gone"))));
}
