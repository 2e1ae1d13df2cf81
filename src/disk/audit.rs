//! What `check` sees besides file contents. deploygen owns its generated folders (a chart's
//! folder and its `templates/`, an environment's folder): a file there
//! that it did not generate is packaged by Helm or fed to helmfile all the same, so `check`
//! reports it. So are temp files a killed run left behind (render removes those) and
//! generated files whose mode was changed.
//!
//! The folders it owns whole are chart folders (and folders below them) and environment
//! folders; other folders that hold generated files (the root, the helmfile's folder, the
//! image lists, the examples) are shared with the user. Helm's own output in a chart folder
//! (`charts/`, `Chart.lock`, written by `helm dependency build`) is expected there.

use std::collections::BTreeSet;

use super::dir::Kind;
use super::fs_safe::{Node, Root, TEMP_SUFFIX};
use crate::base::generated::Tree;

/// Whether deploygen owns every file of `dir`: a chart folder or a folder below one (Helm
/// packages every file there), or an environment's values folder (it holds the generated
/// `environment.yaml`). Other folders that hold generated files are shared with the user:
/// the root, the helmfile's folder (beside the matrix), the image lists (Astrago keeps every
/// app's list in one folder), the examples.
fn owned_folder(tree: &Tree, dir: &str) -> bool {
    let holds = |name: &str| tree.contains_key(&join(dir, name));
    if holds("environment.yaml") || holds("environment.yaml.gotmpl") {
        return true;
    }
    // A chart folder is `<charts>/<release>`, never the root: the root is shared.
    let mut at = dir;
    while !at.is_empty() {
        if tree.contains_key(&join(at, "Chart.yaml")) {
            return true;
        }
        at = at.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
    false
}

/// Folders (relative, `""` for the root) that directly hold a generated file.
fn folders(tree: &Tree) -> BTreeSet<String> {
    tree.keys()
        .map(|p| {
            p.rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default()
        })
        .collect()
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Entries of a folder below the root, if it is a real folder reached without links.
fn entries(root: &Root, dir: &str) -> Vec<(String, Kind)> {
    let real = dir.is_empty() || matches!(root.inspect(dir), Ok(Node::Dir));
    let Some(handle) = root.dir().filter(|_| real) else {
        return Vec::new();
    };
    handle
        .open_dir(dir)
        .and_then(|d| d.entries())
        .unwrap_or_default()
}

/// Temp files (ours by name) anywhere below the top-level generated folders (`applications/`,
/// `environments/` ...; an interrupted run may have staged files in a folder no render
/// generates any more) and in the root itself. With the tree's lock held, no other deploygen
/// is using them: they are leftovers of an interrupted run. Links are not followed.
pub fn stray_temps(root: &Root, tree: &Tree) -> Vec<String> {
    let tops: BTreeSet<&str> = tree
        .keys()
        .filter_map(|p| p.split_once('/').map(|(top, _)| top))
        .collect();
    let mut out = Vec::new();
    let mut pending: Vec<String> = vec![String::new()];
    pending.extend(tops.iter().map(|t| t.to_string()));
    while let Some(dir) = pending.pop() {
        for (name, kind) in entries(root, &dir) {
            let rel = join(&dir, &name);
            if kind == Kind::Dir {
                if !dir.is_empty() {
                    pending.push(rel);
                }
            } else if name.ends_with(TEMP_SUFFIX) {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// One line per finding: extra files and folders in generated folders, stray temp files.
pub fn findings(root: &Root, tree: &Tree) -> Vec<String> {
    let mut out: Vec<String> = stray_temps(root, tree)
        .iter()
        .map(|rel| {
            format!(
                "stray {}: a temp file left by an interrupted deploygen; `deploygen render` \
                 removes it",
                crate::base::text::escape(rel)
            )
        })
        .collect();
    for dir in folders(tree).into_iter().filter(|d| owned_folder(tree, d)) {
        let chart = tree.contains_key(&join(&dir, "Chart.yaml"));
        for (name, kind) in entries(root, &dir) {
            let rel = join(&dir, &name);
            let shown = crate::base::text::escape(&rel);
            if name.ends_with(TEMP_SUFFIX) || tree.contains_key(&rel) {
                continue;
            }
            let prefix = format!("{rel}/");
            if kind == Kind::Dir && tree.keys().any(|p| p.starts_with(&prefix)) {
                continue;
            }
            if chart && (name == "Chart.lock" || (name == "charts" && kind == Kind::Dir)) {
                continue;
            }
            out.push(format!(
                "extra {shown}: not generated by deploygen, in a folder it generates (Helm and \
                 helmfile read every file there); move it out of the tree or delete it"
            ));
        }
    }
    out
}
