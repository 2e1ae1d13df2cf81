//! The catalog's types: what one catalog file holds. Shared with build.rs (included there by
//! path), which parses the compiled-in catalog with them and writes it out as `static` data of
//! their mirror types (`catalog/statics.rs`, by `catalog/codegen.rs`), so this file depends only on serde, serde_yaml, semver
//! and `crate::model::matrix::DeploymentMode` (build.rs provides a stand-in).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::helmfile_keys::RELEASE_SKIP_SCHEMA_VALIDATION;
use crate::model::matrix::DeploymentMode;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalRules {
    #[serde(default)]
    pub known_bad: Vec<KnownBad>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownBad {
    pub component: String,
    pub version: String,
    pub why: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentVersion {
    pub component: String,
    pub version: String,
    /// Value of the `component` label on its releases (`knative` for operator and serving).
    pub label: String,
    pub kubernetes: KubeRange,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub installs: Option<Installs>,
    pub releases: Vec<ReleaseEntry>,
    /// What a running cluster needs, beyond `helm upgrade`, to reach this version from one
    /// below `from_below` (KServe v0.16 -> v0.17: CRDs and runtimes re-owned first).
    #[serde(default)]
    pub migrations: Vec<Migration>,
}

/// Steps a release engineer runs, in order, when a bump crosses `from_below`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    pub id: String,
    /// Applies when the version pinned before the bump is below this one.
    pub from_below: String,
    pub why: String,
    /// Each step in the order it must run.
    pub steps: Vec<String>,
    pub source: String,
}

/// The words a KServe version takes for the matrix's deployment modes (v0.16 renamed
/// Serverless to Knative and RawDeployment to Standard; the old words stay aliases).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeWords {
    pub serverless: String,
    pub raw_deployment: String,
    pub source: String,
}

/// Supported Kubernetes minor versions, inclusive (`max` absent = no known upper bound).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeRange {
    pub min: String,
    #[serde(default)]
    pub max: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    /// The other component the rule is about.
    pub component: String,
    /// `requires`: the lowest version allowed.
    #[serde(default)]
    pub min: Option<String>,
    /// `recommends`: the minors recommended whatever the cluster.
    #[serde(default)]
    pub versions: Option<Vec<String>>,
    /// `recommends`: Kubernetes minor -> recommended minors of `component`.
    #[serde(default)]
    pub per_kubernetes: Option<BTreeMap<String, Vec<String>>>,
    /// Applies only to environments in this deployment mode.
    #[serde(default)]
    pub mode: Option<DeploymentMode>,
    pub why: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// Broken otherwise: an error.
    Requires,
    /// Upstream's recommendation: a warning.
    Recommends,
}

/// What an operator can install (Knative Operator).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Installs {
    pub serving: VersionSpan,
    pub source: String,
    /// Serving minor (`1.15`) -> the net-istio build bundled for it.
    pub net_istio: BTreeMap<String, NetIstio>,
    pub net_istio_source: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSpan {
    pub min: semver::Version,
    pub max: semver::Version,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetIstio {
    pub version: String,
    pub images: Vec<CatalogImage>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseEntry {
    pub name: String,
    pub namespace: String,
    /// Upstream chart; absent for glue-only charts (knative-serving).
    #[serde(default)]
    pub chart: Option<Chart>,
    /// Release ids (`namespace/name`) that must be installed first.
    pub needs: Vec<String>,
    /// Values the wrapper chart always sets on the upstream chart (paths relative to it).
    #[serde(default)]
    pub values: Option<serde_yaml::Value>,
    /// Values path of the KServe deployment mode.
    #[serde(default)]
    pub deployment_mode_path: Option<String>,
    /// The words written at `deployment_mode_path` (absent: the matrix's own words).
    #[serde(default)]
    pub deployment_mode_words: Option<ModeWords>,
    /// Values path, with `{runtime}`, that switches one serving runtime off
    /// (`kserve.servingruntime.{runtime}.disabled`): every runtime of the chart that the
    /// environment does not name in `serving_runtimes` is switched off.
    #[serde(default)]
    pub runtime_disabled: Option<String>,
    /// Values paths of the ingress domain and URL scheme (KServe).
    #[serde(default)]
    pub domain_path: Option<String>,
    #[serde(default)]
    pub url_scheme_path: Option<String>,
    #[serde(default)]
    pub workloads: Vec<Workload>,
    #[serde(default)]
    pub images: Vec<CatalogImage>,
    #[serde(default)]
    pub images_source: Option<String>,
    /// Glue resources the wrapper chart carries (templates/glue/<release>/).
    #[serde(default)]
    pub glue: Vec<Feature>,
    /// Known defects of this chart version and how the tree works around them.
    #[serde(default)]
    pub defects: Vec<ChartDefect>,
    /// Every values key the upstream chart has (values.yaml, values.schema.json, `.Values.a.b`
    /// paths its templates read, keys a render proved), as `deploygen catalog import` found
    /// them. When present, every key this entry names must be one of them.
    #[serde(default)]
    pub values_keys: Vec<String>,
    /// Values keys (relative to the upstream chart) that give its pods image pull secrets.
    #[serde(default)]
    pub pull_secrets: Vec<PullSecretKey>,
}

impl ReleaseEntry {
    /// The serving runtime switches of this entry's `runtime_disabled` among `keys`
    /// (`runtime_switches`); `None` without a pattern.
    pub fn runtime_switches_in<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a String>,
    ) -> Option<Vec<(String, String)>> {
        runtime_switches(self.runtime_disabled.as_deref()?, keys)
    }
}

/// (runtime, values key) of every key a `runtime_disabled` pattern matches:
/// `kserve.servingruntime.{runtime}.disabled` matches `kserve.servingruntime.sklearnserver.disabled`,
/// not a deeper key. `None` when the pattern has no `{runtime}`.
pub fn runtime_switches<'a>(
    pattern: &str,
    keys: impl IntoIterator<Item = &'a String>,
) -> Option<Vec<(String, String)>> {
    let (head, tail) = pattern.split_once("{runtime}")?;
    Some(
        keys.into_iter()
            .filter_map(|k| {
                let name = k.strip_prefix(head)?.strip_suffix(tail)?;
                (!name.is_empty() && !name.contains('.')).then(|| (name.to_string(), k.clone()))
            })
            .collect(),
    )
}

/// Where a chart takes image pull secrets, and in which form.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSecretKey {
    pub path: String,
    /// `names` (`[regcred]`, Istio's global.imagePullSecrets) or `objects` (`[{name: regcred}]`).
    pub form: PullSecretForm,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PullSecretForm {
    Names,
    Objects,
}

/// A defect of a released chart, with the tool versions it bites under and its workaround.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartDefect {
    pub id: String,
    /// Helm versions that hit it (a semver requirement, `>=3.18.5`).
    pub helm: semver::VersionReq,
    pub why: String,
    pub source: String,
    pub fix: DefectFix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DefectFix {
    /// helmfile's per-release `skipSchemaValidation: true` (Helm's --skip-schema-validation).
    SkipSchemaValidation,
}

impl DefectFix {
    /// What the workaround needs of the site's tools: (tool, lowest version, source).
    pub fn needs(self) -> [(&'static str, semver::Version, &'static str); 2] {
        match self {
            DefectFix::SkipSchemaValidation => [
                (
                    "helm",
                    semver::Version::new(3, 16, 0),
                    "helm/helm#12743 (--skip-schema-validation, Helm v3.16.0)",
                ),
                // The helmfile minimum is the key's row in the helmfile writer's table.
                (
                    "helmfile",
                    RELEASE_SKIP_SCHEMA_VALIDATION.since.clone(),
                    RELEASE_SKIP_SCHEMA_VALIDATION.source,
                ),
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    /// `oci://host/path` or `https://…` Helm repository.
    pub repository: String,
    pub name: String,
    /// Exact version string, as upstream publishes it.
    pub version: String,
    pub source: String,
    /// The sha256 of the chart archive, written `sha256:<64 lower-case hex digits>` (the form
    /// of Helm's Chart.lock and OCI digests). `catalog import` records it when it read a
    /// `.tgz`; `vendor` places only an archive with this digest. Absent: not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A workload whose resources a profile sets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub id: String,
    /// Values path (relative to the upstream chart) of its `resources`.
    #[serde(default)]
    pub path: Option<String>,
    /// Or a KnativeServing `spec.workloads` entry.
    #[serde(default)]
    pub knative_workload: Option<KnativeWorkload>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KnativeWorkload {
    pub name: String,
    pub container: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogImage {
    pub id: String,
    /// Fully qualified upstream reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The KServe serving runtime this image belongs to; shipped only when enabled.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Where the image is set; one image may need several keys (queue-proxy).
    /// Written as one-key maps (`{values: …}`), not YAML tags.
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub set: Vec<SetAt>,
}

/// Where an image reference is written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SetAt {
    /// Chart values: a repository/tag pair, or one `repo:tag` string.
    Values(ValuesKeys),
    /// Istio: `hub` takes `registry/namespace`, `tag` the tag; shared by every Istio image.
    Hub { hub: String, tag: String },
    /// KnativeServing `spec.registry.override` key.
    KnativeOverride(String),
    /// KnativeServing `spec.config.<configmap>.<key>` (the ConfigMap Serving reads).
    KnativeConfig { configmap: String, key: String },
    /// No key of its own: the chart derives it from another image's values (same repository).
    Follows(String),
}

impl SetAt {
    /// The chart values keys this writes the image to (none for the Knative Operator's keys
    /// and for an image that follows another).
    pub fn keys(&self) -> Vec<&String> {
        match self {
            SetAt::Values(ValuesKeys::RepositoryTag { repository, tag }) => vec![repository, tag],
            SetAt::Values(ValuesKeys::Reference { reference }) => vec![reference],
            SetAt::Values(ValuesKeys::RepositoryDigest { repository, digest }) => {
                vec![repository, digest]
            }
            SetAt::Hub { hub, tag } => vec![hub, tag],
            _ => vec![],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum ValuesKeys {
    RepositoryTag {
        repository: String,
        tag: String,
    },
    Reference {
        #[serde(rename = "ref")]
        reference: String,
    },
    /// A repository key and a digest key (`repo@sha256:…`).
    RepositoryDigest {
        repository: String,
        digest: String,
    },
}

/// A glue feature a wrapper chart carries (catalog `glue:`), each with its templates under
/// templates/glue/<release>/templates/;
/// their values and schemas are in `render::glue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    NetworkPolicy,
    ServiceMonitor,
    PodMonitor,
    Dashboards,
    Rbac,
    Tls,
    /// The part of `tls` a chart that only serves HTTPS reads (the Knative gateway listener).
    TlsListener,
    KnativeServing,
    IngressClass,
    /// An Ingress of the site's own controller in front of a ClusterIP gateway
    /// (`gateway.ingress_class`; the istio-ingressgateway chart).
    SiteIngress,
    /// PeerAuthentication (and injection) for the model namespaces (the istiod chart).
    Mtls,
    /// Deny-by-default egress in the release's namespace and the flows it needs.
    Egress,
    /// `egress` with the mirror registry's endpoint too (knative-serving: tag resolution).
    EgressRegistry,
}
