//! The typed handle to a server, of this node or of another one.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::oneshot;

#[cfg(doc)]
use super::DEFAULT_CALL_TIMEOUT;
use super::call_timer::CallTimer;
use super::error::{CallError, CastError, RefError, StopError};
use super::remote_ref::{RemoteCall, RemoteRef, bounded};
use super::request::{Answer, Caller, Refused, Request};
use super::wire::Wire;
use super::{GenServer, RemoteServer};
use crate::exit::ExitReason;
use crate::message::Name;
use crate::node::Node;
use crate::pid::Pid;
use crate::process::{Pcb, PushError, RemoteCallError, Wake, current_pid, lookup};

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
/// # A server of another node
///
/// A reference may point to a server of another node, if the server is a [`RemoteServer`]
/// (`#[gen_server(remote)]` on a derived server): [`ServerRef::remote`] finds it by name on
/// its node (Erlang's `{Name, Node}`), checking its type; [`ServerRef::from_remote_pid`] takes
/// its pid on trust. The same `call`, `cast`, `stop` — and the typed client of a derived server
/// — then go through the calling node's router (installed by distribution, see
/// [`process::remote`](crate::process::remote)): the request is encoded with the server's
/// [`Wire`], decoded into its own message type on its node, and the reply comes back the same
/// way. The local path pays one branch for this; the remote one is out of line.
///
/// What differs, as in Erlang:
///
/// - A call can fail in more ways: the connection is lost (`Exited(NoConnection)`, at once,
///   never later than the timeout), the process is not a server that other nodes can call
///   ([`CallError::NotRemote`]), the two nodes disagree on its messages
///   ([`CallError::Decode`], the server unaffected), the connection is busy
///   ([`CallError::Busy`]), this node is not distributed ([`CallError::NotDistributed`]).
/// - A cast to a node that cannot be reached is dropped, as a cast to a server that has ended;
///   but a message that does not encode, a busy connection or a node without distribution is an
///   error that hands the message back ([`CastError`]). A full bounded mailbox on the other node
///   is not reported to a cast (it is dropped there, as `DropNewest` does).
/// - [`is_alive`](Self::is_alive) cannot ask the other node without waiting: it says whether
///   the server is not known to have ended (a call, a stop or [`wait_exit`](Self::wait_exit)
///   through this reference, or a clone of it, learned that it ended).
/// - [`mailbox_len`](Self::mailbox_len) is 0: the other node's mailbox cannot be read from here.
/// - [`wait_exit`](Self::wait_exit) monitors the server through the router: a lost connection
///   resolves it with `noconnection`, whether or not the server still runs.
/// - A call from a process does not check for calling itself: a server of another node is never
///   the caller.
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
    to: To<S>,
}

/// Where a reference points: a server of this node, by its control block, or of another.
enum To<S: GenServer> {
    Local(Arc<Pcb<Request<S>>>),
    Remote(Arc<RemoteRef<S>>),
}

impl<S: GenServer> Clone for ServerRef<S> {
    fn clone(&self) -> Self {
        let to = match &self.to {
            To::Local(pcb) => To::Local(pcb.clone()),
            To::Remote(far) => To::Remote(far.clone()),
        };
        ServerRef { to }
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
        ServerRef { to: To::Local(pcb) }
    }

    /// The server's pid, for links, monitors, exits and untyped `send` (a pid of another node
    /// for a remote reference: they work on it too).
    pub fn pid(&self) -> Pid {
        match &self.to {
            To::Local(pcb) => pcb.core.pid,
            To::Remote(far) => far.pid(),
        }
    }

    /// Whether the server is of another node than the one this reference was made on.
    pub fn is_remote(&self) -> bool {
        matches!(self.to, To::Remote(_))
    }

    /// Recovers a typed reference from a pid, checking that it is a live server of type `S`.
    pub fn from_pid(pid: Pid) -> Result<Self, RefError> {
        let entry = lookup(pid)
            .filter(|p| p.core().is_alive())
            .ok_or(RefError::NoProc(pid))?;
        let actual = entry.core().kind();
        match entry.into_any().downcast::<Pcb<Request<S>>>() {
            Ok(pcb) => Ok(Self::from_pcb(pcb)),
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

    /// The server registered as `name` on the node named `node` (Erlang's `{Name, Node}`),
    /// checked to be a server of type `S`: asked of that node through this node's router (a
    /// local lookup if `node` is this node). The reference holds the pid found: if the name
    /// later moves to another process, the reference does not follow.
    ///
    /// The lookup, and later the reference's calls and casts, go through the router of the node
    /// the calling code runs on; code that runs on no distributed node (a plain tokio task, the
    /// main thread) uses the node the reference was made on.
    ///
    /// The check compares type names (`std::any::type_name::<S>()`), which Rust does not
    /// promise to keep from one compiler version to another: both nodes are expected to run
    /// one build of the server.
    ///
    /// Addressing a server that is not a [`RemoteServer`] is a compile error.
    ///
    /// # Errors
    /// [`RefError::NotRegistered`], [`RefError::WrongRemoteType`] (or, on this node,
    /// [`RefError::WrongType`]), [`RefError::NotDistributed`] if this node has no router,
    /// [`RefError::Remote`] if the lookup failed (no connection to the node, no answer within
    /// the server's [`CALL_TIMEOUT`](GenServer::CALL_TIMEOUT)).
    pub async fn remote(name: impl Into<Name>, node: &str) -> Result<Self, RefError>
    where
        S: RemoteServer,
    {
        let wire = Self::wire();
        let name = name.into();
        let here = Node::current();
        if node == here.name() {
            let pid = here.whereis(&name).ok_or_else(|| RefError::NotRegistered {
                name: name.clone(),
                node: node.to_owned(),
            })?;
            return Self::from_pid(pid);
        }
        let router = here.router().ok_or(RefError::NotDistributed)?.clone();
        let found = bounded(router.whereis(&name, node), S::CALL_TIMEOUT)
            .await
            .unwrap_or(Err(RemoteCallError::Timeout));
        match found.map_err(RefError::Remote)? {
            Some((pid, kind)) if kind == std::any::type_name::<S>() => Ok(Self::far(pid, wire)),
            Some((pid, actual)) => Err(RefError::WrongRemoteType {
                pid,
                actual,
                expected: std::any::type_name::<S>(),
            }),
            None => Err(RefError::NotRegistered {
                name,
                node: node.to_owned(),
            }),
        }
    }

    /// A reference to the server `pid` of another node, taken on trust: nothing is asked of
    /// that node. If `pid` is not a server of type `S` there, the first call says so —
    /// [`CallError::NotRemote`] for a process other nodes cannot call, [`CallError::Decode`]
    /// (or [`CallError::WrongReply`] from a derived client) for a server of another type, the
    /// server unaffected — and casts are dropped there (and logged). A pid of this node gives
    /// the local reference if it is a live server of type `S`, as [`from_pid`](Self::from_pid).
    ///
    /// Addressing a server that is not a [`RemoteServer`] is a compile error.
    pub fn from_remote_pid(pid: Pid) -> Self
    where
        S: RemoteServer,
    {
        let wire = Self::wire();
        if Node::current().owns(pid)
            && let Ok(local) = Self::from_pid(pid)
        {
            return local;
        }
        Self::far(pid, wire)
    }

    /// The wire form of a server that other nodes may address, checked at compile time to be
    /// its `WIRE` too (the form its own node decodes with).
    fn wire() -> Wire<S>
    where
        S: RemoteServer,
    {
        const {
            assert!(
                S::WIRE.is_some(),
                "a RemoteServer must set `const WIRE: Option<Wire<Self>> = Some(Wire::new());` in its GenServer impl"
            );
        }
        Wire::new()
    }

    fn far(pid: Pid, wire: Wire<S>) -> Self {
        ServerRef {
            to: To::Remote(Arc::new(RemoteRef::new(pid, wire))),
        }
    }

    /// Whether the server is alive. For a server of another node: whether it is not known to
    /// have ended (see [above](Self#a-server-of-another-node)).
    pub fn is_alive(&self) -> bool {
        match &self.to {
            To::Local(pcb) => pcb.core.is_alive(),
            To::Remote(far) => far.is_alive(),
        }
    }

    /// Messages waiting in the server's mailbox (0 for a server of another node, whose mailbox
    /// cannot be read from here).
    pub fn mailbox_len(&self) -> usize {
        match &self.to {
            To::Local(pcb) => pcb.mailbox.len(),
            To::Remote(_) => 0,
        }
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
        let pcb = match &self.to {
            To::Local(pcb) => pcb,
            // Out of line, boxed: the local call's future does not grow for it.
            To::Remote(far) => return Self::call_far(far, request, timeout).await,
        };
        if may_span && super::events::call_spans() {
            // Boxed: the future holds itself, and the span's state does not grow the plain call's.
            let call = self.call_inner(request, timeout, false);
            let core = &pcb.core;
            let name = || core.name();
            let span = super::events::call_span(core.pid, core.kind().name(), name, call);
            return Box::pin(span).await;
        }
        let server = pcb.core.pid;
        if current_pid() == Some(server) {
            return Err(CallError::CallingSelf);
        }
        let (caller, mut rx) = Caller::local();
        let request = Request::Call(request, caller);
        if pcb.mailbox.waits_when_full() || timeout.is_zero() {
            return Self::call_armed(pcb, request, rx, timeout).await;
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
                match pcb.push_told(request) {
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
                Self::reply_lost(pcb, deadline).await
            }
            None => Err(CallError::Timeout),
        }
    }

    /// A call whose timer runs from the start: on a bounded mailbox with policy `Wait` (the
    /// wait for room counts against the timeout), and for a zero timeout.
    async fn call_armed(
        pcb: &Pcb<Request<S>>,
        request: Request<S>,
        mut rx: oneshot::Receiver<Answer<S::Reply>>,
        timeout: Duration,
    ) -> Result<S::Reply, CallError> {
        let mut deadline = CallTimer::start(timeout);
        let pushed = if pcb.mailbox.waits_when_full() {
            if !pcb.core.is_alive() {
                return Err(CallError::NoProc);
            }
            tokio::select! {
                biased;
                pushed = pcb.push_wait(request) => match pushed {
                    // It was alive when the call began: it ended while we waited for room.
                    Err(PushError::Closed(_)) => {
                        return Err(pcb.core.exit_reason().map_or(CallError::NoProc, CallError::Exited));
                    }
                    other => other,
                },
                () = &mut deadline => return Err(CallError::Timeout),
            }
        } else {
            pcb.push(request)
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
            Some(Err(_)) => Self::reply_lost(pcb, deadline).await,
            None => Err(CallError::Timeout),
        }
    }

    /// The reply handle is gone: the server ended, or dropped it without replying (then, as in
    /// Erlang, the caller waits out its timeout).
    async fn reply_lost(
        pcb: &Pcb<Request<S>>,
        mut deadline: CallTimer,
    ) -> Result<S::Reply, CallError> {
        match pcb.core.exit_reason() {
            Some(reason) => Err(CallError::Exited(reason)),
            None => {
                tokio::select! {
                    reason = pcb.core.wait_exit() => Err(CallError::Exited(reason)),
                    () = &mut deadline => Err(CallError::Timeout),
                }
            }
        }
    }

    /// Casts a message: queued at once, handled later by `handle_cast`. A cast to a server that
    /// has ended is dropped without error, as in Erlang. Fails only on a full bounded mailbox
    /// (policies `Wait` and `Error`), handing the message back; use
    /// [`cast_wait`](Self::cast_wait) to wait for room instead.
    ///
    /// To a server of another node, the message is encoded at once and queued on the
    /// connection; see [above](Self#a-server-of-another-node) for the errors that adds.
    #[inline]
    pub fn cast(&self, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        let pcb = match &self.to {
            To::Local(pcb) => pcb,
            To::Remote(far) => return Self::cast_far(far, message),
        };
        match pcb.push(Request::Cast(message)) {
            Ok(()) | Err(PushError::Closed(_)) => Ok(()),
            Err(PushError::Full(r)) => Err(CastError::MailboxFull(cast_back(r))),
        }
    }

    /// Casts a message, waiting for room if the mailbox is bounded with policy `Wait`. To a
    /// server of another node, waiting for room on the connection while it is busy (its
    /// outbound queue over its limit: where [`cast`](Self::cast) fails with
    /// [`CastError::Busy`]), as Erlang suspends a process that sends on a busy distribution
    /// port; the delivery at the other end never waits for room in the server's mailbox.
    pub async fn cast_wait(&self, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        let pcb = match &self.to {
            To::Local(pcb) => pcb,
            // Queued at once but for a busy connection; the wait, rare, is boxed apart so that
            // this future stays small.
            To::Remote(far) => {
                return match Self::cast_far(far, message) {
                    Err(CastError::Busy(back)) => Box::pin(Self::cast_far_wait(far, back)).await,
                    done => done,
                };
            }
        };
        match pcb.push_wait(Request::Cast(message)).await {
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
    ///
    /// A server of another node is stopped through the router: `terminate` runs there, and a
    /// lost connection is `StopError::Exited(NoConnection)` (the server may still run).
    pub async fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<(), StopError> {
        let pcb = match &self.to {
            To::Local(pcb) => pcb,
            To::Remote(far) => return Box::pin(Self::stop_far(far, reason, timeout)).await,
        };
        if current_pid() == Some(pcb.core.pid) {
            return Err(StopError::CallingSelf);
        }
        if !pcb.core.is_alive() {
            return Err(StopError::NoProc);
        }
        let exited = pcb.core.wait_exit();
        if !pcb.push_system_envelope(Request::Stop(reason.clone())) {
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

    /// A call through a remote reference: through the router, or — used on the server's own
    /// node — as a local call.
    #[cold]
    #[inline(never)]
    fn call_far(
        far: &RemoteRef<S>,
        request: S::Call,
        timeout: Duration,
    ) -> RemoteCall<'_, S::Reply> {
        if !far.is_here() {
            return far.call(request, timeout);
        }
        let local = Self::from_pid(far.pid());
        Box::pin(async move {
            match local {
                Ok(local) => local.call_timeout(request, timeout).await,
                Err(RefError::NoProc(_)) => Err(CallError::NoProc),
                // Taken on trust and not a server of type `S`: as a reply that does not decode.
                Err(other) => Err(CallError::Decode(other.to_string())),
            }
        })
    }

    /// A cast through a remote reference: through the router, or as a local cast.
    #[cold]
    #[inline(never)]
    fn cast_far(far: &RemoteRef<S>, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        if !far.is_here() {
            return far.cast(message);
        }
        match Self::from_pid(far.pid()) {
            Ok(local) => local.cast(message),
            // As a cast to a server that has ended: dropped.
            Err(_) => Ok(()),
        }
    }

    /// A waiting cast through a remote reference: through the router, or as a local one.
    async fn cast_far_wait(far: &RemoteRef<S>, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        if !far.is_here() {
            return far.cast_wait(message).await;
        }
        match Self::from_pid(far.pid()) {
            Ok(local) => Box::pin(local.cast_wait(message)).await,
            // As a cast to a server that has ended: dropped.
            Err(_) => Ok(()),
        }
    }

    /// A stop through a remote reference: through the router, or as a local stop.
    async fn stop_far(
        far: &RemoteRef<S>,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<(), StopError> {
        if !far.is_here() {
            return far.stop(reason, timeout).await;
        }
        match Self::from_pid(far.pid()) {
            Ok(local) => Box::pin(local.stop_timeout(reason, timeout)).await,
            Err(_) => Err(StopError::NoProc),
        }
    }

    /// Resolves with the server's exit reason once it has ended. For a server of another node,
    /// through a monitor: `noconnection` if the connection is lost (at once if this node is not
    /// distributed).
    pub async fn wait_exit(&self) -> ExitReason {
        match &self.to {
            To::Local(pcb) => pcb.core.wait_exit().await,
            To::Remote(far) => Box::pin(far.wait_exit()).await,
        }
    }
}

fn cast_back<S: GenServer>(r: Request<S>) -> S::Cast {
    match r {
        Request::Cast(m) => m,
        _ => unreachable!("a cast was pushed"),
    }
}
