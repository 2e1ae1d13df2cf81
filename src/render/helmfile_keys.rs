//! Keys of the root helmfile that depend on the helmfile version the sites run
//! (`tools.helmfile`) and on the environments: the optional rows of the writer's table
//! (catalog::helmfile_keys), each emitted only where that helmfile knows it. Required rows the
//! site lacks never get here: validation refuses the matrix (plan::helmfile_keys).

use serde::Serialize;

use crate::catalog::helmfile_keys::{
    KeyRow, HISTORY_MAX, RELEASE_KUBE_VERSION, SKIP_DEPS, WAIT_FOR_JOBS,
};
use crate::plan::Plan;

/// What the helmfile template emits of the optional keys.
#[derive(Debug, Serialize)]
pub struct Keys {
    /// The site's helmfile, as the matrix writes it.
    pub helmfile: String,
    /// Every release's `kubeVersion`, when set (see [`release_kube_version`]).
    pub kube_version: Option<String>,
    pub wait_for_jobs: bool,
    pub history_max: bool,
    pub skip_deps: bool,
    /// Keys the writer would emit but the site's helmfile predates, said so in the helmfile.
    pub omitted: Vec<Omitted>,
}

#[derive(Debug, Serialize)]
pub struct Omitted {
    pub path: &'static str,
    pub since: String,
}

/// The optional keys for this plan.
pub fn keys(plan: &Plan) -> Keys {
    let site = crate::base::version::parse_lenient(&plan.matrix.tools.helmfile).ok();
    let mut omitted = Vec::new();
    let mut known = |row: &'static KeyRow, wanted: bool| {
        let knows = site.as_ref().is_some_and(|v| row.known_by(v));
        if wanted && !knows {
            omitted.extend(row.paths.iter().map(|path| Omitted {
                path,
                since: row.since.to_string(),
            }));
        }
        wanted && knows
    };
    let wait_for_jobs = known(&WAIT_FOR_JOBS, true);
    let history_max = known(&HISTORY_MAX, true);
    let skip_deps = known(&SKIP_DEPS, plan.matrix.layout.vendored_charts);
    let shared = shared_kube_version(plan);
    let kube_version = shared.filter(|_| known(&RELEASE_KUBE_VERSION, true));
    Keys {
        helmfile: plan.matrix.tools.helmfile.clone(),
        kube_version,
        wait_for_jobs,
        history_max,
        skip_deps,
        omitted,
    }
}

/// The `kubeVersion` every release is rendered for, so that `helmfile template` (Astrago's CI,
/// the README's audit recipe) needs no cluster: without it Helm assumes its own default
/// Kubernetes version, which the wrapper charts' `kubeVersion` range refuses. One value for
/// all releases of all environments: helmfile does not template the field, so it is set only
/// when every environment runs the same Kubernetes version (and the site's helmfile knows it).
pub fn release_kube_version(plan: &Plan) -> Option<String> {
    keys(plan).kube_version
}

fn shared_kube_version(plan: &Plan) -> Option<String> {
    let first = plan.environments.first()?;
    plan.environments
        .iter()
        .all(|e| e.kubernetes == first.kubernetes)
        .then(|| format!("v{}", first.kubernetes))
}
