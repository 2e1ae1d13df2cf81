//! Chart archives a re-vendor replaces: `deploygen vendor` after a bump places the new version's
//! archive and removes the one the lock recorded for the old version, in the same
//! all-or-nothing write. Helm loads every archive under a chart's `charts/` folder, so an old
//! one left beside the new would still be read. An archive is removed only while its bytes
//! are the ones the lock recorded (its sha256): anything else there is not deploygen's.

use crate::base::error::{Problem, Result};
use crate::base::sha256;
use crate::disk::fs_safe::{Node, Root};

/// An archive the previous lock recorded that the new lock no longer names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// Path below the root.
    pub rel: String,
    /// The sha256 (hex) the previous lock recorded for it.
    pub sha256: String,
}

/// The replaced archives to remove: those still on disk with the bytes their lock recorded.
/// A link, folder or other non-file at such a path is refused (nothing is removed through a
/// link); a file with other bytes, or too large to read, is left alone.
pub fn to_remove(root: &Root, replaced: &[Replaced]) -> Result<Vec<String>> {
    let mut remove = Vec::new();
    let mut refusals = Vec::new();
    for r in replaced {
        match root.inspect(&r.rel) {
            Err(u) => refusals.push(Problem {
                location: root.path().join(&u.at).display().to_string(),
                message: u.why,
            }),
            Ok(Node::Missing) => {}
            Ok(Node::File(_)) => {
                if let Ok(Some(bytes)) = root.read_at_most(&r.rel, MAX_ARCHIVE) {
                    if sha256::hex(&bytes) == r.sha256 {
                        remove.push(r.rel.clone());
                    }
                }
            }
            Ok(Node::Dir | Node::Other(_)) => refusals.push(Problem {
                location: root.path().join(&r.rel).display().to_string(),
                message: "is not a regular file where the lock recorded a chart archive (a \
                          link could lead outside the tree): move it away"
                    .into(),
            }),
        }
    }
    if refusals.is_empty() {
        Ok(remove)
    } else {
        Err(crate::base::error::Error::Unsafe(refusals))
    }
}

/// The largest chart archive deploygen reads (`vendor`, `check`, and here).
pub const MAX_ARCHIVE: u64 = 32 * 1024 * 1024;

/// The files of an unpacked chart's folder below the root, by path below the folder, read
/// bounded and never through a link (`walk::read_tree` within the chart limits); `None` when
/// the folder is missing. The error says why it cannot be read.
pub fn read_unpacked(
    root: &Root,
    folder: &str,
) -> std::result::Result<Option<std::collections::BTreeMap<String, Vec<u8>>>, String> {
    match root.inspect(folder) {
        Err(u) => return Err(format!("{}: {}", u.at, u.why)),
        Ok(Node::Missing) => return Ok(None),
        Ok(Node::Dir) => {}
        Ok(Node::File(_)) => return Err("is a file where an unpacked chart's folder is".into()),
        Ok(Node::Other(kind)) => {
            return Err(format!("is {kind} where an unpacked chart's folder is"))
        }
    }
    let dir = root
        .dir()
        .ok_or_else(|| "cannot be opened".to_string())
        .and_then(|d| d.open_dir(folder).map_err(|e| e.to_string()))?;
    crate::disk::walk::read_tree(&dir, &crate::disk::walk::FOLDER)
        .map(Some)
        .map_err(|e| e.to_string())
}
