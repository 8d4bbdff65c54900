//! What every handle to a supervisor can do — the [`SupervisorHandle`] trait — and the calls it
//! sends, each answered with its own reply type.
//!
//! # Typed replies
//!
//! A GenServer has one reply type, so a server with several calls replies with an enum
//! ([`Reply`]). A call carries an [`Answer<T>`]: a zero-sized token that only this module can
//! make, and the only way to build the reply, from a `T`. The call's variant fixes `T`, so the
//! server answers each call with the reply type of that call, and the caller, which made the
//! token, reads the reply back as that same `T` ([`ask`]). Rust cannot prove that reading back
//! total (the enum still has other variants), so a reply of another kind would be returned as
//! an error — [`CallError::WrongReply`], as a `SupervisorError` — never a panic; it cannot
//! happen while replies are only made from tokens.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use super::SupervisorStartError;
use super::error::SupervisorError;
use super::info::{ChildCounts, ChildInfo};
use super::spec::{ChildSpec, ChildStartError, IntoChildStart};
use crate::exit::ExitReason;
use crate::gen_server::{CallError, GenServer, RefError, ServerRef, StopError};
use crate::message::Name;
use crate::pid::Pid;

/// The management calls every supervisor serves, generic over how `terminate_child` names a
/// child (`K`), the specs it starts children from (`S`) and the calls of its own (`X`).
pub enum Call<K, S, X> {
    /// `which_children`.
    WhichChildren(Answer<Vec<ChildInfo>>),
    /// `count_children`.
    CountChildren(Answer<ChildCounts>),
    /// `start_child`.
    StartChild(S, Answer<Result<Option<Pid>, SupervisorError>>),
    /// `terminate_child`.
    TerminateChild(K, Answer<Result<(), SupervisorError>>),
    /// A call only this kind of supervisor serves.
    Own(X),
}

/// The right to answer one call, with a `T`. See the [module docs](self).
pub struct Answer<T>(PhantomData<fn(T)>);

impl<T: ReplyType> Answer<T> {
    /// The reply to the call this token came with.
    pub(crate) fn reply(self, value: T) -> Reply {
        value.into_reply()
    }
}

/// A type a management call is answered with: one variant of [`Reply`] each.
pub trait ReplyType: Sized {
    /// `self` in its variant.
    fn into_reply(self) -> Reply;
    /// The value, if `reply` is of this type's variant.
    fn from_reply(reply: Reply) -> Option<Self>;
}

/// Declares [`Reply`], one variant per reply type, and each type's [`ReplyType`] impl.
macro_rules! replies {
    ($($variant:ident($ty:ty),)*) => {
        /// What a supervisor answers a management call with: one variant per reply type.
        pub enum Reply {
            $(
                #[doc = concat!("A `", stringify!($ty), "`.")]
                $variant($ty),
            )*
        }

        $(
            impl ReplyType for $ty {
                fn into_reply(self) -> Reply {
                    Reply::$variant(self)
                }

                fn from_reply(reply: Reply) -> Option<Self> {
                    match reply {
                        Reply::$variant(value) => Some(value),
                        _ => None,
                    }
                }
            }
        )*
    };
}

replies! {
    Children(Vec<ChildInfo>),
    Counts(ChildCounts),
    Started(Result<Option<Pid>, SupervisorError>),
    Done(Result<(), SupervisorError>),
    Spec(Result<ChildSpec, SupervisorError>),
}

/// Calls the supervisor `server` — without a time limit, as Elixir's management calls (SUP-31)
/// — with the call `call` makes from its token, and reads the reply back as that call's type.
pub(crate) async fn ask<S, T>(
    server: &ServerRef<S>,
    call: impl FnOnce(Answer<T>) -> S::Call,
) -> Result<T, SupervisorError>
where
    S: GenServer<Reply = Reply>,
    T: ReplyType,
{
    let reply = server
        .call_timeout(call(Answer(PhantomData)), Duration::MAX)
        .await?;
    T::from_reply(reply).ok_or_else(|| CallError::WrongReply.into())
}

pub(crate) mod sealed {
    use super::{Call, Reply};
    use crate::gen_server::{GenServer, ServerRef};

    /// A supervisor's process: a GenServer that serves the management calls.
    pub trait Supervises:
        GenServer<Call = Call<Self::Key, Self::Spec, Self::Own>, Reply = Reply>
    {
        /// How `terminate_child` names a child.
        type Key: Send + 'static;
        /// What children are started from.
        type Spec: Send + 'static;
        /// The calls only this kind of supervisor serves.
        type Own: Send + 'static;
    }

    /// What a [`SupervisorHandle`](super::SupervisorHandle) is: a typed reference to a
    /// supervisor's process. Sealed: only this crate's handles are supervisor handles.
    pub trait Handle: Sized {
        /// The supervisor's process.
        type Server: Supervises;
        /// The reference to it.
        fn server(&self) -> &ServerRef<Self::Server>;
        /// The handle around a reference.
        fn from_server(server: ServerRef<Self::Server>) -> Self;
    }
}

/// A handle to a running supervisor: what [`SupervisorRef`](super::SupervisorRef),
/// [`DynamicSupervisorRef`](super::DynamicSupervisorRef) and
/// [`TaskSupervisorRef`](crate::task::TaskSupervisorRef) have in common — its pid, its
/// children, stopping one of them, stopping it.
///
/// Every handle also has these methods as its own, so calling them needs no import of this
/// trait; import it to write code that works with any kind of supervisor. It is sealed: only
/// this crate's handles implement it.
///
/// Handles are cheap to clone and compare by pid. The calls wait without a time limit, as
/// Elixir's do (SUP-31); a call to a supervisor that is not running returns
/// [`SupervisorError::NoProc`], one from inside one of the supervisor's own start functions
/// [`SupervisorError::CallingSelf`].
///
/// Where the kinds differ, they differ as in OTP:
///
/// | | [`Supervisor`](super::Supervisor) | [`DynamicSupervisor`](super::DynamicSupervisor), [`TaskSupervisor`](crate::task::TaskSupervisor) |
/// |---|---|---|
/// | a child is named by ([`Child`](Self::Child)) | its id, [`ChildId`](super::ChildId) | its pid (a child being restarted by its last pid) |
/// | [`which_children`](Self::which_children) lists | the latest started first (SUP-26) | the first started first (DS-05) |
/// | a child terminated, or ended and not restarted | keeps its spec, not running, unless temporary | is forgotten |
/// | [`stop`](Self::stop) stops the children | one at a time, in reverse start order (SUP-02) | all at once (DS-07) |
///
/// ```
/// use otp_core::supervisor::{ChildStatus, DynamicOptions, DynamicSupervisor, SupervisorHandle};
///
/// /// How many children of any supervisor are running.
/// async fn running<H: SupervisorHandle>(sup: &H) -> usize {
///     let children = sup.which_children().await.unwrap_or_default();
///     children.iter().filter(|c| matches!(c.status, ChildStatus::Running(_))).count()
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let pool = DynamicSupervisor::start(DynamicOptions::new()).await.unwrap();
/// assert_eq!(running(&pool).await, 0);
/// pool.stop().await.unwrap();
/// # }
/// ```
pub trait SupervisorHandle:
    sealed::Handle<Server: sealed::Supervises<Key = Self::Child>>
    + Clone
    + Eq
    + fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// How [`terminate_child`](Self::terminate_child) names a child: its id
    /// ([`ChildId`](super::ChildId)) under a [`Supervisor`](super::Supervisor), its [`Pid`]
    /// under a dynamic or task supervisor.
    type Child: Send + 'static;

    /// The supervisor's pid, for links, monitors and exit signals.
    fn pid(&self) -> Pid {
        self.server().pid()
    }

    /// Recovers the handle from a pid, checking that it is a live supervisor of this kind (a
    /// [`TaskSupervisorRef`](crate::task::TaskSupervisorRef) and a
    /// `DynamicSupervisorRef<()>` are the same kind: a task supervisor is a dynamic supervisor
    /// without an extra argument).
    fn from_pid(pid: Pid) -> Result<Self, RefError> {
        ServerRef::from_pid(pid).map(Self::from_server)
    }

    /// The supervisor of this kind registered under a local name, if there is one.
    fn whereis(name: impl Into<Name>) -> Option<Self> {
        ServerRef::whereis(name).map(Self::from_server)
    }

    /// Whether the supervisor is alive.
    fn is_alive(&self) -> bool {
        self.server().is_alive()
    }

    /// The children, each with its id, its status (running with a pid, restarting, or not
    /// running) and its kind: the latest started first under a
    /// [`Supervisor`](super::Supervisor) (SUP-26), the first started first under a dynamic
    /// supervisor (DS-05).
    fn which_children(
        &self,
    ) -> impl Future<Output = Result<Vec<ChildInfo>, SupervisorError>> + Send {
        ask(self.server(), Call::WhichChildren)
    }

    /// How many children there are: all of them (`specs`), those running (`active`), the
    /// supervisors and the workers (SUP-27, DS-05).
    fn count_children(&self) -> impl Future<Output = Result<ChildCounts, SupervisorError>> + Send {
        ask(self.server(), Call::CountChildren)
    }

    /// Stops a child per its shutdown spec and waits until it has ended (SUP-23, DS-06). A
    /// child being restarted stops being restarted; it is not restarted, whatever its restart
    /// type.
    ///
    /// Under a [`Supervisor`](super::Supervisor), the child is named by its id; its spec is
    /// kept, not running, unless it is temporary; a child that is not running is fine; stopping
    /// a significant child this way does not trigger the auto-shutdown. Under a dynamic
    /// supervisor, it is named by its pid, and forgotten.
    ///
    /// Error: [`NotFound`](SupervisorError::NotFound) if there is no such child — under a
    /// dynamic supervisor also for a pid that was a child and has ended, as in Elixir (OTP's
    /// `simple_one_for_one` answers `ok` for that one).
    fn terminate_child(
        &self,
        child: impl Into<Self::Child>,
    ) -> impl Future<Output = Result<(), SupervisorError>> + Send {
        let child = child.into();
        let done = ask(self.server(), |answer| Call::TerminateChild(child, answer));
        async move { done.await? }
    }

    /// Stops the supervisor with reason `normal` and waits, without a time limit, until it has
    /// ended (Elixir's `Supervisor.stop/1`): its children are stopped first, each per its
    /// shutdown spec — one at a time in reverse start order under a
    /// [`Supervisor`](super::Supervisor) (SUP-02), all at once under a dynamic supervisor
    /// (DS-07).
    fn stop(&self) -> impl Future<Output = Result<(), StopError>> + Send {
        self.server().stop(ExitReason::Normal)
    }

    /// Stops the supervisor with `reason`, waiting at most `timeout` (`Duration::MAX`: no
    /// limit) until it has ended.
    fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), StopError>> + Send {
        self.server().stop_timeout(reason, timeout)
    }

    /// Resolves with the supervisor's exit reason once it has ended.
    fn wait_exit(&self) -> impl Future<Output = ExitReason> + Send {
        self.server().wait_exit()
    }
}

/// A supervisor's start, as the output of a child's start function: any supervisor can be a
/// child of another.
impl<H: SupervisorHandle> IntoChildStart for Result<H, SupervisorStartError> {
    fn into_child_start(self) -> Result<Option<Pid>, ChildStartError> {
        match self {
            Ok(sup) => Ok(Some(sup.pid())),
            Err(SupervisorStartError::AlreadyStarted(pid)) => {
                Err(ChildStartError::AlreadyStarted(pid))
            }
            Err(e) => Err(ChildStartError::Failed(e.to_exit_reason())),
        }
    }
}

/// Gives a handle the [`SupervisorHandle`] methods as its own, so that callers need not import
/// the trait: each forwards to the trait's.
macro_rules! inherent_handle_methods {
    (<$($param:ident),*> $ty:ty where $($bounds:tt)*) => {
        $crate::supervisor::inherent_handle_methods!(@impl [$($param),*] $ty [$($bounds)*]);
    };
    ($ty:ty) => {
        $crate::supervisor::inherent_handle_methods!(@impl [] $ty []);
    };
    (@impl [$($param:ident),*] $ty:ty [$($bounds:tt)*]) => {
        impl<$($param),*> $ty where $($bounds)* {
            /// The supervisor's pid ([`SupervisorHandle::pid`]).
            pub fn pid(&self) -> $crate::pid::Pid {
                $crate::supervisor::SupervisorHandle::pid(self)
            }

            /// Recovers the handle from a pid, checking that it is a live supervisor of this
            /// kind ([`SupervisorHandle::from_pid`]).
            pub fn from_pid(
                pid: $crate::pid::Pid,
            ) -> ::core::result::Result<Self, $crate::gen_server::RefError> {
                <Self as $crate::supervisor::SupervisorHandle>::from_pid(pid)
            }

            /// The supervisor of this kind registered under a local name, if there is one
            /// ([`SupervisorHandle::whereis`]).
            pub fn whereis(name: impl Into<$crate::message::Name>) -> Option<Self> {
                <Self as $crate::supervisor::SupervisorHandle>::whereis(name)
            }

            /// Whether the supervisor is alive ([`SupervisorHandle::is_alive`]).
            pub fn is_alive(&self) -> bool {
                $crate::supervisor::SupervisorHandle::is_alive(self)
            }

            /// The children ([`SupervisorHandle::which_children`]).
            pub fn which_children(
                &self,
            ) -> impl Future<
                Output = ::core::result::Result<
                    Vec<$crate::supervisor::ChildInfo>,
                    $crate::supervisor::SupervisorError,
                >,
            > + Send {
                $crate::supervisor::SupervisorHandle::which_children(self)
            }

            /// How many children there are ([`SupervisorHandle::count_children`]).
            pub fn count_children(
                &self,
            ) -> impl Future<
                Output = ::core::result::Result<
                    $crate::supervisor::ChildCounts,
                    $crate::supervisor::SupervisorError,
                >,
            > + Send {
                $crate::supervisor::SupervisorHandle::count_children(self)
            }

            /// Stops a child and waits until it has ended
            /// ([`SupervisorHandle::terminate_child`]).
            pub fn terminate_child(
                &self,
                child: impl Into<<Self as $crate::supervisor::SupervisorHandle>::Child>,
            ) -> impl Future<
                Output = ::core::result::Result<(), $crate::supervisor::SupervisorError>,
            > + Send {
                $crate::supervisor::SupervisorHandle::terminate_child(self, child)
            }

            /// Stops the supervisor with reason `normal`, its children first, and waits
            /// until it has ended ([`SupervisorHandle::stop`]).
            pub fn stop(
                &self,
            ) -> impl Future<Output = ::core::result::Result<(), $crate::gen_server::StopError>>
            + Send {
                $crate::supervisor::SupervisorHandle::stop(self)
            }

            /// Stops the supervisor with `reason`, waiting at most `timeout`
            /// ([`SupervisorHandle::stop_timeout`]).
            pub fn stop_timeout(
                &self,
                reason: $crate::exit::ExitReason,
                timeout: ::std::time::Duration,
            ) -> impl Future<Output = ::core::result::Result<(), $crate::gen_server::StopError>>
            + Send {
                $crate::supervisor::SupervisorHandle::stop_timeout(self, reason, timeout)
            }

            /// Resolves with the supervisor's exit reason once it has ended
            /// ([`SupervisorHandle::wait_exit`]).
            pub fn wait_exit(&self) -> impl Future<Output = $crate::exit::ExitReason> + Send {
                $crate::supervisor::SupervisorHandle::wait_exit(self)
            }
        }
    };
}

pub(crate) use inherent_handle_methods;
