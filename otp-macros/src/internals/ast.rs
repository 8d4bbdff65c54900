//! The parsed model: the server (the struct `#[derive(GenServer)]` is on) and its handlers (the
//! `#[handlers]` impl block).

use proc_macro2::Span;
use quote::format_ident;
use syn::spanned::Spanned;
use syn::{
    Attribute, DeriveInput, FnArg, GenericArgument, Ident, ImplItem, ItemImpl, Pat, PathArguments,
    PathSegment, ReturnType, Type, Visibility,
};

use super::attr::{Kind, Options};
use super::ctxt::Ctxt;
use super::runtime::runtime_path;

/// The struct (or enum) a server is derived on.
pub struct Server {
    /// Its name.
    pub ident: Ident,
    /// Its visibility, which the generated items share.
    pub vis: Visibility,
    /// Its `#[gen_server(...)]` options.
    pub options: Options,
    /// The path the generated code names the runtime by (see [`runtime_path`]).
    pub krate: syn::Path,
}

impl Server {
    /// Reads the derive input, recording mistakes in `cx`.
    pub fn from_input(cx: &Ctxt, input: &DeriveInput) -> Server {
        if let syn::Data::Union(u) = &input.data {
            cx.error_spanned_by(
                u.union_token,
                "a GenServer is derived on a struct or an enum, not a union",
            );
        }
        for lt in input.generics.lifetimes() {
            cx.error_spanned_by(
                lt,
                "a server owns its state and lives in its own task: it cannot borrow, remove the lifetime parameter",
            );
        }
        let options = Options::from_attrs(cx, &input.attrs);
        Server {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            krate: runtime_path(&options),
            options,
        }
    }
}

/// The `#[handlers]` block.
pub struct Block {
    /// The impl block as the user wrote it, handler attributes removed.
    pub item: ItemImpl,
    /// The handlers, in the order written.
    pub handlers: Vec<Handler>,
}

/// One handler.
pub struct Handler {
    /// Which attribute marked it.
    pub kind: Kind,
    /// The attribute, for errors about the handler as a whole.
    pub attr_span: Span,
    /// The fn's name.
    pub ident: Ident,
    /// The variant of the message enum (`get_count` → `GetCount`).
    pub variant: Ident,
    /// Whether it is `async`.
    pub is_async: bool,
    /// Its parameters after `self`, in order.
    pub params: Vec<Param>,
    /// What it returns.
    pub output: Output,
    /// Its doc comments.
    pub docs: Vec<Attribute>,
}

/// A parameter of a handler.
pub enum Param {
    /// A part of the message: an argument of the client method and a field of the variant.
    Message {
        /// The name the client method gives it.
        name: Ident,
        /// Its type.
        ty: Type,
    },
    /// `ctx: &mut Context<Self>`.
    Context,
    /// `reply: ReplyTo<Self, T>`: a deferred call handler; `T` is the reply's type.
    Reply(Type),
    /// `reason: &ExitReason`, in `#[terminate]`.
    Reason,
}

/// What a handler returns, as the generated code needs to know it.
pub enum Output {
    /// Nothing (`()`).
    Unit,
    /// A call's reply.
    Value(Type),
    /// `ReplyThen<T, Self>`: a call's reply, then an action.
    ReplyThen(Type),
    /// `Action<Self>`.
    Action,
    /// `#[init]` returning `Self`.
    State,
    /// `#[init]` returning `Result<Self, E>`.
    StateResult,
    /// `#[init]` returning `Init<Self>`.
    Init,
}

impl Handler {
    /// The message parts, in order.
    pub fn messages(&self) -> impl Iterator<Item = (&Ident, &Type)> {
        self.params.iter().filter_map(|p| match p {
            Param::Message { name, ty } => Some((name, ty)),
            _ => None,
        })
    }

    /// The reply type of a deferred call handler.
    pub fn deferred(&self) -> Option<&Type> {
        self.params.iter().find_map(|p| match p {
            Param::Reply(t) => Some(t),
            _ => None,
        })
    }

    /// The type a call replies with.
    pub fn reply_type(&self) -> Type {
        if let Some(t) = self.deferred() {
            return t.clone();
        }
        match &self.output {
            Output::Value(t) | Output::ReplyThen(t) => t.clone(),
            _ => syn::parse_quote!(()),
        }
    }
}

impl Block {
    /// Reads the impl block, removing the handler attributes and recording mistakes in `cx`.
    pub fn from_impl(cx: &Ctxt, mut item: ItemImpl) -> Block {
        if let Some((path, _)) = &item.trait_ {
            cx.error_spanned_by(
                path,
                "`#[handlers]` goes on the inherent impl block of the server (`impl Counter { ... }`), not on a trait impl",
            );
        }
        let mut handlers = Vec::new();
        for impl_item in &mut item.items {
            let attrs = match impl_item {
                ImplItem::Fn(f) => &mut f.attrs,
                ImplItem::Const(c) => &mut c.attrs,
                ImplItem::Type(t) => &mut t.attrs,
                ImplItem::Macro(m) => &mut m.attrs,
                _ => continue,
            };
            let mut marks = Vec::new();
            attrs.retain(|a| match Kind::of(a) {
                Some(kind) => {
                    marks.push((kind, a.clone()));
                    false
                }
                None => true,
            });
            let Some((kind, attr)) = marks.first() else {
                continue;
            };
            let span = kind.check_bare(cx, attr);
            for (other, attr) in &marks[1..] {
                cx.error_spanned_by(
                    attr,
                    format!(
                        "this fn is already a `#[{}]` handler; a fn is one handler only{}",
                        kind.name(),
                        if other == kind {
                            ""
                        } else {
                            ": split it in two"
                        }
                    ),
                );
            }
            match impl_item {
                ImplItem::Fn(f) => {
                    if let Some(h) = Handler::from_fn(cx, *kind, span, f) {
                        handlers.push(h);
                    }
                }
                other => cx.error_spanned_by(
                    attr,
                    format!(
                        "`#[{}]` marks a fn; this is not one{}",
                        kind.name(),
                        if matches!(other, ImplItem::Macro(_)) {
                            " (handlers cannot come from a macro)"
                        } else {
                            ""
                        }
                    ),
                ),
            }
        }
        Block { item, handlers }
    }
}

impl Handler {
    fn from_fn(cx: &Ctxt, kind: Kind, attr_span: Span, f: &syn::ImplItemFn) -> Option<Handler> {
        let sig = &f.sig;
        let what = format!("a `#[{}]` handler", kind.name());
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &sig.generics,
                format!("{what} cannot be generic: its messages must have one type each, known when the server is compiled"),
            );
        }
        if let syn::Safety::Unsafe(t) = &sig.safety {
            cx.error_spanned_by(t, format!("{what} cannot be `unsafe`"));
        }
        if let Some(abi) = &sig.abi {
            cx.error_spanned_by(abi, format!("{what} cannot have an ABI"));
        }
        if let Some(c) = &sig.constness
            && sig.asyncness.is_some()
        {
            cx.error_spanned_by(c, "a `const async fn` is not a handler");
        }

        // The receiver.
        let receiver = sig.inputs.first().and_then(|a| match a {
            FnArg::Receiver(r) => Some(r),
            FnArg::Typed(_) => None,
        });
        match (kind, receiver) {
            (Kind::Init, Some(r)) => cx.error_spanned_by(
                r,
                "`#[init]` builds the server, so it takes no `self`: remove it and return `Self`",
            ),
            (Kind::Init, None) => {}
            (_, None) => cx.error_spanned_by(
                &sig.ident,
                format!(
                    "{what} works on the server's state: take `&mut self` (or `&self`) as its first parameter"
                ),
            ),
            (_, Some(r)) => {
                let by_ref = matches!(r.kind, syn::ReceiverKind::Reference(..));
                if !by_ref {
                    cx.error_spanned_by(
                        r,
                        format!("{what} borrows the server's state: take `&mut self` or `&self`, not `self`, which would consume the server"),
                    );
                }
            }
        }

        // The parameters.
        let mut params = Vec::new();
        let mut index = 0usize;
        for arg in &sig.inputs {
            let FnArg::Typed(pt) = arg else { continue };
            let ty = &*pt.ty;
            if is_context(ty) {
                match ty {
                    Type::Reference(r) if r.mutability.is_some() => {}
                    _ => cx.error_spanned_by(ty, "take the context as `&mut Context<Self>`"),
                }
                if params.iter().any(|p| matches!(p, Param::Context)) {
                    cx.error_spanned_by(pt, "the context is passed once: remove this parameter");
                }
                params.push(Param::Context);
                continue;
            }
            if let Some(seg) = last_segment(ty).filter(|s| s.ident == "ReplyTo") {
                if kind != Kind::Call {
                    cx.error_spanned_by(
                        ty,
                        format!("only a `#[call]` has a caller to reply to; {what} cannot take a `ReplyTo`"),
                    );
                    continue;
                }
                let args: Vec<&Type> = match &seg.arguments {
                    PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .filter_map(|g| match g {
                            GenericArgument::Type(t) => Some(t),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                match args.as_slice() {
                    [_, reply] => {
                        if params.iter().any(|p| matches!(p, Param::Reply(_))) {
                            cx.error_spanned_by(pt, "a call has one caller: take one `ReplyTo`");
                        }
                        params.push(Param::Reply((*reply).clone()));
                    }
                    _ => cx.error_spanned_by(
                        ty,
                        "name the type of the reply: `ReplyTo<Self, T>` (the deferred reply of this call is a `T`)",
                    ),
                }
                continue;
            }
            if kind == Kind::Terminate {
                let is_reason = matches!(ty, Type::Reference(r)
                    if r.mutability.is_none()
                        && last_segment(&r.elem).is_some_and(|s| s.ident == "ExitReason"));
                if is_reason {
                    params.push(Param::Reason);
                } else {
                    cx.error_spanned_by(
                        ty,
                        "`#[terminate]` takes the exit reason (`reason: &ExitReason`) and the context (`ctx: &mut Context<Self>`), nothing else",
                    );
                }
                continue;
            }
            match ty {
                // `&'static T` is owned data for this purpose; any other borrow is not.
                Type::Reference(r) if r.lifetime.as_ref().is_none_or(|l| l.ident != "static") => {
                    cx.error_spanned_by(
                        ty,
                        "a message is moved to the server, so its parts cannot be borrowed: take an owned type (`String`, not `&str`), or a `&'static` one",
                    )
                }
                Type::ImplTrait(_) => cx.error_spanned_by(
                    ty,
                    "a message part has one type, known when the server is compiled: `impl Trait` cannot be one",
                ),
                Type::Infer(_) => cx.error_spanned_by(ty, "write the type of this message part"),
                _ => {}
            }
            let name = match &*pt.pat {
                Pat::Ident(p) if p.ident != "_" => unraw(&p.ident),
                _ => format_ident!("arg{}", index, span = pt.pat.span()),
            };
            index += 1;
            params.push(Param::Message {
                name,
                ty: ty.clone(),
            });
        }
        let messages = params
            .iter()
            .filter(|p| matches!(p, Param::Message { .. }))
            .count();
        if kind == Kind::Info && messages != 1 {
            let (target, message): (&dyn quote::ToTokens, _) = if messages == 0 {
                (
                    &sig.ident,
                    "an `#[info]` handler takes the message it handles: add a parameter of the message's type (`tick: Tick`)",
                )
            } else {
                let second = sig
                    .inputs
                    .iter()
                    .filter(|a| match a {
                        FnArg::Typed(pt) => {
                            !is_context(&pt.ty)
                                && last_segment(&pt.ty).is_none_or(|s| s.ident != "ReplyTo")
                        }
                        FnArg::Receiver(_) => false,
                    })
                    .nth(1);
                (
                    second.map_or(&sig.ident as &dyn quote::ToTokens, |a| {
                        a as &dyn quote::ToTokens
                    }),
                    "an `#[info]` handler takes one message, dispatched by its type: write one handler per message type, or send a tuple or a struct",
                )
            };
            cx.error_spanned_by(target, message);
        }

        let output = Output::parse(cx, kind, sig, &params, &what);
        Some(Handler {
            kind,
            attr_span,
            ident: sig.ident.clone(),
            variant: camel(&sig.ident),
            is_async: sig.asyncness.is_some(),
            params,
            output,
            docs: f
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect(),
        })
    }
}

impl Output {
    fn parse(cx: &Ctxt, kind: Kind, sig: &syn::Signature, params: &[Param], what: &str) -> Output {
        let ty = match &sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, t) if is_unit(t) => None,
            ReturnType::Type(_, t) => Some(&**t),
        };
        let last = ty.and_then(last_segment).map(|s| s.ident.to_string());
        if let Some(t @ Type::ImplTrait(_)) = ty {
            cx.error_spanned_by(
                t,
                format!("{what} cannot return `impl Trait`; to return a future, write it as an `async fn`"),
            );
            return Output::Unit;
        }
        match kind {
            Kind::Init => match (ty, last.as_deref()) {
                (Some(Type::Path(p)), Some("Self")) if p.path.segments.len() == 1 => Output::State,
                (Some(_), Some("Result")) => Output::StateResult,
                (Some(_), Some("Init")) => Output::Init,
                (Some(t), _) if !matches!(t, Type::Path(_)) => {
                    init_return_error(cx, t);
                    Output::State
                }
                // A type named as the struct is.
                (Some(Type::Path(p)), _) if p.qself.is_none() => Output::State,
                (Some(t), _) => {
                    init_return_error(cx, t);
                    Output::State
                }
                (None, _) => {
                    cx.error_spanned_by(
                        &sig.ident,
                        "`#[init]` builds the server: return `Self`, `Result<Self, E>` (with `E: Into<ExitReason>`) or `Init<Self>`",
                    );
                    Output::State
                }
            },
            Kind::Call if params.iter().any(|p| matches!(p, Param::Reply(_))) => {
                match (ty, last.as_deref()) {
                    (None, _) => Output::Unit,
                    (Some(_), Some("Action")) => Output::Action,
                    (Some(t), _) => {
                        cx.error_spanned_by(
                            t,
                            "a call that takes its `ReplyTo` replies through it: return nothing, or an `Action<Self>`",
                        );
                        Output::Unit
                    }
                }
            }
            Kind::Call => match (ty, last.as_deref()) {
                (None, _) => Output::Value(syn::parse_quote!(())),
                (Some(t), Some("ReplyThen")) => match first_type_arg(t) {
                    Some(reply) => Output::ReplyThen(reply.clone()),
                    None => {
                        cx.error_spanned_by(
                            t,
                            "write `ReplyThen<T, Self>`, with `T` the reply's type",
                        );
                        Output::Unit
                    }
                },
                (Some(t), Some(name @ ("CallResult" | "Action"))) => {
                    cx.error_spanned_by(
                        t,
                        format!("a `#[call]` returns its reply; it cannot return a `{name}`: to act after replying, return `ReplyThen<T, Self>`, to reply later, take a `ReplyTo<Self, T>`"),
                    );
                    Output::Unit
                }
                (Some(t), _) => Output::Value(t.clone()),
            },
            Kind::Cast | Kind::Info | Kind::Continue => match (ty, last.as_deref()) {
                (None, _) => Output::Unit,
                (Some(_), Some("Action")) => Output::Action,
                (Some(t), _) => {
                    let hint = if kind == Kind::Cast {
                        "; a cast has nobody to answer: to reply, make it a `#[call]`"
                    } else {
                        ""
                    };
                    cx.error_spanned_by(
                        t,
                        format!("{what} returns nothing, or an `Action<Self>` (continue, stop, idle timeout, hibernate){hint}"),
                    );
                    Output::Unit
                }
            },
            Kind::Terminate => {
                if let Some(t) = ty {
                    cx.error_spanned_by(t, "`#[terminate]` returns nothing: the server is exiting");
                }
                Output::Unit
            }
        }
    }
}

fn init_return_error(cx: &Ctxt, t: &Type) {
    cx.error_spanned_by(
        t,
        "`#[init]` builds the server: return `Self`, `Result<Self, E>` (with `E: Into<ExitReason>`) or `Init<Self>`",
    );
}

/// The last segment of a type's path (`Context` in `&mut otp::gen_server::Context<Self>` is not: that is a
/// reference), looking through parentheses and groups.
pub fn last_segment(ty: &Type) -> Option<&PathSegment> {
    match ty {
        Type::Path(p) => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

fn first_type_arg(ty: &Type) -> Option<&Type> {
    match &last_segment(ty)?.arguments {
        PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// `&mut Context<..>`, `&Context<..>` or `Context<..>`.
fn is_context(ty: &Type) -> bool {
    let inner = match ty {
        Type::Reference(r) => &*r.elem,
        other => other,
    };
    last_segment(inner).is_some_and(|s| s.ident == "Context")
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

fn unraw(ident: &Ident) -> Ident {
    let s = ident.to_string();
    match s.strip_prefix("r#") {
        Some(plain) => Ident::new(plain, ident.span()),
        None => ident.clone(),
    }
}

/// `get_count` → `GetCount`.
pub fn camel(ident: &Ident) -> Ident {
    let s = unraw(ident).to_string();
    let mut out = String::new();
    for part in s.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() {
        out.push_str("Handler");
    }
    Ident::new(&out, ident.span())
}
