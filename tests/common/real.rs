//! Real renders for tests and benches: a tree rendered with the upstream charts by
//! `../shared/tools/helmfile-template` (`helmfile -e ENV template` emulated over the real Helm
//! engine). The charts are CI's test data beside the checkout (`../shared/upstream/charts`),
//! never copied into the repository, so every real render is made when it is needed.

use std::path::{Path, PathBuf};

/// `../shared` beside the checkout.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// `helmfile template ARGS` of the tree in `dir`, with the upstream charts.
pub fn helmfile_template(dir: &Path, args: &[&str]) -> String {
    let shared = shared();
    let out = std::process::Command::new(shared.join("tools/helmfile-template"))
        .args(args)
        .arg("--charts")
        .arg(shared.join("upstream/charts"))
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("../shared/tools/helmfile-template (CI's test data beside the checkout): {e}")
        });
    assert!(
        out.status.success(),
        "helmfile-template {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 render")
}

/// The documents of a render (split on `---` lines), each with its text.
pub fn documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut doc = String::new();
    for line in text.lines().chain(std::iter::once("---")) {
        if line.trim_end() == "---" {
            docs.push(std::mem::take(&mut doc));
            continue;
        }
        doc.push_str(line);
        doc.push('\n');
    }
    docs
}

/// Environment airgap of the repository's own tree, whole: `helmfile -e airgap template
/// --include-crds` at Kubernetes v1.28.6.
pub fn airgap_whole() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    helmfile_template(
        &root,
        &[
            "-e",
            "airgap",
            "--kube-version",
            "v1.28.6",
            "--include-crds",
        ],
    )
}

/// `airgap_whole`, once per run, CRDs and comments (but `# Source:` lines) left out.
pub fn airgap() -> &'static str {
    static RENDER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RENDER.get_or_init(|| {
        documents(&airgap_whole())
            .into_iter()
            .filter(|d| {
                !d.lines()
                    .any(|l| l.trim_end() == "kind: CustomResourceDefinition")
            })
            .map(|d| {
                d.lines()
                    .filter(|l| !l.trim_start().starts_with('#') || l.starts_with("# Source:"))
                    .map(|l| format!("{l}\n"))
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("---\n")
    })
}

/// The objects of Istio the review's real-render tests and bench read.
pub const ISTIO_OBJECTS: &[(&str, &str)] = &[
    ("ClusterRole", "istiod-clusterrole-istio-system"),
    ("ClusterRoleBinding", "istiod-clusterrole-istio-system"),
    ("Deployment", "istiod"),
    ("Deployment", "istio-ingressgateway"),
    ("Service", "istiod"),
    ("Service", "istio-ingressgateway"),
    ("MutatingWebhookConfiguration", "istio-sidecar-injector"),
    (
        "ValidatingWebhookConfiguration",
        "istio-validator-istio-system",
    ),
    (
        "CustomResourceDefinition",
        "peerauthentications.security.istio.io",
    ),
    (
        "CustomResourceDefinition",
        "proxyconfigs.networking.istio.io",
    ),
    ("PeerAuthentication", "default"),
    ("ConfigMap", "istio"),
    ("ConfigMap", "istio-sidecar-injector"),
];

/// Istio's objects (`ISTIO_OBJECTS`, in render order) of environment airgap as `helmfile -e
/// airgap template --include-crds --kube-version v1.30.4` prints them for `matrix` (the
/// repository's matrix with Istio at some version): the tree is rendered into a temp folder,
/// then with the upstream charts.
pub fn istio_objects(matrix: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = deploygen::render("matrix.yaml", matrix.as_bytes()).expect("matrix renders");
    deploygen::disk::write(dir.path(), &tree, Default::default()).expect("tree written");
    let text = helmfile_template(
        dir.path(),
        &[
            "-e",
            "airgap",
            "-l",
            "component=istio",
            "--include-crds",
            "--kube-version",
            "v1.30.4",
        ],
    );
    let mut kept = Vec::new();
    for doc in documents(&text) {
        let v: serde_yaml::Value = serde_yaml::from_str(&doc).unwrap_or(serde_yaml::Value::Null);
        let id = (
            v["kind"].as_str().unwrap_or_default(),
            v["metadata"]["name"].as_str().unwrap_or_default(),
        );
        if ISTIO_OBJECTS.contains(&id) {
            kept.push(format!("---\n{doc}"));
        }
    }
    assert_eq!(
        kept.len(),
        ISTIO_OBJECTS.len(),
        "Istio's objects in the render"
    );
    kept.concat()
}

/// The repository's matrix with Istio at `istio` (every cluster at v1.30.4 unless it is the
/// matrix's own 1.22.8: Istio 1.25 needs it).
pub fn matrix_with_istio(matrix: &str, istio: &str) -> String {
    if istio == "1.22.8" {
        return matrix.to_string();
    }
    matrix
        .replace("istio: 1.22.8", &format!("istio: {istio}"))
        .replace("kubernetes: v1.28.6", "kubernetes: v1.30.4")
}

/// `deploygen audit` of `manifests` as environment airgap of the default matrix, every release
/// rendered, without the Knative Operator's manifests (what the planted-mistake tests read).
pub fn audit_airgap(manifests: &str) -> deploygen::audit::Audit {
    let matrix = include_str!("../../matrix.yaml");
    let plan = deploygen::plan("matrix.yaml", matrix.as_bytes()).expect("default plan");
    let opts = deploygen::audit::Options {
        env: "airgap".into(),
        releases: Vec::new(),
        operator_manifests: None,
    };
    deploygen::audit::audit(&plan, &opts, "render.yaml", manifests).expect("readable input")
}
