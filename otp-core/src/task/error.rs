//! Why a task gave no value, and why an async stream could not be built.

use std::hash::{Hash, Hasher};

use crate::exit::ExitReason;
use crate::supervisor::SupervisorError;

/// Why a [`Task`](super::Task) gave no value.
///
/// Where Elixir's `Task.await` *exits the caller* (with `{reason, {Task, :await, ...}}` or
/// `{:timeout, ...}`), these functions return the reason as a value: the caller decides. In a
/// process body that returns `Result<_, ExitReason>`, `task.await?` turns it back into Elixir's
/// behaviour — the caller ends with the task's reason (see the `From` impl below).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task's process ended without a value, with this reason: it panicked
    /// ([`ExitReason::Panic`]), was killed, received an exit signal, or ended `normal` without
    /// producing its value (Elixir's `{:exit, reason}`).
    #[error("the task exited: {0}")]
    Exited(ExitReason),
    /// No value within the timeout. [`Task::await_timeout`](super::Task::await_timeout) and
    /// [`await_many`](super::await_many) have killed the task(s) by then; an
    /// [`async_stream`](super::async_stream) element is killed too.
    #[error("the task timed out")]
    Timeout,
    /// This handle has already given the task's outcome (by
    /// [`yield_for`](super::Task::yield_for) or [`yield_many`](super::yield_many)), or
    /// `yield_many` ignored or killed the task on timeout: there is nothing left to wait for.
    #[error("the task's outcome was already taken")]
    Consumed,
    /// The task was never started: its [`TaskSupervisor`](super::TaskSupervisor) refused it
    /// ([`SupervisorError::MaxChildren`], or the supervisor is not running). Only an
    /// [`AsyncStream`](super::AsyncStream) started under a task supervisor gives it, as its
    /// last element (Elixir raises in the consumer and shuts the stream down); the
    /// supervisor's own start calls return the [`SupervisorError`] directly.
    #[error("the task was not started: {0}")]
    NotStarted(SupervisorError),
}

/// By the variant and the exit reason: a [`SupervisorError`] is not hashed (equal errors still
/// hash equal, as they have the same variant).
impl Hash for TaskError {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        if let TaskError::Exited(reason) = self {
            reason.hash(state);
        }
    }
}

impl TaskError {
    /// The exit reason, if the task exited.
    pub fn exit_reason(&self) -> Option<&ExitReason> {
        match self {
            TaskError::Exited(reason) => Some(reason),
            _ => None,
        }
    }
}

/// A failed wait as the reason a process ends: `task.await?` in a process body ends the caller
/// with the task's exit reason, as Elixir's `Task.await` does. A timeout becomes
/// `Error("task timed out")`: an abnormal reason, as Elixir's `{:timeout, ...}` exit is.
impl From<TaskError> for ExitReason {
    fn from(error: TaskError) -> Self {
        match error {
            TaskError::Exited(reason) => reason,
            TaskError::Timeout => ExitReason::error("task timed out"),
            TaskError::Consumed => ExitReason::error("task outcome already taken"),
            TaskError::NotStarted(e) => ExitReason::error(e),
        }
    }
}

/// Why an [`AsyncStream`](super::AsyncStream) could not be configured.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum AsyncStreamError {
    /// `max_concurrency` was 0: no task could ever run (Elixir raises `ArgumentError`).
    #[error("max_concurrency must be greater than 0")]
    ZeroConcurrency,
}

/// An element of an [`AsyncStream`](super::AsyncStream) that gave no value: Elixir's
/// `{:exit, reason}`, or `{:exit, {input, reason}}` with `zip_input_on_exit`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{error}")]
pub struct StreamExit<I> {
    /// Why: [`TaskError::Exited`] with the task's exit reason, [`TaskError::Timeout`] (the
    /// task was killed), or [`TaskError::NotStarted`] (its task supervisor refused it).
    pub error: TaskError,
    /// The input the task was started with, if the stream was built with
    /// [`zip_input_on_exit(true)`](super::AsyncStream::zip_input_on_exit).
    pub input: Option<I>,
}

impl<I> StreamExit<I> {
    /// The task's exit reason, if it exited (not for a timeout).
    pub fn exit_reason(&self) -> Option<&ExitReason> {
        self.error.exit_reason()
    }

    /// Whether the task timed out.
    pub fn is_timeout(&self) -> bool {
        self.error == TaskError::Timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_errors_become_exit_reasons() {
        let reason = ExitReason::Panic("boom".into());
        assert_eq!(ExitReason::from(TaskError::Exited(reason.clone())), reason);
        assert_eq!(
            ExitReason::from(TaskError::Timeout),
            ExitReason::error("task timed out")
        );
    }

    #[test]
    fn stream_exit_prints_its_error() {
        let e = StreamExit {
            error: TaskError::Timeout,
            input: Some(3),
        };
        assert_eq!(e.to_string(), "the task timed out");
        assert!(e.is_timeout());
        assert_eq!(e.exit_reason(), None);
    }
}
