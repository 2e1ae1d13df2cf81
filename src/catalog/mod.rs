//! The catalog: what deploygen knows about each component version (chart coordinates, images
//! and where each is set, Kubernetes range, compatibility rules). The YAML files under
//! `catalog/` are turned into `static` data by build.rs (no YAML is parsed at run time); a catalog
//! directory beside the matrix (or `--catalog DIR`) overlays them (`overlay`).

mod entry;
mod loaded;
mod types;
pub use entry::Entry;
pub(crate) use loaded::parse_checked;
pub use loaded::{files, migration_text, parse_entry, parse_rules, yaml_parses, Catalog};
pub use types::*;
pub mod gotmpl;
pub mod helmfile_keys;
pub mod names;
pub mod origin;
pub mod overlay;
mod statics;
pub mod todo;
