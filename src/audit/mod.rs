//! `deploygen audit`: proves rendered manifests (what `helmfile -e ENV template` or
//! `helm template` print, made with the real upstream charts) against the environment's plan.
//! The catalog says what the charts should do; this reads what they did.
//!
//! - images: every reference (pod templates, runtimes, KServe's and Istio's config maps, image
//!   flags, what the Knative Operator deploys) is on the mirror and in the image lists, and
//!   every listed image is referenced;
//! - wiring: Services, monitors, webhooks and issuers name things that exist, and network
//!   policies admit each port from where its clients are;
//! - api: every apiVersion/kind is served by the environment's Kubernetes version;
//! - ports: no two Services claim one nodePort, no two pods one host port on a node (a whole
//!   platform render: every app of the root helmfile).

pub mod apis;
pub mod fit;
pub mod flows;
pub mod images;
pub mod ingress;
pub mod knative_config;
pub mod kserve_ingress;
pub mod manifest;
pub mod mesh;
pub mod operator;
pub mod pods;
pub mod ports;
pub mod refs;
pub mod report;
pub mod schema;
pub mod sidecar;
pub mod stand_ins;
pub mod validity;
pub mod virtual_services;
pub mod webhooks;
pub mod wiring;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::base::error::{Error, Result};
use crate::plan::{EnvPlan, Plan, PlannedImage};
use manifest::Object;
use report::{Finding, Findings, Severity};

/// What to audit against.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub env: String,
    /// Only these releases were rendered (default: every release the environment installs).
    pub releases: Vec<String>,
    /// The Knative Operator's kodata folder: derive its objects from its manifests rather
    /// than from the catalog.
    pub operator_manifests: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Audit {
    pub environment: String,
    pub objects: usize,
    /// Objects of the rest of a platform render (checked for port collisions only).
    pub platform: usize,
    pub findings: Vec<Finding>,
}

impl Audit {
    pub fn failures(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Fail)
            .count()
    }

    pub fn text(&self) -> String {
        report::text(
            &self.findings,
            (self.objects, self.platform),
            &self.environment,
        )
    }

    pub fn json(&self) -> String {
        let v = serde_json::json!({
            "environment": self.environment,
            "objects": self.objects,
            "platform_objects": self.platform,
            "failures": self.failures(),
            "findings": self.findings,
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Audits manifest text (`label` names it in messages) for one environment of the plan.
pub fn audit(plan: &Plan, opts: &Options, label: &str, text: &str) -> Result<Audit> {
    let env = plan
        .environments
        .iter()
        .find(|e| e.name == opts.env)
        .ok_or_else(|| {
            let all: Vec<&str> = plan.environments.iter().map(|e| e.name.as_str()).collect();
            Error::invalid(
                "--env",
                format!(
                    "no environment `{}`; environments: {}",
                    opts.env,
                    all.join(", ")
                ),
            )
        })?;
    for r in &opts.releases {
        if !env.installs(r) {
            return Err(Error::invalid(
                "--release",
                format!(
                    "environment {} installs no release `{r}`; it installs: {}",
                    env.name,
                    env.releases.join(", ")
                ),
            ));
        }
    }
    let scope: Vec<&str> = if opts.releases.is_empty() {
        env.releases.iter().map(String::as_str).collect()
    } else {
        opts.releases.iter().map(String::as_str).collect()
    };
    let whole = opts.releases.is_empty();
    let release_ns = |release: &str| {
        plan.releases
            .iter()
            .find(|r| r.name == release)
            .map(|r| r.namespace.clone())
    };
    let ours: Vec<&str> = plan.releases.iter().map(|r| r.name.as_str()).collect();
    let rendered = manifest::read(label, text, &release_ns)?;
    let platform = rendered
        .iter()
        .filter(|o| !manifest::stacks_source(o.source.as_deref(), &ours))
        .count();
    let mut f = Findings::default();

    // What the Knative Operator will apply, where the operator's manifests are given.
    let mut applied: Vec<Object> = Vec::new();
    let serving_version = plan.matrix.versions.knative_serving.as_str();
    for ks in operator::knative_servings(&rendered) {
        if ks.str_at("spec.version") != Some(serving_version) {
            f.fail(
                "images",
                ks,
                "spec.version",
                format!(
                    "is {:?}, but the matrix pins knative-serving {serving_version}",
                    ks.str_at("spec.version").unwrap_or("")
                ),
            );
        }
        if let Some(dir) = &opts.operator_manifests {
            applied.extend(operator::applied_objects(dir, ks, &mut f)?);
        }
    }
    let mut all = rendered.clone();
    all.extend(applied.iter().cloned());

    // Images.
    let mut uses = images::collect(&all);
    if opts.operator_manifests.is_some() {
        uses.extend(operator::applied_extra_images(&applied));
    } else {
        for ks in operator::knative_servings(&rendered) {
            uses.extend(operator::catalog_images(plan, ks));
        }
    }
    // Only the stack's images are the plan's to judge (a platform render holds other apps').
    let others = manifest::ids_of_others(&rendered, &ours);
    uses.retain(|u| !others.contains(&u.object));
    check_images(env, &scope, &uses, &mut f);

    // APIs served by the cluster, and custom resources by some CRD.
    apis::check(env, &all, whole, &mut f);

    // What the Knative Operator runs, where its manifests are not given: the checks below
    // read pods, Services and ServiceAccounts (stand_ins.rs).
    if opts.operator_manifests.is_none() {
        all.extend(stand_ins::stand_ins(&rendered));
    }

    // Wiring.
    let tls = &env.env.operations.tls;
    let ctx = wiring::Context {
        monitoring_namespace: env
            .env
            .operations
            .monitoring
            .prometheus
            .then_some(env.env.operations.monitoring.namespace.as_str()),
        external_issuers: tls.external_issuer.iter().map(String::as_str).collect(),
        operator_objects_missing: opts.operator_manifests.is_none(),
        partial: !whole,
    };
    wiring::check(&all, &ctx, &mut f);
    let egress = &env.env.operations.egress;
    let mesh_ctx = mesh::Context {
        api_server: egress.api_server.iter().map(String::as_str).collect(),
        api_server_port: i64::from(egress.api_server_port),
    };
    mesh::check(&all, &mesh_ctx, &mut f);
    refs::check(plan, env, &all, &ctx, &mut f);
    validity::check(env, &all, ctx.partial, &mut f);
    fit::check(env, &all, &mut f);
    ports::check(env, &all, &mut f);
    report::keep_the_stacks(&mut f, &ours);

    Ok(Audit {
        environment: env.name.clone(),
        objects: rendered.len() - platform,
        platform,
        findings: f.0,
    })
}

fn check_images(env: &EnvPlan, scope: &[&str], uses: &[images::ImageUse], f: &mut Findings) {
    let planned: BTreeMap<String, &PlannedImage> = env
        .images
        .iter()
        .filter(|i| scope.contains(&i.app.as_str()))
        .map(|i| (i.target.to_string(), i))
        .collect();
    let mirror = env.mirror();
    let list_hint = match mirror {
        Some(_) => format!(
            "the image lists of environment {} (deploygen images --env {})",
            env.name, env.name
        ),
        None => format!(
            "the images of environment {} (deploygen images --env {})",
            env.name, env.name
        ),
    };
    let mut seen: Vec<String> = Vec::new();
    for u in uses {
        if u.reference == "auto" {
            continue; // Istio injects the proxy image, audited on the injector ConfigMap.
        }
        let q = images::qualify(&u.reference);
        seen.push(q.clone());
        let mut problems = Vec::new();
        if let Some(m) = mirror {
            if !q.starts_with(&format!("{m}/")) {
                problems.push(format!("{} is not on the mirror {m}", u.reference));
            }
        }
        let listed = planned.get(&q);
        if listed.is_none() {
            problems.push(format!("{} is not in {list_hint}", u.reference));
        }
        let severity = if u.inactive.is_some() {
            Severity::Note
        } else {
            Severity::Fail
        };
        if problems.is_empty() {
            match (listed, &u.inactive) {
                (Some(p), _) if !p.shipped => f.add(
                    Severity::Note,
                    "images",
                    u.object.clone(),
                    u.path.clone(),
                    images::disabled_runtime(&u.reference, p, env),
                ),
                (_, Some(why)) => f.add(
                    Severity::Note,
                    "images",
                    u.object.clone(),
                    u.path.clone(),
                    format!("{} (inactive: {why})", u.reference),
                ),
                _ => {}
            }
            continue;
        }
        let mut message = problems.join("; ");
        if let Some(why) = &u.inactive {
            message.push_str(&format!(" (inactive, not pulled as rendered: {why})"));
        }
        f.add(
            severity,
            "images",
            u.object.clone(),
            u.path.clone(),
            message,
        );
    }
    for (target, p) in &planned {
        if p.shipped && p.component != "extra" && !seen.contains(target) {
            f.add(Severity::Fail, "lists", format!("image {}", p.id), format!("release {}", p.app), format!(
                "{target} is in {list_hint} but nothing rendered references it (the catalog says it is set at: {})",
                p.set.iter().map(|s| s.describe()).collect::<Vec<_>>().join("; ")
            ));
        }
    }
}
