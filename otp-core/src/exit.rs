//! Exit reasons.
//!
//! Every process ends with an [`ExitReason`], on every path: a normal return, an error, a panic
//! caught at the process boundary, or a kill. The reason travels to linked processes as an exit
//! signal and to monitoring processes in a `Down` message, and decides what they do, following the
//! exit-reason matrix of Erlang/OTP:
//!
//! | reason | linked, not trapping | linked, trapping |
//! |---|---|---|
//! | [`Normal`](ExitReason::Normal) | ignored | message |
//! | [`Shutdown`](ExitReason::Shutdown), [`ShutdownWith`](ExitReason::ShutdownWith) | dies with it | message |
//! | [`Killed`](ExitReason::Killed) (victim of an untrappable kill) | dies `Killed` | message |
//! | [`Kill`](ExitReason::Kill) sent by `exit(pid, Kill)` | dies `Killed`, cannot trap | dies `Killed` |
//! | [`Kill`](ExitReason::Kill) received through a link | dies `Kill` | message |
//! | anything else | dies with it | message |

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a process ended. Cloneable, printable and serializable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ExitReason {
    /// The process finished its work. Not propagated through links to non-trapping processes.
    Normal,
    /// An orderly shutdown, typically asked by a supervisor.
    Shutdown,
    /// An orderly shutdown with a reason (Erlang's `{shutdown, Term}`).
    ShutdownWith(String),
    /// The reason given to `exit(pid, Kill)`: untrappable. A process that *ends* with `Kill`
    /// passes `Kill` to its links, where it is an ordinary, trappable reason.
    Kill,
    /// The reason of a process that was killed with `exit(pid, Kill)`.
    Killed,
    /// The process did not exist (linking or monitoring a dead process, calling a dead server).
    NoProc,
    /// The connection to the node of the process was lost (kept for distribution).
    NoConnection,
    /// The process panicked; the panic message.
    Panic(String),
    /// A user error: the process ended with an error, here printed.
    Error(String),
}

impl ExitReason {
    /// A user error from anything printable.
    pub fn error(error: impl fmt::Display) -> Self {
        ExitReason::Error(error.to_string())
    }

    /// `{shutdown, reason}`.
    pub fn shutdown_with(reason: impl fmt::Display) -> Self {
        ExitReason::ShutdownWith(reason.to_string())
    }

    /// Whether this is `normal`, `shutdown` or `{shutdown, _}`: the reasons that are not errors.
    /// They are not logged as crashes, and a supervisor does not restart a transient child that
    /// ends with one of them.
    pub fn is_clean(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
        )
    }

    /// Whether this is [`ExitReason::Normal`].
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }

    /// The kind of reason, a short fixed string fit for a metric tag: `"normal"`, `"shutdown"`
    /// (also for [`ShutdownWith`](ExitReason::ShutdownWith)), `"kill"`, `"killed"`, `"noproc"`,
    /// `"noconnection"`, `"panic"` or `"error"`.
    pub fn kind(&self) -> &'static str {
        match self {
            ExitReason::Normal => "normal",
            ExitReason::Shutdown | ExitReason::ShutdownWith(_) => "shutdown",
            ExitReason::Kill => "kill",
            ExitReason::Killed => "killed",
            ExitReason::NoProc => "noproc",
            ExitReason::NoConnection => "noconnection",
            ExitReason::Panic(_) => "panic",
            ExitReason::Error(_) => "error",
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ShutdownWith(r) => write!(f, "{{shutdown, {r}}}"),
            ExitReason::Kill => f.write_str("kill"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::NoProc => f.write_str("noproc"),
            ExitReason::NoConnection => f.write_str("noconnection"),
            ExitReason::Panic(m) => write!(f, "panic: {m}"),
            ExitReason::Error(e) => write!(f, "error: {e}"),
        }
    }
}

impl std::error::Error for ExitReason {}

impl From<String> for ExitReason {
    fn from(error: String) -> Self {
        ExitReason::Error(error)
    }
}

impl From<&str> for ExitReason {
    fn from(error: &str) -> Self {
        ExitReason::Error(error.to_owned())
    }
}

/// What a process body may return: its value becomes the exit reason.
///
/// `()` is [`ExitReason::Normal`]; an [`ExitReason`] is itself; `Ok` of either is that, and `Err(e)`
/// is `e.into()`.
///
/// A body that never returns (`loop { .. }`, or one that ends in `panic!`) has the type `!`,
/// which stable Rust cannot give this trait; [`spawn`](crate::process::spawn) shows the two idioms that
/// give such a body the type `()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an exit reason: a process body returns `()`, an `ExitReason` or a `Result` of them",
    label = "the process body's output",
    note = "a body that never returns (a `loop`, or one that ends in `panic!`) has the type `!`, which stable Rust cannot make an exit reason; write it as `async move |me| -> () {{ .. }}`, or as an `async fn` that returns `()` (see the docs of `otp_core::process::spawn`)"
)]
pub trait IntoExitReason {
    /// The exit reason.
    fn into_exit_reason(self) -> ExitReason;
}

impl IntoExitReason for () {
    fn into_exit_reason(self) -> ExitReason {
        ExitReason::Normal
    }
}

impl IntoExitReason for ExitReason {
    fn into_exit_reason(self) -> ExitReason {
        self
    }
}

impl<T: IntoExitReason, E: Into<ExitReason>> IntoExitReason for Result<T, E> {
    fn into_exit_reason(self) -> ExitReason {
        match self {
            Ok(v) => v.into_exit_reason(),
            Err(e) => e.into(),
        }
    }
}

/// The message of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_print_like_erlang() {
        assert_eq!(ExitReason::Normal.to_string(), "normal");
        assert_eq!(
            ExitReason::shutdown_with("bye").to_string(),
            "{shutdown, bye}"
        );
        assert_eq!(ExitReason::Killed.to_string(), "killed");
        assert_eq!(ExitReason::error("boom").to_string(), "error: boom");
    }

    #[test]
    fn clean_reasons() {
        assert!(ExitReason::Normal.is_clean());
        assert!(ExitReason::Shutdown.is_clean());
        assert!(ExitReason::shutdown_with("x").is_clean());
        assert!(!ExitReason::Killed.is_clean());
        assert!(!ExitReason::Panic("p".into()).is_clean());
    }

    #[test]
    fn into_exit_reason() {
        assert_eq!(().into_exit_reason(), ExitReason::Normal);
        let r: Result<(), &str> = Err("bad");
        assert_eq!(r.into_exit_reason(), ExitReason::Error("bad".into()));
        let r: Result<ExitReason, ExitReason> = Ok(ExitReason::Shutdown);
        assert_eq!(r.into_exit_reason(), ExitReason::Shutdown);
    }

    #[test]
    fn serde_round_trip() {
        for r in [
            ExitReason::Normal,
            ExitReason::shutdown_with("x"),
            ExitReason::Panic("p".into()),
            ExitReason::NoConnection,
        ] {
            let s = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<ExitReason>(&s).unwrap(), r);
        }
    }
}
