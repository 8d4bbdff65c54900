//! Code generation: everything `__expand_handlers!` writes for a server and its `#[handlers]`
//! block, one module per generated artifact, and the `carrier` macro by which the derive hands
//! the struct to that block.
//!
//! - `messages`: the message enums (`CounterCall`, `CounterReply`, `CounterCast`,
//!   `CounterContinue`) and the checks that their parts can be sent;
//! - `gen_server_impl`: `impl GenServer for Counter`, dispatching each message to its handler;
//! - `client`: the typed client, `trait CounterClient`, for every `ServerHandle` of the server;
//! - `start`: `Counter::start`, `start_link`, `start_with`, `start_link_with`;
//! - `child_spec`: `Counter::child_spec`;
//! - `bound`: the generics the generated items share;
//! - `placeholder`: what stands in for all of the above beside the errors of a block that did
//!   not pass.
//!
//! The generators share `Gen`: the checked model, and the names and generics of the generated
//! items, computed once. Each reads the runtime's path from the model (`Server::krate`).
//!
//! The server's code is generated only from a model that passed every check; the carrier,
//! which carries no handler, is written even beside the struct's errors.

mod bound;
pub mod carrier;
mod child_spec;
mod client;
mod gen_server_impl;
mod messages;
mod placeholder;
mod start;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{Generics, Ident, Type};

use crate::internals::ast::{Block, Handler, Server};
use crate::internals::attr::Kind;

pub use placeholder::placeholder;

/// Everything generated for `server` and its `block`.
pub fn expand(server: &Server, block: &Block) -> TokenStream {
    let cx = Gen::new(server, block);
    let user_impl = &block.item;
    let enums = cx.enums();
    let gen_server = cx.gen_server_impl();
    let client = cx.client();
    let start = cx.start_fns();
    let asserts = cx.message_asserts();
    // The checks of the message types first: if one is not `Send`, the error at its type is
    // the first one reported.
    quote! {
        #asserts
        #user_impl
        #enums
        #gen_server
        #client
        #start
    }
}

/// What the generators share: the checked model and the names and generics of what they
/// generate.
struct Gen<'a> {
    server: &'a Server,
    block: &'a Block,
    self_ty: &'a Type,
    /// The impl block's generics.
    generics: &'a Generics,
    /// The impl block's generics with `T: Send + 'static` for every type parameter, as the
    /// `GenServer` impl needs.
    bounded: Generics,
    /// `bounded`, and the message enums `Send` (and, for a generic `#[gen_server(remote)]`
    /// server, the messages that cross nodes serde).
    sendable: Generics,
    call_enum: Ident,
    reply_enum: Ident,
    cast_enum: Ident,
    continue_enum: Ident,
    client: Ident,
}

impl<'a> Gen<'a> {
    fn new(server: &'a Server, block: &'a Block) -> Self {
        let generics = &block.item.generics;
        let bounded = bound::send_bounded(generics);
        let name = &server.ident;
        let call_enum = format_ident!("{name}Call");
        let reply_enum = format_ident!("{name}Reply");
        let cast_enum = format_ident!("{name}Cast");
        let continue_enum = format_ident!("{name}Continue");
        let mut sendable = bound::messages_send(
            &bounded,
            generics,
            [&call_enum, &reply_enum, &cast_enum, &continue_enum],
        );
        if server.options.remote.is_some() {
            bound::messages_serde(
                &mut sendable,
                generics,
                &server.krate,
                [&call_enum, &reply_enum, &cast_enum],
            );
        }
        Gen {
            server,
            block,
            self_ty: &block.item.self_ty,
            generics,
            bounded,
            sendable,
            call_enum,
            reply_enum,
            cast_enum,
            continue_enum,
            client: format_ident!("{name}Client"),
        }
    }

    fn of(&self, kind: Kind) -> impl Iterator<Item = &'a Handler> + use<'a> {
        self.block.handlers.iter().filter(move |h| h.kind == kind)
    }

    /// A type as it can be written outside the impl block: `Self` becomes the server's type.
    fn outside(&self, ty: &Type) -> Type {
        struct ReplaceSelf<'t>(&'t Type);
        impl VisitMut for ReplaceSelf<'_> {
            fn visit_type_mut(&mut self, ty: &mut Type) {
                if let Type::Path(p) = ty
                    && p.qself.is_none()
                    && p.path.is_ident("Self")
                {
                    *ty = self.0.clone();
                    return;
                }
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
        let mut ty = ty.clone();
        ReplaceSelf(self.self_ty).visit_type_mut(&mut ty);
        ty
    }

    fn type_args(&self) -> TokenStream {
        let (_, ty_generics, _) = self.generics.split_for_impl();
        quote!(#ty_generics)
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::handlers::{Input, expand_handlers};

    fn expand(input: proc_macro2::TokenStream) -> String {
        let input: Input = syn::parse2(input).expect("input parses");
        expand_handlers(input).to_string()
    }

    /// The generated items share the struct's visibility; handler docs reach the client.
    #[test]
    fn visibility_follows_the_struct_and_docs_reach_the_client() {
        let out = expand(quote! {
            { #[gen_server(name = "c")] pub(crate) struct Counter; }
            impl Counter {
                /// The current count.
                #[call]
                fn get(&self) -> u64 { 0 }
                #[cast]
                fn add(&mut self, by: u64) {}
            }
        });
        for item in [
            "pub (crate) enum CounterCall",
            "pub (crate) enum CounterReply",
            "pub (crate) enum CounterCast",
            "pub (crate) enum CounterContinue",
            "pub (crate) trait CounterClient",
            "pub (crate) fn start",
        ] {
            assert!(out.contains(item), "no `{item}` in {out}");
        }
        let client = &out[out.find("trait CounterClient").unwrap()..];
        assert!(
            client.contains("# [doc = r\" The current count.\"] # [doc = \"\"]"),
            "the doc comment of `get` is not on its client method: {client}"
        );
        assert!(client.contains("Casts `add`"), "{client}");
        assert!(
            out.contains(". name (\"c\")"),
            "the name option is not applied: {out}"
        );
    }

    /// A private struct gets private items.
    #[test]
    fn private_struct_private_items() {
        let out = expand(quote! {
            { struct Quiet; }
            impl Quiet {}
        });
        assert!(out.contains("enum QuietCall"));
        assert!(!out.contains("pub enum"), "{out}");
        assert!(!out.contains("pub trait"), "{out}");
    }

    /// `crate = "..."` names the runtime in everything generated, the carrier included;
    /// without it, the runtime is the one this package (otp-macros) depends on: `otp`.
    #[test]
    fn the_crate_option_names_the_runtime() {
        let block = quote! {
            impl Counter {
                #[init]
                fn init() -> Self { Counter }
                #[call]
                fn get(&self) -> u8 { 0 }
                #[cast]
                fn add(&mut self, by: u8) {}
            }
        };
        let out = expand(
            quote!({ #[gen_server(crate = "my::rt", restart = "transient")] struct Counter; } #block),
        );
        for item in [
            "my :: rt :: gen_server :: GenServer for Counter",
            "my :: rt :: gen_server :: ServerHandle :: call",
            "my :: rt :: supervisor :: ChildSpec",
        ] {
            assert!(out.contains(item), "no `{item}` in {out}");
        }
        assert!(!out.contains(":: otp"), "the default path is used: {out}");
        let carrier = crate::derive::derive(syn::parse_quote! {
            #[derive(GenServer)]
            #[gen_server(crate = "my::rt")]
            struct Counter;
        })
        .to_string();
        assert!(
            carrier.contains("my :: rt :: __expand_handlers !"),
            "{carrier}"
        );

        let out = expand(quote!({ struct Counter; } #block));
        assert!(
            out.contains(":: otp :: gen_server :: GenServer for Counter"),
            "{out}"
        );
    }

    /// `remote`: the calls, casts and replies derive serde through the runtime's re-export,
    /// the continues do not; the server gets its wire form and `impl RemoteServer`. Without it,
    /// none of that.
    #[test]
    fn the_remote_option_gives_a_wire_form() {
        let block = quote! {
            impl Counter {
                #[call]
                fn get(&self) -> u8 { 0 }
                #[cast]
                fn add(&mut self, by: u8) {}
                #[handle_continue]
                fn more(&mut self) {}
            }
        };
        let out =
            expand(quote!({ #[gen_server(remote, crate = "my::rt")] struct Counter; } #block));
        let derive = "# [derive (my :: rt :: gen_server :: derive_support :: serde :: Serialize , my :: rt :: gen_server :: derive_support :: serde :: Deserialize)] # [serde (crate = \"my :: rt :: gen_server :: derive_support :: serde\")]";
        for e in ["CounterCall", "CounterReply", "CounterCast"] {
            assert!(
                out.contains(&format!("{derive} enum {e}")),
                "{e} is not serde: {out}"
            );
        }
        assert!(out.contains("enum CounterContinue"), "{out}");
        assert_eq!(
            out.matches("derive_support :: serde :: Serialize ,")
                .count(),
            3,
            "{out}"
        );
        for item in [
            "const WIRE : :: core :: option :: Option < my :: rt :: gen_server :: Wire < Self >> = :: core :: option :: Option :: Some (my :: rt :: gen_server :: Wire :: new ())",
            "impl my :: rt :: gen_server :: RemoteServer for Counter",
            "assert_wire_arg :: < u8 >",
        ] {
            assert!(out.contains(item), "no `{item}` in {out}");
        }

        let out = expand(quote!({ struct Counter; } #block));
        for item in ["serde", "WIRE", "RemoteServer", "assert_wire_arg"] {
            assert!(!out.contains(item), "`{item}` without `remote`: {out}");
        }
    }

    /// Mistakes give errors (and the block back), not generated code.
    #[test]
    fn mistakes_are_errors_not_code() {
        let out = expand(quote! {
            { struct S; }
            impl S {
                #[cast]
                fn a(&mut self) -> u8 { 0 }
                #[init]
                fn i(self) -> Self { self }
            }
        });
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        assert!(!out.contains("enum SCall"), "{out}");
        assert!(!out.contains("trait SClient"), "{out}");
        assert!(out.contains("fn a"), "the block is given back: {out}");
        assert!(
            out.contains("a server with compile errors"),
            "a placeholder impl keeps the block's `Context<Self>` and such from failing: {out}"
        );
    }
}
