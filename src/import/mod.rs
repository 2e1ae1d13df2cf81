//! `deploygen catalog import COMPONENT VERSION --chart PATH…`: a catalog entry from the
//! upstream chart itself, starting from the nearest catalog version of that component.
//!
//! - images: the chart rendered (`helm template`) with its defaults and with the values the
//!   catalog sets, every reference collected as `deploygen audit` collects them; Knative
//!   Serving, which has no chart, from the Knative Operator's manifests (`--kodata`);
//! - where each image is set: every candidate values key rendered again with a sentinel
//!   (`discover`); the key (or pair) that moves exactly that image is its set-location;
//! - the chart's facts: version, appVersion, kubeVersion, dependencies, its values keys;
//! - what the chart cannot say (the Kubernetes range, compatibility rules) is left as `TODO:`
//!   strings, which the catalog refuses until a person fills them.
//!
//! The report says what changed against the nearest version and what is left to do.

pub mod chart;
pub mod discover;
mod error;
mod floor;
pub mod kodata;
pub mod render;
pub mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::audit::images::qualify;
use crate::catalog::{
    Catalog, CatalogImage, ChartDefect, ComponentVersion, DefectFix, Installs, NetIstio,
    ReleaseEntry, SetAt, ValuesKeys, VersionSpan,
};
use chart::subst;
use discover::{Choice, Found};
pub use error::ImportError;
use kodata::Kodata;
use render::Renderer;

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub component: String,
    pub version: String,
    /// Chart folders or `.tgz` files, matched to the nearest version's releases by chart name.
    pub charts: Vec<PathBuf>,
    /// The Knative Operator's kodata folder (Serving has no chart; the operator's `installs`).
    pub kodata: Option<PathBuf>,
}

/// The imported entry, its YAML and the report.
#[derive(Debug)]
pub struct Outcome {
    pub entry: ComponentVersion,
    pub yaml: String,
    pub report: String,
    /// Every TODO left: (key path, text).
    pub todos: Vec<(String, String)>,
}

/// The nearest other version of a component: the newest below, else the oldest above.
pub fn nearest<'a>(
    catalog: &'a Catalog,
    component: &str,
    version: &str,
) -> Option<&'a ComponentVersion> {
    let target = crate::base::version::parse_lenient(version).ok()?;
    let versions = catalog.versions(component);
    let parsed: Vec<(semver::Version, &str)> = versions
        .iter()
        .filter(|v| **v != version)
        .filter_map(|v| crate::base::version::parse_lenient(v).ok().map(|p| (p, *v)))
        .collect();
    let below = parsed
        .iter()
        .filter(|(p, _)| *p < target)
        .max_by(|a, b| a.0.cmp(&b.0));
    let above = parsed
        .iter()
        .filter(|(p, _)| *p > target)
        .min_by(|a, b| a.0.cmp(&b.0));
    below.or(above).and_then(|(_, v)| catalog.get(component, v))
}

fn todo(s: impl AsRef<str>) -> String {
    format!("TODO: {}", s.as_ref())
}

/// Repository part of a reference (without tag and digest).
fn repository_of(r: &str) -> &str {
    let r = r.split('@').next().unwrap_or(r);
    let slash = r.rfind('/').map(|i| i + 1).unwrap_or(0);
    match r[slash..].rfind(':') {
        Some(i) => &r[..slash + i],
        None => r,
    }
}

/// Finds the catalog image a new reference continues: same reference with the version moved,
/// else the one image with the same repository.
fn match_old<'a>(
    reference: &str,
    olds: &'a [CatalogImage],
    old_version: &str,
    new_version: &str,
) -> Option<&'a CatalogImage> {
    if let Some(i) = olds.iter().find(|i| {
        subst(&i.reference, old_version, new_version) == reference || i.reference == reference
    }) {
        return Some(i);
    }
    let same: Vec<&CatalogImage> = olds
        .iter()
        .filter(|i| repository_of(&i.reference) == repository_of(reference))
        .collect();
    match same.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// A new image id: the repository's last element, prefixed with the component unless it
/// already starts with it.
fn new_id(component: &str, reference: &str, taken: &BTreeSet<String>) -> String {
    let name = repository_of(reference)
        .rsplit('/')
        .next()
        .unwrap_or("image");
    let base = if name.starts_with(component) {
        name.to_string()
    } else {
        format!("{component}-{name}")
    };
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

struct Report {
    lines: Vec<String>,
}

impl Report {
    fn say(&mut self, s: impl Into<String>) {
        self.lines.push(s.into());
    }
}

/// Imports one component version. Nothing is written here: the caller writes `yaml`.
pub fn import(
    opts: &Options,
    catalog: &Catalog,
    renderer: &dyn Renderer,
) -> Result<Outcome, ImportError> {
    let component = opts.component.as_str();
    let version = opts.version.as_str();
    if !catalog.components.contains_key(component) {
        let known: Vec<&str> = catalog.components.keys().map(String::as_str).collect();
        return Err(ImportError::Usage(format!(
            "unknown component `{component}`{}; import starts from a catalog version of a known component ({}); a new component's first version is written by hand (README: Add a component)",
            crate::base::suggest::hint(component, known.iter().copied()),
            known.join(", ")
        )));
    }
    crate::base::version::parse_lenient(version)
        .map_err(|e| ImportError::Usage(format!("VERSION: {e}")))?;
    if version.contains(['/', '\\']) || version.starts_with('.') {
        return Err(ImportError::Usage(format!(
            "VERSION: `{version}` cannot name a file"
        )));
    }
    let base = nearest(catalog, component, version).ok_or_else(|| {
        ImportError::Usage(format!(
            "{component} has no other catalog version to start from"
        ))
    })?;
    let old = base.version.as_str();
    let same = catalog.get(component, version);
    let mut rep = Report { lines: Vec::new() };
    rep.say(format!(
        "import {component} {version}, starting from catalog {component} {old}"
    ));

    // Charts, by name.
    let mut charts: BTreeMap<String, (PathBuf, chart::ChartDir, chart::ChartFacts)> =
        BTreeMap::new();
    for path in &opts.charts {
        let dir = chart::open(path)?;
        let facts = chart::facts(&dir)?;
        if charts.contains_key(&facts.name) {
            return Err(ImportError::Usage(format!(
                "two --chart arguments hold chart `{}`",
                facts.name
            )));
        }
        charts.insert(facts.name.clone(), (path.clone(), dir, facts));
    }
    // Each chart continues a release of the nearest version: the one with the same chart name,
    // else the one whose chart is built from an upstream folder of that name (KServe publishes
    // charts/kserve-resources as `kserve` up to v0.16 and as `kserve-resources` from v0.17;
    // the Helm release keeps its name). Any other chart becomes a release of its own.
    let mut continues: BTreeMap<String, String> = BTreeMap::new();
    for name in charts.keys() {
        let same = base
            .releases
            .iter()
            .find(|r| r.chart.as_ref().is_some_and(|c| &c.name == name));
        let renamed = || {
            base.releases.iter().find(|r| {
                r.chart.as_ref().is_some_and(|c| {
                    upstream_folder(&c.source) == Some(name.as_str())
                        && !charts.contains_key(&c.name)
                })
            })
        };
        if let Some(r) = same.or_else(renamed) {
            continues.insert(name.clone(), r.name.clone());
        }
    }
    let mut entry = base.clone();
    entry.version = version.to_string();
    entry.kubernetes.min = todo(format!(
        "the lowest Kubernetes minor {component} {version} supports, from upstream's docs ({old}: {})",
        base.kubernetes.min
    ));
    entry.kubernetes.max = base.kubernetes.max.as_ref().map(|m| {
        todo(format!("the highest Kubernetes minor {component} {version} supports, or remove max ({old}: {m})"))
    });
    entry.kubernetes.source = todo(format!(
        "where that range is written ({old}: {})",
        base.kubernetes.source
    ));
    if let Some((min, source)) = floor::chart_kube_floor(base, &charts, version)? {
        rep.say(format!(
            "kubernetes.min: {min}, as the chart states it ({source}); {old} took its minimum from the same place"
        ));
        entry.kubernetes.min = min;
        if base.kubernetes.max.is_none() {
            entry.kubernetes.source = source;
        }
    }
    for r in &mut entry.rules {
        r.why = todo(format!(
            "say what the rule means for {version}; the text may name {old}'s versions ({old}: {})",
            r.why
        ));
        r.source = todo(format!(
            "confirm this rule for {version} and cite its source ({old}: {})",
            r.source
        ));
    }
    let mut comments: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let kodata = opts.kodata.as_deref().map(Kodata::read).transpose()?;

    // The operator's installs, from its kodata.
    if let (Some(installs), Some(kodata)) = (&base.installs, &kodata) {
        entry.installs = Some(operator_installs(kodata, installs, old, version, &mut rep)?);
    } else if base.installs.is_some() {
        if let Some(i) = &mut entry.installs {
            i.source = todo(format!(
                "the Serving versions {version} bundles (pass --kodata) ({old}: {})",
                i.source
            ));
        }
    }

    // Releases for charts no release of the nearest version continues, in the namespace of
    // the component's releases; what they need is found once their images are known.
    let union: Vec<CatalogImage> = base
        .releases
        .iter()
        .flat_map(|r| r.images.iter().cloned())
        .collect();
    let mut new_releases: Vec<String> = Vec::new();
    for (name, (_, _, facts)) in &charts {
        if continues.contains_key(name) {
            continue;
        }
        let like = base
            .releases
            .iter()
            .find(|r| r.chart.is_some())
            .ok_or_else(|| {
                ImportError::Usage(format!("{component} {old} has no chart to start from"))
            })?;
        let like_chart = like.chart.as_ref().expect("found by chart");
        rep.say(format!(
            "release {name}: new chart {name} {} (no release of {old} uses it): a release of its own, installed after the releases whose images it takes",
            facts.version
        ));
        entry.releases.push(ReleaseEntry {
            name: name.clone(),
            namespace: like.namespace.clone(),
            chart: Some(crate::catalog::Chart {
                repository: like_chart.repository.clone(),
                name: name.clone(),
                version: facts.version.clone(),
                source: with_folder(&subst(&like_chart.source, old, version), name),
                // Set with the rest of the chart's facts when it is imported below.
                digest: None,
            }),
            needs: Vec::new(),
            values: None,
            deployment_mode_path: None,
            deployment_mode_words: None,
            runtime_disabled: None,
            domain_path: None,
            url_scheme_path: None,
            workloads: Vec::new(),
            images: Vec::new(),
            images_source: Some(format!(
                "{}/values.yaml",
                with_folder(&subst(&like_chart.source, old, version), name)
            )),
            glue: Vec::new(),
            defects: Vec::new(),
            values_keys: Vec::new(),
            pull_secrets: Vec::new(),
        });
        new_releases.push(name.clone());
    }
    let runtime_prefix: Option<String> = base
        .releases
        .iter()
        .find_map(|r| r.runtime_disabled.as_deref())
        .and_then(|p| p.split_once("{runtime}").map(|(head, _)| head.to_string()));

    for r in &mut entry.releases {
        let is_new = new_releases.contains(&r.name);
        // `entry` starts as a copy of `base`: a release not yet imported is its old self. A new
        // release's images continue any release's (the runtimes that moved to it).
        let mut old_r = r.clone();
        if is_new {
            old_r.images = union.clone();
        }
        let same_r = same.and_then(|s| s.releases.iter().find(|o| o.name == r.name));
        let prefer: Vec<CatalogImage> = same_r.map(|o| o.images.clone()).unwrap_or_default();
        // Re-importing a version the catalog has: render with the values it sets.
        if let Some(s) = same_r {
            r.values = s.values.clone();
        }
        let chart_name = if is_new {
            Some(r.name.clone())
        } else {
            old_r.chart.as_ref().map(|c| {
                continues
                    .iter()
                    .find(|(_, rel)| **rel == r.name)
                    .map(|(chart, _)| chart.clone())
                    .unwrap_or_else(|| c.name.clone())
            })
        };
        match (&old_r.chart, chart_name) {
            (_, Some(cn)) if charts.contains_key(&cn) => {
                let (path, dir, facts) = &charts[&cn];
                if let Some(c) = &mut r.chart {
                    if c.name != cn {
                        rep.say(format!(
                            "releases[{}].chart.name: release {} keeps its name; its chart is renamed upstream: {} -> {cn} (built from the same folder, {})",
                            base.releases.iter().position(|o| o.name == r.name).unwrap_or(0),
                            r.name,
                            c.name,
                            upstream_folder(&c.source).unwrap_or("?")
                        ));
                        c.name = cn.clone();
                    }
                }
                let ctx = ChartCtx {
                    path,
                    root: &dir.root,
                    chart: dir,
                    facts,
                    old,
                    version,
                    new_release: is_new,
                    runtime_prefix: runtime_prefix.as_deref(),
                };
                import_chart(r, &old_r, &prefer, &ctx, renderer, &mut rep, &mut comments)?;
                prove_pull_secrets(r, &ctx, renderer, &mut rep);
            }
            (Some(c), _) => {
                if let Some(ch) = &mut r.chart {
                    ch.version = todo(format!(
                        "chart {} was not read: pass --chart with it",
                        c.name
                    ));
                    ch.digest = None;
                    rep.say(format!(
                        "release {}: chart {} not given (--chart): copied from {old}",
                        r.name, c.name
                    ));
                }
            }
            (None, _) if component == "knative-serving" => match &kodata {
                Some(kodata) => serving_from_kodata(r, &old_r, &prefer, kodata, version, &mut rep)?,
                None => {
                    r.images_source = Some(todo("Knative Serving has no chart: pass --kodata with the Knative Operator's kodata folder"));
                }
            },
            (None, _) => rep.say(format!("release {}: no chart; copied from {old}", r.name)),
        }
    }
    moved_and_removed(base, &mut entry, &new_releases, &mut rep);

    // What the entry now names must exist in the chart.
    for (path, message) in crate::catalog::overlay::check_entry(&entry) {
        rep.say(format!("{path}: {message}"));
        mark_stale(&mut entry, &path, &message);
    }

    let header = vec![
        format!("Imported by `deploygen catalog import {component} {version}`, starting from {old}; then completed by hand."),
        "Every TODO is a fact the chart cannot say: the catalog refuses this entry until none is left.".to_string(),
    ];
    let yaml = write::entry(&header, &entry, &|id| {
        comments.get(id).cloned().unwrap_or_default()
    });
    let value: Value = serde_yaml::from_str(&yaml).map_err(|e| ImportError::Render {
        what: "catalog import".into(),
        message: format!("wrote YAML that does not parse (a deploygen bug): {e}"),
    })?;
    let mut todos = Vec::new();
    crate::catalog::todo::find_todos(&value, "", &mut todos);
    if todos.is_empty() {
        rep.say("nothing left to fill: the entry is usable as written");
    } else {
        rep.say(format!(
            "{} TODO(s) left for a person (the entry is refused until they are filled):",
            todos.len()
        ));
        for (p, t) in &todos {
            rep.say(format!("  {p}: {t}"));
        }
    }
    let mut report = String::new();
    for l in &rep.lines {
        let _ = writeln!(report, "{l}");
    }
    Ok(Outcome {
        entry,
        yaml,
        report,
        todos,
    })
}

/// Replaces a value the new chart no longer has with a TODO naming it.
fn mark_stale(entry: &mut ComponentVersion, path: &str, message: &str) {
    let Some(rest) = path.strip_prefix("releases[") else {
        return;
    };
    let Some((idx, field)) = rest.split_once(']') else {
        return;
    };
    let Ok(i) = idx.parse::<usize>() else { return };
    let Some(r) = entry.releases.get_mut(i) else {
        return;
    };
    let t = todo(format!("{message}: rename or remove it"));
    match field {
        ".deployment_mode_path" => r.deployment_mode_path = Some(t),
        ".domain_path" => r.domain_path = Some(t),
        ".url_scheme_path" => r.url_scheme_path = Some(t),
        f if f.starts_with(".workloads[") => {
            if let Some(w) = f
                .trim_start_matches(".workloads[")
                .split(']')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| r.workloads.get_mut(n))
            {
                w.path = Some(t);
            }
        }
        f if f.starts_with(".values.") => {
            if let Some(v) = &mut r.values {
                chart::set_path(v, &f[".values.".len()..], Value::String(t));
            }
        }
        _ => {}
    }
}

/// The chart being imported for one release, and where it stands.
struct ChartCtx<'a> {
    path: &'a Path,
    /// The chart's private copy, which the renderer reads.
    root: &'a Path,
    /// The chart's files as read.
    chart: &'a chart::ChartDir,
    facts: &'a chart::ChartFacts,
    old: &'a str,
    version: &'a str,
    /// The chart continues no release of the nearest version.
    new_release: bool,
    /// Values path before a runtime's name (`kserve.servingruntime.`), from the component's
    /// `runtime_disabled`: names the runtime of an image set below it.
    runtime_prefix: Option<&'a str>,
}

/// The upstream folder a chart source names (`kserve/kserve@v0.16.0:charts/kserve-resources`
/// -> `kserve-resources`).
fn upstream_folder(source: &str) -> Option<&str> {
    let path = source.split_once(':').map(|(_, p)| p)?;
    let path = path.split_whitespace().next()?.trim_end_matches('/');
    path.rsplit('/').next().filter(|f| !f.is_empty())
}

/// A chart source with its last folder replaced.
fn with_folder(source: &str, folder: &str) -> String {
    match source.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{folder}"),
        None => format!("{source}/{folder}"),
    }
}

/// Off-by-default switches a new chart needs to render the images it took over: a `…enabled`
/// key whose default is false, above a key that set one of those images before (KServe's
/// `kserve.servingruntime.enabled` in `kserve-runtime-configs`).
fn switches_for(
    keys: &[(String, Option<Value>)],
    all_keys: &BTreeSet<String>,
    old_images: &[CatalogImage],
) -> Vec<String> {
    let image_keys: BTreeSet<String> = old_images
        .iter()
        .flat_map(|i| i.set.iter().flat_map(set_keys))
        .filter(|k| all_keys.contains(k))
        .collect();
    keys.iter()
        .filter(|(_, v)| matches!(v, Some(Value::Bool(false))))
        .filter_map(|(k, _)| {
            let parent = k.strip_suffix(".enabled")?;
            image_keys
                .iter()
                .any(|ik| ik.starts_with(&format!("{parent}.")))
                .then(|| k.clone())
        })
        .collect()
}

fn import_chart(
    r: &mut ReleaseEntry,
    old_r: &ReleaseEntry,
    prefer: &[CatalogImage],
    ctx: &ChartCtx,
    renderer: &dyn Renderer,
    rep: &mut Report,
    comments: &mut BTreeMap<String, Vec<String>>,
) -> Result<(), ImportError> {
    let ChartCtx {
        path,
        root,
        facts,
        old,
        version,
        ..
    } = *ctx;
    let name = &r.name;
    rep.say(format!(
        "release {name}: chart {} {} from {} (appVersion {}, kubeVersion {}, dependencies: {})",
        facts.name,
        facts.version,
        path.display(),
        facts.app_version.as_deref().unwrap_or("none"),
        facts.kube_version.as_deref().unwrap_or("none"),
        if facts.dependencies.is_empty() {
            "none".to_string()
        } else {
            facts.dependencies.join(", ")
        }
    ));
    if let Some(c) = &mut r.chart {
        c.version = facts.version.clone();
        c.source = subst(&c.source, old, version);
        // The digest of the archive read (none for a folder): the nearest version's would
        // pin another archive.
        c.digest = ctx.chart.digest.clone();
    }
    r.images_source = r.images_source.as_ref().map(|s| subst(s, old, version));
    let defaults = chart::default_values(ctx.chart)?;
    let empty = Value::Mapping(Default::default());
    let mut base_values = r.values.clone().unwrap_or_else(|| empty.clone());
    let ns = r.namespace.clone();

    // The chart's defaults against its own schema: a chart that refuses them has a defect.
    let strict = renderer.render(root, &ns, &empty, false);
    let refuses_defaults = match &strict {
        Ok(_) => false,
        Err(e) => match renderer.render(root, &ns, &empty, true) {
            Ok(_) => {
                rep.say(format!("release {name}: the chart refuses its own default values unless schema validation is skipped: {e}"));
                true
            }
            Err(e2) => {
                return Err(ImportError::Render {
                    what: format!("{} (chart {})", path.display(), facts.name),
                    message: format!("does not render with its default values: {e2}"),
                })
            }
        },
    };
    let schema_defects: Vec<&ChartDefect> = old_r
        .defects
        .iter()
        .filter(|d| d.fix == DefectFix::SkipSchemaValidation)
        .collect();
    if refuses_defaults && schema_defects.is_empty() {
        r.defects.push(ChartDefect {
            id: format!("{name}-values-schema"),
            helm: semver::VersionReq::STAR,
            why: todo("the chart refuses its default values under its values.schema.json: say why, and narrow `helm` to the Helm versions it bites in"),
            source: todo("the upstream issue"),
            fix: DefectFix::SkipSchemaValidation,
        });
    } else if !refuses_defaults && !schema_defects.is_empty() {
        let ids: Vec<&str> = schema_defects.iter().map(|d| d.id.as_str()).collect();
        rep.say(format!("release {name}: defect {} is fixed in {version}: the chart's defaults pass its schema; dropped", ids.join(", ")));
        r.defects
            .retain(|d| d.fix != DefectFix::SkipSchemaValidation);
    } else if refuses_defaults {
        for d in &mut r.defects {
            d.source = subst(&d.source, old, version);
        }
        rep.say(format!(
            "release {name}: defect(s) {} still present",
            schema_defects
                .iter()
                .map(|d| d.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let skip = refuses_defaults;

    // Images of the defaults alone (the catalog's values may switch some off).
    let default_images: BTreeSet<String> = match renderer.render(root, &ns, &empty, skip) {
        Ok(t) => discover::uses_of("defaults", &t)
            .map_err(|m| ImportError::Render {
                what: path.display().to_string(),
                message: m,
            })?
            .into_iter()
            .filter(|u| u.inactive.is_none() && u.reference != "auto")
            .map(|u| qualify(&u.reference))
            .collect(),
        Err(_) => BTreeSet::new(),
    };

    // Candidate keys.
    let mut keys: Vec<(String, Option<Value>)> = Vec::new();
    chart::value_keys(&defaults, "", &mut keys);
    let schema = chart::schema_keys(ctx.chart)?;
    let templates = chart::template_keys(ctx.chart)?;
    let non_leaf: BTreeSet<String> = keys
        .iter()
        .filter(|(_, v)| {
            v.as_ref().is_none_or(|v| {
                v.is_sequence() || v.is_mapping() && !v.as_mapping().is_some_and(|m| m.is_empty())
            })
        })
        .map(|(k, _)| k.clone())
        .collect();
    let mut all_keys: BTreeSet<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    all_keys.extend(schema.iter().cloned());
    all_keys.extend(templates.iter().cloned());
    // Istio nests its defaults under `_internal_defaults_do_not_set` (1.24+) or `defaults`
    // (1.21-1.23), and users set them without that prefix (its zzz_profile.yaml merges them).
    for wrapper in ["_internal_defaults_do_not_set", "defaults"] {
        if templates.contains(wrapper) {
            let stripped: Vec<String> = all_keys
                .iter()
                .filter_map(|k| k.strip_prefix(&format!("{wrapper}.")).map(str::to_string))
                .collect();
            all_keys.extend(stripped);
        }
    }
    if ctx.new_release && r.values.is_none() {
        for k in switches_for(&keys, &all_keys, &old_r.images) {
            rep.say(format!(
                "releases.{name}.values.{k}: switched on (the chart's default is false): the images this chart took over render only with it"
            ));
            chart::set_path(&mut base_values, &k, Value::Bool(true));
        }
        if base_values != empty {
            r.values = Some(base_values.clone());
        }
    }
    let mut candidates: BTreeSet<String> = all_keys
        .iter()
        .filter(|k| discover::is_candidate(k) && !non_leaf.contains(*k))
        .filter(|k| !all_keys.iter().any(|o| o.starts_with(&format!("{k}."))))
        .cloned()
        .collect();
    for img in old_r.images.iter().chain(prefer) {
        for s in &img.set {
            for k in set_keys(s) {
                candidates.insert(k);
            }
        }
    }
    let d =
        discover::discover(renderer, root, &ns, &base_values, skip, &candidates).map_err(|m| {
            ImportError::Render {
                what: format!("{} (chart {})", path.display(), facts.name),
                message: m,
            }
        })?;
    rep.say(format!(
        "release {name}: {} image(s) rendered; {} candidate key(s) probed, {} moved an image, {} did not render with a sentinel",
        d.images.len(),
        d.probed,
        d.effective.len(),
        d.failed.len()
    ));
    for (k, why) in &d.inactive {
        rep.say(format!("  not listed: {k}: inactive as rendered ({why})"));
    }
    for k in default_images.iter().filter(|k| !d.images.contains_key(*k)) {
        rep.say(format!("  not listed: {k}: only with the chart's defaults (the catalog's values switch it off)"));
    }

    // Images, in the nearest version's order, then new ones.
    let hubs = discover::hub_counts(&d.images);
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut matched: BTreeMap<String, CatalogImage> = BTreeMap::new();
    for f in d.images.values() {
        let old_img = match_old(&f.reference, prefer, version, version)
            .or_else(|| match_old(&f.reference, &old_r.images, old, version));
        if let Some(o) = old_img {
            if !taken.contains(&o.id) {
                taken.insert(o.id.clone());
                matched.insert(f.reference.clone(), o.clone());
            }
        }
    }
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for f in d.images.values() {
        let id = match matched.get(&f.reference) {
            Some(o) => o.id.clone(),
            None => {
                let id = new_id(&r.name, &f.reference, &taken);
                taken.insert(id.clone());
                id
            }
        };
        ids.insert(f.reference.clone(), id);
    }
    let mut images: Vec<CatalogImage> = Vec::new();
    let mut found: Vec<&Found> = d.images.values().collect();
    let pos = |f: &Found| {
        matched
            .get(&f.reference)
            .and_then(|o| {
                prefer
                    .iter()
                    .chain(&old_r.images)
                    .position(|i| i.id == o.id)
            })
            .unwrap_or(usize::MAX)
    };
    found.sort_by(|a, b| (pos(a), &a.reference).cmp(&(pos(b), &b.reference)));
    for f in found {
        let id = ids[&f.reference].clone();
        // A tag that moves cannot be listed or mirrored as what runs; a runtime that uses it
        // stays switched off (`runtime_disabled`), so nothing pulls it.
        if let Err(e) = crate::base::image::ImageRef::parse(&f.reference) {
            rep.say(format!(
                "  not listed: {} {e}{}",
                f.reference,
                if f.runtimes.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (used by {}: switched off unless an environment names it, which the catalog then refuses)",
                        f.runtimes.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                }
            ));
            continue;
        }
        let old_img = matched.get(&f.reference);
        let preferred = old_img.map(|o| o.set.clone());
        let choice = discover::choose(f, preferred.as_deref(), &hubs);
        let set = match choice {
            Choice::Set(s) => {
                if let Some(o) = old_img {
                    if o.set != s {
                        rep.say(format!(
                            "  {id}: set-location moved: {} -> {}",
                            describe(&o.set),
                            describe(&s)
                        ));
                    }
                }
                s
            }
            Choice::Derived(keys) => {
                // The image whose exact keys these are.
                let owner = d.images.values().find(|o| {
                    o.reference != f.reference
                        && o.moves.iter().any(|m| !m.derived && keys.contains(&m.key))
                });
                match owner {
                    Some(o) => vec![SetAt::Follows(ids[&o.reference].clone())],
                    None => vec![unset(
                        &f.reference,
                        &format!("only derived from {}", keys.join(", ")),
                    )],
                }
            }
            Choice::Partial(keys) => {
                rep.say(format!(
                    "  {id}: keys move only part of {}: {}",
                    f.reference,
                    keys.join(", ")
                ));
                vec![unset(
                    &f.reference,
                    &format!("keys move only part of it ({})", keys.join(", ")),
                )]
            }
            Choice::Unset => {
                rep.say(format!("  FLAG {id}: {}: no values key moves it: it cannot be mirrored by values (used at {})", f.reference, f.uses.join("; ")));
                vec![unset(&f.reference, "no values key moves it")]
            }
        };
        let runtime = old_img.and_then(|o| o.runtime.clone()).or_else(|| {
            // A new runtime is named by the key that sets it (kserve.servingruntime.<name>.image).
            let by_key = ctx.runtime_prefix.and_then(|prefix| {
                set.iter().flat_map(set_keys).find_map(|k| {
                    k.strip_prefix(prefix)
                        .and_then(|rest| rest.split('.').next())
                        .map(str::to_string)
                })
            });
            by_key.or_else(|| {
                (!f.runtimes.is_empty()).then(|| {
                    todo(format!(
                        "the KServe runtime name of this image (used by {})",
                        f.runtimes.iter().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })
            })
        });
        if old_img.is_none() {
            rep.say(format!(
                "  added: {id} {} (used at {})",
                f.reference,
                f.uses.first().cloned().unwrap_or_default()
            ));
            comments
                .entry(id.clone())
                .or_default()
                .push(format!("New in {version}: found by rendering the chart."));
        }
        images.push(CatalogImage {
            id,
            reference: f.reference.clone(),
            runtime,
            set,
        });
    }
    r.images = images;
    let mut values_keys: BTreeSet<String> = all_keys;
    values_keys.extend(d.effective.iter().cloned());
    r.values_keys = values_keys.into_iter().collect();
    Ok(())
}

/// Where images of the nearest version went: kept in their release, moved to another release
/// of the new version (KServe's runtimes to `kserve-runtime-configs`), or gone. A moved image
/// is never reported as removed, and the release it moved to needs the one it left. The
/// runtime switch follows the runtimes.
fn moved_and_removed(
    base: &ComponentVersion,
    entry: &mut ComponentVersion,
    new_releases: &[String],
    rep: &mut Report,
) {
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for old_r in &base.releases {
        let Some(now) = entry.releases.iter().find(|r| r.name == old_r.name) else {
            continue;
        };
        for o in &old_r.images {
            if now.images.iter().any(|i| i.id == o.id) {
                continue;
            }
            let elsewhere = entry.releases.iter().find_map(|r| {
                r.images
                    .iter()
                    .find(|i| i.id == o.id)
                    .map(|i| (r.name.clone(), i.clone()))
            });
            match elsewhere {
                Some((to, i)) => {
                    rep.say(format!(
                        "  moved: {} from release {} ({}) to release {to} ({}), set at {}",
                        o.id,
                        old_r.name,
                        o.reference,
                        i.reference,
                        describe(&i.set)
                    ));
                    if new_releases.contains(&to) {
                        needs
                            .entry(to)
                            .or_default()
                            .insert(format!("{}/{}", old_r.namespace, old_r.name));
                    }
                }
                None => rep.say(format!(
                    "  removed: {} {} (release {} no longer renders it)",
                    o.id, o.reference, old_r.name
                )),
            }
        }
    }
    for r in entry.releases.iter_mut() {
        if !new_releases.contains(&r.name) {
            continue;
        }
        match needs.remove(&r.name) {
            Some(n) => r.needs = n.into_iter().collect(),
            None => {
                r.needs = vec![todo(format!(
                    "the releases {} must follow (`namespace/name`), or []",
                    r.name
                ))]
            }
        }
    }
    // A runtime switch whose keys left its chart goes where the runtimes went.
    let moves: Vec<(usize, String)> = entry
        .releases
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let p = r.runtime_disabled.as_ref()?;
            (!r.values_keys.is_empty() && !switches_anything(p, r)).then(|| (i, p.clone()))
        })
        .collect();
    for (i, pattern) in moves {
        let from = entry.releases[i].name.clone();
        entry.releases[i].runtime_disabled = None;
        match entry
            .releases
            .iter_mut()
            .find(|r| switches_anything(&pattern, r))
        {
            Some(to) => {
                rep.say(format!(
                    "  runtime_disabled `{pattern}` moved from release {from} to release {} (its runtimes went there)",
                    to.name
                ));
                to.runtime_disabled = Some(pattern);
            }
            None => rep.say(format!(
                "  runtime_disabled `{pattern}` of release {from} matches no values key of the new charts: dropped (runtimes can no longer be switched off)"
            )),
        }
    }
}

/// Whether a runtime switch pattern matches any of a release's chart's values keys.
fn switches_anything(pattern: &str, r: &ReleaseEntry) -> bool {
    crate::catalog::runtime_switches(pattern, &r.values_keys).is_some_and(|f| !f.is_empty())
}

/// Each pull-secret key the nearest version knew, proved again on the new chart: the chart is
/// rendered with the key set to a probe secret, and the key is kept only when the probe shows
/// up. Otherwise it becomes a located TODO naming the keys of that name the chart has now,
/// so a moved or vanished key is never dropped silently.
fn prove_pull_secrets(
    r: &mut ReleaseEntry,
    ctx: &ChartCtx,
    renderer: &dyn Renderer,
    rep: &mut Report,
) {
    const PROBE: &str = "deploygen-pull-secret-probe";
    let base = r
        .values
        .clone()
        .unwrap_or_else(|| Value::Mapping(Default::default()));
    let skip = r
        .defects
        .iter()
        .any(|d| d.fix == DefectFix::SkipSchemaValidation);
    let name = r.name.clone();
    let keys = r.values_keys.clone();
    for (i, p) in r.pull_secrets.iter_mut().enumerate() {
        let probe = match p.form {
            crate::catalog::PullSecretForm::Names => {
                Value::Sequence(vec![Value::String(PROBE.into())])
            }
            crate::catalog::PullSecretForm::Objects => {
                let mut m = serde_yaml::Mapping::new();
                m.insert(Value::String("name".into()), Value::String(PROBE.into()));
                Value::Sequence(vec![Value::Mapping(m)])
            }
        };
        let mut values = base.clone();
        chart::set_path(&mut values, &p.path, probe);
        let shown = renderer
            .render(ctx.root, &r.namespace, &values, skip)
            .map(|t| t.contains(PROBE))
            .unwrap_or(false);
        let at = format!("releases.{name}.pull_secrets[{i}]");
        if shown {
            p.source = subst(&p.source, ctx.old, ctx.version);
            rep.say(format!(
                "{at}: {} re-proved on {} {}: a render with it set carries the secret",
                p.path, ctx.facts.name, ctx.facts.version
            ));
            continue;
        }
        let leaf = p.path.rsplit('.').next().unwrap_or(&p.path);
        let alike: Vec<&str> = keys
            .iter()
            .filter(|k| k.rsplit('.').next() == Some(leaf) && **k != p.path)
            .map(String::as_str)
            .collect();
        let what = if keys.contains(&p.path) {
            "is still a key of the chart, but a render with it set carries no secret"
        } else {
            "is gone from the chart"
        };
        let hint = if alike.is_empty() {
            format!(
                "no key named {leaf} is left: remove the entry if the chart has no pull secrets"
            )
        } else {
            format!(
                "keys named {leaf} now: {}; prove one by rendering and set it here",
                alike.join(", ")
            )
        };
        rep.say(format!("{at}: {} {what}; {hint}", p.path));
        p.path = todo(format!(
            "{} {what} in {} {} ({hint})",
            p.path, ctx.facts.name, ctx.facts.version
        ));
    }
}

fn unset(reference: &str, why: &str) -> SetAt {
    SetAt::Values(ValuesKeys::Reference {
        reference: todo(format!(
            "{reference}: {why}; it cannot be mirrored by values: find its key or drop the image"
        )),
    })
}

fn describe(s: &[SetAt]) -> String {
    s.iter().map(SetAt::describe).collect::<Vec<_>>().join(", ")
}

fn set_keys(s: &SetAt) -> Vec<String> {
    match s {
        SetAt::Values(ValuesKeys::RepositoryTag { repository, tag }) => {
            vec![repository.clone(), tag.clone()]
        }
        SetAt::Values(ValuesKeys::Reference { reference }) => vec![reference.clone()],
        SetAt::Values(ValuesKeys::RepositoryDigest { repository, digest }) => {
            vec![repository.clone(), digest.clone()]
        }
        SetAt::Hub { hub, tag } => vec![hub.clone(), tag.clone()],
        _ => vec![],
    }
}

/// Objects of every `.yaml` file in a kodata folder, sorted by name.
fn read_objects(
    kodata: &Kodata,
    rel: &str,
) -> Result<Vec<crate::audit::manifest::Object>, ImportError> {
    let mut out = Vec::new();
    for (name, bytes) in kodata.files_in(rel) {
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let f = kodata.label(&format!("{rel}/{name}"));
        let text = std::str::from_utf8(bytes).map_err(|_| ImportError::Chart {
            path: f.clone(),
            message: "is not UTF-8".into(),
        })?;
        let objs = crate::audit::manifest::read(&f.display().to_string(), text, &|_| None)
            .map_err(|e| ImportError::Chart {
                path: f.clone(),
                message: e.to_string(),
            })?;
        out.extend(objs);
    }
    Ok(out)
}

/// The override key of each image the operator deploys: `<workload>/<container>` where a
/// container name is shared by different images (or always, with `qualified`), else the
/// container name; a caching Image by its name; a ConfigMap key by `spec.config`.
fn operator_sets(
    objects: &[crate::audit::manifest::Object],
    qualified: bool,
) -> BTreeMap<String, Vec<SetAt>> {
    let mut uses = crate::audit::images::collect(objects);
    uses.extend(crate::audit::operator::applied_extra_images(objects));
    let container = |path: &str| {
        path.split_once("containers[")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(n, _)| n.to_string())
    };
    let mut by_container: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for u in &uses {
        if let Some(c) = container(&u.path) {
            by_container
                .entry(c)
                .or_default()
                .insert(qualify(&u.reference));
        }
    }
    let mut out: BTreeMap<String, Vec<SetAt>> = BTreeMap::new();
    for u in &uses {
        let q = qualify(&u.reference);
        let workload = u.object.rsplit('/').next().unwrap_or("").to_string();
        let set = if let Some(c) = container(&u.path) {
            if qualified || by_container.get(&c).is_some_and(|s| s.len() > 1) {
                SetAt::KnativeOverride(format!("{workload}/{c}"))
            } else {
                SetAt::KnativeOverride(c)
            }
        } else if u.object.starts_with("Image ") {
            SetAt::KnativeOverride(workload)
        } else if u.object.starts_with("ConfigMap ") {
            let cm = workload
                .strip_prefix("config-")
                .unwrap_or(&workload)
                .to_string();
            let key = u.path.strip_prefix("data.").unwrap_or(&u.path).to_string();
            SetAt::KnativeConfig { configmap: cm, key }
        } else {
            continue;
        };
        let list = out.entry(q).or_default();
        if !list.contains(&set) {
            list.push(set);
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(|s| matches!(s, SetAt::KnativeConfig { .. }));
    }
    out
}

/// The operator tag a kodata folder belongs to (`…/knative-operator-kodata/v1.17.8`).
fn operator_tag(kodata: &Path) -> String {
    kodata
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "?".into())
}

fn serving_from_kodata(
    r: &mut ReleaseEntry,
    old_r: &ReleaseEntry,
    prefer: &[CatalogImage],
    kodata: &Kodata,
    version: &str,
    rep: &mut Report,
) -> Result<(), ImportError> {
    let rel = format!("knative-serving/{version}");
    let dir = kodata.label(&rel);
    let names = kodata.names(&rel);
    if names.is_empty() {
        return Err(ImportError::Usage(format!(
            "{}: no such folder: this kodata does not bundle Knative Serving {version}",
            dir.display()
        )));
    }
    let objects = read_objects(kodata, &rel)?;
    let sets = operator_sets(&objects, false);
    let tag = operator_tag(&kodata.path);
    let files: Vec<&str> = names
        .into_iter()
        .map(|n| n.trim_end_matches(".yaml"))
        .collect();
    let mut images = Vec::new();
    let mut taken = BTreeSet::new();
    for (reference, set) in &sets {
        let old = match_old(reference, prefer, version, version).or_else(|| {
            old_r
                .images
                .iter()
                .find(|i| repository_of(&i.reference) == repository_of(reference))
        });
        let id = match old {
            Some(o) => o.id.clone(),
            None => {
                let id = new_id("knative", reference, &taken);
                rep.say(format!("  added: {id} {reference}"));
                id
            }
        };
        if let Some(o) = old {
            if &o.set != set {
                rep.say(format!(
                    "  {id}: set-location moved: {} -> {}",
                    describe(&o.set),
                    describe(set)
                ));
            }
        }
        taken.insert(id.clone());
        images.push(CatalogImage {
            id,
            reference: reference.clone(),
            runtime: None,
            set: set.clone(),
        });
    }
    let pos = |i: &CatalogImage| {
        old_r
            .images
            .iter()
            .position(|o| o.id == i.id)
            .unwrap_or(usize::MAX)
    };
    images.sort_by(|a, b| (pos(a), &a.reference).cmp(&(pos(b), &b.reference)));
    for o in &old_r.images {
        if !images.iter().any(|i| i.id == o.id) {
            rep.say(format!(
                "  removed: {} (not in {version}'s manifests)",
                o.id
            ));
        }
    }
    rep.say(format!(
        "release {}: {} image(s) from {}",
        r.name,
        images.len(),
        dir.display()
    ));
    r.images = images;
    r.images_source = Some(format!(
        "knative/operator@knative-{tag}:cmd/operator/kodata/knative-serving/{version}/{{{}}}.yaml",
        files.join(",")
    ));
    Ok(())
}

/// What an operator version installs, from its kodata folder.
fn operator_installs(
    kodata: &Kodata,
    old: &Installs,
    old_version: &str,
    version: &str,
    rep: &mut Report,
) -> Result<Installs, ImportError> {
    let tag = operator_tag(&kodata.path);
    if tag != version {
        rep.say(format!(
            "note: --kodata {} is named {tag}, not {version}",
            kodata.path.display()
        ));
    }
    let serving_dir = kodata.label("knative-serving");
    let mut servings: Vec<semver::Version> = kodata
        .names("knative-serving")
        .into_iter()
        .filter_map(|n| crate::base::version::parse_lenient(n).ok())
        .collect();
    servings.sort();
    let (Some(lowest), Some(max)) = (servings.first().cloned(), servings.last().cloned()) else {
        return Err(ImportError::Usage(format!(
            "{}: no Serving versions",
            serving_dir.display()
        )));
    };
    // The operator bundles its own Serving minor and the three before it ("The Knative
    // Operator always includes the latest 3 release versions", knative.dev
    // install/operator/configuring-serving-cr), and accepts any `spec.version` of those
    // minors: the lowest is `1.(N-3).0` whatever a copied kodata folder holds.
    let min = semver::Version::new(max.major, max.minor.saturating_sub(3), 0);
    let present: BTreeSet<u64> = servings.iter().map(|v| v.minor).collect();
    let missing: Vec<String> = (min.minor..=max.minor)
        .filter(|m| !present.contains(m))
        .map(|m| format!("{}.{m}", max.major))
        .collect();
    if !missing.is_empty() {
        rep.say(format!(
            "installs.serving: {} lacks Serving {} of the four minors the operator bundles: a partial copy; the span is taken from the operator's policy, not the folder",
            serving_dir.display(),
            missing.join(", ")
        ));
    }
    if lowest.minor < min.minor {
        rep.say(format!(
            "installs.serving: {} holds Serving {lowest}, older than the operator's four minors ({min} up)",
            serving_dir.display()
        ));
    }
    if let Ok(op) = crate::base::version::parse_lenient(version) {
        if op.minor != max.minor {
            rep.say(format!(
                "installs.serving: the newest Serving in the folder is {max}, but operator {version} ships Serving {}.{}: the folder is partial at the top",
                op.major, op.minor
            ));
        }
    }
    let mut net_istio = BTreeMap::new();
    for minor in kodata.names("ingress") {
        let rel = format!("ingress/{minor}/istio");
        if kodata.names(&rel).is_empty() {
            continue;
        }
        let objects = read_objects(kodata, &rel)?;
        let ni_version = objects
            .iter()
            .find_map(|o| {
                o.at("metadata.labels")
                    .and_then(|l| l.get("app.kubernetes.io/version"))
                    .and_then(|v| v.as_str())
            })
            .unwrap_or("?")
            .to_string();
        let sets = operator_sets(&objects, true);
        let mut images: Vec<CatalogImage> = sets
            .into_iter()
            .map(|(reference, set)| {
                let id = match set.first() {
                    Some(SetAt::KnativeOverride(k)) => k.split('/').next().unwrap_or(k).to_string(),
                    _ => new_id("net-istio", &reference, &BTreeSet::new()),
                };
                CatalogImage {
                    id,
                    reference,
                    runtime: None,
                    set,
                }
            })
            .collect();
        images.sort_by(|a, b| a.id.cmp(&b.id));
        net_istio.insert(
            minor.to_string(),
            NetIstio {
                version: ni_version,
                images,
            },
        );
    }
    rep.say(format!(
        "installs: Serving {min} to {max} (newest in {}; the operator bundles four minors)",
        serving_dir.display()
    ));
    let _ = (old, old_version);
    Ok(Installs {
        serving: VersionSpan { min, max },
        source: format!("knative/operator@knative-{version}:cmd/operator/kodata/knative-serving/ (newest Serving); knative.dev install/operator/configuring-serving-cr (\"The Knative Operator always includes the latest 3 release versions\")"),
        net_istio,
        net_istio_source: format!(
            "knative/operator@knative-{version}:cmd/operator/kodata/ingress/<minor>/istio/net-istio.yaml (app.kubernetes.io/version label and image digests)"
        ),
    })
}

/// Compares the images and set-locations of two entries: the lines that differ (empty when
/// they agree). Ids, references, runtimes and set-locations per release.
pub fn compare_images(got: &ComponentVersion, want: &ComponentVersion) -> Vec<String> {
    let mut out = Vec::new();
    let show = |i: &CatalogImage| {
        format!(
            "{} [{}]{}",
            i.reference,
            describe(&i.set),
            i.runtime
                .as_ref()
                .map(|r| format!(" runtime {r}"))
                .unwrap_or_default()
        )
    };
    for w in &want.releases {
        let Some(g) = got.releases.iter().find(|g| g.name == w.name) else {
            out.push(format!("release {}: not imported", w.name));
            continue;
        };
        let gm: BTreeMap<&str, &CatalogImage> =
            g.images.iter().map(|i| (i.reference.as_str(), i)).collect();
        let wm: BTreeMap<&str, &CatalogImage> =
            w.images.iter().map(|i| (i.reference.as_str(), i)).collect();
        for (r, wi) in &wm {
            match gm.get(r) {
                None => out.push(format!(
                    "release {}: {} is in the catalog, not in the render",
                    w.name,
                    show(wi)
                )),
                Some(gi) if gi.set != wi.set => out.push(format!(
                    "release {}: {}: catalog sets it at [{}], the render shows [{}]",
                    w.name,
                    r,
                    describe(&wi.set),
                    describe(&gi.set)
                )),
                _ => {}
            }
        }
        for (r, gi) in &gm {
            if !wm.contains_key(r) {
                out.push(format!(
                    "release {}: {} is rendered, not in the catalog",
                    w.name,
                    show(gi)
                ));
            }
        }
    }
    if let (Some(g), Some(w)) = (&got.installs, &want.installs) {
        for (minor, wn) in &w.net_istio {
            match g.net_istio.get(minor) {
                Some(gn)
                    if gn
                        .images
                        .iter()
                        .map(|i| (&i.reference, &i.set))
                        .collect::<Vec<_>>()
                        != wn
                            .images
                            .iter()
                            .map(|i| (&i.reference, &i.set))
                            .collect::<Vec<_>>() =>
                {
                    out.push(format!(
                        "installs.net_istio.{minor}: images differ from the kodata"
                    ))
                }
                None => out.push(format!("installs.net_istio.{minor}: not in the kodata")),
                _ => {}
            }
        }
    }
    out
}
