//! A catalog directory the user extends without rebuilding deploygen: `catalog/` beside the
//! matrix, or `--catalog DIR`. Its `<component>/<version>.yaml` files add versions to the
//! compiled-in catalog or replace compiled-in ones; a file byte-identical to the compiled-in
//! one is the compiled-in entry (not parsed again). An entry still holding TODOs (as
//! `deploygen catalog import` leaves them, `catalog::todo` finds every spelling) loads as
//! *pending*: it is listed, with every TODO located, and refused wherever a matrix pins it;
//! a pending replacement of a compiled-in entry takes the compiled-in entry's place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{Catalog, ComponentVersion, GlobalRules, SetAt};
use crate::base::error::{Error, Problem, Result};
use crate::base::text::{cut, MAX_TOKEN_CHARS};
use crate::model::input::CATALOG;
use crate::model::yaml::Document;

pub use super::origin::{Origin, Pending};

/// One file of a catalog directory, as the disk layer read it: `<component>/<version>.yaml`
/// or `rules.yaml` (`rel`), where it is (`path`, for messages) and its bytes.
#[derive(Debug, Clone)]
pub struct OverlayFile {
    pub rel: String,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The compiled-in catalog with a catalog directory's files laid over it (`disk::read::
/// catalog_dir` reads them; this parses, and never touches the disk). Every file passes the
/// YAML door as a catalog file (`model::input::CATALOG`: bounded nesting, no tag, one
/// document, no duplicate key) before it is parsed.
pub fn load_files(files: Vec<OverlayFile>) -> Result<Catalog> {
    let mut catalog = Catalog::load()?;
    let compiled: BTreeMap<&str, &str> = super::files().iter().copied().collect();
    let mut problems = Vec::new();
    for OverlayFile { rel, path, bytes } in files {
        if compiled.get(rel.as_str()).map(|t| t.as_bytes()) == Some(bytes.as_slice()) {
            continue; // the compiled-in entry itself
        }
        let label = path.display().to_string();
        if rel == "rules.yaml" {
            match read(&label, &bytes).and_then(|d| super::parse_checked::<GlobalRules>(&d)) {
                Ok(rules) => {
                    for k in rules.known_bad {
                        if catalog.known_bad(&k.component, &k.version).is_none() {
                            catalog.rules.known_bad.push(k);
                        }
                    }
                }
                Err(e) => problems.append(&mut problems_of(e)),
            }
            continue;
        }
        match read_entry(&label, &rel, &bytes) {
            Ok(Read::Ready(entry)) => {
                let key = (entry.component.clone(), entry.version.clone());
                let origin = if catalog.origins.get(&key) == Some(&Origin::CompiledIn) {
                    Origin::Replaces(path.clone())
                } else {
                    Origin::Overlay(path.clone())
                };
                catalog.insert(*entry, origin);
            }
            Ok(Read::Pending(key, todos)) => {
                // A pending replacement of a compiled-in entry takes its place: a matrix that
                // pins the version is refused naming this file, never given the compiled-in
                // facts the file was written to correct.
                if catalog.origins.get(&key) == Some(&Origin::CompiledIn) {
                    catalog.origins.remove(&key);
                    if let Some(versions) = catalog.components.get_mut(&key.0) {
                        versions.remove(&key.1);
                    }
                }
                catalog.pending.insert(
                    key,
                    Pending {
                        path: path.clone(),
                        todos,
                    },
                );
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(catalog)
    } else {
        Err(Error::Invalid(problems))
    }
}

enum Read {
    Ready(Box<ComponentVersion>),
    Pending((String, String), Vec<Problem>),
}

/// A catalog file through the YAML door.
fn read<'a>(label: &'a str, bytes: &'a [u8]) -> Result<Document<'a>> {
    crate::model::yaml::read(label, bytes, &CATALOG)
}

/// The located problems of a refusal (a catalog load reports every file's at once).
fn problems_of(e: Error) -> Vec<Problem> {
    match e {
        Error::Invalid(p) => p,
        other => vec![Problem {
            location: "catalog".into(),
            message: other.to_string(),
        }],
    }
}

/// Reads one entry: located problems for a broken file, its TODOs for an unfinished one.
fn read_entry(label: &str, rel: &str, bytes: &[u8]) -> std::result::Result<Read, Vec<Problem>> {
    let doc = read(label, bytes).map_err(problems_of)?;
    let lines: Vec<&str> = doc.text.lines().collect();
    let at = |path: &str| match crate::base::locate::locate_in(&lines, path) {
        Some((l, c)) => format!("{label}:{l}:{c}: {path}"),
        None => format!("{label}: {path}"),
    };
    let located = |found: Vec<(String, String)>| -> Vec<Problem> {
        found
            .into_iter()
            .map(|(path, message)| Problem {
                location: at(&path),
                message,
            })
            .collect()
    };
    let mut todos = Vec::new();
    super::todo::find_todos(&doc.value, "", &mut todos);
    let entry: ComponentVersion = super::parse_checked(&doc).map_err(problems_of)?;
    let expected = format!("{}/{}.yaml", entry.component, entry.version);
    if rel != expected {
        return Err(vec![Problem {
            location: label.to_string(),
            message: format!(
                "holds {} {}, so it must be named {expected}",
                cut(&entry.component, MAX_TOKEN_CHARS),
                cut(&entry.version, MAX_TOKEN_CHARS)
            ),
        }]);
    }
    // Names are refused where they are written, pending or not; a name still to be filled is
    // the TODO it is.
    let todo_paths: BTreeSet<&str> = todos.iter().map(|(p, _)| p.as_str()).collect();
    let bad_names: Vec<(String, String)> = super::names::check_names(&entry)
        .into_iter()
        .filter(|(p, _)| !todo_paths.contains(p.as_str()))
        .collect();
    if !bad_names.is_empty() {
        return Err(located(bad_names));
    }
    if !todos.is_empty() {
        let key = (entry.component.clone(), entry.version.clone());
        return Ok(Read::Pending(key, located(todos)));
    }
    let problems = located(check_entry(&entry));
    if problems.is_empty() {
        Ok(Read::Ready(Box::new(entry)))
    } else {
        Err(problems)
    }
}

/// Consistency of one entry: every values key it names is a key of the chart (when the entry
/// records the chart's keys), every `follows` names an image of the same release, and no key
/// it writes into values holds what a `.yaml.gotmpl` file cannot (`catalog::gotmpl`).
/// Returns (key path in the file, message).
pub fn check_entry(entry: &ComponentVersion) -> Vec<(String, String)> {
    let mut out = super::gotmpl::check_gotmpl_keys(entry);
    for (ri, r) in entry.releases.iter().enumerate() {
        let at = |rest: &str| format!("releases[{ri}]{rest}");
        let ids: BTreeSet<&str> = r.images.iter().map(|i| i.id.as_str()).collect();
        for (ii, img) in r.images.iter().enumerate() {
            for s in &img.set {
                if let SetAt::Follows(id) = s {
                    if !ids.contains(id.as_str()) || id == &img.id {
                        out.push((
                            at(&format!(".images[{ii}].set")),
                            format!(
                                "image {} follows `{id}`, which is no other image of release {}",
                                img.id, r.name
                            ),
                        ));
                    }
                }
            }
        }
        // `vendor` compares an archive's sha256 with this: a digest it cannot read would pin
        // nothing.
        if let Some(d) = r.chart.as_ref().and_then(|c| c.digest.as_deref()) {
            if !d.starts_with("sha256:") || crate::base::sha256::digest_hex(d).is_none() {
                out.push((
                    at(".chart.digest"),
                    format!(
                        "`{}` is not `sha256:` and 64 lower-case hex digits",
                        crate::base::text::escape(d)
                    ),
                ));
            }
        }
        if r.values_keys.is_empty() {
            continue;
        }
        let keys: BTreeSet<&str> = r.values_keys.iter().map(String::as_str).collect();
        let mut named: Vec<(String, String)> = Vec::new();
        match r.values.as_ref().map(|v| v.as_mapping()) {
            Some(Some(m)) => {
                let mut paths = Vec::new();
                value_paths(m, "", &keys, &mut paths);
                named.extend(paths.into_iter().map(|(p, k)| (at(&format!(".{p}")), k)));
            }
            Some(None) => out.push((
                at(".values"),
                "is not a map of chart values (key: value)".to_string(),
            )),
            None => {}
        }
        for (field, path) in [
            ("deployment_mode_path", &r.deployment_mode_path),
            ("domain_path", &r.domain_path),
            ("url_scheme_path", &r.url_scheme_path),
        ] {
            if let Some(p) = path {
                named.push((at(&format!(".{field}")), p.clone()));
            }
        }
        if let Some(pattern) = &r.runtime_disabled {
            match r.runtime_switches_in(&r.values_keys) {
                None => out.push((
                    at(".runtime_disabled"),
                    format!("`{pattern}` has no `{{runtime}}` placeholder"),
                )),
                Some(found) if found.is_empty() => out.push((
                    at(".runtime_disabled"),
                    format!("`{pattern}` matches no values key of the chart"),
                )),
                Some(_) => {}
            }
        }
        for (wi, w) in r.workloads.iter().enumerate() {
            if let Some(p) = &w.path {
                named.push((at(&format!(".workloads[{wi}].path")), p.clone()));
            }
        }
        for (ii, img) in r.images.iter().enumerate() {
            for s in &img.set {
                for k in s.keys() {
                    named.push((at(&format!(".images[{ii}].set")), k.clone()));
                }
            }
        }
        for (where_, key) in named {
            if !keys.contains(key.as_str()) {
                let hint = crate::base::suggest::hint(&key, keys.iter().copied());
                out.push((
                    where_,
                    format!(
                        "`{key}` is not a values key of chart {} {}{hint}",
                        r.chart.as_ref().map(|c| c.name.as_str()).unwrap_or("?"),
                        r.chart.as_ref().map(|c| c.version.as_str()).unwrap_or("?"),
                    ),
                ));
            }
        }
    }
    out
}

/// Leaf paths of a values tree, stopping where the chart's keys stop (free-form maps such as
/// `podAnnotations`, or lists).
fn value_paths(
    m: &serde_yaml::Mapping,
    prefix: &str,
    keys: &BTreeSet<&str>,
    out: &mut Vec<(String, String)>,
) {
    for (k, child) in m {
        let Some(k) = k.as_str() else { continue };
        let path = if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        };
        let has_children = keys
            .range(format!("{path}.").as_str()..)
            .next()
            .is_some_and(|n| n.starts_with(&format!("{path}.")));
        match child.as_mapping() {
            Some(inner) if has_children => value_paths(inner, &path, keys, out),
            _ => out.push((format!("values.{path}"), path)),
        }
    }
}

/// One line per entry: component, version, where it came from, and whether it is usable.
pub fn list(catalog: &Catalog) -> String {
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    for (component, versions) in &catalog.components {
        for version in versions.keys() {
            let origin = catalog
                .origin(component, version)
                .map(Origin::describe)
                .unwrap_or_default();
            rows.push((component.clone(), version.clone(), "ready".into(), origin));
        }
    }
    for ((component, version), p) in &catalog.pending {
        rows.push((
            component.clone(),
            version.clone(),
            format!("pending ({} TODO)", p.todos.len()),
            format!("{} (catalog directory)", p.path.display()),
        ));
    }
    rows.sort_by(|a, b| {
        (a.0.as_str(), crate::base::version::parse_lenient(&a.1).ok())
            .cmp(&(b.0.as_str(), crate::base::version::parse_lenient(&b.1).ok()))
    });
    let mut out = String::new();
    for (c, v, status, origin) in &rows {
        out.push_str(&format!("{c:<18} {v:<10} {status:<18} {origin}\n"));
    }
    for p in catalog.pending.values() {
        for t in &p.todos {
            out.push_str(&format!("  {t}\n"));
        }
    }
    out
}
