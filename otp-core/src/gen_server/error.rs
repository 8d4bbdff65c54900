//! The errors of servers' handles: calls, casts, stops, and typed references — for a server of
//! this node or of another one.

use crate::exit::ExitReason;
use crate::message::Name;
use crate::pid::Pid;
use crate::process::{ProcessKind, RemoteCallError};

/// Why a call failed. Every failure is returned, none hangs past the timeout.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No reply within the timeout. The server is unaffected; a reply that comes later is
    /// dropped.
    #[error("the call timed out")]
    Timeout,
    /// The server had already ended when the call was made.
    #[error("no such process")]
    NoProc,
    /// A server called itself, which could never be answered.
    #[error("a server cannot call itself")]
    CallingSelf,
    /// The server exited with this reason while the call was in progress.
    #[error("the server exited during the call: {0}")]
    Exited(ExitReason),
    /// The server's mailbox is bounded and full (policy `Error` or `DropNewest`), or the call
    /// was queued and then dropped unanswered to make room for a newer message (policy
    /// `DropOldest`).
    #[error("the server's mailbox is full")]
    MailboxFull,
    /// The server answered with the reply to another kind of request: a derived server's
    /// handler took the raw reply handle with [`Context::defer_reply`](super::Context::defer_reply)
    /// and replied with the wrong variant of its reply enum.
    #[error("the server replied to another request")]
    WrongReply,
    /// A server of another node: the process is not a server that other nodes can call (a
    /// plain process, or a server without a wire form, `GenServer::WIRE`); its kind.
    #[error("{0} cannot be called from another node")]
    NotRemote(String),
    /// A server of another node: the request or the reply did not decode on the other side, or
    /// the reply did not decode here. The two nodes disagree on the server's message types
    /// (another version of it, or another server than the reference was made for, see
    /// [`ServerRef::from_remote_pid`](super::ServerRef::from_remote_pid)). The server is
    /// unaffected.
    #[error("the message did not decode: {0}")]
    Decode(String),
    /// A server of another node: the request did not encode (its `Serialize` failed).
    #[error("the message did not encode: {0}")]
    Encode(String),
    /// A server of another node: the connection to its node cannot take more now (its
    /// outbound queue is full); the node's name.
    #[error("the connection to {0} is busy")]
    Busy(String),
    /// A server of another node, and this node is not distributed (it has no router).
    #[error("this node is not distributed")]
    NotDistributed,
}

impl CallError {
    /// The kind of error, a short fixed string fit for a metric tag: `"timeout"`, `"noproc"`,
    /// `"calling_self"`, `"exited"`, `"mailbox_full"`, `"wrong_reply"`, and for a server of
    /// another node `"not_remote"`, `"decode"`, `"encode"`, `"busy"` or `"not_distributed"`.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Timeout => "timeout",
            CallError::NoProc => "noproc",
            CallError::CallingSelf => "calling_self",
            CallError::Exited(_) => "exited",
            CallError::MailboxFull => "mailbox_full",
            CallError::WrongReply => "wrong_reply",
            CallError::NotRemote(_) => "not_remote",
            CallError::Decode(_) => "decode",
            CallError::Encode(_) => "encode",
            CallError::Busy(_) => "busy",
            CallError::NotDistributed => "not_distributed",
        }
    }
}

impl From<RemoteCallError> for CallError {
    /// A remote call's failure, as a call reports it. A lost connection is
    /// `Exited(NoConnection)`, as in Erlang, where the caller's monitor on the server fires
    /// `noconnection`.
    fn from(error: RemoteCallError) -> Self {
        match error {
            RemoteCallError::NoConnection => CallError::Exited(ExitReason::NoConnection),
            RemoteCallError::NoProc => CallError::NoProc,
            RemoteCallError::Exited(reason) => CallError::Exited(reason),
            RemoteCallError::Timeout => CallError::Timeout,
            RemoteCallError::MailboxFull => CallError::MailboxFull,
            RemoteCallError::NotRemote(kind) => CallError::NotRemote(kind),
            RemoteCallError::Decode(why) => CallError::Decode(why),
            RemoteCallError::Encode(why) => CallError::Encode(why),
            RemoteCallError::Busy(node) => CallError::Busy(node),
            RemoteCallError::NotDistributed => CallError::NotDistributed,
        }
    }
}

/// Why a cast was not queued. A cast to a server that has ended is not an error: it is dropped,
/// as in Erlang (for a server of another node, so is a cast to a node that cannot be reached).
/// Every error hands the message back.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CastError<M> {
    /// The server's mailbox is bounded and full; the message is handed back.
    #[error("the server's mailbox is full")]
    MailboxFull(M),
    /// A server of another node: the connection to its node cannot take more now (its outbound
    /// queue is full); the message is handed back, to retry later.
    #[error("the connection to the server's node is busy")]
    Busy(M),
    /// A server of another node: the message did not encode (its `Serialize` failed); it is
    /// handed back, and why is logged (a warning: the error stays as small as the message, so
    /// that a local cast's result is returned in registers).
    #[error("the message did not encode")]
    Encode(M),
    /// A server of another node, and this node is not distributed (it has no router); the
    /// message is handed back.
    #[error("this node is not distributed")]
    NotDistributed(M),
}

impl<M> CastError<M> {
    /// The message that was not cast.
    pub fn into_message(self) -> M {
        match self {
            CastError::MailboxFull(m)
            | CastError::Busy(m)
            | CastError::NotDistributed(m)
            | CastError::Encode(m) => m,
        }
    }
}

/// Why a stop failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopError {
    /// The server had already ended.
    #[error("no such process")]
    NoProc,
    /// A server asked to stop itself and wait for it (return `Action::Stop` instead).
    #[error("a server cannot stop itself synchronously")]
    CallingSelf,
    /// The server did not exit within the timeout. The stop request stays queued: the server
    /// stops when it reaches it, unless it ends otherwise first.
    #[error("the server did not stop in time")]
    Timeout,
    /// The server exited, but with another reason (e.g. `terminate` panicked). For a server
    /// of another node, a lost connection is `Exited(NoConnection)`, as in Erlang (the server
    /// may still run).
    #[error("the server exited with {0}")]
    Exited(ExitReason),
    /// A server of another node: the stop failed otherwise (the process is not a server, the
    /// connection is busy, this node is not distributed...), as distribution reported it.
    #[error("the stop failed: {0}")]
    Remote(RemoteCallError),
}

impl From<RemoteCallError> for StopError {
    fn from(error: RemoteCallError) -> Self {
        match error {
            RemoteCallError::NoProc => StopError::NoProc,
            RemoteCallError::Timeout => StopError::Timeout,
            RemoteCallError::Exited(reason) => StopError::Exited(reason),
            RemoteCallError::NoConnection => StopError::Exited(ExitReason::NoConnection),
            other => StopError::Remote(other),
        }
    }
}

/// Why a pid could not be turned into a typed reference.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefError {
    /// No live process of this node has this pid.
    #[error("no such process: {0}")]
    NoProc(Pid),
    /// The process is not a server of the requested type.
    #[error("{pid} is a {actual}, not a {expected}")]
    WrongType {
        /// The process.
        pid: Pid,
        /// What it is.
        actual: ProcessKind,
        /// What was asked for.
        expected: &'static str,
    },
    /// No process is registered under this name on that node.
    #[error("no process is registered as {name} on {node}")]
    NotRegistered {
        /// The name.
        name: Name,
        /// The node's name.
        node: String,
    },
    /// The process of another node is not a server of the requested type.
    #[error("{pid} is a {actual}, not a {expected}")]
    WrongRemoteType {
        /// The process.
        pid: Pid,
        /// What it is, as its node names its kind (a server's type name, or `"process"`).
        actual: String,
        /// What was asked for.
        expected: &'static str,
    },
    /// A server of another node was asked for, and this node is not distributed (it has no
    /// router).
    #[error("this node is not distributed")]
    NotDistributed,
    /// The lookup on the other node failed, as distribution reported it (no connection, a
    /// timeout...).
    #[error("the lookup on the other node failed: {0}")]
    Remote(RemoteCallError),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every failure distribution reports becomes the call error a caller matches on; a lost
    /// connection is an exit `noconnection`, as a monitor reports it in Erlang.
    #[test]
    fn remote_call_errors_as_call_errors() {
        let cases = [
            (
                RemoteCallError::NoConnection,
                CallError::Exited(ExitReason::NoConnection),
                "exited",
            ),
            (RemoteCallError::NoProc, CallError::NoProc, "noproc"),
            (
                RemoteCallError::Exited(ExitReason::Killed),
                CallError::Exited(ExitReason::Killed),
                "exited",
            ),
            (RemoteCallError::Timeout, CallError::Timeout, "timeout"),
            (
                RemoteCallError::MailboxFull,
                CallError::MailboxFull,
                "mailbox_full",
            ),
            (
                RemoteCallError::NotRemote("process".into()),
                CallError::NotRemote("process".into()),
                "not_remote",
            ),
            (
                RemoteCallError::Decode("why".into()),
                CallError::Decode("why".into()),
                "decode",
            ),
            (
                RemoteCallError::Encode("why".into()),
                CallError::Encode("why".into()),
                "encode",
            ),
            (
                RemoteCallError::Busy("b@host".into()),
                CallError::Busy("b@host".into()),
                "busy",
            ),
            (
                RemoteCallError::NotDistributed,
                CallError::NotDistributed,
                "not_distributed",
            ),
        ];
        for (remote, call, kind) in cases {
            let mapped = CallError::from(remote.clone());
            assert_eq!(mapped, call, "{remote:?}");
            assert_eq!(mapped.kind(), kind, "{remote:?}");
        }
    }

    #[test]
    fn remote_call_errors_as_stop_errors() {
        assert_eq!(StopError::from(RemoteCallError::NoProc), StopError::NoProc);
        assert_eq!(
            StopError::from(RemoteCallError::Timeout),
            StopError::Timeout
        );
        assert_eq!(
            StopError::from(RemoteCallError::NoConnection),
            StopError::Exited(ExitReason::NoConnection)
        );
        assert_eq!(
            StopError::from(RemoteCallError::Exited(ExitReason::Normal)),
            StopError::Exited(ExitReason::Normal)
        );
        assert_eq!(
            StopError::from(RemoteCallError::Busy("b@host".into())),
            StopError::Remote(RemoteCallError::Busy("b@host".into()))
        );
    }

    #[test]
    fn a_cast_error_hands_the_message_back() {
        for error in [
            CastError::MailboxFull(1),
            CastError::Busy(1),
            CastError::Encode(1),
            CastError::NotDistributed(1),
        ] {
            assert_eq!(error.into_message(), 1);
        }
    }
}
