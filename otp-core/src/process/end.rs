//! The end of a process: the clean-up that runs once, on every way a process ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::core::{Leftovers, ProcessCore, ProcessEntry, Told};
use super::events;
use super::kind::ProcessKind;
use super::mailbox::Envelope;
use super::pcb::Pcb;
use super::signals::send_exit_signal;
use crate::exit::ExitReason;
use crate::pid::Pid;

/// How an ending is logged.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logged {
    /// As a process exit: errors of servers and every panic at ERROR, the rest at TRACE.
    Exit,
    /// The runtime shut down under the process: not a crash (see [`log_runtime_shutdown`]).
    RuntimeShutdown,
    /// Not at all: a process made and never run (its name was taken, say).
    Quiet,
}

/// The clean-up of a process, once: the exit reason is fixed, the mailbox closed, `drop_body`
/// run (the process's own state is dropped before anyone is told, so that a replacement
/// started on the news finds its resources released), then its name, links and monitors are
/// told and it leaves the table (see [`tell`]). Returns `false` if the process had already
/// ended (the first exit wins).
pub(crate) fn end<M: Envelope>(
    pcb: &Arc<Pcb<M>>,
    reason: ExitReason,
    logged: Logged,
    drop_body: impl FnOnce(),
) -> bool {
    let Some(leftovers) = pcb.core.begin_exit(&reason) else {
        return false;
    };
    pcb.close_mailbox();
    drop_body();
    let core = &pcb.core;
    match logged {
        Logged::Exit => log_exit(core.kind(), core.pid, &reason),
        Logged::RuntimeShutdown => log_runtime_shutdown(core.kind(), core.pid),
        Logged::Quiet => {}
    }
    events::process_exited(core, leftovers.name(), &reason);
    tell(core, leftovers, &reason);
    true
}

/// Ends a process that was prepared but never ran (its `init` failed or was cut short), with
/// the same clean-up as a process that ran.
pub(crate) fn end_unlaunched<M: Envelope>(pcb: &Arc<Pcb<M>>, reason: ExitReason) {
    end(pcb, reason, Logged::Exit, || {});
}

/// Removes a prepared process that was never launched and that nobody saw (its name was
/// taken): it ends `noproc`, unlogged.
pub(crate) fn abandon<M: Envelope>(pcb: &Arc<Pcb<M>>) {
    end(pcb, ExitReason::NoProc, Logged::Quiet, || {});
}

/// Tells everyone concerned that the process ended, in Erlang's order: its name and
/// registrations are released first, then its timers cancelled, then its links and monitors
/// told. The process leaves its node's table only then, and its waiters are told last: until
/// the links and monitors have been told it can still be found, so that a wait for its exit
/// that starts during the clean-up waits for the exit rather than finding no process; and
/// whoever waited for the exit finds it gone from the table and from the counts.
fn tell(core: &ProcessCore, leftovers: Leftovers, reason: &ExitReason) {
    let (pid, node) = (core.pid, core.node);
    let told: Told = leftovers.into_told();
    if let Some(name) = told.name {
        node.release_name(&name, pid);
    }
    for hook in told.exit_hooks {
        hook.process_exited(pid);
    }
    for timer in told.timers.into_values() {
        timer.abort.abort();
    }
    for other in told.links {
        send_exit_signal(node, other, Some(pid), reason.clone(), true);
    }
    for (reference, (watcher, object)) in told.monitored_by {
        if let Some(router) = node.router_for(watcher) {
            router.down(watcher, pid, reference, reason.clone());
        } else if let Some(w) = node.lookup(watcher) {
            w.deliver_down(reference, object, reason.clone());
        }
    }
    for reference in told.monitoring {
        let Some(target) = reference.target else {
            continue;
        };
        if let Some(router) = node.router_for(target) {
            router.demonitor(pid, target, reference);
        } else if let Some(p) = node.lookup(target) {
            p.core().remove_monitored_by(reference);
        }
    }
    // Waits that started during the clean-up.
    let (late_waiter, late_waiters) = core.finish_told();
    node.remove(pid);
    let all = told.waiter.into_iter().chain(told.waiters);
    for waiter in all.chain(late_waiter).chain(late_waiters) {
        let _ = waiter.send(reason.clone());
    }
}

/// A process ended by the runtime's shutdown (`main` returned with processes alive, a test's
/// runtime dropped): not a crash. Logged once per program at `INFO`, each process at `DEBUG`.
fn log_runtime_shutdown(kind: ProcessKind, pid: Pid) {
    static LOGGED: AtomicBool = AtomicBool::new(false);
    if !LOGGED.swap(true, Ordering::Relaxed) {
        tracing::info!(
            "the tokio runtime shut down with processes alive: they end with reason `killed` \
             (logged once; each process at DEBUG)"
        );
    }
    tracing::debug!(%pid, %kind, "process {pid} ended: the runtime shut down");
}

fn log_exit(kind: ProcessKind, pid: Pid, reason: &ExitReason) {
    match reason {
        ExitReason::Panic(msg) => tracing::error!(%pid, %kind, "process {pid} panicked: {msg}"),
        r if kind.is_server() && !r.is_clean() => {
            tracing::error!(%pid, %kind, reason = %r, "GenServer {kind} {pid} terminating: {r}")
        }
        r => tracing::trace!(%pid, %kind, reason = %r, "process {pid} exited"),
    }
}
