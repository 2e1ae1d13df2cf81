//! What the Knative Operator deploys for a rendered `KnativeServing`: its images and objects
//! are not in the Helm output, so the audit derives them, either from the catalog's Serving
//! images (the default) or, with `--operator-manifests`, from the operator's own manifests
//! (its `kodata/` folder), transformed the way the operator transforms them:
//! `spec.registry.override` by `<deployment>/<container>` then `<container>`, or by the name of
//! a caching `Image` (knative/operator pkg/reconciler/common/images.go), and
//! `spec.config.<name>` merged into ConfigMap `config-<name>` (common/config_maps.go).

use std::path::Path;

use serde_json::Value;

use super::images::ImageUse;
use super::manifest::{self, Object, APPLIED_MARK};
use super::report::Findings;
use crate::base::error::Result;
use crate::catalog::SetAt;
use crate::plan::Plan;

/// The KnativeServing resources of the input.
pub fn knative_servings(objects: &[Object]) -> impl Iterator<Item = &Object> {
    objects
        .iter()
        .filter(|o| o.group() == "operator.knative.dev" && o.kind == "KnativeServing")
}

fn override_of<'a>(ks: &'a Object, key: &str) -> Option<&'a str> {
    ks.at("spec.registry.override")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
}

fn config_of<'a>(ks: &'a Object, configmap: &str, key: &str) -> Option<&'a str> {
    ks.at("spec.config")
        .and_then(|c| c.get(configmap))
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
}

/// The (namespace, name) of the Deployments a KnativeServing gives an Istio sidecar (its
/// `spec.workloads` entries labelled `sidecar.istio.io/inject: "true"`).
pub fn sidecar_workloads(objects: &[Object]) -> Vec<(&str, &str)> {
    knative_servings(objects)
        .flat_map(|ks| {
            let ns = ks.namespace.as_deref().unwrap_or("");
            ks.at("spec.workloads")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|w| {
                    manifest::string_map(w.get("labels"))
                        .contains(&("sidecar.istio.io/inject", "true"))
                })
                .filter_map(move |w| w.get("name").and_then(Value::as_str).map(|n| (ns, n)))
        })
        .collect()
}

/// The images the operator will run for `ks`, from the catalog: each Serving (and bundled
/// net-istio) image with the override or config key that sets it, else the operator's default.
pub fn catalog_images(plan: &Plan, ks: &Object) -> Vec<ImageUse> {
    let Some(release) = plan.releases.iter().find(|r| r.name == "knative-serving") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for img in &release.images {
        for set in &img.set {
            let (path, value) = match set {
                SetAt::KnativeOverride(key) => (
                    format!(
                        "spec.registry.override[{key}] (operator-managed {})",
                        img.id
                    ),
                    override_of(ks, key),
                ),
                SetAt::KnativeConfig { configmap, key } => (
                    format!(
                        "spec.config.{configmap}[{key}] (operator-managed {})",
                        img.id
                    ),
                    config_of(ks, configmap, key),
                ),
                _ => continue,
            };
            out.push(ImageUse {
                object: ks.id(),
                path: if value.is_some() {
                    path
                } else {
                    format!("{path}: not set, the operator's default")
                },
                reference: value.unwrap_or(&img.reference).to_string(),
                inactive: None,
            });
        }
    }
    out
}

/// Whether `o` is one the Knative Operator applies (read from its manifests), not rendered.
pub fn is_applied(o: &Object) -> bool {
    o.source
        .as_deref()
        .is_some_and(|s| s.contains(APPLIED_MARK))
}

/// The objects the operator applies for `ks`, read from its kodata folder and transformed. A
/// version the operator does not bundle is a finding (the operator cannot install it), and
/// nothing is read for it.
pub fn applied_objects(kodata: &Path, ks: &Object, f: &mut Findings) -> Result<Vec<Object>> {
    // An unset version already fails against the matrix's pin (audit::audit).
    let Some(version) = ks.str_at("spec.version") else {
        return Ok(Vec::new());
    };
    let minor = version.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
    let mut dirs = vec![(kodata.join("knative-serving"), version.to_string())];
    if ks
        .at("spec.ingress.istio.enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        dirs.push((kodata.join("ingress").join(&minor), "istio".to_string()));
    }
    let mut objects = Vec::new();
    for (parent, name) in dirs {
        let bundled = crate::disk::read::subfolders(&parent)?.unwrap_or_default();
        if !bundled.contains(&name) {
            f.fail(
                "images",
                ks,
                "spec.version",
                format!(
                    "is {version}, but the operator's manifests ({}) hold no {name}/ there (bundled: {}): this operator cannot install it; pin a version it bundles or give the matching operator's kodata",
                    parent.display(),
                    if bundled.is_empty() { "nothing".to_string() } else { bundled.join(", ") }
                ),
            );
            // Without Serving's own objects, net-istio's are not what the cluster gets.
            return Ok(Vec::new());
        }
        let dir = parent.join(&name);
        let files = crate::disk::read::yaml_files_in(&dir, manifest::MAX_MANIFEST_BYTES as u64)?;
        for (file, text) in files {
            let label = file.display().to_string();
            for mut o in manifest::read(&label, &text, &|_| None)? {
                transform(&mut o, ks);
                o.source = Some(format!("{label} {APPLIED_MARK}{})", ks.id()));
                objects.push(o);
            }
        }
    }
    Ok(objects)
}

/// The operator's image and ConfigMap transforms.
fn transform(o: &mut Object, ks: &Object) {
    let parent = o.name.clone();
    if o.group() == "caching.internal.knative.dev" && o.kind == "Image" {
        if let Some(image) = override_of(ks, &parent) {
            o.body["spec"]["image"] = Value::String(image.to_string());
        }
        return;
    }
    if o.kind == "ConfigMap" {
        if let Some(name) = parent.strip_prefix("config-") {
            if let Some(cfg) = ks
                .at("spec.config")
                .and_then(|c| c.get(name))
                .and_then(Value::as_object)
            {
                let data = o.body["data"].as_object_mut();
                if let Some(data) = data {
                    for (k, v) in cfg {
                        data.insert(k.clone(), v.clone());
                    }
                } else {
                    o.body["data"] = Value::Object(cfg.clone());
                }
            }
        }
        return;
    }
    let spec_path: &[&str] = match o.kind.as_str() {
        "Deployment" | "DaemonSet" | "StatefulSet" | "Job" => &["spec", "template", "spec"],
        _ => return,
    };
    // `spec.workloads[].labels` of the entry named like the Deployment go on its pod template
    // (knative/operator pkg/reconciler/common/workload_override.go): a sidecar label.
    if o.kind == "Deployment" {
        for entry in ks
            .at("spec.workloads")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|e| e.get("name").and_then(Value::as_str) == Some(parent.as_str()))
        {
            let labels: Vec<(String, String)> = manifest::string_map(entry.get("labels"))
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            if let Some(map) = o.body["spec"]["template"]["metadata"]["labels"].as_object_mut() {
                for (k, v) in labels {
                    map.insert(k, Value::String(v));
                }
            }
        }
    }
    let mut spec = &mut o.body;
    for k in spec_path {
        spec = &mut spec[*k];
    }
    for list in ["initContainers", "containers"] {
        let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in cs {
            let name = c["name"].as_str().unwrap_or("").to_string();
            let image =
                override_of(ks, &format!("{parent}/{name}")).or_else(|| override_of(ks, &name));
            if let Some(image) = image {
                c["image"] = Value::String(image.to_string());
            }
        }
    }
}

/// Images the operator's objects carry outside pod templates: the caching `Image` resources
/// (pre-pulled queue-proxy) and `config-deployment`'s `queue-sidecar-image`.
pub fn applied_extra_images(objects: &[Object]) -> Vec<ImageUse> {
    let mut out = Vec::new();
    for o in objects {
        if o.group() == "caching.internal.knative.dev" && o.kind == "Image" {
            if let Some(image) = o.str_at("spec.image") {
                out.push(ImageUse {
                    object: o.id(),
                    path: "spec.image".into(),
                    reference: image.into(),
                    inactive: None,
                });
            }
        }
        if o.kind == "ConfigMap" && o.name == "config-deployment" {
            if let Some(image) = o.str_at("data.queue-sidecar-image") {
                out.push(ImageUse {
                    object: o.id(),
                    path: "data.queue-sidecar-image".into(),
                    reference: image.into(),
                    inactive: None,
                });
            }
        }
    }
    out
}
