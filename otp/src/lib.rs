//! # otp
//!
//! Erlang/OTP's fault-tolerance model for Rust, on tokio. This facade re-exports the crates of
//! the workspace; depend on it, or on the one crate you need.
//!
//! | crate | what |
//! |---|---|
//! | [`otp-core`](otp_core) | processes, links, monitors, names, `Registry`, timers, `GenServer`, supervisors, tasks, applications |
//! | [`otp-telemetry`](telemetry) | the event bus, metrics, the poller, the `tracing` bridge (feature `telemetry`, on by default; its Prometheus endpoint with feature `prometheus`); the runtime's own events are listed in [`core::telemetry`] |
//! | [`otp-dist`](dist) | distribution: named nodes that connect over TCP, authenticate with a cookie and watch each other with ticks; remote send, call, cast, link, monitor and exit (feature `dist`, off by default) |
//! | [`otp-stage`](stage) | GenStage: producers, consumers and producer-consumers that exchange events on demand, with a buffer and cancel modes (feature `stage`, off by default) |
//! | `otp-macros` | [`#[derive(GenServer)]`](macro@gen_server::GenServer) and [`#[handlers]`](macro@gen_server::handlers), re-exported through `otp-core` |
//!
//! A server is a struct for its state and an impl block of handlers; the macros generate its
//! message types, its `GenServer` impl, its start functions and a typed client (the trait
//! `GreeterClient` here, implemented for `ServerRef<Greeter>`). The guide is on
//! [`#[derive(GenServer)]`](macro@gen_server::GenServer).
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
//! Beneath the macros is the trait [`GenServer`](trait@gen_server::GenServer), which you can
//! implement by hand for full control: your own message types, and each callback's
//! [`Init`](gen_server::Init), [`CallResult`](gen_server::CallResult) or
//! [`Action`](gen_server::Action) result. The [`gen_server`] module shows the hand-written form.
//!
//! Every item has one path, in the module of its concept ([`process`], [`node`], [`name`],
//! [`timer`], [`registry`], [`gen_server`], [`supervisor`], [`task`], [`application`]), as in
//! `otp-core`; [`prelude`] gathers the names most programs need.

pub use otp_core as core;
pub use otp_core::*;
/// The event bus: `attach`, `execute`, spans, metrics, the poller (crate `otp-telemetry`, feature `telemetry`).
#[cfg(feature = "telemetry")]
pub use otp_telemetry as telemetry;

/// Distribution: nodes that connect, and processes that reach each other across them (crate
/// `otp-dist`, feature `dist`).
#[cfg(feature = "dist")]
pub use otp_dist as dist;

/// GenStage: stages that exchange events on demand (crate `otp-stage`, feature `stage`).
#[cfg(feature = "stage")]
pub use otp_stage as stage;

/// The names most programs need, in one import.
pub mod prelude {
    pub use otp_core::application::Application;
    pub use otp_core::gen_server::{
        Action, CallError, CallResult, Context, GenServer, IdleTimeout, Init, ReplyThen, ReplyTo,
        ServerRef, StartOptions, call, cast, handle_continue, handlers, info, init, terminate,
    };
    pub use otp_core::name::send;
    pub use otp_core::process::{
        ExitReason, Info, Pid, Process, exit, spawn, spawn_link, wait_exit,
    };
    pub use otp_core::supervisor::{
        ChildSpec, DynamicOptions, DynamicSupervisor, Restart, Shutdown, SupFlags, Supervisor,
        SupervisorHandle, SupervisorRef,
    };
    pub use otp_core::task::Task;
}
