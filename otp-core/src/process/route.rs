//! The [`Router`] trait: what a node sends through to reach processes of other nodes (see
//! [`remote`](super::remote) for the whole seam).

use std::pin::Pin;
use std::time::Duration;

use crate::exit::ExitReason;
use crate::message::{Message, MonitorRef, Name};
use crate::pid::Pid;

/// Why a message could not be handed to another node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The message's type cannot travel between nodes (no stable tag or serde form is known
    /// for it); the message is handed back.
    #[error("a message of type {type_name} cannot be sent to another node")]
    NotSendable {
        /// The type of the message.
        type_name: &'static str,
        /// The message.
        message: Message,
    },
    /// The connection to the node cannot take more now (its outbound queue is full).
    #[error("the connection to {0} is busy")]
    Busy(String),
    /// The message did not encode (its `Serialize` failed).
    #[error("the message did not encode: {0}")]
    Encode(String),
}

/// What a node sends through, to reach processes of other nodes: installed by distribution
/// with [`Node::set_router`](crate::node::Node::set_router). See [`process::remote`](crate::process::remote) for the whole seam.
///
/// Every method is called by the sending side and must not block: it queues what it has to
/// send and returns. Only the processes of the node the router is installed on are senders
/// (`from`, `watcher`); the other pid is of another node.
pub trait Router: ServerRouter {
    /// An info message for `to`. As in Erlang, a message to a pid that cannot be reached is
    /// dropped silently (a node that is down, a stale creation); only a message that cannot be
    /// encoded, or a full queue, is an error.
    fn send(&self, from: Option<Pid>, to: Pid, message: Message) -> Result<(), RouteError>;

    /// An info message for the process registered as `name` on the node named `node`
    /// (Erlang's `{Name, Node} ! Msg`), connecting to it first if needed.
    fn send_named(
        &self,
        from: Option<Pid>,
        name: &Name,
        node: &str,
        message: Message,
    ) -> Result<(), RouteError>;

    /// `from` linked itself to `to`; `from` already holds the link. The other side adds it, or,
    /// if `to` does not exist or cannot be reached, `from` gets an exit signal (`noproc`,
    /// `noconnection`) from `to` through [`Node::deliver_exit`](crate::node::Node::deliver_exit).
    fn link(&self, from: Pid, to: Pid);

    /// `from` removed its link to `to`.
    fn unlink(&self, from: Pid, to: Pid);

    /// An exit signal from `from` (none: `exit` called outside any process) to `to`: the link
    /// between them broke because `from` ended (`link`), or `from` called `exit(to, reason)`.
    fn exit(&self, from: Option<Pid>, to: Pid, reason: ExitReason, link: bool);

    /// `watcher` monitors `target` under `reference`; `watcher` already holds the monitor. The
    /// `Down` comes back through [`Node::deliver_down`](crate::node::Node::deliver_down) (at once, `noproc` or `noconnection`,
    /// if `target` does not exist or cannot be reached).
    fn monitor(&self, watcher: Pid, target: Pid, reference: MonitorRef);

    /// `watcher` removed its monitor `reference` on `target`.
    fn demonitor(&self, watcher: Pid, target: Pid, reference: MonitorRef);

    /// `target`, a process of this node monitored by `watcher` under `reference`, ended with
    /// `reason` (or did not exist: `noproc`).
    fn down(&self, watcher: Pid, target: Pid, reference: MonitorRef, reason: ExitReason);
}

/// A process of another node, as a call, a cast or a stop aims at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteTarget<'a> {
    /// A process by pid.
    Pid(Pid),
    /// The process registered as `name` on the node named `node` (Erlang's `{Name, Node}`).
    Name {
        /// The name it is registered under there.
        name: &'a Name,
        /// The node's name (`name@host`).
        node: &'a str,
    },
}

/// A process of this node, as another node's call or cast aims at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalTarget<'a> {
    /// A process by pid.
    Pid(Pid),
    /// The process registered as this name.
    Name(&'a Name),
}

/// Why a call, a stop or a lookup aimed at another node failed, as distribution reports it
/// (a server's handle turns it into its own error type).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteCallError {
    /// The node could not be reached, or the connection was lost during the call.
    #[error("no connection to the node")]
    NoConnection,
    /// No such process (or name) on the node.
    #[error("no such process")]
    NoProc,
    /// The server exited with this reason during the call.
    #[error("the server exited during the call: {0}")]
    Exited(ExitReason),
    /// No answer within the timeout.
    #[error("the call timed out")]
    Timeout,
    /// The server's mailbox is full.
    #[error("the server's mailbox is full")]
    MailboxFull,
    /// The process is not a server that can be addressed from another node (a plain
    /// process, or a server whose messages have no wire form).
    #[error("{0} cannot be called from another node")]
    NotRemote(String),
    /// The request or the reply did not decode on the other side: the two nodes disagree on
    /// the server's message types.
    #[error("the message did not decode: {0}")]
    Decode(String),
    /// The request did not encode.
    #[error("the message did not encode: {0}")]
    Encode(String),
    /// The connection cannot take more now (its outbound queue is full).
    #[error("the connection to {0} is busy")]
    Busy(String),
    /// This node is not distributed.
    #[error("this node is not distributed")]
    NotDistributed,
}

/// Why another node's call or cast was not handed to a process of this node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliverError {
    /// No such process or name.
    #[error("no such process")]
    NoProc,
    /// The process cannot be addressed from another node; its kind.
    #[error("{0} cannot be called from another node")]
    NotRemote(String),
    /// The payload does not decode as the server's message type.
    #[error("the message did not decode: {0}")]
    Decode(String),
    /// The server's mailbox is bounded and full.
    #[error("the server's mailbox is full")]
    MailboxFull,
}

impl From<DeliverError> for RemoteCallError {
    fn from(error: DeliverError) -> Self {
        match error {
            DeliverError::NoProc => RemoteCallError::NoProc,
            DeliverError::NotRemote(kind) => RemoteCallError::NotRemote(kind),
            DeliverError::Decode(why) => RemoteCallError::Decode(why),
            DeliverError::MailboxFull => RemoteCallError::MailboxFull,
        }
    }
}

/// What takes the casts of a burst from another node, one payload (wire form) at a time, and
/// says what became of each (see [`Deliveries::casts`](super::remote::Deliveries::casts)).
pub type CastSink<'a> = dyn FnMut(&[u8]) -> Result<(), DeliverError> + 'a;

/// What hands the casts of a burst to the sink it is given, in order.
pub type CastFeed<'a> = dyn FnMut(&mut CastSink<'_>) + 'a;

/// The deepest nesting [`decode_payload`] accepts (arrays and maps inside one another): a
/// payload nested deeper is refused before its decoder recurses further.
pub const MAX_DEPTH: usize = 64;

/// A value on its way to another node, seen as what writes its wire form.
///
/// The wire form of what servers and processes send each other across nodes is MessagePack,
/// structs as maps with their field names (rmp-serde's `to_vec_named` form, the frames of
/// distribution's design): a struct can gain an optional field, or reorder its fields, and
/// still be read by a node that runs the older code. Every `Serialize` value is `Encode`; the
/// trait exists so that a router writes a value it cannot name straight into its connection's
/// buffer, through one dynamic call, with the value's own monomorphized `Serialize`.
pub trait Encode {
    /// Appends the value's wire form to `out`.
    ///
    /// # Errors
    /// The value's `Serialize` failed; `out` may hold part of it (the caller truncates).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), String>;
}

impl<T: serde::Serialize + ?Sized> Encode for T {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), String> {
        self.serialize(&mut rmp_serde::Serializer::new(out).with_struct_map())
            .map_err(|e| e.to_string())
    }
}

/// Decodes a value received from another node (its wire form: see [`Encode`]) into a `T`,
/// nested no deeper than [`MAX_DEPTH`]. The receiver decodes into the type it expects (a
/// server's call, cast or reply), so no registry of types is needed.
///
/// # Errors
/// Why it did not decode.
pub fn decode_payload<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, String> {
    let mut de = rmp_serde::Deserializer::from_read_ref(payload);
    de.set_max_depth(MAX_DEPTH);
    T::deserialize(&mut de).map_err(|e| e.to_string())
}

/// The way back to a caller on another node: distribution's side of a server's reply handle.
/// Dropped without a reply, it tells its caller only if the server ends (as a local caller,
/// which waits out its timeout while the server lives); a call refused by the mailbox's bound
/// is told through [`refuse`](ReplySink::refuse).
pub trait ReplySink: Send + 'static {
    /// Sends the reply (encoded by the sink). Returns whether it could be sent.
    fn reply(self: Box<Self>, reply: &dyn Encode) -> bool;

    /// Whether the caller may still be waiting.
    fn is_open(&self) -> bool {
        true
    }

    /// The call was dropped unanswered by the server's mailbox bound (`Overflow::DropOldest`)
    /// before the server saw it: tell the caller, as a local caller is told at once (its call
    /// returns `MailboxFull`). By default the sink is dropped, and the caller waits out its
    /// timeout.
    fn refuse(self: Box<Self>) {}
}

/// A reply on its way back from another node.
pub type RemoteReply =
    Pin<Box<dyn Future<Output = Result<Vec<u8>, RemoteCallError>> + Send + 'static>>;

/// What a remote lookup found: the pid and the kind (for a server, its type's name).
pub type RemoteLookup =
    Pin<Box<dyn Future<Output = Result<Option<(Pid, String)>, RemoteCallError>> + Send + 'static>>;

/// A remote stop's outcome: the reason the server exited with.
pub type RemoteStop =
    Pin<Box<dyn Future<Output = Result<ExitReason, RemoteCallError>> + Send + 'static>>;

/// Resolves once the connection a cast was refused on (`RouteError::Busy`) may take more.
pub type RemoteRoom = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The typed-server half of a [`Router`]: calls, casts, stops and lookups aimed at servers of
/// other nodes. Their requests are handed over as [`Encode`] values, which distribution writes
/// into its connection; replies come back in their wire form, which the caller decodes into its
/// own reply type ([`decode_payload`]).
pub trait ServerRouter: Send + Sync + 'static {
    /// A cast to a server of another node. As a local cast, a cast to a process that does not
    /// exist is dropped; only an unencodable message or a full queue is an error.
    fn cast(&self, to: RemoteTarget<'_>, message: &dyn Encode) -> Result<(), RouteError>;

    /// A call to a server of another node, answered within `timeout` (`Duration::MAX`: no limit)
    /// — or with [`RemoteCallError::NoConnection`] as soon as the connection is lost, never
    /// later than the timeout.
    fn call(
        &self,
        from: Option<Pid>,
        to: RemoteTarget<'_>,
        request: &dyn Encode,
        timeout: Duration,
    ) -> RemoteReply;

    /// Stops a server of another node (`gen_server:stop`): its `terminate` runs; resolves with
    /// its exit reason.
    fn stop(&self, to: Pid, reason: ExitReason, timeout: Duration) -> RemoteStop;

    /// The process registered as `name` on the node named `node`, and its kind.
    fn whereis(&self, name: &Name, node: &str) -> RemoteLookup;

    /// Resolves once the connection to the node of `to` has room again after refusing a cast
    /// as busy (its outbound queue drained below its limit), or is gone: what a sender that
    /// waits for room (`cast_wait`, as Erlang suspends a process on a busy distribution port)
    /// waits for before it tries again. By default, at once.
    fn room(&self, to: RemoteTarget<'_>) -> RemoteRoom {
        let _ = to;
        Box::pin(std::future::ready(()))
    }
}
