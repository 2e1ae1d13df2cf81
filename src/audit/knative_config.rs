//! A `KnativeServing`'s `spec.config.istio`, which the operator merges into net-istio's
//! ConfigMap `config-istio`. net-istio reads gateways there in two shapes (its manifest's
//! `_example`, kodata/ingress/1.15/istio/net-istio.yaml, and knative/net-istio
//! pkg/reconciler/ingress/config/istio.go):
//!
//! - `gateway.<namespace>.<name>` / `local-gateway.<namespace>.<name>`: the Istio Gateway
//!   `<namespace>/<name>`, valued with the host of the gateway pods' Service
//!   (`<service>.<namespace>.svc.cluster.local`);
//! - `external-gateways` / `local-gateways`: a YAML list of `name`, `namespace`, `service`.
//!
//! A key that names a gateway in another shape (`gateway.knative-ingress-gateway`, a
//! `gateways.` prefix) is not read: the routes go to the default gateway, or to none. Each
//! `service` must be a Service that exists (rendered, or net-istio's `knative-local-gateway`).

use serde_json::Value;

use super::manifest::Object;
use super::operator;
use super::report::{missing, Findings};

/// (namespace, name) of the Service a host `<name>.<namespace>.svc...` names, if it has that
/// shape (net-istio's gateway services and KServe's local gateway Service are such hosts).
pub(super) fn service_of(host: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = host.splitn(3, '.').collect();
    match parts.as_slice() {
        [name, ns, rest] if *rest == "svc" || rest.starts_with("svc.") => Some((*ns, *name)),
        _ => None,
    }
}

/// A DNS-1123 label (a namespace or a Gateway's name has no dot).
fn label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `services`: (namespace, name) of the Services that exist (kserve_ingress.rs).
pub fn check(objects: &[Object], services: &[(String, String)], partial: bool, f: &mut Findings) {
    let gateways = super::ingress::gateways(objects);
    for ks in operator::knative_servings(objects) {
        let Some(istio) = ks.at("spec.config.istio").and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in istio {
            let path = format!("spec.config.istio.{key}");
            let value = value.as_str().unwrap_or("");
            let hosts: Vec<&str> = if key == "external-gateways" || key == "local-gateways" {
                // A YAML list; its `service:` entries are the hosts.
                value
                    .lines()
                    .filter_map(|l| {
                        l.trim_start_matches([' ', '-'])
                            .strip_prefix("service:")
                            .map(|v| v.trim().trim_matches(['"', '\'']))
                    })
                    .collect()
            } else if let Some(rest) = key
                .strip_prefix("gateway.")
                .or_else(|| key.strip_prefix("local-gateway."))
            {
                let Some((gw_ns, gw_name)) = rest
                    .split_once('.')
                    .filter(|(ns, name)| label(ns) && label(name))
                else {
                    f.fail("refs", ks, &path, "is not read by net-istio: a gateway key is gateway.<namespace>.<name> or local-gateway.<namespace>.<name> (the Istio Gateway's namespace and name); fix the key".into());
                    continue;
                };
                if !gateways.iter().any(|(n, m)| n == gw_ns && m == gw_name) {
                    missing(partial, f, ks, &path, format!(
                        "configures Gateway {gw_ns}/{gw_name}, which is neither rendered nor created by the Knative Operator: net-istio routes to a gateway that does not exist"
                    ));
                }
                vec![value]
            } else {
                if key.contains("gateway") {
                    f.fail("refs", ks, &path, "is not a key net-istio reads: gateways are gateway.<namespace>.<name>, local-gateway.<namespace>.<name>, external-gateways or local-gateways; fix the key".into());
                }
                continue;
            };
            for host in hosts {
                match service_of(host) {
                    None => f.fail("refs", ks, &path, format!(
                        "is {host:?}: net-istio reads it as the host of the gateway pods' Service, <name>.<namespace>.svc.cluster.local"
                    )),
                    Some((ns, name)) => {
                        if !services.iter().any(|(n, m)| n == ns && m == name) {
                            missing(partial, f, ks, &path, format!(
                                "names Service {ns}/{name} ({host}), which is neither rendered nor created by net-istio: the gateway's traffic goes nowhere; name the gateway pods' Service"
                            ));
                        }
                    }
                }
            }
        }
    }
}
