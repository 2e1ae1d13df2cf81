//! `deploygen audit` on planted mistakes: each class of defect the audit exists for is caught
//! with a located finding, and the same fixture without the mistake passes that check (so
//! each test can fail). Fixtures are small hand-written manifests in the shape the real
//! charts render (the CI step `.ci/upstream-proof` runs the audit on the real renders).

mod common;

use deploygen::audit::{self, report::Severity, Options};
use deploygen::plan::Plan;

fn plan(matrix: &str) -> Plan {
    deploygen::plan("matrix.yaml", matrix.as_bytes()).expect("default matrix plans")
}

fn run(env: &str, releases: &[&str], manifests: &str) -> audit::Audit {
    let opts = Options {
        env: env.into(),
        releases: releases.iter().map(|s| s.to_string()).collect(),
        operator_manifests: None,
    };
    audit::audit(&plan(common::MATRIX), &opts, "test.yaml", manifests).expect("readable input")
}

/// The failures of one check that mention `needle` (in object, path or message).
fn failures(a: &audit::Audit, check: &str, needle: &str) -> Vec<String> {
    a.findings
        .iter()
        .filter(|f| f.severity == Severity::Fail && f.check == check)
        .map(|f| format!("{} {}: {}", f.object, f.path, f.message))
        .filter(|line| line.contains(needle))
        .collect()
}

fn deployment(ns: &str, name: &str, labels: &str, image: &str, ports: &str) -> String {
    format!(
        "---\n# Source: kserve/charts/kserve/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels: {labels}\n  template:\n    metadata:\n      labels: {labels}\n    spec:\n      containers:\n        - name: manager\n          image: {image}\n          ports: {ports}\n"
    )
}

fn service(ns: &str, name: &str, selector: &str, kind: &str, ports: &str) -> String {
    format!("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{app.kubernetes.io/name: {name}}}\nspec:\n  type: {kind}\n  selector: {selector}\n  ports: {ports}\n")
}

const MIRRORED: &str = "10.61.3.31:35000/kserve/kserve-controller:v0.14.1";

#[test]
fn an_image_left_on_a_public_registry_is_caught_with_its_field_path() {
    let public = deployment(
        "kserve",
        "kserve-controller-manager",
        "{control-plane: kserve-controller-manager}",
        "docker.io/kserve/kserve-controller:v0.14.1",
        "[]",
    );
    let a = run("airgap", &["kserve"], &public);
    let found = failures(&a, "images", "not on the mirror 10.61.3.31:35000");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("Deployment kserve/kserve-controller-manager spec.template.spec.containers[manager].image"), "{found:?}");
    // Mirrored, the same object passes the image checks.
    let ok = run(
        "airgap",
        &["kserve"],
        &deployment(
            "kserve",
            "kserve-controller-manager",
            "{control-plane: kserve-controller-manager}",
            MIRRORED,
            "[]",
        ),
    );
    assert!(failures(&ok, "images", "kserve-controller").is_empty());
}

#[test]
fn an_image_flag_and_a_short_name_are_references_too() {
    let text = deployment("kserve", "x", "{a: b}", "busybox:1.36", "[]")
        .replace("          ports: []\n", "          ports: []\n          args: [\"--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:v1.15.5\"]\n");
    let a = run("airgap", &["kserve"], &text);
    assert_eq!(
        failures(&a, "images", "busybox:1.36 is not on the mirror").len(),
        1
    );
    assert_eq!(
        failures(&a, "images", "--acme-http01-solver-image").len(),
        1
    );
}

#[test]
fn a_listed_image_nothing_references_is_reported() {
    // Only the controller rendered: the other kserve images of the list are unreferenced.
    let a = run(
        "airgap",
        &["kserve"],
        &deployment("kserve", "m", "{a: b}", MIRRORED, "[]"),
    );
    let found = failures(&a, "lists", "kserve/agent:v0.14.1");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(failures(&a, "lists", "kserve-controller:v0.14.1").is_empty());
}

#[test]
fn operator_managed_images_come_from_the_knative_serving_resource() {
    let ks = "---\napiVersion: operator.knative.dev/v1beta1\nkind: KnativeServing\nmetadata:\n  name: knative-serving\n  namespace: knative-serving\nspec:\n  version: \"1.15.3\"\n";
    // Without overrides the operator deploys gcr.io images: not on the mirror.
    let a = run("airgap", &["knative-serving"], ks);
    assert!(!failures(&a, "images", "spec.registry.override[queue-proxy]").is_empty());
    assert!(!failures(&a, "images", "spec.config.deployment[queue-sidecar-image]").is_empty());
    // The rendered values put every one on the mirror.
    let values = std::fs::read_to_string(
        common::repo_root().join("environments/airgap/knative-serving.yaml"),
    )
    .unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(&values).unwrap();
    let spec = serde_yaml::to_string(&serde_yaml::Mapping::from_iter([
        ("registry".into(), v["knativeServing"]["registry"].clone()),
        ("config".into(), v["knativeServing"]["config"].clone()),
        ("version".into(), "1.15.3".into()),
    ]))
    .unwrap();
    let indented: String = spec.lines().map(|l| format!("  {l}\n")).collect();
    let ok = format!("---\napiVersion: operator.knative.dev/v1beta1\nkind: KnativeServing\nmetadata:\n  name: knative-serving\n  namespace: knative-serving\nspec:\n{indented}");
    let a = run("airgap", &["knative-serving"], &ok);
    assert!(
        failures(&a, "images", "").is_empty(),
        "{:?}",
        failures(&a, "images", "")
    );
    assert!(
        failures(&a, "lists", "").is_empty(),
        "{:?}",
        failures(&a, "lists", "")
    );
}

#[test]
fn an_opt_in_injection_template_image_is_a_note_not_a_failure() {
    let cm = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio-sidecar-injector\n  namespace: istio-system\ndata:\n  values: '{\"global\":{\"hub\":\"10.61.3.31:35000/istio\",\"tag\":\"1.22.8\",\"proxy\":{\"image\":\"proxyv2\"}}}'\n  config: |\n    defaultTemplates: [sidecar]\n    templates:\n      sidecar: |\n        spec: {}\n      grpc-simple: |\n        spec:\n          initContainers:\n            - name: init\n              image: busybox:1.28\n";
    let a = run("airgap", &["istiod"], cm);
    assert!(failures(&a, "images", "busybox").is_empty());
    let note = a
        .findings
        .iter()
        .find(|f| f.severity == Severity::Note && f.message.contains("busybox:1.28"));
    assert!(
        note.is_some_and(|n| n.message.contains("`grpc-simple` is opt-in")),
        "{:?}",
        a.findings
    );
    // The same template turned on by default is a failure.
    let a = run(
        "airgap",
        &["istiod"],
        &cm.replace("[sidecar]", "[sidecar, grpc-simple]"),
    );
    assert_eq!(
        failures(&a, "images", "busybox:1.28 is not on the mirror").len(),
        1
    );
}

#[test]
fn a_service_port_with_no_matching_pod_port_is_caught() {
    let pods = deployment(
        "kserve",
        "c",
        "{control-plane: c}",
        MIRRORED,
        "[{containerPort: 9443, name: webhook-server}]",
    );
    let bad = pods.clone()
        + &service(
            "kserve",
            "wh",
            "{control-plane: c}",
            "ClusterIP",
            "[{port: 443, targetPort: webhook}]",
        );
    let a = run("airgap", &["kserve"], &bad);
    let found = failures(&a, "wiring", "targetPort");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("Service kserve/wh spec.ports[0].targetPort: targets port `webhook`"),
        "{found:?}"
    );
    let good = pods
        + &service(
            "kserve",
            "wh",
            "{control-plane: c}",
            "ClusterIP",
            "[{port: 443, targetPort: webhook-server}]",
        );
    assert!(failures(&run("airgap", &["kserve"], &good), "wiring", "").is_empty());
}

#[test]
fn a_service_selecting_no_pod_is_caught() {
    let text = deployment("kserve", "c", "{control-plane: c}", MIRRORED, "[]")
        + &service(
            "kserve",
            "s",
            "{control-plane: other}",
            "ClusterIP",
            "[{port: 80}]",
        );
    assert_eq!(
        failures(
            &run("airgap", &["kserve"], &text),
            "wiring",
            "selects no pod"
        )
        .len(),
        1
    );
}

/// Defect 3 of the rendered-proof issue: a ServiceMonitor naming port `https` on a Service
/// whose 8443 port is unnamed (the KServe chart's kserve-controller-manager-service).
#[test]
fn a_monitor_naming_a_missing_port_is_caught() {
    let pods = deployment(
        "kserve",
        "c",
        "{control-plane: kserve-controller-manager}",
        MIRRORED,
        "[{containerPort: 8443, name: https}]",
    );
    let monitor = "---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: m\n  namespace: kserve\nspec:\n  selector:\n    matchLabels: {app.kubernetes.io/name: svc}\n  endpoints:\n    - port: https\n";
    let unnamed = service(
        "kserve",
        "svc",
        "{control-plane: kserve-controller-manager}",
        "ClusterIP",
        "[{port: 8443, targetPort: https}]",
    );
    let a = run("airgap", &["kserve"], &(pods.clone() + &unnamed + monitor));
    let found = failures(&a, "wiring", "names port `https`");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("ServiceMonitor kserve/m spec.endpoints[0].port"),
        "{found:?}"
    );
    let named = service(
        "kserve",
        "svc",
        "{control-plane: kserve-controller-manager}",
        "ClusterIP",
        "[{name: https, port: 8443, targetPort: https}]",
    );
    assert!(failures(
        &run("airgap", &["kserve"], &(pods + &named + monitor)),
        "wiring",
        ""
    )
    .is_empty());
}

/// Defect 2 of the rendered-proof issue: the ingress gateway's LoadBalancer Service targets
/// pod ports 80/443, the policy opened 8080/8443.
#[test]
fn a_network_policy_blocking_a_service_is_caught() {
    let gw = deployment(
        "istio-system",
        "istio-ingressgateway",
        "{istio: ingressgateway}",
        "auto",
        "[{containerPort: 15090, name: http-envoy-prom}]",
    );
    let svc = service(
        "istio-system",
        "istio-ingressgateway",
        "{istio: ingressgateway}",
        "LoadBalancer",
        "[{name: http2, port: 80, targetPort: 80}]",
    );
    let policies = |port: u16| {
        format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: istio-system\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress]\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-gateway-traffic\n  namespace: istio-system\nspec:\n  podSelector:\n    matchLabels: {{istio: ingressgateway}}\n  policyTypes: [Ingress]\n  ingress:\n    - ports: [{{port: {port}, protocol: TCP}}]\n")
    };
    let a = run(
        "airgap",
        &["istio-ingressgateway"],
        &(gw.clone() + &svc + &policies(8080)),
    );
    let found = failures(&a, "network", "");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("port 80 -> 80")
            && found[0].contains("from outside the cluster")
            && found[0].contains("deny, allow-gateway-traffic"),
        "{found:?}"
    );
    assert!(failures(
        &run(
            "airgap",
            &["istio-ingressgateway"],
            &(gw + &svc + &policies(80))
        ),
        "network",
        ""
    )
    .is_empty());
}

#[test]
fn a_policy_must_admit_scrapes_from_the_configured_monitoring_namespace() {
    let pods = deployment(
        "kserve",
        "c",
        "{control-plane: c}",
        MIRRORED,
        "[{containerPort: 8443, name: https}]",
    );
    let monitor = "---\napiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: m\n  namespace: kserve\nspec:\n  selector:\n    matchLabels: {control-plane: c}\n  podMetricsEndpoints:\n    - port: https\n";
    let policy = |ns: &str| {
        format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: scrape\n  namespace: kserve\nspec:\n  podSelector: {{}}\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels: {{kubernetes.io/metadata.name: {ns}}}\n      ports: [{{port: 8443}}]\n")
    };
    // The default matrix's Prometheus runs in `monitoring`.
    let a = run(
        "airgap",
        &["kserve"],
        &(pods.clone() + monitor + &policy("prometheus")),
    );
    assert_eq!(
        failures(&a, "network", "from namespace monitoring").len(),
        1
    );
    assert!(failures(
        &run(
            "airgap",
            &["kserve"],
            &(pods + monitor + &policy("monitoring"))
        ),
        "network",
        ""
    )
    .is_empty());
}

#[test]
fn an_api_removed_in_the_clusters_version_is_caught() {
    let pdb = |v: &str| {
        format!("---\napiVersion: {v}\nkind: PodDisruptionBudget\nmetadata:\n  name: p\n  namespace: kserve\nspec:\n  minAvailable: 1\n")
    };
    let found = failures(
        &run("airgap", &["kserve"], &pdb("policy/v1beta1")),
        "api",
        "",
    );
    assert_eq!(found.len(), 1);
    assert!(
        found[0].contains("policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.28")
            && found[0].ends_with("use policy/v1"),
        "{found:?}"
    );
    assert!(failures(&run("airgap", &["kserve"], &pdb("policy/v1")), "api", "").is_empty());
}

#[test]
fn webhooks_and_issuers_must_name_what_exists() {
    let wh = "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: v\nwebhooks:\n  - name: a.b\n    clientConfig:\n      service: {name: missing, namespace: kserve}\n";
    let cert = |issuer: &str| {
        format!("---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: c\n  namespace: istio-system\nspec:\n  secretName: s\n  issuerRef: {{name: {issuer}, kind: ClusterIssuer}}\n")
    };
    let mut text = wh.to_string();
    text.push_str(&cert("nope"));
    // Whole-environment audit: missing objects are failures.
    let a = run("online", &[], &text);
    assert_eq!(
        failures(&a, "wiring", "names Service kserve/missing").len(),
        1
    );
    assert_eq!(failures(&a, "wiring", "names ClusterIssuer nope").len(), 1);
    // online declares its ACME ClusterIssuer external.
    let a = run("online", &[], &cert("astrago-acme"));
    assert!(failures(&a, "wiring", "ClusterIssuer").is_empty());
}

#[test]
fn unreadable_input_is_refused_with_its_location() {
    let opts = Options {
        env: "airgap".into(),
        ..Options::default()
    };
    let err = audit::audit(
        &plan(common::MATRIX),
        &opts,
        "in.yaml",
        "apiVersion: v1\nkind: [\n",
    )
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("in.yaml:3:"), "{err}");
    let opts = Options {
        env: "nowhere".into(),
        ..Options::default()
    };
    assert!(audit::audit(&plan(common::MATRIX), &opts, "in.yaml", "")
        .unwrap_err()
        .to_string()
        .contains("no environment `nowhere`"));
}

#[test]
fn the_command_exits_0_clean_1_on_findings_2_on_bad_input() {
    let dir = common::workdir(common::MATRIX);
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "clean.yaml",
        &deployment("kserve", "c", "{a: b}", MIRRORED, "[]"),
    );
    write(
        "public.yaml",
        &deployment(
            "kserve",
            "c",
            "{a: b}",
            "docker.io/kserve/kserve-controller:v0.14.1",
            "[]",
        ),
    );
    write("broken.yaml", "kind: [\n");
    let code = |args: &[&str]| common::run(dir.path(), args).status.code();
    // Scoped to the one image of a one-release render, the clean file passes everything but
    // the list check (other kserve images unreferenced), so compare the two directly.
    let clean = common::run(
        dir.path(),
        &[
            "audit",
            "--env",
            "airgap",
            "--release",
            "kserve",
            "--format",
            "json",
            "clean.yaml",
        ],
    );
    let public = common::run(
        dir.path(),
        &[
            "audit",
            "--env",
            "airgap",
            "--release",
            "kserve",
            "--format",
            "json",
            "public.yaml",
        ],
    );
    let count = |o: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "images" && f["severity"] == "fail")
            .count()
    };
    assert_eq!((count(&clean), count(&public)), (0, 1));
    assert_eq!(public.status.code(), Some(1));
    assert_eq!(code(&["audit", "--env", "airgap", "broken.yaml"]), Some(2));
    assert_eq!(
        code(&[
            "audit",
            "--env",
            "airgap",
            "--release",
            "nope",
            "clean.yaml"
        ]),
        Some(2)
    );
    // istio-base has no image: an empty render of it is clean.
    write("base.yaml", "");
    assert_eq!(
        code(&[
            "audit",
            "--env",
            "airgap",
            "--release",
            "istio-base",
            "base.yaml"
        ]),
        Some(0)
    );
}
