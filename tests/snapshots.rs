//! Snapshots of the rendered tree: the default matrix and its RawDeployment variant. A
//! snapshot diff is what a reviewer reads on a catalog or template change.

mod common;

use common::{raw_matrix, uber, MATRIX};

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn default_matrix_tree() {
    let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).unwrap();
    snapshot("default_tree", &uber(&tree));
}

#[test]
fn raw_deployment_tree() {
    let tree = deploygen::render("matrix.yaml", raw_matrix().as_bytes()).unwrap();
    // Knative releases are out: condition false, empty values, no Knative images.
    let env = &tree["environments/airgap/environment.yaml"];
    assert!(env.contains("enabled: false"), "{env}");
    assert!(tree["environments/airgap/knative-serving.yaml"].contains("Not installed here"));
    assert!(!tree.contains_key("airgap/kubespray-offline/imagelists/knative-serving.txt"));
    assert!(tree["environments/airgap/kserve.yaml"].contains("deploymentMode: RawDeployment"));
    snapshot("raw_deployment_tree", &uber(&tree));
}

#[test]
fn component_versions_doc() {
    let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).unwrap();
    snapshot("component_versions", &tree["COMPONENT_VERSIONS.md"]);
}

#[test]
fn matrix_schema() {
    snapshot("matrix_schema", &deploygen::model::matrix::json_schema());
}
