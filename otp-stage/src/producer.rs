//! A producer's options: its buffer, its demand mode, its dispatcher (GST-07, GST-08).

use crate::dispatcher::Dispatch;
use crate::options::{BufferKeep, DEFAULT_BUFFER_SIZE, DemandMode};

/// The options of a producer of `E` (and of the producer side of a producer-consumer).
pub struct ProducerOptions<E> {
    pub(crate) buffer_size: Option<usize>,
    pub(crate) buffer_keep: BufferKeep,
    pub(crate) demand: DemandMode,
    pub(crate) dispatcher: Dispatch<E>,
}

impl<E> Clone for ProducerOptions<E> {
    fn clone(&self) -> Self {
        ProducerOptions {
            buffer_size: self.buffer_size,
            buffer_keep: self.buffer_keep,
            demand: self.demand,
            dispatcher: self.dispatcher.clone(),
        }
    }
}

impl<E> std::fmt::Debug for ProducerOptions<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerOptions")
            .field("buffer_size", &self.buffer_size)
            .field("buffer_keep", &self.buffer_keep)
            .field("demand", &self.demand)
            .field("dispatcher", &self.dispatcher)
            .finish()
    }
}

impl<E> ProducerOptions<E> {
    /// A producer's defaults: a buffer of 10,000 events keeping the last, demand forwarded.
    pub fn producer() -> Self {
        ProducerOptions {
            buffer_size: Some(DEFAULT_BUFFER_SIZE),
            buffer_keep: BufferKeep::Last,
            demand: DemandMode::Forward,
            dispatcher: Dispatch::demand(),
        }
    }

    /// A producer-consumer's defaults: an unbounded buffer, demand forwarded.
    pub fn producer_consumer() -> Self {
        ProducerOptions {
            buffer_size: None,
            ..Self::producer()
        }
    }

    /// The most events the buffer holds (`None`: no bound).
    pub fn buffer_size(mut self, size: Option<usize>) -> Self {
        self.buffer_size = size;
        self
    }

    /// Which events a full buffer keeps.
    pub fn buffer_keep(mut self, keep: BufferKeep) -> Self {
        self.buffer_keep = keep;
        self
    }

    /// How the demand of consumers is treated at first.
    pub fn demand(mut self, mode: DemandMode) -> Self {
        self.demand = mode;
        self
    }

    /// How events are shared among the consumers (by default, by demand).
    pub fn dispatcher(mut self, dispatcher: Dispatch<E>) -> Self {
        self.dispatcher = dispatcher;
        self
    }
}

impl<E> Default for ProducerOptions<E> {
    fn default() -> Self {
        Self::producer()
    }
}
