//! CustomResourceDefinitions: versions served and stored, fields removed from a version's
//! schema, conversion. Existing custom resources may stop validating or lose fields.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::finding::{Class, Finding};
use super::objects::{name_of, Pairs};
use super::rbac::summary;
use crate::audit::manifest::Object;

/// version name -> (served, storage, schema).
fn versions(o: Option<&Object>) -> BTreeMap<String, (bool, bool, Option<&Value>)> {
    o.and_then(|o| o.at("spec.versions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let name = v.get("name")?.as_str()?.to_string();
            let served = v.get("served").and_then(Value::as_bool).unwrap_or(true);
            let storage = v.get("storage").and_then(Value::as_bool).unwrap_or(false);
            let schema = v.get("schema").and_then(|s| s.get("openAPIV3Schema"));
            Some((name, (served, storage, schema)))
        })
        .collect()
}

/// Every field path a schema declares (`spec.predictor.model`, `spec.items[]`,
/// `metadata.labels{}`).
pub fn fields(schema: &Value, path: &str, out: &mut BTreeSet<String>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            out.insert(p.clone());
            fields(v, &p, out);
        }
    }
    if let Some(items) = schema.get("items") {
        fields(items, &format!("{path}[]"), out);
    }
    if let Some(more) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        fields(more, &format!("{path}{{}}"), out);
    }
}

/// The conversion that matters: strategy, and the webhook's service and versions (not its
/// CA bundle, which cert-manager or the controller injects).
fn conversion(o: Option<&Object>) -> Value {
    let mut c = o
        .and_then(|o| o.at("spec.conversion"))
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(cc) = c
        .get_mut("webhook")
        .and_then(|w| w.get_mut("clientConfig"))
        .and_then(Value::as_object_mut)
    {
        cc.remove("caBundle");
    }
    if c.get("strategy").and_then(Value::as_str) == Some("None") && c.get("webhook").is_none() {
        return Value::Null;
    }
    c
}

pub fn check(p: &Pairs) -> Vec<Finding> {
    let mut out = Vec::new();
    for (_, b, a) in p.of_kinds(&["CustomResourceDefinition"]) {
        let object = name_of(b, a);
        let vb = versions(b);
        let va = versions(a);
        if a.is_none() {
            let served: Vec<&str> = vb
                .iter()
                .filter(|(_, v)| v.0)
                .map(|(n, _)| n.as_str())
                .collect();
            out.push(Finding::new(
                Class::CrdVersionRemoved,
                &object,
                "",
                format!(
                    "the CRD is gone: served versions {} no longer exist (its custom resources go with it)",
                    served.join(", ")
                ),
            ));
            continue;
        }
        if b.is_none() {
            continue; // new CRD: an object added
        }
        for (name, (served, storage, schema)) in &vb {
            match va.get(name) {
                None if *served => out.push(Finding::new(
                    Class::CrdVersionRemoved,
                    &object,
                    "spec.versions",
                    format!("version {name} is removed (it was served{})", if *storage { " and the storage version" } else { "" }),
                )),
                None => out.push(Finding::new(
                    Class::CrdVersionRemoved,
                    &object,
                    "spec.versions",
                    format!("version {name} (not served) is removed: objects stored at {name} can no longer be read"),
                )),
                Some((s2, _, _)) if *served && !s2 => out.push(Finding::new(
                    Class::CrdVersionRemoved,
                    &object,
                    format!("spec.versions[{name}].served"),
                    format!("version {name} is no longer served"),
                )),
                Some((_, _, schema2)) => {
                    let mut before = BTreeSet::new();
                    let mut after = BTreeSet::new();
                    if let Some(s) = schema {
                        fields(s, "", &mut before);
                    }
                    if let Some(s) = schema2 {
                        fields(s, "", &mut after);
                    }
                    // A removed field's children are not listed again.
                    let mut removed: Vec<String> = Vec::new();
                    for f in before.difference(&after) {
                        if !removed.iter().any(|r| f.starts_with(&format!("{r}.")) || f.starts_with(&format!("{r}[")) || f.starts_with(&format!("{r}{{"))) {
                            removed.push(f.clone());
                        }
                    }
                    if schema.is_some() && schema2.is_some() && !removed.is_empty() {
                        out.push(
                            Finding::new(
                                Class::CrdFieldRemoved,
                                &object,
                                format!("spec.versions[{name}].schema.openAPIV3Schema"),
                                format!(
                                    "{} field(s) removed from version {name}: {}",
                                    removed.len(),
                                    summary(&removed)
                                ),
                            )
                            .with_details(removed),
                        );
                    }
                }
            }
        }
        for (name, (served, _, _)) in &va {
            match vb.get(name) {
                None => out.push(Finding::new(
                    Class::CrdVersionAdded,
                    &object,
                    "spec.versions",
                    format!(
                        "version {name} is added{}",
                        if *served { "" } else { " (not served)" }
                    ),
                )),
                Some((false, _, _)) if *served => out.push(Finding::new(
                    Class::CrdVersionAdded,
                    &object,
                    format!("spec.versions[{name}].served"),
                    format!("version {name} is served now"),
                )),
                _ => {}
            }
        }
        let storage = |v: &BTreeMap<String, (bool, bool, Option<&Value>)>| {
            v.iter().find(|(_, x)| x.1).map(|(n, _)| n.clone())
        };
        let (sb, sa) = (storage(&vb), storage(&va));
        if sb != sa {
            out.push(Finding::new(
                Class::CrdStorageChanged,
                &object,
                "spec.versions[].storage",
                format!(
                    "the storage version changes from {} to {}: existing objects stay stored at the old version until rewritten (status.storedVersions)",
                    sb.unwrap_or_else(|| "none".into()),
                    sa.unwrap_or_else(|| "none".into())
                ),
            ));
        }
        let (cb, ca) = (conversion(b), conversion(a));
        if cb != ca {
            let show = |c: &Value| match c {
                Value::Null => "none".to_string(),
                c => serde_json::to_string(c).unwrap_or_default(),
            };
            out.push(Finding::new(
                Class::CrdConversionChanged,
                &object,
                "spec.conversion",
                format!("{} -> {}", show(&cb), show(&ca)),
            ));
        }
    }
    out
}
