//! `impl GenServer for Counter`: `init` from `#[init]` (or `Default`), and `handle_call`,
//! `handle_cast`, `handle_info`, `handle_continue` and `terminate`, each a `match` (or, for
//! infos, a sequence of tries by type) that hands the message to its handler; the
//! `#[gen_server(...)]` options that become `CALL_TIMEOUT`, `WIRE` and `start_options`; and,
//! for `#[gen_server(remote)]`, `impl RemoteServer`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::Gen;
use crate::internals::ast::{Handler, Output, Param};
use crate::internals::attr::{Kind, Millis};

impl<'a> Gen<'a> {
    /// `impl GenServer for` the server, with the options of its `#[gen_server(...)]`.
    pub(super) fn gen_server_impl(&self) -> TokenStream {
        let krate = &self.server.krate;
        let self_ty = self.self_ty;
        let (impl_generics, _, where_clause) = self.sendable.split_for_impl();
        let args = self.type_args();
        let (call_enum, reply_enum, cast_enum, continue_enum) = (
            &self.call_enum,
            &self.reply_enum,
            &self.cast_enum,
            &self.continue_enum,
        );
        let phantom = self.phantom_arm();
        let phantom_of = |e: &Ident| phantom.as_ref().map(|p| quote!(#e::#p));

        // init
        let init = match self.of(Kind::Init).next() {
            Some(h) => {
                let fields = Self::bindings(h);
                let types: Vec<&Type> = h.messages().map(|(_, t)| t).collect();
                let (args_ty, unpack) = match types.as_slice() {
                    [] => (quote!(()), quote!(let () = args;)),
                    [t] => (quote!(#t), quote!(let __m0 = args;)),
                    ts => (quote!((#(#ts,)*)), quote!(let (#(#fields,)*) = args;)),
                };
                let call = self.invoke(h, false, &fields);
                let result = match h.output {
                    Output::StateResult => {
                        quote!(#krate::gen_server::derive_support::init_result(#call))
                    }
                    Output::Init => call,
                    _ => quote!(#krate::gen_server::Init::Ok(#call)),
                };
                quote! {
                    type Args = #args_ty;
                    async fn init(args: Self::Args, ctx: &mut #krate::gen_server::Context<Self>) -> #krate::gen_server::Init<Self> {
                        #unpack
                        #result
                    }
                }
            }
            None => {
                let from_default = quote_spanned! {self_ty.span()=>
                    <Self as #krate::gen_server::derive_support::InitFromDefault>::init_from_default()
                };
                quote! {
                    type Args = ();
                    async fn init(_args: (), _ctx: &mut #krate::gen_server::Context<Self>) -> #krate::gen_server::Init<Self> {
                        #krate::gen_server::Init::Ok(#from_default)
                    }
                }
            }
        };

        // handle_call
        let call_arms = self.of(Kind::Call).map(|h| {
            let fields = Self::bindings(h);
            let pat = Self::pattern(call_enum, h, &fields);
            let v = &h.variant;
            let call = self.invoke(h, true, &fields);
            let body = if h.deferred().is_some() {
                let action = self.to_action(h, call);
                quote! {{
                    let __reply = #krate::gen_server::derive_support::deferred_reply(ctx, #reply_enum::#v);
                    #krate::gen_server::CallResult::NoReply(#action)
                }}
            } else {
                match h.output {
                    Output::ReplyThen(_) => quote! {{
                        let #krate::gen_server::ReplyThen(reply, then) = #call;
                        #krate::gen_server::CallResult::ReplyThen(#reply_enum::#v(reply), then)
                    }},
                    _ => quote!(#krate::gen_server::CallResult::Reply(#reply_enum::#v(#call))),
                }
            };
            quote!(#pat => #body,)
        });
        let call_phantom = phantom_of(call_enum);
        let handle_call = quote! {
            async fn handle_call(&mut self, request: Self::Call, ctx: &mut #krate::gen_server::Context<Self>) -> #krate::gen_server::CallResult<Self> {
                match request {
                    #(#call_arms)*
                    #call_phantom
                }
            }
        };

        // Casts and continues: a message enum matched to handlers that return an action.
        let action_callback = |kind: Kind,
                               enum_: &Ident,
                               callback: TokenStream,
                               arg: TokenStream| {
            let arms = self.of(kind).map(|h| {
                let fields = Self::bindings(h);
                let pat = Self::pattern(enum_, h, &fields);
                let body = self.to_action(h, self.invoke(h, true, &fields));
                quote!(#pat => #body,)
            });
            let phantom = phantom_of(enum_);
            quote! {
                async fn #callback(&mut self, message: Self::#arg, ctx: &mut #krate::gen_server::Context<Self>) -> #krate::gen_server::Action<Self> {
                    match message {
                        #(#arms)*
                        #phantom
                    }
                }
            }
        };
        let handle_cast = action_callback(Kind::Cast, cast_enum, quote!(handle_cast), quote!(Cast));
        let handle_continue = action_callback(
            Kind::Continue,
            continue_enum,
            quote!(handle_continue),
            quote!(Continue),
        );

        let infos: Vec<&Handler> = self.of(Kind::Info).collect();
        let handle_info = (!infos.is_empty()).then(|| {
            let tries = infos.iter().map(|h| {
                let ty = h.messages().next().map(|(_, t)| t);
                let fields = [format_ident!("__m0")];
                let body = self.to_action(h, self.invoke(h, true, &fields));
                quote! {
                    let info = match #krate::process::Info::take::<#ty>(info) {
                        ::core::result::Result::Ok(__m0) => return #body,
                        ::core::result::Result::Err(info) => info,
                    };
                }
            });
            quote! {
                async fn handle_info(&mut self, info: #krate::process::Info, ctx: &mut #krate::gen_server::Context<Self>) -> #krate::gen_server::Action<Self> {
                    #(#tries)*
                    #krate::gen_server::unexpected_info::<Self>(ctx.pid(), &info);
                    #krate::gen_server::Action::NoReply
                }
            }
        });

        let terminate = self.of(Kind::Terminate).next().map(|h| {
            let call = self.invoke(h, true, &[]);
            quote! {
                async fn terminate(&mut self, reason: &#krate::process::ExitReason, ctx: &mut #krate::gen_server::Context<Self>) {
                    #call;
                }
            }
        });

        let options = self.options();
        let remote_server = self.server.options.remote.map(|span| {
            quote_spanned! {span=>
                #[automatically_derived]
                impl #impl_generics #krate::gen_server::RemoteServer for #self_ty #where_clause {}
            }
        });
        quote! {
            #[automatically_derived]
            #[allow(unused_variables, clippy::unused_unit, clippy::let_unit_value)]
            impl #impl_generics #krate::gen_server::GenServer for #self_ty #where_clause {
                type Call = #call_enum #args;
                type Reply = #reply_enum #args;
                type Cast = #cast_enum #args;
                type Continue = #continue_enum #args;
                #options
                #init
                #handle_call
                #handle_cast
                #handle_info
                #handle_continue
                #terminate
            }

            #remote_server
        }
    }

    /// `CALL_TIMEOUT`, `WIRE` and `start_options` from `#[gen_server(...)]`.
    fn options(&self) -> TokenStream {
        let krate = &self.server.krate;
        let o = &self.server.options;
        let millis = |ms: u64| quote!(::core::time::Duration::from_millis(#ms));
        let call_timeout = o.call_timeout.map(|t| {
            let d = match t {
                Millis::Finite(ms) => millis(ms),
                Millis::Infinity => quote!(::core::time::Duration::MAX),
            };
            quote!(const CALL_TIMEOUT: ::core::time::Duration = #d;)
        });
        let mut steps = Vec::new();
        if let Some(name) = &o.name {
            steps.push(quote!(.name(#name)));
        }
        if let Some(ms) = o.start_timeout {
            let d = millis(ms);
            steps.push(quote!(.timeout(#d)));
        }
        if let Some(ms) = o.hibernate_after {
            let d = millis(ms);
            steps.push(quote!(.hibernate_after(#d)));
        }
        if let Some(capacity) = o.mailbox {
            let capacity = capacity as usize - 1;
            let policy = Ident::new(
                o.overflow.map_or("Wait", |p| p.variant()),
                Span::call_site(),
            );
            steps.push(quote! {
                .mailbox(#krate::process::MailboxBound::new(
                    ::core::num::NonZeroUsize::MIN.saturating_add(#capacity),
                    #krate::process::Overflow::#policy,
                ))
            });
        }
        let wire = o.remote.map(|span| {
            quote_spanned! {span=>
                const WIRE: ::core::option::Option<#krate::gen_server::Wire<Self>> =
                    ::core::option::Option::Some(#krate::gen_server::Wire::new());
            }
        });
        let start_options = (!steps.is_empty()).then(|| {
            quote! {
                fn start_options() -> #krate::gen_server::StartOptions {
                    #krate::gen_server::StartOptions::new() #(#steps)*
                }
            }
        });
        quote!(#call_timeout #wire #start_options)
    }

    /// The call of handler `h` from inside the `GenServer` impl: `Self::get(self, a0, ctx)`,
    /// awaited if async. `fields` are the bindings of its message parts.
    fn invoke(&self, h: &Handler, receiver: bool, fields: &[Ident]) -> TokenStream {
        let ident = &h.ident;
        let mut fields = fields.iter();
        let args = h.params.iter().map(|p| match p {
            Param::Message { .. } => {
                let f = fields.next();
                quote!(#f)
            }
            Param::Context => quote!(ctx),
            Param::Reply(_) => quote!(__reply),
            Param::Reason => quote!(reason),
        });
        let receiver = receiver.then(|| quote!(self,));
        let await_ = h.is_async.then(|| quote!(.await));
        quote!(Self::#ident(#receiver #(#args),*) #await_)
    }

    fn bindings(h: &Handler) -> Vec<Ident> {
        h.messages()
            .enumerate()
            .map(|(i, _)| format_ident!("__m{}", i))
            .collect()
    }

    fn pattern(enum_: &Ident, h: &Handler, fields: &[Ident]) -> TokenStream {
        let v = &h.variant;
        if fields.is_empty() {
            quote!(#enum_::#v)
        } else {
            quote!(#enum_::#v(#(#fields),*))
        }
    }

    fn to_action(&self, h: &Handler, out: TokenStream) -> TokenStream {
        let krate = &self.server.krate;
        match h.output {
            Output::Action => out,
            _ => quote!({ #out; #krate::gen_server::Action::NoReply }),
        }
    }

    fn phantom_arm(&self) -> Option<TokenStream> {
        (self.generics.type_params().next().is_some())
            .then(|| quote!(__Phantom(_, never) => match never {},))
    }
}
