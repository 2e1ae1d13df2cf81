//! Admission webhooks (Mutating and Validating configurations), webhook by webhook: added,
//! removed, and changes to what they intercept (rules, selectors), what happens when they are
//! down (`failurePolicy`, default Fail), how long the API server waits (`timeoutSeconds`,
//! default 10) and where they are served (service, port, path or URL; the CA bundle left out:
//! controllers inject it).

use std::collections::BTreeMap;

use serde_json::Value;

use super::finding::{Class, Finding};
use super::objects::{name_of, Pairs};
use crate::audit::manifest::Object;

fn webhooks(o: Option<&Object>) -> BTreeMap<String, &Value> {
    o.and_then(|o| o.at("webhooks"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|w| Some((w.get("name")?.as_str()?.to_string(), w)))
        .collect()
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "none".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

fn failure_policy(w: &Value) -> String {
    w.get("failurePolicy")
        .and_then(Value::as_str)
        .unwrap_or("Fail")
        .to_string()
}

fn timeout(w: &Value) -> i64 {
    w.get("timeoutSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(10)
}

/// Where the webhook is served: `service ns/name:port/path` or its URL.
fn target(w: &Value) -> String {
    let cc = w.get("clientConfig");
    if let Some(url) = cc.and_then(|c| c.get("url")).and_then(Value::as_str) {
        return url.to_string();
    }
    let s = cc.and_then(|c| c.get("service"));
    let f = |k: &str| {
        s.and_then(|s| s.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let port = s
        .and_then(|s| s.get("port"))
        .and_then(Value::as_i64)
        .unwrap_or(443);
    format!(
        "service {}/{}:{port}{}",
        f("namespace"),
        f("name"),
        f("path")
    )
}

/// What it intercepts: rules, selectors, match policy, side effects.
fn scope(w: &Value) -> Vec<(&'static str, String)> {
    [
        "rules",
        "namespaceSelector",
        "objectSelector",
        "matchPolicy",
        "matchConditions",
        "sideEffects",
    ]
    .into_iter()
    .map(|k| (k, text(w.get(k))))
    .collect()
}

pub fn check(p: &Pairs) -> Vec<Finding> {
    let mut out = Vec::new();
    for (_, b, a) in p.of_kinds(&[
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ]) {
        let object = name_of(b, a);
        let (wb, wa) = (webhooks(b), webhooks(a));
        for (name, w) in &wb {
            if !wa.contains_key(name) {
                out.push(Finding::new(
                    Class::WebhookRemoved,
                    &object,
                    format!("webhooks[{name}]"),
                    format!(
                        "webhook {name} is removed (was {}, failurePolicy {})",
                        target(w),
                        failure_policy(w)
                    ),
                ));
            }
        }
        for (name, w) in &wa {
            let at = |field: &str| format!("webhooks[{name}].{field}");
            let Some(old) = wb.get(name) else {
                out.push(Finding::new(
                    Class::WebhookAdded,
                    &object,
                    format!("webhooks[{name}]"),
                    format!(
                        "webhook {name} is added: {}, failurePolicy {}, timeoutSeconds {}, rules {}",
                        target(w),
                        failure_policy(w),
                        timeout(w),
                        text(w.get("rules"))
                    ),
                ));
                continue;
            };
            let (fb, fa) = (failure_policy(old), failure_policy(w));
            if fb != fa {
                let note = if fa == "Fail" {
                    ": the API server now refuses the intercepted requests while the webhook is down"
                } else {
                    ": intercepted requests now pass unchecked while the webhook is down"
                };
                out.push(Finding::new(
                    Class::WebhookFailurePolicy,
                    &object,
                    at("failurePolicy"),
                    format!("{fb} -> {fa}{note}"),
                ));
            }
            let (tb, ta) = (timeout(old), timeout(w));
            if tb != ta {
                out.push(Finding::new(
                    Class::WebhookTimeout,
                    &object,
                    at("timeoutSeconds"),
                    format!("{tb} -> {ta}"),
                ));
            }
            for ((field, vb), (_, va)) in scope(old).into_iter().zip(scope(w)) {
                if vb != va {
                    out.push(Finding::new(
                        Class::WebhookRulesChanged,
                        &object,
                        at(field),
                        format!("{vb} -> {va}"),
                    ));
                }
            }
            let (sb, sa) = (target(old), target(w));
            if sb != sa {
                out.push(Finding::new(
                    Class::WebhookServiceChanged,
                    &object,
                    at("clientConfig"),
                    format!("{sb} -> {sa}"),
                ));
            }
        }
    }
    out
}
