//! What a review knows of the environment the renders are for (`--env`, from the matrix):
//! the mirror and image lists new images must be on, and the cluster's capacity.

use std::collections::BTreeSet;

use crate::base::error::{Error, Result};
use crate::plan::capacity::{parse_quantity, Amount};
use crate::plan::Plan;

/// The environment's facts a review checks against.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub environment: String,
    /// The registry every image is rewritten to (None: public registries).
    pub mirror: Option<String>,
    /// Fully qualified references of the environment's images (its lists).
    pub listed: BTreeSet<String>,
    pub capacity: Option<Capacity>,
}

/// The nodes that run workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub nodes: u64,
    pub per_node: Amount,
}

impl Capacity {
    pub fn total(self) -> Amount {
        Amount {
            millicores: self.per_node.millicores.saturating_mul(self.nodes),
            bytes: self.per_node.bytes.saturating_mul(self.nodes),
        }
    }
}

/// The context of environment `env` of the plan.
pub fn of(plan: &Plan, env: &str) -> Result<Context> {
    let e = plan
        .environments
        .iter()
        .find(|e| e.name == env)
        .ok_or_else(|| {
            let all: Vec<&str> = plan.environments.iter().map(|e| e.name.as_str()).collect();
            Error::invalid(
                "--env",
                format!("no environment `{env}`; environments: {}", all.join(", ")),
            )
        })?;
    let cluster = &e.env.cluster;
    let capacity = match (
        cluster.nodes,
        cluster.cores_per_node,
        &cluster.memory_per_node,
    ) {
        (Some(n), Some(c), Some(m)) => parse_quantity(m, false).map(|bytes| Capacity {
            nodes: u64::from(n),
            per_node: Amount {
                millicores: u64::from(c) * 1000,
                bytes,
            },
        }),
        _ => None,
    };
    Ok(Context {
        environment: e.name.clone(),
        mirror: e.mirror().map(str::to_string),
        listed: e.images.iter().map(|i| i.target.to_string()).collect(),
        capacity,
    })
}
