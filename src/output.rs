//! Writing the tree: only files whose bytes change are written, each through a temp file and
//! a rename (a reader sees the old or the new file, never half of one); files deploygen did
//! not generate are never overwritten or deleted; the ownership manifest records what it owns.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use similar::TextDiff;

use crate::error::{Error, Result};
use crate::render::{header, Tree, MANIFEST};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
}

impl Summary {
    pub fn is_noop(&self) -> bool {
        self.created.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    pub fn report(&self) -> String {
        let mut out = String::new();
        for (what, list) in [
            ("created", &self.created),
            ("changed", &self.changed),
            ("removed", &self.removed),
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
            self.removed.len()
        ));
        out
    }
}

/// Test hook: fail after this many file writes, to prove an interrupted render heals.
#[doc(hidden)]
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteOptions {
    pub fail_after: Option<usize>,
}

/// Adds the ownership manifest (every generated path) to a rendered tree.
pub fn with_manifest(mut tree: Tree, matrix_file: &str) -> Tree {
    let mut text = header(matrix_file, "#");
    text.push_str("# Files deploygen owns in this tree: it rewrites and removes only these.\n");
    for path in tree.keys() {
        text.push_str(path);
        text.push('\n');
    }
    tree.insert(MANIFEST.to_string(), text);
    tree
}

/// Paths listed in the manifest on disk (empty when there is none yet).
pub fn owned(root: &Path) -> Result<BTreeSet<String>> {
    let path = root.join(MANIFEST);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter(|l| safe_relative(l).is_some())
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// A manifest line or tree path as a path below the root; None if it would escape it.
fn safe_relative(p: &str) -> Option<PathBuf> {
    let path = Path::new(p);
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| path.to_path_buf())
}

enum Existing {
    Missing,
    Same,
    Different(String),
    NotAFile,
}

fn existing(path: &Path, want: &str) -> Result<Existing> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Missing),
        Err(e) => return Err(Error::io(path, e)),
        Ok(m) if !m.is_file() => return Ok(Existing::NotAFile),
        Ok(_) => {}
    }
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes == want.as_bytes() {
        Ok(Existing::Same)
    } else {
        Ok(Existing::Different(
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }
}

struct Changes {
    summary: Summary,
    /// Paths to write (created or changed), sorted.
    writes: Vec<String>,
    conflicts: Vec<PathBuf>,
}

fn compare(root: &Path, tree: &Tree) -> Result<Changes> {
    let owned = owned(root)?;
    let mut summary = Summary::default();
    let mut writes = Vec::new();
    let mut conflicts = Vec::new();
    for (path, want) in tree {
        let rel = safe_relative(path)
            .ok_or_else(|| Error::internal("render", format!("unsafe path {path}")))?;
        let full = root.join(&rel);
        match existing(&full, want)? {
            Existing::Missing => {
                summary.created.push(path.clone());
                writes.push(path.clone());
            }
            Existing::Same => summary.unchanged.push(path.clone()),
            Existing::Different(_) if owned.contains(path) || path == MANIFEST => {
                summary.changed.push(path.clone());
                writes.push(path.clone());
            }
            Existing::Different(_) | Existing::NotAFile => conflicts.push(full),
        }
    }
    for path in owned.iter().filter(|p| !tree.contains_key(*p)) {
        if let Some(rel) = safe_relative(path) {
            if root.join(rel).is_file() {
                summary.removed.push(path.clone());
            }
        }
    }
    Ok(Changes {
        summary,
        writes,
        conflicts,
    })
}

/// What `render` would do, without doing it.
pub fn preview(root: &Path, tree: &Tree) -> Result<Summary> {
    let c = compare(root, tree)?;
    if !c.conflicts.is_empty() {
        return Err(Error::NotOwned(c.conflicts));
    }
    Ok(c.summary)
}

/// Brings the tree under `root` to exactly `tree` (which must hold the manifest).
pub fn write(root: &Path, tree: &Tree, opts: WriteOptions) -> Result<Summary> {
    let c = compare(root, tree)?;
    if !c.conflicts.is_empty() {
        return Err(Error::NotOwned(c.conflicts));
    }
    if c.summary.is_noop() {
        return Ok(c.summary);
    }
    // Record ownership of the files about to be created before creating them, so an
    // interrupted run never leaves a generated file the next run does not recognise.
    if !c.summary.created.is_empty() {
        let mut owned = owned(root)?;
        owned.extend(c.summary.created.iter().cloned());
        let mut interim = String::from(
            "# deploygen: a render is in progress or was interrupted; run `deploygen render`.\n",
        );
        for p in &owned {
            interim.push_str(p);
            interim.push('\n');
        }
        atomic_write(&root.join(MANIFEST), &interim)?;
    }
    for (written, path) in c
        .writes
        .iter()
        .filter(|p| p.as_str() != MANIFEST)
        .enumerate()
    {
        if opts.fail_after.is_some_and(|n| written >= n) {
            return Err(Error::io(
                root.join(path),
                std::io::Error::other("injected failure (test)"),
            ));
        }
        let content = tree.get(path).map(String::as_str).unwrap_or_default();
        atomic_write(&root.join(path), content)?;
    }
    for path in &c.summary.removed {
        let full = root.join(path);
        fs::remove_file(&full).map_err(|e| Error::io(&full, e))?;
        remove_empty_parents(root, &full);
    }
    if let Some(manifest) = tree.get(MANIFEST) {
        atomic_write(&root.join(MANIFEST), manifest)?;
    }
    Ok(c.summary)
}

fn atomic_write(path: &Path, content: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.deploygen-tmp"));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(content.as_bytes())?;
        // Generated scripts (airgap/copy-images.sh) are executable.
        #[cfg(unix)]
        if content.starts_with("#!") {
            use std::os::unix::fs::PermissionsExt as _;
            f.set_permissions(fs::Permissions::from_mode(0o755))?;
        }
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
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

/// Unified diff of the tree on disk against `tree`: empty when they are identical. Catches
/// hand edits, missing files and stale generated files.
pub fn diff(root: &Path, tree: &Tree) -> Result<String> {
    let mut out = String::new();
    for (path, want) in tree {
        let full = root.join(path);
        let (old, label) = match existing(&full, want)? {
            Existing::Same => continue,
            Existing::Missing => (String::new(), "/dev/null".to_string()),
            Existing::Different(text) => (text, format!("a/{path}")),
            Existing::NotAFile => (String::new(), format!("a/{path} (not a file)")),
        };
        out.push_str(
            &TextDiff::from_lines(old.as_str(), want.as_str())
                .unified_diff()
                .context_radius(3)
                .header(&label, &format!("b/{path}"))
                .to_string(),
        );
    }
    for path in owned(root)?.iter().filter(|p| !tree.contains_key(*p)) {
        let full = root.join(path);
        if let Ok(old) = fs::read_to_string(&full) {
            out.push_str(
                &TextDiff::from_lines(old.as_str(), "")
                    .unified_diff()
                    .header(&format!("a/{path}"), "/dev/null")
                    .to_string(),
            );
        }
    }
    Ok(out)
}
