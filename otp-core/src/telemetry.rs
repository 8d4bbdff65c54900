//! The runtime's own telemetry events, emitted through [`otp_telemetry`].
//!
//! Every event below is emitted whether or not anybody listens; with no handler attached
//! anywhere, each costs one relaxed atomic load and a branch at its emitting point, and its
//! metadata is neither gathered nor formatted. Attach handlers with [`otp_telemetry::attach`]
//! (or define metrics over them with [`otp_telemetry::metrics`]).
//!
//! Pids are [`Value::Pid`](otp_telemetry::Value::Pid)s; a `Pid` converts into a
//! [`PidValue`](otp_telemetry::PidValue) with `PidValue::from(pid)`. Names are strings. Exit
//! reasons are given twice: as `reason_kind`, the short tag of
//! [`ExitReason::kind`](crate::process::ExitReason::kind) (`"normal"`, `"shutdown"`,
//! `"killed"`, `"panic"`, `"error"`, ...), fit for a metric tag, and as `reason`, the printed
//! reason (a [`Value::Display`](otp_telemetry::Value::Display), formatted only if a handler
//! reads it).
//!
//! # Processes
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | [`PROCESS_SPAWN`] `["otp", "process", "spawn"]` | `count` (1) | `pid`; `kind` (`"process"`, the server's type, ...); `parent` (pid, when spawned from a process) |
//! | [`PROCESS_EXIT`] `["otp", "process", "exit"]` | `count` (1) | `pid`, `kind`, `reason_kind`, `reason`; `name` (when it was registered) |
//! | [`MAILBOX_OVER_THRESHOLD`] `["otp", "process", "mailbox", "over_threshold"]` | `length`, `threshold` | `pid`, `kind`; `name` (when registered) |
//!
//! `spawn` is emitted when the process enters the process table (before it runs), `exit` once
//! it has ended, before its links, monitors and waiters are told: whoever saw a process end may
//! count on its `exit` event having been emitted. A process that was prepared but never ran (a
//! server whose `init` failed) emits both.
//!
//! `over_threshold` is emitted by the sender whose message brings a mailbox's length (messages
//! queued and not yet handled) up to the threshold: once per crossing, again only after the
//! length went below it and came back. The threshold is [`DEFAULT_MAILBOX_THRESHOLD`] (10,000)
//! until [`set_mailbox_threshold`] changes it. Runtime messages (exit signals, `Down`s) do not
//! count towards a crossing.
//!
//! # Supervisors
//!
//! For [`Supervisor`](crate::supervisor::Supervisor)s, [`DynamicSupervisor`](crate::supervisor::DynamicSupervisor)s
//! and the task supervisors built on them. `supervisor` is the supervisor's pid,
//! `supervisor_name` its registered name (when it has one), `child_id` the spec's id.
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | [`CHILD_START`] `["otp", "supervisor", "child", "start"]` | `count` (1) | `supervisor`, `child_id`, `child_pid` |
//! | [`CHILD_RESTART`] `["otp", "supervisor", "child", "restart"]` | `count` (1) | `supervisor`, `child_id`, `child_pid` (the new process) |
//! | [`CHILD_TERMINATE`] `["otp", "supervisor", "child", "terminate"]` | `count` (1) | `supervisor`, `child_id`, `child_pid`, `reason_kind`, `reason`, `by_supervisor` (bool) |
//! | [`CHILD_START_ERROR`] `["otp", "supervisor", "child", "start_error"]` | `count` (1) | `supervisor`, `child_id`, `reason` |
//! | [`SUPERVISOR_GIVE_UP`] `["otp", "supervisor", "give_up"]` | `intensity`, `period` (ms) | `supervisor`, `child_id` (the child whose restart was one too many), `reason` (`"reached_max_restart_intensity"`) |
//!
//! `start` is a child started when the supervisor starts, by `start_child`, or by an explicit
//! `restart_child`; `restart` is a child started again by the supervisor's strategy after a
//! child ended (with `one_for_all`, every child restarted emits one). `terminate` is a child that
//! ended: by itself (`by_supervisor` false, OTP's `child_terminated`) or stopped by its
//! supervisor (`by_supervisor` true: `terminate_child`, a group restart, the supervisor's own
//! shutdown). `give_up` is SUP-05: more restarts than the intensity allows within the period;
//! the supervisor then stops its children and exits with `shutdown`.
//!
//! # GenServer calls
//!
//! Calls are hot, so their span is off by default; [`set_call_spans`]`(true)` turns it on for
//! every server. The caller's side of each call is then a span with the prefix
//! [`GEN_SERVER_CALL`] `["otp", "gen_server", "call"]`:
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | `["otp", "gen_server", "call", "start"]` | `system_time`, `monotonic_time` | `server`, `server_type`; `server_name` (when registered); `telemetry_span_context` |
//! | `["otp", "gen_server", "call", "stop"]` | `duration`, `monotonic_time` | the start metadata and `result`: `"ok"`, or the [`CallError`](crate::gen_server::CallError) kind (`"timeout"`, `"noproc"`, `"exited"`, `"mailbox_full"`, `"calling_self"`, `"wrong_reply"`) |
//! | `["otp", "gen_server", "call", "exception"]` | `duration`, `monotonic_time` | the start metadata, `kind` (`"cancelled"`), `reason`: the caller dropped the call before the reply came |
//!
//! Times are nanoseconds (see [`otp_telemetry::span`](mod@otp_telemetry::span)).
//!
//! # Periodic measurements
//!
//! [`poller`] returns an [`otp_telemetry::poller::Poller`] that measures, every 5 s by default:
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | [`VM_PROCESSES`] `["otp", "vm", "processes"]` | `count`, `total_mailbox_length`, `largest_mailbox_length` | `largest_pid`, `largest_name` (of the process with the longest mailbox, when there is one; the name when registered) |
//! | `["otp", "vm", "memory"]` | `total` (resident bytes), `virtual` (bytes) | |
//! | `["otp", "vm", "tokio"]` | the tokio runtime's figures (workers, alive tasks, queue depth, ...) | |
//!
//! [`emit_process_counts`] emits the first one on demand.
//!
//! ```
//! use otp_core::telemetry;
//! use otp_telemetry::testing::attach_event_handlers;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let events = attach_event_handlers(&[telemetry::PROCESS_EXIT]).unwrap();
//! let pid = otp_core::process::spawn(|_me| async {});
//! otp_core::process::wait_exit(pid).await;
//! let exit = events.try_recv().unwrap();
//! assert_eq!(exit.meta("reason_kind").unwrap().to_string(), "normal");
//! # }
//! ```

use otp_telemetry::execute;

pub use crate::gen_server::events::{GEN_SERVER_CALL, call_spans, set_call_spans};
use crate::node::Node;
use crate::process::ProcessEntry;
pub use crate::process::events::{
    DEFAULT_MAILBOX_THRESHOLD, MAILBOX_OVER_THRESHOLD, PROCESS_EXIT, PROCESS_SPAWN,
    mailbox_threshold, set_mailbox_threshold,
};
use crate::process::events::{pid_value, with_name};
pub use crate::supervisor::events::{
    CHILD_RESTART, CHILD_START, CHILD_START_ERROR, CHILD_TERMINATE, SUPERVISOR_GIVE_UP,
};

/// The process counts and mailbox lengths measured by [`emit_process_counts`].
pub const VM_PROCESSES: &[&str] = &["otp", "vm", "processes"];

// ---- periodic measurements ----

/// Emits [`VM_PROCESSES`] now: the number of live processes, the sum of their mailbox lengths,
/// and the longest mailbox with its process's pid and name.
///
/// Walks the process table (a snapshot; processes may come and go meanwhile); does nothing when
/// no handler listens to the event.
pub fn emit_process_counts() {
    if !otp_telemetry::has_handlers(VM_PROCESSES) {
        return;
    }
    let processes = Node::current().all();
    let mut total = 0usize;
    let mut largest: Option<(usize, &dyn ProcessEntry)> = None;
    for process in &processes {
        let len = process.mailbox_len();
        total += len;
        if largest.is_none_or(|(most, _)| len > most) {
            largest = Some((len, &**process));
        }
    }
    let largest_len = largest.map_or(0, |(len, _)| len);
    let measurements = [
        ("count", processes.len() as f64),
        ("total_mailbox_length", total as f64),
        ("largest_mailbox_length", largest_len as f64),
    ];
    match largest {
        None => execute(VM_PROCESSES, &measurements, &[]),
        Some((_, process)) => {
            let name = process.core().name();
            with_name(
                &[("largest_pid", pid_value(process.core().pid))],
                "largest_name",
                name.as_ref(),
                |meta| execute(VM_PROCESSES, &measurements, meta),
            );
        }
    }
}

/// A poller measuring the runtime every 5 s by default: [`VM_PROCESSES`] (through
/// [`emit_process_counts`]), then `["otp", "vm", "memory"]` and `["otp", "vm", "tokio"]`.
///
/// Change its period, add your own measurements, then
/// [`spawn`](otp_telemetry::poller::Poller::spawn) it inside the runtime (the handle stops it
/// when dropped) or await its [`run`](otp_telemetry::poller::Poller::run) where you choose.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let poller = otp_core::telemetry::poller()
///     .period(Duration::from_secs(1))
///     .spawn()
///     .expect("inside a tokio runtime");
/// // ... the application runs; dropping `poller` stops it.
/// # drop(poller);
/// # }
/// ```
pub fn poller() -> otp_telemetry::poller::Poller {
    otp_telemetry::poller::Poller::new()
        .measurement("processes", emit_process_counts)
        .memory()
        .tokio_runtime()
}
