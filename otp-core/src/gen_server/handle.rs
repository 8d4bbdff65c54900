//! [`ServerHandle`]: what a server's typed client speaks to.

use std::time::Duration;

use super::GenServer;
use super::error::{CallError, CastError};
use super::server_ref::{ServerRef, WithTimeout};

/// Something that reaches a server of type [`Server`](ServerHandle::Server): it calls the
/// server and waits for the reply within its call timeout, and casts to it.
///
/// The typed client of a derived server (the trait `CounterClient` of a `Counter`) is
/// implemented for every `ServerHandle<Server = Counter>`: a [`ServerRef`] (with the server's
/// [`CALL_TIMEOUT`](GenServer::CALL_TIMEOUT)) — of this node or, for a
/// [`RemoteServer`](super::RemoteServer), of another ([`ServerRef::remote`]) — a
/// [`WithTimeout`] (a `ServerRef` with a call timeout of its own), and any other handle that
/// can deliver a call and a cast.
pub trait ServerHandle: Sync {
    /// The server this handle reaches.
    type Server: GenServer;

    /// Calls the server and waits for its reply, at most [`call_timeout`](Self::call_timeout).
    fn call(
        &self,
        request: <Self::Server as GenServer>::Call,
    ) -> impl Future<Output = Result<<Self::Server as GenServer>::Reply, CallError>> + Send;

    /// Casts a message: queued at once, handled later. Fails only on a full bounded mailbox,
    /// handing the message back.
    fn cast(
        &self,
        message: <Self::Server as GenServer>::Cast,
    ) -> Result<(), CastError<<Self::Server as GenServer>::Cast>>;

    /// The timeout of this handle's calls.
    fn call_timeout(&self) -> Duration;
}

impl<S: GenServer> ServerHandle for ServerRef<S> {
    type Server = S;

    fn call(&self, request: S::Call) -> impl Future<Output = Result<S::Reply, CallError>> + Send {
        ServerRef::call(self, request)
    }

    fn cast(&self, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        ServerRef::cast(self, message)
    }

    fn call_timeout(&self) -> Duration {
        S::CALL_TIMEOUT
    }
}

impl<S: GenServer> ServerHandle for WithTimeout<'_, S> {
    type Server = S;

    fn call(&self, request: S::Call) -> impl Future<Output = Result<S::Reply, CallError>> + Send {
        self.server().call_timeout(request, self.timeout())
    }

    fn cast(&self, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        self.server().cast(message)
    }

    fn call_timeout(&self) -> Duration {
        self.timeout()
    }
}
