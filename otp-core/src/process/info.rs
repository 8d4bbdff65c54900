//! Introspection: what the runtime can tell about its live processes.

use std::sync::Arc;

use super::bound::MailboxBound;
use super::core::{Node, ProcessEntry};
use super::kind::ProcessKind;
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

/// What a process publishes about itself for [`process_info`]: read only when a snapshot is
/// taken, so keeping it current should cost the process no more than a few relaxed stores.
pub trait ProcessDetails: Send + Sync + 'static {
    /// `(key, value)` pairs, in a stable order.
    fn details(&self) -> Vec<(&'static str, String)>;
}

/// A snapshot of one process.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// Its pid.
    pub pid: Pid,
    /// Its registered name, if any.
    pub name: Option<Name>,
    /// A plain process, a GenServer (with its type), or a supervisor.
    pub kind: ProcessKind,
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
    /// What the process says of itself, if it published a [`ProcessDetails`]
    /// (`Myself::set_details`): `(key, value)` pairs, such as a GenStage's kind, buffered count
    /// and subscriptions. Empty for most processes.
    pub details: Vec<(&'static str, String)>,
    /// Whether it traps exits.
    pub trap_exit: bool,
}

fn snapshot(p: &Arc<dyn ProcessEntry>) -> Option<ProcessInfo> {
    let core = p.core();
    let relations = core.relations()?;
    let status = match p.park_state() {
        (true, true) => ProcessStatus::Hibernating,
        (true, false) => ProcessStatus::Waiting,
        _ => ProcessStatus::Running,
    };
    Some(ProcessInfo {
        pid: core.pid,
        name: relations.name,
        kind: core.kind(),
        parent: core.parent,
        links: relations.links,
        monitors: relations.monitors,
        monitored_by: relations.monitored_by,
        mailbox_len: p.mailbox_len(),
        mailbox_bound: p.mailbox_bound(),
        mailbox_dropped: p.mailbox_dropped(),
        status,
        details: relations.details.map(|d| d.details()).unwrap_or_default(),
        trap_exit: core.traps_exits(),
    })
}

/// Every live process of the calling code's node, ordered by pid.
pub fn processes() -> Vec<ProcessInfo> {
    let mut all: Vec<ProcessInfo> = Node::current().all().iter().filter_map(snapshot).collect();
    all.sort_unstable_by_key(|i| i.pid);
    all
}

/// One live process of the calling code's node, or `None` if it has ended (or is not one of
/// this node's).
pub fn process_info(pid: Pid) -> Option<ProcessInfo> {
    snapshot(&Node::current().lookup(pid)?)
}

/// How many local processes there are: those alive, and those that have ended and are still
/// telling their links and monitors (as the BEAM's `process_count` counts exiting processes).
/// Once a wait for a process's exit has resolved, it is no longer counted. Cheap: does not
/// take a snapshot.
pub fn process_count() -> usize {
    Node::current().process_count()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl ProcessDetails for Fixed {
        fn details(&self) -> Vec<(&'static str, String)> {
            vec![("role", "test".to_owned())]
        }
    }

    /// A process that publishes details shows them in its snapshot; others show none.
    #[tokio::test]
    async fn published_details_show_in_process_info() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let pid = crate::process::spawn(move |p| async move {
            p.set_details(Arc::new(Fixed));
            let _ = rx.await;
        });
        let plain = crate::process::spawn(|_| std::future::pending::<()>());
        // The body runs once the process is scheduled.
        for _ in 0..100 {
            if process_info(pid).is_some_and(|i| !i.details.is_empty()) {
                break;
            }
            tokio::task::yield_now().await;
        }
        let info = process_info(pid).unwrap();
        assert_eq!(info.details, vec![("role", "test".to_owned())]);
        assert!(process_info(plain).unwrap().details.is_empty());
        let _ = tx.send(());
        crate::process::exit(plain, crate::process::ExitReason::Kill);
    }
}
