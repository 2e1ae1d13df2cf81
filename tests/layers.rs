//! The crate's layers, as `src/lib.rs` states them, checked on the source: a module imports only
//! from its own layer or the layers below it, and no two modules import each other, directly
//! or around a circle. A module is a file (`a/b.rs`, or `a/b/mod.rs` for `a::b`); an import is
//! any `crate::` or `super::` path in its code (comments and the `#[cfg(test)]` tail left
//! out), resolved to the longest module it names, and a `mod x;` child the file names as `x::`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top, as `src/lib.rs` lists them. Modules on one line share a layer.
const LAYERS: &[&[&str]] = &[
    &["base"],
    &["model"],
    &["catalog"],
    &["plan"],
    &["render"],
    &["disk"],
    &["audit", "import", "review", "cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    let top = module.split("::").next()?;
    LAYERS.iter().position(|l| l.contains(&top))
}

/// Every module of `src/` (but the crate roots) with its source.
fn modules(src: &Path) -> BTreeMap<String, (String, bool)> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(src).sort_by_file_name() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts.len() == 1 {
            continue; // lib.rs, main.rs
        }
        let is_mod = parts.last().is_some_and(|p| p == "mod");
        if is_mod {
            parts.pop();
        }
        let text = std::fs::read_to_string(path).unwrap();
        out.insert(parts.join("::"), (code_of(&text), is_mod));
    }
    out
}

/// The code a module imports with: comment lines and the test module at the end left out.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths following `prefix` (`crate::`, `super::`, `name::`) in `code`, as segments.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        out.push(rest[..end].split("::").filter(|s| !s.is_empty()).collect());
    }
    out
}

fn longest(known: &BTreeMap<String, (String, bool)>, parts: &[&str]) -> Option<String> {
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| known.contains_key(m))
}

fn imports(known: &BTreeMap<String, (String, bool)>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, (code, is_mod)) in known {
        let own: Vec<&str> = module.split("::").collect();
        // `super::` of `a::b` (file a/b.rs or a/b/mod.rs) is `a`.
        let parent = &own[..own.len() - 1];
        let mut to = BTreeSet::new();
        for p in paths_after(code, "crate::") {
            to.extend(longest(known, &p));
        }
        for p in paths_after(code, "super::") {
            let full: Vec<&str> = parent.iter().copied().chain(p).collect();
            to.extend(longest(known, &full));
        }
        if *is_mod {
            for line in code.lines() {
                let l = line.trim();
                let l = l.strip_prefix("pub ").unwrap_or(l);
                if let Some(child) = l.strip_prefix("mod ").and_then(|c| c.strip_suffix(';')) {
                    if !paths_after(code, &format!("{child}::")).is_empty() {
                        to.insert(format!("{module}::{child}"));
                    }
                }
            }
        }
        to.remove(module);
        graph.insert(module.clone(), to);
    }
    graph
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    imports(&modules(&src))
}

#[test]
fn every_module_belongs_to_a_layer_lib_rs_declares() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for module in graph().keys() {
        let top = module.split("::").next().unwrap();
        assert!(layer_of(module).is_some(), "{module}: in no layer");
        assert!(
            lib.contains(&format!("pub mod {top};")),
            "{top} is not declared in lib.rs"
        );
    }
    for layer in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(
            lib.contains(&format!("//   {layer}")) || lib.contains(&format!(", {layer}")),
            "lib.rs does not describe the layer {layer}"
        );
    }
}

#[test]
fn imports_point_down_or_across_never_up() {
    let mut up = Vec::new();
    for (from, tos) in graph() {
        for to in tos {
            if layer_of(&to) > layer_of(&from) {
                up.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        up.is_empty(),
        "imports from a higher layer:\n{}",
        up.join("\n")
    );
}

/// Strongly connected components of more than one module (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct S<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut S<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = S {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_two_modules_import_each_other_even_around_a_circle() {
    let found = circles(&graph());
    assert!(found.is_empty(), "import circles: {found:?}");
}

#[test]
fn the_checks_see_what_they_claim_to_see() {
    // A made-up crate: the checks must find its upward import and its circle, so a parser
    // that saw nothing could not pass the real crate.
    let mut known = BTreeMap::new();
    let m = |code: &str, is_mod: bool| (code_of(code), is_mod);
    known.insert(
        "model::matrix".to_string(),
        m(
            "use crate::plan::binding::Mirror;\n// crate::render in a comment\n",
            false,
        ),
    );
    known.insert(
        "plan".to_string(),
        m("pub mod binding;\nfn f() { binding::g() }\n", true),
    );
    known.insert(
        "plan::binding".to_string(),
        m(
            "use super::Plan;\nuse crate::model::matrix::Matrix;\n#[cfg(test)]\nuse crate::disk;",
            false,
        ),
    );
    known.insert("disk".to_string(), m("", true));
    let g = imports(&known);
    assert_eq!(
        g["model::matrix"],
        BTreeSet::from(["plan::binding".to_string()])
    );
    assert_eq!(g["plan"], BTreeSet::from(["plan::binding".to_string()]));
    assert_eq!(
        g["plan::binding"],
        BTreeSet::from(["model::matrix".to_string(), "plan".to_string()])
    );
    assert!(layer_of("model::matrix") < layer_of("plan::binding"));
    assert_eq!(
        circles(&g),
        vec![vec![
            "model::matrix".to_string(),
            "plan".to_string(),
            "plan::binding".to_string()
        ]]
    );
}

/// What opens, reads, writes or lists files by itself. Outside `src/disk/` only tests may.
const DISK_CALLS: &[&str] = &[
    "std::fs",
    "fs::read",
    "fs::write",
    "File::open",
    "File::create",
    "OpenOptions",
    "read_dir",
    "fs::rename",
    "fs::remove",
    "fs::create_dir",
    "fs::copy",
    "canonicalize(",
    "symlink_metadata(",
    "temp_dir(",
];

#[test]
fn only_the_disk_layer_touches_the_filesystem() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for (module, (code, _)) in modules(&src) {
        if module == "disk" || module.starts_with("disk::") {
            continue;
        }
        for call in DISK_CALLS {
            if code.contains(call) {
                found.push(format!("{module}: {call}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "files opened outside src/disk (go through the door):\n{}",
        found.join("\n")
    );
}
