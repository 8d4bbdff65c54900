//! A test helper: forward chosen events to the test (TM-08), like Erlang's
//! `telemetry_test:attach_event_handlers/2`.
//!
//! [`attach_event_handlers`] attaches one handler, under a fresh id, to the given events; every
//! matching event is copied into an [`OwnedEvent`] and sent on a std channel that the returned
//! [`EventCapture`] reads. Dropping the capture detaches the handler.
//!
//! ```
//! use otp_telemetry::{execute, testing, Value};
//!
//! let capture = testing::attach_event_handlers(&[&["doc", "testing", "done"]]).unwrap();
//! execute(&["doc", "testing", "done"], &[("count", 2.0)], &[("who", Value::Str("me"))]);
//! let event = capture.try_recv().unwrap();
//! assert_eq!(event.name, ["doc", "testing", "done"]);
//! assert_eq!(event.measurement("count"), Some(2.0));
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use crate::error::AttachError;
use crate::event::OwnedEvent;
use crate::handler::HandlerId;
use crate::registry::{attach_many, detach};

static NEXT_CAPTURE: AtomicU64 = AtomicU64::new(1);

/// Attaches a handler that forwards `events` to the returned [`EventCapture`] (TM-08).
///
/// The handler id is fresh (`otp_telemetry::testing-N`) and is [`EventCapture::id`].
///
/// # Errors
/// [`AttachError::NoEvents`] or [`AttachError::EmptyEventName`] for bad event names.
pub fn attach_event_handlers(events: &[&[&str]]) -> Result<EventCapture, AttachError> {
    loop {
        let n = NEXT_CAPTURE.fetch_add(1, Ordering::Relaxed);
        let id = HandlerId::from(format!("otp_telemetry::testing-{n}"));
        let (sender, receiver) = mpsc::channel();
        let attached = attach_many(&id, events, move |event| {
            // The capture may be gone while the handler is still attached: nothing to do then.
            let _ = sender.send(event.to_owned_event());
        });
        match attached {
            Ok(()) => return Ok(EventCapture { id, receiver }),
            // Someone else took this id by hand: take the next one.
            Err(AttachError::AlreadyExists(_)) => continue,
            Err(error) => return Err(error),
        }
    }
}

/// The receiving end of [`attach_event_handlers`]; detaches its handler when dropped.
#[derive(Debug)]
pub struct EventCapture {
    id: HandlerId,
    receiver: Receiver<OwnedEvent>,
}

impl EventCapture {
    /// The id of the forwarding handler.
    pub fn id(&self) -> &HandlerId {
        &self.id
    }

    /// The next captured event, if one has been emitted already.
    ///
    /// Events are forwarded synchronously by the emitter, so after an `execute` in this thread
    /// returns, its event is here.
    pub fn try_recv(&self) -> Option<OwnedEvent> {
        self.receiver.try_recv().ok()
    }

    /// The next captured event, waiting up to `timeout` for one emitted by another thread.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<OwnedEvent> {
        self.receiver.recv_timeout(timeout).ok()
    }

    /// All events captured so far, oldest first.
    pub fn drain(&self) -> Vec<OwnedEvent> {
        self.receiver.try_iter().collect()
    }
}

impl Drop for EventCapture {
    fn drop(&mut self) {
        // NotFound means the handler was already detached (by hand, or after a failure).
        let _ = detach(&self.id);
    }
}
