//! [`Log`]: what test children report, in the order it happened.

use std::sync::{Arc, Mutex};

use otp_core::process::{ExitReason, Pid};

/// What test children report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The child started, with this pid.
    Started(&'static str, Pid),
    /// A trapping child received an exit signal with this reason and starts to stop.
    Stopping(&'static str, ExitReason),
}

/// A shared record of events.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Event>>>);

impl Log {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&self, e: Event) {
        self.0.lock().unwrap().push(e);
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    /// Takes the events so far.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The ids of the children that started, in order.
    pub fn started(&self) -> Vec<&'static str> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Started(id, _) => Some(id),
                Event::Stopping(..) => None,
            })
            .collect()
    }

    /// The ids of the trapping children that were asked to stop, in order.
    pub fn stopping(&self) -> Vec<&'static str> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Stopping(id, _) => Some(id),
                Event::Started(..) => None,
            })
            .collect()
    }
}
