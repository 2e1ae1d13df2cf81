//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod real;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's own matrix: the default scenario.
pub const MATRIX: &str = include_str!("../../matrix.yaml");

/// The default matrix with every environment in RawDeployment mode (no Knative).
pub fn raw_matrix() -> String {
    let m = MATRIX.replace(
        "deployment_mode: Serverless",
        "deployment_mode: RawDeployment",
    );
    assert_ne!(m, MATRIX, "the default matrix has Serverless environments");
    m
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temp folder holding `matrix.yaml` with `text`.
pub fn workdir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("matrix.yaml"), text).expect("write matrix");
    dir
}

/// Runs the deploygen binary in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deploygen"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run deploygen")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file below `dir` (relative path -> bytes).
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Every file's modification time, to prove a run wrote nothing.
pub fn mtimes(dir: &Path) -> BTreeMap<String, std::time::SystemTime> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().display().to_string(),
                e.metadata().unwrap().modified().unwrap(),
            )
        })
        .collect()
}

/// The whole tree as one text: one uber-snapshot per scenario (cargo-dist's approach).
pub fn uber(tree: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (path, text) in tree {
        out.push_str(&format!("================ {path} ================\n{text}"));
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Every scalar of a values file, by dotted path.
pub fn flatten(v: &serde_json::Value, prefix: &str, out: &mut BTreeMap<String, serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                flatten(v, &format!("{prefix}{k}."), out);
            }
        }
        other => {
            out.insert(prefix.trim_end_matches('.').to_string(), other.clone());
        }
    }
}

/// The text of a compiled-in catalog file (`kserve/v0.15.2.yaml`), as build.rs embedded it.
pub fn compiled_catalog_file(rel: &str) -> &'static str {
    deploygen::catalog::files()
        .iter()
        .find(|(p, _)| *p == rel)
        .unwrap_or_else(|| panic!("no compiled-in catalog file {rel}"))
        .1
}

/// A real chart archive as `helm pull` leaves it: `<name>/Chart.yaml` in a gzip tar.
pub fn chart_tgz(name: &str, version: &str) -> Vec<u8> {
    let chart = format!("apiVersion: v2\nname: {name}\nversion: {version}\n");
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(chart.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, format!("{name}/Chart.yaml"), chart.as_bytes())
        .unwrap();
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    gz.finish().unwrap()
}
