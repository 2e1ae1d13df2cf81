//! Issue 21: `helmfile template` without a cluster. Every release carries the environments'
//! Kubernetes version as `kubeVersion` when they all run one version and the site's helmfile
//! knows the key (v0.144.0); otherwise none, and the helmfile says why.

mod common;

use common::MATRIX;

fn helmfile(matrix: &str) -> String {
    let tree = deploygen::render("matrix.yaml", matrix.as_bytes()).expect("renders");
    tree["helmfile.yaml"].clone()
}

fn releases(hf: &str) -> usize {
    hf.matches("\n    chart: ").count()
}

#[test]
fn every_release_carries_the_one_kubernetes_version_the_environments_run() {
    let hf = helmfile(MATRIX);
    assert!(releases(&hf) >= 8, "{hf}");
    assert_eq!(
        hf.matches("    kubeVersion: \"v1.28.6\"\n").count(),
        releases(&hf)
    );
    assert!(hf.contains("renders without a cluster"));
}

#[test]
fn environments_on_different_versions_or_an_old_helmfile_get_no_release_kube_version() {
    let mixed = MATRIX.replacen("kubernetes: v1.28.6", "kubernetes: v1.29.4", 1);
    assert_ne!(mixed, MATRIX);
    // (Helm 3.18.4: the gateway chart's schema defect, whose workaround needs helmfile 1.0,
    // does not arise.)
    let old_tools = MATRIX.replacen("  helm: 3.18.5\n", "  helm: 3.18.4\n", 1);
    let old = old_tools.replacen("helmfile: 1.1.6", "helmfile: 0.143.5", 1);
    assert_ne!(old, MATRIX);
    for m in [mixed, old] {
        let hf = helmfile(&m);
        assert!(!hf.contains("    kubeVersion:"), "{hf}");
        assert!(hf.contains("needs `--kube-version` or a cluster"), "{hf}");
    }
    // The first helmfile that knows the key.
    let first = old_tools.replacen("helmfile: 1.1.6", "helmfile: 0.144.0", 1);
    assert!(helmfile(&first).contains("    kubeVersion: \"v1.28.6\"\n"));
}
