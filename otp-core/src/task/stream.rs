//! [`async_stream`]: a function run on every element of an iterator or a stream, each in its
//! own task process, with bounded concurrency — Elixir's `Task.async_stream` (T-08, T-12).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{FusedStream, FuturesUnordered, Iter, Stream, StreamExt};
use pin_project_lite::pin_project;
use rustc_hash::FxHashMap;
use tokio::time::Instant;

use super::async_task::spawn_task;
use super::deadline::deadline_after;
use super::error::AsyncStreamError;
use super::start::caller;
use super::{DEFAULT_TIMEOUT, StreamExit, Task, TaskError, TaskSupervisorRef};
use crate::pid::Pid;
use crate::process::{self, SpawnOptions};
use crate::supervisor::{DEFAULT_WORKER_SHUTDOWN, Shutdown};

/// What an [`AsyncStream`] does when an element's task outlives the timeout (Elixir's
/// `:on_timeout`). Either way the task is killed first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnTimeout {
    /// The stream yields `Err(StreamExit { error: TaskError::Timeout, .. })` at once, out of
    /// order if need be, and ends: the other running tasks are killed and no more input is
    /// pulled. (Elixir's default `:exit` exits the caller, which ends the stream and its tasks;
    /// here the consumer gets the error as a value and decides.) The default.
    #[default]
    Exit,
    /// The timed-out element is `Err(StreamExit { error: TaskError::Timeout, .. })`, in its
    /// place, and the stream goes on (Elixir's `:kill_task`).
    KillTask,
}

/// One element's task: its position, its pid, and its outcome.
type Element<T> = Pin<Box<dyn Future<Output = (usize, Pid, Result<T, TaskError>)> + Send>>;

/// The results and the tasks of a running stream.
struct Running<I, T> {
    /// The elements' tasks.
    tasks: FuturesUnordered<Element<T>>,
    /// Ordered: the outcomes from position `yielded` on, `None` while the task runs.
    in_order: VecDeque<Option<Result<T, TaskError>>>,
    /// Unordered: the outcomes ready to be yielded, as they came.
    ready: VecDeque<(usize, Result<T, TaskError>)>,
    /// The inputs kept for `zip_input_on_exit`, by position.
    kept: FxHashMap<usize, I>,
    /// Inputs pulled so far (the next position).
    pulled: usize,
    /// Elements yielded so far.
    yielded: usize,
    /// Whether results are ordered, fixed at the first poll.
    ordered: Option<bool>,
    /// The stream has ended.
    done: bool,
}

impl<I, T> Running<I, T> {
    fn new() -> Self {
        Running {
            tasks: FuturesUnordered::new(),
            in_order: VecDeque::new(),
            ready: VecDeque::new(),
            kept: FxHashMap::default(),
            pulled: 0,
            yielded: 0,
            ordered: None,
            done: false,
        }
    }

    /// Elements pulled and not yet yielded.
    fn in_flight(&self) -> usize {
        self.pulled - self.yielded
    }

    /// The next element to yield, if its outcome is there.
    fn take_ready(&mut self, ordered: bool) -> Option<(usize, Result<T, TaskError>)> {
        if ordered {
            match self.in_order.front() {
                Some(Some(_)) => self
                    .in_order
                    .pop_front()
                    .flatten()
                    .map(|outcome| (self.yielded, outcome)),
                _ => None,
            }
        } else {
            self.ready.pop_front()
        }
    }

    /// Keeps an outcome until its turn.
    fn store(&mut self, ordered: bool, position: usize, outcome: Result<T, TaskError>) {
        if ordered {
            if let Some(slot) = self.in_order.get_mut(position - self.yielded) {
                *slot = Some(outcome);
            }
        } else {
            self.ready.push_back((position, outcome));
        }
    }

    /// Ends the stream: the running tasks are killed (as their handles are dropped), the
    /// outcomes not yet yielded dropped.
    fn end(&mut self) {
        self.tasks = FuturesUnordered::new();
        self.in_order.clear();
        self.ready.clear();
        self.kept.clear();
        self.done = true;
    }
}

pin_project! {
    /// The stream returned by [`async_stream`] and [`async_stream_from`]: runs `f` on every
    /// input, each call's future in its own task process, and yields
    /// `Ok(value)` or `Err(`[`StreamExit`]`)` per input (Elixir's `{:ok, value}` /
    /// `{:exit, reason}`).
    ///
    /// Configure it with the builder methods before polling it:
    ///
    /// | method | default | Elixir option |
    /// |---|---|---|
    /// | [`max_concurrency`](Self::max_concurrency) | available parallelism | `:max_concurrency` |
    /// | [`ordered`](Self::ordered) | `true` | `:ordered` |
    /// | [`timeout`](Self::timeout) | 5 s, per task | `:timeout` |
    /// | [`on_timeout`](Self::on_timeout) | [`OnTimeout::Exit`] | `:on_timeout` |
    /// | [`zip_input_on_exit`](Self::zip_input_on_exit) | `false` | `:zip_input_on_exit` |
    /// | [`link`](Self::link) | `true` | `async_stream` / `async_stream_nolink` |
    /// | [`supervisor`](Self::supervisor) | none | `Task.Supervisor.async_stream*` |
    /// | [`shutdown`](Self::shutdown) | 5 s | `:shutdown` (under a supervisor) |
    ///
    /// **Backpressure.** The stream is lazy: it pulls an input only while it is polled and
    /// fewer than `max_concurrency` elements are *in flight* — pulled and not yet yielded. So
    /// at most `max_concurrency` tasks run at once, and at most `max_concurrency` inputs are
    /// pulled ahead of the consumer. (In ordered mode Elixir frees a slot when a task ends even
    /// if its result waits behind a slower one, so its reorder buffer can grow with the input;
    /// here a finished result keeps its slot until yielded, so memory stays bounded, at the
    /// cost of a slow task holding back its successors. A timed-out task keeps its slot until
    /// its process has ended, as in Elixir.)
    ///
    /// **Failures.** A task that panics or exits gives `Err` with its exit reason. As in
    /// Elixir, where the tasks are linked to an intermediate process linked to the caller: when
    /// the stream is consumed inside a process that does not trap exits, a task ending with an
    /// abnormal reason also ends that process with the same reason (T-08); a trapping consumer,
    /// a consumer outside any process, or a stream with [`link(false)`](Self::link) (Elixir's
    /// `async_stream_nolink`, T-12) just gets the `Err`. The consumer's mailbox gets no exit
    /// messages from the tasks. (The crash is passed on when the stream sees it, that is while
    /// it is polled; the consumer then ends before it sees another element.)
    ///
    /// `f` is called in the consumer, when its input is pulled, to build the future; the future
    /// runs in the task's process. So do the work inside the future (`|x| async move { .. }`):
    /// what `f` does before returning it is the consumer's.
    ///
    /// **Dropping** the stream, or its ending on a timeout with [`OnTimeout::Exit`], kills the
    /// tasks still running: nothing is left behind. When the consumer is a process and ends,
    /// the stream is dropped with it, which takes its tasks down.
    ///
    /// **Under a task supervisor** ([`supervisor`](Self::supervisor), or
    /// [`TaskSupervisorRef::async_stream`] and
    /// [`async_stream_nolink`](TaskSupervisorRef::async_stream_nolink)), each element's task is
    /// a temporary child of the supervisor, started by a call to it when its input is pulled;
    /// stopping the supervisor stops them per [`shutdown`](Self::shutdown). If the supervisor
    /// refuses a task (its `max_children` is reached, or it is not running), the stream
    /// yields `Err(StreamExit { error: TaskError::NotStarted(_), .. })` at once and ends, its
    /// other tasks killed, as Elixir raises and shuts the stream down.
    #[must_use = "streams do nothing unless polled"]
    pub struct AsyncStream<S, I, F, T> {
        #[pin]
        inputs: Option<S>,
        f: F,
        max_concurrency: usize,
        ordered: bool,
        timeout: Duration,
        on_timeout: OnTimeout,
        clone_input: Option<fn(&I) -> I>,
        link: bool,
        supervisor: Option<TaskSupervisorRef>,
        shutdown: Shutdown,
        running: Running<I, T>,
    }
}

/// Runs `f` on every element of `inputs`, each call's future in its own task process, as an
/// [`AsyncStream`] of the results (Elixir's `Task.async_stream/3`).
///
/// ```
/// use futures_util::StreamExt;
/// use otp_core::task::async_stream;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let lengths: Vec<usize> = async_stream(["a", "bb", "ccc"], |s| async move { s.len() })
///     .max_concurrency(2)
///     .unwrap()
///     .map(|r| r.unwrap())
///     .collect()
///     .await;
/// assert_eq!(lengths, [1, 2, 3]);
/// # }
/// ```
pub fn async_stream<It, F, Fut>(
    inputs: It,
    f: F,
) -> AsyncStream<Iter<It::IntoIter>, It::Item, F, Fut::Output>
where
    It: IntoIterator,
    F: FnMut(It::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    async_stream_from(futures_util::stream::iter(inputs), f)
}

/// [`async_stream`] over the elements of a stream: an input is pulled only when there is room
/// for its task.
pub fn async_stream_from<S, F, Fut>(inputs: S, f: F) -> AsyncStream<S, S::Item, F, Fut::Output>
where
    S: Stream,
    F: FnMut(S::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    AsyncStream {
        inputs: Some(inputs),
        f,
        max_concurrency: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ordered: true,
        timeout: DEFAULT_TIMEOUT,
        on_timeout: OnTimeout::Exit,
        clone_input: None,
        link: true,
        supervisor: None,
        shutdown: Shutdown::Timeout(DEFAULT_WORKER_SHUTDOWN),
        running: Running::new(),
    }
}

impl<S, I, F, T> AsyncStream<S, I, F, T> {
    /// At most how many elements are in flight (pulled and not yet yielded), so at most how
    /// many tasks run at once. Default: the machine's available parallelism (Elixir's
    /// `System.schedulers_online()`). 0 is an error: [`AsyncStreamError::ZeroConcurrency`].
    pub fn max_concurrency(mut self, max: usize) -> Result<Self, AsyncStreamError> {
        if max == 0 {
            return Err(AsyncStreamError::ZeroConcurrency);
        }
        self.max_concurrency = max;
        Ok(self)
    }

    /// Whether results come in the order of the inputs (default `true`) or as the tasks finish.
    /// Fixed when the stream is first polled.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// How long each task may run, counted from its start (default [`DEFAULT_TIMEOUT`], 5 s;
    /// `Duration::MAX`: without limit). See [`on_timeout`](Self::on_timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What happens when a task outlives the timeout (default [`OnTimeout::Exit`]).
    pub fn on_timeout(mut self, on_timeout: OnTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }

    /// Whether an element that gives no value carries its input in
    /// [`StreamExit::input`] (default `false`). The input is cloned before it is given to `f`.
    pub fn zip_input_on_exit(mut self, zip: bool) -> Self
    where
        I: Clone,
    {
        self.clone_input = zip.then_some(<I as Clone>::clone as fn(&I) -> I);
        self
    }

    /// Whether a task's crash is passed on to the consuming process as through a link (default
    /// `true`, Elixir's `Task.async_stream`): see [the type docs](AsyncStream). With `false`
    /// (Elixir's `Task.Supervisor.async_stream_nolink`, T-12) a crash is only an `Err` element.
    pub fn link(mut self, link: bool) -> Self {
        self.link = link;
        self
    }

    /// Starts every element's task as a temporary child of `supervisor` (Elixir's
    /// `Task.Supervisor.async_stream`), instead of as a plain process: the tasks show among its
    /// [`children`](TaskSupervisorRef::children), count toward its `max_children`, and are
    /// stopped when it stops. See [the type docs](AsyncStream) for a task it refuses. Combine
    /// with [`link(false)`](Self::link) for `async_stream_nolink`.
    pub fn supervisor(mut self, supervisor: &TaskSupervisorRef) -> Self {
        self.supervisor = Some(supervisor.clone());
        self
    }

    /// How the task supervisor stops an element's task when the supervisor stops (default
    /// 5 s; Elixir's `:shutdown` option of the supervised streams). Without a
    /// [`supervisor`](Self::supervisor) it has no effect: the stream kills its tasks itself.
    /// A task that does not trap exits ends at once either way.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }
}

impl<S, I, F, Fut, T> Stream for AsyncStream<S, I, F, T>
where
    S: Stream<Item = I>,
    F: FnMut(I) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    type Item = Result<T, StreamExit<I>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        let run = this.running;
        if run.done {
            return Poll::Ready(None);
        }
        let ordered = *run.ordered.get_or_insert(*this.ordered);
        loop {
            if let Some((position, outcome)) = run.take_ready(ordered) {
                run.yielded += 1;
                let input = run.kept.remove(&position);
                return Poll::Ready(Some(outcome.map_err(|error| StreamExit { error, input })));
            }
            while run.in_flight() < *this.max_concurrency {
                let Some(inputs) = this.inputs.as_mut().as_pin_mut() else {
                    break;
                };
                match inputs.poll_next(cx) {
                    Poll::Ready(Some(input)) => {
                        let position = run.pulled;
                        run.pulled += 1;
                        if let Some(clone) = this.clone_input {
                            run.kept.insert(position, clone(&input));
                        }
                        if ordered {
                            run.in_order.push_back(None);
                        }
                        let future = (this.f)(input);
                        let task = match this.supervisor {
                            None => plain_element(position, future, *this.timeout),
                            Some(sup) => supervised_element(
                                sup,
                                *this.shutdown,
                                position,
                                future,
                                *this.timeout,
                            ),
                        };
                        run.tasks.push(task);
                    }
                    Poll::Ready(None) => this.inputs.set(None),
                    Poll::Pending => break,
                }
            }
            match run.tasks.poll_next_unpin(cx) {
                Poll::Ready(Some((position, pid, outcome))) => {
                    let outcome = match outcome {
                        Err(error) if ends_stream(&error, *this.on_timeout) => {
                            let input = run.kept.remove(&position);
                            run.end();
                            this.inputs.set(None);
                            return Poll::Ready(Some(Err(StreamExit { error, input })));
                        }
                        outcome => outcome,
                    };
                    let passed_on = *this.link && pass_on_crash(pid, &outcome);
                    run.store(ordered, position, outcome);
                    if passed_on {
                        // Let the consuming process act on the exit signal before it sees
                        // anything more of this stream.
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                Poll::Ready(None) if this.inputs.is_none() => {
                    run.done = true;
                    return Poll::Ready(None);
                }
                // No task runs and the inputs have nothing yet: they wake us.
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<S, I, F, Fut, T> FusedStream for AsyncStream<S, I, F, T>
where
    S: Stream<Item = I>,
    F: FnMut(I) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn is_terminated(&self) -> bool {
        self.running.done
    }
}

/// Whether an element's error ends the stream, yielded at once: a timeout under
/// [`OnTimeout::Exit`], or a task its supervisor refused to start.
fn ends_stream(error: &TaskError, on_timeout: OnTimeout) -> bool {
    match error {
        TaskError::Timeout => on_timeout == OnTimeout::Exit,
        TaskError::NotStarted(_) => true,
        _ => false,
    }
}

/// Starts the task of the element at `position` as a plain process, unlinked (the stream
/// passes crashes on itself): the future resolves with its outcome, or with a timeout once the
/// task, killed, has ended. Dropped before, it kills the task.
fn plain_element<Fut>(position: usize, future: Fut, timeout: Duration) -> Element<Fut::Output>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let task = Killing(spawn_task(None, SpawnOptions::default(), move |_| future));
    Box::pin(run_element(position, task, deadline_after(timeout)))
}

/// Starts the task of the element at `position` under a task supervisor, unlinked from the
/// consumer, then waits for it as [`plain_element`] does, its timeout counted from its start.
/// Resolves with [`TaskError::NotStarted`] if the supervisor refuses it. Dropped while the
/// supervisor starts it, the task is shut down as soon as it has started (its handle is
/// dropped on its way back); dropped later, it is killed.
fn supervised_element<Fut>(
    supervisor: &TaskSupervisorRef,
    shutdown: Shutdown,
    position: usize,
    future: Fut,
    timeout: Duration,
) -> Element<Fut::Output>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let sup = supervisor.pid();
    let start = supervisor.start_task(None, shutdown, move |_| future);
    Box::pin(async move {
        match start.await {
            Ok(task) => run_element(position, Killing(task), deadline_after(timeout)).await,
            Err(e) => (position, sup, Err(TaskError::NotStarted(e))),
        }
    })
}

/// Waits for an element's task until `deadline`, killing it then (the outcome comes once it
/// has ended), or if dropped before.
async fn run_element<T: Send + 'static>(
    position: usize,
    mut task: Killing<T>,
    deadline: Option<Instant>,
) -> (usize, Pid, Result<T, TaskError>) {
    let pid = task.0.pid();
    let outcome = match task.0.outcome_until(deadline).await {
        Some(outcome) => outcome,
        None => task.0.kill_after_timeout().await,
    };
    (position, pid, outcome)
}

/// A stream's task, killed if dropped while it runs, as Elixir's stream kills its tasks when
/// it is halted (a [`Task`](super::Task) handle alone would send `shutdown`).
struct Killing<T>(Task<T>);

impl<T> Drop for Killing<T> {
    fn drop(&mut self) {
        self.0.kill();
    }
}

/// If `outcome` is an abnormal exit and the stream is polled by a process that does not trap
/// exits, ends that process with the reason, as the link through Elixir's intermediate process
/// would. Returns whether it did.
fn pass_on_crash<T>(from: Pid, outcome: &Result<T, TaskError>) -> bool {
    let Err(TaskError::Exited(reason)) = outcome else {
        return false;
    };
    if reason.is_normal() {
        return false;
    }
    match caller() {
        Some(consumer) if !consumer.core().traps_exits() => {
            process::exit_from(from, consumer.core().pid, reason.clone());
            true
        }
        _ => false,
    }
}

impl TaskSupervisorRef {
    /// Runs `f` on every input, each call's future in a task under the supervisor, as an
    /// [`AsyncStream`] (Elixir's `Task.Supervisor.async_stream/4`, T-12): the options and
    /// the behaviour of the plain [`async_stream`](fn@async_stream), a task's crash
    /// passed on to the consuming process as through a link. See [`AsyncStream`] for a task
    /// the supervisor refuses. For a stream of inputs, use
    /// [`async_stream_from`]`(..).`[`supervisor`](AsyncStream::supervisor)`(&sup)`.
    pub fn async_stream<It, F, Fut>(
        &self,
        inputs: It,
        f: F,
    ) -> AsyncStream<Iter<It::IntoIter>, It::Item, F, Fut::Output>
    where
        It: IntoIterator,
        F: FnMut(It::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        async_stream(inputs, f).supervisor(self)
    }

    /// [`async_stream`](Self::async_stream) whose tasks are not linked to the consumer
    /// (Elixir's `Task.Supervisor.async_stream_nolink/4`, T-12): a task's crash is only an
    /// `Err` element, never a crash of the consumer.
    pub fn async_stream_nolink<It, F, Fut>(
        &self,
        inputs: It,
        f: F,
    ) -> AsyncStream<Iter<It::IntoIter>, It::Item, F, Fut::Output>
    where
        It: IntoIterator,
        F: FnMut(It::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.async_stream(inputs, f).link(false)
    }

    /// [`async_stream_nolink`](Self::async_stream_nolink) over the elements of a stream: an
    /// input is pulled only when there is room for its task.
    pub fn async_stream_nolink_from<S, F, Fut>(
        &self,
        inputs: S,
        f: F,
    ) -> AsyncStream<S, S::Item, F, Fut::Output>
    where
        S: Stream,
        F: FnMut(S::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        async_stream_from(inputs, f).supervisor(self).link(false)
    }
}
