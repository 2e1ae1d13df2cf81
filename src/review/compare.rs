//! Runs a review: reads the two renders, pairs their objects by identity and collects every
//! check's findings, sorted by class (consequence), object and field.

use std::collections::BTreeMap;

use super::context::Context;
use super::finding::{Class, Finding};
use super::objects::Pairs;
use crate::audit::manifest::{read, Object};
use crate::base::error::{Error, Result};

/// One rendered stack as given.
#[derive(Debug, Clone)]
pub struct Side {
    pub label: String,
    pub objects: usize,
}

#[derive(Debug, Clone)]
pub struct Review {
    pub before: Side,
    pub after: Side,
    pub environment: Option<String>,
    pub findings: Vec<Finding>,
}

impl Review {
    /// Findings per class, in report order.
    pub fn counts(&self) -> BTreeMap<Class, usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry(f.class).or_insert(0) += 1;
        }
        m
    }

    /// The findings that are not the folded structural rest.
    pub fn consequential(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.class != Class::Changed)
    }
}

/// Reviews two sets of objects.
pub fn objects(before: &[Object], after: &[Object], ctx: Option<&Context>) -> Result<Vec<Finding>> {
    let pairs = Pairs::new(before, after);
    // The structural diff (every field of every changed object) on a thread of its own.
    let (mut findings, rest) = std::thread::scope(|s| {
        let rest = s.spawn(|| super::structural::check(&pairs));
        let mut findings = super::images::check(before, after, ctx);
        findings.extend(super::rbac::check(&pairs));
        findings.extend(super::crds::check(&pairs));
        findings.extend(super::webhooks::check(&pairs));
        findings.extend(super::workload::check(&pairs, ctx));
        (findings, rest.join())
    });
    findings.extend(rest.map_err(|_| Error::internal("review", "the structural diff failed"))?);
    findings.sort_by(|a, b| {
        (a.class, &a.object, &a.path, &a.message).cmp(&(b.class, &b.object, &b.path, &b.message))
    });
    findings.dedup();
    Ok(findings)
}

/// Reviews two manifest streams (labels name them in messages). `release_namespace` gives
/// the namespace of an object without one, from the release its `# Source:` names.
pub fn review(
    before: (&str, &str),
    after: (&str, &str),
    release_namespace: &(dyn Fn(&str) -> Option<String> + Sync),
    ctx: Option<&Context>,
) -> Result<Review> {
    // The two renders are read side by side (parsing YAML is most of a review's time).
    let (b, a) = std::thread::scope(|s| {
        let b = s.spawn(|| read(before.0, before.1, release_namespace));
        let a = read(after.0, after.1, release_namespace);
        (b.join(), a)
    });
    let b = b.map_err(|_| Error::internal("review", "reading BEFORE failed"))??;
    let a = a?;
    Ok(Review {
        before: Side {
            label: before.0.to_string(),
            objects: b.len(),
        },
        after: Side {
            label: after.0.to_string(),
            objects: a.len(),
        },
        environment: ctx.map(|c| c.environment.clone()),
        findings: objects(&b, &a, ctx)?,
    })
}
