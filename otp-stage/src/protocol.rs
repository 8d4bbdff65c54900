//! The messages between stages (GST-02): a consumer subscribes to a producer, asks it for
//! events and may cancel; the producer sends events and may cancel. Each side reaches the other
//! through a handle that erases the other stage's own type, kept once per subscription.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use otp_core::process::{ExitReason, Pid};

use crate::error::StageError;
use crate::options::SubscribeOptions;

/// One subscription of a consumer to a producer: both sides name it by this tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionTag(u64);

impl SubscriptionTag {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SubscriptionTag(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for SubscriptionTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Sub<{}>", self.0)
    }
}

/// A per-subscription filter of a broadcast dispatcher: the consumer gets the events for
/// which it is true (GST-14).
pub type Selector<E> = Arc<dyn Fn(&E) -> bool + Send + Sync>;

/// A partition dispatcher's hash: the partition of an event, or `None` to drop it (GST-15).
pub type PartitionFn<E> = Arc<dyn Fn(&E) -> Option<usize> + Send + Sync>;

/// The partition a subscription asks a partition dispatcher for (GST-15): by number, or by
/// name for a dispatcher whose partitions are named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PartitionKey {
    Index(usize),
    Name(Arc<str>),
}

/// Why a subscription ended, as `handle_cancel` is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cancel {
    /// The other side cancelled it, with this reason.
    Cancelled(ExitReason),
    /// The other side's process went down with this reason.
    Down(ExitReason),
}

impl Cancel {
    /// The reason, whichever way the subscription ended.
    pub fn reason(&self) -> &ExitReason {
        match self {
            Cancel::Cancelled(r) | Cancel::Down(r) => r,
        }
    }
}

/// A consumer's message to its producer.
pub(crate) enum ToProducer<E> {
    /// Subscribe, with the consumer's handle and options.
    Subscribe {
        tag: SubscriptionTag,
        consumer: Arc<dyn Downstream<E>>,
        options: SubscribeOptions,
        selector: Option<Selector<E>>,
        partition: Option<PartitionKey>,
    },
    /// Send up to `demand` more events.
    Ask { tag: SubscriptionTag, demand: usize },
    /// End the subscription.
    Cancel {
        tag: SubscriptionTag,
        reason: ExitReason,
    },
}

/// A producer's message to one of its consumers.
pub(crate) enum ToConsumer<E> {
    /// Events, never more than were asked (unless the producer misbehaves: GST-05).
    Events {
        tag: SubscriptionTag,
        events: Vec<E>,
    },
    /// The subscription ended on the producer's side.
    Cancel {
        tag: SubscriptionTag,
        reason: ExitReason,
    },
}

/// A consumer as its producers see it.
pub(crate) trait Downstream<E>: Send + Sync {
    fn pid(&self) -> Pid;
    /// Sends to the consumer; `false` if its mailbox refused the message. A consumer that has
    /// ended drops it, as a send to a dead pid: its monitor tells the producer.
    fn send(&self, message: ToConsumer<E>) -> bool;
}

/// A producer as its consumers see it.
pub(crate) trait Upstream<E>: Send + Sync {
    fn pid(&self) -> Pid;
    /// Sends to the producer; `false` if its mailbox refused the message. A producer that has
    /// ended drops it, as a send to a dead pid: its monitor tells the consumer.
    fn send(&self, message: ToProducer<E>) -> bool;
}

/// A consumer's subscription to a producer of `E`: what `handle_events` is told the events came
/// from, and the handle for manual demand (GST-06).
pub struct Subscription<E> {
    pub(crate) tag: SubscriptionTag,
    pub(crate) producer: Arc<dyn Upstream<E>>,
}

impl<E> Clone for Subscription<E> {
    fn clone(&self) -> Self {
        Subscription {
            tag: self.tag,
            producer: self.producer.clone(),
        }
    }
}

impl<E> fmt::Debug for Subscription<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("tag", &self.tag)
            .field("producer", &self.producer.pid())
            .finish()
    }
}

impl<E> Subscription<E> {
    /// The subscription's tag.
    pub fn tag(&self) -> SubscriptionTag {
        self.tag
    }

    /// The producer's pid.
    pub fn producer(&self) -> Pid {
        self.producer.pid()
    }

    /// Asks the producer for `demand` more events (GST-06, manual demand). An ask to a producer
    /// that has ended is dropped, as a send to a dead pid (the subscription's end comes through
    /// `handle_cancel`); [`StageError::NoProc`] only if its mailbox refused the message.
    pub fn ask(&self, demand: usize) -> Result<(), StageError> {
        if demand == 0 {
            return Err(StageError::ZeroDemand);
        }
        if self.producer.send(ToProducer::Ask {
            tag: self.tag,
            demand,
        }) {
            Ok(())
        } else {
            Err(StageError::NoProc)
        }
    }

    /// Cancels the subscription: the producer confirms, and the consumer's cancel mode then
    /// decides whether it exits (as GenStage's `cancel/3`).
    pub fn cancel(&self, reason: ExitReason) {
        self.producer.send(ToProducer::Cancel {
            tag: self.tag,
            reason,
        });
    }
}

/// A producer's view of one of its consumers, given to `handle_subscribe_consumer` and
/// `handle_cancel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsumerRef {
    /// The subscription's tag.
    pub tag: SubscriptionTag,
    /// The consumer's pid.
    pub pid: Pid,
}
