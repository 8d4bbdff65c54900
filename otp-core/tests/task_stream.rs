//! Conformance tests for `async_stream` (T-08, T-12 of CONFORMANCE.md), with the cases of
//! Elixir's `task_test.exs` they translate, and proofs of its backpressure: never more than
//! `max_concurrency` tasks running, never more than `max_concurrency` inputs pulled ahead of the
//! consumer. Time runs on tokio's paused clock.
//!
//! Elixir's `{:ok, v}` is `Ok(v)` here, `{:exit, reason}` is `Err(StreamExit { error, input })`.

mod common;

use std::future::pending;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use futures_util::stream::FusedStream;
use otp_core::process::{ExitReason, Info, Pid, SpawnOptions, current_pid, spawn_opt, wait_exit};
use otp_core::task::{
    AsyncStreamError, OnTimeout, StreamExit, TaskError, async_stream, async_stream_from,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::sleep;

const MS: Duration = Duration::from_millis(1);

/// An input meaning "never finish".
const FOREVER: u64 = u64::MAX;

type Item = Result<u64, StreamExit<u64>>;

/// Elixir's `&sleep/1` of the tests: sleeps `ms` milliseconds, then gives `ms`.
async fn sleep_ms(ms: u64) -> u64 {
    if ms == FOREVER {
        pending::<()>().await;
    }
    sleep(Duration::from_millis(ms)).await;
    ms
}

/// Elixir's `&exit/1`: the task ends with an error reason named after its input.
async fn exit_with(n: u64) -> u64 {
    let me = current_pid().expect("a task runs in a process");
    otp_core::process::exit(me, reason(n));
    pending().await
}

fn reason(n: u64) -> ExitReason {
    ExitReason::error(n)
}

fn exited(n: u64) -> Item {
    Err(StreamExit {
        error: TaskError::Exited(reason(n)),
        input: None,
    })
}

fn timed_out(input: Option<u64>) -> Item {
    Err(StreamExit {
        error: TaskError::Timeout,
        input,
    })
}

/// Collects a stream, failing the test instead of hanging.
async fn collect<S: futures_util::Stream>(stream: S) -> Vec<S::Item> {
    within("the stream to end", stream.collect::<Vec<_>>()).await
}

/// A watch on a task's exit.
type Ended = std::pin::Pin<Box<dyn Future<Output = ExitReason> + Send>>;

/// Each task reports its pid and a watch on its exit here, as it starts.
type Started = mpsc::UnboundedSender<(Pid, Ended)>;

fn report_start(started: &Started) {
    let me = current_pid().expect("a task runs in a process");
    let _ = started.send((me, Box::pin(wait_exit(me))));
}

/// The exit reasons of all the tasks that reported their start, in the order they started.
async fn exit_reasons(started: &mut mpsc::UnboundedReceiver<(Pid, Ended)>) -> Vec<ExitReason> {
    let mut reasons = Vec::new();
    while let Ok((_, ended)) = started.try_recv() {
        reasons.push(within("a task to end", ended).await);
    }
    reasons
}

// ---------------------------------------------------------------------------------------------
// T-08: results, order, concurrency

/// T-08, task_test.exs "async_stream with max_concurrency ==/</> tasks": "streams an
/// enumerable with fun", "streams an enumerable with slowest first", "with inner halt", "with
/// outer halt": results in input order whatever the completion order and the concurrency.
#[tokio::test(start_paused = true)]
async fn t08_ordered_results_whatever_the_concurrency() {
    for concurrency in [4, 2, 8] {
        let s = async_stream(1..=4, sleep_ms)
            .max_concurrency(concurrency)
            .unwrap();
        assert_eq!(collect(s).await, vec![Ok(1), Ok(2), Ok(3), Ok(4)]);
        let s = async_stream((1..=4).rev(), sleep_ms)
            .max_concurrency(concurrency)
            .unwrap();
        assert_eq!(collect(s).await, vec![Ok(4), Ok(3), Ok(2), Ok(1)]);
        // Inner halt: the input stops early.
        let s = async_stream((1..=8).rev().take(4), sleep_ms)
            .max_concurrency(concurrency)
            .unwrap();
        assert_eq!(collect(s).await, vec![Ok(8), Ok(7), Ok(6), Ok(5)]);
        // Outer halt: the consumer stops early.
        let s = async_stream((1..=8).rev(), sleep_ms)
            .max_concurrency(concurrency)
            .unwrap();
        assert_eq!(collect(s.take(4)).await, vec![Ok(8), Ok(7), Ok(6), Ok(5)]);
    }
}

/// T-08, task_test.exs "streams an enumerable with ordered: false": with one task at a time
/// the input order, with four the completion order.
#[tokio::test(start_paused = true)]
async fn t08_unordered_results_come_as_tasks_finish() {
    let inputs = [400, 300, 200, 100];
    let s = async_stream(inputs, sleep_ms)
        .max_concurrency(1)
        .unwrap()
        .ordered(false);
    assert_eq!(collect(s).await, vec![Ok(400), Ok(300), Ok(200), Ok(100)]);
    let s = async_stream(inputs, sleep_ms)
        .max_concurrency(4)
        .unwrap()
        .ordered(false);
    assert_eq!(collect(s).await, vec![Ok(100), Ok(200), Ok(300), Ok(400)]);
}

/// T-08, task_test.exs "streams an enumerable with infinite timeout".
#[tokio::test(start_paused = true)]
async fn t08_infinite_timeout() {
    let s = async_stream([8_000], sleep_ms).timeout(Duration::MAX);
    assert_eq!(collect(s).await, vec![Ok(8_000)]);
}

/// T-08, task_test.exs "does not allow streaming with max_concurrency = 0": a typed error when
/// the stream is built, not a panic.
#[tokio::test]
async fn t08_max_concurrency_zero_is_refused() {
    let refused = async_stream([1], sleep_ms).max_concurrency(0);
    assert_eq!(refused.err(), Some(AsyncStreamError::ZeroConcurrency));
}

/// T-08: a panic in an element is its exit reason; the stream goes on.
#[tokio::test]
async fn t08_a_panicking_element_is_an_exit() {
    quiet_panics();
    let s = async_stream([1u64, 2, 3], |n| async move {
        assert!(n != 2, "two");
        n
    });
    let items = collect(s).await;
    assert_eq!(
        items,
        vec![
            Ok(1),
            Err(StreamExit {
                error: TaskError::Exited(ExitReason::Panic("two".into())),
                input: None
            }),
            Ok(3)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// T-08: backpressure

/// An iterator counting the inputs pulled from it.
struct Counted {
    next: u64,
    end: u64,
    pulled: Arc<AtomicUsize>,
}

impl Iterator for Counted {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        if self.next == self.end {
            return None;
        }
        self.pulled.fetch_add(1, Ordering::SeqCst);
        self.next += 1;
        Some(self.next - 1)
    }
}

/// Counts the tasks running at once, and the most seen.
#[derive(Clone, Default)]
struct Gauge {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

/// Held by a running task; dropped when its process ends, however it ends.
struct Running(Gauge);

impl Gauge {
    fn enter(&self) -> Running {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        Running(self.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A duration for input `n`, scattered so that tasks finish out of order.
fn scattered(n: u64) -> u64 {
    (n * 37) % 50 + 1
}

/// T-08: backpressure over an iterator, ordered and unordered, for several concurrencies:
/// never more than `max_concurrency` tasks at once, never more than `max_concurrency` inputs
/// pulled and not yet yielded, nothing pulled while the consumer does not poll — and the
/// concurrency is used.
#[tokio::test(start_paused = true)]
async fn t08_backpressure_over_an_iterator() {
    for ordered in [true, false] {
        for max in [1, 3, 8] {
            let pulled = Arc::new(AtomicUsize::new(0));
            let gauge = Gauge::default();
            let inputs = Counted {
                next: 0,
                end: 60,
                pulled: pulled.clone(),
            };
            let g = gauge.clone();
            let s = async_stream(inputs, move |n| {
                let g = g.clone();
                async move {
                    let _running = g.enter();
                    sleep_ms(scattered(n)).await
                }
            })
            .max_concurrency(max)
            .unwrap()
            .ordered(ordered);
            let mut s = pin!(s);
            let mut yielded = 0;
            while let Some(item) = within("an item", s.next()).await {
                assert!(item.is_ok());
                let in_flight = pulled.load(Ordering::SeqCst) - yielded;
                assert!(in_flight <= max, "{in_flight} inputs in flight, max {max}");
                yielded += 1;
                // A slow consumer: nothing is pulled while it does not poll.
                let before = pulled.load(Ordering::SeqCst);
                sleep(20 * MS).await;
                assert_eq!(pulled.load(Ordering::SeqCst), before);
            }
            assert_eq!(yielded, 60);
            assert_eq!(pulled.load(Ordering::SeqCst), 60);
            assert_eq!(gauge.most.load(Ordering::SeqCst), max, "ordered {ordered}");
            assert_eq!(gauge.now.load(Ordering::SeqCst), 0);
        }
    }
}

/// T-08: backpressure over a stream of inputs, with timeouts killing some tasks
/// (`on_timeout: KillTask`): a killed task holds its slot until its process has ended.
#[tokio::test(start_paused = true)]
async fn t08_backpressure_over_a_stream_with_kills() {
    for max in [1, 2, 5] {
        let pulled = Arc::new(AtomicUsize::new(0));
        let p = pulled.clone();
        let inputs = futures_util::stream::unfold(0u64, move |n| {
            let p = p.clone();
            async move {
                (n < 40).then(|| {
                    p.fetch_add(1, Ordering::SeqCst);
                    (n, n + 1)
                })
            }
        });
        let gauge = Gauge::default();
        let g = gauge.clone();
        let s = async_stream_from(inputs, move |n| {
            let g = g.clone();
            async move {
                let _running = g.enter();
                // Every third task outlives the timeout.
                sleep_ms(if n % 3 == 0 { 1_000 } else { scattered(n) }).await
            }
        })
        .max_concurrency(max)
        .unwrap()
        .timeout(100 * MS)
        .on_timeout(OnTimeout::KillTask);
        let mut s = pin!(s);
        let mut yielded = 0u64;
        while let Some(item) = within("an item", s.next()).await {
            assert_eq!(
                item.is_err(),
                yielded.is_multiple_of(3),
                "item {yielded}: {item:?}"
            );
            let in_flight = pulled.load(Ordering::SeqCst) - yielded as usize;
            assert!(in_flight <= max, "{in_flight} inputs in flight, max {max}");
            assert!(gauge.now.load(Ordering::SeqCst) <= max);
            yielded += 1;
        }
        assert_eq!(yielded, 40);
        assert_eq!(gauge.most.load(Ordering::SeqCst), max);
    }
}

// ---------------------------------------------------------------------------------------------
// T-08: timeouts

/// T-08, task_test.exs "async_stream/2 timeout": with the default `on_timeout: :exit`, a task
/// that outlives the timeout ends the stream with a timeout error; the task is killed, and so
/// are the others still running.
#[tokio::test(start_paused = true)]
async fn t08_timeout_ends_the_stream() {
    let s = async_stream([FOREVER], sleep_ms).timeout(Duration::ZERO);
    assert_eq!(collect(s).await, vec![timed_out(None)]);

    let (started_tx, mut started) = mpsc::unbounded_channel();
    let s = async_stream([10, 1_000, FOREVER, 20, 200], move |ms| {
        let started_tx = started_tx.clone();
        async move {
            report_start(&started_tx);
            sleep_ms(ms).await
        }
    })
    .max_concurrency(4)
    .unwrap()
    .timeout(100 * MS);
    let mut s = pin!(s);
    assert_eq!(s.next().await, Some(Ok(10)));
    assert_eq!(s.next().await, Some(timed_out(None)));
    assert_eq!(s.next().await, None);
    assert!(s.is_terminated());
    let reasons = exit_reasons(&mut started).await;
    assert_eq!(
        reasons,
        vec![
            ExitReason::Normal,
            ExitReason::Killed,
            ExitReason::Killed,
            ExitReason::Normal,
            ExitReason::Killed,
        ],
        "the fifth input was pulled when the first was yielded, and killed with the stream"
    );
}

/// T-08, task_test.exs "streams an enumerable with ordered: false, on_timeout: :kill_task".
#[tokio::test(start_paused = true)]
async fn t08_kill_task_unordered() {
    let s = async_stream([100, 1, 100, 1], sleep_ms)
        .max_concurrency(4)
        .unwrap()
        .ordered(false)
        .on_timeout(OnTimeout::KillTask)
        .timeout(50 * MS);
    assert_eq!(
        collect(s).await,
        vec![Ok(1), Ok(1), timed_out(None), timed_out(None)]
    );
}

/// T-08, task_test.exs "with :on_timeout set to :kill_task", for each concurrency: the timed
/// out tasks are killed and their elements are timeouts, in their place.
#[tokio::test(start_paused = true)]
async fn t08_kill_task_ordered() {
    for concurrency in [4, 2, 8] {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let s = async_stream([100, 1, 100, 1], move |ms| {
            let started_tx = started_tx.clone();
            async move {
                report_start(&started_tx);
                sleep_ms(ms).await
            }
        })
        .max_concurrency(concurrency)
        .unwrap()
        .on_timeout(OnTimeout::KillTask)
        .timeout(50 * MS);
        assert_eq!(
            collect(s).await,
            vec![timed_out(None), Ok(1), timed_out(None), Ok(1)]
        );
        let reasons = exit_reasons(&mut started).await;
        assert_eq!(
            reasons,
            vec![
                ExitReason::Killed,
                ExitReason::Normal,
                ExitReason::Killed,
                ExitReason::Normal
            ]
        );
    }
}

/// T-08, task_test.exs "with timeout and :zip_input_on_exit set to true": an element without a
/// value carries its input; with the option off, it does not.
#[tokio::test(start_paused = true)]
async fn t08_zip_input_on_exit() {
    let s = async_stream([1, 100], sleep_ms)
        .on_timeout(OnTimeout::KillTask)
        .timeout(50 * MS)
        .zip_input_on_exit(true);
    assert_eq!(collect(s).await, vec![Ok(1), timed_out(Some(100))]);

    let trapping = SpawnOptions::new().trap_exit(true);
    let (tx, rx) = oneshot::channel();
    spawn_opt(trapping, move |_| async move {
        let s = async_stream([7, 8], exit_with).zip_input_on_exit(true);
        let _ = tx.send(s.collect::<Vec<_>>().await);
    });
    let items = within("the consumer", rx).await.unwrap();
    assert_eq!(
        items,
        vec![
            Err(StreamExit {
                error: TaskError::Exited(reason(7)),
                input: Some(7)
            }),
            Err(StreamExit {
                error: TaskError::Exited(reason(8)),
                input: Some(8)
            }),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// T-08, T-12: crashes

/// T-08, task_test.exs "streams an enumerable with exits" (for each concurrency): a consumer
/// that traps exits gets the exits as elements, in order, and no exit message in its mailbox.
#[tokio::test]
async fn t08_exits_are_elements_for_a_trapping_consumer() {
    for concurrency in [4, 2, 8] {
        let (tx, rx) = oneshot::channel();
        let trapping = SpawnOptions::new().trap_exit(true);
        spawn_opt(trapping, move |mut me| async move {
            let s = async_stream(1..=4, exit_with)
                .max_concurrency(concurrency)
                .unwrap();
            let items = s.collect::<Vec<_>>().await;
            let mailbox: Vec<Info> = std::iter::from_fn(|| me.try_recv()).collect();
            let _ = tx.send((items, mailbox.len()));
        });
        let (items, mailbox) = within("the consumer", rx).await.unwrap();
        assert_eq!(items, vec![exited(1), exited(2), exited(3), exited(4)]);
        assert_eq!(mailbox, 0, "no exit messages from the tasks");
    }
}

/// T-08: a task crashing ends a consumer that does not trap exits, with the task's reason (as
/// the link through Elixir's intermediate process would); the other tasks are killed with the
/// stream.
#[tokio::test(start_paused = true)]
async fn t08_a_crash_ends_a_non_trapping_consumer() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let consumer = otp_core::process::spawn(move |_| async move {
        let s = async_stream([10, 20, FOREVER], move |ms| {
            let started_tx = started_tx.clone();
            async move {
                report_start(&started_tx);
                if ms == 20 {
                    sleep_ms(20).await;
                    return exit_with(20).await;
                }
                sleep_ms(ms).await
            }
        });
        let mut s = pin!(s);
        while let Some(item) = s.next().await {
            let _ = seen_tx.send(item);
        }
    });
    assert_eq!(exit_reason(consumer).await, reason(20));
    assert_eq!(seen.recv().await, Some(Ok(10)));
    assert_eq!(
        seen.recv().await,
        None,
        "the crash is not seen as an element"
    );
    let reasons = exit_reasons(&mut started).await;
    assert_eq!(
        reasons,
        vec![ExitReason::Normal, reason(20), ExitReason::Killed]
    );
}

/// T-12 (`async_stream_nolink`): with `link(false)` a crash is only an element, even for a
/// consumer that does not trap exits.
#[tokio::test]
async fn t12_nolink_crashes_are_only_elements() {
    let (tx, rx) = oneshot::channel();
    let consumer = otp_core::process::spawn(move |_| async move {
        let s = async_stream(1..=3, exit_with).link(false);
        let _ = tx.send(s.collect::<Vec<_>>().await);
    });
    let consumer_ended = watch_exit(consumer);
    let items = within("the consumer", rx).await.unwrap();
    assert_eq!(items, vec![exited(1), exited(2), exited(3)]);
    assert_eq!(consumer_ended.await, ExitReason::Normal);
}

/// T-08: outside any process a crash is only an element.
#[tokio::test]
async fn t08_outside_a_process_crashes_are_elements() {
    let s = async_stream(1..=2, exit_with);
    assert_eq!(collect(s).await, vec![exited(1), exited(2)]);
}

// ---------------------------------------------------------------------------------------------
// T-08: nothing left behind

/// T-08, task_test.exs "shuts down unused tasks" and "shuts down unused tasks without leaking
/// messages" (for each concurrency): taking one element and dropping the stream kills the
/// tasks still running; the consumer keeps no link and gets no message.
#[tokio::test(start_paused = true)]
async fn t08_dropping_the_stream_kills_its_tasks() {
    for concurrency in [4, 2, 8] {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (tx, rx) = oneshot::channel();
        let trapping = SpawnOptions::new().trap_exit(true);
        let consumer = spawn_opt(trapping, move |mut me| async move {
            let s = async_stream([0, FOREVER, FOREVER, FOREVER], move |ms| {
                let started_tx = started_tx.clone();
                async move {
                    report_start(&started_tx);
                    sleep_ms(ms).await
                }
            })
            .max_concurrency(concurrency)
            .unwrap();
            let first = s.take(1).collect::<Vec<_>>().await;
            sleep(10 * MS).await;
            let mailbox: Vec<Info> = std::iter::from_fn(|| me.try_recv()).collect();
            let links = otp_core::process::process_info(me.pid()).map(|i| i.links);
            let _ = tx.send((first, mailbox.len(), links));
        });
        let consumer_ended = watch_exit(consumer);
        let (first, mailbox, links) = within("the consumer", rx).await.unwrap();
        assert_eq!(first, vec![Ok(0)]);
        assert_eq!(mailbox, 0);
        assert_eq!(links, Some(vec![]));
        let reasons = exit_reasons(&mut started).await;
        assert_eq!(reasons[0], ExitReason::Normal);
        assert!(
            reasons[1..].iter().all(|r| *r == ExitReason::Killed),
            "{reasons:?}"
        );
        assert_eq!(reasons.len(), concurrency.min(4));
        assert_eq!(consumer_ended.await, ExitReason::Normal);
    }
}

/// T-08: a consumer process that ends while its stream runs takes the stream's tasks down.
#[tokio::test(start_paused = true)]
async fn t08_a_consumer_ending_takes_the_tasks_down() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let consumer = otp_core::process::spawn(move |_| async move {
        let s = async_stream([FOREVER, FOREVER], move |ms| {
            let started_tx = started_tx.clone();
            async move {
                report_start(&started_tx);
                sleep_ms(ms).await
            }
        });
        let mut s = pin!(s);
        let _ = tokio::time::timeout(10 * MS, s.next()).await;
        // Returns, dropping the stream mid-way.
    });
    assert_eq!(exit_reason(consumer).await, ExitReason::Normal);
    let reasons = exit_reasons(&mut started).await;
    assert_eq!(reasons, vec![ExitReason::Killed, ExitReason::Killed]);
}
