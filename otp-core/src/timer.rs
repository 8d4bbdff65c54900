//! Timers: send a message later, or every period.
//!
//! A timer is tied to its destination process, as Erlang's `erlang:send_after/3` with a pid:
//! it is cancelled when that process ends, so it never fires into a process that has ended and
//! never outlives it.

use std::any::Any;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use crate::message::{Message, next_ref_id};
use crate::name::send_message;
use crate::pid::Pid;
use crate::process::{TimerEntry, table};

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

fn start_timer<F>(dest: Pid, first: Instant, task: impl FnOnce(u64) -> F) -> TimerRef
where
    F: Future<Output = ()> + Send + 'static,
{
    let id = next_ref_id();
    if let Some(p) = table::lookup(dest) {
        // The task is spawned under the destination's lock, so it cannot fire (and remove its
        // entry) before the entry exists; if the destination has ended, no timer starts.
        p.core().with_cold(|c| {
            let handle = tokio::spawn(task(id));
            c.timers.insert(
                id,
                TimerEntry {
                    abort: handle.abort_handle(),
                    deadline: first,
                },
            );
        });
    }
    TimerRef { id, dest }
}

/// Sends `msg` to `dest` after `delay`, as an info message. Cancelled if `dest` ends first; does
/// nothing if `dest` has already ended.
pub fn send_after<T: Any + Send>(dest: Pid, msg: T, delay: Duration) -> TimerRef {
    let deadline = deadline_after(delay);
    start_timer(dest, deadline, move |id| async move {
        tokio::time::sleep_until(deadline).await;
        if let Some(p) = table::lookup(dest) {
            p.core().with_cold(|c| c.timers.remove(&id));
        }
        let _ = send_message(dest, Message::new(msg));
    })
}

/// Sends a clone of `msg` to `dest` every `period` (the first after one period), until
/// cancelled or until `dest` ends. A zero period is taken as one millisecond.
pub fn send_interval<T: Any + Send + Clone>(dest: Pid, msg: T, period: Duration) -> TimerRef {
    let period = period.max(Duration::from_millis(1));
    let first = deadline_after(period);
    start_timer(dest, first, move |id| async move {
        let mut ticks = tokio::time::interval_at(first, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(p) = table::lookup(dest) else {
                return;
            };
            let next = deadline_after(period);
            p.core().with_cold(|c| {
                if let Some(t) = c.timers.get_mut(&id) {
                    t.deadline = next;
                }
            });
            let _ = send_message(dest, Message::new(msg.clone()));
        }
    })
}

/// Cancels a timer. Returns the time it had left, or `None` if it had already fired, been
/// cancelled, or its destination has ended.
pub fn cancel_timer(timer: TimerRef) -> Option<Duration> {
    let p = table::lookup(timer.dest)?;
    let entry = p.core().with_cold(|c| c.timers.remove(&timer.id))??;
    entry.abort.abort();
    Some(entry.deadline.saturating_duration_since(Instant::now()))
}
