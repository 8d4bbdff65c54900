//! The peer nodes of the `cluster` example: a node run as an OS process of its own — the
//! example's binary started with `--peer NAME` — driven over its stdin and reporting on its
//! stdout, one line per command and per event, its logs on stderr. The example launches two of
//! them; its tests (`tests/cluster.rs`, `tests/cluster_faults.rs`) launch them too, to kill and
//! stop real node processes.
//!
//! Why lines on pipes and not distribution itself: what is being shown and tested is how nodes
//! fare when one is killed or frozen, which breaks their connections; what a peer saw must reach
//! its parent by another way (and the parent must be able to tell it what to do next).
//!
//! - [`Mode`] and [`PeerArgs`]: the example's command line, checked, with a typed error
//!   ([`ArgsError`]) for anything it does not understand.
//! - [`Command`] and [`Event`]: the line protocol (a keyword, then fields separated by single
//!   spaces, free text last), written with `Display` and read with `FromStr` ([`ProtocolError`]).
//! - [`Peer`]: the parent's handle on one peer process. It launches the process and waits for
//!   the name its node bound (the peer listens on port 0, so there is no port to collide with),
//!   sends commands, waits for events — every wait with a deadline and a typed error
//!   ([`PeerError`]), never a hang — signals it (`kill -9`, SIGSTOP, SIGCONT), stops it, and,
//!   when dropped, kills and reaps it: no peer outlives a parent that returns early or panics.
//!   A peer also stops when its stdin closes, so a parent killed with `kill -9` (whose `Drop`
//!   never runs) takes its peers with it.
//!
//! ```text
//! parent                          peer b (cluster --peer b --cookie ..)
//!   launch ──────────────────────▶  starts b@127.0.0.1:0, binds a free port
//!          ◀────────────────────── up b@127.0.0.1:40123
//!   connect c@127.0.0.1:40124 ───▶
//!          ◀────────────────────── node-up c@127.0.0.1:40124
//!          ◀────────────────────── connected c@127.0.0.1:40124
//!   (stdin closed, or `stop`) ───▶  stops its node, exits 0
//! ```
//!
//! Its files: `args.rs` (the command line), `protocol.rs` (the lines), `peer.rs` (the parent's
//! handle).

mod args;
mod peer;
mod protocol;

pub use args::{ArgsError, DEFAULT_TICK, Mode, PeerArgs, USAGE, parse_args};
pub use peer::{Peer, PeerError, Signal, example_binary};
pub use protocol::{Command, Event, Problem, ProtocolError};
