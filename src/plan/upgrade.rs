//! `deploygen plan-upgrade --kubernetes 1.31`: the way from the matrix's versions to the
//! newest catalog versions that fit a cluster version, one `deploygen bump` at a time.
//!
//! - Targets: per component, the newest catalog version (never older than the pinned one)
//!   whose Kubernetes range holds the cluster, chosen together so that the whole matrix
//!   validates (every `requires`, the operator bundling Serving, needs); among equally new
//!   sets, the one with the fewest warnings.
//! - Steps: every catalog version between the pinned one and the target, in version order (the
//!   Knative Operator moves Serving one minor at a time; the other projects document upgrades
//!   one minor at a time too), so each step is one `bump`.
//! - Order: components rank by where their releases sit in the install order (the catalog's
//!   `needs`: cert-manager and Istio before Knative and KServe); at each point the first-ranked
//!   component whose next step validates goes next. A step is simulated exactly as `bump`
//!   validates it (the whole matrix, in memory, every environment at the new cluster version),
//!   so a step this plan lists is one `bump` accepts, with the warnings it prints.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::base::error::{Error, Result};
use crate::base::version::{minor_of, parse_lenient};
use crate::catalog::Catalog;
use crate::model::matrix::{Matrix, COMPONENTS};
use crate::plan::{Level, Plan};

/// One `deploygen bump`.
#[derive(Debug, Clone)]
pub struct Step {
    pub component: String,
    pub from: String,
    pub to: String,
    /// Warnings `bump` prints for the matrix after this step.
    pub warnings: Vec<String>,
    /// What must run on the cluster with this step (catalog `migrations`), as text.
    pub migrations: Vec<String>,
}

/// The computed path.
#[derive(Debug)]
pub struct UpgradePath {
    pub kubernetes: String,
    /// component -> (pinned, target, why not newer).
    pub targets: BTreeMap<String, (String, String, Vec<String>)>,
    /// Problems of the pinned versions on the new cluster (what forces an order).
    pub start_problems: Vec<String>,
    pub steps: Vec<Step>,
    /// Steps no order could take (each refusal `bump` would print).
    pub blocked: Vec<String>,
    /// The final plan (every rule's verdict and source).
    pub last: Option<Plan>,
}

fn set_version(m: &mut Matrix, component: &str, version: &str) {
    let v = &mut m.versions;
    let field = match component {
        "cert-manager" => &mut v.cert_manager,
        "istio" => &mut v.istio,
        "knative-operator" => &mut v.knative_operator,
        "knative-serving" => &mut v.knative_serving,
        "kserve" => &mut v.kserve,
        _ => return,
    };
    *field = version.to_string();
}

fn validate(label: &str, m: &Matrix, catalog: &Catalog) -> std::result::Result<Plan, Vec<String>> {
    crate::plan::resolve::build(label, m.clone(), catalog).map_err(|e| match e {
        Error::Invalid(p) => p.into_iter().map(|p| p.to_string()).collect(),
        other => vec![other.to_string()],
    })
}

/// Computes the path for matrix text at a cluster version (`1.31` or `v1.31.4`).
pub fn plan_upgrade(
    label: &str,
    text: &[u8],
    catalog: &Catalog,
    kubernetes: &str,
) -> Result<UpgradePath> {
    let (major, minor) = minor_of(kubernetes).map_err(|e| Error::invalid("--kubernetes", e))?;
    let cluster = match parse_lenient(kubernetes) {
        Ok(v) => format!("v{v}"),
        Err(_) => format!("v{major}.{minor}.0"),
    };
    // The matrix must parse; its versions may already fail on the new cluster (a cluster set
    // to the new version first): those failures are what the first steps fix.
    let mut matrix = crate::model::matrix::parse(label, text)?;
    for env in matrix.environments.values_mut() {
        env.cluster.kubernetes = cluster.clone();
    }
    let pinned: BTreeMap<String, String> = COMPONENTS
        .iter()
        .filter_map(|c| {
            matrix
                .versions
                .get(c)
                .map(|v| (c.to_string(), v.to_string()))
        })
        .collect();

    // Candidates: catalog versions >= pinned whose range holds the cluster.
    let mut candidates: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut why_not: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in COMPONENTS {
        let current = parse_lenient(&pinned[c]).ok();
        let mut list = Vec::new();
        for v in catalog.versions(c) {
            let Some(entry) = catalog.get(c, v) else {
                continue;
            };
            let parsed = parse_lenient(v).ok();
            if parsed < current {
                continue;
            }
            let min = minor_of(&entry.kubernetes.min).unwrap_or((0, 0));
            let max = entry
                .kubernetes
                .max
                .as_deref()
                .and_then(|m| minor_of(m).ok());
            let fits = (major, minor) >= min && max.is_none_or(|m| (major, minor) <= m);
            if fits && catalog.known_bad(c, v).is_none() {
                list.push(v.to_string());
            } else if v != pinned[c] {
                why_not.entry(c.to_string()).or_default().push(format!(
                    "{c} {v}: supports Kubernetes {}{} (source: {})",
                    entry.kubernetes.min,
                    entry
                        .kubernetes
                        .max
                        .as_ref()
                        .map(|m| format!(" to {m}"))
                        .unwrap_or_else(|| " and newer".into()),
                    entry.kubernetes.source
                ));
            }
        }
        for ((pc, pv), p) in &catalog.pending {
            if pc == c {
                why_not.entry(c.to_string()).or_default().push(format!(
                    "{c} {pv}: pending in {} ({} TODO left)",
                    p.path.display(),
                    p.todos.len()
                ));
            }
        }
        if list.is_empty() {
            list.push(pinned[c].clone()); // nothing fits: keep it (the plan reports the failure)
        }
        candidates.insert(c.to_string(), list);
    }

    // Targets: the newest combination that validates, fewest warnings on ties.
    let mut best: Option<(usize, usize, BTreeMap<String, String>)> = None;
    let mut combo: Vec<usize> = vec![0; COMPONENTS.len()];
    loop {
        let mut m = matrix.clone();
        let mut chosen = BTreeMap::new();
        let mut score = 0;
        for (i, c) in COMPONENTS.iter().enumerate() {
            let v = &candidates[*c][combo[i]];
            score += combo[i];
            set_version(&mut m, c, v);
            chosen.insert(c.to_string(), v.clone());
        }
        if let Ok(plan) = validate(label, &m, catalog) {
            let warns = crate::plan::explain::warnings(&plan).len();
            let better = match &best {
                None => true,
                Some((s, w, _)) => score > *s || (score == *s && warns < *w),
            };
            if better {
                best = Some((score, warns, chosen));
            }
        }
        // Next combination.
        let mut i = 0;
        loop {
            if i == COMPONENTS.len() {
                break;
            }
            combo[i] += 1;
            if combo[i] < candidates[COMPONENTS[i]].len() {
                break;
            }
            combo[i] = 0;
            i += 1;
        }
        if i == COMPONENTS.len() {
            break;
        }
    }
    let start_problems = validate(label, &matrix, catalog).err().unwrap_or_default();
    let Some((_, _, target)) = best else {
        return Ok(UpgradePath {
            kubernetes: cluster,
            targets: BTreeMap::new(),
            start_problems,
            steps: Vec::new(),
            blocked: vec![format!(
                "no combination of catalog versions validates on Kubernetes {major}.{minor}; candidates: {}",
                candidates.iter().map(|(c, v)| format!("{c} {}", v.join("/"))).collect::<Vec<_>>().join(", ")
            )],
            last: None,
        });
    };
    let mut target_matrix = matrix.clone();
    for (c, v) in &target {
        set_version(&mut target_matrix, c, v);
    }
    for (c, v) in &target {
        let newer: Vec<&String> = candidates[c]
            .iter()
            .filter(|x| parse_lenient(x).ok() > parse_lenient(v).ok())
            .collect();
        for n in newer {
            // Say why, as `bump` would: the first refusal of the target matrix with it.
            let mut m = target_matrix.clone();
            set_version(&mut m, c, n);
            let reason = match validate(label, &m, catalog) {
                Err(problems) => problems
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "refused".to_string()),
                Ok(_) => "a newer set of the others would have to give way".to_string(),
            };
            why_not.entry(c.clone()).or_default().push(format!(
                "{c} {n}: fits the cluster, but no matrix with it validates together with the others: {reason}"
            ));
        }
    }

    // Chains: every candidate version from pinned (exclusive) to target (inclusive). A version
    // between them that the new cluster does not support is skipped: the cluster moves first,
    // so it could never run there (Istio 1.22 -> 1.25 on Kubernetes 1.32, 1.24 stops at 1.31).
    let mut chains: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in COMPONENTS {
        let from = parse_lenient(&pinned[c]).ok();
        let to = parse_lenient(&target[c]).ok();
        let chain: Vec<String> = candidates[c]
            .iter()
            .filter(|v| {
                let p = parse_lenient(v).ok();
                p > from && p <= to
            })
            .cloned()
            .collect();
        chains.insert(c.to_string(), chain);
    }
    // Rank: the install order of the pinned releases (the catalog's needs).
    let rank = component_rank(label, &target_matrix, catalog);
    let mut order: Vec<&str> = COMPONENTS.to_vec();
    order.sort_by_key(|c| rank.get(*c).copied().unwrap_or(usize::MAX));

    let mut steps = Vec::new();
    let mut blocked = Vec::new();
    let mut state = matrix.clone();
    let mut next: BTreeMap<String, usize> = BTreeMap::new();
    let mut last = None;
    loop {
        let pending: Vec<&str> = order
            .iter()
            .copied()
            .filter(|c| next.get(*c).copied().unwrap_or(0) < chains[*c].len())
            .collect();
        if pending.is_empty() {
            break;
        }
        let mut took = false;
        let mut refusals = Vec::new();
        for c in &pending {
            let v = &chains[*c][next.get(*c).copied().unwrap_or(0)];
            let mut m = state.clone();
            set_version(&mut m, c, v);
            match validate(label, &m, catalog) {
                Ok(plan) => {
                    let from = state.versions.get(c).unwrap_or("").to_string();
                    let migrations = catalog
                        .migrations_crossed(c, &from, v)
                        .into_iter()
                        .map(|m| crate::catalog::migration_text(c, m))
                        .collect();
                    steps.push(Step {
                        component: c.to_string(),
                        from,
                        to: v.clone(),
                        warnings: crate::plan::explain::warnings(&plan),
                        migrations,
                    });
                    *next.entry(c.to_string()).or_insert(0) += 1;
                    state = m;
                    last = Some(plan);
                    took = true;
                    break;
                }
                Err(p) => refusals.push(format!("bump {c} {v} refused: {}", p.join("; "))),
            }
        }
        if !took {
            blocked = refusals;
            break;
        }
    }
    if last.is_none() && blocked.is_empty() {
        last = validate(label, &state, catalog).ok();
    }
    let targets = COMPONENTS
        .iter()
        .map(|c| {
            (
                c.to_string(),
                (
                    pinned[*c].clone(),
                    target[*c].clone(),
                    why_not.remove(*c).unwrap_or_default(),
                ),
            )
        })
        .collect();
    Ok(UpgradePath {
        kubernetes: cluster,
        targets,
        start_problems,
        steps,
        blocked,
        last,
    })
}

/// component -> position of its first release in the install order of the target versions.
fn component_rank(label: &str, target: &Matrix, catalog: &Catalog) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    if let Ok(plan) = validate(label, target, catalog) {
        for (i, r) in plan.releases.iter().enumerate() {
            out.entry(r.component.clone()).or_insert(i);
        }
    }
    for (i, c) in COMPONENTS.iter().enumerate() {
        out.entry(c.to_string()).or_insert(100 + i);
    }
    out
}

impl UpgradePath {
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Upgrade path to Kubernetes {}", self.kubernetes);
        let _ = writeln!(
            out,
            "\nTargets (newest catalog version that fits the cluster and the rules):"
        );
        for (c, (from, to, why)) in &self.targets {
            let mark = if from == to { "stays" } else { "->" };
            let _ = writeln!(out, "  {c:<17} {from:<10} {mark} {to}");
            for w in why {
                let _ = writeln!(out, "      not {w}");
            }
        }
        if !self.start_problems.is_empty() {
            let _ = writeln!(
                out,
                "\nWith the pinned versions the new cluster is refused (these steps come first):"
            );
            for p in &self.start_problems {
                let _ = writeln!(out, "  {p}");
            }
        }
        let _ = writeln!(
            out,
            "\nSteps (set every environment's cluster.kubernetes to {}, then one bump at a time):",
            self.kubernetes
        );
        let mut before: Vec<String> = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}. deploygen bump {} {}      ({} -> {})",
                i + 1,
                s.component,
                s.to,
                s.from,
                s.to
            );
            // Only what changes at this step: new warnings, and warnings it clears.
            for w in s.warnings.iter().filter(|w| !before.contains(w)) {
                let _ = writeln!(out, "       {w}");
            }
            for m in &s.migrations {
                let _ = writeln!(
                    out,
                    "       on the cluster, in this order (instead of a plain `helmfile sync`):"
                );
                for line in m.lines() {
                    let _ = writeln!(out, "         {line}");
                }
            }
            let cleared = before.iter().filter(|w| !s.warnings.contains(w)).count();
            if cleared > 0 {
                let _ = writeln!(out, "       ({cleared} earlier warning(s) cleared)");
            }
            before = s.warnings.clone();
        }
        if self.steps.is_empty() && self.blocked.is_empty() {
            let _ = writeln!(
                out,
                "  none: the matrix already pins the newest versions that fit"
            );
        }
        if !self.blocked.is_empty() {
            let _ = writeln!(out, "\nBlocked (what bump refuses):");
            for b in &self.blocked {
                let _ = writeln!(out, "  {b}");
            }
        }
        if let Some(plan) = &self.last {
            let _ = writeln!(out, "\nEvery rule at the end:");
            for e in &plan.environments {
                let _ = writeln!(out, "  environment {}:", e.name);
                for v in &e.verdicts {
                    let _ = writeln!(
                        out,
                        "    {:<8} [{}] {} (source: {})",
                        v.level.as_str(),
                        v.rule,
                        v.message,
                        v.source
                    );
                }
            }
        }
        out
    }

    /// `component version` per line, in order: what `.ci/upgrade-walk` feeds to bump.
    pub fn steps_text(&self) -> String {
        self.steps
            .iter()
            .map(|s| format!("{} {}\n", s.component, s.to))
            .collect()
    }

    pub fn failed(&self) -> bool {
        !self.blocked.is_empty()
            || self.last.as_ref().is_some_and(|p| {
                p.environments
                    .iter()
                    .any(|e| e.verdicts.iter().any(|v| v.level == Level::Fail))
            })
    }
}
