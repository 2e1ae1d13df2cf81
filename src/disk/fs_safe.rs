//! Filesystem access that cannot leave the tree. Every generated path is walked from the
//! output root's handle one component at a time (`dir::Dir`, `O_NOFOLLOW`): a symbolic link
//! anywhere below the root is a refusal, never followed (a planted `applications/kserve ->
//! /elsewhere` or a planted temp name must not make deploygen write or delete outside the
//! tree), and because every step opens relative to a handle already held, a folder swapped for
//! a link between a check and a use is refused by the use itself. Temp files are created
//! exclusively (`O_CREAT|O_EXCL`, which also refuses a link at that name) under names no other
//! process can predict, and reads are bounded.

use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::dir::{self, Dir, Kind};

/// Largest file deploygen reads back from the tree. It never writes anything near this; a
/// larger file at a generated path is by definition not what it wrote.
pub const MAX_TREE_FILE: u64 = 16 * 1024 * 1024;

/// Every temp file deploygen creates ends with this (git-ignored; `check` reports leftovers).
pub const TEMP_SUFFIX: &str = ".deploygen-tmp";

/// What is at a path below the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    Missing,
    /// A regular file and its permission bits.
    File(u32),
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

/// The output root: its handle, or nothing yet (a tree not rendered before: every path is
/// missing, and the first write creates the folder).
#[derive(Debug)]
pub struct Root {
    path: PathBuf,
    dir: Option<Dir>,
}

impl Root {
    /// Opens the root the user named (links in that path are the user's choice).
    pub fn open(path: &Path) -> io::Result<Root> {
        let dir = match Dir::open(path) {
            Ok(d) => Some(d),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Root {
            path: path.to_path_buf(),
            dir,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The root's handle, creating the folder (one level: never its parents) when missing.
    /// Returns whether it was created.
    pub fn dir_or_create(&mut self) -> io::Result<(&Dir, bool)> {
        let mut created = false;
        if self.dir.is_none() {
            // Another process may have made it since `open`: then it is opened, not created.
            let made = std::fs::create_dir(&self.path);
            match Dir::open(&self.path) {
                Ok(d) => {
                    self.dir = Some(d);
                    created = made.is_ok();
                }
                // The create's error says why (a missing parent, no permission) when it failed.
                Err(e) => return Err(made.err().unwrap_or(e)),
            }
        }
        match &self.dir {
            Some(d) => Ok((d, created)),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }

    /// The root's handle if the folder exists.
    pub fn dir(&self) -> Option<&Dir> {
        self.dir.as_ref()
    }

    /// Walks `rel` (a `/`-separated relative path of normal components) without following
    /// links. Intermediate components must be real folders (or missing); the final one is
    /// reported as found. A link at the final component is `Other("a symbolic link")`.
    pub fn inspect(&self, rel: &str) -> Result<Node, Unsafe> {
        let Some(root) = &self.dir else {
            return Ok(Node::Missing);
        };
        let parts = dir::components(rel).map_err(|e| Unsafe {
            at: rel.to_string(),
            why: e.to_string(),
        })?;
        let mut d = root.try_clone().map_err(|e| Unsafe {
            at: String::new(),
            why: format!("cannot be inspected: {e}"),
        })?;
        for (i, part) in parts.iter().enumerate() {
            let prefix = parts[..=i].join("/");
            let cannot = |e: io::Error| Unsafe {
                at: prefix.clone(),
                why: format!("cannot be inspected: {e}"),
            };
            let kind = match d.kind(part).map_err(cannot)? {
                None => return Ok(Node::Missing),
                Some(k) => k,
            };
            let last = i + 1 == parts.len();
            match kind {
                Kind::Link if last => return Ok(Node::Other("a symbolic link")),
                Kind::Link => {
                    return Err(Unsafe {
                        at: prefix,
                        why: "is a symbolic link; deploygen never writes or deletes through a \
                              link (it could reach outside the tree): replace it with a real \
                              folder"
                            .into(),
                    })
                }
                Kind::File { mode, .. } if last => return Ok(Node::File(mode)),
                Kind::Dir if last => return Ok(Node::Dir),
                Kind::Other(w) if last => return Ok(Node::Other(w)),
                Kind::Dir => d = d.child_dir(part).map_err(cannot)?,
                other => {
                    return Err(Unsafe {
                        at: prefix,
                        why: format!(
                            "is {} where deploygen needs a folder: move it away",
                            other.words()
                        ),
                    })
                }
            }
        }
        Ok(Node::Missing)
    }

    /// A regular file's bytes below the root (bounded; `None` when larger than
    /// `MAX_TREE_FILE`), never through a link.
    pub fn read_file(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        self.read_at_most(rel, MAX_TREE_FILE)
    }

    /// `read_file` with another bound (`None` when the file is larger than `limit`).
    pub fn read_at_most(&self, rel: &str, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let Some(root) = &self.dir else {
            return Err(io::ErrorKind::NotFound.into());
        };
        let (folder, name) = dir::split(rel);
        let bytes = root.open_dir(folder)?.read(name, limit)?;
        Ok((bytes.len() as u64 <= limit).then_some(bytes))
    }
}

/// Reads at most `limit + 1` bytes from `r` (so a caller can tell "too large" apart).
pub fn read_bounded(r: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(limit + 1).read_to_end(&mut out)?;
    Ok(out)
}

/// Mode bits a generated file may not have: any execute bit (git records it; Helm would ship
/// it), or not readable and writable by its owner.
pub fn mode_problem(mode: u32, executable: bool) -> Option<String> {
    let mode = mode & 0o7777;
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

/// A temp name (one component) beside the file `name` that no other process can predict or
/// share: pid, a per-process counter, the time and a random number (std's randomly keyed
/// hasher).
pub fn temp_name(name: &str, what: &str) -> String {
    let name: String = name.chars().take(80).collect();
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
    format!(
        ".{name}.{what}.{}-{n}-{random:016x}{TEMP_SUFFIX}",
        std::process::id()
    )
}

/// Creates a new file exclusively (never through a link, never an existing file) in `dir`
/// beside `name`, writes `bytes`, sets `mode` if given and syncs it. Returns the temp name.
pub fn stage(dir: &Dir, name: &str, bytes: &[u8], mode: Option<u32>) -> io::Result<String> {
    stage_named(dir, bytes, mode, || temp_name(name, "new"))
}

/// `stage` with the temp names drawn from `next_name`: a name that exists already (planted,
/// or another writer's) is skipped, never opened; any other error ends the attempt.
fn stage_named(
    dir: &Dir,
    bytes: &[u8],
    mode: Option<u32>,
    mut next_name: impl FnMut() -> String,
) -> io::Result<String> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = next_name();
        match dir.create_new(&tmp, 0o666) {
            Ok(mut f) => {
                let written = (|| {
                    f.write_all(bytes)?;
                    if let Some(mode) = mode {
                        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
                    }
                    f.sync_all()
                })();
                if let Err(e) = written {
                    let _ = dir.remove_file(&tmp);
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

/// Keeps what is at `name` in `dir` under a fresh name beside it (a hard link, or a copy
/// where the filesystem has none), so a swap can be undone. Returns the kept name.
pub fn backup(dir: &Dir, name: &str) -> io::Result<String> {
    let keep = temp_name(name, "old");
    match dir.hard_link(name, &keep) {
        Ok(()) => Ok(keep),
        Err(_) => copy_aside(dir, name),
    }
}

/// A copy of `name` beside it with the same bytes and permission bits.
fn copy_aside(dir: &Dir, name: &str) -> io::Result<String> {
    let file = dir.open_file(name)?;
    let mode = file.metadata()?.permissions().mode();
    let bytes = read_bounded(file, MAX_TREE_FILE)?;
    stage(dir, name, &bytes, Some(mode & 0o7777))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn mkfifo(at: &Path) {
        let c = std::ffi::CString::new(at.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn what_is_at_a_path_is_named_in_words() {
        let d = scratch();
        let root = d.path();
        fs::write(root.join("file"), "x").unwrap();
        fs::set_permissions(root.join("file"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::create_dir(root.join("dir")).unwrap();
        symlink("file", root.join("link")).unwrap();
        mkfifo(&root.join("fifo"));
        let _socket = std::os::unix::net::UnixListener::bind(root.join("socket")).unwrap();
        let r = Root::open(root).unwrap();
        for (name, what) in [
            ("file", "a file"),
            ("fifo", "a named pipe"),
            ("socket", "a socket"),
        ] {
            let err = r.inspect(&format!("{name}/below")).unwrap_err();
            assert_eq!(err.at, name);
            assert_eq!(
                err.why,
                format!("is {what} where deploygen needs a folder: move it away")
            );
        }
        let err = r.inspect("link/below").unwrap_err();
        assert_eq!(err.at, "link");
        assert!(err.why.starts_with("is a symbolic link;"), "{}", err.why);
        assert_eq!(r.inspect("fifo"), Ok(Node::Other("a named pipe")));
        assert_eq!(r.inspect("link"), Ok(Node::Other("a symbolic link")));
        assert_eq!(r.inspect("file"), Ok(Node::File(0o640)));
        assert_eq!(r.inspect("dir"), Ok(Node::Dir));
        assert_eq!(r.inspect("dir/none"), Ok(Node::Missing));
        assert_eq!(r.inspect("none/deeper"), Ok(Node::Missing));
        assert!(r.inspect("dir/../file").is_err(), "`..` is no component");
        // A root not made yet: everything below it is missing, nothing is created.
        let none = Root::open(&root.join("new")).unwrap();
        assert_eq!(none.inspect("a/b"), Ok(Node::Missing));
        assert!(none.dir().is_none());
        assert!(!root.join("new").exists());
    }

    #[test]
    fn a_path_that_cannot_be_inspected_is_refused_not_taken_for_missing() {
        // ENAMETOOLONG is not "not found": nothing may be written there on that belief.
        let d = scratch();
        let long = "n".repeat(300);
        let err = Root::open(d.path())
            .unwrap()
            .inspect(&format!("{long}/x"))
            .unwrap_err();
        assert_eq!(err.at, long);
        assert!(err.why.starts_with("cannot be inspected: "), "{}", err.why);
    }

    #[test]
    fn files_are_read_only_when_regular_and_never_through_a_link() {
        let d = scratch();
        let root = d.path();
        fs::write(root.join("file"), "x").unwrap();
        symlink("file", root.join("link")).unwrap();
        mkfifo(&root.join("fifo"));
        let r = Root::open(root).unwrap();
        assert_eq!(r.read_file("file").unwrap(), Some(b"x".to_vec()));
        let err = r.read_file("link").unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        // A fifo opens at once (O_NONBLOCK: no writer needed) and is refused as not regular.
        let err = r.read_file("fifo").unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }

    #[test]
    fn reads_stop_at_the_largest_file_deploygen_reads_back() {
        assert_eq!(MAX_TREE_FILE, 16 << 20);
        let d = scratch();
        let f = fs::File::create(d.path().join("big")).unwrap();
        f.set_len(MAX_TREE_FILE).unwrap();
        let r = Root::open(d.path()).unwrap();
        assert_eq!(
            r.read_file("big").unwrap().map(|b| b.len() as u64),
            Some(MAX_TREE_FILE)
        );
        f.set_len(MAX_TREE_FILE + 1).unwrap();
        assert_eq!(r.read_file("big").unwrap(), None);
    }

    #[test]
    fn a_missing_root_is_created_one_level_only() {
        let d = scratch();
        let mut r = Root::open(&d.path().join("tree")).unwrap();
        assert!(r.dir_or_create().unwrap().1, "created");
        assert!(d.path().join("tree").is_dir());
        assert!(!r.dir_or_create().unwrap().1, "already there");
        let mut far = Root::open(&d.path().join("missing/tree")).unwrap();
        assert_eq!(
            far.dir_or_create().unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert!(!d.path().join("missing").exists());
        // Made by someone else between `open` and the first write: opened, not created.
        let mut raced = Root::open(&d.path().join("raced")).unwrap();
        fs::create_dir(d.path().join("raced")).unwrap();
        let (_, created) = raced.dir_or_create().unwrap();
        assert!(!created);
        // A root that is a file is an error at `open`, not a tree still to be made.
        fs::write(d.path().join("file"), "x").unwrap();
        let e = Root::open(&d.path().join("file")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
    }

    #[test]
    fn a_backup_keeps_the_bytes_and_the_mode() {
        let d = scratch();
        let target = d.path().join("values.yaml");
        fs::write(&target, "a: 1\n").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        let dir = Dir::open(d.path()).unwrap();
        for kept in [
            backup(&dir, "values.yaml").unwrap(),
            copy_aside(&dir, "values.yaml").unwrap(),
        ] {
            assert_ne!(kept, "values.yaml");
            let kept = d.path().join(kept);
            assert_eq!(fs::read(&kept).unwrap(), b"a: 1\n");
            let mode = fs::metadata(&kept).unwrap().permissions().mode();
            assert_eq!(mode & 0o7777, 0o640, "{mode:o}");
            assert!(kept.to_string_lossy().ends_with(TEMP_SUFFIX));
        }
        assert_eq!(fs::read(&target).unwrap(), b"a: 1\n");
    }

    #[test]
    fn mode_problems_are_execute_bits_or_an_owner_who_cannot_read_and_write() {
        assert_eq!(mode_problem(0o644, false), None);
        assert_eq!(mode_problem(0o600, false), None);
        for bad in [0o755, 0o744, 0o400, 0o200, 0o4644] {
            assert!(mode_problem(bad, false).is_some(), "{bad:o}");
        }
        assert_eq!(mode_problem(0o755, true), None);
        assert_eq!(mode_problem(0o700, true), None);
        for bad in [0o644, 0o655, 0o4755] {
            assert!(mode_problem(bad, true).is_some(), "{bad:o}");
        }
        assert!(
            mode_problem(0o100644, false).is_none(),
            "file type bits ignored"
        );
    }

    #[test]
    fn staging_skips_a_taken_name_and_stops_at_any_other_error() {
        let d = scratch();
        let dir = Dir::open(d.path()).unwrap();
        fs::write(d.path().join("planted"), "someone else's").unwrap();
        let mut names = vec!["fresh".to_string(), "planted".to_string()];
        let got = stage_named(&dir, b"new", Some(0o640), || names.pop().unwrap()).unwrap();
        assert_eq!(got, "fresh");
        assert_eq!(
            fs::read(d.path().join("planted")).unwrap(),
            b"someone else's"
        );
        assert_eq!(fs::read(d.path().join("fresh")).unwrap(), b"new");
        assert_eq!(
            fs::metadata(d.path().join("fresh"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o640
        );
        // A link at the name is taken too: never opened, never written through.
        let out = scratch();
        symlink(out.path().join("victim"), d.path().join("linked")).unwrap();
        let mut names = vec!["fresh2".to_string(), "linked".to_string()];
        let got = stage_named(&dir, b"x", None, || names.pop().unwrap()).unwrap();
        assert_eq!(got, "fresh2");
        assert!(!out.path().join("victim").exists());
        // A bad name is not retried under other names.
        let mut tries = 0;
        let err = stage_named(&dir, b"x", None, || {
            tries += 1;
            format!("no/t{tries}")
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(tries, 1);
        // Sixteen taken names: the last refusal is returned, nothing overwritten.
        let err = stage_named(&dir, b"x", None, || "planted".to_string()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            fs::read(d.path().join("planted")).unwrap(),
            b"someone else's"
        );
    }
}
