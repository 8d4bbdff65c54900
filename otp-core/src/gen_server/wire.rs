//! The wire form of a server: how its calls, casts and replies cross between nodes ([`Wire`],
//! [`RemoteServer`]; their docs say how a server opts in).
//!
//! A [`Wire`] is plain function pointers, built at compile time by a `const fn` from the serde
//! impls of the server's three message types: decoders from the bytes distribution hands in
//! (the wire form, MessagePack: see [`Encode`]) and views of a value as an [`Encode`] (what a
//! router writes into its connection). So the receiving process decodes a request straight
//! into its own message type — no registry of types, no boxing of local messages — and each
//! side runs the message type's own, monomorphized, serde code.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::GenServer;
use crate::process::{Encode, decode_payload};

/// How the messages of the server `S` cross between nodes: function pointers, built by
/// [`Wire::new`] from the serde impls of `S::Call`, `S::Cast` and `S::Reply`.
///
/// Between the processes of one node, a server's messages stay what they are: values of its
/// `Call`, `Cast` and `Reply` types, moved into its mailbox, never boxed nor serialized. To be
/// addressed from another node, a server needs more: a way to read its requests out of what a
/// connection brought, and to write its replies into it. `Wire` is that; the format is
/// MessagePack with field names ([`Encode`]).
///
/// A server opts in twice, and `#[gen_server(remote)]` on a `#[derive(GenServer)]` server does
/// both:
///
/// - [`GenServer::WIRE`]` = Some(Wire::new())`: its node accepts calls and casts from other
///   nodes (without it, they are refused, and the caller gets
///   [`CallError::NotRemote`](super::CallError::NotRemote));
/// - `impl `[`RemoteServer`]: other nodes may hold a [`ServerRef`](super::ServerRef) to it
///   ([`ServerRef::remote`](super::ServerRef::remote),
///   [`ServerRef::from_remote_pid`](super::ServerRef::from_remote_pid)).
///
/// Both require the three message types to be `Serialize + DeserializeOwned`: a server whose
/// messages are not serde cannot have a wire form, and addressing it from another node is a
/// compile error, not a failure at run time.
///
/// ```
/// use otp_core::gen_server::{CallResult, Context, GenServer, Init, RemoteServer, Wire};
///
/// struct Counter(u64);
///
/// impl GenServer for Counter {
///     type Args = ();
///     type Call = ();
///     type Reply = u64;
///     type Cast = u64;
///     type Continue = ();
///     const WIRE: Option<Wire<Self>> = Some(Wire::new());
///
///     async fn init((): (), _ctx: &mut Context<Self>) -> Init<Self> {
///         Init::Ok(Counter(0))
///     }
///     async fn handle_call(&mut self, (): (), _ctx: &mut Context<Self>) -> CallResult<Self> {
///         CallResult::Reply(self.0)
///     }
/// }
///
/// impl RemoteServer for Counter {}
/// ```
pub struct Wire<S: GenServer> {
    decode_call: fn(&[u8]) -> Result<S::Call, String>,
    decode_cast: fn(&[u8]) -> Result<S::Cast, String>,
    decode_reply: fn(&[u8]) -> Result<S::Reply, String>,
    call: fn(&S::Call) -> &dyn Encode,
    cast: fn(&S::Cast) -> &dyn Encode,
    reply: fn(&S::Reply) -> &dyn Encode,
}

impl<S: GenServer> Wire<S>
where
    S::Call: Serialize + DeserializeOwned,
    S::Cast: Serialize + DeserializeOwned,
    S::Reply: Serialize + DeserializeOwned,
{
    /// The wire form of `S`, from the serde impls of its message types.
    pub const fn new() -> Self {
        Wire {
            decode_call: decode_payload::<S::Call>,
            decode_cast: decode_payload::<S::Cast>,
            decode_reply: decode_payload::<S::Reply>,
            call: erase::<S::Call>,
            cast: erase::<S::Cast>,
            reply: erase::<S::Reply>,
        }
    }
}

impl<S: GenServer> Default for Wire<S>
where
    S::Call: Serialize + DeserializeOwned,
    S::Cast: Serialize + DeserializeOwned,
    S::Reply: Serialize + DeserializeOwned,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<S: GenServer> Wire<S> {
    /// Decodes a call that another node sent.
    pub(crate) fn decode_call(&self, payload: &[u8]) -> Result<S::Call, String> {
        (self.decode_call)(payload)
    }

    /// Decodes a cast that another node sent.
    pub(crate) fn decode_cast(&self, payload: &[u8]) -> Result<S::Cast, String> {
        (self.decode_cast)(payload)
    }

    /// Decodes the reply another node's server sent back.
    pub(crate) fn decode_reply(&self, payload: &[u8]) -> Result<S::Reply, String> {
        (self.decode_reply)(payload)
    }

    /// A call, as a router encodes it.
    pub(crate) fn call<'a>(&self, call: &'a S::Call) -> &'a dyn Encode {
        (self.call)(call)
    }

    /// A cast, as a router encodes it.
    pub(crate) fn cast<'a>(&self, cast: &'a S::Cast) -> &'a dyn Encode {
        (self.cast)(cast)
    }

    /// How a reply is viewed to be encoded on its way back to another node.
    pub(crate) fn reply_encoder(&self) -> fn(&S::Reply) -> &dyn Encode {
        self.reply
    }
}

/// A value seen as what writes its wire form.
fn erase<T: Serialize>(value: &T) -> &dyn Encode {
    value
}

impl<S: GenServer> Clone for Wire<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: GenServer> Copy for Wire<S> {}

impl<S: GenServer> fmt::Debug for Wire<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wire")
            .field("server", &std::any::type_name::<S>())
            .finish_non_exhaustive()
    }
}

/// A server that processes of other nodes may address: its calls, casts and replies are serde
/// values, so a [`ServerRef`](super::ServerRef) to it can live on another node
/// ([`ServerRef::remote`](super::ServerRef::remote)).
///
/// Implementing it is a promise that the server also has its wire form in
/// [`GenServer::WIRE`] (`Some(Wire::new())`), which its own node uses to decode what other nodes
/// send it; [`ServerRef::remote`](super::ServerRef::remote) checks the promise at compile time.
/// `#[gen_server(remote)]` on a derived server does both. A server whose messages are not
/// serde cannot implement it, so a `ServerRef` to it on another node is a compile error.
///
/// Both nodes must run the same server type (the same name, as `std::any::type_name` gives
/// it, which [`ServerRef::remote`](super::ServerRef::remote) checks) with compatible message
/// types; a mismatch is a typed decode error at the call, never a crash of either side.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be addressed from another node",
    label = "not a `RemoteServer`",
    note = "add `#[gen_server(remote)]` to its `#[derive(GenServer)]` (its calls, casts and replies must be `Serialize + Deserialize`), or implement `RemoteServer` and set `GenServer::WIRE = Some(Wire::new())` by hand"
)]
pub trait RemoteServer:
    GenServer<
        Call: Serialize + DeserializeOwned,
        Cast: Serialize + DeserializeOwned,
        Reply: Serialize + DeserializeOwned,
    >
{
}
