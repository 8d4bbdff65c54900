//! Spans: a start event, then a stop or an exception event, around sync or async code (TM-05).
//!
//! `span(&["my_app", "work"], meta, f)` emits:
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | `["my_app", "work", "start"]` | `system_time`, `monotonic_time` | `meta` + `telemetry_span_context` |
//! | `["my_app", "work", "stop"]` | `duration`, `monotonic_time` (+ the extra measurements of a [`Span`]) | `meta` (or the stop metadata of a [`Span`]) + `telemetry_span_context` |
//! | `["my_app", "work", "exception"]` (on panic, then the panic resumes) | `duration`, `monotonic_time` | `meta` + `telemetry_span_context`, `kind` (`"panic"`), `reason` (the message) |
//! | `["my_app", "work", "exception"]` (async: the future is dropped after the start event, before it completes) | `duration`, `monotonic_time` | `meta` + `telemetry_span_context`, `kind` (`"cancelled"`), `reason` (`"the future was dropped before it completed"`) |
//!
//! Times are nanoseconds as `f64`: `monotonic_time` counts from a process-wide origin (the first
//! use of this crate's clock), exact to the nanosecond for 104 days; `system_time` counts from the
//! UNIX epoch (an `f64` holds it to within a few hundred nanoseconds today); `duration` is the
//! monotonic time between start and stop. `telemetry_span_context` is a [`Value::UInt`] unique to
//! the span, the same on its three events (a [`Span`] may be given one by the caller instead).
//!
//! When no handler listens to any of the three events when the span begins, the code runs bare:
//! no clock read, no event (a handler attached during that span sees none of it).
//!
//! # Stop measurements, stop metadata, a given context: [`Span`]
//!
//! Erlang's `telemetry:span/3` function returns `{Result, StopMetadata}` or
//! `{Result, ExtraMeasurements, StopMetadata}`. Here the builder [`Span`] hands the code a
//! [`SpanStop`] to fill instead:
//!
//! - [`SpanStop::measurement`] adds a measurement to the stop event. `duration` and
//!   `monotonic_time` cannot be overridden: those keys are ignored.
//! - [`SpanStop::metadata`] adds a key to the **stop metadata**. Once any is given, the stop event
//!   carries the stop metadata (plus `telemetry_span_context`) **instead of** the start metadata,
//!   as in Erlang; to keep a start key, give it again. With none given, the stop event carries the
//!   start metadata, as [`span()`] does.
//! - The exception event always carries the start metadata plus `kind` and `reason`, never the
//!   stop measurements or stop metadata (as in Erlang, where the function never returned them).
//! - [`Span::context`] uses the caller's span context instead of a fresh one (Erlang: a
//!   `telemetry_span_context` key in the start metadata). Fresh contexts are small counters from
//!   1; a caller that mixes both keeps its own contexts apart (e.g. from another numbering).
//!
//! A [`SpanStop`] records nothing when nobody listens ([`SpanStop::is_active`] is `false`): adding
//! to it then costs a branch and allocates nothing (a value converted by `Into` is converted only
//! when the span is active).
//!
//! ```
//! use otp_telemetry::{span::Span, testing, Value};
//!
//! let capture = testing::attach_event_handlers(&[&["doc", "span", "query", "stop"]]).unwrap();
//! let rows = Span::new(&["doc", "span", "query"])
//!     .metadata(&[("table", Value::Str("users"))])
//!     .context(7)
//!     .run(|stop| {
//!         let rows = 3;
//!         stop.measurement("rows", rows as f64);
//!         stop.metadata("table", "users").metadata("cached", false);
//!         rows
//!     });
//! assert_eq!(rows, 3);
//! let stop = capture.try_recv().unwrap();
//! assert_eq!(stop.measurement("rows"), Some(3.0));
//! assert!(stop.measurement("duration").is_some());
//! assert_eq!(stop.meta("cached"), Some(&false.into()));
//! assert_eq!(stop.meta("telemetry_span_context"), Some(&7_u64.into()));
//! ```
//!
//! # Cancelled futures
//!
//! [`span_async`] and [`Span::run_async`] hold a drop guard once the start event is out: if the
//! span future is dropped before the inner future completes (a `select!` that picked another
//! branch, a timeout, an aborted task), the guard emits the exception event with `kind` =
//! `"cancelled"`. A span future dropped before its first poll has emitted nothing and emits
//! nothing.

use std::borrow::Cow;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::pin;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::registry::{any_handlers, execute, has_handlers, panic_message};
use crate::value::{OwnedValue, Value};

/// The metadata key of the span context shared by a span's events.
pub const SPAN_CONTEXT_KEY: &str = "telemetry_span_context";

/// The `kind` of the exception event of a span future dropped before it completed.
pub const CANCELLED_KIND: &str = "cancelled";

/// The `reason` of the exception event of a span future dropped before it completed.
pub const CANCELLED_REASON: &str = "the future was dropped before it completed";

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
pub(crate) fn nanos(duration: Duration) -> f64 {
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

fn start(prefix: &[&str], metadata: &[(&str, Value<'_>)], context: Option<u64>) -> Option<Started> {
    if !listened(prefix) {
        return None;
    }
    let context = context.unwrap_or_else(|| NEXT_SPAN_CONTEXT.fetch_add(1, Ordering::Relaxed));
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

/// The stop event with what the code put in `filled` (an active [`SpanStop`]).
fn stop_filled(
    prefix: &[&str],
    metadata: &[(&str, Value<'_>)],
    started: &Started,
    filled: &SpanStop,
) {
    let Some(filled) = &filled.filled else {
        stop(prefix, metadata, started);
        return;
    };
    let mut measurements: Vec<(&str, f64)> = end_measurements(started).to_vec();
    measurements.extend(filled.measurements.iter().map(|(k, v)| (&**k, *v)));
    let context = (SPAN_CONTEXT_KEY, Value::UInt(started.context));
    match &filled.metadata {
        None => concat(FILLER, metadata, &[context], |meta| {
            emit(prefix, "stop", &measurements, meta)
        }),
        Some(stop_metadata) => {
            let meta: Vec<(&str, Value<'_>)> = stop_metadata
                .iter()
                .map(|(k, v)| (&**k, v.as_value()))
                .chain([context])
                .collect();
            emit(prefix, "stop", &measurements, &meta);
        }
    }
}

fn exception(
    prefix: &[&str],
    metadata: &[(&str, Value<'_>)],
    started: &Started,
    kind: &str,
    reason: &str,
) {
    let measurements = end_measurements(started);
    concat(
        FILLER,
        metadata,
        &[
            (SPAN_CONTEXT_KEY, Value::UInt(started.context)),
            ("kind", Value::Str(kind)),
            ("reason", Value::Str(reason)),
        ],
        |meta| emit(prefix, "exception", &measurements, meta),
    );
}

/// Runs `f` inside a span named `prefix`: start, then stop or exception events (TM-05).
///
/// Returns what `f` returns. If `f` panics, the exception event is emitted and the panic resumes.
/// With no handler attached this is a single atomic load around `f`. For stop measurements, stop
/// metadata or a given span context, use [`Span`].
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
    let Some(started) = start(prefix, metadata, None) else {
        return f();
    };
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => {
            stop(prefix, metadata, &started);
            result
        }
        Err(payload) => {
            exception(
                prefix,
                metadata,
                &started,
                "panic",
                &panic_message(&*payload),
            );
            resume_unwind(payload)
        }
    }
}

/// An async span between its start event and its end event: emits the cancelled exception event
/// if dropped before [`Pending::stop`] or [`Pending::panicked`] took the span out.
struct Pending<'s, 'm, 'v> {
    prefix: &'s [&'s str],
    metadata: &'m [(&'m str, Value<'v>)],
    started: Option<Started>,
}

impl Pending<'_, '_, '_> {
    fn stop(mut self, filled: Option<&SpanStop>) {
        if let Some(started) = self.started.take() {
            match filled {
                Some(filled) => stop_filled(self.prefix, self.metadata, &started, filled),
                None => stop(self.prefix, self.metadata, &started),
            }
        }
    }

    fn panicked(mut self, reason: &str) {
        if let Some(started) = self.started.take() {
            exception(self.prefix, self.metadata, &started, "panic", reason);
        }
    }
}

impl Drop for Pending<'_, '_, '_> {
    fn drop(&mut self) {
        if let Some(started) = self.started.take() {
            exception(
                self.prefix,
                self.metadata,
                &started,
                CANCELLED_KIND,
                CANCELLED_REASON,
            );
        }
    }
}

/// Polls `future` to completion, catching a panic of a poll.
async fn catch_panics<F: Future>(future: F) -> Result<F::Output, Box<dyn std::any::Any + Send>> {
    let mut future = pin!(future);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        },
    )
    .await
}

/// Awaits `future` inside a span named `prefix`: the async form of [`span()`] (TM-05).
///
/// The duration covers the whole await, including the time the future is pending. A panic in a
/// poll emits the exception event and resumes. Dropped after its start event and before the
/// future completes, it emits the exception event with `kind` = [`CANCELLED_KIND`] (see the
/// [module docs](self#cancelled-futures)).
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
    let Some(started) = start(prefix, metadata, None) else {
        return future.await;
    };
    let pending = Pending {
        prefix,
        metadata,
        started: Some(started),
    };
    match catch_panics(future).await {
        Ok(output) => {
            pending.stop(None);
            output
        }
        Err(payload) => {
            pending.panicked(&panic_message(&*payload));
            resume_unwind(payload)
        }
    }
}

/// A span to run, with its metadata and, optionally, the caller's span context (TM-05).
///
/// The builder form of [`span()`] and [`span_async`]: the code gets a [`SpanStop`] to add stop
/// measurements and stop metadata (see the [module docs](self) for what each event carries).
///
/// ```
/// use otp_telemetry::{span::Span, Value};
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let body = Span::new(&["my_app", "http", "get"])
///     .metadata(&[("url", Value::Str("/users"))])
///     .run_async(async |stop| {
///         let body = String::from("[]");
///         stop.measurement("bytes", body.len() as f64);
///         stop.metadata("status", 200_u64);
///         body
///     })
///     .await;
/// assert_eq!(body, "[]");
/// # });
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use = "a span does nothing until `run` or `run_async`"]
pub struct Span<'s, 'm, 'v> {
    prefix: &'s [&'s str],
    metadata: &'m [(&'m str, Value<'v>)],
    context: Option<u64>,
}

impl<'s, 'm, 'v> Span<'s, 'm, 'v> {
    /// A span named `prefix` (its events are `prefix ++ ["start"]` and so on), with no metadata
    /// and a fresh span context.
    pub fn new(prefix: &'s [&'s str]) -> Self {
        Self {
            prefix,
            metadata: &[],
            context: None,
        }
    }

    /// The start metadata: on the start and exception events, and on the stop event unless the
    /// code gives stop metadata.
    pub fn metadata(self, metadata: &'m [(&'m str, Value<'v>)]) -> Self {
        Self { metadata, ..self }
    }

    /// Uses `context` as the `telemetry_span_context` of the three events instead of a fresh one.
    pub fn context(self, context: u64) -> Self {
        Self {
            context: Some(context),
            ..self
        }
    }

    /// Runs `f` inside the span and returns what it returns; `f` may fill the [`SpanStop`].
    ///
    /// If `f` panics, the exception event is emitted and the panic resumes. With no handler
    /// attached this is a single atomic load around `f` (given an inactive [`SpanStop`]).
    #[inline]
    pub fn run<R>(self, f: impl FnOnce(&mut SpanStop) -> R) -> R {
        if !any_handlers() {
            return f(&mut SpanStop::inactive());
        }
        self.run_slow(f)
    }

    #[inline(never)]
    fn run_slow<R>(self, f: impl FnOnce(&mut SpanStop) -> R) -> R {
        let Some(started) = start(self.prefix, self.metadata, self.context) else {
            return f(&mut SpanStop::inactive());
        };
        let mut filled = SpanStop::active();
        match catch_unwind(AssertUnwindSafe(|| f(&mut filled))) {
            Ok(result) => {
                stop_filled(self.prefix, self.metadata, &started, &filled);
                result
            }
            Err(payload) => {
                let reason = panic_message(&*payload);
                exception(self.prefix, self.metadata, &started, "panic", &reason);
                resume_unwind(payload)
            }
        }
    }

    /// Awaits the future of the async closure `f` inside the span; `f` may fill the
    /// [`SpanStop`] at any point of its run.
    ///
    /// The duration covers the whole await. A panic in a poll emits the exception event and
    /// resumes; dropped after its start event and before `f`'s future completes, it emits the
    /// exception event with `kind` = [`CANCELLED_KIND`].
    pub async fn run_async<R>(self, f: impl AsyncFnOnce(&mut SpanStop) -> R) -> R {
        let Some(started) = start(self.prefix, self.metadata, self.context) else {
            return f(&mut SpanStop::inactive()).await;
        };
        let pending = Pending {
            prefix: self.prefix,
            metadata: self.metadata,
            started: Some(started),
        };
        let mut filled = SpanStop::active();
        // The inner future borrows `filled`: it is dropped at the end of this statement.
        let outcome = catch_panics(f(&mut filled)).await;
        match outcome {
            Ok(output) => {
                pending.stop(Some(&filled));
                output
            }
            Err(payload) => {
                pending.panicked(&panic_message(&*payload));
                resume_unwind(payload)
            }
        }
    }
}

/// What the code of a [`Span`] adds to its stop event: extra measurements and stop metadata.
///
/// Inactive (when nobody listens to the span) it records nothing and allocates nothing; check
/// [`SpanStop::is_active`] before gathering costly values. Adding a key twice keeps the last
/// value.
#[derive(Debug)]
pub struct SpanStop {
    active: bool,
    /// Allocated on the first addition to an active span: an inactive `SpanStop` is two words
    /// with nothing to drop.
    filled: Option<Box<Filled>>,
}

/// What the code added to an active [`SpanStop`].
#[derive(Debug, Default)]
struct Filled {
    measurements: Vec<(Cow<'static, str>, f64)>,
    /// `None` until the code gives stop metadata: the stop event then carries the start metadata.
    metadata: Option<Vec<(Cow<'static, str>, OwnedValue)>>,
}

impl SpanStop {
    fn active() -> Self {
        Self {
            active: true,
            filled: None,
        }
    }

    #[inline]
    fn inactive() -> Self {
        Self {
            active: false,
            filled: None,
        }
    }

    /// Whether the span is listened to: if not, what is added is dropped at once.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Adds the measurement `key` to the stop event (Erlang's `ExtraMeasurements`).
    ///
    /// `duration` and `monotonic_time` cannot be overridden: those keys are ignored.
    #[inline]
    pub fn measurement(&mut self, key: impl Into<Cow<'static, str>>, value: f64) -> &mut Self {
        if self.active {
            self.push_measurement(key.into(), value);
        }
        self
    }

    #[inline(never)]
    fn push_measurement(&mut self, key: Cow<'static, str>, value: f64) {
        if key == "duration" || key == "monotonic_time" {
            return;
        }
        let filled = self.filled.get_or_insert_with(Box::default);
        match filled.measurements.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => filled.measurements.push((key, value)),
        }
    }

    /// Adds `key` to the stop metadata (Erlang's `StopMetadata`).
    ///
    /// Once any stop metadata is given, the stop event carries it (plus
    /// `telemetry_span_context`) instead of the start metadata. `value` is converted only when the
    /// span is active.
    #[inline]
    pub fn metadata(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<OwnedValue>,
    ) -> &mut Self {
        if self.active {
            self.push_metadata(key.into(), value.into());
        }
        self
    }

    #[inline(never)]
    fn push_metadata(&mut self, key: Cow<'static, str>, value: OwnedValue) {
        let filled = self.filled.get_or_insert_with(Box::default);
        let metadata = filled.metadata.get_or_insert_with(Vec::new);
        match metadata.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => metadata.push((key, value)),
        }
    }

    /// The extra measurements added so far (empty when inactive).
    pub fn measurements(&self) -> impl ExactSizeIterator<Item = (&str, f64)> + '_ {
        let measurements = self
            .filled
            .as_ref()
            .map_or(&[][..], |f| &f.measurements[..]);
        measurements.iter().map(|(k, v)| (&**k, *v))
    }

    /// The stop metadata given so far, or `None` if none was (the stop event then carries the
    /// start metadata); always `None` when inactive.
    pub fn stop_metadata(&self) -> Option<impl ExactSizeIterator<Item = (&str, &OwnedValue)> + '_> {
        self.filled
            .as_ref()
            .and_then(|filled| filled.metadata.as_ref())
            .map(|metadata| metadata.iter().map(|(k, v)| (&**k, v)))
    }
}
