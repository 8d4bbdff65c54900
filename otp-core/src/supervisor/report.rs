//! What supervisors log, as OTP's supervisor reports: `start_error`, `child_terminated`,
//! `shutdown` with `reached_max_restart_intensity`, `shutdown_error`. Through `tracing`; each
//! report also emits its telemetry event (see [`crate::telemetry`]), as do children started.

use super::flags::SupFlags;
use super::shutdown::Stopping;
use super::spec::{ChildId, ChildStartError, Restart, Shutdown};
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::telemetry;

/// A child started: emits [`telemetry::CHILD_RESTART`] when the strategy restarted it,
/// [`telemetry::CHILD_START`] otherwise.
pub(crate) fn report_child_started(supervisor: Pid, id: &ChildId, pid: Pid, restart: bool) {
    telemetry::child_started(supervisor, id.as_str(), pid, restart);
}

/// Logs a failed start (OTP's `start_error` report).
pub(crate) fn report_start_error(supervisor: Pid, id: &ChildId, error: &ChildStartError) {
    telemetry::child_start_error(supervisor, id.as_str(), error);
    tracing::error!(
        %supervisor,
        child = %id,
        reason = %error,
        "supervisor {supervisor}: start_error: child {id} failed to start: {error}"
    );
}

/// Logs a child that ended (OTP's `child_terminated` report): an error unless the reason is
/// clean.
pub(crate) fn report_child_terminated(
    supervisor: Pid,
    id: &ChildId,
    pid: Pid,
    reason: &ExitReason,
) {
    telemetry::child_terminated(supervisor, id.as_str(), pid, reason, false);
    if reason.is_clean() {
        tracing::debug!(%supervisor, child = %id, %pid, %reason, "supervisor {supervisor}: child {id} ({pid}) ended: {reason}");
    } else {
        tracing::error!(
            %supervisor,
            child = %id,
            %pid,
            %reason,
            "supervisor {supervisor}: child_terminated: child {id} ({pid}) ended: {reason}"
        );
    }
}

/// Logs the supervisor giving up (SUP-05): OTP's `{supervisor, shutdown}` report with reason
/// `reached_max_restart_intensity`.
pub(crate) fn report_max_intensity(supervisor: Pid, id: &ChildId, flags: &SupFlags) {
    let (intensity, period) = (flags.intensity, flags.period);
    telemetry::supervisor_gave_up(supervisor, id.as_str(), intensity, period);
    tracing::error!(
        %supervisor,
        child = %id,
        reason = "reached_max_restart_intensity",
        "supervisor {supervisor}: shutdown: reached_max_restart_intensity \
         (more than {intensity} restarts in {period:?}), last restart of child {id}"
    );
}

/// Logs a child that ended otherwise than its shutdown asked (OTP's `shutdown_error`):
/// expected are `killed` for a brutal kill, `shutdown` otherwise, and for a non-permanent
/// child also `normal` and `{shutdown, _}`.
pub(crate) fn report_shutdown(supervisor: Pid, child: &Stopping, reason: &ExitReason) {
    telemetry::child_terminated(supervisor, child.id.as_str(), child.pid, reason, true);
    let expected = match reason {
        ExitReason::Killed => child.shutdown == Shutdown::BrutalKill,
        ExitReason::Shutdown => true,
        ExitReason::Normal | ExitReason::ShutdownWith(_) => child.restart != Restart::Permanent,
        // The child had already ended (its exit was flushed with its link).
        ExitReason::NoProc => true,
        _ => false,
    };
    if !expected {
        tracing::error!(
            %supervisor,
            child = %child.id,
            pid = %child.pid,
            reason = %reason,
            "supervisor {supervisor}: shutdown_error: child {} ({}) ended with {reason}",
            child.id,
            child.pid,
        );
    }
}
