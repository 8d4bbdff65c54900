//! `#[derive(GenServer)]` and `#[handlers]`: write a server as a struct and an impl block, get
//! its message enums, its `GenServer` impl and a typed client.
//!
//! Use them through `otp` (or `otp-core`), which re-export them; the full guide, with an
//! example of every kind of handler, is on [`GenServer`](macro@GenServer).
//!
//! The crate is laid out as serde_derive is: `internals` parses the input into a model
//! (`ast`, `attr`, and `runtime`, the path the generated code names the runtime by), collecting
//! every mistake with its span (`ctxt`) and checking the model as a whole (`check`); `derive`
//! and `handlers` are the two macros' entry points; `expand` generates a server's code from a
//! checked model, a module per generated artifact (`messages`, `gen_server_impl`, `client`,
//! `start`, `child_spec`).

mod derive;
mod expand;
mod handlers;
mod internals;

use proc_macro::TokenStream;

/// Derives a GenServer from a struct (or enum) and its `#[handlers]` impl block.
///
/// ```
/// use otp::prelude::*;
///
/// #[derive(GenServer)]
/// #[gen_server(name = "counter")]
/// struct Counter {
///     count: u64,
/// }
///
/// #[handlers]
/// impl Counter {
///     #[init]
///     fn init(start: u64) -> Self {
///         Counter { count: start }
///     }
///
///     /// The current count.
///     #[call]
///     fn get(&self) -> u64 {
///         self.count
///     }
///
///     /// Adds `by` to the count.
///     #[cast]
///     fn add(&mut self, by: u64) {
///         self.count += by;
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let counter = Counter::start_link(1).await.unwrap(); // a ServerRef<Counter>
/// counter.add(41).unwrap(); // a typed cast: returns at once
/// assert_eq!(counter.get().await, Ok(42)); // a typed call, 5 s timeout
/// # }
/// ```
///
/// # The struct
///
/// `#[derive(GenServer)]` goes on the server's state. Its options, all optional:
///
/// | option | meaning |
/// |---|---|
/// | `name = "counter"` | `start` and `start_link` register the server under this local name |
/// | `call_timeout = 500` | the timeout of the client's calls, in ms (default 5000), or `"infinity"` |
/// | `start_timeout = 1000` | the longest `init` may take, in ms (default: no limit) |
/// | `hibernate_after = 60000` | hibernate after this long without a message, in ms |
/// | `mailbox = 1000` | bound the mailbox to this many messages |
/// | `overflow = "drop_oldest"` | what a full bounded mailbox does: `"wait"` (default), `"error"`, `"drop_oldest"`, `"drop_newest"` |
/// | `restart = "transient"` | the restart type of `child_spec`: `"permanent"` (default), `"transient"`, `"temporary"` |
/// | `shutdown = 10000` | how a supervisor stops it, in ms (default 5000), or `"brutal_kill"`, `"infinity"` |
/// | `remote` | other nodes may call it and cast to it: see [below](#a-server-other-nodes-can-call) |
/// | `crate = "my_runtime"` | the path the generated code names the runtime by (default: found in `Cargo.toml`, see below) |
///
/// ## The runtime's path
///
/// The generated code names the crate it uses (`GenServer`, `ServerRef`, `Context`...) by a
/// path found in the `Cargo.toml` of the crate being compiled: `::otp` if it depends on `otp`,
/// else `::otp_core` if it depends on `otp-core` (renamed dependencies are followed:
/// `my_otp = { package = "otp", .. }` gives `::my_otp`), else `::otp`. Dependencies and
/// dev-dependencies count alike, so a crate that depends on `otp-core`, and on `otp` only for
/// its tests, says `crate = "otp_core"`. `crate = "..."` names the runtime's path, as here for
/// a crate that reaches it through a re-export of its own:
///
/// ```
/// mod runtime {
///     pub use otp::*;
/// }
///
/// #[derive(otp::gen_server::GenServer, Default)]
/// #[gen_server(crate = "crate::runtime")]
/// struct Quiet;
///
/// #[otp::gen_server::handlers]
/// impl Quiet {}
/// # fn main() {}
/// ```
///
/// ## A server other nodes can call
///
/// `#[gen_server(remote)]` gives the server a wire form: its `CounterCall`, `CounterReply` and
/// `CounterCast` derive serde's `Serialize` and `Deserialize` (through the runtime's re-export
/// of serde: the crate needs no serde dependency of its own for them), its `GenServer` impl
/// sets `WIRE = Some(Wire::new())`, and it implements `RemoteServer`. Then a process of
/// another node can hold a `ServerRef<Counter>` to it (`ServerRef::remote("counter",
/// "b@host").await`, once distribution connects the nodes) and use the same typed client.
/// Every call and cast argument and every reply must be `Serialize + DeserializeOwned`; one
/// that is not is a compile error at its type. A server without the option cannot be addressed
/// from another node: `ServerRef::remote` on it is a compile error that names the option. A
/// generic server with the option is a server for the type arguments that make its messages
/// serde.
///
/// ```
/// use otp::prelude::*;
///
/// #[derive(GenServer, Default)]
/// #[gen_server(remote)]
/// struct Counter {
///     count: u64,
/// }
///
/// #[handlers]
/// impl Counter {
///     #[call]
///     fn get(&self) -> u64 {
///         self.count
///     }
///
///     #[cast]
///     fn add(&mut self, by: u64) {
///         self.count += by;
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // Called locally as any server; from another node, through a `ServerRef::remote`.
/// let counter = Counter::start().await.unwrap();
/// counter.add(2).unwrap();
/// assert_eq!(counter.get().await, Ok(2));
/// # }
/// ```
///
/// # The handlers block
///
/// `#[handlers]` goes on the inherent impl block of the struct, which must come after the
/// struct, in the same module. In it, a fn marked with one of these attributes is a handler;
/// other fns are left alone. Handlers may be `async` or not, may take the server's context
/// (`ctx: &mut Context<Self>`, at any position) or not, and take their message in zero or
/// more arguments, which must be owned and `Send + 'static`.
///
/// - `#[init]` builds the state from the arguments of `start` / `start_link` (which take them
///   one by one). It returns `Self`, `Result<Self, E>` (`E: Into<ExitReason>`; an `Err` fails
///   the start) or `Init<Self>` (to ignore the start or continue). Without one, the state is
///   the struct's `Default` and `start` takes no argument.
/// - `#[call]` takes `&self` or `&mut self` and returns its reply — any type, a `Result`
///   included; the client method returns `Result<Reply, CallError>`. To act after replying
///   (stop, continue, an idle timeout), return `ReplyThen(reply, action)`. To reply later, take
///   a `ReplyTo<Self, T>`: the handler returns nothing (or an `Action`) and answers with
///   `reply.reply(value)` when it can, from anywhere.
/// - `#[cast]` takes `&mut self` (or `&self`) and returns nothing or an `Action<Self>`.
/// - `#[info]` takes one message; a message sent with `otp::name::send` reaches the first `#[info]`
///   handler whose type matches. The type may also be `ExitSignal` (trapped exits), `Down`
///   (monitors), `IdleTimeout` (after `Action::Timeout`) or `Info` (anything not handled
///   above it). Messages no handler takes are logged and dropped. Returns nothing or an
///   `Action<Self>`.
/// - `#[handle_continue]` (`continue` is a keyword, so it cannot name an attribute) runs on `Action::Continue(CounterContinue::Name(args))`, before any
///   other message. Returns nothing or an `Action<Self>`.
/// - `#[terminate]` runs before the server exits (see `GenServer::terminate`); it may take
///   `reason: &ExitReason`.
///
/// # What is generated
///
/// - `CounterCall`, `CounterReply`, `CounterCast` and `CounterContinue`: one variant per
///   handler (`get_count` → `GetCount`), no boxing; with the struct's visibility (with
///   `remote`, the first three are serde).
/// - `impl GenServer for Counter`, dispatching each message to its handler with a `match`;
///   with `remote`, its `const WIRE`, and `impl RemoteServer for Counter`.
/// - `trait CounterClient`, with the struct's visibility: an async method per `#[call]`,
///   returning `Result<Reply, CallError>`, and a method per `#[cast]`, returning at once; the
///   handlers' doc comments are copied to them. It is implemented for `ServerRef<Counter>` and
///   for `counter.with_timeout(duration)`, which gives its calls another timeout. Import it
///   where you use the client from another module.
/// - `Counter::start`, `start_link`, `start_with` and `start_link_with`, taking the
///   arguments of `#[init]`.
/// - `Counter::child_spec(args)`: the server as a supervisor's child (id `"Counter"`), started
///   with `start_link` and a clone of `args` at every start and restart (so they must be
///   `Clone + Sync`), with the `restart` and `shutdown` options.
///
/// A handler named like a method of `ServerRef` or `WithTimeout` (`stop`, `call`, `pid`,
/// `timeout`...) or like the start functions is refused, as its client method would be hidden. Every mistake is a compile
/// error at the offending code, all reported at once.
#[proc_macro_derive(GenServer, attributes(gen_server))]
pub fn derive_gen_server(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::derive(input).into()
}

/// Marks the impl block of a `#[derive(GenServer)]` server: its `#[init]`, `#[call]`,
/// `#[cast]`, `#[info]`, `#[handle_continue]` and `#[terminate]` handlers. See
/// [`GenServer`](macro@GenServer).
#[proc_macro_attribute]
pub fn handlers(args: TokenStream, item: TokenStream) -> TokenStream {
    handlers::handlers(args.into(), item.into()).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn __expand_handlers(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as handlers::Input);
    handlers::expand_handlers(input).into()
}

/// Handler attributes used outside a `#[handlers]` block, where they mean nothing: each is an
/// error that says where it belongs.
macro_rules! misplaced {
    ($($name:ident),*) => {$(
        #[doc = concat!("Marks a `#[", stringify!($name), "]` handler inside a `#[handlers]` impl block; see [`GenServer`](macro@GenServer). Anywhere else it is an error.")]
        #[proc_macro_attribute]
        pub fn $name(_args: TokenStream, item: TokenStream) -> TokenStream {
            let message = concat!(
                "`#[", stringify!($name), "]` marks a handler of a server: put this fn in the server's impl block, marked `#[handlers]`",
            );
            let error = syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error();
            let item = proc_macro2::TokenStream::from(item);
            quote::quote!(#error #item).into()
        }
    )*};
}

misplaced!(init, call, cast, info, handle_continue, terminate);
