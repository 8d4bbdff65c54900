//! Typed errors of the handler table.

use crate::handler::HandlerId;

/// Why [`attach`](crate::attach) or [`attach_many`](crate::attach_many) refused a handler (TM-01).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    /// A handler with this id is already attached; detach it first.
    #[error("a telemetry handler with id `{0}` is already attached")]
    AlreadyExists(HandlerId),
    /// An event name had no segment.
    #[error("a telemetry event name must have at least one segment")]
    EmptyEventName,
    /// `attach_many` was given no event name.
    #[error("attach_many needs at least one event name")]
    NoEvents,
}

/// Why [`detach`](crate::detach) failed (TM-02).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetachError {
    /// No handler with this id is attached.
    #[error("no telemetry handler with id `{0}` is attached")]
    NotFound(HandlerId),
}
