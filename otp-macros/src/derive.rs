//! `#[derive(GenServer)]`: checks the struct and its options, and leaves, where the struct is,
//! a `macro_rules!` that hands them to the server's `#[handlers]` block.
//!
//! The two macros cannot see each other's input, and the code generated for the handlers needs
//! the struct's visibility and options. So the derive writes a macro named after the struct
//! (`derive_GenServer_for_Counter!`: a name that, should `#[handlers]` be used without the
//! derive, makes rustc's "cannot find macro" error say what is missing) carrying them; `#[handlers]` on `impl Counter` calls it with the
//! impl block; the macro calls `__expand_handlers!`, which sees both. The block must therefore
//! come after the struct, in the same module (or block).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::internals::ast::Server;
use crate::internals::ctxt::Ctxt;

/// Expands `#[derive(GenServer)]`.
pub fn derive(input: DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let server = Server::from_input(&cx, &input);
    let errors = cx.check().err().map(|e| e.to_compile_error());
    let krate = &server.krate;
    let carrier = carrier_name(&server.ident);
    // What `__expand_handlers!` needs of the struct: its attributes, visibility and name. Not
    // its fields nor its generics (the impl block has its own).
    let attrs = input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("gen_server"));
    let vis = &input.vis;
    let ident = &input.ident;
    quote! {
        #errors

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

/// The name of the macro that carries a server's struct to its `#[handlers]` block.
pub fn carrier_name(ident: &syn::Ident) -> syn::Ident {
    format_ident!("derive_GenServer_for_{}", ident)
}
