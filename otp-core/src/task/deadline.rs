//! Deadlines of awaits: `Duration::MAX` is no deadline at all.

use std::time::Duration;

use tokio::time::Instant;

/// The instant `timeout` from now; `None` (no limit) for `Duration::MAX`, and about thirty years
/// ahead for a timeout that overflows the clock.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    if timeout == Duration::MAX {
        return None;
    }
    let now = Instant::now();
    Some(
        now.checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30)),
    )
}

/// `future`'s output if it comes before `deadline` (always, without one). The future is polled
/// before the deadline is checked, so a deadline already passed still takes a value that is
/// ready (Erlang's `after 0`).
pub(crate) async fn within<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        None => Some(future.await),
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
    }
}
