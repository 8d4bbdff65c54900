//! `#[derive(GenServer)]`: reads the struct and its options, reports their mistakes, and leaves
//! where the struct is the carrier macro that hands them to the server's `#[handlers]` block
//! (see `expand::carrier`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::expand::carrier;
use crate::internals::ast::Server;
use crate::internals::ctxt::Ctxt;

/// Expands `#[derive(GenServer)]`.
pub fn derive(input: DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let server = Server::from_input(&cx, &input);
    let errors = cx.check().err().map(|e| e.to_compile_error());
    let carrier = carrier::define(&server, &input);
    quote! {
        #errors

        #carrier
    }
}
