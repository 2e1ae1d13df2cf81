//! Fields a custom resource sets that its CRD's schema does not define. The API server prunes
//! them from a structural schema (kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/
//! custom-resource-definitions/#field-pruning): the object is stored without them, so the
//! setting silently does nothing (and `kubectl apply`, whose field validation is Strict since
//! Kubernetes 1.27, refuses the object: #field-validation). A renamed key in a
//! `KnativeServing`'s `spec.ingress.istio` (only `enabled`, `knative-ingress-gateway` and
//! `knative-local-gateway` exist) or a typo in a Certificate's spec is found here.
//!
//! Pruning keeps what the schema allows: a node's `properties`, anything under
//! `x-kubernetes-preserve-unknown-fields: true` or an `additionalProperties` schema, and
//! `apiVersion`/`kind`/`metadata` of the root and of `x-kubernetes-embedded-resource` nodes.
//! Only CRDs in the input are read (a render without `--include-crds` gets no finding).

use serde_json::Value;

use super::manifest::Object;
use super::report::Findings;

/// The schema of `group/version` `kind` from a CRD of the input.
fn schema_of<'a>(crds: &[&'a Object], group: &str, version: &str, kind: &str) -> Option<&'a Value> {
    let crd = crds.iter().find(|c| {
        c.str_at("spec.group") == Some(group) && c.str_at("spec.names.kind") == Some(kind)
    })?;
    crd.at("spec.versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(version))?
        .get("schema")?
        .get("openAPIV3Schema")
}

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

/// Walks `v` against `schema`, reporting each pruned key with its path.
fn walk(v: &Value, schema: &Value, path: &str, root: bool, out: &mut Vec<(String, Vec<String>)>) {
    if preserves(schema) {
        return;
    }
    match v {
        Value::Object(map) => {
            let embedded = root
                || schema
                    .get("x-kubernetes-embedded-resource")
                    .and_then(Value::as_bool)
                    == Some(true);
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (k, child) in map {
                let child_path = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if embedded && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                if root && k == "status" {
                    continue;
                }
                if let Some(s) = props.and_then(|p| p.get(k)) {
                    walk(child, s, &child_path, false, out);
                } else if let Some(a) = additional {
                    if a.is_object() {
                        walk(child, a, &child_path, false, out);
                    } else if a.as_bool() == Some(false) {
                        out.push((child_path, known(props)));
                    }
                } else if props.is_some() {
                    out.push((child_path, known(props)));
                }
                // A node with neither properties nor additionalProperties is not an object
                // schema this walk can judge (a type mismatch is the API server's to refuse).
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item, s, &format!("{path}[{i}]"), false, out);
                }
            }
        }
        _ => {}
    }
}

fn known(props: Option<&serde_json::Map<String, Value>>) -> Vec<String> {
    props
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

pub fn check(objects: &[Object], f: &mut Findings) {
    let crds: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "CustomResourceDefinition" && o.group() == "apiextensions.k8s.io")
        .collect();
    if crds.is_empty() {
        return;
    }
    for o in objects.iter().filter(|o| !o.group().is_empty()) {
        let version = o.api_version.rsplit('/').next().unwrap_or("");
        let Some(schema) = schema_of(&crds, o.group(), version, &o.kind) else {
            continue;
        };
        let mut pruned = Vec::new();
        walk(&o.body, schema, "", true, &mut pruned);
        for (path, fields) in pruned {
            let field = path.rsplit('.').next().unwrap_or(&path);
            let field = field.split('[').next().unwrap_or(field);
            f.fail(
                "api",
                o,
                &path,
                format!(
                    "`{field}` is not a field of {} {} (its CRD's schema; fields here: {}): the API server prunes it, so the setting does nothing; fix the key",
                    o.api_version,
                    o.kind,
                    if fields.is_empty() { "none".to_string() } else { fields.join(", ") }
                ),
            );
        }
    }
}
