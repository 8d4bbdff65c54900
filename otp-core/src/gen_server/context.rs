//! The context a GenServer's callbacks receive, and the reply handle of a call.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Sleep;

use super::run::Request;
use super::{GenServer, ServerRef};
use crate::pid::Pid;
use crate::process::{Pcb, Receiver, process_self_ops};

/// A GenServer's handle on its own process, given to every callback: its pid, a typed reference
/// to itself, the reply handle of the call being served, and the operations a process does on
/// itself (link, monitor, trap exits, timers, spawn).
pub struct Context<S: GenServer> {
    pub(crate) pcb: Arc<Pcb<Request<S>>>,
    pub(crate) rx: Receiver<Request<S>>,
    pub(crate) from: Option<ReplyTo<S::Reply>>,
    pub(crate) hibernate_after: Option<Duration>,
    /// The timer of idle timeouts and `hibernate_after`, kept between uses.
    idle_timer: Option<Pin<Box<Sleep>>>,
}

impl<S: GenServer> Context<S> {
    process_self_ops!();

    pub(crate) fn new(pcb: Arc<Pcb<Request<S>>>, hibernate_after: Option<Duration>) -> Self {
        Context {
            pcb,
            rx: Receiver::new(),
            from: None,
            hibernate_after,
            idle_timer: None,
        }
    }

    /// A typed reference to this server.
    pub fn server_ref(&self) -> ServerRef<S> {
        ServerRef::from_pcb(self.pcb.clone())
    }

    /// Takes the reply handle of the call being served, to reply later: return
    /// [`CallResult::NoReply`](super::CallResult::NoReply) and call [`ReplyTo::reply`] when the
    /// answer is ready, from this server or any other task. `None` outside `handle_call`, or if
    /// already taken.
    pub fn defer_reply(&mut self) -> Option<ReplyTo<S::Reply>> {
        self.from.take()
    }

    /// The process that started this server, if it was started from a process.
    pub fn parent(&self) -> Option<Pid> {
        self.pcb.core.parent
    }

    /// Receives the next request, hibernating once the mailbox is empty if asked (or after
    /// `hibernate_after` idle). The hot path, with no `hibernate_after`, arms no timer.
    pub(crate) async fn next(&mut self, hibernate: bool) -> Request<S> {
        match self.hibernate_after {
            Some(after) if !hibernate => match self.recv_within(after).await {
                Some(r) => r,
                None => self.recv(true).await,
            },
            _ => self.recv(hibernate).await,
        }
    }

    /// Receives the next request.
    pub(crate) fn recv(&mut self, hibernate: bool) -> impl Future<Output = Request<S>> + '_ {
        let pcb = &*self.pcb;
        let rx = &mut self.rx;
        poll_fn(move |cx| rx.poll_recv(&pcb.mailbox, &pcb.core, hibernate, cx))
    }

    /// Receives the next request, or `None` if none comes within `after`. The idle timer is kept
    /// between uses and moved forward, which costs tokio no lock.
    pub(crate) fn recv_within(
        &mut self,
        after: Duration,
    ) -> impl Future<Output = Option<Request<S>>> + '_ {
        let deadline = super::call_timer::deadline_after(after);
        let timer = match &mut self.idle_timer {
            Some(t) => {
                t.as_mut().reset(deadline);
                t
            }
            none => none.insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        let pcb = &*self.pcb;
        let rx = &mut self.rx;
        poll_fn(move |cx| {
            if let Poll::Ready(r) = rx.poll_recv(&pcb.mailbox, &pcb.core, false, cx) {
                return Poll::Ready(Some(r));
            }
            timer.as_mut().poll(cx).map(|()| None)
        })
    }
}

impl<S: GenServer> std::fmt::Debug for Context<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("server", &std::any::type_name::<S>())
            .field("pid", &self.pcb.core.pid)
            .finish()
    }
}

/// The handle to answer one call (Erlang's `From`). Reply with [`reply`](ReplyTo::reply), once,
/// from any task. Dropping it without replying leaves the caller waiting until its timeout, as
/// a server that never replies does in Erlang.
pub struct ReplyTo<R> {
    tx: oneshot::Sender<R>,
    /// The caller's waker, while the caller has armed no timer: the server wakes it if it does
    /// not answer within the poll that handles the call.
    pub(crate) nudge: Option<Waker>,
}

impl<R> ReplyTo<R> {
    pub(crate) fn new(tx: oneshot::Sender<R>) -> Self {
        ReplyTo { tx, nudge: None }
    }

    /// Sends the reply. Returns whether the caller was still waiting for it (a reply after the
    /// call timed out is dropped).
    pub fn reply(self, value: R) -> bool {
        self.tx.send(value).is_ok()
    }

    /// Whether the caller is still waiting for the reply.
    pub fn is_waiting(&self) -> bool {
        !self.tx.is_closed()
    }
}

impl<R> std::fmt::Debug for ReplyTo<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyTo")
            .field("waiting", &self.is_waiting())
            .finish()
    }
}
