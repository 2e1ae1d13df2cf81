//! Every key path the helmfile writer can emit, with the lowest helmfile version known to
//! accept it and where that was established. helmfile decodes a state file strictly (an
//! unknown key is a load error: roboll/helmfile#1639, #1659; helmfile/helmfile#991), so the
//! writer emits a key only when the site's helmfile (`tools.helmfile`) is at least its row's
//! version: an optional key is left out, a required one makes validation refuse the matrix.
//!
//! Paths: `.` between mapping keys, `[]` for every item of a list, `<name>` for a mapping key
//! that is a name the matrix chooses (an environment). A row marked `free` holds a mapping whose
//! keys are data (release labels), not helmfile keys.
//!
//! Where a row's version could not be pinned to the release that introduced the key, its
//! source says so and the version is the earliest release the key was seen accepted in. The
//! document separator `---` between `environments:` and the rest is no key: multi-document
//! state files predate every row (roboll/helmfile#891 shows one in 2019-12).

/// Whether the stack works without the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The render is wrong without it: a site helmfile that lacks it is refused.
    Required,
    /// A convenience: left out (and said so in the helmfile) where the site's helmfile lacks it.
    Optional,
}

/// One row of the table: key paths introduced together (or, for the oldest keys, seen
/// together before the floor), the first helmfile that accepts them, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub paths: &'static [&'static str],
    pub since: semver::Version,
    pub need: Need,
    /// The keys under these paths are data, not helmfile keys (release labels).
    pub free: bool,
    pub source: &'static str,
}

/// The floor: the first helmfile that knows every key the writer needs (release `condition`
/// and `helmDefaults.createNamespace` arrived in it). Older keys share [`BASE`].
pub const FLOOR: semver::Version = semver::Version::new(0, 114, 0);

/// The keys older than the floor, seen accepted together.
pub static BASE: KeyRow = KeyRow {
    paths: &[
        "environments",
        "environments.<name>",
        "environments.<name>.values",
        "repositories",
        "repositories[].name",
        "repositories[].url",
        "helmDefaults",
        "helmDefaults.wait",
        "helmDefaults.timeout",
        "releases",
        "releases[].name",
        "releases[].namespace",
        "releases[].chart",
        "releases[].values",
    ],
    since: FLOOR,
    need: Need::Required,
    free: false,
    source: "older than the floor v0.114.0, whose own keys come after them: repositories[].{name,url} and releases[].{name,namespace,chart,values} in roboll/helmfile#382 (2018-10), environments.<name>.values in roboll/helmfile#785 (2019-08), helmDefaults in roboll/helmfile#568 (v0.45.3, 2019-04), helmDefaults.{wait,timeout} in roboll/helmfile#1561 (2020-10); the exact releases that introduced them were not established",
};

/// Release labels (the `-l app=kserve,component=...` selectors of the README).
pub static RELEASE_LABELS: KeyRow = KeyRow {
    paths: &["releases[].labels"],
    since: FLOOR,
    need: Need::Required,
    free: true,
    source: "older than the floor v0.114.0 (selectors on release labels are roboll/helmfile's from 2018; labels in use in roboll/helmfile#1921's example, 2021); the release that introduced them was not established",
};

/// `needs`: install order between releases.
pub static RELEASE_NEEDS: KeyRow = KeyRow {
    paths: &["releases[].needs"],
    since: semver::Version::new(0, 94, 1),
    need: Need::Required,
    free: false,
    source: "roboll/helmfile#914 (`needs: [NS/NAME]`, merged 2019-10); the release carrying it was not pinned: v0.94.1 is the earliest seen with it (gitlab-org/cluster-integration/cluster-applications!18, \"Upgrade helmfile to 0.94.1 ... start using Helmfile DAG support\")",
};

/// `helmDefaults.historyMax`.
pub static HISTORY_MAX: KeyRow = KeyRow {
    paths: &["helmDefaults.historyMax"],
    since: semver::Version::new(0, 104, 0),
    need: Need::Optional,
    free: false,
    source: "roboll/helmfile#1022 (Add HistoryMax, merged 2019-12-10); the release carrying it was not pinned: v0.104.0 is the first release seen tagged from master after the merge (2020-03-23, fishworks/fish-food#640)",
};

/// `releases[].condition`: Knative's releases in RawDeployment environments.
pub static RELEASE_CONDITION: KeyRow = KeyRow {
    paths: &["releases[].condition"],
    since: FLOOR,
    need: Need::Required,
    free: false,
    source: "roboll/helmfile#1190 (conditional releases, merged 2020-04-22); the release carrying it was not pinned: v0.114.0 is the earliest seen evaluating it (roboll/helmfile#1242, a v0.114.0 build in markExcludedReleases)",
};

/// `helmDefaults.createNamespace`.
pub static CREATE_NAMESPACE: KeyRow = KeyRow {
    paths: &["helmDefaults.createNamespace"],
    since: FLOOR,
    need: Need::Required,
    free: false,
    source: "roboll/helmfile#1226 (createNamespace, merged 2020-04-26); roboll/helmfile#1231: \"helmfile v0.114.0 has a new `createNamespace` option\" (the table's floor: every older key is known from it on)",
};

/// `repositories[].oci`: KServe's charts are published to an OCI registry only.
pub static REPOSITORY_OCI: KeyRow = KeyRow {
    paths: &["repositories[].oci"],
    since: semver::Version::new(0, 138, 0),
    need: Need::Required,
    free: false,
    source: "roboll/helmfile#1629 (oci repository flag, merged 2021-01-28; roboll/helmfile#1639 shows `field oci not found in type state.RepositorySpec` before it); roboll/helmfile#1667 fixes issues \"seen on helmfile v0.138.0x\" with that recently added support",
};

/// `helmDefaults.skipDeps`: vendored charts need no `helm dependency build`.
pub static SKIP_DEPS: KeyRow = KeyRow {
    paths: &["helmDefaults.skipDeps"],
    since: semver::Version::new(0, 138, 0),
    need: Need::Optional,
    free: false,
    source: "absent in v0.128.1 (roboll/helmfile#1586: `field skipDeps not found in type state.HelmSpec`), on master by 2021-01-18 (roboll/helmfile#795, state.go at 9b64d65d) and read by PrepareCharts in roboll/helmfile#1629 (merged 2021-01-28, in v0.138.0 per roboll/helmfile#1667); the first release carrying it was not pinned: v0.138.0 is the earliest verified",
};

/// `helmDefaults.waitForJobs`.
pub static WAIT_FOR_JOBS: KeyRow = KeyRow {
    paths: &["helmDefaults.waitForJobs"],
    since: semver::Version::new(0, 139, 9),
    need: Need::Optional,
    free: false,
    source: "roboll/helmfile#1715 (waitForJobs in helmDefaults and releases, merged 2021-03-23; a user asks for a release on 2021-03-25); the first release carrying it was not pinned: v0.139.9 is the earliest seen released after the merge (in use by 2021-06-14, roboll/helmfile#1881)",
};

/// `releases[].kubeVersion`: `helmfile template` without a cluster.
pub static RELEASE_KUBE_VERSION: KeyRow = KeyRow {
    paths: &["releases[].kubeVersion"],
    since: semver::Version::new(0, 144, 0),
    need: Need::Optional,
    free: false,
    source: "helmfile/helmfile release notes v0.144.0 (\"enhances ReleaseSpec ... to also accept `kubeVersion` and `apiVersions`\", 2022-03-31)",
};

/// `releases[].skipSchemaValidation`: the workaround of a chart's schema defect
/// (`DefectFix::SkipSchemaValidation`), which reads its helmfile minimum from this row.
pub static RELEASE_SKIP_SCHEMA_VALIDATION: KeyRow = KeyRow {
    paths: &["releases[].skipSchemaValidation"],
    since: semver::Version::new(1, 0, 0),
    need: Need::Required,
    free: false,
    source: "release `skipSchemaValidation`: helmfile/helmfile#1935 (passes it to helm, merged after v0.171.0, whose `helmfile template` ignored the key: helmfile/helmfile#1947); v1.0.0 taken as the first release carrying the fix, not re-verified at its tag",
};

/// The whole table, in the order of the helmfile.
pub static ROWS: &[&KeyRow] = &[
    &BASE,
    &HISTORY_MAX,
    &CREATE_NAMESPACE,
    &SKIP_DEPS,
    &WAIT_FOR_JOBS,
    &REPOSITORY_OCI,
    &RELEASE_LABELS,
    &RELEASE_NEEDS,
    &RELEASE_CONDITION,
    &RELEASE_KUBE_VERSION,
    &RELEASE_SKIP_SCHEMA_VALIDATION,
];

impl KeyRow {
    /// Whether a site running `helmfile` knows every key of this row.
    pub fn known_by(&self, helmfile: &semver::Version) -> bool {
        *helmfile >= self.since
    }
}

/// The row that holds `path`, if any.
pub fn row_of(path: &str) -> Option<&'static KeyRow> {
    ROWS.iter().copied().find(|r| r.paths.contains(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_in_one_row_with_a_source() {
        let mut seen = std::collections::BTreeSet::new();
        for r in ROWS {
            assert!(!r.paths.is_empty() && !r.source.trim().is_empty());
            for p in r.paths {
                assert!(seen.insert(*p), "{p} is in two rows");
                assert_eq!(row_of(p), Some(*r));
            }
        }
        assert_eq!(row_of("releases[].dependsOn"), None);
        // No row below the floor is newer than it, and the floor is the newest required key
        // every render carries (condition, createNamespace).
        assert!(BASE.since == FLOOR && RELEASE_LABELS.since == FLOOR);
        assert!(RELEASE_NEEDS.since < FLOOR && HISTORY_MAX.since < FLOOR);
        assert_eq!(CREATE_NAMESPACE.since, FLOOR);
    }

    #[test]
    fn a_row_is_known_from_its_version_on() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert!(RELEASE_KUBE_VERSION.known_by(&v("0.144.0")));
        assert!(!RELEASE_KUBE_VERSION.known_by(&v("0.143.5")));
        assert!(RELEASE_SKIP_SCHEMA_VALIDATION.known_by(&v("1.1.6")));
        assert!(!RELEASE_SKIP_SCHEMA_VALIDATION.known_by(&v("0.171.0")));
    }
}
