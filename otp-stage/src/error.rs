//! What a stage's operations can fail with.

use otp_core::gen_server::CallError;

use crate::tag::SubscriptionTag;

/// Why a stage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// Invalid subscription or stage options (GST-03's `bad_opts`).
    #[error("bad options: {0}")]
    BadOptions(String),
    /// A demand of zero events was asked.
    #[error("a demand must be at least one event")]
    ZeroDemand,
    /// The process subscribed to is not a producer (a consumer has no events to give).
    #[error("the process is not a producer")]
    NotAProducer,
    /// The process asked to subscribe is not a consumer (a producer takes no events).
    #[error("the process is not a consumer")]
    NotAConsumer,
    /// A partition dispatcher's subscription without a partition, or with one it does not have.
    #[error("unknown partition: {0:?}")]
    UnknownPartition(Option<usize>),
    /// A subscription naming a partition the producer's dispatcher does not have (GST-15: the
    /// dispatcher's partitions are numbered, or named otherwise).
    #[error("unknown partition name: {0:?}")]
    UnknownPartitionName(String),
    /// A partition dispatcher given the same partition name twice (GST-15).
    #[error("partition name given twice: {0:?}")]
    DuplicatePartition(String),
    /// A resubscription whose subscription is not one of the consumer's (it ended, was already
    /// replaced, or never was) (GST-10).
    #[error("unknown subscription: {0}")]
    UnknownSubscription(SubscriptionTag),
    /// The stage is not running.
    #[error("the stage is not running")]
    NoProc,
    /// The stage did not answer (it exited meanwhile, or timed out).
    #[error("the stage did not answer: {0}")]
    Call(String),
}

impl StageError {
    pub(crate) fn from_call(e: CallError) -> Self {
        match e {
            CallError::NoProc => StageError::NoProc,
            other => StageError::Call(other.to_string()),
        }
    }
}
