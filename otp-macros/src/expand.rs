//! Code generation for a server: its message enums, the `GenServer` impl, the typed client
//! and the start functions. Runs only on a model that passed every check.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Generics, Ident, Type, WherePredicate};

use crate::internals::ast::{Block, Handler, Output, Param, Server};
use crate::internals::attr::{Kind, Millis, ShutdownOption};

/// Everything generated for `server` and its `block`.
pub fn expand(server: &Server, block: &Block) -> TokenStream {
    let cx = Gen::new(server, block);
    let user_impl = &block.item;
    let enums = cx.enums();
    let gen_server = cx.gen_server_impl();
    let client = cx.client();
    let start = cx.start_fns();
    let asserts = cx.message_asserts();
    // The checks of the message types first: if one is not `Send`, the error at its type is
    // the first one reported.
    quote! {
        #asserts
        #user_impl
        #enums
        #gen_server
        #client
        #start
    }
}

/// What is emitted beside the errors of a block with mistakes: the block (without the second
/// of two fns of the same name, which rustc would report again) and a `GenServer` impl that
/// does nothing, so that the block's `Context<Self>`, `ReplyTo<Self, T>`... raise no errors of
/// their own.
pub fn placeholder(server: &Server, block: &Block) -> TokenStream {
    let krate = &server.krate;
    let mut item = block.item.clone();
    let mut seen = std::collections::HashSet::new();
    item.items.retain(|i| match i {
        syn::ImplItem::Fn(f) => seen.insert(f.sig.ident.to_string()),
        _ => true,
    });
    let cx = Gen::new(server, block);
    let (impl_generics, _, where_clause) = cx.bounded.split_for_impl();
    let self_ty = &block.item.self_ty;
    quote! {
        #item

        #[automatically_derived]
        impl #impl_generics #krate::GenServer for #self_ty #where_clause {
            type Args = ();
            type Call = ();
            type Reply = ();
            type Cast = ();
            type Continue = ();
            async fn init(_args: (), _ctx: &mut #krate::Context<Self>) -> #krate::Init<Self> {
                ::core::unreachable!("a server with compile errors")
            }
        }
    }
}

/// `generics` with `T: Send + 'static` for every type parameter `T`, added where `T`'s bounds
/// already are (its where-clause predicate, else inline), so as not to split them.
fn send_bounded(generics: &Generics) -> Generics {
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

struct Gen<'a> {
    server: &'a Server,
    block: &'a Block,
    self_ty: &'a Type,
    /// The impl block's generics.
    generics: &'a Generics,
    /// The impl block's generics with `T: Send + 'static` for every type parameter, as the
    /// `GenServer` impl needs.
    bounded: Generics,
    /// `bounded`, and the message enums `Send`.
    sendable: Generics,
    call_enum: Ident,
    reply_enum: Ident,
    cast_enum: Ident,
    continue_enum: Ident,
    client: Ident,
}

impl<'a> Gen<'a> {
    fn new(server: &'a Server, block: &'a Block) -> Self {
        let generics = &block.item.generics;
        let bounded = send_bounded(generics);
        let name = &server.ident;
        let mut cx = Gen {
            server,
            block,
            self_ty: &block.item.self_ty,
            generics,
            sendable: bounded.clone(),
            bounded,
            call_enum: format_ident!("{name}Call"),
            reply_enum: format_ident!("{name}Reply"),
            cast_enum: format_ident!("{name}Cast"),
            continue_enum: format_ident!("{name}Continue"),
            client: format_ident!("{name}Client"),
        };
        // The messages must be `Send`; `message_asserts` says so at the type that is not. So
        // that this is the only error, everything generated that needs the messages to be
        // `Send` says so in its where-clause (under a `for<>`, which rustc does not check
        // where the impl is written, only where it is used).
        let args = cx.type_args();
        let where_clause = cx.sendable.make_where_clause();
        for e in [
            &cx.call_enum,
            &cx.reply_enum,
            &cx.cast_enum,
            &cx.continue_enum,
        ] {
            where_clause.predicates.push(syn::parse_quote!(
                for<'__otp> #e #args: ::core::marker::Send
            ));
        }
        cx
    }

    fn of(&self, kind: Kind) -> impl Iterator<Item = &'a Handler> + use<'a> {
        self.block.handlers.iter().filter(move |h| h.kind == kind)
    }

    /// A type as it can be written outside the impl block: `Self` becomes the server's type.
    fn outside(&self, ty: &Type) -> Type {
        struct ReplaceSelf<'t>(&'t Type);
        impl VisitMut for ReplaceSelf<'_> {
            fn visit_type_mut(&mut self, ty: &mut Type) {
                if let Type::Path(p) = ty
                    && p.qself.is_none()
                    && p.path.is_ident("Self")
                {
                    *ty = self.0.clone();
                    return;
                }
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
        let mut ty = ty.clone();
        ReplaceSelf(self.self_ty).visit_type_mut(&mut ty);
        ty
    }

    fn type_args(&self) -> TokenStream {
        let (_, ty_generics, _) = self.generics.split_for_impl();
        quote!(#ty_generics)
    }

    /// The message enums: calls, replies, casts, continues.
    fn enums(&self) -> TokenStream {
        let vis = &self.server.vis;
        let name = self.server.ident.to_string();
        let (_, _, where_clause) = self.generics.split_for_impl();
        let params = &self.generics.params;
        let type_params: Vec<&Ident> = self.generics.type_params().map(|t| &t.ident).collect();
        let phantom = (!type_params.is_empty()).then(|| {
            quote! {
                #[doc(hidden)]
                __Phantom(::core::marker::PhantomData<fn() -> (#(#type_params,)*)>, ::core::convert::Infallible),
            }
        });
        let phantom_debug = phantom
            .as_ref()
            .map(|_| quote!(Self::__Phantom(_, never) => match never {},));
        let make = |ident: &Ident, doc: String, variants: Vec<(TokenStream, &Ident, Vec<Type>)>| {
            let defs = variants.iter().map(|(docs, v, fields)| {
                if fields.is_empty() {
                    quote!(#docs #v,)
                } else {
                    quote!(#docs #v(#(#fields),*),)
                }
            });
            let debug = variants.iter().map(|(_, v, fields)| {
                let shown = format!(
                    "{ident}::{v}{}",
                    if fields.is_empty() { "" } else { "(..)" }
                );
                if fields.is_empty() {
                    quote!(Self::#v => f.write_str(#shown),)
                } else {
                    quote!(Self::#v(..) => f.write_str(#shown),)
                }
            });
            let (impl_generics, ty_generics, _) = self.generics.split_for_impl();
            quote! {
                #[doc = #doc]
                #[allow(dead_code)]
                #vis enum #ident<#params> #where_clause {
                    #(#defs)*
                    #phantom
                }

                #[automatically_derived]
                impl #impl_generics ::core::fmt::Debug for #ident #ty_generics #where_clause {
                    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        #[allow(unreachable_code, unreachable_patterns)]
                        match *self {
                            #(#debug)*
                            #phantom_debug
                        }
                    }
                }
            }
        };
        let variant = |h: &'a Handler, what: &str| -> (TokenStream, &'a Ident, Vec<Type>) {
            let doc = format!("The {what} of `{}`.", h.ident);
            let fields = h.messages().map(|(_, t)| self.outside(t)).collect();
            (quote!(#[doc = #doc]), &h.variant, fields)
        };
        let calls = self.of(Kind::Call).map(|h| variant(h, "request")).collect();
        let replies = self
            .of(Kind::Call)
            .map(|h| {
                let doc = format!("The reply of `{}`.", h.ident);
                (
                    quote!(#[doc = #doc]),
                    &h.variant,
                    vec![self.outside(&h.reply_type())],
                )
            })
            .collect();
        let casts = self.of(Kind::Cast).map(|h| variant(h, "message")).collect();
        let continues = self
            .of(Kind::Continue)
            .map(|h| variant(h, "work"))
            .collect();
        let mut out = TokenStream::new();
        out.extend(make(
            &self.call_enum,
            format!("The calls of [`{name}`], one variant per `#[call]` handler (generated by `#[derive(GenServer)]`)."),
            calls,
        ));
        out.extend(make(
            &self.reply_enum,
            format!("The replies of [`{name}`]'s calls, one variant per `#[call]` handler (generated by `#[derive(GenServer)]`)."),
            replies,
        ));
        out.extend(make(
            &self.cast_enum,
            format!("The casts of [`{name}`], one variant per `#[cast]` handler (generated by `#[derive(GenServer)]`)."),
            casts,
        ));
        out.extend(make(
            &self.continue_enum,
            format!("The work [`{name}`] continues with, one variant per `#[handle_continue]` handler: `Action::Continue({}::Variant(..))` (generated by `#[derive(GenServer)]`).", self.continue_enum),
            continues,
        ));
        out
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
            _ => quote!({ #out; #krate::Action::NoReply }),
        }
    }

    fn phantom_arm(&self) -> Option<TokenStream> {
        (self.generics.type_params().next().is_some())
            .then(|| quote!(__Phantom(_, never) => match never {},))
    }

    fn gen_server_impl(&self) -> TokenStream {
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
                    _ => quote!(#krate::Init::Ok(#call)),
                };
                quote! {
                    type Args = #args_ty;
                    async fn init(args: Self::Args, ctx: &mut #krate::Context<Self>) -> #krate::Init<Self> {
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
                    async fn init(_args: (), _ctx: &mut #krate::Context<Self>) -> #krate::Init<Self> {
                        #krate::Init::Ok(#from_default)
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
                    #krate::CallResult::NoReply(#action)
                }}
            } else {
                match h.output {
                    Output::ReplyThen(_) => quote! {{
                        let #krate::ReplyThen(reply, then) = #call;
                        #krate::CallResult::ReplyThen(#reply_enum::#v(reply), then)
                    }},
                    _ => quote!(#krate::CallResult::Reply(#reply_enum::#v(#call))),
                }
            };
            quote!(#pat => #body,)
        });
        let call_phantom = phantom_of(call_enum);
        let handle_call = quote! {
            async fn handle_call(&mut self, request: Self::Call, ctx: &mut #krate::Context<Self>) -> #krate::CallResult<Self> {
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
                async fn #callback(&mut self, message: Self::#arg, ctx: &mut #krate::Context<Self>) -> #krate::Action<Self> {
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
                    let info = match #krate::Info::take::<#ty>(info) {
                        ::core::result::Result::Ok(__m0) => return #body,
                        ::core::result::Result::Err(info) => info,
                    };
                }
            });
            quote! {
                async fn handle_info(&mut self, info: #krate::Info, ctx: &mut #krate::Context<Self>) -> #krate::Action<Self> {
                    #(#tries)*
                    #krate::gen_server::unexpected_info::<Self>(ctx.pid(), &info);
                    #krate::Action::NoReply
                }
            }
        });

        let terminate = self.of(Kind::Terminate).next().map(|h| {
            let call = self.invoke(h, true, &[]);
            quote! {
                async fn terminate(&mut self, reason: &#krate::ExitReason, ctx: &mut #krate::Context<Self>) {
                    #call;
                }
            }
        });

        let options = self.options();
        quote! {
            #[automatically_derived]
            #[allow(unused_variables, clippy::unused_unit, clippy::let_unit_value)]
            impl #impl_generics #krate::GenServer for #self_ty #where_clause {
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
        }
    }

    /// `CALL_TIMEOUT` and `start_options` from `#[gen_server(...)]`.
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
                .mailbox(#krate::MailboxBound::new(
                    ::core::num::NonZeroUsize::MIN.saturating_add(#capacity),
                    #krate::Overflow::#policy,
                ))
            });
        }
        let start_options = (!steps.is_empty()).then(|| {
            quote! {
                fn start_options() -> #krate::StartOptions {
                    #krate::StartOptions::new() #(#steps)*
                }
            }
        });
        quote!(#call_timeout #start_options)
    }

    /// The client trait, implemented for every `ServerHandle` of the server.
    fn client(&self) -> TokenStream {
        let krate = &self.server.krate;
        let vis = &self.server.vis;
        let client = &self.client;
        let self_ty = self.outside(self.self_ty);
        let name = self.server.ident.to_string();
        let (_, _, where_clause) = self.sendable.split_for_impl();
        let params = &self.sendable.params;
        let args = self.type_args();
        let (call_enum, reply_enum, cast_enum) =
            (&self.call_enum, &self.reply_enum, &self.cast_enum);
        let methods = self
            .block
            .handlers
            .iter()
            .filter(|h| matches!(h.kind, Kind::Call | Kind::Cast))
            .map(|h| {
                let ident = &h.ident;
                let names: Vec<&Ident> = h.messages().map(|(n, _)| n).collect();
                let types: Vec<Type> = h.messages().map(|(_, t)| self.outside(t)).collect();
                let v = &h.variant;
                let docs = &h.docs;
                let request = if names.is_empty() {
                    quote!(#v)
                } else {
                    quote!(#v(#(#names),*))
                };
                if h.kind == Kind::Call {
                    let reply = self.outside(&h.reply_type());
                    let default_doc = (docs.is_empty()).then(|| {
                        let d = format!("Calls `{ident}` and waits for the reply.");
                        quote!(#[doc = #d])
                    });
                    quote! {
                        #(#docs)*
                        #default_doc
                        #[doc = ""]
                        #[doc = "Fails with a `CallError` if the server is gone, exits during the call, or does not reply within the call timeout (the server's own, or the one given with `with_timeout`)."]
                        fn #ident(&self, #(#names: #types),*) -> impl ::core::future::Future<Output = ::core::result::Result<#reply, #krate::CallError>> + ::core::marker::Send {
                            let call = #krate::ServerHandle::call(self, #call_enum::#request);
                            async move {
                                #[allow(unreachable_patterns)]
                                match call.await {
                                    ::core::result::Result::Ok(#reply_enum::#v(reply)) => ::core::result::Result::Ok(reply),
                                    ::core::result::Result::Ok(_) => ::core::result::Result::Err(#krate::CallError::WrongReply),
                                    ::core::result::Result::Err(e) => ::core::result::Result::Err(e),
                                }
                            }
                        }
                    }
                } else {
                    let default_doc = (docs.is_empty()).then(|| {
                        let d = format!("Casts `{ident}`: queued at once, handled later.");
                        quote!(#[doc = #d])
                    });
                    quote! {
                        #(#docs)*
                        #default_doc
                        #[doc = ""]
                        #[doc = "Returns at once. Fails only if the server's mailbox is bounded and full, handing the message back."]
                        fn #ident(&self, #(#names: #types),*) -> ::core::result::Result<(), #krate::CastError<#cast_enum #args>> {
                            #krate::ServerHandle::cast(self, #cast_enum::#request)
                        }
                    }
                }
            });
        let doc = format!(
            "The typed client of [`{name}`]: a method per `#[call]` and `#[cast]` handler, on `ServerRef<{name}>` and on `server.with_timeout(..)` (generated by `#[derive(GenServer)]`)."
        );
        let endpoint_generics = {
            let mut g = self.sendable.clone();
            g.params.push(syn::parse_quote!(__E));
            g.make_where_clause()
                .predicates
                .push(syn::parse_quote!(__E: #krate::ServerHandle<Server = #self_ty>));
            g
        };
        let (endpoint_impl, _, endpoint_where) = endpoint_generics.split_for_impl();
        quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            #vis trait #client<#params>: #krate::ServerHandle<Server = #self_ty> #where_clause {
                #(#methods)*
            }

            #[automatically_derived]
            impl #endpoint_impl #client #args for __E #endpoint_where {}
        }
    }

    /// `start` and friends on the server type, taking the init arguments one by one.
    fn start_fns(&self) -> TokenStream {
        let krate = &self.server.krate;
        let vis = &self.server.vis;
        let self_ty = self.self_ty;
        let name = self.server.ident.to_string();
        let (impl_generics, _, where_clause) = self.sendable.split_for_impl();
        let init = self.of(Kind::Init).next();
        let (names, types): (Vec<&Ident>, Vec<&Type>) =
            init.map(|h| h.messages().unzip()).unwrap_or_default();
        let args = match names.as_slice() {
            [] => quote!(()),
            [n] => quote!(#n),
            ns => quote!((#(#ns,)*)),
        };
        let options = if names.iter().any(|n| *n == "options") {
            format_ident!("start_options")
        } else {
            format_ident!("options")
        };
        let ret = quote!(impl ::core::future::Future<Output = ::core::result::Result<#krate::ServerRef<Self>, #krate::StartError>> + ::core::marker::Send);
        let child_spec = self.child_spec(&names, &types);
        let doc_start = format!(
            "Starts a [`{name}`], not linked, with the options of its `#[gen_server(...)]` attribute; returns once `init` has returned."
        );
        let doc_link = format!(
            "Starts a [`{name}`] linked to the calling process, with the options of its `#[gen_server(...)]` attribute; returns once `init` has returned."
        );
        let doc_with = format!(
            "Starts a [`{name}`], not linked, with these options instead of its own (start from `{name}::start_options()` to change one)."
        );
        let doc_link_with = format!(
            "Starts a [`{name}`] linked to the calling process, with these options instead of its own."
        );
        quote! {
            #[automatically_derived]
            #[allow(dead_code, clippy::unused_unit)]
            impl #impl_generics #self_ty #where_clause {
                #[doc = #doc_start]
                #vis fn start(#(#names: #types),*) -> #ret {
                    <Self as #krate::GenServer>::start(#args)
                }
                #[doc = #doc_link]
                #vis fn start_link(#(#names: #types),*) -> #ret {
                    <Self as #krate::GenServer>::start_link(#args)
                }
                #[doc = #doc_with]
                #vis fn start_with(#(#names: #types,)* #options: #krate::StartOptions) -> #ret {
                    <Self as #krate::GenServer>::start_with(#args, #options)
                }
                #[doc = #doc_link_with]
                #vis fn start_link_with(#(#names: #types,)* #options: #krate::StartOptions) -> #ret {
                    <Self as #krate::GenServer>::start_link_with(#args, #options)
                }
                #child_spec
            }
        }
    }

    /// `child_spec`: the server as a supervisor's child, started with `start_link` and the
    /// arguments given here (cloned at every start, so they must be `Clone + Sync`: under a
    /// `for<>`, so that a server whose arguments are not has no usable `child_spec` rather
    /// than a compile error).
    fn child_spec(&self, names: &[&Ident], types: &[&Type]) -> TokenStream {
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

    /// Checks, pointing at each message part's type, that it can be sent to the server.
    fn message_asserts(&self) -> TokenStream {
        let krate = &self.server.krate;
        let checks: Vec<TokenStream> = self
            .block
            .handlers
            .iter()
            .filter(|h| {
                matches!(
                    h.kind,
                    Kind::Call | Kind::Cast | Kind::Continue | Kind::Init
                )
            })
            .flat_map(|h| h.messages().map(|(_, t)| t))
            .chain(
                self.block
                    .handlers
                    .iter()
                    .filter(|h| h.kind == Kind::Call)
                    .flat_map(|h| {
                        h.deferred().into_iter().chain(match &h.output {
                            Output::Value(t) | Output::ReplyThen(t) => Some(t),
                            _ => None,
                        })
                    }),
            )
            .map(|t| {
                let outside = self.outside(t);
                quote_spanned! {t.span()=>
                    #krate::gen_server::derive_support::assert_message_arg::<#outside>();
                }
            })
            .collect();
        if checks.is_empty() {
            return TokenStream::new();
        }
        // With the impl's bounds and `T: Send + 'static` for its type parameters, as the
        // `GenServer` impl has: what is checked is the types written in the handlers.
        let (_, _, where_clause) = self.bounded.split_for_impl();
        let params = &self.bounded.params;
        quote! {
            const _: () = {
                #[allow(dead_code)]
                fn __assert_messages<#params>() #where_clause {
                    #(#checks)*
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::handlers::{Input, expand_handlers};

    fn expand(input: proc_macro2::TokenStream) -> String {
        let input: Input = syn::parse2(input).expect("input parses");
        expand_handlers(input).to_string()
    }

    /// The generated items share the struct's visibility; handler docs reach the client.
    #[test]
    fn visibility_follows_the_struct_and_docs_reach_the_client() {
        let out = expand(quote! {
            { #[gen_server(name = "c")] pub(crate) struct Counter; }
            impl Counter {
                /// The current count.
                #[call]
                fn get(&self) -> u64 { 0 }
                #[cast]
                fn add(&mut self, by: u64) {}
            }
        });
        for item in [
            "pub (crate) enum CounterCall",
            "pub (crate) enum CounterReply",
            "pub (crate) enum CounterCast",
            "pub (crate) enum CounterContinue",
            "pub (crate) trait CounterClient",
            "pub (crate) fn start",
        ] {
            assert!(out.contains(item), "no `{item}` in {out}");
        }
        let client = &out[out.find("trait CounterClient").unwrap()..];
        assert!(
            client.contains("# [doc = r\" The current count.\"] # [doc = \"\"]"),
            "the doc comment of `get` is not on its client method: {client}"
        );
        assert!(client.contains("Casts `add`"), "{client}");
        assert!(
            out.contains(". name (\"c\")"),
            "the name option is not applied: {out}"
        );
    }

    /// A private struct gets private items.
    #[test]
    fn private_struct_private_items() {
        let out = expand(quote! {
            { struct Quiet; }
            impl Quiet {}
        });
        assert!(out.contains("enum QuietCall"));
        assert!(!out.contains("pub enum"), "{out}");
        assert!(!out.contains("pub trait"), "{out}");
    }

    /// Mistakes give errors (and the block back), not generated code.
    #[test]
    fn mistakes_are_errors_not_code() {
        let out = expand(quote! {
            { struct S; }
            impl S {
                #[cast]
                fn a(&mut self) -> u8 { 0 }
                #[init]
                fn i(self) -> Self { self }
            }
        });
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        assert!(!out.contains("enum SCall"), "{out}");
        assert!(!out.contains("trait SClient"), "{out}");
        assert!(out.contains("fn a"), "the block is given back: {out}");
        assert!(
            out.contains("a server with compile errors"),
            "a placeholder impl keeps the block's `Context<Self>` and such from failing: {out}"
        );
    }
}
