//! The far half of a [`ServerRef`](super::ServerRef): a reference to a server of another node,
//! whose calls, casts and stops go through the calling node's router (see
//! [`process::remote`](crate::process::remote)), encoded through the server's [`Wire`].
//!
//! Every operation here is out of the local path's line: a local reference never comes here.
//! A reference is made on one node but may be used from another, even from its server's own:
//! the `ServerRef` sees to that case ([`RemoteRef::is_here`]) before it comes here.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use super::GenServer;
use super::call_timer::CallTimer;
use super::error::{CallError, CastError, StopError};
use super::wire::Wire;
use crate::exit::ExitReason;
use crate::message::Info;
use crate::node::Node;
use crate::pid::Pid;
use crate::process::{
    Myself, Process, RemoteCallError, RemoteTarget, RouteError, Router, SpawnOptions, current_pid,
    spawn_with,
};

/// A call on its way, boxed: the local call's future does not grow for it.
pub(super) type RemoteCall<'a, T> = Pin<Box<dyn Future<Output = Result<T, CallError>> + Send + 'a>>;

/// A server of another node, as a reference holds it.
pub(super) struct RemoteRef<S: GenServer> {
    pid: Pid,
    wire: Wire<S>,
    /// The node the reference was made on: its router is used by code that runs on no
    /// distributed node (a plain tokio task, the main thread).
    origin: Node,
    /// Set once an operation through this reference (or a clone) learned that the server ended.
    ended: AtomicBool,
}

impl<S: GenServer> RemoteRef<S> {
    pub(super) fn new(pid: Pid, wire: Wire<S>) -> Self {
        RemoteRef {
            pid,
            wire,
            origin: Node::current(),
            ended: AtomicBool::new(false),
        }
    }

    pub(super) fn pid(&self) -> Pid {
        self.pid
    }

    /// Whether the server is not known to have ended; used on the server's own node, whether it
    /// is alive there.
    pub(super) fn is_alive(&self) -> bool {
        if self.is_here() {
            return crate::process::is_alive(self.pid);
        }
        !self.ended.load(Ordering::Relaxed)
    }

    /// Whether the code running now runs on the server's own node: a reference is made on one
    /// node, but may be used from another.
    pub(super) fn is_here(&self) -> bool {
        Node::current().owns(self.pid)
    }

    /// The router of the calling code's node, if it is distributed; for code that runs on no
    /// distributed node (outside any process, on a thread of no node's runtime), the router of
    /// the node the reference was made on.
    fn router(&self) -> Option<&'static Arc<dyn Router>> {
        Node::current().router().or_else(|| self.origin.router())
    }

    /// Remembers what a failure says of the server's life.
    fn learn(&self, reason: Option<&ExitReason>, no_proc: bool) {
        let ended = no_proc || reason.is_some_and(|r| *r != ExitReason::NoConnection);
        if ended {
            self.ended.store(true, Ordering::Relaxed);
        }
    }

    /// A call: the request is encoded by the router before this returns; the reply is decoded
    /// into `S::Reply` when it comes. Bounded by `timeout` here too, whatever the router does.
    #[cold]
    #[inline(never)]
    pub(super) fn call(&self, request: S::Call, timeout: Duration) -> RemoteCall<'_, S::Reply> {
        let sent = self.router().map(|router| {
            router.call(
                current_pid(),
                RemoteTarget::Pid(self.pid),
                self.wire.call(&request),
                timeout,
            )
        });
        drop(request);
        let call = async move {
            let Some(reply) = sent else {
                return Err(CallError::NotDistributed);
            };
            let answer = bounded(reply, timeout)
                .await
                .unwrap_or(Err(RemoteCallError::Timeout));
            match answer {
                Ok(payload) => self.wire.decode_reply(&payload).map_err(CallError::Decode),
                Err(e) => {
                    let e = CallError::from(e);
                    match &e {
                        CallError::NoProc => self.learn(None, true),
                        CallError::Exited(reason) => self.learn(Some(reason), false),
                        _ => {}
                    }
                    Err(e)
                }
            }
        };
        if super::events::call_spans() {
            let span =
                super::events::call_span(self.pid, std::any::type_name::<S>(), || None, call);
            Box::pin(span)
        } else {
            Box::pin(call)
        }
    }

    /// A cast: handed to the router, which encodes it at once; the message is handed back
    /// with every error.
    #[cold]
    #[inline(never)]
    pub(super) fn cast(&self, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        let Some(router) = self.router() else {
            return Err(CastError::NotDistributed(message));
        };
        let sent = router.cast(RemoteTarget::Pid(self.pid), self.wire.cast(&message));
        let why = match sent {
            Ok(()) => return Ok(()),
            Err(RouteError::Busy(_)) => return Err(CastError::Busy(message)),
            Err(RouteError::Encode(why)) => why,
            Err(RouteError::NotSendable { type_name, .. }) => {
                format!("a {type_name} cannot be sent to another node")
            }
        };
        tracing::warn!(
            server = %self.pid,
            "a cast to {} did not encode: {why}",
            std::any::type_name::<S>()
        );
        Err(CastError::Encode(message))
    }

    /// A cast that, refused because the connection is busy, tries again after letting the
    /// runtime run once (a connection's writer on this thread then takes the queue, with no
    /// wake-up), and after that waits until the connection has room
    /// ([`ServerRouter::room`](crate::process::ServerRouter::room)).
    #[cold]
    #[inline(never)]
    pub(super) async fn cast_wait(&self, mut message: S::Cast) -> Result<(), CastError<S::Cast>> {
        let mut yielded = false;
        loop {
            match self.cast(message) {
                Err(CastError::Busy(back)) => {
                    message = back;
                    if !yielded {
                        yielded = true;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    yielded = false;
                    let Some(router) = self.router() else {
                        return Err(CastError::NotDistributed(message));
                    };
                    router.room(RemoteTarget::Pid(self.pid)).await;
                }
                done => return done,
            }
        }
    }

    /// A stop: `terminate` runs on the server's node; resolves once the server has exited.
    #[cold]
    #[inline(never)]
    pub(super) async fn stop(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<(), StopError> {
        let Some(router) = self.router() else {
            return Err(StopError::Remote(RemoteCallError::NotDistributed));
        };
        let stopped = router.stop(self.pid, reason.clone(), timeout);
        let exited = bounded(stopped, timeout)
            .await
            .unwrap_or(Err(RemoteCallError::Timeout));
        match exited {
            Ok(exited) => {
                self.learn(Some(&exited), false);
                if exited == reason {
                    Ok(())
                } else {
                    Err(StopError::Exited(exited))
                }
            }
            Err(e) => {
                let e = StopError::from(e);
                match &e {
                    StopError::NoProc => self.learn(None, true),
                    StopError::Exited(reason) => self.learn(Some(reason), false),
                    _ => {}
                }
                Err(e)
            }
        }
    }

    /// Resolves with the server's exit reason: a process of this node monitors it, through the
    /// router, from the first poll on, and reports its `Down` (`noconnection` if the connection
    /// is lost, at once if this node is not distributed; `noproc` if the server is gone).
    #[cold]
    #[inline(never)]
    pub(super) async fn wait_exit(&self) -> ExitReason {
        if self.is_here() {
            return crate::process::wait_exit(self.pid).await;
        }
        let server = self.pid;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let watcher = async move |mut me: Process| -> () {
            let mut tx = tx;
            loop {
                tokio::select! {
                    info = me.recv() => {
                        // Its only monitor.
                        if let Info::Down(down) = info
                            && down.pid() == Some(server)
                        {
                            let _ = tx.send(down.reason().clone());
                            return;
                        }
                    }
                    // Nobody waits any more: the monitor goes with the watcher.
                    () = tx.closed() => return,
                }
            }
        };
        // The monitor is set before this returns, so that an end that comes next is seen.
        let watching = spawn_with(None, SpawnOptions::default(), watcher, |entry| {
            Myself::of(entry).monitor(server)
        });
        let reason = match watching {
            Ok(_) => rx.await.ok(),
            Err(_) => None,
        };
        // The watcher ends only with a `Down`, unless the runtime shuts down under it.
        let reason = reason.unwrap_or(ExitReason::NoConnection);
        self.learn(Some(&reason), false);
        reason
    }
}

/// `future`, or `None` once `timeout` has passed (`Duration::MAX`: no limit, no timer).
pub(super) async fn bounded<F: Future + Unpin>(
    mut future: F,
    timeout: Duration,
) -> Option<F::Output> {
    let mut deadline = CallTimer::start(timeout);
    poll_fn(|cx| match Pin::new(&mut future).poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => Pin::new(&mut deadline).poll(cx).map(|()| None),
    })
    .await
}
