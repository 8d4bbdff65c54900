//! A `:telemetry`-style event bus for OTP for Rust.
//!
//! Libraries **emit** events; applications **attach handlers** to the events they care about.
//! Neither side knows the other: a supervisor emits `["otp", "supervisor", "child", "restart"]`
//! whether or not anything listens, and a metrics reporter or a log bridge attaches to it.
//!
//! # The model
//!
//! - An **event** is named by a path of string segments, `&[&str]`
//!   (stored as an [`EventName`]). It carries **measurements**, numbers by name
//!   (`&[(&str, f64)]`), and **metadata**, [`Value`]s by name (`&[(&str, Value<'_>)]`):
//!   integers, floats, strings, booleans, pids ([`PidValue`]) and anything else through a borrowed
//!   `Display`.
//! - [`attach`] / [`attach_many`] register a handler under a unique [`HandlerId`]; [`detach`]
//!   removes it from all its events; [`list_handlers`] lists them by event prefix.
//! - [`execute`] calls every handler attached to exactly that name, synchronously, in the emitting
//!   thread. A handler that panics is detached, the panic is logged through `tracing` and the
//!   [`HANDLER_FAILURE_EVENT`] is emitted; the emitter and the other handlers carry on.
//! - [`span()`] and [`span_async`] wrap code in `start` / `stop` / `exception` events with
//!   monotonic times and a duration; the builder [`Span`] adds stop measurements, stop metadata
//!   and a caller-given span context (see the [`span` module](mod@span)). An async span dropped
//!   before it completes reports itself as cancelled.
//! - [`testing::attach_event_handlers`] forwards chosen events to a test.
//! - [`tracing_bridge`] logs chosen events through `tracing`.
//! - [`poller`] (feature `poller`, on by default) emits periodic measurements as events, like
//!   `telemetry_poller`: process memory (`["otp", "vm", "memory"]`), the tokio runtime
//!   (`["otp", "vm", "tokio"]`) and your own.
//! - [`metrics`](mod@metrics) defines metrics over events and reports them through the `metrics`
//!   crate, to Prometheus (feature `prometheus`) or to the console.
//!
//! # Cost when nobody listens
//!
//! Every crate of the project emits on its hot paths, so [`execute`] with no handler attached is
//! one atomic load; with handlers attached elsewhere it is a read of this thread's cached
//! snapshot of the handler table (no lock, no shared write) and a hash lookup. Measurements and metadata are borrowed slices built on the stack: nothing is allocated
//! or formatted unless a handler runs. Emitters whose metadata is costly to gather can check
//! [`has_handlers`] first.
//!
//! # Example
//!
//! ```
//! use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
//! use otp_telemetry::{attach, detach, execute, Value};
//!
//! // The application: count restarts of children of any supervisor.
//! let restarts = Arc::new(AtomicU64::new(0));
//! let seen = Arc::clone(&restarts);
//! attach("count-restarts", &["otp", "supervisor", "child", "restart"], move |event| {
//!     assert_eq!(event.meta("child_id").and_then(|v| v.as_str().map(str::to_owned)),
//!                Some("worker".to_owned()));
//!     seen.fetch_add(event.measurement("count").unwrap_or(1.0) as u64, Ordering::Relaxed);
//! })
//! .unwrap();
//!
//! // A library: emit, whether or not anybody listens.
//! execute(
//!     &["otp", "supervisor", "child", "restart"],
//!     &[("count", 1.0)],
//!     &[("child_id", Value::Str("worker")), ("restarts_in_window", Value::UInt(1))],
//! );
//!
//! assert_eq!(restarts.load(Ordering::Relaxed), 1);
//! detach("count-restarts").unwrap();
//! ```

mod error;
mod event;
mod handler;
pub mod metrics;
mod name;
#[cfg(feature = "poller")]
pub mod poller;
mod registry;
pub mod span;
pub mod testing;
pub mod tracing_bridge;
mod value;

pub use error::{AttachError, DetachError};
pub use event::{Event, OwnedEvent};
pub use handler::{HandlerId, HandlerInfo};
pub use name::EventName;
pub use registry::{
    HANDLER_FAILURE_EVENT, any_handlers, attach, attach_many, detach, execute, has_handlers,
    list_handlers,
};
pub use span::{SPAN_CONTEXT_KEY, Span, SpanStop, monotonic_time, span, span_async, system_time};
pub use value::{OwnedValue, PidValue, Value};
