//! Validation: the checks of the raw matrix against grammars, the catalog and the site's
//! tools (registries, catalog images and their keys, profiles, operations, layout). Each
//! records every independent problem it finds, located by key path; `resolve` runs them
//! while it turns the matrix into a `Plan`.

use std::collections::BTreeSet;

use crate::base::error::Problem;
use crate::base::image::{check_host, ImageRef};
use crate::base::names::{check_dns_label, check_dns_subdomain, check_quantity};
use crate::catalog::{CatalogImage, SetAt, ValuesKeys};
use crate::model::matrix::Matrix;
use crate::plan::compat;
use crate::plan::Release;

/// Problems found so far, each located by key path in the matrix.
pub(crate) struct Problems<'a> {
    pub(crate) file: &'a str,
    pub(crate) list: Vec<Problem>,
}

impl Problems<'_> {
    pub(crate) fn at(&mut self, path: impl AsRef<str>, message: impl Into<String>) {
        self.list.push(Problem {
            location: format!("{}: {}", self.file, path.as_ref()),
            message: message.into(),
        });
    }
}

/// The tool versions parse, and every chart defect the site's Helm hits has a workaround
/// those tools support. Returns the Helm version.
pub(crate) fn check_tools(
    matrix: &Matrix,
    releases: &[Release],
    p: &mut Problems,
) -> Option<semver::Version> {
    let mut parsed = Vec::new();
    for (tool, text) in [
        ("helm", &matrix.tools.helm),
        ("helmfile", &matrix.tools.helmfile),
    ] {
        match crate::base::version::parse_lenient(text) {
            Ok(v) => parsed.push(v),
            Err(e) => {
                p.at(
                    format!("tools.{tool}"),
                    format!("`{text}` is not a version: {e}"),
                );
                return None;
            }
        }
    }
    let (helm, helmfile) = (parsed[0].clone(), parsed[1].clone());
    for r in releases {
        for d in compat::defects(r, &helm) {
            for (tool, min, source) in d.fix.needs() {
                let have = if tool == "helm" { &helm } else { &helmfile };
                if *have < min {
                    p.at(
                        format!("tools.{tool}"),
                        format!(
                            "{} {}'s chart has defect {} ({}; {}), whose workaround needs {tool} >= {min} ({source}); the site runs {have}: upgrade {tool} or pin a version without the defect",
                            r.name, r.version, d.id, d.why, d.source
                        ),
                    );
                }
            }
        }
    }
    for message in crate::plan::helmfile_keys::missing(matrix, releases, &helmfile) {
        p.at("tools.helmfile", message);
    }
    Some(helm)
}

pub(crate) fn check_registries(matrix: &Matrix, p: &mut Problems) {
    let mut seen = BTreeSet::new();
    for (i, host) in matrix.registries.upstream.iter().enumerate() {
        if let Err(e) = check_host(host) {
            p.at(
                format!("registries.upstream[{i}]"),
                format!("not a registry host: {e}"),
            );
        }
        if !seen.insert(host) {
            p.at(
                format!("registries.upstream[{i}]"),
                format!("`{host}` is listed twice"),
            );
        }
    }
}

pub(crate) fn check_catalog_images(matrix: &Matrix, releases: &[Release], p: &mut Problems) {
    for r in releases {
        for img in &r.images {
            let what = format!("catalog {} {}: image {}", r.component, r.version, img.id);
            match ImageRef::parse(&img.reference) {
                Ok(i) if !matrix.registries.upstream.contains(&i.registry) => p.at(
                    "registries.upstream",
                    format!("{what} comes from {}, which is not listed", i.registry),
                ),
                Ok(i) => check_set_keys(&what, &i, img, p),
                Err(e) => p.at("versions", format!("{what}: `{}` {e}", img.reference)),
            }
        }
    }
}

pub(crate) fn check_set_keys(what: &str, image: &ImageRef, img: &CatalogImage, p: &mut Problems) {
    if img.set.is_empty() {
        p.at("versions", format!("{what} says nowhere where it is set"));
    }
    for s in &img.set {
        let needs_tag = matches!(
            s,
            SetAt::Values(ValuesKeys::RepositoryTag { .. }) | SetAt::Hub { .. }
        );
        if needs_tag && (image.tag.is_none() || image.digest.is_some()) {
            p.at(
                "versions",
                format!("{what} is pinned by digest but set through a tag key"),
            );
        }
        if matches!(s, SetAt::Values(ValuesKeys::RepositoryDigest { .. })) && image.digest.is_none()
        {
            p.at(
                "versions",
                format!("{what} has no digest but is set through a digest key"),
            );
        }
    }
}

pub(crate) fn check_profiles(matrix: &Matrix, releases: &[Release], p: &mut Problems) {
    let known: BTreeSet<&str> = releases
        .iter()
        .flat_map(|r| r.entry.workloads.iter().map(|w| w.id.as_str()))
        .collect();
    for (name, profile) in &matrix.profiles {
        if let Err(e) = check_dns_label(name) {
            p.at(format!("profiles.{name}"), e);
        }
        for (workload, res) in profile {
            let path = format!("profiles.{name}.{workload}");
            if !releases.is_empty() && !known.contains(workload.as_str()) {
                let hint = crate::base::suggest::hint(workload, known.iter().copied());
                let all: Vec<&str> = known.iter().copied().collect();
                p.at(
                    &path,
                    format!(
                        "unknown workload `{workload}`{hint}; known: {}",
                        all.join(", ")
                    ),
                );
            }
            for (kind, q) in [("requests", &res.requests), ("limits", &res.limits)] {
                for (res_name, value) in [("cpu", &q.cpu), ("memory", &q.memory)] {
                    if let Err(e) = check_quantity(value) {
                        p.at(format!("{path}.{kind}.{res_name}"), e);
                    }
                }
            }
        }
    }
}

pub(crate) fn check_operations(
    env: &crate::model::matrix::Environment,
    at: &dyn Fn(&str) -> String,
    p: &mut Problems,
) {
    use crate::base::names::{check_label_key, check_label_value};
    use crate::model::matrix::IssuerKind;
    let ops = &env.operations;
    let mon = &ops.monitoring;
    if let Err(e) = check_dns_label(&mon.namespace) {
        p.at(at(".operations.monitoring.namespace"), e);
    }
    for (field, labels) in [
        ("selector_labels", &mon.selector_labels),
        ("dashboard_labels", &mon.dashboard_labels),
    ] {
        for (k, v) in labels {
            let path = at(&format!(".operations.monitoring.{field}"));
            if let Err(e) = check_label_key(k).and_then(|_| check_label_value(v)) {
                p.at(path, e);
            }
        }
    }
    for (i, b) in ops.access_control.bindings.iter().enumerate() {
        let path = at(&format!(".operations.access_control.bindings[{i}]"));
        if b.group.trim().is_empty() || b.group.chars().any(char::is_control) || b.group.len() > 253
        {
            p.at(
                format!("{path}.group"),
                format!(
                    "`{}` is not a group name (1 to 253 printable characters)",
                    b.group.escape_debug()
                ),
            );
        }
        if let Some(ns) = &b.namespace {
            if let Err(e) = check_dns_label(ns) {
                p.at(format!("{path}.namespace"), e);
            }
        }
    }
    if !ops.access_control.roles && !ops.access_control.bindings.is_empty() {
        p.at(
            at(".operations.access_control.roles"),
            "bindings refer to the kserve-* ClusterRoles: set roles: true",
        );
    }
    let tls = &ops.tls;
    if let Err(e) = check_dns_subdomain(&tls.domain) {
        p.at(at(".operations.tls.domain"), e);
    }
    match (tls.issuer, &tls.external_issuer) {
        (IssuerKind::External, None) => p.at(
            at(".operations.tls.external_issuer"),
            "issuer: external needs external_issuer: the name of an existing ClusterIssuer",
        ),
        (IssuerKind::External, Some(name)) => {
            if let Err(e) = check_dns_subdomain(name) {
                p.at(at(".operations.tls.external_issuer"), e);
            }
        }
        (_, Some(_)) => p.at(
            at(".operations.tls.external_issuer"),
            "only used with issuer: external",
        ),
        _ => {}
    }
    if tls.https && tls.issuer == IssuerKind::None {
        p.at(
            at(".operations.tls.https"),
            "HTTPS needs a certificate: set issuer to self-signed-ca or external",
        );
    }
    let smoke = &ops.smoke_tests;
    if let Err(e) = check_dns_label(&smoke.namespace) {
        p.at(at(".operations.smoke_tests.namespace"), e);
    }
    if let Err(e) = check_quantity(&smoke.volume_size) {
        p.at(at(".operations.smoke_tests.volume_size"), e);
    }
    crate::plan::operations::check(env, at, &mut |path, message| p.at(path, message));
}

/// Layout paths are plain relative paths; the parent's exclusions name environments it may
/// declare (the parent itself is read by `deploygen check`).
pub(crate) fn check_layout(matrix: &Matrix, p: &mut Problems) {
    let layout = &matrix.layout;
    for (key, path, _) in layout.paths() {
        if let Err(e) = crate::model::layout::check_path(path) {
            p.at(format!("layout.{key}"), e);
        }
    }
    if !layout.helmfile.ends_with(".yaml") && !layout.helmfile.ends_with(".yaml.gotmpl") {
        p.at(
            "layout.helmfile",
            "a helmfile is named *.yaml (or *.yaml.gotmpl)",
        );
    }
    if !layout.vendored_charts && !layout.vendored_as.is_archive() {
        p.at(
            "layout.vendored_as",
            "says how vendored charts sit in the tree, but layout.vendored_charts is off: set \
             vendored_charts: true, or drop vendored_as",
        );
    }
    if let Some(parent) = &layout.parent {
        if parent.helmfile == layout.helmfile {
            p.at(
                "layout.parent.helmfile",
                "the parent helmfile is the stack's own helmfile",
            );
        }
        for (i, x) in parent.excluded_environments.iter().enumerate() {
            let at = format!("layout.parent.excluded_environments[{i}]");
            if matrix.environments.contains_key(&x.environment) {
                p.at(
                    format!("{at}.environment"),
                    format!(
                        "`{}` is an environment of the matrix, so it is not excluded",
                        x.environment
                    ),
                );
            }
            if x.reason.trim().is_empty() {
                p.at(
                    format!("{at}.reason"),
                    "say why the environment goes without the stack",
                );
            }
        }
    }
}

/// `cluster.platform_apis`: each entry a `group/version` of an API group a CRD can define
/// (Kubernetes' CRD validation: the group a DNS-1123 subdomain with at least one dot, the
/// version a DNS-1035 label), listed once.
pub(crate) fn check_platform_apis(
    env: &crate::model::matrix::Environment,
    at: &dyn Fn(&str) -> String,
    p: &mut Problems,
) {
    let mut seen = BTreeSet::new();
    for (i, entry) in env.cluster.platform_apis.iter().enumerate() {
        let path = at(&format!(".cluster.platform_apis[{i}]"));
        let shown = entry.escape_debug();
        let Some((group, version)) = entry.split_once('/') else {
            p.at(
                path,
                format!("`{shown}` is not group/version (e.g. gateway.networking.k8s.io/v1)"),
            );
            continue;
        };
        if check_dns_subdomain(group).is_err() || !group.contains('.') {
            p.at(
                path,
                format!("`{shown}`: `{}` is not an API group a CRD can define (a DNS-1123 subdomain with at least one dot, e.g. monitoring.coreos.com)", group.escape_debug()),
            );
        } else if check_dns_label(version).is_err()
            || !version.starts_with(|c: char| c.is_ascii_lowercase())
        {
            p.at(
                path,
                format!(
                    "`{shown}`: `{}` is not an API version (a DNS-1035 label, e.g. v1, v1beta1)",
                    version.escape_debug()
                ),
            );
        } else if !seen.insert(entry) {
            p.at(path, format!("`{shown}` is listed twice"));
        }
    }
}
