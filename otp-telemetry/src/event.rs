//! The event a handler receives, and its owned copy.

use crate::name::EventName;
use crate::value::{OwnedValue, Value};

/// One emitted event, borrowed from the emitter: its name, measurements and metadata.
///
/// Handlers get a `&Event<'_>`; what they keep past the call they copy out
/// (see [`Event::to_owned_event`]).
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    name: &'a [&'a str],
    measurements: &'a [(&'a str, f64)],
    metadata: &'a [(&'a str, Value<'a>)],
}

impl<'a> Event<'a> {
    /// An event from its parts (what [`execute`](crate::execute) builds; useful to test a handler directly).
    pub fn new(
        name: &'a [&'a str],
        measurements: &'a [(&'a str, f64)],
        metadata: &'a [(&'a str, Value<'a>)],
    ) -> Self {
        Self {
            name,
            measurements,
            metadata,
        }
    }

    /// The event name, e.g. `["otp", "supervisor", "child", "restart"]`.
    pub fn name(&self) -> &'a [&'a str] {
        self.name
    }

    /// All measurements, in the order the emitter gave them.
    pub fn measurements(&self) -> &'a [(&'a str, f64)] {
        self.measurements
    }

    /// The first measurement named `key`.
    pub fn measurement(&self, key: &str) -> Option<f64> {
        self.measurements
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// All metadata, in the order the emitter gave it.
    pub fn metadata(&self) -> &'a [(&'a str, Value<'a>)] {
        self.metadata
    }

    /// The first metadata value named `key`.
    pub fn meta(&self, key: &str) -> Option<Value<'a>> {
        self.metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// An owned copy of the event, to keep or send elsewhere (this allocates).
    pub fn to_owned_event(&self) -> OwnedEvent {
        OwnedEvent {
            name: EventName::from(self.name),
            measurements: self
                .measurements
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            metadata: self
                .metadata
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.to_owned_value()))
                .collect(),
        }
    }
}

/// An owned copy of an [`Event`], e.g. what the [`testing`](crate::testing) helper delivers.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedEvent {
    /// The event name.
    pub name: EventName,
    /// The measurements, in emitter order.
    pub measurements: Vec<(String, f64)>,
    /// The metadata, in emitter order.
    pub metadata: Vec<(String, OwnedValue)>,
}

impl OwnedEvent {
    /// The first measurement named `key`.
    pub fn measurement(&self, key: &str) -> Option<f64> {
        self.measurements
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    /// The first metadata value named `key`.
    pub fn meta(&self, key: &str) -> Option<&OwnedValue> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}
