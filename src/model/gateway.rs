//! How a site exposes the ingress gateway, as the matrix states it. Validated against the
//! catalog's facts in `plan::site`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
