//! Stopping children: one at a time per its shutdown spec (SUP-14 to SUP-17), or many at once
//! (SUP-18, DS-07).
//!
//! To stop a child, the supervisor first removes its link to it and any exit message from it
//! already queued (Erlang's `unlink_flush`), so the child's end is not mistaken for a crash to
//! restart; it starts waiting for the child's end *before* sending the exit signal (a monitor in
//! OTP: a child that unlinked itself cannot hang the supervisor); then it sends `Kill`
//! ([`Shutdown::BrutalKill`]) or `Shutdown`, and for a timeout kills the child if it has not
//! ended in time.

use std::time::Duration;

use futures_util::future::join_all;

use super::events::child_terminated;
use super::spec::{ChildId, Restart, Shutdown};
use crate::exit::ExitReason;
use crate::gen_server::{Context, GenServer};
use crate::pid::Pid;
use crate::process::{exit_from, wait_exit};

/// A child to stop: who it is, for the logs, and how.
#[derive(Clone, Debug)]
pub(crate) struct Stopping {
    pub(crate) id: ChildId,
    pub(crate) pid: Pid,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
}

/// Starts stopping one child: unlinks it, starts waiting for its end, sends the exit signal.
/// The returned future finishes the job (the kill after a timeout) and resolves with the
/// child's exit reason.
pub(crate) fn begin_stop<S: GenServer>(
    ctx: &mut Context<S>,
    child: &Stopping,
) -> impl Future<Output = ExitReason> + Send + use<S> {
    let pid = child.pid;
    let shutdown = child.shutdown;
    let me = ctx.pid();
    ctx.unlink_flush(pid);
    let exited = wait_exit(pid);
    let first = match shutdown {
        Shutdown::BrutalKill => ExitReason::Kill,
        Shutdown::Timeout(_) | Shutdown::Infinity => ExitReason::Shutdown,
    };
    ctx.exit(pid, first);
    async move {
        match shutdown {
            Shutdown::Timeout(limit) if limit != Duration::MAX => {
                let mut exited = std::pin::pin!(exited);
                match tokio::time::timeout(limit, exited.as_mut()).await {
                    Ok(reason) => reason,
                    Err(_) => {
                        exit_from(me, pid, ExitReason::Kill);
                        exited.await
                    }
                }
            }
            _ => exited.await,
        }
    }
}

/// Stops one child and waits until it has ended; logs an unexpected end (SUP-17).
pub(crate) async fn stop_child<S: GenServer>(ctx: &mut Context<S>, child: &Stopping) {
    let reason = begin_stop(ctx, child).await;
    report_shutdown(ctx.pid(), child, &reason);
}

/// Stops children one after the other, in the order given (reverse start order for a
/// supervisor's children, SUP-02).
pub(crate) async fn stop_in_order<S: GenServer>(ctx: &mut Context<S>, children: &[Stopping]) {
    for child in children {
        stop_child(ctx, child).await;
    }
}

/// Stops children all at once: every exit signal is sent before any wait, and each child is
/// killed when its own shutdown time has passed (SUP-18, DS-07). Order undefined.
pub(crate) async fn stop_concurrently<S: GenServer>(ctx: &mut Context<S>, children: &[Stopping]) {
    let me = ctx.pid();
    let stops: Vec<_> = children
        .iter()
        .map(|child| begin_stop(ctx, child))
        .collect();
    let reasons = join_all(stops).await;
    for (child, reason) in children.iter().zip(reasons) {
        report_shutdown(me, child, &reason);
    }
}

/// Logs a child that ended otherwise than its shutdown asked (OTP's `shutdown_error`):
/// expected are `killed` for a brutal kill, `shutdown` otherwise, and for a non-permanent
/// child also `normal` and `{shutdown, _}`.
pub(crate) fn report_shutdown(supervisor: Pid, child: &Stopping, reason: &ExitReason) {
    child_terminated(supervisor, child.id.as_str(), child.pid, reason, true);
    let expected = match reason {
        ExitReason::Killed => child.shutdown == Shutdown::BrutalKill,
        ExitReason::Shutdown => true,
        ExitReason::Normal | ExitReason::ShutdownWith(_) => child.restart != Restart::Permanent,
        // The child had already ended (its exit was flushed with its link).
        ExitReason::NoProc => true,
        _ => false,
    };
    if !expected {
        tracing::error!(
            %supervisor,
            child = %child.id,
            pid = %child.pid,
            reason = %reason,
            "supervisor {supervisor}: shutdown_error: child {} ({}) ended with {reason}",
            child.id,
            child.pid,
        );
    }
}
