//! `deploygen catalog import` on a fixture chart (tests/fixtures/import-chart) with a renderer
//! that stands in for `helm template` (tests/fake_helm), so the discovery logic is tested
//! without Helm: a split
//! repository/tag pair, a `repo:tag` string, a repository + digest, an image derived from
//! another's keys, and an image no key sets.

use std::path::{Path, PathBuf};

use deploygen::catalog::{Catalog, SetAt, ValuesKeys};
use deploygen::import::{import, Options};

mod fake_helm;
use fake_helm::FakeHelm;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import-chart")
}

const NEAREST: &str = r#"
component: fixture
version: 0.1.0
label: fixture
kubernetes: {min: "1.28", source: "the fixture's docs"}
rules:
  - {id: fixture-min-cert-manager, kind: requires, component: cert-manager, min: 1.15.0, why: fixture 0.1.0 needs cert-manager, source: "the fixture's docs"}
releases:
  - name: fixture
    namespace: fixture
    chart: {repository: oci://registry.example/charts, name: fixture, version: 0.1.0, source: example/fixture@0.1.0:chart}
    needs: []
    workloads:
      - {id: fixture-app, path: app.resources}
    images:
      - id: fixture-app
        ref: registry.example/team/app:0.1.0
        set: [{values: {repository: app.image.repository, tag: app.image.tag}}]
    images_source: example/fixture@0.1.0:chart/values.yaml
"#;

fn catalog() -> Catalog {
    let mut c = Catalog::load().unwrap();
    let entry = deploygen::catalog::parse_entry(NEAREST).unwrap();
    c.insert(entry, deploygen::catalog::overlay::Origin::CompiledIn);
    c
}

fn run() -> deploygen::import::Outcome {
    let opts = Options {
        component: "fixture".into(),
        version: "0.2.0".into(),
        charts: vec![fixture()],
        kodata: None,
    };
    import(&opts, &catalog(), &FakeHelm).unwrap()
}

fn set_of<'a>(o: &'a deploygen::import::Outcome, reference: &str) -> &'a [SetAt] {
    let img = o.entry.releases[0]
        .images
        .iter()
        .find(|i| i.reference == reference)
        .unwrap_or_else(|| panic!("{reference} not imported:\n{}", o.yaml));
    &img.set
}

#[test]
fn a_split_repository_tag_pair_keeps_its_id_and_keys() {
    let o = run();
    let img = &o.entry.releases[0].images[0];
    assert_eq!(img.id, "fixture-app");
    assert_eq!(img.reference, "registry.example/team/app:0.2.0");
    assert_eq!(
        img.set,
        vec![SetAt::Values(ValuesKeys::RepositoryTag {
            repository: "app.image.repository".into(),
            tag: "app.image.tag".into()
        })]
    );
}

#[test]
fn a_single_repo_tag_string_is_a_ref_key() {
    let o = run();
    assert_eq!(
        set_of(&o, "registry.example/team/sidecar:2.0.0"),
        [SetAt::Values(ValuesKeys::Reference {
            reference: "sidecarImage".into()
        })]
    );
}

#[test]
fn a_digest_is_a_repository_digest_pair() {
    let o = run();
    assert_eq!(
        set_of(
            &o,
            "registry.example/team/pinned@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ),
        [SetAt::Values(ValuesKeys::RepositoryDigest {
            repository: "pinned.repository".into(),
            digest: "pinned.digest".into()
        })]
    );
}

#[test]
fn an_image_derived_from_another_s_keys_follows_it() {
    let o = run();
    assert_eq!(
        set_of(&o, "registry.example/team/app:0.2.0-debug"),
        [SetAt::Follows("fixture-app".into())]
    );
}

#[test]
fn an_image_no_key_sets_is_flagged_and_left_as_a_todo() {
    let o = run();
    let set = set_of(&o, "registry.example/team/fixed:3.0.0");
    match set {
        [SetAt::Values(ValuesKeys::Reference { reference })] => {
            assert!(reference.starts_with("TODO: "), "{reference}");
            assert!(reference.contains("cannot be mirrored by values"));
        }
        other => panic!("{other:?}"),
    }
    assert!(o.report.contains("FLAG"), "{}", o.report);
    assert!(o
        .todos
        .iter()
        .any(|(p, _)| p.starts_with("releases[0].images[") && p.ends_with("values.ref")));
}

#[test]
fn facts_it_cannot_derive_are_todos_and_the_entry_is_pending_until_filled() {
    let o = run();
    let paths: Vec<&str> = o.todos.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"kubernetes.min"), "{paths:?}");
    assert!(paths.contains(&"kubernetes.source"), "{paths:?}");
    assert!(paths.contains(&"rules[0].source"), "{paths:?}");
    assert!(o.report.contains("kubeVersion >= 1.28.0-0"), "{}", o.report);
    // The chart's keys are recorded, the probed ones included.
    let keys = &o.entry.releases[0].values_keys;
    for k in [
        "app.image.repository",
        "app.image.tag",
        "sidecarImage",
        "pinned.digest",
        "app.resources",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
    }
    // The written YAML reads back as the same entry, and a catalog directory holding it lists
    // it as pending with each TODO located.
    let back = deploygen::catalog::parse_entry(&o.yaml).unwrap();
    assert_eq!(back, o.entry);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("kserve")).unwrap();
    let yaml = o
        .yaml
        .replace("component: fixture", "component: kserve")
        .replace("version: 0.2.0\n", "version: v0.99.0\n");
    std::fs::write(dir.path().join("kserve/v0.99.0.yaml"), yaml).unwrap();
    let c = deploygen::disk::read::catalog(Some(dir.path())).unwrap();
    let pending = &c.pending[&("kserve".to_string(), "v0.99.0".to_string())];
    assert!(pending
        .todos
        .iter()
        .any(|t| t.location.contains("v0.99.0.yaml:") && t.location.ends_with("kubernetes.min")));
    assert!(c.get("kserve", "v0.99.0").is_none());
}

#[test]
fn import_is_deterministic() {
    assert_eq!(run().yaml, run().yaml);
}
