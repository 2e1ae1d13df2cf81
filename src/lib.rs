//! deploygen: one typed deployment matrix for Astrago's model-serving stack (cert-manager,
//! Istio, Knative Serving, KServe), validated against a catalog of upstream facts and rendered
//! into a helmfile tree: root helmfile, wrapper charts, per-environment values, air-gap image
//! lists and a compatibility report.
//!
//! Pipeline: `matrix` (raw input) -> `validate` (+ `catalog`, `compat`) -> `plan` ->
//! `render` (templates) -> `output` (owned, atomic writes).

pub mod airgap;
pub mod audit;
pub mod binding;
pub mod bump;
pub mod capacity;
pub mod catalog;
pub mod cli;
pub mod compat;
pub mod error;
pub mod explain;
pub mod generated;
pub mod image;
pub mod images;
pub mod import;
pub mod input;
pub mod layout;
pub mod locate;
pub mod matrix;
pub mod names;
pub mod operations;
pub mod output;
pub mod parent;
pub mod plan;
pub mod render;
pub mod resolve;
pub mod sha256;
pub mod site;
pub mod suggest;
pub mod text;
pub mod upgrade;
pub mod validate;
pub mod vendor;
pub mod version;

pub use error::{Error, Result};

/// Loads the embedded catalog and builds the plan for matrix text.
pub fn plan(matrix_file: &str, text: &[u8]) -> Result<plan::Plan> {
    let catalog = catalog::Catalog::load()?;
    resolve::plan_from_text(matrix_file, text, &catalog)
}

/// Builds the plan for matrix text against a given catalog (the compiled-in one with a catalog
/// directory laid over it: `catalog::overlay::load`).
pub fn plan_with(matrix_file: &str, text: &[u8], catalog: &catalog::Catalog) -> Result<plan::Plan> {
    resolve::plan_from_text(matrix_file, text, catalog)
}

/// The complete tree (manifest included) for matrix text, in memory.
pub fn render(matrix_file: &str, text: &[u8]) -> Result<render::Tree> {
    let plan = plan(matrix_file, text)?;
    let tree = render::render_tree(&plan)?;
    Ok(output::with_manifest(tree, matrix_file))
}
