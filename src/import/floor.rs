//! The Kubernetes minimum an imported chart states itself (`kubeVersion`, or the Knative
//! Operator's `kubernetes_min_version` value), for entries whose nearest version took its
//! minimum from there.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_yaml::Value;

use super::chart::{self, subst};
use super::error::ImportError;
use crate::catalog::ComponentVersion;

/// The Kubernetes minimum a chart states itself, used when the nearest version took its
/// minimum from the same kind of statement (its source names `kubeVersion` or
/// `kubernetes_min_version`): the chart's `kubeVersion: ">= 1.25.0-0"`, else a values key
/// `…kubernetes_min_version` (the Knative Operator's). A range from upstream's docs is never
/// replaced by a chart's floor, which is often far below what upstream supports.
pub(super) fn chart_kube_floor(
    base: &ComponentVersion,
    charts: &BTreeMap<String, (PathBuf, chart::ChartDir, chart::ChartFacts)>,
    version: &str,
) -> Result<Option<(String, String)>, ImportError> {
    let by_chart = base.kubernetes.source.contains("kubeVersion")
        || base.kubernetes.source.contains("kubernetes_min_version");
    if !by_chart {
        return Ok(None);
    }
    let minor = |v: &str| -> Option<String> {
        let v = v
            .trim()
            .trim_start_matches(">=")
            .trim()
            .trim_start_matches('v');
        let v = v.split('-').next()?;
        let mut parts = v.split('.');
        let (major, minor) = (parts.next()?, parts.next()?);
        (major.parse::<u64>().is_ok() && minor.parse::<u64>().is_ok())
            .then(|| format!("{major}.{minor}"))
    };
    for (_, dir, facts) in charts.values() {
        if let Some(kv) = facts.kube_version.as_deref() {
            // Only a plain floor; a range with an upper bound is read by a person.
            if kv.trim().starts_with(">=") && !kv.contains('<') && !kv.contains(',') {
                if let Some(m) = minor(kv) {
                    return Ok(Some((
                        m,
                        format!(
                            "{}@{version}: Chart.yaml (kubeVersion: \"{kv}\")",
                            facts.name
                        ),
                    )));
                }
            }
        }
        let defaults = chart::default_values(dir)?;
        let mut keys = Vec::new();
        chart::value_keys(&defaults, "", &mut keys);
        for (k, v) in keys {
            if k.rsplit('.').next() == Some("kubernetes_min_version") {
                if let Some(m) = v.as_ref().and_then(Value::as_str).and_then(minor) {
                    let folder = base
                        .releases
                        .iter()
                        .find_map(|r| r.chart.as_ref().filter(|c| c.name == facts.name))
                        .map(|c| subst(&c.source, &base.version, version))
                        .unwrap_or_else(|| facts.name.clone());
                    return Ok(Some((
                        m,
                        format!(
                            "{folder}/values.yaml ({k}: {})",
                            v.as_ref().and_then(Value::as_str).unwrap_or("")
                        ),
                    )));
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chart folder with this Chart.yaml `kubeVersion` line (or none) and values.yaml.
    fn chart_with(
        dir: &std::path::Path,
        name: &str,
        kube_version: Option<&str>,
        values: &str,
    ) -> (PathBuf, chart::ChartDir, chart::ChartFacts) {
        let root = dir.join(name);
        std::fs::create_dir_all(&root).unwrap();
        let kv = kube_version
            .map(|k| format!("kubeVersion: \"{k}\"\n"))
            .unwrap_or_default();
        std::fs::write(
            root.join("Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: 1.1.0\n{kv}"),
        )
        .unwrap();
        std::fs::write(root.join("values.yaml"), values).unwrap();
        let opened = chart::open(&root).unwrap();
        let facts = chart::facts(&opened).unwrap();
        (root, opened, facts)
    }

    fn base(source: &str) -> ComponentVersion {
        crate::catalog::parse_entry(&format!(
            "component: op\nversion: 1.0.0\nlabel: op\nkubernetes: {{min: \"1.25\", source: \"{source}\"}}\nreleases:\n  - name: op\n    namespace: op\n    chart: {{repository: https://charts.example, name: op, version: 1.0.0, source: \"example/op@1.0.0:charts/op\"}}\n    needs: []\n"
        ))
        .unwrap()
    }

    fn floor(source: &str, kube: Option<&str>, values: &str) -> Option<(String, String)> {
        let tmp = tempfile::tempdir().unwrap();
        let mut charts = BTreeMap::new();
        charts.insert("op".to_string(), chart_with(tmp.path(), "op", kube, values));
        chart_kube_floor(&base(source), &charts, "1.1.0").unwrap()
    }

    #[test]
    fn a_plain_kube_version_floor_is_the_minimum_when_the_nearest_version_used_one() {
        assert_eq!(
            floor("Chart.yaml (kubeVersion)", Some(">= 1.29.0-0"), "{}"),
            Some((
                "1.29".into(),
                "op@1.1.0: Chart.yaml (kubeVersion: \">= 1.29.0-0\")".into()
            ))
        );
    }

    #[test]
    fn a_minimum_from_upstream_docs_is_never_replaced_by_a_chart_floor() {
        assert_eq!(floor("the docs", Some(">= 1.22.0-0"), "{}"), None);
    }

    #[test]
    fn a_range_with_an_upper_bound_is_left_to_a_person() {
        let values = "a: {kubernetes_min_version: v1.30.0}\n";
        for range in [">= 1.29.0-0 < 1.34.0-0", ">= 1.29.0-0, <= 1.33", "1.29.x"] {
            // Not the kubeVersion: the values key, which the operator's chart states.
            assert_eq!(
                floor("values.yaml (kubernetes_min_version)", Some(range), values),
                Some((
                    "1.30".into(),
                    "example/op@1.1.0:charts/op/values.yaml (a.kubernetes_min_version: v1.30.0)"
                        .into()
                )),
                "{range}"
            );
        }
    }

    #[test]
    fn the_operator_s_kubernetes_min_version_value_is_read_by_its_leaf_name() {
        let values =
            "knative_operator:\n  kubernetes_min_version: v1.25.0\n  other_min_version: v1.99.0\n";
        assert_eq!(
            floor("config/charts/op/values.yaml (kubernetes_min_version)", None, values),
            Some((
                "1.25".into(),
                "example/op@1.1.0:charts/op/values.yaml (knative_operator.kubernetes_min_version: v1.25.0)".into()
            ))
        );
        // Not a version: nothing to take.
        assert_eq!(
            floor(
                "kubernetes_min_version",
                None,
                "kubernetes_min_version: soon\n"
            ),
            None
        );
        assert_eq!(
            floor(
                "kubernetes_min_version",
                None,
                "kubernetes_min_version: v1.x\n"
            ),
            None
        );
        assert_eq!(floor("kubeVersion", None, "{}"), None);
    }
}
