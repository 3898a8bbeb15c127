//! The crate's modules form layers, and a module imports only the layers below its own: the
//! module graph is a DAG by construction. This test reads the crate's sources and fails on any
//! `crate::<module>` reference (a `use`, a path in code) from a module to one in the same or a
//! higher layer, naming the file, the line and both layers. Comments and test-only code
//! (`#[cfg(test)] mod ... { }` blocks and files declared `#[cfg(test)] mod name;`) are not
//! checked: a test may drive the whole server.
//!
//! A new top-level module must be given a layer here, or the test fails too. The layers are the
//! ones `src/lib.rs` documents under "Layout".

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom to top: a module may import the modules of the layers before its own, and no others.
const LAYERS: &[&[&str]] = &[
    &["http", "conversation"],
    &["callback", "chaos", "stream", "jsonrpc"],
    &["fixture"],
    &["journal", "metrics", "auth", "services"],
    &["record"],
    &["pipeline"],
    &["providers", "mcp", "a2a", "agui", "vector"],
    &["server"],
    &["config"],
    &["mock"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// One import of a higher (or the same) layer.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    line: usize,
    from: String,
    to: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: `{}` (layer {}) imports `{}` (layer {})",
            self.file,
            self.line,
            self.from,
            rank(&self.from).map_or("?".to_owned(), |r| r.to_string()),
            self.to,
            rank(&self.to).map_or("?".to_owned(), |r| r.to_string()),
        )
    }
}

/// The source with comments blanked out (line breaks kept, so line numbers stay right), and
/// string literals blanked too (a path in a message is not an import).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |out: &mut String, c: u8| out.push(if c == b'\n' { '\n' } else { ' ' });
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(' ');
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if b[i] == b'"' {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    blank(&mut out, b[i]);
                    i += 1;
                }
                blank(&mut out, b[i]);
                i += 1;
            }
            if i < b.len() {
                out.push('"');
                i += 1;
            }
        } else if b[i] == b'r' && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) {
            // A raw string: r"...", r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(b[i] as char);
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            for c in &b[i..=j] {
                out.push(*c as char);
            }
            i = j + 1;
            while i < b.len() && !b[i..].starts_with(&close) {
                blank(&mut out, b[i]);
                i += 1;
            }
            for _ in 0..close.len().min(b.len() - i) {
                out.push(' ');
                i += 1;
            }
        } else {
            // Non-ASCII bytes only occur in comments and strings, blanked above.
            out.push(if b[i].is_ascii() { b[i] as char } else { ' ' });
            i += 1;
        }
    }
    out
}

/// Blank out `#[cfg(test)] mod name { ... }` blocks.
fn without_test_modules(code: &str) -> String {
    let mut out = code.to_owned();
    let mut from = 0;
    while let Some(at) = out[from..].find("#[cfg(test)]") {
        let start = from + at;
        let rest = &out[start + "#[cfg(test)]".len()..];
        let trimmed = rest.trim_start();
        let trimmed = trimmed.strip_prefix("pub(crate) ").unwrap_or(trimmed);
        // A `mod name { ... }` block (a `mod name;` declaration names a file, handled apart).
        let is_block = trimmed.starts_with("mod ")
            && trimmed
                .find(['{', ';'])
                .is_some_and(|i| trimmed.as_bytes()[i] == b'{');
        if !is_block {
            from = start + 1;
            continue;
        }
        let Some(open) = out[start..].find('{').map(|o| start + o) else {
            break;
        };
        let mut depth = 0;
        let mut end = out.len();
        for (i, c) in out[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let blanked: String = out[start..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(start..end, &blanked);
        from = end;
    }
    out
}

/// The crate modules a piece of code names: `crate::a::...` and each name in `crate::{a, b::c}`.
fn references(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(list) = after.strip_prefix('{') {
                let inner = &list[..list.find('}').unwrap_or(list.len())];
                for item in inner.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push((n + 1, name));
                    }
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push((n + 1, name));
                }
            }
            rest = after;
        }
    }
    out
}

/// Check sources given as (path relative to `src`, text).
fn check(sources: &[(String, String)]) -> (Vec<Violation>, BTreeSet<String>) {
    // Files that only exist in tests: `#[cfg(test)] mod name;` in a parent.
    let mut test_files = BTreeSet::new();
    for (path, text) in sources {
        let dir = Path::new(path).parent().unwrap_or(Path::new(""));
        let stem = Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("");
        let own_dir = if stem == "mod" || stem == "lib" || stem == "main" {
            dir.to_path_buf()
        } else {
            dir.join(stem)
        };
        let code = code_only(text);
        let mut rest = code.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            let after = rest[at + "#[cfg(test)]".len()..].trim_start();
            let after = after
                .strip_prefix("pub(crate) ")
                .or_else(|| after.strip_prefix("pub "))
                .unwrap_or(after);
            if let Some(decl) = after.strip_prefix("mod ") {
                let name: String = decl
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if decl[name.len()..].trim_start().starts_with(';') {
                    for file in [
                        own_dir.join(format!("{name}.rs")),
                        own_dir.join(&name).join("mod.rs"),
                    ] {
                        test_files.insert(file.to_string_lossy().into_owned());
                    }
                }
            }
            rest = &rest[at + 1..];
        }
    }
    let mut unknown = BTreeSet::new();
    let mut violations = Vec::new();
    for (path, text) in sources {
        if path == "lib.rs" || test_files.contains(path) {
            continue;
        }
        let top = path
            .split('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".rs")
            .to_owned();
        let Some(from) = rank(&top) else {
            unknown.insert(top);
            continue;
        };
        let code = without_test_modules(&code_only(text));
        for (line, to) in references(&code) {
            if to == top {
                continue;
            }
            match rank(&to) {
                Some(r) if r >= from => violations.push(Violation {
                    file: path.clone(),
                    line,
                    from: top.clone(),
                    to,
                }),
                Some(_) => {}
                None => {
                    unknown.insert(to);
                }
            }
        }
    }
    violations.sort();
    violations.dedup();
    (violations, unknown)
}

fn sources(root: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

#[test]
fn no_module_imports_its_own_or_a_higher_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (violations, unknown) = check(&sources(&root));
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        violations.is_empty(),
        "{} import(s) break the layering:\n{}",
        violations.len(),
        listed.join("\n")
    );
    assert!(
        unknown.is_empty(),
        "modules with no layer in tests/layers.rs: {unknown:?}"
    );
}

#[test]
fn every_module_of_lib_rs_has_a_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut modules = Vec::new();
    for line in code_only(&lib).lines() {
        let l = line.trim_start();
        let l = l
            .strip_prefix("pub(crate) ")
            .or_else(|| l.strip_prefix("pub "))
            .unwrap_or(l);
        if let Some(decl) = l.strip_prefix("mod ") {
            modules.push(decl.trim_end_matches(';').trim().to_owned());
        }
    }
    assert!(modules.len() > 10, "{modules:?}");
    let missing: Vec<&String> = modules.iter().filter(|m| rank(m).is_none()).collect();
    assert!(missing.is_empty(), "no layer for {missing:?}");
}

/// The check can fail: an upward import, a same-layer import and one hidden in a `crate::{...}`
/// list are each found; comments, strings and test modules are not imports.
#[test]
fn the_check_finds_upward_imports_and_only_those() {
    let src = |p: &str, t: &str| (p.to_owned(), t.to_owned());
    let (v, unknown) = check(&[
        src("http/mod.rs", "use crate::server::AppState;\n"),
        src(
            "stream/mod.rs",
            "fn f() {\n    let _ = crate::chaos::X;\n}\n",
        ),
        src(
            "fixture/mod.rs",
            "use crate::{http::ApiError, pipeline::Core};\n",
        ),
        src(
            "journal.rs",
            "// crate::server in a comment\nconst S: &str = \"crate::server\";\n/* crate::mock */\n#[cfg(test)]\nmod tests {\n    use crate::server::AppState;\n}\nuse crate::fixture::Fixture;\n",
        ),
        src("providers/mod.rs", "#[cfg(test)]\nmod collapse_tests;\n"),
        src("providers/collapse_tests.rs", "use crate::MockServer;\nuse crate::mock::X;\n"),
        src("server/mod.rs", "use crate::providers::route;\n"),
    ]);
    let found: Vec<(String, usize, String, String)> = v
        .into_iter()
        .map(|v| (v.file, v.line, v.from, v.to))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "fixture/mod.rs".to_owned(),
                1,
                "fixture".to_owned(),
                "pipeline".to_owned()
            ),
            (
                "http/mod.rs".to_owned(),
                1,
                "http".to_owned(),
                "server".to_owned()
            ),
            (
                "stream/mod.rs".to_owned(),
                2,
                "stream".to_owned(),
                "chaos".to_owned()
            ),
        ]
    );
    assert!(unknown.is_empty(), "{unknown:?}");
}
