//! Finding every image reference in rendered objects, with where it is written. Besides pod
//! templates this covers what charts hand to controllers as data: KServe's runtimes and its
//! `inferenceservice-config` ConfigMap, Istio's sidecar injector, image arguments
//! (`--acme-http01-solver-image=`) and image environment variables.

use serde_json::Value;

use super::manifest::Object;
use crate::model::input::{precheck_as, MANIFESTS};
use crate::model::yaml::json_document;
use crate::plan::{EnvPlan, PlannedImage};

/// One image reference found in an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    /// `Kind namespace/name` of the object that holds it.
    pub object: String,
    /// Field path inside the object (or a description, for operator-managed images).
    pub path: String,
    /// The reference as written.
    pub reference: String,
    /// Why this reference is never pulled as rendered (None: it is).
    pub inactive: Option<String>,
}

/// The note for an image of a serving runtime the environment does not enable: it says the
/// reference was rewritten to the mirror only where the environment has one.
pub fn disabled_runtime(reference: &str, p: &PlannedImage, env: &EnvPlan) -> String {
    let runtime = p.runtime.as_deref().unwrap_or("?");
    match env.mirror() {
        Some(m) => format!(
            "{reference} belongs to serving runtime {runtime}, not enabled in {}: rewritten to the mirror {m}, not shipped",
            env.name
        ),
        None => format!(
            "{reference} belongs to serving runtime {runtime}, not enabled in {}: not pulled, and not in its image list",
            env.name
        ),
    }
}

// The pod templates of the built-in kinds, for `review` (the audit reads every pod through
// `pods::pods`).
pub use super::pods::{containers, pod_labels, pod_specs};

fn container_uses(o: &Object, pod: &super::pods::Pod, out: &mut Vec<ImageUse>) {
    for c in pod.containers() {
        let at = &c.at;
        let c = c.value;
        if let Some(image) = c.get("image").and_then(Value::as_str) {
            out.push(ImageUse {
                object: o.id(),
                path: format!("{at}.image"),
                reference: image.to_string(),
                inactive: pod.inactive.clone(),
            });
        }
        // Controllers that start other pods take their images as flags or variables.
        for (i, arg) in c
            .get("args")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                c.get("command")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            )
            .enumerate()
        {
            if let Some((flag, value)) = arg.as_str().and_then(|a| a.split_once('=')) {
                if flag.starts_with("--") && flag.ends_with("-image") && !value.is_empty() {
                    out.push(ImageUse {
                        object: o.id(),
                        path: format!("{at}.args[{i}] ({flag})"),
                        reference: value.to_string(),
                        inactive: pod.inactive.clone(),
                    });
                }
            }
        }
        for env in c.get("env").and_then(Value::as_array).into_iter().flatten() {
            let var = env.get("name").and_then(Value::as_str).unwrap_or("");
            if let Some(value) = env.get("value").and_then(Value::as_str) {
                if var.ends_with("_IMAGE") && looks_like_reference(value) {
                    out.push(ImageUse {
                        object: o.id(),
                        path: format!("{at}.env[{var}]"),
                        reference: value.to_string(),
                        inactive: pod.inactive.clone(),
                    });
                }
            }
        }
    }
}

/// A value that is an image reference rather than a flag or a word (`registry/path:tag`).
fn looks_like_reference(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace) && (s.contains('/') || s.contains(':'))
}

/// KServe's `inferenceservice-config`: each data key is JSON; every `image` (with
/// `defaultImageVersion` as its tag when it has none) and `*Image` field is a reference.
fn inferenceservice_config(o: &Object, out: &mut Vec<ImageUse>) {
    let Some(data) = o.at("data").and_then(Value::as_object) else {
        return;
    };
    for (key, text) in data {
        let Some(json) = text
            .as_str()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
        else {
            continue;
        };
        // localModel's job image is used only when the local model cache is enabled.
        let inactive = (key == "localModel"
            && json.get("enabled").and_then(Value::as_bool) != Some(true))
        .then(|| "localModel.enabled is false: KServe's local model cache is off".to_string());
        walk_json(&json, &format!("data.{key}"), &mut |path, field, obj| {
            let Some(image) = obj.get(field).and_then(Value::as_str) else {
                return;
            };
            let reference = match obj.get("defaultImageVersion").and_then(Value::as_str) {
                Some(tag) if field == "image" && !has_tag_or_digest(image) => {
                    format!("{image}:{tag}")
                }
                _ => image.to_string(),
            };
            out.push(ImageUse {
                object: o.id(),
                path: format!("{path}.{field}"),
                reference,
                inactive: inactive.clone(),
            });
        });
    }
}

/// Calls `f(path, field, object)` for every field named `image` or ending in `Image`.
fn walk_json(v: &Value, path: &str, f: &mut dyn FnMut(&str, &str, &Value)) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if (k == "image" || k.ends_with("Image")) && child.is_string() {
                    f(path, k, v);
                } else {
                    walk_json(child, &format!("{path}.{k}"), f);
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                walk_json(child, &format!("{path}[{i}]"), f);
            }
        }
        _ => {}
    }
}

fn has_tag_or_digest(image: &str) -> bool {
    image.contains('@') || image.rsplit('/').next().is_some_and(|n| n.contains(':'))
}

/// Istio's `istio-sidecar-injector`: the proxy image every sidecar and gateway gets
/// (`global.hub`/`global.proxy.image`:`global.tag`), and literal images inside injection
/// templates, active only when a default template or a rendered pod uses that template.
fn sidecar_injector(o: &Object, used_templates: &[String], out: &mut Vec<ImageUse>) {
    if let Some(values) = o
        .str_at("data.values")
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    {
        let global = &values["global"];
        let hub = global["hub"].as_str().unwrap_or("");
        let tag = global["tag"].as_str().unwrap_or("");
        for key in ["proxy", "proxy_init"] {
            if let Some(image) = global[key]["image"].as_str() {
                let reference = if image.contains('/') {
                    image.to_string()
                } else {
                    format!("{hub}/{image}:{tag}")
                };
                out.push(ImageUse {
                    object: o.id(),
                    path: format!("data.values: global.hub + global.{key}.image + global.tag"),
                    reference,
                    inactive: None,
                });
            }
        }
    }
    // The injector's config is YAML inside the stream: it passes the same door (a config the
    // door refuses is read as one that does not parse).
    let Some(config) = o
        .str_at("data.config")
        .filter(|t| precheck_as("data.config", t.as_bytes(), &MANIFESTS).is_ok())
        .and_then(|t| json_document(t).ok().flatten())
    else {
        return;
    };
    let defaults: Vec<&str> = config["defaultTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some(templates) = config["templates"].as_object() else {
        return;
    };
    for (name, text) in templates {
        let Some(text) = text.as_str() else { continue };
        for line in text.lines() {
            let Some(image) = line.trim().strip_prefix("image:") else {
                continue;
            };
            let image = image.trim().trim_matches('"');
            if image.contains("{{") {
                continue; // the proxy image above
            }
            let active = defaults.contains(&name.as_str()) || used_templates.contains(name);
            out.push(ImageUse {
                object: o.id(),
                path: format!("data.config: templates.{name}"),
                reference: image.to_string(),
                inactive: (!active).then(|| {
                    format!(
                        "injection template `{name}` is opt-in (not a default template, and no rendered pod asks for it with inject.istio.io/templates)"
                    )
                }),
            });
        }
    }
}

/// Injection templates rendered pods ask for (`inject.istio.io/templates`).
fn requested_templates(objects: &[Object]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let path = match o.kind.as_str() {
            "Pod" => "metadata.annotations",
            "CronJob" => "spec.jobTemplate.spec.template.metadata.annotations",
            _ => "spec.template.metadata.annotations",
        };
        if let Some(list) = o.at(path).and_then(|a| a.get("inject.istio.io/templates")) {
            out.extend(
                list.as_str()
                    .unwrap_or("")
                    .split(',')
                    .map(|s| s.trim().to_string()),
            );
        }
    }
    out
}

/// Every image reference in the objects, in input order.
pub fn collect(objects: &[Object]) -> Vec<ImageUse> {
    let used_templates = requested_templates(objects);
    let mut out = Vec::new();
    for o in objects {
        for pod in super::pods::pods(o) {
            container_uses(o, &pod, &mut out);
        }
        match (o.group(), o.kind.as_str(), o.name.as_str()) {
            ("", "ConfigMap", "inferenceservice-config") => inferenceservice_config(o, &mut out),
            ("", "ConfigMap", name) if name.starts_with("istio-sidecar-injector") => {
                sidecar_injector(o, &used_templates, &mut out)
            }
            _ => {}
        }
    }
    out
}

/// The fully qualified form of a reference as a container runtime resolves it
/// (`busybox:1.28` is `docker.io/library/busybox:1.28`).
pub fn qualify(reference: &str) -> String {
    let (first, rest) = match reference.split_once('/') {
        Some((f, r)) => (f, Some(r)),
        None => (reference, None),
    };
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    match rest {
        Some(_) if is_host => reference.to_string(),
        Some(_) => format!("docker.io/{reference}"),
        None => format!("docker.io/library/{reference}"),
    }
}

/// The registry host (and port) of a qualified reference.
pub fn host(qualified: &str) -> &str {
    qualified.split('/').next().unwrap_or("")
}
