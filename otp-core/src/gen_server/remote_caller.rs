//! The way back to a caller of another node.
//!
//! A call from another node waits in the server's mailbox as a local call does, with the same
//! route back: a channel. Its receiver is held by a forwarder instead of a waiting task: polled
//! once with a waker of its own, it is woken by the answer — inside the server's `reply`,
//! inside the handler's return, or when the reply handle is dropped — and hands the reply,
//! encoded through the server's wire form, to the [`ReplySink`] distribution gave with the
//! call. So a local call pays nothing for remote ones (its request is the same size, its route
//! the same one branch), and the server's code, deferred replies and `ReplyTo<S, T>` included,
//! does not know which kind of caller it answers.
//!
//! A call refused by the mailbox's bound (`Overflow::DropOldest`) or dropped unanswered drops
//! the sink unused: a `ReplySink` has no way to be told of a refusal.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::oneshot;

use super::request::Answer;
use crate::process::{ReplySink, lock};

/// The sending end of a channel whose answer goes to `sink`, encoded by `encode`.
pub(super) fn forward<T: Send + 'static>(
    sink: Box<dyn ReplySink>,
    encode: fn(&T) -> &dyn erased_serde::Serialize,
) -> oneshot::Sender<Answer<T>> {
    let (tx, rx) = oneshot::channel();
    let forward = Arc::new(Forward {
        waiting: Mutex::new(Some(Waiting { rx, sink, encode })),
    });
    forward.poll();
    tx
}

/// A forwarder: until the answer comes, the receiver and where it goes.
struct Forward<T> {
    waiting: Mutex<Option<Waiting<T>>>,
}

struct Waiting<T> {
    rx: oneshot::Receiver<Answer<T>>,
    sink: Box<dyn ReplySink>,
    encode: fn(&T) -> &dyn erased_serde::Serialize,
}

impl<T: Send + 'static> Forward<T> {
    /// Looks at the channel: registers this forwarder's waker if nothing came yet, or forwards
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
        let Some(Waiting { sink, encode, .. }) = waiting.take() else {
            return;
        };
        drop(waiting);
        // A refusal (`Ok(Err(Refused))`) or a reply handle dropped unanswered (`Err(_)`) drops
        // the sink unused.
        if let Ok(Ok(reply)) = answer {
            sink.reply(encode(&reply));
        }
    }
}

impl<T: Send + 'static> Wake for Forward<T> {
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
    use crate::gen_server::request::Refused;

    /// A sink that records what it was sent, as JSON, and counts its drops.
    struct Recording {
        sent: Arc<Mutex<Vec<String>>>,
        dropped: Arc<AtomicUsize>,
    }

    impl ReplySink for Recording {
        fn reply(self: Box<Self>, reply: &dyn erased_serde::Serialize) -> bool {
            let json = serde_json::to_string(reply).unwrap_or_else(|e| e.to_string());
            lock(&self.sent).push(json);
            true
        }
    }

    impl Drop for Recording {
        fn drop(&mut self) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What a sink was sent.
    type Sent = Arc<Mutex<Vec<String>>>;

    fn recording() -> (Box<dyn ReplySink>, Sent, Arc<AtomicUsize>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let dropped = Arc::new(AtomicUsize::new(0));
        let sink = Recording {
            sent: sent.clone(),
            dropped: dropped.clone(),
        };
        (Box::new(sink), sent, dropped)
    }

    fn erase(value: &u32) -> &dyn erased_serde::Serialize {
        value
    }

    #[test]
    fn an_answer_is_encoded_into_the_sink_once() {
        let (sink, sent, dropped) = recording();
        let tx = forward::<u32>(sink, erase);
        assert!(lock(&sent).is_empty(), "nothing before the answer");
        assert!(tx.send(Ok(7)).is_ok());
        assert_eq!(*lock(&sent), ["7"]);
        assert_eq!(dropped.load(Ordering::Relaxed), 1, "the sink is used up");
    }

    #[test]
    fn a_refusal_or_a_dropped_sender_drops_the_sink_unused() {
        let (sink, sent, dropped) = recording();
        let tx = forward::<u32>(sink, erase);
        assert!(tx.send(Err(Refused)).is_ok());
        let (sink, sent_too, dropped_too) = recording();
        drop(forward::<u32>(sink, erase));
        assert!(lock(&sent).is_empty() && lock(&sent_too).is_empty());
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
        assert_eq!(dropped_too.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn an_answer_sent_from_another_thread_is_forwarded() {
        let (sink, sent, _) = recording();
        let tx = forward::<u32>(sink, erase);
        std::thread::spawn(move || tx.send(Ok(42)))
            .join()
            .map_err(|_| "the sending thread panicked")
            .and_then(|sent| sent.map_err(|_| "the channel was closed"))
            .unwrap();
        assert_eq!(*lock(&sent), ["42"]);
    }
}
