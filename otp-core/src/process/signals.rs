//! What passes between processes: exit signals, links and monitors.

use super::core::{ExitSig, ProcessCore, ProcessEntry};
use crate::exit::ExitReason;
use crate::message::{ExitSignal, Info, MonitorRef, Monitored};
use crate::pid::Pid;

/// Why a link could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The process does not exist (and the caller does not trap exits; a trapping caller gets an
    /// exit message with reason `NoProc` instead).
    #[error("cannot link to {0}: no such process")]
    NoProc(Pid),
    /// The process is on a node that cannot be reached.
    #[error("cannot link to {0}: no connection to its node")]
    NoConnection(Pid),
}

/// Sends an exit signal to the process `to` of `from`'s node, or of the node `node` (dropped if
/// it is not alive).
///
/// A process that traps exits gets the signal as a message, queued at once: behind what was
/// sent to it before, ahead of what is sent after, as Erlang delivers signals in order. (Were
/// it queued apart and turned into a message only when the process next runs, a message sent
/// after the signal — a call to a supervisor from someone who saw its child die — could be
/// handled first.) A `Kill` sent directly cannot be trapped; it, and every signal to a process
/// that does not trap exits, is acted on by the process itself.
pub(crate) fn send_exit_signal(
    node: super::Node,
    to: Pid,
    from: Option<Pid>,
    reason: ExitReason,
    link: bool,
) {
    if let Some(router) = node.router_for(to) {
        router.exit(from, to, reason, link);
        return;
    }
    let Some(p) = node.lookup(to) else { return };
    let core = p.core();
    if core.traps_exits() && (link || reason != ExitReason::Kill) {
        // A link signal only counts while the link exists: after `unlink` returns, the linked
        // process no longer affects us.
        if link && !from.is_some_and(|from| core.remove_link(from)) {
            return;
        }
        p.push_system(Info::Exit(ExitSignal::new(from, reason)));
        return;
    }
    core.signal(from, reason, link);
}

/// Acts on the pending exit signals of a process. Returns the reason it must exit with, if
/// one of them ends it (the first such signal wins).
pub(crate) fn handle_signals(me: &dyn ProcessEntry) -> Option<ExitReason> {
    let core = me.core();
    for ExitSig { from, reason, link } in core.take_signals() {
        if link {
            // A link signal only counts while the link exists: after `unlink` returns, the
            // linked process no longer affects us.
            if !from.is_some_and(|from| core.remove_link(from)) {
                continue;
            }
        }
        if !link && reason == ExitReason::Kill {
            return Some(ExitReason::Killed);
        }
        if core.traps_exits() {
            me.push_system(Info::Exit(ExitSignal::new(from, reason)));
            continue;
        }
        if reason == ExitReason::Normal {
            if from == Some(core.pid) {
                return Some(ExitReason::Normal);
            }
            continue;
        }
        return Some(reason);
    }
    None
}

/// Links two processes of one node, both alive (a process and the one it just made).
pub(crate) fn link_pair(a: &ProcessCore, b: &ProcessCore) {
    a.add_link(b.pid);
    b.add_link(a.pid);
}

/// Links the process `me` with `other` (both directions).
pub(crate) fn link(me: &dyn ProcessEntry, other: Pid) -> Result<(), LinkError> {
    let core = me.core();
    if other == core.pid {
        return Ok(());
    }
    let dead_reason = if !core.node.owns(other) {
        if let Some(router) = core.node.router() {
            // The other node adds its side, or answers with an exit signal (`noproc`, or
            // `noconnection` if it cannot be reached).
            core.add_link(other);
            router.link(core.pid, other);
            return Ok(());
        }
        Some(ExitReason::NoConnection)
    } else {
        match core.node.lookup(other) {
            Some(p) if p.core().add_link(core.pid) => None,
            _ => Some(ExitReason::NoProc),
        }
    };
    match dead_reason {
        None => {
            core.add_link(other);
            Ok(())
        }
        Some(reason) if core.traps_exits() => {
            me.push_system(Info::Exit(ExitSignal::new(Some(other), reason)));
            Ok(())
        }
        Some(ExitReason::NoConnection) => Err(LinkError::NoConnection(other)),
        Some(_) => Err(LinkError::NoProc(other)),
    }
}

/// Removes the link between `me` and `other`, if any.
pub(crate) fn unlink(me: &ProcessCore, other: Pid) {
    me.remove_link(other);
    if let Some(router) = me.node.router_for(other) {
        router.unlink(me.pid, other);
    } else if let Some(p) = me.node.lookup(other) {
        p.core().remove_link(me.pid);
    }
}

/// Sets a monitor held by `me` on a process (by pid or by name).
pub(crate) fn monitor(me: &dyn ProcessEntry, target: Option<Pid>, object: Monitored) -> MonitorRef {
    let core = me.core();
    let reference = core.node.monitor_ref(target);
    core.add_monitoring(reference);
    let dead_reason = match target {
        Some(t) if !core.node.owns(t) => match core.node.router() {
            // The `Down` comes back from the other node.
            Some(router) => {
                router.monitor(core.pid, t, reference);
                None
            }
            None => Some(ExitReason::NoConnection),
        },
        Some(t) => match core.node.lookup(t) {
            Some(p)
                if p.core()
                    .add_monitored_by(reference, core.pid, object.clone()) =>
            {
                None
            }
            _ => Some(ExitReason::NoProc),
        },
        None => Some(ExitReason::NoProc),
    };
    if let Some(reason) = dead_reason {
        me.deliver_down(reference, object, reason);
    }
    reference
}

/// Removes a monitor held by `me`. Returns whether it was still active (no `Down` sent yet).
pub(crate) fn demonitor(me: &ProcessCore, reference: MonitorRef) -> bool {
    let active = me.remove_monitoring(reference);
    if active && let Some(target) = reference.target {
        if let Some(router) = me.node.router_for(target) {
            router.demonitor(me.pid, target, reference);
        } else if let Some(p) = me.node.lookup(target) {
            p.core().remove_monitored_by(reference);
        }
    }
    active
}
