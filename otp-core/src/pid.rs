//! Process identifiers.
//!
//! A [`Pid`] names one process for its whole life and never again: the serial comes from its
//! node's counter, never reused, so a stale `Pid` can never reach a newer process. A pid also
//! carries the node it lives on and that node's *creation* (its incarnation), so that it still
//! says whose it is once serialized and read elsewhere, and a pid from a restarted node is told
//! apart from one of the same serial before the restart.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The identifier of a process: its node, its serial on that node, and the node's creation.
///
/// `Pid` is small, `Copy`, ordered and hashable, and serializable, so it can travel in messages
/// and across nodes. The node is the [`Node`](crate::node::Node)'s id (`0` for the default node
/// of a program that names none, any other number for a named node, derived from its name), and
/// the creation is that node's incarnation (`0` for the default node, random for a named one):
/// together they tell, wherever the pid is read, which node it belongs to. It is printed as
/// Erlang prints pids, `<node.serial.creation>`: `<0.42.0>` for a process of the default node.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pid {
    node: u32,
    creation: u32,
    serial: u64,
}

impl Pid {
    /// Builds a pid from its parts. The distribution layer uses this for pids of other nodes;
    /// a pid built here for a local node only reaches a process if that process has this serial.
    pub const fn from_parts(node: u32, serial: u64, creation: u32) -> Pid {
        Pid {
            node,
            creation,
            serial,
        }
    }

    /// The id of the node this process lives on (`0`: the default node).
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
    fn pids_print_like_erlang() {
        assert_eq!(Pid::from_parts(0, 42, 0).to_string(), "<0.42.0>");
        let remote = Pid::from_parts(3, 7, 2);
        assert_eq!(format!("{remote:?}"), "Pid<3.7.2>");
        assert!(Pid::from_parts(0, 1, 0) < Pid::from_parts(0, 2, 0));
    }

    #[test]
    fn pid_round_trips_through_serde() {
        let p = Pid::from_parts(1, 42, 9);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Pid>(&json).unwrap(), p);
    }
}
