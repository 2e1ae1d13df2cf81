//! Glue values: the wrapper charts' own settings (not the upstream chart's) for the
//! operations layer: network policies, Prometheus monitors, Grafana dashboards, RBAC, TLS.
//! The same types give each chart's values.schema.json, so Helm refuses a mistyped override.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub use crate::catalog::Feature;
use crate::model::matrix::{IssuerKind, MtlsMode, NetworkPolicies};
use crate::plan::{EnvPlan, Release};

/// Key of the knative-serving glue chart's own values.
pub const KNATIVE_SERVING_KEY: &str = "knativeServing";

/// `networkPolicy`: deny-by-default ingress in the release's namespace plus the flows the
/// components need (explained in each template).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPolicyValues {
    pub enabled: bool,
    /// Namespace Prometheus scrapes from.
    pub monitoring_namespace: String,
}

/// `serviceMonitor` / `podMonitor`: Prometheus Operator scrape config.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonitorValues {
    pub enabled: bool,
    /// Labels kube-prometheus-stack's selector matches.
    pub labels: BTreeMap<String, String>,
}

/// `dashboards`: the Grafana dashboard ConfigMap.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DashboardValues {
    pub enabled: bool,
    /// Labels the Grafana sidecar watches.
    pub labels: BTreeMap<String, String>,
    /// The GPU utilisation dashboard: the cluster's DCGM exporter is scraped (the stack does
    /// not deploy it).
    pub gpu: bool,
}

/// `rbac`: aggregated ClusterRoles and the groups bound to them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RbacValues {
    pub roles: bool,
    pub bindings: Vec<BindingValues>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindingValues {
    pub group: String,
    pub cluster_role: String,
    /// RoleBinding namespace; absent = ClusterRoleBinding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `tls`: the ClusterIssuer and the ingress gateway's certificate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsValues {
    /// `none`, `self-signed-ca` or `external`.
    pub issuer: String,
    /// ClusterIssuer certificates are signed by.
    pub issuer_name: String,
    /// Serve HTTPS on the ingress gateway.
    pub https: bool,
    /// InferenceService hosts are `<name>-<namespace>.<domain>`.
    pub domain: String,
    /// Secret (in istio-system) holding the gateway certificate.
    pub secret_name: String,
}

/// `tls` of a chart that only serves HTTPS with the gateway certificate (knative-serving's
/// gateway listener): the issuer and domain live in the istio-ingressgateway chart.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsListenerValues {
    /// Serve HTTPS on the ingress gateway.
    pub https: bool,
    /// Secret (in istio-system) holding the gateway certificate.
    pub secret_name: String,
}

/// `knativeServing` (knative-serving glue chart).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KnativeServingValues {
    pub version: String,
    /// spec.config: ConfigMap name (without `config-`) -> key -> value.
    pub config: BTreeMap<String, BTreeMap<String, String>>,
    pub registry: KnativeRegistry,
    pub workloads: Vec<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnativeRegistry {
    #[serde(rename = "override")]
    pub overrides: BTreeMap<String, String>,
}

/// `ingressClass` (istio-ingressgateway glue chart).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressClassValues {
    pub create: bool,
    pub name: String,
}

/// `siteIngress` (istio-ingressgateway glue chart): the site's own ingress controller in front
/// of the ClusterIP gateway.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteIngressValues {
    pub enabled: bool,
    /// IngressClass of the site's controller (ingress-nginx: `nginx`).
    pub class_name: String,
    /// The host every InferenceService lives under: `*.<domain>`.
    pub host: String,
    /// Terminate HTTPS at the site's controller with the gateway certificate.
    pub https: bool,
    /// Secret (in istio-system, beside the Ingress) holding the gateway certificate.
    pub secret_name: String,
}

/// `mtls`: PeerAuthentication for the model namespaces (istiod chart).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MtlsValues {
    pub enabled: bool,
    /// `STRICT` or `PERMISSIVE`.
    pub mode: String,
    /// Model namespaces: created with sidecar injection on, kept on uninstall.
    pub namespaces: Vec<String>,
}

/// `egress`: deny-by-default egress in the release's namespace plus the flows its pods need
/// (explained in each template).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressValues {
    pub enabled: bool,
    /// The API server's addresses (CIDRs).
    pub api_server: Vec<String>,
    pub api_server_port: u16,
}

/// `egress` of knative-serving: also the mirror registry (tag-to-digest resolution).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressRegistryValues {
    pub enabled: bool,
    pub api_server: Vec<String>,
    pub api_server_port: u16,
    /// The mirror's address (CIDR) and port; an empty CIDR = no mirror.
    pub mirror: MirrorEndpoint,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MirrorEndpoint {
    pub cidr: String,
    pub port: u16,
    /// No mirror: the public registries, which have no fixed addresses (any address, 443).
    #[serde(default)]
    pub public: bool,
}

/// Name of the CA ClusterIssuer deploygen creates with `issuer: self-signed-ca`.
pub const CA_ISSUER: &str = "astrago-ca";
/// Secret of the ingress gateway certificate.
pub const GATEWAY_SECRET: &str = "astrago-ingress-tls";

impl Feature {
    /// Top-level values key of the feature.
    pub fn key(self) -> &'static str {
        match self {
            Feature::NetworkPolicy => "networkPolicy",
            Feature::ServiceMonitor => "serviceMonitor",
            Feature::PodMonitor => "podMonitor",
            Feature::Dashboards => "dashboards",
            Feature::Rbac => "rbac",
            Feature::Tls | Feature::TlsListener => "tls",
            Feature::KnativeServing => KNATIVE_SERVING_KEY,
            Feature::IngressClass => "ingressClass",
            Feature::SiteIngress => "siteIngress",
            Feature::Mtls => "mtls",
            Feature::Egress | Feature::EgressRegistry => "egress",
        }
    }

    fn schema(self, gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        match self {
            Feature::NetworkPolicy => gen.subschema_for::<NetworkPolicyValues>(),
            Feature::ServiceMonitor | Feature::PodMonitor => gen.subschema_for::<MonitorValues>(),
            Feature::Dashboards => gen.subschema_for::<DashboardValues>(),
            Feature::Rbac => gen.subschema_for::<RbacValues>(),
            Feature::Tls => gen.subschema_for::<TlsValues>(),
            Feature::TlsListener => gen.subschema_for::<TlsListenerValues>(),
            Feature::KnativeServing => gen.subschema_for::<KnativeServingValues>(),
            Feature::IngressClass => gen.subschema_for::<IngressClassValues>(),
            Feature::SiteIngress => gen.subschema_for::<SiteIngressValues>(),
            Feature::Mtls => gen.subschema_for::<MtlsValues>(),
            Feature::Egress => gen.subschema_for::<EgressValues>(),
            Feature::EgressRegistry => gen.subschema_for::<EgressRegistryValues>(),
        }
    }
}

/// Values of the features in an environment (None = the feature has no per-environment part).
fn feature_values(f: Feature, env: Option<&EnvPlan>) -> Option<Value> {
    let ops = env.map(|e| &e.env.operations);
    let mon = ops.map(|o| &o.monitoring);
    let v = match f {
        Feature::NetworkPolicy => json!(NetworkPolicyValues {
            enabled: ops.is_some_and(|o| o.network_policies == NetworkPolicies::Enforce),
            monitoring_namespace: mon
                .map(|m| m.namespace.clone())
                .unwrap_or_else(|| "monitoring".into()),
        }),
        Feature::ServiceMonitor | Feature::PodMonitor => json!(MonitorValues {
            enabled: mon.is_some_and(|m| m.prometheus),
            labels: mon.map(|m| m.selector_labels.clone()).unwrap_or_default(),
        }),
        Feature::Dashboards => json!(DashboardValues {
            enabled: mon.is_some_and(|m| m.grafana_dashboards),
            labels: mon.map(|m| m.dashboard_labels.clone()).unwrap_or_default(),
            gpu: mon.is_some_and(|m| m.dcgm_exporter),
        }),
        Feature::Rbac => {
            let ac = ops.map(|o| &o.access_control);
            json!(RbacValues {
                roles: ac.is_some_and(|a| a.roles),
                bindings: ac
                    .map(|a| {
                        a.bindings
                            .iter()
                            .map(|b| BindingValues {
                                group: b.group.clone(),
                                cluster_role: b.role.cluster_role().to_string(),
                                namespace: b.namespace.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        }
        Feature::Tls => {
            let tls = ops.map(|o| &o.tls);
            let kind = tls.map(|t| t.issuer).unwrap_or_default();
            let issuer_name = match kind {
                IssuerKind::SelfSignedCa => CA_ISSUER.to_string(),
                IssuerKind::External => tls
                    .and_then(|t| t.external_issuer.clone())
                    .unwrap_or_default(),
                IssuerKind::None => String::new(),
            };
            json!(TlsValues {
                issuer: serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                issuer_name,
                https: tls.is_some_and(|t| t.https),
                domain: tls
                    .map(|t| t.domain.clone())
                    .unwrap_or_else(|| "example.com".into()),
                secret_name: GATEWAY_SECRET.into(),
            })
        }
        Feature::TlsListener => json!(TlsListenerValues {
            https: ops.is_some_and(|o| o.tls.https),
            secret_name: GATEWAY_SECRET.into(),
        }),
        Feature::SiteIngress => {
            let class = env.and_then(|e| e.env.gateway.ingress_class.clone());
            if env.is_some() && class.is_none() {
                // Off: only the switch, as with mtls.
                return Some(json!({"enabled": false}));
            }
            let tls = ops.map(|o| &o.tls);
            json!(SiteIngressValues {
                enabled: class.is_some(),
                class_name: class.unwrap_or_default(),
                host: tls.map(|t| format!("*.{}", t.domain)).unwrap_or_default(),
                https: tls.is_some_and(|t| t.https),
                secret_name: GATEWAY_SECRET.into(),
            })
        }
        Feature::Mtls => {
            let m = ops.map(|o| &o.mtls);
            let mode = m.map(|m| m.mode).unwrap_or_default();
            if env.is_some() && mode == MtlsMode::Off {
                // Off: only the switch (the chart's defaults hold the rest), so no value an
                // environment sets is one no template reads.
                return Some(json!({"enabled": false}));
            }
            json!(MtlsValues {
                enabled: mode != MtlsMode::Off,
                mode: if mode == MtlsMode::Off {
                    MtlsMode::Strict.istio().into()
                } else {
                    mode.istio().into()
                },
                namespaces: m.map(|m| m.namespaces.clone()).unwrap_or_default(),
            })
        }
        Feature::Egress | Feature::EgressRegistry => {
            let eg = ops.map(|o| &o.egress);
            let enabled = eg.is_some_and(|e| e.policy == NetworkPolicies::Enforce);
            if env.is_some() && !enabled {
                return Some(json!({"enabled": false}));
            }
            let api_server = eg.map(|e| e.api_server.clone()).unwrap_or_default();
            let api_server_port = eg.map(|e| e.api_server_port).unwrap_or(6443);
            if f == Feature::Egress {
                json!(EgressValues {
                    enabled,
                    api_server,
                    api_server_port,
                })
            } else {
                json!(EgressRegistryValues {
                    enabled,
                    api_server,
                    api_server_port,
                    mirror: registry_endpoint(env),
                })
            }
        }
        // Defaults of these two live in their glue values.yaml.j2 (with comments).
        Feature::KnativeServing | Feature::IngressClass => return None,
    };
    Some(v)
}

/// Where Knative's controller asks for image digests: the mirror, or with no mirror the
/// public registries. Without that flow allowed, an enforced egress policy makes every
/// revision fail its tag-to-digest resolution.
fn registry_endpoint(env: Option<&EnvPlan>) -> MirrorEndpoint {
    match env {
        Some(e) if e.env.mirror.is_none() => MirrorEndpoint {
            cidr: "0.0.0.0/0".into(),
            port: 443,
            public: true,
        },
        _ => {
            let (cidr, port) = env
                .and_then(|e| crate::plan::operations::mirror_endpoint(&e.env))
                .unwrap_or_default();
            MirrorEndpoint {
                cidr,
                port,
                public: false,
            }
        }
    }
}

/// Chart defaults: every feature off.
pub fn defaults(release: &Release) -> Map<String, Value> {
    release
        .entry
        .glue
        .iter()
        .filter_map(|f| feature_values(*f, None).map(|v| (f.key().to_string(), v)))
        .collect()
}

/// The environment's settings of every feature of the release.
pub fn environment(release: &Release, env: &EnvPlan) -> Map<String, Value> {
    release
        .entry
        .glue
        .iter()
        .filter_map(|f| feature_values(*f, Some(env)).map(|v| (f.key().to_string(), v)))
        .collect()
}

/// values.schema.json of a wrapper chart: its glue keys strictly typed, the upstream chart's
/// values (under the dependency name) left to the upstream chart, nothing else allowed.
pub fn schema(release: &Release) -> String {
    let mut settings = schemars::gen::SchemaSettings::draft07();
    settings.inline_subschemas = true;
    let mut gen = settings.into_generator();
    let mut properties = Map::new();
    if let Some(dep) = release.values_root() {
        properties.insert(dep.to_string(), json!({"type": "object", "description": format!("Values of the upstream {dep} chart.")}));
    }
    // Helm passes `global` to every chart.
    properties.insert("global".into(), json!({"type": "object"}));
    for f in &release.entry.glue {
        let s = serde_json::to_value(f.schema(&mut gen)).unwrap_or(Value::Null);
        properties.insert(f.key().to_string(), s);
    }
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": crate::base::generated::GENERATED_NOTE,
        "title": format!("Values of the {} wrapper chart", release.name),
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}
