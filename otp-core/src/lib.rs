//! # otp-core
//!
//! Erlang/OTP's process model for tokio: lightweight isolated processes with mailboxes, links,
//! monitors and exit signals; names and an Elixir-style registry; timers; the `GenServer`
//! behaviour with typed calls and casts; supervision trees, tasks and applications; nodes.
//!
//! Each item has one path, in the module of its concept:
//!
//! | module | what it holds |
//! |---|---|
//! | [`process`] | [`Pid`](process::Pid), [`spawn`](process::spawn) and friends, [`Process`](process::Process) and [`Myself`](process::Myself), [`exit`](process::exit), links and monitors, [`ExitReason`](process::ExitReason), the messages a process gets ([`Info`](process::Info)), mailbox bounds, introspection |
//! | [`node`] | [`Node`](node::Node): a process table, names and an identity; several can live in one program |
//! | [`name`] | [`register`](name::register), [`whereis`](name::whereis), [`send`](name::send): names and untyped messages |
//! | [`timer`] | [`send_after`](timer::send_after), [`send_interval`](timer::send_interval), [`cancel_timer`](timer::cancel_timer) |
//! | [`registry`] | [`Registry`](registry::Registry): unique and duplicate keys, dispatch, `via` names |
//! | [`gen_server`] | [`GenServer`](gen_server::GenServer) (the trait, and with the default feature `macros` its derive and `#[handlers]`), [`ServerRef`](gen_server::ServerRef), [`Context`](gen_server::Context), [`ServerHandle`](gen_server::ServerHandle) |
//! | [`supervisor`] | [`Supervisor`](supervisor::Supervisor), [`DynamicSupervisor`](supervisor::DynamicSupervisor), [`ChildSpec`](supervisor::ChildSpec), [`SupervisorHandle`](supervisor::SupervisorHandle) |
//! | [`task`] | [`Task`](task::Task), [`TaskSupervisor`](task::TaskSupervisor), [`async_stream`](task::async_stream) |
//! | [`application`] | [`Application`](application::Application): a tree run as a program, stopped on SIGINT/SIGTERM |
//! | [`telemetry`] | the runtime's own events on the `otp-telemetry` bus, and a poller |
//!
//! The facade crate `otp` re-exports these modules and adds a prelude of the names most
//! programs need.
//!
//! Behaviours cite the numbered items of the project's conformance checklist (`P-xx` for
//! processes, `GS-xx` for GenServer, `REG-xx` for Registry, `SUP-xx` for Supervisor, `DS-xx` for
//! DynamicSupervisor, `T-xx` for Task); `CONFORMANCE.md` at the repository root lists each one
//! with the tests that check it and where this crate differs from Erlang/OTP and Elixir.
//!
//! ```
//! use otp_core::name::send;
//! use otp_core::process::{Info, spawn};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (tx, rx) = tokio::sync::oneshot::channel();
//! let pid = spawn(move |mut me| async move {
//!     if let Info::Message(m) = me.recv().await {
//!         let _ = tx.send(m.downcast::<&str>().unwrap());
//!     }
//! });
//! send(pid, "hello").unwrap();
//! assert_eq!(rx.await.unwrap(), "hello");
//! # }
//! ```

pub mod application;
mod exit;
pub mod gen_server;
mod message;
pub mod name;
pub mod node;
mod pid;
pub mod process;
pub mod registry;
pub mod supervisor;
pub mod task;
pub mod telemetry;
pub mod timer;

// The macros generate a call to this one, with the runtime's path.
#[cfg(feature = "macros")]
#[doc(hidden)]
pub use otp_macros::__expand_handlers;

// The code `#[derive(GenServer)]` generates in this package (in its tests, doctests and
// examples, and in this lib) names the runtime `::otp_core`: this makes that path name this
// crate in its own code too (see `gen_server::derive_support`'s test).
#[allow(unused_extern_crates)]
extern crate self as otp_core;
