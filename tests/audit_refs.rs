//! The reference graph of `deploygen audit` (src/audit/refs.rs) on the real render of
//! environment airgap, made when the tests run with the upstream charts (`common::real`; the
//! charts are CI's test data in ../shared and are never copied into the repository):
//! the render as it is passes, and each test plants one mistake in it and asserts the located
//! finding (check, object, path), so each check can fail.

mod common;

use deploygen::audit::{self, report::Severity, Options};

/// The real render of environment airgap (`common::real::airgap`).
fn render() -> &'static str {
    common::real::airgap()
}

/// The render, as text (`{RENDER}` in a format string, `&RENDER` where a `&str` is wanted).
struct Render;

impl std::fmt::Display for Render {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(render())
    }
}

impl std::ops::Deref for Render {
    type Target = str;
    fn deref(&self) -> &str {
        render()
    }
}

const RENDER: Render = Render;

fn run_with(releases: &[&str], manifests: &str) -> audit::Audit {
    let plan = deploygen::plan("matrix.yaml", common::MATRIX.as_bytes()).expect("default plan");
    let opts = Options {
        env: "airgap".into(),
        releases: releases.iter().map(|s| s.to_string()).collect(),
        operator_manifests: None,
    };
    audit::audit(&plan, &opts, "render.yaml", manifests).expect("readable input")
}

fn run(manifests: &str) -> audit::Audit {
    run_with(&[], manifests)
}

/// The real render with `from` (which occurs exactly once) replaced by `to`.
fn plant(from: &str, to: &str) -> String {
    assert_eq!(
        RENDER.matches(from).count(),
        1,
        "`{from}` occurs once in the render"
    );
    RENDER.replacen(from, to, 1)
}

/// `object path: message` of the findings of `check` with `severity`.
fn found(a: &audit::Audit, severity: Severity, check: &str) -> Vec<String> {
    a.findings
        .iter()
        .filter(|f| f.severity == severity && f.check == check)
        .map(|f| format!("{} {}: {}", f.object, f.path, f.message))
        .collect()
}

fn fails(a: &audit::Audit, check: &str) -> Vec<String> {
    found(a, Severity::Fail, check)
}

/// Exactly one failure of `check`, starting with `object path`.
fn assert_one(a: &audit::Audit, check: &str, at: &str, needle: &str) {
    let f = fails(a, check);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].starts_with(at), "{f:#?}");
    assert!(f[0].contains(needle), "{f:#?}");
}

#[test]
fn the_real_render_has_no_reference_wiring_or_fit_failure() {
    let a = run(&RENDER);
    for check in ["refs", "wiring", "network", "mesh", "fit"] {
        assert_eq!(fails(&a, check), Vec::<String>::new(), "{check}");
    }
}

#[test]
fn an_object_in_a_namespace_nothing_creates_is_caught() {
    let a = run(&plant(
        "kind: PodDisruptionBudget\nmetadata:\n  name: istiod\n  namespace: istio-system\n",
        "kind: PodDisruptionBudget\nmetadata:\n  name: istiod\n  namespace: istio-sytem\n",
    ));
    assert_one(
        &a,
        "refs",
        "PodDisruptionBudget istio-sytem/istiod metadata.namespace",
        "which nothing creates",
    );
    // A namespace every cluster has, or one the render creates, is fine.
    let a = run(&plant(
        "kind: PodDisruptionBudget\nmetadata:\n  name: istiod\n  namespace: istio-system\n",
        "kind: PodDisruptionBudget\nmetadata:\n  name: istiod\n  namespace: kserve-test\n",
    ));
    assert!(
        !fails(&a, "refs")
            .iter()
            .any(|f| f.contains("metadata.namespace")),
        "{:#?}",
        fails(&a, "refs")
    );
}

const ISTIOD_BINDING: &str = "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: istiod\nsubjects:\n  - kind: ServiceAccount\n    name: istiod\n    namespace: istio-system\n";

#[test]
fn a_binding_to_a_missing_service_account_or_role_is_caught() {
    let a = run(&plant(
        ISTIOD_BINDING,
        &ISTIOD_BINDING.replace("    name: istiod\n", "    name: istio-pilot\n"),
    ));
    assert_one(
        &a,
        "refs",
        "RoleBinding istio-system/istiod subjects[0]",
        "ServiceAccount istio-system/istio-pilot",
    );
    let a = run(&plant(
        ISTIOD_BINDING,
        &ISTIOD_BINDING.replace("  name: istiod\nsubjects", "  name: istiod-role\nsubjects"),
    ));
    assert_one(
        &a,
        "refs",
        "RoleBinding istio-system/istiod roleRef",
        "Role istio-system/istiod-role",
    );
}

const CAINJECTOR_ROLEREF: &str =
    "  kind: ClusterRole\n  name: cert-manager-cainjector\nsubjects:\n";

#[test]
fn a_cluster_role_binding_to_a_missing_cluster_role_is_caught_and_built_in_roles_exist() {
    let a = run(&plant(
        CAINJECTOR_ROLEREF,
        &CAINJECTOR_ROLEREF.replace("cert-manager-cainjector", "cert-manager-ca-injector"),
    ));
    assert_one(
        &a,
        "refs",
        "ClusterRoleBinding cert-manager-cainjector roleRef",
        "ClusterRole cert-manager-ca-injector",
    );
    for builtin in ["view", "cluster-admin", "system:auth-delegator"] {
        let a = run(&plant(
            CAINJECTOR_ROLEREF,
            &CAINJECTOR_ROLEREF.replace("cert-manager-cainjector", builtin),
        ));
        assert_eq!(fails(&a, "refs"), Vec::<String>::new(), "{builtin}");
    }
}

#[test]
fn a_pod_running_as_a_missing_service_account_is_caught() {
    let a = run(&plant(
        "      serviceAccountName: istiod\n",
        "      serviceAccountName: istio-pilot\n",
    ));
    assert_one(
        &a,
        "refs",
        "Deployment istio-system/istiod spec.template.spec.serviceAccountName",
        "ServiceAccount istio-system/istio-pilot",
    );
    // `default` exists in every namespace.
    let a = run(&plant(
        "      serviceAccountName: istiod\n",
        "      serviceAccountName: default\n",
    ));
    assert_eq!(fails(&a, "refs"), Vec::<String>::new());
}

const ISTIOD_SELECTOR: &str = "  selector:\n    matchLabels:\n      istio: pilot\n  template:\n";

#[test]
fn a_deployment_whose_selector_misses_its_own_template_is_caught() {
    let a = run(&plant(
        ISTIOD_SELECTOR,
        &ISTIOD_SELECTOR.replace("istio: pilot", "istio: istiod"),
    ));
    assert_one(
        &a,
        "refs",
        "Deployment istio-system/istiod spec.selector",
        "does not select its own pod template",
    );
    let a = run(&plant(ISTIOD_SELECTOR, "  selector: {}\n  template:\n"));
    assert_one(
        &a,
        "refs",
        "Deployment istio-system/istiod spec.selector",
        "missing or empty",
    );
    // A subset of the template's labels is a valid selector.
    let a = run(&plant(
        ISTIOD_SELECTOR,
        &ISTIOD_SELECTOR.replace("istio: pilot", "app: istiod"),
    ));
    assert_eq!(fails(&a, "refs"), Vec::<String>::new());
}

#[test]
fn the_same_object_rendered_twice_is_caught() {
    let sa = "---\n# Source: extra/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: istiod\n  namespace: istio-system\n";
    let a = run(&format!("{RENDER}{sa}"));
    assert_one(
        &a,
        "refs",
        "ServiceAccount istio-system/istiod metadata.name",
        "rendered twice",
    );
    // The same name in another namespace is another object.
    let a = run(&format!("{RENDER}{}", sa.replace("istio-system", "kserve")));
    assert_eq!(fails(&a, "refs"), Vec::<String>::new());
}

#[test]
fn a_probe_on_a_port_the_container_does_not_declare_is_caught() {
    let a = run(&plant(
        "              port: http-healthz\n",
        "              port: healthz\n",
    ));
    assert_one(
        &a,
        "refs",
        "Deployment cert-manager/cert-manager spec.template.spec.containers[cert-manager-controller].livenessProbe.httpGet.port",
        "names port `healthz`",
    );
}

#[test]
fn a_numeric_target_port_no_container_declares_is_a_failure() {
    // The kserve webhook Service targets its container's named port; a number nothing
    // declares is now a failure, not a note.
    let a = run(&plant(
        "      targetPort: webhook-server\n",
        "      targetPort: 9444\n",
    ));
    let f = fails(&a, "wiring");
    assert!(
        f.iter()
            .any(|l| l.contains("spec.ports[0].targetPort: targets port 9444")),
        "{f:#?}"
    );
    // istiod's Service targets 15012, on which pilot-discovery listens undeclared (upstream
    // documents it): no finding; another undeclared port on it is one.
    let a = run(&plant(
        "    - port: 15012\n      name: https-dns",
        "    - port: 15012\n      targetPort: 15013\n      name: https-dns",
    ));
    assert!(
        fails(&a, "wiring")
            .iter()
            .any(|l| l.starts_with("Service istio-system/istiod") && l.contains("port 15013")),
        "{:#?}",
        fails(&a, "wiring")
    );
}

const ISTIOD_TARGET: &str = "    apiVersion: apps/v1\n    kind: Deployment\n    name: istiod\n";

#[test]
fn an_autoscaler_or_budget_that_targets_nothing_is_caught() {
    let a = run(&plant(
        ISTIOD_TARGET,
        &ISTIOD_TARGET.replace("name: istiod", "name: pilot"),
    ));
    assert_one(
        &a,
        "refs",
        "HorizontalPodAutoscaler istio-system/istiod spec.scaleTargetRef",
        "Deployment istio-system/pilot",
    );
    let pdb = "  selector:\n    matchLabels:\n      app: istiod\n      istio: pilot\n---";
    let a = run(&plant(pdb, &pdb.replace("app: istiod", "app: pilot")));
    assert_one(
        &a,
        "refs",
        "PodDisruptionBudget istio-system/istiod spec.selector",
        "selects no pod",
    );
}

#[test]
fn with_only_some_releases_a_missing_object_is_a_note() {
    // kserve's objects alone: a binding to a ServiceAccount of a release not rendered is only
    // a note (another release may render it).
    let kserve: String = RENDER
        .split("\n---\n")
        .filter(|d| d.contains("# Source: kserve/"))
        .map(|d| format!("---\n{d}\n"))
        .collect();
    let planted = kserve.replacen(
        "  name: kserve-controller-manager\n  namespace: kserve\n",
        "  name: kserve-manager\n  namespace: kserve\n",
        1,
    );
    assert_ne!(planted, kserve);
    let a = run_with(&["kserve"], &planted);
    assert_eq!(fails(&a, "refs"), Vec::<String>::new());
    assert!(
        found(&a, Severity::Note, "refs")
            .iter()
            .any(|n| n.contains("another release may render it")),
        "{:#?}",
        a.findings
    );
    let a = run(&RENDER.replacen(
        "  name: kserve-controller-manager\n  namespace: kserve\n",
        "  name: kserve-manager\n  namespace: kserve\n",
        1,
    ));
    assert!(!fails(&a, "refs").is_empty());
}

// The served-API table and the built-in groups (src/audit/apis.rs).

fn api_fails(manifests: &str) -> Vec<String> {
    fails(&run(manifests), "api")
}

const GATEWAY: &str = "---\n# Source: istio-ingressgateway/templates/gateway.yaml\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: web\n  namespace: istio-system\nspec:\n  gatewayClassName: istio\n  listeners:\n    - {name: http, port: 80, protocol: HTTP}\n";

fn crd(group: &str, plural: &str, kind: &str) -> String {
    format!("---\n# Source: {plural}/crds/{plural}.yaml\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\nspec:\n  group: {group}\n  names: {{kind: {kind}, plural: {plural}}}\n  scope: Namespaced\n  versions:\n    - {{name: v1, served: true, storage: true}}\n")
}

#[test]
fn a_gateway_api_object_needs_its_crd_in_the_render() {
    // Rendered with --include-crds (the input holds CRDs), but none of Gateway API's.
    let other = crd("example.com", "widgets", "Widget");
    let f = api_fails(&format!("{other}{GATEWAY}"));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].starts_with("Gateway istio-system/web apiVersion: no CRD in the rendered objects defines gateway.networking.k8s.io/v1 Gateway"),
        "{f:#?}"
    );
    // Rendered without --include-crds (no chart's crds/ folder in it), only a note.
    let templated = other.replace("widgets/crds/", "widgets/templates/");
    assert_eq!(
        api_fails(&format!("{templated}{GATEWAY}")),
        Vec::<String>::new()
    );
    // With its CRD, it is served.
    let gw = crd("gateway.networking.k8s.io", "gateways", "Gateway");
    assert_eq!(
        api_fails(&format!("{other}{gw}{GATEWAY}")),
        Vec::<String>::new()
    );
}

/// The audit of `manifests` as environment airgap on Kubernetes `kube` (the default matrix,
/// its clusters' version replaced), with `cluster` lines added to airgap's `cluster:`.
fn run_on(kube: &str, cluster: &str, manifests: &str) -> audit::Audit {
    let airgap = "  airgap:\n    cluster:\n";
    assert_eq!(common::MATRIX.matches(airgap).count(), 1);
    let matrix = common::MATRIX
        .replace("kubernetes: v1.28.6", &format!("kubernetes: {kube}"))
        .replacen(airgap, &format!("{airgap}{cluster}"), 1);
    let plan = deploygen::plan("matrix.yaml", matrix.as_bytes()).expect("plan");
    let opts = Options {
        env: "airgap".into(),
        releases: Vec::new(),
        operator_manifests: None,
    };
    audit::audit(&plan, &opts, "render.yaml", manifests).expect("readable input")
}

fn deployment(api_version: &str) -> String {
    format!("---\napiVersion: {api_version}\nkind: Deployment\nmetadata:\n  name: d\n  namespace: kserve\nspec:\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    spec:\n      containers: [{{name: c, image: \"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\"}}]\n")
}

#[test]
fn apis_removed_before_the_table_and_alpha_apis_are_refused() {
    // The real render on 1.28, with a Deployment at a version Kubernetes removed in 1.16:
    // before the table's first minor (1.25), so "not served by 1.28", and what to use.
    for v in ["apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"] {
        let f = api_fails(&format!("{RENDER}{}", deployment(v)));
        assert_eq!(
            f,
            [format!("Deployment kserve/d apiVersion: {v} Deployment is not served by Kubernetes 1.28 (nor by any of 1.25 to 1.37); use apps/v1")],
            "{v}"
        );
    }
    assert_eq!(
        api_fails(&format!("{RENDER}{}", deployment("apps/v1"))),
        Vec::<String>::new()
    );
    // An Ingress of extensions/v1beta1 moved to networking.k8s.io.
    let ingress = "---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: kserve\n";
    let f = api_fails(ingress);
    assert!(
        f.len() == 1
            && f[0].contains("not served by Kubernetes 1.28")
            && f[0].ends_with("use networking.k8s.io/v1"),
        "{f:#?}"
    );
    let alpha = "---\napiVersion: admissionregistration.k8s.io/v1alpha1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: p\n";
    let f = api_fails(alpha);
    assert!(f.len() == 1 && f[0].contains("alpha API"), "{f:#?}");
}

#[test]
fn a_beta_api_off_by_default_is_refused_unless_the_matrix_says_the_cluster_enables_it() {
    // admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicy (beta from 1.28) is served
    // only with --runtime-config (KEP-3136: new beta APIs are off by default since 1.24).
    let policy = "---\n# Source: kserve/templates/policy.yaml\napiVersion: admissionregistration.k8s.io/v1beta1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: replicas\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]\n  validations: [{expression: \"object.spec.replicas <= 5\"}]\n";
    let fails_on = |kube: &str, cluster: &str| {
        let a = run_on(kube, cluster, &format!("{RENDER}{policy}"));
        fails(&a, "api")
    };
    let f = fails_on("v1.28.6", "");
    assert!(
        f.len() == 1
            && f[0].starts_with("ValidatingAdmissionPolicy replicas apiVersion: admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicy is a beta API that Kubernetes 1.28 serves only where the cluster enables it")
            && f[0].contains("--runtime-config=admissionregistration.k8s.io/v1beta1=true")
            && f[0].contains("cluster.platform_apis"),
        "{f:#?}"
    );
    // Where the stable version is served (1.30), the finding names it.
    let f = fails_on("v1.30.2", "");
    assert!(
        f.len() == 1 && f[0].contains("use admissionregistration.k8s.io/v1, or list"),
        "{f:#?}"
    );
    // Declared as enabled: served.
    assert_eq!(
        fails_on(
            "v1.28.6",
            "      platform_apis: [admissionregistration.k8s.io/v1beta1]\n"
        ),
        Vec::<String>::new()
    );
    // A beta that was on before 1.24 stays on: FlowSchema v1beta3 on 1.28.
    let flow = FLOW_SCHEMA.replace("v1beta2", "v1beta3");
    let a = run_on("v1.28.6", "", &format!("{RENDER}{flow}"));
    assert_eq!(fails(&a, "api"), Vec::<String>::new());
}

const CRON_JOB: &str = "---\n# Source: kserve/templates/cron.yaml\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: c\n  namespace: kserve\nspec:\n  schedule: \"@daily\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: \"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\"}]\n";

const FLOW_SCHEMA: &str = "---\n# Source: kserve/templates/flow.yaml\napiVersion: flowcontrol.apiserver.k8s.io/v1beta2\nkind: FlowSchema\nmetadata:\n  name: kserve\nspec:\n  priorityLevelConfiguration: {name: workload-low}\n";

#[test]
fn apis_follow_the_generated_table_on_each_minor() {
    // batch/v1beta1 CronJob: removed in 1.25, refused on every minor the catalog supports.
    for kube in ["v1.28.6", "v1.30.2"] {
        let f = fails(&run_on(kube, "", &format!("{RENDER}{CRON_JOB}")), "api");
        let minor = &kube[1..5];
        assert_eq!(f, [format!("CronJob kserve/c apiVersion: batch/v1beta1 CronJob is not served by Kubernetes {minor} (nor by any of 1.25 to 1.37); use batch/v1")], "{kube}");
    }
    // flowcontrol.apiserver.k8s.io/v1beta2: served on 1.28, removed in 1.29.
    assert_eq!(
        fails(
            &run_on("v1.28.6", "", &format!("{RENDER}{FLOW_SCHEMA}")),
            "api"
        ),
        Vec::<String>::new()
    );
    for kube in ["v1.29.4", "v1.30.2"] {
        let f = fails(&run_on(kube, "", &format!("{RENDER}{FLOW_SCHEMA}")), "api");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].starts_with("FlowSchema kserve apiVersion: flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema is not served from Kubernetes 1.29 on ("), "{f:#?}");
        assert!(
            f[0].ends_with("use flowcontrol.apiserver.k8s.io/v1"),
            "{f:#?}"
        );
    }
    // Its GA version passes from 1.29 on, and is too new for 1.28.
    let ga = FLOW_SCHEMA.replace("/v1beta2", "/v1");
    assert_eq!(
        fails(&run_on("v1.29.4", "", &format!("{RENDER}{ga}")), "api"),
        Vec::<String>::new()
    );
    let f = fails(&run_on("v1.28.6", "", &format!("{RENDER}{ga}")), "api");
    assert!(
        f.len() == 1
            && f[0].contains("is served from Kubernetes 1.29 on only (this environment runs 1.28)"),
        "{f:#?}"
    );
    // The real render itself is served on each of these minors.
    for kube in ["v1.29.4", "v1.30.2"] {
        assert_eq!(
            fails(&run_on(kube, "", &RENDER), "api"),
            Vec::<String>::new(),
            "{kube}"
        );
    }
}

/// `helmfile -e airgap template --include-crds` of the tree, CRDs included, made once.
fn whole() -> &'static str {
    static WHOLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    WHOLE.get_or_init(common::real::airgap_whole)
}

#[test]
fn a_group_the_platform_installs_is_declared_in_the_matrix() {
    // The real render with its CRDs (--include-crds; `common::real::airgap` leaves them out)
    // and a Gateway whose CRD nothing renders.
    let with_crds = whole();
    assert_eq!(
        fails(&run_on("v1.28.6", "", with_crds), "api"),
        Vec::<String>::new()
    );
    let f = fails(
        &run_on("v1.28.6", "", &format!("{with_crds}{GATEWAY}")),
        "api",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].starts_with("Gateway istio-system/web apiVersion: no CRD in the rendered objects defines gateway.networking.k8s.io/v1 Gateway"), "{f:#?}");
    assert!(
        f[0].contains(
            "list gateway.networking.k8s.io/v1 under environments.airgap.cluster.platform_apis"
        ),
        "{f:#?}"
    );
    // Declared as installed by the platform: served.
    let declared = "      platform_apis: [gateway.networking.k8s.io/v1]\n";
    assert_eq!(
        fails(
            &run_on("v1.28.6", declared, &format!("{with_crds}{GATEWAY}")),
            "api"
        ),
        Vec::<String>::new()
    );
    // Another version of the group is not declared by it.
    let beta = GATEWAY.replace(
        "gateway.networking.k8s.io/v1",
        "gateway.networking.k8s.io/v1beta1",
    );
    let f = fails(
        &run_on("v1.28.6", declared, &format!("{with_crds}{beta}")),
        "api",
    );
    assert!(
        f.len() == 1 && f[0].contains("list gateway.networking.k8s.io/v1beta1 under"),
        "{f:#?}"
    );
    // A CRD in the render that does not serve the object's version.
    let gw = crd("gateway.networking.k8s.io", "gateways", "Gateway");
    let f = fails(
        &run_on("v1.28.6", "", &format!("{with_crds}{gw}{beta}")),
        "api",
    );
    assert_eq!(f, ["Gateway istio-system/web apiVersion: gateway.networking.k8s.io/v1beta1 is not a served version of CRD gateways.gateway.networking.k8s.io (it serves: v1): use one it serves, or list gateway.networking.k8s.io/v1beta1 under environments.airgap.cluster.platform_apis if the platform installs that version"]);
    let unserved = gw.replace("{name: v1, served: true", "{name: v1beta1, served: false");
    assert_ne!(unserved, gw);
    let f = fails(
        &run_on("v1.28.6", "", &format!("{with_crds}{unserved}{beta}")),
        "api",
    );
    assert!(f.len() == 1 && f[0].contains("(it serves: none)"), "{f:#?}");
    assert_eq!(
        fails(
            &run_on("v1.28.6", "", &format!("{with_crds}{gw}{GATEWAY}")),
            "api"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn monitors_are_served_where_prometheus_runs_or_the_platform_declares_them() {
    // airgap renders ServiceMonitors with `operations.monitoring.prometheus: true`, which
    // implies monitoring.coreos.com/v1; with it off, each monitor needs a declaration.
    let off = common::MATRIX.replacen(
        "        prometheus: true\n",
        "        prometheus: false\n",
        1,
    );
    assert_ne!(off, common::MATRIX);
    let plan = deploygen::plan("matrix.yaml", off.as_bytes()).expect("plan");
    let opts = Options {
        env: "airgap".into(),
        releases: Vec::new(),
        operator_manifests: None,
    };
    let a = audit::audit(&plan, &opts, "render.yaml", &RENDER).expect("readable input");
    let f = fails(&a, "api");
    assert!(
        !f.is_empty()
            && f.iter()
                .all(|l| l.contains("Prometheus Operator CRDs are not installed here")),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|l| l.starts_with("ServiceMonitor istio-system/istiod apiVersion:")),
        "{f:#?}"
    );
    // Declared in cluster.platform_apis instead: served.
    let airgap = "  airgap:\n    cluster:\n";
    let declared = off.replacen(
        airgap,
        &format!("{airgap}      platform_apis: [monitoring.coreos.com/v1]\n"),
        1,
    );
    assert_ne!(declared, off);
    let plan = deploygen::plan("matrix.yaml", declared.as_bytes()).expect("plan");
    let a = audit::audit(&plan, &opts, "render.yaml", &RENDER).expect("readable input");
    assert_eq!(fails(&a, "api"), Vec::<String>::new());
}

#[test]
fn a_minor_the_table_does_not_cover_is_one_note_and_built_in_apis_go_unjudged() {
    let mut plan = deploygen::plan("matrix.yaml", common::MATRIX.as_bytes()).expect("plan");
    for env in &mut plan.environments {
        env.kubernetes = semver::Version::new(1, 38, 0);
    }
    let opts = Options {
        env: "airgap".into(),
        releases: Vec::new(),
        operator_manifests: None,
    };
    let a = audit::audit(
        &plan,
        &opts,
        "render.yaml",
        &format!("{}{CRON_JOB}", whole()),
    )
    .expect("readable input");
    assert_eq!(fails(&a, "api"), Vec::<String>::new());
    let notes = found(&a, Severity::Note, "api");
    assert_eq!(
        notes,
        ["environment airgap cluster.kubernetes: the served-API table covers Kubernetes 1.25 to 1.37, not 1.38: the apiVersions of built-in groups are not checked (update kubernetes-validate in .ci/served-apis.py)"]
    );
    // On a covered minor there is no such note.
    assert!(found(&run(whole()), Severity::Note, "api").is_empty());
}

#[test]
fn a_replication_controller_is_read_for_images_and_its_selector() {
    let rc = |image: &str, selector: &str| {
        format!("---\n# Source: kserve/templates/rc.yaml\napiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: rc\n  namespace: kserve\nspec:\n  selector: {selector}\n  template:\n    metadata: {{labels: {{app: rc}}}}\n    spec:\n      containers: [{{name: c, image: \"{image}\"}}]\n")
    };
    let a = run(&rc("docker.io/library/nginx:1.27", "{app: rc}"));
    let f = fails(&a, "images");
    assert!(
        f.iter().any(|l| l
            .starts_with("ReplicationController kserve/rc spec.template.spec.containers[c].image")
            && l.contains("not on the mirror")),
        "{f:#?}"
    );
    let a = run(&rc("docker.io/library/nginx:1.27", "{app: other}"));
    assert_one(
        &a,
        "refs",
        "ReplicationController kserve/rc spec.selector",
        "does not select its own pod template",
    );
}

// The Knative Operator's inputs (src/audit/operator.rs, refs.rs) and the notes on images.

const KNATIVE_SERVING: &str =
    "kind: KnativeServing\nmetadata:\n  name: knative-serving\n  namespace: knative-serving\n";

#[test]
fn a_knative_serving_in_the_wrong_namespace_says_so() {
    let a = run(&plant(
        KNATIVE_SERVING,
        &KNATIVE_SERVING.replace("namespace: knative-serving", "namespace: kserve"),
    ));
    let f = fails(&a, "refs");
    let at: Vec<&String> = f
        .iter()
        .filter(|l| l.starts_with("KnativeServing kserve/knative-serving metadata.namespace"))
        .collect();
    assert_eq!(at.len(), 1, "{f:#?}");
    assert!(
        at[0].contains("belongs in namespace knative-serving"),
        "{f:#?}"
    );
    // Its consequence: the gateways KServe names are not where the operator creates them.
    assert!(
        f.iter().any(|l| l
            .starts_with("ConfigMap kserve/inferenceservice-config data.ingress.ingressGateway")),
        "{f:#?}"
    );
}

#[test]
fn a_serving_version_the_operator_does_not_bundle_is_a_finding_not_an_error() {
    let plan = deploygen::plan("matrix.yaml", common::MATRIX.as_bytes()).expect("default plan");
    let kodata = common::repo_root().join("tests/fixtures/kodata-operator/full/v1.99.1");
    let opts = Options {
        env: "airgap".into(),
        releases: Vec::new(),
        operator_manifests: Some(kodata),
    };
    let version = |v: &str| {
        let text = RENDER.replacen(
            "  version: \"1.15.3\"\n",
            &format!("  version: \"{v}\"\n"),
            1,
        );
        assert!(text.contains(&format!("  version: \"{v}\"\n")), "{v}");
        audit::audit(&plan, &opts, "render.yaml", &text).expect("a finding, not an error")
    };
    let bundled = |a: &audit::Audit| -> Vec<String> {
        fails(a, "images")
            .into_iter()
            .filter(|l| l.contains("operator's manifests"))
            .collect()
    };
    // The fixture operator bundles Serving 1.96.3 to 1.99.2, not the rendered 1.15.3.
    let a = version("1.15.3");
    let f = bundled(&a);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].starts_with("KnativeServing knative-serving/knative-serving spec.version: is 1.15.3")
            && f[0].contains("hold no 1.15.3/ there (bundled: 1.96.3, 1.97.1, 1.98.0, 1.99.2)"),
        "{f:#?}"
    );
    let f = bundled(&version("1.99.2"));
    assert!(!f.iter().any(|l| l.contains("hold no 1.99.2/")), "{f:#?}");
}

#[test]
fn notes_on_disabled_runtimes_name_the_mirror_only_where_there_is_one() {
    let runtime_notes = |env: &str| -> Vec<String> {
        let plan = deploygen::plan("matrix.yaml", common::MATRIX.as_bytes()).expect("plan");
        let opts = Options {
            env: env.into(),
            releases: vec!["kserve".into()],
            operator_manifests: None,
        };
        let kserve: String = RENDER
            .split("\n---\n")
            .filter(|d| {
                d.contains("# Source: kserve/") && d.contains("kind: ClusterServingRuntime")
            })
            .map(|d| format!("---\n{d}\n"))
            .collect();
        // online has no mirror: its render names the public images.
        let kserve = if env == "online" {
            kserve.replace("10.61.3.31:35000/", "")
        } else {
            kserve
        };
        audit::audit(&plan, &opts, "render.yaml", &kserve)
            .expect("readable")
            .findings
            .into_iter()
            .filter(|f| {
                f.severity == Severity::Note && f.message.contains("belongs to serving runtime")
            })
            .map(|f| f.message)
            .collect()
    };
    let airgap = runtime_notes("airgap");
    assert!(!airgap.is_empty());
    // Only runtimes the environment does not enable get the note (airgap ships sklearnserver).
    assert!(
        airgap.iter().any(|m| m.contains("/kserve/lgbserver:")),
        "{airgap:#?}"
    );
    assert!(
        !airgap.iter().any(|m| m.contains("/kserve/sklearnserver:")),
        "{airgap:#?}"
    );
    assert!(
        airgap
            .iter()
            .all(|m| m.contains("rewritten to the mirror 10.61.3.31:35000")),
        "{airgap:#?}"
    );
    // online has no mirror: the images are the public ones, so no note claims a rewrite.
    let online = runtime_notes("online");
    assert!(!online.is_empty());
    assert!(online.iter().all(|m| !m.contains("mirror")), "{online:#?}");
}

#[test]
fn an_inactive_listed_image_is_a_note() {
    let config = "---\n# Source: kserve/charts/kserve/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inferenceservice-config\n  namespace: kserve\ndata:\n  localModel: '{\"enabled\": false, \"defaultJobImage\": \"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\"}'\n";
    let a = run_with(&["kserve"], config);
    let notes = found(&a, Severity::Note, "images");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("(inactive: localModel.enabled is false")),
        "{notes:#?}"
    );
}

// PeerAuthentication acts only on pods with a sidecar (src/audit/sidecar.rs, mesh.rs).

fn strict_policy(ns: &str) -> String {
    format!("---\n# Source: istiod/templates/mtls.yaml\napiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n  mtls:\n    mode: STRICT\n")
}

const KSERVE_INJECTED: &str = "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: kserve\n  labels:\n    istio-injection: enabled\n";

#[test]
fn a_strict_policy_over_a_namespace_without_sidecars_is_one_note() {
    let a = run(&format!("{RENDER}{}", strict_policy("kserve")));
    assert_eq!(fails(&a, "mesh"), Vec::<String>::new());
    let notes: Vec<String> = found(&a, Severity::Note, "mesh");
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].starts_with("PeerAuthentication kserve/default spec: asks for STRICT mTLS in namespace kserve, where no pod has an Istio sidecar"),
        "{notes:#?}"
    );
    // With the namespace injected, kserve's pods have sidecars: the API server calling the
    // webhook without one is refused.
    let a = run(&format!(
        "{RENDER}{}{KSERVE_INJECTED}",
        strict_policy("kserve")
    ));
    let f = fails(&a, "mesh");
    assert!(
        f.iter().any(|l| l.starts_with("Service kserve/kserve-webhook-server-service spec.ports[0]: port 9443 on Deployment kserve/kserve-controller-manager is STRICT mTLS (PeerAuthentication kserve/default), but the API server")),
        "{f:#?}"
    );
    assert!(found(&a, Severity::Note, "mesh").is_empty());
}

#[test]
fn a_mesh_wide_strict_policy_fails_only_where_a_sidecar_enforces_it() {
    // Of what the render runs only Knative's activator has a sidecar (istiod opts out, the
    // ingress gateway is a gateway and kserve-test's own policy keeps its exceptions): one
    // failure, Prometheus's scrape of its metrics port (the operator's stand-in, stand_ins.rs).
    let a = run(&format!("{RENDER}{}", strict_policy("istio-system")));
    assert_eq!(
        fails(&a, "mesh"),
        vec!["PodMonitor knative-serving/knative-serving-control-plane spec.podMetricsEndpoints[0].port: scrapes port 9090 of Deployment knative-serving/activator, which is STRICT mTLS (PeerAuthentication istio-system/default); Prometheus has no sidecar".to_string()]
    );
    // kserve injected: its webhook is refused to the API server, named with the mesh policy.
    let a = run(&format!(
        "{RENDER}{}{KSERVE_INJECTED}",
        strict_policy("istio-system")
    ));
    let f = fails(&a, "mesh");
    assert!(!f.is_empty());
    assert!(
        f.iter().all(
            |l| (l.contains("Deployment kserve/kserve-controller-manager")
                || l.contains("Deployment knative-serving/activator"))
                && l.contains("(PeerAuthentication istio-system/default)")
        ),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|l| l.contains("Deployment kserve/kserve-controller-manager")),
        "{f:#?}"
    );
}

#[test]
fn a_pod_that_opts_out_of_injection_is_not_held_to_strict() {
    // kserve injected, but its controller's pods say sidecar.istio.io/inject: "false".
    let opted_out = RENDER.replacen(
        "        app.kubernetes.io/name: kserve-controller-manager\n        control-plane:",
        "        app.kubernetes.io/name: kserve-controller-manager\n        sidecar.istio.io/inject: \"false\"\n        control-plane:",
        1,
    );
    assert!(
        opted_out != *RENDER,
        "the kserve controller's template labels are in the render"
    );
    let a = run(&format!(
        "{opted_out}{}{KSERVE_INJECTED}",
        strict_policy("kserve")
    ));
    assert!(
        !fails(&a, "mesh")
            .iter()
            .any(|l| l.contains("kserve-controller-manager")),
        "{:#?}",
        fails(&a, "mesh")
    );
}

// Cluster fit (src/audit/fit.rs): the matrix's airgap nodes have 64 cores, 450G, 4 GPUs.

const MANAGER_RESOURCES: &str = "            limits:\n              cpu: \"4\"\n              memory: 8Gi\n            requests:\n              cpu: 2000m\n              memory: 4Gi\n";

fn manager_resources(limit_cpu: &str, limit_mem: &str, cpu: &str, mem: &str) -> String {
    plant(
        MANAGER_RESOURCES,
        &format!("            limits:\n              cpu: {limit_cpu}\n              memory: {limit_mem}\n            requests:\n              cpu: {cpu}\n              memory: {mem}\n"),
    )
}

const MANAGER: &str = "Deployment kserve/kserve-controller-manager spec.template.spec";

#[test]
fn a_limit_below_its_request_is_caught() {
    let a = run(&manager_resources("\"1\"", "8Gi", "2000m", "4Gi"));
    assert_one(
        &a,
        "fit",
        &format!("{MANAGER}.containers[manager].resources.limits.cpu"),
        "is 1 CPU, below the request 2 CPU",
    );
    let a = run(&manager_resources("\"4\"", "2Gi", "2000m", "4Gi"));
    assert_one(
        &a,
        "fit",
        &format!("{MANAGER}.containers[manager].resources.limits.memory"),
        "below the request 4.0 GiB",
    );
    // Equal is fine.
    let a = run(&manager_resources("\"2\"", "4Gi", "2000m", "4Gi"));
    assert_eq!(fails(&a, "fit"), Vec::<String>::new());
}

#[test]
fn requests_larger_than_any_node_are_caught() {
    // 80 cores for the manager, plus 100m for its proxy: more than a 64-core node.
    let a = run(&manager_resources("\"80\"", "8Gi", "\"80\"", "4Gi"));
    assert_one(
        &a,
        "fit",
        &format!("{MANAGER}.containers[*].resources.requests.cpu"),
        "request 80100m CPU in all, more than a whole node of environment airgap has (64 CPU, cluster.cores_per_node)",
    );
    let a = run(&manager_resources("\"4\"", "500Gi", "2000m", "500Gi"));
    assert_one(
        &a,
        "fit",
        &format!("{MANAGER}.containers[*].resources.requests.memory"),
        "cluster.memory_per_node",
    );
    // 60 cores fit.
    let a = run(&manager_resources("\"60\"", "8Gi", "\"60\"", "4Gi"));
    assert_eq!(fails(&a, "fit"), Vec::<String>::new());
    // A serving runtime asking for more GPUs than a node has.
    let triton = "      image: \"10.61.3.31:35000/nvidia/tritonserver:23.05-py3\"";
    let block = RENDER
        .split_once(triton)
        .and_then(|(_, rest)| rest.split_once("        requests:\n          cpu: \"1\"\n"))
        .map(|(before, _)| before.len())
        .expect("tritonserver's requests");
    let at = RENDER.find(triton).unwrap() + triton.len() + block;
    let gpus = format!(
        "{}        requests:\n          nvidia.com/gpu: 8\n          cpu: \"1\"\n{}",
        &RENDER[..at],
        &RENDER[at + "        requests:\n          cpu: \"1\"\n".len()..]
    );
    let a = run(&gpus);
    assert_one(
        &a,
        "fit",
        "ClusterServingRuntime kserve-tritonserver spec.containers[*].resources.requests.nvidia.com/gpu",
        "request 8 nvidia.com/gpu in all",
    );
}

#[test]
fn a_quantity_kubernetes_cannot_read_is_caught() {
    let a = run(&manager_resources("\"4\"", "8Gi", "2 cores", "4Gi"));
    assert_one(
        &a,
        "fit",
        &format!("{MANAGER}.containers[manager].resources.requests.cpu"),
        "not a Kubernetes quantity",
    );
}

// The ingress path (src/audit/ingress.rs).

#[test]
fn a_tls_secret_no_certificate_writes_is_caught() {
    let a = run(&plant(
        "              credentialName: \"astrago-ingress-tls\"\n",
        "              credentialName: \"astrago-ingres-tls\"\n",
    ));
    assert_one(
        &a,
        "refs",
        "KnativeServing knative-serving/knative-serving spec.ingress.istio.knative-ingress-gateway.servers[1].tls.credentialName",
        "names TLS secret istio-system/astrago-ingres-tls",
    );
    // The Certificate writing the secret in the wrong namespace does not count either.
    let a = run(&plant(
        "  name: ingress-gateway\n  namespace: istio-system\n",
        "  name: ingress-gateway\n  namespace: knative-serving\n",
    ));
    assert_one(
        &a,
        "refs",
        "KnativeServing knative-serving/knative-serving spec.ingress.istio.knative-ingress-gateway.servers[1].tls.credentialName",
        "istio-system/astrago-ingress-tls",
    );
    // An Ingress naming a secret nothing writes, and one cert-manager's shim writes.
    let ingress = |annotations: &str| {
        format!("---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: models\n  namespace: kserve-test\n{annotations}spec:\n  tls:\n    - hosts: [models.astrago.local]\n      secretName: models-tls\n")
    };
    let a = run(&format!("{RENDER}{}", ingress("")));
    assert_one(
        &a,
        "refs",
        "Ingress kserve-test/models spec.tls[0].secretName",
        "kserve-test/models-tls",
    );
    let a = run(&format!(
        "{RENDER}{}",
        ingress("  annotations:\n    cert-manager.io/cluster-issuer: astrago-ca\n")
    ));
    assert_eq!(fails(&a, "refs"), Vec::<String>::new());
}

#[test]
fn kserve_naming_a_gateway_that_does_not_exist_is_caught() {
    let a = run(&plant(
        "\"ingressGateway\" : \"knative-serving/knative-ingress-gateway\",\n        \"knativeLocal",
        "\"ingressGateway\" : \"knative-serving/kserve-ingress-gateway\",\n        \"knativeLocal",
    ));
    assert_one(
        &a,
        "refs",
        "ConfigMap kserve/inferenceservice-config data.ingress.ingressGateway",
        "names Gateway knative-serving/kserve-ingress-gateway, which is neither rendered nor created by the Knative Operator",
    );
    let a = run(&plant(
        "\"ingressGateway\" : \"knative-serving/knative-ingress-gateway\",\n        \"knativeLocal",
        "\"ingressGateway\" : \"knative-ingress-gateway\",\n        \"knativeLocal",
    ));
    assert_one(
        &a,
        "refs",
        "ConfigMap kserve/inferenceservice-config data.ingress.ingressGateway",
        "namespace/name",
    );
}

#[test]
fn a_monitor_without_the_label_prometheus_selects_is_caught() {
    let a = run(&plant(
        "  name: istiod\n  namespace: istio-system\n  labels:\n    release: kube-prometheus-stack\n",
        "  name: istiod\n  namespace: istio-system\n  labels:\n    release: prometheus\n",
    ));
    assert_one(
        &a,
        "refs",
        "ServiceMonitor istio-system/istiod metadata.labels",
        "lacks release=kube-prometheus-stack",
    );
}

#[test]
fn an_image_set_only_through_a_merge_key_is_audited() {
    // go-yaml (Helm, kubectl) applies `<<: *base`: the container runs the merged image.
    let merged = |image: &str| {
        format!("---\n# Source: kserve/templates/merge.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: merged\n  namespace: kserve\nspec:\n  selector: {{matchLabels: {{app: merged}}}}\n  template:\n    metadata: {{labels: {{app: merged}}}}\n    spec:\n      containers:\n        - &base\n          name: base\n          image: \"{image}\"\n        - <<: *base\n          name: copy\n")
    };
    let a = run_with(
        &["kserve"],
        &merged("docker.io/kserve/kserve-controller:v0.14.1"),
    );
    let f = fails(&a, "images");
    assert!(
        f.iter()
            .any(|l| l
                .starts_with("Deployment kserve/merged spec.template.spec.containers[copy].image")),
        "{f:#?}"
    );
    let a = run_with(
        &["kserve"],
        &merged("10.61.3.31:35000/kserve/kserve-controller:v0.14.1"),
    );
    assert!(
        !fails(&a, "images")
            .iter()
            .any(|l| l.contains("kserve/merged")),
        "{:#?}",
        fails(&a, "images")
    );
}

// Cross-namespace flows against ingress NetworkPolicies read exactly (src/audit/flows.rs).

#[test]
fn a_policy_admitting_only_its_own_namespace_blocks_xds_from_other_namespaces() {
    let xds = "  ingress:\n    - ports:\n        - {port: 15010, protocol: TCP}\n        - {port: 15012, protocol: TCP}\n";
    let a = run(&plant(
        xds,
        "  ingress:\n    - from:\n        - podSelector: {}\n      ports:\n        - {port: 15010, protocol: TCP}\n        - {port: 15012, protocol: TCP}\n",
    ));
    let f = fails(&a, "network");
    assert!(
        f.iter().any(|l| l.starts_with("Deployment istio-system/istiod : xDS: the model pods Knative creates in kserve-test (injected namespace) -> port 15012")
            && l.contains("allow-istiod-xds-and-webhooks")),
        "{f:#?}"
    );
    // The ingress gateway, in istio-system itself, is still admitted.
    assert!(
        !f.iter()
            .any(|l| l.contains("xDS: Deployment istio-system/istio-ingressgateway")),
        "{f:#?}"
    );
    // Admitting the injected namespaces by their label is enough for their pods' xDS, not for
    // Knative's activator, whose sidecar comes from its own label in a namespace without one
    // (the operator's stand-in, stand_ins.rs); the webhook port in the same rule is then
    // closed to the API server, which the Service check reports.
    let a = run(&plant(
        xds,
        "  ingress:\n    - from:\n        - podSelector: {}\n        - namespaceSelector: {matchLabels: {istio-injection: enabled}}\n      ports:\n        - {port: 15010, protocol: TCP}\n        - {port: 15012, protocol: TCP}\n",
    ));
    let f = fails(&a, "network");
    let xds_failures: Vec<&String> = f.iter().filter(|l| l.contains(": xDS:")).collect();
    assert_eq!(xds_failures.len(), 1, "{f:#?}");
    assert!(
        xds_failures[0].contains("xDS: Deployment knative-serving/activator -> port 15012"),
        "{f:#?}"
    );
    assert!(
        f.iter().any(|l| l.contains("from the API server")),
        "{f:#?}"
    );
}

#[test]
fn a_policy_admitting_only_its_own_namespace_blocks_the_gateway_from_the_activator() {
    let a = run(&plant(
        "    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: istio-system\n      ports:\n        - {port: 8012, protocol: TCP}\n",
        "    - from:\n        - podSelector: {}\n      ports:\n        - {port: 8012, protocol: TCP}\n",
    ));
    assert_one(
        &a,
        "network",
        "Deployment knative-serving/activator : gateway -> activator: Deployment istio-system/istio-ingressgateway -> port 8012",
        "allow-gateway-to-activator",
    );
}

// Edges of the reference and fit checks.

#[test]
fn a_cluster_role_binding_to_a_role_and_a_deprecated_service_account_field_are_caught() {
    let a = run(&plant(
        CAINJECTOR_ROLEREF,
        "  kind: Role\n  name: cert-manager-cainjector\nsubjects:\n",
    ));
    assert_one(
        &a,
        "refs",
        "ClusterRoleBinding cert-manager-cainjector roleRef.kind",
        "a ClusterRoleBinding binds a ClusterRole",
    );
    let a = run(&plant(
        "      serviceAccountName: istiod\n",
        "      serviceAccount: istio-pilot\n",
    ));
    assert_one(
        &a,
        "refs",
        "Deployment istio-system/istiod spec.template.spec.serviceAccount",
        "istio-system/istio-pilot",
    );
}

#[test]
fn references_into_namespaces_the_render_does_not_own_are_not_judged() {
    // A binding to a kube-system ServiceAccount, and a Role of kube-system: what lives there
    // is not in the input.
    let binding = "---\n# Source: kserve/templates/rb.yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: reader\n  namespace: kube-system\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}\nsubjects:\n  - {kind: ServiceAccount, name: kserve-controller-manager, namespace: kserve}\n  - {kind: ServiceAccount, name: coredns, namespace: kube-system}\n";
    let a = run(&format!("{RENDER}{binding}"));
    assert_eq!(fails(&a, "refs"), Vec::<String>::new());
    // The same binding naming a ServiceAccount of a namespace the render owns is judged.
    let a = run(&format!(
        "{RENDER}{}",
        binding.replace("name: kserve-controller-manager", "name: kserve-manager")
    ));
    assert_one(
        &a,
        "refs",
        "RoleBinding kube-system/reader subjects[0]",
        "kserve/kserve-manager",
    );
}

#[test]
fn what_the_knative_operator_creates_is_not_judged_without_its_manifests() {
    // A budget for the activator, which only the operator's manifests show.
    let pdb = "---\n# Source: knative-serving/templates/pdb.yaml\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: activator-pdb\n  namespace: knative-serving\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {app: activator}}\n";
    let a = run(&format!("{RENDER}{pdb}"));
    assert_eq!(fails(&a, "refs"), Vec::<String>::new());
}

const NS_TEST: &str = "kind: Namespace\nmetadata:\n  name: \"kserve-test\"\n  labels:\n    istio-injection: enabled\n";

#[test]
fn injection_follows_revision_labels_disabled_namespaces_and_annotations() {
    let pod = |ns: &str, labels: &str, annotations: &str| {
        format!("---\n# Source: kserve/templates/p.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: {ns}\n  labels: {{app: p{labels}}}\n  annotations: {{a: b{annotations}}}\nspec:\n  containers: [{{name: c, image: \"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\", ports: [{{containerPort: 8080}}]}}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: p\n  namespace: {ns}\nspec:\n  type: LoadBalancer\n  selector: {{app: p}}\n  ports: [{{port: 80, targetPort: 8080}}]\n")
    };
    let strict = strict_policy("kserve-test");
    let mesh_fails = |text: String| fails(&run(&format!("{text}{strict}")), "mesh");
    // kserve-test is injected: the pod has a sidecar, and outside clients are refused.
    assert_eq!(
        mesh_fails(format!("{RENDER}{}", pod("kserve-test", "", ""))).len(),
        1
    );
    // The pod opts out by annotation.
    assert_eq!(
        mesh_fails(format!(
            "{RENDER}{}",
            pod("kserve-test", "", ", sidecar.istio.io/inject: \"false\"")
        )),
        Vec::<String>::new()
    );
    // A revision label injects like istio-injection=enabled; istio-injection=disabled wins
    // over the pod's own label.
    let rev = RENDER.replacen(
        NS_TEST,
        &NS_TEST.replace("istio-injection: enabled", "istio.io/rev: default"),
        1,
    );
    assert!(rev != *RENDER);
    assert_eq!(
        mesh_fails(format!("{rev}{}", pod("kserve-test", "", ""))).len(),
        1
    );
    // A pod's own label injects it in a namespace without the label (kserve).
    let kserve_strict = strict_policy("kserve");
    let labelled = pod("kserve", ", sidecar.istio.io/inject: \"true\"", "");
    assert_eq!(
        fails(&run(&format!("{RENDER}{labelled}{kserve_strict}")), "mesh").len(),
        1
    );
    assert_eq!(
        fails(
            &run(&format!("{RENDER}{}{kserve_strict}", pod("kserve", "", ""))),
            "mesh"
        ),
        Vec::<String>::new()
    );
    let disabled = RENDER.replacen(NS_TEST, &NS_TEST.replace("enabled", "disabled"), 1);
    assert_eq!(
        mesh_fails(format!(
            "{disabled}{}",
            pod("kserve-test", ", sidecar.istio.io/inject: \"true\"", "")
        )),
        Vec::<String>::new()
    );
}

#[test]
fn a_port_level_strict_policy_counts_as_strict() {
    let policy = "---\napiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: ports\n  namespace: kserve\nspec:\n  portLevelMtls:\n    \"9443\": {mode: STRICT}\n";
    let a = run(&format!("{RENDER}{policy}"));
    let notes = found(&a, Severity::Note, "mesh");
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("PeerAuthentication kserve/ports spec: asks for STRICT")),
        "{notes:#?}"
    );
    let permissive = policy.replace("STRICT", "PERMISSIVE");
    let a = run(&format!("{RENDER}{permissive}"));
    assert!(found(&a, Severity::Note, "mesh").is_empty());
}

#[test]
fn an_init_container_and_a_limit_without_request_count_towards_a_pod() {
    let pod = |init: &str, app: &str| {
        format!("---\n# Source: kserve/templates/p.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  namespace: kserve\nspec:\n  initContainers: [{{name: i, image: \"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\", resources: {{requests: {{cpu: {init}}}}}}}]\n  containers: [{{name: c, image: \"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\", resources: {{limits: {{cpu: {app}}}}}}}]\n")
    };
    // The init container alone asks for more than a node.
    let a = run(&format!("{RENDER}{}", pod("65", "1")));
    assert_one(
        &a,
        "fit",
        "Pod kserve/big spec.containers[*].resources.requests.cpu",
        "request 65 CPU",
    );
    // A limit without a request is the request.
    let a = run(&format!("{RENDER}{}", pod("1", "65")));
    assert_one(
        &a,
        "fit",
        "Pod kserve/big spec.containers[*].resources.requests.cpu",
        "request 65 CPU",
    );
    let a = run(&format!("{RENDER}{}", pod("64", "64")));
    assert_eq!(fails(&a, "fit"), Vec::<String>::new());
    // A negative quantity is no quantity.
    let a = run(&format!("{RENDER}{}", pod("\"-1\"", "1")));
    assert_one(
        &a,
        "fit",
        "Pod kserve/big spec.initContainers[i].resources.requests.cpu",
        "not a Kubernetes quantity",
    );
}

#[test]
fn a_pod_mounting_or_reading_a_missing_secret_or_config_map_is_caught() {
    let mount = "          defaultMode: 420\n          secretName: kserve-webhook-server-cert\n";
    let a = run(&plant(
        mount,
        "          defaultMode: 420\n          secretName: kserve-webhook-cert\n",
    ));
    assert_one(
        &a,
        "refs",
        "Deployment kserve/kserve-controller-manager spec.template.spec.volumes[0].secret",
        "names Secret kserve/kserve-webhook-cert, which is not rendered and no Certificate writes",
    );
    // Optional, it is not judged.
    let a = run(&plant(
        mount,
        "          defaultMode: 420\n          optional: true\n          secretName: kserve-webhook-cert\n",
    ));
    assert_eq!(fails(&a, "refs"), Vec::<String>::new());
    // Variables from a ConfigMap: a rendered one, one the cluster writes everywhere, a missing one.
    let env = |cm: &str| {
        plant(
            "        args:\n        - \"--metrics-addr=127.0.0.1:8080\"\n",
            &format!("        envFrom:\n        - configMapRef: {{name: {cm}}}\n        args:\n        - \"--metrics-addr=127.0.0.1:8080\"\n"),
        )
    };
    assert_eq!(
        fails(&run(&env("inferenceservice-config")), "refs"),
        Vec::<String>::new()
    );
    assert_eq!(
        fails(&run(&env("kube-root-ca.crt")), "refs"),
        Vec::<String>::new()
    );
    assert_one(
        &run(&env("kserve-config")),
        "refs",
        "Deployment kserve/kserve-controller-manager spec.template.spec.containers[manager].envFrom[0].configMapRef",
        "names ConfigMap kserve/kserve-config",
    );
}

#[test]
fn only_kserve_serving_runtimes_count_as_pods_among_custom_resources() {
    let runtime = |api: &str, kind: &str| {
        format!("---\n# Source: kserve/templates/r.yaml\napiVersion: {api}\nkind: {kind}\nmetadata:\n  name: huge\n  namespace: kserve\nspec:\n  containers: [{{name: c, image: \"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\", resources: {{requests: {{cpu: \"100\"}}}}}}]\n")
    };
    let a = run(&format!(
        "{RENDER}{}",
        runtime("serving.kserve.io/v1alpha1", "ServingRuntime")
    ));
    assert_one(
        &a,
        "fit",
        "ServingRuntime kserve/huge spec.containers[*].resources.requests.cpu",
        "request 100 CPU",
    );
    for (api, kind) in [
        ("serving.kserve.io/v1alpha1", "InferenceGraph"),
        ("example.com/v1", "ServingRuntime"),
    ] {
        let a = run(&format!("{RENDER}{}", runtime(api, kind)));
        assert_eq!(fails(&a, "fit"), Vec::<String>::new(), "{api} {kind}");
    }
}

// Webhook paths (src/audit/webhooks.rs): a webhook calls a path its chart's server serves.

#[test]
fn a_webhook_path_typo_is_caught_and_names_the_served_paths() {
    let a = run(&plant(
        "        path: /mutate-pods\n",
        "        path: /mutate-pod\n",
    ));
    assert_one(
        &a,
        "wiring",
        "MutatingWebhookConfiguration inferenceservice.serving.kserve.io webhooks[1].clientConfig.service.path",
        "calls path /mutate-pod (did you mean `/mutate-pods`?), which the webhook server behind Service kserve/kserve-webhook-server-service (chart kserve) does not serve; it serves: /mutate-pods, ",
    );
    // cert-manager's validating webhook.
    let a = run(&plant(
        "        path: /validate\n",
        "        path: /validation\n",
    ));
    assert_one(
        &a,
        "wiring",
        "ValidatingWebhookConfiguration cert-manager-webhook webhooks[0].clientConfig.service.path",
        "(chart cert-manager)",
    );
    // No path at all: the API server calls `/`, which istiod does not serve.
    let a = run(&RENDER.replacen("        path: \"/validate\"\n", "", 2));
    let f = fails(&a, "wiring");
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(
        f.iter()
            .all(|l| l.contains("has no path (the API server calls /)")
                && l.contains("Service istio-system/istiod (chart istiod)")),
        "{f:#?}"
    );
}

#[test]
fn injection_paths_with_parameters_pass_and_conversion_webhooks_are_checked() {
    // Istio documents parameters below /inject (values.yaml injectionPath).
    let a = run(&RENDER.replacen(
        "      path: \"/inject\"\n",
        "      path: \"/inject/cluster/remote/net/network2\"\n",
        4,
    ));
    assert_eq!(fails(&a, "wiring"), Vec::<String>::new());
    // The Knative Operator's CRDs convert through its webhook (the whole render has CRDs).
    let typo = whole().replacen(
        "          path: /resource-conversion\n",
        "          path: /resource-convertion\n",
        1,
    );
    assert_ne!(typo, whole());
    let f = fails(&run(&typo), "wiring");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].starts_with("CustomResourceDefinition knativeeventings.operator.knative.dev spec.conversion.webhook.clientConfig.service.path: calls path /resource-convertion (did you mean `/resource-conversion`?)"),
        "{f:#?}"
    );
    assert_eq!(fails(&run(whole()), "wiring"), Vec::<String>::new());
    // Its Service must exist and have the port, as for admission webhooks.
    let port = whole().replacen(
        "          path: /resource-conversion\n",
        "          path: /resource-conversion\n          port: 8443\n",
        1,
    );
    let f = fails(&run(&port), "wiring");
    assert!(
        f.len() == 1 && f[0].contains("names port 8443 of Service knative-operator/operator-webhook, which has no such port"),
        "{f:#?}"
    );
}

#[test]
fn a_custom_resource_without_its_crd_is_judged_by_what_the_render_holds() {
    // CRDs of the group are rendered, but not the object's kind: a failure.
    let route = crd("gateway.networking.k8s.io", "httproutes", "HTTPRoute");
    let f = fails(
        &run_on("v1.28.6", "", &format!("{}{route}{GATEWAY}", whole())),
        "api",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].contains("though CRDs of gateway.networking.k8s.io are there")
            && f[0].contains("list gateway.networking.k8s.io/v1 under"),
        "{f:#?}"
    );
    // Rendered without --include-crds (no CRD at all): a note that says how to check.
    let a = run(&format!("{RENDER}{GATEWAY}"));
    assert_eq!(fails(&a, "api"), Vec::<String>::new());
    assert!(
        found(&a, Severity::Note, "api").iter().any(|l| l
            == "Gateway istio-system/web apiVersion: no CRD of gateway.networking.k8s.io in the input: render with --include-crds to check that gateway.networking.k8s.io/v1 Gateway is served"),
        "{:#?}",
        found(&a, Severity::Note, "api")
    );
    // Only some releases rendered: another may install it, a note.
    let a = run_with(&["kserve"], &format!("{}{GATEWAY}", whole()));
    assert_eq!(fails(&a, "api"), Vec::<String>::new());
    assert!(
        found(&a, Severity::Note, "api").iter().any(|l| l
            == "Gateway istio-system/web apiVersion: no CRD in these releases defines gateway.networking.k8s.io/v1 Gateway (another release may install it)"),
        "{:#?}",
        found(&a, Severity::Note, "api")
    );
}

#[test]
fn a_webhook_is_a_client_only_of_the_service_it_names() {
    // A webhook naming a Service that exists only in another namespace reaches nothing: it is
    // no plain client of the Service of that name (the mesh check), only a missing reference.
    let stray = "---\n# Source: kserve/templates/stray.yaml\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: stray\nwebhooks:\n  - name: stray.example.com\n    admissionReviewVersions: [v1]\n    sideEffects: None\n    clientConfig:\n      service: {name: kserve-controller-manager-service, namespace: nowhere, port: 8443, path: /validate}\n";
    let strict = format!("{RENDER}{}{KSERVE_INJECTED}", strict_policy("kserve"));
    let before = fails(&run(&strict), "mesh");
    let a = run(&format!("{strict}{stray}"));
    assert_eq!(fails(&a, "mesh"), before);
    assert!(
        fails(&a, "refs").iter().chain(fails(&a, "wiring").iter()).any(|l| l.starts_with(
            "ValidatingWebhookConfiguration stray webhooks[0].clientConfig.service: names Service nowhere/kserve-controller-manager-service, which is not rendered"
        )),
        "{:#?}",
        a.findings
    );
}

#[test]
fn a_webhook_into_what_the_knative_operator_creates_is_not_judged_without_its_manifests() {
    // Knative Serving's Services are the operator's (from its kodata), not rendered: without
    // --operator-manifests a webhook naming one is not a missing reference.
    let serving = "---\n# Source: knative-serving/templates/wh.yaml\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: serving-extra\nwebhooks:\n  - name: extra.serving.knative.dev\n    admissionReviewVersions: [v1]\n    sideEffects: None\n    clientConfig:\n      service: {name: webhook, namespace: knative-serving}\n";
    let a = run(&format!("{RENDER}{serving}"));
    let named: Vec<String> = fails(&a, "refs")
        .into_iter()
        .chain(fails(&a, "wiring"))
        .filter(|l| l.contains("serving-extra"))
        .collect();
    assert_eq!(named, Vec::<String>::new());
    // The same webhook into a namespace the operator does not own is a missing reference.
    let a = run(&format!(
        "{RENDER}{}",
        serving.replace("namespace: knative-serving}", "namespace: kserve}")
    ));
    assert!(
        fails(&a, "wiring").iter().chain(fails(&a, "refs").iter()).any(|l| l.starts_with(
            "ValidatingWebhookConfiguration serving-extra webhooks[0].clientConfig.service: names Service kserve/webhook, which is not rendered"
        )),
        "{:#?}",
        a.findings
    );
}
