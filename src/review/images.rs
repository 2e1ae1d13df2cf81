//! Images: every reference audit's image model finds (pod templates, runtimes, KServe's and
//! Istio's config maps, image flags and variables), keyed by the object and field that holds
//! it. A field whose reference differs is a change; one only in AFTER an addition, only in
//! BEFORE a removal. With an environment, each new reference is checked against its mirror
//! and image lists. The Knative Operator's CRs hand it images too (`spec.registry.override`,
//! the queue-proxy image): those are read as well.

use std::collections::BTreeMap;

use serde_json::Value;

use super::context::Context;
use super::finding::{Class, Finding};
use crate::audit::images::{collect, qualify, ImageUse};
use crate::audit::manifest::Object;

/// (object, field) -> reference.
fn by_place(uses: &[ImageUse]) -> BTreeMap<(&str, &str), &str> {
    uses.iter()
        .filter(|u| u.reference != "auto") // Istio's injected proxy: on the injector ConfigMap
        .map(|u| ((u.object.as_str(), u.path.as_str()), u.reference.as_str()))
        .collect()
}

/// Where a reference stands against the environment: None when fine.
pub fn off_lists(reference: &str, ctx: &Context) -> Option<String> {
    let q = qualify(reference);
    let mut problems = Vec::new();
    if let Some(m) = &ctx.mirror {
        if !q.starts_with(&format!("{m}/")) {
            problems.push(format!("not on the mirror {m}"));
        }
    }
    if !ctx.listed.contains(&q) {
        problems.push(format!(
            "not in the image lists of environment {} (deploygen images --env {})",
            ctx.environment, ctx.environment
        ));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// The references a Knative Operator CR hands the operator: `spec.registry.override` (one
/// image per deployment or container) and `spec.config.deployment.queue-sidecar-image`. Where
/// the CR sets none, the operator picks its own images, which no render shows: the CR's
/// `spec.version` change is then in the structural rest.
fn operator_uses(objects: &[Object]) -> Vec<ImageUse> {
    let mut out = Vec::new();
    for o in objects {
        if o.group() != "operator.knative.dev" {
            continue;
        }
        let overrides = o.at("spec.registry.override").and_then(Value::as_object);
        for (key, v) in overrides.into_iter().flatten() {
            if let Some(reference) = v.as_str() {
                out.push(ImageUse {
                    object: o.id(),
                    path: format!("spec.registry.override[{key}]"),
                    reference: reference.to_string(),
                    inactive: None,
                });
            }
        }
        let queue = o
            .at("spec.config.deployment")
            .and_then(|d| d.get("queue-sidecar-image"))
            .and_then(Value::as_str);
        if let Some(reference) = queue {
            out.push(ImageUse {
                object: o.id(),
                path: "spec.config.deployment.queue-sidecar-image".into(),
                reference: reference.to_string(),
                inactive: None,
            });
        }
    }
    out
}

/// Every image reference of a render: audit's image model, and the operator's CRs.
fn uses(objects: &[Object]) -> Vec<ImageUse> {
    let mut out = collect(objects);
    out.extend(operator_uses(objects));
    out
}

pub fn check(before: &[Object], after: &[Object], ctx: Option<&Context>) -> Vec<Finding> {
    let b_uses = uses(before);
    let a_uses = uses(after);
    let b = by_place(&b_uses);
    let a = by_place(&a_uses);
    let mut out = Vec::new();
    let mut new_refs: Vec<(&str, &str, &str)> = Vec::new();
    for (&(object, path), &old) in &b {
        match a.get(&(object, path)) {
            Some(&new) if new != old => {
                out.push(Finding::new(
                    Class::ImageChanged,
                    object,
                    path,
                    format!("{old} -> {new}"),
                ));
                new_refs.push((object, path, new));
            }
            Some(_) => {}
            None => out.push(Finding::new(Class::ImageRemoved, object, path, old)),
        }
    }
    for (&(object, path), &new) in &a {
        if !b.contains_key(&(object, path)) {
            out.push(Finding::new(Class::ImageAdded, object, path, new));
            new_refs.push((object, path, new));
        }
    }
    if let Some(ctx) = ctx {
        // Inactive references (opt-in templates, disabled runtimes) are never pulled.
        let inactive: BTreeMap<(&str, &str), bool> = a_uses
            .iter()
            .map(|u| ((u.object.as_str(), u.path.as_str()), u.inactive.is_some()))
            .collect();
        for (object, path, reference) in new_refs {
            if inactive.get(&(object, path)) == Some(&true) {
                continue;
            }
            if let Some(why) = off_lists(reference, ctx) {
                out.push(Finding::new(
                    Class::ImageUnlisted,
                    object,
                    path,
                    format!("{reference}: {why}"),
                ));
            }
        }
    }
    out
}
