//! The 2026 stack (stacks/2026/matrix.yaml): its committed tree is current, and on KServe v0.20
//! the runtimes are a release of their own with every runtime the environment does not name
//! switched off, so the same `serving_runtimes` means the same thing as on the default stack.

mod common;

use common::repo_root;

const STACK: &str = include_str!("../stacks/2026/matrix.yaml");

#[test]
fn the_committed_2026_tree_is_current() {
    let tree = deploygen::render("matrix.yaml", STACK.as_bytes()).unwrap();
    let diff = deploygen::disk::diff(&repo_root().join("stacks/2026"), &tree).unwrap();
    assert!(
        diff.is_empty(),
        "stacks/2026 is stale; run `cargo run -- render --matrix stacks/2026/matrix.yaml --out stacks/2026`:\n{diff}"
    );
}

#[test]
fn runtimes_are_their_own_release_and_only_the_named_ones_are_on() {
    let plan = deploygen::plan("matrix.yaml", STACK.as_bytes()).unwrap();
    let names: Vec<&str> = plan.releases.iter().map(|r| r.name.as_str()).collect();
    let pos = |n: &str| names.iter().position(|r| *r == n).unwrap();
    assert!(pos("kserve") < pos("kserve-runtime-configs"), "{names:?}");
    let rt = &plan.releases[pos("kserve-runtime-configs")];
    let kserve = &plan.releases[pos("kserve")];
    assert_eq!(kserve.chart.as_ref().unwrap().name, "kserve-resources");
    let env = plan
        .environments
        .iter()
        .find(|e| e.name == "airgap")
        .unwrap();
    let values = deploygen::render::values::environment_values(&plan, env, rt);
    let runtimes = &values["kserve-runtime-configs"]["kserve"]["servingruntime"];
    for named in &env.env.serving_runtimes {
        assert!(
            runtimes[named].get("disabled").is_none(),
            "{named}: {runtimes}"
        );
    }
    for off in [
        "tritonserver",
        "xgbserver",
        "vllmserver",
        "huggingfaceserver_multinode",
    ] {
        assert_eq!(
            runtimes[off]["disabled"],
            serde_json::json!(true),
            "{off}: {runtimes}"
        );
    }
    // KServe v0.20 takes the new word for the matrix's Serverless.
    let kv = deploygen::render::values::environment_values(&plan, env, kserve);
    assert_eq!(
        kv["kserve-resources"]["kserve"]["controller"]["deploymentMode"],
        serde_json::json!("Knative")
    );
}
