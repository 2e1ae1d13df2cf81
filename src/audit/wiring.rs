//! Wiring: what one object names in another must exist in the rendered objects. Services
//! select pods and target their ports; monitors name ports; webhooks name Services;
//! certificates name issuers; and where NetworkPolicies isolate pods, each exposed port is
//! admitted from where its clients are.

use serde_json::Value;

use super::manifest::{string_map, Object};
use super::pods::pod_labels;
use super::pods::pods;
use super::report::Findings;

/// A workload's pods: namespace, labels and declared container ports.
struct Pods<'a> {
    object: &'a Object,
    namespace: &'a str,
    labels: Vec<(&'a str, &'a str)>,
    /// (name, number) of every container port.
    ports: Vec<(Option<&'a str>, i64)>,
    /// An Istio gateway (`image: auto`): the injected proxy listens on the ports its Service
    /// and Gateway resources name, none of which the template declares.
    injected_gateway: bool,
}

fn workloads(objects: &[Object]) -> Vec<Pods<'_>> {
    let mut out = Vec::new();
    for o in objects {
        let (Some(labels), Some(ns)) = (pod_labels(o), o.namespace.as_deref()) else {
            continue;
        };
        let mut ports = Vec::new();
        let mut injected_gateway = false;
        for pod in pods(o) {
            for c in pod.containers().iter().map(|c| c.value) {
                injected_gateway |= c.get("image").and_then(Value::as_str) == Some("auto");
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
        out.push(Pods {
            object: o,
            namespace: ns,
            labels,
            ports,
            injected_gateway,
        });
    }
    out
}

/// A label selector (`matchLabels` and `matchExpressions`) against labels.
pub(super) fn selects(selector: Option<&Value>, labels: &[(&str, &str)]) -> bool {
    let Some(sel) = selector else { return true };
    let get = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
    let match_labels = sel.get("matchLabels").or_else(|| {
        // A Service's selector is a plain map.
        (sel.get("matchExpressions").is_none()).then_some(sel)
    });
    for (k, v) in string_map(match_labels) {
        if get(k) != Some(v) {
            return false;
        }
    }
    for (key, op, values) in match_expressions(Some(sel)) {
        let ok = match op {
            "In" => get(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => get(key).is_none_or(|v| !values.contains(&v)),
            "Exists" => get(key).is_some(),
            "DoesNotExist" => get(key).is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// A selector's `matchExpressions`: (key, operator, values), missing strings empty.
fn match_expressions(sel: Option<&Value>) -> impl Iterator<Item = (&str, &str, Vec<&str>)> {
    fn text(v: Option<&Value>) -> &str {
        v.and_then(Value::as_str).unwrap_or("")
    }
    sel.and_then(|s| s.get("matchExpressions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(move |e| {
            let values = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            (text(e.get("key")), text(e.get("operator")), values)
        })
}

fn selector_text(sel: Option<&Value>) -> String {
    let mut pairs: Vec<String> = string_map(sel.and_then(|s| s.get("matchLabels").or(Some(s))))
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    // `matchExpressions` too, as kubectl prints them (`app in (activator,autoscaler)`).
    for (key, op, values) in match_expressions(sel) {
        pairs.push(match op {
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => format!("{key} {} ({})", op.to_lowercase(), values.join(",")),
        });
    }
    pairs.join(",")
}

/// Where a port's clients are.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Client {
    /// Outside the cluster (LoadBalancer and NodePort Services).
    Outside,
    /// The API server, which is not a pod (webhooks).
    ApiServer,
    /// Pods of one namespace (Prometheus in the monitoring namespace).
    Namespace(String),
    /// Some pod in the cluster.
    AnyPod,
}

impl Client {
    fn describe(&self) -> String {
        match self {
            Client::Outside => "from outside the cluster".into(),
            Client::ApiServer => "from the API server (not a pod)".into(),
            Client::Namespace(n) => format!("from namespace {n}"),
            Client::AnyPod => "from any pod".into(),
        }
    }
}

/// A target container port: number and name.
#[derive(Clone, Copy)]
pub(super) struct Port<'a> {
    pub(super) number: i64,
    pub(super) name: Option<&'a str>,
}

/// Resolves a Service `targetPort` on a workload's pods.
fn resolve<'a>(pods: &Pods<'a>, target: &Value) -> Option<Port<'a>> {
    match target {
        Value::String(name) => pods
            .ports
            .iter()
            .find(|(n, _)| *n == Some(name.as_str()))
            .map(|(n, number)| Port {
                number: *number,
                name: *n,
            }),
        Value::Number(n) => {
            let number = n.as_i64()?;
            match pods.ports.iter().find(|(_, p)| *p == number) {
                Some((name, _)) => Some(Port {
                    number,
                    name: *name,
                }),
                None if pods.injected_gateway => Some(Port { number, name: None }),
                None => None,
            }
        }
        _ => None,
    }
}

/// Whether the policies of `ns` admit `port` on `pods` from `client`. Returns the names of
/// the policies that isolate the pods when none admits it.
fn admitted(
    policies: &[&Object],
    pods: &Pods,
    port: Port,
    client: &Client,
) -> Result<(), Vec<String>> {
    let isolating: Vec<&&Object> = policies
        .iter()
        .filter(|p| p.namespace.as_deref() == Some(pods.namespace))
        .filter(|p| {
            let types = p.at("spec.policyTypes").and_then(Value::as_array);
            types.is_none_or(|t| t.iter().any(|x| x == "Ingress"))
        })
        .filter(|p| selects(p.at("spec.podSelector"), &pods.labels))
        .collect();
    if isolating.is_empty() {
        return Ok(());
    }
    for p in &isolating {
        for rule in p
            .at("spec.ingress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if port_matches(rule.get("ports"), port)
                && peer_matches(rule.get("from"), pods.namespace, client)
            {
                return Ok(());
            }
        }
    }
    Err(isolating.iter().map(|p| p.name.clone()).collect())
}

/// Whether a policy rule's `ports` admit `port` (no list, or an empty one, admits every port;
/// a named entry matches only a port of that name).
pub(super) fn port_matches(ports: Option<&Value>, port: Port) -> bool {
    let Some(list) = ports.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return true;
    };
    list.iter().any(|p| match p.get("port") {
        None => true,
        Some(Value::Number(n)) => {
            let start = n.as_i64().unwrap_or(-1);
            let end = p.get("endPort").and_then(Value::as_i64).unwrap_or(start);
            (start..=end).contains(&port.number)
        }
        Some(Value::String(name)) => Some(name.as_str()) == port.name,
        _ => false,
    })
}

fn peer_matches(from: Option<&Value>, policy_ns: &str, client: &Client) -> bool {
    let Some(peers) = from.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return true;
    };
    peers.iter().any(|peer| {
        if let Some(block) = peer.get("ipBlock") {
            let cidr = block.get("cidr").and_then(Value::as_str).unwrap_or("");
            let open = cidr == "0.0.0.0/0" || cidr == "::/0";
            let excepts = block
                .get("except")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty());
            return open && !excepts;
        }
        let ns_sel = peer.get("namespaceSelector");
        match client {
            Client::Outside | Client::ApiServer => false,
            Client::AnyPod => true,
            Client::Namespace(n) => match ns_sel {
                Some(sel) => selects(Some(sel), &[("kubernetes.io/metadata.name", n.as_str())]),
                None => n == policy_ns,
            },
        }
    })
}

/// Everything the wiring checks need about the environment.
pub struct Context<'a> {
    pub monitoring_namespace: Option<&'a str>,
    /// ClusterIssuers that exist outside the rendered objects (the matrix's external issuer).
    pub external_issuers: Vec<&'a str>,
    /// The Knative Operator's objects were not given: pods it creates are unknown.
    pub operator_objects_missing: bool,
    /// Only some releases were rendered: a reference to an object of another release is a
    /// note, not a failure.
    pub partial: bool,
}

/// A reference to an object that is not in the input: a failure, or a note when only some
/// releases were rendered (the object may belong to another).
fn missing(f: &mut Findings, ctx: &Context, o: &Object, path: &str, message: String) {
    if ctx.partial {
        f.note(
            "wiring",
            o,
            path,
            format!("{message} in these releases (another release may render it)"),
        );
    } else {
        f.fail("wiring", o, path, message);
    }
}

pub fn check(objects: &[Object], ctx: &Context, f: &mut Findings) {
    let pods = workloads(objects);
    let policies: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "NetworkPolicy" && o.group() == "networking.k8s.io")
        .collect();
    let services: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "Service" && o.group().is_empty())
        .collect();
    let knative_namespaces: Vec<&str> = super::operator::knative_servings(objects)
        .filter_map(|o| o.namespace.as_deref())
        .collect();
    // The operator's namespaces hold pods the input does not show, unless its workloads are
    // stood in for (stand_ins.rs: every Deployment it creates there).
    let stood_in: Vec<&str> = objects
        .iter()
        .filter(|o| super::stand_ins::is_stand_in(o))
        .filter_map(|o| o.namespace.as_deref())
        .collect();
    let unknown_pods = |ns: &str| {
        ctx.operator_objects_missing && knative_namespaces.contains(&ns) && !stood_in.contains(&ns)
    };

    // (service, port name, client): who reaches which Service port.
    let mut clients: Vec<(&Object, Option<String>, Option<i64>, Client)> = Vec::new();

    // Webhooks (admission and CRD conversion) name a Service, port and path; the API server
    // calls them.
    for w in super::webhooks::refs(objects) {
        let (name, ns, port, o) = (w.name, w.namespace, w.port, w.object);
        let path = w.field.as_str();
        match services
            .iter()
            .find(|s| s.name == name && s.namespace.as_deref() == Some(ns))
        {
            None if unknown_pods(ns) => {}
            None => missing(
                f,
                ctx,
                o,
                path,
                format!("names Service {ns}/{name}, which is not rendered"),
            ),
            Some(s) => {
                if service_port(s, |p| p.get("port").and_then(Value::as_i64) == Some(port))
                    .is_none()
                {
                    f.fail(
                        "wiring",
                        o,
                        path,
                        format!("names port {port} of Service {ns}/{name}, which has no such port"),
                    );
                }
                clients.push((s, None, Some(port), Client::ApiServer));
            }
        }
    }
    super::webhooks::check_paths(objects, f);

    // The webhooks the Knative Operator registers for its stand-in Services.
    for s in &services {
        if let Some(port) = super::stand_ins::webhook_port(s) {
            clients.push((s, None, Some(port), Client::ApiServer));
        }
    }

    // Monitors name ports of what they select; Prometheus scrapes from its namespace.
    for o in objects
        .iter()
        .filter(|o| o.group() == "monitoring.coreos.com")
    {
        let own_ns = o.namespace.as_deref().unwrap_or("");
        let any_namespace =
            o.at("spec.namespaceSelector.any").and_then(Value::as_bool) == Some(true);
        let namespaces: Vec<String> = match o
            .at("spec.namespaceSelector.matchNames")
            .and_then(Value::as_array)
        {
            Some(list) => list
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            None => vec![own_ns.to_string()],
        };
        let in_scope = |ns: &str| any_namespace || namespaces.iter().any(|n| n == ns);
        let scraper = ctx
            .monitoring_namespace
            .map(|n| Client::Namespace(n.to_string()))
            .unwrap_or(Client::AnyPod);
        let selector = o.at("spec.selector");
        let endpoints_key = match o.kind.as_str() {
            "ServiceMonitor" => "spec.endpoints",
            _ => "spec.podMetricsEndpoints",
        };
        if matches!(o.kind.as_str(), "ServiceMonitor" | "PodMonitor")
            && o.at(endpoints_key)
                .and_then(Value::as_array)
                .is_none_or(|l| l.is_empty())
        {
            f.fail(
                "wiring",
                o,
                endpoints_key,
                format!(
                    "is missing or empty: the {} scrapes nothing; list the ports to scrape there",
                    o.kind
                ),
            );
        }
        match o.kind.as_str() {
            "ServiceMonitor" => {
                let selected: Vec<&&Object> = services
                    .iter()
                    .filter(|s| s.namespace.as_deref().is_some_and(in_scope))
                    .filter(|s| selects(selector, &s.labels()))
                    .collect();
                if selected.is_empty() {
                    if !namespaces.iter().any(|n| unknown_pods(n)) {
                        f.fail(
                            "wiring",
                            o,
                            "spec.selector",
                            format!(
                                "selects no Service (labels {}) in {}",
                                selector_text(selector),
                                namespaces.join(", ")
                            ),
                        );
                    }
                    continue;
                }
                for (i, ep) in o
                    .at("spec.endpoints")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let Some(port) = ep.get("port").and_then(Value::as_str) else {
                        continue;
                    };
                    for s in &selected {
                        if service_port(s, |p| p.get("name").and_then(Value::as_str) == Some(port))
                            .is_none()
                        {
                            let names: Vec<String> = s
                                .at("spec.ports")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .map(|p| {
                                    p.get("name")
                                        .and_then(Value::as_str)
                                        .unwrap_or("(unnamed)")
                                        .to_string()
                                })
                                .collect();
                            f.fail(
                                "wiring",
                                o,
                                &format!("spec.endpoints[{i}].port"),
                                format!(
                                    "names port `{port}`, but {} has ports: {}",
                                    s.id(),
                                    names.join(", ")
                                ),
                            );
                        } else {
                            clients.push((s, Some(port.to_string()), None, scraper.clone()));
                        }
                    }
                }
            }
            "PodMonitor" => {
                let selected: Vec<&Pods> = pods
                    .iter()
                    .filter(|p| in_scope(p.namespace) && selects(selector, &p.labels))
                    .collect();
                if selected.is_empty() {
                    if super::stand_ins::selects_revisions(selector) {
                        revision_ports(o, f);
                    }
                    if any_namespace {
                        f.note("wiring", o, "spec.selector", "selects no rendered pod; with namespaceSelector.any it scrapes pods created at run time (Knative revisions), which no render shows".into());
                    } else if namespaces.iter().any(|n| unknown_pods(n)) {
                        f.note("wiring", o, "spec.selector", "selects pods the Knative Operator creates; pass --operator-manifests to check them".into());
                    } else {
                        f.fail(
                            "wiring",
                            o,
                            "spec.selector",
                            format!(
                                "selects no pod (labels {}) in {}",
                                selector_text(selector),
                                namespaces.join(", ")
                            ),
                        );
                    }
                    continue;
                }
                for (i, port) in o.pod_monitor_ports() {
                    for p in &selected {
                        match p.ports.iter().find(|(n, _)| *n == Some(port)) {
                            None => f.fail(
                                "wiring",
                                o,
                                &format!("spec.podMetricsEndpoints[{i}].port"),
                                format!(
                                    "names port `{port}`, which no container of {} declares",
                                    p.object.id()
                                ),
                            ),
                            Some((name, number)) => {
                                if let Err(isolating) = admitted(
                                    &policies,
                                    p,
                                    Port {
                                        number: *number,
                                        name: *name,
                                    },
                                    &scraper,
                                ) {
                                    f.fail("network", p.object, "", format!("port {number} ({port}) scraped by {} is not admitted {}; policies isolating these pods: {}", o.id(), scraper.describe(), isolating.join(", ")));
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    // Services select pods in their namespace and target ports those pods have.
    for s in &services {
        let Some(sel) = s
            .at("spec.selector")
            .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        else {
            continue;
        };
        let ns = s.namespace.as_deref().unwrap_or("");
        let selected: Vec<&Pods> = pods
            .iter()
            .filter(|p| p.namespace == ns && selects(Some(sel), &p.labels))
            .collect();
        if selected.is_empty() {
            if !unknown_pods(ns) {
                f.fail(
                    "wiring",
                    s,
                    "spec.selector",
                    format!(
                        "selects no pod (labels {}) in namespace {ns}",
                        selector_text(Some(sel))
                    ),
                );
            }
            continue;
        }
        let exposed = matches!(s.str_at("spec.type"), Some("LoadBalancer" | "NodePort"));
        for (i, p) in s
            .at("spec.ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let number = p.get("port").and_then(Value::as_i64);
            let name = p.get("name").and_then(Value::as_str);
            let target = p
                .get("targetPort")
                .cloned()
                .or_else(|| p.get("port").cloned())
                .unwrap_or(Value::Null);
            let mut who: Vec<Client> = clients
                .iter()
                .filter(|(cs, cname, cnum, _)| {
                    std::ptr::eq(*cs, *s)
                        && (cname.as_deref().is_some_and(|c| Some(c) == name)
                            || cnum.is_some_and(|c| Some(c) == number))
                })
                .map(|(_, _, _, c)| c.clone())
                .collect();
            if exposed {
                who.push(Client::Outside);
            }
            if who.is_empty() {
                who.push(Client::AnyPod);
            }
            for pods in &selected {
                let port = match (resolve(pods, &target), &target) {
                    (Some(port), _) => port,
                    // Kubernetes forwards a numeric targetPort whether or not a container
                    // declares it: known only for the processes upstream documents
                    // (`pods::listens_undeclared`, istiod's 15012 and 15014), else a failure.
                    (None, Value::Number(n)) => {
                        let number = n.as_i64().unwrap_or(0);
                        if !super::pods::listens_undeclared(pods.object, number) {
                            f.fail("wiring", s, &format!("spec.ports[{i}].targetPort"), format!("targets port {n}, which no container of {} declares: nothing is known to listen there; declare it as a containerPort or target a declared port", pods.object.id()));
                        }
                        Port { number, name: None }
                    }
                    (None, _) => {
                        f.fail(
                            "wiring",
                            s,
                            &format!("spec.ports[{i}].targetPort"),
                            format!(
                                "targets {} which no container of {} declares",
                                target_text(&target),
                                pods.object.id()
                            ),
                        );
                        continue;
                    }
                };
                for client in &who {
                    if let Err(isolating) = admitted(&policies, pods, port, client) {
                        f.fail("network", s, &format!("spec.ports[{i}]"), format!(
                            "port {} -> {} on {} is not admitted {}; NetworkPolicies isolating those pods: {}",
                            number.unwrap_or(0), port.number, pods.object.id(), client.describe(), isolating.join(", ")
                        ));
                    }
                }
            }
        }
    }

    // cert-manager: every issuerRef and CA injection names something that exists.
    for o in objects
        .iter()
        .filter(|o| o.group() == "cert-manager.io" && o.kind == "Certificate")
    {
        let Some(r) = o.at("spec.issuerRef") else {
            continue;
        };
        let group = r
            .get("group")
            .and_then(Value::as_str)
            .unwrap_or("cert-manager.io");
        if group != "cert-manager.io" {
            continue;
        }
        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or("Issuer");
        let found = objects.iter().any(|i| {
            i.group() == "cert-manager.io"
                && i.kind == kind
                && i.name == name
                && (kind == "ClusterIssuer" || i.namespace == o.namespace)
        }) || (kind == "ClusterIssuer" && ctx.external_issuers.contains(&name));
        if !found {
            missing(f, ctx, o, "spec.issuerRef", format!("names {kind} {name}, which is neither rendered nor declared external by the matrix"));
        }
    }
    for o in objects {
        let Some(from) = o
            .at("metadata.annotations")
            .and_then(|a| a.get("cert-manager.io/inject-ca-from"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let (ns, name) = from.split_once('/').unwrap_or(("", from));
        let found = objects.iter().any(|c| {
            c.group() == "cert-manager.io"
                && c.kind == "Certificate"
                && c.name == name
                && c.namespace.as_deref() == Some(ns)
        });
        if !found {
            missing(
                f,
                ctx,
                o,
                "metadata.annotations[cert-manager.io/inject-ca-from]",
                format!("names Certificate {from}, which is not rendered"),
            );
        }
    }
}

/// A PodMonitor of Knative revisions (created at run time) names ports their pods declare.
fn revision_ports(o: &Object, f: &mut Findings) {
    let known = super::stand_ins::REVISION_PORTS;
    for (i, port) in o.pod_monitor_ports() {
        if !known.contains(&port) {
            f.fail(
                "wiring",
                o,
                &format!("spec.podMetricsEndpoints[{i}].port"),
                format!(
                    "names port `{port}`, which no container of the Knative revision pods it selects declares (they declare {}); request metrics are `http-usermetric` (9091)",
                    known.join(", ")
                ),
            );
        }
    }
}

fn target_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("port `{s}`"),
        other => format!("port {other}"),
    }
}

fn service_port(s: &Object, pred: impl Fn(&Value) -> bool) -> Option<&Value> {
    s.at("spec.ports")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| pred(p))
}

/// Where an egress flow goes: pods (namespace, labels), or an address block (the API
/// server, which is not a pod).
pub(super) enum Destination<'a> {
    Pods {
        namespace: &'a str,
        labels: Vec<(&'a str, &'a str)>,
    },
    Cidr(&'a str),
}

/// Egress admission (the mirror of `admitted` for `policyTypes: [Egress]`): whether the
/// policies of the client's namespace let pods with `labels` open `port` to `dest`. Returns the
/// names of the policies isolating the client's egress when none admits it.
pub(super) fn egress_admitted(
    policies: &[&Object],
    namespace: &str,
    labels: &[(&str, &str)],
    dest: &Destination,
    port: i64,
) -> Result<(), Vec<String>> {
    egress_admitted_on(policies, namespace, labels, dest, port, None)
}

/// `egress_admitted` for one `protocol` (a policy port without `protocol` is TCP, as the API
/// server defaults it); None: any protocol.
pub(super) fn egress_admitted_on(
    policies: &[&Object],
    namespace: &str,
    labels: &[(&str, &str)],
    dest: &Destination,
    port: i64,
    protocol: Option<&str>,
) -> Result<(), Vec<String>> {
    let isolating: Vec<&&Object> = policies
        .iter()
        .filter(|p| p.namespace.as_deref() == Some(namespace))
        .filter(|p| {
            p.at("spec.policyTypes")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|x| x == "Egress"))
        })
        .filter(|p| selects(p.at("spec.podSelector"), labels))
        .collect();
    if isolating.is_empty() {
        return Ok(());
    }
    let port = Port {
        number: port,
        name: None,
    };
    for p in &isolating {
        for rule in p
            .at("spec.egress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if port_matches(rule.get("ports"), port)
                && protocol.is_none_or(|p| protocol_matches(rule.get("ports"), port.number, p))
                && egress_peer_matches(rule.get("to"), namespace, dest)
            {
                return Ok(());
            }
        }
    }
    Err(isolating.iter().map(|p| p.name.clone()).collect())
}

/// Whether a rule's `ports` admit numeric `port` over `protocol` (no list admits every one).
fn protocol_matches(ports: Option<&Value>, port: i64, protocol: &str) -> bool {
    let Some(list) = ports.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return true;
    };
    list.iter().any(|p| {
        let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        let number = match p.get("port") {
            None => true,
            Some(Value::Number(n)) => {
                let start = n.as_i64().unwrap_or(-1);
                let end = p.get("endPort").and_then(Value::as_i64).unwrap_or(start);
                (start..=end).contains(&port)
            }
            _ => false,
        };
        number && proto == protocol
    })
}

fn egress_peer_matches(to: Option<&Value>, policy_ns: &str, dest: &Destination) -> bool {
    let Some(peers) = to.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return true;
    };
    peers.iter().any(|peer| {
        if let Some(block) = peer.get("ipBlock") {
            let cidr = block.get("cidr").and_then(Value::as_str).unwrap_or("");
            let excepts: Vec<&str> = block
                .get("except")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            return match dest {
                // Pod addresses are unknown: only an all-addresses block surely holds them.
                Destination::Pods { .. } => {
                    (cidr == "0.0.0.0/0" || cidr == "::/0") && excepts.is_empty()
                }
                Destination::Cidr(target) => {
                    cidr_contains(cidr, target) && !excepts.iter().any(|e| cidr_overlaps(e, target))
                }
            };
        }
        let Destination::Pods { namespace, labels } = dest else {
            return false;
        };
        let ns_ok = match peer.get("namespaceSelector") {
            Some(sel) => selects(Some(sel), &[("kubernetes.io/metadata.name", namespace)]),
            None => *namespace == policy_ns,
        };
        ns_ok && selects(peer.get("podSelector"), labels)
    })
}

/// (address bits, prefix length) of an IPv4 or IPv6 CIDR.
fn parse_cidr(c: &str) -> Option<(u128, u32, bool)> {
    let (addr, bits) = c.split_once('/')?;
    let bits: u32 = bits.parse().ok()?;
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => {
            (bits <= 32).then(|| (u128::from(u32::from(a)) << 96, bits, true))
        }
        std::net::IpAddr::V6(a) => (bits <= 128).then(|| (u128::from(a), bits, false)),
    }
}

fn prefix(addr: u128, bits: u32) -> u128 {
    if bits == 0 {
        0
    } else {
        addr & (u128::MAX << (128 - bits))
    }
}

/// `outer` holds every address of `inner`.
fn cidr_contains(outer: &str, inner: &str) -> bool {
    match (parse_cidr(outer), parse_cidr(inner)) {
        // IPv4 addresses sit in the top 32 bits, so prefix lengths compare as they are.
        (Some((o, ob, o4)), Some((i, ib, i4))) if o4 == i4 => {
            ob <= ib && prefix(o, ob) == prefix(i, ob)
        }
        _ => false,
    }
}

fn cidr_overlaps(a: &str, b: &str) -> bool {
    cidr_contains(a, b) || cidr_contains(b, a)
}
