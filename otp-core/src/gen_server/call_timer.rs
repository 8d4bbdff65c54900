//! The timer of a call's timeout, kept per task between calls.
//!
//! Every call has a timeout (5 s by default). A call to a server that waits on an empty mailbox
//! arms none unless the server does not answer at once (see `ServerRef::call_timeout`); the
//! others arm one here. Arming a fresh tokio timer per call — register it in the timer wheel
//! under the driver's lock, poll it, remove it when the reply comes — would be most of a call's
//! cost, and worse: when the wheel is otherwise empty, each registration wakes the thread parked
//! in the time driver. Instead a task keeps its call timer between calls (a cache keyed by task
//! id, which is never reused, so a timer only serves the task — and so the runtime — that
//! created it; shared by the threads, since tasks move between worker threads, and sharded by
//! task so that tasks do not contend), and a call leaves it as it is when it would fire *before*
//! the call's own deadline: if it does fire first, the call sees that its deadline has not come
//! and moves the timer to it, which tokio does without a lock. A call re-registers its waker
//! only if it is polled with another waker than the one the timer holds. In a stream of calls
//! from one task, the timer is touched once per timeout period, not once per call.

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::task::Id;
use tokio::time::{Instant, Sleep};

/// A timer and the waker it was last polled with.
struct Kept {
    sleep: Pin<Box<Sleep>>,
    waker: Option<Waker>,
}

/// Shards of the cache.
const SHARDS: usize = 16;

/// Timers kept per shard; the oldest is dropped beyond this.
const SLOTS: usize = 8;

static CACHE: [Mutex<Vec<(Id, Kept)>>; SHARDS] = [const { Mutex::new(Vec::new()) }; SHARDS];

thread_local! {
    /// The timer most recently put back on this thread: a task calling again on the same
    /// thread, the common case, finds it here without a lock.
    static HOT: RefCell<Option<(Id, Kept)>> = const { RefCell::new(None) };
}

/// Takes the timer kept for `task`, if any.
fn take(task: Id) -> Option<Kept> {
    let hot = HOT
        .try_with(|h| {
            let mut h = h.try_borrow_mut().ok()?;
            match &*h {
                Some((t, _)) if *t == task => h.take().map(|(_, k)| k),
                _ => None,
            }
        })
        .ok()
        .flatten();
    if hot.is_some() {
        return hot;
    }
    let mut c = crate::process::lock(shard(task));
    let at = c.iter().rposition(|(t, _)| *t == task)?;
    Some(c.swap_remove(at).1)
}

/// Keeps the timer of `task` for its next call.
fn keep(task: Id, kept: Kept) {
    // During thread teardown the thread-local is gone: the timer is then simply dropped.
    let displaced = HOT
        .try_with(|h| match h.try_borrow_mut() {
            Ok(mut h) => h.replace((task, kept)),
            Err(_) => Some((task, kept)),
        })
        .unwrap_or_default();
    let Some((task, kept)) = displaced else {
        return;
    };
    let mut c = crate::process::lock(shard(task));
    let evicted = (c.len() >= SLOTS).then(|| c.remove(0));
    c.push((task, kept));
    drop(c);
    // Dropped outside the lock: dropping a timer takes the time driver's lock.
    drop(evicted);
}

fn shard(task: Id) -> &'static Mutex<Vec<(Id, Kept)>> {
    let mut h = rustc_hash::FxHasher::default();
    task.hash(&mut h);
    &CACHE[(h.finish() as usize) % SHARDS]
}

/// The instant `timeout` from now, or about thirty years ahead if that overflows.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

/// A call's deadline: resolves when it passes (never, for an unlimited wait).
pub(crate) struct CallTimer {
    deadline: Option<Instant>,
    task: Option<Id>,
    kept: Option<Kept>,
}

impl CallTimer {
    /// A timer firing `timeout` from now; never, for `Duration::MAX` (no timer is armed then).
    pub(crate) fn start(timeout: Duration) -> Self {
        if timeout == Duration::MAX {
            return CallTimer {
                deadline: None,
                task: None,
                kept: None,
            };
        }
        let deadline = deadline_after(timeout);
        let task = tokio::task::try_id();
        let kept = task.and_then(take);
        CallTimer {
            deadline: Some(deadline),
            task,
            kept,
        }
    }
}

impl Future for CallTimer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(deadline) = this.deadline else {
            return Poll::Pending;
        };
        let kept = this.kept.get_or_insert_with(|| Kept {
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            waker: None,
        });
        loop {
            if kept.sleep.is_elapsed() || kept.sleep.deadline() > deadline {
                // It fired (maybe for an earlier call's deadline), or it is set later than
                // this call allows: is the call's own deadline here?
                if Instant::now() >= deadline {
                    return Poll::Ready(());
                }
                kept.sleep.as_mut().reset(deadline);
                kept.waker = None;
            }
            if kept.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                return Poll::Pending;
            }
            match kept.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => continue,
                Poll::Pending => {
                    kept.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Drop for CallTimer {
    fn drop(&mut self) {
        let (Some(task), Some(kept)) = (self.task, self.kept.take()) else {
            return;
        };
        keep(task, kept);
    }
}
