//! Embeds `templates/` and `catalog/` in the binary (so it runs from any directory) and
//! parses every template with minijinja, so a broken template fails `cargo build` with its
//! file and line instead of failing a release engineer at render time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/render/syntax.rs"]
mod syntax;

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let templates = collect(&root.join("templates"));
    let catalog = collect(&root.join("catalog"))
        .into_iter()
        .filter(|(rel, _)| rel.ends_with(".yaml"))
        .collect::<Vec<_>>();
    // Values keys of each pinned upstream chart (catalog/<component>/<chart>-<version>.keys,
    // written by .ci/chart-keys.py): what `overrides:` may name.
    let chart_keys = collect(&root.join("catalog"))
        .into_iter()
        .filter(|(rel, _)| rel.ends_with(".keys"))
        .collect::<Vec<_>>();

    let mut env = minijinja::Environment::new();
    env.set_syntax(syntax::syntax_config());
    let mut failures = Vec::new();
    for (rel, path) in &templates {
        let source =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(e) = env.template_from_named_str(rel, &source) {
            let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
            failures.push(format!("templates/{rel}{line}: {e}"));
        }
    }
    if !failures.is_empty() {
        for f in &failures {
            println!("cargo::warning={f}");
        }
        panic!("broken templates:\n{}", failures.join("\n"));
    }

    write_table(&out.join("template_files.rs"), "TEMPLATE_FILES", &templates);
    write_table(&out.join("catalog_files.rs"), "CATALOG_FILES", &catalog);
    write_table(&out.join("chart_keys.rs"), "CHART_KEYS", &chart_keys);
    println!("cargo::rerun-if-changed=templates");
    println!("cargo::rerun-if-changed=catalog");
    println!("cargo::rerun-if-changed=src/render/syntax.rs");
}

/// Files below `dir` as (path relative to dir with '/', absolute path), sorted.
fn collect(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap_or_else(|err| panic!("walking {}: {err}", dir.display())))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .expect("walkdir yields paths below its root");
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            println!("cargo::rerun-if-changed={}", e.path().display());
            (rel, e.path().to_path_buf())
        })
        .collect();
    files.sort();
    files
}

fn write_table(path: &Path, name: &str, files: &[(String, PathBuf)]) {
    let mut code = format!("pub static {name}: &[(&str, &str)] = &[\n");
    for (rel, abs) in files {
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    std::fs::write(path, code).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
