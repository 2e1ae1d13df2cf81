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

/// The fixture chart packed as `helm package` packs it: `fixture/…` in a gzip tar.
fn fixture_tgz(at: &Path) -> (PathBuf, Vec<u8>) {
    let mut b = tar::Builder::new(Vec::new());
    for e in walkdir::WalkDir::new(fixture()).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(fixture()).unwrap();
            b.append_path_with_name(e.path(), Path::new("fixture").join(rel))
                .unwrap();
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    let bytes = gz.finish().unwrap();
    let path = at.join("fixture-0.2.0.tgz");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

fn import_from(chart: PathBuf, catalog: &Catalog) -> deploygen::import::Outcome {
    let opts = Options {
        component: "fixture".into(),
        version: "0.2.0".into(),
        charts: vec![chart],
        kodata: None,
    };
    import(&opts, catalog, &FakeHelm).unwrap()
}

const OLD_DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// The fixture's nearest version with digests recorded, and a second release whose chart is
/// not given.
fn catalog_with_digests() -> Catalog {
    let text = NEAREST.replace(
        "version: 0.1.0, source: example/fixture",
        &format!("version: 0.1.0, digest: \"{OLD_DIGEST}\", source: example/fixture"),
    ) + &format!(
        "  - name: other\n    namespace: fixture\n    chart: {{repository: oci://registry.example/charts, name: other, version: 0.1.0, digest: \"{OLD_DIGEST}\", source: example/other@0.1.0:chart}}\n    needs: []\n    images: []\n"
    );
    let mut c = Catalog::load().unwrap();
    let entry = deploygen::catalog::parse_entry(&text).unwrap();
    assert_eq!(
        entry.releases[0].chart.as_ref().unwrap().digest.as_deref(),
        Some(OLD_DIGEST)
    );
    c.insert(entry, deploygen::catalog::overlay::Origin::CompiledIn);
    c
}

#[test]
fn a_chart_archive_imports_as_its_folder_does_and_records_its_digest() {
    let d = tempfile::tempdir().unwrap();
    let (path, bytes) = fixture_tgz(d.path());
    let digest = format!("sha256:{}", deploygen::base::sha256::hex(&bytes));
    let from_tgz = import_from(path, &catalog_with_digests());
    let chart = from_tgz.entry.releases[0].chart.as_ref().unwrap();
    assert_eq!(chart.digest.as_deref(), Some(digest.as_str()));
    assert!(
        from_tgz.yaml.contains(&format!(
            "      version: 0.2.0\n      digest: {digest}\n      source: "
        )),
        "{}",
        from_tgz.yaml
    );
    assert_eq!(
        deploygen::catalog::parse_entry(&from_tgz.yaml).unwrap(),
        from_tgz.entry
    );
    // A folder records no digest (the nearest version's would pin another archive), and
    // the rest of the entry is the archive's.
    let mut from_folder = import_from(fixture(), &catalog_with_digests());
    assert_eq!(
        from_folder.entry.releases[0].chart.as_ref().unwrap().digest,
        None
    );
    assert!(
        !from_folder.yaml.contains("digest: sha256:"),
        "{}",
        from_folder.yaml
    );
    from_folder.entry.releases[0].chart.as_mut().unwrap().digest = chart.digest.clone();
    assert_eq!(from_folder.entry, from_tgz.entry);
    // A chart not given keeps no digest either: its version is a TODO.
    let other = from_tgz.entry.releases[1].chart.as_ref().unwrap();
    assert!(other.version.starts_with("TODO: "), "{}", other.version);
    assert_eq!(other.digest, None);
}

/// `catalog import` run as a user runs it, on a chart it must refuse: exit 2, the reason,
/// nothing written.
fn refused_by_the_cli(chart: &Path, want: &str) {
    let catalog = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deploygen"))
        .args(["catalog", "import", "kserve", "v0.99.0", "--helm", "false"])
        .arg("--catalog")
        .arg(catalog.path())
        .arg("--chart")
        .arg(chart)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(want), "{stderr}");
    assert_eq!(std::fs::read_dir(catalog.path()).unwrap().count(), 0);
}

#[test]
fn a_chart_with_a_link_loop_is_refused_with_exit_2() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("c/templates")).unwrap();
    std::fs::write(
        d.path().join("c/Chart.yaml"),
        "name: kserve\nversion: v0.99.0\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("..", d.path().join("c/templates/loop")).unwrap();
    refused_by_the_cli(
        &d.path().join("c"),
        "`templates/loop` is a symbolic link; deploygen follows no link",
    );
}

#[test]
fn a_tar_bomb_is_refused_with_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let zeros = vec![0u8; 14 << 20];
    for i in 0..5 {
        let mut h = tar::Header::new_gnu();
        h.set_size(zeros.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("kserve/z{i}"), zeros.as_slice())
            .unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    let path = d.path().join("kserve-v0.99.0.tgz");
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    refused_by_the_cli(&path, "bytes unpacked (a tar bomb?)");
}

#[test]
fn a_chart_s_values_pass_the_yaml_door_before_the_yaml_library() {
    // values.yaml is upstream's, read by deploygen's importer: 500 KB of nesting took the YAML
    // library minutes; a custom tag is not Helm's YAML. Both are refused at once, located.
    for (values, want) in [
        (
            format!("a: {}1\n", "[".repeat(400_000)),
            "nests deeper than 100",
        ),
        ("a: !Ref b\n".to_string(), "tag"),
    ] {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("c")).unwrap();
        std::fs::write(
            d.path().join("c/Chart.yaml"),
            "name: kserve\nversion: v0.99.0\n",
        )
        .unwrap();
        std::fs::write(d.path().join("c/values.yaml"), values).unwrap();
        refused_by_the_cli(&d.path().join("c"), want);
    }
}
