//! Distribution for otp-core: nodes that connect to each other, and processes that send, call,
//! cast, link, monitor and exit across them with the semantics they have on one node.
//!
//! ```no_run
//! use otp_dist::DistNode;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let a = DistNode::builder("a@127.0.0.1:4370").cookie("secret").start().await?;
//! a.connect("b@127.0.0.1:4371").await?;              // Node.connect/1
//! let mut events = a.monitor_nodes();                 // NodeUp / NodeDown{reason}
//! let _on_a = a.node().enter();                       // code here runs on node a
//! otp_core::name::send(otp_core::name::Dest::remote("counter", "b@127.0.0.1:4371"), 1u64)?;
//! # drop(events.recv()); Ok(()) }
//! ```
//!
//! # What a user gets
//!
//! A [`DistNode`] is an otp-core [`Node`](otp_core::node::Node) that listens, with a name
//! `name@host:port` (the address is part of the name: there is no port mapper), a cookie, and a
//! tick time. Its processes reach the processes of the nodes it connects to — explicitly with
//! [`DistNode::connect`], or on demand at the first send to `{name, node}` — through the router
//! it installs in its node (see [`otp_core::process::remote`]): everything that works on a local
//! pid works on a remote one, through the same functions (`send`, `link`, `monitor`, `exit`,
//! `trap_exit`, a `ServerRef`'s calls and casts), and the exit-reason matrix, a monitor's single
//! `Down` and trapping exits hold unchanged.
//!
//! When a connection is lost (the peer's process died, the network cut, nothing heard for the
//! tick time), every link and monitor across it fires `noconnection`, once, on both sides; every
//! call in flight returns `noconnection` at once; [`monitor_nodes`](DistNode::monitor_nodes)
//! subscribers get `NodeDown` with the reason.
//!
//! # Which node code runs on
//!
//! Processes belong to the node they were spawned on, and the processes they spawn too. Code
//! outside processes acts on the node of its thread: [`Node::enter`](otp_core::node::Node::enter)
//! (a guard, for the thread that holds it), a runtime built by
//! [`Node::runtime`](otp_core::node::Node::runtime) (every thread of it), or else the default node,
//! which is not distributed. A `ServerRef` to a server of another node, used from code on no
//! distributed node, goes through the node it was made on. A program that is one node spawns its
//! processes under `dist.node().enter()`, or from a process of the node.
//!
//! # Typed servers
//!
//! A `#[derive(GenServer)]` server with `#[gen_server(remote)]` (its calls, casts and replies
//! serde) can be addressed from other nodes: `ServerRef::<S>::remote(name, node).await` finds it,
//! and its generated client works on that reference unchanged. Its requests are decoded into its
//! own message types on its node, so no registry of types is needed. A server without the
//! attribute cannot be addressed from another node: that is a compile error.
//!
//! # The layers
//!
//! - [`transport`]: listen and dial — TCP, an in-memory network, or any stream (tests plug a
//!   simulated network in here);
//! - [`frame`]: length-prefixed frames with limits checked before allocating, cut into pieces of
//!   at most 64 KiB, and ticks;
//! - [`handshake`]: HMAC-SHA256 challenge and response over both nonces and the transcript, the
//!   initiator proving first, under a deadline;
//! - connections: one per node pair, an outbound queue written in batches and bounded (a send
//!   that finds it full is refused as busy), ticks and the down window, the table of what
//!   crosses it;
//! - the node service: connect and accept, simultaneous connects settled as Erlang does (the
//!   connection started by the greater name is kept), node events;
//! - [`messages`]: the types that may travel as untyped info messages, under stable tags.
//!
//! # Where it differs from Erlang
//!
//! - The handshake is HMAC-SHA256 over 32-byte nonces, not MD5 over 32-bit challenges; it is
//!   not compatible with the BEAM's distribution.
//! - A node's address is in its name; there is no EPMD.
//! - A send or cast to a connection whose queue is over its bound is refused (`SendError::Busy`,
//!   `CastError::Busy`) rather than suspending the sender: they are not `async`.
//!   `ServerRef::cast_wait` is the suspending form: it waits until the connection's writer has
//!   taken the queue.
//! - No TLS yet: run distribution on a trusted network, as Erlang's default.
//! - Connections are not transitive (no full mesh), there are no hidden nodes, no `monitor_node`
//!   for one node (watch [`monitor_nodes`](DistNode::monitor_nodes)), no rpc, no remote spawn;
//!   `global` names and `pg` groups are to come.
//! - A message over the maximum frame size (8 MiB by default) is refused to its sender.

pub mod events;
pub mod frame;
pub mod handshake;
pub mod messages;
pub mod transport;

mod connection;
mod node;
mod proto;
mod router;

pub use connection::PeerStats;
pub use events::{DownReason, NodeEvent};
pub use node::{
    ConnectError, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_OUTBOUND_LIMIT, DEFAULT_TICK_TIME,
    DistBuilder, DistNode, StartError,
};
