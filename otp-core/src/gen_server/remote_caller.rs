//! The way back to a caller of another node.
//!
//! A call from another node waits in the server's mailbox as a local call does, with the same
//! route back: a channel. Its receiver is held by a forwarder instead of a waiting task: polled
//! once with a waker of its own, it is woken by the answer — inside the server's `reply`,
//! inside the handler's return, or when the reply handle is dropped — and hands the reply,
//! encoded through the server's wire form, to the `ReplySink` distribution gave with the
//! call. So a local call pays nothing for remote ones (its request is the same size, its route
//! the same channel), and the server's code, deferred replies and `ReplyTo<S, T>` included,
//! does not know which kind of caller it answers.
//!
//! A call refused by the mailbox's bound (`Overflow::DropOldest`) is told to the sink
//! (`ReplySink::refuse`); one dropped unanswered drops the sink unused.
//!
//! The forwarder knows nothing of calls: it hands whatever comes on the channel to a closure,
//! which [`request`](super::request) makes of the sink and the server's reply encoder.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::oneshot;

use crate::process::lock;

/// The sending end of a channel whose answer is handed to `deliver` as soon as it is sent; if
/// the sending end is dropped unsent, `deliver` is dropped uncalled.
pub(super) fn forward<A: Send + 'static>(
    deliver: impl FnOnce(A) + Send + 'static,
) -> oneshot::Sender<A> {
    let (tx, rx) = oneshot::channel();
    let forward = Arc::new(Forward {
        waiting: Mutex::new(Some(Waiting {
            rx,
            deliver: Box::new(deliver),
        })),
    });
    forward.poll();
    tx
}

/// A forwarder: until the answer comes, the receiver and what to do with the answer.
struct Forward<A> {
    waiting: Mutex<Option<Waiting<A>>>,
}

struct Waiting<A> {
    rx: oneshot::Receiver<A>,
    deliver: Box<dyn FnOnce(A) + Send>,
}

impl<A: Send + 'static> Forward<A> {
    /// Looks at the channel: registers this forwarder's waker if nothing came yet, or delivers
    /// what came. The receiver holds the waker, and so this forwarder, until the channel
    /// completes — with an answer, or its sender dropped — which wakes it a last time.
    fn poll(self: &Arc<Self>) {
        let mut waiting = lock(&self.waiting);
        let Some(w) = waiting.as_mut() else {
            return;
        };
        let waker = Waker::from(Arc::clone(self));
        // Unconstrained: out of coop budget, tokio would wake this waker at once, from inside
        // this poll, under the lock.
        let mut rx = tokio::task::unconstrained(&mut w.rx);
        let answer = match Pin::new(&mut rx).poll(&mut Context::from_waker(&waker)) {
            Poll::Pending => return,
            Poll::Ready(answer) => answer,
        };
        let Some(Waiting { deliver, .. }) = waiting.take() else {
            return;
        };
        drop(waiting);
        // The sender dropped unsent: `deliver` goes uncalled.
        if let Ok(answer) = answer {
            deliver(answer);
        }
    }
}

impl<A: Send + 'static> Wake for Forward<A> {
    fn wake(self: Arc<Self>) {
        self.poll();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.poll();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// What was delivered, and how many delivery closures were dropped.
    type Delivered = Arc<Mutex<Vec<u32>>>;

    fn recording() -> (
        impl FnOnce(u32) + Send + 'static,
        Delivered,
        Arc<AtomicUsize>,
    ) {
        struct Counted(Arc<AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let delivered = Delivered::default();
        let dropped = Arc::new(AtomicUsize::new(0));
        let counted = Counted(dropped.clone());
        let out = delivered.clone();
        let deliver = move |answer: u32| {
            let _counted = &counted;
            lock(&out).push(answer);
        };
        (deliver, delivered, dropped)
    }

    #[test]
    fn an_answer_is_delivered_once() {
        let (deliver, delivered, dropped) = recording();
        let tx = forward(deliver);
        assert!(lock(&delivered).is_empty(), "nothing before the answer");
        assert!(tx.send(7).is_ok());
        assert_eq!(*lock(&delivered), [7]);
        assert_eq!(dropped.load(Ordering::Relaxed), 1, "the forwarder is done");
    }

    #[test]
    fn a_dropped_sender_drops_the_delivery_uncalled() {
        let (deliver, delivered, dropped) = recording();
        drop(forward(deliver));
        assert!(lock(&delivered).is_empty());
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn an_answer_sent_from_another_thread_is_delivered() {
        let (deliver, delivered, _) = recording();
        let tx = forward(deliver);
        std::thread::spawn(move || tx.send(42))
            .join()
            .map_err(|_| "the sending thread panicked")
            .and_then(|sent| sent.map_err(|_| "the channel was closed"))
            .unwrap();
        assert_eq!(*lock(&delivered), [42]);
    }
}
