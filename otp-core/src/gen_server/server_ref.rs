//! The typed handle to a server.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::oneshot;

#[cfg(doc)]
use super::DEFAULT_CALL_TIMEOUT;
use super::GenServer;
use super::call_timer::CallTimer;
use super::error::{CallError, CastError, RefError, StopError};
use super::request::{Answer, Caller, Refused, Request};
use crate::exit::ExitReason;
use crate::message::Name;
use crate::pid::Pid;
use crate::process::{Pcb, PushError, Wake, current_pid, lookup};

/// A [`ServerRef`] with its own call timeout, made by [`ServerRef::with_timeout`]. It is a
/// [`ServerHandle`](super::ServerHandle), so the typed client methods of a derived server work
/// on it as they do on the `ServerRef`; casts are unaffected by the timeout.
#[derive(Debug)]
pub struct WithTimeout<'a, S: GenServer> {
    server: &'a ServerRef<S>,
    timeout: Duration,
}

impl<S: GenServer> Clone for WithTimeout<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: GenServer> Copy for WithTimeout<'_, S> {}

impl<'a, S: GenServer> WithTimeout<'a, S> {
    /// The server.
    pub fn server(&self) -> &'a ServerRef<S> {
        self.server
    }

    /// The timeout of calls made through this reference.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// A typed reference to a running server: typed `call` and `cast`, no boxing on the way.
///
/// Cheap to clone. It keeps no server alive: once the server ends, calls return
/// [`CallError::NoProc`] and casts are dropped.
///
/// # Waiting from the main thread
///
/// The body of `#[tokio::main]` (multi-thread flavor) runs in `Runtime::block_on` on the main
/// thread, which is not one of tokio's workers. Each `call`, `stop` or `wait_exit` awaited there
/// wakes the server on a worker through tokio's injection queue, then parks the main thread until
/// that worker unparks it: two cross-thread wake-ups, where a task on a worker wakes the server
/// in its own LIFO slot with no system call. Raw tokio pays the same. In a loop over many
/// processes (stopping a million servers: 16–20 s against 1–2 s on 2 cores), run the loop in a
/// spawned task (`tokio::spawn(async move { .. }).await`) or use `flavor = "current_thread"`.
pub struct ServerRef<S: GenServer> {
    pcb: Arc<Pcb<Request<S>>>,
}

impl<S: GenServer> Clone for ServerRef<S> {
    fn clone(&self) -> Self {
        ServerRef {
            pcb: self.pcb.clone(),
        }
    }
}

impl<S: GenServer> PartialEq for ServerRef<S> {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl<S: GenServer> Eq for ServerRef<S> {}

impl<S: GenServer> std::fmt::Debug for ServerRef<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerRef<{}>{}", std::any::type_name::<S>(), self.pid())
    }
}

impl<S: GenServer> ServerRef<S> {
    pub(crate) fn from_pcb(pcb: Arc<Pcb<Request<S>>>) -> Self {
        ServerRef { pcb }
    }

    /// The server's pid, for links, monitors, exits and untyped `send`.
    pub fn pid(&self) -> Pid {
        self.pcb.core.pid
    }

    /// Recovers a typed reference from a pid, checking that it is a live server of type `S`.
    pub fn from_pid(pid: Pid) -> Result<Self, RefError> {
        let entry = lookup(pid)
            .filter(|p| p.core().is_alive())
            .ok_or(RefError::NoProc(pid))?;
        let actual = entry.core().kind();
        match entry.into_any().downcast::<Pcb<Request<S>>>() {
            Ok(pcb) => Ok(ServerRef { pcb }),
            Err(_) => Err(RefError::WrongType {
                pid,
                actual,
                expected: std::any::type_name::<S>(),
            }),
        }
    }

    /// The server registered under a name on this node, if it is a server of type `S`.
    pub fn whereis(name: impl Into<Name>) -> Option<Self> {
        Self::from_pid(crate::name::whereis(name)?).ok()
    }

    /// Whether the server is alive.
    pub fn is_alive(&self) -> bool {
        self.pcb.core.is_alive()
    }

    /// Messages waiting in the server's mailbox.
    pub fn mailbox_len(&self) -> usize {
        self.pcb.mailbox.len()
    }

    /// Calls the server and waits for the reply, at most the server's
    /// [`CALL_TIMEOUT`](GenServer::CALL_TIMEOUT) ([`DEFAULT_CALL_TIMEOUT`], 5 s, unless the
    /// server says otherwise).
    pub fn call(
        &self,
        request: S::Call,
    ) -> impl Future<Output = Result<S::Reply, CallError>> + Send + '_ {
        self.call_timeout(request, S::CALL_TIMEOUT)
    }

    /// This reference with another call timeout, for the typed client methods of derived
    /// servers: `counter.with_timeout(Duration::from_millis(50)).get().await`.
    /// `Duration::MAX` waits without limit.
    pub fn with_timeout(&self, timeout: Duration) -> WithTimeout<'_, S> {
        WithTimeout {
            server: self,
            timeout,
        }
    }

    /// Calls the server and waits for the reply at most `timeout`.
    ///
    /// A zero timeout returns [`CallError::Timeout`] unless the reply is there at the first
    /// look (in practice it never is); `Duration::MAX` waits without limit. On a bounded
    /// mailbox with policy `Wait`, the wait for room counts against the timeout.
    ///
    /// A call to a server waiting on an empty mailbox arms its timer only if the server does not
    /// answer within the poll that handles it; the timeout then counts from there. A handler
    /// that blocks its thread (synchronous work instead of awaiting) delays that point, and so
    /// the timeout, by as long as it blocks.
    ///
    /// With [`telemetry::set_call_spans`](crate::telemetry::set_call_spans) on, the call is a
    /// span (see [`crate::telemetry`]).
    pub fn call_timeout(
        &self,
        request: S::Call,
        timeout: Duration,
    ) -> impl Future<Output = Result<S::Reply, CallError>> + Send + '_ {
        self.call_inner(request, timeout, true)
    }

    /// The call, as a span when `may_span` and the switch is on. One state machine for both:
    /// an `async` wrapper awaiting the plain call would cost every call ~30 instructions of
    /// moves, and a two-variant future ~300 of copies.
    async fn call_inner(
        &self,
        request: S::Call,
        timeout: Duration,
        may_span: bool,
    ) -> Result<S::Reply, CallError> {
        if may_span && super::events::call_spans() {
            // Boxed: the future holds itself, and the span's state does not grow the plain call's.
            let call = self.call_inner(request, timeout, false);
            let core = &self.pcb.core;
            let name = || core.name();
            let span = super::events::call_span(core.pid, core.kind().name(), name, call);
            return Box::pin(span).await;
        }
        let server = self.pid();
        if current_pid() == Some(server) {
            return Err(CallError::CallingSelf);
        }
        let (caller, mut rx) = Caller::local();
        let request = Request::Call(request, caller);
        if self.pcb.mailbox.waits_when_full() || timeout.is_zero() {
            return self.call_armed(request, rx, timeout).await;
        }
        // The usual call. If the server is waiting on an empty mailbox when the call is
        // queued, the call is the first thing it will handle, and no timer is armed: the reply
        // handle carries the caller's waker, and the server wakes the caller if it does not
        // answer within the poll that handles the call (the handler awaits something, or
        // defers its reply). Any wake-up that brings no reply arms the timer, with the full
        // timeout from then on. If the server is busy, the timer is armed at once.
        let mut to_push = Some(request);
        let mut deadline: Option<CallTimer> = None;
        let outcome = poll_fn(|cx| {
            let first = if let Some(mut request) = to_push.take() {
                if let Request::Call(_, from) = &mut request {
                    from.nudge = Some(cx.waker().clone());
                }
                match self.pcb.push_told(request) {
                    Ok(Wake::Idle) => {}
                    Ok(_) => deadline = Some(CallTimer::start(timeout)),
                    Err(PushError::Closed(_)) => return Poll::Ready(Err(CallError::NoProc)),
                    Err(PushError::Full(_)) => return Poll::Ready(Err(CallError::MailboxFull)),
                }
                true
            } else {
                false
            };
            if let Poll::Ready(reply) = Pin::new(&mut rx).poll(cx) {
                return Poll::Ready(Ok(Some(reply)));
            }
            let timer = match &mut deadline {
                Some(timer) => timer,
                None if first => return Poll::Pending,
                none => none.insert(CallTimer::start(timeout)),
            };
            Pin::new(timer).poll(cx).map(|()| Ok(None))
        })
        .await?;
        match outcome {
            Some(Ok(Ok(reply))) => Ok(reply),
            Some(Ok(Err(Refused))) => Err(CallError::MailboxFull),
            Some(Err(_)) => {
                let deadline = deadline.unwrap_or_else(|| CallTimer::start(timeout));
                self.reply_lost(deadline).await
            }
            None => Err(CallError::Timeout),
        }
    }

    /// A call whose timer runs from the start: on a bounded mailbox with policy `Wait` (the
    /// wait for room counts against the timeout), and for a zero timeout.
    async fn call_armed(
        &self,
        request: Request<S>,
        mut rx: oneshot::Receiver<Answer<S::Reply>>,
        timeout: Duration,
    ) -> Result<S::Reply, CallError> {
        let mut deadline = CallTimer::start(timeout);
        let pushed = if self.pcb.mailbox.waits_when_full() {
            if !self.pcb.core.is_alive() {
                return Err(CallError::NoProc);
            }
            tokio::select! {
                biased;
                pushed = self.pcb.push_wait(request) => match pushed {
                    // It was alive when the call began: it ended while we waited for room.
                    Err(PushError::Closed(_)) => {
                        return Err(self.pcb.core.exit_reason().map_or(CallError::NoProc, CallError::Exited));
                    }
                    other => other,
                },
                () = &mut deadline => return Err(CallError::Timeout),
            }
        } else {
            self.pcb.push(request)
        };
        match pushed {
            Ok(()) => {}
            Err(PushError::Closed(_)) => return Err(CallError::NoProc),
            Err(PushError::Full(_)) => return Err(CallError::MailboxFull),
        }
        if timeout.is_zero() {
            // As Erlang's `after 0`: look once. (A zero `sleep` only fires at the timer's next
            // tick, by which time a fast server may have replied.)
            return match rx.try_recv() {
                Ok(Ok(reply)) => Ok(reply),
                Ok(Err(Refused)) => Err(CallError::MailboxFull),
                Err(_) => Err(CallError::Timeout),
            };
        }
        let reply = poll_fn(|cx| match Pin::new(&mut rx).poll(cx) {
            Poll::Ready(r) => Poll::Ready(Some(r)),
            Poll::Pending => Pin::new(&mut deadline).poll(cx).map(|()| None),
        })
        .await;
        match reply {
            Some(Ok(Ok(reply))) => Ok(reply),
            Some(Ok(Err(Refused))) => Err(CallError::MailboxFull),
            Some(Err(_)) => self.reply_lost(deadline).await,
            None => Err(CallError::Timeout),
        }
    }

    /// The reply handle is gone: the server ended, or dropped it without replying (then, as in
    /// Erlang, the caller waits out its timeout).
    async fn reply_lost(&self, mut deadline: CallTimer) -> Result<S::Reply, CallError> {
        match self.pcb.core.exit_reason() {
            Some(reason) => Err(CallError::Exited(reason)),
            None => {
                tokio::select! {
                    reason = self.pcb.core.wait_exit() => Err(CallError::Exited(reason)),
                    () = &mut deadline => Err(CallError::Timeout),
                }
            }
        }
    }

    /// Casts a message: queued at once, handled later by `handle_cast`. A cast to a server that
    /// has ended is dropped without error, as in Erlang. Fails only on a full bounded mailbox
    /// (policies `Wait` and `Error`), handing the message back; use
    /// [`cast_wait`](Self::cast_wait) to wait for room instead.
    pub fn cast(&self, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        match self.pcb.push(Request::Cast(message)) {
            Ok(()) | Err(PushError::Closed(_)) => Ok(()),
            Err(PushError::Full(r)) => Err(CastError::MailboxFull(cast_back(r))),
        }
    }

    /// Casts a message, waiting for room if the mailbox is bounded with policy `Wait`.
    pub async fn cast_wait(&self, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        match self.pcb.push_wait(Request::Cast(message)).await {
            Ok(()) | Err(PushError::Closed(_)) => Ok(()),
            Err(PushError::Full(r)) => Err(CastError::MailboxFull(cast_back(r))),
        }
    }

    /// Stops the server with `reason` and waits until it has exited (no time limit, as
    /// Erlang's `gen_server:stop/1`). The stop is queued after the messages already there;
    /// `terminate` runs.
    pub async fn stop(&self, reason: ExitReason) -> Result<(), StopError> {
        self.stop_timeout(reason, Duration::MAX).await
    }

    /// Stops the server and waits at most `timeout` for it to exit.
    pub async fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<(), StopError> {
        if current_pid() == Some(self.pid()) {
            return Err(StopError::CallingSelf);
        }
        if !self.pcb.core.is_alive() {
            return Err(StopError::NoProc);
        }
        let exited = self.pcb.core.wait_exit();
        if !self.pcb.push_system_envelope(Request::Stop(reason.clone())) {
            return Err(StopError::NoProc);
        }
        let exited = if timeout == Duration::MAX {
            // No timer for an unlimited wait: arming one costs the time driver a wake-up.
            Some(exited.await)
        } else {
            tokio::select! {
                r = exited => Some(r),
                () = CallTimer::start(timeout) => None,
            }
        };
        match exited {
            Some(r) if r == reason => Ok(()),
            Some(r) => Err(StopError::Exited(r)),
            None => Err(StopError::Timeout),
        }
    }

    /// Resolves with the server's exit reason once it has ended.
    pub async fn wait_exit(&self) -> ExitReason {
        self.pcb.core.wait_exit().await
    }
}

fn cast_back<S: GenServer>(r: Request<S>) -> S::Cast {
    match r {
        Request::Cast(m) => m,
        _ => unreachable!("a cast was pushed"),
    }
}
