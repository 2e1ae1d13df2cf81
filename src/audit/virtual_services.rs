//! An Istio `VirtualService` binds to gateways that exist. Its `spec.gateways` entries are
//! `<namespace>/<name>` or a bare `<name>` of the VirtualService's own namespace, or the
//! reserved `mesh` (the sidecars); a gateway that does not exist leaves the routes unbound,
//! silently (istio.io/latest/docs/reference/config/networking/virtual-service/
//! #VirtualService: "gateways"). Known gateways: rendered Istio Gateways and the two the
//! Knative Operator creates for a KnativeServing with Istio ingress (ingress.rs `gateways`).

use serde_json::Value;

use super::manifest::Object;
use super::report::{missing, Findings};

pub fn check(objects: &[Object], known: &[(String, String)], partial: bool, f: &mut Findings) {
    for o in objects
        .iter()
        .filter(|o| o.group() == "networking.istio.io" && o.kind == "VirtualService")
    {
        let own_ns = o.namespace.as_deref().unwrap_or("");
        for (i, g) in o
            .at("spec.gateways")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let Some(g) = g.as_str().filter(|g| *g != "mesh") else {
                continue;
            };
            let (ns, name) = g.split_once('/').unwrap_or((own_ns, g));
            if !known.iter().any(|(n, m)| n == ns && m == name) {
                missing(partial, f, o, &format!("spec.gateways[{i}]"), format!(
                    "names Gateway {ns}/{name}, which is neither rendered nor created by the Knative Operator: the routes bind to no gateway; name an existing Gateway (namespace/name)"
                ));
            }
        }
    }
}
