//! Errors of the importer.

use std::path::{Path, PathBuf};

/// Errors of the importer, located at the file or flag they are about.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Usage(String),
    #[error("{}: {message}", path.display())]
    Chart { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {message}")]
    Render { what: String, message: String },
}

impl ImportError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ImportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<ImportError> for crate::Error {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Io { path, source } => crate::Error::io(path, source),
            ImportError::Usage(m) => crate::Error::invalid("catalog import", m),
            ImportError::Chart { path, message } => {
                crate::Error::invalid(path.display().to_string(), message)
            }
            ImportError::Render { what, message } => crate::Error::invalid(what, message),
        }
    }
}
