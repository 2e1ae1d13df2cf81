//! The Knative Operator's kodata folder (`--kodata`): the manifests the operator applies, per
//! Serving version and per net-istio minor. Read once, like a chart, by a bounded walk that
//! refuses links (`disk::walk`); the importer then only looks names up in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::error::ImportError;
use crate::disk::dir::Dir;
use crate::disk::walk;

/// A kodata folder as read.
pub struct Kodata {
    /// Where it was read from (for messages; its name is the operator's tag).
    pub path: PathBuf,
    files: BTreeMap<String, Vec<u8>>,
}

impl Kodata {
    pub fn read(path: &Path) -> Result<Kodata, ImportError> {
        let dir = Dir::open(path).map_err(|e| ImportError::io(path, e))?;
        let files = walk::read_tree(&dir, &walk::FOLDER).map_err(|e| ImportError::Chart {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(Kodata {
            path: path.to_path_buf(),
            files,
        })
    }

    /// The path of `rel` below the folder (for messages).
    pub fn label(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    /// The names directly in folder `rel`, files and folders (a folder with no file below it
    /// holds nothing to read and is not listed).
    pub fn names(&self, rel: &str) -> BTreeSet<&str> {
        let prefix = format!("{rel}/");
        self.files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest))
            .collect()
    }

    /// The files directly in folder `rel`, by name, sorted.
    pub fn files_in(&self, rel: &str) -> Vec<(&str, &[u8])> {
        let prefix = format!("{rel}/");
        self.files
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?, v.as_slice())))
            .filter(|(name, _)| !name.contains('/'))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_files_are_looked_up_one_folder_at_a_time() {
        let d = tempfile::tempdir().unwrap();
        for rel in [
            "s/1.0.0/a.yaml",
            "s/1.0.0/sub/b.yaml",
            "s/2.0.0/c.yaml",
            "t.yaml",
        ] {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, rel).unwrap();
        }
        std::fs::create_dir(d.path().join("s/empty")).unwrap();
        let k = Kodata::read(d.path()).unwrap();
        assert_eq!(
            k.names("s").into_iter().collect::<Vec<_>>(),
            ["1.0.0", "2.0.0"]
        );
        assert_eq!(
            k.names("s/1.0.0").into_iter().collect::<Vec<_>>(),
            ["a.yaml", "sub"]
        );
        assert_eq!(k.files_in("s/1.0.0"), [("a.yaml", &b"s/1.0.0/a.yaml"[..])]);
        assert!(k.names("missing").is_empty());
        assert_eq!(k.label("s/1.0.0"), d.path().join("s/1.0.0"));
    }

    #[test]
    fn a_link_in_kodata_is_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("ingress")).unwrap();
        std::os::unix::fs::symlink("..", d.path().join("ingress/loop")).unwrap();
        match Kodata::read(d.path()) {
            Err(ImportError::Chart { path, message }) => {
                assert_eq!(path, d.path());
                assert!(
                    message.starts_with("`ingress/loop` is a symbolic link"),
                    "{message}"
                );
            }
            other => panic!("{:?}", other.err()),
        }
        assert!(matches!(
            Kodata::read(&d.path().join("missing")),
            Err(ImportError::Io { .. })
        ));
    }
}
