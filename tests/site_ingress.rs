//! Ingress mode: the gateway as a ClusterIP Service behind the site's own ingress controller
//! (`gateway: {expose: cluster-ip, ingress_class: nginx}`, as Astrago's stabilize/1.0 runs its
//! ingress-nginx). Proven on the real charts: the Ingress deploygen renders reaches the
//! gateway's Service and port, carries the gateway certificate, and every InferenceService
//! host is one label under the domain (Knative's domain template), which its `*.<domain>`
//! rule and the certificate cover. `audit` checks an Ingress's class and backends, both ways.

mod common;

use std::path::Path;

use common::{run, stderr, stdout};

const STABILIZE: &str = include_str!("../examples/astrago-stabilize-1.0/matrix.yaml");
const MATRIX: &str = "helmfile/kserve/matrix.yaml";

/// The stabilize/1.0 example in a scratch folder, its charts left to `helm dependency build`
/// (the emulator reads them from ../shared/upstream/charts).
fn example(matrix: &str) -> tempfile::TempDir {
    let m = matrix
        .replace("vendored_charts: true", "vendored_charts: false")
        .replace("  vendored_as: unpacked\n", "");
    assert!(!m.contains("vendored_as"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("helmfile/kserve")).unwrap();
    std::fs::write(dir.path().join(MATRIX), m).unwrap();
    dir
}

fn render_and_template(root: &Path) -> String {
    let out = run(root, &["render", "--matrix", MATRIX]);
    assert!(out.status.success(), "{}", stderr(&out));
    common::real::helmfile_template(
        &root.join("helmfile/kserve"),
        &["-e", "default", "--kube-version", "v1.28.6"],
    )
}

fn audit(root: &Path, text: &str) -> std::process::Output {
    std::fs::write(root.join("render.yaml"), text).unwrap();
    run(
        root,
        &[
            "audit",
            "--matrix",
            MATRIX,
            "--env",
            "default",
            "render.yaml",
        ],
    )
}

#[test]
fn the_gateway_behind_the_sites_ingress_controller_is_reached_and_audited() {
    let dir = example(STABILIZE);
    let root = dir.path();
    let text = render_and_template(root);
    let docs = common::real::documents(&text);
    let find = |kind: &str, name: &str| -> serde_yaml::Value {
        docs.iter()
            .filter_map(|d| serde_yaml::from_str::<serde_yaml::Value>(d).ok())
            .find(|v| {
                v["kind"].as_str() == Some(kind) && v["metadata"]["name"].as_str() == Some(name)
            })
            .unwrap_or_else(|| panic!("no {kind} {name} in the render"))
    };
    let ingress = find("Ingress", "kserve-inference");
    assert_eq!(
        ingress["metadata"]["namespace"].as_str(),
        Some("istio-system")
    );
    assert_eq!(ingress["spec"]["ingressClassName"].as_str(), Some("nginx"));
    let rule = &ingress["spec"]["rules"][0];
    assert_eq!(rule["host"].as_str(), Some("*.models.astrago.local"));
    let backend = &rule["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"].as_str(), Some("istio-ingressgateway"));
    assert_eq!(backend["port"]["name"].as_str(), Some("http2"));
    // HTTPS ends at ingress-nginx with the certificate cert-manager writes beside the Ingress.
    assert_eq!(
        ingress["spec"]["tls"][0]["secretName"].as_str(),
        Some("astrago-ingress-tls")
    );
    let cert = find("Certificate", "ingress-gateway");
    assert_eq!(cert["metadata"]["namespace"].as_str(), Some("istio-system"));
    assert_eq!(
        cert["spec"]["secretName"].as_str(),
        Some("astrago-ingress-tls")
    );
    // The port the Ingress names is the gateway Service's HTTP port, and the Service takes no
    // node port.
    let svc = find("Service", "istio-ingressgateway");
    assert_eq!(svc["spec"]["type"].as_str(), Some("ClusterIP"));
    let ports = svc["spec"]["ports"].as_sequence().unwrap();
    assert!(ports
        .iter()
        .any(|p| p["name"].as_str() == Some("http2") && p["port"].as_i64() == Some(80)));
    assert!(
        ports.iter().all(|p| p.get("nodePort").is_none()),
        "{ports:?}"
    );
    // Serverless hosts are one label under the domain, which `*.<domain>` covers.
    let ks = find("KnativeServing", "knative-serving");
    assert_eq!(
        ks["spec"]["config"]["network"]["domain-template"].as_str(),
        Some("{{.Name}}-{{.Namespace}}.{{.Domain}}")
    );
    let readme =
        std::fs::read_to_string(root.join("helmfile/kserve/examples/default/README.md")).unwrap();
    assert!(readme.contains("get ingress kserve-inference"), "{readme}");

    // The clean render audits clean; the site's class is declared, not rendered.
    let out = audit(root, &text);
    assert!(out.status.success(), "{}", stdout(&out));
    // A harmless edit: the same port by number.
    let by_number = text.replacen(
        "                port:\n                  name: http2",
        "                port:\n                  number: 80",
        1,
    );
    assert_ne!(by_number, text);
    let out = audit(root, &by_number);
    assert!(out.status.success(), "{}", stdout(&out));
    // Planted mistakes, one at a time.
    for (from, to, expect) in [
        (
            "                  name: http2",
            "                  name: http3",
            "spec.rules[0].http.paths[0].backend.service.port.name: is \"http3\", which no port of Service istio-system/istio-ingressgateway is named",
        ),
        (
            "                name: istio-ingressgateway\n                port:",
            "                name: istio-ingresgateway\n                port:",
            "spec.rules[0].http.paths[0].backend.service.name: names Service istio-system/istio-ingresgateway, which is not in the input",
        ),
        (
            "  ingressClassName: \"nginx\"",
            "  ingressClassName: \"ngnix\"",
            "spec.ingressClassName: is \"ngnix\", which no IngressClass in the input is",
        ),
    ] {
        let planted = text.replacen(from, to, 1);
        assert_ne!(planted, text, "{from}");
        let out = audit(root, &planted);
        assert_eq!(out.status.code(), Some(1), "{to}: {}", stdout(&out));
        let report = stdout(&out);
        assert!(
            report.contains("FAIL refs: Ingress istio-system/kserve-inference ") && report.contains(expect),
            "{to}: {report}"
        );
    }
    let planted = by_number.replacen(
        "                  number: 80",
        "                  number: 8080",
        1,
    );
    let out = audit(root, &planted);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("backend.service.port.number: is 8080, which Service istio-system/istio-ingressgateway does not expose"));
}

#[test]
fn an_ingress_class_is_checked_where_it_is_set() {
    let cases = [
        (
            STABILIZE.replace("      expose: cluster-ip\n", "      expose: node-port\n"),
            "an ingress class is only used with expose: cluster-ip",
        ),
        (
            STABILIZE.replace(
                "      ingress_class: nginx\n",
                "      ingress_class: istio\n",
            ),
            "`istio` is the IngressClass the gateway itself serves",
        ),
        (
            STABILIZE.replace(
                "      ingress_class: nginx\n",
                "      ingress_class: Nginx_Class\n",
            ),
            "Nginx_Class",
        ),
    ];
    for (matrix, expect) in cases {
        assert_ne!(matrix, STABILIZE);
        let dir = example(&matrix);
        let out = run(dir.path(), &["render", "--matrix", MATRIX]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("environments.default.gateway.ingress_class") && err.contains(expect),
            "{err}"
        );
        assert!(!dir.path().join("helmfile/kserve/helmfile.yaml").exists());
    }
}

/// The examples' README reaches the gateway the way the environment exposes it: through the
/// site's Ingress, on a node port (with the port in the URL), or on its LoadBalancer.
#[test]
fn the_examples_readme_reaches_the_gateway_as_it_is_exposed() {
    let main = include_str!("../examples/astrago/matrix.yaml");
    let readme = |matrix: &str, env: &str| {
        let dir = example(matrix);
        let out = run(dir.path(), &["render", "--matrix", MATRIX]);
        assert!(out.status.success(), "{}", stderr(&out));
        let p = dir
            .path()
            .join(format!("helmfile/kserve/examples/{env}/README.md"));
        std::fs::read_to_string(p).unwrap()
    };
    let node_port = readme(
        &main.replace("applications/kserve", "helmfile/kserve"),
        "prod",
    );
    assert!(node_port.contains(
        "INGRESS_PORT=$(kubectl -n istio-system get svc istio-ingressgateway -o jsonpath='{.spec.ports[?(@.name==\"https\")].nodePort}')"
    ), "{node_port}");
    assert!(node_port
        .contains("https://${SERVICE_HOSTNAME}:${INGRESS_PORT}/v1/models/sklearn-iris:predict"));
    let ingress = readme(STABILIZE, "default");
    assert!(
        ingress.contains("get ingress kserve-inference") && ingress.contains("INGRESS_PORT=443"),
        "{ingress}"
    );
    let lb = readme(
        &STABILIZE.replace(
            "      expose: cluster-ip\n      ingress_class: nginx\n",
            "      expose: load-balancer\n",
        ),
        "default",
    );
    assert!(lb.contains("# The gateway's LoadBalancer address."), "{lb}");
}
