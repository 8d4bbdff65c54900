//! Conformance tests for waiting on many tasks together: `await_many` (T-03) and `yield_many`
//! (T-05) of CONFORMANCE.md, with the cases of Elixir's `task_test.exs` they translate. Time
//! runs on tokio's paused clock.

mod common;

use std::future::pending;
use std::time::Duration;

use common::*;
use otp_core::process::{ExitReason, is_alive};
use otp_core::task::{
    DEFAULT_TIMEOUT, OnYieldTimeout, Task, TaskError, YieldManyOptions, await_many, yield_many,
};
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

/// A task giving `value` after `ms` milliseconds.
fn after(ms: u64, value: u64) -> Task<u64> {
    Task::spawn(async move {
        sleep(Duration::from_millis(ms)).await;
        value
    })
}

/// A task that runs until stopped.
fn endless() -> Task<u64> {
    Task::spawn(pending::<u64>())
}

/// A task that ends `normal` without giving a value.
fn exiting_normally() -> Task<u64> {
    Task::spawn_process(|me| async move {
        me.exit(me.pid(), ExitReason::Normal);
        pending::<u64>().await
    })
}

// ---------------------------------------------------------------------------------------------
// T-03: await_many

/// T-03, task_test.exs "await_many/2 returns replies in input order ignoring response order".
#[tokio::test(start_paused = true)]
async fn t03_await_many_returns_values_in_input_order() {
    let tasks = vec![after(30, 1), after(10, 2), after(20, 3)];
    let values = within("await_many", await_many(tasks, DEFAULT_TIMEOUT)).await;
    assert_eq!(values, Ok(vec![1, 2, 3]));
}

/// T-03, task_test.exs "await_many/2 exits immediately when any task crashes": the first
/// failure is returned at once, and the tasks still running are killed.
#[tokio::test(start_paused = true)]
async fn t03_await_many_fails_at_once_when_a_task_crashes() {
    quiet_panics();
    let slow = endless();
    let slow_ended = watch_exit(slow.pid());
    let crashing = Task::spawn(async {
        sleep(10 * MS).await;
        panic!("crash")
    });
    let start = Instant::now();
    let result = within("await_many", await_many([slow, crashing], DEFAULT_TIMEOUT)).await;
    assert_eq!(
        result,
        Err(TaskError::Exited(ExitReason::Panic("crash".into())))
    );
    assert_eq!(Instant::now() - start, 10 * MS, "not a moment later");
    assert_eq!(slow_ended.await, ExitReason::Killed);
}

/// T-03: a task ending `normal` without a value fails the wait too.
#[tokio::test(start_paused = true)]
async fn t03_await_many_fails_on_a_normal_exit_without_value() {
    let result = await_many([after(10, 1), exiting_normally()], DEFAULT_TIMEOUT).await;
    assert_eq!(result, Err(TaskError::Exited(ExitReason::Normal)));
}

/// T-03: when the time is up, a timeout, and every task still running is killed.
#[tokio::test(start_paused = true)]
async fn t03_await_many_times_out_and_kills_the_tasks() {
    let done = after(10, 1);
    let slow = after(1_000, 2);
    let slow_ended = watch_exit(slow.pid());
    let result = await_many([done, slow], 100 * MS).await;
    assert_eq!(result, Err(TaskError::Timeout));
    assert_eq!(slow_ended.await, ExitReason::Killed);
}

/// T-03: no tasks, no wait.
#[tokio::test(start_paused = true)]
async fn t03_await_many_of_nothing() {
    let start = Instant::now();
    let values = await_many(Vec::<Task<u64>>::new(), DEFAULT_TIMEOUT).await;
    assert_eq!(values, Ok(vec![]));
    assert_eq!(Instant::now(), start);
}

/// T-03: a handle whose outcome was already taken cannot be waited for again.
#[tokio::test]
async fn t03_await_many_refuses_a_consumed_handle() {
    let mut task = after(0, 1);
    assert_eq!(task.yield_for(DEFAULT_TIMEOUT).await, Ok(Some(1)));
    let other = endless();
    let other_ended = watch_exit(other.pid());
    assert_eq!(
        await_many([task, other], DEFAULT_TIMEOUT).await,
        Err(TaskError::Consumed)
    );
    assert_eq!(other_ended.await, ExitReason::Killed);
}

// ---------------------------------------------------------------------------------------------
// T-05: yield_many

/// T-05, task_test.exs "yield_many/2 returns results from multiple tasks": in input order, a
/// value, nothing yet, an exit.
#[tokio::test(start_paused = true)]
async fn t05_yield_many_returns_results_from_multiple_tasks() {
    let mut tasks = vec![after(0, 1), after(1_000, 2), exiting_normally()];
    let results = yield_many(&mut tasks, 100 * MS).await;
    assert_eq!(
        results,
        vec![
            Ok(Some(1)),
            Ok(None),
            Err(TaskError::Exited(ExitReason::Normal))
        ]
    );
    // The one still running can be waited for again; the others have given their outcome.
    assert!(is_alive(tasks[1].pid()));
    let results = yield_many(&mut tasks, DEFAULT_TIMEOUT).await;
    assert_eq!(
        results,
        vec![
            Err(TaskError::Consumed),
            Ok(Some(2)),
            Err(TaskError::Consumed)
        ]
    );
}

/// T-05, task_test.exs "yield_many/2 returns nil on timeout".
#[tokio::test(start_paused = true)]
async fn t05_yield_many_returns_none_on_timeout() {
    let mut tasks = vec![endless()];
    assert_eq!(yield_many(&mut tasks, Duration::ZERO).await, vec![Ok(None)]);
    assert!(is_alive(tasks[0].pid()));
}

/// T-05, task_test.exs "yield_many/2 returns results on infinity timeout".
#[tokio::test(start_paused = true)]
async fn t05_yield_many_on_infinity_timeout() {
    let mut tasks = vec![after(10, 1), after(3_600_000, 2), exiting_normally()];
    let results = yield_many(&mut tasks, Duration::MAX).await;
    assert_eq!(
        results,
        vec![
            Ok(Some(1)),
            Ok(Some(2)),
            Err(TaskError::Exited(ExitReason::Normal))
        ]
    );
}

/// T-05, task_test.exs "yield_many/2 shuts down on timeout when configured": with
/// `on_timeout: :kill_task` the tasks still running are killed.
#[tokio::test(start_paused = true)]
async fn t05_yield_many_kills_on_timeout_when_configured() {
    let mut tasks = vec![after(10, 1), endless()];
    let slow_ended = watch_exit(tasks[1].pid());
    let options = YieldManyOptions::new()
        .timeout(100 * MS)
        .on_timeout(OnYieldTimeout::KillTask);
    let results = yield_many(&mut tasks, options).await;
    assert_eq!(results, vec![Ok(Some(1)), Ok(None)]);
    assert_eq!(slow_ended.await, ExitReason::Killed);
    assert_eq!(
        tasks[1].yield_for(Duration::ZERO).await,
        Err(TaskError::Consumed)
    );
}

/// T-05: with `on_timeout: :ignore` the tasks still running run on, unlinked, to their end.
#[tokio::test(start_paused = true)]
async fn t05_yield_many_ignores_on_timeout_when_configured() {
    let caller = Probe::plain();
    let mut tasks = caller.with(|_| vec![after(10, 1), after(500, 2)]).await;
    let slow_ended = watch_exit(tasks[1].pid());
    let options = YieldManyOptions::new()
        .timeout(100 * MS)
        .on_timeout(OnYieldTimeout::Ignore);
    let results = yield_many(&mut tasks, options).await;
    assert_eq!(results, vec![Ok(Some(1)), Ok(None)]);
    assert!(is_alive(tasks[1].pid()));
    drop(tasks); // an ignored task is not killed by the drop of its handle
    assert_eq!(slow_ended.await, ExitReason::Normal);
    assert!(caller.survives().await);
}

/// T-05: with a limit, yield_many returns as soon as that many outcomes came, and on_timeout
/// does not apply to the others.
#[tokio::test(start_paused = true)]
async fn t05_yield_many_with_a_limit() {
    let mut tasks = vec![after(50, 1), after(10, 2), endless()];
    let options = YieldManyOptions::new()
        .limit(1)
        .on_timeout(OnYieldTimeout::KillTask);
    let start = Instant::now();
    let results = yield_many(&mut tasks, options).await;
    assert_eq!(Instant::now() - start, 10 * MS);
    assert_eq!(results, vec![Ok(None), Ok(Some(2)), Ok(None)]);
    assert!(is_alive(tasks[0].pid()) && is_alive(tasks[2].pid()));
    assert_eq!(
        yield_many(&mut tasks, 100 * MS).await,
        vec![Ok(Some(1)), Err(TaskError::Consumed), Ok(None)]
    );
}
