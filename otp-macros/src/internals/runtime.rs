//! The runtime's path: how the generated code names the crate that defines `GenServer`,
//! `ServerRef` and the rest (serde's `#[serde(crate = "...")]`).

use super::attr::Options;

/// The path the generated code names the runtime by: the `crate = "..."` option if given,
/// else `::otp`.
pub fn runtime_path(options: &Options) -> syn::Path {
    match &options.krate {
        Some(path) => path.clone(),
        None => syn::parse_quote!(::otp),
    }
}
