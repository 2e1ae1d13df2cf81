//! mTLS and egress: what the mesh and the egress policies let through.
//!
//! - **mesh**: a port whose effective Istio PeerAuthentication mode is STRICT accepts only
//!   mesh traffic. Every client without a sidecar that must reach such a port is a failure:
//!   the API server calling a webhook, Prometheus scraping a monitor's port, clients outside
//!   the cluster of a LoadBalancer/NodePort Service, and in the model namespaces (where
//!   Knative creates the pods at run time) Knative's autoscaler and Prometheus on queue-proxy's
//!   metrics ports, and the activator when it has no sidecar.
//! - **egress**: where egress policies isolate the stack's pods, every flow the stack's own
//!   objects need is admitted: DNS, controller -> API server (every workload whose
//!   ServiceAccount a rendered binding names), xDS to istiod (every pod with an Istio proxy),
//!   gateway -> activator, activator and autoscaler -> revisions.

use serde_json::Value;

use super::manifest::{string_map, Object};
use super::pods;
use super::pods::pod_labels;
use super::report::Findings;
use super::sidecar::{self, Sidecars};
use super::wiring::{egress_admitted, egress_admitted_on, selects, Destination};
use crate::plan::operations::QUEUE_PROXY_PLAIN_PORTS;

/// Istio's root namespace: a PeerAuthentication there without a selector is mesh-wide.
const ROOT_NAMESPACE: &str = "istio-system";

/// Everything the checks need about the environment.
pub struct Context<'a> {
    /// The API server's addresses and port, where the matrix gives them.
    pub api_server: Vec<&'a str>,
    pub api_server_port: i64,
}

fn peer_authentications(objects: &[Object]) -> Vec<&Object> {
    objects
        .iter()
        .filter(|o| o.kind == "PeerAuthentication" && o.group() == "security.istio.io")
        .collect()
}

fn mode_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(|m| m.get("mode"))
        .and_then(Value::as_str)
        .filter(|m| *m != "UNSET")
}

/// The effective mTLS mode of `port` on pods with `labels` in `ns`, and the policy deciding it.
fn effective_mode<'a>(
    pas: &[&'a Object],
    ns: &str,
    labels: &[(&str, &str)],
    port: i64,
) -> (String, Option<&'a Object>) {
    let has_selector = |p: &Object| {
        p.at("spec.selector.matchLabels")
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
    };
    for p in pas.iter().filter(|p| {
        p.namespace.as_deref() == Some(ns)
            && has_selector(p)
            && selects(p.at("spec.selector"), labels)
    }) {
        let port_mode = p
            .at("spec.portLevelMtls")
            .and_then(|m| m.get(port.to_string()))
            .and_then(|m| mode_of(Some(m)));
        if let Some(m) = port_mode.or_else(|| mode_of(p.at("spec.mtls"))) {
            return (m.to_string(), Some(p));
        }
    }
    for scope in [ns, ROOT_NAMESPACE] {
        if let Some(p) = pas
            .iter()
            .find(|p| p.namespace.as_deref() == Some(scope) && !has_selector(p))
        {
            if let Some(m) = mode_of(p.at("spec.mtls")) {
                return (m.to_string(), Some(p));
            }
        }
    }
    ("PERMISSIVE".into(), None)
}

/// A workload's pods: (object, namespace, labels, ports by name and number).
type PodSet<'a> = (
    &'a Object,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Vec<(Option<&'a str>, i64)>,
);

fn pod_sets(objects: &[Object]) -> Vec<PodSet<'_>> {
    let mut out = Vec::new();
    for o in objects {
        let (Some(labels), Some(ns)) = (pod_labels(o), o.namespace.as_deref()) else {
            continue;
        };
        let mut ports = Vec::new();
        for pod in pods::pods(o) {
            for c in pod.containers().iter().map(|c| c.value) {
                for p in c
                    .get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = p.get("containerPort").and_then(Value::as_i64) {
                        ports.push((p.get("name").and_then(Value::as_str), n));
                    }
                }
            }
        }
        out.push((o, ns, labels, ports));
    }
    out
}

fn service_target<'a>(pods: &PodSet<'a>, port: &Value) -> Option<i64> {
    let target = port.get("targetPort").or_else(|| port.get("port"))?;
    match target {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => pods
            .3
            .iter()
            .find(|(n, _)| *n == Some(name.as_str()))
            .map(|(_, n)| *n),
        _ => None,
    }
}

/// A Service reached without a sidecar: the Service, which of its ports, and who.
type PlainClient<'a> = (&'a Object, Box<dyn Fn(&Value) -> bool>, String);

pub fn check(objects: &[Object], ctx: &Context, f: &mut Findings) {
    check_mtls(objects, f);
    check_egress(objects, ctx, f);
    super::flows::check(objects, f);
}

fn check_mtls(objects: &[Object], f: &mut Findings) {
    let pas = peer_authentications(objects);
    if pas.is_empty() {
        return;
    }
    // Only pods with a sidecar enforce a PeerAuthentication.
    let sidecars = Sidecars::new(objects);
    unenforced(objects, &pas, &sidecars, f);
    let pods: Vec<PodSet> = pod_sets(objects)
        .into_iter()
        .filter(|p| sidecars.pod_has_sidecar(p.0))
        .collect();
    let services: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "Service" && o.group().is_empty())
        .collect();
    // Service ports reached by clients without a sidecar: (service, port predicate, who).
    let mut plain: Vec<PlainClient> = Vec::new();
    // One client per Service port, however many webhook configurations call it.
    let mut called: Vec<(&Object, i64, Vec<&str>)> = Vec::new();
    for w in super::webhooks::refs(objects) {
        let Some(s) = services
            .iter()
            .find(|s| s.name == w.name && s.namespace.as_deref() == Some(w.namespace))
        else {
            continue;
        };
        match called
            .iter_mut()
            .find(|(cs, p, _)| std::ptr::eq(*cs, *s) && *p == w.port)
        {
            Some((_, _, names)) if !names.contains(&w.object.name.as_str()) => {
                names.push(w.object.name.as_str());
            }
            Some(_) => {}
            None => called.push((s, w.port, vec![w.object.name.as_str()])),
        }
    }
    for (s, port, names) in called {
        plain.push((
            s,
            Box::new(move |p| p.get("port").and_then(Value::as_i64) == Some(port)),
            format!("the API server (webhook {}, no sidecar)", names.join(", ")),
        ));
    }
    for s in &services {
        if let Some(port) = super::stand_ins::webhook_port(s) {
            plain.push((
                s,
                Box::new(move |p| p.get("port").and_then(Value::as_i64) == Some(port)),
                "the API server (the Knative Operator's webhook configurations, no sidecar)".into(),
            ));
        }
    }
    for o in objects
        .iter()
        .filter(|o| o.group() == "monitoring.coreos.com" && o.kind == "ServiceMonitor")
    {
        let ns = o.namespace.clone().unwrap_or_default();
        for ep in o
            .at("spec.endpoints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(port) = ep.get("port").and_then(Value::as_str).map(String::from) else {
                continue;
            };
            for s in services.iter().filter(|s| {
                s.namespace.as_deref() == Some(ns.as_str())
                    && selects(o.at("spec.selector"), &s.labels())
            }) {
                let port = port.clone();
                plain.push((
                    s,
                    Box::new(move |p| p.get("name").and_then(Value::as_str) == Some(port.as_str())),
                    format!("Prometheus ({}, no sidecar)", o.id()),
                ));
            }
        }
    }
    for s in &services {
        if matches!(s.str_at("spec.type"), Some("LoadBalancer" | "NodePort")) {
            plain.push((
                s,
                Box::new(|_| true),
                "clients outside the cluster (LoadBalancer/NodePort)".into(),
            ));
        }
    }
    for (s, which, who) in &plain {
        let ns = s.namespace.as_deref().unwrap_or("");
        for (i, port) in s
            .at("spec.ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if !which(port) {
                continue;
            }
            for p in pods
                .iter()
                .filter(|p| p.1 == ns && selects(s.at("spec.selector"), &p.2))
            {
                let Some(number) = service_target(p, port) else {
                    continue;
                };
                let (mode, by) = effective_mode(&pas, ns, &p.2, number);
                if mode == "STRICT" {
                    f.fail("mesh", s, &format!("spec.ports[{i}]"), format!(
                        "port {number} on {} is STRICT mTLS ({}), but {who} reaches it without a sidecar: add a PERMISSIVE portLevelMtls exception for it, or keep the namespace out of STRICT",
                        p.0.id(), by.map(|b| b.id()).unwrap_or_default()
                    ));
                }
            }
        }
    }
    for o in objects
        .iter()
        .filter(|o| o.group() == "monitoring.coreos.com" && o.kind == "PodMonitor")
    {
        let ns = o.namespace.clone().unwrap_or_default();
        for (i, port) in o.pod_monitor_ports() {
            for p in pods
                .iter()
                .filter(|p| p.1 == ns && selects(o.at("spec.selector"), &p.2))
            {
                let Some((_, number)) = p.3.iter().find(|(n, _)| *n == Some(port)) else {
                    continue;
                };
                let (mode, by) = effective_mode(&pas, &ns, &p.2, *number);
                if mode == "STRICT" {
                    f.fail("mesh", o, &format!("spec.podMetricsEndpoints[{i}].port"), format!(
                        "scrapes port {number} of {}, which is STRICT mTLS ({}); Prometheus has no sidecar",
                        p.0.id(), by.map(|b| b.id()).unwrap_or_default()
                    ));
                }
            }
        }
    }
    check_revisions(objects, &pas, &sidecars, f);
}

/// The model namespaces' pods are Knative revisions created at run time: their clients
/// without a sidecar are checked against KServe's component labels on queue-proxy's ports.
/// A STRICT policy over a namespace where no pod has a sidecar enforces nothing: one note
/// for it, rather than a failure for each client it would refuse if it did.
fn unenforced(objects: &[Object], pas: &[&Object], sidecars: &Sidecars, f: &mut Findings) {
    for pa in pas.iter().filter(|p| sidecar::strict(p)) {
        let Some(ns) = pa.namespace.as_deref().filter(|ns| *ns != ROOT_NAMESPACE) else {
            continue;
        };
        // A workload policy acts only on the pods its selector picks.
        let selector = pa
            .at("spec.selector.matchLabels")
            .filter(|m| m.as_object().is_some_and(|m| !m.is_empty()))
            .and(pa.at("spec.selector"));
        let picks = |o: &Object| {
            selector.is_none() || pods::pod_labels(o).is_some_and(|l| selects(selector, &l))
        };
        let meshed = sidecars.namespace_injected(ns)
            || objects.iter().any(|o| {
                o.namespace.as_deref() == Some(ns) && picks(o) && sidecars.pod_has_sidecar(o)
            });
        if !meshed && selector.is_some() {
            f.note("mesh", pa, "spec.selector", format!(
                "asks for STRICT mTLS on pods of {ns} none of which has an Istio sidecar: it enforces nothing there; mesh those pods (sidecar.istio.io/inject: \"true\") or drop the policy"
            ));
        } else if !meshed {
            f.note("mesh", pa, "spec", format!(
                "asks for STRICT mTLS in namespace {ns}, where no pod has an Istio sidecar (the namespace has no istio-injection=enabled label and no pod is labelled sidecar.istio.io/inject=true): it enforces nothing there; label the namespace to mesh its pods, or drop the policy"
            ));
        }
    }
}

fn check_revisions(objects: &[Object], pas: &[&Object], sidecars: &Sidecars, f: &mut Findings) {
    let knative = super::operator::knative_servings(objects).next();
    let activator_meshed = knative.is_some_and(|ks| {
        ks.at("spec.workloads")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|w| {
                w.get("name").and_then(Value::as_str) == Some("activator")
                    && string_map(w.get("labels")).contains(&("sidecar.istio.io/inject", "true"))
            })
    });
    let revision_monitors: Vec<(&Object, &str)> = objects
        .iter()
        .filter(|o| o.group() == "monitoring.coreos.com" && o.kind == "PodMonitor")
        .filter(|o| o.at("spec.namespaceSelector.any").and_then(Value::as_bool) == Some(true))
        .flat_map(|o| o.pod_monitor_ports().map(move |(_, p)| (o, p)))
        .collect();
    // Knative's own namespace runs its control plane, never models.
    let serving: Vec<&str> = super::operator::knative_servings(objects)
        .filter_map(|k| k.namespace.as_deref())
        .collect();
    let mut namespaces: Vec<&str> = pas
        .iter()
        .filter_map(|p| p.namespace.as_deref())
        .filter(|ns| *ns != ROOT_NAMESPACE && !serving.contains(ns))
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    // Revisions get a sidecar from their namespace's injection label only.
    for ns in namespaces
        .into_iter()
        .filter(|ns| sidecars.namespace_injected(ns))
    {
        for component in ["predictor", "transformer", "explainer"] {
            let labels = [
                ("component", component),
                ("serving.knative.dev/revision", "any"),
            ];
            let strict = |port: i64| effective_mode(pas, ns, &labels, port);
            let anchor = pas
                .iter()
                .find(|p| p.namespace.as_deref() == Some(ns))
                .copied();
            let Some(anchor) = anchor else { continue };
            if let Some(ks) = knative {
                let (mode, _) = strict(9090);
                if mode == "STRICT" {
                    f.fail("mesh", anchor, "spec.mtls", format!(
                        "KServe {component} pods in {ns} are STRICT on queue-proxy's 9090 (http-autometric), which Knative's autoscaler (no sidecar; {}) scrapes to scale them: add a PERMISSIVE portLevelMtls exception for 9090", ks.id()));
                }
                if !activator_meshed && strict(8012).0 == "STRICT" {
                    f.fail("mesh", anchor, "spec.mtls", format!(
                        "KServe {component} pods in {ns} are STRICT on queue-proxy's 8012, but Knative's activator has no sidecar ({} gives its workload no sidecar.istio.io/inject label): requests it buffers would be refused", ks.id()));
                }
            }
            for (monitor, port) in &revision_monitors {
                let Some((number, _, _)) =
                    QUEUE_PROXY_PLAIN_PORTS.iter().find(|(_, n, _)| n == port)
                else {
                    continue;
                };
                if strict(i64::from(*number)).0 == "STRICT" {
                    f.fail("mesh", anchor, "spec.mtls", format!(
                        "KServe {component} pods in {ns} are STRICT on {number} ({port}), which {} scrapes without a sidecar: add a PERMISSIVE portLevelMtls exception for {number}", monitor.id()));
                }
            }
        }
    }
}

fn check_egress(objects: &[Object], ctx: &Context, f: &mut Findings) {
    let policies: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "NetworkPolicy" && o.group() == "networking.k8s.io")
        .collect();
    if !policies.iter().any(|p| {
        p.at("spec.policyTypes")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x == "Egress"))
    }) {
        return;
    }
    let pods = pod_sets(objects);
    let mut fail = |o: &Object, what: String, isolating: Vec<String>| {
        f.fail(
            "egress",
            o,
            "",
            format!(
                "{what} is not allowed by the egress policies isolating these pods: {}",
                isolating.join(", ")
            ),
        );
    };
    // Accounts the rendered RBAC binds: their pods talk to the API server.
    let bound: Vec<(String, String)> = objects
        .iter()
        .filter(|o| {
            matches!(o.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
                && o.group() == "rbac.authorization.k8s.io"
        })
        .flat_map(|o| {
            o.at("subjects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter(|s| s.get("kind").and_then(Value::as_str) == Some("ServiceAccount"))
        .map(|s| {
            (
                s.get("namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                s.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let istiod: Vec<&PodSet> = pods
        .iter()
        .filter(|p| p.1 == ROOT_NAMESPACE && p.2.contains(&("app", "istiod")))
        .collect();
    let injected_ns = super::sidecar::injection_enabled_namespaces(objects);
    // Deployments the Knative Operator gives a sidecar (KnativeServing spec.workloads labels).
    let meshed_by_operator = super::operator::sidecar_workloads(objects);
    for p in &pods {
        let (o, ns, labels) = (p.0, p.1, &p.2);
        // DNS: every pod resolves names (CoreDNS in kube-system).
        let dns = Destination::Pods {
            namespace: "kube-system",
            labels: vec![("k8s-app", "kube-dns")],
        };
        // Resolvers answer on UDP first (TCP only for truncated answers): UDP 53 must pass.
        if let Err(iso) = egress_admitted_on(&policies, ns, labels, &dns, 53, Some("UDP")) {
            fail(o, "DNS (UDP port 53)".into(), iso);
        }
        // Controllers -> API server.
        let pods = pods::pods(o);
        let sa = pods
            .first()
            .and_then(|p| p.spec.get("serviceAccountName").and_then(Value::as_str))
            .unwrap_or("default");
        if bound.iter().any(|(bns, name)| bns == ns && name == sa) {
            for cidr in &ctx.api_server {
                if let Err(iso) = egress_admitted(
                    &policies,
                    ns,
                    labels,
                    &Destination::Cidr(cidr),
                    ctx.api_server_port,
                ) {
                    fail(o, format!("the API server ({cidr} port {}; ServiceAccount {sa} is bound to a role)", ctx.api_server_port), iso);
                }
            }
        }
        // xDS: pods with an Istio proxy fetch configuration and certificates from istiod.
        let proxied = pods::pods(o).iter().any(|pod| {
            pod.containers()
                .iter()
                .any(|c| c.str("image") == Some("auto"))
        }) || labels.contains(&("sidecar.istio.io/inject", "true"))
            || meshed_by_operator.contains(&(ns, o.name.as_str()))
            || (injected_ns.contains(&ns)
                && !labels.contains(&("sidecar.istio.io/inject", "false")));
        if proxied {
            for d in &istiod {
                let dest = Destination::Pods {
                    namespace: d.1,
                    labels: d.2.clone(),
                };
                if let Err(iso) = egress_admitted(&policies, ns, labels, &dest, 15012) {
                    fail(o, format!("xDS to istiod ({} port 15012)", d.0.id()), iso);
                }
            }
        }
    }
    // The data path: gateway -> activator, activator and autoscaler -> revisions (in any
    // model namespace: a pod of another namespace stands for them).
    let gateways: Vec<&PodSet> = pods
        .iter()
        .filter(|p| p.2.contains(&("istio", "ingressgateway")))
        .collect();
    let find = |app: &str| {
        pods.iter()
            .filter(move |p| p.1 == "knative-serving" && p.2.contains(&("app", app)))
            .collect::<Vec<_>>()
    };
    let revision = Destination::Pods {
        namespace: "models",
        labels: vec![
            ("serving.knative.dev/revision", "any"),
            ("component", "predictor"),
        ],
    };
    if super::operator::knative_servings(objects).next().is_some() {
        for g in &gateways {
            for a in find("activator") {
                let dest = Destination::Pods {
                    namespace: a.1,
                    labels: a.2.clone(),
                };
                if let Err(iso) = egress_admitted(&policies, g.1, &g.2, &dest, 8012) {
                    fail(
                        g.0,
                        format!("gateway -> activator ({} port 8012)", a.0.id()),
                        iso,
                    );
                }
            }
            if let Err(iso) = egress_admitted(&policies, g.1, &g.2, &revision, 8012) {
                fail(
                    g.0,
                    "gateway -> a revision's queue-proxy in a model namespace (port 8012)".into(),
                    iso,
                );
            }
        }
        for (app, port) in [("activator", 8012), ("autoscaler", 9090)] {
            for a in find(app) {
                if let Err(iso) = egress_admitted(&policies, a.1, &a.2, &revision, port) {
                    fail(
                        a.0,
                        format!(
                            "{app} -> a revision's queue-proxy in a model namespace (port {port})"
                        ),
                        iso,
                    );
                }
            }
        }
    }
}
