//! Keeps `CONFORMANCE.md` and the tests in step.
//!
//! `CONFORMANCE.md` lists every numbered behaviour of the conformance checklist (`SUP-07`,
//! `P-05`, ...) with the tests that check it. A test cites an id in its name (`sup07_...` or
//! `sup_07_...`) or in its doc comment (`/// SUP-07: ...`, or a range `SUP-22 to SUP-27`); only
//! the checklist's prefixes count (`OTP-29` is no id). The check reads every Rust file of the
//! workspace with `syn`, finds the functions carrying a test attribute (`#[test]`,
//! `#[tokio::test(...)]`, also inside nested modules), and fails when:
//!
//! - a test cites an id that has no row in `CONFORMANCE.md`, or whose row does not list it;
//! - a row lists a test that does not exist;
//! - a row's id is malformed, repeated, or leaves a gap in its series (`SUP-11` then `SUP-13`);
//! - a Rust file of the workspace cannot be parsed (its tests would go unseen).
//!
//! Every problem is reported at once, each naming the file, the test and the id to fix.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// The prefixes of the checklist's ids, one per area.
const PREFIXES: &[&str] = &[
    "P", "GS", "SUP", "DS", "T", "REG", "TM", "TMM", "GL", "PG", "D", "GST", "CS", "BW", "LC", "HD",
];

/// The document the check keeps current, relative to the workspace root.
const DOCUMENT: &str = "CONFORMANCE.md";

/// Directories never searched for Rust files: build output, and hidden directories (`.git`).
const SKIPPED_DIRS: &[&str] = &["target"];

/// Directories of trybuild fixtures: programs meant not to compile, with no tests in them.
const FIXTURE_DIRS: &[&str] = &["tests/ui"];

// ---------------------------------------------------------------------------------------------
// Ids

/// A checklist id such as `SUP-07` or `D-03a`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Id {
    prefix: String,
    number: u32,
    suffix: Option<char>,
}

impl Id {
    /// Parses `SUP-07` / `D-03a`: a known prefix, a dash, two digits, at most one lowercase letter.
    fn parse(text: &str) -> Option<Id> {
        let (prefix, rest) = text.split_once('-')?;
        Id::from_parts(prefix, rest)
    }

    /// Parses the snake-case form a test name uses: `sup07` or `sup` followed by `07`.
    fn from_name_part(prefix: &str, rest: &str) -> Option<Id> {
        Id::from_parts(&prefix.to_ascii_uppercase(), rest)
    }

    fn from_parts(prefix: &str, rest: &str) -> Option<Id> {
        if !PREFIXES.contains(&prefix) {
            return None;
        }
        let suffix = match rest.as_bytes() {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => None,
            [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_lowercase() => {
                Some(char::from(*c))
            }
            _ => return None,
        };
        Some(Id {
            prefix: prefix.to_owned(),
            number: rest[..2].parse().ok()?,
            suffix,
        })
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.prefix, self.number)?;
        if let Some(c) = self.suffix {
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// The ids a test's name cites: `p05_normal_is_dropped` → P-05, `sup_07_x_ds_03` → SUP-07, DS-03.
fn ids_in_name(name: &str) -> Vec<Id> {
    let parts: Vec<&str> = name.split('_').collect();
    let mut ids = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let letters = part.bytes().take_while(u8::is_ascii_lowercase).count();
        if letters == 0 {
            continue;
        }
        if letters < part.len() {
            // `sup07`, `d03a`
            if let Some(id) = Id::from_name_part(&part[..letters], &part[letters..]) {
                ids.push(id);
            }
        } else if let Some(next) = parts.get(i + 1) {
            // `sup` then `07`
            if let Some(id) = Id::from_name_part(part, next) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The ids written in prose (`SUP-07`, `D-03a`), each standing alone as a word. A range
/// (`SUP-22 to SUP-27`, `GS-12 .. GS-14`) cites every id in it.
fn ids_in_text(text: &str) -> Vec<Id> {
    let found = ids_with_spans(text);
    let mut ids = Vec::new();
    for (i, (_, end, id)) in found.iter().enumerate() {
        ids.push(id.clone());
        let Some((next_start, _, last)) = found.get(i + 1) else {
            continue;
        };
        let between = text[*end..*next_start].trim();
        let same_series = last.prefix == id.prefix && id.suffix.is_none() && last.suffix.is_none();
        if same_series && matches!(between, "to" | ".." | "through") {
            for number in id.number + 1..last.number {
                ids.push(Id {
                    prefix: id.prefix.clone(),
                    number,
                    suffix: None,
                });
            }
        }
    }
    ids
}

/// Each id of `text` with its byte span.
fn ids_with_spans(text: &str) -> Vec<(usize, usize, Id)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for (dash, _) in text.match_indices('-') {
        let before = &text[..dash];
        let prefix_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_uppercase())
            .last()
            .map_or(dash, |(i, _)| i);
        if prefix_start == dash || before[..prefix_start].ends_with(is_word) {
            continue;
        }
        let after = &text[dash + 1..];
        let end = dash + 1 + after.find(|c: char| !is_word(c)).unwrap_or(after.len());
        if let Some(id) = Id::parse(&text[prefix_start..end]) {
            found.push((prefix_start, end, id));
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Tests found in the sources

/// Where a test is: the file relative to the workspace root, and the path of the function
/// inside it (`tests::name` for a function in `mod tests`). Written `file.rs::path`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TestPath {
    file: String,
    item: String,
}

impl TestPath {
    /// Parses `otp-core/tests/links.rs::p03_link_is_bidirectional`.
    fn parse(text: &str) -> Option<TestPath> {
        let (file, item) = text.split_once(".rs::")?;
        let is_ident =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
        if file.is_empty() || !item.split("::").all(is_ident) {
            return None;
        }
        Some(TestPath {
            file: format!("{file}.rs"),
            item: item.to_owned(),
        })
    }
}

impl fmt::Display for TestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.file, self.item)
    }
}

/// Why a test is taken to check an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum CitedIn {
    Name,
    DocComment,
}

impl fmt::Display for CitedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CitedIn::Name => "in its name",
            CitedIn::DocComment => "in its doc comment",
        })
    }
}

/// A test function and the ids it cites.
#[derive(Debug)]
struct TestFn {
    path: TestPath,
    cites: BTreeMap<Id, CitedIn>,
}

/// The test functions of one Rust file.
fn tests_in_file(file: &str, source: &str) -> Result<Vec<TestFn>, syn::Error> {
    let syntax = syn::parse_file(source)?;
    let mut found = Vec::new();
    collect_tests(file, &mut Vec::new(), &syntax.items, &mut found);
    Ok(found)
}

fn collect_tests(
    file: &str,
    modules: &mut Vec<String>,
    items: &[syn::Item],
    found: &mut Vec<TestFn>,
) {
    for item in items {
        match item {
            syn::Item::Fn(f) if f.attrs.iter().any(is_test_attribute) => {
                let name = f.sig.ident.to_string();
                let mut cites = BTreeMap::new();
                for id in ids_in_text(&doc_comment(&f.attrs)) {
                    cites.insert(id, CitedIn::DocComment);
                }
                for id in ids_in_name(&name) {
                    cites.insert(id, CitedIn::Name);
                }
                let mut item = modules.clone();
                item.push(name);
                found.push(TestFn {
                    path: TestPath {
                        file: file.to_owned(),
                        item: item.join("::"),
                    },
                    cites,
                });
            }
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "proptest") =>
            {
                for (name, attrs) in proptest_fns(&m.mac.tokens) {
                    if !attrs.iter().any(is_test_attribute) {
                        continue;
                    }
                    let mut cites = BTreeMap::new();
                    for id in ids_in_text(&doc_comment(&attrs)) {
                        cites.insert(id, CitedIn::DocComment);
                    }
                    for id in ids_in_name(&name) {
                        cites.insert(id, CitedIn::Name);
                    }
                    let mut item = modules.clone();
                    item.push(name);
                    found.push(TestFn {
                        path: TestPath {
                            file: file.to_owned(),
                            item: item.join("::"),
                        },
                        cites,
                    });
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, content)) = &m.content {
                    modules.push(m.ident.to_string());
                    collect_tests(file, modules, content, found);
                    modules.pop();
                }
            }
            _ => {}
        }
    }
}

/// The functions of a `proptest! { ... }` block, with their attributes: its body is inner
/// attributes, then `#[...] fn name(arg in strategy, ...) { ... }` items, which are not Rust
/// items, so they are read token by token.
fn proptest_fns(tokens: &proc_macro2::TokenStream) -> Vec<(String, Vec<syn::Attribute>)> {
    use proc_macro2::TokenTree;
    let mut out = Vec::new();
    let mut attrs = Vec::new();
    let mut pending = Vec::new();
    let mut iter = tokens.clone().into_iter().peekable();
    while let Some(tt) = iter.next() {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                let mut attr = proc_macro2::TokenStream::from(tt.clone());
                if let Some(TokenTree::Punct(bang)) = iter.peek()
                    && bang.as_char() == '!'
                {
                    // An inner attribute (`#![proptest_config(..)]`): not a test's.
                    iter.next();
                    iter.next();
                    continue;
                }
                if let Some(group) = iter.next() {
                    attr.extend([group]);
                }
                pending.push(attr);
            }
            TokenTree::Ident(i) if i == "fn" => {
                if let Some(TokenTree::Ident(name)) = iter.next() {
                    for attr in pending.drain(..) {
                        let parsed: Result<Vec<syn::Attribute>, _> =
                            syn::parse::Parser::parse2(syn::Attribute::parse_outer, attr);
                        if let Ok(parsed) = parsed {
                            attrs.extend(parsed);
                        }
                    }
                    out.push((name.to_string(), std::mem::take(&mut attrs)));
                }
            }
            _ => {}
        }
    }
    out
}

/// `#[test]`, `#[tokio::test]`, `#[tokio::test(start_paused = true)]`, ...: any attribute whose
/// path ends in `test`.
fn is_test_attribute(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "test")
}

/// The text of the `///` lines (`#[doc = "..."]` attributes) on an item.
fn doc_comment(attrs: &[syn::Attribute]) -> String {
    let mut text = String::new();
    for attr in attrs {
        if let syn::Meta::NameValue(nv) = &attr.meta
            && nv.path.is_ident("doc")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            text.push_str(&s.value());
            text.push('\n');
        }
    }
    text
}

// ---------------------------------------------------------------------------------------------
// The document

/// One table row of `CONFORMANCE.md` whose first cell is an id.
#[derive(Debug)]
struct Row {
    line: usize,
    id: Id,
    tests: Vec<TestPath>,
}

/// The rows of the document, and the problems found while reading it.
fn parse_document(text: &str) -> (Vec<Row>, Vec<Problem>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let Some(cells) = line.trim().strip_prefix('|') else {
            continue;
        };
        let first = cells
            .split('|')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(|c| c == '*' || c == '`');
        if !looks_like_id(first) {
            continue;
        }
        let Some(id) = Id::parse(first) else {
            problems.push(Problem::MalformedRowId {
                line: line_no,
                text: first.to_owned(),
            });
            continue;
        };
        let tests = code_spans(cells).filter_map(TestPath::parse).collect();
        rows.push(Row {
            line: line_no,
            id,
            tests,
        });
    }
    (rows, problems)
}

/// `SUP-07`, `SUP-7`, `Sup-07`: uppercase-led letters, a dash, then anything. The first cell of
/// a header (`Id`) or separator (`---`) row is not.
fn looks_like_id(cell: &str) -> bool {
    match cell.split_once('-') {
        Some((prefix, rest)) => {
            !prefix.is_empty()
                && prefix.starts_with(|c: char| c.is_ascii_uppercase())
                && prefix.chars().all(|c| c.is_ascii_alphabetic())
                && !rest.is_empty()
        }
        None => false,
    }
}

/// The text between pairs of backticks.
fn code_spans(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

// ---------------------------------------------------------------------------------------------
// The check

/// One thing to fix, worded so that it says what and where.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Problem {
    /// A Rust file `syn` cannot parse: its tests would go unseen.
    UnparsableFile { file: String, error: String },
    /// A row whose first cell looks like an id but is not one.
    MalformedRowId { line: usize, text: String },
    /// A second row for the same id.
    DuplicateRow {
        id: Id,
        first_line: usize,
        line: usize,
    },
    /// An id missing from its series (`SUP-11`, then `SUP-13`); `line` is the next row of it.
    GapInSeries { missing: Id, line: usize },
    /// A test cites an id that has no row.
    MissingId {
        test: TestPath,
        id: Id,
        cited: CitedIn,
    },
    /// A test cites an id whose row does not list it.
    TestNotInRow {
        test: TestPath,
        id: Id,
        cited: CitedIn,
        line: usize,
    },
    /// A row lists a test that does not exist (in a file that may not exist either).
    UnknownTest {
        id: Id,
        line: usize,
        test: TestPath,
        file_exists: bool,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnparsableFile { file, error } => write!(
                f,
                "{file}: cannot be parsed ({error}); its tests cannot be checked against {DOCUMENT}"
            ),
            Problem::MalformedRowId { line, text } => write!(
                f,
                "{DOCUMENT}:{line}: the row id `{text}` is malformed: write a known prefix ({}), a \
                 dash and two digits, like `SUP-07`",
                PREFIXES.join(", ")
            ),
            Problem::DuplicateRow {
                id,
                first_line,
                line,
            } => write!(
                f,
                "{DOCUMENT}:{line}: {id} has a second row (the first is on line {first_line}): \
                 merge them"
            ),
            Problem::GapInSeries { missing, line } => write!(
                f,
                "{DOCUMENT}:{line}: {missing} has no row, yet its series goes on here: add it back"
            ),
            Problem::MissingId { test, id, cited } => write!(
                f,
                "{test}: the test cites {id} ({cited}), but {DOCUMENT} has no row {id}: add the \
                 row, listing `{test}`, or fix the id in the test"
            ),
            Problem::TestNotInRow {
                test,
                id,
                cited,
                line,
            } => write!(
                f,
                "{test}: the test cites {id} ({cited}), but the row {id} of {DOCUMENT} \
                 (line {line}) does not list it: add `{test}` to that row's tests"
            ),
            Problem::UnknownTest {
                id,
                line,
                test,
                file_exists,
            } => {
                write!(f, "{DOCUMENT}:{line}: the row {id} lists `{test}`, but ")?;
                if *file_exists {
                    write!(f, "{} has no test `{}`", test.file, test.item)?;
                } else {
                    write!(f, "there is no file {}", test.file)?;
                }
                write!(f, ": fix the path or remove it from the row")
            }
        }
    }
}

/// Checks a document against the workspace's sources, given as (path relative to the root,
/// contents). Returns every problem found, sorted.
fn check(document: &str, sources: &[(String, String)]) -> Vec<Problem> {
    let (rows, mut problems) = parse_document(document);

    let mut tests: BTreeMap<TestPath, TestFn> = BTreeMap::new();
    for (file, source) in sources {
        match tests_in_file(file, source) {
            Ok(found) => tests.extend(found.into_iter().map(|t| (t.path.clone(), t))),
            Err(error) => problems.push(Problem::UnparsableFile {
                file: file.clone(),
                error: error.to_string(),
            }),
        }
    }

    // Rows: one per id, no gaps in a series.
    let mut by_id: BTreeMap<&Id, &Row> = BTreeMap::new();
    for row in &rows {
        if let Some(first) = by_id.get(&row.id) {
            problems.push(Problem::DuplicateRow {
                id: row.id.clone(),
                first_line: first.line,
                line: row.line,
            });
        } else {
            by_id.insert(&row.id, row);
        }
    }
    let mut numbers: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in by_id.values() {
        numbers.entry(row.id.prefix.as_str()).or_default().push(row);
    }
    for (prefix, series) in numbers {
        let mut expected = 1;
        for row in series {
            for number in expected..row.id.number {
                let missing = Id {
                    prefix: prefix.to_owned(),
                    number,
                    suffix: None,
                };
                problems.push(Problem::GapInSeries {
                    missing,
                    line: row.line,
                });
            }
            expected = expected.max(row.id.number + 1);
        }
    }

    // Every id a test cites has a row, and the row lists the test.
    for test in tests.values() {
        for (id, cited) in &test.cites {
            let problem = match by_id.get(id) {
                None => Problem::MissingId {
                    test: test.path.clone(),
                    id: id.clone(),
                    cited: *cited,
                },
                Some(row) if !row.tests.contains(&test.path) => Problem::TestNotInRow {
                    test: test.path.clone(),
                    id: id.clone(),
                    cited: *cited,
                    line: row.line,
                },
                Some(_) => continue,
            };
            problems.push(problem);
        }
    }

    // Every test a row lists exists.
    for row in &rows {
        for test in &row.tests {
            if !tests.contains_key(test) {
                let file_exists = sources.iter().any(|(file, _)| *file == test.file);
                problems.push(Problem::UnknownTest {
                    id: row.id.clone(),
                    line: row.line,
                    test: test.clone(),
                    file_exists,
                });
            }
        }
    }

    problems.sort();
    problems
}

// ---------------------------------------------------------------------------------------------
// The workspace

fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .unwrap_or_else(|| panic!("{} has no parent directory", manifest_dir.display()))
        .to_path_buf()
}

/// Every `.rs` file under `dir`, as (path relative to `root` with `/` separators, contents).
fn rust_sources(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            let fixtures = FIXTURE_DIRS.iter().any(|d| path.ends_with(d));
            if !SKIPPED_DIRS.contains(&name.as_ref()) && !name.starts_with('.') && !fixtures {
                rust_sources(root, &path, out);
            }
        } else if name.ends_with(".rs") {
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((relative, text));
        }
    }
}

fn report(problems: &[Problem]) -> String {
    let mut text = format!(
        "{DOCUMENT} and the tests disagree ({} problem{}):\n",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        text.push_str(&format!("  - {problem}\n"));
    }
    text.push_str(&format!(
        "A test cites an id in its name (`sup07_...`) or its doc comment (`/// SUP-07: ...`); \
         {DOCUMENT} lists each test in the row of every id it cites, as \
         `path/to/file.rs::test_name`.\n"
    ));
    text
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn conformance_md_lists_every_test_and_every_listed_test_exists() {
    let root = workspace_root();
    let document = fs::read_to_string(root.join(DOCUMENT))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.join(DOCUMENT).display()));
    let mut sources = Vec::new();
    rust_sources(&root, &root, &mut sources);
    assert!(
        sources
            .iter()
            .any(|(file, _)| file == "otp-core/src/lib.rs"),
        "the workspace root {} does not look right: otp-core/src/lib.rs not found",
        root.display()
    );
    let problems = check(&document, &sources);
    assert!(problems.is_empty(), "{}", report(&problems));
}

/// A small document for the checker's own tests: two rows, each listing a test.
const SMALL_DOCUMENT: &str = "\
| Id | Behaviour | Tests |
|---|---|---|
| SUP-01 | start order | `crate/tests/sup.rs::sup01_in_order` |
| SUP-02 | stop order | `crate/tests/sup.rs::stops_in_reverse` |
";

/// Sources that match [`SMALL_DOCUMENT`]: one test cites its id in its name, one in its doc.
const SMALL_SOURCE: &str = "\
#[tokio::test(start_paused = true)]
async fn sup01_in_order() {}
/// SUP-02: in reverse.
#[test]
fn stops_in_reverse() {}
fn not_a_test_sup_09() {}
";

fn sources(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(f, s)| ((*f).to_owned(), (*s).to_owned()))
        .collect()
}

fn id(text: &str) -> Id {
    Id::parse(text).unwrap_or_else(|| panic!("{text} is not an id"))
}

fn test_path(file: &str, item: &str) -> TestPath {
    TestPath {
        file: file.to_owned(),
        item: item.to_owned(),
    }
}

#[test]
fn checker_accepts_a_document_that_matches_the_tests() {
    let files = sources(&[("crate/tests/sup.rs", SMALL_SOURCE)]);
    assert_eq!(check(SMALL_DOCUMENT, &files), vec![]);
}

#[test]
fn checker_reports_a_cited_id_the_document_lacks() {
    let nested = "mod nested {\n    mod deeper {\n        /// Also SUP-08 and DS-03.\n        \
                  #[test]\n        fn sup_12_retried() {}\n    }\n}\n";
    let files = sources(&[("crate/tests/sup.rs", &format!("{SMALL_SOURCE}{nested}"))]);
    let problems = check(SMALL_DOCUMENT, &files);
    let test = test_path("crate/tests/sup.rs", "nested::deeper::sup_12_retried");
    let missing = |text: &str, cited| Problem::MissingId {
        test: test.clone(),
        id: id(text),
        cited,
    };
    assert_eq!(
        problems,
        vec![
            missing("DS-03", CitedIn::DocComment),
            missing("SUP-08", CitedIn::DocComment),
            missing("SUP-12", CitedIn::Name),
        ]
    );
    let text = report(&problems);
    assert!(
        text.contains(
            "crate/tests/sup.rs::nested::deeper::sup_12_retried: the test cites SUP-12 \
             (in its name), but CONFORMANCE.md has no row SUP-12"
        ),
        "{text}"
    );
}

#[test]
fn checker_reports_a_citing_test_missing_from_its_row() {
    let new_test = "#[cfg(test)]\nmod tests {\n    #[test]\n    fn sup02_new_test() {}\n}\n";
    let files = sources(&[("crate/tests/sup.rs", &format!("{SMALL_SOURCE}{new_test}"))]);
    let problems = check(SMALL_DOCUMENT, &files);
    assert_eq!(
        problems,
        vec![Problem::TestNotInRow {
            test: test_path("crate/tests/sup.rs", "tests::sup02_new_test"),
            id: id("SUP-02"),
            cited: CitedIn::Name,
            line: 4,
        }]
    );
    let text = report(&problems);
    assert!(
        text.contains(
            "the row SUP-02 of CONFORMANCE.md (line 4) does not list it: add \
             `crate/tests/sup.rs::tests::sup02_new_test` to that row's tests"
        ),
        "{text}"
    );
}

#[test]
fn checker_reports_a_listed_test_that_does_not_exist() {
    // `stops_in_reverse` was renamed; `sup01_in_order` lost its test attribute.
    let files = sources(&[(
        "crate/tests/sup.rs",
        "async fn sup01_in_order() {}\n/// SUP-02\n#[test]\nfn stops_backwards() {}\n",
    )]);
    let problems = check(SMALL_DOCUMENT, &files);
    let renamed = test_path("crate/tests/sup.rs", "stops_backwards");
    assert_eq!(
        problems,
        vec![
            Problem::TestNotInRow {
                test: renamed,
                id: id("SUP-02"),
                cited: CitedIn::DocComment,
                line: 4,
            },
            Problem::UnknownTest {
                id: id("SUP-01"),
                line: 3,
                test: test_path("crate/tests/sup.rs", "sup01_in_order"),
                file_exists: true,
            },
            Problem::UnknownTest {
                id: id("SUP-02"),
                line: 4,
                test: test_path("crate/tests/sup.rs", "stops_in_reverse"),
                file_exists: true,
            },
        ]
    );
    let text = report(&problems);
    assert!(
        text.contains(
            "CONFORMANCE.md:4: the row SUP-02 lists `crate/tests/sup.rs::stops_in_reverse`, but \
             crate/tests/sup.rs has no test `stops_in_reverse`: fix the path or remove it from \
             the row"
        ),
        "{text}"
    );

    let no_file = check(SMALL_DOCUMENT, &[]);
    assert_eq!(no_file.len(), 2, "{no_file:?}");
    assert!(
        report(&no_file).contains("there is no file crate/tests/sup.rs"),
        "{no_file:?}"
    );
}

#[test]
fn checker_reports_malformed_repeated_and_missing_rows() {
    let document = "\
| SUP-01 | start order | no test yet |
| SUP-1 | a typo | no test yet |
| Sup-02 | a typo | no test yet |
| SUP-04 | intensity | no test yet |
| SUP-04 | again | no test yet |
| D-01 | names | not built yet |
| D-01a | a sub-item | not built yet |
| D-02 | epmd | not built yet |
";
    assert_eq!(
        check(document, &[]),
        vec![
            Problem::MalformedRowId {
                line: 2,
                text: "SUP-1".into(),
            },
            Problem::MalformedRowId {
                line: 3,
                text: "Sup-02".into(),
            },
            Problem::DuplicateRow {
                id: id("SUP-04"),
                first_line: 4,
                line: 5,
            },
            Problem::GapInSeries {
                missing: id("SUP-02"),
                line: 4,
            },
            Problem::GapInSeries {
                missing: id("SUP-03"),
                line: 4,
            },
        ]
    );
    // A series must start at 01.
    assert_eq!(
        check("| GS-02 | x | no test yet |\n", &[]),
        vec![Problem::GapInSeries {
            missing: id("GS-01"),
            line: 1,
        }]
    );
}

#[test]
fn checker_reports_a_file_it_cannot_parse() {
    let files = sources(&[
        ("crate/tests/sup.rs", SMALL_SOURCE),
        ("crate/tests/broken.rs", "fn ("),
    ]);
    let problems = check(SMALL_DOCUMENT, &files);
    assert!(
        matches!(
            problems.as_slice(),
            [Problem::UnparsableFile { file, .. }] if file == "crate/tests/broken.rs"
        ),
        "{problems:?}"
    );
}

#[test]
fn ids_are_read_from_names_and_prose() {
    let show = |ids: Vec<Id>| ids.iter().map(Id::to_string).collect::<Vec<_>>();
    assert_eq!(show(ids_in_name("p05_normal_is_dropped")), ["P-05"]);
    assert_eq!(
        show(ids_in_name("sup_07_then_ds03_and_tmm01")),
        ["SUP-07", "DS-03", "TMM-01"]
    );
    assert_eq!(show(ids_in_name("d03a_status")), ["D-03a"]);
    // Unknown prefixes, one or three digits, letters glued to a word: no id.
    assert!(ids_in_name("otp29_x_sup_7_t_123_at05_step1").is_empty());
    assert_eq!(
        show(ids_in_text(
            "SUP-07, (GS-12) and D-03b; not XSUP-07, SUP-7, OTP-29, SUP-071 or P-05x1."
        )),
        ["SUP-07", "GS-12", "D-03b"]
    );
    assert_eq!(
        show(ids_in_text(
            "SUP-22 to SUP-25, GS-12 .. GS-14, P-03 and P-05, DS-07 to SUP-09"
        )),
        [
            "SUP-22", "SUP-23", "SUP-24", "SUP-25", "GS-12", "GS-13", "GS-14", "P-03", "P-05",
            "DS-07", "SUP-09"
        ]
    );
}

#[test]
fn checker_reads_the_tests_inside_proptest_blocks() {
    let source = "\
proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
    /// SUP-02: in reverse, whatever the order.
    #[test]
    fn stops_in_any_order(n in 0u8..4) { let _ = n; }
    #[test]
    fn sup01_in_order(n in 0u8..4) { let _ = n; }
}
";
    let found = tests_in_file("crate/tests/p.rs", source).unwrap();
    let names: Vec<&str> = found.iter().map(|t| t.path.item.as_str()).collect();
    assert_eq!(names, ["stops_in_any_order", "sup01_in_order"]);
    assert_eq!(
        found[0].cites.get(&id("SUP-02")),
        Some(&CitedIn::DocComment)
    );
    assert_eq!(found[1].cites.get(&id("SUP-01")), Some(&CitedIn::Name));
}
