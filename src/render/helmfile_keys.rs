//! Keys of the root helmfile that depend on the helmfile version the sites run
//! (`tools.helmfile`) and on the environments: emitted only where that helmfile knows them.

use crate::plan::Plan;

/// helmfile v0.144.0 added `kubeVersion` to each release ("This also enhances ReleaseSpec ...
/// to also accept `kubeVersion` and `apiVersions`": helmfile/helmfile release notes v0.144.0).
const RELEASE_KUBE_VERSION_SINCE: semver::Version = semver::Version::new(0, 144, 0);

/// The `kubeVersion` every release is rendered for, so that `helmfile template` (Astrago's CI,
/// the README's audit recipe) needs no cluster: without it Helm assumes its own default
/// Kubernetes version, which the wrapper charts' `kubeVersion` range refuses. One value for
/// all releases of all environments: helmfile does not template the field, so it is set only
/// when every environment runs the same Kubernetes version (and the site's helmfile knows it).
pub fn release_kube_version(plan: &Plan) -> Option<String> {
    let helmfile = crate::base::version::parse_lenient(&plan.matrix.tools.helmfile).ok()?;
    if helmfile < RELEASE_KUBE_VERSION_SINCE {
        return None;
    }
    let first = plan.environments.first()?;
    plan.environments
        .iter()
        .all(|e| e.kubernetes == first.kubernetes)
        .then(|| format!("v{}", first.kubernetes))
}
