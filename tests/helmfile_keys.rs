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

// ---- issue 21: the writer emits only keys the matrix's helmfile knows, from one table ----

use deploygen::catalog::helmfile_keys::{self as table, KeyRow};

/// Every matrix deploygen ships: the default, each example's, each stack's.
fn shipped_matrices() -> Vec<(String, String)> {
    let root = common::repo_root();
    let mut out = vec![("matrix.yaml".to_string(), MATRIX.to_string())];
    for dir in ["examples", "stacks"] {
        let mut found: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("read dir")
            .filter_map(Result::ok)
            .map(|e| e.path().join("matrix.yaml"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        for p in found {
            let text = std::fs::read_to_string(&p).expect("read matrix");
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            out.push((name, text));
        }
    }
    out
}

/// The root helmfile deploygen renders for a matrix, and the site's helmfile version.
fn rendered_root(text: &str) -> (String, semver::Version) {
    let plan = deploygen::plan("matrix.yaml", text.as_bytes()).expect("plans");
    let tree = deploygen::render("matrix.yaml", text.as_bytes()).expect("renders");
    let site = semver::Version::parse(plan.matrix.tools.helmfile.trim_start_matches('v'))
        .expect("tools.helmfile is a version");
    (tree[&plan.matrix.layout.helmfile].clone(), site)
}

/// Every key path in one YAML value, in the table's notation, each with the row that holds it
/// (None: a key no row holds).
fn key_paths(at: &str, v: &serde_yaml::Value, out: &mut Vec<(String, Option<&'static KeyRow>)>) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            for (k, child) in m {
                let k = k.as_str().expect("helmfile keys are strings");
                let path = match at {
                    "" => k.to_string(),
                    "environments" => "environments.<name>".to_string(),
                    _ => format!("{at}.{k}"),
                };
                let row = table::row_of(&path);
                out.push((path.clone(), row));
                if !row.is_some_and(|r| r.free) {
                    key_paths(&path, child, out);
                }
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for item in items {
                key_paths(&format!("{at}[]"), item, out);
            }
        }
        _ => {}
    }
}

fn paths_of(helmfile: &str) -> Vec<(String, Option<&'static KeyRow>)> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(helmfile) {
        let v = serde_yaml::Value::deserialize(doc).expect("the helmfile parses");
        key_paths("", &v, &mut out);
    }
    out
}

use serde::Deserialize;

#[test]
fn every_key_of_every_shipped_root_helmfile_is_in_the_table_and_known_to_its_helmfile() {
    let matrices = shipped_matrices();
    assert!(matrices.len() >= 4, "{matrices:?}");
    for (name, text) in &matrices {
        let (hf, site) = rendered_root(text);
        let paths = paths_of(&hf);
        assert!(paths.iter().any(|(p, _)| p == "releases[].needs"), "{name}");
        for (path, row) in paths {
            let row = row.unwrap_or_else(|| {
                panic!("{name}: the helmfile has `{path}`, which no row of catalog::helmfile_keys holds: add it with its version and source")
            });
            assert!(
                row.known_by(&site),
                "{name}: `{path}` needs helmfile >= {} but the matrix pins {site}",
                row.since
            );
        }
    }
}

#[test]
fn a_key_no_row_holds_is_caught() {
    let hf = "releases:\n  - name: a\n    dependsOn: [b]\n    labels: {anything: goes}\n";
    let paths = paths_of(hf);
    assert!(paths
        .iter()
        .any(|(p, row)| p == "releases[].dependsOn" && row.is_none()));
    // Labels are data: their keys are not looked up.
    assert!(!paths
        .iter()
        .any(|(p, _)| p.starts_with("releases[].labels.")));
}

/// Helm 3.18.4: no chart defect, so no skipSchemaValidation whatever the helmfile.
fn with_helmfile(version: &str) -> String {
    let m = MATRIX
        .replacen("  helm: 3.18.5\n", "  helm: 3.18.4\n", 1)
        .replacen("helmfile: 1.1.6", &format!("helmfile: {version}"), 1);
    assert!(m.contains(&format!("helmfile: {version}")));
    m
}

#[test]
fn an_old_helmfile_gets_the_optional_keys_it_lacks_left_out_and_said_so() {
    // 0.138.0 knows oci repositories but not helmDefaults.waitForJobs (0.139.9) nor release
    // kubeVersion (0.144.0).
    let hf = helmfile(&with_helmfile("0.138.0"));
    assert!(
        !hf.contains("waitForJobs:") && !hf.contains("    kubeVersion:"),
        "{hf}"
    );
    assert!(
        hf.contains("  historyMax: 10\n") && hf.contains("    oci: true\n"),
        "{hf}"
    );
    assert!(
        hf.contains("#   helmDefaults.waitForJobs (helmfile >= 0.139.9)\n"),
        "{hf}"
    );
    assert!(
        hf.contains("#   releases[].kubeVersion (helmfile >= 0.144.0)\n"),
        "{hf}"
    );
    // Vendored charts (the Astrago example): skipDeps is optional too (`--skip-deps` on the
    // command line does the work), and no repository, so no `oci`, is written.
    let astrago = std::fs::read_to_string(common::repo_root().join("examples/astrago/matrix.yaml"))
        .expect("read the example");
    let old = astrago.replacen("helmfile: 0.159.0", "helmfile: 0.137.0", 1);
    assert_ne!(old, astrago);
    let (hf, _) = rendered_root(&old);
    assert!(
        !hf.contains("skipDeps:") && !hf.contains("repositories:"),
        "{hf}"
    );
    assert!(
        hf.contains("#   helmDefaults.skipDeps (helmfile >= 0.138.0)\n"),
        "{hf}"
    );
    let (hf, _) = rendered_root(&astrago);
    assert!(
        hf.contains("  skipDeps: true\n") && !hf.contains("# Left out:"),
        "{hf}"
    );
    // The site's own helmfile knows them all: nothing is left out.
    let hf = helmfile(MATRIX);
    assert!(
        hf.contains("  waitForJobs: true\n") && !hf.contains("# Left out:"),
        "{hf}"
    );
}

#[test]
fn a_helmfile_that_lacks_a_required_key_is_refused_naming_key_version_and_source() {
    // 0.110.0 predates release `condition` and helmDefaults.createNamespace (0.114.0) and oci
    // repositories (0.138.0); KServe's chart is OCI only and Knative's releases carry
    // `condition`.
    let err = deploygen::plan("matrix.yaml", with_helmfile("0.110.0").as_bytes())
        .unwrap_err()
        .to_string();
    for (key, since, source) in [
        ("`releases[].condition`", "0.114.0", "roboll/helmfile#1190"),
        (
            "`helmDefaults.createNamespace`",
            "0.114.0",
            "roboll/helmfile#1226",
        ),
        ("`repositories[].oci`", "0.138.0", "roboll/helmfile#1629"),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(key))
            .unwrap_or_else(|| panic!("no line names {key}:\n{err}"));
        assert!(
            line.contains("tools.helmfile")
                && line.contains(&format!("helmfile knows since {since}"))
                && line.contains(source)
                && line.contains("the site runs 0.110.0"),
            "{line}"
        );
    }
    // 0.137.0: only the OCI repositories are missing.
    let err = deploygen::plan("matrix.yaml", with_helmfile("0.137.0").as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`repositories[].oci`") && !err.contains("condition"),
        "{err}"
    );
}

#[test]
fn the_chart_defect_workaround_reads_its_helmfile_minimum_from_the_table() {
    let needs = deploygen::catalog::DefectFix::SkipSchemaValidation.needs();
    let (tool, min, source) = &needs[1];
    assert_eq!(*tool, "helmfile");
    assert_eq!(*min, table::RELEASE_SKIP_SCHEMA_VALIDATION.since);
    assert_eq!(*source, table::RELEASE_SKIP_SCHEMA_VALIDATION.source);
}
