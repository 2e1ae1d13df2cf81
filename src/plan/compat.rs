//! Compatibility rules evaluated per environment: the Kubernetes range of every component
//! version in use, and the rules the catalog attaches to versions (hard `requires` -> error,
//! `recommends` -> warning). Each verdict names its rule, the versions, and the source.

use crate::base::version::{minor_of, minor_string};
use crate::catalog::{ChartDefect, Rule, RuleKind};
use crate::model::matrix::{DeploymentMode, Environment};
use crate::plan::{Component, Level, Verdict};

/// Id of the Kubernetes-range rule of a component.
pub fn kubernetes_rule_id(component: &str) -> String {
    format!("{component}-kubernetes")
}

/// Components an environment uses: the Knative ones only in Serverless mode.
pub fn in_use(component: &str, mode: DeploymentMode) -> bool {
    mode.uses_knative() || !component.starts_with("knative")
}

/// Every rule id the catalog can produce for these components (for `accept:` validation).
pub fn rule_ids(components: &[Component]) -> Vec<String> {
    let mut ids: Vec<String> = components
        .iter()
        .flat_map(|c| {
            std::iter::once(kubernetes_rule_id(&c.name))
                .chain(c.entry.rules.iter().map(|r| r.id.clone()))
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Helm `kubeVersion` constraint for a catalog range (`-0` admits pre-release builds such as
/// the `v1.28.6-eks-…` versions managed clusters report).
pub fn helm_kube_version(min: &str, max: Option<&str>) -> Result<String, String> {
    let (a, b) = minor_of(min)?;
    let mut out = format!(">= {a}.{b}.0-0");
    if let Some(max) = max {
        let (c, d) = minor_of(max)?;
        out.push_str(&format!(", < {c}.{}.0-0", d + 1));
    }
    Ok(out)
}

/// The defects of a release's chart that the site's Helm hits (`tools.helm`).
pub fn defects<'a>(
    release: &'a crate::plan::Release,
    helm: &semver::Version,
) -> Vec<&'a ChartDefect> {
    release
        .entry
        .defects
        .iter()
        .filter(|d| d.helm.matches(helm))
        .collect()
}

/// A verdict per chart defect worked around in an environment (shown by explain and
/// COMPONENT_VERSIONS.md, so a reviewer sees why a release skips schema validation).
pub fn defect_verdicts(
    env_name: &str,
    helm: &semver::Version,
    releases: &[crate::plan::Release],
    installed: &[String],
) -> Vec<Verdict> {
    releases
        .iter()
        .filter(|r| installed.contains(&r.name))
        .flat_map(|r| {
            defects(r, helm).into_iter().map(move |d| Verdict {
                rule: d.id.clone(),
                level: Level::Pass,
                message: format!(
                    "{} {}: {}; Helm {helm} hits it ({}), so environment {env_name} installs it with skipSchemaValidation (the wrapper's glue values are validated by deploygen)",
                    r.name, r.version, d.why, d.helm
                ),
                source: d.source.clone(),
                reason: None,
            })
        })
        .collect()
}

pub fn evaluate(
    name: &str,
    env: &Environment,
    kube: &semver::Version,
    components: &[Component],
) -> Vec<Verdict> {
    let mode = env.deployment_mode;
    let kube_minor = (kube.major, kube.minor);
    let mut verdicts = Vec::new();
    for c in components.iter().filter(|c| in_use(&c.name, mode)) {
        verdicts.push(kubernetes_verdict(name, env, kube_minor, c));
    }
    for c in components.iter().filter(|c| in_use(&c.name, mode)) {
        for rule in &c.entry.rules {
            if rule.mode.is_some_and(|m| m != mode) || !in_use(&rule.component, mode) {
                continue;
            }
            let Some(other) = components.iter().find(|o| o.name == rule.component) else {
                continue;
            };
            verdicts.push(rule_verdict(name, kube_minor, c, other, rule));
        }
    }
    for v in &mut verdicts {
        if let Some(a) = env.accept.iter().find(|a| a.rule == v.rule) {
            if matches!(v.level, Level::Fail | Level::Warn) {
                v.level = Level::Accepted;
            }
            v.reason = Some(a.reason.clone());
        }
    }
    verdicts
}

fn kubernetes_verdict(
    env_name: &str,
    env: &Environment,
    kube_minor: (u64, u64),
    c: &Component,
) -> Verdict {
    let range = &c.entry.kubernetes;
    let min = minor_of(&range.min).unwrap_or((0, 0));
    let max = range.max.as_deref().and_then(|m| minor_of(m).ok());
    let fits = kube_minor >= min && max.is_none_or(|m| kube_minor <= m);
    let span = match &range.max {
        Some(max) => format!("Kubernetes {} to {max}", range.min),
        None => format!("Kubernetes >= {}", range.min),
    };
    let message = if fits {
        format!(
            "{} {} supports {span}; environment {env_name} runs {}",
            c.name, c.version, env.cluster.kubernetes
        )
    } else if max.is_some() {
        format!(
            "{} {} supports only {span}; environment {env_name} runs {}",
            c.name, c.version, env.cluster.kubernetes
        )
    } else {
        format!(
            "{} {} needs {span}; environment {env_name} runs {}",
            c.name, c.version, env.cluster.kubernetes
        )
    };
    Verdict {
        rule: kubernetes_rule_id(&c.name),
        level: if fits { Level::Pass } else { Level::Fail },
        message,
        source: range.source.clone(),
        reason: None,
    }
}

fn rule_verdict(
    env_name: &str,
    kube_minor: (u64, u64),
    owner: &Component,
    other: &Component,
    rule: &Rule,
) -> Verdict {
    let (level, message) = match rule.kind {
        RuleKind::Requires => {
            let min = rule
                .min
                .as_deref()
                .and_then(|m| crate::base::version::parse_lenient(m).ok())
                .unwrap_or_else(|| semver::Version::new(0, 0, 0));
            let ok = other.semver >= min;
            let msg = format!(
                "{} {} needs {} >= {min}; environment {env_name} pins {} {}",
                owner.name, owner.version, other.name, other.name, other.version
            );
            (if ok { Level::Pass } else { Level::Fail }, msg)
        }
        RuleKind::Recommends => {
            let kube_key = format!("{}.{}", kube_minor.0, kube_minor.1);
            let recommended = match (&rule.per_kubernetes, &rule.versions) {
                (Some(map), _) => map.get(&kube_key).cloned(),
                (None, Some(v)) => Some(v.clone()),
                (None, None) => None,
            };
            let pinned = minor_string(&other.semver);
            // Per-Kubernetes matrices name the cluster version; flat lists do not depend on it.
            let on = if rule.per_kubernetes.is_some() {
                format!(" on Kubernetes {kube_key}")
            } else {
                String::new()
            };
            match recommended {
                Some(list) => (
                    if list.contains(&pinned) { Level::Pass } else { Level::Warn },
                    format!(
                        "{} {} recommends {} {}{on}; environment {env_name} pins {}",
                        owner.name, owner.version, other.name, list.join(" or "), other.version
                    ),
                ),
                None => (
                    Level::Warn,
                    format!(
                        "{} {} has no recommended {} for Kubernetes {kube_key} (environment {env_name})",
                        owner.name, owner.version, other.name
                    ),
                ),
            }
        }
    };
    Verdict {
        rule: rule.id.clone(),
        level,
        message,
        source: rule.source.clone(),
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_version_constraints() {
        assert_eq!(helm_kube_version("1.28", None).unwrap(), ">= 1.28.0-0");
        assert_eq!(
            helm_kube_version("1.27", Some("1.30")).unwrap(),
            ">= 1.27.0-0, < 1.31.0-0"
        );
    }
}
