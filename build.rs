//! Embeds `templates/` and `catalog/` in the binary (so it runs from any directory) and
//! parses every template with minijinja, so a broken template fails `cargo build` with its
//! file and line instead of failing a release engineer at render time.
//!
//! The catalog is also turned into Rust: each file is parsed here, with the catalog's own types
//! (src/catalog/types.rs), and written out as `static` data of their mirror types
//! (src/catalog/statics.rs, by src/catalog/codegen.rs) into `catalog_data.rs`, so deploygen
//! never parses its compiled-in catalog at run time. A catalog file that does not parse, is
//! misnamed or still holds a `TODO:` fails the build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/render/syntax.rs"]
mod syntax;

#[path = "src/catalog/types.rs"]
#[allow(dead_code)]
mod types;

#[path = "src/catalog/helmfile_keys.rs"]
#[allow(dead_code)]
mod helmfile_keys;

/// Stand-in for the catalog module the catalog's types read the helmfile key table from.
mod catalog {
    pub(crate) use super::helmfile_keys;
}

#[path = "src/catalog/todo.rs"]
mod todo;

#[path = "src/catalog/codegen.rs"]
mod codegen;

/// Stand-in for the one model type the catalog's types use (`crate::model::matrix`).
mod model {
    pub mod matrix {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
        pub enum DeploymentMode {
            Serverless,
            RawDeployment,
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let templates = collect(&root.join("templates"));
    let catalog = collect(&root.join("catalog"))
        .into_iter()
        .filter(|(rel, _)| rel.ends_with(".yaml"))
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
    write_catalog_data(&out.join("catalog_data.rs"), &catalog);
    println!("cargo::rerun-if-changed=templates");
    println!("cargo::rerun-if-changed=catalog");
    println!("cargo::rerun-if-changed=src/render/syntax.rs");
    println!("cargo::rerun-if-changed=src/catalog/types.rs");
    println!("cargo::rerun-if-changed=src/catalog/codegen.rs");
    println!("cargo::rerun-if-changed=src/catalog/statics.rs");
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

/// Parses every catalog file and writes it as `static` data: `ENTRIES` (one `static` per
/// component version) and `RULES`.
fn write_catalog_data(path: &Path, files: &[(String, PathBuf)]) {
    use codegen::Rust as _;
    // Static data, not code: one function building the whole catalog (930 KB of code) took
    // rustc about 3 GB and most of a release build's time to optimise, and even one
    // constructor per component version kept a release build of the crate near 1 GB.
    let mut list = String::from(
        "// Generated by build.rs from catalog/*.yaml; do not edit.\n\
         /// Every compiled-in component version: (path below catalog/, entry).\n\
         pub static ENTRIES: &[(&str, &crate::catalog::statics::ComponentVersion)] = &[\n",
    );
    let mut code = String::new();
    let mut rules = None;
    let mut failures = Vec::new();
    for (rel, abs) in files {
        let text =
            std::fs::read_to_string(abs).unwrap_or_else(|e| panic!("{}: {e}", abs.display()));
        let value: serde_yaml::Value = match serde_yaml::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("catalog/{rel}: {e}"));
                continue;
            }
        };
        let mut todos = Vec::new();
        todo::find_todos(&value, "", &mut todos);
        for (t, _) in todos {
            failures.push(format!(
                "catalog/{rel}: {t}: still to be filled (a compiled-in entry holds no TODO)"
            ));
        }
        if rel == "rules.yaml" {
            match serde_yaml::from_value::<types::GlobalRules>(value) {
                Ok(r) => rules = Some(r.rust()),
                Err(e) => failures.push(format!("catalog/{rel}: {e}")),
            }
            continue;
        }
        match serde_yaml::from_value::<types::ComponentVersion>(value) {
            Ok(entry) => {
                let expected = format!("{}/{}.yaml", entry.component, entry.version);
                if *rel != expected {
                    failures.push(format!(
                        "catalog/{rel}: holds {} {}, so it must be named {expected}",
                        entry.component, entry.version
                    ));
                }
                let n = list.matches("&ENTRY_").count();
                writeln!(list, "    ({rel:?}, &ENTRY_{n}),").expect("writing to a String");
                writeln!(
                    code,
                    "static ENTRY_{n}: crate::catalog::statics::ComponentVersion = {};\n",
                    entry.rust()
                )
                .expect("writing to a String");
            }
            Err(e) => failures.push(format!("catalog/{rel}: {e}")),
        }
    }
    if !failures.is_empty() {
        for f in &failures {
            println!("cargo::warning={f}");
        }
        panic!("broken catalog:\n{}", failures.join("\n"));
    }
    list.push_str("];\n\n");
    code.insert_str(0, &list);
    code.push_str(
        "/// catalog/rules.yaml.\npub static RULES: crate::catalog::statics::GlobalRules = ",
    );
    code.push_str(
        &rules.unwrap_or_else(|| "crate::catalog::statics::GlobalRules { known_bad: &[] }".into()),
    );
    code.push_str(";\n");
    std::fs::write(path, code).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
