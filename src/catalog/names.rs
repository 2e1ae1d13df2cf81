//! The names a catalog entry gives, checked against the grammars of the tools that take them,
//! before anything is rendered from them: a release name becomes a folder and a values file, a
//! chart name and version an archive name (`<chart>-<version>.tgz`), a namespace and `needs`
//! land in the helmfile, the label names an image list. An overlay entry with
//! `chart.name: ./../../../../OUT/esc` or a release named `../../x` is refused where it is
//! written, not found later as an unsafe path.

use crate::base::names::{check_chart_name, check_dns_label, check_release_name};
use crate::base::text::{cut, MAX_TOKEN_CHARS};
use crate::catalog::ComponentVersion;

/// (key path in the file, message) for every name of `entry` that breaks its grammar.
pub fn check_names(entry: &ComponentVersion) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut check = |path: String, result: Result<(), String>| {
        if let Err(e) = result {
            out.push((path, e));
        }
    };
    check("label".into(), check_dns_label(&entry.label));
    for (i, r) in entry.releases.iter().enumerate() {
        let at = |rest: &str| format!("releases[{i}].{rest}");
        check(at("name"), check_release_name(&r.name));
        check(at("namespace"), check_dns_label(&r.namespace));
        if let Some(chart) = &r.chart {
            check(at("chart.name"), check_chart_name(&chart.name));
            check(at("chart.version"), check_chart_version(&chart.version));
        }
        for (j, need) in r.needs.iter().enumerate() {
            check(at(&format!("needs[{j}]")), check_need(need));
        }
    }
    out
}

/// A chart version: SemVer 2, as Helm requires of `version` in Chart.yaml ("A SemVer 2
/// version", helm.sh/docs/topics/charts), with the leading `v` some projects publish
/// (cert-manager's `v1.15.5`, which Helm's semver library reads).
pub fn check_chart_version(s: &str) -> Result<(), String> {
    crate::base::version::parse_lenient(s)
        .map(|_| ())
        .map_err(|_| {
            format!(
                "`{}` is not a chart version (SemVer 2, such as 1.22.8 or v1.15.5)",
                cut(&s.escape_debug().to_string(), MAX_TOKEN_CHARS)
            )
        })
}

/// A `needs` entry: `namespace/release`, both names.
fn check_need(s: &str) -> Result<(), String> {
    let ok = s
        .split_once('/')
        .is_some_and(|(ns, name)| check_dns_label(ns).is_ok() && check_release_name(name).is_ok());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not `namespace/release` (two names, as helmfile's needs take them)",
            cut(&s.escape_debug().to_string(), MAX_TOKEN_CHARS)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_entry_has_good_names() {
        let catalog = crate::catalog::Catalog::load().unwrap();
        for versions in catalog.components.values() {
            for e in versions.values() {
                assert_eq!(check_names(e), vec![], "{} {}", e.component, e.version);
            }
        }
    }

    #[test]
    fn each_name_is_checked_where_it_is() {
        let catalog = crate::catalog::Catalog::load().unwrap();
        let mut e = catalog.get("kserve", "v0.14.1").unwrap().clone();
        e.label = "Kserve".into();
        e.releases[1].name = "../../x".into();
        e.releases[1].namespace = "k serve".into();
        let chart = e.releases[1].chart.as_mut().unwrap();
        chart.name = "./../../../../OUT/esc".into();
        chart.version = "v0.14".into();
        e.releases[1].needs = vec!["kserve/kserve-crd".into(), "kserve".into(), "a/b/c".into()];
        let paths: Vec<String> = check_names(&e).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "label",
                "releases[1].name",
                "releases[1].namespace",
                "releases[1].chart.name",
                "releases[1].chart.version",
                "releases[1].needs[1]",
                "releases[1].needs[2]",
            ]
        );
    }

    #[test]
    fn chart_versions_are_semver_with_an_optional_v() {
        for ok in ["1.22.8", "v1.15.5", "1.0.0-rc.1+build.5"] {
            assert!(check_chart_version(ok).is_ok(), "{ok}");
        }
        for bad in ["1.22", "latest", "../1.0.0", "1.0.0 ", "vv1.0.0"] {
            let e = check_chart_version(bad).unwrap_err();
            assert!(e.contains("is not a chart version"), "{e}");
        }
    }
}
