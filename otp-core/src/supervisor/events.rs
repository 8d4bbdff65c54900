//! The supervisors' telemetry events, listed with every other event of the runtime in
//! [`crate::telemetry`]; emitted by the reports of [`report`](super::report).

use otp_telemetry::{Value, any_handlers, execute};

use crate::exit::ExitReason;
use crate::message::Name;
use crate::pid::Pid;
use crate::process::events::pid_value;

/// A supervisor started a child (at its own start, `start_child`, `restart_child`).
pub const CHILD_START: &[&str] = &["otp", "supervisor", "child", "start"];
/// A supervisor restarted a child by its strategy.
pub const CHILD_RESTART: &[&str] = &["otp", "supervisor", "child", "restart"];
/// A supervised child ended, by itself or stopped by its supervisor.
pub const CHILD_TERMINATE: &[&str] = &["otp", "supervisor", "child", "terminate"];
/// A child's start function failed.
pub const CHILD_START_ERROR: &[&str] = &["otp", "supervisor", "child", "start_error"];
/// A supervisor exceeded its restart intensity and gives up (SUP-05).
pub const SUPERVISOR_GIVE_UP: &[&str] = &["otp", "supervisor", "give_up"];
/// The registered name of a live process of the calling code's node.
fn name_of(pid: Pid) -> Option<Name> {
    crate::process::lookup(pid).and_then(|p| p.core().name())
}

/// Emits a supervisor event with `supervisor`, `supervisor_name` (when named) and `rest`.
fn emit_supervisor(
    event: &[&str],
    measurements: &[(&str, f64)],
    supervisor: Pid,
    rest: &[(&str, Value<'_>)],
) {
    let name = name_of(supervisor);
    let mut meta = Vec::with_capacity(rest.len() + 2);
    meta.push(("supervisor", pid_value(supervisor)));
    if let Some(name) = &name {
        meta.push(("supervisor_name", Value::Str(name.as_str())));
    }
    meta.extend_from_slice(rest);
    execute(event, measurements, &meta);
}

#[inline]
pub(crate) fn child_started(supervisor: Pid, child_id: &str, child: Pid, restart: bool) {
    if any_handlers() {
        let event = if restart { CHILD_RESTART } else { CHILD_START };
        emit_supervisor(
            event,
            &[("count", 1.0)],
            supervisor,
            &[
                ("child_id", Value::Str(child_id)),
                ("child_pid", pid_value(child)),
            ],
        );
    }
}

#[inline]
pub(crate) fn child_terminated(
    supervisor: Pid,
    child_id: &str,
    child: Pid,
    reason: &ExitReason,
    by_supervisor: bool,
) {
    if any_handlers() {
        emit_supervisor(
            CHILD_TERMINATE,
            &[("count", 1.0)],
            supervisor,
            &[
                ("child_id", Value::Str(child_id)),
                ("child_pid", pid_value(child)),
                ("reason_kind", Value::Str(reason.kind())),
                ("reason", Value::Display(reason)),
                ("by_supervisor", Value::Bool(by_supervisor)),
            ],
        );
    }
}

#[inline]
pub(crate) fn child_start_error(
    supervisor: Pid,
    child_id: &str,
    reason: &(dyn std::fmt::Display + Sync),
) {
    if any_handlers() {
        emit_supervisor(
            CHILD_START_ERROR,
            &[("count", 1.0)],
            supervisor,
            &[
                ("child_id", Value::Str(child_id)),
                ("reason", Value::Display(reason)),
            ],
        );
    }
}

#[inline]
pub(crate) fn supervisor_gave_up(
    supervisor: Pid,
    child_id: &str,
    intensity: u32,
    period: std::time::Duration,
) {
    if any_handlers() {
        emit_supervisor(
            SUPERVISOR_GIVE_UP,
            &[
                ("intensity", f64::from(intensity)),
                ("period", period.as_secs_f64() * 1e3),
            ],
            supervisor,
            &[
                ("child_id", Value::Str(child_id)),
                ("reason", Value::Str("reached_max_restart_intensity")),
            ],
        );
    }
}
