//! Reading what the user hands deploygen: every input file of every command is read here,
//! bounded, so a stream such as `/dev/zero` cannot make deploygen read more than the limit plus
//! one byte. Files found in folders (a catalog directory) are read through a folder handle
//! (`dir::Dir`): never through a link, never a fifo that would hang. A file the user names
//! (the matrix) may be a stream, but not a link leading out of its own folder: CI runs
//! `check` on a pull request's tree, and a parse error must not quote a file the request
//! linked in (`matrix.yaml -> ~/.ssh/id_rsa`).

use std::path::{Path, PathBuf};

use super::dir::{Dir, Kind};
use crate::base::error::{Error, Result};
use crate::catalog::overlay::OverlayFile;
use crate::catalog::Catalog;
use crate::model::matrix::MAX_MATRIX_BYTES;

/// Largest catalog file (`<component>/<version>.yaml`, `rules.yaml`) read. The largest
/// compiled-in entry is about 30 KiB.
pub const MAX_CATALOG_FILE: u64 = 1024 * 1024;

/// Refuses `path` when it is a symbolic link whose target lies outside the link's own folder.
pub fn refuse_link_out(path: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(()); // missing: the open says so
    };
    if !meta.file_type().is_symlink() {
        return Ok(());
    }
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let inside = match (std::fs::canonicalize(folder), std::fs::canonicalize(path)) {
        (Ok(f), Ok(t)) => t.starts_with(&f),
        _ => false,
    };
    if inside {
        Ok(())
    } else {
        Err(Error::invalid(
            path.display().to_string(),
            "is a symbolic link leading outside its folder; deploygen reads no file a link \
             brings in from elsewhere (replace the link with the file)",
        ))
    }
}

/// The path with every link resolved (`realpath`), as commands compare where files are.
pub fn real_path(path: &Path) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(path)
}

/// The permission bits of the file at `path` (following links: the file a link names).
pub fn mode_of(path: &Path) -> Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    Ok(meta.permissions().mode() & 0o7777)
}

/// Reads a matrix from a file or stream, at most `MAX_MATRIX_BYTES + 1` bytes.
pub fn read_matrix(path: &Path) -> Result<Vec<u8>> {
    refuse_link_out(path)?;
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::invalid(
            path.display().to_string(),
            format!(
                "no matrix here ({}): run deploygen in the deployment repository (the folder \
                 holding matrix.yaml), or name the matrix with --matrix PATH",
                crate::base::text::escape(&e.to_string())
            ),
        ),
        _ => Error::io(path, e),
    })?;
    let bytes = crate::disk::fs_safe::read_bounded(file, MAX_MATRIX_BYTES as u64)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() > MAX_MATRIX_BYTES {
        return Err(Error::invalid(
            path.display().to_string(),
            format!(
                "is more than {MAX_MATRIX_BYTES} bytes (reading stopped there); a matrix is a \
                 few KiB: is this the right file?"
            ),
        ));
    }
    Ok(bytes)
}

/// A user-named input (`-` for standard input) read whole up to `limit` bytes: `None` when it
/// is larger (reading stopped at `limit + 1`). Returns the label messages use.
pub fn input(path: &Path, limit: u64) -> Result<(String, Option<Vec<u8>>)> {
    use std::io::Read;
    let (label, reader): (String, Box<dyn Read>) = if path == Path::new("-") {
        ("<stdin>".into(), Box::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        (path.display().to_string(), Box::new(file))
    };
    let bytes = super::fs_safe::read_bounded(reader, limit).map_err(|e| Error::io(path, e))?;
    let fits = bytes.len() as u64 <= limit;
    Ok((label, fits.then_some(bytes)))
}

/// A user-named text input (`input`: a file or `-`), whole and UTF-8, as (label, text); one
/// larger than `limit` is refused with `larger` as the advice (e.g. "audit one environment at
/// a time").
pub fn text_input(path: &Path, limit: u64, larger: &str) -> Result<(String, String)> {
    let (label, bytes) = input(path, limit)?;
    let Some(bytes) = bytes else {
        return Err(Error::invalid(
            label,
            format!("is larger than {limit} bytes; {larger}"),
        ));
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::invalid(
            label.clone(),
            format!("is not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        )
    })?;
    Ok((label, text))
}

/// The `.yaml`/`.yml` files directly in the folder `dir` (a user's kodata folder), sorted,
/// each as (path, text): read through the folder's handle, never through a link, each at most
/// `limit` bytes.
pub fn yaml_files_in(dir: &Path, limit: u64) -> Result<Vec<(PathBuf, String)>> {
    let d = Dir::open(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for (name, kind) in d.entries().map_err(|e| Error::io(dir, e))? {
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) || kind == Kind::Dir {
            continue;
        }
        let path = dir.join(&name);
        let bytes = d.read(&name, limit).map_err(|e| Error::io(&path, e))?;
        if bytes.len() as u64 > limit {
            return Err(Error::invalid(
                path.display().to_string(),
                format!("is larger than {limit} bytes (reading stopped there)"),
            ));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid(path.display().to_string(), "is not UTF-8"))?;
        out.push((path, text));
    }
    Ok(out)
}

/// The names of the folders in `dir`, sorted; None when `dir` does not exist.
pub fn subfolders(dir: &Path) -> Result<Option<Vec<String>>> {
    let d = match Dir::open(dir) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut names: Vec<String> = d
        .entries()
        .map_err(|e| Error::io(dir, e))?
        .into_iter()
        .filter(|(_, kind)| *kind == Kind::Dir)
        .map(|(name, _)| name)
        .collect();
    names.sort();
    Ok(Some(names))
}

/// The catalog directory for a matrix: `--catalog DIR` when given (it must exist), else
/// `catalog/` beside the matrix when it is a directory.
pub fn catalog_dir_for(matrix: &Path, flag: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(dir) = flag {
        if !dir.is_dir() {
            return Err(Error::invalid(
                "--catalog",
                format!("`{}` is not a directory", dir.display()),
            ));
        }
        return Ok(Some(dir.to_path_buf()));
    }
    let parent = matrix
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let beside = parent.join("catalog");
    Ok(beside.is_dir().then_some(beside))
}

/// `<component>/<version>.yaml` and `rules.yaml` of a catalog directory, sorted, each read
/// bounded through the folder's handle. A link, fifo or device among them is refused by name.
pub fn catalog_files(dir: &Path) -> Result<Vec<OverlayFile>> {
    let root = Dir::open(dir).map_err(|e| Error::io(dir, e))?;
    let entries = root.entries().map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    let mut read = |folder: &Dir, rel: String, kind: Kind| -> Result<()> {
        let path = dir.join(&rel);
        let name = super::dir::split(&rel).1;
        if kind != Kind::Link && !matches!(kind, Kind::File { .. }) {
            return Err(Error::invalid(
                path.display().to_string(),
                format!("is {}; a catalog file is a regular file", kind.words()),
            ));
        }
        let bytes = folder
            .read(name, MAX_CATALOG_FILE)
            .map_err(|e| Error::io(&path, e))?;
        if bytes.len() as u64 > MAX_CATALOG_FILE {
            return Err(Error::invalid(
                path.display().to_string(),
                format!(
                    "is more than {MAX_CATALOG_FILE} bytes (reading stopped there); a catalog \
                     entry is a few KiB"
                ),
            ));
        }
        out.push(OverlayFile { rel, path, bytes });
        Ok(())
    };
    for (name, kind) in entries {
        match kind {
            Kind::Dir => {
                let sub = root.open_dir(&name).map_err(|e| Error::io(dir, e))?;
                let files = sub.entries().map_err(|e| Error::io(sub.path(), e))?;
                for (f, k) in files {
                    if f.ends_with(".yaml") && k != Kind::Dir {
                        read(&sub, format!("{name}/{f}"), k)?;
                    }
                }
            }
            _ if name == "rules.yaml" => read(&root, name, kind)?,
            Kind::Link => {
                return Err(Error::invalid(
                    dir.join(&name).display().to_string(),
                    "is a symbolic link; deploygen reads a catalog directory's own folders \
                     and files only",
                ))
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// The compiled-in catalog with the catalog directory `dir` (if any) laid over it.
pub fn catalog(dir: Option<&Path>) -> Result<Catalog> {
    match dir {
        None => Catalog::load(),
        Some(d) => crate::catalog::overlay::load_files(catalog_files(d)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_of_exactly_the_size_limit_is_read_one_byte_more_is_not() {
        let d = tempfile::tempdir().unwrap();
        let at = d.path().join("matrix.yaml");
        std::fs::write(&at, "#".repeat(MAX_MATRIX_BYTES)).unwrap();
        assert_eq!(read_matrix(&at).unwrap().len(), MAX_MATRIX_BYTES);
        std::fs::write(&at, "#".repeat(MAX_MATRIX_BYTES + 1)).unwrap();
        let e = read_matrix(&at).unwrap_err().to_string();
        assert!(
            e.contains(&format!("is more than {MAX_MATRIX_BYTES} bytes")),
            "{e}"
        );
    }
}
