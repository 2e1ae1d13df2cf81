//! Values trees: what each wrapper chart sets by default and what each environment overrides.
//! Built as JSON values (sorted maps) and serialized through serde, so no string from the
//! matrix is ever spliced into YAML text.

use serde_json::{json, Map, Value};

use crate::base::error::Result;
use crate::catalog::{SetAt, ValuesKeys};
use crate::model::matrix::Resources;
use crate::plan::{EnvPlan, Plan, Release};

use super::glue::KNATIVE_SERVING_KEY;

/// Sets `value` at a dotted path below `root`, creating maps on the way.
pub fn set_path(root: &mut Value, dotted: &str, value: Value) {
    let parts: Vec<&str> = dotted.split('.').collect();
    set_parts(root, &parts, value);
}

fn set_parts(root: &mut Value, parts: &[&str], value: Value) {
    let Some((first, rest)) = parts.split_first() else {
        *root = value;
        return;
    };
    if !root.is_object() {
        *root = Value::Object(Map::new());
    }
    if let Value::Object(map) = root {
        let slot = map.entry(first.to_string()).or_insert(Value::Null);
        set_parts(slot, rest, value);
    }
}

/// The word `release`'s chart takes for a deployment mode: the catalog's words for its
/// version (KServe v0.16 renamed them), else the matrix's own.
pub fn mode_word(release: &Release, mode: crate::model::matrix::DeploymentMode) -> &str {
    match (&release.entry.deployment_mode_words, mode) {
        (Some(w), crate::model::matrix::DeploymentMode::Serverless) => &w.serverless,
        (Some(w), crate::model::matrix::DeploymentMode::RawDeployment) => &w.raw_deployment,
        (None, m) => m.as_str(),
    }
}

/// (runtime, values path) of every serving runtime switch the chart has: the catalog's
/// `runtime_disabled` pattern matched against the chart's values keys.
pub fn runtime_switches(release: &Release) -> Vec<(String, String)> {
    release
        .entry
        .runtime_switches_in(&release.entry.values_keys)
        .unwrap_or_default()
}

/// Upstream values the wrapper chart always sets (catalog `values`), nested under the
/// dependency name.
pub fn chart_defaults(release: &Release) -> Value {
    let mut root = Value::Object(Map::new());
    if let (Some(key), Some(values)) = (release.values_root(), &release.entry.values) {
        let v = serde_json::to_value(values).unwrap_or(Value::Null);
        set_path(&mut root, key, v);
    }
    root
}

fn resources_value(r: &Resources) -> Value {
    json!({
        "requests": {"cpu": r.requests.cpu, "memory": r.requests.memory},
        "limits": {"cpu": r.limits.cpu, "memory": r.limits.memory},
    })
}

/// The values file helmfile feeds `release` in `env`.
pub fn environment_values(plan: &Plan, env: &EnvPlan, release: &Release) -> Value {
    let mut root = Value::Object(Map::new());
    if !env.installs(&release.name) {
        return root;
    }
    // Paths from the catalog are relative to the upstream chart: nest them under its name.
    let prefix = release
        .values_root()
        .map(|k| format!("{k}."))
        .unwrap_or_default();
    let at = |p: &str| format!("{prefix}{p}");

    if let Some(path) = &release.entry.deployment_mode_path {
        set_path(
            &mut root,
            &at(path),
            json!(mode_word(release, env.env.deployment_mode)),
        );
    }
    // Every serving runtime the chart has and the environment does not name is switched off,
    // so a runtime is served only where the matrix says so, whatever the chart's default.
    for (runtime, path) in runtime_switches(release) {
        if !env.env.serving_runtimes.contains(&runtime) {
            set_path(&mut root, &at(&path), json!(true));
        }
    }
    // The KnativeServing glue chart holds Serving's config (domain, tag resolution).
    let carries_knative_serving = release
        .entry
        .glue
        .contains(&super::glue::Feature::KnativeServing);
    let tls = &env.env.operations.tls;
    if let Some(path) = &release.entry.domain_path {
        set_path(&mut root, &at(path), json!(tls.domain));
    }
    if let Some(path) = &release.entry.url_scheme_path {
        let scheme = if tls.https { "https" } else { "http" };
        set_path(&mut root, &at(path), json!(scheme));
    }
    if carries_knative_serving {
        // Knative's domain (KServe's default is example.com) and its host shape, one label
        // under the domain as in RawDeployment (model::gateway::KNATIVE_DOMAIN_TEMPLATE).
        set_parts(
            &mut root,
            &[KNATIVE_SERVING_KEY, "config", "domain", &tls.domain],
            json!(""),
        );
        set_parts(
            &mut root,
            &[KNATIVE_SERVING_KEY, "config", "network", "domain-template"],
            json!(crate::model::gateway::KNATIVE_DOMAIN_TEMPLATE),
        );
    }
    if let Value::Object(map) = &mut root {
        map.extend(super::glue::environment(release, env));
    }

    let profile = plan.matrix.profiles.get(&env.env.profile);
    let mut knative_workloads = Vec::new();
    for w in &release.entry.workloads {
        let Some(res) = profile.and_then(|p| p.get(&w.id)) else {
            continue;
        };
        if let Some(path) = &w.path {
            set_path(&mut root, &at(path), resources_value(res));
        }
        if let Some(kw) = &w.knative_workload {
            let mut r = resources_value(res);
            if let Value::Object(m) = &mut r {
                m.insert("container".into(), json!(kw.container));
            }
            knative_workloads.push(json!({"name": kw.name, "resources": [r]}));
        }
    }
    if carries_knative_serving
        && env.env.operations.mtls.mode != crate::model::matrix::MtlsMode::Off
    {
        // mTLS: the activator forwards requests into the model namespaces, whose pods accept
        // only mesh traffic under STRICT; its own sidecar makes it a mesh client (Knative's
        // guidance for Istio mTLS). The label selects istiod's object-level injection.
        let labels = json!({"sidecar.istio.io/inject": "true"});
        match knative_workloads
            .iter_mut()
            .find(|w| w.get("name").and_then(Value::as_str) == Some("activator"))
        {
            Some(Value::Object(w)) => {
                w.insert("labels".into(), labels);
            }
            _ => knative_workloads.push(json!({"name": "activator", "labels": labels})),
        }
    }
    if !knative_workloads.is_empty() {
        set_path(
            &mut root,
            &format!("{KNATIVE_SERVING_KEY}.workloads"),
            Value::Array(knative_workloads),
        );
    }

    // Site choices (gateway exposure, pull secrets), then the matrix's overrides, merged last.
    for (path, v) in crate::plan::site::values(release, env) {
        set_path(&mut root, &at(&path), v);
    }
    if let Some(mirror) = env.mirror() {
        write_images(&mut root, env, release, &at);
        if carries_knative_serving {
            // The controller resolves image tags to digests by asking the registry; it must
            // not try that against the mirror (plain HTTP, private CA) on an offline site.
            let host = mirror.split('/').next().unwrap_or(mirror);
            let skip = format!("kind.local,ko.local,dev.local,{host}");
            config_entry(
                &mut root,
                "deployment",
                "registries-skipping-tag-resolving",
                json!(skip),
            );
        }
    }
    if let (Some(over), Some(key)) = (env.env.overrides.get(&release.name), release.values_root()) {
        let mut nested = Value::Object(Map::new());
        set_parts(&mut nested, &[key], over.clone());
        crate::plan::site::merge(&mut root, &nested);
    }
    root
}

/// Writes every image of `release` at the keys the catalog names, with the reference the
/// environment pulls (the mirror's).
fn write_images(root: &mut Value, env: &EnvPlan, release: &Release, at: &dyn Fn(&str) -> String) {
    for img in env.images.iter().filter(|i| i.app == release.name) {
        let t = &img.target;
        for s in &img.set {
            match s {
                SetAt::Values(ValuesKeys::RepositoryTag { repository, tag }) => {
                    set_path(root, &at(repository), json!(t.repository()));
                    set_path(root, &at(tag), json!(t.tag.clone().unwrap_or_default()));
                }
                SetAt::Values(ValuesKeys::Reference { reference }) => {
                    set_path(root, &at(reference), json!(t.to_string()));
                }
                SetAt::Values(ValuesKeys::RepositoryDigest { repository, digest }) => {
                    set_path(root, &at(repository), json!(t.repository()));
                    set_path(
                        root,
                        &at(digest),
                        json!(t.digest.clone().unwrap_or_default()),
                    );
                }
                SetAt::Hub { hub, tag } => {
                    set_path(root, &at(hub), json!(t.hub()));
                    set_path(root, &at(tag), json!(t.tag.clone().unwrap_or_default()));
                }
                SetAt::KnativeOverride(key) => {
                    set_parts(
                        root,
                        &[KNATIVE_SERVING_KEY, "registry", "override", key],
                        json!(t.to_string()),
                    );
                }
                SetAt::KnativeConfig { configmap, key } => {
                    config_entry(root, configmap, key, json!(t.to_string()));
                }
                SetAt::Follows(_) => {}
            }
        }
    }
}

/// `knativeServing.config.<configmap>.<key>`; keys hold dots, so no dotted path here.
fn config_entry(root: &mut Value, configmap: &str, key: &str, value: Value) {
    set_parts(
        root,
        &[KNATIVE_SERVING_KEY, "config", configmap, key],
        value,
    );
}

/// The top-level key of the stack's own helmfile environment values. A parent helmfile passes
/// its values down to the stack (Astrago: `values: [{{ toYaml .Values }}]`) and they override
/// the stack's, so the stack's conditions read only keys under this one, and `check` refuses a
/// parent whose environment values define it (`cli::parent`).
pub const OWN_VALUES_KEY: &str = "deploygen";

/// `deploygen.knative.enabled` and friends: the helmfile environment values (what `condition:`
/// reads).
pub fn helmfile_environment(env: &EnvPlan) -> Value {
    json!({
        OWN_VALUES_KEY: {
            "knative": {"enabled": env.env.deployment_mode.uses_knative()},
            "deploymentMode": env.env.deployment_mode.as_str(),
        }
    })
}

/// Reads a value at a dotted path (tests and the image-record proof use it).
pub fn get_path<'a>(root: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(root, |v, k| v.get(k))
}

/// The body of release `release`'s `.yaml.gotmpl` values file in environment `env`, whose
/// values planned as the environment is are `values` (see `plan::binding::gotmpl_file`). A
/// bound mirror whose empty value means the upstream registries also carries the values
/// planned online.
pub fn gotmpl_body(
    plan: &Plan,
    env: &EnvPlan,
    release: &Release,
    values: &Value,
) -> Result<String> {
    let online = env
        .env
        .mirror
        .as_ref()
        .is_some_and(crate::model::mirror::Mirror::online_when_empty)
        .then(|| environment_values(plan, &crate::plan::binding::online(env), release));
    crate::plan::binding::gotmpl_file(env.bound_value(), values, online.as_ref())
}
