//! The GenServer call span: listed with every other event of the runtime in
//! [`crate::telemetry`], off by default since calls are hot.

use std::sync::atomic::{AtomicBool, Ordering};

use otp_telemetry::span::Span;
use otp_telemetry::{PidValue, Value, any_handlers};

use super::error::CallError;
use crate::message::Name;
use crate::pid::Pid;
use crate::process::events::pid_value;

/// The prefix of the GenServer call span (off by default: [`set_call_spans`]).
pub const GEN_SERVER_CALL: &[&str] = &["otp", "gen_server", "call"];

static CALL_SPANS: AtomicBool = AtomicBool::new(false);

/// Turns the GenServer call span on or off, for every server (off by default).
///
/// Calls that already began keep the setting they began with.
pub fn set_call_spans(on: bool) {
    CALL_SPANS.store(on, Ordering::Relaxed);
}

/// Whether GenServer calls emit their span.
pub fn call_spans() -> bool {
    CALL_SPANS.load(Ordering::Relaxed)
}

/// Runs a call inside the [`GEN_SERVER_CALL`] span (when [`set_call_spans`] is on).
pub(super) async fn call_span<T>(
    server: Pid,
    server_type: &'static str,
    name: impl FnOnce() -> Option<Name>,
    call: impl Future<Output = Result<T, CallError>>,
) -> Result<T, CallError> {
    if !any_handlers() {
        return call.await;
    }
    let name = name();
    let meta = [
        ("server", pid_value(server)),
        ("server_type", Value::Str(server_type)),
        (
            "server_name",
            Value::Str(name.as_ref().map_or("", Name::as_str)),
        ),
    ];
    let meta = if name.is_some() {
        &meta[..]
    } else {
        &meta[..2]
    };
    Span::new(GEN_SERVER_CALL)
        .metadata(meta)
        .run_async(async |stop| {
            let result = call.await;
            if stop.is_active() {
                // The stop metadata replaces the start metadata (TM-05): repeat it.
                stop.metadata("server", PidValue::from(server))
                    .metadata("server_type", server_type);
                if let Some(name) = &name {
                    stop.metadata("server_name", name.as_str());
                }
                stop.metadata(
                    "result",
                    result.as_ref().map_or_else(CallError::kind, |_| "ok"),
                );
            }
            result
        })
        .await
}
