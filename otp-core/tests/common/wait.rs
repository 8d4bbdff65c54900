//! Waiting for something that must happen, failing the test instead of hanging when it does
//! not.

use std::time::Duration;

use futures_util::FutureExt;
use otp_core::process::{ExitReason, Pid, wait_exit};

/// How long a test waits for something that must happen before failing instead of hanging.
/// On a paused clock this only passes once nothing else can run.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test (instead of hanging) if it takes longer than [`PATIENCE`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Waits for `pid` to end and returns its exit reason, failing the test if it does not end.
///
/// `wait_exit` answers `NoProc` for a process that has already ended, so call this only while
/// `pid` is certainly alive (or use [`watch_exit`] before letting it end).
pub async fn exit_reason(pid: Pid) -> ExitReason {
    within("a process to exit", wait_exit(pid)).await
}

/// Starts waiting for `pid` to end right now, so that its exit reason is kept even if it ends
/// before the returned future is awaited. The future fails the test if `pid` does not end.
pub fn watch_exit(pid: Pid) -> impl Future<Output = ExitReason> + Send + 'static {
    let mut waiting = Box::pin(wait_exit(pid));
    let ended = (&mut waiting).now_or_never();
    async move {
        match ended {
            Some(reason) => reason,
            None => within("a process to exit", waiting).await,
        }
    }
}
