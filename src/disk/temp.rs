//! Private temp folders (`catalog import` unpacks a chart and writes the values `helm template`
//! reads into one). `$TMPDIR` is shared with every local user, so a folder there must be one no
//! one else made or can enter:
//!
//! - created exclusively under an unpredictable name (the `tempfile` crate: `mkdir` fails on an
//!   existing name and it draws another), so a folder another user planted is never used;
//! - mode 0700, so no other user can list it or put a link in it;
//! - never reused: every `TempDir::new` is a fresh folder, removed on drop;
//! - written through its handle (`Dir`): every file created exclusively, never through a link.

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::dir::{split, Dir};

/// A private temp folder, removed (with what it holds) when dropped.
#[derive(Debug)]
pub struct TempDir {
    dir: Dir,
    // Dropped after `dir`: removes the folder.
    folder: tempfile::TempDir,
}

impl TempDir {
    /// Where new temp folders go (`$TMPDIR`), for messages about them.
    pub fn base() -> std::path::PathBuf {
        std::env::temp_dir()
    }

    /// A fresh folder `deploygen-<what>-<random>` in the system's temp folder.
    pub fn new(what: &str) -> io::Result<TempDir> {
        TempDir::new_in(&TempDir::base(), what)
    }

    /// A fresh folder `deploygen-<what>-<random>` in `parent`.
    pub fn new_in(parent: &Path, what: &str) -> io::Result<TempDir> {
        let folder = tempfile::Builder::new()
            .prefix(&format!("deploygen-{what}-"))
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(parent)?;
        let dir = Dir::open(folder.path())?;
        Ok(TempDir { dir, folder })
    }

    /// Where the folder is (for a command run on it).
    pub fn path(&self) -> &Path {
        self.folder.path()
    }

    /// Writes `bytes` as the new file `rel` (`/`-separated; folders are made as needed), mode
    /// 0600. A file or link already at that name is an error, never overwritten or followed.
    pub fn write_new(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        let (folder, name) = split(rel);
        let at = self.dir.make_dirs(folder, &mut Vec::new())?;
        at.create_new(name, 0o600)?.write_all(bytes)
    }

    /// Removes the file `rel` (so the name can be written anew).
    pub fn remove(&self, rel: &str) -> io::Result<()> {
        let (folder, name) = split(rel);
        self.dir.open_dir(folder)?.remove_file(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn each_folder_is_fresh_private_and_named_for_its_use() {
        let parent = tempfile::tempdir().unwrap();
        let a = TempDir::new_in(parent.path(), "chart").unwrap();
        let b = TempDir::new_in(parent.path(), "chart").unwrap();
        assert_ne!(a.path(), b.path(), "never reused");
        for t in [&a, &b] {
            assert_eq!(t.path().parent(), Some(parent.path()));
            let name = t.path().file_name().unwrap().to_str().unwrap();
            let random = name.strip_prefix("deploygen-chart-").unwrap();
            assert!(random.len() >= 6, "{name}: an unpredictable part");
            assert_eq!(mode(t.path()), 0o700, "{name}");
        }
        let system = TempDir::new("render").unwrap();
        assert_eq!(system.path().parent(), Some(std::env::temp_dir().as_path()));
        assert_eq!(mode(system.path()), 0o700);
    }

    #[test]
    fn files_are_created_exclusively_through_the_handle_never_through_a_link() {
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let t = TempDir::new("test").unwrap();
        t.write_new("templates/sub/a.yaml", b"x: 1\n").unwrap();
        assert_eq!(
            std::fs::read(t.path().join("templates/sub/a.yaml")).unwrap(),
            b"x: 1\n"
        );
        assert_eq!(mode(&t.path().join("templates/sub/a.yaml")), 0o600);
        assert!(t.write_new("templates/sub/a.yaml", b"again").is_err());
        symlink(&victim, t.path().join("values.yaml")).unwrap();
        assert!(t.write_new("values.yaml", b"overwrite").is_err());
        symlink(outside.path(), t.path().join("linked")).unwrap();
        assert!(t.write_new("linked/new", b"escape").is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
        // A removed name can be written anew.
        t.remove("templates/sub/a.yaml").unwrap();
        t.write_new("templates/sub/a.yaml", b"y: 2\n").unwrap();
        assert_eq!(
            std::fs::read(t.path().join("templates/sub/a.yaml")).unwrap(),
            b"y: 2\n"
        );
        assert!(t.remove("templates/sub/missing").is_err());
    }

    #[test]
    fn the_folder_and_what_it_holds_go_when_dropped() {
        let t = TempDir::new("test").unwrap();
        t.write_new("a/b", b"1").unwrap();
        let at = t.path().to_path_buf();
        drop(t);
        assert!(!at.exists());
    }
}
