//! Attributes: the struct-level `#[gen_server(...)]` options, and the handler attributes of a
//! `#[handlers]` block.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Lit, Meta};

use super::ctxt::Ctxt;

/// The options of `#[gen_server(...)]`, as written on the struct.
#[derive(Default)]
pub struct Options {
    /// `name = "counter"`: the local name the server registers when started.
    pub name: Option<syn::LitStr>,
    /// `call_timeout = 500` (milliseconds) or `call_timeout = "infinity"`.
    pub call_timeout: Option<Millis>,
    /// `start_timeout = 1000`: the longest `init` may take (milliseconds).
    pub start_timeout: Option<u64>,
    /// `hibernate_after = 60000`: hibernate after this long idle (milliseconds).
    pub hibernate_after: Option<u64>,
    /// `mailbox = 1000`: the mailbox's capacity.
    pub mailbox: Option<u64>,
    /// `overflow = "drop_oldest"`: what a full mailbox does (with `mailbox`).
    pub overflow: Option<Overflow>,
    /// `crate = "otp_core"`: the path generated code names the runtime by.
    pub krate: Option<syn::Path>,
    /// `restart = "transient"`: the restart type of the generated child spec.
    pub restart: Option<Restart>,
    /// `shutdown = 10000`, `"brutal_kill"` or `"infinity"`: the shutdown of the child spec.
    pub shutdown: Option<ShutdownOption>,
    /// `remote`: the server can be addressed from other nodes (its messages derive serde's
    /// traits); the span of the word, for the errors of a server that cannot be.
    pub remote: Option<Span>,
}

/// The restart types of a child spec, by the names the option takes.
#[derive(Clone, Copy)]
pub enum Restart {
    /// `"permanent"`
    Permanent,
    /// `"transient"`
    Transient,
    /// `"temporary"`
    Temporary,
}

impl Restart {
    /// The variant of `otp::supervisor::Restart`.
    pub fn variant(self) -> &'static str {
        match self {
            Restart::Permanent => "Permanent",
            Restart::Transient => "Transient",
            Restart::Temporary => "Temporary",
        }
    }
}

/// How a supervisor stops the server, as the `shutdown` option says it.
#[derive(Clone, Copy)]
pub enum ShutdownOption {
    /// `"brutal_kill"`
    BrutalKill,
    /// Milliseconds.
    Timeout(u64),
    /// `"infinity"`
    Infinity,
}

/// A duration in milliseconds, or no limit.
#[derive(Clone, Copy)]
pub enum Millis {
    /// This many milliseconds.
    Finite(u64),
    /// No limit.
    Infinity,
}

/// The overflow policies of a bounded mailbox, by the names the option takes.
#[derive(Clone, Copy)]
pub enum Overflow {
    /// `"wait"`
    Wait,
    /// `"error"`
    Error,
    /// `"drop_oldest"`
    DropOldest,
    /// `"drop_newest"`
    DropNewest,
}

impl Overflow {
    /// The variant of `otp::process::Overflow`.
    pub fn variant(self) -> &'static str {
        match self {
            Overflow::Wait => "Wait",
            Overflow::Error => "Error",
            Overflow::DropOldest => "DropOldest",
            Overflow::DropNewest => "DropNewest",
        }
    }
}

const OPTIONS: &str = "name, call_timeout, start_timeout, hibernate_after, mailbox, overflow, restart, shutdown, remote, crate";

impl Options {
    /// Parses every `#[gen_server(...)]` attribute among `attrs`, recording mistakes in `cx`.
    pub fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Options {
        let mut options = Options::default();
        let mut mailbox_span = None;
        let mut overflow_span = None;
        for attr in attrs.iter().filter(|a| a.path().is_ident("gen_server")) {
            if !matches!(attr.meta, Meta::List(_)) {
                cx.error_spanned_by(
                    attr,
                    format!("write the options in parentheses: `#[gen_server(name = \"...\")]`; the options are: {OPTIONS}"),
                );
                continue;
            }
            let result = attr.parse_nested_meta(|meta| {
                let key = meta
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                let seen = match key.as_str() {
                    "name" => {
                        let lit: syn::LitStr = meta.value()?.parse().map_err(|_| {
                            meta.error("`name` takes a string: `name = \"counter\"`")
                        })?;
                        if lit.value().is_empty() {
                            return Err(syn::Error::new(lit.span(), "the name cannot be empty"));
                        }
                        options.name.replace(lit).is_some()
                    }
                    "call_timeout" => {
                        let value = meta.value()?;
                        let lit: Lit = value.parse()?;
                        let millis = match &lit {
                            Lit::Int(i) => Millis::Finite(i.base10_parse()?),
                            Lit::Str(s) if s.value() == "infinity" => Millis::Infinity,
                            _ => {
                                return Err(syn::Error::new_spanned(
                                    lit,
                                    "`call_timeout` takes milliseconds (`call_timeout = 500`) or `\"infinity\"`",
                                ));
                            }
                        };
                        if let Millis::Finite(0) = millis {
                            return Err(syn::Error::new_spanned(
                                lit,
                                "a call timeout of 0 ms fails every call; give at least 1",
                            ));
                        }
                        options.call_timeout.replace(millis).is_some()
                    }
                    "start_timeout" | "hibernate_after" => {
                        let lit: syn::LitInt = meta.value()?.parse().map_err(|_| {
                            meta.error(format!("`{key}` takes milliseconds: `{key} = 1000`"))
                        })?;
                        let ms: u64 = lit.base10_parse()?;
                        let slot = if key == "start_timeout" {
                            &mut options.start_timeout
                        } else {
                            &mut options.hibernate_after
                        };
                        slot.replace(ms).is_some()
                    }
                    "mailbox" => {
                        let lit: syn::LitInt = meta.value()?.parse().map_err(|_| {
                            meta.error("`mailbox` takes the capacity: `mailbox = 1000`")
                        })?;
                        let capacity: u64 = lit.base10_parse()?;
                        if capacity == 0 {
                            return Err(syn::Error::new_spanned(
                                lit,
                                "a mailbox holds at least one message",
                            ));
                        }
                        mailbox_span = Some(meta.path.clone());
                        options.mailbox.replace(capacity).is_some()
                    }
                    "overflow" => {
                        let lit: syn::LitStr = meta.value()?.parse().map_err(|_| {
                            meta.error("`overflow` takes one of \"wait\", \"error\", \"drop_oldest\", \"drop_newest\"")
                        })?;
                        let policy = match lit.value().as_str() {
                            "wait" => Overflow::Wait,
                            "error" => Overflow::Error,
                            "drop_oldest" => Overflow::DropOldest,
                            "drop_newest" => Overflow::DropNewest,
                            _ => {
                                return Err(syn::Error::new(
                                    lit.span(),
                                    "unknown overflow policy; expected one of \"wait\", \"error\", \"drop_oldest\", \"drop_newest\"",
                                ));
                            }
                        };
                        overflow_span = Some(meta.path.clone());
                        options.overflow.replace(policy).is_some()
                    }
                    "restart" => {
                        let lit: syn::LitStr = meta.value()?.parse().map_err(|_| {
                            meta.error("`restart` takes one of \"permanent\", \"transient\", \"temporary\"")
                        })?;
                        let restart = match lit.value().as_str() {
                            "permanent" => Restart::Permanent,
                            "transient" => Restart::Transient,
                            "temporary" => Restart::Temporary,
                            _ => {
                                return Err(syn::Error::new(
                                    lit.span(),
                                    "unknown restart type; expected one of \"permanent\", \"transient\", \"temporary\"",
                                ));
                            }
                        };
                        options.restart.replace(restart).is_some()
                    }
                    "shutdown" => {
                        let lit: Lit = meta.value()?.parse()?;
                        let shutdown = match &lit {
                            Lit::Int(i) => ShutdownOption::Timeout(i.base10_parse()?),
                            Lit::Str(s) if s.value() == "brutal_kill" => ShutdownOption::BrutalKill,
                            Lit::Str(s) if s.value() == "infinity" => ShutdownOption::Infinity,
                            _ => {
                                return Err(syn::Error::new_spanned(
                                    lit,
                                    "`shutdown` takes milliseconds (`shutdown = 10000`), `\"brutal_kill\"` or `\"infinity\"`",
                                ));
                            }
                        };
                        options.shutdown.replace(shutdown).is_some()
                    }
                    "remote" => {
                        if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                            return Err(meta.error(
                                "`remote` takes no value: `#[gen_server(remote)]`",
                            ));
                        }
                        options.remote.replace(meta.path.span()).is_some()
                    }
                    "crate" => {
                        let lit: syn::LitStr = meta.value()?.parse().map_err(|_| {
                            meta.error("`crate` takes a path in a string: `crate = \"otp_core\"`")
                        })?;
                        let path: syn::Path = lit.parse().map_err(|_| {
                            syn::Error::new(lit.span(), "not a path: write `crate = \"otp_core\"`")
                        })?;
                        options.krate.replace(path).is_some()
                    }
                    _ => {
                        return Err(meta.error(format!(
                            "unknown gen_server option; the options are: {OPTIONS}"
                        )));
                    }
                };
                if seen {
                    return Err(meta.error(format!("`{key}` is given twice")));
                }
                Ok(())
            });
            if let Err(e) = result {
                cx.syn_error(e);
            }
        }
        if let (Some(path), None) = (overflow_span, mailbox_span) {
            cx.error_spanned_by(
                path,
                "`overflow` applies to a bounded mailbox: add `mailbox = <capacity>`",
            );
        }
        options
    }
}

/// The kinds of handler in a `#[handlers]` block.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    /// `#[init]`
    Init,
    /// `#[call]`
    Call,
    /// `#[cast]`
    Cast,
    /// `#[info]`
    Info,
    /// `#[handle_continue]`
    Continue,
    /// `#[terminate]`
    Terminate,
}

impl Kind {
    /// The attribute's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Init => "init",
            Kind::Call => "call",
            Kind::Cast => "cast",
            Kind::Info => "info",
            Kind::Continue => "handle_continue",
            Kind::Terminate => "terminate",
        }
    }

    /// The handler attribute `attr` is, if it is one: `#[call]`, or `#[otp::gen_server::call]` and the
    /// like.
    pub fn of(attr: &Attribute) -> Option<Kind> {
        let path = attr.path();
        let last = path.segments.last()?.ident.to_string();
        let kind = match last.as_str() {
            "init" => Kind::Init,
            "call" => Kind::Call,
            "cast" => Kind::Cast,
            "info" => Kind::Info,
            "handle_continue" => Kind::Continue,
            "terminate" => Kind::Terminate,
            _ => return None,
        };
        let ours = path.segments.len() == 1
            || path.segments.first().is_some_and(|s| {
                matches!(
                    s.ident.to_string().as_str(),
                    "otp" | "otp_core" | "otp_macros"
                )
            });
        ours.then_some(kind)
    }

    /// The span to point at for `attr`, checking it takes no arguments.
    pub fn check_bare(self, cx: &Ctxt, attr: &Attribute) -> Span {
        if !matches!(attr.meta, Meta::Path(_)) {
            cx.error_spanned_by(attr, format!("`#[{}]` takes no arguments", self.name()));
        }
        attr.path()
            .segments
            .last()
            .map_or_else(Span::call_site, |s| s.ident.span())
    }
}
