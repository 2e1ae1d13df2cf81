//! The parent helmfile check (`layout.parent`): the repository's root helmfile must list the
//! stack's sub-helmfile under `helmfiles:`, and every environment the parent declares must
//! exist in the matrix (or be knowingly excluded). helmfile runs a sub-helmfile that does not
//! declare the environment as a silent no-op with exit 0 (roboll/helmfile#1010): KServe
//! would simply not be installed. Here that is an error naming the environment.

use std::path::Path;

use crate::base::error::{Error, Result};
use crate::model::input::{precheck_as, HELMFILE};
use crate::model::layout::Layout;
use crate::model::yaml::problem;
use crate::plan::Plan;

/// Result of the check: failures (the check fails) and notes.
#[derive(Debug, Default)]
pub struct Report {
    pub failures: Vec<String>,
    pub notes: Vec<String>,
}

/// Go template actions replaced by a plain scalar, so a templated parent (Astrago's
/// `values: [{{ toYaml .Values | nindent 6 }}]`) still parses as YAML for the keys we read.
fn untemplate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        match rest[i..].find("}}") {
            Some(j) => {
                out.push_str("\"__template__\"");
                rest = &rest[i + j + 2..];
            }
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits helmfile parts on `---` lines, as helmfile does.
fn parts(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    out
}

/// Line (1-based) where `needle` first starts a key in `text`.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(&format!("{key}:"))
                || t.starts_with(&format!("\"{key}\":"))
                || t.starts_with(&format!("'{key}':"))
        })
        .map(|i| i + 1)
}

/// `*` matches within one path segment (helmfile's glob of `helmfiles:` paths).
fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    p.len() == s.len() && p.iter().zip(&s).all(|(a, b)| segment_match(a, b))
}

fn segment_match(p: &str, s: &str) -> bool {
    match p.split_once('*') {
        None => p == s,
        Some((head, tail)) => {
            s.starts_with(head) && {
                let rest = &s[head.len()..];
                (0..=rest.len())
                    .filter(|&i| rest.is_char_boundary(i))
                    .any(|i| segment_match(tail, &rest[i..]))
            }
        }
    }
}

/// Normalizes `a/./b/../c` to `a/c`.
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

/// Reads the parent under `root` and checks it against the plan. Err only when the parent
/// cannot be read or parsed.
pub fn check(plan: &Plan, root: &Path) -> Result<Option<Report>> {
    let layout = &plan.matrix.layout;
    let Some(parent) = &layout.parent else {
        return Ok(None);
    };
    let file = root.join(&parent.helmfile);
    let label = parent.helmfile.clone();
    // Through the tree's door: bounded, never through a link.
    let tree = crate::disk::fs_safe::Root::open(root).map_err(|e| Error::io(root, e))?;
    let bytes = tree
        .read_file(&parent.helmfile)
        .map_err(|e| Error::io(&file, e))?
        .ok_or_else(|| Error::invalid(label.clone(), "is too large to be a helmfile"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| Error::invalid(label.clone(), "is not UTF-8"))?;
    let plain = untemplate(&text);
    let mut envs: Vec<String> = Vec::new();
    let mut subs: Vec<String> = Vec::new();
    let mut env_values: Vec<serde_yaml::Value> = Vec::new();
    for (i, part) in parts(&plain).iter().enumerate() {
        // Through the YAML door (bounded nesting, only core tags, no duplicate key).
        let where_ = format!("{label} (part {})", i + 1);
        let (part, scan) = precheck_as(&where_, part.as_bytes(), &HELMFILE)?;
        let doc: serde_yaml::Value = serde_yaml::from_str(part).map_err(|e| {
            let p = problem(&where_, part, &scan, &e);
            Error::invalid(
                p.location,
                format!(
                    "is not YAML once template actions are set aside: {}",
                    p.message
                ),
            )
        })?;
        if let Some(m) = doc.get("environments").and_then(|v| v.as_mapping()) {
            envs.extend(m.keys().filter_map(|k| k.as_str().map(str::to_string)));
            for entry in m.values().filter_map(|e| e.get("values")?.as_sequence()) {
                env_values.extend(entry.iter().cloned());
            }
        }
        if let Some(list) = doc.get("helmfiles").and_then(|v| v.as_sequence()) {
            for h in list {
                let path = h
                    .as_str()
                    .or_else(|| h.get("path").and_then(|p| p.as_str()));
                if let Some(p) = path {
                    subs.push(p.to_string());
                }
            }
        }
    }
    let dir = parent
        .helmfile
        .rsplit_once('/')
        .map(|(d, _)| d)
        .unwrap_or("");
    let ours = normalize(&layout.helmfile);
    let ours_dir = normalize(layout.helmfile_dir());
    let mut report = Report::default();
    let included = subs.iter().any(|s| {
        let full = normalize(&Layout::join(dir, s));
        glob_match(&full, &ours) || full == ours_dir
    });
    if !included {
        report.failures.push(format!(
            "{label}: its `helmfiles:` list ({}) does not include {}: `helmfile sync` from the root would never install the stack; add `- path: {}`",
            if subs.is_empty() { "empty".to_string() } else { subs.join(", ") },
            layout.helmfile,
            crate::model::layout::relative(dir, &layout.helmfile),
        ));
    }
    let excluded: Vec<&str> = parent
        .excluded_environments
        .iter()
        .map(|x| x.environment.as_str())
        .collect();
    for env in &envs {
        if plan.environments.iter().any(|e| &e.name == env) || excluded.contains(&env.as_str()) {
            continue;
        }
        let at = line_of(&text, env)
            .map(|l| format!("{label}:{l}"))
            .unwrap_or_else(|| label.clone());
        report.failures.push(format!(
            "{at}: environment `{env}` is declared by the parent but not by {}: helmfile would skip the sub-helmfile {} in `helmfile -e {env} sync` silently (exit 0) and the stack would not be installed; add `{env}` to the matrix's environments, or to layout.parent.excluded_environments with a reason",
            plan.matrix_file, layout.helmfile
        ));
    }
    for e in &plan.environments {
        if !envs.contains(&e.name) {
            report.notes.push(format!(
                "{label}: does not declare environment `{}` of the matrix: `helmfile -e {}` works on {} alone, not from the root",
                e.name, e.name, layout.helmfile
            ));
        }
    }
    own_key_collisions(&tree, dir, &label, &env_values, &mut report)?;
    for x in &excluded {
        if !envs.iter().any(|e| e == x) {
            report.notes.push(format!(
                "{label}: declares no environment `{x}`: its exclusion (layout.parent.excluded_environments) is stale"
            ));
        }
    }
    Ok(Some(report))
}

/// The parent's environment values (files and inline maps) must not define the key the
/// stack's own environment values sit under (`render::values::OWN_VALUES_KEY`): helmfile passes
/// them down to the stack, where they would override its conditions. A file that does not
/// exist yet (Astrago's `environments/astrago/`, made on site from `prod`) is skipped.
fn own_key_collisions(
    tree: &crate::disk::fs_safe::Root,
    dir: &str,
    label: &str,
    entries: &[serde_yaml::Value],
    report: &mut Report,
) -> Result<()> {
    let key = crate::render::values::OWN_VALUES_KEY;
    let collides = |doc: &serde_yaml::Value| doc.get(key).is_some();
    let why = format!("defines `{key}`, the key the stack's own helmfile environment values sit under (`{key}.knative.enabled` decides whether Knative is installed): helmfile passes the parent's values down to the stack and they would override it; rename that key in the parent's values");
    let mut seen = std::collections::BTreeSet::new();
    for entry in entries {
        let Some(rel) = entry.as_str() else {
            if collides(entry) {
                report
                    .failures
                    .push(format!("{label}: an inline environment value {why}"));
            }
            continue;
        };
        if rel.contains("__template__") || !seen.insert(rel.to_string()) {
            continue;
        }
        let path = normalize(&Layout::join(dir, rel));
        let bytes = match tree.read_file(&path) {
            Ok(Some(b)) => b,
            Ok(None) => return Err(Error::invalid(path, "is too large to be a values file")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                report.notes.push(format!(
                    "{path}: an environment values file of the parent, not read ({e}); make sure it does not define `{key}`"
                ));
                continue;
            }
        };
        let text =
            String::from_utf8(bytes).map_err(|_| Error::invalid(path.clone(), "is not UTF-8"))?;
        let plain = untemplate(&text);
        let (body, scan) = precheck_as(&path, plain.as_bytes(), &HELMFILE)?;
        let doc: serde_yaml::Value = serde_yaml::from_str(body).map_err(|e| {
            let p = problem(&path, body, &scan, &e);
            Error::invalid(p.location, p.message)
        })?;
        if collides(&doc) {
            let at = line_of(&text, key)
                .map(|l| format!("{path}:{l}"))
                .unwrap_or(path);
            report.failures.push(format!("{at}: {why}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templated_parents_parse_and_globs_match() {
        let t = untemplate("helmfiles:\n  - path: a/helmfile.yaml\n    values:\n      - {{ toYaml .Values | nindent 8 }}\n");
        let v: serde_yaml::Value = serde_yaml::from_str(&t).unwrap();
        assert!(v.get("helmfiles").is_some());
        assert!(glob_match(
            "applications/*/helmfile.yaml",
            "applications/kserve/helmfile.yaml"
        ));
        assert!(!glob_match(
            "applications/*/helmfile.yaml",
            "applications/kserve/x/helmfile.yaml"
        ));
        assert_eq!(normalize("./a/../b/c"), "b/c");
    }
}
