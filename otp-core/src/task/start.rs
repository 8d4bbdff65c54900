//! How a task's process is started.
//!
//! A task is an ordinary process whose body runs the user's future and sends the value it
//! returns through a one-shot channel to the [`Task`] handle; the handle also keeps the process's
//! control block, to read its exit reason when no value came. [`TaskBody`] is that body, usable
//! with any spawn that hands a new process its [`Process`] before the process runs
//! ([`spawn_task`] here; a task supervisor's child start later): the spawn calls
//! [`TaskBody::start`] with the handle and runs the future it returns; whoever started it turns
//! the entry, the pid and the receiver into a [`Task`] with [`Task::from_parts`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::Task;
use crate::process::{self, Process, ProcessEntry, SpawnOptions, current_entry};

/// The body of a task's process, before it runs.
pub(crate) struct TaskBody<F, T> {
    f: F,
    reply: oneshot::Sender<T>,
}

impl<F, Fut> TaskBody<F, Fut::Output>
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    /// A body running `f`, and the receiver of its value.
    pub(crate) fn new(f: F) -> (Self, oneshot::Receiver<Fut::Output>) {
        let (reply, rx) = oneshot::channel();
        (TaskBody { f, reply }, rx)
    }

    /// Called by the spawn with the new process's handle, before the process runs: returns the
    /// process's entry in the process table (for the [`Task`] handle) and the future the process
    /// runs. The future sends `f`'s value and returns, so the process ends `normal` right after
    /// sending, in the same poll; if it ends any other way the sender is dropped after the exit
    /// reason is fixed, which is how the handle knows the reason is there to read.
    pub(crate) fn start(
        self,
        process: Process,
    ) -> (
        Option<Arc<dyn ProcessEntry>>,
        impl Future<Output = ()> + Send + 'static,
    ) {
        let entry: Option<Arc<dyn ProcessEntry>> = Some(process.pcb.clone());
        let TaskBody { f, reply } = self;
        let future = f(process);
        (entry, async move {
            let value = future.await;
            let _ = reply.send(value);
        })
    }
}

/// Spawns a task's process running `f`, linked to `owner` if one is given (the link exists
/// before the task runs), and returns its handle.
///
/// # Panics
/// Outside a tokio runtime, at the caller's location.
#[track_caller]
pub(crate) fn spawn_task<F, Fut>(
    owner: Option<&Arc<dyn ProcessEntry>>,
    opts: SpawnOptions,
    f: F,
) -> Task<Fut::Output>
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let (body, reply) = TaskBody::new(f);
    let mut entry = None;
    let spawner = owner.map(|o| &**o as &dyn ProcessEntry);
    let (pid, ()) = process::spawned(process::spawn_with(
        spawner,
        opts,
        |process| {
            let (e, future) = body.start(process);
            entry = e;
            future
        },
        |task| {
            if let Some(owner) = spawner {
                process::link_pair(owner.core(), task.core());
            }
        },
    ));
    Task::from_parts(pid, entry, owner.map(|o| o.core().pid), reply)
}

/// The process running this code, if any: the owner a task links to.
pub(crate) fn caller() -> Option<Arc<dyn ProcessEntry>> {
    current_entry()
}

/// The instant `timeout` from now; `None` (no limit) for `Duration::MAX`, and about thirty years
/// ahead for a timeout that overflows the clock.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    if timeout == Duration::MAX {
        return None;
    }
    let now = Instant::now();
    Some(
        now.checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30)),
    )
}

/// `future`'s output if it comes before `deadline` (always, without one). The future is polled
/// before the deadline is checked, so a deadline already passed still takes a value that is
/// ready (Erlang's `after 0`).
pub(crate) async fn within<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        None => Some(future.await),
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
    }
}
