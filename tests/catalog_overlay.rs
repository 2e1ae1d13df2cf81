//! A catalog directory laid over the compiled-in catalog: where it is found, which files in it
//! count, how `catalog list` names each entry's origin, and the consistency checks an entry
//! must pass before it is used. (Apart from `catalog_data`, whose parse counter is
//! process-wide: loading an overlay parses YAML.)

use std::path::{Path, PathBuf};

mod common;

use common::compiled_catalog_file as compiled;
use deploygen::catalog;
use deploygen::catalog::overlay::{self, Origin};

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_catalog_directory_is_the_flag_or_the_one_beside_the_matrix() {
    let d = tempfile::tempdir().unwrap();
    let matrix = d.path().join("matrix.yaml");
    // None beside the matrix (whatever the working directory holds).
    assert_eq!(
        deploygen::disk::read::catalog_dir_for(&matrix, None).unwrap(),
        None
    );
    std::fs::create_dir(d.path().join("catalog")).unwrap();
    assert_eq!(
        deploygen::disk::read::catalog_dir_for(&matrix, None).unwrap(),
        Some(d.path().join("catalog"))
    );
    // A matrix named without a folder: `catalog/` of the working directory (this repository's).
    assert_eq!(
        deploygen::disk::read::catalog_dir_for(Path::new("matrix.yaml"), None).unwrap(),
        Some(Path::new(".").join("catalog"))
    );
    // The flag wins, and must name a directory.
    let other = d.path().join("other");
    std::fs::create_dir(&other).unwrap();
    assert_eq!(
        deploygen::disk::read::catalog_dir_for(&matrix, Some(&other)).unwrap(),
        Some(other.clone())
    );
    let err = deploygen::disk::read::catalog_dir_for(&matrix, Some(&d.path().join("none")))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--catalog") && err.contains("is not a directory"),
        "{err}"
    );
}

#[test]
fn list_names_where_each_entry_came_from() {
    let d = tempfile::tempdir().unwrap();
    let text = compiled("kserve/v0.15.2.yaml");
    let added = write(
        d.path(),
        "kserve/v0.15.9.yaml",
        &text.replace("version: v0.15.2", "version: v0.15.9"),
    );
    let replaced = write(
        d.path(),
        "kserve/v0.15.2.yaml",
        &format!("# ours: same facts, another file\n{text}"),
    );
    let c = deploygen::disk::read::catalog(Some(d.path())).unwrap();
    assert_eq!(
        c.origin("kserve", "v0.15.2"),
        Some(&Origin::Replaces(replaced.clone()))
    );
    let list = overlay::list(&c);
    let line = |version: &str| {
        list.lines()
            .find(|l| l.starts_with("kserve") && l.contains(&format!(" {version} ")))
            .unwrap_or_else(|| panic!("no kserve {version} in:\n{list}"))
            .to_string()
    };
    assert!(line("v0.14.1").ends_with(" compiled in"), "{list}");
    assert!(
        line("v0.15.9").ends_with(&format!(" {} (catalog directory)", added.display())),
        "{list}"
    );
    assert!(
        line("v0.15.2").ends_with(&format!(
            " {} (catalog directory; replaces the compiled-in entry)",
            replaced.display()
        )),
        "{list}"
    );
}

#[test]
fn only_component_yaml_files_and_rules_yaml_are_read() {
    let d = tempfile::tempdir().unwrap();
    // Notes beside the entries are not entries (they would not parse as one).
    write(d.path(), "README.md", "# our catalog\n");
    write(d.path(), "kserve/NOTES.md", "why we pin v0.15.9\n");
    write(d.path(), "notes.yaml", "not: an entry\n");
    std::fs::create_dir_all(d.path().join("kserve/old.yaml")).unwrap();
    write(
        d.path(),
        "rules.yaml",
        "known_bad:\n  - component: kserve\n    version: v0.15.1\n    why: ours\n    source: our incident 42\n",
    );
    let c = deploygen::disk::read::catalog(Some(d.path())).unwrap();
    assert!(c.known_bad("kserve", "v0.15.1").is_some());
    // rules.yaml is read, so a broken one is refused (and located).
    write(d.path(), "rules.yaml", "known_bad: {}\n");
    let err = deploygen::disk::read::catalog(Some(d.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("rules.yaml"), "{err}");
}

#[test]
fn an_entry_naming_keys_its_chart_lacks_or_following_no_other_image_is_refused() {
    let text = compiled("kserve/v0.15.2.yaml");
    let rbac = "set: [{values: {ref: kserve.controller.rbacProxyImage}}]";
    let agent = "set: [{values: {repository: kserve.agent.image, tag: kserve.agent.tag}}]";
    assert!(text.contains(rbac) && text.contains(agent));
    for (from, to, want) in [
        (
            rbac,
            "set: [{follows: kube-rbac-proxy}]",
            "image kube-rbac-proxy follows `kube-rbac-proxy`, which is no other image of release kserve",
        ),
        (
            rbac,
            "set: [{follows: kube-proxy}]",
            "image kube-rbac-proxy follows `kube-proxy`, which is no other image of release kserve",
        ),
        (
            agent,
            "set: [{values: {repository: kserve.agent.imageName, tag: kserve.agent.tag}}]",
            "`kserve.agent.imageName` is not a values key of chart kserve v0.15.2",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "kserve/v0.15.2.yaml", &text.replacen(from, to, 1));
        let err = deploygen::disk::read::catalog(Some(d.path())).unwrap_err().to_string();
        assert!(
            err.contains(want) && err.contains("kserve/v0.15.2.yaml:"),
            "{to}:\n{err}"
        );
    }
}

/// The problems `check_entry` finds in a compiled-in entry with one edit.
fn problems_after(rel: &str, from: &str, to: &str) -> Vec<(String, String)> {
    let text = compiled(rel);
    assert!(text.contains(from), "{rel} has no {from:?}");
    let entry = catalog::parse_entry(&text.replacen(from, to, 1)).expect("parses");
    overlay::check_entry(&entry)
}

#[test]
fn every_way_an_entry_names_a_values_key_is_checked_against_the_chart() {
    let cases = [
        // a `ref` key
        (
            "kserve/v0.15.2.yaml",
            "{values: {ref: kserve.controller.rbacProxyImage}}",
            "{values: {ref: kserve.controller.rbacProxyImg}}",
            "releases[1].images[1].set",
            "`kserve.controller.rbacProxyImg` is not a values key of chart kserve v0.15.2",
        ),
        // a repository/digest pair
        (
            "kserve/v0.15.2.yaml",
            "{values: {repository: kserve.agent.image, tag: kserve.agent.tag}}",
            "{values: {repository: kserve.agent.image, digest: kserve.agent.digest}}",
            "releases[1].images[2].set",
            "`kserve.agent.digest` is not a values key of chart kserve v0.15.2",
        ),
        // Istio's hub and tag
        (
            "istio/1.22.8.yaml",
            "{hub: {hub: global.hub, tag: global.tag}}",
            "{hub: {hub: global.hubs, tag: global.tag}}",
            "releases[1].images[0].set",
            "`global.hubs` is not a values key of chart istiod 1.22.8",
        ),
        // a values key, at the top and nested
        (
            "istio/1.22.8.yaml",
            "      defaultRevision: default\n",
            "      defaultRevisions: default\n",
            "releases[0].values.defaultRevisions",
            "`defaultRevisions` is not a values key of chart base 1.22.8",
        ),
        (
            "istio/1.22.8.yaml",
            "      service:\n        ports:\n",
            "      service:\n        portz:\n",
            "releases[2].values.service.portz",
            "`service.portz` is not a values key of chart gateway 1.22.8",
        ),
        // values that are no map at all
        (
            "istio/1.22.8.yaml",
            "    values:\n      defaultRevision: default\n",
            "    values: [defaultRevision]\n",
            "releases[0].values",
            "is not a map of chart values (key: value)",
        ),
    ];
    for (rel, from, to, at, want) in cases {
        let got = problems_after(rel, from, to);
        assert!(
            got.iter().any(|(p, m)| p == at && m.starts_with(want)),
            "{to}: want {at}: {want}\ngot {got:?}"
        );
        assert_eq!(got.len(), 1, "{to}: {got:?}");
    }
    // A free-form map (the chart declares `service.annotations` and nothing below it) is a
    // leaf: its keys are the user's, not the chart's.
    let got = problems_after(
        "istio/1.22.8.yaml",
        "      service:\n        ports:\n",
        "      service:\n        annotations: {metallb.universe.tf/loadBalancerIPs: 10.0.0.9}\n        ports:\n",
    );
    assert_eq!(got, vec![]);
    // Lists are leaves too (the unedited entries have lists of ports, and pass).
    for rel in ["istio/1.22.8.yaml", "kserve/v0.15.2.yaml"] {
        assert_eq!(problems_after(rel, "releases:", "releases:"), vec![]);
    }
}

/// A chart's digest, when an entry records one, is `sha256:` and 64 lower-case hex digits.
#[test]
fn a_chart_digest_is_sha256_and_its_hex_or_is_refused() {
    let good = format!("sha256:{}", "0a".repeat(32));
    let with = |d: &str| {
        problems_after(
            "kserve/v0.15.2.yaml",
            "    chart:\n",
            &format!("    chart:\n      digest: \"{d}\"\n"),
        )
    };
    assert_eq!(with(&good), vec![]);
    let entry = catalog::parse_entry(&compiled("kserve/v0.15.2.yaml").replacen(
        "    chart:\n",
        &format!("    chart:\n      digest: {good}\n"),
        1,
    ))
    .unwrap();
    assert_eq!(
        entry.releases[0].chart.as_ref().unwrap().digest.as_deref(),
        Some(good.as_str())
    );
    for bad in [
        "0a".repeat(32),
        format!("sha256:{}", "0A".repeat(32)),
        format!("sha512:{}", "0a".repeat(32)),
        "sha256:0a".to_string(),
    ] {
        assert_eq!(
            with(&bad),
            vec![(
                "releases[0].chart.digest".to_string(),
                format!("`{bad}` is not `sha256:` and 64 lower-case hex digits")
            )],
            "{bad}"
        );
    }
}

/// A runtime switch pattern must name the runtime and match a key of the chart.
#[test]
fn a_runtime_switch_that_names_no_key_is_refused_by_name() {
    let catalog = deploygen::catalog::Catalog::load().unwrap();
    let mut entry = catalog.get("kserve", "v0.20.0").unwrap().clone();
    let rt = entry
        .releases
        .iter()
        .position(|r| r.name == "kserve-runtime-configs")
        .unwrap();
    assert!(deploygen::catalog::overlay::check_entry(&entry).is_empty());
    for (pattern, message) in [
        (
            "kserve.servingruntime.{runtime}.off",
            "`kserve.servingruntime.{runtime}.off` matches no values key of the chart",
        ),
        (
            "kserve.servingruntime.disabled",
            "`kserve.servingruntime.disabled` has no `{runtime}` placeholder",
        ),
    ] {
        entry.releases[rt].runtime_disabled = Some(pattern.into());
        assert_eq!(
            deploygen::catalog::overlay::check_entry(&entry),
            [(
                format!("releases[{rt}].runtime_disabled"),
                message.to_string()
            )]
        );
    }
}
