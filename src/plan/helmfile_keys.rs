//! `tools.helmfile` against the keys the helmfile writer needs for this matrix: a required key
//! (catalog::helmfile_keys) the site's helmfile predates refuses the matrix. Optional keys are
//! the writer's to leave out (render::helmfile_keys).

use crate::catalog::helmfile_keys::{
    KeyRow, Need, BASE, CREATE_NAMESPACE, RELEASE_CONDITION, RELEASE_LABELS, RELEASE_NEEDS,
    REPOSITORY_OCI,
};
use crate::model::matrix::Matrix;
use crate::plan::Release;

/// The required rows the writer emits for this matrix, each with the paths it emits from it.
/// `releases[].skipSchemaValidation` is left to the chart-defect check (plan::validate), whose
/// message names the defect that needs it.
pub fn required(
    matrix: &Matrix,
    releases: &[Release],
) -> Vec<(&'static KeyRow, Vec<&'static str>)> {
    let vendored = matrix.layout.vendored_charts;
    let repositories = !vendored && releases.iter().any(|r| r.chart.is_some());
    let oci = repositories
        && releases
            .iter()
            .filter_map(|r| r.chart.as_ref())
            .any(|c| c.repository.starts_with("oci://"));
    let base = BASE
        .paths
        .iter()
        .copied()
        .filter(|p| repositories || !p.starts_with("repositories"))
        .collect();
    let mut out = vec![
        (&BASE, base),
        (&CREATE_NAMESPACE, CREATE_NAMESPACE.paths.to_vec()),
        (&RELEASE_LABELS, RELEASE_LABELS.paths.to_vec()),
    ];
    if oci {
        out.push((&REPOSITORY_OCI, REPOSITORY_OCI.paths.to_vec()));
    }
    if releases.iter().any(|r| !r.needs.is_empty()) {
        out.push((&RELEASE_NEEDS, RELEASE_NEEDS.paths.to_vec()));
    }
    if releases.iter().any(|r| r.knative_only) {
        out.push((&RELEASE_CONDITION, RELEASE_CONDITION.paths.to_vec()));
    }
    debug_assert!(out.iter().all(|(r, _)| r.need == Need::Required));
    out
}

/// Why the site's helmfile cannot load what the writer emits: one message (for
/// `tools.helmfile`) per required row the site's helmfile predates.
pub fn missing(matrix: &Matrix, releases: &[Release], helmfile: &semver::Version) -> Vec<String> {
    let mut out = Vec::new();
    for (row, paths) in required(matrix, releases) {
        // The keys older than the floor carry the floor as their version, not their own: a
        // helmfile below it is refused for `helmDefaults.createNamespace`, which every render
        // carries and which arrived at the floor, so they add nothing but noise.
        let older_than_floor = *row == BASE || *row == RELEASE_LABELS;
        if row.known_by(helmfile) || older_than_floor {
            continue;
        }
        let keys = paths
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(format!(
            "the helmfile deploygen writes for this matrix needs {keys}, which helmfile knows since {} ({}); the site runs {helmfile}: upgrade helmfile to {} or later",
            row.since, row.source, row.since
        ));
    }
    out
}
