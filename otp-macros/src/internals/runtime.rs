//! The runtime's path: how the generated code names the crate that defines `GenServer`,
//! `ServerRef` and the rest.
//!
//! `#[gen_server(crate = "...")]` names it (serde's `#[serde(crate = "...")]`): for a crate that
//! reaches the runtime through a re-export of its own. Without it, the path is found in the
//! `Cargo.toml` of the crate being compiled, with `proc-macro-crate`: the facade `otp` if the
//! crate depends on it, under whatever name it gives it (`::otp`, or `::my_otp` for
//! `my_otp = { package = "otp", .. }`); else `otp-core` (`::otp_core`); else `::otp`, whose
//! "unresolved crate" error then says what is missing. Dev-dependencies count as dependencies:
//! a crate that depends on `otp-core` and, for its tests only, on `otp` must name
//! `crate = "otp_core"`.
//!
//! In otp-core's own package, `proc-macro-crate` answers "this crate" for its lib and unit
//! tests, but also for its doctests and examples, which are crates of their own and cannot say
//! `crate::`; nothing in their environment tells them apart (rustdoc compiles a doctest in the
//! very environment it reads the lib in, `CARGO_CRATE_NAME` included). So the path there is
//! `::otp_core` too, which otp-core's lib makes name itself (`extern crate self as otp_core;`).
//! The same holds for `otp` (`::otp`) in its doctests and examples.

use proc_macro_crate::{FoundCrate, crate_name};

use super::attr::Options;

/// The packages that export the runtime, the one to prefer first.
const RUNTIMES: [&str; 2] = ["otp", "otp-core"];

/// The path the generated code names the runtime by: the `crate = "..."` option if given,
/// else the first of [`RUNTIMES`] the crate being compiled depends on (or is), else `::otp`.
pub fn runtime_path(options: &Options) -> syn::Path {
    match &options.krate {
        Some(path) => path.clone(),
        None => RUNTIMES
            .iter()
            .find_map(|package| found(package))
            .unwrap_or_else(|| syn::parse_quote!(::otp)),
    }
}

/// `::name`, if the crate being compiled depends on `package` as `name`, or is `package`.
fn found(package: &str) -> Option<syn::Path> {
    let name = match crate_name(package).ok()? {
        FoundCrate::Name(name) => name,
        FoundCrate::Itself => package.replace('-', "_"),
    };
    syn::parse_str(&format!("::{name}")).ok()
}
