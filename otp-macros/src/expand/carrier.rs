//! The carrier: the `macro_rules!` that `#[derive(GenServer)]` leaves where the struct is, to
//! hand the struct's options to the server's `#[handlers]` block.
//!
//! The two macros cannot see each other's input, and the code generated for the handlers needs
//! the struct's visibility and options. So the derive writes a macro named after the struct
//! (`derive_GenServer_for_Counter!`: a name that, should `#[handlers]` be used without the
//! derive, makes rustc's "cannot find macro" error say what is missing) carrying them;
//! `#[handlers]` on `impl Counter` calls it with the impl block; the macro calls
//! `__expand_handlers!`, which sees both. The block must therefore come after the struct, in the
//! same module (or block).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, ItemImpl};

use crate::internals::ast::Server;

/// The carrier macro of `server`, whose derive input is `input`.
pub fn define(server: &Server, input: &DeriveInput) -> TokenStream {
    let krate = &server.krate;
    let carrier = name(&server.ident);
    // What `__expand_handlers!` needs of the struct: its attributes, visibility and name. Not
    // its fields nor its generics (the impl block has its own).
    let attrs = input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("gen_server"));
    let vis = &input.vis;
    let ident = &input.ident;
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #carrier {
            ($($handlers:tt)*) => {
                #krate::__expand_handlers! {
                    { #(#attrs)* #vis struct #ident; }
                    $($handlers)*
                }
            };
        }
    }
}

/// The call of the carrier of the server `ident` with its handlers block.
pub fn call(ident: &syn::Ident, item: &ItemImpl) -> TokenStream {
    let carrier = name(ident);
    quote!(#carrier! { #item })
}

/// The name of the macro that carries a server's struct to its `#[handlers]` block.
fn name(ident: &syn::Ident) -> syn::Ident {
    format_ident!("derive_GenServer_for_{}", ident)
}
