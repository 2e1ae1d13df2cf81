//! The binary end to end: exit codes, summaries, check/diff, images, explain, schema, bump.

mod common;

use common::{files, run, stderr, stdout, workdir, MATRIX};

#[test]
fn render_then_check_then_noop() {
    let dir = workdir(MATRIX);
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("created helmfile.yaml"));
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(dir.path(), &["render"]);
    assert!(
        stdout(&o).contains(" 0 created, 0 changed,")
            || stdout(&o).starts_with("0 created, 0 changed,"),
        "{}",
        stdout(&o)
    );
    let o = run(dir.path(), &["diff"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).is_empty());
}

#[test]
fn check_exits_1_with_a_diff_on_a_hand_edit() {
    let dir = workdir(MATRIX);
    run(dir.path(), &["render"]);
    let f = dir.path().join("helmfile.yaml");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("timeout: 600", "timeout: 60");
    std::fs::write(&f, text).unwrap();
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("--- a/helmfile.yaml") && stdout(&o).contains("+  timeout: 600"),
        "{}",
        stdout(&o)
    );
    // diff shows the same without failing; render repairs it.
    assert_eq!(run(dir.path(), &["diff"]).status.code(), Some(0));
    assert!(stdout(&run(dir.path(), &["render"])).contains("changed helmfile.yaml"));
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn check_on_an_empty_folder_fails() {
    let dir = workdir(MATRIX);
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("+++ b/helmfile.yaml"));
}

#[test]
fn matrix_and_out_flags_work_from_any_directory() {
    let src = workdir(MATRIX);
    let out = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let m = src.path().join("matrix.yaml");
    let o = run(
        elsewhere.path(),
        &[
            "render",
            "--matrix",
            m.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.path().join("helmfile.yaml").is_file());
    assert!(files(elsewhere.path()).is_empty());
}

#[test]
fn usage_errors_exit_2_and_help_exists_for_every_subcommand() {
    let dir = workdir(MATRIX);
    assert_eq!(run(dir.path(), &["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        run(dir.path(), &["render", "--nope"]).status.code(),
        Some(2)
    );
    for sub in [
        "render", "check", "diff", "schema", "images", "explain", "bump", "review",
    ] {
        let o = run(dir.path(), &[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{sub} --help");
        assert!(stdout(&o).contains("Usage"), "{sub}");
    }
}

#[test]
fn a_missing_matrix_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("matrix.yaml"), "{}", stderr(&o));
}

#[test]
fn schema_prints_the_committed_schema() {
    let dir = workdir(MATRIX);
    let o = run(dir.path(), &["schema"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), deploygen::model::matrix::json_schema());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["additionalProperties"], serde_json::json!(false));
}

#[test]
fn explain_lists_install_order_and_verdicts() {
    let dir = workdir(MATRIX);
    let o = run(dir.path(), &["explain", "--env", "airgap"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let order = [
        "cert-manager/cert-manager",
        "istio-system/istio-base",
        "istio-system/istiod",
        "istio-system/istio-ingressgateway",
        "knative-operator/knative-operator",
        "knative-serving/knative-serving",
        "kserve/kserve-crd",
        "kserve/kserve ",
    ];
    let mut last = 0;
    for r in order {
        let at = text[last..]
            .find(r)
            .unwrap_or_else(|| panic!("{r} missing or out of order:\n{text}"))
            + last;
        last = at;
    }
    assert!(text.contains("pass     kserve-min-cert-manager"), "{text}");
    assert!(!text.contains("environment online"));
    assert_eq!(
        run(dir.path(), &["explain", "--env", "nope"]).status.code(),
        Some(2)
    );
}
