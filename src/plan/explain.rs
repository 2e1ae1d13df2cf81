//! What a reviewer reads first: per environment the install order with versions, chart
//! sources and Kubernetes ranges, and every compatibility rule's verdict. Shared by
//! `deploygen explain` and the generated COMPONENT_VERSIONS.md.

use serde::Serialize;

use crate::plan::{EnvPlan, Level, Plan, Release};

#[derive(Serialize)]
pub struct EnvDoc {
    pub name: String,
    pub kubernetes: String,
    pub mode: String,
    pub mirror: Option<String>,
    pub profile: String,
    pub storage_class: String,
    pub gpus_per_node: u32,
    pub serving_runtimes: Vec<String>,
    pub releases: Vec<ReleaseDoc>,
    pub skipped: Vec<String>,
    pub verdicts: Vec<VerdictDoc>,
    pub image_count: usize,
    /// Requests and limits per component against the plan and the cluster.
    pub capacity: Option<crate::plan::capacity::Report>,
}

#[derive(Serialize)]
pub struct ReleaseDoc {
    pub id: String,
    pub component: String,
    pub version: String,
    pub chart: String,
    pub kubernetes: String,
    pub source: String,
}

#[derive(Serialize)]
pub struct VerdictDoc {
    pub rule: String,
    pub level: String,
    pub message: String,
    pub source: String,
    pub reason: Option<String>,
}

fn release_doc(plan: &Plan, r: &Release) -> ReleaseDoc {
    let range = plan
        .components
        .iter()
        .find(|c| c.name == r.component)
        .map(|c| match &c.entry.kubernetes.max {
            Some(max) => format!("{} to {max}", c.entry.kubernetes.min),
            None => format!(">= {}", c.entry.kubernetes.min),
        })
        .unwrap_or_default();
    let (chart, source) = match &r.chart {
        Some(c) => (
            format!("{}/{} {}", c.repository, c.name, c.version),
            c.source.clone(),
        ),
        None => (
            format!("local glue chart (KnativeServing {})", r.version),
            r.entry.images_source.clone().unwrap_or_default(),
        ),
    };
    ReleaseDoc {
        id: r.id(),
        component: r.component.clone(),
        version: r.version.clone(),
        chart,
        kubernetes: range,
        source,
    }
}

pub fn env_doc(plan: &Plan, e: &EnvPlan) -> EnvDoc {
    EnvDoc {
        name: e.name.clone(),
        kubernetes: e.env.cluster.kubernetes.clone(),
        mode: e.env.deployment_mode.as_str().to_string(),
        mirror: e.mirror_label(),
        profile: e.env.profile.clone(),
        storage_class: e.env.cluster.storage_class.clone(),
        gpus_per_node: e.env.cluster.gpus_per_node,
        serving_runtimes: e.env.serving_runtimes.clone(),
        releases: plan
            .releases
            .iter()
            .filter(|r| e.installs(&r.name))
            .map(|r| release_doc(plan, r))
            .collect(),
        skipped: plan
            .releases
            .iter()
            .filter(|r| !e.installs(&r.name))
            .map(|r| r.id())
            .collect(),
        verdicts: e
            .verdicts
            .iter()
            .map(|v| VerdictDoc {
                rule: v.rule.clone(),
                level: v.level.as_str().to_string(),
                message: v.message.clone(),
                source: v.source.clone(),
                reason: v.reason.clone(),
            })
            .collect(),
        image_count: e.shipped_images().count(),
        capacity: crate::plan::capacity::report(plan, e),
    }
}

pub fn doc_context(plan: &Plan) -> minijinja::Value {
    let envs: Vec<EnvDoc> = plan.environments.iter().map(|e| env_doc(plan, e)).collect();
    minijinja::context! { matrix_file => plan.matrix_file, environments => envs }
}

/// The `deploygen explain` text for one environment or all.
pub fn explain(plan: &Plan, only: Option<&str>) -> String {
    let mut out = String::new();
    for e in plan
        .environments
        .iter()
        .filter(|e| only.is_none_or(|n| n == e.name))
    {
        let d = env_doc(plan, e);
        out.push_str(&format!(
            "environment {} — Kubernetes {}, {}, {}, profile {}\n",
            d.name,
            d.kubernetes,
            d.mode,
            d.mirror
                .as_deref()
                .map(|m| format!("mirror {m}"))
                .unwrap_or_else(|| "public registries".into()),
            d.profile
        ));
        out.push_str("install order:\n");
        for (i, r) in d.releases.iter().enumerate() {
            out.push_str(&format!(
                "  {}. {:<40} {} {}\n     chart {}\n     Kubernetes {} (source: {})\n",
                i + 1,
                r.id,
                r.component,
                r.version,
                r.chart,
                r.kubernetes,
                r.source
            ));
        }
        for s in &d.skipped {
            out.push_str(&format!("  -  {s} not installed ({})\n", d.mode));
        }
        out.push_str("rules:\n");
        for v in &e.verdicts {
            out.push_str(&format!(
                "  {:<8} {}: {}\n           source: {}\n",
                v.level.as_str(),
                v.rule,
                v.message,
                v.source
            ));
            if let Some(r) = &v.reason {
                // Free text from the matrix: never let it act on the terminal.
                out.push_str(&format!(
                    "           accepted: {}\n",
                    crate::base::text::escape(r)
                ));
            }
        }
        if let Some(c) = &d.capacity {
            out.push_str(&crate::plan::capacity::explain_text(c));
        }
        out.push('\n');
    }
    out
}

/// Warnings for stderr: recommendations not followed, in every environment, then profiles
/// below the plan's minimum.
pub fn warnings(plan: &Plan) -> Vec<String> {
    let mut out = rule_warnings(plan);
    out.extend(crate::plan::capacity::warnings(plan));
    out
}

fn rule_warnings(plan: &Plan) -> Vec<String> {
    plan.environments
        .iter()
        .flat_map(|e| {
            e.verdicts
                .iter()
                .filter(|v| v.level == Level::Warn)
                .map(move |v| {
                    format!(
                        "warning: environment {}: [{}] {} (source: {})",
                        e.name, v.rule, v.message, v.source
                    )
                })
        })
        .collect()
}
