//! Pods wherever they run, through one accessor ([`pods`]), and facts about what runs in them
//! that their manifests do not say.
//!
//! Every check that reads pods (images, references, probes, fit, ports, wiring, the mesh and
//! the flows) reads them here: the pod templates of the built-in kinds (Pod,
//! ReplicationController, ReplicaSet, Deployment, StatefulSet, DaemonSet, Job, CronJob) and the
//! pod specs of the custom resources the catalog's components define:
//!
//! - KServe: `ServingRuntime`/`ClusterServingRuntime` `spec` (and `spec.workerSpec`), the
//!   `InferenceService` components `spec.predictor`, `spec.transformer`, `spec.explainer` (each
//!   a pod spec, with the model container `model`, the framework shorthands such as `sklearn`,
//!   and the explainer's `art`; and `spec.predictor.workerSpec`), and the storage initializer
//!   a `ClusterStorageContainer` adds to model pods (`spec.container`);
//! - Knative: a `Service`/`Configuration` `spec.template.spec` and a `Revision` `spec`
//!   (serving.knative.dev), and the per-container resources a `KnativeServing` sets on the
//!   Deployments the operator creates (`spec.workloads[].resources[]`).
//!
//! A custom resource's pods get labels from its controller, so their labels are not known
//! from the object (`Pod::labels` is None): checks that select pods by label read only the
//! built-in kinds.

use serde_json::Value;

use super::manifest::Object;

/// Where a built-in pod-bearing kind writes its pods: (pod spec, pod labels) paths.
fn pod_template(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "Deployment"
        | "DaemonSet"
        | "StatefulSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => ("spec.template.spec", "spec.template.metadata.labels"),
        "CronJob" => (
            "spec.jobTemplate.spec.template.spec",
            "spec.jobTemplate.spec.template.metadata.labels",
        ),
        "Pod" => ("spec", "metadata.labels"),
        _ => return None,
    })
}

/// The pod template of a built-in pod-bearing kind, with its path (every pod spec: [`pods`]).
pub fn pod_specs(o: &Object) -> Vec<(&'static str, &Value)> {
    pod_template(&o.kind)
        .and_then(|(path, _)| o.at(path).map(|v| vec![(path, v)]))
        .unwrap_or_default()
}

/// Labels of the pods an object creates: its pod template's labels (built-in kinds; a custom
/// resource's pods are labelled by its controller, None).
pub fn pod_labels(o: &Object) -> Option<Vec<(&str, &str)>> {
    let (_, path) = pod_template(&o.kind)?;
    Some(super::manifest::string_map(o.at(path)))
}

/// Every container of a pod spec: (list name, container).
pub fn containers(spec: &Value) -> impl Iterator<Item = (&'static str, &Value)> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |list| {
            spec.get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(move |c| (list, c))
        })
}

/// One pod spec of an object: where it is written, and what it holds.
#[derive(Debug)]
pub struct Pod<'a> {
    /// Path of the pod-level fields (`spec.template.spec`, `spec.predictor`, `spec`).
    pub path: String,
    /// The pod-level fields (`volumes`, `serviceAccountName`, `hostNetwork`, …).
    pub spec: &'a Value,
    /// Labels of the pods, where the object says them (built-in kinds only).
    pub labels: Option<Vec<(&'a str, &'a str)>>,
    /// Why these pods never run as rendered (a disabled runtime or storage container).
    pub inactive: Option<String>,
    containers: Vec<Container<'a>>,
}

/// One container of a pod spec.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// `initContainers`, `containers` or `ephemeralContainers`: how the kubelet runs it.
    pub list: &'static str,
    pub name: &'a str,
    /// Path of the container (`spec.template.spec.containers[manager]`, `spec.container`).
    pub at: String,
    pub value: &'a Value,
    /// Its `resources` (`requests`, `limits`), and their path.
    pub resources: Option<&'a Value>,
    pub resources_at: String,
}

impl<'a> Container<'a> {
    /// Container `c` of `list`, written at path `at`.
    fn at(list: &'static str, name: &'a str, at: String, c: &'a Value) -> Self {
        Container {
            list,
            name,
            resources: c.get("resources"),
            resources_at: format!("{at}.resources"),
            at,
            value: c,
        }
    }
}

impl<'a> Pod<'a> {
    /// Every container of the pods, in the order written.
    pub fn containers(&self) -> &[Container<'a>] {
        &self.containers
    }

    /// The path that stands for the resources of every container of the pods.
    pub fn all_resources(&self) -> String {
        if self.path.starts_with("spec.workloads[") {
            format!("{}.resources[*]", self.path)
        } else {
            format!("{}.containers[*].resources", self.path)
        }
    }
}

impl Container<'_> {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Value::as_str)
    }
}

/// The containers of a pod spec (`spec` at `path`): the three lists, and the single
/// containers KServe's kinds write (`container`, `model`, the framework shorthands, `art`).
fn spec_containers<'a>(path: &str, spec: &'a Value, default_name: &'a str) -> Vec<Container<'a>> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            out.push(Container::at(
                list,
                name,
                format!("{path}.{list}[{name}]"),
                c,
            ));
        }
    }
    for key in SINGLE_CONTAINERS {
        let Some(c) = spec.get(*key).filter(|c| c.is_object()) else {
            continue;
        };
        // A ClusterStorageContainer's container runs as an init container of the model pods.
        let list = if *key == "container" {
            "initContainers"
        } else {
            "containers"
        };
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(default_name);
        out.push(Container::at(list, name, format!("{path}.{key}"), c));
    }
    out
}

/// Fields of KServe's kinds that hold one container: a ClusterStorageContainer's `container`;
/// an InferenceService component's `model`, framework shorthands (serving.kserve.io/v1beta1
/// PredictorSpec) and the explainer's `art`.
const SINGLE_CONTAINERS: &[&str] = &[
    "container",
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "pmml",
    "lightgbm",
    "paddle",
    "art",
];

/// KServe names the model container of a predictor `kserve-container`.
const KSERVE_CONTAINER: &str = "kserve-container";

fn site<'a>(
    o: &'a Object,
    path: &str,
    labels: Option<Vec<(&'a str, &'a str)>>,
    inactive: Option<String>,
) -> Option<Pod<'a>> {
    let spec = o.at(path)?;
    spec.is_object().then(|| Pod {
        path: path.to_string(),
        spec,
        labels,
        inactive,
        containers: spec_containers(path, spec, KSERVE_CONTAINER),
    })
}

/// Every pod spec of an object, of every kind that has one (empty for the rest).
pub fn pods(o: &Object) -> Vec<Pod<'_>> {
    let workloads = pod_specs(o);
    if !workloads.is_empty() {
        return workloads
            .into_iter()
            .map(|(path, spec)| Pod {
                path: path.to_string(),
                spec,
                labels: pod_labels(o),
                inactive: None,
                containers: spec_containers(path, spec, "?"),
            })
            .collect();
    }
    let mut out = Vec::new();
    match (o.group(), o.kind.as_str()) {
        ("serving.kserve.io", "ServingRuntime" | "ClusterServingRuntime") => {
            // KServe selects no disabled runtime, so nothing ever runs its pods.
            let inactive = (o.at("spec.disabled").and_then(Value::as_bool) == Some(true))
                .then(|| format!("{} has spec.disabled: true", o.kind));
            out.extend(site(o, "spec", None, inactive.clone()));
            out.extend(site(o, "spec.workerSpec", None, inactive));
        }
        ("serving.kserve.io", "ClusterStorageContainer") => {
            let inactive = (o.at("disabled").and_then(Value::as_bool) == Some(true))
                .then(|| "the ClusterStorageContainer has disabled: true".to_string());
            out.extend(site(o, "spec", None, inactive));
        }
        ("serving.kserve.io", "InferenceService") => {
            for path in [
                "spec.predictor",
                "spec.predictor.workerSpec",
                "spec.transformer",
                "spec.explainer",
            ] {
                out.extend(site(o, path, None, None));
            }
        }
        ("serving.knative.dev", "Service" | "Configuration") => {
            out.extend(site(o, "spec.template.spec", None, None));
        }
        ("serving.knative.dev", "Revision") => out.extend(site(o, "spec", None, None)),
        ("operator.knative.dev", "KnativeServing") => out.extend(knative_workloads(o)),
        _ => {}
    }
    out
}

/// A KnativeServing's `spec.workloads`: each entry overrides the resources of containers of a
/// Deployment the operator creates (`resources: [{container, requests, limits}]`).
fn knative_workloads(o: &Object) -> Vec<Pod<'_>> {
    let mut out = Vec::new();
    for w in o
        .at("spec.workloads")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let wname = w.get("name").and_then(Value::as_str).unwrap_or("?");
        let path = format!("spec.workloads[{wname}]");
        let containers = w
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| {
                let name = r.get("container").and_then(Value::as_str).unwrap_or("?");
                let at = format!("{path}.resources[{name}]");
                Container {
                    list: "containers",
                    name,
                    resources: Some(r),
                    resources_at: at.clone(),
                    at,
                    value: r,
                }
            })
            .collect();
        out.push(Pod {
            path,
            spec: w,
            labels: None,
            inactive: None,
            containers,
        });
    }
    out
}

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
    pods(o).iter().any(|pod| {
        pod.containers().iter().any(|c| {
            let image = c.str("image").unwrap_or("");
            let last = image.rsplit('/').next().unwrap_or("");
            let name = last.split(['@', ':']).next().unwrap_or("");
            UNDECLARED_LISTENERS
                .iter()
                .any(|(n, ports)| *n == name && ports.contains(&port))
        })
    })
}
