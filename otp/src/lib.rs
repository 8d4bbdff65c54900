//! # otp
//!
//! Erlang/OTP's fault-tolerance model for Rust, on tokio. This facade re-exports the crates of
//! the workspace; depend on it, or on the one crate you need.
//!
//! | crate | what |
//! |---|---|
//! | [`otp-core`](otp_core) | processes, links, monitors, names, `Registry`, timers, `GenServer`, supervisors, tasks, applications |
//! | [`otp-telemetry`](telemetry) | the event bus, metrics, the poller, the `tracing` bridge (feature `telemetry`, on by default; its Prometheus endpoint with feature `prometheus`); the runtime's own events are listed in [`core::telemetry`] |
//! | `otp-macros` | [`#[derive(GenServer)]`](macro@GenServer) and [`#[handlers]`](macro@handlers), re-exported through `otp-core` |
//!
//! A server is a struct for its state and an impl block of handlers; the macros generate its
//! message types, its `GenServer` impl, its start functions and a typed client (the trait
//! `GreeterClient` here, implemented for `ServerRef<Greeter>`). The guide is on
//! [`#[derive(GenServer)]`](macro@GenServer).
//!
//! ```
//! use otp::prelude::*;
//!
//! #[derive(GenServer)]
//! struct Greeter {
//!     greeting: String,
//! }
//!
//! #[handlers]
//! impl Greeter {
//!     #[init]
//!     fn init(greeting: String) -> Self {
//!         Greeter { greeting }
//!     }
//!
//!     #[call]
//!     fn greet(&self, who: String) -> String {
//!         format!("{}, {who}", self.greeting)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let greeter = Greeter::start("hello".into()).await.unwrap();
//! assert_eq!(greeter.greet("world".into()).await.unwrap(), "hello, world");
//! # }
//! ```
//!
//! Beneath the macros is the trait [`GenServer`](trait@GenServer), which you can implement by
//! hand for full control: your own message types, and each callback's [`Init`], [`CallResult`]
//! or [`Action`] result. The [`gen_server`] module shows the hand-written form.

pub use otp_core as core;
pub use otp_core::*;
/// The event bus: `attach`, `execute`, spans, metrics, the poller (crate `otp-telemetry`, feature `telemetry`).
#[cfg(feature = "telemetry")]
pub use otp_telemetry as telemetry;

/// The names most programs need, in one import.
pub mod prelude {
    pub use otp_core::{
        Action, Application, CallError, CallResult, ChildSpec, Context, DynamicOptions,
        DynamicSupervisor, ExitReason, GenServer, IdleTimeout, Info, Init, Pid, Process, ReplyThen,
        ReplyTo, Restart, ServerRef, Shutdown, StartOptions, SupFlags, Supervisor, Task, call,
        cast, exit, handle_continue, handlers, info, init, send, spawn, spawn_link, terminate,
    };
}
