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
    // std's RandomState is keyed randomly per process: the hash is unpredictable whatever
    // goes in; pid, counter and time keep names apart within and across processes.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.write_u64(nanos);
    let random = h.finish();
    dir.join(format!(
        ".{name}.{what}.{}-{n}-{random:016x}{TEMP_SUFFIX}",
        std::process::id()
    ))
}

/// Creates a new file exclusively (never through a link, never an existing file) beside
/// `target`, writes `bytes`, sets `mode` if given and syncs it. Returns its path.
pub fn stage(target: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<PathBuf> {
    stage_named(bytes, mode, || temp_path(target, "new"))
}

/// `stage` with the temp names drawn from `next_name`: a name that exists already (planted,
/// or another writer's) is skipped, never opened; any other error ends the attempt.
fn stage_named(
    bytes: &[u8],
    mode: Option<u32>,
    mut next_name: impl FnMut() -> PathBuf,
) -> io::Result<PathBuf> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = next_name();
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
        Err(_) => copy_aside(target),
    }
}

/// A copy of `target` beside it with the same bytes and permission bits.
fn copy_aside(target: &Path) -> io::Result<PathBuf> {
    let bytes = read_bounded(open_nofollow(target)?, MAX_TREE_FILE)?;
    let mode = fs::symlink_metadata(target)?.permissions().mode();
    stage(target, &bytes, Some(mode & 0o7777))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn mkfifo(at: &Path) {
        let c = std::ffi::CString::new(at.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn what_is_at_a_path_is_named_in_words() {
        let d = scratch();
        let root = d.path();
        fs::write(root.join("file"), "x").unwrap();
        fs::create_dir(root.join("dir")).unwrap();
        symlink("file", root.join("link")).unwrap();
        mkfifo(&root.join("fifo"));
        let _socket = std::os::unix::net::UnixListener::bind(root.join("socket")).unwrap();
        let named = |p: &Path| kind(&fs::symlink_metadata(p).unwrap());
        assert_eq!(named(&root.join("file")), "a file");
        assert_eq!(named(&root.join("dir")), "a folder");
        assert_eq!(named(&root.join("link")), "a symbolic link");
        assert_eq!(named(&root.join("fifo")), "a named pipe");
        assert_eq!(named(&root.join("socket")), "a socket");
        assert_eq!(named(Path::new("/dev/null")), "a device");
        // What `inspect` says about each where a folder is needed, and at the end of a path.
        for (name, what) in [
            ("file", "a file"),
            ("fifo", "a named pipe"),
            ("socket", "a socket"),
        ] {
            let err = inspect(root, &format!("{name}/below")).unwrap_err();
            assert_eq!(err.at, name);
            assert_eq!(
                err.why,
                format!("is {what} where deploygen needs a folder: move it away")
            );
        }
        assert!(matches!(
            inspect(root, "fifo"),
            Ok(Node::Other("a named pipe"))
        ));
        assert!(matches!(
            inspect(root, "link"),
            Ok(Node::Other("a symbolic link"))
        ));
        assert!(matches!(inspect(root, "dir/none"), Ok(Node::Missing)));
    }

    #[test]
    fn a_path_that_cannot_be_inspected_is_refused_not_taken_for_missing() {
        // ENAMETOOLONG is not "not found": nothing may be written there on that belief.
        let d = scratch();
        let long = "n".repeat(300);
        let err = inspect(d.path(), &format!("{long}/x")).unwrap_err();
        assert_eq!(err.at, long);
        assert!(err.why.starts_with("cannot be inspected: "), "{}", err.why);
    }

    #[test]
    fn files_are_opened_only_when_regular_and_never_through_a_link() {
        let d = scratch();
        let root = d.path();
        fs::write(root.join("file"), "x").unwrap();
        symlink("file", root.join("link")).unwrap();
        mkfifo(&root.join("fifo"));
        assert!(open_nofollow(&root.join("file")).is_ok());
        let err = open_nofollow(&root.join("link")).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP), "{err}");
        // A fifo opens at once (O_NONBLOCK: no writer needed) and is refused as not regular.
        let err = open_nofollow(&root.join("fifo")).unwrap_err();
        assert_eq!(err.to_string(), "not a regular file");
    }

    #[test]
    fn reads_stop_at_the_largest_file_deploygen_reads_back() {
        assert_eq!(MAX_TREE_FILE, 16 << 20);
        let d = scratch();
        let at = d.path().join("big");
        let f = File::create(&at).unwrap();
        f.set_len(MAX_TREE_FILE).unwrap();
        assert_eq!(
            read_file(&at).unwrap().map(|b| b.len() as u64),
            Some(MAX_TREE_FILE)
        );
        f.set_len(MAX_TREE_FILE + 1).unwrap();
        assert_eq!(read_file(&at).unwrap(), None);
    }

    #[test]
    fn a_backup_keeps_the_bytes_and_the_mode() {
        let d = scratch();
        let target = d.path().join("values.yaml");
        fs::write(&target, "a: 1\n").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        for kept in [backup(&target).unwrap(), copy_aside(&target).unwrap()] {
            assert_ne!(kept, target);
            assert_eq!(fs::read(&kept).unwrap(), b"a: 1\n");
            let mode = fs::metadata(&kept).unwrap().permissions().mode();
            assert_eq!(mode & 0o7777, 0o640, "{mode:o}");
            assert!(kept.to_string_lossy().ends_with(TEMP_SUFFIX));
        }
        assert_eq!(fs::read(&target).unwrap(), b"a: 1\n");
    }

    #[test]
    fn staging_skips_a_taken_name_and_stops_at_any_other_error() {
        let d = scratch();
        let root = d.path();
        let planted = root.join("planted");
        fs::write(&planted, "someone else's").unwrap();
        let mut names = vec![root.join("fresh"), planted.clone()];
        let got = stage_named(b"new", Some(0o640), || names.pop().unwrap()).unwrap();
        assert_eq!(got, root.join("fresh"));
        assert_eq!(fs::read(&planted).unwrap(), b"someone else's");
        assert_eq!(fs::read(&got).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&got).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // A missing folder is not retried under other names.
        let mut tries = 0;
        let err = stage_named(b"x", None, || {
            tries += 1;
            root.join("no-such-folder").join(format!("t{tries}"))
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(tries, 1);
        // Sixteen taken names: the last refusal is returned, nothing overwritten.
        let err = stage_named(b"x", None, || planted.clone()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&planted).unwrap(), b"someone else's");
    }
}
