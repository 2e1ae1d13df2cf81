//! Which API versions a Kubernetes release serves: the built-in group/versions that were
//! removed or added in the releases deploygen targets, and the kinds that are cluster-scoped.
//! Sources: kubernetes.io/docs/reference/using-api/deprecation-guide/ (removals) and the
//! release notes of each minor (additions); a group/version not listed here is either served
//! by every release from 1.22 on or provided by a CRD.

use super::manifest::Object;

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

/// Built-in groups: a kind of these groups that is not in the table is served on 1.22+.
pub fn builtin_group(group: &str) -> bool {
    group.is_empty()
        || !group.contains('.')
        || group.ends_with(".k8s.io") && !group.ends_with(".x-k8s.io")
}

/// Why `object` is not served by Kubernetes `minor` (1.`minor`), or None when it is.
pub fn not_served(object: &Object, minor: u64) -> Option<String> {
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
