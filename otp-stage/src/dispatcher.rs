//! Dispatchers: how a producer shares its events among its consumers. The demand dispatcher
//! (GST-13) is the default.

use std::sync::Arc;

use otp_core::process::MonitorRef;

use crate::protocol::{Downstream, SubscriptionTag, ToConsumer};

/// A consumer as its producer's dispatcher keeps it.
pub(crate) struct ConsumerEntry<E> {
    pub(crate) tag: SubscriptionTag,
    pub(crate) downstream: Arc<dyn Downstream<E>>,
    pub(crate) monitor: MonitorRef,
    /// Events asked for and not yet sent.
    pub(crate) demand: usize,
    pub(crate) max_demand: usize,
}

impl<E> ConsumerEntry<E> {
    fn send(&self, events: Vec<E>) {
        // A consumer that is gone is removed when its monitor fires.
        self.downstream.send(ToConsumer::Events {
            tag: self.tag,
            events,
        });
    }
}

/// GenStage's `DemandDispatcher`: each batch goes to the consumer with the highest pending
/// demand (GST-13).
pub(crate) struct DemandDispatcher<E> {
    consumers: Vec<ConsumerEntry<E>>,
    /// Demand that consumers which cancelled had asked for and not received: the producer was
    /// already asked for it, so later asks do not ask it again.
    pending: usize,
    max_demand: Option<usize>,
}

impl<E> Default for DemandDispatcher<E> {
    fn default() -> Self {
        DemandDispatcher {
            consumers: Vec::new(),
            pending: 0,
            max_demand: None,
        }
    }
}

impl<E> DemandDispatcher<E> {
    pub(crate) fn subscribe(&mut self, entry: ConsumerEntry<E>) {
        match self.max_demand {
            None => self.max_demand = Some(entry.max_demand),
            Some(max) if max != entry.max_demand => tracing::warn!(
                "GenStage producer's demand dispatcher expects every consumer to have the same \
                 max_demand: {max}, and {} subscribed with {}",
                entry.downstream.pid(),
                entry.max_demand
            ),
            Some(_) => {}
        }
        self.consumers.push(entry);
    }

    pub(crate) fn contains(&self, tag: SubscriptionTag) -> bool {
        self.consumers.iter().any(|c| c.tag == tag)
    }

    /// Removes a consumer; its unmet demand becomes pending.
    pub(crate) fn cancel(&mut self, tag: SubscriptionTag) -> Option<ConsumerEntry<E>> {
        let i = self.consumers.iter().position(|c| c.tag == tag)?;
        let entry = self.consumers.remove(i);
        self.pending += entry.demand;
        Some(entry)
    }

    /// Records a consumer's ask; returns how much of it the producer must still produce
    /// (`None`: no such subscription).
    pub(crate) fn ask(&mut self, tag: SubscriptionTag, demand: usize) -> Option<usize> {
        let entry = self.consumers.iter_mut().find(|c| c.tag == tag)?;
        entry.demand += demand;
        let already = self.pending.min(demand);
        self.pending -= already;
        Some(demand - already)
    }

    /// Sends as many events as the consumers asked for, the highest demand first; returns
    /// those nobody asked for, in order.
    pub(crate) fn dispatch(&mut self, mut events: Vec<E>) -> Vec<E> {
        while !events.is_empty() {
            let Some(best) = self
                .consumers
                .iter_mut()
                .filter(|c| c.demand > 0)
                .max_by_key(|c| c.demand)
            else {
                break;
            };
            if best.demand >= events.len() {
                best.demand -= events.len();
                best.send(std::mem::take(&mut events));
                break;
            }
            let chunk: Vec<E> = events.drain(..best.demand).collect();
            best.demand = 0;
            best.send(chunk);
        }
        events
    }

    /// The consumers, in subscription order.
    pub(crate) fn consumers(&self) -> &[ConsumerEntry<E>] {
        &self.consumers
    }

    /// The consumer monitored by `monitor`.
    pub(crate) fn by_monitor(&self, monitor: MonitorRef) -> Option<SubscriptionTag> {
        self.consumers
            .iter()
            .find(|c| c.monitor == monitor)
            .map(|c| c.tag)
    }
}
