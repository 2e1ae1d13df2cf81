//! Layer 1, the model: what a user writes, as types. The matrix, the tree's layout, a site's
//! mirror and gateway, and the bounded pre-scan every YAML input passes before serde sees it.
//! It parses bytes and never touches the disk (the `disk` layer hands it the bytes).

pub mod gateway;
pub mod input;
pub mod kind;
pub mod layout;
pub mod matrix;
pub mod mirror;
pub mod scan;
pub mod tags;
pub mod unique;
pub mod yaml;
