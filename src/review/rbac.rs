//! RBAC: the rules of each Role and ClusterRole as single grants (verb, API group, resource,
//! resource name), gained and lost; a gained grant that widens what the role can do is called
//! out (`*`, secrets, escalate/bind/impersonate, a verb the role had on nothing before, a
//! label that aggregates the role into another). Bindings whose subjects or role changed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::finding::{Class, Finding};
use super::objects::{name_of, Pairs};
use crate::audit::manifest::Object;

/// One grant of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    /// `group/resource` (`core` for the core group), `resource/name` with a resource name, or
    /// the non-resource URL.
    what: String,
    verb: String,
    /// `*` in the group, resource or URL.
    wildcard: bool,
    secrets: bool,
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn grants(role: Option<&Object>) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    let Some(role) = role else { return out };
    for rule in role
        .at("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let verbs = strings(rule.get("verbs"));
        let names = strings(rule.get("resourceNames"));
        let mut whats: Vec<(String, bool, bool)> = Vec::new();
        for group in strings(rule.get("apiGroups")) {
            for resource in strings(rule.get("resources")) {
                let g = if group.is_empty() { "core" } else { group };
                let wildcard = group == "*" || resource == "*" || resource.ends_with("/*");
                let secrets = resource == "secrets" || resource.starts_with("secrets/");
                if names.is_empty() {
                    whats.push((format!("{g}/{resource}"), wildcard, secrets));
                } else {
                    for n in &names {
                        whats.push((format!("{g}/{resource}/{n}"), wildcard, secrets));
                    }
                }
            }
        }
        for url in strings(rule.get("nonResourceURLs")) {
            whats.push((url.to_string(), url.contains('*'), false));
        }
        for (what, wildcard, secrets) in whats {
            for verb in &verbs {
                out.insert(Grant {
                    what: what.clone(),
                    verb: verb.to_string(),
                    wildcard,
                    secrets,
                });
            }
        }
    }
    out
}

/// `verb1, verb2 on what` lines, one per resource.
fn lines<'a>(grants: impl Iterator<Item = &'a Grant>) -> Vec<String> {
    let mut by_what: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for g in grants {
        by_what.entry(&g.what).or_default().push(&g.verb);
    }
    by_what
        .into_iter()
        .map(|(what, verbs)| format!("{} on {what}", verbs.join(", ")))
        .collect()
}

/// Why a gained grant widens the role (empty: it does not).
fn widening(g: &Grant, verbs_before: &BTreeSet<&str>, existed: bool) -> Vec<String> {
    let mut why = Vec::new();
    if g.verb == "*" {
        why.push("every verb (*)".to_string());
    }
    if g.wildcard {
        why.push("a wildcard resource (*)".to_string());
    }
    if g.secrets {
        why.push("secrets".to_string());
    }
    if matches!(g.verb.as_str(), "escalate" | "bind" | "impersonate") {
        why.push(format!("`{}` (privilege escalation)", g.verb));
    }
    if existed && g.verb != "*" && !verbs_before.contains(g.verb.as_str()) {
        why.push(format!(
            "a verb the role had on nothing before ({})",
            g.verb
        ));
    }
    why
}

const AGGREGATE: &str = "rbac.authorization.k8s.io/aggregate-to-";

fn aggregates_into(role: Option<&Object>) -> BTreeSet<String> {
    role.map(|r| {
        r.labels()
            .into_iter()
            .filter(|(k, v)| k.starts_with(AGGREGATE) && *v == "true")
            .map(|(k, _)| k[AGGREGATE.len()..].to_string())
            .collect()
    })
    .unwrap_or_default()
}

fn roles(p: &Pairs, out: &mut Vec<Finding>) {
    for (_, b, a) in p.of_kinds(&["Role", "ClusterRole"]) {
        if a.is_none() {
            continue; // removed: reported with the objects removed
        }
        let object = name_of(b, a);
        let before = grants(b);
        let after = grants(a);
        let verbs_before: BTreeSet<&str> = before.iter().map(|g| g.verb.as_str()).collect();
        let gained: Vec<&Grant> = after.difference(&before).collect();
        let lost: Vec<&Grant> = before.difference(&after).collect();
        let mut widened: BTreeMap<String, Vec<&Grant>> = BTreeMap::new();
        for g in &gained {
            let why = widening(g, &verbs_before, b.is_some());
            if !why.is_empty() {
                widened.entry(why.join(", ")).or_default().push(g);
            }
        }
        for (why, gs) in widened {
            out.push(Finding::new(
                Class::RbacWidening,
                &object,
                "rules",
                format!("gains {why}: {}", lines(gs.into_iter()).join("; ")),
            ));
        }
        if !gained.is_empty() {
            let l = lines(gained.iter().copied());
            let what = if b.is_none() {
                "new role grants"
            } else {
                "gains"
            };
            out.push(
                Finding::new(
                    Class::RbacRuleGained,
                    &object,
                    "rules",
                    format!("{what} {} grant(s): {}", gained.len(), summary(&l)),
                )
                .with_details(l),
            );
        }
        if !lost.is_empty() {
            let l = lines(lost.iter().copied());
            out.push(
                Finding::new(
                    Class::RbacRuleLost,
                    &object,
                    "rules",
                    format!("loses {} grant(s): {}", lost.len(), summary(&l)),
                )
                .with_details(l),
            );
        }
        for into in aggregates_into(a).difference(&aggregates_into(b)) {
            out.push(Finding::new(
                Class::RbacWidening,
                &object,
                format!("metadata.labels.{AGGREGATE}{into}"),
                format!("now aggregates into the `{into}` role: every subject bound to `{into}` gains its rules"),
            ));
        }
        let sel = |o: Option<&Object>| o.and_then(|o| o.at("aggregationRule")).cloned();
        if b.is_some() && sel(b) != sel(a) {
            out.push(Finding::new(
                Class::RbacRuleGained,
                &object,
                "aggregationRule",
                "aggregates other roles by different selectors: its rules are what they select",
            ));
        }
    }
}

/// `a, b, c` of the first lines, `and N more`.
pub fn summary(lines: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut s = lines
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if lines.len() > SHOWN {
        s.push_str(&format!("; and {} more", lines.len() - SHOWN));
    }
    s
}

fn subjects(o: Option<&Object>) -> BTreeSet<String> {
    o.and_then(|o| o.at("subjects"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            let f = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
            match f("namespace") {
                "" => format!("{} {}", f("kind"), f("name")),
                ns => format!("{} {ns}/{}", f("kind"), f("name")),
            }
        })
        .collect()
}

fn role_ref(o: Option<&Object>) -> Option<String> {
    let o = o?;
    Some(format!(
        "{} {}",
        o.str_at("roleRef.kind").unwrap_or("?"),
        o.str_at("roleRef.name").unwrap_or("?")
    ))
}

fn bindings(p: &Pairs, out: &mut Vec<Finding>) {
    for (_, b, a) in p.of_kinds(&["RoleBinding", "ClusterRoleBinding"]) {
        if a.is_none() {
            continue;
        }
        let object = name_of(b, a);
        let (sb, sa) = (subjects(b), subjects(a));
        let (rb, ra) = (role_ref(b), role_ref(a));
        let role = ra.clone().unwrap_or_default();
        let gained: Vec<&String> = sa.difference(&sb).collect();
        let lost: Vec<&String> = sb.difference(&sa).collect();
        if b.is_none() {
            out.push(Finding::new(
                Class::RbacBindingChanged,
                &object,
                "subjects",
                format!(
                    "new binding of {role} to {}",
                    sa.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        } else {
            if rb != ra {
                out.push(Finding::new(
                    Class::RbacBindingChanged,
                    &object,
                    "roleRef",
                    format!(
                        "binds {} instead of {}",
                        role,
                        rb.clone().unwrap_or_default()
                    ),
                ));
            }
            if !gained.is_empty() || !lost.is_empty() {
                let mut parts = Vec::new();
                if !gained.is_empty() {
                    parts.push(format!(
                        "gains {}",
                        gained
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if !lost.is_empty() {
                    parts.push(format!(
                        "loses {}",
                        lost.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                out.push(Finding::new(
                    Class::RbacBindingChanged,
                    &object,
                    "subjects",
                    format!("{role}: {}", parts.join("; ")),
                ));
            }
        }
        if role.ends_with(" cluster-admin") && (!gained.is_empty() || rb != ra) {
            out.push(Finding::new(
                Class::RbacWidening,
                &object,
                "roleRef",
                format!(
                    "binds cluster-admin to {}",
                    sa.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
}

pub fn check(p: &Pairs) -> Vec<Finding> {
    let mut out = Vec::new();
    roles(p, &mut out);
    bindings(p, &mut out);
    out
}
