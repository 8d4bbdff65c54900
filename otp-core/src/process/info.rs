//! Introspection: what the runtime can tell about its live processes.

use std::sync::Arc;

use super::core::ProcessEntry;
use super::mailbox::MailboxBound;
use super::table;
use crate::message::Name;
use crate::pid::Pid;

/// What a process is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProcessStatus {
    /// Waiting for a message in an empty mailbox.
    Waiting,
    /// Hibernating: waiting for a message with its buffers released.
    Hibernating,
    /// Runnable, running, or waiting on something other than its mailbox (a call's reply, a
    /// timer, I/O).
    Running,
}

/// A snapshot of one process.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// Its pid.
    pub pid: Pid,
    /// Its registered name, if any.
    pub name: Option<Name>,
    /// `"process"` for a plain process, the server type for a GenServer.
    pub kind: &'static str,
    /// The process that spawned it, if it was spawned from one.
    pub parent: Option<Pid>,
    /// The processes linked to it.
    pub links: Vec<Pid>,
    /// The processes it monitors.
    pub monitors: Vec<Pid>,
    /// The processes monitoring it.
    pub monitored_by: Vec<Pid>,
    /// Messages waiting in its mailbox.
    pub mailbox_len: usize,
    /// The bound of its mailbox, if it has one.
    pub mailbox_bound: Option<MailboxBound>,
    /// Messages its mailbox's overflow policy dropped.
    pub mailbox_dropped: u64,
    /// What it is doing.
    pub status: ProcessStatus,
    /// Whether it traps exits.
    pub trap_exit: bool,
}

fn snapshot(p: &Arc<dyn ProcessEntry>) -> Option<ProcessInfo> {
    let core = p.core();
    let (name, links, monitors, monitored_by) = core.read_cold(|cold| match cold {
        None => (None, Vec::new(), Vec::new(), Vec::new()),
        Some(c) => {
            let mut links: Vec<Pid> = c.links.iter().copied().collect();
            links.sort_unstable();
            let mut monitors: Vec<Pid> = c.monitoring.values().copied().collect();
            monitors.sort_unstable();
            let mut monitored_by: Vec<Pid> = c.monitored_by.values().map(|(w, _)| *w).collect();
            monitored_by.sort_unstable();
            (c.name.clone(), links, monitors, monitored_by)
        }
    })?;
    let status = match p.park_state() {
        (true, true) => ProcessStatus::Hibernating,
        (true, false) => ProcessStatus::Waiting,
        _ => ProcessStatus::Running,
    };
    Some(ProcessInfo {
        pid: core.pid,
        name,
        kind: core.kind,
        parent: core.parent,
        links,
        monitors,
        monitored_by,
        mailbox_len: p.mailbox_len(),
        mailbox_bound: p.mailbox_bound(),
        mailbox_dropped: p.mailbox_dropped(),
        status,
        trap_exit: core.traps_exits(),
    })
}

/// Every live local process, ordered by pid.
pub fn processes() -> Vec<ProcessInfo> {
    let mut all: Vec<ProcessInfo> = table::all().iter().filter_map(snapshot).collect();
    all.sort_unstable_by_key(|i| i.pid);
    all
}

/// One live local process, or `None` if it has ended.
pub fn process_info(pid: Pid) -> Option<ProcessInfo> {
    snapshot(&table::lookup(pid)?)
}

/// How many local processes there are: those alive, and those that have ended and are still
/// telling their links and monitors (as the BEAM's `process_count` counts exiting processes).
/// Once a wait for a process's exit has resolved, it is no longer counted. Cheap: does not
/// take a snapshot.
pub fn process_count() -> usize {
    table::len()
}
