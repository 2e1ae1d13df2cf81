//! Which API versions a Kubernetes release serves: the built-in group/versions that were
//! removed or added in the releases deploygen targets, and the kinds that are cluster-scoped.
//! Sources: kubernetes.io/docs/reference/using-api/deprecation-guide/ (removals) and the
//! release notes of each minor (additions); a group/version not listed here is either served
//! by every release from 1.22 on or provided by a CRD.

use serde_json::Value;

use super::manifest::Object;
use super::report::Findings;
use crate::plan::EnvPlan;

/// A built-in group/version (and kind, where only some kinds moved) with the minors that serve it.
struct Served {
    api_version: &'static str,
    /// None: every kind of the group/version.
    kind: Option<&'static str>,
    /// First minor serving it (None: before 1.22).
    since: Option<u64>,
    /// First minor that no longer serves it.
    removed: Option<u64>,
    instead: &'static str,
}

const TABLE: &[Served] = &[
    // Removed in 1.16 (deprecation guide, #v1-16): the workload kinds of extensions/v1beta1,
    // every kind of apps/v1beta1 and apps/v1beta2, NetworkPolicy and PodSecurityPolicy of
    // extensions/v1beta1. Ingress stayed in extensions/v1beta1 until 1.22 (#v1-22).
    Served {
        api_version: "apps/v1beta1",
        kind: None,
        since: None,
        removed: Some(16),
        instead: "apps/v1",
    },
    Served {
        api_version: "apps/v1beta2",
        kind: None,
        since: None,
        removed: Some(16),
        instead: "apps/v1",
    },
    Served {
        api_version: "extensions/v1beta1",
        kind: Some("Deployment"),
        since: None,
        removed: Some(16),
        instead: "apps/v1",
    },
    Served {
        api_version: "extensions/v1beta1",
        kind: Some("DaemonSet"),
        since: None,
        removed: Some(16),
        instead: "apps/v1",
    },
    Served {
        api_version: "extensions/v1beta1",
        kind: Some("ReplicaSet"),
        since: None,
        removed: Some(16),
        instead: "apps/v1",
    },
    Served {
        api_version: "extensions/v1beta1",
        kind: Some("NetworkPolicy"),
        since: None,
        removed: Some(16),
        instead: "networking.k8s.io/v1",
    },
    Served {
        api_version: "extensions/v1beta1",
        kind: Some("PodSecurityPolicy"),
        since: None,
        removed: Some(16),
        instead: "none: PodSecurityPolicy is gone from 1.25 (Pod Security Admission)",
    },
    Served {
        api_version: "extensions/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "apps/v1, networking.k8s.io/v1",
    },
    Served {
        api_version: "networking.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "networking.k8s.io/v1",
    },
    Served {
        api_version: "admissionregistration.k8s.io/v1beta1",
        kind: Some("MutatingWebhookConfiguration"),
        since: None,
        removed: Some(22),
        instead: "admissionregistration.k8s.io/v1",
    },
    Served {
        api_version: "admissionregistration.k8s.io/v1beta1",
        kind: Some("ValidatingWebhookConfiguration"),
        since: None,
        removed: Some(22),
        instead: "admissionregistration.k8s.io/v1",
    },
    Served {
        api_version: "apiextensions.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "apiextensions.k8s.io/v1",
    },
    Served {
        api_version: "apiregistration.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "apiregistration.k8s.io/v1",
    },
    Served {
        api_version: "authentication.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "authentication.k8s.io/v1",
    },
    Served {
        api_version: "authorization.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "authorization.k8s.io/v1",
    },
    Served {
        api_version: "certificates.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "certificates.k8s.io/v1",
    },
    Served {
        api_version: "coordination.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "coordination.k8s.io/v1",
    },
    Served {
        api_version: "rbac.authorization.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "rbac.authorization.k8s.io/v1",
    },
    Served {
        api_version: "scheduling.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(22),
        instead: "scheduling.k8s.io/v1",
    },
    Served {
        api_version: "storage.k8s.io/v1beta1",
        kind: Some("CSIDriver"),
        since: None,
        removed: Some(22),
        instead: "storage.k8s.io/v1",
    },
    Served {
        api_version: "storage.k8s.io/v1beta1",
        kind: Some("StorageClass"),
        since: None,
        removed: Some(22),
        instead: "storage.k8s.io/v1",
    },
    Served {
        api_version: "storage.k8s.io/v1beta1",
        kind: Some("VolumeAttachment"),
        since: None,
        removed: Some(22),
        instead: "storage.k8s.io/v1",
    },
    Served {
        api_version: "batch/v1beta1",
        kind: None,
        since: None,
        removed: Some(25),
        instead: "batch/v1",
    },
    Served {
        api_version: "discovery.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(25),
        instead: "discovery.k8s.io/v1",
    },
    Served {
        api_version: "events.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(25),
        instead: "events.k8s.io/v1",
    },
    Served {
        api_version: "autoscaling/v2beta1",
        kind: None,
        since: None,
        removed: Some(25),
        instead: "autoscaling/v2",
    },
    Served {
        api_version: "policy/v1beta1",
        kind: None,
        since: None,
        removed: Some(25),
        instead: "policy/v1 (PodSecurityPolicy: none)",
    },
    Served {
        api_version: "node.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(25),
        instead: "node.k8s.io/v1",
    },
    Served {
        api_version: "autoscaling/v2beta2",
        kind: None,
        since: None,
        removed: Some(26),
        instead: "autoscaling/v2",
    },
    Served {
        api_version: "flowcontrol.apiserver.k8s.io/v1beta1",
        kind: None,
        since: None,
        removed: Some(26),
        instead: "flowcontrol.apiserver.k8s.io/v1",
    },
    Served {
        api_version: "storage.k8s.io/v1beta1",
        kind: Some("CSIStorageCapacity"),
        since: None,
        removed: Some(27),
        instead: "storage.k8s.io/v1",
    },
    Served {
        api_version: "flowcontrol.apiserver.k8s.io/v1beta2",
        kind: None,
        since: None,
        removed: Some(29),
        instead: "flowcontrol.apiserver.k8s.io/v1",
    },
    Served {
        api_version: "flowcontrol.apiserver.k8s.io/v1beta3",
        kind: None,
        since: Some(26),
        removed: Some(32),
        instead: "flowcontrol.apiserver.k8s.io/v1",
    },
    Served {
        api_version: "flowcontrol.apiserver.k8s.io/v1",
        kind: None,
        since: Some(29),
        removed: None,
        instead: "flowcontrol.apiserver.k8s.io/v1beta3",
    },
    Served {
        api_version: "admissionregistration.k8s.io/v1",
        kind: Some("ValidatingAdmissionPolicy"),
        since: Some(30),
        removed: None,
        instead: "none before 1.30 (beta, off by default)",
    },
    Served {
        api_version: "admissionregistration.k8s.io/v1",
        kind: Some("ValidatingAdmissionPolicyBinding"),
        since: Some(30),
        removed: None,
        instead: "none before 1.30 (beta, off by default)",
    },
    Served {
        api_version: "autoscaling/v2",
        kind: None,
        since: Some(23),
        removed: None,
        instead: "autoscaling/v2beta2",
    },
];

/// The API groups the Kubernetes API server itself serves (kubernetes/kubernetes
/// pkg/controlplane: the groups of its REST storage providers, as `kubectl api-versions` lists
/// them on a bare cluster, 1.22 to 1.33). Any other group, including ones under `k8s.io` such
/// as Gateway API's `gateway.networking.k8s.io` or `snapshot.storage.k8s.io`, and
/// aggregated ones such as `metrics.k8s.io`, is served only once something installs it.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "settings.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// Built-in groups: a kind of these groups that is not in the table is served on 1.22+.
pub fn builtin_group(group: &str) -> bool {
    BUILTIN_GROUPS.contains(&group)
}

/// Why `object` is not served by Kubernetes `minor` (1.`minor`), or None when it is.
pub fn not_served(object: &Object, minor: u64) -> Option<String> {
    // Alpha versions of built-in groups are off unless the API server enables them
    // (`--runtime-config`; kubernetes.io/docs/reference/using-api/#api-versioning).
    let version = object.api_version.rsplit('/').next().unwrap_or("");
    if builtin_group(object.group()) && version.contains("alpha") {
        return Some(format!(
            "{} {} is an alpha API, which Kubernetes does not serve unless the cluster enables it (--runtime-config); use a stable version",
            object.api_version, object.kind
        ));
    }
    TABLE
        .iter()
        .filter(|s| s.api_version == object.api_version)
        .filter(|s| s.kind.is_none_or(|k| k == object.kind))
        .find_map(|s| {
            if let Some(r) = s.removed.filter(|r| minor >= *r) {
                Some(format!(
                    "{} {} is not served from Kubernetes 1.{r} (this environment runs 1.{minor}); use {}",
                    object.api_version, object.kind, s.instead
                ))
            } else {
                s.since.filter(|f| minor < *f).map(|f| {
                    format!(
                        "{} {} is served from Kubernetes 1.{f} only (this environment runs 1.{minor}); use {}",
                        object.api_version, object.kind, s.instead
                    )
                })
            }
        })
}

/// Every object's apiVersion/kind is served by the environment's Kubernetes version: built-in
/// ones by the table above, custom resources by a CRD of the input (or one the matrix says
/// the platform installs: Prometheus Operator's with `operations.monitoring.prometheus`).
pub fn check(env: &EnvPlan, all: &[Object], whole: bool, f: &mut Findings) {
    let minor = env.kubernetes.minor;
    let crds: Vec<&Object> = all
        .iter()
        .filter(|o| o.kind == "CustomResourceDefinition")
        .collect();
    let monitoring = env.env.operations.monitoring.prometheus;
    // Helm prints a chart's crds/ folder only with --include-crds (`# Source: chart/crds/..`).
    let with_crds_folders = crds
        .iter()
        .any(|c| c.source.as_deref().is_some_and(|s| s.contains("/crds/")));
    for o in all {
        if let Some(why) = not_served(o, minor) {
            f.fail("api", o, "apiVersion", why);
            continue;
        }
        let group = o.group();
        if builtin_group(group) {
            continue;
        }
        let version = o.api_version.rsplit('/').next().unwrap_or("");
        let crd = crds.iter().find(|c| {
            c.str_at("spec.group") == Some(group)
                && c.str_at("spec.names.kind") == Some(o.kind.as_str())
        });
        match crd {
            Some(c) => {
                let served = c
                    .at("spec.versions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|v| v.get("name").and_then(Value::as_str) == Some(version) && v.get("served").and_then(Value::as_bool) != Some(false));
                if !served {
                    f.fail("api", o, "apiVersion", format!("{} is not a served version of CRD {}", o.api_version, c.name));
                }
            }
            None if group == "monitoring.coreos.com" && monitoring => {}
            None if group == "monitoring.coreos.com" => f.fail("api", o, "apiVersion", "Prometheus Operator CRDs are not installed here (operations.monitoring.prometheus is false)".into()),
            // Charts install CRDs from their crds/ folder, which `helm template` prints only
            // with --include-crds: without any CRD of the group, say how to check.
            None if whole && crds.iter().any(|c| c.str_at("spec.group") == Some(group)) => f.fail("api", o, "apiVersion", format!("no CRD in the rendered objects defines {} {}, though CRDs of {group} are there", o.api_version, o.kind)),
            // Rendered with --include-crds (a CRD of some chart's crds/ folder is there):
            // nothing installs the group.
            None if whole && with_crds_folders => f.fail("api", o, "apiVersion", format!("no CRD in the rendered objects defines {} {}, and no release installs any CRD of {group}: install its CRDs (a release that renders them, or the platform's, declared in the matrix) or drop the object", o.api_version, o.kind)),
            None if whole => f.note("api", o, "apiVersion", format!("no CRD of {group} in the input: render with --include-crds to check that {} {} is served", o.api_version, o.kind)),
            None => f.note("api", o, "apiVersion", format!("no CRD in these releases defines {} {} (another release may install it)", o.api_version, o.kind)),
        }
    }
}
