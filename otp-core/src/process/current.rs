//! What this thread is running: the process being polled, if any, and the node that code
//! outside processes works on.

use std::cell::Cell;

use super::core::Node;
use crate::pid::Pid;

struct Current {
    /// The process whose task is being polled on this thread.
    pid: Cell<Option<Pid>>,
    /// The node of that process; outside processes, the node this thread was given (by a node's
    /// runtime, or [`Node::enter`](crate::node::Node::enter)); `None` for the default node.
    node: Cell<Option<Node>>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            pid: Cell::new(None),
            node: Cell::new(None),
        }
    };
}

/// The process whose task is being polled on this thread, if any.
#[inline]
pub(crate) fn pid() -> Option<Pid> {
    CURRENT.with(|c| c.pid.get())
}

/// The node this thread works on, if it was given one.
#[inline]
pub(super) fn node() -> Option<Node> {
    CURRENT.with(|c| c.node.get())
}

/// Marks `pid` of `node` as the running process until the guard drops.
#[inline]
pub(crate) fn enter(pid: Pid, node: Node) -> Guard {
    CURRENT.with(|c| Guard {
        pid: c.pid.replace(Some(pid)),
        node: c.node.replace(Some(node)),
    })
}

/// Sets the node of this thread until the guard drops (no process running).
pub(super) fn enter_node(node: Node) -> Guard {
    CURRENT.with(|c| Guard {
        pid: c.pid.replace(None),
        node: c.node.replace(Some(node)),
    })
}

/// Sets the node of this thread for good: a thread of a node's runtime.
pub(super) fn set_node(node: Option<Node>) {
    CURRENT.with(|c| c.node.set(node));
}

/// Restores what ran before, when dropped.
pub(crate) struct Guard {
    pid: Option<Pid>,
    node: Option<Node>,
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| {
            c.pid.set(self.pid);
            c.node.set(self.node);
        });
    }
}
