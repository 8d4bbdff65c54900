//! The seam to other nodes: what a node sends through its [`Router`] when a pid is not its own,
//! and what distribution delivers into it.
//!
//! otp-core knows that a pid can belong to another node, not how to reach it. Distribution
//! (the crate `otp-dist`) installs a [`Router`] on a node ([`Node::set_router`]); from then on
//! every send, link, unlink, monitor, demonitor and exit signal aimed at a pid of another node goes
//! through it, and the news from other nodes comes back through the `deliver_*` operations of
//! [`Node`], which act exactly as their local counterparts do — so trapping exits, the exit-reason
//! matrix and a monitor's single `Down` hold unchanged for remote pids. Without a router, a pid
//! of another node is unreachable: a message to it is dropped, a link to it fails with
//! `noconnection` (or, for a process that traps exits, an exit message), a monitor on it fires
//! `noconnection` at once.
//!
//! The router owns the bookkeeping of what crosses a connection (which local process is linked
//! to, or monitors, which remote one): when a connection is lost it tells each local process
//! concerned, once, with reason `noconnection`, through the same `deliver_*` operations.
//!
//! # Servers
//!
//! The typed half of the seam ([`ServerRouter`](super::ServerRouter)) carries a server's calls,
//! casts and stops. A process of this node holding a `ServerRef` to a server of another node
//! hands its request to the router as an [`Encode`](super::Encode) value, which distribution
//! writes in its wire form (MessagePack); on the server's node, distribution hands those bytes
//! to [`Node::deliver_call`] or
//! [`Node::deliver_cast`], which decode it into the server's own message type, through the
//! server's wire form (`GenServer::WIRE`), and queue it as a local call or cast would be. The
//! reply goes back through the [`ReplySink`] the call came with. Only servers with a wire form
//! accept them; anything else is refused with a typed [`DeliverError`] for the caller, never a
//! crash on either side. [`Node::kind_of`] answers a remote `whereis`.

use std::sync::Arc;

use super::core::{Node, ProcessEntry};
use super::route::{CastFeed, CastSink, DeliverError, LocalTarget, ReplySink, Router};
use super::signals::send_exit_signal;
use crate::exit::ExitReason;
use crate::message::{Message, MonitorRef, Monitored, Name};
use crate::pid::Pid;

impl Node {
    /// Installs the router through which this node reaches others (see the
    /// [module docs](crate::process::remote)). A node has one router for its life: a second
    /// call returns the router it was given back.
    ///
    /// # Errors
    /// The router, if the node has one already.
    pub fn set_router(&self, router: Arc<dyn Router>) -> Result<(), Arc<dyn Router>> {
        self.0.router.set(router)
    }

    /// The router of this node, if it is distributed (for the node's life: a node is never
    /// freed, nor its router replaced).
    pub fn router(&self) -> Option<&'static Arc<dyn Router>> {
        self.0.router.get()
    }

    /// An info message from another node for the process `to` of this one: queued as a message
    /// sent locally would be (a bound applies). Returns whether it was queued (`false`: no such
    /// process, its mailbox closed or full).
    pub fn deliver_message(&self, to: Pid, message: Message) -> bool {
        self.lookup(to)
            .is_some_and(|p| p.push_message(message).is_ok())
    }

    /// An info message from another node for the process registered as `name` here. Returns
    /// whether it was queued.
    pub fn deliver_named(&self, name: &Name, message: Message) -> bool {
        self.whereis(name)
            .is_some_and(|pid| self.deliver_message(pid, message))
    }

    /// An exit signal from the process `from` of another node (none: `exit` was called outside
    /// any process there) to `to`, acted on as a local one is: `link` says the link between them
    /// broke (`from` ended, or the connection was lost: reason `noconnection`) — ignored unless
    /// `to` still holds that link — else it is `exit(to, reason)`.
    pub fn deliver_exit(&self, from: Option<Pid>, to: Pid, reason: ExitReason, link: bool) {
        send_exit_signal(*self, to, from, reason, link);
    }

    /// The process `from` of another node linked itself to `to`: `to` holds the link from now
    /// on, or, if it does not exist, `from` is sent an exit signal `noproc` from it.
    pub fn deliver_link(&self, from: Pid, to: Pid) {
        let linked = self.lookup(to).is_some_and(|p| p.core().add_link(from));
        if !linked && let Some(router) = self.router() {
            router.exit(Some(to), from, ExitReason::NoProc, true);
        }
    }

    /// The process `from` of another node removed its link to `to`.
    pub fn deliver_unlink(&self, from: Pid, to: Pid) {
        if let Some(p) = self.lookup(to) {
            p.core().remove_link(from);
        }
    }

    /// The process `watcher` of another node monitors `target` under `reference`: the
    /// monitor is set, or, if `target` does not exist, its `Down` (`noproc`) is sent at once.
    pub fn deliver_monitor(&self, watcher: Pid, target: Pid, reference: MonitorRef) {
        let set = self.lookup(target).is_some_and(|p| {
            p.core()
                .add_monitored_by(reference, watcher, Monitored::Pid(target))
        });
        if !set && let Some(router) = self.router() {
            router.down(watcher, target, reference, ExitReason::NoProc);
        }
    }

    /// The process `watcher` of another node removed its monitor `reference` on `target`.
    pub fn deliver_demonitor(&self, target: Pid, reference: MonitorRef) {
        if let Some(p) = self.lookup(target) {
            p.core().remove_monitored_by(reference);
        }
    }

    /// The process of another node that `watcher`, a process of this one, monitored under
    /// `reference` ended with `reason` (or the connection to its node was lost:
    /// `noconnection`): `watcher` gets its `Down`, once, unless it removed the monitor.
    pub fn deliver_down(&self, watcher: Pid, reference: MonitorRef, reason: ExitReason) {
        if let Some(w) = self.lookup(watcher) {
            let object = Monitored::Pid(reference.target.unwrap_or(watcher));
            w.deliver_down(reference, object, reason);
        }
    }

    // ---- servers ----

    /// A call from another node for the server `to` of this one: the request is decoded into
    /// the server's call type and queued as a local call is, its reply to be sent through
    /// `reply` — by the handler's return or, deferred, through its `ReplyTo`; the server's code
    /// does not know the difference. Returns the server's pid (the caller's side may monitor
    /// it, so that the call ends if the server does).
    ///
    /// A bounded mailbox applies its policy, but a delivery never waits for room: policy `Wait`
    /// refuses a call to a full mailbox as `Error` does. A call later pushed out of the mailbox
    /// by a newer message (`Overflow::DropOldest`) drops `reply` unused (a [`ReplySink`] has no
    /// way to refuse).
    ///
    /// # Errors
    /// [`DeliverError::NoProc`] if `to` is no live process (or no registered name),
    /// [`DeliverError::NotRemote`] with its kind if it is not a server with a wire form,
    /// [`DeliverError::Decode`] if the request does not decode as its call type (logged here as
    /// well), [`DeliverError::MailboxFull`]. `reply` is dropped unused on every error.
    pub fn deliver_call(
        &self,
        to: LocalTarget<'_>,
        request: &[u8],
        reply: Box<dyn ReplySink>,
    ) -> Result<Pid, DeliverError> {
        let entry = self.target(to).ok_or(DeliverError::NoProc)?;
        let pid = entry.core().pid;
        entry
            .deliver_remote_call(request, reply)
            .inspect_err(|e| undelivered(pid, "call", e))?;
        Ok(pid)
    }

    /// A cast from another node for the server `to` of this one: decoded into the server's cast
    /// type and queued as a local cast is.
    ///
    /// # Errors
    /// As [`deliver_call`](Self::deliver_call)'s. A cast has nobody to tell: a cast that does
    /// not decode, or is not for a server with a wire form, is logged here.
    pub fn deliver_cast(&self, to: LocalTarget<'_>, message: &[u8]) -> Result<(), DeliverError> {
        let entry = self.target(to).ok_or(DeliverError::NoProc)?;
        let pid = entry.core().pid;
        entry
            .deliver_remote_cast(message)
            .inspect_err(|e| undelivered(pid, "cast", e))
    }

    /// A stop from another node for the server `to` of this one (`gen_server:stop`): queued as
    /// a local `ServerRef::stop` is, after the messages already there; `terminate` runs. Any
    /// server can be stopped so, with or without a wire form. The caller's side learns the
    /// exit reason through a monitor (or [`wait_exit`](crate::process::wait_exit) on this
    /// node).
    ///
    /// # Errors
    /// [`DeliverError::NoProc`] if `to` is no live process, [`DeliverError::NotRemote`] if it
    /// is a plain process.
    pub fn deliver_stop(&self, to: Pid, reason: ExitReason) -> Result<(), DeliverError> {
        self.target(LocalTarget::Pid(to))
            .ok_or(DeliverError::NoProc)?
            .deliver_remote_stop(reason)
    }

    /// The live process `to` of this node and its kind's name — for a server, its type's name
    /// (`std::any::type_name`), which a typed reference on another node checks; `"process"`
    /// for a plain process. What distribution answers a remote `whereis` with.
    pub fn kind_of(&self, to: LocalTarget<'_>) -> Option<(Pid, String)> {
        let entry = self.target(to)?;
        let core = entry.core();
        Some((core.pid, core.kind().name().to_owned()))
    }

    /// The live process `to` names on this node.
    fn target(&self, to: LocalTarget<'_>) -> Option<Arc<dyn ProcessEntry>> {
        let pid = match to {
            LocalTarget::Pid(pid) => pid,
            LocalTarget::Name(name) => self.whereis(name)?,
        };
        self.lookup(pid).filter(|p| p.core().is_alive())
    }
}

/// A burst of casts from another node, delivered to processes of this one: what a
/// connection's reader holds while it hands out the frames one read brought
/// ([`Node::deliveries`]). It keeps the process the last cast went to, so that a burst of
/// casts to one server finds it in the process table once; each cast is otherwise delivered
/// as [`Node::deliver_cast`] delivers it.
///
/// It holds that process's control block: [`forget`](Self::forget) it before waiting for more
/// (the reader does when its buffer is empty), so that no ended process is kept.
pub struct Deliveries {
    node: Node,
    last: Option<(Pid, Arc<dyn ProcessEntry>)>,
}

impl Deliveries {
    /// A cast from another node for the server `to`, as [`Node::deliver_cast`].
    ///
    /// # Errors
    /// As [`Node::deliver_cast`]'s.
    pub fn cast(&mut self, to: Pid, message: &[u8]) -> Result<(), DeliverError> {
        self.entry(to)
            .ok_or(DeliverError::NoProc)?
            .deliver_remote_cast(message)
            .inspect_err(|e| undelivered(to, "cast", e))
    }

    /// The live process `to`: the last one, or found now (and kept).
    fn entry(&mut self, to: Pid) -> Option<&Arc<dyn ProcessEntry>> {
        let kept =
            matches!(&self.last, Some((pid, entry)) if *pid == to && entry.core().is_alive());
        if !kept {
            self.last = None;
            let entry = self.node.target(LocalTarget::Pid(to))?;
            self.last = Some((to, entry));
        }
        self.last.as_ref().map(|(_, entry)| entry)
    }

    /// A burst of casts from another node for the server `to`: `feed` hands them to the sink it
    /// is given, one by one, in order, and learns what became of each (as
    /// [`Node::deliver_cast`]'s outcome; `NoProc` for each if `to` is no live process). Each is
    /// decoded as it comes; for an unbounded mailbox they are queued together, after the last
    /// one, in one hold of the mailbox's lock and with one wake-up of the process — what a
    /// connection's reader does with the casts to one process that one read brought. Casts
    /// that are refused (they do not decode, the server has no wire form) are logged.
    ///
    /// Returns whether the casts woke the server from an empty mailbox: then
    /// [`taken`](Self::taken) waits until it has taken them.
    pub fn casts(&mut self, to: Pid, feed: &mut CastFeed<'_>) -> bool {
        let entry = self.entry(to);
        let logged = &mut |sink: &mut CastSink<'_>| {
            feed(&mut |message| sink(message).inspect_err(|e| undelivered(to, "cast", e)));
        };
        match entry {
            Some(entry) => entry.deliver_remote_casts(logged),
            None => {
                feed(&mut |_| Err(DeliverError::NoProc));
                false
            }
        }
    }

    /// Resolves once the process the last casts went to has taken what its mailbox holds (it
    /// runs and comes to them), or has ended; at once if there is none. What the reader of a
    /// connection waits for after it woke a server with a run of casts, rather than yielding:
    /// the server runs before more come, and nothing else is left runnable meanwhile, so a
    /// multi-thread runtime has no reason to wake another worker. The wait ends when the
    /// server *starts* on the run, never waits for it to be handled.
    pub fn taken(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| match &self.last {
            Some((_, entry)) => entry.poll_taken(cx),
            None => std::task::Poll::Ready(()),
        })
    }

    /// Lets go of the process the last cast went to.
    pub fn forget(&mut self) {
        self.last = None;
    }
}

impl Node {
    /// What delivers a burst of casts from another node to processes of this one (see
    /// [`Deliveries`]).
    pub fn deliveries(&self) -> Deliveries {
        Deliveries {
            node: *self,
            last: None,
        }
    }
}

/// Logs a call or cast from another node that a server of this node could not take: the
/// receiver's side of a decode error (the caller's side, if any, gets the error too).
fn undelivered(pid: Pid, what: &str, error: &DeliverError) {
    match error {
        DeliverError::Decode(_) | DeliverError::NotRemote(_) => {
            tracing::warn!(%pid, "a {what} from another node was refused: {error}");
        }
        _ => tracing::debug!(%pid, "a {what} from another node was not delivered: {error}"),
    }
}
