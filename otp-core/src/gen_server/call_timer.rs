//! The timer of a call's timeout, kept per task between calls.
//!
//! Every call has a timeout (5 s by default), so arming a fresh tokio timer per call — register
//! it in the timer wheel under the driver's lock, then remove it when the reply comes — would be
//! most of a call's cost, and worse: when the wheel is otherwise empty, each registration wakes
//! the thread parked in the time driver. Instead a task keeps its call timer after a call and
//! moves its deadline forward for the next one, which tokio does without a lock while the new
//! deadline is later (the wheel re-files the entry when the old deadline passes). The cache is
//! per thread and keyed by task id, which is never reused, so a timer only ever serves the task
//! (and so the runtime) that created it.

use std::cell::RefCell;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::task::Id;
use tokio::time::{Instant, Sleep};

thread_local! {
    static CACHE: RefCell<Vec<(Id, Pin<Box<Sleep>>)>> = const { RefCell::new(Vec::new()) };
}

/// Timers kept per thread; the oldest is dropped beyond this.
const SLOTS: usize = 8;

/// The instant `timeout` from now, or about thirty years ahead if that overflows.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

/// A call's deadline: resolves when it passes (never, for an unlimited wait).
pub(crate) struct CallTimer {
    task: Option<Id>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl CallTimer {
    /// A timer firing `timeout` from now; never, for `Duration::MAX` (no timer is armed then).
    pub(crate) fn start(timeout: Duration) -> Self {
        if timeout == Duration::MAX {
            return CallTimer {
                task: None,
                sleep: None,
            };
        }
        let deadline = deadline_after(timeout);
        let task = tokio::task::try_id();
        let cached = task.and_then(|id| {
            CACHE.with(|c| {
                let mut c = c.try_borrow_mut().ok()?;
                let at = c.iter().position(|(t, _)| *t == id)?;
                Some(c.swap_remove(at).1)
            })
        });
        let sleep = match cached {
            Some(mut sleep) => {
                sleep.as_mut().reset(deadline);
                sleep
            }
            None => Box::pin(tokio::time::sleep_until(deadline)),
        };
        CallTimer {
            task,
            sleep: Some(sleep),
        }
    }
}

impl Future for CallTimer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.sleep.as_mut() {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

impl Drop for CallTimer {
    fn drop(&mut self) {
        let (Some(task), Some(sleep)) = (self.task, self.sleep.take()) else {
            return;
        };
        if sleep.is_elapsed() {
            return;
        }
        // During thread teardown the cache may be gone; the timer is then simply dropped.
        let _ = CACHE.try_with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                if c.len() >= SLOTS {
                    drop(c.remove(0));
                }
                c.push((task, sleep));
            }
        });
    }
}
