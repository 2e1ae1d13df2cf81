//! The deployment matrix as the user writes it (`matrix.yaml`): typed, strict (unknown keys
//! are errors) and documented, so `deploygen schema` can hand editors a JSON Schema.
//! This is the raw input; `validate` turns it into a checked `Plan`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem, Result};

/// Largest matrix accepted. A real one is a few KiB; anything near this is a mistake
/// (a wrong file, a binary), refused before parsing.
pub const MAX_MATRIX_BYTES: usize = 1024 * 1024;

/// One typed deployment matrix: the release train, registries, resource profiles and the
/// environments it is rendered for.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    /// One pinned version per component; each must exist in deploygen's catalog.
    pub versions: Versions,
    pub registries: Registries,
    /// Named resource profiles: workload id -> requests and limits.
    pub profiles: BTreeMap<String, Profile>,
    /// The environments rendered, each one becomes a helmfile environment (`helmfile -e NAME`).
    pub environments: BTreeMap<String, Environment>,
}

/// The release train. Versions are written as upstream writes them (`v1.15.5`, `1.22.8`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Versions {
    #[serde(rename = "cert-manager")]
    pub cert_manager: String,
    pub istio: String,
    /// The Knative Operator chart version (`v1.15.10`).
    #[serde(rename = "knative-operator")]
    pub knative_operator: String,
    /// The Knative Serving version the operator installs (`1.15.3`); the operator must bundle it.
    #[serde(rename = "knative-serving")]
    pub knative_serving: String,
    pub kserve: String,
}

/// Catalog component names, in the order their releases install.
pub const COMPONENTS: [&str; 5] = [
    "cert-manager",
    "istio",
    "knative-operator",
    "knative-serving",
    "kserve",
];

impl Versions {
    pub fn get(&self, component: &str) -> Option<&str> {
        Some(match component {
            "cert-manager" => &self.cert_manager,
            "istio" => &self.istio,
            "knative-operator" => &self.knative_operator,
            "knative-serving" => &self.knative_serving,
            "kserve" => &self.kserve,
            _ => return None,
        })
    }

    /// (component, version) in install order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        COMPONENTS
            .into_iter()
            .filter_map(move |c| self.get(c).map(|v| (c, v)))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registries {
    /// Registry hosts the catalog's images may come from. In a mirrored environment the host is
    /// stripped and the path kept (kubespray-offline convention), so a catalog image from a
    /// host not listed here is an error rather than a silent collision.
    pub upstream: Vec<String>,
}

/// Requests and limits per workload id (`cert-manager-controller`, `istiod`, …).
pub type Profile = BTreeMap<String, Resources>;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub requests: Quantities,
    pub limits: Quantities,
}

/// Kubernetes resource quantities, e.g. `cpu: 100m`, `memory: 256Mi`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantities {
    pub cpu: String,
    pub memory: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub cluster: Cluster,
    /// Name of an entry of `profiles`.
    pub profile: String,
    /// `Serverless` (Knative) or `RawDeployment` (no Knative releases).
    pub deployment_mode: DeploymentMode,
    /// Private registry (`host[:port]`) every image is pulled from; absent = public registries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    /// KServe serving runtimes whose images this environment ships (`sklearnserver`, …).
    pub serving_runtimes: Vec<String>,
    /// Images the catalog cannot know (a team's own model server); listed and mirrored too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_images: Vec<ExtraImage>,
    /// Compatibility rules this environment knowingly breaks, each with a written reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<Acceptance>,
    /// Monitoring, access control, network policy, TLS, smoke tests (all off by default).
    #[serde(default)]
    pub operations: Operations,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum DeploymentMode {
    Serverless,
    RawDeployment,
}

impl DeploymentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentMode::Serverless => "Serverless",
            DeploymentMode::RawDeployment => "RawDeployment",
        }
    }

    pub fn uses_knative(self) -> bool {
        self == DeploymentMode::Serverless
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The cluster's Kubernetes version, e.g. `v1.28.6`.
    pub kubernetes: String,
    /// StorageClass for model volumes (PVCs).
    pub storage_class: String,
    pub gpus_per_node: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraImage {
    /// Fully qualified reference with a tag or digest (`registry/path:tag`).
    pub image: String,
    /// Image-list file it goes into (`airgap/kubespray-offline/imagelists/<list>.txt`).
    #[serde(default = "default_extra_list")]
    pub list: String,
    /// Why the image is needed.
    pub why: String,
}

fn default_extra_list() -> String {
    "extra".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// Rule id, as `deploygen explain` prints it (e.g. `kserve-recommended-istio`).
    pub rule: String,
    pub reason: String,
}

/// Parses matrix text. `file` names the source in messages.
pub fn parse(file: &str, text: &[u8]) -> Result<Matrix> {
    if text.len() > MAX_MATRIX_BYTES {
        return Err(Error::invalid(
            file,
            format!(
                "is {} bytes; a matrix is at most {} bytes (is this the right file?)",
                text.len(),
                MAX_MATRIX_BYTES
            ),
        ));
    }
    if let Some(pos) = text.iter().position(|&b| b == 0) {
        return Err(Error::invalid(
            file,
            format!("holds a NUL byte at offset {pos}: a matrix is YAML text, not binary"),
        ));
    }
    let text = std::str::from_utf8(text).map_err(|e| {
        Error::invalid(
            file,
            format!("is not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })?;
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Error::invalid(
            file,
            "is empty; expected a mapping with versions, registries, profiles and environments",
        ));
    }
    // A generic pass first: typed maps (BTreeMap) would silently keep the last of two equal
    // keys, a duplicate environment among them; the generic value refuses duplicates.
    serde_yaml::from_str::<serde_yaml::Value>(text)
        .map_err(|e| Error::Invalid(vec![yaml_problem(file, &e)]))?;
    serde_yaml::from_str::<Matrix>(text).map_err(|e| Error::Invalid(vec![yaml_problem(file, &e)]))
}

fn yaml_problem(file: &str, e: &serde_yaml::Error) -> Problem {
    let location = match e.location() {
        Some(l) => format!("{file}:{}:{}", l.line(), l.column()),
        None => file.to_string(),
    };
    let mut message = e.to_string();
    // serde_yaml appends " at line L column C"; the location already says it.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    Problem {
        location,
        message: crate::suggest::did_you_mean(&message),
    }
}

/// The JSON Schema of the matrix, as `deploygen schema` prints it.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Matrix);
    let mut value = serde_json::to_value(schema).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$comment".into(),
            serde_json::Value::String(crate::render::GENERATED_NOTE.to_string()),
        );
    }
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_default();
    out.push('\n');
    out
}

/// The operations layer the plan asks for on top of the charts: monitoring, access control,
/// network policy, TLS and smoke tests. Every part can be switched per environment.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    #[serde(default)]
    pub monitoring: Monitoring,
    #[serde(default)]
    pub access_control: AccessControl,
    /// `enforce`: deny-by-default ingress policies in the stack's namespaces; `off`: none.
    #[serde(default)]
    pub network_policies: NetworkPolicies,
    #[serde(default)]
    pub tls: Tls,
    #[serde(default)]
    pub smoke_tests: SmokeTests,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// kube-prometheus-stack runs in the cluster (Prometheus Operator CRDs present):
    /// render ServiceMonitors and PodMonitors. Off where Prometheus is absent.
    #[serde(default)]
    pub prometheus: bool,
    /// Namespace Prometheus scrapes from (allowed through the network policies).
    #[serde(default = "default_monitoring_namespace")]
    pub namespace: String,
    /// Labels the Prometheus `serviceMonitorSelector`/`podMonitorSelector` matches.
    #[serde(default)]
    pub selector_labels: BTreeMap<String, String>,
    /// Render the Grafana dashboard ConfigMap (picked up by the Grafana sidecar).
    #[serde(default)]
    pub grafana_dashboards: bool,
    /// Labels the Grafana sidecar watches for (kube-prometheus-stack: grafana_dashboard: "1").
    #[serde(default)]
    pub dashboard_labels: BTreeMap<String, String>,
}

fn default_monitoring_namespace() -> String {
    "monitoring".to_string()
}

// An absent block (or an absent `operations:`) means the same as an empty one: the serde
// defaults of each field, not `String::default()` (which no name check accepts).
impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            prometheus: false,
            namespace: default_monitoring_namespace(),
            selector_labels: BTreeMap::new(),
            grafana_dashboards: false,
            dashboard_labels: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessControl {
    /// Render the aggregated ClusterRoles (kserve-admin, kserve-model-developer, kserve-viewer).
    #[serde(default)]
    pub roles: bool,
    /// Groups bound to those roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<Binding>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// Group name as the cluster's authenticator reports it.
    pub group: String,
    pub role: AccessRole,
    /// Bind in this namespace (RoleBinding); absent = cluster-wide (ClusterRoleBinding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccessRole {
    Admin,
    ModelDeveloper,
    Viewer,
}

impl AccessRole {
    pub fn cluster_role(self) -> &'static str {
        match self {
            AccessRole::Admin => "kserve-admin",
            AccessRole::ModelDeveloper => "kserve-model-developer",
            AccessRole::Viewer => "kserve-viewer",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkPolicies {
    Enforce,
    #[default]
    Off,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Where certificates come from: `self-signed-ca` (a CA of the cluster's own, for sites
    /// that reach no ACME server), `external` (a ClusterIssuer that already exists), or `none`.
    #[serde(default)]
    pub issuer: IssuerKind,
    /// With `issuer: external`: the ClusterIssuer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_issuer: Option<String>,
    /// Serve HTTPS on the ingress gateway with a certificate for `*.<domain>` from the issuer.
    #[serde(default)]
    pub https: bool,
    /// Domain InferenceService hosts live under (Knative domain, gateway certificate).
    #[serde(default = "default_domain")]
    pub domain: String,
}

fn default_domain() -> String {
    "example.com".to_string()
}

impl Default for Tls {
    fn default() -> Self {
        Tls {
            issuer: IssuerKind::default(),
            external_issuer: None,
            https: false,
            domain: default_domain(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerKind {
    #[default]
    None,
    SelfSignedCa,
    External,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmokeTests {
    /// Render the test InferenceServices into examples/<env>/.
    #[serde(default)]
    pub enabled: bool,
    /// Namespace the test models run in.
    #[serde(default = "default_smoke_namespace")]
    pub namespace: String,
    /// Size of the model volume (a PVC on the environment's storage class).
    #[serde(default = "default_smoke_size")]
    pub volume_size: String,
}

fn default_smoke_namespace() -> String {
    "kserve-test".to_string()
}

fn default_smoke_size() -> String {
    "10Gi".to_string()
}

impl Default for SmokeTests {
    fn default() -> Self {
        SmokeTests {
            enabled: false,
            namespace: default_smoke_namespace(),
            volume_size: default_smoke_size(),
        }
    }
}
