//! Where each entry of the loaded catalog came from, and which overlay entries are not usable
//! yet. Kept apart from `overlay` (which reads catalog directories) so the catalog itself needs
//! nothing of the reader.

use std::path::PathBuf;

use crate::base::error::Problem;

/// Where a catalog entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into deploygen (the file in its catalog/ at build time).
    CompiledIn,
    /// A catalog directory adds this version.
    Overlay(PathBuf),
    /// A catalog directory's file replaces the compiled-in entry of this version.
    Replaces(PathBuf),
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::CompiledIn => "compiled in".into(),
            Origin::Overlay(p) => format!("{} (catalog directory)", p.display()),
            Origin::Replaces(p) => format!(
                "{} (catalog directory; replaces the compiled-in entry)",
                p.display()
            ),
        }
    }
}

/// An entry not usable yet: what is left to fill, located in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub path: PathBuf,
    pub todos: Vec<Problem>,
}
