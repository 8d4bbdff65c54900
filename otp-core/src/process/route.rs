//! The [`Router`] trait: what a node sends through to reach processes of other nodes (see
//! [`remote`](super::remote) for the whole seam).

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
}

/// What a node sends through, to reach processes of other nodes: installed by distribution
/// with [`Node::set_router`]. See the [module docs](self).
///
/// Every method is called by the sending side and must not block: it queues what it has to
/// send and returns. Only the processes of the node the router is installed on are senders
/// (`from`, `watcher`); the other pid is of another node.
pub trait Router: Send + Sync + 'static {
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
    /// `noconnection`) from `to` through [`Node::deliver_exit`].
    fn link(&self, from: Pid, to: Pid);

    /// `from` removed its link to `to`.
    fn unlink(&self, from: Pid, to: Pid);

    /// An exit signal from `from` (none: `exit` called outside any process) to `to`: the link
    /// between them broke because `from` ended (`link`), or `from` called `exit(to, reason)`.
    fn exit(&self, from: Option<Pid>, to: Pid, reason: ExitReason, link: bool);

    /// `watcher` monitors `target` under `reference`; `watcher` already holds the monitor. The
    /// `Down` comes back through [`Node::deliver_down`] (at once, `noproc` or `noconnection`,
    /// if `target` does not exist or cannot be reached).
    fn monitor(&self, watcher: Pid, target: Pid, reference: MonitorRef);

    /// `watcher` removed its monitor `reference` on `target`.
    fn demonitor(&self, watcher: Pid, target: Pid, reference: MonitorRef);

    /// `target`, a process of this node monitored by `watcher` under `reference`, ended with
    /// `reason` (or did not exist: `noproc`).
    fn down(&self, watcher: Pid, target: Pid, reference: MonitorRef, reason: ExitReason);
}
