//! The start functions on the server type: `start`, `start_link`, `start_with` and
//! `start_link_with`, taking the arguments of `#[init]` one by one (and `child_spec`, in the same
//! impl block).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, Type};

use super::Gen;
use crate::internals::attr::Kind;

impl<'a> Gen<'a> {
    /// `start` and friends on the server type, taking the init arguments one by one.
    pub(super) fn start_fns(&self) -> TokenStream {
        let krate = &self.server.krate;
        let vis = &self.server.vis;
        let self_ty = self.self_ty;
        let name = self.server.ident.to_string();
        let (impl_generics, _, where_clause) = self.sendable.split_for_impl();
        let init = self.of(Kind::Init).next();
        let (names, types): (Vec<&Ident>, Vec<&Type>) =
            init.map(|h| h.messages().unzip()).unwrap_or_default();
        let args = match names.as_slice() {
            [] => quote!(()),
            [n] => quote!(#n),
            ns => quote!((#(#ns,)*)),
        };
        let options = if names.iter().any(|n| *n == "options") {
            format_ident!("start_options")
        } else {
            format_ident!("options")
        };
        let ret = quote!(impl ::core::future::Future<Output = ::core::result::Result<#krate::gen_server::ServerRef<Self>, #krate::gen_server::StartError>> + ::core::marker::Send);
        let child_spec = self.child_spec(&names, &types);
        let doc_start = format!(
            "Starts a [`{name}`], not linked, with the options of its `#[gen_server(...)]` attribute; returns once `init` has returned."
        );
        let doc_link = format!(
            "Starts a [`{name}`] linked to the calling process, with the options of its `#[gen_server(...)]` attribute; returns once `init` has returned."
        );
        let doc_with = format!(
            "Starts a [`{name}`], not linked, with these options instead of its own (start from `{name}::start_options()` to change one)."
        );
        let doc_link_with = format!(
            "Starts a [`{name}`] linked to the calling process, with these options instead of its own."
        );
        quote! {
            #[automatically_derived]
            #[allow(dead_code, clippy::unused_unit)]
            impl #impl_generics #self_ty #where_clause {
                #[doc = #doc_start]
                #vis fn start(#(#names: #types),*) -> #ret {
                    <Self as #krate::gen_server::GenServer>::start(#args)
                }
                #[doc = #doc_link]
                #vis fn start_link(#(#names: #types),*) -> #ret {
                    <Self as #krate::gen_server::GenServer>::start_link(#args)
                }
                #[doc = #doc_with]
                #vis fn start_with(#(#names: #types,)* #options: #krate::gen_server::StartOptions) -> #ret {
                    <Self as #krate::gen_server::GenServer>::start_with(#args, #options)
                }
                #[doc = #doc_link_with]
                #vis fn start_link_with(#(#names: #types,)* #options: #krate::gen_server::StartOptions) -> #ret {
                    <Self as #krate::gen_server::GenServer>::start_link_with(#args, #options)
                }
                #child_spec
            }
        }
    }
}
