//! The cross-namespace flows the stack needs, proved against the ingress NetworkPolicies of
//! the namespace they arrive in, with peers read exactly as the cluster reads them: a
//! `podSelector` without a `namespaceSelector` admits only the policy's own namespace, a
//! `namespaceSelector` matches the client namespace's labels (`kubernetes.io/metadata.name`
//! and those of a rendered Namespace), both together must both match, and an `ipBlock` holds
//! pod addresses only when it is every address.
//!
//! The flows: every pod with an Istio proxy (and the revisions of injected namespaces, created
//! at run time) -> istiod on 15012 (xDS); the ingress gateway -> Knative's activator on 8012.

use serde_json::Value;

use super::manifest::Object;
use super::operator;
use super::pods;
use super::pods::pod_labels;
use super::report::Findings;
use super::wiring::{port_matches, selects, Port};

/// Pods at one end of a flow.
struct End<'a> {
    /// The object that stands for them (None: pods created at run time).
    object: Option<&'a Object>,
    namespace: String,
    labels: Vec<(String, String)>,
    what: String,
}

impl End<'_> {
    fn labels(&self) -> Vec<(&str, &str)> {
        self.labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

fn owned(pairs: Vec<(&str, &str)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The labels of namespace `ns` as selectors see them.
fn namespace_labels<'a>(objects: &'a [Object], ns: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut labels = vec![("kubernetes.io/metadata.name", ns)];
    if let Some(o) = objects
        .iter()
        .find(|o| o.kind == "Namespace" && o.group().is_empty() && o.name == ns)
    {
        labels.extend(o.labels());
    }
    labels
}

/// Whether the ingress policies of `to`'s namespace admit `from` on `port`; Err: the policies
/// isolating `to`.
fn admitted(
    objects: &[Object],
    policies: &[&Object],
    from: &End,
    to: &End,
    port: i64,
) -> Result<(), Vec<String>> {
    let to_labels = to.labels();
    let from_labels = from.labels();
    let isolating: Vec<&&Object> = policies
        .iter()
        .filter(|p| p.namespace.as_deref() == Some(to.namespace.as_str()))
        .filter(|p| {
            p.at("spec.policyTypes")
                .and_then(Value::as_array)
                .is_none_or(|t| t.iter().any(|x| x == "Ingress"))
        })
        .filter(|p| selects(p.at("spec.podSelector"), &to_labels))
        .collect();
    if isolating.is_empty() {
        return Ok(());
    }
    let ns_labels = namespace_labels(objects, &from.namespace);
    let peer_ok = |peer: &Value| {
        if let Some(block) = peer.get("ipBlock") {
            let cidr = block.get("cidr").and_then(Value::as_str).unwrap_or("");
            let excepts = block
                .get("except")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty());
            return (cidr == "0.0.0.0/0" || cidr == "::/0") && !excepts;
        }
        let ns_ok = match peer.get("namespaceSelector") {
            Some(sel) => selects(Some(sel), &ns_labels),
            None => from.namespace == to.namespace,
        };
        ns_ok && selects(peer.get("podSelector"), &from_labels)
    };
    for p in &isolating {
        for rule in p
            .at("spec.ingress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let peers = rule.get("from").and_then(Value::as_array);
            let from_ok = peers.is_none_or(|l| l.is_empty() || l.iter().any(peer_ok));
            if from_ok
                && port_matches(
                    rule.get("ports"),
                    Port {
                        number: port,
                        name: None,
                    },
                )
            {
                return Ok(());
            }
        }
    }
    Err(isolating.iter().map(|p| p.name.clone()).collect())
}

/// Pods of the input that run an Istio proxy (sidecar or gateway), and one stand-in for the
/// revisions of each injected namespace.
fn proxied(objects: &[Object]) -> Vec<End<'_>> {
    let injected = super::sidecar::injection_enabled_namespaces(objects);
    let meshed_by_operator = operator::sidecar_workloads(objects);
    let mut out = Vec::new();
    for o in objects {
        let (Some(labels), Some(ns)) = (pod_labels(o), o.namespace.as_deref()) else {
            continue;
        };
        let proxy = pods::pods(o).iter().any(|pod| {
            pod.containers()
                .iter()
                .any(|c| c.str("image") == Some("auto"))
        }) || labels.contains(&("sidecar.istio.io/inject", "true"))
            || meshed_by_operator.contains(&(ns, o.name.as_str()))
            || (injected.contains(&ns) && !labels.contains(&("sidecar.istio.io/inject", "false")));
        if proxy {
            out.push(End {
                object: Some(o),
                namespace: ns.to_string(),
                labels: owned(labels),
                what: o.id(),
            });
        }
    }
    for ns in injected {
        out.push(End {
            object: None,
            namespace: ns.to_string(),
            labels: owned(vec![
                ("serving.knative.dev/revision", "any"),
                ("component", "predictor"),
            ]),
            what: format!("the model pods Knative creates in {ns} (injected namespace)"),
        });
    }
    out
}

/// The rendered pods (by namespace and labels) a flow starts or ends at.
fn pods<'a>(objects: &'a [Object], pred: impl Fn(&str, &[(&str, &str)]) -> bool) -> Vec<End<'a>> {
    objects
        .iter()
        .filter_map(|o| {
            let labels = pod_labels(o)?;
            let ns = o.namespace.as_deref()?;
            pred(ns, &labels).then(|| End {
                object: Some(o),
                namespace: ns.to_string(),
                labels: owned(labels),
                what: o.id(),
            })
        })
        .collect()
}

pub fn check(objects: &[Object], f: &mut Findings) {
    let policies: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "NetworkPolicy" && o.group() == "networking.k8s.io")
        .collect();
    if policies.is_empty() {
        return;
    }
    let mut fail = |to: &End, from: &End, port: i64, flow: &str, isolating: Vec<String>| {
        let message = format!(
            "{flow}: {} -> port {port} of {} is not admitted by the ingress policies isolating {} ({}); a podSelector without a namespaceSelector admits only its own namespace: admit {} with a namespaceSelector",
            from.what,
            to.what,
            to.namespace,
            isolating.join(", "),
            from.namespace
        );
        if let Some(o) = to.object {
            f.fail("network", o, "", message);
        }
    };
    // xDS: every proxy -> istiod.
    let istiod = pods(objects, |ns, l| {
        ns == "istio-system" && l.contains(&("app", "istiod"))
    });
    let clients = proxied(objects);
    for to in &istiod {
        for from in &clients {
            if let Err(iso) = admitted(objects, &policies, from, to, 15012) {
                fail(to, from, 15012, "xDS", iso);
            }
        }
    }
    // The gateway -> the activator (rendered with --operator-manifests; else the activator
    // the operator will run in the KnativeServing's namespace, labelled app=activator).
    for ks in operator::knative_servings(objects) {
        let Some(ns) = ks.namespace.as_deref() else {
            continue;
        };
        let mut activators = pods(objects, |pns, l| {
            pns == ns && l.contains(&("app", "activator"))
        });
        if activators.is_empty() {
            activators.push(End {
                object: Some(ks),
                namespace: ns.to_string(),
                labels: owned(vec![("app", "activator")]),
                what: format!("the activator {} runs", ks.id()),
            });
        }
        let gateways = pods(objects, |_, l| l.contains(&("istio", "ingressgateway")));
        for to in &activators {
            for from in &gateways {
                if let Err(iso) = admitted(objects, &policies, from, to, 8012) {
                    fail(to, from, 8012, "gateway -> activator", iso);
                }
            }
        }
    }
}
