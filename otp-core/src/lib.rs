//! # otp-core
//!
//! Erlang/OTP's process model for tokio: lightweight isolated processes with mailboxes, links,
//! monitors and exit signals; local names and an Elixir-style [`Registry`]; timers; the
//! [`GenServer`] behaviour with typed calls and casts; supervision trees, tasks and
//! applications.
//!
//! - [`process`](mod@crate::process): [`spawn`], [`Process`], [`exit`], links, monitors,
//!   `trap_exit`, introspection ([`processes`], [`process_info`]).
//! - [`Pid`] and [`ExitReason`]: who, and why it ended — with Erlang's exit-reason semantics.
//! - [`register`], [`whereis`], [`send`]: names and untyped messages.
//! - [`Registry`]: unique and duplicate keys, dispatch, and names for servers (`via`).
//! - [`send_after`], [`send_interval`], [`cancel_timer`]: timers tied to their destination.
//! - [`GenServer`], [`ServerRef`], [`Context`]: servers; with the default feature `macros`,
//!   `#[derive(GenServer)]` and `#[handlers]` write them from a struct and an impl block.
//! - [`supervisor`](mod@crate::supervisor): [`Supervisor`] (one_for_one, one_for_all,
//!   rest_for_one, restart intensity, escalation) and [`DynamicSupervisor`], from
//!   [`ChildSpec`]s.
//! - [`task`](mod@crate::task): [`Task`] (a future run as a process, awaited with a timeout)
//!   and [`async_stream`] (bounded concurrency, backpressure).
//! - [`Application`]: a top-level tree run as a program, stopped cleanly on SIGINT/SIGTERM.
//! - [`telemetry`](mod@crate::telemetry): the runtime's own events (processes spawned and
//!   ended, supervisor starts, restarts and give-ups, GenServer call spans, long mailboxes) on
//!   the `otp-telemetry` bus, and a [`poller`](crate::telemetry::poller) of process counts,
//!   memory and tokio figures.
//!
//! Behaviours cite the numbered items of the project's conformance checklist (`P-xx` for
//! processes, `GS-xx` for GenServer, `REG-xx` for Registry, `SUP-xx` for Supervisor, `DS-xx` for
//! DynamicSupervisor, `T-xx` for Task); `CONFORMANCE.md` at the repository root lists each one
//! with the tests that check it and where this crate differs from Erlang/OTP and Elixir.
//!
//! ```
//! use otp_core::{spawn, send, Info};
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

mod application;
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

pub use crate::application::{AppExit, Application};
pub use crate::exit::{ExitReason, IntoExitReason};
pub use crate::gen_server::{
    Action, CallError, CallResult, CastError, Context, DEFAULT_CALL_TIMEOUT, GenServer, Init,
    RefError, ReplyThen, ReplyTo, ServerHandle, ServerName, ServerRef, StartError, StartOptions,
    StopError, ViaName, WithTimeout,
};
pub use crate::message::{
    Down, ExitSignal, IdleTimeout, Info, Message, MonitorRef, Monitored, Name,
};
pub use crate::name::{
    Dest, RegisterError, SendError, register, registered, send, unregister, whereis,
};
pub use crate::pid::Pid;
pub use crate::process::{
    LinkError, MailboxBound, Myself, Overflow, Process, ProcessInfo, ProcessKind, ProcessStatus,
    SpawnError, SpawnOptions, current_pid, exit, is_alive, process_count, process_info, processes,
    spawn, spawn_link, spawn_link_opt, spawn_opt, try_spawn, try_spawn_opt, wait_exit,
};
pub use crate::registry::{Keys, Registry, RegistryError};
pub use crate::supervisor::{
    AutoShutdown, Backoff, ChildCounts, ChildId, ChildInfo, ChildSpec, ChildStartError,
    ChildStatus, ChildType, DynamicOptions, DynamicSupervisor, DynamicSupervisorRef,
    IntoChildStart, Restart, Shutdown, SpecError, Strategy, SupFlags, Supervisor, SupervisorError,
    SupervisorHandle, SupervisorRef, SupervisorStartError,
};
pub use crate::task::{
    AsyncStream, AsyncStreamError, OnYieldTimeout, StreamExit, Task, TaskError, TaskOptions,
    TaskSupervisor, TaskSupervisorOptions, TaskSupervisorRef, YieldManyOptions, async_stream,
    async_stream_from, await_many, yield_many,
};
pub use crate::timer::{TimerRef, cancel_timer, send_after, send_interval};
#[cfg(feature = "macros")]
pub use otp_macros::{
    __expand_handlers, GenServer, call, cast, handle_continue, handlers, info, init, terminate,
};

// The code `#[derive(GenServer)]` generates in this package (in its tests, doctests and
// examples, and in this lib) names the runtime `::otp_core`: this makes that path name this
// crate in its own code too (see `gen_server::derive_support`'s test).
#[allow(unused_extern_crates)]
extern crate self as otp_core;
