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

#[cfg(test)]
mod tests {
    //! What the module promises, on tokio's paused clock: a timer is kept per task between calls
    //! (first on the thread, then in the task's shard, at most `SLOTS` a shard), a kept timer is
    //! moved only when it would fire after the call's deadline, and dropping a call keeps its
    //! timer without firing it. Time is only ever the virtual clock's.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use tokio::time::advance;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    /// Runs `f` as a tokio task of its own (a call timer is kept per task) and returns its output.
    async fn in_task<F: Future<Output = T> + Send + 'static, T: Send + 'static>(f: F) -> T {
        tokio::spawn(f).await.unwrap()
    }

    /// Polls `timer` once, with the waker of the task polling it.
    async fn poll_once(timer: &mut CallTimer) -> Poll<()> {
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *timer).poll(cx))).await
    }

    /// The address of the timer `timer` holds, to tell timers apart.
    fn sleep_of(timer: &CallTimer) -> *const Sleep {
        let kept = timer.kept.as_ref().expect("no timer armed");
        &*kept.sleep
    }

    /// Empties this thread's cache, which an earlier test on the same thread may have filled.
    fn clear_hot() {
        HOT.with(|h| h.borrow_mut().take());
    }

    /// The task whose timer this thread holds.
    fn hot_task() -> Option<Id> {
        HOT.with(|h| h.borrow().as_ref().map(|(t, _)| *t))
    }

    /// Whether the shard of `task` holds a timer for it (taking nothing).
    fn in_shard(task: Id) -> bool {
        crate::process::lock(shard(task))
            .iter()
            .any(|(t, _)| *t == task)
    }

    /// A timer to keep, firing in an hour.
    fn some_timer() -> Kept {
        Kept {
            sleep: Box::pin(tokio::time::sleep(3600 * SECOND)),
            waker: None,
        }
    }

    /// Held by the tests that put timers in shards and count what a shard holds, so that they
    /// do not disturb each other (the other tests keep their timers on their own threads).
    static SHARD_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn shards_to_myself() -> std::sync::MutexGuard<'static, ()> {
        SHARD_TESTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The ids of `n` tasks that have run and ended (ids are never reused).
    async fn task_ids(n: usize) -> Vec<Id> {
        let mut ids = Vec::new();
        for _ in 0..n {
            ids.push(in_task(async { tokio::task::id() }).await);
        }
        ids
    }

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Counter {
        fn wakes(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn fires_at_its_deadline_and_not_before() {
        in_task(async {
            let began = Instant::now();
            let mut timer = CallTimer::start(SECOND);
            assert!(poll_once(&mut timer).await.is_pending());
            advance(SECOND - Duration::from_millis(1)).await;
            assert!(poll_once(&mut timer).await.is_pending());
            advance(Duration::from_millis(1)).await;
            assert!(poll_once(&mut timer).await.is_ready());
            assert_eq!(Instant::now() - began, SECOND);
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn an_awaited_timer_wakes_its_task_at_the_deadline() {
        in_task(async {
            let began = Instant::now();
            CallTimer::start(5 * SECOND).await;
            // On the paused clock, time jumped straight to the deadline, not past it.
            assert_eq!(Instant::now() - began, 5 * SECOND);
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn an_unlimited_wait_arms_no_timer_and_never_fires() {
        in_task(async {
            let mut timer = CallTimer::start(Duration::MAX);
            assert!(timer.deadline.is_none());
            assert!(poll_once(&mut timer).await.is_pending());
            assert!(timer.kept.is_none(), "a timer was armed");
            advance(86_400 * SECOND).await;
            assert!(poll_once(&mut timer).await.is_pending());
            drop(timer);
            assert!(take(tokio::task::id()).is_none(), "a timer was kept");
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn outside_a_task_nothing_is_kept() {
        clear_hot();
        let mut timer = CallTimer::start(SECOND);
        assert!(timer.task.is_none());
        assert!(poll_once(&mut timer).await.is_pending());
        drop(timer);
        assert_eq!(hot_task(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_gets_its_own_timer_back_on_its_next_call() {
        in_task(async {
            clear_hot();
            let mut first = CallTimer::start(SECOND);
            assert!(first.kept.is_none(), "a timer before the first call");
            assert!(poll_once(&mut first).await.is_pending());
            let armed = sleep_of(&first);
            drop(first);
            let second = CallTimer::start(SECOND);
            assert_eq!(sleep_of(&second), armed, "not the same timer");
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_serves_only_the_task_that_armed_it() {
        clear_hot();
        let (armed, task) = in_task(async {
            let mut timer = CallTimer::start(SECOND);
            assert!(poll_once(&mut timer).await.is_pending());
            (sleep_of(&timer) as usize, tokio::task::id())
        })
        .await;
        // Kept on this thread, for that task only.
        assert_eq!(hot_task(), Some(task));
        in_task(async {
            let other = CallTimer::start(SECOND);
            assert!(other.kept.is_none(), "another task's timer was taken");
        })
        .await;
        assert_eq!(
            take(task).map(|k| &*k.sleep as *const Sleep as usize),
            Some(armed)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_thread_keeps_the_latest_timer_and_the_shard_the_one_it_displaces() {
        clear_hot();
        let [a, b] = task_ids(2).await[..] else {
            unreachable!()
        };
        let _shards = shards_to_myself();
        keep(a, some_timer());
        assert_eq!(hot_task(), Some(a));
        assert!(!in_shard(a), "the thread's timer is not in a shard");
        keep(b, some_timer());
        assert_eq!(hot_task(), Some(b));
        assert!(in_shard(a), "the displaced timer went to its shard");
        // Either is found, by its task only.
        assert!(take(a).is_some());
        assert!(!in_shard(a));
        assert!(take(a).is_none());
        assert!(take(b).is_some());
        assert_eq!(hot_task(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_borrowed_thread_cache_sends_the_timer_to_its_shard() {
        clear_hot();
        let [task] = task_ids(1).await[..] else {
            unreachable!()
        };
        let _shards = shards_to_myself();
        HOT.with(|h| {
            let _busy = h.borrow();
            keep(task, some_timer());
        });
        assert_eq!(hot_task(), None);
        assert!(take(task).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_spread_over_the_shards_and_each_shard_keeps_its_latest_timers() {
        clear_hot();
        let ids = task_ids(40 * SHARDS).await;
        let _shards = shards_to_myself();
        let mut by_shard: Vec<Vec<Id>> = vec![Vec::new(); SHARDS];
        for &id in &ids {
            let index = CACHE
                .iter()
                .position(|s| std::ptr::eq(s, shard(id)))
                .unwrap();
            assert!(std::ptr::eq(shard(id), shard(id)), "a task moved shards");
            by_shard[index].push(id);
        }
        assert!(
            by_shard.iter().filter(|s| !s.is_empty()).count() > SHARDS / 2,
            "tasks crowd into a few shards: {:?}",
            by_shard.iter().map(Vec::len).collect::<Vec<_>>()
        );
        // One shard: keep a timer for one task more than it holds (the last stays on the
        // thread), so the oldest is dropped.
        let crowd = by_shard.iter().find(|s| s.len() > SLOTS + 1).unwrap();
        let crowd = &crowd[..SLOTS + 2];
        for &task in crowd {
            keep(task, some_timer());
        }
        assert_eq!(hot_task(), Some(crowd[SLOTS + 1]));
        assert!(
            take(crowd[0]).is_none(),
            "the oldest was kept beyond {SLOTS}"
        );
        for &task in &crowd[1..] {
            assert!(take(task).is_some());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_timer_that_fires_before_the_deadline_is_left_alone() {
        in_task(async {
            clear_hot();
            let began = Instant::now();
            // A first call leaves a timer set 1 s ahead.
            let mut first = CallTimer::start(SECOND);
            assert!(poll_once(&mut first).await.is_pending());
            drop(first);
            // A call of 10 s takes it as it is: not moved, the waker already there.
            let mut call = CallTimer::start(10 * SECOND);
            assert!(poll_once(&mut call).await.is_pending());
            let kept = call.kept.as_ref().unwrap();
            assert_eq!(
                kept.sleep.deadline(),
                began + SECOND,
                "moved before it fired"
            );
            // It fires early: the call's deadline is not there, so it moves it then.
            advance(SECOND).await;
            assert!(poll_once(&mut call).await.is_pending());
            let kept = call.kept.as_ref().unwrap();
            assert_eq!(kept.sleep.deadline(), began + 10 * SECOND);
            advance(9 * SECOND - Duration::from_millis(1)).await;
            assert!(poll_once(&mut call).await.is_pending());
            advance(Duration::from_millis(1)).await;
            assert!(poll_once(&mut call).await.is_ready());
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_timer_that_would_fire_late_is_moved_to_the_deadline() {
        in_task(async {
            clear_hot();
            let began = Instant::now();
            let mut first = CallTimer::start(10 * SECOND);
            assert!(poll_once(&mut first).await.is_pending());
            drop(first);
            let mut call = CallTimer::start(SECOND);
            assert!(poll_once(&mut call).await.is_pending());
            let kept = call.kept.as_ref().unwrap();
            assert_eq!(kept.sleep.deadline(), began + SECOND);
            advance(SECOND).await;
            assert!(poll_once(&mut call).await.is_ready());
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_that_fired_is_armed_again_for_the_next_call() {
        in_task(async {
            clear_hot();
            CallTimer::start(SECOND).await;
            let began = Instant::now();
            let mut call = CallTimer::start(2 * SECOND);
            assert!(
                poll_once(&mut call).await.is_pending(),
                "an old deadline fired"
            );
            advance(2 * SECOND - Duration::from_millis(1)).await;
            assert!(poll_once(&mut call).await.is_pending());
            advance(Duration::from_millis(1)).await;
            assert!(poll_once(&mut call).await.is_ready());
            assert_eq!(Instant::now() - began, 2 * SECOND);
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_waker_of_the_latest_poll_is_woken() {
        let mut timer = CallTimer::start(SECOND);
        let (first, latest) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
        for waker in [&first, &latest] {
            let waker = Waker::from(waker.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(Pin::new(&mut timer).poll(&mut cx).is_pending());
            // Polled again with the same waker, it registers nothing new.
            assert!(Pin::new(&mut timer).poll(&mut cx).is_pending());
            let held = timer.kept.as_ref().and_then(|k| k.waker.as_ref());
            assert!(held.is_some_and(|w| w.will_wake(&waker)));
        }
        advance(SECOND).await;
        assert_eq!((first.wakes(), latest.wakes()), (0, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_dropped_before_its_deadline_keeps_its_timer_armed_for_its_task() {
        let woken = Arc::new(Counter::default());
        let (task, armed) = in_task({
            let woken = woken.clone();
            async move {
                clear_hot();
                let mut call = CallTimer::start(SECOND);
                let waker = Waker::from(woken);
                let polled = Pin::new(&mut call).poll(&mut Context::from_waker(&waker));
                assert!(polled.is_pending());
                let armed = sleep_of(&call) as usize;
                // The reply came: the call ends before its deadline.
                drop(call);
                (tokio::task::id(), armed)
            }
        })
        .await;
        assert_eq!(woken.wakes(), 0);
        // Kept as it was, still armed: when it fires, it wakes the one waker it holds, that of
        // the task it belongs to, once; the task's next call finds it elapsed and re-arms it.
        advance(SECOND).await;
        assert_eq!(woken.wakes(), 1);
        let kept = take(task).expect("the timer was not kept");
        assert_eq!(&*kept.sleep as *const Sleep as usize, armed);
        assert!(kept.sleep.is_elapsed());
    }
}
