//! Writing the tree, the one place deploygen touches the filesystem it generates.
//!
//! - `fs_safe`: paths walked beneath the root without following links, exclusive temp files
//!   with unpredictable names, bounded reads.
//! - `manifest`: `.deploygen-manifest`, every owned file with the hash of what was written;
//!   `memo`: those hashes remembered inside `.git`, so unchanged files are not hashed again.
//! - `txn`: stage everything, then swap it in; undo on failure.
//! - `lock`: one writer at a time.
//! - `audit`: what `check` reports besides content: extra files in generated folders, stray
//!   temp files, modes.
//! - `dir`: a folder held open, every name below it opened with `O_NOFOLLOW`; `read`: bounded
//!   reads of what the user hands deploygen.
//! - `temp`: private temp folders (exclusive, unpredictable, 0700, never reused); `walk`: a
//!   whole folder read bounded, links refused; `archive`: chart archives unpacked in memory,
//!   bounded, and `vendor`'s proof that an archive is the chart the catalog pins.
//!
//! This module decides *what* changes (compare the rendered tree with the disk and the
//! manifest, refuse anything unsafe before a byte is written); the others do it.

pub mod archive;
pub mod audit;
pub mod dir;
pub mod fs_safe;
pub mod gitignore;
pub mod lock;
pub mod manifest;
pub mod memo;
pub mod read;
pub mod temp;
pub mod txn;
pub mod vendored;
pub mod walk;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use similar::TextDiff;

use crate::base::error::{Error, Problem, Result};
use crate::base::generated::{Tree, MANIFEST};
use fs_safe::{Node, Root};
pub use lock::{TreeLock, LOCK};
pub use manifest::with_manifest;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
    /// Temp files an interrupted run left behind, removed.
    pub stale: Vec<String>,
}

impl Summary {
    pub fn is_noop(&self) -> bool {
        self.created.is_empty()
            && self.changed.is_empty()
            && self.removed.is_empty()
            && self.stale.is_empty()
    }

    pub fn report(&self) -> String {
        let mut out = String::new();
        for (what, list) in [
            ("created", &self.created),
            ("changed", &self.changed),
            ("removed", &self.removed),
            ("removed", &self.stale),
        ] {
            for p in list {
                out.push_str(&format!("{what:>9} {p}\n"));
            }
        }
        out.push_str(&format!(
            "{} created, {} changed, {} unchanged, {} removed\n",
            self.created.len(),
            self.changed.len(),
            self.unchanged.len(),
            self.removed.len() + self.stale.len()
        ));
        out
    }
}

/// Test hooks: inject I/O failures to prove a failed render leaves the tree as it was.
#[doc(hidden)]
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteOptions {
    /// Fail while staging, after this many temp files (nothing visible has changed yet).
    pub fail_after: Option<usize>,
    /// Fail while swapping, after this many steps: the swaps done must be undone.
    pub fail_swap_after: Option<usize>,
    /// Stop dead after this many swap steps, without any undo: what `kill -9` leaves.
    pub crash_after: Option<usize>,
}

/// A new matrix text written in the same all-or-nothing step as the tree (`bump`).
#[derive(Debug, Clone)]
pub struct MatrixEdit {
    /// The real file (a symlinked matrix is written through to its target, staying a link).
    pub path: PathBuf,
    pub text: String,
    /// Permission bits kept from the file being replaced.
    pub mode: u32,
}

/// Paths below the root deploygen never removes, whatever the manifest says.
fn protected(rel: &str, extra: &[String]) -> Option<&'static str> {
    let first = rel.split('/').next().unwrap_or_default();
    if rel == MANIFEST {
        Some("its own manifest")
    } else if rel == LOCK {
        Some("its lock file")
    } else if first == ".git" {
        Some("anything under .git")
    } else if rel == "matrix.yaml" || extra.iter().any(|p| p == rel) {
        Some("the matrix")
    } else {
        None
    }
}

/// Paths listed in the manifest on disk (empty when there is none yet).
pub fn owned(root: &Path) -> Result<BTreeSet<String>> {
    Ok(read_manifest(&open_root(root)?)?.into_keys().collect())
}

/// The output root's handle (or none yet, for a tree never rendered).
fn open_root(root: &Path) -> Result<Root> {
    Root::open(root).map_err(|e| Error::io(root, e))
}

fn read_manifest(root: &Root) -> Result<manifest::Manifest> {
    let path = root.path().join(MANIFEST);
    match root.inspect(MANIFEST) {
        Ok(Node::Missing) => return Ok(manifest::Manifest::new()),
        Ok(Node::File(_)) => {}
        Ok(Node::Dir) | Ok(Node::Other(_)) | Err(_) => {
            return Err(Error::Unsafe(vec![Problem {
                location: path.display().to_string(),
                message: "is not a regular file; deploygen reads its manifest only from one".into(),
            }]))
        }
    }
    let bytes = root
        .read_file(MANIFEST)
        .map_err(|e| Error::io(&path, e))?
        .ok_or_else(|| {
            Error::invalid(path.display().to_string(), "is too large to be a manifest")
        })?;
    Ok(manifest::parse(&String::from_utf8_lossy(&bytes)))
}

/// A manifest line or tree path as a path below the root; None if it would escape it.
fn safe_relative(p: &str) -> Option<PathBuf> {
    let path = Path::new(p);
    (!p.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_))))
        .then(|| path.to_path_buf())
}

enum Existing {
    Missing,
    /// Same bytes; `Some(why)` when only the mode is wrong.
    Same(Option<String>),
    Different(Vec<u8>),
    /// A folder, link, device ... at a generated path.
    NotAFile(&'static str),
}

/// Generated scripts (`#!`, e.g. airgap/copy-images.sh) are written executable.
fn executable(content: &str) -> bool {
    content.starts_with("#!")
}

fn existing(root: &Root, rel: &str, want: &str) -> std::result::Result<Existing, Problem> {
    let full = root.path().join(rel);
    let located = |why: String| Problem {
        location: full.display().to_string(),
        message: why,
    };
    match root.inspect(rel) {
        Err(u) => Err(Problem {
            location: root.path().join(&u.at).display().to_string(),
            message: u.why,
        }),
        Ok(Node::Missing) => Ok(Existing::Missing),
        Ok(Node::Dir) => Ok(Existing::NotAFile("a folder")),
        Ok(Node::Other(kind)) => Ok(Existing::NotAFile(kind)),
        Ok(Node::File(mode)) => match root.read_file(rel) {
            Ok(Some(bytes)) if bytes == want.as_bytes() => Ok(Existing::Same(
                fs_safe::mode_problem(mode, executable(want)),
            )),
            Ok(Some(bytes)) => Ok(Existing::Different(bytes)),
            Ok(None) => Ok(Existing::Different(
                b"(a file too large to show)\n".to_vec(),
            )),
            Err(e) => Err(located(format!("cannot be read: {e}"))),
        },
    }
}

struct Changes {
    summary: Summary,
    /// Paths to write (created or changed), sorted; the manifest among them when it changes.
    writes: Vec<String>,
    /// Stale paths to remove (proven deploygen's), and stray temp files.
    removals: Vec<String>,
    conflicts: Vec<PathBuf>,
    refusals: Vec<Problem>,
    /// Writes that only restore a file's mode (its bytes are already right).
    mode_only: BTreeSet<String>,
    manifest: manifest::Manifest,
}

fn compare(root: &Root, tree: &Tree, protect: &[String]) -> Result<Changes> {
    let manifest = read_manifest(root)?;
    let mut summary = Summary::default();
    let mut writes = Vec::new();
    let mut conflicts = Vec::new();
    let mut refusals = Vec::new();
    let mut mode_only = BTreeSet::new();
    for (path, want) in tree {
        if safe_relative(path).is_none() {
            return Err(Error::internal("render", format!("unsafe path {path}")));
        }
        match existing(root, path, want) {
            Err(p) => refusals.push(p),
            Ok(Existing::Missing) => {
                summary.created.push(path.clone());
                writes.push(path.clone());
            }
            Ok(Existing::Same(None)) => summary.unchanged.push(path.clone()),
            Ok(Existing::Same(Some(_))) => {
                // Right bytes, wrong mode: rewritten with a plain mode.
                summary.changed.push(path.clone());
                writes.push(path.clone());
                mode_only.insert(path.clone());
            }
            Ok(Existing::Different(_)) if manifest.contains_key(path) || path == MANIFEST => {
                summary.changed.push(path.clone());
                writes.push(path.clone());
            }
            Ok(Existing::NotAFile("a symbolic link")) => refusals.push(Problem {
                location: root.path().join(path).display().to_string(),
                message: "is a symbolic link where deploygen writes a file; it never writes \
                          through a link (it could reach outside the tree): remove the link"
                    .into(),
            }),
            Ok(Existing::Different(_) | Existing::NotAFile(_)) => {
                conflicts.push(root.path().join(path))
            }
        }
    }
    let mut removals = Vec::new();
    for (path, entry) in manifest.iter().filter(|(p, _)| !tree.contains_key(*p)) {
        let at = format!("{}:{}", root.path().join(MANIFEST).display(), entry.line);
        let refuse = |why: String| Problem {
            location: at.clone(),
            message: format!("`{}` {why}", crate::base::text::escape(path)),
        };
        if safe_relative(path).is_none() {
            refusals.push(refuse(
                "is not a path below the tree; deploygen removes only files it wrote there. \
                 The manifest was edited by hand: delete that line"
                    .into(),
            ));
            continue;
        }
        if let Some(what) = protected(path, protect) {
            refusals.push(refuse(format!(
                "is listed for removal, but deploygen never removes {what}. The manifest was \
                 edited by hand: delete that line"
            )));
            continue;
        }
        let full = root.path().join(path);
        match root.inspect(path) {
            Err(u) => refusals.push(Problem {
                location: root.path().join(&u.at).display().to_string(),
                message: u.why,
            }),
            Ok(Node::Missing) => {}
            Ok(Node::Dir | Node::Other(_)) => refusals.push(refuse(format!(
                "({}) is stale but not a regular file; deploygen removes only files it wrote: \
                 remove it yourself",
                full.display()
            ))),
            Ok(Node::File(_)) => match root.read_file(path) {
                Ok(Some(bytes)) if entry.matches(&bytes) => {
                    summary.removed.push(path.clone());
                    removals.push(path.clone());
                }
                Ok(_) => refusals.push(refuse(format!(
                    "({}) is no longer generated, but {}; deploygen removes only the bytes it \
                     wrote. Keep it elsewhere or delete it yourself, then run render again",
                    full.display(),
                    if entry.legacy {
                        "it does not start with deploygen's generated-file note"
                    } else {
                        "it was changed since deploygen wrote it (its SHA-256 differs from the manifest's)"
                    }
                ))),
                Err(e) => refusals.push(refuse(format!("cannot be read: {e}"))),
            },
        }
    }
    if refusals.is_empty() {
        for stray in audit::stray_temps(root, tree) {
            summary.stale.push(stray.clone());
            removals.push(stray);
        }
    }
    Ok(Changes {
        summary,
        writes,
        removals,
        conflicts,
        refusals,
        mode_only,
        manifest,
    })
}

fn refuse(c: &Changes) -> Result<()> {
    if !c.refusals.is_empty() {
        return Err(Error::Unsafe(c.refusals.clone()));
    }
    if !c.conflicts.is_empty() {
        return Err(Error::NotOwned(c.conflicts.clone()));
    }
    Ok(())
}

/// What `render` would do, without doing it (or the refusal it would meet).
pub fn preview(root: &Path, tree: &Tree) -> Result<Summary> {
    let c = compare(&open_root(root)?, tree, &[])?;
    refuse(&c)?;
    Ok(c.summary)
}

/// Brings the tree under `root` to exactly `tree` (which must hold the manifest). The caller
/// holds the tree's lock (`TreeLock::exclusive`); the CLI does.
pub fn write(root: &Path, tree: &Tree, opts: WriteOptions) -> Result<Summary> {
    write_with(root, tree, &[], None, opts)
}

/// `write`, never removing the `protect`ed paths (the matrix in use, relative to the root),
/// and writing `matrix` in the same all-or-nothing step.
pub fn write_with(
    root: &Path,
    tree: &Tree,
    protect: &[String],
    matrix: Option<&MatrixEdit>,
    opts: WriteOptions,
) -> Result<Summary> {
    write_all(root, tree, protect, matrix, &[], &[], opts).map(|(s, _)| s)
}

/// A file placed in the tree that deploygen does not generate and never lists in its manifest:
/// a vendored chart archive (`deploygen vendor`). Verified by the caller before it gets here.
#[derive(Debug, Clone)]
pub struct Archive {
    /// Path below the root.
    pub rel: String,
    pub bytes: Vec<u8>,
}

/// `write_with` (no matrix edit), placing `archives` and removing the `replaced` ones still
/// holding the bytes their lock recorded, in the same all-or-nothing step: either every
/// archive and every generated file is in place, or none is. Returns the archives that were
/// written (the others already held those bytes); removed ones are in the summary's `removed`.
pub fn write_vendored(
    root: &Path,
    tree: &Tree,
    protect: &[String],
    archives: &[Archive],
    replaced: &[vendored::Replaced],
) -> Result<(Summary, Vec<String>)> {
    write_all(
        root,
        tree,
        protect,
        None,
        archives,
        replaced,
        WriteOptions::default(),
    )
}

/// Which archives differ from what is on disk; a link, folder or anything but a regular file
/// at an archive's path is refused.
fn archives_to_place(root: &Root, archives: &[Archive]) -> Result<Vec<usize>> {
    let mut place = Vec::new();
    let mut refusals = Vec::new();
    for (i, a) in archives.iter().enumerate() {
        let at = root.path().join(&a.rel);
        match root.inspect(&a.rel) {
            Err(u) => refusals.push(Problem {
                location: root.path().join(&u.at).display().to_string(),
                message: u.why,
            }),
            Ok(Node::Missing) => place.push(i),
            Ok(Node::File(_)) => match root.read_file(&a.rel) {
                Ok(Some(b)) if b == a.bytes => {}
                _ => place.push(i),
            },
            Ok(Node::Dir | Node::Other(_)) => refusals.push(Problem {
                location: at.display().to_string(),
                message: "is not a regular file where deploygen places a chart archive (a link \
                          could lead outside the tree): move it away"
                    .into(),
            }),
        }
    }
    if refusals.is_empty() {
        Ok(place)
    } else {
        Err(Error::Unsafe(refusals))
    }
}

fn write_all(
    root: &Path,
    tree: &Tree,
    protect: &[String],
    matrix: Option<&MatrixEdit>,
    archives: &[Archive],
    replaced: &[vendored::Replaced],
    opts: WriteOptions,
) -> Result<(Summary, Vec<String>)> {
    let mut handle = open_root(root)?;
    let mut c = compare(&handle, tree, protect)?;
    refuse(&c)?;
    let new_archives = archives_to_place(&handle, archives)?;
    let stale = vendored::to_remove(&handle, replaced)?;
    if c.summary.is_noop() && matrix.is_none() && new_archives.is_empty() && stale.is_empty() {
        memo::flush(root);
        return Ok((c.summary, Vec::new()));
    }
    c.summary.removed.extend(stale.iter().cloned());
    let (dir, created) = handle.dir_or_create().map_err(|e| Error::io(root, e))?;
    let base = Rc::new(dir.try_clone().map_err(|e| Error::io(root, e))?);
    let at = |rel: &str| txn::Place {
        base: base.clone(),
        rel: rel.to_string(),
    };
    let mut steps = Vec::new();
    if let Some(m) = matrix {
        steps.push(txn::Step::Write {
            at: matrix_place(m)?,
            bytes: m.text.as_bytes().to_vec(),
            mode: Some(m.mode),
        });
    }
    for &i in &new_archives {
        steps.push(txn::Step::Write {
            at: at(&archives[i].rel),
            bytes: archives[i].bytes.clone(),
            mode: None,
        });
    }
    let content: Vec<&String> = c.writes.iter().filter(|p| *p != MANIFEST).collect();
    // A template bug never reaches the disk: what is about to be written must parse.
    crate::render::check::self_check(tree, content.iter().map(|p| p.as_str()))?;
    // The hash of each file, as `with_manifest` recorded it in the tree's manifest.
    let recorded = manifest::Recorded::of(tree);
    // Record ownership of the bytes about to be swapped in before swapping: an interrupted
    // run then never leaves a generated file the next run does not recognise as its own.
    // (Only bytes the manifest does not already record: restoring a hand-edited file to what
    // deploygen wrote needs no new manifest, and the manifest is never rewritten unchanged.)
    let new_bytes: Vec<&&String> = content
        .iter()
        .filter(|p| !c.mode_only.contains(**p))
        .filter(|p| {
            let hash = recorded.hash(tree, p);
            !c.manifest
                .get(p.as_str())
                .is_some_and(|e| e.hashes.contains(&hash))
        })
        .collect();
    if !new_bytes.is_empty() {
        let mut entries: BTreeMap<String, BTreeSet<String>> = c
            .manifest
            .iter()
            .map(|(p, e)| (p.clone(), e.hashes.clone()))
            .collect();
        for p in &new_bytes {
            entries
                .entry((**p).clone())
                .or_default()
                .insert(recorded.hash(tree, p));
        }
        let interim = manifest::text(&matrix_label(tree), manifest::INTERIM_NOTE, &entries);
        let legacy: String = c
            .manifest
            .iter()
            .filter(|(_, e)| e.legacy)
            .map(|(p, _)| format!("{p}\n"))
            .collect();
        steps.push(txn::Step::Write {
            at: at(MANIFEST),
            bytes: format!("{interim}{legacy}").into_bytes(),
            mode: None,
        });
    }
    for p in &content {
        let text = &tree[p.as_str()];
        steps.push(txn::Step::Write {
            at: at(p.as_str()),
            bytes: text.as_bytes().to_vec(),
            mode: executable(text).then_some(0o755),
        });
    }
    for p in c.removals.iter().chain(&stale) {
        steps.push(txn::Step::Remove { at: at(p) });
    }
    if let Some(m) = tree.get(MANIFEST) {
        if !new_bytes.is_empty() || c.writes.iter().any(|p| p == MANIFEST) {
            steps.push(txn::Step::Write {
                at: at(MANIFEST),
                bytes: m.as_bytes().to_vec(),
                mode: None,
            });
        }
    }
    let applied = txn::apply(
        &steps,
        txn::Hooks {
            fail_after: opts.fail_after,
            fail_swap_after: opts.fail_swap_after,
            crash_after: opts.crash_after,
        },
    );
    if applied.is_err() && created {
        // The root this run created goes with the undo (it is empty again, or the undo
        // failed and it must stay).
        let _ = std::fs::remove_dir(root);
    }
    applied?;
    // The tree is written: its hashes are remembered for the next run (`memo`).
    memo::flush(root);
    let placed = new_archives
        .iter()
        .map(|&i| archives[i].rel.clone())
        .collect();
    Ok((c.summary, placed))
}

/// Writes one file at `rel` below the folder `base` the user named (created if missing;
/// folders below it made as needed), all or nothing and never through a link: how commands
/// other than render write (`catalog import`'s entry, a `--report` file).
pub fn write_file(base: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(base).map_err(|e| Error::io(base, e))?;
    let dir = dir::Dir::open(base).map_err(|e| Error::io(base, e))?;
    let at = txn::Place {
        base: Rc::new(dir),
        rel: rel.to_string(),
    };
    dir::components(rel).map_err(|e| Error::io(at.path(), e))?;
    txn::apply(
        &[txn::Step::Write {
            at,
            bytes: bytes.to_vec(),
            mode: None,
        }],
        txn::Hooks::default(),
    )
}

/// `write_file` for a path the user named (`--report FILE`).
pub fn write_named(path: &Path, bytes: &[u8]) -> Result<()> {
    let (folder, name) = dir::folder_and_name(path)
        .ok_or_else(|| Error::invalid(path.display().to_string(), "is not a file name"))?;
    write_file(folder, name, bytes)
}

/// Where a matrix edit is written: its own folder's handle and its name.
fn matrix_place(m: &MatrixEdit) -> Result<txn::Place> {
    let (folder, name) = dir::folder_and_name(&m.path)
        .ok_or_else(|| Error::invalid(m.path.display().to_string(), "is not a file name"))?;
    let base = dir::Dir::open(folder).map_err(|e| Error::io(folder, e))?;
    Ok(txn::Place {
        base: Rc::new(base),
        rel: name.to_string(),
    })
}

/// The matrix file name the tree was rendered from (from the manifest's header line).
fn matrix_label(tree: &Tree) -> String {
    tree.get(MANIFEST)
        .and_then(|m| m.lines().next())
        .and_then(|l| l.strip_prefix("# Generated by deploygen from "))
        .and_then(|l| l.strip_suffix(". Do not edit by hand:"))
        .unwrap_or("matrix.yaml")
        .to_string()
}

/// Unified diff of the tree on disk against `tree`, then what else `check` finds (extra files
/// in generated folders, stray temp files, wrong modes, links): empty when the tree is exactly
/// what render writes.
pub fn diff(root: &Path, tree: &Tree) -> Result<String> {
    let root = &open_root(root)?;
    let mut out = String::new();
    let mut notes = Vec::new();
    for (path, want) in tree {
        let (old, label) = match existing(root, path, want) {
            Err(p) => {
                notes.push(format!("unsafe {p}"));
                continue;
            }
            Ok(Existing::Same(None)) => continue,
            Ok(Existing::Same(Some(why))) => {
                notes.push(format!("mode {}: {why}", root.path().join(path).display()));
                continue;
            }
            Ok(Existing::Missing) => (String::new(), "/dev/null".to_string()),
            Ok(Existing::Different(bytes)) => (
                String::from_utf8_lossy(&bytes).into_owned(),
                format!("a/{path}"),
            ),
            Ok(Existing::NotAFile(kind)) => {
                (String::new(), format!("a/{path} ({kind}, not a file)"))
            }
        };
        out.push_str(
            &TextDiff::from_lines(old.as_str(), want.as_str())
                .unified_diff()
                .context_radius(3)
                .header(&label, &format!("b/{path}"))
                .to_string(),
        );
    }
    let manifest = read_manifest(root)?;
    for (path, _) in manifest.iter().filter(|(p, _)| !tree.contains_key(*p)) {
        if safe_relative(path).is_none() || protected(path, &[]).is_some() {
            notes.push(format!(
                "manifest {}: lists `{}`, which deploygen never removes; delete that line",
                root.path().join(MANIFEST).display(),
                crate::base::text::escape(path)
            ));
            continue;
        }
        if let Ok(Node::File(_)) = root.inspect(path) {
            if let Ok(Some(old)) = root.read_file(path) {
                out.push_str(
                    &TextDiff::from_lines(String::from_utf8_lossy(&old).as_ref(), "")
                        .unified_diff()
                        .header(&format!("a/{path}"), "/dev/null")
                        .to_string(),
                );
            }
        }
    }
    notes.extend(audit::findings(root, tree));
    for n in notes {
        out.push_str(&n);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn one_file_is_written_below_its_base_and_never_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().join("catalog");
        write_file(&base, "kserve/v0.99.0.yaml", b"a: 1\n").unwrap();
        assert_eq!(
            std::fs::read(base.join("kserve/v0.99.0.yaml")).unwrap(),
            b"a: 1\n"
        );
        write_named(&d.path().join("report.txt"), b"r\n").unwrap();
        assert_eq!(std::fs::read(d.path().join("report.txt")).unwrap(), b"r\n");
        // A path that climbs out, and a link on the way, are refused; nothing lands outside.
        let out = tempfile::tempdir().unwrap();
        assert!(write_file(&base, "../escape.yaml", b"x").is_err());
        assert!(!d.path().join("escape.yaml").exists());
        symlink(out.path(), base.join("linked")).unwrap();
        let e = write_file(&base, "linked/v1.yaml", b"x").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        symlink(out.path().join("victim"), d.path().join("named")).unwrap();
        write_named(&d.path().join("named"), b"x").unwrap();
        assert!(
            !out.path().join("victim").exists(),
            "written through a link"
        );
        assert!(std::fs::read_dir(out.path()).unwrap().next().is_none());
    }

    #[test]
    fn a_failed_write_removes_the_root_it_made_and_only_that() {
        let tree: Tree = [("a/f.yaml".to_string(), "x: 1\n".to_string())]
            .into_iter()
            .collect();
        let fail = WriteOptions {
            fail_swap_after: Some(0),
            ..WriteOptions::default()
        };
        let d = tempfile::tempdir().unwrap();
        let fresh = d.path().join("fresh");
        assert!(write(&fresh, &tree, fail).is_err());
        assert!(!fresh.exists(), "the root this run made is undone");
        let existing = d.path().join("existing");
        std::fs::create_dir(&existing).unwrap();
        assert!(write(&existing, &tree, fail).is_err());
        assert!(
            existing.is_dir(),
            "a root that was there stays, empty or not"
        );
        write(&existing, &tree, WriteOptions::default()).unwrap();
        assert!(existing.join("a/f.yaml").is_file());
    }
}
