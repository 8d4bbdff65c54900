//! What distribution reports: node events to [`monitor_nodes`](crate::DistNode::monitor_nodes)
//! subscribers, and telemetry events on the `otp-telemetry` bus.
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | [`NODE_UP`] | `count` | `node` |
//! | [`NODE_DOWN`] | `count` | `node`, `reason` |
//! | [`HANDSHAKE_FAILED`] | `count` | `node` (if known), `side` (`initiator`/`acceptor`), `reason` |
//! | [`FRAME_REFUSED`] | `count` | `node`, `reason` |
//! | [`MESSAGE_REFUSED`] | `count` | `node`, `tag`, `reason` |
//! | [`PEER_OUT`] | `bytes`, `frames` (one write) | `node` |
//! | [`PEER_IN`] | `bytes`, `frames` (one frame, or the frames of a burst of casts) | `node` |
//!
//! `frames` counts messages: a frame each, but a run frame of casts to one pid one per cast.
//! | [`OUTBOUND_OVER_THRESHOLD`] | `bytes` | `node` |
//!
//! Each costs one atomic load while no handler is attached.

use std::fmt;

use otp_telemetry::{Value, any_handlers, execute};

/// A node came up (its handshake succeeded).
pub const NODE_UP: &[&str] = &["otp", "dist", "node", "up"];
/// A node went down.
pub const NODE_DOWN: &[&str] = &["otp", "dist", "node", "down"];
/// A handshake failed, on either side.
pub const HANDSHAKE_FAILED: &[&str] = &["otp", "dist", "handshake", "failed"];
/// A frame was refused (oversized, malformed, unknown): its connection is closed.
pub const FRAME_REFUSED: &[&str] = &["otp", "dist", "frame", "refused"];
/// A message arrived that does not decode, or whose type tag is not registered here: it is
/// dropped, the connection stays.
pub const MESSAGE_REFUSED: &[&str] = &["otp", "dist", "message", "refused"];
/// Bytes and frames written to a peer, per write.
pub const PEER_OUT: &[&str] = &["otp", "dist", "peer", "out"];
/// Bytes and frames read from a peer, per frame.
pub const PEER_IN: &[&str] = &["otp", "dist", "peer", "in"];
/// A connection's outbound queue grew over its threshold.
pub const OUTBOUND_OVER_THRESHOLD: &[&str] = &["otp", "dist", "outbound", "over_threshold"];

/// Why a node went down.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownReason {
    /// Nothing was read from it for the tick time.
    TickTimeout,
    /// The connection closed or failed (the other side closed it, or the network did).
    ConnectionClosed,
    /// This node disconnected it ([`DistNode::disconnect`](crate::DistNode::disconnect)).
    Disconnected,
    /// The connection was being set up and its handshake failed: the node never came up.
    HandshakeFailed(String),
    /// It sent a frame this node refuses (oversized, malformed, unknown): the reason.
    FrameRefused(String),
}

impl DownReason {
    /// A short fixed string, fit for a metric tag.
    pub fn kind(&self) -> &'static str {
        match self {
            DownReason::TickTimeout => "tick_timeout",
            DownReason::ConnectionClosed => "connection_closed",
            DownReason::Disconnected => "disconnected",
            DownReason::HandshakeFailed(_) => "handshake_failed",
            DownReason::FrameRefused(_) => "frame_refused",
        }
    }
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::HandshakeFailed(why) => write!(f, "handshake failed: {why}"),
            DownReason::FrameRefused(why) => write!(f, "frame refused: {why}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// What [`monitor_nodes`](crate::DistNode::monitor_nodes) reports (Erlang's `nodeup` and
/// `nodedown` messages).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeEvent {
    /// A connection to the node is up.
    NodeUp {
        /// The node's name.
        node: String,
    },
    /// The connection to the node is gone.
    NodeDown {
        /// The node's name.
        node: String,
        /// Why.
        reason: DownReason,
    },
}

pub(crate) fn node_up(node: &str) {
    if any_handlers() {
        execute(NODE_UP, &[("count", 1.0)], &[("node", Value::Str(node))]);
    }
}

pub(crate) fn node_down(node: &str, reason: &DownReason) {
    if any_handlers() {
        execute(
            NODE_DOWN,
            &[("count", 1.0)],
            &[
                ("node", Value::Str(node)),
                ("reason", Value::Str(reason.kind())),
                ("detail", Value::Display(reason)),
            ],
        );
    }
}

pub(crate) fn handshake_failed(
    node: Option<&str>,
    side: &'static str,
    reason: &(dyn fmt::Display + Sync),
) {
    if any_handlers() {
        execute(
            HANDSHAKE_FAILED,
            &[("count", 1.0)],
            &[
                ("node", Value::Str(node.unwrap_or(""))),
                ("side", Value::Str(side)),
                ("reason", Value::Display(reason)),
            ],
        );
    }
}

pub(crate) fn frame_refused(node: &str, reason: &(dyn fmt::Display + Sync)) {
    if any_handlers() {
        execute(
            FRAME_REFUSED,
            &[("count", 1.0)],
            &[
                ("node", Value::Str(node)),
                ("reason", Value::Display(reason)),
            ],
        );
    }
}

pub(crate) fn message_refused(node: &str, tag: &str, reason: &(dyn fmt::Display + Sync)) {
    if any_handlers() {
        execute(
            MESSAGE_REFUSED,
            &[("count", 1.0)],
            &[
                ("node", Value::Str(node)),
                ("tag", Value::Str(tag)),
                ("reason", Value::Display(reason)),
            ],
        );
    }
}

#[inline]
pub(crate) fn peer_io(event: &'static [&'static str], node: &str, bytes: usize, frames: u64) {
    if any_handlers() {
        execute(
            event,
            &[("bytes", bytes as f64), ("frames", frames as f64)],
            &[("node", Value::Str(node))],
        );
    }
}

pub(crate) fn outbound_over_threshold(node: &str, bytes: usize) {
    if any_handlers() {
        execute(
            OUTBOUND_OVER_THRESHOLD,
            &[("bytes", bytes as f64)],
            &[("node", Value::Str(node))],
        );
    }
}
