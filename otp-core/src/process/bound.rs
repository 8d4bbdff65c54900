//! Mailbox bounds: a capacity and what happens to a message that does not fit.

use std::num::NonZeroUsize;

/// What a bounded mailbox does with a user message that arrives when it is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// The sender waits for room: async sends (`call`, `cast_wait`) wait; a non-blocking send
    /// (`cast`, `send`) returns a "mailbox full" error with the message.
    Wait,
    /// The send fails with a "mailbox full" error that hands the message back.
    Error,
    /// The oldest queued user message is dropped to make room. If it is a call, its caller gets
    /// an error at once (`CallError::MailboxFull`), as with `DropNewest`.
    DropOldest,
    /// The new message is dropped (a call is refused with an error instead: a caller is never
    /// left waiting for a reply to a dropped request).
    DropNewest,
}

/// A bound on a mailbox: a capacity and what to do when it is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MailboxBound {
    /// The most messages the mailbox holds.
    pub capacity: NonZeroUsize,
    /// What happens to a message sent to a full mailbox.
    pub overflow: Overflow,
}

impl MailboxBound {
    /// A bound of `capacity` messages with the given overflow policy.
    pub const fn new(capacity: NonZeroUsize, overflow: Overflow) -> Self {
        MailboxBound { capacity, overflow }
    }
}

/// Why a message could not be queued.
#[derive(Debug)]
pub(crate) enum PushError<M> {
    /// The process has ended.
    Closed(M),
    /// The mailbox is bounded and full.
    Full(M),
}
