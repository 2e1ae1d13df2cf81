//! The deployment matrix as the user writes it (`matrix.yaml`): typed, strict (unknown keys
//! are errors) and documented, so `deploygen schema` can hand editors a JSON Schema.
//! This is the raw input; `validate` turns it into a checked `Plan`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::base::error::{Error, Result};

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
    /// The Helm and helmfile versions the sites run: chart defects and their workarounds
    /// depend on them.
    #[serde(default)]
    pub tools: Tools,
    /// Named resource profiles: workload id -> requests and limits.
    pub profiles: BTreeMap<String, Profile>,
    /// The environments rendered, each one becomes a helmfile environment (`helmfile -e NAME`).
    pub environments: BTreeMap<String, Environment>,
    /// Where the generated files go in the repository, and how charts reach the site
    /// (default: deploygen's own layout; see `crate::layout`).
    #[serde(default)]
    pub layout: crate::model::layout::Layout,
}

/// Versions of the tools that install the tree (`helm version`, `helmfile version`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tools {
    /// Helm, e.g. `3.18.5` (Astrago's stabilize branch) or `4.0.0`.
    pub helm: String,
    /// helmfile, e.g. `1.1.6`.
    pub helmfile: String,
}

impl Default for Tools {
    /// What Astrago's stabilize/1.0 branch pins.
    fn default() -> Self {
        Tools {
            helm: "3.18.5".into(),
            helmfile: "1.1.6".into(),
        }
    }
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
    /// Private registry every image is pulled from; absent = public registries. Either fixed,
    /// `host[:port][/path]`, or bound at install time from a helmfile environment value:
    /// `{from_value: offline.registry}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<crate::model::mirror::Mirror>,
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
    /// How the Istio ingress gateway's Service is exposed (default: LoadBalancer).
    #[serde(default)]
    pub gateway: crate::model::gateway::Gateway,
    /// Secrets (in each release's namespace) every chart's pods pull images with, for a
    /// private mirror that needs credentials. Set at each chart's own keys (catalog `pull_secrets`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<String>,
    /// Escape hatch: per release, values for what the matrix does not model, relative to the
    /// upstream chart (as its values.yaml is written), merged last. A key the pinned chart
    /// does not have is an error.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, serde_json::Value>,
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
    /// Nodes that run workloads (the plan's cluster: two workers; the control-plane node
    /// runs none). With `cores_per_node` and `memory_per_node` it sizes the capacity report;
    /// absent = the report compares against the plan only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// CPU cores of each such node (the plan: 64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores_per_node: Option<u32>,
    /// Memory of each such node as a Kubernetes quantity (the plan: `450G`, "450 GB+").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_per_node: Option<String>,
    /// API group/versions (`group/version`) the platform installs before this stack, whose
    /// CRDs are therefore not in the render: `deploygen audit` takes their custom resources as
    /// served, e.g. `gateway.networking.k8s.io/v1` (Gateway API). Prometheus Operator's
    /// `monitoring.coreos.com/v1` is implied by `operations.monitoring.prometheus: true`. Also a
    /// beta version of a built-in group the cluster enables (`--runtime-config`; new beta APIs
    /// are off by default since Kubernetes 1.24), e.g. `resource.k8s.io/v1beta1`: `deploygen
    /// audit` then takes it as served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platform_apis: Vec<String>,
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
    let (text, scan) = crate::model::input::precheck(file, text)?;
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
    // The door's generic pass first: typed maps (BTreeMap) would silently keep the last of two
    // equal keys, a duplicate environment among them.
    crate::model::yaml::typed_checked(file, text, scan, &crate::model::input::MATRIX)
}

/// The JSON Schema of the matrix, as `deploygen schema` prints it and a render writes it:
/// schemars' output for `Matrix` (`generated_json_schema`), kept as a file beside this one so
/// that no run builds it (building it was about 1.9 M instructions of every render). It is a
/// constant: `tests/committed_tree.rs` proves it equal to `generated_json_schema()` (and
/// rewrites it with `DEPLOYGEN_BLESS=1`), so a change to the matrix types fails the tests
/// until the file follows.
pub const JSON_SCHEMA: &str = include_str!("matrix.schema.json");

/// The SHA-256 (lower-case hex) of `JSON_SCHEMA`, for the ownership manifest: known before any
/// run, as the schema is (`tests/committed_tree.rs` proves it, and `DEPLOYGEN_BLESS=1` rewrites
/// it with the schema).
pub fn json_schema_sha256() -> &'static str {
    include_str!("matrix.schema.json.sha256").trim_end()
}

/// The JSON Schema of the matrix (`JSON_SCHEMA`).
pub fn json_schema() -> String {
    JSON_SCHEMA.to_string()
}

/// The JSON Schema of the matrix as schemars builds it from the types: what `JSON_SCHEMA` must
/// hold.
pub fn generated_json_schema() -> String {
    let schema = schemars::schema_for!(Matrix);
    let mut value = serde_json::to_value(schema).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$comment".into(),
            serde_json::Value::String(crate::base::generated::GENERATED_NOTE.to_string()),
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
    /// Istio mutual TLS for the model namespaces (off when absent).
    #[serde(default)]
    pub mtls: Mtls,
    /// Deny-by-default egress in the stack's namespaces, allowing only what it needs (off
    /// when absent).
    #[serde(default)]
    pub egress: Egress,
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
    /// The cluster runs NVIDIA's DCGM exporter (the GPU Operator's) and Prometheus scrapes it:
    /// the GPU utilisation dashboard reads its `DCGM_FI_DEV_GPU_UTIL`. The stack does not
    /// deploy it; without it the dashboard is left out.
    #[serde(default)]
    pub dcgm_exporter: bool,
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
            dcgm_exporter: false,
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
    /// The plan's scaling test: a bounded load against the sklearn model (off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_test: Option<LoadTest>,
}

/// A Job sending `requests` requests, `concurrency` at a time, to the sklearn model through
/// the ingress gateway, reporting errors and latency percentiles.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadTest {
    /// Its image (the plan uses busybox): one of the environment's `extra_images`, so it is
    /// listed and mirrored like every other image.
    pub image: String,
    /// Requests in flight at once (1 to 256).
    pub concurrency: u32,
    /// Requests in total (at least `concurrency`, at most 1000000).
    pub requests: u32,
}

/// `mtls`: PeerAuthentication for the namespaces models run in.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mtls {
    /// `strict` (only mesh traffic reaches model pods), `permissive` (during a migration:
    /// plain text still accepted) or `off`.
    #[serde(default)]
    pub mode: MtlsMode,
    /// Model namespaces (created with sidecar injection on, kept on uninstall).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MtlsMode {
    #[default]
    Off,
    Strict,
    Permissive,
}

impl MtlsMode {
    /// Istio's spelling.
    pub fn istio(self) -> &'static str {
        match self {
            MtlsMode::Off => "UNSET",
            MtlsMode::Strict => "STRICT",
            MtlsMode::Permissive => "PERMISSIVE",
        }
    }
}

/// `egress`: what the stack's pods may connect to.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    /// `enforce`: deny-by-default egress in cert-manager, istio-system, knative-serving and
    /// kserve; `off`: egress open.
    #[serde(default)]
    pub policy: NetworkPolicies,
    /// The API server's addresses as CIDRs (`10.61.3.10/32`): what the endpoints of the
    /// `kubernetes` Service in `default` are (`kubectl get endpoints kubernetes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_server: Vec<String>,
    /// The API server's port on those addresses (6443 on kubeadm/kubespray clusters).
    #[serde(default = "default_api_server_port")]
    pub api_server_port: u16,
    /// The mirror registry's CIDR; absent = the mirror's own address where it is an IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_cidr: Option<String>,
}

fn default_api_server_port() -> u16 {
    6443
}

impl Default for Egress {
    fn default() -> Self {
        Egress {
            policy: NetworkPolicies::Off,
            api_server: Vec::new(),
            api_server_port: default_api_server_port(),
            mirror_cidr: None,
        }
    }
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
            load_test: None,
        }
    }
}
