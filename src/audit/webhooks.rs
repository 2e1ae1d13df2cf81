//! Webhooks: the one walk of every webhook reference the checks read (each webhook of a
//! Mutating/ValidatingWebhookConfiguration, and each CRD's conversion webhook), and the check
//! that a webhook calls a path its server serves.

use serde_json::Value;

use super::manifest::Object;
use super::report::Findings;

/// A webhook that the API server calls through a Service.
pub struct WebhookRef<'a> {
    /// The WebhookConfiguration or CustomResourceDefinition.
    pub object: &'a Object,
    /// Field path of its `clientConfig.service` inside the object.
    pub field: String,
    pub name: &'a str,
    pub namespace: &'a str,
    /// `port`, 443 when absent (the API server's default).
    pub port: i64,
    /// `path`; None when absent (the API server calls `/`).
    pub path: Option<&'a str>,
}

fn service_ref<'a>(object: &'a Object, field: String, svc: &'a Value) -> WebhookRef<'a> {
    WebhookRef {
        object,
        field,
        name: svc.get("name").and_then(Value::as_str).unwrap_or(""),
        namespace: svc.get("namespace").and_then(Value::as_str).unwrap_or(""),
        port: svc.get("port").and_then(Value::as_i64).unwrap_or(443),
        path: svc.get("path").and_then(Value::as_str),
    }
}

/// Every webhook reference of `objects`, in input order.
pub fn refs(objects: &[Object]) -> Vec<WebhookRef<'_>> {
    let mut out = Vec::new();
    for o in objects {
        match (o.group(), o.kind.as_str()) {
            (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
            ) => {
                let webhooks = o.at("webhooks").and_then(Value::as_array);
                for (i, w) in webhooks.into_iter().flatten().enumerate() {
                    if let Some(svc) = w.pointer("/clientConfig/service") {
                        out.push(service_ref(
                            o,
                            format!("webhooks[{i}].clientConfig.service"),
                            svc,
                        ));
                    }
                }
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                if let Some(svc) = o.at("spec.conversion.webhook.clientConfig.service") {
                    out.push(service_ref(
                        o,
                        "spec.conversion.webhook.clientConfig.service".into(),
                        svc,
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// The paths a chart's webhook server serves, as the chart documents them (the webhook
/// configurations and CRDs it renders, in the releases the catalog pins; checked against
/// ../shared/upstream/charts), by the chart's name. A path ending in `/` also admits every
/// path below it.
///
/// - cert-manager v1.14.7 to v1.18.6: `/validate` (templates/webhook-validating-webhook.yaml),
///   `/mutate` (templates/webhook-mutating-webhook.yaml).
/// - istiod 1.21.6 to 1.28.10: `/validate` (templates/validatingwebhookconfiguration.yaml;
///   base's istiod-default-validator too), `/inject` (values.yaml
///   `sidecarInjectorWebhook.injectionPath`, used by templates/mutatingwebhook.yaml), whose
///   documented overrides pass parameters below it ("for example:
///   /inject/cluster/remote/net/network2").
/// - knative-operator v1.14.9 to v1.21.4: `/resource-conversion` (templates/operator.yaml,
///   the conversion webhook of knativeservings and knativeeventings).
/// - kserve v0.14.1 to v0.16.0 (templates/webhookconfiguration.yaml) and kserve-resources
///   v0.17.1, v0.20.0 (files/kserve/resources.yaml): `/mutate-pods` and the controller-runtime
///   paths of its kinds; the LLMInferenceService ones from v0.16.0.
const SERVED_PATHS: &[(&str, &[&str])] = &[
    ("cert-manager", &["/validate", "/mutate"]),
    ("istiod", &["/validate", "/inject", "/inject/"]),
    ("knative-operator", &["/resource-conversion"]),
    ("kserve", KSERVE_PATHS),
    ("kserve-resources", KSERVE_PATHS),
];

const KSERVE_PATHS: &[&str] = &[
    "/mutate-pods",
    "/mutate-serving-kserve-io-v1beta1-inferenceservice",
    "/validate-serving-kserve-io-v1beta1-inferenceservice",
    "/validate-serving-kserve-io-v1alpha1-trainedmodel",
    "/validate-serving-kserve-io-v1alpha1-inferencegraph",
    "/validate-serving-kserve-io-v1alpha1-clusterservingruntime",
    "/validate-serving-kserve-io-v1alpha1-servingruntime",
    "/validate-serving-kserve-io-v1alpha1-localmodelcache",
    "/validate-serving-kserve-io-v1alpha1-llminferenceservice",
    "/validate-serving-kserve-io-v1alpha1-llminferenceserviceconfig",
];

/// The upstream chart that rendered an object, from its `# Source:` line: the folder after
/// the last `charts/` (a wrapper chart's dependency, `kserve/charts/kserve/templates/..`),
/// else the first folder.
pub fn chart_of(source: &str) -> &str {
    let rest = source
        .rfind("charts/")
        .filter(|i| *i == 0 || source[..*i].ends_with('/'))
        .map_or(source, |i| &source[i + "charts/".len()..]);
    rest.split('/').next().unwrap_or("")
}

fn serves(paths: &[&str], path: &str) -> bool {
    paths
        .iter()
        .any(|p| *p == path || (p.ends_with('/') && path.starts_with(p)))
}

/// Every webhook whose Service a chart with known webhook paths renders calls one of them.
pub fn check_paths(objects: &[Object], f: &mut Findings) {
    for w in refs(objects) {
        let service = objects.iter().find(|s| {
            s.kind == "Service"
                && s.group().is_empty()
                && s.name == w.name
                && s.namespace.as_deref() == Some(w.namespace)
        });
        let Some(service) = service else {
            continue; // a missing Service is the wiring check's finding
        };
        let chart = service.source.as_deref().map(chart_of).unwrap_or("");
        let Some((_, paths)) = SERVED_PATHS.iter().find(|(c, _)| *c == chart) else {
            continue;
        };
        let path = w.path.unwrap_or("/");
        if serves(paths, path) {
            continue;
        }
        let listed: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| !p.ends_with('/'))
            .collect();
        let hint = crate::base::suggest::hint(path, listed.iter().copied());
        let said = match w.path {
            Some(p) => format!("calls path {p}"),
            None => "has no path (the API server calls /)".to_string(),
        };
        f.fail(
            "wiring",
            w.object,
            &format!("{}.path", w.field),
            format!(
                "{said}{hint}, which the webhook server behind Service {}/{} (chart {chart}) does not serve; it serves: {}",
                w.namespace,
                w.name,
                listed.join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_read_from_the_source_line() {
        assert_eq!(
            chart_of("kserve/charts/kserve/templates/webhookconfiguration.yaml"),
            "kserve"
        );
        assert_eq!(chart_of("istio-base/charts/base/templates/x.yaml"), "base");
        assert_eq!(chart_of("cert-manager/templates/a.yaml"), "cert-manager");
        assert_eq!(chart_of("charts/istiod/templates/a.yaml"), "istiod");
        // A folder that only ends in `charts` is not one.
        assert_eq!(chart_of("mycharts/x/templates/a.yaml"), "mycharts");
    }

    #[test]
    fn a_path_is_served_exactly_or_below_a_folder() {
        let paths = ["/inject", "/inject/", "/validate"];
        assert!(serves(&paths, "/inject"));
        assert!(serves(&paths, "/inject/cluster/remote/net/network2"));
        assert!(serves(&paths, "/validate"));
        assert!(!serves(&paths, "/validate/x"));
        assert!(!serves(&paths, "/injec"));
        assert!(!serves(&paths, "/"));
    }
}
