//! `deploygen review BEFORE AFTER`: each class of change the review exists for is found on a
//! planted case (and the same input without it gives no such finding), on hand-written
//! manifests and on objects of real renders (Istio 1.22.8 and 1.25.5 as `helmfile -e airgap
//! template --include-crds` prints them, made when the tests run: `common::real`).

mod common;

use deploygen::audit::manifest::{read, Object};
use deploygen::review::compare::{self, Review};
use deploygen::review::context::{self, Context};
use deploygen::review::finding::{Class, Finding};
use deploygen::review::{fail_on, format};
use serde_json::{json, Value};

fn istio_1_22() -> &'static str {
    static R: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        common::real::istio_objects(&common::real::matrix_with_istio(common::MATRIX, "1.22.8"))
    })
}

fn istio_1_25() -> &'static str {
    static R: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        common::real::istio_objects(&common::real::matrix_with_istio(common::MATRIX, "1.25.5"))
    })
}

fn review(before: &str, after: &str, ctx: Option<&Context>) -> Review {
    compare::review(
        ("before.yaml", before),
        ("after.yaml", after),
        &|_| None,
        ctx,
    )
    .expect("readable renders")
}

fn of(r: &Review, class: Class) -> Vec<&Finding> {
    r.findings.iter().filter(|f| f.class == class).collect()
}

fn classes(findings: &[Finding]) -> Vec<Class> {
    let mut c: Vec<Class> = findings.iter().map(|f| f.class).collect();
    c.dedup();
    c
}

fn objects(text: &str) -> Vec<Object> {
    read("fixture.yaml", text, &|_| None).expect("fixture reads")
}

fn find<'a>(objs: &'a mut [Object], kind: &str, name: &str) -> &'a mut Value {
    &mut objs
        .iter_mut()
        .find(|o| o.kind == kind && o.name == name)
        .unwrap_or_else(|| panic!("{kind} {name} in the fixture"))
        .body
}

/// The repository's matrix with every cluster at `kube` and istio at `istio`.
fn plan_at(istio: &str, kube: &str) -> deploygen::plan::Plan {
    let m = common::MATRIX
        .replace("istio: 1.22.8", &format!("istio: {istio}"))
        .replace("kubernetes: v1.28.6", &format!("kubernetes: {kube}"));
    deploygen::plan("matrix.yaml", m.as_bytes()).expect("matrix plans")
}

fn airgap_after_bump() -> Context {
    context::of(&plan_at("1.25.5", "v1.30.4"), "airgap").expect("airgap")
}

// ---- real renders --------------------------------------------------------------------------

#[test]
fn a_real_istio_step_names_the_image_changes_the_catalog_predicts() {
    let ctx = airgap_after_bump();
    let r = review(istio_1_22(), istio_1_25(), Some(&ctx));
    // What the two catalog entries say changes in this environment, for the objects rendered.
    let planned = |p: &deploygen::plan::Plan| -> Vec<String> {
        let env = p.environments.iter().find(|e| e.name == "airgap").unwrap();
        env.images
            .iter()
            .filter(|i| i.app == "istiod")
            .map(|i| i.target.to_string())
            .collect()
    };
    let before = planned(&plan_at("1.22.8", "v1.30.4"));
    let after = planned(&plan_at("1.25.5", "v1.30.4"));
    let predicted: Vec<(&String, &String)> =
        before.iter().zip(&after).filter(|(b, a)| b != a).collect();
    assert!(!predicted.is_empty(), "the catalog predicts image changes");
    let changed = of(&r, Class::ImageChanged);
    for (b, a) in &predicted {
        assert!(
            changed.iter().any(|f| f.message == format!("{b} -> {a}")),
            "{b} -> {a} not reported: {changed:#?}"
        );
    }
    assert!(changed
        .iter()
        .any(|f| f.object == "Deployment istio-system/istiod"
            && f.path == "spec.template.spec.containers[discovery].image"));
    // On the mirror and in the lists of the bumped environment: no image-unlisted.
    assert!(
        of(&r, Class::ImageUnlisted).is_empty(),
        "{:#?}",
        of(&r, Class::ImageUnlisted)
    );
    // Against the old matrix, the new references are not listed yet.
    let old = context::of(&plan_at("1.22.8", "v1.30.4"), "airgap").unwrap();
    let stale = review(istio_1_22(), istio_1_25(), Some(&old));
    assert_eq!(of(&stale, Class::ImageUnlisted).len(), changed.len());
    // The real step changes istiod's ClusterRole both ways, and nothing planted is reported.
    assert_eq!(of(&r, Class::RbacRuleGained).len(), 1);
    assert_eq!(of(&r, Class::RbacRuleLost).len(), 1);
    for class in [
        Class::RbacWidening,
        Class::CrdVersionRemoved,
        Class::WebhookFailurePolicy,
        Class::CapacityExceeded,
        Class::SecurityWidening,
    ] {
        assert!(of(&r, class).is_empty(), "{class:?}: {:#?}", of(&r, class));
    }
}

#[test]
fn a_planted_cluster_role_widening_on_a_real_render_is_called_out() {
    let before = objects(istio_1_25());
    let mut after = objects(istio_1_25());
    let role = find(&mut after, "ClusterRole", "istiod-clusterrole-istio-system");
    role["rules"].as_array_mut().unwrap().push(json!({
        "apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]
    }));
    let found = compare::objects(&before, &after, None).unwrap();
    let wide: Vec<&Finding> = found
        .iter()
        .filter(|f| f.class == Class::RbacWidening)
        .collect();
    assert_eq!(wide.len(), 1, "{found:#?}");
    assert_eq!(
        wide[0].object,
        "ClusterRole istiod-clusterrole-istio-system"
    );
    assert!(
        wide[0].message.contains("every verb (*)"),
        "{}",
        wide[0].message
    );
    assert!(wide[0].message.contains("secrets"), "{}", wide[0].message);
    assert!(
        wide[0].message.contains("* on core/secrets"),
        "{}",
        wide[0].message
    );
    // Unplanted, the same render gives nothing at all.
    assert!(compare::objects(&before, &objects(istio_1_25()), None)
        .unwrap()
        .is_empty());
}

#[test]
fn a_planted_crd_version_removal_on_a_real_render_is_reported() {
    let before = objects(istio_1_25());
    let mut after = objects(istio_1_25());
    let crd = find(
        &mut after,
        "CustomResourceDefinition",
        "peerauthentications.security.istio.io",
    );
    let versions = crd["spec"]["versions"].as_array_mut().unwrap();
    let n = versions.len();
    versions.retain(|v| v["name"] != "v1");
    assert_eq!(versions.len(), n - 1, "the real CRD serves v1");
    let found = compare::objects(&before, &after, None).unwrap();
    let removed: Vec<&Finding> = found
        .iter()
        .filter(|f| f.class == Class::CrdVersionRemoved)
        .collect();
    assert_eq!(removed.len(), 1, "{found:#?}");
    assert_eq!(
        removed[0].object,
        "CustomResourceDefinition peerauthentications.security.istio.io"
    );
    assert!(
        removed[0]
            .message
            .contains("version v1 is removed (it was served)"),
        "{}",
        removed[0].message
    );
}

#[test]
fn a_planted_webhook_failure_policy_change_on_a_real_render_is_reported() {
    let before = objects(istio_1_25());
    let mut after = objects(istio_1_25());
    let hook = find(
        &mut after,
        "ValidatingWebhookConfiguration",
        "istio-validator-istio-system",
    );
    assert_eq!(hook["webhooks"][0]["failurePolicy"], "Ignore");
    hook["webhooks"][0]["failurePolicy"] = json!("Fail");
    let name = hook["webhooks"][0]["name"].as_str().unwrap().to_string();
    let found = compare::objects(&before, &after, None).unwrap();
    assert_eq!(
        classes(&found),
        vec![Class::WebhookFailurePolicy, Class::Changed],
        "{found:#?}"
    );
    assert_eq!(found[0].path, format!("webhooks[{name}].failurePolicy"));
    assert!(
        found[0]
            .message
            .starts_with("Ignore -> Fail: the API server now refuses"),
        "{}",
        found[0].message
    );
}

#[test]
fn the_real_step_reads_the_same_whatever_the_order_of_its_documents() {
    let docs: Vec<&str> = istio_1_25().split("\n---\n").collect();
    let reversed = format!(
        "---\n{}\n",
        docs.iter()
            .rev()
            .map(|d| d.trim_start_matches("---\n"))
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    assert_eq!(objects(&reversed).len(), objects(istio_1_25()).len());
    assert!(review(istio_1_25(), &reversed, None).findings.is_empty());
    assert!(review(istio_1_22(), istio_1_22(), None).findings.is_empty());
}

// ---- hand-written cases ----------------------------------------------------------------------

fn deployment(name: &str, image: &str, cpu: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: kserve\nspec:\n  replicas: 1\n  template:\n    spec:\n{extra}      containers:\n        - name: manager\n          image: {image}\n          resources:\n            requests: {{cpu: {cpu}, memory: 1Gi}}\n"
    )
}

fn service(name: &str, port_name: &str) -> String {
    format!("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: kserve\nspec:\n  selector: {{app: {name}}}\n  ports:\n    - name: {port_name}\n      port: 8443\n      targetPort: 9443\n")
}

const ROLE: &str = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: manager\nrules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get, list]\n";

#[test]
fn identical_inputs_give_no_findings() {
    let text = format!(
        "{}{}{ROLE}",
        deployment("a", "r/a:1", "100m", ""),
        service("a", "https")
    );
    let r = review(&text, &text, Some(&airgap_after_bump()));
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!((r.before.objects, r.after.objects), (3, 3));
}

#[test]
fn reordered_documents_give_no_findings() {
    let a = format!(
        "{}{}{ROLE}",
        deployment("a", "r/a:1", "100m", ""),
        service("a", "https")
    );
    let b = format!(
        "{ROLE}{}{}",
        service("a", "https"),
        deployment("a", "r/a:1", "100m", "")
    );
    assert!(review(&a, &b, None).findings.is_empty());
}

#[test]
fn an_image_change_is_reported_with_its_field() {
    let r = review(
        &deployment("a", "docker.io/kserve/a:v1", "100m", ""),
        &deployment("a", "docker.io/kserve/a:v2", "100m", ""),
        None,
    );
    let f = of(&r, Class::ImageChanged);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].object, "Deployment kserve/a");
    assert_eq!(f[0].path, "spec.template.spec.containers[manager].image");
    assert_eq!(
        f[0].message,
        "docker.io/kserve/a:v1 -> docker.io/kserve/a:v2"
    );
    // With the environment: a public image is neither mirrored nor listed.
    let r = review(
        &deployment("a", "docker.io/kserve/a:v1", "100m", ""),
        &deployment("a", "docker.io/kserve/a:v2", "100m", ""),
        Some(&airgap_after_bump()),
    );
    let u = of(&r, Class::ImageUnlisted);
    assert_eq!(u.len(), 1);
    assert!(
        u[0].message.contains("not on the mirror 10.61.3.31:35000"),
        "{}",
        u[0].message
    );
    assert!(
        u[0].message
            .contains("not in the image lists of environment airgap"),
        "{}",
        u[0].message
    );
}

#[test]
fn an_added_and_a_removed_image_are_reported() {
    let two = "          image: r/a:1\n        - name: sidecar\n          image: r/side:1\n";
    let before = deployment("a", "r/a:1", "100m", "");
    let after = before.replace("          image: r/a:1\n", two);
    let r = review(&before, &after, None);
    assert_eq!(of(&r, Class::ImageAdded).len(), 1, "{:#?}", r.findings);
    assert_eq!(of(&r, Class::ImageAdded)[0].message, "r/side:1");
    let r = review(&after, &before, None);
    assert_eq!(of(&r, Class::ImageRemoved).len(), 1);
}

#[test]
fn a_service_port_rename_is_reported() {
    let r = review(
        &service("webhook", "webhook-server"),
        &service("webhook", "https"),
        None,
    );
    let f = of(&r, Class::ServiceChanged);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].path, "spec.ports[8443/TCP].name");
    assert!(
        f[0].message.starts_with("webhook-server -> https"),
        "{}",
        f[0].message
    );
}

#[test]
fn resource_growth_past_the_capacity_of_the_environment_is_reported() {
    let ctx = airgap_after_bump(); // two nodes of 64 cores and 450G
    let small = deployment("a", "r/a:1", "100m", "");
    let grown = deployment("a", "r/a:1", "100", "");
    let r = review(&small, &grown, Some(&ctx));
    let f = of(&r, Class::ResourcesChanged);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].message, "requests.cpu 100m -> 100");
    let cap = of(&r, Class::CapacityExceeded);
    assert_eq!(cap.len(), 1, "{:#?}", r.findings);
    assert!(
        cap[0]
            .message
            .contains("more than a node of environment airgap has (64 cores"),
        "{}",
        cap[0].message
    );
    // Within a node, but 3 replicas exceed the two nodes together.
    let wide = deployment("a", "r/a:1", "50", "").replace("replicas: 1", "replicas: 3");
    let r = review(&small, &wide, Some(&ctx));
    let cap = of(&r, Class::CapacityExceeded);
    assert_eq!(cap.len(), 1, "{:#?}", r.findings);
    assert!(
        cap[0]
            .message
            .contains("the stack's pods now request 150 cores"),
        "{}",
        cap[0].message
    );
    assert_eq!(of(&r, Class::ReplicasChanged)[0].message, "1 -> 3");
    // Without the environment there is no capacity to compare with.
    assert!(of(&review(&small, &grown, None), Class::CapacityExceeded).is_empty());
}

#[test]
fn objects_added_and_removed_are_reported_by_kind() {
    let before = format!("{}{ROLE}", service("a", "https"));
    let after = format!("{}{ROLE}", service("b", "https"));
    let r = review(&before, &after, None);
    assert_eq!(of(&r, Class::ObjectAdded)[0].object, "Service kserve/b");
    assert_eq!(of(&r, Class::ObjectRemoved)[0].object, "Service kserve/a");
    let text = format::text(&r, false, false);
    assert!(
        text.contains("[object-added] Service (1): kserve/b"),
        "{text}"
    );
}

#[test]
fn rbac_grants_gained_and_lost_and_binding_subjects() {
    let after = ROLE.replace("verbs: [get, list]", "verbs: [get, watch]");
    let r = review(ROLE, &after, None);
    assert_eq!(
        of(&r, Class::RbacRuleGained)[0].details,
        ["watch on core/configmaps"]
    );
    assert_eq!(
        of(&r, Class::RbacRuleLost)[0].details,
        ["list on core/configmaps"]
    );
    // watch is a verb the role had on nothing before: widening.
    assert!(of(&r, Class::RbacWidening)[0]
        .message
        .contains("a verb the role had on nothing before (watch)"));
    let escalate = ROLE.replace("verbs: [get, list]", "verbs: [get, list, escalate]");
    let r = review(ROLE, &escalate, None);
    assert!(of(&r, Class::RbacWidening)[0]
        .message
        .contains("`escalate` (privilege escalation)"));
    let binding = |subject: &str| {
        format!("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: manager\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects:\n  - {{kind: ServiceAccount, name: {subject}, namespace: kserve}}\n")
    };
    let r = review(&binding("a"), &binding("b"), None);
    let f = of(&r, Class::RbacBindingChanged);
    assert_eq!(
        f[0].message,
        "ClusterRole cluster-admin: gains ServiceAccount kserve/b; loses ServiceAccount kserve/a"
    );
    assert!(of(&r, Class::RbacWidening)[0]
        .message
        .starts_with("binds cluster-admin to"));
}

const CRD: &str = "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.example.io\nspec:\n  group: example.io\n  names: {kind: Thing, plural: things}\n  scope: Namespaced\n  versions:\n    - name: v1alpha1\n      served: true\n      storage: false\n      schema: {openAPIV3Schema: {type: object}}\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                size: {type: integer}\n                mode: {type: string}\n";

#[test]
fn crd_versions_storage_and_removed_fields() {
    let dropped = CRD.replace("    - name: v1alpha1\n      served: true\n      storage: false\n      schema: {openAPIV3Schema: {type: object}}\n", "");
    let r = review(CRD, &dropped, None);
    assert_eq!(
        of(&r, Class::CrdVersionRemoved)[0].message,
        "version v1alpha1 is removed (it was served)"
    );
    let r = review(&dropped, CRD, None);
    assert_eq!(
        of(&r, Class::CrdVersionAdded)[0].message,
        "version v1alpha1 is added"
    );
    let no_mode = CRD.replace("                mode: {type: string}\n", "");
    let r = review(CRD, &no_mode, None);
    assert_eq!(of(&r, Class::CrdFieldRemoved)[0].details, ["spec.mode"]);
    let moved = CRD
        .replace(
            "served: true\n      storage: false",
            "served: true\n      storage: X",
        )
        .replace(
            "served: true\n      storage: true",
            "served: true\n      storage: false",
        )
        .replace("storage: X", "storage: true");
    let r = review(CRD, &moved, None);
    assert!(of(&r, Class::CrdStorageChanged)[0]
        .message
        .starts_with("the storage version changes from v1 to v1alpha1"));
    let conv = CRD.replace("  scope: Namespaced\n", "  scope: Namespaced\n  conversion: {strategy: Webhook, webhook: {conversionReviewVersions: [v1], clientConfig: {service: {name: conv, namespace: x}}}}\n");
    assert_eq!(
        of(&review(CRD, &conv, None), Class::CrdConversionChanged).len(),
        1
    );
    let r = review(CRD, "", None);
    assert!(of(&r, Class::CrdVersionRemoved)[0]
        .message
        .starts_with("the CRD is gone"));
}

const HOOK: &str = "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: v\nwebhooks:\n  - name: v.example.io\n    clientConfig:\n      caBundle: AAAA\n      service: {name: hook, namespace: x, port: 443}\n    rules: [{operations: [CREATE], apiGroups: [\"\"], apiVersions: [v1], resources: [pods]}]\n    sideEffects: None\n    admissionReviewVersions: [v1]\n";

#[test]
fn webhook_changes_each_under_their_class() {
    let cases = [
        (
            HOOK.replace(
                "    sideEffects",
                "    failurePolicy: Ignore\n    sideEffects",
            ),
            Class::WebhookFailurePolicy,
            "Fail -> Ignore: intercepted requests now pass unchecked while the webhook is down",
        ),
        (
            HOOK.replace("    sideEffects", "    timeoutSeconds: 30\n    sideEffects"),
            Class::WebhookTimeout,
            "10 -> 30",
        ),
        (
            HOOK.replace("port: 443", "port: 8443"),
            Class::WebhookServiceChanged,
            "service x/hook:443 -> service x/hook:8443",
        ),
        (
            HOOK.replace("[CREATE]", "[CREATE, UPDATE]"),
            Class::WebhookRulesChanged,
            "",
        ),
        (
            HOOK.replace("name: v.example.io", "name: w.example.io"),
            Class::WebhookAdded,
            "",
        ),
    ];
    for (after, class, message) in cases {
        let r = review(HOOK, &after, None);
        let f = of(&r, class);
        assert_eq!(f.len(), 1, "{class:?}: {:#?}", r.findings);
        if !message.is_empty() {
            assert_eq!(f[0].message, message);
        }
    }
    // The CA bundle is injected by controllers: no webhook finding.
    let r = review(HOOK, &HOOK.replace("AAAA", "BBBB"), None);
    assert_eq!(classes(&r.findings), vec![Class::Changed]);
}

#[test]
fn security_context_widening_and_policies() {
    let before = deployment(
        "a",
        "r/a:1",
        "100m",
        "      securityContext: {runAsNonRoot: true}\n",
    );
    let after = deployment("a", "r/a:1", "100m", "      hostNetwork: true\n").replace(
        "          resources:",
        "          securityContext: {privileged: true, capabilities: {add: [NET_ADMIN]}}\n          resources:",
    );
    let r = review(&before, &after, None);
    let f = of(&r, Class::SecurityWidening);
    let all: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(f.len(), 2, "{:#?}", r.findings);
    assert!(
        all.iter().any(|m| m.starts_with("hostNetwork: true")),
        "{all:?}"
    );
    assert!(
        all.iter().any(|m| m.contains("privileged: true")
            && m.contains("runAsNonRoot is no longer true")
            && m.contains("capabilities added: NET_ADMIN")),
        "{all:?}"
    );
    // The reverse only narrows: a change, not a widening.
    let r = review(&after, &before, None);
    assert!(
        of(&r, Class::SecurityWidening).is_empty(),
        "{:#?}",
        r.findings
    );
    let f = of(&r, Class::SecurityChanged);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(
        f[0].message,
        "privileged true -> false; runAsNonRoot unset -> true; capabilities.add [NET_ADMIN] -> []"
    );
    let np = |port: u16| {
        format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: kserve\nspec:\n  podSelector: {{}}\n  ingress: [{{ports: [{{port: {port}}}]}}]\n")
    };
    assert_eq!(
        of(
            &review(&np(80), &np(8080), None),
            Class::NetworkPolicyChanged
        )
        .len(),
        1
    );
    let pa = |mode: &str| {
        format!("---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: kserve\nspec:\n  mtls: {{mode: {mode}}}\n")
    };
    let f = review(&pa("STRICT"), &pa("PERMISSIVE"), None);
    assert_eq!(
        of(&f, Class::PeerAuthenticationChanged)[0].details,
        ["~ spec.mtls.mode: STRICT -> PERMISSIVE"]
    );
}

#[test]
fn fail_on_reads_classes_and_refuses_unknown_ones_with_the_list() {
    assert_eq!(
        fail_on::parse("rbac-widening, crd-version-removed,").unwrap(),
        vec![Class::RbacWidening, Class::CrdVersionRemoved]
    );
    let e = fail_on::parse("rbac-widening,rbac-wide")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown finding class `rbac-wide`"), "{e}");
    assert!(e.contains("classes: image-changed, image-added"), "{e}");
    for c in Class::ALL {
        assert_eq!(Class::parse(c.name()), Some(c));
    }
}

// ---- the command ----------------------------------------------------------------------------

fn run_in(dir: &std::path::Path, files: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    common::run(dir, args)
}

#[test]
fn the_command_exits_1_only_on_a_gated_class_and_2_on_an_unknown_one() {
    let d = tempfile::tempdir().unwrap();
    let before = ROLE.to_string();
    let after = ROLE.replace("verbs: [get, list]", "verbs: [\"*\"]");
    let files = [
        ("before.yaml", before.as_str()),
        ("after.yaml", after.as_str()),
    ];
    let out = run_in(d.path(), &files, &["review", "before.yaml", "after.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("[rbac-widening] ClusterRole manager rules: gains every verb (*)"));
    let out = run_in(
        d.path(),
        &files,
        &[
            "review",
            "--fail-on",
            "rbac-widening,crd-version-removed",
            "before.yaml",
            "after.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("review: found rbac-widening (--fail-on)")
    );
    let out = run_in(
        d.path(),
        &files,
        &[
            "review",
            "--fail-on",
            "crd-version-removed",
            "before.yaml",
            "after.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run_in(
        d.path(),
        &files,
        &[
            "review",
            "--fail-on",
            "rbac-wide",
            "before.yaml",
            "after.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--fail-on: unknown finding class `rbac-wide`; classes: image-changed"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn unparsable_input_is_refused_with_its_location_and_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let broken = format!("{ROLE}---\nkind: [\n");
    let files = [("before.yaml", ROLE), ("after.yaml", broken.as_str())];
    let out = run_in(d.path(), &files, &["review", "before.yaml", "after.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("after.yaml:12:"), "{err}");
    assert!(err.contains("is not YAML"), "{err}");
    let out = run_in(d.path(), &[], &["review", "before.yaml", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yaml"));
    let out = run_in(d.path(), &[], &["review", "-", "-"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_command_reads_one_render_from_standard_input() {
    use std::io::Write;
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("before.yaml"), ROLE).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_deploygen"))
        .args(["review", "--format", "json", "before.yaml", "-"])
        .current_dir(d.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ROLE.replace("manager", "other").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["after"]["label"], "<stdin>");
    assert_eq!(v["counts"]["object-added"], 1);
    assert_eq!(v["counts"]["object-removed"], 1);
}

/// One review showing every section, for the three formats.
fn sample() -> Review {
    let before = format!(
        "{}{}{ROLE}{CRD}{HOOK}",
        deployment("a", "docker.io/kserve/a:v1", "100m", ""),
        service("a", "webhook-server")
    );
    let after = format!(
        "{}{}{}{}{}{}",
        deployment("a", "docker.io/kserve/a:v2", "200m", ""),
        service("a", "https"),
        ROLE.replace("verbs: [get, list]", "verbs: [get, list, watch]\n  - apiGroups: [\"\"]\n    resources: [secrets]\n    verbs: [get]"),
        CRD.replace("    - name: v1alpha1\n      served: true", "    - name: v1alpha1\n      served: false"),
        HOOK.replace("    sideEffects", "    failurePolicy: Ignore\n    sideEffects"),
        service("b", "http"),
    );
    review(&before, &after, Some(&airgap_after_bump()))
}

#[test]
fn the_three_formats() {
    let r = sample();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("review_text", format::text(&r, false, false));
        insta::assert_snapshot!("review_text_all", format::text(&r, false, true));
        insta::assert_snapshot!("review_markdown", format::markdown(&r));
        insta::assert_snapshot!("review_json", format::json(&r));
    });
    let coloured = format::text(&r, true, false);
    assert!(
        coloured.contains("\x1b[31m[rbac-widening]\x1b[0m"),
        "{coloured}"
    );
    assert!(!format::text(&r, false, false).contains('\x1b'));
    // Markdown: consequential findings first, the rest folded.
    let md = format::markdown(&r);
    let first_details = md.find("<details><summary>Other changes").unwrap();
    assert!(md.find("### Images").unwrap() < first_details);
}

#[test]
fn text_from_the_renders_cannot_drive_the_terminal() {
    let evil = ROLE.replace("name: manager", "name: \"a\\u001b[2Jb\"");
    let r = review(ROLE, &evil, None);
    let t = format::text(&r, false, true);
    assert!(!t.contains('\x1b'), "{t:?}");
    assert!(!format::markdown(&r).contains('\x1b'));
}

#[test]
fn markdown_stays_within_a_pull_request_comment() {
    // Hundreds of changed objects: their diffs stop at the budget, the rest are named.
    let many = |tag: &str| -> String {
        (0..400)
            .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: kserve\ndata:\n  config: |\n{}\n", (0..30).map(|l| format!("    line {l} of {tag}")).collect::<Vec<_>>().join("\n")))
            .collect()
    };
    let r = review(&many("before"), &many("after"), None);
    assert_eq!(of(&r, Class::Changed).len(), 400);
    let md = format::markdown(&r);
    assert!(md.len() < 65_536, "{}", md.len());
    assert!(md.contains("more object(s), without their diff"), "{md}");
    assert!(md.trim_end().ends_with("</details>"));
    // JSON keeps every line.
    let json: Value = serde_json::from_str(&format::json(&r)).unwrap();
    assert_eq!(json["counts"]["changed"], 400);
}

#[test]
fn bump_says_how_to_render_before_and_after_and_review() {
    let dir = common::workdir(common::MATRIX);
    let o = common::run(dir.path(), &["bump", "istio", "1.21.6"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("git worktree add ../before HEAD"), "{out}");
    assert!(out.contains("(cd ../before && helmfile -e airgap template --include-crds --kube-version v1.28.6) > before-airgap.yaml && helmfile -e airgap template --include-crds --kube-version v1.28.6 > after-airgap.yaml"), "{out}");
    assert!(
        out.contains("deploygen review --env airgap before-airgap.yaml after-airgap.yaml"),
        "{out}"
    );
    // A bump that changes nothing has nothing to review.
    let o = common::run(dir.path(), &["bump", "istio", "1.21.6"]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("deploygen review"));
}

#[test]
fn more_rbac_cases_aggregation_names_urls_and_role_refs() {
    let agg = ROLE.replace(
        "  name: manager\n",
        "  name: manager\n  labels: {rbac.authorization.k8s.io/aggregate-to-admin: \"true\"}\n",
    );
    let r = review(ROLE, &agg, None);
    let w = of(&r, Class::RbacWidening);
    assert_eq!(w.len(), 1, "{:#?}", r.findings);
    assert_eq!(
        w[0].path,
        "metadata.labels.rbac.authorization.k8s.io/aggregate-to-admin"
    );
    assert!(w[0]
        .message
        .starts_with("now aggregates into the `admin` role"));
    let selector = |app: &str| {
        format!(
            "{ROLE}aggregationRule: {{clusterRoleSelectors: [{{matchLabels: {{app: {app}}}}}]}}\n"
        )
    };
    let r = review(&selector("a"), &selector("b"), None);
    assert_eq!(of(&r, Class::RbacRuleGained)[0].path, "aggregationRule");
    let named = ROLE.replace(
        "    verbs: [get, list]\n",
        "    verbs: [get, list]\n    resourceNames: [one]\n",
    );
    let r = review(&named, ROLE, None);
    assert_eq!(
        of(&r, Class::RbacRuleGained)[0].details,
        ["get, list on core/configmaps"]
    );
    assert_eq!(
        of(&r, Class::RbacRuleLost)[0].details,
        ["get, list on core/configmaps/one"]
    );
    let urls = format!("{ROLE}  - nonResourceURLs: [\"/metrics\"]\n    verbs: [get]\n");
    let all_urls = urls.replace("/metrics", "*");
    let r = review(&urls, &all_urls, None);
    assert!(
        of(&r, Class::RbacWidening)[0]
            .message
            .contains("a wildcard resource (*): get on *"),
        "{:#?}",
        r.findings
    );
    // A new role: its grants are listed, only its dangerous ones are widening.
    let r = review("", ROLE, None);
    assert!(of(&r, Class::RbacWidening).is_empty());
    assert!(of(&r, Class::RbacRuleGained)[0]
        .message
        .starts_with("new role grants 2 grant(s)"));
    // A removed role is an object removed, not lost grants.
    assert!(of(&review(ROLE, "", None), Class::RbacRuleLost).is_empty());
    let binding = |role: &str| {
        format!("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: b\n  namespace: kserve\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\nsubjects:\n  - {{kind: ServiceAccount, name: a, namespace: kserve}}\n")
    };
    let r = review(&binding("view"), &binding("edit"), None);
    assert_eq!(
        of(&r, Class::RbacBindingChanged)[0].message,
        "binds ClusterRole edit instead of ClusterRole view"
    );
    let r = review("", &binding("view"), None);
    assert_eq!(
        of(&r, Class::RbacBindingChanged)[0].message,
        "new binding of ClusterRole view to ServiceAccount kserve/a"
    );
    assert!(of(&r, Class::RbacWidening).is_empty());
}

#[test]
fn more_crd_and_webhook_cases() {
    let unserved = CRD.replace(
        "    - name: v1alpha1\n      served: true",
        "    - name: v1alpha1\n      served: false",
    );
    let r = review(&unserved, CRD, None);
    assert_eq!(
        of(&r, Class::CrdVersionAdded)[0].message,
        "version v1alpha1 is served now"
    );
    let dropped = CRD.replace("    - name: v1alpha1\n      served: true\n      storage: false\n      schema: {openAPIV3Schema: {type: object}}\n", "");
    let r = review(&unserved, &dropped, None);
    assert!(of(&r, Class::CrdVersionRemoved)[0]
        .message
        .contains("(not served) is removed"));
    // Nested fields removed with their parent are listed once, under it.
    let no_spec = CRD.replace("            spec:\n              type: object\n              properties:\n                size: {type: integer}\n                mode: {type: string}\n", "            other: {type: string}\n");
    let r = review(CRD, &no_spec, None);
    assert_eq!(of(&r, Class::CrdFieldRemoved)[0].details, ["spec"]);
    let conv = |ca: &str| {
        CRD.replace("  scope: Namespaced\n", &format!("  scope: Namespaced\n  conversion: {{strategy: Webhook, webhook: {{clientConfig: {{caBundle: {ca}, service: {{name: conv, namespace: x}}}}}}}}\n"))
    };
    assert!(of(
        &review(&conv("AAAA"), &conv("BBBB"), None),
        Class::CrdConversionChanged
    )
    .is_empty());
    let r = review(
        HOOK,
        &HOOK.replace("name: v.example.io", "name: w.example.io"),
        None,
    );
    assert!(of(&r, Class::WebhookRemoved)[0].message.starts_with(
        "webhook v.example.io is removed (was service x/hook:443, failurePolicy Fail)"
    ));
    let url = HOOK.replace(
        "      service: {name: hook, namespace: x, port: 443}\n",
        "      url: https://hook.example.io/v\n",
    );
    let r = review(HOOK, &url, None);
    assert_eq!(
        of(&r, Class::WebhookServiceChanged)[0].message,
        "service x/hook:443 -> https://hook.example.io/v"
    );
    let ignore = HOOK.replace(
        "    sideEffects",
        "    failurePolicy: Ignore\n    sideEffects",
    );
    assert!(
        of(&review(&ignore, HOOK, None), Class::WebhookFailurePolicy)[0]
            .message
            .starts_with("Ignore -> Fail: the API server now refuses")
    );
    let explicit = HOOK.replace(
        "    sideEffects",
        "    failurePolicy: Fail\n    timeoutSeconds: 10\n    sideEffects",
    );
    let r = review(HOOK, &explicit, None);
    assert_eq!(
        classes(&r.findings),
        vec![Class::Changed],
        "defaults written out change nothing"
    );
}

#[test]
fn more_workload_cases() {
    let svc = service("a", "https");
    let typed = svc.replace("  selector:", "  type: NodePort\n  selector:");
    let r = review(&svc, &typed, None);
    assert_eq!(of(&r, Class::ServiceChanged)[0].message, "none -> NodePort");
    let two = svc.replace(
        "      targetPort: 9443\n",
        "      targetPort: 9443\n    - name: metrics\n      port: 9090\n",
    );
    assert!(of(&review(&svc, &two, None), Class::ServiceChanged)[0]
        .message
        .starts_with("port 9090/TCP (metrics) is added"));
    assert!(of(&review(&two, &svc, None), Class::ServiceChanged)[0]
        .message
        .starts_with("port 9090/TCP (metrics) is removed"));
    let target = svc.replace("targetPort: 9443", "targetPort: webhook");
    assert_eq!(
        of(&review(&svc, &target, None), Class::ServiceChanged)[0].message,
        "9443 -> webhook"
    );
    let np = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: kserve\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n";
    assert!(of(&review("", np, None), Class::NetworkPolicyChanged)[0]
        .message
        .starts_with("NetworkPolicy added"));
    assert!(of(&review(np, "", None), Class::NetworkPolicyChanged)[0]
        .message
        .starts_with("NetworkPolicy removed"));
    // Root and escalation.
    let locked = deployment("a", "r/a:1", "100m", "").replace("          resources:", "          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}\n          resources:");
    let open = deployment(
        "a",
        "r/a:1",
        "100m",
        "      securityContext: {runAsUser: 0}\n",
    );
    let r = review(&locked, &open, None);
    let m = &of(&r, Class::SecurityWidening)[0].message;
    assert!(
        m.contains("allowPrivilegeEscalation false -> unset (true)"),
        "{m}"
    );
    assert!(m.contains("runAsUser: 0 (root)"), "{m}");
    assert!(
        m.contains("readOnlyRootFilesystem is no longer true"),
        "{m}"
    );
    // A DaemonSet counts once per node; an init container counts when it is the larger.
    let ctx = airgap_after_bump();
    let ds = |cpu: &str| {
        format!("---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: d\n  namespace: kserve\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: init\n          image: r/i:1\n          resources: {{requests: {{cpu: \"{cpu}\"}}}}\n      containers:\n        - name: c\n          image: r/c:1\n          resources: {{requests: {{cpu: 1}}}}\n")
    };
    let r = review(&ds("1"), &ds("65"), Some(&ctx));
    let cap = of(&r, Class::CapacityExceeded);
    assert_eq!(cap.len(), 2, "{:#?}", r.findings);
    assert!(cap[0].message.starts_with("the stack's pods now request 130 cores, 0.00 GiB (was 2 cores, 0.00 GiB): more than the 2 nodes"), "{}", cap[0].message);
    assert!(
        cap[1].message.starts_with("one pod now requests 65 cores"),
        "{}",
        cap[1].message
    );
}

#[test]
fn long_details_are_cut_in_text_unless_all() {
    let rules: String = (0..15)
        .map(|i| format!("  - apiGroups: [\"\"]\n    resources: [r{i:02}]\n    verbs: [get]\n"))
        .collect();
    let r = review("", &format!("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: big\nrules:\n{rules}"), None);
    let t = format::text(&r, false, false);
    assert!(t.contains("      … 5 more (--all shows them)"), "{t}");
    assert!(!t.contains("get on core/r14"), "{t}");
    assert!(format::text(&r, false, true).contains("get on core/r14"));
}

#[test]
fn colour_is_asked_for_or_left_out() {
    let d = tempfile::tempdir().unwrap();
    let after = ROLE.replace("verbs: [get, list]", "verbs: [\"*\"]");
    let files = [("before.yaml", ROLE), ("after.yaml", after.as_str())];
    // Not a terminal: no colour by default.
    let out = run_in(d.path(), &files, &["review", "before.yaml", "after.yaml"]);
    assert!(!out.stdout.contains(&0x1b));
    let out = run_in(
        d.path(),
        &files,
        &["review", "--color", "always", "before.yaml", "after.yaml"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b[31m[rbac-widening]\x1b[0m"));
    let out = run_in(
        d.path(),
        &files,
        &[
            "review",
            "--format",
            "markdown",
            "before.yaml",
            "after.yaml",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("## deploygen review\n"));
}

#[test]
fn images_the_knative_operator_is_handed_are_reviewed_too() {
    let ks = |digest: &str| {
        format!("---\napiVersion: operator.knative.dev/v1beta1\nkind: KnativeServing\nmetadata:\n  name: knative-serving\n  namespace: knative-serving\nspec:\n  version: \"1.15.3\"\n  config:\n    deployment:\n      queue-sidecar-image: 10.61.3.31:35000/knative-releases/knative.dev/serving/cmd/queue@sha256:{digest}\n  registry:\n    override:\n      activator: 10.61.3.31:35000/knative-releases/knative.dev/serving/cmd/activator@sha256:{digest}\n")
    };
    let r = review(&ks("aaaa"), &ks("bbbb"), None);
    let f = of(&r, Class::ImageChanged);
    let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.config.deployment.queue-sidecar-image",
            "spec.registry.override[activator]"
        ],
        "{:#?}",
        r.findings
    );
    assert!(f[1].message.ends_with("activator@sha256:bbbb"));
}
