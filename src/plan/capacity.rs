//! The capacity report: per environment, the stack's total requests and limits per component
//! (from the environment's resource profile) against the installation plan's two resource
//! tables and against the cluster the matrix describes, what is left for models, and how many
//! models of each of the plan's per-model sizes fit.
//!
//! Rules (checked by `validate`): requests that exceed the cluster, or one workload whose
//! requests exceed a node, are errors; a component whose limits stay below the plan's
//! minimum is a warning naming the plan's table.
//!
//! Counting: each profiled workload once (one replica, the upstream HPA minimum; the
//! activator and the ingress gateway scale out under load). Containers no profile sets
//! (net-istio's controller and webhook, the Knative Operator, kube-rbac-proxy, injected Istio
//! sidecars) keep their upstream defaults and are not in the totals; the report says so.

use serde::Serialize;

use crate::model::matrix::{Environment, Profile};
use crate::plan::{Plan, Release};

/// Where the plan's numbers come from.
pub const PLAN_SOURCE: &str =
    "Astrago's KServe installation plan, \"Resource requirements\" (its minimum and recommended tables)";

/// CPU in millicores and memory in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub millicores: u64,
    pub bytes: u64,
}

impl Amount {
    fn add(self, o: Amount) -> Amount {
        Amount {
            millicores: self.millicores.saturating_add(o.millicores),
            bytes: self.bytes.saturating_add(o.bytes),
        }
    }

    /// "8.2 cores, 16.44 GiB"
    pub fn text(self) -> String {
        format!("{}, {}", cores(self.millicores), gib(self.bytes))
    }
}

const GB: u64 = 1_000_000_000;
const GIB: u64 = 1 << 30;

/// A row of the plan's tables: CPU cores and memory in GB (10^9 bytes, as the plan writes).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PlanRow {
    pub cores: u64,
    pub gb: u64,
}

impl PlanRow {
    fn amount(self) -> Amount {
        Amount {
            millicores: self.cores * 1000,
            bytes: self.gb * GB,
        }
    }

    fn text(self) -> String {
        format!(
            "{} core{}, {} GB",
            self.cores,
            if self.cores == 1 { "" } else { "s" },
            self.gb
        )
    }
}

/// The plan's rows per `component` label: (plan's name, minimum, recommended). cert-manager
/// has no row in either table.
pub fn plan_rows(label: &str) -> Option<(&'static str, PlanRow, PlanRow)> {
    let row = |cores, gb| PlanRow { cores, gb };
    match label {
        "knative" => Some(("Knative Serving", row(2, 4), row(4, 8))),
        "istio" => Some(("Istio", row(1, 2), row(2, 4))),
        "kserve" => Some(("KServe", row(1, 2), row(2, 4))),
        _ => None,
    }
}

/// A model size from the plan's per-model rows.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ModelSize {
    pub name: &'static str,
    pub cores: u64,
    pub gb: u64,
    pub gpus: u64,
}

/// The ends of the plan's "model serving (per model)" rows: minimum 1–4 cores, 2–8 GB,
/// 0–4 GPUs; recommended 4–16 cores, 8–32 GB, 1–8 GPUs.
pub const MODEL_SIZES: [ModelSize; 4] = [
    ModelSize {
        name: "minimum row, low end",
        cores: 1,
        gb: 2,
        gpus: 0,
    },
    ModelSize {
        name: "minimum row, high end",
        cores: 4,
        gb: 8,
        gpus: 4,
    },
    ModelSize {
        name: "recommended row, low end",
        cores: 4,
        gb: 8,
        gpus: 1,
    },
    ModelSize {
        name: "recommended row, high end",
        cores: 16,
        gb: 32,
        gpus: 8,
    },
];

#[derive(Debug, Clone, Serialize)]
pub struct ComponentTotals {
    /// `component` label (`knative`).
    pub component: String,
    /// The plan's name of the component, where the plan has a row.
    pub plan_name: Option<String>,
    pub workloads: Vec<String>,
    pub requests: Amount,
    pub limits: Amount,
    pub requests_text: String,
    pub limits_text: String,
    pub plan_minimum: Option<String>,
    pub plan_recommended: Option<String>,
    /// `meets recommended`, `meets minimum`, `BELOW MINIMUM`, or `no plan row`.
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterTotals {
    pub nodes: u64,
    pub per_node: Amount,
    pub gpus_per_node: u64,
    pub total: Amount,
    pub gpus: u64,
    pub text: String,
    /// What the stack's requests leave for models.
    pub left: Amount,
    pub left_text: String,
    pub fits: Vec<Fit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub size: String,
    pub need: String,
    pub count: u64,
    /// What limits the count (`cpu`, `memory`, `GPUs`, or a node too small).
    pub limited_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub profile: String,
    pub components: Vec<ComponentTotals>,
    pub requests: Amount,
    pub limits: Amount,
    pub requests_text: String,
    pub limits_text: String,
    pub cluster: Option<ClusterTotals>,
    /// Workloads not in the totals, and why.
    pub uncounted: String,
}

/// A located problem (key path below the environment, message).
pub type Located = (String, String);

/// CPU quantity -> millicores (rounded up), memory quantity -> bytes (rounded up).
pub fn parse_quantity(s: &str, milli: bool) -> Option<u64> {
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    // value = digits / 10^frac_len * multiplier (as numerator / denominator)
    let digits: u128 = format!("{int}{frac}").parse().ok()?;
    let mut den: u128 = 10u128.checked_pow(u32::try_from(frac.len()).ok()?)?;
    let (mut num_mul, den_mul): (u128, u128) = match suffix {
        "" => (1, 1),
        "n" => (1, 1_000_000_000),
        "u" => (1, 1_000_000),
        "m" => (1, 1000),
        "k" => (1000, 1),
        "M" => (1_000_000, 1),
        "G" => (1_000_000_000, 1),
        "T" => (1_000_000_000_000, 1),
        "P" => (1_000_000_000_000_000, 1),
        "E" => (1_000_000_000_000_000_000, 1),
        "Ki" => (1 << 10, 1),
        "Mi" => (1 << 20, 1),
        "Gi" => (1 << 30, 1),
        "Ti" => (1 << 40, 1),
        "Pi" => (1 << 50, 1),
        "Ei" => (1 << 60, 1),
        other => {
            let exp: i32 = other.strip_prefix(['e', 'E'])?.parse().ok()?;
            if exp.unsigned_abs() > 18 {
                return None;
            }
            let p = 10u128.pow(exp.unsigned_abs());
            if exp >= 0 {
                (p, 1)
            } else {
                (1, p)
            }
        }
    };
    if milli {
        num_mul = num_mul.checked_mul(1000)?;
    }
    den = den.checked_mul(den_mul)?;
    let value = digits.checked_mul(num_mul)?;
    let rounded = value.div_ceil(den);
    u64::try_from(rounded).ok()
}

fn cores(m: u64) -> String {
    let whole = m / 1000;
    let frac = m % 1000;
    let n = if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_string()
    };
    format!("{n} core{}", if m == 1000 { "" } else { "s" })
}

/// Bytes as GiB with two decimals (rounded down).
fn gib(b: u64) -> String {
    let hundredths = (u128::from(b) * 100 / u128::from(GIB)) as u64;
    format!("{}.{:02} GiB", hundredths / 100, hundredths % 100)
}

fn resources(profile: &Profile, id: &str) -> Option<(Amount, Amount)> {
    let r = profile.get(id)?;
    let amount = |q: &crate::model::matrix::Quantities| {
        Some(Amount {
            millicores: parse_quantity(&q.cpu, true)?,
            bytes: parse_quantity(&q.memory, false)?,
        })
    };
    Some((amount(&r.requests)?, amount(&r.limits)?))
}

/// The cluster's size, where the matrix gives it, checked (problems located below the
/// environment).
fn cluster_size(env: &Environment, problems: &mut Vec<Located>) -> Option<(u64, Amount, u64)> {
    let c = &env.cluster;
    match (c.nodes, c.cores_per_node, &c.memory_per_node) {
        (None, None, None) => None,
        (Some(nodes), Some(cores), Some(memory)) => {
            let mut ok = true;
            if nodes == 0 {
                problems.push((
                    ".cluster.nodes".into(),
                    "a cluster needs at least one node that runs workloads".into(),
                ));
                ok = false;
            }
            if cores == 0 {
                problems.push((
                    ".cluster.cores_per_node".into(),
                    "a node needs at least one core".into(),
                ));
                ok = false;
            }
            let bytes = match crate::base::names::check_quantity(memory)
                .ok()
                .and_then(|_| parse_quantity(memory, false))
            {
                Some(b) if b > 0 => Some(b),
                _ => {
                    problems.push((
                        ".cluster.memory_per_node".into(),
                        format!(
                            "`{}` is not a memory quantity above zero (e.g. 450G, 512Gi)",
                            memory.escape_debug()
                        ),
                    ));
                    None
                }
            };
            let bytes = bytes?;
            ok.then_some((
                u64::from(nodes),
                Amount {
                    millicores: u64::from(cores) * 1000,
                    bytes,
                },
                u64::from(c.gpus_per_node),
            ))
        }
        _ => {
            problems.push((
                ".cluster".into(),
                "give nodes, cores_per_node and memory_per_node together (the capacity report needs all three)".into(),
            ));
            None
        }
    }
}

/// The report for one environment. `installed` names the releases the environment installs.
/// Problems (errors) are returned located below `environments.<env>`; the report is None
/// when the profile cannot be read (other checks report why).
pub fn compute(
    env: &Environment,
    profile: Option<&Profile>,
    releases: &[Release],
    installed: &[String],
    problems: &mut Vec<Located>,
) -> Option<Report> {
    let cluster = cluster_size(env, problems);
    let profile = profile?;
    let mut components: Vec<ComponentTotals> = Vec::new();
    let mut requests = Amount::default();
    let mut limits = Amount::default();
    let mut too_big: Vec<(String, Amount)> = Vec::new();
    for r in releases.iter().filter(|r| installed.contains(&r.name)) {
        for w in &r.entry.workloads {
            let Some((req, lim)) = resources(profile, &w.id) else {
                continue;
            };
            requests = requests.add(req);
            limits = limits.add(lim);
            if let Some((_, per_node, _)) = cluster {
                if req.millicores > per_node.millicores || req.bytes > per_node.bytes {
                    too_big.push((w.id.clone(), req));
                }
            }
            let i = match components.iter().position(|c| c.component == r.label) {
                Some(i) => i,
                None => {
                    components.push(ComponentTotals {
                        component: r.label.clone(),
                        plan_name: None,
                        workloads: Vec::new(),
                        requests: Amount::default(),
                        limits: Amount::default(),
                        requests_text: String::new(),
                        limits_text: String::new(),
                        plan_minimum: None,
                        plan_recommended: None,
                        verdict: String::new(),
                    });
                    components.len() - 1
                }
            };
            let c = &mut components[i];
            c.workloads.push(w.id.clone());
            c.requests = c.requests.add(req);
            c.limits = c.limits.add(lim);
        }
    }
    for c in &mut components {
        c.requests_text = c.requests.text();
        c.limits_text = c.limits.text();
        c.verdict = match plan_rows(&c.component) {
            None => "no plan row".into(),
            Some((name, min, rec)) => {
                c.plan_name = Some(name.into());
                c.plan_minimum = Some(min.text());
                c.plan_recommended = Some(rec.text());
                let level = |a: Amount| {
                    let reaches = |row: PlanRow| {
                        let r = row.amount();
                        a.millicores >= r.millicores && a.bytes >= r.bytes
                    };
                    if reaches(rec) {
                        "reach the recommended"
                    } else if reaches(min) {
                        "reach the minimum"
                    } else {
                        "are BELOW THE MINIMUM"
                    }
                };
                format!("requests {}, limits {}", level(c.requests), level(c.limits))
            }
        };
    }
    let cluster = cluster.map(|(nodes, per_node, gpus_per_node)| {
        let total = Amount {
            millicores: per_node.millicores * nodes,
            bytes: per_node.bytes.saturating_mul(nodes),
        };
        let gpus = gpus_per_node * nodes;
        if requests.millicores > total.millicores || requests.bytes > total.bytes {
            problems.push((
                ".profile".into(),
                format!(
                    "profile `{}` requests {} in total, more than the cluster has ({} nodes of {}: {})",
                    env.profile,
                    requests.text(),
                    nodes,
                    per_node.text(),
                    total.text()
                ),
            ));
        }
        for (id, req) in &too_big {
            problems.push((
                ".profile".into(),
                format!(
                    "profile `{}`: workload {id} requests {}, more than one node has ({}); its pod can never be scheduled",
                    env.profile,
                    req.text(),
                    per_node.text()
                ),
            ));
        }
        let left = Amount {
            millicores: total.millicores.saturating_sub(requests.millicores),
            bytes: total.bytes.saturating_sub(requests.bytes),
        };
        let fits = MODEL_SIZES
            .iter()
            .map(|s| fit(s, left, gpus, per_node, gpus_per_node))
            .collect();
        ClusterTotals {
            nodes,
            per_node,
            gpus_per_node,
            total,
            gpus,
            text: format!(
                "{nodes} nodes × ({}, {gpus_per_node} GPUs) = {}, {gpus} GPUs",
                per_node.text(),
                total.text()
            ),
            left,
            left_text: format!("{}, {gpus} GPUs", left.text()),
            fits,
        }
    });
    Some(Report {
        profile: env.profile.clone(),
        components,
        requests,
        limits,
        requests_text: requests.text(),
        limits_text: limits.text(),
        cluster,
        uncounted: "one replica per profiled workload (the upstream HPA minimum; the activator and the ingress gateway scale out under load); not counted: containers no profile sets (net-istio controller and webhook, the Knative Operator, kube-rbac-proxy, injected Istio sidecars), which keep their upstream defaults".into(),
    })
}

/// How many models of `size` fit in what is left: the smallest of cpu, memory and GPU
/// quotients; zero when one model needs more than a node has.
fn fit(size: &ModelSize, left: Amount, gpus: u64, per_node: Amount, gpus_per_node: u64) -> Fit {
    let need = Amount {
        millicores: size.cores * 1000,
        bytes: size.gb * GB,
    };
    let need_text = format!(
        "{} core{}, {} GB, {} GPU{}",
        size.cores,
        if size.cores == 1 { "" } else { "s" },
        size.gb,
        size.gpus,
        if size.gpus == 1 { "" } else { "s" }
    );
    let too_big = if need.millicores > per_node.millicores {
        Some(format!("needs {} cores on one node", size.cores))
    } else if need.bytes > per_node.bytes {
        Some(format!("needs {} GB on one node", size.gb))
    } else if size.gpus > gpus_per_node {
        Some(format!(
            "needs {} GPUs on one node; nodes have {gpus_per_node}",
            size.gpus
        ))
    } else {
        None
    };
    if let Some(why) = too_big {
        return Fit {
            size: size.name.into(),
            need: need_text,
            count: 0,
            limited_by: why,
        };
    }
    let mut by = vec![
        (left.millicores / need.millicores, "cpu"),
        (left.bytes / need.bytes, "memory"),
    ];
    if let Some(n) = gpus.checked_div(size.gpus) {
        by.push((n, "GPUs"));
    }
    let (count, what) = by
        .iter()
        .copied()
        .min_by_key(|(n, _)| *n)
        .unwrap_or((0, "cpu"));
    Fit {
        size: size.name.into(),
        need: need_text,
        count,
        limited_by: what.into(),
    }
}

/// The report of a validated environment.
pub fn report(plan: &Plan, env: &crate::plan::EnvPlan) -> Option<Report> {
    let mut ignored = Vec::new();
    compute(
        &env.env,
        plan.matrix.profiles.get(&env.env.profile),
        &plan.releases,
        &env.releases,
        &mut ignored,
    )
}

/// Components whose limits stay below the plan's minimum, as warnings.
pub fn warnings(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for e in &plan.environments {
        let Some(r) = report(plan, e) else { continue };
        for c in &r.components {
            let Some((name, min, _)) = plan_rows(&c.component) else {
                continue;
            };
            let m = min.amount();
            if c.limits.millicores < m.millicores || c.limits.bytes < m.bytes {
                out.push(format!(
                    "warning: environment {}: [profile-below-plan-minimum] profile `{}` caps {name} at {} (limits of {}), below the plan's minimum of {} (source: {PLAN_SOURCE})",
                    e.name,
                    r.profile,
                    c.limits.text(),
                    c.workloads.join(", "),
                    min.text()
                ));
            }
        }
    }
    out
}

/// The `deploygen explain` section.
pub fn explain_text(r: &Report) -> String {
    let mut out = format!("capacity (profile {}; {}):\n", r.profile, r.uncounted);
    for c in &r.components {
        out.push_str(&format!(
            "  {:<13} requests {:<24} limits {:<24} plan: {}\n",
            c.component,
            c.requests_text,
            c.limits_text,
            match (&c.plan_name, &c.plan_minimum, &c.plan_recommended) {
                (Some(n), Some(min), Some(rec)) =>
                    format!("{n} minimum {min}, recommended {rec}: {}", c.verdict),
                _ => c.verdict.clone(),
            }
        ));
    }
    out.push_str(&format!(
        "  {:<13} requests {:<24} limits {}\n",
        "stack", r.requests_text, r.limits_text
    ));
    match &r.cluster {
        None => out.push_str(
            "  cluster: size not given (cluster.nodes, cores_per_node, memory_per_node)\n",
        ),
        Some(c) => {
            out.push_str(&format!(
                "  cluster: {}\n  left for models: {}\n",
                c.text, c.left_text
            ));
            for f in &c.fits {
                out.push_str(&format!(
                    "    {:>4} models of the plan's {} ({}); limited by {}\n",
                    f.count, f.size, f.need, f.limited_by
                ));
            }
        }
    }
    out.push_str(&format!("  source: {PLAN_SOURCE}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::parse_quantity;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("100m", true), Some(100));
        assert_eq!(parse_quantity("1", true), Some(1000));
        assert_eq!(parse_quantity("0.5", true), Some(500));
        assert_eq!(parse_quantity("1e3", true), Some(1_000_000));
        assert_eq!(parse_quantity("256Mi", false), Some(256 << 20));
        assert_eq!(parse_quantity("450G", false), Some(450_000_000_000));
        assert_eq!(parse_quantity("1.5Gi", false), Some(3 << 29));
        assert_eq!(parse_quantity("x", false), None);
    }
}
