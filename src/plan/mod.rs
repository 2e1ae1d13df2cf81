//! The validated model: the matrix resolved against the catalog. Everything the renderer,
//! `images` and `explain` need is here, already checked, in a fixed order.
//!
//! Layer 3, planning: validation, resolution, compatibility, capacity, operations, the
//! registry binding, site choices and upgrade paths, over the model and the catalog.

pub mod binding;
pub mod capacity;
pub mod compat;
pub mod explain;
pub mod helmfile_keys;
pub mod operations;
pub mod resolve;
pub mod site;
pub mod upgrade;
pub mod validate;

use crate::base::image::ImageRef;
use crate::catalog::{CatalogImage, Chart, ComponentVersion, ReleaseEntry, SetAt};
use crate::model::matrix::{Environment, Matrix};

#[derive(Debug, Clone)]
pub struct Plan {
    /// File name of the matrix, as generated files name their source.
    pub matrix_file: String,
    pub matrix: Matrix,
    /// Pinned component versions in install order.
    pub components: Vec<Component>,
    /// Every release, in install order (a topological order of `needs`).
    pub releases: Vec<Release>,
    /// Environments by name.
    pub environments: Vec<EnvPlan>,
}

#[derive(Debug, Clone)]
pub struct Component {
    pub name: String,
    pub version: String,
    pub semver: semver::Version,
    pub entry: ComponentVersion,
}

#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub namespace: String,
    /// Catalog component (`knative-operator`).
    pub component: String,
    /// Value of the `component` label (`knative`).
    pub label: String,
    /// Version of the component this release belongs to.
    pub version: String,
    /// Upstream chart the wrapper depends on; None for glue-only charts.
    pub chart: Option<Chart>,
    pub needs: Vec<String>,
    /// Helm `kubeVersion` constraint of the wrapper chart.
    pub kube_version: String,
    /// Installed only where Knative is (Serverless): rendered as `condition: deploygen.knative.enabled`.
    pub knative_only: bool,
    pub entry: ReleaseEntry,
    /// Images this release deploys or configures (net-istio's included for knative-serving).
    pub images: Vec<CatalogImage>,
}

impl Release {
    /// `namespace/name`, the form helmfile `needs` use.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Key the upstream chart's values nest under in the wrapper chart (its dependency name).
    pub fn values_root(&self) -> Option<&str> {
        self.chart.as_ref().map(|c| c.name.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct EnvPlan {
    pub name: String,
    pub env: Environment,
    pub kubernetes: semver::Version,
    /// Names of the releases installed here, in install order.
    pub releases: Vec<String>,
    /// Every image of the installed releases, in release order then catalog order; those of
    /// disabled serving runtimes have `shipped: false` (rewritten, never listed).
    pub images: Vec<PlannedImage>,
    pub verdicts: Vec<Verdict>,
}

impl EnvPlan {
    pub fn installs(&self, release: &str) -> bool {
        self.releases.iter().any(|r| r == release)
    }

    /// The registry images are rewritten to: the fixed mirror, or for a mirror bound at
    /// install time the placeholder the values templates replace (`binding::PLACEHOLDER`).
    pub fn mirror(&self) -> Option<&str> {
        self.env
            .mirror
            .as_ref()
            .map(crate::model::mirror::Mirror::planned)
    }

    /// The helmfile environment value a bound mirror is read from (`offline.registry`).
    pub fn bound_value(&self) -> Option<&str> {
        self.env
            .mirror
            .as_ref()
            .and_then(crate::model::mirror::Mirror::bound_value)
    }

    /// The mirror as reports and comments name it.
    pub fn mirror_label(&self) -> Option<String> {
        self.env
            .mirror
            .as_ref()
            .map(crate::model::mirror::Mirror::label)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedImage {
    /// Release (application) the image belongs to, or the extra list name.
    pub app: String,
    /// `component` label of the release (`extra` for matrix extra images).
    pub component: String,
    pub id: String,
    pub source: ImageRef,
    /// What the environment pulls: the mirror reference, or `source` without a mirror.
    pub target: ImageRef,
    pub set: Vec<SetAt>,
    pub runtime: Option<String>,
    /// Listed and mirrored. False for a serving runtime the environment does not enable: the
    /// KServe charts (v0.14, v0.15) cannot switch a runtime off, so its reference is still
    /// rewritten to the mirror (a use fails fast there instead of reaching the internet).
    pub shipped: bool,
}

impl EnvPlan {
    /// The images this environment ships: listed, pulled and mirrored.
    pub fn shipped_images(&self) -> impl Iterator<Item = &PlannedImage> {
        self.images.iter().filter(|i| i.shipped)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Pass,
    /// A recommendation not followed.
    Warn,
    /// A rule broken but accepted by the matrix with a reason.
    Accepted,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Pass => "pass",
            Level::Warn => "warn",
            Level::Accepted => "accepted",
            Level::Fail => "FAIL",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub rule: String,
    pub level: Level,
    pub message: String,
    pub source: String,
    /// The matrix's reason, where the rule was accepted.
    pub reason: Option<String>,
}
