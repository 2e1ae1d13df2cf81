//! Filesystem access that cannot leave the tree. Every generated path is walked from the
//! output root one component at a time with `lstat`: a symbolic link anywhere below the root
//! is a refusal, never followed (a planted `applications/kserve -> /elsewhere` or a planted
//! temp name must not make deploygen write or delete outside the tree). Files are opened with
//! `O_NOFOLLOW`, temp files are created exclusively (`O_CREAT|O_EXCL`, which also refuses a
//! link at that name) under names no other process can predict, and reads are bounded.

use std::fs::{self, File, Metadata, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest file deploygen reads back from the tree. It never writes anything near this; a
/// larger file at a generated path is by definition not what it wrote.
pub const MAX_TREE_FILE: u64 = 16 * 1024 * 1024;

/// Every temp file deploygen creates ends with this (git-ignored; `check` reports leftovers).
pub const TEMP_SUFFIX: &str = ".deploygen-tmp";

/// What is at a path below the root.
#[derive(Debug)]
pub enum Node {
    Missing,
    File(Metadata),
    Dir,
    /// A link, socket, device or fifo at the final component.
    Other(&'static str),
}

/// Why a path below the root cannot be used: `at` is the offending prefix (relative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsafe {
    pub at: String,
    pub why: String,
}

fn kind(m: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "a file"
    }
}

/// Walks `rel` (a `/`-separated relative path of normal components) beneath `root` without
/// following links. Intermediate components must be real folders (or missing); the final one
/// is reported as found. A link at the final component is `Other("a symbolic link")`.
pub fn inspect(root: &Path, rel: &str) -> Result<Node, Unsafe> {
    let parts: Vec<&str> = rel.split('/').collect();
    let mut path = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let prefix = parts[..=i].join("/");
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Node::Missing),
            Err(e) => {
                return Err(Unsafe {
                    at: prefix,
                    why: format!("cannot be inspected: {e}"),
                })
            }
        };
        let last = i + 1 == parts.len();
        if meta.file_type().is_symlink() {
            if last {
                return Ok(Node::Other("a symbolic link"));
            }
            return Err(Unsafe {
                at: prefix,
                why: "is a symbolic link; deploygen never writes or deletes through a link \
                      (it could reach outside the tree): replace it with a real folder"
                    .into(),
            });
        }
        if last {
            return Ok(if meta.is_file() {
                Node::File(meta)
            } else if meta.is_dir() {
                Node::Dir
            } else {
                Node::Other(kind(&meta))
            });
        }
        if !meta.is_dir() {
            return Err(Unsafe {
                at: prefix,
                why: format!(
                    "is {} where deploygen needs a folder: move it away",
                    kind(&meta)
                ),
            });
        }
    }
    Ok(Node::Missing)
}

/// Opens a regular file without following a link at its last component.
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(f)
}

/// Reads at most `limit + 1` bytes from `r` (so a caller can tell "too large" apart).
pub fn read_bounded(r: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(limit + 1).read_to_end(&mut out)?;
    Ok(out)
}

/// A regular file's bytes (bounded; `None` when larger than `MAX_TREE_FILE`).
pub fn read_file(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let bytes = read_bounded(open_nofollow(path)?, MAX_TREE_FILE)?;
    Ok((bytes.len() as u64 <= MAX_TREE_FILE).then_some(bytes))
}

/// Mode bits a generated file may not have: any execute bit (git records it; Helm would ship
/// it), or not readable and writable by its owner.
pub fn mode_problem(meta: &Metadata, executable: bool) -> Option<String> {
    let mode = meta.permissions().mode() & 0o7777;
    if executable {
        // Generated scripts: read-write-execute for the owner, no special bits.
        return (mode & 0o7000 != 0 || mode & 0o700 != 0o700).then(|| {
            format!(
                "has mode {mode:04o}; generated scripts are executable (0755): `deploygen render` restores it"
            )
        });
    }
    (mode & 0o7111 != 0 || mode & 0o600 != 0o600).then(|| {
        format!(
            "has mode {mode:04o}; generated files are plain read-write files (0644 under the \
             usual umask): `deploygen render` restores it"
        )
    })
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temp name beside `target` that no other process can predict or share: pid, a
/// per-process counter, the time and a random number (std's randomly keyed hasher).
pub fn temp_path(target: &Path, what: &str) -> PathBuf {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name: String = target
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(80).collect())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n ^ nanos);
    let random = h.finish();
    dir.join(format!(
        ".{name}.{what}.{}-{n}-{random:016x}{TEMP_SUFFIX}",
        std::process::id()
    ))
}

/// Creates a new file exclusively (never through a link, never an existing file) beside
/// `target`, writes `bytes`, sets `mode` if given and syncs it. Returns its path.
pub fn stage(target: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<PathBuf> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = temp_path(target, "new");
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
        {
            Ok(mut f) => {
                let written = (|| {
                    f.write_all(bytes)?;
                    if let Some(mode) = mode {
                        f.set_permissions(fs::Permissions::from_mode(mode))?;
                    }
                    f.sync_all()
                })();
                if let Err(e) = written {
                    let _ = fs::remove_file(&tmp);
                    return Err(e);
                }
                return Ok(tmp);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temp name")))
}

/// Keeps what is at `target` under a fresh name beside it (a hard link, or a copy where the
/// filesystem has none), so a swap can be undone.
pub fn backup(target: &Path) -> io::Result<PathBuf> {
    let keep = temp_path(target, "old");
    match fs::hard_link(target, &keep) {
        Ok(()) => Ok(keep),
        Err(_) => {
            let bytes = read_bounded(open_nofollow(target)?, MAX_TREE_FILE)?;
            let mode = fs::symlink_metadata(target)?.permissions().mode();
            let staged = stage(target, &bytes, Some(mode & 0o7777))?;
            Ok(staged)
        }
    }
}
