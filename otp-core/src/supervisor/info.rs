//! What a supervisor tells about its children: `which_children` and `count_children`.

use super::spec::{ChildId, ChildType};
use crate::pid::Pid;

/// Where a child is (Erlang's `Child` in `which_children`: a pid, `restarting` or `undefined`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChildStatus {
    /// Running, with this pid.
    Running(Pid),
    /// Being restarted: a restart failed and is retried, or a restart backoff delays it.
    Restarting,
    /// Not running: its start was ignored, it ended and was not restarted, or it was
    /// terminated with `terminate_child` (Erlang's `undefined`).
    NotRunning,
}

impl ChildStatus {
    /// The pid, if running.
    pub fn pid(self) -> Option<Pid> {
        match self {
            ChildStatus::Running(pid) => Some(pid),
            ChildStatus::Restarting | ChildStatus::NotRunning => None,
        }
    }
}

/// One child, as `which_children` lists it (SUP-26, DS-05).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildInfo {
    /// Its id. (Under a dynamic supervisor, ids mean nothing to the supervisor and need not be
    /// unique — OTP shows `undefined` — but the spec's id is given as is.)
    pub id: ChildId,
    /// Where it is.
    pub status: ChildStatus,
    /// Worker or supervisor.
    pub kind: ChildType,
}

impl ChildInfo {
    pub(crate) fn new(id: ChildId, status: ChildStatus, kind: ChildType) -> Self {
        ChildInfo { id, status, kind }
    }

    /// The child's pid, if it is running.
    pub fn pid(&self) -> Option<Pid> {
        self.status.pid()
    }
}

/// The counts `count_children` returns (SUP-27, DS-05): Elixir's
/// `%{specs:, active:, supervisors:, workers:}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ChildCounts {
    /// All children, running or not.
    pub specs: usize,
    /// Children running (alive), not counting those being restarted.
    pub active: usize,
    /// Children that are supervisors, running or not.
    pub supervisors: usize,
    /// Children that are workers, running or not.
    pub workers: usize,
}

impl ChildCounts {
    /// The counts as OTP's test suite writes them: `[specs, active, supervisors, workers]`.
    pub fn as_array(&self) -> [usize; 4] {
        [self.specs, self.active, self.supervisors, self.workers]
    }

    pub(crate) fn add(&mut self, kind: ChildType, active: bool) {
        self.specs += 1;
        if active {
            self.active += 1;
        }
        match kind {
            ChildType::Worker => self.workers += 1,
            ChildType::Supervisor => self.supervisors += 1,
        }
    }
}
