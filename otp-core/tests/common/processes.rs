//! Small test processes, pids of processes that are gone or out of reach, and what a process is
//! linked to.

use otp_core::process::{ExitReason, Pid, Process, spawn};

use super::wait::watch_exit;

/// A message that makes a process spawned with [`spawn_exit_on_message`] end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Go;

/// Spawns a process that waits for any message and then ends with `reason`.
pub fn spawn_exit_on_message(reason: ExitReason) -> Pid {
    spawn(move |mut me| async move {
        let _ = me.recv().await;
        reason
    })
}

/// Spawns a process that receives and ignores messages forever.
pub fn spawn_idle() -> Pid {
    spawn(ignore_messages)
}

/// The body of [`spawn_idle`]: receives and ignores messages forever.
pub async fn ignore_messages(mut me: Process) {
    loop {
        let _ = me.recv().await;
    }
}

/// A local pid that belonged to a process that has ended.
pub async fn dead_pid() -> Pid {
    let pid = spawn(|_| async {});
    // `normal` if the watch began before the process ended, `noproc` if after (a monitor of a
    // process that has ended): ended either way.
    let reason = watch_exit(pid).await;
    assert!(
        matches!(reason, ExitReason::Normal | ExitReason::NoProc),
        "the process ended with {reason}"
    );
    pid
}

/// A pid on another node, which this node cannot reach.
pub fn remote_pid() -> Pid {
    Pid::from_parts(7, 42, 1)
}

/// The processes `pid` is linked to, failing the test if it is not alive.
pub fn links_of(pid: Pid) -> Vec<Pid> {
    match otp_core::process::process_info(pid) {
        Some(info) => info.links,
        None => panic!("{pid} is not alive"),
    }
}
