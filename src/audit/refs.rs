//! The reference graph: every object checked against every object it names. One walk indexes
//! the objects (by group, kind, namespace and name) and their pods; each check below reads the
//! index, and a dangling or mismatched reference is a `refs` finding that names both ends.
//!
//! - namespaces: every namespaced object lands in a namespace that exists (a rendered
//!   `Namespace`, a release namespace helmfile creates, or one every cluster has);
//! - the same object (group, kind, namespace, name) rendered twice;
//! - (Cluster)RoleBinding -> its Role or ClusterRole and its ServiceAccount subjects;
//! - pod -> its ServiceAccount, and the ConfigMaps and Secrets it mounts or reads;
//! - Deployment/StatefulSet/DaemonSet/ReplicaSet/ReplicationController selector -> its own
//!   pod template's labels;
//! - probe -> a named port its container declares;
//! - HorizontalPodAutoscaler -> its scale target, PodDisruptionBudget -> some pod;
//! - KnativeServing -> the namespace the plan serves Knative in;
//! - ServiceMonitor/PodMonitor -> the labels Prometheus selects monitors by;
//! - gateways and Ingresses -> their TLS secrets, KServe's config -> its gateways
//!   (src/audit/ingress.rs).
//!
//! A reference into a namespace the render does not own (kube-system, the monitoring stack's)
//! is not judged: what lives there is not in the input. Where only some releases were rendered
//! (`--release`), a missing object may belong to another release: a note, not a failure. Where
//! the Knative Operator's objects were not given, what it creates in its namespaces is unknown.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::manifest::{cluster_scoped, Object};
use super::operator;
use super::pods::pod_labels;
use super::pods::{pods, Pod};
use super::report::Findings;
use super::wiring::{selects, Context};
use crate::plan::{EnvPlan, Plan};

/// Namespaces every cluster has (kubernetes.io/docs/concepts/overview/working-with-objects/
/// namespaces/#initial-namespaces).
pub const BUILTIN_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// ClusterRoles the API server creates (kubernetes.io/docs/reference/access-authn-authz/rbac/
/// #default-roles-and-role-bindings): the user-facing roles and every `system:` role.
pub fn builtin_cluster_role(name: &str) -> bool {
    matches!(name, "cluster-admin" | "admin" | "edit" | "view") || name.starts_with("system:")
}

/// The index one walk builds, and what the checks need about the environment.
pub struct Graph<'a> {
    objects: &'a [Object],
    /// (group, kind, namespace, name) -> the objects rendered under that key.
    by_key: BTreeMap<(&'a str, &'a str, &'a str, &'a str), Vec<&'a Object>>,
    /// Namespaces the render owns: rendered Namespace objects and release namespaces.
    owned: BTreeSet<String>,
    /// Namespaces that exist without being owned (built-in, the monitoring stack's).
    external: BTreeSet<String>,
    /// Namespaces where the Knative Operator creates objects this input does not show.
    operator_namespaces: BTreeSet<String>,
    /// Only some releases were rendered.
    partial: bool,
    /// Every pod spec of the objects, with its object.
    pods: Vec<(&'a Object, Pod<'a>)>,
}

impl<'a> Graph<'a> {
    /// `partial`: only some releases were rendered; `operator_missing`: the Knative Operator's
    /// objects were not given.
    pub fn build(
        plan: &Plan,
        env: &EnvPlan,
        objects: &'a [Object],
        partial: bool,
        operator_missing: bool,
    ) -> Self {
        let mut by_key: BTreeMap<_, Vec<&Object>> = BTreeMap::new();
        for o in objects {
            by_key
                .entry((
                    o.group(),
                    o.kind.as_str(),
                    o.namespace.as_deref().unwrap_or(""),
                    o.name.as_str(),
                ))
                .or_default()
                .push(o);
        }
        let mut owned: BTreeSet<String> = plan
            .releases
            .iter()
            .filter(|r| env.installs(&r.name))
            .map(|r| r.namespace.clone())
            .collect();
        owned.extend(
            objects
                .iter()
                .filter(|o| o.kind == "Namespace" && o.group().is_empty())
                .map(|o| o.name.clone()),
        );
        let mut external: BTreeSet<String> =
            BUILTIN_NAMESPACES.iter().map(|s| s.to_string()).collect();
        let monitoring = &env.env.operations.monitoring;
        if monitoring.prometheus {
            external.insert(monitoring.namespace.clone());
        }
        let operator_namespaces = if operator_missing {
            operator::knative_servings(objects)
                .filter_map(|o| o.namespace.clone())
                .collect()
        } else {
            BTreeSet::new()
        };
        Graph {
            objects,
            by_key,
            owned,
            external,
            operator_namespaces,
            partial,
            pods: objects
                .iter()
                .flat_map(|o| pods(o).into_iter().map(move |p| (o, p)))
                .collect(),
        }
    }

    /// Every pod spec of every object (`pods::pods`), read once.
    fn pods(&self) -> impl Iterator<Item = (&'a Object, &Pod<'a>)> + '_ {
        self.pods.iter().map(|(o, p)| (*o, p))
    }

    fn get(&self, group: &str, kind: &str, ns: &str, name: &str) -> Option<&'a Object> {
        self.by_key
            .get(&(group, kind, ns, name))
            .and_then(|v| v.first().copied())
    }

    /// Whether the contents of `ns` are known: the render owns it and no operator adds to it.
    fn known(&self, ns: &str) -> bool {
        self.owned.contains(ns) && !self.operator_namespaces.contains(ns)
    }

    /// Whether the pods, Deployments and ServiceAccounts of `ns` are all known: `ns` is known,
    /// or it is an operator namespace whose workloads the audit stands in for (stand_ins.rs:
    /// every Deployment and ServiceAccount the operator creates there).
    fn workloads_known(&self, ns: &str) -> bool {
        self.known(ns)
            || (self.owned.contains(ns)
                && self.objects.iter().any(|o| {
                    o.namespace.as_deref() == Some(ns) && super::stand_ins::is_stand_in(o)
                }))
    }

    /// A reference to an object that is not in the input: a failure, or a note when only some
    /// releases were rendered.
    fn missing(&self, f: &mut Findings, o: &Object, path: &str, message: String) {
        super::report::missing(self.partial, f, o, path, message);
    }
}

/// Runs every reference check on the objects of one audit.
/// `ctx` says whether only some releases were rendered and whether the Knative Operator's
/// objects are missing (the wiring checks' context).
pub fn check(plan: &Plan, env: &EnvPlan, objects: &[Object], ctx: &Context, f: &mut Findings) {
    let g = Graph::build(
        plan,
        env,
        objects,
        ctx.partial,
        ctx.operator_objects_missing,
    );
    namespaces(&g, f);
    duplicates(&g, f);
    bindings(&g, f);
    service_accounts(&g, f);
    own_selectors(&g, f);
    probes(&g, f);
    scale_targets(&g, f);
    disruption_budgets(&g, f);
    knative_serving_namespace(plan, objects, f);
    monitor_labels(env, objects, f);
    pod_data(&g, f);
    let site_class = env.env.gateway.ingress_class.as_deref();
    super::ingress::check(objects, ctx.partial, site_class, f);
    super::kserve_ingress::check(objects, ctx.partial, site_class, f);
}

/// ConfigMaps the cluster itself writes into every namespace: the API server's CA bundle
/// (kube-controller-manager's root-ca-cert-publisher, kubernetes.io/docs/tasks/configure-pod-
/// container/configure-service-account/#service-account-token-volume-projection, 1.20+) and
/// Istio's root certificate (istiod's namespace controller).
const WRITTEN_EVERYWHERE: [&str; 2] = ["kube-root-ca.crt", "istio-ca-root-cert"];

/// Pods mount and read ConfigMaps and Secrets that exist (a Secret may be one a cert-manager
/// Certificate writes); references marked `optional: true` are not judged.
fn pod_data(g: &Graph, f: &mut Findings) {
    for (o, pod) in g.pods() {
        let (path, spec) = (&pod.path, pod.spec);
        let Some(ns) = o.namespace.as_deref() else {
            continue;
        };
        if !g.known(ns) {
            continue;
        }
        // (field path, kind, name)
        let mut refs: Vec<(String, &str, String)> = Vec::new();
        let mut add = |at: String, kind: &'static str, v: &Value, key: &str| {
            if v.get("optional").and_then(Value::as_bool) == Some(true) {
                return;
            }
            if let Some(name) = v.get(key).and_then(Value::as_str) {
                refs.push((at, kind, name.to_string()));
            }
        };
        for (i, vol) in spec
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{path}.volumes[{i}]");
            if let Some(c) = vol.get("configMap") {
                add(format!("{at}.configMap"), "ConfigMap", c, "name");
            }
            if let Some(s) = vol.get("secret") {
                add(format!("{at}.secret"), "Secret", s, "secretName");
            }
            for (j, src) in vol
                .pointer("/projected/sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(c) = src.get("configMap") {
                    add(
                        format!("{at}.projected.sources[{j}].configMap"),
                        "ConfigMap",
                        c,
                        "name",
                    );
                }
                if let Some(s) = src.get("secret") {
                    add(
                        format!("{at}.projected.sources[{j}].secret"),
                        "Secret",
                        s,
                        "name",
                    );
                }
            }
        }
        for c in pod.containers() {
            let at = &c.at;
            let c = c.value;
            for (i, e) in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(r) = e.get("configMapRef") {
                    add(
                        format!("{at}.envFrom[{i}].configMapRef"),
                        "ConfigMap",
                        r,
                        "name",
                    );
                }
                if let Some(r) = e.get("secretRef") {
                    add(format!("{at}.envFrom[{i}].secretRef"), "Secret", r, "name");
                }
            }
            for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                let var = e.get("name").and_then(Value::as_str).unwrap_or("?");
                if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
                    add(
                        format!("{at}.env[{var}].valueFrom.configMapKeyRef"),
                        "ConfigMap",
                        r,
                        "name",
                    );
                }
                if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
                    add(
                        format!("{at}.env[{var}].valueFrom.secretKeyRef"),
                        "Secret",
                        r,
                        "name",
                    );
                }
            }
        }
        for (at, kind, name) in refs {
            let name = name.as_str();
            let exists = match kind {
                "ConfigMap" => {
                    WRITTEN_EVERYWHERE.contains(&name) || g.get("", "ConfigMap", ns, name).is_some()
                }
                _ => {
                    g.get("", "Secret", ns, name).is_some()
                        || g.objects.iter().any(|c| {
                            c.group() == "cert-manager.io"
                                && c.kind == "Certificate"
                                && c.namespace.as_deref() == Some(ns)
                                && c.str_at("spec.secretName") == Some(name)
                        })
                }
            };
            if !exists {
                g.missing(
                    f,
                    o,
                    &at,
                    format!("names {kind} {ns}/{name}, which is not rendered{}: the pods do not start (mark it optional: true if they can run without it)", if kind == "Secret" { " and no Certificate writes" } else { "" }),
                );
            }
        }
    }
}

/// Monitors carry the labels Prometheus selects monitors by (the matrix's
/// `operations.monitoring.selector_labels`): one without them is never scraped.
fn monitor_labels(env: &EnvPlan, objects: &[Object], f: &mut Findings) {
    let monitoring = &env.env.operations.monitoring;
    if !monitoring.prometheus || monitoring.selector_labels.is_empty() {
        return;
    }
    for o in objects.iter().filter(|o| {
        o.group() == "monitoring.coreos.com"
            && matches!(o.kind.as_str(), "ServiceMonitor" | "PodMonitor")
    }) {
        let labels = o.labels();
        let lacking: Vec<String> = monitoring
            .selector_labels
            .iter()
            .filter(|(k, v)| !labels.contains(&(k.as_str(), v.as_str())))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !lacking.is_empty() {
            f.fail(
                "refs",
                o,
                "metadata.labels",
                format!(
                    "lacks {}, which Prometheus selects {}s by (operations.monitoring.selector_labels): it is never scraped",
                    lacking.join(", "),
                    o.kind
                ),
            );
        }
    }
}

/// A KnativeServing lives in the namespace the plan installs Knative Serving in (the
/// `knative-serving` release's): the operator deploys Serving into the resource's own
/// namespace, where the release's PodMonitors and NetworkPolicies expect its pods.
fn knative_serving_namespace(plan: &Plan, objects: &[Object], f: &mut Findings) {
    let Some(release) = plan.releases.iter().find(|r| r.name == "knative-serving") else {
        return;
    };
    for ks in operator::knative_servings(objects) {
        let ns = ks.namespace.as_deref().unwrap_or("");
        if ns != release.namespace {
            f.fail(
                "refs",
                ks,
                "metadata.namespace",
                format!(
                    "is {ns:?}, but Knative Serving belongs in namespace {}: the operator deploys Serving into the KnativeServing's own namespace, so its pods would not be where the release's PodMonitors, NetworkPolicies and Services expect them; set metadata.namespace: {}",
                    release.namespace, release.namespace
                ),
            );
        }
    }
}

/// Every namespaced object lands in a namespace that exists.
fn namespaces(g: &Graph, f: &mut Findings) {
    for o in g.objects {
        let Some(ns) = o.namespace.as_deref() else {
            continue;
        };
        if cluster_scoped(&o.kind) || g.owned.contains(ns) || g.external.contains(ns) {
            continue;
        }
        let known: Vec<&str> = g.owned.iter().map(String::as_str).collect();
        g.missing(
            f,
            o,
            "metadata.namespace",
            format!(
                "is in namespace {ns}, which nothing creates: no Namespace object is rendered and no release of this environment installs there (release namespaces: {}); fix the namespace or render its Namespace",
                known.join(", ")
            ),
        );
    }
}

/// The same object rendered twice: the second apply silently replaces the first.
fn duplicates(g: &Graph, f: &mut Findings) {
    for ((_, _, _, _), list) in &g.by_key {
        let rendered: Vec<&&Object> = list
            .iter()
            .filter(|o| !operator::is_applied(o) && o.at("metadata.name").is_some())
            .collect();
        let Some((first, rest)) = rendered.split_first() else {
            continue;
        };
        for o in rest {
            f.fail(
                "refs",
                o,
                "metadata.name",
                format!(
                    "{} {} is rendered twice: here and at {} (input line {}); one replaces the other on apply, so remove one or rename it",
                    o.api_version,
                    o.id(),
                    first.source.as_deref().unwrap_or("?"),
                    first.line
                ),
            );
        }
    }
}

/// (Cluster)RoleBindings name a role and ServiceAccounts that exist.
fn bindings(g: &Graph, f: &mut Findings) {
    for o in g.objects.iter().filter(|o| {
        o.group() == "rbac.authorization.k8s.io"
            && matches!(o.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
    }) {
        let own_ns = o.namespace.as_deref().unwrap_or("");
        let kind = o.str_at("roleRef.kind").unwrap_or("");
        let name = o.str_at("roleRef.name").unwrap_or("");
        match kind {
            "ClusterRole" => {
                if !builtin_cluster_role(name)
                    && g.get("rbac.authorization.k8s.io", "ClusterRole", "", name)
                        .is_none()
                {
                    g.missing(
                        f,
                        o,
                        "roleRef",
                        format!("binds ClusterRole {name}, which is neither rendered nor built in (cluster-admin, admin, edit, view, system:*)"),
                    );
                }
            }
            "Role" if o.kind == "RoleBinding" => {
                if g.known(own_ns)
                    && g.get("rbac.authorization.k8s.io", "Role", own_ns, name)
                        .is_none()
                {
                    g.missing(
                        f,
                        o,
                        "roleRef",
                        format!("binds Role {own_ns}/{name}, which is not rendered"),
                    );
                }
            }
            other => f.fail(
                "refs",
                o,
                "roleRef.kind",
                format!(
                    "is {other:?}: a {} binds a ClusterRole{}",
                    o.kind,
                    if o.kind == "RoleBinding" {
                        " or a Role of its namespace"
                    } else {
                        ""
                    }
                ),
            ),
        }
        for (i, s) in o
            .at("subjects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if s.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
                continue;
            }
            let sa = s.get("name").and_then(Value::as_str).unwrap_or("");
            let ns = s.get("namespace").and_then(Value::as_str).unwrap_or(own_ns);
            if !ns.is_empty() && !g.owned.contains(ns) && !g.external.contains(ns) {
                g.missing(
                    f,
                    o,
                    &format!("subjects[{i}].namespace"),
                    format!("binds ServiceAccount {ns}/{sa}, in namespace {ns}, which nothing creates (no Namespace object, release namespace or built-in one): the role goes to no pod; fix the namespace"),
                );
                continue;
            }
            if sa == "default" || !g.workloads_known(ns) {
                continue;
            }
            if g.get("", "ServiceAccount", ns, sa).is_none() {
                g.missing(
                    f,
                    o,
                    &format!("subjects[{i}]"),
                    format!("binds ServiceAccount {ns}/{sa}, which is not rendered: the role goes to no pod"),
                );
            }
        }
    }
}

/// Pods run as a ServiceAccount that exists (`default` always does).
fn service_accounts(g: &Graph, f: &mut Findings) {
    for (o, pod) in g.pods() {
        let (path, spec) = (&pod.path, pod.spec);
        let Some(ns) = o.namespace.as_deref() else {
            continue;
        };
        let (field, sa) = match (
            spec.get("serviceAccountName").and_then(Value::as_str),
            spec.get("serviceAccount").and_then(Value::as_str),
        ) {
            (Some(sa), _) => ("serviceAccountName", sa),
            (None, Some(sa)) => ("serviceAccount", sa),
            (None, None) => continue,
        };
        if sa.is_empty() || sa == "default" || !g.workloads_known(ns) {
            continue;
        }
        if g.get("", "ServiceAccount", ns, sa).is_none() {
            g.missing(
                f,
                o,
                &format!("{path}.{field}"),
                format!("runs as ServiceAccount {ns}/{sa}, which is not rendered: the pods are refused at creation"),
            );
        }
    }
}

/// A controller's selector selects its own pod template.
fn own_selectors(g: &Graph, f: &mut Findings) {
    for o in g.objects {
        let apps = o.group() == "apps"
            && matches!(
                o.kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
            );
        let rc = o.group().is_empty() && o.kind == "ReplicationController";
        if !apps && !rc {
            continue;
        }
        let Some(labels) = pod_labels(o) else {
            continue;
        };
        let selector = o.at("spec.selector");
        let empty = selector.is_none_or(|s| {
            s.as_object().is_none_or(|m| {
                m.is_empty()
                    || (apps
                        && m.get("matchLabels")
                            .and_then(Value::as_object)
                            .is_none_or(|l| l.is_empty())
                        && m.get("matchExpressions")
                            .and_then(Value::as_array)
                            .is_none_or(|l| l.is_empty()))
            })
        });
        if empty {
            // A ReplicationController without a selector takes its template's labels.
            if apps {
                f.fail(
                    "refs",
                    o,
                    "spec.selector",
                    format!("is missing or empty: {} {} requires a selector matching spec.template.metadata.labels", o.api_version, o.kind),
                );
            }
            continue;
        }
        if !selects(selector, &labels) {
            let have: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            f.fail(
                "refs",
                o,
                "spec.selector",
                format!(
                    "does not select its own pod template (labels {}): the API server refuses it; make the selector a subset of spec.template.metadata.labels",
                    have.join(",")
                ),
            );
        }
    }
}

/// Probes on a named port name one the container declares.
fn probes(g: &Graph, f: &mut Findings) {
    for (o, pod) in g.pods() {
        for c in pod.containers() {
            let (at, cname) = (&c.at, c.name);
            let c = c.value;
            if c.get("image").and_then(Value::as_str) == Some("auto") {
                continue; // Istio injects the proxy and its probes.
            }
            let declared: Vec<&str> = c
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("name").and_then(Value::as_str))
                .collect();
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                for handler in ["httpGet", "tcpSocket", "grpc"] {
                    let Some(port) = c
                        .get(probe)
                        .and_then(|p| p.get(handler))
                        .and_then(|h| h.get("port"))
                        .and_then(Value::as_str)
                    else {
                        continue;
                    };
                    if !declared.contains(&port) {
                        f.fail(
                            "refs",
                            o,
                            &format!("{at}.{probe}.{handler}.port"),
                            format!(
                                "names port `{port}`, which container {cname} does not declare (its named ports: {}): the probe fails and the pod never becomes ready",
                                if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// HorizontalPodAutoscalers scale something rendered.
fn scale_targets(g: &Graph, f: &mut Findings) {
    for o in g
        .objects
        .iter()
        .filter(|o| o.group() == "autoscaling" && o.kind == "HorizontalPodAutoscaler")
    {
        let ns = o.namespace.as_deref().unwrap_or("");
        let Some(r) = o.at("spec.scaleTargetRef") else {
            continue;
        };
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
        let group = r
            .get("apiVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.rsplit_once('/'))
            .map(|(g, _)| g)
            .unwrap_or("");
        let covered = g.known(ns) || (kind == "Deployment" && g.workloads_known(ns));
        if !covered || g.get(group, kind, ns, name).is_some() {
            continue;
        }
        g.missing(
            f,
            o,
            "spec.scaleTargetRef",
            format!(
                "scales {kind} {ns}/{name}, which is not rendered: the autoscaler does nothing"
            ),
        );
    }
}

/// PodDisruptionBudgets select some pod of their namespace.
fn disruption_budgets(g: &Graph, f: &mut Findings) {
    for o in g
        .objects
        .iter()
        .filter(|o| o.group() == "policy" && o.kind == "PodDisruptionBudget")
    {
        let ns = o.namespace.as_deref().unwrap_or("");
        if !g.workloads_known(ns) {
            continue;
        }
        let selector = o.at("spec.selector");
        let any = g.objects.iter().any(|p| {
            p.namespace.as_deref() == Some(ns)
                && pod_labels(p).is_some_and(|labels| selects(selector, &labels))
        });
        if !any {
            g.missing(
                f,
                o,
                "spec.selector",
                format!("selects no pod in namespace {ns}: the budget protects nothing; match the labels of the pods it is for"),
            );
        }
    }
}
