//! How a site exposes the ingress gateway, as the matrix states it. Validated against the
//! catalog's facts in `plan::site`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The IngressClass the gateway itself serves (created by the istio-ingressgateway wrapper
/// chart, `ingressClass.name` in templates/glue/istio-ingressgateway/values.yaml.j2): KServe's
/// RawDeployment mode creates Ingresses of this class.
pub const GATEWAY_INGRESS_CLASS: &str = "istio";

/// Knative's `config-network` `domain-template` the stack sets: every InferenceService host is
/// one label under the domain (`<name>-<namespace>.<domain>`, KServe's own RawDeployment
/// template), so the gateway's `*.<domain>` certificate and the site ingress's `*.<domain>`
/// rule cover it in both modes. Knative's default, `{{.Name}}.{{.Namespace}}.{{.Domain}}`,
/// puts two labels under the domain, which no wildcard certificate covers (RFC 6125 6.4.3).
pub const KNATIVE_DOMAIN_TEMPLATE: &str = "{{.Name}}-{{.Namespace}}.{{.Domain}}";

/// The host of InferenceService `name` in `namespace`, in either deployment mode.
pub fn inference_host(name: &str, namespace: &str, domain: &str) -> String {
    format!("{name}-{namespace}.{domain}")
}

/// The ingress gateway's Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// `load-balancer` (needs MetalLB or a cloud), `node-port` (kubespray sites without
    /// MetalLB) or `cluster-ip` (behind an ingress the site already runs).
    #[serde(default)]
    pub expose: Expose,
    /// With `node-port`: fixed node ports by Service port name (`http2`, `https`,
    /// `status-port`), from the cluster's NodePort range (default 30000-32767). Ports not
    /// named get one Kubernetes picks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_ports: BTreeMap<String, u32>,
    /// With `cluster-ip`: the IngressClass of the ingress controller the site already runs
    /// (Astrago's ingress-nginx: `nginx`). deploygen then renders an Ingress of that class
    /// sending every InferenceService host (`*.<tls.domain>`) to the gateway's HTTP port, with
    /// the gateway's certificate when `tls.https` is on. Absent: no Ingress (the site routes
    /// to the gateway Service itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_class: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Expose {
    #[default]
    LoadBalancer,
    NodePort,
    ClusterIp,
}

impl Expose {
    pub fn service_type(self) -> &'static str {
        match self {
            Expose::LoadBalancer => "LoadBalancer",
            Expose::NodePort => "NodePort",
            Expose::ClusterIp => "ClusterIP",
        }
    }
}
