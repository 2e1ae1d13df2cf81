//! `deploygen audit`'s port check (src/audit/ports.rs) on real renders: the repository's own
//! environment airgap (`common::real::airgap`) and a whole Astrago platform, every app of
//! Astrago's `main` root helmfile with our stack dropped in as README's "Worked example:
//! Astrago's deployment repository" says, rendered from the root by
//! `../shared/tools/helmfile-template`. Each clean render passes and each planted collision is
//! found, naming both objects.

mod common;

use std::path::Path;

use deploygen::audit::{self, report::Severity, Options};

/// `object path: message` of the port findings of `severity`.
fn ports(a: &audit::Audit, severity: Severity) -> Vec<String> {
    a.findings
        .iter()
        .filter(|f| f.severity == severity && f.check == "ports")
        .map(|f| format!("{} {}: {}", f.object, f.path, f.message))
        .collect()
}

fn audit_with(matrix: &str, env: &str, manifests: &str) -> audit::Audit {
    let plan = deploygen::plan("matrix.yaml", matrix.as_bytes()).expect("matrix plans");
    let opts = Options {
        env: env.into(),
        releases: Vec::new(),
        operator_manifests: None,
    };
    audit::audit(&plan, &opts, "render.yaml", manifests).expect("readable input")
}

fn airgap(manifests: &str) -> audit::Audit {
    audit_with(common::MATRIX, "airgap", manifests)
}

const GATEWAY_HTTP2: &str =
    "    - name: http2\n      port: 80\n      protocol: TCP\n      targetPort: 80\n";

/// The real airgap render with the gateway's http2 port given nodePort 31380 (as
/// `gateway: {expose: node-port}` renders it).
fn with_gateway_node_port() -> String {
    let render = common::real::airgap();
    assert_eq!(
        render.matches(GATEWAY_HTTP2).count(),
        1,
        "the gateway's http2 port"
    );
    render.replacen(
        GATEWAY_HTTP2,
        &format!("{GATEWAY_HTTP2}      nodePort: 31380\n"),
        1,
    )
}

fn service(ns: &str, name: &str, node_port: u16) -> String {
    format!("---\n# Source: astrago/templates/nginx.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  type: NodePort\n  selector: {{app: {name}}}\n  ports:\n    - name: http\n      port: 80\n      protocol: TCP\n      nodePort: {node_port}\n")
}

fn workload(kind: &str, name: &str, spec: &str, ports: &str) -> String {
    format!("---\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: monitoring\nspec:\n  {spec}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n        - name: main\n          image: busybox:1.36\n          ports: {ports}\n")
}

#[test]
fn the_real_render_claims_no_port_twice() {
    let a = airgap(common::real::airgap());
    assert_eq!(ports(&a, Severity::Fail), Vec::<String>::new());
    assert_eq!(ports(&a, Severity::Note), Vec::<String>::new());
    // One claim of a nodePort is no collision.
    let a = airgap(&with_gateway_node_port());
    assert_eq!(ports(&a, Severity::Fail), Vec::<String>::new());
}

#[test]
fn a_second_service_on_the_gateways_node_port_is_caught_naming_both() {
    let planted = format!(
        "{}{}",
        with_gateway_node_port(),
        service("astrago", "nginx-service", 31380)
    );
    let found = ports(&airgap(&planted), Severity::Fail);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("Service astrago/nginx-service spec.ports[http].nodePort: nodePort 31380 is also claimed by Service istio-system/istio-ingressgateway spec.ports[http2].nodePort ["),
        "{found:#?}"
    );
    // Another number is free.
    let other = format!(
        "{}{}",
        with_gateway_node_port(),
        service("astrago", "nginx-service", 30080)
    );
    assert_eq!(ports(&airgap(&other), Severity::Fail), Vec::<String>::new());
}

#[test]
fn one_service_may_use_a_node_port_once_per_protocol() {
    let both = service("astrago", "dns", 30053).replace(
        "      nodePort: 30053\n",
        "      nodePort: 30053\n    - name: udp\n      port: 80\n      protocol: UDP\n      nodePort: 30053\n",
    );
    assert_eq!(ports(&airgap(&both), Severity::Fail), Vec::<String>::new());
    let twice = both.replace("protocol: UDP", "protocol: TCP");
    let found = ports(&airgap(&twice), Severity::Fail);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("Service astrago/dns spec.ports[udp].nodePort: nodePort 30053 is also claimed by Service astrago/dns spec.ports[http].nodePort"), "{found:#?}");
}

const HOST_9100: &str = "[{name: metrics, containerPort: 9100, hostPort: 9100}]";

#[test]
fn two_daemonsets_on_one_host_port_collide_unless_their_nodes_differ() {
    let a = workload(
        "DaemonSet",
        "node-exporter",
        "updateStrategy: {}",
        HOST_9100,
    );
    let b = workload(
        "DaemonSet",
        "dcgm-exporter",
        "updateStrategy: {}",
        HOST_9100,
    );
    let found = ports(&airgap(&format!("{a}{b}")), Severity::Fail);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("DaemonSet monitoring/dcgm-exporter spec.template.spec.containers[main].ports[metrics].hostPort: hostPort 9100/TCP is also claimed by DaemonSet monitoring/node-exporter spec.template.spec.containers[main].ports[metrics].hostPort"), "{found:#?}");
    // hostNetwork: the containerPort is the host's.
    let net = workload(
        "DaemonSet",
        "dcgm-exporter",
        "updateStrategy: {}",
        "[{name: metrics, containerPort: 9100}]",
    )
    .replace(
        "      containers:\n",
        "      hostNetwork: true\n      containers:\n",
    );
    let found = ports(&airgap(&format!("{a}{net}")), Severity::Fail);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("ports[metrics].containerPort (hostNetwork)"),
        "{found:#?}"
    );
    // Another protocol, another address, or nodes no one node is both of: no collision.
    let udp = b.replace("hostPort: 9100}", "hostPort: 9100, protocol: UDP}");
    let ips = |x: &str, ip: &str| {
        x.replace(
            "hostPort: 9100}",
            &format!("hostPort: 9100, hostIP: {ip}}}"),
        )
    };
    let gpu_nodes = |x: &str, v: &str| {
        x.replace(
            "      containers:\n",
            &format!(
                "      nodeSelector: {{nvidia.com/gpu.present: \"{v}\"}}\n      containers:\n"
            ),
        )
    };
    for (clean, why) in [
        (format!("{a}{udp}"), "UDP and TCP"),
        (
            format!("{}{}", ips(&a, "10.0.0.1"), ips(&b, "10.0.0.2")),
            "two addresses",
        ),
        (
            format!("{}{}", gpu_nodes(&a, "true"), gpu_nodes(&b, "false")),
            "disjoint nodeSelectors",
        ),
    ] {
        assert_eq!(
            ports(&airgap(&clean), Severity::Fail),
            Vec::<String>::new(),
            "{why}"
        );
    }
    // One address and every address overlap.
    let found = ports(
        &airgap(&format!("{}{b}", ips(&a, "10.0.0.1"))),
        Severity::Fail,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn a_daemonset_and_a_deployment_on_one_host_port_collide() {
    let ds = workload(
        "DaemonSet",
        "node-exporter",
        "updateStrategy: {}",
        HOST_9100,
    );
    let dep = workload("Deployment", "exporter", "replicas: 1", HOST_9100);
    let found = ports(&airgap(&format!("{dep}{ds}")), Severity::Fail);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("DaemonSet monitoring/node-exporter spec.template.spec.containers[main].ports[metrics].hostPort: hostPort 9100/TCP is also claimed by Deployment monitoring/exporter"), "{found:#?}");
    assert!(
        found[0].contains("DaemonSet monitoring/node-exporter runs on every node"),
        "{found:#?}"
    );
}

#[test]
fn deployments_on_one_host_port_need_a_node_per_pod() {
    // Environment airgap has cluster.nodes: 2.
    let one = workload("Deployment", "ingress-a", "replicas: 1", HOST_9100);
    let two = workload("Deployment", "ingress-b", "replicas: 1", HOST_9100);
    assert_eq!(
        ports(&airgap(&format!("{one}{two}")), Severity::Fail),
        Vec::<String>::new(),
        "two pods, two nodes"
    );
    // A workload's own replicas share its port on different nodes: no finding for them alone.
    let three = workload("Deployment", "ingress-a", "replicas: 3", HOST_9100);
    assert_eq!(ports(&airgap(&three), Severity::Fail), Vec::<String>::new());
    let found = ports(&airgap(&format!("{three}{two}")), Severity::Fail);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("Deployment monitoring/ingress-b spec.template.spec.containers[main].ports[metrics].hostPort: hostPort 9100/TCP is also claimed by Deployment monitoring/ingress-a"), "{found:#?}");
    assert!(
        found[0].contains("need 4 nodes for their 4 pods; the cluster has 2 (cluster.nodes)"),
        "{found:#?}"
    );
    // Without cluster.nodes it is a note.
    let no_size = common::MATRIX.replace(
        "      nodes: 2\n      cores_per_node: 64\n      memory_per_node: 450G\n",
        "",
    );
    assert_ne!(no_size, common::MATRIX);
    let a = audit_with(&no_size, "airgap", &format!("{three}{two}"));
    assert_eq!(ports(&a, Severity::Fail), Vec::<String>::new());
    assert_eq!(
        ports(&a, Severity::Note).len(),
        1,
        "{:#?}",
        ports(&a, Severity::Note)
    );
}

#[test]
fn one_pod_template_claiming_a_host_port_twice_is_caught() {
    let twice = workload(
        "DaemonSet",
        "x",
        "updateStrategy: {}",
        "[{name: a, containerPort: 80, hostPort: 9100}, {name: b, containerPort: 81, hostPort: 9100}]",
    );
    let found = ports(&airgap(&twice), Severity::Fail);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("ports[b].hostPort: hostPort 9100/TCP is claimed twice by one pod template (also spec.template.spec.containers[main].ports[a].hostPort)"), "{found:#?}");
}

// The whole Astrago platform.

const ASTRAGO: &str = include_str!("../examples/astrago/matrix.yaml");
const REGISTRY: &str = "offline.registry=192.168.56.11:35000";

/// A writable copy of Astrago's `main` (../shared/astrago/main) with our stack dropped in from
/// `matrix` (the example's, charts from repositories: `--charts` gives the upstream ones), and
/// the changes helmfile v1 (the emulator) needs to load `main`'s v0 root: `helmfile.yaml`
/// becomes `helmfile.yaml.gotmpl` (it holds Go templates), a `---` goes before
/// `helmDefaults:` (v0 rendered the file twice, so its `helmfiles:` saw the environment), and a
/// sub-helmfile holding templates is renamed `.gotmpl` too. The stack is listed last under
/// `helmfiles:`, with the environment values passed down as Astrago passes them.
fn astrago_platform(matrix: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let main = common::real::shared().join("astrago/main");
    let cp = std::process::Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", main.display()))
        .arg(root)
        .status()
        .expect("cp");
    assert!(cp.success(), "copy of {}", main.display());
    let chmod = std::process::Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(root)
        .status()
        .expect("chmod");
    assert!(chmod.success());
    std::fs::create_dir_all(root.join("applications/kserve")).unwrap();
    std::fs::write(root.join("applications/kserve/matrix.yaml"), matrix).unwrap();
    let out = common::run(
        root,
        &["render", "--matrix", "applications/kserve/matrix.yaml"],
    );
    assert!(out.status.success(), "{}", common::stderr(&out));

    let mut parent = std::fs::read_to_string(root.join("helmfile.yaml")).unwrap();
    assert_eq!(parent.matches("\nhelmDefaults:").count(), 1, "{parent}");
    parent = parent.replacen("\nhelmDefaults:", "\n---\nhelmDefaults:", 1);
    for line in parent.clone().lines() {
        let Some(path) = line.strip_prefix("- path: ") else {
            continue;
        };
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        if text.contains("{{") {
            std::fs::rename(root.join(path), root.join(format!("{path}.gotmpl"))).unwrap();
            parent = parent.replace(line, &format!("{line}.gotmpl"));
        }
    }
    parent.push_str(
        "\n- path: applications/kserve/helmfile.yaml\n  values:\n  - {{ toYaml .Values | nindent 4 }}\n",
    );
    std::fs::remove_file(root.join("helmfile.yaml")).unwrap();
    std::fs::write(root.join("helmfile.yaml.gotmpl"), parent).unwrap();
    dir
}

fn unvendored(matrix: &str) -> String {
    let m = matrix
        .replace("vendored_charts: true", "vendored_charts: false")
        .replace("  vendored_as: unpacked\n", "");
    assert_ne!(m, matrix);
    m
}

/// The bound environment's audit with the registry the render was made with.
fn bound_audit(matrix: &str, env: &str, manifests: &str) -> audit::Audit {
    let plan = deploygen::plan("matrix.yaml", matrix.as_bytes()).expect("matrix plans");
    let registry = REGISTRY.split_once('=').unwrap().1;
    let plan = deploygen::plan::binding::bind(&plan, env, registry).expect("bound");
    let opts = Options {
        env: env.into(),
        releases: Vec::new(),
        operator_manifests: None,
    };
    audit::audit(&plan, &opts, "render.yaml", manifests).expect("readable input")
}

fn platform_audit(matrix: &str, root: &Path, selectors: &[&str]) -> (audit::Audit, String) {
    let mut args = vec![
        "-e",
        "prod",
        "--kube-version",
        "v1.28.6",
        "--state-values-set",
        REGISTRY,
        // The example pins main's Helm 3.14, which ignores the Istio 1.22 gateway chart's
        // schema defect; the emulator runs Helm 4, which honours it.
        "--skip-schema-validation",
    ];
    for s in selectors {
        args.extend(["-l", s]);
    }
    let render = common::real::helmfile_template(root, &args);
    (bound_audit(matrix, "prod", &render), render)
}

#[test]
fn the_astrago_platform_has_no_port_collision_and_its_web_ui_port_is_caught() {
    let matrix = unvendored(ASTRAGO);
    let dir = astrago_platform(&matrix);
    // Every app of the root helmfile renders: Astrago's ten and our eight releases.
    let (a, render) = platform_audit(&matrix, dir.path(), &[]);
    for app in [
        "astrago/",
        "csi-driver-nfs/",
        "custom-gpu-operator/",
        "flux2/",
        "gpu-process-exporter/",
        "harbor/",
        "keycloak/",
        "kube-prometheus-stack/",
        "loki-stack/",
        "mpi-operator/",
        "cert-manager/",
        "istiod/",
        "istio-ingressgateway/",
        "knative-operator/",
        "knative-serving/",
        "kserve/",
        "kserve-crd/",
    ] {
        assert!(
            render.contains(&format!("# Source: {app}")),
            "{app} rendered"
        );
    }
    // Astrago's own nodePorts are in it, and our gateway's.
    for port in ["nodePort: 30080", "nodePort: 30002", "nodePort: 31380"] {
        assert!(render.contains(port), "{port}");
    }
    assert_eq!(ports(&a, Severity::Fail), Vec::<String>::new());
    assert_eq!(ports(&a, Severity::Note), Vec::<String>::new());
    // The rest of the platform is judged for port collisions and duplicates only: the whole
    // render audits clean, and the summary counts both parts, each exactly (the documents
    // whose `# Source:` is one of the stack's charts, and the others).
    let plan = deploygen::plan("matrix.yaml", matrix.as_bytes()).unwrap();
    let (mut stack, mut rest) = (0, 0);
    for doc in common::real::documents(&render) {
        if !doc.lines().any(|l| l.starts_with("kind: ")) {
            continue;
        }
        let chart = doc
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .and_then(|s| s.split('/').next());
        match chart {
            Some(c) if !plan.releases.iter().any(|r| r.name == c) => rest += 1,
            _ => stack += 1,
        }
    }
    assert!(rest > 250 && stack > 150, "{stack} + {rest}");
    assert_eq!((a.objects, a.platform), (stack, rest));
    let fails: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .map(|f| format!("{} {}: {}", f.check, f.object, f.message))
        .collect();
    assert_eq!(fails, Vec::<String>::new());
    assert!(a
        .text()
        .contains("of the rest of the platform, judged for port collisions and duplicates only"));

    // Astrago's web UI port planted as our gateway's: found. Only the two releases involved
    // are rendered again (Astrago's app and our gateway), to keep the test short.
    let planted = matrix.replace("http2: 31380", "http2: 30080");
    assert_ne!(planted, matrix);
    std::fs::write(dir.path().join("applications/kserve/matrix.yaml"), &planted).unwrap();
    let out = common::run(
        dir.path(),
        &["render", "--matrix", "applications/kserve/matrix.yaml"],
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (a, _) = platform_audit(
        &planted,
        dir.path(),
        &["app=astrago", "name=istio-ingressgateway"],
    );
    let found = ports(&a, Severity::Fail);
    assert_eq!(found.len(), 1, "{found:#?}");
    // Both Services named, whichever is reported.
    assert!(
        found[0].contains("Service istio-system/istio-ingressgateway spec.ports[http2].nodePort")
            && found[0].contains("Service astrago/nginx-service spec.ports[")
            && found[0].contains("nodePort 30080 is also claimed by"),
        "{found:#?}"
    );
}
