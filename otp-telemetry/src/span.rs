//! Spans: a start event, then a stop or an exception event, around sync or async code (TM-05).
//!
//! `span(&["my_app", "work"], meta, f)` emits:
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | `["my_app", "work", "start"]` | `system_time`, `monotonic_time` | `meta` + `telemetry_span_context` |
//! | `["my_app", "work", "stop"]` | `duration`, `monotonic_time` | `meta` + `telemetry_span_context` |
//! | `["my_app", "work", "exception"]` (on panic, then the panic resumes) | `duration`, `monotonic_time` | `meta` + `telemetry_span_context`, `kind` (`"panic"`), `reason` (the message) |
//!
//! Times are nanoseconds as `f64`: `monotonic_time` counts from a process-wide origin (the first
//! use of this crate's clock), exact to the nanosecond for 104 days; `system_time` counts from the
//! UNIX epoch (an `f64` holds it to within a few hundred nanoseconds today); `duration` is the
//! monotonic time between start and stop. `telemetry_span_context` is a [`Value::UInt`] unique to
//! the span, the same on its three events.
//!
//! When no handler listens to any of the three events when the span begins, the code runs bare:
//! no clock read, no event (a handler attached during that span sees none of it).
//! A future dropped before it completes (cancelled) emits neither stop nor exception.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::pin;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::registry::{any_handlers, execute, has_handlers, panic_message};
use crate::value::Value;

/// The metadata key of the span context shared by a span's events.
pub const SPAN_CONTEXT_KEY: &str = "telemetry_span_context";

static ORIGIN: LazyLock<Instant> = LazyLock::new(Instant::now);
static NEXT_SPAN_CONTEXT: AtomicU64 = AtomicU64::new(1);

/// Nanoseconds since this process's telemetry clock origin (monotonic).
pub fn monotonic_time() -> f64 {
    monotonic_at(Instant::now())
}

fn monotonic_at(instant: Instant) -> f64 {
    nanos(instant.saturating_duration_since(*ORIGIN))
}

/// A duration in nanoseconds, without the slow `u128` to `f64` conversion of `as_nanos() as f64`.
fn nanos(duration: Duration) -> f64 {
    duration.as_secs() as f64 * 1e9 + f64::from(duration.subsec_nanos())
}

/// Nanoseconds since the UNIX epoch (wall clock; 0 if the clock is set before 1970).
pub fn system_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, nanos)
}

/// Runs `f` with `base ++ extra` as one slice, on the stack when it is small.
fn concat<T: Copy, R>(filler: T, base: &[T], extra: &[T], f: impl FnOnce(&[T]) -> R) -> R {
    const STACK: usize = 16;
    let len = base.len() + extra.len();
    if len <= STACK {
        let mut buffer = [filler; STACK];
        buffer[..base.len()].copy_from_slice(base);
        buffer[base.len()..len].copy_from_slice(extra);
        f(&buffer[..len])
    } else {
        let mut buffer = Vec::with_capacity(len);
        buffer.extend_from_slice(base);
        buffer.extend_from_slice(extra);
        f(&buffer)
    }
}

/// A span that has emitted its start event.
struct Started {
    context: u64,
    start: Instant,
}

const FILLER: (&str, Value<'static>) = ("", Value::Bool(false));

fn emit(
    prefix: &[&str],
    suffix: &str,
    measurements: &[(&str, f64)],
    metadata: &[(&str, Value<'_>)],
) {
    concat("", prefix, &[suffix], |name| {
        execute(name, measurements, metadata)
    });
}

fn listened(prefix: &[&str]) -> bool {
    any_handlers()
        && ["start", "stop", "exception"]
            .iter()
            .any(|suffix| concat("", prefix, &[*suffix], has_handlers))
}

fn start(prefix: &[&str], metadata: &[(&str, Value<'_>)]) -> Option<Started> {
    if !listened(prefix) {
        return None;
    }
    let context = NEXT_SPAN_CONTEXT.fetch_add(1, Ordering::Relaxed);
    let start = Instant::now();
    let measurements = [
        ("system_time", system_time()),
        ("monotonic_time", monotonic_at(start)),
    ];
    concat(
        FILLER,
        metadata,
        &[(SPAN_CONTEXT_KEY, Value::UInt(context))],
        |meta| {
            emit(prefix, "start", &measurements, meta);
        },
    );
    Some(Started { context, start })
}

fn end_measurements(started: &Started) -> [(&'static str, f64); 2] {
    let now = Instant::now();
    [
        (
            "duration",
            nanos(now.saturating_duration_since(started.start)),
        ),
        ("monotonic_time", monotonic_at(now)),
    ]
}

fn stop(prefix: &[&str], metadata: &[(&str, Value<'_>)], started: &Started) {
    let measurements = end_measurements(started);
    concat(
        FILLER,
        metadata,
        &[(SPAN_CONTEXT_KEY, Value::UInt(started.context))],
        |meta| emit(prefix, "stop", &measurements, meta),
    );
}

fn exception(prefix: &[&str], metadata: &[(&str, Value<'_>)], started: &Started, reason: &str) {
    let measurements = end_measurements(started);
    concat(
        FILLER,
        metadata,
        &[
            (SPAN_CONTEXT_KEY, Value::UInt(started.context)),
            ("kind", Value::Str("panic")),
            ("reason", Value::Str(reason)),
        ],
        |meta| emit(prefix, "exception", &measurements, meta),
    );
}

/// Runs `f` inside a span named `prefix`: start, then stop or exception events (TM-05).
///
/// Returns what `f` returns. If `f` panics, the exception event is emitted and the panic resumes.
/// With no handler attached this is a single atomic load around `f`.
///
/// ```
/// use otp_telemetry::{span, Value};
///
/// let sum = span(&["my_app", "sum"], &[("items", Value::UInt(3))], || 1 + 2 + 3);
/// assert_eq!(sum, 6);
/// ```
#[inline]
pub fn span<R>(prefix: &[&str], metadata: &[(&str, Value<'_>)], f: impl FnOnce() -> R) -> R {
    if !any_handlers() {
        return f();
    }
    span_slow(prefix, metadata, f)
}

#[inline(never)]
fn span_slow<R>(prefix: &[&str], metadata: &[(&str, Value<'_>)], f: impl FnOnce() -> R) -> R {
    let Some(started) = start(prefix, metadata) else {
        return f();
    };
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => {
            stop(prefix, metadata, &started);
            result
        }
        Err(payload) => {
            exception(prefix, metadata, &started, &panic_message(&*payload));
            resume_unwind(payload)
        }
    }
}

/// Awaits `future` inside a span named `prefix`: the async form of [`span()`] (TM-05).
///
/// The duration covers the whole await, including the time the future is pending. A panic in a
/// poll emits the exception event and resumes. A future dropped before completion emits no end
/// event.
///
/// ```
/// use otp_telemetry::{span_async, Value};
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let n = span_async(&["my_app", "fetch"], &[("id", Value::UInt(7))], async { 42 }).await;
/// assert_eq!(n, 42);
/// # });
/// ```
pub async fn span_async<F: Future>(
    prefix: &[&str],
    metadata: &[(&str, Value<'_>)],
    future: F,
) -> F::Output {
    let Some(started) = start(prefix, metadata) else {
        return future.await;
    };
    let mut future = pin!(future);
    let outcome = poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        },
    )
    .await;
    match outcome {
        Ok(output) => {
            stop(prefix, metadata, &started);
            output
        }
        Err(payload) => {
            exception(prefix, metadata, &started, &panic_message(&*payload));
            resume_unwind(payload)
        }
    }
}
