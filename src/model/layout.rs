//! Where the generated tree goes in a repository (`layout:` in the matrix). The default is
//! deploygen's own layout (root helmfile.yaml, applications/, environments/, …); Astrago's
//! `main` branch wants the stack as one sub-helmfile among others:
//!
//! ```yaml
//! layout:
//!   helmfile: applications/kserve/helmfile.yaml
//!   charts: applications/kserve/charts
//!   environments: applications/kserve/environments
//!   image_lists: airgap/kubespray-offline/imagelists
//!   image_list_per: app
//!   versions_report: applications/kserve/COMPONENT_VERSIONS.md
//!   parent: {helmfile: helmfile.yaml}
//! ```
//!
//! Every path is relative to the repository root (`--out`); paths written into the helmfile
//! are made relative to the helmfile's own folder, which is where helmfile resolves them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Output layout, relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// The stack's helmfile (the root one, or a sub-helmfile a parent lists under `helmfiles:`).
    #[serde(default = "d_helmfile")]
    pub helmfile: String,
    /// Folder of the wrapper charts: `<charts>/<release>/`.
    #[serde(default = "d_charts")]
    pub charts: String,
    /// Folder of the per-environment values: `<environments>/<env>/<release>.yaml`.
    #[serde(default = "d_environments")]
    pub environments: String,
    /// Folder of the kubespray-offline image lists.
    #[serde(default = "d_image_lists")]
    pub image_lists: String,
    /// One image list per `release` (`cert-manager.txt`, `istiod.txt`, …), per `component`
    /// (`cert-manager.txt`, `istio.txt`, `knative.txt`, `kserve.txt`) or one for the whole
    /// `app` (`kserve.txt`).
    #[serde(default)]
    pub image_list_per: ImageListPer,
    /// Folder of the digest-safe copy script (`copy-images.sh`) and of the list of references
    /// docker-based push scripts cannot handle (`images-by-digest.txt`).
    #[serde(default = "d_airgap")]
    pub airgap: String,
    /// The compatibility report.
    #[serde(default = "d_report")]
    pub versions_report: String,
    /// Folder of the smoke tests: `<examples>/<env>/`.
    #[serde(default = "d_examples")]
    pub examples: String,
    /// The matrix's JSON Schema.
    #[serde(default = "d_schema")]
    pub schema: String,
    /// Upstream chart archives sit in the tree (`<charts>/<release>/charts/<name>-<version>.tgz`,
    /// placed by `deploygen vendor`), locked by sha256 in `<charts>/versions.lock`; the helmfile
    /// declares no repositories and skips `helm dependency build`.
    #[serde(default)]
    pub vendored_charts: bool,
    /// How vendored charts sit in the tree: `archive` (`<name>-<version>.tgz`, the default) or
    /// `unpacked` (the chart's folder `charts/<name>/`, as Astrago commits its charts: its
    /// `.gitignore` has `**/charts/*.tgz`). Either way `check` verifies the bytes against the
    /// lock. Only with `vendored_charts: true`.
    #[serde(default, skip_serializing_if = "VendoredAs::is_archive")]
    pub vendored_as: VendoredAs,
    /// The parent helmfile that includes this one, checked by `deploygen check` (never written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
}

/// How image lists are split into files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageListPer {
    #[default]
    Release,
    Component,
    App,
}

/// The form of a vendored chart in its wrapper chart's `charts/` folder. Helm reads a
/// dependency there as `<name>-<version>.tgz` or as an unpacked folder `<name>/` (any other
/// file name, `.tar.gz` included, fails to load).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VendoredAs {
    /// The archive `helm pull` fetched, as it is: `charts/<name>-<version>.tgz`.
    #[default]
    Archive,
    /// The archive unpacked: `charts/<name>/`, every file locked by sha256.
    Unpacked,
}

impl VendoredAs {
    pub fn is_archive(&self) -> bool {
        *self == VendoredAs::Archive
    }
}

/// A parent helmfile the stack's helmfile is listed in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    /// Path of the parent helmfile (e.g. `helmfile.yaml`).
    pub helmfile: String,
    /// Environments the parent declares that knowingly do not get this stack; helmfile skips a
    /// sub-helmfile silently in an environment it does not declare.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_environments: Vec<Excluded>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Excluded {
    pub environment: String,
    pub reason: String,
}

fn d_helmfile() -> String {
    "helmfile.yaml".into()
}
fn d_charts() -> String {
    "applications".into()
}
fn d_environments() -> String {
    "environments".into()
}
/// Folder of the kubespray-offline image lists in the tree (the default).
pub const IMAGELIST_DIR: &str = "airgap/kubespray-offline/imagelists";

fn d_image_lists() -> String {
    IMAGELIST_DIR.into()
}
fn d_airgap() -> String {
    "airgap".into()
}
fn d_report() -> String {
    "COMPONENT_VERSIONS.md".into()
}
fn d_examples() -> String {
    "examples".into()
}
fn d_schema() -> String {
    "matrix.schema.json".into()
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            helmfile: d_helmfile(),
            charts: d_charts(),
            environments: d_environments(),
            image_lists: d_image_lists(),
            image_list_per: ImageListPer::default(),
            airgap: d_airgap(),
            versions_report: d_report(),
            examples: d_examples(),
            schema: d_schema(),
            vendored_charts: false,
            vendored_as: VendoredAs::Archive,
            parent: None,
        }
    }
}

impl Layout {
    /// `(key, path, is a file)` of every path the layout names, for validation.
    pub fn paths(&self) -> Vec<(&'static str, &str, bool)> {
        let mut v = vec![
            ("helmfile", self.helmfile.as_str(), true),
            ("charts", self.charts.as_str(), false),
            ("environments", self.environments.as_str(), false),
            ("image_lists", self.image_lists.as_str(), false),
            ("airgap", self.airgap.as_str(), false),
            ("versions_report", self.versions_report.as_str(), true),
            ("examples", self.examples.as_str(), false),
            ("schema", self.schema.as_str(), true),
        ];
        if let Some(p) = &self.parent {
            v.push(("parent.helmfile", p.helmfile.as_str(), true));
        }
        v
    }

    /// The helmfile's folder ("" for the root).
    pub fn helmfile_dir(&self) -> &str {
        self.helmfile.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
    }

    /// `dir/rest`, or `rest` when dir is the root.
    pub fn join(dir: &str, rest: &str) -> String {
        if dir.is_empty() || dir == "." {
            rest.to_string()
        } else {
            format!("{dir}/{rest}")
        }
    }

    /// The wrapper chart folder of a release.
    pub fn chart_dir(&self, release: &str) -> String {
        Self::join(&self.charts, release)
    }

    /// The lock of vendored chart archives.
    pub fn chart_lock(&self) -> String {
        Self::join(&self.charts, "versions.lock")
    }

    /// A repository path as the helmfile must write it: relative to the helmfile's folder.
    pub fn from_helmfile(&self, path: &str) -> String {
        relative(self.helmfile_dir(), path)
    }
}

/// `to` relative to folder `from` (both relative to one root, normalized), with `/`.
pub fn relative(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; f.len() - common];
    parts.extend(&t[common..]);
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// A layout path: relative, normalized, of plain names (letters, digits, `.`, `_`, `-`).
pub fn check_path(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("is empty".into());
    }
    if path.starts_with('/') {
        return Err(format!(
            "`{}` is absolute; write it relative to the repository root",
            path.escape_debug()
        ));
    }
    for part in path.split('/') {
        let ok = !part.is_empty()
            && part != "."
            && part != ".."
            && part.len() <= 255
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(format!(
                "`{}`: `{}` is not a plain folder or file name (letters, digits, '.', '_', '-'; no `..`, no empty part)",
                path.escape_debug(),
                part.escape_debug()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative("", "applications/kserve"), "applications/kserve");
        assert_eq!(
            relative("applications/kserve", "applications/kserve/charts/x"),
            "charts/x"
        );
        assert_eq!(relative("a/b", "c/d"), "../../c/d");
        assert_eq!(relative("a", "a"), ".");
    }

    #[test]
    fn paths_are_plain() {
        assert!(check_path("applications/kserve/helmfile.yaml").is_ok());
        for bad in ["", "/etc", "a/../b", "a//b", "./a", "a b", "a/{{x}}"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
