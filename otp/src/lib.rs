//! # otp
//!
//! Erlang/OTP's fault-tolerance model for Rust, on tokio. This facade re-exports the crates of
//! the workspace; depend on it, or on the one crate you need.
//!
//! | crate | what |
//! |---|---|
//! | [`otp-core`](otp_core) | processes, links, monitors, names, `Registry`, timers, `GenServer` |
//!
//! ```
//! use otp::prelude::*;
//!
//! struct Greeter;
//!
//! impl GenServer for Greeter {
//!     type Args = ();
//!     type Call = String;
//!     type Reply = String;
//!     type Cast = ();
//!     type Continue = ();
//!
//!     async fn init(_: (), _ctx: &mut Context<Self>) -> Init<Self> {
//!         Init::Ok(Greeter)
//!     }
//!     async fn handle_call(&mut self, who: String, _ctx: &mut Context<Self>) -> CallResult<Self> {
//!         CallResult::Reply(format!("hello, {who}"))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let greeter = Greeter::start(()).await.unwrap();
//! assert_eq!(greeter.call("world".into()).await.unwrap(), "hello, world");
//! # }
//! ```

pub use otp_core as core;
pub use otp_core::*;

/// The names most programs need, in one import.
pub mod prelude {
    pub use otp_core::{
        Action, CallError, CallResult, Context, ExitReason, GenServer, IdleTimeout, Info, Init,
        Pid, Process, ReplyThen, ReplyTo, ServerRef, StartOptions, call, cast, exit,
        handle_continue, handlers, info, init, send, spawn, terminate,
    };
}
