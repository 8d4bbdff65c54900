//! `Counter::child_spec(args)`: the server as a supervisor's child, with the `restart` and
//! `shutdown` of its `#[gen_server(...)]` attribute.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, Type};

use super::Gen;
use crate::internals::attr::ShutdownOption;

impl<'a> Gen<'a> {
    /// `child_spec`: the server as a supervisor's child, started with `start_link` and the
    /// arguments given here (cloned at every start, so they must be `Clone + Sync`: under a
    /// `for<>`, so that a server whose arguments are not has no usable `child_spec` rather
    /// than a compile error).
    pub(super) fn child_spec(&self, names: &[&Ident], types: &[&Type]) -> TokenStream {
        let krate = &self.server.krate;
        let vis = &self.server.vis;
        let name = self.server.ident.to_string();
        let o = &self.server.options;
        let restart = o.restart.map(|r| {
            let v = Ident::new(r.variant(), Span::call_site());
            quote!(.restart(#krate::supervisor::Restart::#v))
        });
        let shutdown = o.shutdown.map(|s| {
            let s = match s {
                ShutdownOption::BrutalKill => quote!(#krate::supervisor::Shutdown::BrutalKill),
                ShutdownOption::Infinity => quote!(#krate::supervisor::Shutdown::Infinity),
                ShutdownOption::Timeout(ms) => quote!(#krate::supervisor::Shutdown::Timeout(
                    ::core::time::Duration::from_millis(#ms)
                )),
            };
            quote!(.shutdown(#s))
        });
        let doc = format!(
            "[`{name}`] as a supervisor's child: id `\"{name}\"`, started with `start_link` and these arguments (a clone of them at every start and restart), with the `restart` and `shutdown` of its `#[gen_server(...)]` attribute (default: permanent, 5 s)."
        );
        quote! {
            #[doc = #doc]
            #vis fn child_spec(#(#names: #types),*) -> #krate::supervisor::ChildSpec
            where
                for<'__otp> (#(#types,)*): ::core::clone::Clone + ::core::marker::Sync,
            {
                let args = (#(#names,)*);
                #krate::supervisor::ChildSpec::new(#name, move || {
                    let (#(#names,)*) = ::core::clone::Clone::clone(&args);
                    Self::start_link(#(#names),*)
                })
                #restart
                #shutdown
            }
        }
    }
}
