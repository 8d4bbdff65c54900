//! The names a handler cannot take: those the generated code defines on the server type, and
//! those of the methods of the handles its client is implemented for, which would hide the
//! client's methods of the same names.

/// Names the generated code defines on the server type: a handler named so would clash.
pub const ON_SERVER: &[&str] = &["start", "start_link", "start_with", "start_link_with"];

/// The methods of the handles a server's client is implemented for, `ServerRef` and
/// `WithTimeout` (theirs, and those of the traits they implement: `ServerHandle`, `Clone`...),
/// each with the handle the error names. A client method named like one of them would be
/// hidden by it, or clash with it. The test below keeps this in step with otp-core's sources.
const ON_HANDLES: &[(&str, &str)] = &[
    ("pid", "ServerRef"),
    ("from_pid", "ServerRef"),
    ("whereis", "ServerRef"),
    ("remote", "ServerRef"),
    ("from_remote_pid", "ServerRef"),
    ("is_remote", "ServerRef"),
    ("is_alive", "ServerRef"),
    ("mailbox_len", "ServerRef"),
    ("call", "ServerRef"),
    ("call_timeout", "ServerRef"),
    ("with_timeout", "ServerRef"),
    ("cast", "ServerRef"),
    ("cast_wait", "ServerRef"),
    ("stop", "ServerRef"),
    ("stop_timeout", "ServerRef"),
    ("wait_exit", "ServerRef"),
    ("clone", "ServerRef"),
    ("clone_from", "ServerRef"),
    ("eq", "ServerRef"),
    ("ne", "ServerRef"),
    ("fmt", "ServerRef"),
    ("server", "WithTimeout"),
    ("timeout", "WithTimeout"),
];

/// The handle whose method `name` would hide a client method of that name, if there is one.
pub fn handle_with_method(name: &str) -> Option<&'static str> {
    ON_HANDLES
        .iter()
        .find(|(method, _)| *method == name)
        .map(|(_, handle)| *handle)
}

/// Reads otp-core's sources (beside this crate's, in the workspace) for the methods of
/// `ServerRef` and `WithTimeout`, and fails, naming them, on those `ON_HANDLES` lacks and on
/// those it names that are gone.
///
/// It sees inherent impls, trait impls and derives on the two handles (and on references to
/// them) anywhere in otp-core; not blanket impls (`impl<T: Bound> Trait for T`), nor the std
/// traits every type has (`Into`, `ToOwned`...).
#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use syn::{Item, Type};

    use super::ON_HANDLES;

    /// The handles a client is implemented for.
    const HANDLES: [&str; 2] = ["ServerRef", "WithTimeout"];

    /// The methods of the std traits the handles may implement. A trait neither here nor
    /// defined in otp-core fails the test, which asks for its methods.
    const STD_TRAITS: &[(&str, &[&str])] = &[
        ("Clone", &["clone", "clone_from"]),
        ("Copy", &[]),
        ("PartialEq", &["eq", "ne"]),
        ("Eq", &[]),
        ("PartialOrd", &["partial_cmp", "lt", "le", "gt", "ge"]),
        ("Ord", &["cmp", "max", "min", "clamp"]),
        ("Hash", &["hash"]),
        ("Debug", &["fmt"]),
        ("Display", &["fmt", "to_string"]),
        ("Send", &[]),
        ("Sync", &[]),
        ("Unpin", &[]),
    ];

    /// Every `.rs` file under `dir`, parsed.
    fn parse_dir(dir: &Path, files: &mut Vec<(PathBuf, syn::File)>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                parse_dir(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a readable source file");
                let file = syn::parse_file(&text)
                    .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
                files.push((path, file));
            }
        }
    }

    /// The items of `items` and of the inline modules among them.
    fn flatten<'f>(items: &'f [Item], out: &mut Vec<&'f Item>) {
        for item in items {
            if let Item::Mod(m) = item
                && let Some((_, inner)) = &m.content
            {
                flatten(inner, out);
            }
            out.push(item);
        }
    }

    /// The handle `ty` is, or refers to.
    fn handle_of(ty: &Type) -> Option<&'static str> {
        match ty {
            Type::Reference(r) => handle_of(&r.elem),
            Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?.ident.to_string();
                HANDLES.into_iter().find(|h| *h == last)
            }
            _ => None,
        }
    }

    /// `path` from the workspace's root: `otp-core/src/...`.
    fn shown(path: &Path) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        path.strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    fn last_ident(path: &syn::Path) -> String {
        path.segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn on_handles_names_every_method_of_the_handles() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../otp-core/src");
        let mut files = Vec::new();
        parse_dir(&src, &mut files);
        let items: Vec<(&Path, &Item)> = files
            .iter()
            .flat_map(|(path, file)| {
                let mut items = Vec::new();
                flatten(&file.items, &mut items);
                items.into_iter().map(move |i| (path.as_path(), i))
            })
            .collect();

        // The traits otp-core defines, with their fns.
        let traits: BTreeMap<String, Vec<String>> = items
            .iter()
            .filter_map(|(_, item)| match item {
                Item::Trait(t) => Some((
                    t.ident.to_string(),
                    t.items
                        .iter()
                        .filter_map(|i| match i {
                            syn::TraitItem::Fn(f) => Some(f.sig.ident.to_string()),
                            _ => None,
                        })
                        .collect(),
                )),
                _ => None,
            })
            .collect();
        let trait_methods = |name: &str, at: &Path| -> Vec<String> {
            if let Some(methods) = traits.get(name) {
                return methods.clone();
            }
            match STD_TRAITS.iter().find(|(t, _)| *t == name) {
                Some((_, methods)) => methods.iter().map(|m| m.to_string()).collect(),
                None => panic!(
                    "a handle implements `{name}` ({}), whose methods this test does not know: add them to STD_TRAITS",
                    shown(at)
                ),
            }
        };

        // Every method of a handle: name -> (handle, where it is defined).
        let mut found: BTreeMap<String, BTreeMap<&str, String>> = BTreeMap::new();
        let mut add = |method: String, handle: &'static str, at: &Path, how: String| {
            found
                .entry(method)
                .or_default()
                .entry(handle)
                .or_insert_with(|| format!("{how}, {}", shown(at)));
        };
        for (at, item) in &items {
            match item {
                Item::Impl(imp) => {
                    let Some(handle) = handle_of(&imp.self_ty) else {
                        continue;
                    };
                    match &imp.trait_ {
                        None => {
                            for i in &imp.items {
                                if let syn::ImplItem::Fn(f) = i
                                    && matches!(f.vis, syn::Visibility::Public(_))
                                {
                                    add(f.sig.ident.to_string(), handle, at, "inherent".into());
                                }
                            }
                        }
                        Some((path, _)) => {
                            let name = last_ident(path);
                            for m in trait_methods(&name, at) {
                                add(m, handle, at, format!("impl {name}"));
                            }
                        }
                    }
                }
                Item::Struct(s) => {
                    let Some(handle) = HANDLES.into_iter().find(|h| s.ident == h) else {
                        continue;
                    };
                    for attr in s.attrs.iter().filter(|a| a.path().is_ident("derive")) {
                        let derived = attr
                            .parse_args_with(
                                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                            )
                            .expect("a derive list");
                        for path in derived {
                            let name = last_ident(&path);
                            for m in trait_methods(&name, at) {
                                add(m, handle, at, format!("derive({name})"));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(
            found.contains_key("call") && found.contains_key("with_timeout"),
            "no methods of ServerRef found under {}: has it moved?",
            src.display()
        );

        let listed: BTreeSet<&str> = ON_HANDLES.iter().map(|(m, _)| *m).collect();
        let mut stale = Vec::new();
        for (method, handles) in &found {
            if !listed.contains(method.as_str()) {
                let (handle, at) = handles.iter().next().expect("a handle");
                stale.push(format!(
                    "`{handle}::{method}` ({at}) is not in ON_HANDLES: a client method `{method}` would be hidden by it"
                ));
            }
        }
        for (method, handle) in ON_HANDLES {
            match found.get(*method) {
                None => stale.push(format!(
                    "ON_HANDLES names `{method}`, which neither handle has any more"
                )),
                Some(handles) if !handles.contains_key(handle) => stale.push(format!(
                    "ON_HANDLES says `{handle}::{method}`, but only {:?} have `{method}`",
                    handles.keys().collect::<Vec<_>>()
                )),
                Some(_) => {}
            }
        }
        assert!(
            stale.is_empty(),
            "ON_HANDLES (otp-macros/src/internals/reserved.rs) is out of step with otp-core:\n{}",
            stale.join("\n")
        );
    }
}
