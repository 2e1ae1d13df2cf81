//! Reading a whole folder the user hands deploygen (a chart or kodata for `catalog import`),
//! bounded and without following a link. Everything is opened through folder handles (`Dir`,
//! `O_NOFOLLOW`), and three bounds hold whatever the folder holds:
//!
//! - a symbolic link is refused by name: followed, one could lead out of the folder (a chart
//!   with `templates/x -> ~/.ssh/id_rsa`) or round in a loop (`templates/loop -> ..`), which
//!   made the old walk run forever;
//! - a named pipe, socket or device is refused (reading one could block or never end);
//! - depth, entry count and total bytes are capped, so a bind-mount loop, a million empty
//!   folders or a huge file stops the walk with a message instead of exhausting the machine.

use std::collections::BTreeMap;
use std::io;

use super::dir::{Dir, Kind};

/// How much of a folder is read before the walk refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most folders a file may sit below the root (`a/b/f` is 2 deep).
    pub depth: usize,
    /// Most files and folders, counted together.
    pub entries: usize,
    /// Most bytes of all files together.
    pub bytes: u64,
}

/// Bounds for a folder `catalog import` reads: a chart, or the Knative Operator's kodata.
/// Upstream's are far inside them: the largest chart the catalog pins (kserve-crd v0.20.0) is
/// 2.4 MB in 9 files, the most files 52 (cert-manager v1.19.6), the deepest 3 folders; a
/// kodata folder is 3.8 MB.
pub const FOLDER: Limits = Limits {
    depth: 16,
    entries: 5_000,
    bytes: 64 * 1024 * 1024,
};

/// Why a walk stopped. Paths are relative to the folder walked (the caller names the folder).
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error(
        "`{0}` is a symbolic link; deploygen follows no link in a folder it reads (one could \
         lead out of it, or round in a loop): replace the link with what it points to"
    )]
    Link(String),
    #[error("`{rel}` is {kind}; deploygen reads only files and folders here")]
    NotFile { rel: String, kind: &'static str },
    #[error("`{rel}` lies more than {limit} folders deep; deploygen reads no deeper")]
    TooDeep { rel: String, limit: usize },
    #[error("holds more than {0} files and folders; deploygen reads no more")]
    TooManyEntries(usize),
    #[error("holds more than {0} bytes of files; deploygen reads no more")]
    TooManyBytes(u64),
    #[error("`{rel}`: {source}")]
    Io {
        rel: String,
        #[source]
        source: io::Error,
    },
}

fn io_at(rel: &str) -> impl FnOnce(io::Error) -> WalkError + '_ {
    move |source| WalkError::Io {
        rel: if rel.is_empty() { "." } else { rel }.to_string(),
        source,
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Every file below `root` with its bytes, by `/`-separated relative path (folders are implied
/// by the paths). Refuses links, pipes, sockets and devices anywhere below, and stops at
/// `limits`.
pub fn read_tree(root: &Dir, limits: &Limits) -> Result<BTreeMap<String, Vec<u8>>, WalkError> {
    let mut files = BTreeMap::new();
    let mut entries = 0usize;
    let mut bytes = 0u64;
    // (folder, its relative path, how many folders deep it is)
    let mut stack = vec![(root.try_clone().map_err(io_at(""))?, String::new(), 0usize)];
    while let Some((dir, prefix, depth)) = stack.pop() {
        for (name, kind) in dir.entries().map_err(io_at(&prefix))? {
            let rel = join(&prefix, &name);
            entries += 1;
            if entries > limits.entries {
                return Err(WalkError::TooManyEntries(limits.entries));
            }
            match kind {
                Kind::Link => return Err(WalkError::Link(rel)),
                Kind::Other(kind) => return Err(WalkError::NotFile { rel, kind }),
                Kind::Dir if depth + 1 > limits.depth => {
                    return Err(WalkError::TooDeep {
                        rel,
                        limit: limits.depth,
                    })
                }
                Kind::Dir => {
                    let sub = dir.open_dir(&name).map_err(io_at(&rel))?;
                    stack.push((sub, rel, depth + 1));
                }
                Kind::File { .. } => {
                    // At most one byte more than the budget left: a huge file (or one that
                    // grows while it is read) is never read whole.
                    let left = limits.bytes.saturating_sub(bytes);
                    let content = dir.read(&name, left).map_err(io_at(&rel))?;
                    bytes += content.len() as u64;
                    if bytes > limits.bytes {
                        return Err(WalkError::TooManyBytes(limits.bytes));
                    }
                    files.insert(rel, content);
                }
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    const WIDE: Limits = Limits {
        depth: 8,
        entries: 100,
        bytes: 1000,
    };

    fn walk(at: &Path, limits: &Limits) -> Result<BTreeMap<String, Vec<u8>>, WalkError> {
        read_tree(&Dir::open(at).unwrap(), limits)
    }

    fn write(at: &Path, rel: &str, bytes: &[u8]) {
        let p = at.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    #[test]
    fn every_file_is_read_by_its_relative_path() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "Chart.yaml", b"name: c\n");
        write(d.path(), "templates/a.yaml", b"a");
        write(d.path(), "templates/sub/b.yaml", b"b");
        std::fs::create_dir(d.path().join("empty")).unwrap();
        let files = walk(d.path(), &WIDE).unwrap();
        let got: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Chart.yaml", &b"name: c\n"[..]),
                ("templates/a.yaml", b"a"),
                ("templates/sub/b.yaml", b"b"),
            ]
        );
    }

    #[test]
    fn a_link_anywhere_is_refused_by_name_a_loop_included() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret", b"key");
        write(d.path(), "templates/a.yaml", b"a");
        symlink("..", d.path().join("templates/loop")).unwrap();
        let e = walk(d.path(), &WIDE).unwrap_err();
        assert!(
            matches!(&e, WalkError::Link(r) if r == "templates/loop"),
            "{e}"
        );
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::fs::remove_file(d.path().join("templates/loop")).unwrap();
        symlink(outside.path().join("secret"), d.path().join("values.yaml")).unwrap();
        let e = walk(d.path(), &WIDE).unwrap_err();
        assert!(
            matches!(&e, WalkError::Link(r) if r == "values.yaml"),
            "{e}"
        );
    }

    #[test]
    fn a_pipe_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let p = std::ffi::CString::new(d.path().join("p").to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(p.as_ptr(), 0o644) }, 0);
        let e = walk(d.path(), &WIDE).unwrap_err();
        assert!(
            matches!(&e, WalkError::NotFile { rel, kind: "a named pipe" } if rel == "p"),
            "{e}"
        );
    }

    #[test]
    fn depth_is_read_up_to_its_limit_and_refused_one_folder_below() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a/b/f", b"1");
        let two = Limits { depth: 2, ..WIDE };
        assert_eq!(walk(d.path(), &two).unwrap().len(), 1);
        let one = Limits { depth: 1, ..WIDE };
        let e = walk(d.path(), &one).unwrap_err();
        assert!(
            matches!(&e, WalkError::TooDeep { rel, limit: 1 } if rel == "a/b"),
            "{e}"
        );
    }

    #[test]
    fn entries_are_counted_files_and_folders_together() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a/f", b"1");
        write(d.path(), "g", b"2");
        // a, a/f, g: three entries.
        let three = Limits { entries: 3, ..WIDE };
        assert_eq!(walk(d.path(), &three).unwrap().len(), 2);
        let two = Limits { entries: 2, ..WIDE };
        let e = walk(d.path(), &two).unwrap_err();
        assert!(matches!(e, WalkError::TooManyEntries(2)), "{e}");
    }

    #[test]
    fn bytes_are_summed_over_files_and_refused_one_over() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a", &[b'a'; 6]);
        write(d.path(), "b/c", &[b'c'; 4]);
        let ten = Limits { bytes: 10, ..WIDE };
        let files = walk(d.path(), &ten).unwrap();
        assert_eq!(files["a"].len() + files["b/c"].len(), 10);
        let nine = Limits { bytes: 9, ..WIDE };
        let e = walk(d.path(), &nine).unwrap_err();
        assert!(matches!(e, WalkError::TooManyBytes(9)), "{e}");
    }

    #[test]
    fn a_huge_file_is_refused_after_reading_no_more_than_the_budget() {
        let d = tempfile::tempdir().unwrap();
        // A sparse file of 1 TiB: read whole, this test would never end.
        std::fs::File::create(d.path().join("huge"))
            .unwrap()
            .set_len(1 << 40)
            .unwrap();
        let e = walk(d.path(), &WIDE).unwrap_err();
        assert!(matches!(e, WalkError::TooManyBytes(1000)), "{e}");
    }

    #[test]
    fn a_folders_bounds_are_the_documented_ones() {
        // README ("What import reads, and how") states these numbers.
        assert_eq!(
            FOLDER,
            Limits {
                depth: 16,
                entries: 5_000,
                bytes: 67_108_864,
            }
        );
    }

    #[test]
    fn an_empty_folder_reads_as_no_files_and_errors_name_their_path() {
        let d = tempfile::tempdir().unwrap();
        assert!(walk(d.path(), &WIDE).unwrap().is_empty());
        assert_eq!(io_at("")(io::Error::other("x")).to_string(), "`.`: x");
        assert_eq!(io_at("a/b")(io::Error::other("x")).to_string(), "`a/b`: x");
    }
}
