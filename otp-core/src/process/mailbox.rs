//! The mailbox: a queue inside the process control block.
//!
//! Senders lock the queue, append, and wake the process only if it was parked on an empty
//! mailbox. The process takes the whole queue in one lock into a local buffer and works through
//! it without touching the lock again, so a burst of messages costs one lock per message on the
//! sender side and one per burst on the receiver side. No queue memory is allocated before the
//! first message; buffers grown by a burst are released when the process next finds its mailbox
//! empty.
//!
//! A mailbox is unbounded unless given a [`MailboxBound`]; a bounded mailbox applies its
//! [`Overflow`] policy to user messages (calls, casts, `send`) — never to the runtime's own
//! messages (exit signals turned into messages, `Down` notifications), which are never lost.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

use super::bound::{MailboxBound, Overflow, PushError};
use super::core::{ProcessCore, lock};
use super::route::ReplySink;
use crate::exit::ExitReason;
use crate::message::Info;

/// `Mailbox::parked`: the process runs, or was woken and has not looked yet.
const RUNNING: u8 = 0;
/// `Mailbox::parked`: the process took the whole queue and handles what it took.
const DRAINING: u8 = 1;
/// `Mailbox::parked`: the process waits on an empty mailbox.
const IDLE: u8 = 2;

/// What a sender found the process doing when it queued a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Running, or already woken: nothing to do.
    No,
    /// Handling messages it took earlier: wake it (it comes to this message after those).
    Busy,
    /// Waiting on an empty mailbox: wake it; this message is the first it will handle.
    Idle,
}

impl Wake {
    /// Whether the process must be woken.
    pub(crate) fn needed(self) -> bool {
        self != Wake::No
    }
}

/// The items a mailbox can hold: `Info` for plain processes, a GenServer's envelope for servers.
pub(crate) trait Envelope: Send + 'static {
    /// Wraps an info message.
    fn from_info(info: Info) -> Self;
    /// The info message inside, if this is one.
    fn as_info(&self) -> Option<&Info>;
    /// Unwraps the info message inside, if this is one.
    fn into_info(self) -> Option<Info>;
    /// Whether this is a call (a caller waits for its reply).
    fn is_call(&self) -> bool {
        false
    }
    /// Drops a message that the overflow policy evicted from the mailbox; a call's caller is
    /// told at once, rather than left waiting for a reply that cannot come.
    fn refuse(self)
    where
        Self: Sized,
    {
    }
    /// Whether this is a runtime message (an exit signal turned into a message, a `Down`),
    /// which a bound never drops.
    fn is_system(&self) -> bool {
        self.as_info()
            .is_some_and(|i| !matches!(i, Info::Message(_)))
    }
    /// A call from another node as this mailbox's envelope, with the way back to its caller:
    /// `None` if the process cannot be called from another node (the default: a plain process;
    /// a server without a wire form), `Some(Err(why))` if the request does not decode.
    fn remote_call(request: &[u8], reply: Box<dyn ReplySink>) -> Option<Result<Self, String>>
    where
        Self: Sized,
    {
        let _ = (request, reply);
        None
    }
    /// A cast from another node as this mailbox's envelope: as [`remote_call`](Self::remote_call).
    fn remote_cast(message: &[u8]) -> Option<Result<Self, String>>
    where
        Self: Sized,
    {
        let _ = message;
        None
    }
    /// A stop asked from another node: `None` if the process is not a server (the default).
    fn remote_stop(reason: ExitReason) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = reason;
        None
    }
}

impl Envelope for Info {
    fn from_info(info: Info) -> Self {
        info
    }
    fn as_info(&self) -> Option<&Info> {
        Some(self)
    }
    fn into_info(self) -> Option<Info> {
        Some(self)
    }
}

struct Queue<M> {
    items: VecDeque<M>,
    /// The process parked in hibernation (GenServer `Action::Hibernate`).
    hibernating: bool,
    /// The process has ended: nothing more is queued.
    closed: bool,
    /// Who waits for the process to take the queue (see [`Mailbox::poll_taken`]).
    taker: Option<Waker>,
}

struct BoundState {
    bound: MailboxBound,
    space: Notify,
    dropped: AtomicU64,
}

/// The shared half of a mailbox, inside the process control block.
pub(crate) struct Mailbox<M> {
    queue: Mutex<Queue<M>>,
    /// Messages taken into the receiver's local buffer and not yet handled.
    local_len: AtomicUsize,
    /// Whether the next sender must wake the process, one of [`RUNNING`], [`DRAINING`],
    /// [`IDLE`]. Set (`DRAINING` under the queue's lock) by the process when it takes all of the
    /// queue, moved to `IDLE` by the process when it has handled all it took, cleared (under the
    /// lock) by the sender that wakes it. While it is not `RUNNING`, no message came since the
    /// process last took the queue.
    parked: AtomicU8,
    bound: Option<Box<BoundState>>,
}

/// Buffers above this capacity are released when the process parks.
const SHRINK_ABOVE: usize = 256;

impl<M: Envelope> Mailbox<M> {
    pub(crate) fn new(bound: Option<MailboxBound>) -> Self {
        Mailbox {
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                hibernating: false,
                closed: false,
                taker: None,
            }),
            local_len: AtomicUsize::new(0),
            parked: AtomicU8::new(RUNNING),
            bound: bound.map(|bound| {
                Box::new(BoundState {
                    bound,
                    space: Notify::new(),
                    dropped: AtomicU64::new(0),
                })
            }),
        }
    }

    /// Queues a runtime message (exit signal as message, `Down`), ignoring any bound.
    /// Returns whether the process must be woken.
    pub(crate) fn push_system(&self, msg: M) -> Result<Wake, M> {
        let mut q = lock(&self.queue);
        if q.closed {
            return Err(msg);
        }
        q.items.push_back(msg);
        Ok(self.unpark())
    }

    /// Queues the user messages of `items` (emptied) after those queued, in one hold of the
    /// queue's lock, for an unbounded mailbox only. Returns whether the process must be woken,
    /// and the mailbox's length before and with them; `Err` (`items` left as they were) if the
    /// mailbox is closed.
    pub(crate) fn push_users(&self, items: &mut Vec<M>) -> Result<(Wake, usize, usize), ()> {
        debug_assert!(
            self.bound.is_none(),
            "a bounded mailbox takes one message at a time"
        );
        let mut q = lock(&self.queue);
        if q.closed {
            return Err(());
        }
        let before = q.items.len() + self.local_len.load(Ordering::Relaxed);
        q.items.extend(items.drain(..));
        let length = q.items.len() + self.local_len.load(Ordering::Relaxed);
        Ok((self.unpark(), before, length))
    }

    /// Whether the mailbox has a bound.
    pub(crate) fn is_bounded(&self) -> bool {
        self.bound.is_some()
    }

    /// Queues a user message, applying the bound. Returns whether the process must be woken,
    /// and the mailbox's length with the message (0 when the message was dropped).
    pub(crate) fn push_user(&self, msg: M) -> Result<(Wake, usize), PushError<M>> {
        let mut q = lock(&self.queue);
        if q.closed {
            return Err(PushError::Closed(msg));
        }
        if let Some(b) = &self.bound
            && q.items.len() >= b.bound.capacity.get()
        {
            match b.bound.overflow {
                Overflow::Wait | Overflow::Error => return Err(PushError::Full(msg)),
                Overflow::DropNewest if msg.is_call() => return Err(PushError::Full(msg)),
                Overflow::DropNewest => {
                    b.dropped.fetch_add(1, Ordering::Relaxed);
                    drop(q);
                    drop(msg);
                    return Ok((Wake::No, 0));
                }
                Overflow::DropOldest => {
                    // The oldest *user* message makes room: runtime messages are never lost.
                    // If only runtime messages are queued, the new message is the oldest one.
                    let oldest = q
                        .items
                        .iter()
                        .position(|m| !m.is_system())
                        .and_then(|i| q.items.remove(i));
                    b.dropped.fetch_add(1, Ordering::Relaxed);
                    let Some(oldest) = oldest else {
                        drop(q);
                        drop(msg);
                        return Ok((Wake::No, 0));
                    };
                    q.items.push_back(msg);
                    let wake = self.unpark();
                    drop(q);
                    oldest.refuse();
                    return Ok((wake, 0));
                }
            }
        }
        q.items.push_back(msg);
        let length = q.items.len() + self.local_len.load(Ordering::Relaxed);
        Ok((self.unpark(), length))
    }

    /// Waits until a full bounded mailbox (policy `Wait`) may have room. Returns at once for
    /// other mailboxes.
    pub(crate) async fn room(&self) {
        if let Some(b) = &self.bound
            && b.bound.overflow == Overflow::Wait
        {
            let notified = b.space.notified();
            let full = lock(&self.queue).items.len() >= b.bound.capacity.get();
            if full {
                notified.await;
            }
        }
    }

    /// Whether a full mailbox makes senders wait rather than fail.
    pub(crate) fn waits_when_full(&self) -> bool {
        self.bound
            .as_ref()
            .is_some_and(|b| b.bound.overflow == Overflow::Wait)
    }

    /// Closes the mailbox at exit and returns what was queued, to be dropped by the caller
    /// outside the lock.
    pub(crate) fn close(&self) -> VecDeque<M> {
        let mut q = lock(&self.queue);
        q.closed = true;
        self.parked.store(RUNNING, Ordering::Release);
        let items = std::mem::take(&mut q.items);
        let taker = q.taker.take();
        drop(q);
        if let Some(taker) = taker {
            taker.wake();
        }
        // Senders waiting for room (policy `Wait`) find the mailbox closed and stop waiting.
        if let Some(b) = &self.bound {
            b.space.notify_waiters();
        }
        items
    }

    /// Messages waiting, shared queue and local buffer together.
    pub(crate) fn len(&self) -> usize {
        lock(&self.queue).items.len() + self.local_len.load(Ordering::Relaxed)
    }

    /// Ready once the process has taken its queue (what it holds now) to handle it, or has
    /// ended; until then, `cx`'s waker is woken when it does. For one that queues messages
    /// and wakes the process from an empty mailbox (a connection's reader): waiting for the
    /// process to take them lets it run before more come, with no other task left runnable,
    /// where yielding would leave two (and a multi-thread runtime wakes another worker for
    /// them). Only the last waiter is woken.
    ///
    /// It relies on a process that waits on an empty mailbox (`IDLE`) taking its queue as soon
    /// as it is woken: code that goes on while the mailbox still says `IDLE` (a receive that
    /// timed out) must call [`leave_idle`](Self::leave_idle) first, or a waiter waits for
    /// that code to finish.
    pub(crate) fn poll_taken(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.parked.load(Ordering::Acquire) != RUNNING {
            return Poll::Ready(());
        }
        let mut q = lock(&self.queue);
        // The process sets `parked` under this lock when it takes the queue.
        if q.closed || self.parked.load(Ordering::Acquire) != RUNNING || q.items.is_empty() {
            return Poll::Ready(());
        }
        match &mut q.taker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The process goes on without a message (its receive timed out): it counts as running,
    /// as if woken, and one waiting for it to take its queue ([`poll_taken`](Self::poll_taken))
    /// is let go, since what it runs now may take long.
    pub(crate) fn leave_idle(&self) {
        let mut q = lock(&self.queue);
        self.parked.store(RUNNING, Ordering::Release);
        let taker = q.taker.take();
        drop(q);
        if let Some(taker) = taker {
            taker.wake();
        }
    }

    /// `(waiting, hibernating)`: the process waits on an empty mailbox.
    pub(crate) fn park_state(&self) -> (bool, bool) {
        let q = lock(&self.queue);
        let waiting = q.items.is_empty()
            && self.local_len.load(Ordering::Relaxed) == 0
            && self.parked.load(Ordering::Acquire) != RUNNING;
        (waiting, waiting && q.hibernating)
    }

    /// Records how many messages the receiver holds in its local buffer. Written only when it
    /// changes: in a ping-pong it stays 0, and the cache line then stays shared with senders.
    #[inline]
    fn set_local_len(&self, len: usize) {
        if self.local_len.load(Ordering::Relaxed) != len {
            self.local_len.store(len, Ordering::Relaxed);
        }
    }

    /// Called by a sender under the lock, after queueing: what the process was doing.
    fn unpark(&self) -> Wake {
        if self.parked.load(Ordering::Relaxed) == RUNNING {
            return Wake::No;
        }
        match self.parked.swap(RUNNING, Ordering::AcqRel) {
            IDLE => Wake::Idle,
            DRAINING => Wake::Busy,
            _ => Wake::No,
        }
    }

    /// Messages dropped by the overflow policy so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.bound
            .as_ref()
            .map_or(0, |b| b.dropped.load(Ordering::Relaxed))
    }

    /// The bound, if any.
    pub(crate) fn bound(&self) -> Option<MailboxBound> {
        self.bound.as_ref().map(|b| b.bound)
    }
}

/// The receiving half of a mailbox, owned by the process.
pub(crate) struct Receiver<M> {
    local: VecDeque<M>,
}

impl<M: Envelope> Receiver<M> {
    pub(crate) fn new() -> Self {
        Receiver {
            local: VecDeque::new(),
        }
    }

    /// Polls for the next message. The process's waker is registered by the process task
    /// before this runs, so returning `Pending` on an empty mailbox only marks it parked.
    /// Returns `Pending` (and asks to be polled again) when an exit signal is pending, so the
    /// process task acts on the signal before any further message.
    ///
    /// The common case, a message already in the local buffer, is inlined into the receiving
    /// loop, so the message is moved once, from the buffer to where the loop keeps it.
    #[inline]
    pub(crate) fn poll_recv(
        &mut self,
        mailbox: &Mailbox<M>,
        core: &ProcessCore,
        hibernate: bool,
        cx: &mut Context<'_>,
    ) -> Poll<M> {
        if !self.local.is_empty() && !core.signal_pending() {
            // A message counts against the task's budget, so a long mailbox cannot hold the
            // thread: when the budget is spent, the task yields with the message still queued.
            let Poll::Ready(coop) = tokio::task::coop::poll_proceed(cx) else {
                return Poll::Pending;
            };
            let m = self.local.pop_front();
            mailbox.set_local_len(self.local.len());
            coop.made_progress();
            if let Some(m) = m {
                return Poll::Ready(m);
            }
        }
        self.poll_queue(mailbox, core, hibernate, cx)
    }

    /// [`poll_recv`](Self::poll_recv) past the local buffer: a pending signal, or the shared
    /// queue.
    fn poll_queue(
        &mut self,
        mailbox: &Mailbox<M>,
        core: &ProcessCore,
        hibernate: bool,
        cx: &mut Context<'_>,
    ) -> Poll<M> {
        let yield_to_signal = |cx: &mut Context<'_>| {
            cx.waker().wake_by_ref();
            Poll::Pending
        };
        if core.signal_pending() {
            return yield_to_signal(cx);
        }
        if self.local.capacity() > SHRINK_ABOVE {
            self.local = VecDeque::new();
        }
        // Still parked since the queue was last taken whole: no message came, and the next one
        // wakes this task (registered by the process task before this poll). No lock needed.
        // `DRAINING` becomes `IDLE` unless a sender cleared it meanwhile.
        if !hibernate {
            match mailbox.parked.compare_exchange(
                DRAINING,
                IDLE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) | Err(IDLE) => return Poll::Pending,
                Err(_) => {}
            }
        }
        let mut q = lock(&mailbox.queue);
        // Again under the lock: a sender that signalled and then sent a message has its signal
        // visible here if its message is, and the signal must be acted on first.
        if core.signal_pending() {
            drop(q);
            return yield_to_signal(cx);
        }
        if q.items.is_empty() {
            // The process task registered this waker before polling the body; registering it
            // again is a comparison, and keeps the mailbox working if the body polls it from a
            // future of its own.
            core.waker.register(cx.waker());
            mailbox.parked.store(IDLE, Ordering::Release);
            q.hibernating = hibernate;
            if hibernate || q.items.capacity() > SHRINK_ABOVE {
                q.items = VecDeque::new();
            }
            return Poll::Pending;
        }
        q.hibernating = false;
        let Poll::Ready(coop) = tokio::task::coop::poll_proceed(cx) else {
            return Poll::Pending;
        };
        let m = if let Some(b) = &mailbox.bound {
            let m = q.items.pop_front();
            drop(q);
            if b.bound.overflow == Overflow::Wait {
                b.space.notify_one();
            }
            m
        } else {
            std::mem::swap(&mut q.items, &mut self.local);
            // The queue is empty now: the next sender wakes us, and until one does, finding the
            // local buffer empty needs no lock.
            mailbox.parked.store(DRAINING, Ordering::Release);
            let taker = q.taker.take();
            drop(q);
            if let Some(taker) = taker {
                taker.wake();
            }
            let m = self.local.pop_front();
            mailbox.set_local_len(self.local.len());
            m
        };
        coop.made_progress();
        match m {
            Some(m) => Poll::Ready(m),
            None => unreachable!("the queue was checked non-empty under the lock"),
        }
    }

    /// Takes the next message if one is already there.
    pub(crate) fn try_recv(&mut self, mailbox: &Mailbox<M>) -> Option<M> {
        if let Some(m) = self.local.pop_front() {
            mailbox.set_local_len(self.local.len());
            return Some(m);
        }
        let mut q = lock(&mailbox.queue);
        let m = q.items.pop_front();
        drop(q);
        if let (Some(b), Some(_)) = (&mailbox.bound, &m)
            && b.bound.overflow == Overflow::Wait
        {
            b.space.notify_one();
        }
        m
    }

    /// Removes the queued exit messages from `from` (after an unlink); returns how many.
    pub(crate) fn remove_exits_from(
        &mut self,
        mailbox: &Mailbox<M>,
        from: crate::pid::Pid,
    ) -> usize {
        self.remove_info(mailbox, |i| i.exit_from() == Some(from))
    }

    /// Removes the queued `Down` of a monitor (after a demonitor); returns how many.
    pub(crate) fn remove_downs_of(
        &mut self,
        mailbox: &Mailbox<M>,
        reference: crate::message::MonitorRef,
    ) -> usize {
        self.remove_info(mailbox, |i| i.down_ref() == Some(reference))
    }

    /// Removes every queued info message for which `pred` holds; returns how many.
    pub(crate) fn remove_info(
        &mut self,
        mailbox: &Mailbox<M>,
        mut pred: impl FnMut(&Info) -> bool,
    ) -> usize {
        let mut keep = |m: &M| !m.as_info().is_some_and(&mut pred);
        let before = self.local.len();
        self.local.retain(&mut keep);
        let mut removed = before - self.local.len();
        mailbox.set_local_len(self.local.len());
        let mut q = lock(&mailbox.queue);
        let before = q.items.len();
        q.items.retain(&mut keep);
        removed += before - q.items.len();
        removed
    }
}
