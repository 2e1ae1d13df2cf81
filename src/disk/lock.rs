//! One writer at a time: an advisory lock (`flock`) on `.deploygen.lock` in the output root,
//! or on `.git/deploygen.lock` when the root is a git work tree's top (a `.git` folder, not a
//! link): git never tracks what is inside `.git`, so a repository that does not ignore
//! `.deploygen.lock` (Astrago's) gets no stray file.
//! `render` and `bump` hold it exclusively for the whole run (read, compare, write); `check`
//! and `diff` hold it shared, so they never read a tree half-way through a swap. The writer
//! records its pid and command in the file, so a busy tree names who holds it. The lock file
//! itself is git-ignored and ignored by `check`; it is never removed (removing a lock file
//! that others may have opened would let two writers in).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::base::error::{Error, Result};

pub const LOCK: &str = ".deploygen.lock";

/// Where the lock of `root` lives (see the module comment).
pub fn lock_path(root: &Path) -> PathBuf {
    if at_git_top(root) {
        root.join(".git").join("deploygen.lock")
    } else {
        root.join(LOCK)
    }
}

/// Whether `root` is the top of a git work tree: a `.git` folder (not a link, not the `.git`
/// file of a linked worktree). deploygen's private files (this lock, `memo`'s hashes) then
/// live inside it, where git never tracks anything.
pub fn at_git_top(root: &Path) -> bool {
    std::fs::symlink_metadata(root.join(".git")).is_ok_and(|m| m.is_dir())
}

/// Held until dropped.
#[derive(Debug)]
pub struct TreeLock {
    file: Option<File>,
    exclusive: bool,
}

fn open(path: &Path, create: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .mode(0o644)
        // No link followed; a fifo at the name opens at once instead of hanging.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other(
            "is not a regular file, so not deploygen's lock: remove it",
        ));
    }
    Ok(file)
}

fn busy(path: PathBuf, file: &mut File) -> Error {
    let mut holder = String::new();
    let _ = file.read_to_string(&mut holder);
    let holder = crate::base::text::escape(holder.trim()).into_owned();
    Error::Busy {
        lock: path,
        holder: if holder.is_empty() {
            "a deploygen reading the tree (check or diff)".to_string()
        } else {
            format!("another deploygen ({holder})")
        },
    }
}

impl TreeLock {
    /// Whether the tree holds deploygen's lock file (a writer locked it before, and the file
    /// is never removed): taking the writer's lock then creates nothing. A link or anything
    /// but a regular file there is not a lock file.
    pub fn present(root: &Path) -> bool {
        std::fs::symlink_metadata(lock_path(root)).is_ok_and(|m| m.is_file())
    }

    /// The writer's lock: creates the root (and the lock file) if needed. Fails at once, naming
    /// the holder, when another deploygen holds the tree.
    pub fn exclusive(root: &Path, command: &str) -> Result<TreeLock> {
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let path = lock_path(root);
        let mut file = open(&path, true).map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(busy(path, &mut file)),
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let note = format!("pid {} {command}\n", std::process::id());
        let recorded = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(note.as_bytes()));
        recorded.map_err(|e| Error::io(&path, e))?;
        Ok(TreeLock {
            file: Some(file),
            exclusive: true,
        })
    }

    /// A reader's lock. A tree that does not exist, or where the lock file cannot be created
    /// (a read-only checkout), has no writer to wait for: no lock is taken.
    pub fn shared(root: &Path) -> Result<TreeLock> {
        Self::shared_with(root, true)
    }

    /// A reader's lock only if the lock file exists: a tree no writer ever locked has no
    /// writer to wait for, and nothing is created.
    pub fn shared_if_locked_before(root: &Path) -> Result<TreeLock> {
        Self::shared_with(root, false)
    }

    fn shared_with(root: &Path, create: bool) -> Result<TreeLock> {
        let path = lock_path(root);
        let none = TreeLock {
            file: None,
            exclusive: false,
        };
        if !root.is_dir() {
            return Ok(none);
        }
        let mut file = match open(&path, create) {
            Ok(f) => f,
            Err(e) if no_writer_possible(e.kind(), create) => return Ok(none),
            Err(e) => return Err(Error::io(&path, e)),
        };
        match file.try_lock_shared() {
            Ok(()) => Ok(TreeLock {
                file: Some(file),
                exclusive: false,
            }),
            Err(TryLockError::WouldBlock) => Err(busy(path, &mut file)),
            Err(TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }
}

/// Whether a reader may go on without a lock when the lock file cannot be opened: it is
/// missing and the reader does not create it (no writer ever locked the tree), or the tree
/// cannot be written (a read-only checkout: no deploygen can write it either). Anything
/// else (a link at the lock's name, an I/O error) is a refusal.
fn no_writer_possible(kind: io::ErrorKind, create: bool) -> bool {
    match kind {
        io::ErrorKind::NotFound => !create,
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => true,
        _ => false,
    }
}

impl Drop for TreeLock {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            if self.exclusive {
                // Clear the holder before letting go: an empty file means "no writer".
                let _ = f.set_len(0);
            }
            let _ = f.unlock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_work_trees_lock_lives_inside_dot_git() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(lock_path(d.path()), d.path().join(LOCK));
        std::fs::create_dir(d.path().join(".git")).unwrap();
        let lock = TreeLock::exclusive(d.path(), "render").unwrap();
        assert!(d.path().join(".git/deploygen.lock").is_file());
        assert!(!d.path().join(LOCK).exists());
        assert!(TreeLock::present(d.path()));
        // Busy for a second writer, through the same file.
        let err = TreeLock::exclusive(d.path(), "render")
            .unwrap_err()
            .to_string();
        assert!(err.contains(".git/deploygen.lock"), "{err}");
        drop(lock);
        // A `.git` file (a linked worktree) or link: the lock stays at the root.
        let w = tempfile::tempdir().unwrap();
        std::fs::write(w.path().join(".git"), "gitdir: elsewhere\n").unwrap();
        assert_eq!(lock_path(w.path()), w.path().join(LOCK));
        let l = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(d.path().join(".git"), l.path().join(".git")).unwrap();
        assert_eq!(lock_path(l.path()), l.path().join(LOCK));
    }

    #[test]
    fn readers_go_without_a_lock_only_where_no_writer_can_be() {
        use io::ErrorKind::*;
        assert!(no_writer_possible(NotFound, false));
        assert!(!no_writer_possible(NotFound, true));
        for create in [false, true] {
            assert!(no_writer_possible(PermissionDenied, create));
            assert!(no_writer_possible(ReadOnlyFilesystem, create));
            assert!(!no_writer_possible(InvalidInput, create));
            assert!(!no_writer_possible(Other, create));
        }
    }

    #[test]
    fn a_fifo_at_the_lock_name_is_refused_at_once_by_readers_and_writers() {
        let d = tempfile::tempdir().unwrap();
        let c = std::ffi::CString::new(d.path().join(LOCK).to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        for lock in [
            TreeLock::shared(d.path()),
            TreeLock::shared_if_locked_before(d.path()),
            TreeLock::exclusive(d.path(), "render"),
        ] {
            let err = lock.unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
    }

    #[test]
    fn a_link_at_the_lock_name_is_refused_by_readers_and_writers() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("elsewhere", d.path().join(LOCK)).unwrap();
        for lock in [
            TreeLock::shared(d.path()),
            TreeLock::shared_if_locked_before(d.path()),
            TreeLock::exclusive(d.path(), "render"),
        ] {
            let err = lock.unwrap_err().to_string();
            assert!(err.contains(LOCK), "{err}");
        }
        assert!(!d.path().join("elsewhere").exists());
        // No tree, or a tree never locked: a reader needs no lock and creates nothing.
        let fresh = tempfile::tempdir().unwrap();
        assert!(TreeLock::shared(&fresh.path().join("none"))
            .unwrap()
            .file
            .is_none());
        let held = TreeLock::shared_if_locked_before(fresh.path()).unwrap();
        assert!(held.file.is_none());
        assert!(!fresh.path().join(LOCK).exists());
        assert!(TreeLock::shared(fresh.path()).unwrap().file.is_some());
        assert!(fresh.path().join(LOCK).exists());
    }

    #[test]
    fn a_lock_file_is_present_only_once_a_writer_made_it_and_only_as_a_file() {
        let d = tempfile::tempdir().unwrap();
        assert!(!TreeLock::present(&d.path().join("none")));
        assert!(!TreeLock::present(d.path()));
        drop(TreeLock::exclusive(d.path(), "render").unwrap());
        assert!(TreeLock::present(d.path()));
        let linked = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(d.path().join(LOCK), linked.path().join(LOCK)).unwrap();
        assert!(!TreeLock::present(linked.path()));
        let folder = tempfile::tempdir().unwrap();
        std::fs::create_dir(folder.path().join(LOCK)).unwrap();
        assert!(!TreeLock::present(folder.path()));
    }
}
