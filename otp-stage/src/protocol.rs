//! The messages between stages (GST-02): a consumer subscribes to a producer, asks it for
//! events and may cancel; the producer sends events and may cancel. Each side reaches the other
//! through a handle that erases the other stage's own type, kept once per subscription.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use otp_core::process::{ExitReason, Pid};

use crate::error::StageError;
use crate::options::SubscribeOptions;
pub use crate::tag::SubscriptionTag;

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

/// The demand a consumer has asked of its producer and the producer has not taken yet: one
/// counter per subscription, shared by both sides.
///
/// An ask adds to the counter and sends [`ToProducer::Ask`] only when the counter was zero;
/// the producer takes the whole counter when it handles that message. So asks made while one
/// is on its way ride with it, as one demand of their sum: the producer learns of every event
/// asked for, in the order asked, with a message fewer per ask it had not yet read.
#[derive(Debug, Default)]
pub(crate) struct Credit(AtomicUsize);

impl Credit {
    /// Adds `demand`; true if the producer must be told (nothing was waiting for it).
    #[inline]
    pub(crate) fn add(&self, demand: usize) -> bool {
        // AcqRel: the producer's `take` that sees this demand also sees what the consumer did
        // before asking (it handled the events it asks to replace).
        self.0.fetch_add(demand, Ordering::AcqRel) == 0
    }

    /// Takes every demand added since the last take.
    #[inline]
    pub(crate) fn take(&self) -> usize {
        self.0.swap(0, Ordering::AcqRel)
    }
}

/// A consumer's message to its producer.
pub(crate) enum ToProducer<E> {
    /// Subscribe, with the consumer's handle and options.
    Subscribe(Box<SubscribeRequest<E>>),
    /// The subscription's [`Credit`] went from zero to some demand: take it.
    Ask { tag: SubscriptionTag },
    /// End the subscription.
    Cancel {
        tag: SubscriptionTag,
        reason: ExitReason,
    },
}

/// What a consumer sends to subscribe (boxed: rarer and larger than the other messages,
/// which stay two words).
pub(crate) struct SubscribeRequest<E> {
    pub(crate) tag: SubscriptionTag,
    pub(crate) consumer: Arc<dyn Downstream<E>>,
    pub(crate) credit: Arc<Credit>,
    pub(crate) options: SubscribeOptions,
    pub(crate) selector: Option<Selector<E>>,
    pub(crate) partition: Option<PartitionKey>,
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
    /// Sends events: [`ToConsumer::Events`], built in place by the consumer's side (the hot
    /// path: a message built here and moved there costs a store-forwarding stall a batch).
    fn send_events(&self, tag: SubscriptionTag, events: Vec<E>);
}

/// A producer as its consumers see it.
pub(crate) trait Upstream<E>: Send + Sync {
    fn pid(&self) -> Pid;
    /// Sends to the producer; `false` if its mailbox refused the message. A producer that has
    /// ended drops it, as a send to a dead pid: its monitor tells the consumer.
    fn send(&self, message: ToProducer<E>) -> bool;
    /// Sends [`ToProducer::Ask`], built in place by the producer's side (as
    /// [`Downstream::send_events`]); `false` as [`Upstream::send`].
    fn send_ask(&self, tag: SubscriptionTag) -> bool;
}

/// A consumer's subscription to a producer of `E`: what `handle_events` is told the events came
/// from, and the handle for manual demand (GST-06).
pub struct Subscription<E> {
    pub(crate) tag: SubscriptionTag,
    pub(crate) producer: Arc<dyn Upstream<E>>,
    pub(crate) credit: Arc<Credit>,
}

impl<E> Clone for Subscription<E> {
    fn clone(&self) -> Self {
        Subscription {
            tag: self.tag,
            producer: self.producer.clone(),
            credit: self.credit.clone(),
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
        if self.request(demand) {
            Ok(())
        } else {
            Err(StageError::NoProc)
        }
    }

    /// Adds `demand` (not zero) to the subscription's credit, telling the producer if it was
    /// not already told; false if its mailbox refused the message.
    #[inline]
    pub(crate) fn request(&self, demand: usize) -> bool {
        !self.credit.add(demand) || self.producer.send_ask(self.tag)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// GST-02: an ask made while an earlier one is unread rides with it; the producer takes
    /// their sum once, and the next ask tells it again.
    #[test]
    fn gst02_unread_asks_ride_together() {
        let credit = Credit::default();
        assert!(credit.add(5), "the first ask is sent");
        assert!(!credit.add(5), "the second rides with it");
        assert_eq!(credit.take(), 10);
        assert_eq!(credit.take(), 0, "taken once");
        assert!(credit.add(3), "after the take, an ask is sent again");
        assert_eq!(credit.take(), 3);
    }
}
