//! `deploygen catalog import` when upstream restructures a component (as KServe did in v0.17):
//! the main chart renamed while the Helm release keeps its name, the runtimes moved to a new
//! chart that is off by default, a pull-secret key that moved and one that vanished. The
//! fixture charts are tests/fixtures/import-split/{resources,runtimes}, rendered by the stand-in
//! for `helm template` in tests/fake_helm (the runtimes chart only while its `rendered-when` key
//! is true), so no Helm is needed.

use std::path::{Path, PathBuf};

use deploygen::catalog::Catalog;
use deploygen::import::{import, Options, Outcome};
use serde_yaml::Value;

mod fake_helm;
use fake_helm::FakeHelm;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import-split")
        .join(name)
}

const NEAREST: &str = r#"
component: fixture
version: 0.1.0
label: fixture
kubernetes: {min: "1.28", source: "the fixture's docs"}
releases:
  - name: fixture
    namespace: fixture
    pull_secrets:
      - {path: global.pullSecrets, form: names, source: "example/fixture@0.1.0:charts/fixture-resources: templates/deployment.yaml"}
      - {path: app.pullSecrets, form: names, source: "example/fixture@0.1.0:charts/fixture-resources: templates/deployment.yaml"}
      - {path: legacy.imagePullSecrets, form: objects, source: "example/fixture@0.1.0:charts/fixture-resources: templates/legacy.yaml"}
    chart: {repository: oci://registry.example/charts, name: fixture, version: 0.1.0, source: "example/fixture@0.1.0:charts/fixture-resources"}
    needs: []
    runtime_disabled: "runtimes.{runtime}.disabled"
    images:
      - id: fixture-app
        ref: registry.example/team/app:0.1.0
        set: [{values: {repository: app.image.repository, tag: app.image.tag}}]
      - id: fixture-sk
        ref: registry.example/team/sk:0.1.0
        runtime: sk
        set: [{values: {repository: runtimes.sk.image, tag: runtimes.sk.tag}}]
    images_source: example/fixture@0.1.0:charts/fixture-resources/values.yaml
"#;

/// Imports version 0.2.0 from both fixture charts, starting from `nearest` as 0.1.0.
fn import_from(nearest: &str) -> Outcome {
    let mut catalog = Catalog::load().unwrap();
    let entry = deploygen::catalog::parse_entry(nearest).unwrap();
    catalog.insert(entry, deploygen::catalog::overlay::Origin::CompiledIn);
    let opts = Options {
        component: "fixture".into(),
        version: "0.2.0".into(),
        charts: vec![fixture("resources"), fixture("runtimes")],
        kodata: None,
    };
    import(&opts, &catalog, &FakeHelm).unwrap()
}

fn run() -> Outcome {
    import_from(NEAREST)
}

#[test]
fn a_renamed_chart_keeps_its_release_and_the_report_says_so() {
    let o = run();
    let main = &o.entry.releases[0];
    assert_eq!(main.name, "fixture");
    let chart = main.chart.as_ref().unwrap();
    assert_eq!(chart.name, "fixture-resources");
    assert_eq!(chart.version, "0.2.0");
    assert!(
        o.report.contains("releases[0].chart.name: release fixture keeps its name; its chart is renamed upstream: fixture -> fixture-resources"),
        "{}",
        o.report
    );
    assert_eq!(
        main.images
            .iter()
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>(),
        ["fixture-app", "fixture-sidecar"]
    );
    // A new image with no serving runtime gets none (not a TODO).
    assert_eq!(main.images[1].runtime, None);
    assert!(
        o.report
            .contains("added: fixture-sidecar registry.example/team/sidecar:0.2.0"),
        "{}",
        o.report
    );
    // The catalog's values of a continuing release are its own: no switch is turned on.
    assert_eq!(main.values, None);
    assert!(
        !o.report.contains("releases.fixture.values"),
        "{}",
        o.report
    );
}

#[test]
fn a_new_chart_is_its_own_release_switched_on_and_needing_the_release_its_images_left() {
    let o = run();
    let rt = o
        .entry
        .releases
        .iter()
        .find(|r| r.name == "fixture-runtimes")
        .unwrap_or_else(|| panic!("no runtimes release:\n{}", o.yaml));
    assert_eq!(rt.needs, ["fixture/fixture"]);
    // Its chart is named by its folder beside the main chart's, at the new version.
    let chart = rt.chart.as_ref().unwrap();
    assert_eq!(
        chart.source,
        "example/fixture@0.2.0:charts/fixture-runtimes"
    );
    assert_eq!(chart.repository, "oci://registry.example/charts");
    assert_eq!(
        rt.images_source.as_deref(),
        Some("example/fixture@0.2.0:charts/fixture-runtimes/values.yaml")
    );
    assert_eq!(rt.namespace, "fixture");
    let enabled = rt
        .values
        .as_ref()
        .and_then(|v| v.get("runtimes"))
        .and_then(|v| v.get("enabled"));
    assert_eq!(enabled, Some(&Value::Bool(true)), "{}", o.yaml);
    let sk = rt
        .images
        .iter()
        .find(|i| i.id == "fixture-sk")
        .expect("sk kept its id");
    assert_eq!(sk.reference, "registry.example/team/sk:0.2.0");
    assert_eq!(sk.runtime.as_deref(), Some("sk"));
    // The runtime switch went where the runtimes went.
    assert_eq!(
        rt.runtime_disabled.as_deref(),
        Some("runtimes.{runtime}.disabled")
    );
    assert_eq!(o.entry.releases[0].runtime_disabled, None);
    assert!(
        o.report.contains("moved: fixture-sk from release fixture"),
        "{}",
        o.report
    );
    assert!(!o.report.contains("removed: fixture-sk"), "{}", o.report);
}

#[test]
fn an_image_with_a_floating_tag_is_reported_not_listed() {
    let o = run();
    let all: Vec<&str> = o
        .entry
        .releases
        .iter()
        .flat_map(|r| r.images.iter().map(|i| i.reference.as_str()))
        .collect();
    assert!(!all.iter().any(|r| r.ends_with(":latest")), "{all:?}");
    assert!(
        o.report
            .contains("not listed: registry.example/team/floating:latest uses the tag `latest`"),
        "{}",
        o.report
    );
}

#[test]
fn pull_secret_keys_are_proved_by_a_render_or_left_as_located_todos() {
    let o = run();
    let ps = &o.entry.releases[0].pull_secrets;
    assert_eq!(ps.len(), 3, "nothing is dropped:\n{}", o.yaml);
    // Still rendered: kept, its source moved to the new version.
    assert_eq!(ps[0].path, "global.pullSecrets");
    assert!(
        ps[0].source.starts_with("example/fixture@0.2.0:"),
        "{}",
        ps[0].source
    );
    // Moved: a TODO that names the keys of that name the chart has now.
    assert!(
        ps[1]
            .path
            .starts_with("TODO: app.pullSecrets is gone from the chart"),
        "{}",
        ps[1].path
    );
    assert!(
        ps[1].path.contains("controller.pullSecrets"),
        "{}",
        ps[1].path
    );
    // Vanished: a TODO that says no such key is left.
    assert!(
        ps[2]
            .path
            .starts_with("TODO: legacy.imagePullSecrets is gone from the chart"),
        "{}",
        ps[2].path
    );
    assert!(
        ps[2].path.contains("no key named imagePullSecrets is left"),
        "{}",
        ps[2].path
    );
    // Located, so `catalog list` and the build name them.
    let located: Vec<&str> = o.todos.iter().map(|(p, _)| p.as_str()).collect();
    assert!(
        located.contains(&"releases[0].pull_secrets[1].path"),
        "{located:?}"
    );
    assert!(
        located.contains(&"releases[0].pull_secrets[2].path"),
        "{located:?}"
    );
    // And the written YAML carries them (an earlier import dropped the key silently).
    assert!(o.yaml.contains("pull_secrets:"), "{}", o.yaml);
}

#[test]
fn rule_texts_are_todos_not_carried_unchanged() {
    let text = NEAREST.replace(
        "releases:\n",
        "rules:\n  - {id: fx-istio, kind: recommends, component: istio, versions: [\"1.24\"], why: \"fixture 0.1.0 is tested on Istio 1.24\", source: the docs}\nreleases:\n",
    );
    let o = import_from(&text);
    assert!(
        o.entry.rules[0].why.starts_with("TODO: "),
        "{}",
        o.entry.rules[0].why
    );
    assert!(
        o.entry.rules[0].why.contains("Istio 1.24"),
        "{}",
        o.entry.rules[0].why
    );
}

#[test]
fn a_release_whose_chart_is_not_given_is_copied_with_a_located_todo() {
    let text = NEAREST.replace(
        "releases:\n",
        "releases:\n  - name: fixture-crd\n    namespace: fixture\n    chart: {repository: oci://registry.example/charts, name: fixture-crd, version: 0.1.0, source: \"example/fixture@0.1.0:charts/fixture-crd\"}\n    needs: []\n    images: []\n",
    );
    let o = import_from(&text);
    let crd = &o.entry.releases[0];
    assert_eq!(crd.name, "fixture-crd");
    let version = &crd.chart.as_ref().unwrap().version;
    assert!(
        version.starts_with("TODO: chart fixture-crd was not read"),
        "{version}"
    );
    assert!(
        o.report.contains(
            "release fixture-crd: chart fixture-crd not given (--chart): copied from 0.1.0"
        ),
        "{}",
        o.report
    );
    // The other releases are imported as without it.
    assert_eq!(
        o.entry.releases[1].chart.as_ref().unwrap().name,
        "fixture-resources"
    );
}

#[test]
fn a_release_without_a_chart_is_copied_as_it_is() {
    let text = NEAREST.replace(
        "releases:\n",
        "releases:\n  - name: fixture-glue\n    namespace: fixture\n    needs: []\n    images: []\n    images_source: the glue chart's own\n",
    );
    let o = import_from(&text);
    let glue = &o.entry.releases[0];
    assert_eq!(glue.name, "fixture-glue");
    assert_eq!(glue.images_source.as_deref(), Some("the glue chart's own"));
    assert!(
        o.report
            .contains("release fixture-glue: no chart; copied from 0.1.0"),
        "{}",
        o.report
    );
}

/// Knative Serving has no chart: its images come from the operator's kodata, keyed as the
/// operator overrides them (tests/fixtures/kodata holds a made-up Serving 1.99.0).
#[test]
fn serving_is_imported_from_the_operator_s_kodata() {
    let opts = Options {
        component: "knative-serving".into(),
        version: "1.99.0".into(),
        charts: Vec::new(),
        kodata: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kodata")),
    };
    let o = import(&opts, &Catalog::load().unwrap(), &FakeHelm).unwrap();
    let serving = &o.entry.releases[0];
    let refs: Vec<&str> = serving
        .images
        .iter()
        .map(|i| i.reference.as_str())
        .collect();
    assert_eq!(
        refs,
        ["registry.example/knative/activator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]
    );
    // A repository no image of the nearest version had: a new id, set where the operator
    // overrides it (the container's name).
    assert_eq!(serving.images[0].id, "knative-activator");
    assert_eq!(
        serving.images[0].set,
        [deploygen::catalog::SetAt::KnativeOverride(
            "activator".into()
        )]
    );
    assert!(
        serving
            .images_source
            .as_deref()
            .is_some_and(|s| s.ends_with("knative-serving/1.99.0/{2-serving-core}.yaml")),
        "{:?}",
        serving.images_source
    );
}

/// Re-importing where the runtimes already have their release: the switch stays where it is.
#[test]
fn a_runtime_switch_that_still_matches_stays_put() {
    let text = NEAREST
        .replace("name: fixture, version: 0.1.0", "name: fixture-resources, version: 0.1.0")
        .replace("    runtime_disabled: \"runtimes.{runtime}.disabled\"\n", "")
        + "  - name: fixture-runtimes\n    namespace: fixture\n    chart: {repository: oci://registry.example/charts, name: fixture-runtimes, version: 0.1.0, source: \"example/fixture@0.1.0:charts/fixture-runtimes\"}\n    needs: [fixture/fixture]\n    values: {runtimes: {enabled: true}}\n    runtime_disabled: \"runtimes.{runtime}.disabled\"\n    images: []\n";
    let o = import_from(&text);
    assert!(!o.report.contains("runtime_disabled"), "{}", o.report);
    let rt = &o.entry.releases[1];
    assert_eq!(rt.name, "fixture-runtimes");
    assert_eq!(
        rt.runtime_disabled.as_deref(),
        Some("runtimes.{runtime}.disabled")
    );
}

/// A chart that refuses its own defaults under its schema is rendered with schema validation
/// skipped, the pull-secret proof included.
#[test]
fn pull_secrets_are_proved_past_a_schema_defect() {
    let mut catalog = Catalog::load().unwrap();
    catalog.insert(
        deploygen::catalog::parse_entry(NEAREST).unwrap(),
        deploygen::catalog::overlay::Origin::CompiledIn,
    );
    let opts = Options {
        component: "fixture".into(),
        version: "0.2.0".into(),
        charts: vec![fixture("resources-schema-defect"), fixture("runtimes")],
        kodata: None,
    };
    let o = import(&opts, &catalog, &FakeHelm).unwrap();
    let main = &o.entry.releases[0];
    assert_eq!(main.defects.len(), 1, "{}", o.yaml);
    assert_eq!(
        main.pull_secrets[0].path, "global.pullSecrets",
        "{}",
        o.report
    );
}

fn import_operator(kodata: &str) -> Outcome {
    let opts = Options {
        component: "knative-operator".into(),
        version: "v1.99.1".into(),
        charts: Vec::new(),
        kodata: Some(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/kodata-operator")
                .join(kodata)
                .join("v1.99.1"),
        ),
    };
    import(&opts, &Catalog::load().unwrap(), &FakeHelm).unwrap()
}

/// The operator bundles its own Serving minor and the three before it: the span is that, and a
/// copied kodata folder that lacks minors (or holds older ones) is reported, not believed.
#[test]
fn the_operator_s_serving_span_is_its_four_minors_whatever_the_folder_holds() {
    let o = import_operator("partial");
    let installs = o.entry.installs.as_ref().unwrap();
    assert_eq!(installs.serving.min, semver::Version::new(1, 96, 0));
    assert_eq!(installs.serving.max, semver::Version::new(1, 99, 2));
    assert!(
        o.report
            .contains("lacks Serving 1.96, 1.98 of the four minors"),
        "{}",
        o.report
    );
    assert!(
        o.report
            .contains("holds Serving 1.95.0, older than the operator's four minors (1.96.0 up)"),
        "{}",
        o.report
    );
    assert!(!o.report.contains("partial at the top"), "{}", o.report);

    let o = import_operator("full");
    let installs = o.entry.installs.as_ref().unwrap();
    assert_eq!(installs.serving.min, semver::Version::new(1, 96, 0));
    assert!(!o.report.contains("lacks Serving"), "{}", o.report);
    assert!(!o.report.contains("older than"), "{}", o.report);
}
