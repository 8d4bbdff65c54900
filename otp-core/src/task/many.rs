//! Many tasks waited for together: [`await_many`] (all values or the first failure) and
//! [`yield_many`] (whatever came within the time).

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::async_task::Stop;
use super::deadline::{deadline_after, within};
use super::{DEFAULT_TIMEOUT, Task, TaskError};

/// Waits for the values of all `tasks`, at most `timeout` in all (`Duration::MAX`: without
/// limit) — Elixir's `Task.await_many/2` (T-03).
///
/// The values come in the order of `tasks`, whatever order the tasks finish in. The wait fails
/// at once when any task fails: `Err(`[`TaskError::Exited`]`)` with the reason of the first to
/// end without a value, or `Err(`[`TaskError::Timeout`]`)` when the time is up; the tasks still
/// running are then killed (Elixir exits the caller, which takes its linked tasks down). A task
/// whose outcome was already taken fails the wait at once with [`TaskError::Consumed`], the
/// others killed. No tasks: `Ok` of an empty `Vec`, at once.
pub async fn await_many<T: Send + 'static>(
    tasks: impl IntoIterator<Item = Task<T>>,
    timeout: Duration,
) -> Result<Vec<T>, TaskError> {
    let mut tasks: Vec<Task<T>> = tasks.into_iter().collect();
    if tasks.iter().any(|t| !t.is_pending()) {
        for task in &mut tasks {
            task.kill();
        }
        return Err(TaskError::Consumed);
    }
    let deadline = deadline_after(timeout);
    let mut values: Vec<Option<T>> = std::iter::repeat_with(|| None).take(tasks.len()).collect();
    let outcome = {
        let mut pending: FuturesUnordered<_> = tasks
            .iter_mut()
            .enumerate()
            .map(|(i, task)| async move { (i, task.outcome().await) })
            .collect();
        let all = async {
            while let Some((i, outcome)) = pending.next().await {
                values[i] = Some(outcome?);
            }
            Ok(())
        };
        within(deadline, all).await
    };
    let error = match outcome {
        Some(Ok(())) => return Ok(values.into_iter().flatten().collect()),
        Some(Err(error)) => error,
        None => TaskError::Timeout,
    };
    for task in &mut tasks {
        task.kill();
    }
    Err(error)
}

/// What [`yield_many`] does with the tasks still running when its time is up (Elixir's
/// `:on_timeout`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnYieldTimeout {
    /// Nothing: they run on and can still be awaited, yielded, ignored or shut down (the
    /// default).
    #[default]
    Nothing,
    /// They are [ignored](Task::ignore): they run on, unlinked, and their values are dropped.
    Ignore,
    /// They are killed ([`Task::brutal_kill`]).
    KillTask,
}

/// Options of [`yield_many`]: a timeout (default [`DEFAULT_TIMEOUT`], 5 s), at most how many
/// outcomes to wait for, and what to do on timeout. A bare `Duration` converts into options
/// with that timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct YieldManyOptions {
    timeout: Duration,
    limit: Option<usize>,
    on_timeout: OnYieldTimeout,
}

impl Default for YieldManyOptions {
    fn default() -> Self {
        YieldManyOptions {
            timeout: DEFAULT_TIMEOUT,
            limit: None,
            on_timeout: OnYieldTimeout::Nothing,
        }
    }
}

impl YieldManyOptions {
    /// The defaults: 5 s, no limit, [`OnYieldTimeout::Nothing`].
    pub fn new() -> Self {
        Self::default()
    }

    /// How long to wait in all (`Duration::MAX`: without limit).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Returns as soon as this many tasks have given their outcome, without applying
    /// `on_timeout` to the others (Elixir's `:limit`). 0 returns at once.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// What to do with the tasks still running when the time is up.
    pub fn on_timeout(mut self, on_timeout: OnYieldTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }
}

impl From<Duration> for YieldManyOptions {
    fn from(timeout: Duration) -> Self {
        YieldManyOptions::new().timeout(timeout)
    }
}

/// Waits for the outcomes of `tasks` within a time — Elixir's `Task.yield_many/2` (T-05).
///
/// Returns one entry per task, in the order of `tasks`, each as [`Task::yield_for`] would give:
/// `Ok(Some(value))`, `Err(`[`TaskError::Exited`]`)` if it ended without a value, `Ok(None)` if
/// it is still running (then, when the time ran out, `on_timeout` applies: with
/// [`OnYieldTimeout::Ignore`] or [`OnYieldTimeout::KillTask`] the entry is what
/// [`Task::ignore`] or [`Task::brutal_kill`] returned, usually `Ok(None)`). A task whose outcome
/// was taken before gives `Err(`[`TaskError::Consumed`]`)`.
///
/// The handles stay with the caller: those that gave `Ok(None)` under
/// [`OnYieldTimeout::Nothing`] can be waited for again, shut down or ignored; the others have
/// given their outcome.
///
/// `options` is a [`YieldManyOptions`] or a bare `Duration` (the timeout).
pub async fn yield_many<T: Send + 'static>(
    tasks: &mut [Task<T>],
    options: impl Into<YieldManyOptions>,
) -> Vec<Result<Option<T>, TaskError>> {
    let options = options.into();
    let deadline = deadline_after(options.timeout);
    let waiting = tasks.iter().filter(|t| t.is_pending()).count();
    let limit = options.limit.unwrap_or(waiting);
    let mut outcomes: Vec<Option<Result<T, TaskError>>> =
        std::iter::repeat_with(|| None).take(tasks.len()).collect();
    let timed_out = {
        let mut pending: FuturesUnordered<_> = tasks
            .iter_mut()
            .enumerate()
            .filter(|(_, task)| task.is_pending())
            .map(|(i, task)| async move { (i, task.outcome().await) })
            .collect();
        let mut got = 0;
        let collect = async {
            while got < limit
                && let Some((i, outcome)) = pending.next().await
            {
                outcomes[i] = Some(outcome);
                got += 1;
            }
        };
        within(deadline, collect).await.is_none()
    };
    let mut results = Vec::with_capacity(tasks.len());
    for (task, outcome) in tasks.iter_mut().zip(outcomes) {
        let result = match outcome {
            Some(outcome) => outcome.map(Some),
            None if !task.is_pending() => Err(TaskError::Consumed),
            None if !timed_out => Ok(None),
            None => match options.on_timeout {
                OnYieldTimeout::Nothing => Ok(None),
                OnYieldTimeout::Ignore => task.ignore_in_place(),
                OnYieldTimeout::KillTask => task.stop(Stop::Brutal).await,
            },
        };
        results.push(result);
    }
    results
}
