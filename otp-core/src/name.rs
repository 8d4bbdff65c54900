//! Local names and sending.
//!
//! A process may register one local name; a name belongs to one process at a time and is
//! released when its process ends, before links and monitors are told (so a replacement can take
//! it on the news). [`send`] delivers an untyped message to a pid or a name.

use std::any::Any;

use crate::message::Message;
pub use crate::message::Name;
use crate::node::Node;
use crate::pid::Pid;
use crate::process::{Myself, PushError, RouteError, current_pid};

/// Why a name could not be registered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// Another process holds the name.
    #[error("the name {name} is already registered to {holder}")]
    Taken {
        /// The name asked for.
        name: Name,
        /// The process holding it.
        holder: Pid,
    },
    /// The process already has a name (one name per process).
    #[error("{pid} is already registered as {name}")]
    AlreadyNamed {
        /// The process.
        pid: Pid,
        /// Its current name.
        name: Name,
    },
    /// The process does not exist.
    #[error("cannot register {0}: no such process")]
    NoProc(Pid),
}

/// Registers `pid` under `name` on the calling code's node.
pub fn register(name: impl Into<Name>, pid: Pid) -> Result<(), RegisterError> {
    register_on(Node::current(), name.into(), pid)
}

fn register_on(node: Node, name: Name, pid: Pid) -> Result<(), RegisterError> {
    let Some(p) = node.lookup(pid) else {
        return Err(RegisterError::NoProc(pid));
    };
    p.core()
        .update_name(|slot| {
            if let Some(existing) = slot {
                return Err(RegisterError::AlreadyNamed {
                    pid,
                    name: existing.clone(),
                });
            }
            node.claim_name(&name, pid)
                .map_err(|holder| RegisterError::Taken {
                    name: name.clone(),
                    holder,
                })?;
            *slot = Some(name);
            Ok(())
        })
        .unwrap_or(Err(RegisterError::NoProc(pid)))
}

/// Removes a name. Returns whether it was registered.
pub fn unregister(name: impl Into<Name>) -> bool {
    let name = name.into();
    let node = Node::current();
    let Some(pid) = node.unbind_name(&name) else {
        return false;
    };
    if let Some(p) = node.lookup(pid) {
        p.core().update_name(|slot| {
            if slot.as_ref() == Some(&name) {
                *slot = None;
            }
        });
    }
    true
}

/// The process registered under `name` on the calling code's node, if any.
pub fn whereis(name: impl Into<Name>) -> Option<Pid> {
    Node::current().whereis(&name.into())
}

/// Every name registered on the calling code's node with its process, ordered by name.
pub fn registered() -> Vec<(Name, Pid)> {
    Node::current().registered()
}

impl Myself {
    /// Registers this process under a name (one name per process; see [`register`]).
    pub fn register(&self, name: impl Into<Name>) -> Result<(), RegisterError> {
        register_on(self.node(), name.into(), self.pid())
    }
}

/// Where to send: a pid or a registered name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dest {
    /// A process by pid (of this node or another).
    Pid(Pid),
    /// A process by registered name, on this node.
    Name(Name),
    /// A process by registered name on the node named `node` (Erlang's `{Name, Node}`),
    /// reached through distribution.
    Remote {
        /// The name it is registered under there.
        name: Name,
        /// The node's name (`name@host`).
        node: String,
    },
}

impl Dest {
    /// The process registered as `name` on the node named `node` (Erlang's `{Name, Node}`).
    pub fn remote(name: impl Into<Name>, node: impl Into<String>) -> Self {
        Dest::Remote {
            name: name.into(),
            node: node.into(),
        }
    }
}

impl From<Pid> for Dest {
    fn from(p: Pid) -> Self {
        Dest::Pid(p)
    }
}

impl From<Name> for Dest {
    fn from(n: Name) -> Self {
        Dest::Name(n)
    }
}

impl From<&str> for Dest {
    fn from(n: &str) -> Self {
        Dest::Name(n.into())
    }
}

impl From<String> for Dest {
    fn from(n: String) -> Self {
        Dest::Name(n.into())
    }
}

/// Why [`send`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// No process is registered under the name.
    #[error("no process is registered as {0}")]
    NotRegistered(Name),
    /// The destination's mailbox is bounded and full; the message is handed back.
    #[error("the mailbox of {pid} is full")]
    MailboxFull {
        /// The destination.
        pid: Pid,
        /// The message that was not delivered.
        message: Message,
    },
    /// The destination is on another node, and this message's type cannot travel between
    /// nodes; the message is handed back.
    #[error("a message of type {type_name} cannot be sent to another node")]
    NotSendable {
        /// The type of the message.
        type_name: &'static str,
        /// The message that was not delivered.
        message: Message,
    },
    /// The connection to the destination's node cannot take more now.
    #[error("the connection to node {0} is busy")]
    Busy(String),
    /// The message's `Serialize` failed on its way to another node.
    #[error("the message did not encode: {0}")]
    Encode(String),
    /// A name on another node was given, and this node is not distributed.
    #[error("this node is not distributed: cannot reach {name} on {node}")]
    NotDistributed {
        /// The name.
        name: Name,
        /// The node.
        node: String,
    },
}

impl From<RouteError> for SendError {
    fn from(error: RouteError) -> Self {
        match error {
            RouteError::NotSendable { type_name, message } => {
                SendError::NotSendable { type_name, message }
            }
            RouteError::Busy(node) => SendError::Busy(node),
            RouteError::Encode(why) => SendError::Encode(why),
        }
    }
}

/// Sends `msg` to a process as an info message; a GenServer receives it in `handle_info`,
/// a plain process as [`Info::Message`](crate::process::Info::Message).
///
/// As in Erlang, sending to a pid that has ended (or lives on a node that cannot be reached)
/// silently drops the message, while sending to a name nobody holds here is an error. A pid or
/// a name of another node is reached through distribution (see
/// [`remote`](crate::process::remote)); what can fail there is a message whose type cannot
/// travel, or a connection too busy to take it.
pub fn send<T: Any + Send>(dest: impl Into<Dest>, msg: T) -> Result<(), SendError> {
    let pid = match dest.into() {
        Dest::Pid(p) => p,
        Dest::Name(n) => whereis(&n).ok_or(SendError::NotRegistered(n))?,
        Dest::Remote { name, node } => {
            let here = Node::current();
            let Some(router) = here.router() else {
                return Err(SendError::NotDistributed { name, node });
            };
            return Ok(router.send_named(current_pid(), &name, &node, Message::new(msg))?);
        }
    };
    send_message(pid, Message::new(msg))
}

/// Sends an already wrapped message to a pid of the calling code's node.
pub(crate) fn send_message(pid: Pid, msg: Message) -> Result<(), SendError> {
    send_message_on(Node::current(), pid, msg)
}

/// Sends an already wrapped message to a pid, from the code of `node`.
pub(crate) fn send_message_on(node: Node, pid: Pid, msg: Message) -> Result<(), SendError> {
    if let Some(router) = node.router_for(pid) {
        return Ok(router.send(current_pid(), pid, msg)?);
    }
    let Some(p) = node.lookup(pid) else {
        return Ok(());
    };
    match p.push_message(msg) {
        Ok(()) | Err(PushError::Closed(_)) => Ok(()),
        Err(PushError::Full(message)) => Err(SendError::MailboxFull { pid, message }),
    }
}

impl From<&Name> for Dest {
    fn from(n: &Name) -> Self {
        Dest::Name(n.clone())
    }
}
