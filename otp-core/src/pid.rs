//! Process identifiers.
//!
//! A [`Pid`] names one process for its whole life and never again: the serial comes from a counter
//! that is never reused, so a stale `Pid` can never reach a newer process. A pid also carries the
//! node it lives on and that node's *creation* (its incarnation), so that a pid from a restarted
//! node is told apart from one of the same serial before the restart.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The identifier of a process: node, serial and the node's creation.
///
/// `Pid` is small, `Copy`, ordered and hashable, and serializable, so it can travel in messages
/// and across nodes. It is printed as Erlang prints pids: `<node.serial.creation>`; the local node
/// is node `0`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pid {
    node: u32,
    creation: u32,
    serial: u64,
}

/// The node number of the local node in a [`Pid`].
pub const LOCAL_NODE: u32 = 0;

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

impl Pid {
    /// A fresh local pid, never handed out before.
    pub(crate) fn next_local() -> Pid {
        Pid {
            node: LOCAL_NODE,
            creation: 0,
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Builds a pid from its parts. The distribution layer uses this for pids of other nodes;
    /// a pid built here for the local node only reaches a process if that process has this serial.
    pub const fn from_parts(node: u32, serial: u64, creation: u32) -> Pid {
        Pid {
            node,
            creation,
            serial,
        }
    }

    /// The node this process lives on (`0` is the local node).
    pub const fn node(&self) -> u32 {
        self.node
    }

    /// The serial of the process on its node.
    pub const fn serial(&self) -> u64 {
        self.serial
    }

    /// The creation (incarnation) of the node when the process was spawned.
    pub const fn creation(&self) -> u32 {
        self.creation
    }

    /// Whether the process lives on this node.
    pub const fn is_local(&self) -> bool {
        self.node == LOCAL_NODE && self.creation == 0
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}.{}.{}>", self.node, self.serial, self.creation)
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pid{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_are_unique_and_print_like_erlang() {
        let a = Pid::next_local();
        let b = Pid::next_local();
        assert_ne!(a, b);
        assert!(a < b);
        assert!(a.is_local());
        assert_eq!(a.to_string(), format!("<0.{}.0>", a.serial()));
        let remote = Pid::from_parts(3, 7, 2);
        assert!(!remote.is_local());
        assert_eq!(format!("{remote:?}"), "Pid<3.7.2>");
    }

    #[test]
    fn pid_round_trips_through_serde() {
        let p = Pid::from_parts(1, 42, 9);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Pid>(&json).unwrap(), p);
    }
}
