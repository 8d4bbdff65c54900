//! Timers: send a message later, or every period.
//!
//! A timer is tied to its destination process, as Erlang's `erlang:send_after/3` with a pid:
//! it is cancelled when that process ends, so it never fires into a process that has ended and
//! never outlives it.

use std::any::Any;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use crate::message::Message;
use crate::name::send_message_on;
use crate::node::Node;
use crate::pid::Pid;
use crate::process::Myself;

/// A pending timer, for [`cancel_timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerRef {
    id: u64,
    dest: Pid,
}

/// The instant `delay` from now, or a far future instant if that overflows.
fn deadline_after(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

fn start_timer<F>(node: Node, dest: Pid, first: Instant, task: impl FnOnce(u64) -> F) -> TimerRef
where
    F: Future<Output = ()> + Send + 'static,
{
    let id = node.next_ref();
    if let Some(p) = node.lookup(dest) {
        // If the destination has ended, no timer starts.
        p.core()
            .add_timer(id, first, || tokio::spawn(task(id)).abort_handle());
    }
    TimerRef { id, dest }
}

/// Sends `msg` to `dest` after `delay`, as an info message. Cancelled if `dest` ends first; does
/// nothing if `dest` has already ended.
pub fn send_after<T: Any + Send>(dest: Pid, msg: T, delay: Duration) -> TimerRef {
    send_after_on(Node::current(), dest, msg, delay)
}

fn send_after_on<T: Any + Send>(node: Node, dest: Pid, msg: T, delay: Duration) -> TimerRef {
    let deadline = deadline_after(delay);
    start_timer(node, dest, deadline, move |id| async move {
        tokio::time::sleep_until(deadline).await;
        if let Some(p) = node.lookup(dest) {
            p.core().remove_timer(id);
        }
        let _ = send_message_on(node, dest, Message::new(msg));
    })
}

/// Sends a clone of `msg` to `dest` every `period` (the first after one period), until
/// cancelled or until `dest` ends. A zero period is taken as one millisecond.
pub fn send_interval<T: Any + Send + Clone>(dest: Pid, msg: T, period: Duration) -> TimerRef {
    send_interval_on(Node::current(), dest, msg, period)
}

fn send_interval_on<T: Any + Send + Clone>(
    node: Node,
    dest: Pid,
    msg: T,
    period: Duration,
) -> TimerRef {
    let period = period.max(Duration::from_millis(1));
    let first = deadline_after(period);
    start_timer(node, dest, first, move |id| async move {
        let mut ticks = tokio::time::interval_at(first, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(p) = node.lookup(dest) else {
                return;
            };
            p.core().set_timer_deadline(id, deadline_after(period));
            let _ = send_message_on(node, dest, Message::new(msg.clone()));
        }
    })
}

/// Cancels a timer. Returns the time it had left, or `None` if it had already fired, been
/// cancelled, or its destination has ended.
pub fn cancel_timer(timer: TimerRef) -> Option<Duration> {
    let p = Node::current().lookup(timer.dest)?;
    let (abort, deadline) = p.core().remove_timer(timer.id)?;
    abort.abort();
    Some(deadline.saturating_duration_since(Instant::now()))
}

impl Myself {
    /// Sends `msg` to this process after `delay`, as an info message. The timer is cancelled
    /// if this process ends first.
    pub fn send_after<T: Any + Send>(&self, msg: T, delay: Duration) -> TimerRef {
        send_after_on(self.node(), self.pid(), msg, delay)
    }

    /// Sends a clone of `msg` to this process every `period`, until cancelled or until this
    /// process ends.
    pub fn send_interval<T: Any + Send + Clone>(&self, msg: T, period: Duration) -> TimerRef {
        send_interval_on(self.node(), self.pid(), msg, period)
    }
}
