//! deploygen: one typed deployment matrix for Astrago's model-serving stack (cert-manager,
//! Istio, Knative Serving, KServe), validated against a catalog of upstream facts and rendered
//! into a helmfile tree: root helmfile, wrapper charts, per-environment values, air-gap image
//! lists and a compatibility report.
//!
//! Pipeline: `model::matrix` (raw input) -> `plan::validate` (+ `catalog`, `plan::compat`) ->
//! `plan` -> `render` (templates) -> `disk` (owned, atomic writes).

// The layers, bottom to top. A module imports only from its own layer or the layers below it,
// and no two modules import each other (tests/layers.rs fails the build otherwise):
//   base    words and small grammars: errors, text, names, versions, image refs, hashing
//   model   what a user writes, as types: matrix, layout, mirror, gateway, input pre-scan
//   catalog upstream facts per component version, compiled in, with an optional overlay
//   plan    validation, resolution, compatibility, capacity, operations, binding, upgrades
//   render  templates into the tree in memory, air-gap lists
//   disk    the one door to the filesystem: every read and write of every command
//   audit, import, review, cli   the commands on top
pub mod base;
pub mod model;

pub mod catalog;

pub mod plan;

pub mod render;

pub mod disk;

pub mod audit;
pub mod cli;
pub mod import;
pub mod review;

pub use base::error::{Error, Result};

/// Loads the embedded catalog and builds the plan for matrix text.
pub fn plan(matrix_file: &str, text: &[u8]) -> Result<plan::Plan> {
    let catalog = catalog::Catalog::load()?;
    plan::resolve::plan_from_text(matrix_file, text, &catalog)
}

/// Builds the plan for matrix text against a given catalog (the compiled-in one with a catalog
/// directory laid over it: `disk::read::catalog`).
pub fn plan_with(matrix_file: &str, text: &[u8], catalog: &catalog::Catalog) -> Result<plan::Plan> {
    plan::resolve::plan_from_text(matrix_file, text, catalog)
}

/// The complete tree (manifest included) for matrix text, in memory.
pub fn render(matrix_file: &str, text: &[u8]) -> Result<render::Tree> {
    let plan = plan(matrix_file, text)?;
    let tree = render::render_tree(&plan)?;
    Ok(disk::with_manifest(tree, matrix_file))
}
