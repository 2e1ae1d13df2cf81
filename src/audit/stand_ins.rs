//! What the Knative Operator runs for a `KnativeServing`, when its own manifests are not given
//! (`--operator-manifests`): stand-in objects built from the facts below, so that every check
//! that reads pods, Services and ServiceAccounts (monitors naming ports, the webhooks' and the
//! scrapes' network admission, egress to istiod and DNS, the mesh, binding subjects, HPA
//! targets) sees the Serving control plane it would see on the cluster. A stand-in carries the
//! KnativeServing's source and line, so a finding about it points at the resource that makes
//! the operator create it. Nothing an image or a quantity check reads is invented: stand-ins
//! have no images and no resources.
//!
//! The facts are Serving's release manifests as the operator bundles them (knative/operator
//! `cmd/operator/kodata/knative-serving/<version>/2-serving-core.yaml` and `3-serving-hpa.yaml`,
//! `kodata/ingress/<minor>/istio/net-istio.yaml`), identical in Deployment and Service names,
//! pod labels, named ports, ServiceAccounts and net-istio's PeerAuthentications for every
//! Serving minor from 1.14 to 1.21 (the operator releases v1.14.9 to v1.21.4, compared on
//! 2026-12-07). One difference, which changes nothing here: from 1.16 net-istio's controller
//! opts out of the mesh with a pod label instead of an annotation; either way it has no
//! sidecar. Other Serving minors get no stand-ins (their objects stay unknown, as before).

use serde_json::{json, Value};

use super::manifest::{string_map, Object};
use super::operator;

/// One Deployment the operator creates: name, pod labels, one container's ports (name,
/// number), ServiceAccount, and whether its manifest opts it out of the mesh.
struct Workload {
    name: &'static str,
    labels: &'static [(&'static str, &'static str)],
    ports: &'static [(&'static str, i64)],
    service_account: &'static str,
    no_sidecar: bool,
}

/// A Service the operator creates: name, selector, ports (name, port, targetPort), and the
/// webhook port the API server calls (its webhook configurations name the Service on 443).
struct StandInService {
    name: &'static str,
    selector: &'static [(&'static str, &'static str)],
    ports: &'static [(&'static str, i64, i64)],
    webhook_port: Option<i64>,
}

/// Serving core (`2-serving-core.yaml`, `3-serving-hpa.yaml`).
const SERVING: [Workload; 5] = [
    Workload {
        name: "activator",
        labels: &[("app", "activator"), ("role", "activator")],
        ports: &[
            ("metrics", 9090),
            ("profiling", 8008),
            ("http1", 8012),
            ("h2c", 8013),
        ],
        service_account: "activator",
        no_sidecar: false,
    },
    Workload {
        name: "autoscaler",
        labels: &[("app", "autoscaler")],
        ports: &[("metrics", 9090), ("profiling", 8008), ("websocket", 8080)],
        service_account: "controller",
        no_sidecar: false,
    },
    Workload {
        name: "controller",
        labels: &[("app", "controller")],
        ports: &[("metrics", 9090), ("profiling", 8008), ("probes", 8080)],
        service_account: "controller",
        no_sidecar: false,
    },
    Workload {
        name: "webhook",
        labels: &[("app", "webhook"), ("role", "webhook")],
        ports: &[
            ("metrics", 9090),
            ("profiling", 8008),
            ("https-webhook", 8443),
        ],
        service_account: "controller",
        no_sidecar: false,
    },
    Workload {
        name: "autoscaler-hpa",
        labels: &[("app", "autoscaler-hpa")],
        ports: &[("metrics", 9090), ("profiling", 8008), ("probes", 8080)],
        service_account: "controller",
        no_sidecar: false,
    },
];

/// net-istio (`net-istio.yaml`), installed where `spec.ingress.istio.enabled`. Its controller's
/// template says `sidecar.istio.io/inject: "false"`.
const NET_ISTIO: [Workload; 2] = [
    Workload {
        name: "net-istio-controller",
        labels: &[("app", "net-istio-controller")],
        ports: &[("metrics", 9090), ("profiling", 8008), ("probes", 8080)],
        service_account: "controller",
        no_sidecar: true,
    },
    Workload {
        name: "net-istio-webhook",
        labels: &[("app", "net-istio-webhook"), ("role", "net-istio-webhook")],
        ports: &[
            ("metrics", 9090),
            ("profiling", 8008),
            ("https-webhook", 8443),
        ],
        service_account: "controller",
        no_sidecar: false,
    },
];

const SERVING_SERVICES: [StandInService; 5] = [
    StandInService {
        name: "activator-service",
        selector: &[("app", "activator")],
        ports: &[
            ("http-metrics", 9090, 9090),
            ("http-profiling", 8008, 8008),
            ("http", 80, 8012),
            ("http2", 81, 8013),
            // And https 443 -> 8112, which the activator serves undeclared, only with
            // system-internal-tls (pods::listens_undeclared knows it by image; a stand-in
            // has none): left out.
        ],
        webhook_port: None,
    },
    StandInService {
        name: "autoscaler",
        selector: &[("app", "autoscaler")],
        ports: &[
            ("http-metrics", 9090, 9090),
            ("http-profiling", 8008, 8008),
            ("http", 8080, 8080),
        ],
        webhook_port: None,
    },
    StandInService {
        name: "controller",
        selector: &[("app", "controller")],
        ports: &[("http-metrics", 9090, 9090), ("http-profiling", 8008, 8008)],
        webhook_port: None,
    },
    StandInService {
        name: "webhook",
        selector: &[("app", "webhook"), ("role", "webhook")],
        ports: &[
            ("http-metrics", 9090, 9090),
            ("http-profiling", 8008, 8008),
            ("https-webhook", 443, 8443),
        ],
        webhook_port: Some(443),
    },
    StandInService {
        name: "autoscaler-hpa",
        selector: &[("app", "autoscaler-hpa")],
        ports: &[("http-metrics", 9090, 9090), ("http-profiling", 8008, 8008)],
        webhook_port: None,
    },
];

const NET_ISTIO_SERVICES: [StandInService; 1] = [StandInService {
    name: "net-istio-webhook",
    selector: &[("app", "net-istio-webhook")],
    ports: &[
        ("http-metrics", 9090, 9090),
        ("http-profiling", 8008, 8008),
        ("https-webhook", 443, 8443),
    ],
    webhook_port: Some(443),
}];

/// The ServiceAccounts Serving creates in its namespace (and net-istio's PeerAuthentications,
/// below, where Istio ingress is on).
const SERVICE_ACCOUNTS: [&str; 2] = ["controller", "activator"];

/// The Serving minors whose manifests the facts above are.
const KNOWN_MINORS: [&str; 8] = [
    "1.14", "1.15", "1.16", "1.17", "1.18", "1.19", "1.20", "1.21",
];

/// Marks a stand-in Service whose port the API server calls (a webhook).
pub const WEBHOOK_ANNOTATION: &str = "deploygen.audit/api-server-calls-port";

/// Stand-ins for what the operator creates for each KnativeServing of `objects` whose Serving
/// minor the facts cover, unless the input already holds its Deployments (the operator's
/// manifests were given, or someone rendered them).
pub fn stand_ins(objects: &[Object]) -> Vec<Object> {
    let mut out = Vec::new();
    for ks in operator::knative_servings(objects) {
        let Some(ns) = ks.namespace.as_deref() else {
            continue;
        };
        let minor = ks
            .str_at("spec.version")
            .map(|v| {
                v.trim_start_matches('v')
                    .splitn(3, '.')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .unwrap_or_default();
        if !KNOWN_MINORS.contains(&minor.as_str()) {
            continue;
        }
        let rendered = objects.iter().any(|o| {
            o.kind == "Deployment" && o.namespace.as_deref() == Some(ns) && o.name == "activator"
        });
        if rendered {
            continue;
        }
        let istio = ks
            .at("spec.ingress.istio.enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut workloads: Vec<&Workload> = SERVING.iter().collect();
        let mut services: Vec<&StandInService> = SERVING_SERVICES.iter().collect();
        if istio {
            workloads.extend(NET_ISTIO.iter());
            services.extend(NET_ISTIO_SERVICES.iter());
        }
        for w in workloads {
            out.push(deployment(ks, ns, w));
        }
        for s in services {
            out.push(service(ks, ns, s));
        }
        for sa in SERVICE_ACCOUNTS {
            out.push(object(ks, "v1", "ServiceAccount", ns, sa, json!({})));
        }
        if istio {
            // net-istio keeps the webhooks reachable by the API server under STRICT mTLS:
            // PeerAuthentications `webhook` and `net-istio-webhook`, 8443 PERMISSIVE.
            for (name, app) in [
                ("webhook", "webhook"),
                ("net-istio-webhook", "net-istio-webhook"),
            ] {
                out.push(object(
                    ks,
                    "security.istio.io/v1beta1",
                    "PeerAuthentication",
                    ns,
                    name,
                    json!({
                        "selector": {"matchLabels": {"app": app}},
                        "portLevelMtls": {"8443": {"mode": "PERMISSIVE"}},
                    }),
                ));
            }
        }
    }
    out
}

/// Whether `o` is a stand-in (not in the input).
pub fn is_stand_in(o: &Object) -> bool {
    o.source.as_deref().is_some_and(|s| s.contains(MARK))
}

const MARK: &str = "(what the Knative Operator creates for ";

fn object(ks: &Object, api: &str, kind: &str, ns: &str, name: &str, spec: Value) -> Object {
    let source = ks.source.as_deref().unwrap_or("input");
    Object {
        api_version: api.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: Some(ns.to_string()),
        source: Some(format!("{source} {MARK}{})", ks.id())),
        line: ks.line,
        body: json!({
            "apiVersion": api,
            "kind": kind,
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        }),
    }
}

/// The operator merges `spec.workloads[].labels` of the entry named like the Deployment into
/// its pod template's labels (knative/operator pkg/reconciler/common/workload_override.go).
fn deployment(ks: &Object, ns: &str, w: &Workload) -> Object {
    let mut labels = serde_json::Map::new();
    for (k, v) in w.labels {
        labels.insert(k.to_string(), Value::String(v.to_string()));
    }
    let selector = labels.clone();
    for entry in ks
        .at("spec.workloads")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("name").and_then(Value::as_str) == Some(w.name))
    {
        for (k, v) in string_map(entry.get("labels")) {
            labels.insert(k.to_string(), Value::String(v.to_string()));
        }
    }
    let annotations = if w.no_sidecar {
        json!({"sidecar.istio.io/inject": "false"})
    } else {
        json!({})
    };
    let ports: Vec<Value> = w
        .ports
        .iter()
        .map(|(n, p)| json!({"name": n, "containerPort": p}))
        .collect();
    object(
        ks,
        "apps/v1",
        "Deployment",
        ns,
        w.name,
        json!({
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": {
                    "serviceAccountName": w.service_account,
                    "containers": [{"name": w.name, "ports": ports}],
                },
            },
        }),
    )
}

fn service(ks: &Object, ns: &str, s: &StandInService) -> Object {
    let selector: serde_json::Map<String, Value> = s
        .selector
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let ports: Vec<Value> = s
        .ports
        .iter()
        .map(|(n, p, t)| json!({"name": n, "port": p, "targetPort": t}))
        .collect();
    let mut o = object(
        ks,
        "v1",
        "Service",
        ns,
        s.name,
        json!({"selector": selector, "ports": ports}),
    );
    if let Some(port) = s.webhook_port {
        o.body["metadata"]["annotations"] = json!({ WEBHOOK_ANNOTATION: port.to_string() });
    }
    o
}

/// The port the API server calls on stand-in Service `s` (a webhook), if any.
pub fn webhook_port(s: &Object) -> Option<i64> {
    if !is_stand_in(s) {
        return None;
    }
    s.at("metadata.annotations")
        .and_then(|a| a.get(WEBHOOK_ANNOTATION))
        .and_then(Value::as_str)
        .and_then(|p| p.parse().ok())
}

/// The named ports of every Knative revision pod, which Serving creates at run time: the
/// queue-proxy sidecar's (knative/serving pkg/reconciler/revision/resources/queue.go:
/// `queue-port` 8012 or 8013 for h2c, `https-port` 8112, `http-queueadm` 8022,
/// `http-autometric` 9090, `http-usermetric` 9091, `profiling-port` 8008 when profiling is
/// on; the names are pkg/apis/serving/v1 `QueueAdminPortName`, `AutoscalingQueueMetricsPortName`,
/// `UserQueueMetricsPortName`) and the user container's, which Serving renames `user-port`
/// (resources/deploy.go, `v1.UserPortName`).
pub const REVISION_PORTS: [&str; 7] = [
    "queue-port",
    "https-port",
    "http-queueadm",
    "http-autometric",
    "http-usermetric",
    "profiling-port",
    "user-port",
];

/// Whether a label selector is about Knative revision pods (it names a
/// `serving.knative.dev/` label, which only Serving sets on the pods it creates).
pub fn selects_revisions(selector: Option<&Value>) -> bool {
    let Some(sel) = selector else { return false };
    let in_labels = string_map(sel.get("matchLabels"))
        .iter()
        .any(|(k, _)| k.starts_with("serving.knative.dev/"));
    let in_expressions = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("key").and_then(Value::as_str))
        .any(|k| k.starts_with("serving.knative.dev/"));
    in_labels || in_expressions
}
