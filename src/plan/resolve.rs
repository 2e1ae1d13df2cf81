//! Resolution: matrix text parsed, checked (`validate`) and resolved against the catalog into
//! the `Plan` the renderer, `images`, `explain` and `audit` use: components and their
//! releases in install order, and per environment the releases it installs, its images and
//! its rules' verdicts. Every independent problem is collected so one run reports them all;
//! nothing is rendered unless the list is empty.

use crate::base::error::{Error, Problem, Result};
use crate::base::image::ImageRef;
use crate::base::names::{check_dns_label, check_dns_subdomain};
use crate::base::version::{minor_string, parse_lenient};
use crate::catalog::{Catalog, CatalogImage, SetAt};
use crate::model::matrix::{Matrix, COMPONENTS};
use crate::plan::compat;
use crate::plan::validate::{
    check_catalog_images, check_layout, check_operations, check_platform_apis, check_profiles,
    check_registries, check_tools, Problems,
};
use crate::plan::{Component, EnvPlan, Level, Plan, PlannedImage, Release};
use std::collections::{BTreeMap, BTreeSet};

/// Loads, validates and resolves matrix text. Warnings (recommendations not followed) are in
/// the plan's verdicts; errors come back all at once.
pub fn plan_from_text(matrix_file: &str, text: &[u8], catalog: &Catalog) -> Result<Plan> {
    let matrix = crate::model::matrix::parse(matrix_file, text)?;
    build(matrix_file, matrix, catalog).map_err(|e| match e {
        Error::Invalid(mut problems) => {
            // A wrong file can hold thousands of problems: show the first ones, located, and
            // say how many more there are (locating them all was quadratic; found by fuzzing).
            let more = problems.len().saturating_sub(MAX_REPORTED);
            problems.truncate(MAX_REPORTED);
            let text = String::from_utf8_lossy(text);
            let lines: Vec<&str> = text.lines().collect();
            let mut shown: Vec<Problem> = problems
                .into_iter()
                .map(|p| with_line(matrix_file, &lines, p))
                .collect();
            if more > 0 {
                shown.push(Problem {
                    location: crate::base::error::NOTE.to_string(),
                    message: format!("{more} more problems not shown; fix these first"),
                });
            }
            Error::Invalid(shown)
        }
        other => other,
    })
}

/// Problems reported at most in one run.
pub const MAX_REPORTED: usize = 100;

/// `matrix.yaml: a.b` -> `matrix.yaml:12:5: a.b` where the key path can be found.
fn with_line(file: &str, lines: &[&str], mut p: Problem) -> Problem {
    if let Some(path) = p.location.strip_prefix(&format!("{file}: ")) {
        if let Some((line, col)) = crate::base::locate::locate_in(lines, path) {
            p.location = format!("{file}:{line}:{col}: {path}");
        }
    }
    p
}

pub fn build(matrix_file: &str, matrix: Matrix, catalog: &Catalog) -> Result<Plan> {
    let mut p = Problems {
        file: matrix_file,
        list: Vec::new(),
    };
    let components = resolve_components(&matrix, catalog, &mut p);
    check_registries(&matrix, &mut p);
    let releases = match &components {
        Some(c) => resolve_releases(c, &mut p),
        None => Vec::new(),
    };
    check_catalog_images(&matrix, &releases, &mut p);
    check_profiles(&matrix, &releases, &mut p);
    let helm = check_tools(&matrix, &releases, &mut p);
    // Environments resolve side by side (`base::par`), each with its own list of problems,
    // joined in the matrix's order: the report is the same on any number of cores.
    let named: Vec<_> = matrix.environments.iter().collect();
    let resolved = crate::base::par::map(&named, 8, |(name, env)| {
        let mut own = Problems {
            file: matrix_file,
            list: Vec::new(),
        };
        let e = resolve_environment(
            name,
            env,
            &matrix.profiles,
            components.as_deref(),
            &releases,
            &mut own,
        );
        (e, own.list)
    });
    let mut environments = Vec::new();
    for (e, problems) in resolved {
        p.list.extend(problems);
        environments.extend(e);
    }
    if let Some(helm) = &helm {
        for e in &mut environments {
            let extra = compat::defect_verdicts(&e.name, helm, &releases, &e.releases);
            e.verdicts.extend(extra);
        }
    }
    check_gotmpl_keys(&matrix, &mut p);
    check_layout(&matrix, &mut p);
    if matrix.environments.is_empty() {
        p.at(
            "environments",
            "no environment: add at least one (e.g. online, airgap)",
        );
    }
    if !p.list.is_empty() {
        return Err(Error::Invalid(p.list));
    }
    Ok(Plan {
        matrix_file: matrix_file.to_string(),
        matrix,
        components: components.unwrap_or_default(),
        releases,
        environments,
    })
}

/// Where a mirror is bound at install time, every release values file is a `.yaml.gotmpl`
/// (`render::values_are_gotmpl`): an override key it cannot hold is refused here, located,
/// rather than found by the renderer.
fn check_gotmpl_keys(matrix: &Matrix, p: &mut Problems) {
    let bound = matrix
        .environments
        .values()
        .any(|e| e.mirror.as_ref().is_some_and(|m| m.bound_value().is_some()));
    if !bound {
        return;
    }
    let mut found = Vec::new();
    for (name, env) in &matrix.environments {
        for (release, values) in &env.overrides {
            let path = format!("environments.{name}.overrides.{release}");
            crate::plan::binding::gotmpl_key_problems(values, &path, &mut found);
        }
    }
    for (path, message) in found {
        p.at(path, message);
    }
}

fn resolve_components(
    matrix: &Matrix,
    catalog: &Catalog,
    p: &mut Problems,
) -> Option<Vec<Component>> {
    let mut out = Vec::new();
    for (name, version) in matrix.versions.iter() {
        let path = format!("versions.{name}");
        if let Some(bad) = catalog.known_bad(name, version) {
            p.at(
                &path,
                format!(
                    "{name} {version} is known bad: {} (source: {})",
                    bad.why, bad.source
                ),
            );
            continue;
        }
        let semver = match parse_lenient(version) {
            Ok(v) => v,
            Err(e) => {
                p.at(&path, e);
                continue;
            }
        };
        match catalog.get(name, version) {
            Some(entry) => out.push(Component {
                name: name.to_string(),
                version: version.to_string(),
                semver,
                entry: entry.clone(),
            }),
            None => match catalog.pending.get(&(name.to_string(), version.to_string())) {
                // A catalog-directory entry with TODOs left: not usable until they are filled.
                Some(pending) => p.at(
                    &path,
                    format!(
                        "{name} {version} is in {} but not usable yet: fill its {} TODO(s) first: {}",
                        pending.path.display(),
                        pending.todos.len(),
                        pending
                            .todos
                            .iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ),
                None => p.at(
                    &path,
                    format!(
                        "{name} {version} is not in the catalog; known versions: {}",
                        catalog.versions(name).join(", ")
                    ),
                ),
            },
        }
    }
    if out.len() != COMPONENTS.len() {
        return None;
    }
    let (Some(op), Some(serving)) = (
        out.iter().find(|c| c.name == "knative-operator"),
        out.iter().find(|c| c.name == "knative-serving"),
    ) else {
        return None;
    };
    if let Some(installs) = &op.entry.installs {
        let v = &serving.semver;
        let in_span = *v >= installs.serving.min && *v <= installs.serving.max;
        if !in_span || !installs.net_istio.contains_key(&minor_string(v)) {
            p.at(
                "versions.knative-serving",
                format!(
                    "[knative-operator-installs] knative-operator {} installs Knative Serving {} to {}, not {} (source: {})",
                    op.version, installs.serving.min, installs.serving.max, serving.version, installs.source
                ),
            );
            return None;
        }
    }
    Some(out)
}

/// Releases of the pinned components, in install order, with their needs checked.
fn resolve_releases(components: &[Component], p: &mut Problems) -> Vec<Release> {
    let mut releases = Vec::new();
    let serving_minor = components
        .iter()
        .find(|c| c.name == "knative-serving")
        .map(|c| minor_string(&c.semver));
    let net_istio: Vec<CatalogImage> = components
        .iter()
        .filter_map(|c| c.entry.installs.as_ref())
        .filter_map(|i| serving_minor.as_ref().and_then(|m| i.net_istio.get(m)))
        .flat_map(|n| n.images.clone())
        .collect();
    for c in components {
        let range = &c.entry.kubernetes;
        let kube_version = match compat::helm_kube_version(&range.min, range.max.as_deref()) {
            Ok(k) => k,
            Err(e) => {
                p.at(
                    format!("versions.{}", c.name),
                    format!("catalog range: {e}"),
                );
                continue;
            }
        };
        for r in &c.entry.releases {
            let mut images = r.images.clone();
            if c.name == "knative-serving" {
                images.extend(net_istio.iter().cloned());
            }
            releases.push(Release {
                name: r.name.clone(),
                namespace: r.namespace.clone(),
                component: c.name.clone(),
                label: c.entry.label.clone(),
                version: c.version.clone(),
                chart: r.chart.clone(),
                needs: r.needs.clone(),
                kube_version: kube_version.clone(),
                knative_only: !compat::in_use(
                    &c.name,
                    crate::model::matrix::DeploymentMode::RawDeployment,
                ),
                entry: r.clone(),
                images,
            });
        }
    }
    match install_order(&releases) {
        Ok(order) => order.into_iter().map(|i| releases[i].clone()).collect(),
        Err(messages) => {
            for m in messages {
                p.at("versions", m);
            }
            releases
        }
    }
}

/// Topological order of `needs`; among releases ready at once, catalog order wins, so the
/// order is stable. Unknown needs and cycles are errors.
pub fn install_order(releases: &[Release]) -> std::result::Result<Vec<usize>, Vec<String>> {
    let ids: BTreeMap<String, usize> = releases
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id(), i))
        .collect();
    let mut errors = Vec::new();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); releases.len()];
    for (i, r) in releases.iter().enumerate() {
        for need in &r.needs {
            match ids.get(need) {
                Some(&j) => deps[i].push(j),
                None => errors.push(format!(
                    "release {} needs {need}, which no pinned component defines",
                    r.id()
                )),
            }
        }
    }
    if ids.len() != releases.len() {
        errors.push("two releases share one namespace/name".to_string());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Indices below all come from 0..releases.len() (deps were built from `ids`).
    let mut done = vec![false; releases.len()];
    let mut order = Vec::new();
    while order.len() < releases.len() {
        let next = (0..releases.len()).find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]));
        match next {
            Some(i) => {
                done[i] = true;
                order.push(i);
            }
            None => {
                let stuck: Vec<String> = (0..releases.len())
                    .filter(|&i| !done[i])
                    .map(|i| releases[i].id())
                    .collect();
                return Err(vec![format!(
                    "needs form a cycle among {}",
                    stuck.join(", ")
                )]);
            }
        }
    }
    Ok(order)
}

fn resolve_environment(
    name: &str,
    env: &crate::model::matrix::Environment,
    profiles: &BTreeMap<String, crate::model::matrix::Profile>,
    components: Option<&[Component]>,
    releases: &[Release],
    p: &mut Problems,
) -> Option<EnvPlan> {
    let at = |k: &str| format!("environments.{name}{k}");
    let before = p.list.len();
    if let Err(e) = check_dns_label(name) {
        p.at(at(""), e);
    }
    let kube = match parse_lenient(&env.cluster.kubernetes) {
        Ok(v) => Some(v),
        Err(e) => {
            p.at(at(".cluster.kubernetes"), e);
            None
        }
    };
    if let Err(e) = check_dns_subdomain(&env.cluster.storage_class) {
        p.at(at(".cluster.storage_class"), e);
    }
    if !profiles.contains_key(&env.profile) {
        let hint = crate::base::suggest::hint(&env.profile, profiles.keys().map(String::as_str));
        let all: Vec<&str> = profiles.keys().map(String::as_str).collect();
        p.at(
            at(".profile"),
            format!(
                "unknown profile `{}`{hint}; profiles: {}",
                env.profile,
                all.join(", ")
            ),
        );
    }
    match &env.mirror {
        Some(crate::model::mirror::Mirror::Fixed(m)) => {
            if let Err(e) = crate::model::mirror::check_mirror(m) {
                p.at(at(".mirror"), e);
            }
        }
        Some(crate::model::mirror::Mirror::Bound(b)) => {
            if let Err(e) = crate::model::mirror::check_value_path(&b.from_value) {
                p.at(at(".mirror.from_value"), e);
            }
        }
        None => {}
    }
    {
        let mut site = Vec::new();
        crate::plan::site::check(env, releases, &at, &mut site);
        for (path, message) in site {
            p.at(path, message);
        }
    }
    let runtimes: BTreeSet<&str> = releases
        .iter()
        .flat_map(|r| r.images.iter().filter_map(|i| i.runtime.as_deref()))
        .collect();
    let mut seen = BTreeSet::new();
    for (i, rt) in env.serving_runtimes.iter().enumerate() {
        if !releases.is_empty() && !runtimes.contains(rt.as_str()) {
            let hint = crate::base::suggest::hint(rt, runtimes.iter().copied());
            let all: Vec<&str> = runtimes.iter().copied().collect();
            p.at(
                at(&format!(".serving_runtimes[{i}]")),
                format!(
                    "unknown serving runtime `{rt}`{hint}; known: {}",
                    all.join(", ")
                ),
            );
        }
        if !seen.insert(rt) {
            p.at(
                at(&format!(".serving_runtimes[{i}]")),
                format!("`{rt}` is listed twice"),
            );
        }
    }
    let mut extra = Vec::new();
    for (i, x) in env.extra_images.iter().enumerate() {
        let path = at(&format!(".extra_images[{i}]"));
        if let Err(e) = check_dns_label(&x.list) {
            p.at(format!("{path}.list"), e);
        }
        if x.why.trim().is_empty() {
            p.at(format!("{path}.why"), "say why the image is needed");
        }
        match ImageRef::parse(&x.image) {
            Ok(r) => extra.push((x.list.clone(), r)),
            Err(e) => p.at(
                format!("{path}.image"),
                format!("`{}` {e}", x.image.escape_debug()),
            ),
        }
    }
    let rule_ids = components.map(compat::rule_ids).unwrap_or_default();
    for (i, a) in env.accept.iter().enumerate() {
        let path = at(&format!(".accept[{i}]"));
        if components.is_some() && !rule_ids.contains(&a.rule) {
            let hint = crate::base::suggest::hint(&a.rule, rule_ids.iter().map(String::as_str));
            p.at(
                format!("{path}.rule"),
                format!(
                    "unknown rule `{}`{hint}; `deploygen explain` lists the rules",
                    a.rule
                ),
            );
        }
        if a.reason.trim().is_empty() {
            p.at(
                format!("{path}.reason"),
                "an accepted rule needs a written reason",
            );
        }
    }
    check_operations(env, &at, p);
    check_platform_apis(env, &at, p);
    let (Some(components), Some(kube)) = (components, kube) else {
        return None;
    };
    let verdicts = compat::evaluate(name, env, &kube, components);
    for v in verdicts.iter().filter(|v| v.level == Level::Fail) {
        p.at(
            at(""),
            format!("[{}] {} (source: {})", v.rule, v.message, v.source),
        );
    }
    let installed: Vec<String> = releases
        .iter()
        .filter(|r| compat::in_use(&r.component, env.deployment_mode))
        .map(|r| r.name.clone())
        .collect();
    for r in releases.iter().filter(|r| installed.contains(&r.name)) {
        for need in &r.needs {
            let needed = releases.iter().find(|o| &o.id() == need);
            if needed.is_some_and(|o| !installed.contains(&o.name)) {
                p.at(
                    at(".deployment_mode"),
                    format!(
                        "release {} needs {need}, which environment {name} does not install ({})",
                        r.id(),
                        env.deployment_mode.as_str()
                    ),
                );
            }
        }
    }
    let mut capacity_problems = Vec::new();
    crate::plan::capacity::compute(
        env,
        profiles.get(&env.profile),
        releases,
        &installed,
        &mut capacity_problems,
    );
    for (path, message) in capacity_problems {
        p.at(at(&path), message);
    }
    let images = plan_images(name, env, releases, &installed, &extra, p);
    if p.list.len() > before {
        return None;
    }
    Some(EnvPlan {
        name: name.to_string(),
        env: env.clone(),
        kubernetes: kube,
        releases: installed,
        images,
        verdicts,
    })
}

fn plan_images(
    env_name: &str,
    env: &crate::model::matrix::Environment,
    releases: &[Release],
    installed: &[String],
    extra: &[(String, ImageRef)],
    p: &mut Problems,
) -> Vec<PlannedImage> {
    let at = format!("environments.{env_name}");
    let target = |src: &ImageRef| match &env.mirror {
        Some(m) => src.mirrored(m.planned()),
        None => src.clone(),
    };
    let mut out = Vec::new();
    for r in releases.iter().filter(|r| installed.contains(&r.name)) {
        for img in &r.images {
            let Ok(source) = ImageRef::parse(&img.reference) else {
                continue;
            };
            let shipped = img
                .runtime
                .as_ref()
                .is_none_or(|rt| env.serving_runtimes.contains(rt));
            out.push(PlannedImage {
                app: r.name.clone(),
                component: r.label.clone(),
                id: img.id.clone(),
                target: target(&source),
                source,
                set: img.set.clone(),
                runtime: img.runtime.clone(),
                shipped,
            });
        }
    }
    for (list, source) in extra {
        out.push(PlannedImage {
            app: list.clone(),
            component: "extra".into(),
            id: source.name().to_string(),
            target: target(source),
            source: source.clone(),
            set: Vec::new(),
            runtime: None,
            shipped: true,
        });
    }
    // Two sources landing on one mirror reference would overwrite each other in the mirror.
    let mut by_target: BTreeMap<String, &PlannedImage> = BTreeMap::new();
    for img in &out {
        if let Some(prev) = by_target.insert(img.target.to_string(), img) {
            if prev.source != img.source {
                p.at(
                    &at,
                    format!(
                        "{} and {} both become {} in the mirror; they would overwrite each other",
                        prev.source, img.source, img.target
                    ),
                );
            }
        }
    }
    // Images sharing one hub key (Istio) must agree on its value.
    let mut hubs: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for img in &out {
        for s in &img.set {
            if let SetAt::Hub { hub, tag } = s {
                let value = (img.target.hub(), img.target.tag.clone().unwrap_or_default());
                if let Some(prev) = hubs.insert((img.app.clone(), hub.clone()), value.clone()) {
                    if prev != value {
                        p.at(
                            &at,
                            format!(
                                "images of {} disagree on {hub}/{tag}: {prev:?} vs {value:?}",
                                img.app
                            ),
                        );
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_plan_parts() -> (Matrix, Vec<Component>, Vec<Release>) {
        let text = include_str!("../../matrix.yaml");
        let matrix = crate::model::matrix::parse("matrix.yaml", text.as_bytes()).unwrap();
        let catalog = Catalog::load().unwrap();
        let mut p = Problems {
            file: "matrix.yaml",
            list: Vec::new(),
        };
        let components = resolve_components(&matrix, &catalog, &mut p).unwrap();
        let releases = resolve_releases(&components, &mut p);
        assert!(p.list.is_empty());
        (matrix, components, releases)
    }

    /// Environments resolved side by side report their problems in the matrix's order, the
    /// same on one thread as on many, and every environment that resolves is planned.
    #[test]
    fn problems_of_many_environments_come_in_the_matrix_order_whatever_the_threads() {
        let text = include_str!("../../matrix.yaml");
        let mut m: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let online = m["environments"]["online"].clone();
        let envs = m["environments"].as_mapping_mut().unwrap();
        envs.clear();
        for i in 0..40 {
            let mut e = online.clone();
            if i % 3 == 0 {
                e["cluster"]["storage_class"] = format!("Bad_{i:02}").into();
            }
            envs.insert(format!("e{i:02}").into(), e);
        }
        let text = serde_yaml::to_string(&m).unwrap();
        let catalog = Catalog::load().unwrap();
        let run = || match plan_from_text("matrix.yaml", text.as_bytes(), &catalog) {
            Err(Error::Invalid(list)) => {
                list.iter().map(|p| p.location.clone()).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        let parallel = run();
        let serial = crate::base::par::serially(run);
        assert_eq!(parallel, serial);
        let bad: Vec<String> = (0..40)
            .filter(|i| i % 3 == 0)
            .map(|i| format!("e{i:02}"))
            .collect();
        let named: Vec<String> = parallel
            .iter()
            .filter_map(|l| l.split("environments.").nth(1))
            .map(|rest| rest.split('.').next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(named, bad, "{parallel:#?}");
        // Without the mistakes, all forty are planned, in order.
        let good = text.replace("Bad_", "bad-");
        let plan = plan_from_text("matrix.yaml", good.as_bytes(), &catalog).unwrap();
        let names: Vec<&str> = plan.environments.iter().map(|e| e.name.as_str()).collect();
        let expected: Vec<String> = (0..40).map(|i| format!("e{i:02}")).collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn a_need_on_a_release_the_environment_leaves_out_is_an_error() {
        let (matrix, components, mut releases) = default_plan_parts();
        let kserve = releases.iter().position(|r| r.name == "kserve").unwrap();
        releases[kserve]
            .needs
            .push("knative-serving/knative-serving".into());
        let mut env = matrix.environments["online"].clone();
        env.deployment_mode = crate::model::matrix::DeploymentMode::RawDeployment;
        let mut p = Problems {
            file: "matrix.yaml",
            list: Vec::new(),
        };
        let got = resolve_environment(
            "online",
            &env,
            &matrix.profiles,
            Some(&components),
            &releases,
            &mut p,
        );
        assert!(got.is_none());
        assert_eq!(p.list.len(), 1, "{:?}", p.list);
        assert_eq!(
            p.list[0].location,
            "matrix.yaml: environments.online.deployment_mode"
        );
        assert_eq!(
            p.list[0].message,
            "release kserve/kserve needs knative-serving/knative-serving, which environment online does not install (RawDeployment)"
        );
    }
}
