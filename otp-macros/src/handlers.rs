//! `#[handlers]` on the server's impl block, and `__expand_handlers!`, which the struct's
//! carrier macro calls with the struct and the block (see `expand::carrier`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{DeriveInput, ItemImpl, Type};

use crate::expand::{carrier, expand, placeholder};
use crate::internals::ast::{Block, Server};
use crate::internals::attr::Kind;
use crate::internals::check::check;
use crate::internals::ctxt::Ctxt;

/// Expands `#[handlers]`: hands the block to the struct's carrier macro.
pub fn handlers(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    if !args.is_empty() {
        cx.error_spanned_by(
            &args,
            "`#[handlers]` takes no arguments; the server's options go on the struct: `#[gen_server(name = \"...\")]`",
        );
    }
    let mut item: ItemImpl = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let e = syn::Error::new_spanned(
                &item,
                "`#[handlers]` goes on the impl block of a server: `#[handlers] impl Counter { ... }`",
            )
            .to_compile_error();
            return quote!(#e #item);
        }
    };
    let ident = match &*item.self_ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    };
    let Some(ident) = ident else {
        cx.error_spanned_by(
            &item.self_ty,
            "`#[handlers]` goes on the impl block of a struct or enum that has `#[derive(GenServer)]`",
        );
        return failed(cx, &mut item);
    };
    if cx.has_errors() {
        return failed(cx, &mut item);
    }
    carrier::call(&ident, &item)
}

/// Gives back the block without its handler attributes (so that they are not taken for
/// misplaced ones), with the errors.
fn failed(cx: Ctxt, item: &mut ItemImpl) -> TokenStream {
    strip(item);
    let errors = cx.check().err().map(|e| e.to_compile_error());
    quote!(#errors #item)
}

fn strip(item: &mut ItemImpl) {
    for i in &mut item.items {
        if let syn::ImplItem::Fn(f) = i {
            f.attrs.retain(|a| Kind::of(a).is_none());
        }
    }
}

/// The input of `__expand_handlers!`: `{ <the struct's attributes, visibility, name> } <impl>`.
pub struct Input {
    server: DeriveInput,
    item: ItemImpl,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        syn::braced!(content in input);
        let server = content.parse()?;
        let item = input.parse()?;
        Ok(Input { server, item })
    }
}

/// Expands `__expand_handlers!`.
pub fn expand_handlers(input: Input) -> TokenStream {
    // The derive reported the struct's mistakes already; do not report them twice.
    let server = Server::from_input(&Ctxt::new(), &input.server);
    let cx = Ctxt::new();
    let block = Block::from_impl(&cx, input.item);
    check(&cx, &block);
    match cx.check() {
        Ok(()) => expand(&server, &block),
        Err(e) => {
            let errors = e.to_compile_error();
            let placeholder = placeholder(&server, &block);
            quote!(#errors #placeholder)
        }
    }
}
