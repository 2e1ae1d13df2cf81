//! Keys a catalog entry writes into release values, checked for what a `.yaml.gotmpl` values
//! file cannot hold (`base::names::check_gotmpl_key`): where a mirror is bound at install time,
//! every release's values are such a file, which helmfile renders as a Go template, and keys are
//! written as they are. An overlay entry is refused where it is written, rather than the
//! renderer failing later (exit 3) on a bound environment.

use crate::base::names::check_gotmpl_key;
use crate::catalog::ComponentVersion;

/// (key path in the file, message) for every key of `entry`'s values, and every segment of a
/// values path it names, that a `.yaml.gotmpl` file cannot hold.
pub fn check_gotmpl_keys(entry: &ComponentVersion) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (ri, r) in entry.releases.iter().enumerate() {
        let at = |rest: &str| format!("releases[{ri}]{rest}");
        if let Some(values) = &r.values {
            tree(values, &at(".values"), &mut out);
        }
        let mut paths: Vec<(String, &str)> = Vec::new();
        for (field, path) in [
            ("deployment_mode_path", &r.deployment_mode_path),
            ("domain_path", &r.domain_path),
            ("url_scheme_path", &r.url_scheme_path),
            ("runtime_disabled", &r.runtime_disabled),
        ] {
            if let Some(p) = path {
                paths.push((at(&format!(".{field}")), p));
            }
        }
        for (wi, w) in r.workloads.iter().enumerate() {
            if let Some(p) = &w.path {
                paths.push((at(&format!(".workloads[{wi}].path")), p));
            }
        }
        for (pi, p) in r.pull_secrets.iter().enumerate() {
            paths.push((at(&format!(".pull_secrets[{pi}].path")), &p.path));
        }
        for (ii, img) in r.images.iter().enumerate() {
            for s in &img.set {
                for k in s.keys() {
                    paths.push((at(&format!(".images[{ii}].set")), k));
                }
            }
        }
        // The chart's keys: a runtime switch is written at the one its pattern matches.
        for (ki, k) in r.values_keys.iter().enumerate() {
            paths.push((at(&format!(".values_keys[{ki}]")), k));
        }
        for (where_, path) in paths {
            if let Some(e) = path.split('.').find_map(|seg| check_gotmpl_key(seg).err()) {
                out.push((where_, e));
            }
        }
    }
    out
}

/// Every key of a values tree, at any depth.
fn tree(v: &serde_yaml::Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            for (k, child) in m {
                let key = k
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{k:?}"));
                let here = format!("{path}.{key}");
                if let Err(e) = check_gotmpl_key(&key) {
                    out.push((here.clone(), e));
                }
                tree(child, &here, out);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                tree(child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{SetAt, ValuesKeys};

    #[test]
    fn every_key_an_entry_writes_is_checked_where_it_is_named() {
        let catalog = crate::catalog::Catalog::load().unwrap();
        let mut e = catalog.get("kserve", "v0.15.2").unwrap().clone();
        assert_eq!(check_gotmpl_keys(&e), vec![]);
        let r = &mut e.releases[1];
        r.values = Some(serde_yaml::from_str("a: {b: [{'{{x}}': 1}]}").unwrap());
        r.deployment_mode_path = Some("kserve.{{x}}.mode".into());
        r.domain_path = Some("a.DEPLOYGENGOTMPLVALUE".into());
        r.url_scheme_path = Some("a.}}".into());
        r.runtime_disabled = Some("kserve.{{runtime}}.disabled".into());
        r.workloads[0].path = Some("{{x}}".into());
        r.pull_secrets[0].path = "x.{{y}}".into();
        r.images[0].set = vec![SetAt::Values(ValuesKeys::Reference {
            reference: "{{ref}}".into(),
        })];
        r.images[1].set = vec![SetAt::Values(ValuesKeys::RepositoryTag {
            repository: "{{r}}".into(),
            tag: "t".into(),
        })];
        r.images[2].set = vec![SetAt::Values(ValuesKeys::RepositoryDigest {
            repository: "r".into(),
            digest: "{{d}}".into(),
        })];
        r.images[3].set = vec![SetAt::Hub {
            hub: "h".into(),
            tag: "a.{{t}}".into(),
        }];
        r.values_keys.push("kserve.{{k}}".into());
        let paths: Vec<String> = check_gotmpl_keys(&e).into_iter().map(|(p, _)| p).collect();
        let n = e.releases[1].values_keys.len() - 1;
        assert_eq!(
            paths,
            [
                "releases[1].values.a.b[0].{{x}}".to_string(),
                "releases[1].deployment_mode_path".into(),
                "releases[1].domain_path".into(),
                "releases[1].url_scheme_path".into(),
                "releases[1].runtime_disabled".into(),
                "releases[1].workloads[0].path".into(),
                "releases[1].pull_secrets[0].path".into(),
                "releases[1].images[0].set".into(),
                "releases[1].images[1].set".into(),
                "releases[1].images[2].set".into(),
                "releases[1].images[3].set".into(),
                format!("releases[1].values_keys[{n}]"),
            ]
        );
    }
}
