//! Untyped messages across nodes: which Rust types may travel as info messages, under which
//! stable tag.
//!
//! A GenServer's calls and casts need no registration (the receiving server decodes them into
//! its own message types). An info message — anything sent with
//! [`send`](otp_core::name::send) — is type-erased, so the sending node must know how to encode
//! its type and the receiving node how to decode it: both register the type under the same
//! tag, by default its Rust path ([`std::any::type_name`]), with
//! [`DistBuilder::message`](crate::DistBuilder::message) or
//! [`DistBuilder::message_tagged`](crate::DistBuilder::message_tagged). A send of a type not
//! registered is refused with [`SendError::NotSendable`](otp_core::name::SendError::NotSendable)
//! (the message is handed back); a message whose tag the receiver does not know, or that does
//! not decode, is dropped there with a log line and a telemetry event, and the connection stays.

use std::any::{Any, TypeId};
use std::sync::{Arc, RwLock};

use otp_core::process::{Encode, Message};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How a registered type is encoded.
pub(crate) struct Encoder {
    pub(crate) tag: Box<str>,
    /// Encodes the message's value (of the registered type) into the buffer.
    pub(crate) encode: fn(&Message, &mut Vec<u8>) -> Result<(), String>,
}

/// How a tag is decoded.
type Decoder = fn(&[u8]) -> Result<Message, String>;

/// The types a node sends and receives as info messages.
#[derive(Default)]
pub(crate) struct MessageTypes {
    by_type: RwLock<HashMap<TypeId, Arc<Encoder>>>,
    by_tag: RwLock<HashMap<String, Decoder>>,
}

fn encode<T: Serialize + Any>(message: &Message, out: &mut Vec<u8>) -> Result<(), String> {
    let value = message
        .downcast_ref::<T>()
        .ok_or_else(|| format!("not a {}", std::any::type_name::<T>()))?;
    value.encode(out)
}

fn decode<T: DeserializeOwned + Any + Send>(bytes: &[u8]) -> Result<Message, String> {
    otp_core::process::decode_payload::<T>(bytes).map(Message::new)
}

impl MessageTypes {
    /// The types every node knows: strings, bytes, integers, floats, booleans and `()`.
    pub(crate) fn with_defaults() -> Self {
        let types = MessageTypes::default();
        types.register::<String>(None);
        types.register::<Vec<u8>>(None);
        types.register::<u64>(None);
        types.register::<i64>(None);
        types.register::<u32>(None);
        types.register::<i32>(None);
        types.register::<f64>(None);
        types.register::<bool>(None);
        types.register::<()>(None);
        types
    }

    /// Registers `T` under `tag` (default: its Rust path). A later registration of the same type
    /// or tag replaces the earlier.
    pub(crate) fn register<T: Serialize + DeserializeOwned + Any + Send>(&self, tag: Option<&str>) {
        let tag = tag.unwrap_or(std::any::type_name::<T>()).to_owned();
        if let Ok(mut by_type) = self.by_type.write() {
            by_type.insert(
                TypeId::of::<T>(),
                Arc::new(Encoder {
                    tag: tag.clone().into_boxed_str(),
                    encode: encode::<T>,
                }),
            );
        }
        if let Ok(mut by_tag) = self.by_tag.write() {
            by_tag.insert(tag, decode::<T>);
        }
    }

    /// How to encode a message of this type, if it is registered.
    pub(crate) fn encoder(&self, message: &Message) -> Option<Arc<Encoder>> {
        self.by_type
            .read()
            .ok()?
            .get(&message.value_type_id())
            .cloned()
    }

    /// Decodes a message received under `tag`.
    pub(crate) fn decode(&self, tag: &str, bytes: &[u8]) -> Result<Message, String> {
        let decoder = self
            .by_tag
            .read()
            .map_err(|_| "the registry is poisoned".to_owned())?
            .get(tag)
            .copied()
            .ok_or_else(|| format!("no type is registered under the tag {tag:?} on this node"))?;
        decoder(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Ping {
        n: u32,
    }

    #[test]
    fn a_registered_type_round_trips_under_its_tag() {
        let types = MessageTypes::with_defaults();
        types.register::<Ping>(Some("ping/v1"));
        let message = Message::new(Ping { n: 7 });
        let encoder = types.encoder(&message).unwrap();
        assert_eq!(&*encoder.tag, "ping/v1");
        let mut bytes = Vec::new();
        (encoder.encode)(&message, &mut bytes).unwrap();
        let back = types.decode("ping/v1", &bytes).unwrap();
        assert_eq!(back.downcast::<Ping>().unwrap(), Ping { n: 7 });
    }

    #[test]
    fn an_unregistered_type_or_tag_is_refused() {
        let types = MessageTypes::with_defaults();
        assert!(types.encoder(&Message::new(Ping { n: 1 })).is_none());
        assert!(
            types
                .decode("ping/v1", &[0x80])
                .unwrap_err()
                .contains("no type")
        );
        // A known tag with bytes of another type: a decode error, not a panic.
        assert!(
            types
                .decode(std::any::type_name::<u64>(), &[0xa1, b'x'])
                .is_err()
        );
        // The value's type is found through the message, not the box.
        assert_eq!(&*types.encoder(&Message::new(5u64)).unwrap().tag, "u64");
    }
}
