//! The process control block: a [`ProcessCore`] and a mailbox of the process's own message type.

use std::any::Any;
use std::sync::Arc;

use super::bound::{MailboxBound, PushError};
use super::core::{ProcessCore, ProcessEntry};
use super::events;
use super::mailbox::{Envelope, Mailbox, Wake};
use super::route::{CastFeed, DeliverError, ReplySink};
use crate::exit::ExitReason;
use crate::message::{Down, Info, Message, MonitorRef, Monitored};

/// A process control block: the core and a mailbox of `M`.
pub(crate) struct Pcb<M> {
    pub(crate) core: ProcessCore,
    pub(crate) mailbox: Mailbox<M>,
}

impl<M: Envelope> Pcb<M> {
    pub(super) fn new(core: ProcessCore, bound: Option<MailboxBound>) -> Self {
        Pcb {
            core,
            mailbox: Mailbox::new(bound),
        }
    }

    /// Queues a user envelope, applying the bound, and wakes the process if it was parked.
    pub(crate) fn push(&self, msg: M) -> Result<(), PushError<M>> {
        self.push_told(msg).map(|_| ())
    }

    /// Queues a user envelope as [`push`](Self::push) does, and tells what the process was
    /// doing: [`Wake::Idle`] means this message is the first it will handle.
    pub(crate) fn push_told(&self, msg: M) -> Result<Wake, PushError<M>> {
        let (wake, length) = self.mailbox.push_user(msg)?;
        if wake.needed() {
            self.core.waker.wake();
        }
        events::mailbox_pushed(self, length);
        Ok(wake)
    }

    /// Queues a runtime envelope, ignoring any bound. Returns `false` if the process has ended.
    pub(crate) fn push_system_envelope(&self, msg: M) -> bool {
        match self.mailbox.push_system(msg) {
            Ok(wake) => {
                if wake.needed() {
                    self.core.waker.wake();
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Queues a user envelope, waiting for room in a full mailbox whose policy is `Wait`.
    pub(crate) async fn push_wait(&self, mut msg: M) -> Result<(), PushError<M>> {
        loop {
            match self.push(msg) {
                Err(PushError::Full(m)) if self.mailbox.waits_when_full() => {
                    msg = m;
                    self.mailbox.room().await;
                }
                other => return other,
            }
        }
    }
}

impl<M: Envelope> ProcessEntry for Pcb<M> {
    fn core(&self) -> &ProcessCore {
        &self.core
    }

    fn push_system(&self, info: Info) -> bool {
        self.push_system_envelope(M::from_info(info))
    }

    fn push_message(&self, msg: Message) -> Result<(), PushError<Message>> {
        match self.push(M::from_info(Info::Message(msg))) {
            Ok(()) => Ok(()),
            Err(e) => Err(map_push_error(e)),
        }
    }

    fn deliver_down(&self, reference: MonitorRef, object: Monitored, reason: ExitReason) {
        let mut wake = false;
        self.core.fire_monitor(reference, || {
            let down = Info::Down(Down::new(reference, object, reason));
            match self.mailbox.push_system(M::from_info(down)) {
                Ok(w) => {
                    wake = w.needed();
                    true
                }
                Err(_) => false,
            }
        });
        if wake {
            self.core.waker.wake();
        }
    }

    fn mailbox_len(&self) -> usize {
        self.mailbox.len()
    }

    fn park_state(&self) -> (bool, bool) {
        self.mailbox.park_state()
    }

    fn mailbox_dropped(&self) -> u64 {
        self.mailbox.dropped()
    }

    fn mailbox_bound(&self) -> Option<MailboxBound> {
        self.mailbox.bound()
    }

    fn close_mailbox(&self) {
        drop(self.mailbox.close());
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }

    fn deliver_remote_call(
        &self,
        request: &[u8],
        reply: Box<dyn ReplySink>,
    ) -> Result<(), DeliverError> {
        match M::remote_call(request, reply) {
            Some(Ok(call)) => self.push(call).map_err(refused),
            Some(Err(why)) => Err(DeliverError::Decode(why)),
            None => Err(self.not_remote()),
        }
    }

    fn deliver_remote_cast(&self, message: &[u8]) -> Result<(), DeliverError> {
        match M::remote_cast(message) {
            Some(Ok(cast)) => self.push(cast).map_err(refused),
            Some(Err(why)) => Err(DeliverError::Decode(why)),
            None => Err(self.not_remote()),
        }
    }

    fn deliver_remote_casts(&self, feed: &mut CastFeed<'_>) -> bool {
        if self.mailbox.is_bounded() {
            // Each cast meets the bound as it comes, as a lone one would.
            feed(&mut |message| self.deliver_remote_cast(message));
            return false;
        }
        // Decoded as they come (outside the queue's lock), queued together: one lock, one
        // wake-up for the burst.
        let mut batch = Vec::new();
        feed(&mut |message| match M::remote_cast(message) {
            Some(Ok(cast)) => {
                batch.push(cast);
                Ok(())
            }
            Some(Err(why)) => Err(DeliverError::Decode(why)),
            None => Err(self.not_remote()),
        });
        if batch.is_empty() {
            return false;
        }
        // A process that ended meanwhile drops them, as it would have dropped each.
        match self.mailbox.push_users(&mut batch) {
            Ok((wake, before, length)) => {
                if wake.needed() {
                    self.core.waker.wake();
                }
                events::mailbox_pushed_many(self, before, length);
                wake == Wake::Idle
            }
            Err(()) => false,
        }
    }

    fn poll_taken(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.mailbox.poll_taken(cx)
    }

    fn deliver_remote_stop(&self, reason: ExitReason) -> Result<(), DeliverError> {
        let stop = M::remote_stop(reason).ok_or_else(|| self.not_remote())?;
        if self.push_system_envelope(stop) {
            Ok(())
        } else {
            Err(DeliverError::NoProc)
        }
    }
}

impl<M: Envelope> Pcb<M> {
    /// Why another node cannot call this process: its kind.
    fn not_remote(&self) -> DeliverError {
        DeliverError::NotRemote(self.core.kind().name().to_owned())
    }
}

/// Why a message from another node was not queued. A full mailbox refuses it whatever its
/// policy: a delivery cannot wait for room (policy `Wait`), the connection must go on.
fn refused<M>(e: PushError<M>) -> DeliverError {
    match e {
        PushError::Closed(_) => DeliverError::NoProc,
        PushError::Full(_) => DeliverError::MailboxFull,
    }
}

fn map_push_error<M: Envelope>(e: PushError<M>) -> PushError<Message> {
    let back = |m: M| -> Message {
        match m.into_info() {
            Some(Info::Message(msg)) => msg,
            _ => unreachable!("a user info message was pushed"),
        }
    };
    match e {
        PushError::Closed(m) => PushError::Closed(back(m)),
        PushError::Full(m) => PushError::Full(back(m)),
    }
}
