//! The generics the generated items share: the impl block's, with what the `GenServer` impl
//! and the items that move messages need of them.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Generics, Ident, Type, WherePredicate};

/// `generics` with `T: Send + 'static` for every type parameter `T`, added where `T`'s bounds
/// already are (its where-clause predicate, else inline), so as not to split them.
pub(super) fn send_bounded(generics: &Generics) -> Generics {
    let mut bounded = generics.clone();
    let extra: Vec<syn::TypeParamBound> = vec![
        syn::parse_quote!(::core::marker::Send),
        syn::parse_quote!('static),
    ];
    let names: Vec<Ident> = generics.type_params().map(|t| t.ident.clone()).collect();
    for name in names {
        let in_where = bounded.where_clause.as_mut().and_then(|w| {
            w.predicates.iter_mut().find_map(|p| match p {
                WherePredicate::Type(t) if matches!(&t.bounded_ty, Type::Path(tp) if tp.qself.is_none() && tp.path.is_ident(&name)) => Some(t),
                _ => None,
            })
        });
        match in_where {
            Some(predicate) => predicate.bounds.extend(extra.iter().cloned()),
            None => {
                if let Some(tp) = bounded.type_params_mut().find(|t| t.ident == name) {
                    if tp.colon_token.is_none() {
                        tp.colon_token = Some(Default::default());
                    }
                    tp.bounds.extend(extra.iter().cloned());
                }
            }
        }
    }
    bounded
}

/// `bounded`, and every message enum `Send` (the enums named `enums`, with the type arguments
/// of `generics`).
///
/// The messages must be `Send`; `message_asserts` says so at the type that is not. So that this
/// is the only error, everything generated that needs the messages to be `Send` says so in its
/// where-clause (under a `for<>`, which rustc does not check where the impl is written, only
/// where it is used).
pub(super) fn messages_send(
    bounded: &Generics,
    generics: &Generics,
    enums: [&Ident; 4],
) -> Generics {
    let (_, ty_generics, _) = generics.split_for_impl();
    let args: TokenStream = quote!(#ty_generics);
    let mut sendable = bounded.clone();
    let where_clause = sendable.make_where_clause();
    for e in enums {
        where_clause.predicates.push(syn::parse_quote!(
            for<'__otp> #e #args: ::core::marker::Send
        ));
    }
    sendable
}

/// For a generic `#[gen_server(remote)]` server: `sendable`, and the enums that cross nodes
/// (`enums`, with the type arguments of `generics`) `Serialize + DeserializeOwned` — so the
/// server, its client and its start functions exist for the type arguments whose messages are
/// serde. A server without type parameters needs none of this (and gets none: its messages'
/// types are known, and a type that is not serde is reported where it is written, by
/// `message_asserts`).
pub(super) fn messages_serde(
    sendable: &mut Generics,
    generics: &Generics,
    krate: &syn::Path,
    enums: [&Ident; 3],
) {
    if generics.type_params().next().is_none() {
        return;
    }
    let (_, ty_generics, _) = generics.split_for_impl();
    let args: TokenStream = quote!(#ty_generics);
    let serde = quote!(#krate::gen_server::derive_support::serde);
    let where_clause = sendable.make_where_clause();
    for e in enums {
        where_clause.predicates.push(syn::parse_quote!(
            for<'__otp> #e #args: #serde::Serialize + #serde::de::DeserializeOwned
        ));
    }
}
