//! Nodes: where processes live.
//!
//! A [`Node`] is what an Erlang node is to its processes: a process table, a table of
//! registered names, and an identity — a name, an id and a creation — that every pid of its
//! processes carries, so that a pid says whose it is wherever it is read (a serialized pid of
//! one node is never taken for a process of another). Registries are made for one node too.
//!
//! A program that makes no node has one: the default node ([`Node::default_node`], named
//! `nonode@nohost`, id and creation 0), and nothing about nodes needs to be said. Several nodes
//! can live in one program, each on its own tokio runtime, as separate hosts would — what a test
//! of distribution needs:
//!
//! ```
//! use otp_core::name::{register, whereis};
//! use otp_core::node::Node;
//! use otp_core::process::{is_alive, spawn};
//!
//! let (a, b) = (Node::new("a@localhost"), Node::new("b@localhost"));
//! let multi = || {
//!     let mut builder = tokio::runtime::Builder::new_multi_thread();
//!     builder.worker_threads(1).enable_all();
//!     builder
//! };
//! let (on_a, on_b) = (a.runtime(&mut multi()).unwrap(), b.runtime(&mut multi()).unwrap());
//!
//! let pid = a.block_on(&on_a, async {
//!     let pid = spawn(|_me| std::future::pending::<()>());
//!     register("worker", pid).unwrap();
//!     pid
//! });
//! // Node b has its own processes and names: a's process is not one of them.
//! b.block_on(&on_b, async {
//!     assert_eq!(whereis("worker"), None);
//!     assert!(!is_alive(pid));
//! });
//! a.block_on(&on_a, async { assert!(is_alive(pid)) });
//! ```
//!
//! Code finds its node this way: inside a process, the process's node; elsewhere, the node its
//! thread was given — every thread of a runtime made with [`Node::runtime`], or the calling
//! thread under [`Node::enter`] and [`Node::block_on`]; otherwise the default node. The
//! operations that find a process by pid or by name ([`send`](crate::name::send),
//! [`exit`](crate::process::exit), [`whereis`](crate::name::whereis),
//! [`wait_exit`](crate::process::wait_exit), ...) look in that node only: reaching a process
//! of another node is distribution's work (otp-dist), as between hosts.

pub use crate::process::core::Node;
pub use crate::process::node::{DEFAULT_NODE_NAME, NodeGuard};
