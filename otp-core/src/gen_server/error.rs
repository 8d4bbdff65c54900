//! The errors of servers' handles: calls, casts, stops, and typed references.

use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::ProcessKind;

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
}

impl CallError {
    /// The kind of error, a short fixed string fit for a metric tag: `"timeout"`, `"noproc"`,
    /// `"calling_self"`, `"exited"`, `"mailbox_full"` or `"wrong_reply"`.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Timeout => "timeout",
            CallError::NoProc => "noproc",
            CallError::CallingSelf => "calling_self",
            CallError::Exited(_) => "exited",
            CallError::MailboxFull => "mailbox_full",
            CallError::WrongReply => "wrong_reply",
        }
    }
}

/// Why a cast was not queued. A cast to a server that has ended is not an error: it is dropped,
/// as in Erlang.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CastError<M> {
    /// The server's mailbox is bounded and full; the message is handed back.
    #[error("the server's mailbox is full")]
    MailboxFull(M),
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
    /// The server exited, but with another reason (e.g. `terminate` panicked).
    #[error("the server exited with {0}")]
    Exited(ExitReason),
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
}
