//! Compatibility rules: each kind, acceptance with a reason, and the `bump` command that
//! refuses what the rules refuse without touching a byte.

mod common;

use common::{files, run, stderr, stdout, workdir, MATRIX};
use deploygen::plan::Level;

fn plan(text: &str) -> deploygen::Result<deploygen::plan::Plan> {
    deploygen::plan("matrix.yaml", text.as_bytes())
}

fn err(text: &str) -> String {
    plan(text).unwrap_err().to_string()
}

fn verdict<'a>(
    p: &'a deploygen::plan::Plan,
    env: &str,
    rule: &str,
) -> &'a deploygen::plan::Verdict {
    let e = p.environments.iter().find(|e| e.name == env).unwrap();
    e.verdicts
        .iter()
        .find(|v| v.rule == rule)
        .unwrap_or_else(|| panic!("no verdict {rule}"))
}

#[test]
fn the_default_matrix_passes_every_rule() {
    let p = plan(MATRIX).unwrap();
    for e in &p.environments {
        for v in &e.verdicts {
            assert_eq!(v.level, Level::Pass, "{}: {}", v.rule, v.message);
        }
    }
}

#[test]
fn kubernetes_minimum_is_an_error_naming_rule_versions_environment_and_source() {
    let m = MATRIX.replace("kserve: v0.14.1", "kserve: v0.15.2");
    let e = err(&m);
    assert!(e.contains("[kserve-kubernetes] kserve v0.15.2 needs Kubernetes >= 1.30; environment airgap runs v1.28.6 (source: https://kserve.github.io/website/v0.15/"), "{e}");
}

#[test]
fn kubernetes_maximum_is_an_error() {
    let m = MATRIX.replace("kubernetes: v1.28.6", "kubernetes: v1.31.2");
    let e = err(&m);
    assert!(e.contains("[istio-kubernetes] istio 1.22.8 supports only Kubernetes 1.27 to 1.30; environment online runs v1.31.2"), "{e}");
}

#[test]
fn a_required_minimum_version_is_an_error() {
    let e = err(&MATRIX.replace("cert-manager: v1.15.5", "cert-manager: v1.14.7"));
    assert!(e.contains("[kserve-min-cert-manager] kserve v0.14.1 needs cert-manager >= 1.15.0; environment airgap pins cert-manager v1.14.7"), "{e}");
}

#[test]
fn a_recommendation_not_followed_is_a_warning() {
    let p = plan(&MATRIX.replace("istio: 1.22.8", "istio: 1.21.6")).unwrap();
    let v = verdict(&p, "online", "kserve-recommended-istio");
    assert_eq!(v.level, Level::Warn);
    assert!(
        v.message
            .contains("recommends istio 1.22 on Kubernetes 1.28; environment online pins 1.21.6"),
        "{}",
        v.message
    );
    assert_eq!(
        verdict(&p, "online", "knative-tested-istio").level,
        Level::Warn
    );
    assert!(deploygen::plan::explain::warnings(&p)
        .iter()
        .any(|w| w.contains("kserve-recommended-istio")));
}

#[test]
fn a_known_bad_version_is_an_error_with_its_reason() {
    let e = err(&MATRIX.replace("cert-manager: v1.15.5", "cert-manager: v1.14.0"));
    assert!(e.contains("cert-manager v1.14.0 is known bad: the v1.14.0 chart deploys the controller image as cainjector"), "{e}");
}

#[test]
fn the_operator_must_bundle_the_serving_version() {
    let m = MATRIX.replace("knative-operator: v1.15.10", "knative-operator: v1.14.9");
    let e = err(&m);
    assert!(e.contains("[knative-operator-installs] knative-operator v1.14.9 installs Knative Serving 1.11.0 to 1.14.1, not 1.15.3"), "{e}");
}

#[test]
fn an_accepted_rule_renders_with_its_reason_in_the_doc() {
    let m = MATRIX.replace(
        "    mirror: 10.61.3.31:35000\n",
        "    mirror: 10.61.3.31:35000\n    accept:\n      - rule: kserve-min-cert-manager\n        reason: site runs cert-manager v1.14.7 managed by the customer until Q3\n",
    );
    let m = m.replace("cert-manager: v1.15.5", "cert-manager: v1.14.7");
    // online still breaks the rule: only airgap accepted it.
    let e = err(&m);
    assert!(
        e.contains("environment online") && !e.contains("environment airgap"),
        "{e}"
    );
    let m = m.replace(
        "    profile: recommended\n    deployment_mode: Serverless\n    serving_runtimes: [sklearnserver, xgbserver",
        "    profile: recommended\n    deployment_mode: Serverless\n    accept:\n      - {rule: kserve-min-cert-manager, reason: lab cluster}\n    serving_runtimes: [sklearnserver, xgbserver",
    );
    let p = plan(&m).unwrap();
    let v = verdict(&p, "airgap", "kserve-min-cert-manager");
    assert_eq!(v.level, Level::Accepted);
    let tree = deploygen::render("matrix.yaml", m.as_bytes()).unwrap();
    let doc = &tree["COMPONENT_VERSIONS.md"];
    assert!(
        doc.contains("| accepted | `kserve-min-cert-manager` |"),
        "{doc}"
    );
    assert!(
        doc.contains("site runs cert-manager v1.14.7 managed by the customer until Q3"),
        "{doc}"
    );
}

#[test]
fn needs_cycles_and_unknown_needs_are_errors() {
    let p = plan(MATRIX).unwrap();
    let mut releases = p.releases.clone();
    let order = deploygen::plan::resolve::install_order(&releases).unwrap();
    assert_eq!(
        order,
        (0..releases.len()).collect::<Vec<_>>(),
        "releases are already in install order"
    );
    // istio-base needs istio-ingressgateway: base -> gateway -> istiod -> base.
    let base = releases
        .iter()
        .position(|r| r.name == "istio-base")
        .unwrap();
    releases[base]
        .needs
        .push("istio-system/istio-ingressgateway".into());
    let e = deploygen::plan::resolve::install_order(&releases).unwrap_err();
    assert!(e[0].contains("needs form a cycle among istio-system/istio-base, istio-system/istiod, istio-system/istio-ingressgateway"), "{e:?}");
    let mut releases = p.releases.clone();
    releases[base].needs = vec!["istio-system/istio-cni".into()];
    let e = deploygen::plan::resolve::install_order(&releases).unwrap_err();
    assert!(e[0].contains("release istio-system/istio-base needs istio-system/istio-cni, which no pinned component defines"), "{e:?}");
}

#[test]
fn kserve_does_not_need_knative_so_raw_environments_load() {
    // A need on a condition-excluded release fails helmfile (validate's unit tests prove it is
    // refused); the catalog's graph keeps every need on a release installed in both modes.
    let p = plan(MATRIX).unwrap();
    let kserve = p.releases.iter().find(|r| r.name == "kserve").unwrap();
    assert!(!kserve.needs.iter().any(|n| n.starts_with("knative")));
    let raw = common::raw_matrix();
    assert!(plan(&raw).is_ok());
}

#[test]
fn bump_refuses_kserve_v0_15_2_on_kubernetes_1_28_and_changes_nothing() {
    let dir = workdir(MATRIX);
    run(dir.path(), &["render"]);
    let before = files(dir.path());
    let o = run(dir.path(), &["bump", "kserve", "v0.15.2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("kserve v0.15.2 needs Kubernetes >= 1.30"),
        "{}",
        stderr(&o)
    );
    assert_eq!(before, files(dir.path()));
}

#[test]
fn bump_refuses_cert_manager_1_14_and_changes_nothing() {
    let dir = workdir(MATRIX);
    run(dir.path(), &["render"]);
    let before = files(dir.path());
    let o = run(dir.path(), &["bump", "cert-manager", "v1.14.7"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("needs cert-manager >= 1.15.0"),
        "{}",
        stderr(&o)
    );
    assert_eq!(before, files(dir.path()));
    let o = run(dir.path(), &["bump", "cert-manager", "v1.15.9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "cert-manager v1.15.9 is not in the catalog; known versions: v1.14.7, v1.15.5"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(before, files(dir.path()));
}

#[test]
fn bump_to_a_fitting_version_edits_one_line_rerenders_and_check_is_green() {
    let dir = workdir(MATRIX);
    run(dir.path(), &["render"]);
    let o = run(dir.path(), &["bump", "istio", "1.21.6"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("changed applications/istiod/Chart.yaml"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("warning: environment airgap: [kserve-recommended-istio]"));
    let after = std::fs::read_to_string(dir.path().join("matrix.yaml")).unwrap();
    assert_eq!(
        after,
        MATRIX.replace("  istio: 1.22.8\n", "  istio: 1.21.6\n"),
        "only that line changed"
    );
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(0));
    let chart = std::fs::read_to_string(dir.path().join("applications/istiod/Chart.yaml")).unwrap();
    assert!(
        chart.contains("kubeVersion: \">= 1.26.0-0, < 1.30.0-0\""),
        "{chart}"
    );
}
