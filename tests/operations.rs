//! The operations layer (issue: monitoring, access control, network policy, TLS, smoke tests):
//! present in both default environments with the differences a reviewer expects, and each
//! feature switched off in the matrix removes exactly its own resources.

mod common;

use std::collections::BTreeMap;

use common::{flatten, MATRIX};
use serde_json::Value;

fn tree(text: &str) -> BTreeMap<String, String> {
    deploygen::render("matrix.yaml", text.as_bytes()).unwrap()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

/// (files added or removed, value paths changed) between two trees.
fn delta(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> (Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    let mut keys = Vec::new();
    for p in a.keys().chain(b.keys()) {
        match (a.get(p), b.get(p)) {
            (Some(x), Some(y)) if x != y && p.starts_with("environments/") => {
                let (mut fx, mut fy) = (BTreeMap::new(), BTreeMap::new());
                flatten(&yaml(x), "", &mut fx);
                flatten(&yaml(y), "", &mut fy);
                for k in fx.keys().chain(fy.keys()) {
                    if fx.get(k) != fy.get(k) {
                        keys.push(format!("{p}: {k}"));
                    }
                }
            }
            (Some(x), Some(y)) if x != y && p != ".deploygen-manifest" => {
                files.push(format!("changed {p}"))
            }
            (None, Some(_)) => files.push(format!("added {p}")),
            (Some(_), None) => files.push(format!("removed {p}")),
            _ => {}
        }
    }
    files.sort();
    files.dedup();
    keys.sort();
    keys.dedup();
    (files, keys)
}

/// The airgap environment's operations block of the default matrix, replaced.
fn airgap_ops(replace: &str, with: &str) -> String {
    let start = MATRIX.find("  airgap:").unwrap();
    let (head, tail) = MATRIX.split_at(start);
    assert!(tail.contains(replace), "{replace}");
    format!("{head}{}", tail.replacen(replace, with, 1))
}

#[test]
fn both_environments_carry_the_operations_layer_with_the_expected_differences() {
    let t = tree(MATRIX);
    let online_tls = yaml(&t["environments/online/istio-ingressgateway.yaml"]);
    let airgap_tls = yaml(&t["environments/airgap/istio-ingressgateway.yaml"]);
    assert_eq!(online_tls["tls"]["issuer"], "external");
    assert_eq!(online_tls["tls"]["issuerName"], "astrago-acme");
    assert_eq!(airgap_tls["tls"]["issuer"], "self-signed-ca");
    assert_eq!(airgap_tls["tls"]["issuerName"], "astrago-ca");
    for env in ["online", "airgap"] {
        let ks = yaml(&t[&format!("environments/{env}/kserve.yaml")]);
        assert_eq!(ks["serviceMonitor"]["enabled"], true);
        assert_eq!(
            ks["serviceMonitor"]["labels"]["release"],
            "kube-prometheus-stack"
        );
        assert_eq!(ks["dashboards"]["labels"]["grafana_dashboard"], "1");
        assert_eq!(ks["networkPolicy"]["enabled"], true);
        assert_eq!(ks["rbac"]["roles"], true);
        assert_eq!(
            ks["rbac"]["bindings"][1]["clusterRole"],
            "kserve-model-developer"
        );
        assert_eq!(
            ks["kserve"]["kserve"]["controller"]["gateway"]["urlScheme"],
            "https"
        );
        let kn = yaml(&t[&format!("environments/{env}/knative-serving.yaml")]);
        assert_eq!(kn["podMonitor"]["enabled"], true);
        assert_eq!(kn["tls"]["https"], true);
        for f in [
            "00-namespace.yaml",
            "sklearn-iris.yaml",
            "pytorch-gpu.yaml",
            "README.md",
        ] {
            assert!(t.contains_key(&format!("examples/{env}/{f}")), "{env}/{f}");
        }
    }
    // Storage that works air-gapped, runtime images from the mirror where there is one.
    let gpu = &t["examples/airgap/pytorch-gpu.yaml"];
    assert!(
        gpu.contains("storageUri: pvc://kserve-models/torchserve/tiny")
            && gpu.contains("nvidia.com/gpu: 1")
    );
    assert!(gpu.contains("10.61.3.31:35000/pytorch/torchserve-kfs:0.9.0"));
    assert!(
        t["examples/online/pytorch-gpu.yaml"].contains("docker.io/pytorch/torchserve-kfs:0.9.0")
    );
    assert!(
        t["examples/airgap/00-namespace.yaml"].contains("storageClassName: \"astrago-nfs-csi\"")
    );
    assert!(!t
        .values()
        .any(|f| f.contains("storageUri: gs://") || f.contains("storageUri: s3://")));
    let readme = &t["examples/airgap/README.md"];
    assert!(
        readme.contains("/v1/models/sklearn-iris:predict") && readme.contains("astrago-ca"),
        "{readme}"
    );
}

#[test]
fn each_feature_switched_off_removes_exactly_its_own_resources() {
    let base = tree(MATRIX);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "prometheus",
            airgap_ops("monitoring: *monitoring", "monitoring: {prometheus: false, selector_labels: {release: kube-prometheus-stack}, grafana_dashboards: true, dashboard_labels: {grafana_dashboard: \"1\"}, dcgm_exporter: true}"),
            vec!["environments/airgap/istiod.yaml: serviceMonitor.enabled", "environments/airgap/knative-serving.yaml: podMonitor.enabled", "environments/airgap/kserve.yaml: serviceMonitor.enabled"],
        ),
        (
            "dashboards",
            airgap_ops("monitoring: *monitoring", "monitoring: {prometheus: true, selector_labels: {release: kube-prometheus-stack}, grafana_dashboards: false, dashboard_labels: {grafana_dashboard: \"1\"}, dcgm_exporter: true}"),
            vec!["environments/airgap/kserve.yaml: dashboards.enabled"],
        ),
        (
            "network policies",
            airgap_ops("network_policies: enforce", "network_policies: off"),
            vec![
                "environments/airgap/cert-manager.yaml: networkPolicy.enabled",
                "environments/airgap/istio-ingressgateway.yaml: networkPolicy.enabled",
                "environments/airgap/istiod.yaml: networkPolicy.enabled",
                "environments/airgap/knative-serving.yaml: networkPolicy.enabled",
                "environments/airgap/kserve.yaml: networkPolicy.enabled",
            ],
        ),
        (
            "https",
            airgap_ops("        https: true\n", "        https: false\n"),
            vec![
                "environments/airgap/istio-ingressgateway.yaml: tls.https",
                "environments/airgap/knative-serving.yaml: tls.https",
                "environments/airgap/kserve.yaml: kserve.kserve.controller.gateway.urlScheme",
            ],
        ),
    ];
    for (name, matrix, expected) in cases {
        let (files, keys) = delta(&base, &tree(&matrix));
        // The smoke-test README's curl commands follow the scheme; nothing else may change.
        let allowed: Vec<String> = if name == "https" {
            vec!["changed examples/airgap/README.md".into()]
        } else {
            vec![]
        };
        assert_eq!(files, allowed, "{name}: only values may change");
        assert_eq!(keys, expected, "{name}");
    }
    // Access control off: the roles and every binding go.
    let m = airgap_ops("access_control: *access", "access_control: {roles: false}");
    let (files, keys) = delta(&base, &tree(&m));
    assert!(files.is_empty());
    assert_eq!(
        keys,
        vec![
            "environments/airgap/kserve.yaml: rbac.bindings",
            "environments/airgap/kserve.yaml: rbac.roles"
        ]
    );
    // Smoke tests off (the load test with them): exactly the examples of that environment go.
    let m = airgap_ops(
        "      smoke_tests:\n        enabled: true\n        load_test:\n          image: docker.io/library/busybox:1.36.1\n          concurrency: 8\n          requests: 3000\n",
        "      smoke_tests:\n        enabled: false\n",
    );
    let (files, keys) = delta(&base, &tree(&m));
    assert!(keys.is_empty());
    assert_eq!(
        files,
        vec![
            "removed examples/airgap/00-namespace.yaml",
            "removed examples/airgap/01-train-sklearn-iris.yaml",
            "removed examples/airgap/02-build-torchserve-model.yaml",
            "removed examples/airgap/README.md",
            "removed examples/airgap/load-test.yaml",
            "removed examples/airgap/pytorch-gpu.yaml",
            "removed examples/airgap/sklearn-iris.yaml"
        ]
    );
}

/// Off in values must mean nothing rendered: every glue template is one `if` on its feature.
#[test]
fn every_glue_template_is_gated_by_its_feature_switch() {
    let t = tree(MATRIX);
    let gates = [
        (
            "networkpolicy.yaml",
            "{{- if .Values.networkPolicy.enabled }}",
        ),
        (
            "servicemonitor.yaml",
            "{{- if .Values.serviceMonitor.enabled }}",
        ),
        ("podmonitor.yaml", "{{- if .Values.podMonitor.enabled }}"),
        ("dashboards.yaml", "{{- if .Values.dashboards.enabled }}"),
        ("ingressclass.yaml", "{{- if .Values.ingressClass.create }}"),
    ];
    let mut seen = 0;
    for (path, text) in t
        .iter()
        .filter(|(p, _)| p.contains("/templates/") && p.ends_with(".yaml"))
    {
        let Some((_, gate)) = gates.iter().find(|(f, _)| path.ends_with(f)) else {
            continue;
        };
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(body.first(), Some(gate), "{path}");
        assert_eq!(body.last(), Some(&"{{- end }}"), "{path}");
        assert_eq!(
            text.matches("{{- if").count(),
            text.matches("{{- end }}").count()
                - text.matches("{{- with").count()
                - text.matches("{{- range").count(),
            "{path}"
        );
        seen += 1;
    }
    // cert-manager, istiod, istio-ingressgateway, knative-serving and kserve policies; istiod
    // and kserve service monitors; two knative pod monitors files (one file); the dashboard;
    // the ingress class.
    assert_eq!(seen, 10);
    let rbac = &t["applications/kserve/templates/rbac.yaml"];
    assert!(
        rbac.contains("{{- if .Values.rbac.roles }}")
            && rbac.contains("{{- range $i, $b := .Values.rbac.bindings }}")
    );
    let tls = &t["applications/istio-ingressgateway/templates/tls.yaml"];
    assert!(
        tls.contains("{{- if eq .Values.tls.issuer \"self-signed-ca\" }}")
            && tls.contains("{{- if and .Values.tls.https (ne .Values.tls.issuer \"none\") }}")
    );
}

#[test]
fn every_chart_has_a_strict_values_schema() {
    let t = tree(MATRIX);
    for (path, text) in t.iter().filter(|(p, _)| p.ends_with("/values.schema.json")) {
        let s: Value = serde_json::from_str(text).unwrap();
        assert_eq!(s["additionalProperties"], false, "{path}");
        // The chart's own defaults validate structurally: every top-level key is declared.
        let values = yaml(&t[&path.replace("values.schema.json", "values.yaml")]);
        for key in values.as_object().unwrap().keys() {
            assert!(
                s["properties"].get(key).is_some(),
                "{path}: {key} undeclared"
            );
        }
    }
    let ks: Value = serde_json::from_str(&t["applications/kserve/values.schema.json"]).unwrap();
    assert_eq!(
        ks["properties"]["networkPolicy"]["properties"]["enabled"]["type"],
        "boolean"
    );
    assert_eq!(
        ks["properties"]["networkPolicy"]["additionalProperties"],
        false
    );
}

/// An online environment with enforced egress lets Knative's controller reach the public
/// registries (tag-to-digest resolution), and only the controller; a mirrored one reaches
/// only its mirror. Proven on the real knative-serving render.
#[test]
fn enforced_egress_follows_the_registry_the_environment_pulls_from() {
    let online_egress = MATRIX.replacen(
        "      network_policies: enforce\n      # A connected cluster",
        "      network_policies: enforce\n      egress: {policy: enforce, api_server: [10.0.0.1/32]}\n      # A connected cluster",
        1,
    );
    assert_ne!(online_egress, MATRIX);
    let dir = common::workdir(&online_egress);
    let out = common::run(dir.path(), &["render"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let render = |env: &str| {
        common::real::helmfile_template(
            dir.path(),
            &[
                "-e",
                env,
                "-l",
                "name=knative-serving",
                "--kube-version",
                "v1.28.6",
            ],
        )
    };
    let policy = |text: &str, name: &str| {
        common::real::documents(text)
            .into_iter()
            .find(|d| d.contains("kind: NetworkPolicy") && d.contains(&format!("name: {name}\n")))
    };
    let online = render("online");
    let public = policy(&online, "allow-egress-public-registries").expect("public registries");
    assert!(public.contains("app: controller"), "{public}");
    assert!(
        public.contains("cidr: 0.0.0.0/0") && public.contains("port: 443"),
        "{public}"
    );
    assert!(policy(&online, "allow-egress-mirror-registry").is_none());
    let airgap = render("airgap");
    assert!(policy(&airgap, "allow-egress-public-registries").is_none());
    let mirror = policy(&airgap, "allow-egress-mirror-registry").expect("mirror");
    assert!(mirror.contains("cidr: \"10.61.3.31/32\""), "{mirror}");
}
