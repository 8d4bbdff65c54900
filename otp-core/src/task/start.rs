//! How a task's process is started.
//!
//! A task is an ordinary process whose body runs the user's future and sends the value it
//! returns through a one-shot channel to the [`Task`] handle; the handle also keeps the process's
//! control block, to read its exit reason when no value came. [`TaskBody`] is that body, usable
//! with any spawn that hands a new process its [`Process`] before the process runs
//! (`spawn_task`, beside [`Task`](super::Task); a task supervisor's child start): the spawn calls
//! [`TaskBody::start`] with the handle and runs the future it returns; whoever started it turns
//! the entry, the pid and the receiver into a [`Task`](super::Task) with `Task::from_parts`.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::process::{Process, ProcessEntry, current_entry};

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

/// The process running this code, if any: the owner a task links to.
pub(crate) fn caller() -> Option<Arc<dyn ProcessEntry>> {
    current_entry()
}
