//! Tasks: a future run as a process, awaited with a timeout — Elixir's `Task` — and
//! [`async_stream`], a function run on many inputs with bounded concurrency.
//!
//! A [`Task`] is an ordinary process: [`Task::spawn`] runs a future in a new process and
//! returns a handle to wait for its value. The process fails alone: a panic in the future is
//! caught at the process boundary and becomes the task's exit reason
//! ([`ExitReason::Panic`](crate::process::ExitReason::Panic)), never the caller's panic. Spawned from
//! inside a process, the task is **linked** to it (T-01), with the exit-reason matrix's usual
//! effects: a task that crashes brings down a caller that does not trap exits, and a caller
//! that crashes brings down its task. The handle **monitors** the task: it gives the value, or
//! the exit reason if the task ended without one, as a typed [`TaskError`].
//!
//! | Elixir | here | waits | if nothing came in time |
//! |---|---|---|---|
//! | `Task.async(fun)` | [`Task::spawn`], [`Task::spawn_process`] | | |
//! | `Task.await(task, t)` | `task.await` (5 s), [`Task::await_timeout`] | `t` | task killed, `Err(Timeout)` |
//! | `Task.yield(task, t)` | [`Task::yield_for`] | `t` | `Ok(None)`, task runs on |
//! | `Task.shutdown(task, t)` | [`Task::shutdown`], [`Task::brutal_kill`] | until it ends | killed after `t` |
//! | `Task.ignore(task)` | [`Task::ignore`] | no | task runs on, unlinked |
//! | `Task.await_many(tasks, t)` | [`await_many`] | `t` | all killed, `Err(Timeout)` |
//! | `Task.yield_many(tasks, opts)` | [`yield_many`] | `t` | per [`OnYieldTimeout`] |
//! | `Task.async_stream(enum, fun, opts)` | [`async_stream`], [`async_stream_from`] | `t` per task | per [`OnTimeout`] |
//! | `Task.start(fun)`, `Task.start_link(fun)` | [`Task::start`], [`Task::start_link`] | nobody waits | |
//!
//! A [`TaskSupervisor`] (Elixir's `Task.Supervisor`, T-10 to T-12) runs tasks as children of
//! a supervisor: fire-and-forget tasks that may be restarted, tasks awaited like these but not
//! linked to the caller (a crash is a value, never the caller's crash), and async streams, all
//! bounded by its `max_children` and stopped with it:
//!
//! ```
//! use otp_core::task::{TaskError, TaskSupervisor, TaskSupervisorOptions};
//! use otp_core::process::ExitReason;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let sup = TaskSupervisor::start_link(TaskSupervisorOptions::new()).await.unwrap();
//! let task = sup.spawn_nolink(async { 1 + 1 }).await.unwrap();
//! assert_eq!(task.await, Ok(2));
//! let task = sup.spawn_nolink(async { panic!("boom") }).await.unwrap();
//! assert_eq!(task.await, Err::<(), _>(TaskError::Exited(ExitReason::Panic("boom".into()))));
//! sup.stop().await.unwrap();
//! # }
//! ```
//!
//! Where Elixir *exits the caller* (a task that failed or timed out under `await`, a stream
//! element that timed out under `on_timeout: :exit`), these return a typed error and the caller
//! decides; `?` in a process body returning `Result<_, ExitReason>` gives Elixir's behaviour
//! back (a [`TaskError`] converts into the [`ExitReason`](crate::process::ExitReason) the caller ends
//! with). Other differences, each a Rust idiom:
//!
//! - Dropping a [`Task`] while it runs shuts the task down (unlinked, then an exit signal
//!   `shutdown`): the handle going out of scope is the caller losing interest.
//!   [`Task::ignore`] lets a task run on.
//! - Any holder of the handle may await it (Elixir: only the owner).
//! - The reply and the `:DOWN` are read by the handle, not from the caller's mailbox; a caller
//!   that traps exits still gets the link's exit message when the task ends, as in Elixir.
//! - `$callers` (T-13) is not kept; a task's [`parent`](crate::process::ProcessInfo::parent) is the
//!   process that spawned it.
//!
//! All timeouts take `Duration::MAX` for Elixir's `:infinity`. Time is tokio's, so tests drive
//! it with a paused clock.
//!
//! ```
//! use std::time::Duration;
//! use otp_core::task::{Task, TaskError, await_many};
//! use otp_core::process::ExitReason;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A value, within the default 5 s.
//! let task = Task::spawn(async { 1 + 1 });
//! assert_eq!(task.await, Ok(2));
//!
//! // A crash is a value to the caller (here `main`, not a process, so nothing is linked).
//! let task = Task::spawn(async { panic!("boom") });
//! assert_eq!(task.await, Err::<(), _>(TaskError::Exited(ExitReason::Panic("boom".into()))));
//!
//! // Too slow: stopped, and a timeout error.
//! let task = Task::spawn(async { tokio::time::sleep(Duration::from_secs(60)).await });
//! assert_eq!(task.await_timeout(Duration::from_millis(10)).await, Err(TaskError::Timeout));
//!
//! // Many at once: values in input order.
//! let tasks = (1..=3).map(|i| Task::spawn(async move { i * 10 }));
//! assert_eq!(await_many(tasks, Duration::from_secs(5)).await, Ok(vec![10, 20, 30]));
//! # }
//! ```

mod async_task;
mod deadline;
mod error;
mod many;
pub(crate) mod start;
mod stream;
mod supervisor;

use std::time::Duration;

pub use self::async_task::Task;
pub use self::error::{AsyncStreamError, StreamExit, TaskError};
pub use self::many::{OnYieldTimeout, YieldManyOptions, await_many, yield_many};
pub use self::stream::{AsyncStream, OnTimeout, async_stream, async_stream_from};
pub use self::supervisor::{TaskOptions, TaskSupervisor, TaskSupervisorOptions, TaskSupervisorRef};

/// The default timeout of `task.await`, [`yield_many`] and each [`async_stream`] task: 5
/// seconds, as in Elixir.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
