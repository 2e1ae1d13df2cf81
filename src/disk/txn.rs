//! All or nothing: every new file is staged first (an exclusive temp file in its own folder,
//! written and synced), and only when all of them exist are they swapped in with renames.
//! Each swap keeps what it replaced (a hard link under a temp name) and each removal is a
//! rename to a temp name, so a failure part-way is undone in reverse order and the tree is
//! left exactly as it was. Where the filesystem refuses even the undo, the error lists every
//! file left changed, and every temp file it could not remove, so nothing is claimed that did
//! not happen.
//!
//! Every operation is relative to a folder handle (`dir::Dir`) opened from the base without
//! following links, and the swap renames within the handle the file was staged in: a folder
//! swapped for a link while the run goes on is refused when opened, and a folder moved away
//! after it was opened only takes this run's files with it. Nothing is written through a link.

use std::io;
use std::path::PathBuf;
use std::rc::Rc;

use super::dir::{self, Dir};
use super::fs_safe;
use crate::base::error::{Error, Outcome, Result};

/// A file below a base folder (the tree's root, or the matrix's folder).
#[derive(Debug, Clone)]
pub struct Place {
    pub base: Rc<Dir>,
    /// `/`-separated normal components.
    pub rel: String,
}

impl Place {
    /// The path messages show.
    pub fn path(&self) -> PathBuf {
        self.base.path().join(&self.rel)
    }
}

/// One change to the filesystem.
#[derive(Debug)]
pub enum Step {
    /// Write `bytes` at `at` (with `mode`, else the umask's default).
    Write {
        at: Place,
        bytes: Vec<u8>,
        mode: Option<u32>,
    },
    /// Remove the file at `at` (already proven to be deploygen's).
    Remove { at: Place },
}

impl Step {
    fn at(&self) -> &Place {
        match self {
            Step::Write { at, .. } | Step::Remove { at } => at,
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

/// A file staged in the folder it will be swapped into.
struct Staged {
    dir: Rc<Dir>,
    temp: String,
}

/// The folders a run has opened (or made), by base and relative path: every file of a folder
/// is staged and swapped through the one handle, opened once (a tree of 1,600 files in 220
/// folders then opens 220 folders, not a chain of them per file). Holding the handle is what
/// opening it again would check: it was opened without following a link.
type Opened = std::collections::HashMap<(*const Dir, String), Rc<Dir>>;

enum Undo {
    /// `name` was created in `dir`: remove it.
    Created {
        dir: Rc<Dir>,
        name: String,
        path: PathBuf,
    },
    /// `name` was replaced: put `kept` back.
    Replaced {
        dir: Rc<Dir>,
        name: String,
        kept: String,
        path: PathBuf,
    },
    /// `name` was moved to `kept`: move it back.
    Removed {
        dir: Rc<Dir>,
        name: String,
        kept: String,
        at: Place,
    },
}

/// A folder staging created, for the undo: its base and relative path.
type Made = (Rc<Dir>, String);

/// Applies `steps` in order, all or nothing.
pub fn apply(steps: &[Step], hooks: Hooks) -> Result<()> {
    raise_open_file_limit();
    let mut made: Vec<Made> = Vec::new();
    let mut staged: Vec<Option<Staged>> = Vec::with_capacity(steps.len());
    let mut opened = Opened::new();
    // 1. Stage: nothing visible changes yet.
    for (i, step) in steps.iter().enumerate() {
        let s = match step {
            Step::Write { at, bytes, mode } => {
                let r = if hooks.fail_after.is_some_and(|n| i >= n) {
                    Err(injected("write failure"))
                } else {
                    stage(at, bytes, *mode, &mut made, &mut opened)
                };
                match r {
                    Ok(s) => Some(s),
                    Err(e) => {
                        let left = discard(&staged, &made);
                        return Err(Error::WriteFailed {
                            path: at.path(),
                            source: e,
                            outcome: rolled_back(Vec::new(), left),
                        });
                    }
                }
            }
            Step::Remove { .. } => None,
        };
        staged.push(s);
    }
    // 2. Swap, remembering how to undo each step.
    let mut undo: Vec<Undo> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if hooks.crash_after.is_some_and(|n| i >= n) {
            // What kill -9 leaves: no undo, temps in place.
            return Err(Error::io(step.at().path(), injected("crash")));
        }
        // A swapped file's temp name is gone (renamed into place): only the unswapped ones
        // are discarded on failure.
        let s = staged[i].take();
        let r = if hooks.fail_swap_after.is_some_and(|n| i >= n) {
            Err(injected("rename failure"))
        } else {
            swap(step, s.as_ref(), &mut undo)
        };
        if let Err(e) = r {
            staged[i] = s;
            let (left, kept) = rollback(undo);
            let mut temps = discard(&staged, &made);
            temps.extend(kept);
            return Err(Error::WriteFailed {
                path: step.at().path(),
                source: e,
                outcome: rolled_back(left, temps),
            });
        }
    }
    // 3. Done: drop what was kept for the undo, and folders a removal emptied.
    for u in undo {
        match u {
            Undo::Created { .. } => {}
            Undo::Replaced { dir, kept, .. } => {
                let _ = dir.remove_file(&kept);
            }
            Undo::Removed { dir, kept, at, .. } => {
                let _ = dir.remove_file(&kept);
                remove_empty_parents(&at);
            }
        }
    }
    Ok(())
}

/// Raises this process's soft limit of open files to its hard limit, once. A write holds one
/// handle per folder it writes into until every file is swapped in (`Opened`), and a matrix of
/// a thousand environments writes into two thousand folders, past the soft limit many systems
/// start with (1024) though not their hard limit. Go's runtime does the same at start.
fn raise_open_file_limit() {
    static RAISED: std::sync::Once = std::sync::Once::new();
    RAISED.call_once(|| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: a valid out-pointer; the call only fills it in.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0
            && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            // SAFETY: a valid pointer to an initialized value. Failing leaves the soft limit
            // as it was, which is what the write had before.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
        }
    });
}

/// What a failed run left: `Partial` when a file could not be restored, else rolled back,
/// naming the temp files that could not be removed.
fn rolled_back(left: Vec<PathBuf>, temps: Vec<PathBuf>) -> Outcome {
    if !left.is_empty() {
        Outcome::Partial(left)
    } else if !temps.is_empty() {
        Outcome::RolledBackLeaving(temps)
    } else {
        Outcome::RolledBack
    }
}

fn stage(
    at: &Place,
    bytes: &[u8],
    mode: Option<u32>,
    made: &mut Vec<Made>,
    opened: &mut Opened,
) -> io::Result<Staged> {
    let (folder, name) = dir::split(&at.rel);
    let key = (Rc::as_ptr(&at.base), folder.to_string());
    let dir = match opened.get(&key) {
        Some(d) => Rc::clone(d),
        None => {
            let mut new_dirs = Vec::new();
            let r = at.base.make_dirs(folder, &mut new_dirs);
            made.extend(new_dirs.into_iter().map(|d| (at.base.clone(), d)));
            let d = Rc::new(r?);
            opened.insert(key, Rc::clone(&d));
            d
        }
    };
    let temp = fs_safe::stage(&dir, name, bytes, mode)?;
    Ok(Staged { dir, temp })
}

fn swap(step: &Step, staged: Option<&Staged>, undo: &mut Vec<Undo>) -> io::Result<()> {
    match step {
        Step::Write { at, .. } => {
            let s = staged.ok_or_else(|| io::Error::other("not staged"))?;
            let name = dir::split(&at.rel).1.to_string();
            let kept = if s.dir.kind(&name)?.is_some() {
                Some(fs_safe::backup(&s.dir, &name)?)
            } else {
                None
            };
            if let Err(e) = s.dir.rename(&s.temp, &s.dir, &name) {
                if let Some(k) = kept {
                    let _ = s.dir.remove_file(&k);
                }
                return Err(e);
            }
            let dir = Rc::clone(&s.dir);
            undo.push(match kept {
                Some(kept) => Undo::Replaced {
                    dir,
                    name,
                    kept,
                    path: at.path(),
                },
                None => Undo::Created {
                    dir,
                    name,
                    path: at.path(),
                },
            });
        }
        Step::Remove { at } => {
            let (folder, name) = dir::split(&at.rel);
            let dir = Rc::new(at.base.open_dir(folder)?);
            let kept = fs_safe::temp_name(name, "removed");
            dir.rename(name, &dir, &kept)?;
            undo.push(Undo::Removed {
                dir,
                name: name.to_string(),
                kept,
                at: at.clone(),
            });
        }
    }
    Ok(())
}

/// Undoes swaps in reverse order; returns the paths that could not be restored, and the
/// undo's own temp names it could not remove.
fn rollback(undo: Vec<Undo>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut left = Vec::new();
    let mut temps = Vec::new();
    for u in undo.into_iter().rev() {
        match u {
            Undo::Created { dir, name, path } => {
                if dir.remove_file(&name).is_err() {
                    left.push(path);
                }
            }
            Undo::Replaced {
                dir,
                name,
                kept,
                path,
            } => {
                if dir.rename(&kept, &dir, &name).is_err() {
                    left.push(path);
                    temps.push(dir.path().join(&kept));
                }
            }
            Undo::Removed {
                dir,
                name,
                kept,
                at,
            } => {
                if dir.rename(&kept, &dir, &name).is_err() {
                    left.push(at.path());
                    temps.push(dir.path().join(&kept));
                }
            }
        }
    }
    left.sort();
    (left, temps)
}

/// Removes staged temp files and the folders staging created (deepest first). Returns the
/// temp files and folders that are still there.
fn discard(staged: &[Option<Staged>], made: &[Made]) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for s in staged.iter().flatten() {
        if s.dir.remove_file(&s.temp).is_err() {
            left.push(s.dir.path().join(&s.temp));
        }
    }
    for (base, rel) in made.iter().rev() {
        let (folder, name) = dir::split(rel);
        let gone = base
            .open_dir(folder)
            .and_then(|d| d.remove_dir(name))
            .is_ok();
        if !gone {
            left.push(base.path().join(rel));
        }
    }
    left
}

/// Removes folders left empty by a removal, up to (not including) the base.
fn remove_empty_parents(at: &Place) {
    let mut rel = dir::split(&at.rel).0;
    while !rel.is_empty() {
        let (folder, name) = dir::split(rel);
        let removed = at
            .base
            .open_dir(folder)
            .and_then(|d| d.remove_dir(name))
            .is_ok();
        if !removed {
            break;
        }
        rel = folder;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn place(base: &Rc<Dir>, rel: &str) -> Place {
        Place {
            base: base.clone(),
            rel: rel.into(),
        }
    }

    /// Two files in folders staging must make.
    fn two_writes(base: &Rc<Dir>) -> [Step; 2] {
        [("a/b/f.yaml", b"x"), ("c/g.yaml", b"y")].map(|(rel, bytes)| Step::Write {
            at: place(base, rel),
            bytes: bytes.to_vec(),
            mode: None,
        })
    }

    #[test]
    fn folders_are_made_below_the_base_and_undone_on_failure() {
        let d = tempfile::tempdir().unwrap();
        let base = Rc::new(Dir::open(d.path()).unwrap());
        let steps = two_writes(&base);
        apply(&steps, Hooks::default()).unwrap();
        assert_eq!(fs::read(d.path().join("a/b/f.yaml")).unwrap(), b"x");
        // A failure while staging the second file: the first one's folders go too.
        let e = tempfile::tempdir().unwrap();
        let base = Rc::new(Dir::open(e.path()).unwrap());
        let steps = two_writes(&base);
        let err = apply(
            &steps,
            Hooks {
                fail_after: Some(1),
                ..Hooks::default()
            },
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::WriteFailed {
                outcome: Outcome::RolledBack,
                ..
            }
        ));
        assert_eq!(fs::read_dir(e.path()).unwrap().count(), 0);
    }

    #[test]
    fn emptied_folders_are_removed_up_to_the_base_never_the_base() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("tree");
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::create_dir_all(root.join("keep")).unwrap();
        fs::write(root.join("keep/f"), "").unwrap();
        let base = Rc::new(Dir::open(&root).unwrap());
        remove_empty_parents(&place(&base, "a/b/gone.yaml"));
        assert!(!root.join("a").exists());
        assert!(root.join("keep/f").exists());
        fs::remove_dir_all(root.join("keep")).unwrap();
        fs::create_dir(root.join("c")).unwrap();
        remove_empty_parents(&place(&base, "c/gone.yaml"));
        assert!(!root.join("c").exists());
        assert!(root.is_dir());
    }

    #[test]
    fn a_failed_run_names_what_it_could_not_clean_up() {
        assert_eq!(rolled_back(vec![], vec![]), Outcome::RolledBack);
        let t = PathBuf::from("t");
        assert_eq!(
            rolled_back(vec![], vec![t.clone()]),
            Outcome::RolledBackLeaving(vec![t.clone()])
        );
        assert_eq!(
            rolled_back(vec![t.clone()], vec![t.clone()]),
            Outcome::Partial(vec![t])
        );
    }
}
