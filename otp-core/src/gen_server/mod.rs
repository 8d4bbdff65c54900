//! GenServer: a process that serves typed calls and casts around a state.
//!
//! Implement [`GenServer`] on your state type, then start it with [`GenServer::start`] or
//! [`GenServer::start_link`] and talk to it through the typed [`ServerRef`]: `call` waits for a
//! reply (5 s by default), `cast` returns at once. Untyped messages sent with
//! [`send`](crate::name::send), timer messages, trapped exit signals and monitor notifications arrive in
//! [`handle_info`](GenServer::handle_info).
//!
//! The callbacks follow Erlang's `gen_server`: `init` may start the server, ignore the start or
//! stop it; every handler returns an [`Action`] that says what comes next (wait for the next
//! message, run `handle_continue` first, an idle timeout, hibernation, or stop); a call handler
//! replies by returning [`CallResult::Reply`], or later through the [`ReplyTo`] handle taken with
//! [`Context::defer_reply`]. `terminate` runs when a callback stops the server, panics, or the
//! server traps exits and its parent exits — not when it is killed or brought down by a link
//! without trapping.
//!
//! Most servers need not write the impl: `#[derive(GenServer)]` and `#[handlers]` (feature
//! `macros`, on by default) generate it, with the message types and a typed client, from a struct
//! and an impl block of handlers — the hand-written form below is the layer beneath them, for
//! full control.
//!
//! A server whose calls, casts and replies are serde can be called from other nodes: it has a
//! [`Wire`] form and is a [`RemoteServer`] (`#[gen_server(remote)]` on a derived server), and a
//! [`ServerRef`] on another node reaches it through distribution with the same `call`, `cast`
//! and typed client (see [`ServerRef`]'s section on servers of other nodes).
//!
//! ```
//! use otp_core::gen_server::{Action, CallResult, Context, GenServer, Init};
//!
//! struct Counter(u64);
//!
//! impl GenServer for Counter {
//!     type Args = u64;
//!     type Call = ();
//!     type Reply = u64;
//!     type Cast = u64;
//!     type Continue = ();
//!
//!     async fn init(start: u64, _ctx: &mut Context<Self>) -> Init<Self> {
//!         Init::Ok(Counter(start))
//!     }
//!     async fn handle_call(&mut self, _: (), _ctx: &mut Context<Self>) -> CallResult<Self> {
//!         CallResult::Reply(self.0)
//!     }
//!     async fn handle_cast(&mut self, by: u64, _ctx: &mut Context<Self>) -> Action<Self> {
//!         self.0 += by;
//!         Action::NoReply
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let counter = Counter::start(1).await.unwrap();
//! counter.cast(41).unwrap();
//! assert_eq!(counter.call(()).await.unwrap(), 42);
//! # }
//! ```

mod call_timer;
mod context;
#[doc(hidden)]
pub mod derive_support;
mod error;
pub(crate) mod events;
mod handle;
mod remote_caller;
mod remote_ref;
mod request;
mod run;
mod server_ref;
mod start;
mod wire;

use std::time::Duration;

pub use self::context::Context;
pub use self::error::{CallError, CastError, RefError, StopError};
pub use self::handle::ServerHandle;
pub use self::request::ReplyTo;
pub use self::server_ref::{ServerRef, WithTimeout};
pub use self::start::{ServerName, StartError, StartOptions, ViaName};
pub use self::wire::{RemoteServer, Wire};
use crate::exit::ExitReason;
pub use crate::message::IdleTimeout;
use crate::message::Info;
#[cfg(feature = "macros")]
pub use otp_macros::{GenServer, call, cast, handle_continue, handlers, info, init, terminate};

/// The default timeout of [`ServerRef::call`]: 5 seconds, as in Erlang and Elixir.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What `init` decided.
pub enum Init<S: GenServer> {
    /// Started, with this state; wait for messages.
    Ok(S),
    /// Started, with this state, then do this (e.g. [`Action::Continue`] to finish
    /// initialising after `start` has returned).
    OkThen(S, Action<S>),
    /// Do not start: `start` returns [`StartError::Ignored`] and the process exits `normal`,
    /// without `terminate`.
    Ignore,
    /// Fail: `start` returns [`StartError::Stopped`] with this reason and the process exits with
    /// it, without `terminate` (a linked caller that does not trap exits goes down with it).
    Stop(ExitReason),
}

/// What a handler says comes next.
pub enum Action<S: GenServer> {
    /// Wait for the next message.
    NoReply,
    /// Wait for the next message at most this long; if none comes, `handle_info` gets
    /// [`Info::Timeout`]. Any message cancels the timeout.
    Timeout(Duration),
    /// Release the process's buffers and wait for the next message; the state is kept.
    Hibernate,
    /// Run `handle_continue` with this argument before any other message.
    Continue(S::Continue),
    /// Stop with this reason: `terminate` runs, then the process exits.
    Stop(ExitReason),
}

/// What `handle_call` decided.
pub enum CallResult<S: GenServer> {
    /// Reply with this value, then wait for the next message.
    Reply(S::Reply),
    /// Reply with this value, then do this. With [`Action::Stop`], `terminate` runs first, then
    /// the reply is sent, then the process exits.
    ReplyThen(S::Reply, Action<S>),
    /// Do not reply now: the handler took the caller's [`ReplyTo`] with
    /// [`Context::defer_reply`] and answers through it later (from anywhere). If nobody ever
    /// replies, the caller's call times out.
    NoReply(Action<S>),
}

/// A reply, then what comes next: what a `#[call]` handler of a derived server returns to act
/// after replying, as [`CallResult::ReplyThen`] does for a hand-written one. With
/// [`Action::Stop`], `terminate` runs, the reply is sent, then the server exits.
pub struct ReplyThen<T, S: GenServer>(pub T, pub Action<S>);

impl<T: std::fmt::Debug, S: GenServer> std::fmt::Debug for ReplyThen<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReplyThen")
            .field(&self.0)
            .finish_non_exhaustive()
    }
}

/// A server: its state, and the callbacks that serve its messages.
///
/// Every callback gets the server's [`Context`]. Callbacks are declared as functions returning a
/// `Send` future and are written as `async fn`. Only `init` is required; the defaults follow
/// Elixir's `use GenServer`: `handle_call`, `handle_cast` and `handle_continue` panic (a server
/// sent a message it does not serve crashes, with a message saying so), `handle_info` logs the
/// unexpected message and goes on, `terminate` does nothing.
pub trait GenServer: Sized + Send + 'static {
    /// The argument of `init`, given to `start`.
    type Args: Send + 'static;
    /// The requests of `call`.
    type Call: Send + 'static;
    /// The replies of `call`.
    type Reply: Send + 'static;
    /// The messages of `cast`.
    type Cast: Send + 'static;
    /// The argument of `handle_continue`.
    type Continue: Send + 'static;

    /// The timeout of [`ServerRef::call`] (and of the typed client methods of derived servers):
    /// [`DEFAULT_CALL_TIMEOUT`], 5 s, unless the server says otherwise.
    const CALL_TIMEOUT: Duration = DEFAULT_CALL_TIMEOUT;

    /// The server's wire form, if processes of other nodes may call it and cast to it: `None` by
    /// default. A server whose calls, casts and replies are serde sets `Some(Wire::new())` and
    /// implements [`RemoteServer`] (`#[gen_server(remote)]` on a derived server does both);
    /// without it, a call from another node fails with
    /// [`CallError::NotRemote`] and a cast from another node is dropped (and logged). See
    /// [`Wire`].
    const WIRE: Option<Wire<Self>> = None;

    /// The options [`start`](GenServer::start) and [`start_link`](GenServer::start_link) use:
    /// none by default. A server that always registers a name, bounds its mailbox or hibernates
    /// when idle says so here (`#[gen_server(name = ..., mailbox = ...)]` on a derived server).
    /// `start_with` and `start_link_with` use the options they are given instead; start from
    /// these to change one.
    fn start_options() -> StartOptions {
        StartOptions::new()
    }

    /// Builds the state. `start` returns once this has returned.
    ///
    /// `init` runs as the new server — its pid is the current one, its exit signals are acted
    /// on — but it is polled by the task that called `start` (which saves a round trip between
    /// tasks); the server's own task starts with the state `init` built. So tokio task-locals
    /// set by the caller are visible in `init`.
    fn init(args: Self::Args, ctx: &mut Context<Self>) -> impl Future<Output = Init<Self>> + Send;

    /// Serves a call.
    fn handle_call(
        &mut self,
        request: Self::Call,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = CallResult<Self>> + Send {
        let _ = (request, ctx);
        async {
            panic!(
                "attempted to call GenServer {} but no handle_call was provided",
                std::any::type_name::<Self>()
            )
        }
    }

    /// Serves a cast.
    fn handle_cast(
        &mut self,
        message: Self::Cast,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Action<Self>> + Send {
        let _ = (message, ctx);
        async {
            panic!(
                "attempted to cast GenServer {} but no handle_cast was provided",
                std::any::type_name::<Self>()
            )
        }
    }

    /// Serves any other message: untyped messages (dispatch them by type with
    /// [`Message::downcast`](crate::process::Message::downcast)), timers, trapped exits, `Down`s, and the
    /// idle timeout.
    fn handle_info(
        &mut self,
        info: Info,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Action<Self>> + Send {
        let pid = ctx.pid();
        async move {
            unexpected_info::<Self>(pid, &info);
            Action::NoReply
        }
    }

    /// Continues work asked for by [`Action::Continue`], before any other message.
    fn handle_continue(
        &mut self,
        arg: Self::Continue,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Action<Self>> + Send {
        let _ = (arg, ctx);
        async {
            panic!(
                "GenServer {} asked to continue but no handle_continue was provided",
                std::any::type_name::<Self>()
            )
        }
    }

    /// Runs before the server exits, when a callback stopped it or panicked, or when it traps
    /// exits and its parent exited. Not on a kill, nor on an exit signal while not trapping.
    fn terminate(
        &mut self,
        reason: &ExitReason,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }

    /// Starts the server, not linked, with its [`start_options`](GenServer::start_options).
    fn start(args: Self::Args) -> impl Future<Output = Result<ServerRef<Self>, StartError>> + Send {
        start::start::<Self>(args, Self::start_options(), false)
    }

    /// Starts the server linked to the calling process (if called from one), with its
    /// [`start_options`](GenServer::start_options).
    fn start_link(
        args: Self::Args,
    ) -> impl Future<Output = Result<ServerRef<Self>, StartError>> + Send {
        start::start::<Self>(args, Self::start_options(), true)
    }

    /// Starts the server, not linked, with options.
    fn start_with(
        args: Self::Args,
        options: StartOptions,
    ) -> impl Future<Output = Result<ServerRef<Self>, StartError>> + Send {
        start::start::<Self>(args, options, false)
    }

    /// Starts the server linked to the calling process, with options.
    fn start_link_with(
        args: Self::Args,
        options: StartOptions,
    ) -> impl Future<Output = Result<ServerRef<Self>, StartError>> + Send {
        start::start::<Self>(args, options, true)
    }
}

/// Logs a message a server did not handle, as Elixir's default `handle_info/2` does.
pub fn unexpected_info<S>(pid: crate::process::Pid, info: &Info) {
    let what = match info {
        Info::Message(m) => m.type_name().to_owned(),
        other => format!("{other:?}"),
    };
    tracing::error!(
        %pid,
        server = std::any::type_name::<S>(),
        "GenServer {} {pid} received unexpected message in handle_info: {what}",
        std::any::type_name::<S>()
    );
}
