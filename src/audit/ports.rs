//! Port collisions on the nodes, for a whole platform render (every app of the root helmfile,
//! as `helmfile -e ENV template` prints it): our gateway must not take a port another app of
//! the platform claims on every node.
//!
//! - **nodePort**: the API server allocates a Service's `nodePort` (and a LoadBalancer's
//!   `healthCheckNodePort`) from one cluster-wide range, by number only: two Services cannot
//!   hold one number, whatever the protocols (the second is refused, "provided port is already
//!   allocated"). One Service may use a number once per protocol (TCP and UDP of one port).
//! - **hostPort**: a container's `hostPort` (or, with `hostNetwork: true`, its `containerPort`,
//!   which the API server copies into `hostPort`) binds that port on the node. Two pods on one
//!   node collide as the scheduler's NodePorts filter says: same port and protocol (default
//!   TCP), and the same `hostIP` or either one unset (`""`, read as `0.0.0.0`: every
//!   address). One pod template claiming a port twice is refused by the API server.
//!
//! Which pods share a node: a DaemonSet runs on every node its `nodeSelector` admits, so two
//! DaemonSets, or a DaemonSet and any other workload, share a node unless their
//! `nodeSelector`s are provably disjoint (one key with two different values); affinity and
//! taints are not read, so such a pair is assumed to meet (at worst a false alarm). Other
//! workloads (Deployment, StatefulSet, ReplicaSet, Job, Pod...) are placed by the scheduler,
//! which keeps pods with a conflicting host port on different nodes: together they need one
//! node per replica. That fails when the matrix gives `cluster.nodes` and the replicas exceed
//! it, and is a note otherwise (the audit cannot know the node count). Replicas of one workload
//! sharing its own hostPort (a DaemonSet's pods, an ingress controller's replicas) are the same
//! claim on different nodes, not a collision.
//!
//! Not checked: a hostPort against a nodePort (kube-proxy does not bind node ports in its
//! iptables or IPVS modes), ports bound by processes outside Kubernetes.

use serde_json::Value;

use super::manifest::Object;
use super::pods::pods;
use super::report::Findings;
use crate::plan::EnvPlan;

/// One claim of a node port.
struct Claim<'a> {
    object: &'a Object,
    /// Field path, e.g. `spec.ports[http2].nodePort`.
    path: String,
    port: i64,
    protocol: String,
    /// hostPort only: the address bound (`0.0.0.0` when unset).
    host_ip: String,
}

impl Claim<'_> {
    fn describe(&self) -> String {
        let source = match &self.object.source {
            Some(s) => format!("{s}, input line {}", self.object.line),
            None => format!("input line {}", self.object.line),
        };
        format!("{} {} [{source}]", self.object.id(), self.path)
    }
}

/// Checks nodePorts and hostPorts of every object of the render.
pub fn check(env: &EnvPlan, all: &[Object], f: &mut Findings) {
    node_ports(all, f);
    host_ports(all, env.env.cluster.nodes, f);
}

fn int(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_i64)
}

fn protocol(p: &Value) -> String {
    p.get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("TCP")
        .to_string()
}

/// How a port entry is named in a field path: its name, else its index.
fn entry(p: &Value, i: usize) -> String {
    p.get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| i.to_string())
}

fn service_claims(o: &Object) -> Vec<Claim<'_>> {
    let mut out = Vec::new();
    if o.kind != "Service" || o.group() != "" {
        return out;
    }
    let ports = o.at("spec.ports").and_then(Value::as_array);
    for (i, p) in ports.into_iter().flatten().enumerate() {
        if let Some(port) = int(p.get("nodePort")).filter(|n| *n != 0) {
            out.push(Claim {
                object: o,
                path: format!("spec.ports[{}].nodePort", entry(p, i)),
                port,
                protocol: protocol(p),
                host_ip: String::new(),
            });
        }
    }
    if let Some(port) = int(o.at("spec.healthCheckNodePort")).filter(|n| *n != 0) {
        out.push(Claim {
            object: o,
            path: "spec.healthCheckNodePort".into(),
            port,
            protocol: "TCP".into(),
            host_ip: String::new(),
        });
    }
    out
}

fn node_ports(all: &[Object], f: &mut Findings) {
    let claims: Vec<Claim> = all.iter().flat_map(service_claims).collect();
    for (i, b) in claims.iter().enumerate() {
        // The first earlier claim this one collides with: one finding per colliding claim.
        let earlier = claims[..i].iter().find(|a| {
            a.port == b.port && (!std::ptr::eq(a.object, b.object) || a.protocol == b.protocol)
        });
        if let Some(a) = earlier {
            f.fail(
                "ports",
                b.object,
                &b.path,
                format!(
                    "nodePort {} is also claimed by {}: the API server allocates each nodePort to one Service",
                    b.port,
                    a.describe()
                ),
            );
        }
    }
}

/// Pods of a workload: whether it runs on every node, how many pods the scheduler places
/// otherwise, its nodeSelector.
struct Placement<'a> {
    every_node: bool,
    replicas: u64,
    node_selector: Vec<(&'a str, &'a str)>,
}

fn placement<'a>(o: &'a Object, spec: &'a Value) -> Placement<'a> {
    let replicas = match o.kind.as_str() {
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => {
            int(o.at("spec.replicas")).unwrap_or(1)
        }
        "Job" => int(o.at("spec.parallelism")).unwrap_or(1),
        "CronJob" => int(o.at("spec.jobTemplate.spec.parallelism")).unwrap_or(1),
        _ => 1,
    };
    Placement {
        every_node: o.kind == "DaemonSet",
        replicas: u64::try_from(replicas).unwrap_or(0),
        node_selector: super::manifest::string_map(spec.get("nodeSelector")),
    }
}

/// Two nodeSelectors no node satisfies both of: one key asked with two values.
fn disjoint(a: &[(&str, &str)], b: &[(&str, &str)]) -> bool {
    a.iter()
        .any(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v != v2))
}

/// `""` and `0.0.0.0` bind every address (the scheduler reads an unset hostIP as 0.0.0.0).
fn overlap(a: &str, b: &str) -> bool {
    let wild = |ip: &str| ip.is_empty() || ip == "0.0.0.0";
    wild(a) || wild(b) || a == b
}

fn host_claims<'a>(o: &'a Object) -> Vec<(Claim<'a>, Placement<'a>)> {
    let mut out = Vec::new();
    for pod in pods(o) {
        let spec = pod.spec;
        let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
        for c in pod.containers() {
            let ports = c.value.get("ports").and_then(Value::as_array);
            for (i, p) in ports.into_iter().flatten().enumerate() {
                let at = format!("{}.ports[{}]", c.at, entry(p, i));
                let (port, path) = match (int(p.get("hostPort")), int(p.get("containerPort"))) {
                    (Some(h), _) if h != 0 => (h, format!("{at}.hostPort")),
                    (_, Some(c)) if host_network => {
                        (c, format!("{at}.containerPort (hostNetwork)"))
                    }
                    _ => continue,
                };
                out.push((
                    Claim {
                        object: o,
                        path,
                        port,
                        protocol: protocol(p),
                        host_ip: p
                            .get("hostIP")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    },
                    placement(o, spec),
                ));
            }
        }
    }
    out
}

fn host_ports(all: &[Object], nodes: Option<u32>, f: &mut Findings) {
    let claims: Vec<(Claim, Placement)> = all.iter().flat_map(host_claims).collect();
    let meet = |a: &(Claim, Placement), b: &(Claim, Placement)| {
        a.0.port == b.0.port && a.0.protocol == b.0.protocol && overlap(&a.0.host_ip, &b.0.host_ip)
    };
    for (i, b) in claims.iter().enumerate() {
        // Within one pod template: the API server refuses the second.
        if let Some(a) = claims[..i]
            .iter()
            .find(|a| std::ptr::eq(a.0.object, b.0.object) && meet(a, b))
        {
            f.fail(
                "ports",
                b.0.object,
                &b.0.path,
                format!(
                    "hostPort {}/{} is claimed twice by one pod template (also {}): the API server refuses it",
                    b.0.port,
                    b.0.protocol,
                    a.0.path
                ),
            );
            continue;
        }
        // Against a DaemonSet, or by a DaemonSet: the two meet on a node.
        let shared = claims[..i].iter().find(|a| {
            !std::ptr::eq(a.0.object, b.0.object)
                && meet(a, b)
                && (a.1.every_node || b.1.every_node)
                && !disjoint(&a.1.node_selector, &b.1.node_selector)
        });
        if let Some(a) = shared {
            f.fail(
                "ports",
                b.0.object,
                &b.0.path,
                format!(
                    "hostPort {}/{} is also claimed by {}; {} runs on every node it may use, so one of the two pods cannot be scheduled there",
                    b.0.port,
                    b.0.protocol,
                    a.0.describe(),
                    if a.1.every_node { a.0.object.id() } else { b.0.object.id() }
                ),
            );
        }
    }
    // Workloads the scheduler places: one node per pod of every workload claiming the port.
    // Reported once, at the second workload that claims it.
    let placed: Vec<&(Claim, Placement)> = claims.iter().filter(|c| !c.1.every_node).collect();
    for (i, b) in placed.iter().enumerate() {
        let mut earlier: Vec<&Object> = Vec::new();
        for a in &placed[..i] {
            if meet(a, b) && !earlier.iter().any(|o| std::ptr::eq(*o, a.0.object)) {
                earlier.push(a.0.object);
            }
        }
        if earlier.len() != 1 || std::ptr::eq(earlier[0], b.0.object) {
            continue;
        }
        let first = placed[..i]
            .iter()
            .find(|a| std::ptr::eq(a.0.object, earlier[0]) && meet(a, b))
            .map(|a| a.0.describe())
            .unwrap_or_default();
        let mut workloads: Vec<&Object> = Vec::new();
        let mut pods = 0u64;
        for c in placed.iter().filter(|c| meet(c, b)) {
            if !workloads.iter().any(|o| std::ptr::eq(*o, c.0.object)) {
                workloads.push(c.0.object);
                pods += c.1.replicas;
            }
        }
        let message = format!(
            "hostPort {}/{} is also claimed by {first}: the scheduler keeps pods claiming one host port on different nodes, so the {} workloads claiming it need {pods} nodes for their {pods} pods",
            b.0.port,
            b.0.protocol,
            workloads.len(),
        );
        match nodes {
            Some(n) if u64::from(n) < pods => f.fail(
                "ports",
                b.0.object,
                &b.0.path,
                format!("{message}; the cluster has {n} (cluster.nodes)"),
            ),
            Some(_) => {}
            None => f.note(
                "ports",
                b.0.object,
                &b.0.path,
                format!("{message} (the matrix gives no cluster.nodes to compare)"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::report::Severity;

    fn objects(text: &str) -> Vec<Object> {
        super::super::manifest::read("in.yaml", text, &|_| None).expect("readable")
    }

    fn messages(f: &Findings, severity: Severity) -> Vec<String> {
        f.0.iter()
            .filter(|x| x.severity == severity && x.check == "ports")
            .map(|x| format!("{} {}: {}", x.object, x.path, x.message))
            .collect()
    }

    fn service(api: &str, name: &str, spec: &str) -> String {
        format!("---\napiVersion: {api}\nkind: Service\nmetadata: {{name: {name}, namespace: a}}\nspec: {spec}\n")
    }

    #[test]
    fn a_health_check_node_port_is_a_node_port_and_zero_is_none() {
        let lb = service(
            "v1",
            "lb",
            "{type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 30500, ports: [{name: http, port: 80, nodePort: 0}]}",
        );
        let np = service(
            "v1",
            "np",
            "{type: NodePort, ports: [{name: http, port: 80, nodePort: 30500}]}",
        );
        let mut f = Findings::default();
        node_ports(&objects(&format!("{lb}{np}")), &mut f);
        assert_eq!(
            messages(&f, Severity::Fail),
            ["Service a/np spec.ports[http].nodePort: nodePort 30500 is also claimed by Service a/lb spec.healthCheckNodePort [input line 2]: the API server allocates each nodePort to one Service"]
        );
        // nodePort 0 asks the API server to allocate one: two of them claim nothing.
        let zero = service(
            "v1",
            "z",
            "{type: NodePort, ports: [{name: http, port: 80, nodePort: 0}]}",
        );
        let mut f = Findings::default();
        node_ports(&objects(&format!("{lb}{zero}")), &mut f);
        assert!(f.0.is_empty(), "{:?}", f.0);
    }

    #[test]
    fn a_service_kind_of_another_group_claims_no_node_port() {
        let np = service(
            "v1",
            "np",
            "{type: NodePort, ports: [{name: http, port: 80, nodePort: 30500}]}",
        );
        let other = service(
            "serving.knative.dev/v1",
            "ks",
            "{ports: [{name: http, port: 80, nodePort: 30500}]}",
        );
        let mut f = Findings::default();
        node_ports(&objects(&format!("{np}{other}")), &mut f);
        assert!(f.0.is_empty(), "{:?}", f.0);
    }

    fn job(name: &str, parallelism: u32, node_selector: &str) -> String {
        format!("---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}, namespace: a}}\nspec:\n  parallelism: {parallelism}\n  template:\n    spec:\n      nodeSelector: {node_selector}\n      containers: [{{name: c, image: x, ports: [{{containerPort: 8080, hostPort: 8080}}]}}]\n")
    }

    #[test]
    fn jobs_count_their_parallel_pods() {
        let text = format!("{}{}", job("a", 2, "{}"), job("b", 2, "{}"));
        for (nodes, failures) in [(3, 1), (4, 0)] {
            let mut f = Findings::default();
            host_ports(&objects(&text), Some(nodes), &mut f);
            let found = messages(&f, Severity::Fail);
            assert_eq!(found.len(), failures, "{nodes} nodes: {found:?}");
            if failures > 0 {
                assert!(
                    found[0].contains("need 4 nodes for their 4 pods; the cluster has 3"),
                    "{found:?}"
                );
            }
        }
    }

    #[test]
    fn a_daemonset_meets_a_workload_whose_node_selector_it_does_not_exclude() {
        let ds = "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds, namespace: a}\nspec:\n  template:\n    spec:\n      nodeSelector: {gpu: \"true\"}\n      containers: [{name: c, image: x, ports: [{containerPort: 8080, hostPort: 8080}]}]\n";
        for (selector, failures) in [
            ("{}", 1),
            ("{zone: a}", 1),
            ("{gpu: \"true\"}", 1),
            ("{gpu: \"false\"}", 0),
        ] {
            let mut f = Findings::default();
            host_ports(
                &objects(&format!("{ds}{}", job("j", 1, selector))),
                Some(10),
                &mut f,
            );
            assert_eq!(messages(&f, Severity::Fail).len(), failures, "{selector}");
        }
    }

    fn deployment(name: &str, replicas: u32, host_port: u32) -> String {
        format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: a}}\nspec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers: [{{name: c, image: x, ports: [{{name: p, containerPort: 80, hostPort: {host_port}}}]}}]\n")
    }

    #[test]
    fn placed_workloads_are_reported_once_per_port_counting_only_that_port() {
        let text = [
            deployment("x", 5, 9000),
            deployment("a", 2, 9100),
            deployment("b", 1, 9100),
            deployment("c", 1, 9100),
        ]
        .concat();
        let mut f = Findings::default();
        host_ports(&objects(&text), Some(3), &mut f);
        let found = messages(&f, Severity::Fail);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].starts_with("Deployment a/b spec.template.spec.containers[c].ports[p].hostPort: hostPort 9100/TCP is also claimed by Deployment a/a spec.template.spec.containers[c].ports[p].hostPort [input line "), "{found:#?}");
        assert!(
            found[0].contains(
                "the 3 workloads claiming it need 4 nodes for their 4 pods; the cluster has 3"
            ),
            "{found:#?}"
        );
    }

    #[test]
    fn host_port_zero_claims_nothing_and_cron_jobs_count_their_parallel_pods() {
        let zero = deployment("z", 1, 0);
        let mut f = Findings::default();
        host_ports(
            &objects(&format!("{zero}{}", deployment("y", 1, 0))),
            Some(1),
            &mut f,
        );
        assert!(f.0.is_empty(), "{:?}", f.0);
        let cron = |name: &str| {
            format!("---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}, namespace: a}}\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      parallelism: 3\n      template:\n        spec:\n          containers: [{{name: c, image: x, ports: [{{containerPort: 80, hostPort: 8080}}]}}]\n")
        };
        let text = format!("{}{}", cron("a"), cron("b"));
        for (nodes, failures) in [(5, 1), (6, 0)] {
            let mut f = Findings::default();
            host_ports(&objects(&text), Some(nodes), &mut f);
            assert_eq!(
                messages(&f, Severity::Fail).len(),
                failures,
                "{nodes} nodes"
            );
        }
    }

    #[test]
    fn one_service_may_reuse_a_node_port_for_another_protocol_two_services_may_not() {
        let one = service(
            "v1",
            "dns",
            "{type: NodePort, ports: [{name: tcp, port: 53, nodePort: 30053}, {name: udp, port: 53, protocol: UDP, nodePort: 30053}]}",
        );
        let other = service(
            "v1",
            "web",
            "{type: NodePort, ports: [{name: http, port: 80, nodePort: 30080}]}",
        );
        let mut f = Findings::default();
        node_ports(&objects(&format!("{one}{other}")), &mut f);
        assert!(f.0.is_empty(), "{:?}", f.0);
        let udp = service(
            "v1",
            "dns2",
            "{type: NodePort, ports: [{name: udp, port: 53, protocol: UDP, nodePort: 30080}]}",
        );
        let mut f = Findings::default();
        node_ports(&objects(&format!("{one}{other}{udp}")), &mut f);
        let found = messages(&f, Severity::Fail);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("Service a/dns2 spec.ports[udp].nodePort: nodePort 30080 is also claimed by Service a/web"), "{found:?}");
    }

    #[test]
    fn addresses_overlap_when_equal_or_either_is_every_address() {
        for (a, b, want) in [
            ("", "", true),
            ("0.0.0.0", "10.0.0.1", true),
            ("10.0.0.1", "", true),
            ("10.0.0.1", "10.0.0.1", true),
            ("10.0.0.1", "10.0.0.2", false),
        ] {
            assert_eq!(overlap(a, b), want, "{a:?} {b:?}");
            assert_eq!(overlap(b, a), want, "{b:?} {a:?}");
        }
    }

    #[test]
    fn a_host_network_pod_claims_its_container_ports() {
        let ds = |name: &str, net: bool, port: &str| {
            format!("---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: {name}, namespace: a}}\nspec:\n  template:\n    spec:\n      hostNetwork: {net}\n      containers: [{{name: c, image: x, ports: [{{name: m, {port}}}]}}]\n")
        };
        let text = format!(
            "{}{}",
            ds("exporter", true, "containerPort: 9100"),
            ds("other", false, "containerPort: 80, hostPort: 9100")
        );
        let mut f = Findings::default();
        host_ports(&objects(&text), None, &mut f);
        let found = messages(&f, Severity::Fail);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("also claimed by DaemonSet a/exporter spec.template.spec.containers[c].ports[m].containerPort (hostNetwork)"), "{found:?}");
        // Without hostNetwork a containerPort is the pod's own.
        let mut f = Findings::default();
        host_ports(
            &objects(&text.replace("hostNetwork: true", "hostNetwork: false")),
            None,
            &mut f,
        );
        assert!(f.0.is_empty(), "{:?}", f.0);
    }
}
