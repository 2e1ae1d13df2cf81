//! Facts about what runs in pods that their manifests do not say.

use serde_json::Value;

use super::images::{containers, pod_specs};
use super::manifest::Object;

/// Ports an upstream process listens on without its chart declaring them, by image name
/// (the last path segment, without tag): Istio's pilot-discovery (istiod) serves XDS over mTLS
/// on 15012 and its monitoring on 15014, besides the declared 8080, 15010 and 15017
/// (istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio);
/// Knative's activator serves HTTPS on 8112 (knative.dev/serving pkg/networking:
/// `BackendHTTPSPort`, used by cmd/activator when system-internal-tls is on), which its
/// `activator-service` targets and its Deployment does not declare.
const UNDECLARED_LISTENERS: &[(&str, &[i64])] = &[
    ("pilot", &[15010, 15012, 15014, 15017]),
    ("activator", &[8112]),
];

/// Whether some container of `o`'s pods runs a process known to listen on `port` undeclared.
pub fn listens_undeclared(o: &Object, port: i64) -> bool {
    pod_specs(o).into_iter().any(|(_, spec)| {
        containers(spec).any(|(_, c)| {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let last = image.rsplit('/').next().unwrap_or("");
            let name = last.split(['@', ':']).next().unwrap_or("");
            UNDECLARED_LISTENERS
                .iter()
                .any(|(n, ports)| *n == name && ports.contains(&port))
        })
    })
}
