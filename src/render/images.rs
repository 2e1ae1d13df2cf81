//! Image lists: what an environment pulls, from the same planned records the values are
//! written from, so a list entry and its override cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::base::error::{Error, Result};
use crate::plan::Plan;

pub use crate::model::layout::IMAGELIST_DIR;

/// Value of the helmfile `app:` label of every release: the name of the whole-app image list.
pub const APP: &str = "kserve";

/// The image list an image goes into, as the layout splits them.
pub fn list_name<'a>(plan: &Plan, img: &'a crate::plan::PlannedImage) -> &'a str {
    use crate::model::layout::ImageListPer;
    if img.component == "extra" {
        return &img.app;
    }
    match plan.matrix.layout.image_list_per {
        ImageListPer::Release => &img.app,
        ImageListPer::Component => &img.component,
        ImageListPer::App => APP,
    }
}

/// One `<list>.txt` per release, component or app (`layout.image_list_per`): the upstream
/// references every mirrored environment needs (kubespray-offline pulls these, then pushes
/// them to the mirror with the registry host stripped, which is the path the values point at).
pub fn image_lists(plan: &Plan) -> Vec<(String, String)> {
    let mirrored: Vec<_> = plan
        .environments
        .iter()
        .filter(|e| e.mirror().is_some())
        .collect();
    let mut by_app: BTreeMap<&str, (BTreeSet<String>, BTreeSet<&str>)> = BTreeMap::new();
    for e in &mirrored {
        for img in e.shipped_images() {
            let slot = by_app.entry(list_name(plan, img)).or_default();
            slot.0.insert(img.source.to_string());
            slot.1.insert(&e.name);
        }
    }
    let header = crate::base::generated::header(&plan.matrix_file, "#");
    let dir = &plan.matrix.layout.image_lists;
    by_app
        .into_iter()
        .map(|(app, (refs, envs))| {
            let mut text = header.clone();
            text.push_str(&format!(
                "# Images of {app} for environment(s) {}: upstream references, one per line.\n\
                 # Digests are multi-arch indexes: copy them with all platforms (skopeo copy --all).\n",
                envs.into_iter().collect::<Vec<_>>().join(", ")
            ));
            for r in refs {
                text.push_str(&r);
                text.push('\n');
            }
            (crate::model::layout::Layout::join(dir, &format!("{app}.txt")), text)
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct ImageRow {
    pub environment: String,
    pub app: String,
    pub component: String,
    pub id: String,
    pub source: String,
    /// The mirror reference; null where the environment has no mirror.
    pub mirror: Option<String>,
    pub runtime: Option<String>,
    /// Where the reference is written (values path, KnativeServing key, ConfigMap key).
    pub set: Vec<String>,
}

/// Rows for `deploygen images`, for one environment or all.
pub fn rows(plan: &Plan, env: Option<&str>) -> Result<Vec<ImageRow>> {
    if let Some(name) = env {
        if !plan.environments.iter().any(|e| e.name == name) {
            let all: Vec<&str> = plan.environments.iter().map(|e| e.name.as_str()).collect();
            return Err(Error::invalid(
                "--env",
                format!("no environment `{name}`; environments: {}", all.join(", ")),
            ));
        }
    }
    let mut out = Vec::new();
    for e in plan
        .environments
        .iter()
        .filter(|e| env.is_none_or(|n| n == e.name))
    {
        for img in e.shipped_images() {
            out.push(ImageRow {
                environment: e.name.clone(),
                app: img.app.clone(),
                component: img.component.clone(),
                id: img.id.clone(),
                source: img.source.to_string(),
                mirror: e.mirror().map(|_| img.target.to_string()),
                runtime: img.runtime.clone(),
                set: img.set.iter().map(|s| s.describe()).collect(),
            });
        }
    }
    Ok(out)
}

/// Text form: one reference per line, sorted, no duplicates.
pub fn text(rows: &[ImageRow], mirror: bool) -> Result<String> {
    let mut refs = BTreeSet::new();
    for r in rows {
        let reference = if mirror {
            r.mirror.clone().ok_or_else(|| {
                Error::invalid(
                    "--mirror",
                    format!("environment `{}` has no mirror", r.environment),
                )
            })?
        } else {
            r.source.clone()
        };
        refs.insert(reference);
    }
    Ok(refs.into_iter().map(|r| r + "\n").collect())
}
