//! Cluster fit: what the pods ask of the nodes the environment has. Each container's limits
//! are at least its requests (the API server refuses a pod otherwise), every quantity is one
//! Kubernetes reads, and a pod's requests fit on one node of the matrix's cluster
//! (`cluster.cores_per_node`, `memory_per_node`, `gpus_per_node`): a pod larger than every
//! node stays Pending. A node's allocatable is below its size, so this only proves the
//! impossible, never that a pod fits.
//!
//! The pods counted are every pod spec `pods::pods` reads: the built-in pod-bearing kinds,
//! KServe's serving runtimes, InferenceServices and storage container, Knative's Services,
//! and the resources a KnativeServing sets on the operator's Deployments.

use serde_json::Value;

use super::manifest::Object;
use super::pods::pods;
use super::report::Findings;
use crate::plan::capacity::parse_quantity;
use crate::plan::EnvPlan;

/// The resources checked: name, whether the quantity counts millicores, unit for messages.
const RESOURCES: [(&str, bool); 3] = [("cpu", true), ("memory", false), ("nvidia.com/gpu", false)];

/// One node's size, from the matrix: millicores, bytes, GPUs (None: not given).
struct Node {
    millicores: Option<u64>,
    bytes: Option<u64>,
    gpus: u64,
}

fn quantity(v: &Value, milli: bool) -> Option<u64> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text.starts_with('-') {
        return None;
    }
    parse_quantity(&text, milli)
}

fn shown(amount: u64, resource: &str) -> String {
    match resource {
        "cpu" if amount.is_multiple_of(1000) => format!("{} CPU", amount / 1000),
        "cpu" => format!("{amount}m CPU"),
        // Below a GiB in MiB, so 50Mi against 100Mi reads as such (not "0.0 GiB").
        "memory" if amount < 1 << 30 && amount.is_multiple_of(1 << 20) => {
            format!("{} MiB", amount >> 20)
        }
        "memory" if amount < 1 << 30 => format!("{:.1} MiB", amount as f64 / f64::from(1u32 << 20)),
        "memory" => format!("{:.1} GiB", amount as f64 / f64::from(1u32 << 30)),
        _ => format!("{amount} {resource}"),
    }
}

pub fn check(env: &EnvPlan, objects: &[Object], f: &mut Findings) {
    let cluster = &env.env.cluster;
    let node = Node {
        millicores: cluster.cores_per_node.map(|c| u64::from(c) * 1000),
        bytes: cluster
            .memory_per_node
            .as_deref()
            .and_then(|m| parse_quantity(m, false)),
        gpus: u64::from(cluster.gpus_per_node),
    };
    for o in objects {
        for pod in pods(o) {
            // Pod requests: the app containers' sum, or the largest init container's if more.
            let mut app = [0u64; 3];
            let mut init = [0u64; 3];
            for c in pod.containers() {
                let at = &c.resources_at;
                let requests = c.resources.and_then(|r| r.get("requests"));
                let limits = c.resources.and_then(|r| r.get("limits"));
                for (i, (resource, milli)) in RESOURCES.iter().enumerate() {
                    let mut read = |side: Option<&Value>, which: &str| -> Option<u64> {
                        let v = side?.get(*resource)?;
                        let q = quantity(v, *milli);
                        if q.is_none() {
                            f.fail("fit", o, &format!("{at}.{which}.{resource}"), format!(
                                "is {v}, which is not a Kubernetes quantity (e.g. 500m, 2, 1Gi): the API server refuses the pod"
                            ));
                        }
                        q
                    };
                    let request = read(requests, "requests");
                    let limit = read(limits, "limits");
                    if let (Some(r), Some(l)) = (request, limit) {
                        if l < r {
                            f.fail("fit", o, &format!("{at}.limits.{resource}"), format!(
                                "is {}, below the request {}: the API server refuses a container whose limit is below its request; raise the limit or lower the request",
                                shown(l, resource), shown(r, resource)
                            ));
                        }
                    }
                    // Without a request, Kubernetes takes the limit as the request.
                    let effective = request.or(limit).unwrap_or(0);
                    match c.list {
                        "initContainers" => init[i] = init[i].max(effective),
                        "containers" => app[i] = app[i].saturating_add(effective),
                        _ => {}
                    }
                }
            }
            for (i, (resource, _)) in RESOURCES.iter().enumerate() {
                let asked = app[i].max(init[i]);
                let (size, setting) = match *resource {
                    "cpu" => (node.millicores, "cluster.cores_per_node"),
                    "memory" => (node.bytes, "cluster.memory_per_node"),
                    _ => (Some(node.gpus), "cluster.gpus_per_node"),
                };
                let Some(size) = size else { continue };
                if asked > size {
                    f.fail("fit", o, &format!("{}.requests.{resource}", pod.all_resources()), format!(
                        "its pods request {} in all, more than a whole node of environment {} has ({}, {setting}): no node can schedule them and they stay Pending; lower the requests or size the nodes",
                        shown(asked, resource), env.name, shown(size, resource)
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn memory_below_a_gib_is_shown_in_mib() {
        assert_eq!(shown(50 << 20, "memory"), "50 MiB");
        assert_eq!(shown(100_000_000, "memory"), "95.4 MiB");
        assert_eq!(shown(3 << 30, "memory"), "3.0 GiB");
        assert_eq!(shown(1500, "cpu"), "1500m CPU");
    }
}
