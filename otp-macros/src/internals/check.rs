//! Checks that need the whole block: how many of each handler, names that collide, info
//! handlers that could never run.

use std::collections::HashMap;

use quote::ToTokens;

use super::ast::{Block, last_segment};
use super::attr::Kind;
use super::ctxt::Ctxt;
use super::reserved::{ON_SERVER, handle_with_method};

/// Checks `block`, recording mistakes in `cx`.
pub fn check(cx: &Ctxt, block: &Block) {
    for kind in [Kind::Init, Kind::Terminate] {
        let mut of_kind = block.handlers.iter().filter(|h| h.kind == kind);
        if let Some(first) = of_kind.next() {
            for extra in of_kind {
                cx.error_at(
                    extra.attr_span,
                    format!(
                        "a server has one `#[{}]` handler; `{}` is one already",
                        kind.name(),
                        first.ident
                    ),
                );
            }
        }
    }

    let mut by_name: HashMap<String, &syn::Ident> = HashMap::new();
    let mut by_variant: HashMap<(Kind, String), &syn::Ident> = HashMap::new();
    for h in &block.handlers {
        let name = h.ident.to_string();
        if let Some(first) = by_name.insert(name.clone(), &h.ident) {
            cx.error_spanned_by(
                &h.ident,
                format!("two handlers are named `{first}`: each handler needs its own name"),
            );
        } else if matches!(h.kind, Kind::Call | Kind::Cast | Kind::Continue)
            && let Some(first) = by_variant.insert((h.kind, h.variant.to_string()), &h.ident)
        {
            cx.error_spanned_by(
                &h.ident,
                format!(
                    "`{}` and `{first}` both name the message `{}`: rename one",
                    h.ident, h.variant
                ),
            );
        }
        if ON_SERVER.contains(&name.as_str()) {
            cx.error_spanned_by(
                &h.ident,
                format!("`{name}` is generated on the server type to start it: give this handler another name"),
            );
        }
        if matches!(h.kind, Kind::Call | Kind::Cast)
            && let Some(handle) = handle_with_method(&name)
        {
            cx.error_spanned_by(
                &h.ident,
                format!("the client method `{name}` would be hidden by `{handle}::{name}`: give this handler another name"),
            );
        }
    }

    // Info handlers are tried in order: a second one for a type, or any after the catch-all
    // `Info`, could never run.
    let mut types: HashMap<String, &syn::Ident> = HashMap::new();
    let mut catch_all: Option<&syn::Ident> = None;
    for h in block.handlers.iter().filter(|h| h.kind == Kind::Info) {
        let Some((_, ty)) = h.messages().next() else {
            continue;
        };
        if let Some(all) = catch_all {
            cx.error_spanned_by(
                ty,
                format!("this handler would never run: `{all}` above takes every message (`Info`); move `{all}` last"),
            );
            continue;
        }
        let key = ty.to_token_stream().to_string();
        if let Some(first) = types.insert(key, &h.ident) {
            cx.error_spanned_by(
                ty,
                format!("`{first}` handles this type already, so this handler would never run"),
            );
        }
        if last_segment(ty).is_some_and(|s| s.ident == "Info" && s.arguments.is_none()) {
            catch_all = Some(&h.ident);
        }
    }
}
