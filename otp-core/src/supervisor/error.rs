//! The errors of supervisors: bad specs and flags, failed starts, refused management calls.

use crate::exit::ExitReason;
use crate::gen_server::{CallError, StartError};
use crate::pid::Pid;

use super::check::SpecError;
use super::spec::{ChildId, ChildStartError};

/// Why a supervisor did not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorStartError {
    /// Its flags or a child spec are invalid (Erlang's `{start_spec, _}` and
    /// `{supervisor_data, _}`); no process was started.
    #[error("invalid supervisor spec: {0}")]
    InvalidSpec(SpecError),
    /// A child failed to start (SUP-19); the children started before it were stopped, in
    /// reverse order. Erlang's `{shutdown, {failed_to_start_child, Id, Reason}}`.
    #[error("failed to start child {id}: {reason}")]
    ChildFailed {
        /// The child that failed.
        id: ChildId,
        /// Why.
        reason: ChildStartError,
    },
    /// The supervisor's name is held by this process.
    #[error("already started: {0}")]
    AlreadyStarted(Pid),
    /// The supervisor's process ended while it started its children (it was killed).
    #[error("the supervisor exited while starting: {0}")]
    Exited(ExitReason),
    /// The start took longer than the start timeout given in its options.
    #[error("the supervisor start timed out")]
    Timeout,
}

impl SupervisorStartError {
    /// The failure as an exit reason, for a supervisor started as the child of another:
    /// `{shutdown, failed_to_start_child ...}` for a child that failed, as in OTP.
    pub fn to_exit_reason(&self) -> ExitReason {
        match self {
            SupervisorStartError::ChildFailed { .. } => ExitReason::shutdown_with(self),
            SupervisorStartError::Exited(reason) => reason.clone(),
            other => ExitReason::error(other),
        }
    }

    pub(crate) fn from_start(e: StartError) -> Self {
        match e {
            StartError::AlreadyStarted(pid) => SupervisorStartError::AlreadyStarted(pid),
            StartError::Stopped(reason) => SupervisorStartError::Exited(reason),
            StartError::Timeout => SupervisorStartError::Timeout,
            // A supervisor's init never ignores its start.
            other => SupervisorStartError::Exited(ExitReason::error(other)),
        }
    }
}

impl From<SpecError> for SupervisorStartError {
    fn from(e: SpecError) -> Self {
        SupervisorStartError::InvalidSpec(e)
    }
}

/// Why a supervisor refused or failed a management call (`start_child`, `terminate_child`,
/// `restart_child`, `delete_child`, `get_childspec`, `which_children`, `count_children`). The
/// variants are OTP's error terms; each call's docs say which it returns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// No child with this id (or, under a dynamic supervisor, this pid): `not_found`.
    #[error("no such child")]
    NotFound,
    /// The child is running, so it cannot be restarted or deleted: `running`.
    #[error("the child is running")]
    Running,
    /// The child is being restarted (a restart failed and is retried, or a backoff delays it):
    /// `restarting`.
    #[error("the child is being restarted")]
    Restarting,
    /// A child with this id runs already, with this pid: `{already_started, Pid}`.
    #[error("a child with this id is already started: {0}")]
    AlreadyStarted(Pid),
    /// A child with this id exists, not running: `already_present` (restart or delete it).
    #[error("a child with this id is already present")]
    AlreadyPresent,
    /// The child's start function failed; nothing was stored (SUP-22, DS-02).
    #[error("the child failed to start: {0}")]
    StartFailed(ChildStartError),
    /// The child spec is invalid.
    #[error("invalid child spec: {0}")]
    InvalidSpec(SpecError),
    /// The dynamic supervisor has `max_children` children already (DS-02).
    #[error("the supervisor has reached max_children")]
    MaxChildren,
    /// The supervisor is not running: `noproc`.
    #[error("the supervisor is not running")]
    NoProc,
    /// The supervisor exited during the call.
    #[error("the supervisor exited during the call: {0}")]
    Exited(ExitReason),
    /// A supervisor's own child called it while it was starting that child (from its start
    /// function, or from inside the supervisor), which could never be answered.
    #[error("a supervisor cannot call itself")]
    CallingSelf,
}

impl From<CallError> for SupervisorError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::NoProc => SupervisorError::NoProc,
            CallError::CallingSelf => SupervisorError::CallingSelf,
            CallError::Exited(reason) => SupervisorError::Exited(reason),
            // Management calls have no timeout, supervisors no bounded mailbox, and a call is
            // answered with its own reply type (`WrongReply` cannot happen: see management.rs).
            other => SupervisorError::Exited(ExitReason::error(other)),
        }
    }
}
