//! Dispatchers: how a producer shares its events among its consumers — by demand (the default,
//! GST-13), to all of them (broadcast, GST-14), or by partition (GST-15).

use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use otp_core::process::{ExitReason, MonitorRef, Pid};
use rustc_hash::FxHashMap;

use crate::error::StageError;
use crate::options::BufferKeep;
use crate::protocol::{Credit, Downstream, PartitionFn, PartitionKey, Selector, SubscriptionTag};

/// Which dispatcher a producer uses, in its [`ProducerOptions`](crate::ProducerOptions).
pub struct Dispatch<E>(pub(crate) DispatchKind<E>);

pub(crate) enum DispatchKind<E> {
    Demand {
        /// Shuffle the consumers on the first dispatch (GST-13).
        shuffle: bool,
    },
    Broadcast(fn(&E) -> E),
    Partition {
        partitions: usize,
        hash: PartitionFn<E>,
        limit: Option<(usize, BufferKeep)>,
        /// The partitions' names, in the order of their numbers, if they were named.
        names: Option<PartitionNames>,
    },
}

/// A named partition dispatcher's names, in the order of the partitions' numbers.
pub(crate) type PartitionNames = Arc<[Box<str>]>;

impl<E> Clone for Dispatch<E> {
    fn clone(&self) -> Self {
        Dispatch(match &self.0 {
            DispatchKind::Demand { shuffle } => DispatchKind::Demand { shuffle: *shuffle },
            DispatchKind::Broadcast(f) => DispatchKind::Broadcast(*f),
            DispatchKind::Partition {
                partitions,
                hash,
                limit,
                names,
            } => DispatchKind::Partition {
                partitions: *partitions,
                hash: hash.clone(),
                limit: *limit,
                names: names.clone(),
            },
        })
    }
}

impl<E> fmt::Debug for Dispatch<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            DispatchKind::Demand { shuffle: false } => f.write_str("Dispatch::Demand"),
            DispatchKind::Demand { shuffle: true } => f
                .debug_struct("Dispatch::Demand")
                .field("shuffle_demands_on_first_dispatch", &true)
                .finish(),
            DispatchKind::Broadcast(_) => f.write_str("Dispatch::Broadcast"),
            DispatchKind::Partition {
                partitions,
                limit,
                names,
                ..
            } => f
                .debug_struct("Dispatch::Partition")
                .field("partitions", partitions)
                .field("names", names)
                .field("limit", limit)
                .finish_non_exhaustive(),
        }
    }
}

impl<E> Default for Dispatch<E> {
    fn default() -> Self {
        Self::demand()
    }
}

impl<E> Dispatch<E> {
    /// Each batch to the consumer that has asked for the most (GST-13; the default). Between
    /// consumers that asked for as much, the one that subscribed first gets it (unless
    /// [`shuffle_demands_on_first_dispatch`](Self::shuffle_demands_on_first_dispatch) shuffled
    /// them).
    pub fn demand() -> Self {
        Dispatch(DispatchKind::Demand { shuffle: false })
    }

    /// With the demand dispatcher: whether its first dispatch shuffles the order of its
    /// consumers, so that those that subscribed first (or last) do not always get the first
    /// events (GenStage's `shuffle_demands_on_first_dispatch`, GST-13; off by default). Ignored
    /// by the other dispatchers.
    ///
    /// As upstream, only the first dispatch shuffles, even if no consumer had subscribed yet;
    /// the consumers keep the shuffled order afterwards (it decides between consumers that
    /// asked for as much). Off, the dispatcher pays one flag test per dispatch for it.
    ///
    /// ```
    /// use otp_stage::{Dispatch, ProducerOptions};
    ///
    /// let options = ProducerOptions::<u64>::producer()
    ///     .dispatcher(Dispatch::demand().shuffle_demands_on_first_dispatch(true));
    /// # let _ = options;
    /// ```
    pub fn shuffle_demands_on_first_dispatch(mut self, shuffle: bool) -> Self {
        if let DispatchKind::Demand { shuffle: s } = &mut self.0 {
            *s = shuffle;
        }
        self
    }

    /// Every event to every consumer, as far as the smallest demand allows (GST-14).
    pub fn broadcast() -> Self
    where
        E: Clone,
    {
        Dispatch(DispatchKind::Broadcast(E::clone))
    }

    /// Events into `partitions` partitions (numbered from 0) by `hash`, which may drop an event
    /// by returning `None`; one consumer per partition (GST-15). Each partition queues the
    /// events its consumer has not asked for yet, without a bound unless
    /// [`partition_limit`](Self::partition_limit) sets one.
    pub fn partition(
        partitions: usize,
        hash: impl Fn(&E) -> Option<usize> + Send + Sync + 'static,
    ) -> Self {
        Dispatch(DispatchKind::Partition {
            partitions,
            hash: Arc::new(hash),
            limit: None,
            names: None,
        })
    }

    /// Events into partitions named by `names` (GenStage's `partitions: [:a, :b]`), by `hash`,
    /// which returns an event's partition by name, or `None` to drop it; one consumer per
    /// partition, which subscribes with [`SubscribeTo::partition_named`](crate::SubscribeTo::partition_named)
    /// (or by position in `names`, with [`SubscribeTo::partition`](crate::SubscribeTo::partition))
    /// (GST-15). An event whose name is none of `names` is dropped and logged, as an
    /// out-of-range number is with [`partition`](Self::partition). A name given twice is
    /// [`StageError::DuplicatePartition`].
    ///
    /// The names are strings, not a type parameter of `Dispatch`, so that a `SubscribeTo` can
    /// name a partition without knowing its producer's types; they are numbered once, here,
    /// and the named hash becomes a numbered one, so the dispatcher has one code path and the
    /// numbered form pays nothing for the named one.
    ///
    /// ```
    /// use otp_stage::Dispatch;
    ///
    /// struct Order { region: String }
    ///
    /// let by_region = Dispatch::partition_named(["eu", "us"], |o: &Order| {
    ///     Some(o.region.as_str())
    /// })
    /// .unwrap();
    /// # let _ = by_region;
    /// assert!(Dispatch::partition_named(["eu", "eu"], |_: &Order| None).is_err());
    /// ```
    pub fn partition_named<N: Into<String>>(
        names: impl IntoIterator<Item = N>,
        hash: impl Fn(&E) -> Option<&str> + Send + Sync + 'static,
    ) -> Result<Self, StageError> {
        let names: PartitionNames = names
            .into_iter()
            .map(|n| n.into().into_boxed_str())
            .collect();
        let mut index = FxHashMap::default();
        for (i, name) in names.iter().enumerate() {
            if index.insert(name.clone(), i).is_some() {
                return Err(StageError::DuplicatePartition(name.to_string()));
            }
        }
        let numbered = move |e: &E| {
            let name = hash(e)?;
            let found = index.get(name).copied();
            if found.is_none() {
                tracing::error!(
                    "GenStage partition dispatcher's hash returned unknown partition {name:?}: \
                     the event is dropped"
                );
            }
            found
        };
        Ok(Dispatch(DispatchKind::Partition {
            partitions: names.len(),
            hash: Arc::new(numbered),
            limit: None,
            names: Some(names),
        }))
    }

    /// Events into `partitions` partitions by their hash (GenStage's default, `phash2`).
    pub fn partition_by_hash(partitions: usize) -> Self
    where
        E: Hash,
    {
        let hasher = rustc_hash::FxBuildHasher;
        Self::partition(partitions, move |e| {
            Some((hasher.hash_one(e) % partitions.max(1) as u64) as usize)
        })
    }

    /// Bounds each partition's queue to `limit` events; when full, `keep` says which go: the
    /// oldest (`Last` kept) or the incoming (`First` kept). Dropped events are counted and
    /// logged. Upstream's partition queues have no bound.
    pub fn partition_limit(mut self, limit: usize, keep: BufferKeep) -> Self {
        if let DispatchKind::Partition { limit: l, .. } = &mut self.0 {
            *l = Some((limit, keep));
        }
        self
    }

    /// The partitions, for a partition dispatcher.
    pub(crate) fn partitions(&self) -> Option<PartitionLayout> {
        match &self.0 {
            DispatchKind::Partition {
                partitions, names, ..
            } => Some(PartitionLayout {
                count: *partitions,
                names: names.clone(),
            }),
            _ => None,
        }
    }
}

/// A partition dispatcher's partitions as a subscription sees them: how many, and their names
/// if they have some.
#[derive(Clone, Debug)]
pub(crate) struct PartitionLayout {
    count: usize,
    names: Option<PartitionNames>,
}

impl PartitionLayout {
    /// The number of the partition a subscription asks for, or why there is none (GST-15).
    pub(crate) fn resolve(&self, key: Option<&PartitionKey>) -> Result<usize, StageError> {
        match key {
            None => Err(StageError::UnknownPartition(None)),
            Some(PartitionKey::Index(p)) if *p < self.count => Ok(*p),
            Some(PartitionKey::Index(p)) => Err(StageError::UnknownPartition(Some(*p))),
            Some(PartitionKey::Name(name)) => self
                .names
                .iter()
                .flat_map(|names| names.iter())
                .position(|n| **n == **name)
                .ok_or_else(|| StageError::UnknownPartitionName(name.to_string())),
        }
    }
}

/// A consumer as its producer's dispatcher keeps it.
pub(crate) struct ConsumerEntry<E> {
    pub(crate) tag: SubscriptionTag,
    pub(crate) downstream: Arc<dyn Downstream<E>>,
    /// The demand the consumer added and the producer has not taken yet.
    pub(crate) credit: Arc<Credit>,
    pub(crate) monitor: MonitorRef,
    /// Events asked for and not yet sent.
    pub(crate) demand: usize,
    pub(crate) max_demand: usize,
    pub(crate) selector: Option<Selector<E>>,
    pub(crate) partition: Option<usize>,
}

impl<E> ConsumerEntry<E> {
    fn send(&self, events: Vec<E>) {
        self.downstream.send_events(self.tag, events);
    }
}

/// Why a dispatcher refused a subscription: the reason the consumer's subscription is cancelled
/// with.
pub(crate) type Refusal = ExitReason;

/// A producer's dispatcher.
pub(crate) struct Dispatcher<E> {
    consumers: Vec<ConsumerEntry<E>>,
    kind: Kind<E>,
    /// Events the producer must produce that no ask has reported yet (a broadcast whose
    /// selectors filtered events out gives their demand back, GST-14).
    owed: usize,
    /// Events the partition queues dropped since the producer last looked.
    just_dropped: usize,
}

enum Kind<E> {
    Demand {
        /// Demand that consumers which cancelled had asked for and not received: the producer
        /// was already asked for it, so later asks do not ask it again.
        pending: usize,
        max_demand: Option<usize>,
        /// The consumers are still to be shuffled, on the first dispatch (GST-13).
        shuffle: bool,
    },
    Broadcast {
        clone: fn(&E) -> E,
        /// Asked of the producer and not yet dispatched.
        asked: usize,
    },
    Partition {
        hash: PartitionFn<E>,
        queues: Vec<VecDeque<E>>,
        limit: Option<(usize, BufferKeep)>,
        dropped: u64,
        /// As the demand dispatcher's: the unmet demand of consumers that left.
        pending: usize,
    },
}

impl<E> Dispatcher<E> {
    pub(crate) fn new(dispatch: Dispatch<E>) -> Self {
        let kind = match dispatch.0 {
            DispatchKind::Demand { shuffle } => Kind::Demand {
                pending: 0,
                max_demand: None,
                shuffle,
            },
            DispatchKind::Broadcast(clone) => Kind::Broadcast { clone, asked: 0 },
            DispatchKind::Partition {
                partitions,
                hash,
                limit,
                names: _,
            } => Kind::Partition {
                hash,
                queues: (0..partitions).map(|_| VecDeque::new()).collect(),
                limit,
                dropped: 0,
                pending: 0,
            },
        };
        Dispatcher {
            consumers: Vec::new(),
            kind,
            owed: 0,
            just_dropped: 0,
        }
    }

    /// Adds a consumer, or says why not.
    pub(crate) fn subscribe(&mut self, entry: ConsumerEntry<E>) -> Result<(), Refusal> {
        if self.contains(entry.tag) {
            return Err(ExitReason::error("duplicated_subscription"));
        }
        match &mut self.kind {
            Kind::Demand { max_demand, .. } => match *max_demand {
                None => *max_demand = Some(entry.max_demand),
                Some(max) if max != entry.max_demand => tracing::warn!(
                    "GenStage producer's demand dispatcher expects every consumer to have the \
                     same max_demand: {max}, and {} subscribed with {}",
                    entry.downstream.pid(),
                    entry.max_demand
                ),
                Some(_) => {}
            },
            Kind::Broadcast { .. } => {
                let pid = entry.downstream.pid();
                if self.consumers.iter().any(|c| c.downstream.pid() == pid) {
                    tracing::error!(
                        "GenStage producer's broadcast dispatcher refused {pid}: it is already \
                         subscribed"
                    );
                    return Err(ExitReason::error("already_subscribed"));
                }
            }
            Kind::Partition { queues, .. } => {
                let Some(p) = entry.partition else {
                    return Err(ExitReason::error(
                        "a partition dispatcher needs the subscription's partition",
                    ));
                };
                if p >= queues.len() {
                    return Err(ExitReason::error(format!("unknown partition {p}")));
                }
                if self.consumers.iter().any(|c| c.partition == Some(p)) {
                    return Err(ExitReason::error(format!(
                        "partition {p} already has a consumer"
                    )));
                }
            }
        }
        crate::grow::push(&mut self.consumers, entry);
        Ok(())
    }

    pub(crate) fn contains(&self, tag: SubscriptionTag) -> bool {
        self.consumers.iter().any(|c| c.tag == tag)
    }

    /// Removes a consumer; returns it and how many events the producer must now produce (a
    /// broadcast's minimum demand may rise when its slowest consumer leaves).
    pub(crate) fn cancel(&mut self, tag: SubscriptionTag) -> Option<(ConsumerEntry<E>, usize)> {
        let i = self.consumers.iter().position(|c| c.tag == tag)?;
        let entry = self.consumers.remove(i);
        let counter = match &mut self.kind {
            Kind::Demand { pending, .. } => {
                *pending += entry.demand;
                0
            }
            Kind::Broadcast { asked, .. } => {
                let min = self.consumers.iter().map(|c| c.demand).min().unwrap_or(0);
                let counter = min.saturating_sub(*asked);
                *asked += counter;
                counter
            }
            Kind::Partition { pending, .. } => {
                *pending += entry.demand;
                0
            }
        };
        Some((entry, counter))
    }

    /// A consumer's ask: takes the demand its subscription's credit holds and records it;
    /// returns how many events the producer must produce for it (`None`: no such subscription;
    /// `Some(None)`: the credit was empty, an earlier ask having taken it).
    pub(crate) fn ask_credit(&mut self, tag: SubscriptionTag) -> Option<Option<usize>> {
        let i = self.consumers.iter().position(|c| c.tag == tag)?;
        let demand = self.consumers[i].credit.take();
        if demand == 0 {
            return Some(None);
        }
        Some(self.ask_at(i, demand))
    }

    /// Records a consumer's ask; returns how many events the producer must produce for it
    /// (`None`: no such subscription).
    #[cfg(test)]
    pub(crate) fn ask(&mut self, tag: SubscriptionTag, demand: usize) -> Option<usize> {
        let i = self.consumers.iter().position(|c| c.tag == tag)?;
        self.ask_at(i, demand)
    }

    fn ask_at(&mut self, i: usize, demand: usize) -> Option<usize> {
        self.consumers[i].demand += demand;
        match &mut self.kind {
            Kind::Demand { pending, .. } => {
                let already = (*pending).min(demand);
                *pending -= already;
                Some(demand - already)
            }
            Kind::Broadcast { asked, .. } => {
                let min = self.consumers.iter().map(|c| c.demand).min().unwrap_or(0);
                let counter = min.saturating_sub(*asked);
                *asked += counter;
                Some(counter)
            }
            Kind::Partition {
                queues, pending, ..
            } => {
                let entry = &mut self.consumers[i];
                let Some(queue) = entry.partition.and_then(|p| queues.get_mut(p)) else {
                    return Some(demand);
                };
                let served = entry.demand.min(queue.len());
                if served > 0 {
                    entry.demand -= served;
                    entry.send(queue.drain(..served).collect());
                }
                // The whole ask goes to the producer, as upstream: the events it makes may
                // hash to other partitions, so what this queue served does not make it up
                // (held back, a partition whose events went elsewhere would starve).
                let already = (*pending).min(demand);
                *pending -= already;
                Some(demand - already)
            }
        }
    }

    /// Sends events as the consumers' demand allows; returns those that must wait in the
    /// producer's buffer, in order, if any (a partition dispatcher keeps its own queues and
    /// returns none).
    ///
    /// `None` rather than an empty vector when every event went: the caller then reads one
    /// word the dispatcher wrote, not a vector it just emptied (a store-forwarding stall a
    /// dispatch, seen with `perf annotate`).
    pub(crate) fn dispatch(&mut self, mut events: Vec<E>, pid: Pid) -> Option<Vec<E>> {
        match &mut self.kind {
            Kind::Demand { shuffle, .. } => {
                if *shuffle {
                    *shuffle = false;
                    shuffle_consumers(&mut self.consumers);
                }
                while !events.is_empty() {
                    // Backwards: `max_by_key` keeps the last of equal maxima, so between
                    // consumers that asked for as much the first subscribed gets the batch.
                    let Some(best) = self
                        .consumers
                        .iter_mut()
                        .rev()
                        .filter(|c| c.demand > 0)
                        .max_by_key(|c| c.demand)
                    else {
                        break;
                    };
                    if best.demand >= events.len() {
                        best.demand -= events.len();
                        best.send(events);
                        return None;
                    }
                    let chunk: Vec<E> = events.drain(..best.demand).collect();
                    best.demand = 0;
                    best.send(chunk);
                }
                (!events.is_empty()).then_some(events)
            }
            Kind::Broadcast { clone, asked } => {
                let min = self.consumers.iter().map(|c| c.demand).min().unwrap_or(0);
                let n = min.min(events.len());
                if n == 0 {
                    return (!events.is_empty()).then_some(events);
                }
                let rest = events.split_off(n);
                *asked = asked.saturating_sub(n);
                let last = self.consumers.len() - 1;
                for (i, c) in self.consumers.iter_mut().enumerate() {
                    let mine: Vec<E> = match (&c.selector, i == last) {
                        (None, true) => std::mem::take(&mut events),
                        (None, false) => events.iter().map(*clone).collect(),
                        (Some(keep), _) => events.iter().filter(|e| keep(e)).map(*clone).collect(),
                    };
                    // What the selector filtered out was not delivered: its demand stays, as
                    // GenStage's broadcast dispatcher asks again for it on the consumer's behalf.
                    c.demand -= mine.len();
                    if !mine.is_empty() {
                        c.send(mine);
                    }
                }
                let min = self.consumers.iter().map(|c| c.demand).min().unwrap_or(0);
                let counter = min.saturating_sub(*asked);
                *asked += counter;
                self.owed += counter;
                (!rest.is_empty()).then_some(rest)
            }
            Kind::Partition {
                hash,
                queues,
                limit,
                dropped,
                ..
            } => {
                for e in events {
                    match hash(&e) {
                        Some(p) if p < queues.len() => {
                            queues[p].push_back(e);
                        }
                        Some(p) => tracing::error!(
                            %pid,
                            "GenStage partition dispatcher's hash returned unknown partition {p}: \
                             the event is dropped"
                        ),
                        None => {}
                    }
                }
                for c in &mut self.consumers {
                    let Some(p) = c.partition else { continue };
                    let queue = &mut queues[p];
                    let n = c.demand.min(queue.len());
                    if n > 0 {
                        c.demand -= n;
                        let batch: Vec<E> = queue.drain(..n).collect();
                        c.send(batch);
                    }
                }
                if let Some((max, keep)) = *limit {
                    for (p, queue) in queues.iter_mut().enumerate() {
                        let over = queue.len().saturating_sub(max);
                        if over == 0 {
                            continue;
                        }
                        match keep {
                            BufferKeep::Last => drop(queue.drain(..over)),
                            BufferKeep::First => queue.truncate(max),
                        }
                        *dropped += over as u64;
                        self.just_dropped += over;
                        tracing::warn!(
                            %pid,
                            partition = p,
                            dropped = over,
                            "GenStage partition dispatcher has discarded {over} events of \
                             partition {p} (its queue holds {max})"
                        );
                    }
                }
                None
            }
        }
    }

    /// Whether the counters this dispatcher returns already leave out the events waiting in the
    /// producer's buffer (a broadcast counts what was asked and not yet dispatched).
    pub(crate) fn counts_buffered(&self) -> bool {
        matches!(self.kind, Kind::Broadcast { .. })
    }

    /// Takes the count of events the partition queues dropped since the last call.
    pub(crate) fn take_dropped(&mut self) -> usize {
        std::mem::take(&mut self.just_dropped)
    }

    /// Whether the producer owes demand that no ask reported.
    #[inline]
    pub(crate) fn owes(&self) -> bool {
        self.owed > 0
    }

    /// Takes the demand the producer owes that no ask reported.
    pub(crate) fn take_owed(&mut self) -> usize {
        std::mem::take(&mut self.owed)
    }

    /// The consumers, in subscription order (shuffled once by a demand dispatcher with
    /// `shuffle_demands_on_first_dispatch`).
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

    /// Events the partition queues dropped so far (0 for other dispatchers).
    #[inline]
    pub(crate) fn partition_dropped(&self) -> u64 {
        match &self.kind {
            Kind::Partition { dropped, .. } => *dropped,
            _ => 0,
        }
    }
}

/// Shuffles a demand dispatcher's consumers, once, on its first dispatch (GST-13): out of line,
/// so that the dispatch keeps only the flag's test.
#[cold]
#[inline(never)]
fn shuffle_consumers<E>(consumers: &mut [ConsumerEntry<E>]) {
    use rand::seq::SliceRandom;
    consumers.shuffle(&mut rand::rng());
}
