//! What stands in for the generated code when the block has mistakes.

use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use crate::internals::ast::{Block, Server};

/// What is emitted beside the errors of a block with mistakes: the block (without the second
/// of two fns of the same name, which rustc would report again) and a `GenServer` impl that
/// does nothing, so that the block's `Context<Self>`, `ReplyTo<Self, T>`... raise no errors of
/// their own.
pub fn placeholder(server: &Server, block: &Block) -> TokenStream {
    let krate = &server.krate;
    let mut item = block.item.clone();
    let mut seen = std::collections::HashSet::new();
    item.items.retain(|i| match i {
        syn::ImplItem::Fn(f) => seen.insert(f.sig.ident.to_string()),
        _ => true,
    });
    let cx = Gen::new(server, block);
    let (impl_generics, _, where_clause) = cx.bounded.split_for_impl();
    let self_ty = &block.item.self_ty;
    quote! {
        #item

        #[automatically_derived]
        impl #impl_generics #krate::gen_server::GenServer for #self_ty #where_clause {
            type Args = ();
            type Call = ();
            type Reply = ();
            type Cast = ();
            type Continue = ();
            async fn init(_args: (), _ctx: &mut #krate::gen_server::Context<Self>) -> #krate::gen_server::Init<Self> {
                ::core::unreachable!("a server with compile errors")
            }
        }
    }
}
