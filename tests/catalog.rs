//! The catalog's own accessors: how a reviewer reads where an image is set, version lists in
//! semver order, known-bad lookups, and what the embedded catalog holds.

use deploygen::catalog::{Catalog, SetAt, ValuesKeys};

#[test]
fn every_way_of_setting_an_image_reads_as_its_keys() {
    for (set, want) in [
        (
            SetAt::Values(ValuesKeys::RepositoryTag {
                repository: "image.repository".into(),
                tag: "image.tag".into(),
            }),
            "values image.repository + image.tag",
        ),
        (
            SetAt::Values(ValuesKeys::Reference {
                reference: "agent.image".into(),
            }),
            "values agent.image",
        ),
        (
            SetAt::Hub {
                hub: "global.hub".into(),
                tag: "global.tag".into(),
            },
            "values global.hub + global.tag",
        ),
        (
            SetAt::KnativeOverride("activator".into()),
            "KnativeServing spec.registry.override[activator]",
        ),
        (
            SetAt::KnativeConfig {
                configmap: "deployment".into(),
                key: "queue-sidecar-image".into(),
            },
            "KnativeServing spec.config.deployment[queue-sidecar-image]",
        ),
        (
            SetAt::Follows("kserve-controller".into()),
            "follows kserve-controller",
        ),
    ] {
        assert_eq!(set.describe(), want);
    }
}

#[test]
fn versions_are_listed_oldest_first_by_semver() {
    let mut catalog = Catalog::load().expect("catalog");
    assert_eq!(
        catalog.versions("istio"),
        ["1.21.6", "1.22.8", "1.24.6", "1.25.5", "1.26.8", "1.27.9", "1.28.10"]
    );
    assert_eq!(
        catalog.versions("knative-operator"),
        ["v1.14.9", "v1.15.10", "v1.16.6", "v1.17.8", "v1.18.3", "v1.19.6", "v1.20.2", "v1.21.4"]
    );
    assert!(catalog.versions("nothing").is_empty());
    // Semver order, not string order: 1.9 before 1.10.
    let entry = catalog.get("istio", "1.22.8").expect("entry").clone();
    let istio = catalog.components.get_mut("istio").expect("istio");
    istio.insert("1.9.0".into(), entry.clone().into());
    istio.insert("1.10.0".into(), entry.into());
    assert_eq!(
        catalog.versions("istio"),
        [
            "1.9.0", "1.10.0", "1.21.6", "1.22.8", "1.24.6", "1.25.5", "1.26.8", "1.27.9",
            "1.28.10"
        ]
    );
}

#[test]
fn known_bad_matches_component_and_version_both() {
    let catalog = Catalog::load().expect("catalog");
    let bad = catalog
        .known_bad("cert-manager", "v1.14.0")
        .expect("known bad");
    assert_eq!(
        (bad.component.as_str(), bad.version.as_str()),
        ("cert-manager", "v1.14.0")
    );
    assert!(catalog.known_bad("cert-manager", "v1.15.5").is_none());
    assert!(catalog.known_bad("istio", "v1.14.0").is_none());
}

#[test]
fn the_embedded_catalog_is_every_file_under_catalog() {
    let catalog = Catalog::load().expect("catalog");
    let on_disk = walkdir::WalkDir::new(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(deploygen::catalog::files().len(), on_disk);
    let versions: usize = catalog.components.values().map(|v| v.len()).sum();
    assert_eq!(
        versions + 1,
        on_disk,
        "every file but rules.yaml is a component version"
    );
    assert!(!catalog.rules.known_bad.is_empty(), "rules.yaml is read");
    let entry = catalog.get("kserve", "v0.14.1").expect("kserve v0.14.1");
    assert_eq!(
        (entry.component.as_str(), entry.version.as_str()),
        ("kserve", "v0.14.1")
    );
    assert!(catalog.get("kserve", "v0.14.0").is_none());
    assert!(catalog.get("nothing", "v0.14.1").is_none());
}

/// What `catalog import` writes reads back as the same entry: every field of every compiled-in
/// entry survives the writer (an earlier writer dropped `pull_secrets` silently).
#[test]
fn the_import_writer_round_trips_every_catalog_entry() {
    let catalog = Catalog::load().expect("catalog");
    for (component, versions) in &catalog.components {
        for (version, entry) in versions {
            let yaml = deploygen::import::write::entry(&[], entry, &|_| Vec::new());
            let back = deploygen::catalog::parse_entry(&yaml)
                .unwrap_or_else(|e| panic!("{component} {version}: {e}\n{yaml}"));
            assert_eq!(&back, &**entry, "{component} {version}:\n{yaml}");
        }
    }
}

/// A runtime switch pattern names the runtime by exactly one key segment.
#[test]
fn a_runtime_switch_pattern_matches_one_segment() {
    let keys: Vec<String> = [
        "a.sk.disabled",
        "a.x.y.disabled",
        "a..disabled",
        "a.sk.image",
        "b.sk.disabled",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        deploygen::catalog::runtime_switches("a.{runtime}.disabled", &keys),
        Some(vec![("sk".to_string(), "a.sk.disabled".to_string())])
    );
    assert_eq!(
        deploygen::catalog::runtime_switches("a.disabled", &keys),
        None
    );
}
