//! Chart defects are catalog facts: the Istio gateway chart before 1.25 carries a
//! values.schema.json that Helm >= 3.18.5 refuses (defect 1 of the rendered-proof issue).
//! The workaround follows from the site's tools in the matrix, never from a special case.

mod common;

fn helmfile_for(matrix: &str) -> String {
    let tree = deploygen::render("matrix.yaml", matrix.as_bytes()).expect("renders");
    tree["helmfile.yaml"].clone()
}

/// The lines of one release's entry in the root helmfile.
fn release_block(helmfile: &str, name: &str) -> String {
    let start = helmfile
        .find(&format!("  - name: \"{name}\""))
        .expect("release listed");
    let rest = &helmfile[start + 4..];
    let end = rest.find("\n  - name: ").unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn the_gateway_release_skips_schema_validation_where_the_sites_helm_refuses_its_schema() {
    let hf = helmfile_for(common::MATRIX);
    let gw = release_block(&hf, "istio-ingressgateway");
    assert!(gw.contains("skipSchemaValidation: true"), "{gw}");
    assert!(
        gw.contains("istio-gateway-values-schema") && gw.contains("istio/istio#57354"),
        "{gw}"
    );
    // Only that release: every other chart's schema still checks its values.
    assert_eq!(hf.matches("skipSchemaValidation").count(), 1);
}

#[test]
fn an_older_helm_that_ignores_the_defect_keeps_schema_validation() {
    let m = common::MATRIX.replace("  helm: 3.18.5\n", "  helm: 3.18.4\n");
    assert_ne!(m, common::MATRIX);
    assert!(!helmfile_for(&m).contains("skipSchemaValidation"));
}

#[test]
fn a_helmfile_without_per_release_skip_schema_validation_is_refused_at_tools() {
    let m = common::MATRIX.replace("  helmfile: 1.1.6\n", "  helmfile: 0.169.2\n");
    assert_ne!(m, common::MATRIX);
    let err = deploygen::plan("matrix.yaml", m.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tools.helmfile")
            && err.contains("istio-gateway-values-schema")
            && err.contains("helmfile >= 1.0.0"),
        "{err}"
    );
}

#[test]
fn tool_versions_must_be_versions() {
    let m = common::MATRIX.replace("  helm: 3.18.5\n", "  helm: latest\n");
    let err = deploygen::plan("matrix.yaml", m.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tools.helm") && err.contains("`latest` is not a version"),
        "{err}"
    );
}

/// Defect 4: glue values nothing reads. knative-serving's template reads only the listener
/// part of `tls` (the dead-value probe in CI, .ci/dead-values.py, proves it on the render).
#[test]
fn knative_serving_gets_only_the_tls_values_its_template_reads() {
    let tree = deploygen::render("matrix.yaml", common::MATRIX.as_bytes()).unwrap();
    let v: serde_yaml::Value =
        serde_yaml::from_str(&tree["environments/airgap/knative-serving.yaml"]).unwrap();
    let keys: Vec<&str> = v["tls"]
        .as_mapping()
        .unwrap()
        .keys()
        .filter_map(|k| k.as_str())
        .collect();
    assert_eq!(keys, ["https", "secretName"]);
    let template = &tree["applications/knative-serving/templates/knative-serving.yaml"];
    for k in keys {
        assert!(
            template.contains(&format!(".Values.tls.{k}")),
            "{k} is read"
        );
    }
}
