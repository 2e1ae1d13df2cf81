//! The workload surface: Services and their ports, NetworkPolicies and PeerAuthentications,
//! resources and replicas (with the cluster's capacity when the environment is known), and
//! security contexts (privilege, root, host namespaces, capabilities).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::context::Context;
use super::finding::{Class, Finding};
use super::objects::{name_of, Pairs};
use super::structural::diff;
use crate::audit::images::{containers, pod_specs};
use crate::audit::manifest::Object;
use crate::plan::capacity::{parse_quantity, Amount};

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "none".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// port number/protocol -> the port.
fn ports(o: Option<&Object>) -> BTreeMap<String, &Value> {
    o.and_then(|o| o.at("spec.ports"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            (format!("{}/{proto}", show(p.get("port"))), p)
        })
        .collect()
}

fn services(p: &Pairs, out: &mut Vec<Finding>) {
    for (_, b, a) in p.of_kinds(&["Service"]) {
        let (Some(b), Some(a)) = (b, a) else { continue };
        let object = a.id();
        let (pb, pa) = (ports(Some(b)), ports(Some(a)));
        for (port, old) in &pb {
            let Some(new) = pa.get(port) else {
                out.push(Finding::new(
                    Class::ServiceChanged,
                    &object,
                    format!("spec.ports[{port}]"),
                    format!("port {port} ({}) is removed", show(old.get("name"))),
                ));
                continue;
            };
            for field in ["name", "targetPort", "appProtocol", "nodePort"] {
                let (x, y) = (old.get(field), new.get(field));
                if x != y {
                    let why = if field == "name" {
                        " (monitors, Istio and Knative select ports by name)"
                    } else {
                        ""
                    };
                    out.push(Finding::new(
                        Class::ServiceChanged,
                        &object,
                        format!("spec.ports[{port}].{field}"),
                        format!("{} -> {}{why}", show(x), show(y)),
                    ));
                }
            }
        }
        for (port, new) in &pa {
            if !pb.contains_key(port) {
                out.push(Finding::new(
                    Class::ServiceChanged,
                    &object,
                    format!("spec.ports[{port}]"),
                    format!("port {port} ({}) is added", show(new.get("name"))),
                ));
            }
        }
        for field in [
            "spec.type",
            "spec.selector",
            "spec.clusterIP",
            "spec.externalTrafficPolicy",
        ] {
            let (x, y) = (b.at(field), a.at(field));
            if x != y {
                out.push(Finding::new(
                    Class::ServiceChanged,
                    &object,
                    field,
                    format!("{} -> {}", show(x), show(y)),
                ));
            }
        }
    }
}

/// NetworkPolicies and PeerAuthentications: added, removed, or their spec changed.
fn policies(p: &Pairs, kind: &str, class: Class, out: &mut Vec<Finding>) {
    for (_, b, a) in p.of_kinds(&[kind]) {
        let object = name_of(b, a);
        let spec =
            |o: Option<&Object>| o.and_then(|o| o.at("spec")).cloned().unwrap_or(Value::Null);
        match (b, a) {
            (None, Some(_)) => out.push(Finding::new(
                class,
                &object,
                "spec",
                format!("{kind} added: {}", show(Some(&spec(a)))),
            )),
            (Some(_), None) => out.push(Finding::new(
                class,
                &object,
                "spec",
                format!("{kind} removed (was {})", show(Some(&spec(b)))),
            )),
            _ => {
                let mut lines = Vec::new();
                diff(&spec(b), &spec(a), "spec", &mut lines);
                if !lines.is_empty() {
                    out.push(
                        Finding::new(
                            class,
                            &object,
                            "spec",
                            format!(
                                "{} field(s) of the spec changed: {}",
                                lines.len(),
                                lines.first().cloned().unwrap_or_default()
                            ),
                        )
                        .with_details(lines),
                    );
                }
            }
        }
    }
}

/// A container's requests and limits, as text per resource.
fn resources(c: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for kind in ["requests", "limits"] {
        if let Some(m) = c
            .get("resources")
            .and_then(|r| r.get(kind))
            .and_then(Value::as_object)
        {
            for (k, v) in m {
                out.insert(format!("{kind}.{k}"), show(Some(v)));
            }
        }
    }
    out
}

fn amount(c: &Value) -> Amount {
    let r = |k: &str| {
        c.get("resources")
            .and_then(|r| r.get("requests"))
            .and_then(|r| r.get(k))
    };
    let q = |v: Option<&Value>, milli: bool| match v {
        Some(Value::String(s)) => parse_quantity(s, milli).unwrap_or(0),
        Some(Value::Number(n)) => parse_quantity(&n.to_string(), milli).unwrap_or(0),
        _ => 0,
    };
    Amount {
        millicores: q(r("cpu"), true),
        bytes: q(r("memory"), false),
    }
}

/// A pod's requests: its containers together, or its largest init container when larger.
fn pod_requests(spec: &Value) -> Amount {
    let mut run = Amount::default();
    let mut init = Amount::default();
    for (list, c) in containers(spec) {
        let x = amount(c);
        if list == "initContainers" {
            init.millicores = init.millicores.max(x.millicores);
            init.bytes = init.bytes.max(x.bytes);
        } else {
            run.millicores = run.millicores.saturating_add(x.millicores);
            run.bytes = run.bytes.saturating_add(x.bytes);
        }
    }
    Amount {
        millicores: run.millicores.max(init.millicores),
        bytes: run.bytes.max(init.bytes),
    }
}

fn replicas(o: &Object) -> Option<u64> {
    match o.kind.as_str() {
        "Deployment" | "StatefulSet" | "ReplicaSet" => {
            Some(o.at("spec.replicas").and_then(Value::as_u64).unwrap_or(1))
        }
        _ => None,
    }
}

/// The requests of every long-running pod of a render (DaemonSets once per node).
fn total(objects: &super::objects::Index, nodes: u64) -> Amount {
    let mut t = Amount::default();
    for o in objects.values() {
        let n = match o.kind.as_str() {
            "DaemonSet" => nodes,
            "Pod" => 1,
            _ => match replicas(o) {
                Some(n) => n,
                None => continue,
            },
        };
        for (_, spec) in pod_specs(o) {
            let r = pod_requests(spec);
            t.millicores = t.millicores.saturating_add(r.millicores.saturating_mul(n));
            t.bytes = t.bytes.saturating_add(r.bytes.saturating_mul(n));
        }
    }
    t
}

fn exceeds(x: Amount, limit: Amount) -> bool {
    x.millicores > limit.millicores || x.bytes > limit.bytes
}

fn sizing(p: &Pairs, ctx: Option<&Context>, out: &mut Vec<Finding>) {
    for (_, b, a) in p.all() {
        let (Some(b), Some(a)) = (b, a) else { continue };
        let object = a.id();
        if let (Some(rb), Some(ra)) = (replicas(b), replicas(a)) {
            if rb != ra {
                out.push(Finding::new(
                    Class::ReplicasChanged,
                    &object,
                    "spec.replicas",
                    format!("{rb} -> {ra}"),
                ));
            }
        }
        let (sb, sa) = (pod_specs(b), pod_specs(a));
        let (Some((path, spec_b)), Some((_, spec_a))) = (sb.first(), sa.first()) else {
            continue;
        };
        let before: BTreeMap<&str, &Value> = containers(spec_b)
            .filter_map(|(_, c)| Some((c.get("name")?.as_str()?, c)))
            .collect();
        for (list, c) in containers(spec_a) {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let Some(old) = before.get(name) else {
                continue;
            };
            let (rb, ra) = (resources(old), resources(c));
            if rb != ra {
                let keys: BTreeSet<&String> = rb.keys().chain(ra.keys()).collect();
                let changes: Vec<String> = keys
                    .into_iter()
                    .filter(|k| rb.get(*k) != ra.get(*k))
                    .map(|k| {
                        let v = |m: &BTreeMap<String, String>| {
                            m.get(k).cloned().unwrap_or_else(|| "none".into())
                        };
                        format!("{k} {} -> {}", v(&rb), v(&ra))
                    })
                    .collect();
                out.push(Finding::new(
                    Class::ResourcesChanged,
                    &object,
                    format!("{path}.{list}[{name}].resources"),
                    changes.join(", "),
                ));
            }
        }
        if let Some(cap) = ctx.and_then(|c| c.capacity) {
            let (pb, pa) = (pod_requests(spec_b), pod_requests(spec_a));
            if pb != pa && exceeds(pa, cap.per_node) {
                out.push(Finding::new(
                    Class::CapacityExceeded,
                    &object,
                    format!("{path}.containers[].resources.requests"),
                    format!(
                        "one pod now requests {} (was {}): more than a node of environment {} has ({}); it cannot be scheduled",
                        pa.text(),
                        pb.text(),
                        ctx.map(|c| c.environment.as_str()).unwrap_or(""),
                        cap.per_node.text()
                    ),
                ));
            }
        }
    }
    if let Some((ctx, cap)) = ctx.and_then(|c| c.capacity.map(|cap| (c, cap))) {
        let (tb, ta) = (total(&p.before, cap.nodes), total(&p.after, cap.nodes));
        if exceeds(ta, cap.total()) && !exceeds(tb, cap.total()) {
            out.push(Finding::new(
                Class::CapacityExceeded,
                "(the whole stack)",
                "requests",
                format!(
                    "the stack's pods now request {} (was {}): more than the {} nodes of environment {} have ({})",
                    ta.text(),
                    tb.text(),
                    cap.nodes,
                    ctx.environment,
                    cap.total().text()
                ),
            ));
        }
    }
}

/// A container's security facts, with its pod's settings folded in.
#[derive(Debug, Default, PartialEq, Eq)]
struct Security {
    privileged: bool,
    escalation: Option<bool>,
    non_root: Option<bool>,
    user: Option<i64>,
    read_only_root: Option<bool>,
    caps: BTreeSet<String>,
}

fn security(pod: &Value, c: &Value) -> Security {
    let ps = pod.get("securityContext");
    let cs = c.get("securityContext");
    let get = |k: &str| {
        cs.and_then(|s| s.get(k))
            .or_else(|| ps.and_then(|s| s.get(k)))
    };
    let own = |k: &str| cs.and_then(|s| s.get(k));
    Security {
        privileged: own("privileged").and_then(Value::as_bool) == Some(true),
        escalation: own("allowPrivilegeEscalation").and_then(Value::as_bool),
        non_root: get("runAsNonRoot").and_then(Value::as_bool),
        user: get("runAsUser").and_then(Value::as_i64),
        read_only_root: own("readOnlyRootFilesystem").and_then(Value::as_bool),
        caps: cs
            .and_then(|s| s.get("capabilities"))
            .and_then(|c| c.get("add"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    }
}

/// (widening, other changes) from `b` to `a` (`b` None: a new container).
fn security_changes(b: Option<&Security>, a: &Security) -> (Vec<String>, Vec<String>) {
    let none = Security::default();
    let old = b.unwrap_or(&none);
    let mut wide = Vec::new();
    let mut other = Vec::new();
    if a.privileged && !old.privileged {
        wide.push("privileged: true".to_string());
    }
    if b.is_some() && old.escalation == Some(false) && a.escalation != Some(false) {
        wide.push(format!(
            "allowPrivilegeEscalation false -> {}",
            a.escalation
                .map_or("unset (true)".to_string(), |x| x.to_string())
        ));
    }
    if b.is_some() && old.non_root == Some(true) && a.non_root != Some(true) {
        wide.push("runAsNonRoot is no longer true: the container may run as root".to_string());
    }
    if a.user == Some(0) && old.user != Some(0) {
        wide.push("runAsUser: 0 (root)".to_string());
    }
    if b.is_some() && old.read_only_root == Some(true) && a.read_only_root != Some(true) {
        wide.push("readOnlyRootFilesystem is no longer true".to_string());
    }
    let added: Vec<&String> = a.caps.difference(&old.caps).collect();
    if !added.is_empty() {
        wide.push(format!(
            "capabilities added: {}",
            added
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if b.is_some() && old != a && wide.is_empty() {
        other.extend(narrowed(old, a));
    }
    (wide, other)
}

/// The fields that differ, `field before -> after` (unset shown as such).
fn narrowed(old: &Security, a: &Security) -> Vec<String> {
    fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
        v.map_or_else(|| "unset".to_string(), |x| x.to_string())
    }
    let mut out = Vec::new();
    let mut field = |name: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{name} {x} -> {y}"));
        }
    };
    field(
        "privileged",
        old.privileged.to_string(),
        a.privileged.to_string(),
    );
    field(
        "allowPrivilegeEscalation",
        opt(old.escalation),
        opt(a.escalation),
    );
    field("runAsNonRoot", opt(old.non_root), opt(a.non_root));
    field("runAsUser", opt(old.user), opt(a.user));
    field(
        "readOnlyRootFilesystem",
        opt(old.read_only_root),
        opt(a.read_only_root),
    );
    let caps =
        |c: &BTreeSet<String>| format!("[{}]", c.iter().cloned().collect::<Vec<_>>().join(", "));
    field("capabilities.add", caps(&old.caps), caps(&a.caps));
    out
}

fn host_namespaces(pod: &Value) -> BTreeSet<&'static str> {
    ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|k| pod.get(*k).and_then(Value::as_bool) == Some(true))
        .collect()
}

fn securities(p: &Pairs, out: &mut Vec<Finding>) {
    for (_, b, a) in p.all() {
        let Some(a) = a else { continue };
        let Some((path, spec_a)) = pod_specs(a).into_iter().next() else {
            continue;
        };
        let object = a.id();
        let spec_b = b
            .and_then(|b| pod_specs(b).into_iter().next())
            .map(|(_, s)| s);
        let hb = spec_b.map(host_namespaces).unwrap_or_default();
        for h in host_namespaces(spec_a).difference(&hb) {
            out.push(Finding::new(
                Class::SecurityWidening,
                &object,
                format!("{path}.{h}"),
                format!("{h}: true (the pod shares the node's namespace)"),
            ));
        }
        let before: BTreeMap<&str, Security> = spec_b
            .map(|s| {
                containers(s)
                    .filter_map(|(_, c)| Some((c.get("name")?.as_str()?, security(s, c))))
                    .collect()
            })
            .unwrap_or_default();
        for (list, c) in containers(spec_a) {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let now = security(spec_a, c);
            let (wide, other) = security_changes(before.get(name), &now);
            let at = format!("{path}.{list}[{name}].securityContext");
            if !wide.is_empty() {
                out.push(Finding::new(
                    Class::SecurityWidening,
                    &object,
                    &at,
                    wide.join("; "),
                ));
            }
            if !other.is_empty() {
                out.push(Finding::new(
                    Class::SecurityChanged,
                    &object,
                    &at,
                    other.join("; "),
                ));
            }
        }
    }
}

pub fn check(p: &Pairs, ctx: Option<&Context>) -> Vec<Finding> {
    let mut out = Vec::new();
    services(p, &mut out);
    policies(p, "NetworkPolicy", Class::NetworkPolicyChanged, &mut out);
    policies(
        p,
        "PeerAuthentication",
        Class::PeerAuthenticationChanged,
        &mut out,
    );
    securities(p, &mut out);
    sizing(p, ctx, &mut out);
    out
}
