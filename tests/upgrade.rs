//! `deploygen plan-upgrade`: the way from the default matrix to the newest catalog versions
//! that fit Kubernetes 1.31, in an order `bump` accepts at every step.

use deploygen::catalog::Catalog;
use deploygen::plan::upgrade::plan_upgrade;

const MATRIX: &str = include_str!("../matrix.yaml");

#[test]
fn the_path_to_kubernetes_1_31_bumps_one_component_at_a_time_in_an_order_bump_accepts() {
    let catalog = Catalog::load().unwrap();
    let path = plan_upgrade("matrix.yaml", MATRIX.as_bytes(), &catalog, "1.31").unwrap();
    assert!(!path.failed(), "{}", path.text());
    let steps: Vec<(String, String)> = path
        .steps
        .iter()
        .map(|s| (s.component.clone(), s.to.clone()))
        .collect();
    let pos = |c: &str, v: &str| {
        steps
            .iter()
            .position(|s| s.0 == c && s.1 == v)
            .unwrap_or_else(|| panic!("{c} {v} not in {steps:?}"))
    };
    // Istio 1.22 does not run on 1.31: it goes first; then install order (needs).
    assert_eq!(steps[0], ("istio".into(), "1.24.6".into()));
    assert!(pos("cert-manager", "v1.17.4") < pos("kserve", "v0.15.2"));
    assert!(pos("istio", "1.25.5") < pos("knative-operator", "v1.16.6"));
    // The operator first, then Serving one minor at a time.
    assert!(pos("knative-operator", "v1.17.8") < pos("knative-serving", "1.16.3"));
    assert!(pos("knative-serving", "1.16.3") < pos("knative-serving", "1.17.1"));
    // KServe v0.16 needs Kubernetes 1.32: on 1.31 the path ends at v0.15.2.
    assert_eq!(
        steps.last().unwrap(),
        &("kserve".to_string(), "v0.15.2".to_string())
    );
    assert_eq!(steps.len(), 18);
    // Every step is a matrix `bump` validates; the end state is the targets.
    let text = path.text();
    assert!(
        text.contains("istio 1.22.8 supports only Kubernetes 1.27 to 1.30"),
        "{text}"
    );
    assert!(text.contains("[kserve-min-cert-manager]"), "{text}");
    assert!(
        text.contains("not kserve v0.16.0: supports Kubernetes 1.32 and newer"),
        "{text}"
    );
    assert_eq!(path.steps_text().lines().count(), 18);
}

#[test]
fn a_cluster_no_istio_version_supports_is_blocked_not_a_panic() {
    let catalog = Catalog::load().unwrap();
    let path = plan_upgrade("matrix.yaml", MATRIX.as_bytes(), &catalog, "1.40").unwrap();
    assert!(path.failed(), "{}", path.text());
    assert!(plan_upgrade("matrix.yaml", MATRIX.as_bytes(), &catalog, "one-thirty").is_err());
}

/// A version between pinned and target that the new cluster does not support is skipped, not
/// a block: on Kubernetes 1.32 Istio goes 1.22.8 -> 1.25.5 (1.24.6 supports up to 1.31).
#[test]
fn versions_the_new_cluster_does_not_support_are_skipped_on_the_way() {
    let catalog = deploygen::catalog::Catalog::load().unwrap();
    let path = plan_upgrade("matrix.yaml", MATRIX.as_bytes(), &catalog, "v1.32.4").expect("a path");
    assert!(!path.failed(), "{}", path.text());
    let steps = path.steps_text();
    assert!(steps.starts_with("istio 1.25.5\n"), "{steps}");
    assert!(!steps.contains("istio 1.24.6"), "{steps}");
    assert!(
        steps.ends_with("kserve v0.16.0\nkserve v0.17.1\nkserve v0.20.0\n"),
        "{steps}"
    );
}

/// The path to Kubernetes 1.32 reaches the 2026 stack (stacks/2026/matrix.yaml) exactly, and the
/// KServe steps that cross a migration print it, in order, with its source.
#[test]
fn the_path_to_kubernetes_1_32_reaches_the_2026_stack_with_its_migrations() {
    let catalog = Catalog::load().unwrap();
    let path = plan_upgrade("matrix.yaml", MATRIX.as_bytes(), &catalog, "v1.32.4").unwrap();
    let stack = deploygen::model::matrix::parse(
        "stacks/2026/matrix.yaml",
        include_bytes!("../stacks/2026/matrix.yaml"),
    )
    .unwrap();
    for c in deploygen::model::matrix::COMPONENTS {
        assert_eq!(
            path.targets[c].1,
            stack.versions.get(c).unwrap(),
            "{c}: {}",
            path.text()
        );
    }
    let step = |c: &str, v: &str| {
        path.steps
            .iter()
            .find(|s| s.component == c && s.to == v)
            .unwrap_or_else(|| panic!("no step {c} {v}"))
    };
    let split = &step("kserve", "v0.17.1").migrations;
    assert_eq!(split.len(), 1, "{split:?}");
    assert!(
        split[0].starts_with("migration kserve/kserve-0.17-chart-split:"),
        "{}",
        split[0]
    );
    assert!(
        split[0].contains("helm.sh/resource-policy=keep"),
        "{}",
        split[0]
    );
    assert!(
        split[0].contains(
            "source: kserve/website@main:versioned_docs/version-0.20/install/upgrade-guide.md"
        ),
        "{}",
        split[0]
    );
    // The runtimes release takes the runtimes over before kserve's chart changes.
    let runtimes = split[0]
        .find("sync -l name=kserve-runtime-configs")
        .unwrap();
    let kserve = split[0].find("sync -l name=kserve  #").unwrap();
    assert!(runtimes < kserve, "{}", split[0]);
    assert!(step("kserve", "v0.16.0").migrations[0].contains("kserve-mode-words"));
    assert!(step("kserve", "v0.20.0").migrations.is_empty());
    assert!(step("istio", "1.28.10").migrations.is_empty());
    assert!(path.text().contains("instead of a plain `helmfile sync`"));
}
