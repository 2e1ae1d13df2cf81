//! Which pods run an Istio sidecar, the only pods a PeerAuthentication acts on: Istio's
//! injection policy (istio.io/latest/docs/setup/additional-setup/sidecar-injection/
//! #controlling-the-injection-policy). A pod is injected when its namespace carries
//! `istio-injection=enabled` (or an `istio.io/rev` revision label) or the pod itself is labelled
//! `sidecar.istio.io/inject: "true"` or `istio.io/rev` (labels: an annotation does not select
//! the injector's webhook); never when the pod says `"false"` (label or annotation) or the
//! namespace says `istio-injection=disabled`. A gateway deployment (injection template
//! `gateway`) runs Envoy as the gateway itself, which PeerAuthentication does not govern.

use std::collections::BTreeSet;

use serde_json::Value;

use super::manifest::{string_map, Object};
use super::pods::pod_labels;

/// The rendered namespaces' injection labels.
pub struct Sidecars {
    injected: BTreeSet<String>,
    disabled: BTreeSet<String>,
}

impl Sidecars {
    pub fn new(objects: &[Object]) -> Self {
        let mut injected = BTreeSet::new();
        let mut disabled = BTreeSet::new();
        for ns in objects
            .iter()
            .filter(|o| o.kind == "Namespace" && o.group().is_empty())
        {
            let labels = ns.labels();
            let label = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
            match label("istio-injection") {
                Some("enabled") => {
                    injected.insert(ns.name.clone());
                }
                Some("disabled") => {
                    disabled.insert(ns.name.clone());
                }
                _ if label("istio.io/rev").is_some() => {
                    injected.insert(ns.name.clone());
                }
                _ => {}
            }
        }
        Sidecars { injected, disabled }
    }

    /// Whether pods created in `ns` without a say of their own get a sidecar.
    pub fn namespace_injected(&self, ns: &str) -> bool {
        self.injected.contains(ns)
    }

    /// Whether the pods of `o` (a pod-bearing object) run a sidecar that enforces mTLS.
    pub fn pod_has_sidecar(&self, o: &Object) -> bool {
        let (Some(labels), Some(ns)) = (pod_labels(o), o.namespace.as_deref()) else {
            return false;
        };
        let annotations_path = if o.kind == "Pod" {
            "metadata.annotations"
        } else if o.kind == "CronJob" {
            "spec.jobTemplate.spec.template.metadata.annotations"
        } else {
            "spec.template.metadata.annotations"
        };
        let annotations = string_map(o.at(annotations_path));
        let get = |pairs: &[(&str, &str)], k: &str| {
            pairs
                .iter()
                .find(|(pk, _)| *pk == k)
                .map(|(_, v)| v.to_string())
        };
        if get(&annotations, "inject.istio.io/templates").as_deref() == Some("gateway") {
            return false;
        }
        // The injector's webhooks select pods by labels only (istiod chart,
        // mutatingwebhook.yaml: `object.sidecar-injector.istio.io` matches the label `true`,
        // `rev.object.sidecar-injector.istio.io` a pod's `istio.io/rev`, where the namespace has
        // no injection label): an annotation `true` alone reaches no webhook. Once called (an
        // injected namespace), the injector honours the annotation `false`.
        let label = get(&labels, "sidecar.istio.io/inject");
        let annotation = get(&annotations, "sidecar.istio.io/inject");
        if label.as_deref() == Some("false") || annotation.as_deref() == Some("false") {
            return false;
        }
        match label.as_deref() {
            _ if self.disabled.contains(ns) => false,
            Some("true") => true,
            _ if get(&labels, "istio.io/rev").is_some() => true,
            _ => self.namespace_injected(ns),
        }
    }
}

/// The namespaces a rendered Namespace object labels `istio-injection=enabled`.
pub fn injection_enabled_namespaces(objects: &[Object]) -> Vec<&str> {
    objects
        .iter()
        .filter(|o| o.kind == "Namespace" && o.labels().contains(&("istio-injection", "enabled")))
        .map(|o| o.name.as_str())
        .collect()
}

/// Whether a PeerAuthentication asks for STRICT anywhere (whole workload or one port).
pub fn strict(pa: &Object) -> bool {
    let mode =
        |v: Option<&Value>| v.and_then(|m| m.get("mode")).and_then(Value::as_str) == Some("STRICT");
    mode(pa.at("spec.mtls"))
        || pa
            .at("spec.portLevelMtls")
            .and_then(Value::as_object)
            .is_some_and(|m| m.values().any(|v| mode(Some(v))))
}
