//! Fields the API server or a controller validates against something else in the same object
//! or in the cluster, which the reference graph (`refs.rs`) does not walk:
//!
//! - a (Cluster)RoleBinding's `roleRef.apiGroup` is `rbac.authorization.k8s.io` and each
//!   subject's `kind` is `ServiceAccount`, `User` or `Group` (the API server's RBAC validation,
//!   kubernetes pkg/apis/rbac/validation: `ValidateRoleBindingSubject` and the roleRef's
//!   "supported values"); an object failing either is refused on apply;
//! - every `volumeMounts[].name` of a container names a volume of its pod spec (pod
//!   validation refuses the pod: "spec.containers[0].volumeMounts[0].name: Not found");
//! - an HPA's `scaleTargetRef.apiVersion`, when its group is built in, is served by the
//!   environment's Kubernetes (the HPA controller reads the scale subresource through it, and
//!   reports FailedGetScale otherwise);
//! - a CA `ClusterIssuer`'s `spec.ca.secretName` is a Secret of cert-manager's cluster
//!   resource namespace (the namespace cert-manager runs in, unless its controller says
//!   `--cluster-resource-namespace`), rendered or written by a Certificate there.

use serde_json::Value;

use super::manifest::Object;
use super::pods::pods;
use super::report::Findings;
use crate::plan::EnvPlan;

/// Runs every check of this file. `partial`: only some releases were rendered (a missing
/// Secret is then a note).
pub fn check(env: &EnvPlan, objects: &[Object], partial: bool, f: &mut Findings) {
    bindings(objects, f);
    volume_mounts(objects, f);
    scale_target_versions(env, objects, f);
    ca_issuers(objects, partial, f);
    super::schema::check(objects, f);
}

const RBAC: &str = "rbac.authorization.k8s.io";

fn bindings(objects: &[Object], f: &mut Findings) {
    for o in objects.iter().filter(|o| {
        o.group() == RBAC && matches!(o.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
    }) {
        let group = o.str_at("roleRef.apiGroup").unwrap_or("");
        if group != RBAC {
            f.fail(
                "refs",
                o,
                "roleRef.apiGroup",
                format!("is {group:?}: the API server accepts only \"{RBAC}\" here and refuses the {}; set roleRef.apiGroup: {RBAC}", o.kind),
            );
        }
        for (i, s) in o
            .at("subjects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let kind = s.get("kind").and_then(Value::as_str).unwrap_or("");
            if !matches!(kind, "ServiceAccount" | "User" | "Group") {
                f.fail(
                    "refs",
                    o,
                    &format!("subjects[{i}].kind"),
                    format!("is {kind:?}: a subject is a ServiceAccount, User or Group, and the API server refuses the {} otherwise", o.kind),
                );
            }
        }
    }
}

fn volume_mounts(objects: &[Object], f: &mut Findings) {
    // Built-in kinds only: a custom resource's pod spec may mount volumes its controller adds.
    for o in objects
        .iter()
        .filter(|o| !super::pods::pod_specs(o).is_empty())
    {
        for pod in pods(o) {
            let volumes: Vec<&str> = pod
                .spec
                .get("volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.get("name").and_then(Value::as_str))
                .collect();
            for c in pod.containers() {
                for (i, m) in c
                    .value
                    .get("volumeMounts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let Some(name) = m.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    if !volumes.contains(&name) {
                        f.fail(
                            "refs",
                            o,
                            &format!("{}.volumeMounts[{i}].name", c.at),
                            format!(
                                "mounts volume {name:?}, which {}.volumes does not define (it has: {}): the API server refuses the pods; name one of those volumes or add it",
                                pod.path,
                                if volumes.is_empty() { "none".to_string() } else { volumes.join(", ") }
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn scale_target_versions(env: &EnvPlan, objects: &[Object], f: &mut Findings) {
    let table = super::apis::table();
    let minor = env.kubernetes.minor;
    if !table.covers(minor) {
        return;
    }
    for o in objects
        .iter()
        .filter(|o| o.group() == "autoscaling" && o.kind == "HorizontalPodAutoscaler")
    {
        let Some(r) = o.at("spec.scaleTargetRef") else {
            continue;
        };
        let version = r.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
        let group = version.rsplit_once('/').map_or("", |(g, _)| g);
        if version.is_empty() || !table.builtin_group(group) {
            continue;
        }
        if let Some(why) = table.not_served(version, kind, minor) {
            f.fail(
                "refs",
                o,
                "spec.scaleTargetRef.apiVersion",
                format!("the autoscaler reads its target's scale through it, and {why}: it never scales (FailedGetScale)"),
            );
        }
    }
}

/// The namespace cert-manager reads ClusterIssuers' Secrets from: the namespace of the
/// rendered cert-manager controller, or its `--cluster-resource-namespace` flag.
fn cluster_resource_namespace(objects: &[Object]) -> Option<String> {
    objects
        .iter()
        .filter(|o| o.group() == "apps" && o.kind == "Deployment")
        .find_map(|o| {
            pods(o).iter().find_map(|p| {
                p.containers().iter().find_map(|c| {
                    let image = c.str("image")?;
                    if !image.contains("cert-manager-controller") {
                        return None;
                    }
                    let flag = c
                        .value
                        .get("args")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .find_map(|a| a.strip_prefix("--cluster-resource-namespace="));
                    match flag {
                        Some(ns) if !ns.contains('$') => Some(ns.to_string()),
                        _ => o.namespace.clone(),
                    }
                })
            })
        })
}

fn ca_issuers(objects: &[Object], partial: bool, f: &mut Findings) {
    let Some(ns) = cluster_resource_namespace(objects) else {
        return;
    };
    for o in objects
        .iter()
        .filter(|o| o.group() == "cert-manager.io" && o.kind == "ClusterIssuer")
    {
        let Some(secret) = o.str_at("spec.ca.secretName") else {
            continue;
        };
        let written = objects.iter().any(|c| {
            c.namespace.as_deref() == Some(ns.as_str())
                && ((c.group().is_empty() && c.kind == "Secret" && c.name == secret)
                    || (c.group() == "cert-manager.io"
                        && c.kind == "Certificate"
                        && c.str_at("spec.secretName") == Some(secret)))
        });
        if !written {
            super::report::missing(
                partial,
                f,
                o,
                "spec.ca.secretName",
                format!("names Secret {ns}/{secret} (a ClusterIssuer's CA Secret lives in cert-manager's namespace, {ns}), which is not rendered and no Certificate there writes: the issuer never becomes Ready and signs nothing; name the Secret a Certificate in {ns} writes (spec.secretName)"),
            );
        }
    }
}
