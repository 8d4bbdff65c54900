//! A bridge from telemetry events to `tracing`: log chosen events as they are emitted.
//!
//! [`attach`] attaches one handler to the given events; each matching event becomes a `tracing`
//! event at the chosen level, with target [`TARGET`] (`"otp_telemetry::bridge"`):
//!
//! - the message is the event name joined by `.`, e.g. `otp.supervisor.child.restart`;
//! - the field `measurements` renders the measurements as `key=value` pairs separated by spaces,
//!   in emitter order, e.g. `duration=1200 count=1`;
//! - the field `metadata` renders the metadata the same way, e.g.
//!   `child_id=worker pid=<0.12.0>` (values as their `Display`: numbers, strings unquoted, pids
//!   as `<node.serial.creation>`).
//!
//! Both fields are formatted only if the subscriber records the event; the handler allocates
//! nothing itself. Detach it with [`detach`](crate::detach) and the same id.
//!
//! ```
//! use otp_telemetry::{detach, execute, tracing_bridge, Value};
//!
//! tracing_bridge::attach(
//!     "doc-log-restarts",
//!     &[&["doc", "bridge", "restart"]],
//!     tracing::Level::INFO,
//! )
//! .unwrap();
//! // Logs `doc.bridge.restart measurements=count=1 metadata=child_id=worker` at INFO
//! // (through whatever subscriber the application installed).
//! execute(
//!     &["doc", "bridge", "restart"],
//!     &[("count", 1.0)],
//!     &[("child_id", Value::Str("worker"))],
//! );
//! detach("doc-log-restarts").unwrap();
//! ```

use std::fmt;

use tracing::Level;

use crate::error::AttachError;
use crate::event::Event;
use crate::handler::HandlerId;
use crate::name::write_dotted;
use crate::registry::attach_many;

/// The `tracing` target of the events logged by the bridge.
pub const TARGET: &str = "otp_telemetry::bridge";

/// Attaches a handler, under `handler_id`, that logs each of `events` through `tracing` at
/// `level` (see the [module docs](self) for the format).
///
/// # Errors
/// As [`attach_many`]: [`AttachError::AlreadyExists`],
/// [`AttachError::EmptyEventName`], [`AttachError::NoEvents`].
pub fn attach(
    handler_id: impl Into<HandlerId>,
    events: &[&[&str]],
    level: Level,
) -> Result<(), AttachError> {
    attach_many(handler_id, events, move |event| log(event, level))
}

/// Logs `event` at `level`: what the bridge's handler does (public to log an event by hand).
pub fn log(event: &Event<'_>, level: Level) {
    let name = Dotted(event.name());
    let measurements = Pairs(event.measurements());
    let metadata = Pairs(event.metadata());
    // `tracing`'s macros need a constant level. `Level` has five values; the compiler cannot
    // see that a match on its constants is exhaustive, so ERROR is the last arm's.
    match level {
        Level::TRACE => tracing::trace!(target: TARGET, %measurements, %metadata, "{name}"),
        Level::DEBUG => tracing::debug!(target: TARGET, %measurements, %metadata, "{name}"),
        Level::INFO => tracing::info!(target: TARGET, %measurements, %metadata, "{name}"),
        Level::WARN => tracing::warn!(target: TARGET, %measurements, %metadata, "{name}"),
        _ => tracing::error!(target: TARGET, %measurements, %metadata, "{name}"),
    }
}

/// An event name, segments joined by `.`.
struct Dotted<'a>(&'a [&'a str]);

impl fmt::Display for Dotted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_dotted(f, self.0.iter().copied())
    }
}

/// Measurements or metadata as `key=value key=value`.
struct Pairs<'a, V>(&'a [(&'a str, V)]);

impl<V: fmt::Display> fmt::Display for Pairs<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}
