//! All or nothing: every new file is staged first (an exclusive temp file in its own folder,
//! written and synced), and only when all of them exist are they swapped in with renames.
//! Each swap keeps what it replaced (a hard link under a temp name) and each removal is a
//! rename to a temp name, so a failure part-way is undone in reverse order and the tree is
//! left exactly as it was. Where the filesystem refuses even the undo, the error lists every
//! file left changed, so nothing is claimed that did not happen.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::fs_safe;
use crate::base::error::{Error, Outcome, Result};

/// One change to the filesystem.
#[derive(Debug)]
pub enum Step {
    /// Write `bytes` at `target` (with `mode`, else the umask's default).
    Write {
        target: PathBuf,
        bytes: Vec<u8>,
        mode: Option<u32>,
    },
    /// Remove the file at `target` (already proven to be deploygen's).
    Remove { target: PathBuf },
}

impl Step {
    fn target(&self) -> &Path {
        match self {
            Step::Write { target, .. } | Step::Remove { target } => target,
        }
    }
}

/// Test hooks (see `WriteOptions`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Hooks {
    pub fail_after: Option<usize>,
    pub fail_swap_after: Option<usize>,
    pub crash_after: Option<usize>,
}

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what} (test)"))
}

enum Undo {
    /// `target` was created: remove it.
    Created(PathBuf),
    /// `target` was replaced: put `kept` back.
    Replaced { target: PathBuf, kept: PathBuf },
    /// `target` was moved to `kept`: move it back.
    Removed { target: PathBuf, kept: PathBuf },
}

/// Applies `steps` in order, all or nothing. `root` bounds the removal of emptied folders.
pub fn apply(root: &Path, steps: &[Step], hooks: Hooks) -> Result<()> {
    let mut dirs = Vec::new();
    let mut temps: Vec<Option<PathBuf>> = Vec::with_capacity(steps.len());
    // 1. Stage: nothing visible changes yet.
    let mut staged_count = 0;
    for step in steps {
        let staged = match step {
            Step::Write {
                target,
                bytes,
                mode,
            } => {
                let r = if hooks.fail_after.is_some_and(|n| staged_count >= n) {
                    Err(injected("write failure"))
                } else {
                    make_dirs(root, target, &mut dirs)
                        .and_then(|()| fs_safe::stage(target, bytes, *mode))
                };
                staged_count += 1;
                match r {
                    Ok(t) => Some(t),
                    Err(e) => {
                        discard(&temps, &dirs);
                        return Err(Error::WriteFailed {
                            path: target.clone(),
                            source: e,
                            outcome: Outcome::RolledBack,
                        });
                    }
                }
            }
            Step::Remove { .. } => None,
        };
        temps.push(staged);
    }
    // 2. Swap, remembering how to undo each step.
    let mut undo: Vec<Undo> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if hooks.crash_after.is_some_and(|n| i >= n) {
            // What kill -9 leaves: no undo, temps in place.
            return Err(Error::io(step.target(), injected("crash")));
        }
        let r = if hooks.fail_swap_after.is_some_and(|n| i >= n) {
            Err(injected("rename failure"))
        } else {
            swap(step, temps[i].as_deref(), &mut undo)
        };
        if let Err(e) = r {
            let left = rollback(undo);
            discard(&temps, &dirs);
            return Err(Error::WriteFailed {
                path: step.target().to_path_buf(),
                source: e,
                outcome: if left.is_empty() {
                    Outcome::RolledBack
                } else {
                    Outcome::Partial(left)
                },
            });
        }
    }
    // 3. Done: drop what was kept for the undo, and folders a removal emptied.
    for u in undo {
        match u {
            Undo::Created(_) => {}
            Undo::Replaced { kept, .. } => {
                let _ = fs::remove_file(kept);
            }
            Undo::Removed { target, kept } => {
                let _ = fs::remove_file(kept);
                remove_empty_parents(root, &target);
            }
        }
    }
    Ok(())
}

fn swap(step: &Step, temp: Option<&Path>, undo: &mut Vec<Undo>) -> io::Result<()> {
    match step {
        Step::Write { target, .. } => {
            let temp = temp.ok_or_else(|| io::Error::other("not staged"))?;
            let existed = fs::symlink_metadata(target).is_ok();
            let kept = if existed {
                Some(fs_safe::backup(target)?)
            } else {
                None
            };
            if let Err(e) = fs::rename(temp, target) {
                if let Some(k) = kept {
                    let _ = fs::remove_file(k);
                }
                return Err(e);
            }
            undo.push(match kept {
                Some(kept) => Undo::Replaced {
                    target: target.clone(),
                    kept,
                },
                None => Undo::Created(target.clone()),
            });
        }
        Step::Remove { target } => {
            let kept = fs_safe::temp_path(target, "removed");
            fs::rename(target, &kept)?;
            undo.push(Undo::Removed {
                target: target.clone(),
                kept,
            });
        }
    }
    Ok(())
}

/// Undoes swaps in reverse order; returns the paths that could not be restored.
fn rollback(undo: Vec<Undo>) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for u in undo.into_iter().rev() {
        let (target, r) = match u {
            Undo::Created(target) => {
                let r = fs::remove_file(&target);
                (target, r)
            }
            Undo::Replaced { target, kept } | Undo::Removed { target, kept } => {
                let r = fs::rename(&kept, &target);
                (target, r)
            }
        };
        if r.is_err() {
            left.push(target);
        }
    }
    left.sort();
    left
}

/// Removes staged temp files and the folders staging created (deepest first).
fn discard(temps: &[Option<PathBuf>], dirs: &[PathBuf]) {
    for t in temps.iter().flatten() {
        let _ = fs::remove_file(t);
    }
    for d in dirs.iter().rev() {
        let _ = fs::remove_dir(d);
    }
}

/// Creates the missing folders above `target` one at a time (recording each, for the undo).
fn make_dirs(root: &Path, target: &Path, made: &mut Vec<PathBuf>) -> io::Result<()> {
    let Some(parent) = target.parent() else {
        return Ok(());
    };
    let mut missing = Vec::new();
    let mut d = parent;
    while fs::symlink_metadata(d).is_err() {
        missing.push(d.to_path_buf());
        match d.parent() {
            Some(p) if d != root => d = p,
            _ => break,
        }
    }
    for d in missing.into_iter().rev() {
        fs::create_dir(&d)?;
        made.push(d);
    }
    Ok(())
}

/// Removes folders left empty by a removal, up to (not including) the root.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_made_between_the_root_and_the_file_never_above_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("tree");
        let mut made = Vec::new();
        make_dirs(&root, &root.join("a/b/f.yaml"), &mut made).unwrap();
        assert_eq!(made, [root.clone(), root.join("a"), root.join("a/b")]);
        // A root whose own parent is missing: nothing above the root is created.
        let far = d.path().join("missing/tree");
        let mut made = Vec::new();
        let err = make_dirs(&far, &far.join("a/f.yaml"), &mut made).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(made.is_empty());
        assert!(!d.path().join("missing").exists());
    }

    #[test]
    fn emptied_folders_are_removed_up_to_the_root_never_the_root_or_above() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("x/tree");
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::create_dir_all(root.join("keep")).unwrap();
        fs::write(root.join("keep/f"), "").unwrap();
        remove_empty_parents(&root, &root.join("a/b/gone.yaml"));
        assert!(!root.join("a").exists());
        assert!(root.join("keep/f").exists());
        // Even an emptied root stays, and so does everything above it.
        fs::remove_dir_all(root.join("keep")).unwrap();
        fs::create_dir(root.join("c")).unwrap();
        remove_empty_parents(&root, &root.join("c/gone.yaml"));
        assert!(!root.join("c").exists());
        assert!(root.is_dir());
        // A path outside the root is never touched.
        fs::create_dir_all(d.path().join("outside/empty")).unwrap();
        remove_empty_parents(&root, &d.path().join("outside/empty/f"));
        assert!(d.path().join("outside/empty").is_dir());
    }
}
