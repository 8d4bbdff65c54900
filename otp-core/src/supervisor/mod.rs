//! Supervisors: processes that start other processes, watch them, and restart them when they
//! end, as Erlang/OTP's `supervisor` and Elixir's `Supervisor` and `DynamicSupervisor`.
//!
//! "Let it crash" works because something restarts what crashed. A supervisor is that
//! something: a process that traps exits, starts its children linked to it, and on a child's
//! exit signal decides — from the child's [`Restart`] type and the exit reason — whether to
//! start it again. Supervisors are children too, so they form a tree, and a failure that a
//! supervisor cannot fix climbs the tree.
//!
//! # The model
//!
//! - **Children** are described by a [`ChildSpec`]: an id, a start function (a closure returning
//!   a future, e.g. `|| Counter::start_link(0)`), a [`Restart`] type, a [`Shutdown`], a
//!   [`ChildType`], and whether it is significant. The start function runs inside the supervisor's
//!   process, so a GenServer's `start_link` (or [`spawn_link`](crate::process::spawn_link) for a
//!   plain process) links the child to its supervisor.
//! - **Starting** (SUP-01): [`Supervisor::start_link`] starts the children one after the other,
//!   in order, each start waiting for the child to be ready, and returns once all are. If one
//!   fails, those already started are stopped and the start fails naming it (SUP-19).
//! - **Restarting** (SUP-10): a `Permanent` child is always restarted; a `Transient` child only if
//!   it ended abnormally (not `normal`, `shutdown` or `{shutdown, _}`); a `Temporary` child never.
//!   The [`Strategy`] says which children restart together: only the one that ended
//!   (`OneForOne`), all of them (`OneForAll`), or it and those started after it (`RestForOne`).
//!   Children restarted together are stopped in reverse start order first, then started again in
//!   start order.
//! - **Restart intensity** (SUP-04, SUP-05): at most [`SupFlags::intensity`] restarts within
//!   [`SupFlags::period`] (3 in 5 s by default). One more, and the supervisor gives up: it stops
//!   its remaining children and exits with reason `shutdown`, and its own supervisor decides what
//!   to do — restart it (if it is permanent there), or count it toward its own intensity and
//!   perhaps give up in turn. That is escalation.
//! - **A failed restart** (SUP-12): the child is marked restarting and retried through a message
//!   the supervisor sends itself, so it keeps answering calls between attempts; every attempt
//!   counts toward the intensity, so a child that cannot start takes the supervisor down.
//! - **Stopping** (SUP-02, SUP-14 to SUP-17): children are stopped in reverse start order, each
//!   per its [`Shutdown`]: killed at once, or asked to stop (`shutdown`) and killed if it has not
//!   ended in time, or waited for without limit. Stopping a supervisor ([`SupervisorRef::stop`])
//!   stops its whole subtree.
//! - **Automatic shutdown** (SUP-30): with [`AutoShutdown`], a supervisor stops by itself when
//!   any, or all, of its *significant* children have ended and were not restarted.
//! - **Backoff** (beyond OTP): a child may delay its restarts with a [`Backoff`], so that a child
//!   failing against a dependency that is down does not exhaust the intensity in milliseconds;
//!   see [`Backoff`] for how it interacts with the intensity.
//!
//! A [`DynamicSupervisor`] starts with no children and starts them on demand, one-for-one
//! only, each known by its pid, with an optional `max_children` and an extra argument given to
//! every child's start function. Both kinds run the same restart engine: restart types,
//! intensity, backoff and shutdowns work alike under both.
//!
//! A running supervisor is reached through its handle — [`SupervisorRef`],
//! [`DynamicSupervisorRef`], or a [`TaskSupervisorRef`](crate::task::TaskSupervisorRef) for a
//! supervisor of tasks — and every handle implements [`SupervisorHandle`]: its pid, its
//! children, stopping one of them, stopping it. Its table says where the kinds differ.
//!
//! # Example
//!
//! A counter server and a plain worker under a one-for-one supervisor. The worker crashes and is
//! restarted with a new pid; the counter is untouched.
//!
//! ```
//! use otp_core::process::spawn_link;
//! use otp_core::supervisor::{ChildSpec, ChildStatus, Restart, SupFlags, Supervisor};
//! use otp_core::gen_server::{Context, GenServer, Init};
//! use otp_core::process::{ExitReason, Pid, exit, wait_exit};
//!
//! struct Counter(u64);
//!
//! impl GenServer for Counter {
//!     type Args = u64;
//!     type Call = ();
//!     type Reply = u64;
//!     type Cast = ();
//!     type Continue = ();
//!
//!     async fn init(start: u64, _ctx: &mut Context<Self>) -> Init<Self> {
//!         Init::Ok(Counter(start))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let children = [
//!     ChildSpec::new("counter", || Counter::start_link(0)),
//!     // A plain process: the start function returns its pid.
//!     ChildSpec::new("worker", || async {
//!         Ok::<Pid, ExitReason>(spawn_link(|_me| std::future::pending::<()>()))
//!     })
//!     .restart(Restart::Permanent),
//! ];
//! let sup = Supervisor::start_link(children, SupFlags::one_for_one()).await.unwrap();
//!
//! // which_children lists the latest started first.
//! let before = sup.which_children().await.unwrap();
//! assert_eq!(before[0].id, "worker");
//! let worker = before[0].pid().unwrap();
//! let counter = before[1].pid().unwrap();
//!
//! // The worker crashes; the supervisor restarts it.
//! let ended = wait_exit(worker);
//! exit(worker, ExitReason::error("boom"));
//! ended.await;
//! let after = sup.which_children().await.unwrap();
//! assert!(matches!(after[0].status, ChildStatus::Running(pid) if pid != worker));
//! assert_eq!(after[1].pid(), Some(counter));
//!
//! // Stopping the supervisor stops its children, in reverse start order.
//! sup.stop().await.unwrap();
//! # }
//! ```
//!
//! # A start that never returns
//!
//! Starts are synchronous, as in OTP: the supervisor runs each child's start function and waits
//! for it to return before it starts the next child, and it handles nothing else meanwhile
//! (SUP-01). So a child whose start never returns — an `init` waiting for a database that never
//! answers — blocks the supervisor's own start, and `Supervisor::start_link` with it; on a
//! restart, it blocks the running supervisor (no calls answered, no exits handled). Bound such
//! a start with a start timeout: for a GenServer, [`StartOptions::timeout`](crate::gen_server::StartOptions::timeout)
//! (given to `start_link_with`, or returned by the server's
//! [`start_options`](crate::gen_server::GenServer::start_options)). The start then fails with
//! [`StartError::Timeout`](crate::gen_server::StartError::Timeout) and leaves no process, name or link
//! behind, and the supervisor treats it as any failed start: its own start fails naming the
//! child (SUP-19), a failed restart is retried and counts toward the intensity (SUP-12).
//!
//! ```
//! use std::time::Duration;
//!
//! use otp_core::supervisor::{ChildSpec, SupFlags, Supervisor, SupervisorStartError};
//! use otp_core::gen_server::{Context, GenServer, Init, StartOptions};
//!
//! /// A server whose `init` waits for a dependency that never answers.
//! struct Stuck;
//!
//! impl GenServer for Stuck {
//!     type Args = ();
//!     type Call = ();
//!     type Reply = ();
//!     type Cast = ();
//!     type Continue = ();
//!
//!     async fn init((): (), _ctx: &mut Context<Self>) -> Init<Self> {
//!         std::future::pending().await
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let bounded = ChildSpec::new("stuck", || {
//!     Stuck::start_link_with((), StartOptions::new().timeout(Duration::from_secs(5)))
//! });
//! // Without the timeout, this would never return.
//! let started = Supervisor::start_link([bounded], SupFlags::one_for_one()).await;
//! assert!(matches!(
//!     started,
//!     Err(SupervisorStartError::ChildFailed { ref id, .. }) if id == "stuck"
//! ));
//! # }
//! ```
//!
//! # Differences from OTP
//!
//! - Defaults are Elixir's: 3 restarts in 5 s (Erlang's `supervisor` uses 1 in 5 s).
//! - The intensity window is measured on tokio's clock at full resolution rather than in whole
//!   seconds, so periods shorter than a second work.
//! - Child ids are strings; a start function returns a pid (or a typed reference), not
//!   `{ok, Pid, Info}`.
//! - Invalid flags and specs are refused before any process starts. What Rust's types already
//!   rule out — a negative intensity or shutdown, an unknown strategy, a dynamic supervisor
//!   given static children (its start takes none) — cannot be written.

mod backoff;
mod check;
mod dynamic;
mod engine;
mod error;
pub(crate) mod events;
mod flags;
mod handle;
mod info;
mod intensity;
mod management;
mod report;
mod server;
mod shutdown;
mod spec;

pub use self::backoff::{
    Backoff, DEFAULT_BACKOFF_FACTOR, DEFAULT_BACKOFF_JITTER, DEFAULT_BACKOFF_RESET,
};
pub use self::check::SpecError;
pub use self::dynamic::{DynamicOptions, DynamicSupervisor, DynamicSupervisorRef};
pub use self::error::{SupervisorError, SupervisorStartError};
pub use self::flags::{AutoShutdown, Strategy, SupFlags};
pub use self::handle::{Supervisor, SupervisorRef};
pub use self::info::{ChildCounts, ChildInfo, ChildStatus};
pub use self::management::SupervisorHandle;
pub(crate) use self::management::{inherent_handle_methods, sealed::Handle};
pub use self::spec::{
    ChildId, ChildSpec, ChildStartError, ChildType, DEFAULT_WORKER_SHUTDOWN, IntoChildStart,
    Restart, Shutdown,
};
