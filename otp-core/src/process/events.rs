//! The process layer's own telemetry events: processes spawned and ended, mailboxes over a
//! threshold. They are listed, with every other event of the runtime, in
//! [`crate::telemetry`]; they go to the `otp-telemetry` bus, the crate below this one, and cost
//! one atomic load each while no handler is attached.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

use otp_telemetry::{PidValue, Value, any_handlers, execute};

use super::core::{ProcessCore, ProcessEntry};
use crate::exit::ExitReason;
use crate::message::Name;
use crate::pid::Pid;

/// A process entered the process table.
pub const PROCESS_SPAWN: &[&str] = &["otp", "process", "spawn"];
/// A process ended (emitted before its links, monitors and waiters are told).
pub const PROCESS_EXIT: &[&str] = &["otp", "process", "exit"];
/// A message brought a mailbox's length up to the threshold.
pub const MAILBOX_OVER_THRESHOLD: &[&str] = &["otp", "process", "mailbox", "over_threshold"];

/// The mailbox length that emits [`MAILBOX_OVER_THRESHOLD`] until [`set_mailbox_threshold`]
/// changes it.
pub const DEFAULT_MAILBOX_THRESHOLD: usize = 10_000;

/// `usize::MAX` when off: no mailbox gets that long.
static MAILBOX_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_MAILBOX_THRESHOLD);

/// Sets the mailbox length that emits [`MAILBOX_OVER_THRESHOLD`], or turns the event off with
/// `None`.
pub fn set_mailbox_threshold(threshold: Option<NonZeroUsize>) {
    MAILBOX_THRESHOLD.store(
        threshold.map_or(usize::MAX, NonZeroUsize::get),
        Ordering::Relaxed,
    );
}

/// The mailbox length that emits [`MAILBOX_OVER_THRESHOLD`], if the event is on.
pub fn mailbox_threshold() -> Option<NonZeroUsize> {
    match MAILBOX_THRESHOLD.load(Ordering::Relaxed) {
        usize::MAX => None,
        n => NonZeroUsize::new(n),
    }
}

impl From<Pid> for PidValue {
    fn from(pid: Pid) -> Self {
        PidValue {
            node: pid.node(),
            serial: pid.serial(),
            creation: pid.creation(),
        }
    }
}

/// A pid as telemetry metadata.
pub(crate) fn pid_value(pid: Pid) -> Value<'static> {
    Value::Pid(pid.into())
}

/// Runs `f` with `base`, plus `(key, name)` when there is a name.
pub(crate) fn with_name<R>(
    base: &[(&str, Value<'_>)],
    key: &'static str,
    name: Option<&Name>,
    f: impl FnOnce(&[(&str, Value<'_>)]) -> R,
) -> R {
    match name {
        None => f(base),
        Some(name) => {
            let mut all = Vec::with_capacity(base.len() + 1);
            all.extend_from_slice(base);
            all.push((key, Value::Str(name.as_str())));
            f(&all)
        }
    }
}

/// Called when a process enters the table.
#[inline]
pub(super) fn process_spawned(core: &ProcessCore) {
    if any_handlers() {
        emit_spawn(core);
    }
}

#[cold]
#[inline(never)]
fn emit_spawn(core: &ProcessCore) {
    let meta = [
        ("pid", pid_value(core.pid)),
        ("kind", Value::Str(core.kind().name())),
        ("parent", core.parent.map_or(Value::Bool(false), pid_value)),
    ];
    let len = if core.parent.is_some() { 3 } else { 2 };
    execute(PROCESS_SPAWN, &[("count", 1.0)], &meta[..len]);
}

/// Called when a process has ended, before its links, monitors and waiters are told.
#[inline]
pub(super) fn process_exited(core: &ProcessCore, name: Option<&Name>, reason: &ExitReason) {
    if any_handlers() {
        emit_exit(core, name, reason);
    }
}

#[cold]
#[inline(never)]
fn emit_exit(core: &ProcessCore, name: Option<&Name>, reason: &ExitReason) {
    let meta = [
        ("pid", pid_value(core.pid)),
        ("kind", Value::Str(core.kind().name())),
        ("reason_kind", Value::Str(reason.kind())),
        ("reason", Value::Display(reason)),
    ];
    with_name(&meta, "name", name, |meta| {
        execute(PROCESS_EXIT, &[("count", 1.0)], meta);
    });
}

/// Called by the sender after queuing a user message: `length` is the mailbox's length with it.
#[inline]
pub(super) fn mailbox_pushed(process: &dyn ProcessEntry, length: usize) {
    if length == MAILBOX_THRESHOLD.load(Ordering::Relaxed) && any_handlers() {
        emit_over_threshold(process, length);
    }
}

/// Messages were queued in one go, the mailbox's length going from `before` to `length`: as
/// [`mailbox_pushed`], told once if the threshold was reached on the way.
pub(super) fn mailbox_pushed_many(process: &dyn ProcessEntry, before: usize, length: usize) {
    let threshold = MAILBOX_THRESHOLD.load(Ordering::Relaxed);
    if before < threshold && threshold <= length && any_handlers() {
        emit_over_threshold(process, threshold);
    }
}

#[cold]
#[inline(never)]
fn emit_over_threshold(process: &dyn ProcessEntry, length: usize) {
    let core = process.core();
    let name = core.name();
    let meta = [
        ("pid", pid_value(core.pid)),
        ("kind", Value::Str(core.kind().name())),
    ];
    with_name(&meta, "name", name.as_ref(), |meta| {
        execute(
            MAILBOX_OVER_THRESHOLD,
            &[("length", length as f64), ("threshold", length as f64)],
            meta,
        );
    });
}
