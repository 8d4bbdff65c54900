//! Conformance tests for timers (send_after, send_interval, cancel_timer), on tokio's paused
//! clock: deadlines are checked against the virtual clock, never the wall clock.

mod common;

use std::time::Duration;

use common::*;
use otp_core::process::{ExitReason, exit, spawn};
use otp_core::timer::{cancel_timer, send_after, send_interval};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, advance};

const MS: Duration = Duration::from_millis(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tick;

/// A message whose drop can be awaited: the receiver resolves (with an error) once the message
/// has been dropped, wherever it was.
struct Tracked(#[allow(dead_code)] oneshot::Sender<()>);

/// send_after delivers after the delay and not before; once fired, the timer cannot be
/// cancelled.
#[tokio::test(start_paused = true)]
async fn send_after_delivers_after_the_delay_and_not_before() {
    let mut p = Probe::plain();
    let timer = send_after(p.pid, 7u32, 100 * MS);
    advance(99 * MS).await;
    assert!(p.flush().await.is_empty(), "delivered before the delay");
    advance(MS).await;
    assert_eq!(expect_message::<u32>(p.next().await), 7);
    assert_eq!(cancel_timer(timer), None);
    assert!(p.flush().await.is_empty(), "delivered twice");
}

/// A process's own send_after delivers to itself.
#[tokio::test(start_paused = true)]
async fn process_send_after_delivers_to_itself() {
    let mut p = Probe::plain();
    let start = Instant::now();
    p.with(|me| me.send_after("later", 50 * MS)).await;
    assert_eq!(expect_message::<&str>(p.next().await), "later");
    assert!(
        Instant::now() >= start + 50 * MS,
        "delivered before the delay"
    );
}

/// cancel_timer returns the time left and the message is never delivered; a second cancel
/// returns None.
#[tokio::test(start_paused = true)]
async fn cancel_timer_returns_time_left_and_prevents_delivery() {
    let mut p = Probe::plain();
    let (dropped_tx, dropped_rx) = oneshot::channel();
    let timer = send_after(p.pid, Tracked(dropped_tx), 100 * MS);
    advance(30 * MS).await;
    assert_eq!(cancel_timer(timer), Some(70 * MS));
    assert_eq!(cancel_timer(timer), None);
    // The timer's message is dropped at once, not at its deadline.
    let cancelled_at = Instant::now();
    assert!(
        within("the message to be dropped", dropped_rx)
            .await
            .is_err()
    );
    assert_eq!(Instant::now(), cancelled_at);
    advance(200 * MS).await;
    assert!(p.flush().await.is_empty(), "a cancelled timer fired");
}

/// send_interval delivers every period, the first after one period, and stops when cancelled.
#[tokio::test(start_paused = true)]
async fn send_interval_repeats_until_cancelled() {
    let mut p = Probe::plain();
    let period = 10 * MS;
    let timer = send_interval(p.pid, Tick, period);
    advance(period - MS).await;
    assert!(p.flush().await.is_empty(), "ticked before one period");
    for _ in 0..3 {
        assert_eq!(expect_message::<Tick>(p.next().await), Tick);
    }
    let left = cancel_timer(timer).expect("an interval is active until cancelled");
    assert!(left <= period, "{left:?} left of a {period:?} period");
    assert_eq!(cancel_timer(timer), None);
    advance(10 * period).await;
    assert!(p.flush().await.is_empty(), "ticked after cancel");
}

/// A process's own send_interval delivers to itself.
#[tokio::test(start_paused = true)]
async fn process_send_interval_delivers_to_itself() {
    let mut p = Probe::plain();
    let timer = p.with(|me| me.send_interval(Tick, 5 * MS)).await;
    for _ in 0..2 {
        assert_eq!(expect_message::<Tick>(p.next().await), Tick);
    }
    assert!(cancel_timer(timer).is_some());
}

/// A timer never fires into a process that has ended: when the destination ends before the
/// deadline, the timer is gone at once (its message dropped before the deadline) and
/// cancel_timer returns None.
#[tokio::test(start_paused = true)]
async fn send_after_is_cancelled_when_the_destination_ends() {
    let x = spawn_idle();
    let start = Instant::now();
    let (dropped_tx, dropped_rx) = oneshot::channel();
    let timer = send_after(x, Tracked(dropped_tx), 100 * MS);
    advance(10 * MS).await;
    exit(x, ExitReason::Kill);
    assert_eq!(exit_reason(x).await, ExitReason::Killed);
    assert_eq!(cancel_timer(timer), None);
    assert!(
        within("the message to be dropped", dropped_rx)
            .await
            .is_err()
    );
    assert!(
        Instant::now() < start + 100 * MS,
        "the timer task lived until its deadline"
    );
}

/// An interval stops when its destination ends: the timer task is gone before its next tick.
#[tokio::test(start_paused = true)]
async fn send_interval_stops_when_the_destination_ends() {
    let mut p = Probe::plain();
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let period = 10 * MS;
    let timer = send_interval(p.pid, alive_tx, period);
    // One tick arrives; drop its copy of the sender.
    drop(expect_message::<mpsc::Sender<()>>(p.next().await));
    let ended_at = Instant::now();
    exit(p.pid, ExitReason::Kill);
    assert_eq!(p.exit_reason().await, ExitReason::Killed);
    assert_eq!(cancel_timer(timer), None);
    // Every copy of the sender is gone: the one held by the timer task too.
    assert_eq!(within("the interval to stop", alive_rx.recv()).await, None);
    assert!(
        Instant::now() < ended_at + period,
        "the interval lived until its next tick"
    );
}

/// A timer to a process that has already ended starts nothing.
#[tokio::test(start_paused = true)]
async fn send_after_to_dead_process_does_nothing() {
    let dead = spawn(|_| async {});
    assert_eq!(exit_reason(dead).await, ExitReason::Normal);
    let (dropped_tx, dropped_rx) = oneshot::channel();
    let now = Instant::now();
    let timer = send_after(dead, Tracked(dropped_tx), 100 * MS);
    assert_eq!(cancel_timer(timer), None);
    assert!(
        within("the message to be dropped", dropped_rx)
            .await
            .is_err()
    );
    assert_eq!(Instant::now(), now);
}
