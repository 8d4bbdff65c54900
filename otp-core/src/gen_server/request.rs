//! What a server's mailbox holds — [`Request`] — and the way back to a caller: the reply route
//! a call carries ([`Caller`]), which becomes a [`ReplyTo`] when a handler takes it. A caller of
//! this node waits on a channel; a caller of another node is answered through the same channel,
//! forwarded to the [`ReplySink`] distribution handed in with its call, the reply encoded through
//! the server's [`Wire`](super::Wire). The server's code is the same for both.

use std::task::Waker;

use tokio::sync::oneshot;

use super::GenServer;
use super::remote_caller::forward;
use crate::exit::ExitReason;
use crate::message::Info;
use crate::process::{Envelope, ReplySink};

/// What a server's mailbox holds.
pub(crate) enum Request<S: GenServer> {
    Call(S::Call, Caller<S>),
    Cast(S::Cast),
    Info(Info),
    /// A stop asked with `ServerRef::stop`: `terminate`, then exit with the reason.
    Stop(ExitReason),
}

impl<S: GenServer> Envelope for Request<S> {
    fn from_info(info: Info) -> Self {
        Request::Info(info)
    }
    fn as_info(&self) -> Option<&Info> {
        match self {
            Request::Info(i) => Some(i),
            _ => None,
        }
    }
    fn into_info(self) -> Option<Info> {
        match self {
            Request::Info(i) => Some(i),
            _ => None,
        }
    }
    fn is_call(&self) -> bool {
        matches!(self, Request::Call(..))
    }
    fn refuse(self) {
        if let Request::Call(_, caller) = self {
            caller.refuse();
        }
    }
    fn is_system(&self) -> bool {
        match self {
            Request::Stop(_) => true,
            Request::Info(i) => !matches!(i, Info::Message(_)),
            Request::Call(..) | Request::Cast(_) => false,
        }
    }
    fn remote_call(request: &[u8], reply: Box<dyn ReplySink>) -> Option<Result<Self, String>> {
        let wire = S::WIRE?;
        Some(wire.decode_call(request).map(|call| {
            let encode = wire.reply_encoder();
            let tx = forward(move |answer: Answer<S::Reply>| match answer {
                Ok(value) => {
                    reply.reply(encode(&value));
                }
                // Dropped by the mailbox's bound before the server saw it.
                Err(Refused) => reply.refuse(),
            });
            let caller = Caller {
                route: Route::Local(tx),
                nudge: None,
            };
            Request::Call(call, caller)
        }))
    }
    fn remote_cast(message: &[u8]) -> Option<Result<Self, String>> {
        let wire = S::WIRE?;
        Some(wire.decode_cast(message).map(Request::Cast))
    }
    fn remote_stop(reason: ExitReason) -> Option<Self> {
        Some(Request::Stop(reason))
    }
}

/// What a caller receives: the reply, or word that its request was dropped unanswered by the
/// server's mailbox bound (`Overflow::DropOldest`).
pub(crate) type Answer<T> = Result<T, Refused>;

/// The request was dropped by the mailbox's overflow policy before the server saw it.
#[derive(Debug)]
pub(crate) struct Refused;

/// The way back to a caller: a channel, on which a caller of this node waits, or — for a
/// caller of another node — a forwarder to its connection (see
/// [`remote_caller`](super::remote_caller)). The server's code is the same for both.
enum Route<T> {
    /// The channel's sending end.
    Local(oneshot::Sender<Answer<T>>),
}

impl<T> Route<T> {
    /// Sends the answer; whether the caller was still waiting for it.
    fn send(self, answer: Answer<T>) -> bool {
        match self {
            Route::Local(tx) => tx.send(answer).is_ok(),
        }
    }

    /// Whether the caller is still waiting (always, for a caller of another node, until it is
    /// answered: its forwarder waits on the channel).
    fn is_open(&self) -> bool {
        match self {
            Route::Local(tx) => !tx.is_closed(),
        }
    }
}

/// The caller of a call, as a request carries it to the server: kept small, as it sits in the
/// mailbox. It becomes a [`ReplyTo`] only if the handler takes it.
pub(crate) struct Caller<S: GenServer> {
    route: Route<S::Reply>,
    /// The caller's waker, while the caller has armed no timer: the server wakes it if it does
    /// not answer within the poll that handles the call.
    pub(crate) nudge: Option<Waker>,
}

impl<S: GenServer> Caller<S> {
    /// A caller of this node, and the receiver it waits on.
    pub(crate) fn local() -> (Self, oneshot::Receiver<Answer<S::Reply>>) {
        let (tx, rx) = oneshot::channel();
        let caller = Caller {
            route: Route::Local(tx),
            nudge: None,
        };
        (caller, rx)
    }

    /// Sends the reply; whether the caller was still waiting for it.
    pub(crate) fn send(self, reply: S::Reply) -> bool {
        self.route.send(Ok(reply))
    }

    /// Tells the caller its request was dropped unanswered, so that it returns at once instead
    /// of waiting out its timeout.
    pub(crate) fn refuse(self) {
        self.route.send(Err(Refused));
    }

    /// The handle a handler takes to reply later, replying with a `T` wrapped by `wrap`.
    pub(crate) fn into_reply_to<T>(self, wrap: fn(T) -> S::Reply) -> ReplyTo<S, T> {
        ReplyTo {
            route: self.route,
            wrap,
        }
    }
}

/// The handle to answer one call (Erlang's `From`). Reply with [`reply`](ReplyTo::reply), once,
/// from any task. Dropping it without replying leaves the caller waiting until its timeout, as
/// a server that never replies does in Erlang.
///
/// `ReplyTo<S>` answers with the server's reply type `S::Reply`. `ReplyTo<S, T>` answers with a
/// `T` that it wraps into `S::Reply` (see
/// [`Context::defer_reply_as`](super::Context::defer_reply_as)): a `#[call]` handler of a
/// derived server that takes a `ReplyTo<Self, T>` replies later with a `T`.
pub struct ReplyTo<S: GenServer, T = <S as GenServer>::Reply> {
    route: Route<S::Reply>,
    wrap: fn(T) -> S::Reply,
}

impl<S: GenServer, T> ReplyTo<S, T> {
    /// A handle whose caller is gone: replying to it does nothing.
    pub(crate) fn detached(wrap: fn(T) -> S::Reply) -> Self {
        ReplyTo {
            route: Route::Local(oneshot::channel().0),
            wrap,
        }
    }

    /// Sends the reply. Returns whether the caller was still waiting for it (a reply after the
    /// call timed out is dropped).
    pub fn reply(self, value: T) -> bool {
        self.route.send(Ok((self.wrap)(value)))
    }

    /// Whether the caller is still waiting for the reply.
    pub fn is_waiting(&self) -> bool {
        self.route.is_open()
    }
}

impl<S: GenServer, T> std::fmt::Debug for ReplyTo<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyTo")
            .field("server", &std::any::type_name::<S>())
            .field("waiting", &self.is_waiting())
            .finish()
    }
}
