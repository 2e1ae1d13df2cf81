//! What a customer site decides beyond versions: how the ingress gateway is exposed, the pull
//! secrets of a private mirror, and per-release value overrides (the escape hatch), each
//! validated against the catalog's facts about the pinned upstream charts.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::catalog::PullSecretForm;
use crate::model::gateway::Expose;
use crate::plan::{EnvPlan, Release};

/// The catalog's Service ports of the gateway chart (`service.ports` in its values).
fn gateway_ports(release: &Release) -> Option<Vec<Value>> {
    let values = release.entry.values.as_ref()?;
    let v = serde_json::to_value(values).ok()?;
    v.get("service")?.get("ports")?.as_array().cloned()
}

/// The release that exposes the gateway: the one whose catalog values hold `service.ports`.
pub fn is_gateway(release: &Release) -> bool {
    gateway_ports(release).is_some()
}

/// Validation of the site choices of one environment; `at` locates a key below it.
pub fn check(
    env: &crate::model::matrix::Environment,
    releases: &[Release],
    at: &dyn Fn(&str) -> String,
    problems: &mut Vec<(String, String)>,
) {
    let g = &env.gateway;
    let gateway = releases.iter().find(|r| is_gateway(r));
    let names: Vec<String> = gateway
        .and_then(gateway_ports)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    if !g.node_ports.is_empty() && g.expose != Expose::NodePort {
        problems.push((
            at(".gateway.node_ports"),
            "node ports are only used with expose: node-port".into(),
        ));
    }
    if let Some(class) = &g.ingress_class {
        site_ingress_class(class, g.expose, at, problems);
    }
    let mut seen = BTreeSet::new();
    for (name, port) in &g.node_ports {
        let path = at(&format!(".gateway.node_ports.{name}"));
        if !names.is_empty() && !names.contains(name) {
            let hint = crate::base::suggest::hint(name, names.iter().map(String::as_str));
            problems.push((
                path.clone(),
                format!(
                    "the gateway Service has no port `{name}`{hint}; its ports: {}",
                    names.join(", ")
                ),
            ));
        }
        if !(30000..=32767).contains(port) {
            problems.push((
                path.clone(),
                format!("{port} is outside Kubernetes' default NodePort range 30000-32767"),
            ));
        }
        if !seen.insert(*port) {
            problems.push((path, format!("node port {port} is used twice")));
        }
    }
    for (i, s) in env.image_pull_secrets.iter().enumerate() {
        if let Err(e) = crate::base::names::check_dns_subdomain(s) {
            problems.push((at(&format!(".image_pull_secrets[{i}]")), e));
        }
    }
    for (release, values) in &env.overrides {
        let path = at(&format!(".overrides.{release}"));
        let Some(r) = releases.iter().find(|r| &r.name == release) else {
            if !releases.is_empty() {
                let all: Vec<&str> = releases.iter().map(|r| r.name.as_str()).collect();
                let hint = crate::base::suggest::hint(release, all.iter().copied());
                problems.push((
                    path,
                    format!("no release `{release}`{hint}; releases: {}", all.join(", ")),
                ));
            }
            continue;
        };
        let Some(chart) = &r.chart else {
            problems.push((path, format!("release {release} has no upstream chart (deploygen writes all of it from the matrix); nothing to override")));
            continue;
        };
        if r.entry.values_keys.is_empty() {
            problems.push((path, format!("the catalog records no values keys of chart {} {} (`values_keys` of release {release} in catalog/{}/{}.yaml); `deploygen catalog import` or .ci/chart-keys.py write them", chart.name, chart.version, r.component, r.version)));
            continue;
        }
        let keys: BTreeSet<&str> = r.entry.values_keys.iter().map(String::as_str).collect();
        let Value::Object(map) = values else {
            problems.push((path, "expected a map of the chart's values".into()));
            continue;
        };
        check_keys(map, "", &keys, &path, &chart.name, &chart.version, problems);
    }
}

/// `gateway.ingress_class`: the site's own ingress controller in front of a ClusterIP gateway.
fn site_ingress_class(
    class: &str,
    expose: Expose,
    at: &dyn Fn(&str) -> String,
    problems: &mut Vec<(String, String)>,
) {
    let path = at(".gateway.ingress_class");
    if expose != Expose::ClusterIp {
        problems.push((
            path.clone(),
            format!(
                "an ingress class is only used with expose: cluster-ip (the site's ingress controller sends traffic to the gateway's ClusterIP Service); this gateway is exposed as {}",
                expose.service_type()
            ),
        ));
    }
    if let Err(e) = crate::base::names::check_dns_subdomain(class) {
        problems.push((path, e));
    } else if class == crate::model::gateway::GATEWAY_INGRESS_CLASS {
        problems.push((
            path,
            format!(
                "`{class}` is the IngressClass the gateway itself serves (KServe's RawDeployment Ingresses); an Ingress of that class in front of the gateway would send traffic to itself. Name the site's ingress controller's class (ingress-nginx: nginx)"
            ),
        ));
    }
}

fn check_keys(
    map: &serde_json::Map<String, Value>,
    prefix: &str,
    keys: &BTreeSet<&str>,
    at: &str,
    chart: &str,
    version: &str,
    problems: &mut Vec<(String, String)>,
) {
    for (k, v) in map {
        let full = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if !keys.contains(full.as_str()) {
            let siblings: Vec<&str> = keys
                .iter()
                .filter_map(|key| {
                    let rest = if prefix.is_empty() {
                        Some(*key)
                    } else {
                        key.strip_prefix(prefix).and_then(|r| r.strip_prefix('.'))
                    }?;
                    (!rest.contains('.')).then_some(rest)
                })
                .collect();
            let hint = crate::base::suggest::hint(k, siblings.iter().copied());
            problems.push((
                format!("{at}.{full}"),
                format!("chart {chart} {version} has no values key `{full}`{hint} (the catalog's `values_keys` list the keys it has)"),
            ));
            continue;
        }
        // A key with children in the chart is walked; one without (nodeSelector, a list) is
        // taken whole.
        let has_children = keys
            .range(format!("{full}.").as_str()..)
            .next()
            .is_some_and(|n| n.starts_with(&format!("{full}.")));
        if let (Value::Object(m), true) = (v, has_children) {
            check_keys(m, &full, keys, at, chart, version, problems);
        }
    }
}

/// The site values of `release` in `env`, paths relative to the upstream chart: gateway
/// exposure, pull secrets, then the overrides (merged last by the caller).
pub fn values(release: &Release, env: &EnvPlan) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let e = &env.env;
    if let Some(ports) = gateway_ports(release) {
        let g = &e.gateway;
        if g.expose != Expose::LoadBalancer {
            out.push(("service.type".into(), json!(g.expose.service_type())));
        }
        if !g.node_ports.is_empty() {
            let ports: Vec<Value> = ports
                .into_iter()
                .map(|mut p| {
                    let name = p.get("name").and_then(Value::as_str).map(str::to_string);
                    if let (Some(n), Value::Object(m)) = (name, &mut p) {
                        if let Some(np) = g.node_ports.get(&n) {
                            m.insert("nodePort".into(), json!(np));
                        }
                    }
                    p
                })
                .collect();
            out.push(("service.ports".into(), Value::Array(ports)));
        }
    }
    if !e.image_pull_secrets.is_empty() {
        for k in &release.entry.pull_secrets {
            let v = match k.form {
                PullSecretForm::Names => json!(e.image_pull_secrets),
                PullSecretForm::Objects => Value::Array(
                    e.image_pull_secrets
                        .iter()
                        .map(|s| json!({"name": s}))
                        .collect(),
                ),
            };
            out.push((k.path.clone(), v));
        }
    }
    out
}

/// Deep merge of `over` into `base` (maps merge, everything else replaces), as Helm merges
/// values files.
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}
