//! What supervisors log, as OTP's supervisor reports: `start_error`, `child_terminated`,
//! `shutdown` with `reached_max_restart_intensity`, `shutdown_error`. Through `tracing`; each
//! report also emits its telemetry event (see [`crate::telemetry`]), as do children started.

use super::events;
use super::flags::SupFlags;
use super::spec::{ChildId, ChildStartError};
use crate::exit::ExitReason;
use crate::pid::Pid;

/// A child started: emits [`CHILD_RESTART`](events::CHILD_RESTART) when the strategy restarted it,
/// [`CHILD_START`](events::CHILD_START) otherwise.
pub(crate) fn report_child_started(supervisor: Pid, id: &ChildId, pid: Pid, restart: bool) {
    events::child_started(supervisor, id.as_str(), pid, restart);
}

/// Logs a failed start (OTP's `start_error` report).
pub(crate) fn report_start_error(supervisor: Pid, id: &ChildId, error: &ChildStartError) {
    events::child_start_error(supervisor, id.as_str(), error);
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
    events::child_terminated(supervisor, id.as_str(), pid, reason, false);
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
    events::supervisor_gave_up(supervisor, id.as_str(), intensity, period);
    tracing::error!(
        %supervisor,
        child = %id,
        reason = "reached_max_restart_intensity",
        "supervisor {supervisor}: shutdown: reached_max_restart_intensity \
         (more than {intensity} restarts in {period:?}), last restart of child {id}"
    );
}
