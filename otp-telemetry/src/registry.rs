//! The handler table and the emitting path.
//!
//! # The fast path
//!
//! Modelled on `tracing`'s callsite interest caching: reads must cost next to nothing, writes
//! (attach, detach) are rare and may be slow.
//!
//! 1. A global [`AtomicBool`] says whether any handler is attached at all. With none, `execute`
//!    is one relaxed load and a return, and never touches the table.
//! 2. Otherwise the table is an immutable snapshot behind an [`ArcSwap`], and each thread keeps
//!    its own `Arc` of the latest snapshot it has seen, tagged with a global generation number:
//!    while the generation has not moved, reading costs one atomic load and no shared write.
//!    Routes sit in a sparse bucket array indexed by a cheap hash of the event name (segment
//!    count, lengths, first and last bytes), computed over the borrowed `&[&str]` without
//!    allocating, then compared segment by segment from the last one (exact match only).
//! 3. Writers are serialised by a mutex, copy the table, change it, publish the new snapshot and
//!    bump the generation.
//!
//! One consequence of the per-thread copies: a detached handler is no longer called, but its
//! closure (and what it captured) is dropped only once every thread that emitted while it was
//! attached has emitted again, or exited.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use arc_swap::ArcSwap;

use crate::error::{AttachError, DetachError};
use crate::event::Event;
use crate::handler::{HandlerId, HandlerInfo};
use crate::name::{EventName, route_hash};
use crate::span::{monotonic_time, system_time};
use crate::value::Value;

/// The event emitted when a handler panics and is detached (TM-04).
///
/// Measurements: `monotonic_time`, `system_time`. Metadata: `handler_id`, `event_name` (the event
/// being handled, segments joined by `.`), `kind` (`"panic"`) and `reason` (the panic message).
///
/// # Differences from Erlang
///
/// Erlang's failure event also carries `handler_config` and `stacktrace`; this one carries
/// neither, rather than made-up values:
///
/// - `handler_config`: an Erlang handler is a function plus a config term given to `attach/4`;
///   here a handler is a closure, and its config is whatever it captured, which this crate cannot
///   see or print. A handler that wants its config in reports can put it in its id.
/// - `stacktrace`: Erlang hands the stack to the `catch` clause; a Rust panic is caught after
///   unwinding, when its stack is gone. The panic hook (which prints a backtrace with
///   `RUST_BACKTRACE=1`) runs before the catch and is the place to get one.
pub const HANDLER_FAILURE_EVENT: &[&str] = &["telemetry", "handler", "failure"];

type HandlerFn = dyn Fn(&Event<'_>) + Send + Sync + 'static;

/// An attached handler: its id, its events and its function.
struct Attached {
    id: HandlerId,
    events: Vec<EventName>,
    function: Box<HandlerFn>,
}

/// One event name and the handlers attached to it.
struct Route {
    name: EventName,
    handlers: Box<[Arc<Attached>]>,
}

/// The fewest buckets of a non-empty table.
const MIN_BUCKETS: usize = 64;

/// An immutable snapshot of the table.
#[derive(Default)]
struct Table {
    /// Handlers in attach order.
    handlers: Vec<Arc<Attached>>,
    /// Routes by `route_hash & mask`: an open table of buckets, a power of two long (or empty),
    /// at least four times as many buckets as routes and at least `MIN_BUCKETS`; a bucket holds the names that share an index.
    buckets: Box<[Box<[Route]>]>,
}

impl Table {
    fn from_handlers(handlers: Vec<Arc<Attached>>) -> Self {
        let mut by_name: Vec<(EventName, Vec<Arc<Attached>>)> = Vec::new();
        for handler in &handlers {
            for event in &handler.events {
                match by_name.iter_mut().find(|(name, _)| name == event) {
                    Some((_, list)) => list.push(Arc::clone(handler)),
                    None => by_name.push((event.clone(), vec![Arc::clone(handler)])),
                }
            }
        }
        // Sparse, so that an event nobody listens to rarely shares a bucket with one listened to.
        let len = if by_name.is_empty() {
            0
        } else {
            (by_name.len() * 4).next_power_of_two().max(MIN_BUCKETS)
        };
        let mut buckets: Vec<Vec<Route>> = (0..len).map(|_| Vec::new()).collect();
        for (name, list) in by_name {
            let index = route_hash(name.segments()) as usize & (len - 1);
            buckets[index].push(Route {
                name,
                handlers: list.into_boxed_slice(),
            });
        }
        Self {
            handlers,
            buckets: buckets.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }

    #[inline]
    fn route(&self, event: &[&str]) -> Option<&Route> {
        let mask = self.buckets.len().checked_sub(1)?;
        let index = route_hash(event.iter().copied()) as usize & mask;
        self.buckets[index]
            .iter()
            .find(|route| route.name.matches(event))
    }
}

static ANY_HANDLER: AtomicBool = AtomicBool::new(false);
static TABLE: LazyLock<ArcSwap<Table>> = LazyLock::new(|| ArcSwap::from_pointee(Table::default()));
static WRITER: Mutex<()> = Mutex::new(());
/// Bumped after every publish: a thread's cached snapshot is current while this has not moved.
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's copy of the latest snapshot it has seen, with its generation. Reading it
    /// costs no shared atomic write, unlike loading the `ArcSwap` (a detached handler may thus be
    /// dropped only when each thread that emitted before has emitted again or exited).
    static CACHED: RefCell<Option<(u64, Arc<Table>)>> = const { RefCell::new(None) };
}

/// Calls `f` with the current snapshot: this thread's cached one when it is current, otherwise
/// (stale cache in a nested call, or thread-local storage gone at thread exit) a fresh load.
#[inline]
fn with_table<R>(f: impl FnOnce(&Table) -> R) -> R {
    let generation = GENERATION.load(Ordering::Acquire);
    let mut f = Some(f);
    let cached = CACHED.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut()
            && slot.as_ref().is_none_or(|(seen, _)| *seen != generation)
        {
            *slot = Some((generation, TABLE.load_full()));
        }
        // Only shared borrows remain (a handler of an outer call may hold one): this succeeds.
        let slot = cell.try_borrow().ok()?;
        let (seen, table) = slot.as_ref()?;
        if *seen != generation {
            return None;
        }
        f.take().map(|f| f(table))
    });
    match (cached, f) {
        (Ok(Some(result)), _) => result,
        (_, Some(f)) => f(&TABLE.load()),
        (_, None) => unreachable!("`f` is taken only when its result is returned"),
    }
}

fn writer() -> MutexGuard<'static, ()> {
    // The guarded data is `()`: a panic while holding the lock leaves nothing inconsistent.
    WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn publish(handlers: Vec<Arc<Attached>>) {
    let any = !handlers.is_empty();
    TABLE.store(Arc::new(Table::from_handlers(handlers)));
    GENERATION.fetch_add(1, Ordering::AcqRel);
    ANY_HANDLER.store(any, Ordering::Release);
}

/// Attaches `handler` to one event under `handler_id` (TM-01).
///
/// The handler runs synchronously in every emitter of exactly that event name. It must not block
/// for long: it sits on the emitter's path. It may attach, detach and execute.
///
/// # Errors
/// [`AttachError::AlreadyExists`] if a handler with this id is attached;
/// [`AttachError::EmptyEventName`] if `event` is empty.
pub fn attach(
    handler_id: impl Into<HandlerId>,
    event: &[&str],
    handler: impl Fn(&Event<'_>) + Send + Sync + 'static,
) -> Result<(), AttachError> {
    attach_many(handler_id, &[event], handler)
}

/// Attaches one `handler` to several events under one `handler_id` (TM-01).
///
/// Duplicate names in `events` count once. [`detach`] removes the handler from all of them.
///
/// # Errors
/// [`AttachError::AlreadyExists`] if a handler with this id is attached;
/// [`AttachError::EmptyEventName`] if an event name is empty; [`AttachError::NoEvents`] if
/// `events` is empty.
pub fn attach_many(
    handler_id: impl Into<HandlerId>,
    events: &[&[&str]],
    handler: impl Fn(&Event<'_>) + Send + Sync + 'static,
) -> Result<(), AttachError> {
    let id = handler_id.into();
    if events.is_empty() {
        return Err(AttachError::NoEvents);
    }
    if events.iter().any(|event| event.is_empty()) {
        return Err(AttachError::EmptyEventName);
    }
    let mut names: Vec<EventName> = Vec::with_capacity(events.len());
    for event in events {
        if !names.iter().any(|name| name.matches(event)) {
            names.push(EventName::from(*event));
        }
    }

    let _writer = writer();
    let current = TABLE.load();
    if current.handlers.iter().any(|h| h.id == id) {
        return Err(AttachError::AlreadyExists(id));
    }
    tracing::debug!(handler_id = %id, events = ?names, "telemetry handler attached");
    let mut handlers = current.handlers.clone();
    handlers.push(Arc::new(Attached {
        id,
        events: names,
        function: Box::new(handler),
    }));
    drop(current);
    publish(handlers);
    Ok(())
}

/// Detaches the handler attached under `handler_id` from all its events (TM-02).
///
/// # Errors
/// [`DetachError::NotFound`] if no handler with this id is attached.
pub fn detach(handler_id: impl Into<HandlerId>) -> Result<(), DetachError> {
    let id = handler_id.into();
    let _writer = writer();
    let current = TABLE.load();
    let Some(index) = current.handlers.iter().position(|h| h.id == id) else {
        return Err(DetachError::NotFound(id));
    };
    let mut handlers = current.handlers.clone();
    handlers.remove(index);
    drop(current);
    publish(handlers);
    tracing::debug!(handler_id = %id, "telemetry handler detached");
    Ok(())
}

/// Detaches this very handler if it is still attached (not a newer one under the same id).
fn detach_failed(failed: &Arc<Attached>) -> bool {
    let _writer = writer();
    let current = TABLE.load();
    let Some(index) = current.handlers.iter().position(|h| Arc::ptr_eq(h, failed)) else {
        return false;
    };
    let mut handlers = current.handlers.clone();
    handlers.remove(index);
    drop(current);
    publish(handlers);
    true
}

/// The handlers attached to events that start with `prefix`, once per (handler, event) pair (TM-06).
///
/// The empty prefix lists every handler. Order: attach order, then the handler's event order.
pub fn list_handlers(prefix: &[&str]) -> Vec<HandlerInfo> {
    let table = TABLE.load();
    table
        .handlers
        .iter()
        .flat_map(|handler| {
            handler
                .events
                .iter()
                .filter(|event| event.starts_with(prefix))
                .map(|event| HandlerInfo {
                    id: handler.id.clone(),
                    event: event.clone(),
                })
        })
        .collect()
}

/// Whether any handler at all is attached: one atomic load.
///
/// Emitters whose metadata is costly to gather can check this (or [`has_handlers`]) first.
#[inline]
pub fn any_handlers() -> bool {
    ANY_HANDLER.load(Ordering::Relaxed)
}

/// Whether a handler is attached to exactly `event`.
#[inline]
pub fn has_handlers(event: &[&str]) -> bool {
    any_handlers() && with_table(|table| table.route(event).is_some())
}

/// Emits an event: calls every handler attached to exactly `event`, synchronously, in this thread (TM-03).
///
/// Measurements are numbers by name, metadata are [`Value`]s by name; both are borrowed slices, so
/// building them on the stack allocates nothing, and with no handler attached this function is a
/// single atomic load. A handler that panics is detached and reported (TM-04); `execute` itself
/// never panics because of a handler.
///
/// ```
/// use otp_telemetry::{execute, Value};
///
/// execute(
///     &["my_app", "request", "done"],
///     &[("duration", 1200.0), ("bytes", 512.0)],
///     &[("route", Value::Str("/users")), ("ok", Value::Bool(true))],
/// );
/// ```
#[inline]
pub fn execute(event: &[&str], measurements: &[(&str, f64)], metadata: &[(&str, Value<'_>)]) {
    if !ANY_HANDLER.load(Ordering::Relaxed) {
        return;
    }
    dispatch(event, measurements, metadata);
}

#[inline(never)]
fn dispatch(event: &[&str], measurements: &[(&str, f64)], metadata: &[(&str, Value<'_>)]) {
    with_table(|table| {
        let Some(route) = table.route(event) else {
            return;
        };
        let emitted = Event::new(event, measurements, metadata);
        let mut failures: Vec<(Arc<Attached>, String)> = Vec::new();
        for handler in route.handlers.iter() {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (handler.function)(&emitted))) {
                failures.push((Arc::clone(handler), panic_message(&*payload)));
            }
        }
        // Still inside the snapshot borrow: the failure event is emitted through a fresh load.
        for (handler, reason) in failures {
            handler_failed(&handler, event, &reason);
        }
    });
}

/// TM-04: detach the handler, log the panic, emit the failure event.
#[cold]
fn handler_failed(handler: &Arc<Attached>, event: &[&str], reason: &str) {
    detach_failed(handler);
    let event_name = EventName::from(event).to_string();
    tracing::error!(
        handler_id = %handler.id,
        event = %event_name,
        reason,
        "telemetry handler panicked and was detached"
    );
    execute(
        HANDLER_FAILURE_EVENT,
        &[
            ("monotonic_time", monotonic_time()),
            ("system_time", system_time()),
        ],
        &[
            ("handler_id", Value::Str(handler.id.as_str())),
            ("event_name", Value::Str(&event_name)),
            ("kind", Value::Str("panic")),
            ("reason", Value::Str(reason)),
        ],
    );
}

/// The message of a panic payload (a `&str` or a `String`), or a placeholder.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = payload.downcast_ref::<&'static str>() {
        (*message).to_owned()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
