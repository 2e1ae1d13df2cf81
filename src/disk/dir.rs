//! A folder held open: every path below it is opened relative to this handle, one component at
//! a time, with `O_NOFOLLOW`, so a link planted anywhere below is refused, never followed, and
//! nothing can swap a folder for a link between a check and a use (there is no check: the open
//! itself refuses). The root's own path is resolved once, as the user named it.
//!
//! Names are single path components; `rel` paths are `/`-separated normal components. `..`,
//! `.`, empty components, absolute paths and NUL bytes are refused as invalid input.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What is at a name inside a folder, never following a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File { mode: u32, size: u64 },
    Dir,
    Link,
    Other(&'static str),
}

impl Kind {
    /// How messages name it.
    pub fn words(self) -> &'static str {
        match self {
            Kind::File { .. } => "a file",
            Kind::Dir => "a folder",
            Kind::Link => "a symbolic link",
            Kind::Other(w) => w,
        }
    }
}

/// An open folder and the path it was reached by (for messages only: never reopened).
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.into())
}

/// One path component as a C string: no `/`, no NUL, not `.` or `..`, not empty.
fn component(name: &str) -> io::Result<CString> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(invalid(format!(
            "`{}` is not a plain file or folder name",
            name.escape_debug()
        )));
    }
    CString::new(name).map_err(|_| invalid("a name holds a NUL byte"))
}

/// The components of a relative path (empty for `""`).
pub fn components(rel: &str) -> io::Result<Vec<&str>> {
    if rel.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = rel.split('/').collect();
    for p in &parts {
        component(p)?;
    }
    Ok(parts)
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// The error for a link where deploygen opened a name.
fn link_refused(at: &Path) -> io::Error {
    io::Error::other(format!(
        "{} is a symbolic link; deploygen never reads, writes or deletes through a link \
         (it could reach outside the tree)",
        at.display()
    ))
}

impl Dir {
    /// Opens the folder the user named (links in this path itself are the user's choice).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| invalid("NUL in a path"))?;
        // SAFETY: a valid C string; the returned descriptor is owned below.
        let fd = cvt(unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        Ok(Dir {
            // SAFETY: `fd` was just opened and is owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: path.to_path_buf(),
        })
    }

    /// The path this folder was reached by (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn openat(&self, name: &str, flags: libc::c_int, mode: libc::c_uint) -> io::Result<OwnedFd> {
        let c = component(name)?;
        // SAFETY: a valid descriptor and C string; the result is owned below.
        let fd = unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                mode,
            )
        };
        let fd = cvt(fd).map_err(|e| {
            // A link gives ELOOP, or ENOTDIR with O_DIRECTORY: say which it was.
            match e.raw_os_error() {
                Some(libc::ELOOP | libc::ENOTDIR)
                    if matches!(self.kind(name), Ok(Some(Kind::Link))) =>
                {
                    link_refused(&self.path.join(name))
                }
                _ => e,
            }
        })?;
        // SAFETY: just opened, owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The folder `name` in this one (never a link).
    pub fn child_dir(&self, name: &str) -> io::Result<Dir> {
        let fd = self.openat(name, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
        Ok(Dir {
            fd,
            path: self.path.join(name),
        })
    }

    /// Another handle on this folder.
    pub fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// The folder at `rel` below this one, every component a real folder (never a link).
    pub fn open_dir(&self, rel: &str) -> io::Result<Dir> {
        let mut d = self.try_clone()?;
        for part in components(rel)? {
            d = d.child_dir(part)?;
        }
        Ok(d)
    }

    /// `open_dir`, creating missing folders one at a time; `made` gets each created folder's
    /// relative path (for an undo).
    pub fn make_dirs(&self, rel: &str, made: &mut Vec<String>) -> io::Result<Dir> {
        let mut d = self.try_clone()?;
        let mut at = String::new();
        for part in components(rel)? {
            if !at.is_empty() {
                at.push('/');
            }
            at.push_str(part);
            match d.child_dir(part) {
                Ok(c) => d = c,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    d.make_dir(part)?;
                    made.push(at.clone());
                    d = d.child_dir(part)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(d)
    }

    /// What is at `name`, without following a link; `None` when nothing is.
    pub fn kind(&self, name: &str) -> io::Result<Option<Kind>> {
        let c = component(name)?;
        // SAFETY: zeroed `stat` is a valid value to be filled in.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: valid descriptor, C string and out-pointer.
        let r = unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
        Ok(Some(kind_of(&st)))
    }

    /// Opens the regular file `name` for reading: never through a link, never a fifo (which
    /// would block), a device or a socket.
    pub fn open_file(&self, name: &str) -> io::Result<File> {
        self.open_regular(name).map(|(file, _)| file)
    }

    /// `open_file`, with the size the file had when it was opened.
    fn open_regular(&self, name: &str) -> io::Result<(File, u64)> {
        let fd = self.openat(name, libc::O_RDONLY | libc::O_NONBLOCK, 0)?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other(format!(
                "{} is not a regular file",
                self.path.join(name).display()
            )));
        }
        Ok((file, meta.len()))
    }

    /// At most `limit + 1` bytes of the regular file `name` (so a caller can tell "too large").
    pub fn read(&self, name: &str, limit: u64) -> io::Result<Vec<u8>> {
        let (file, size) = self.open_regular(name)?;
        // One read of the size the file had when opened (and one more that finds the end), not
        // reads that start at 32 bytes and double: `Take` hides the size from `read_to_end`.
        let mut out = Vec::with_capacity(size.min(limit + 1) as usize);
        file.take(limit + 1).read_to_end(&mut out)?;
        Ok(out)
    }

    /// Creates `name` exclusively (an existing file or a link at that name is an error) for
    /// writing, with `mode` (before the umask).
    pub fn create_new(&self, name: &str, mode: u32) -> io::Result<File> {
        let fd = self.openat(
            name,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
            mode as libc::c_uint,
        )?;
        Ok(File::from(fd))
    }

    /// Creates the folder `name` (mode 0777 before the umask).
    pub fn make_dir(&self, name: &str) -> io::Result<()> {
        let c = component(name)?;
        // SAFETY: valid descriptor and C string.
        cvt(unsafe { libc::mkdirat(self.fd.as_raw_fd(), c.as_ptr(), 0o777) }).map(|_| ())
    }

    /// Renames `from` in this folder to `to` in `dest` (the entries themselves; a link is moved
    /// as a link, never followed).
    pub fn rename(&self, from: &str, dest: &Dir, to: &str) -> io::Result<()> {
        let (f, t) = (component(from)?, component(to)?);
        // SAFETY: valid descriptors and C strings.
        cvt(unsafe {
            libc::renameat(
                self.fd.as_raw_fd(),
                f.as_ptr(),
                dest.fd.as_raw_fd(),
                t.as_ptr(),
            )
        })
        .map(|_| ())
    }

    /// A second name `to` for the file `from`, in this folder (a link at `from` is linked as
    /// itself, never followed).
    pub fn hard_link(&self, from: &str, to: &str) -> io::Result<()> {
        let (f, t) = (component(from)?, component(to)?);
        let fd = self.fd.as_raw_fd();
        // SAFETY: valid descriptor and C strings; flags 0 = do not follow.
        cvt(unsafe { libc::linkat(fd, f.as_ptr(), fd, t.as_ptr(), 0) }).map(|_| ())
    }

    /// Removes the file (or link) `name`.
    pub fn remove_file(&self, name: &str) -> io::Result<()> {
        let c = component(name)?;
        // SAFETY: valid descriptor and C string.
        cvt(unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) }).map(|_| ())
    }

    /// Removes the empty folder `name`.
    pub fn remove_dir(&self, name: &str) -> io::Result<()> {
        let c = component(name)?;
        // SAFETY: valid descriptor and C string.
        cvt(unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), libc::AT_REMOVEDIR) })
            .map(|_| ())
    }

    /// The names in this folder with what each is (links not followed), sorted by name.
    pub fn entries(&self) -> io::Result<Vec<(String, Kind)>> {
        let fd = self.fd.try_clone()?;
        // SAFETY: `fdopendir` takes ownership of the duplicated descriptor on success.
        let dirp = unsafe { libc::fdopendir(fd.as_raw_fd()) };
        if dirp.is_null() {
            return Err(io::Error::last_os_error());
        }
        std::mem::forget(fd); // now owned by `dirp`, closed by `closedir`
        let mut names = Vec::new();
        let mut bad = None;
        loop {
            // SAFETY: `dirp` is a valid open directory stream.
            let ent = unsafe { libc::readdir(dirp) };
            if ent.is_null() {
                break;
            }
            // SAFETY: `d_name` is a NUL-terminated name inside a valid entry.
            let name = unsafe { std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()) };
            let bytes = name.to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            match std::str::from_utf8(bytes) {
                Ok(s) => names.push(s.to_string()),
                Err(_) => {
                    bad = Some(String::from_utf8_lossy(bytes).into_owned());
                }
            }
        }
        // SAFETY: `dirp` is valid and closed once.
        unsafe { libc::closedir(dirp) };
        if let Some(b) = bad {
            return Err(invalid(format!(
                "{}: the name `{}` is not UTF-8",
                self.path.display(),
                b.escape_debug()
            )));
        }
        names.sort();
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            if let Some(k) = self.kind(&n)? {
                out.push((n, k));
            }
        }
        Ok(out)
    }
}

fn kind_of(st: &libc::stat) -> Kind {
    match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File {
            mode: st.st_mode & 0o7777,
            size: st.st_size as u64,
        },
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Link,
        libc::S_IFIFO => Kind::Other("a named pipe"),
        libc::S_IFSOCK => Kind::Other("a socket"),
        _ => Kind::Other("a device"),
    }
}

/// A file path a user named, as (its folder, `.` for a bare name; its last name); `None` when
/// it ends in no file name (`/`, `..`) or the name is not UTF-8.
pub fn folder_and_name(path: &Path) -> Option<(&Path, &str)> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some((folder, path.file_name()?.to_str()?))
}

/// Splits a relative path into its folder part and its last name (`"a/b/c"` -> `("a/b", "c")`).
pub fn split(rel: &str) -> (&str, &str) {
    match rel.rsplit_once('/') {
        Some((d, n)) => (d, n),
        None => ("", rel),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_named_path_splits_into_its_folder_and_name() {
        assert_eq!(
            folder_and_name(Path::new("a/b/c.yaml")),
            Some((Path::new("a/b"), "c.yaml"))
        );
        assert_eq!(
            folder_and_name(Path::new("c.yaml")),
            Some((Path::new("."), "c.yaml"))
        );
        assert_eq!(
            folder_and_name(Path::new("/c.yaml")),
            Some((Path::new("/"), "c.yaml"))
        );
        assert_eq!(folder_and_name(Path::new("/")), None);
        assert_eq!(folder_and_name(Path::new("a/..")), None);
    }

    use super::*;
    use std::io::Write;
    use std::os::unix::fs::symlink;

    #[test]
    fn names_are_single_plain_components() {
        for bad in ["", ".", "..", "a/b", "a\0b"] {
            assert!(component(bad).is_err(), "{bad:?}");
        }
        assert!(component("a.b").is_ok());
        assert!(components("a/../b").is_err());
        assert!(components("/a").is_err());
        assert_eq!(components("").unwrap(), Vec::<&str>::new());
        assert_eq!(components("a/b").unwrap(), vec!["a", "b"]);
        assert_eq!(split("a/b/c"), ("a/b", "c"));
        assert_eq!(split("c"), ("", "c"));
    }

    #[test]
    fn a_link_anywhere_below_the_root_is_refused_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("real")).unwrap();
        std::fs::write(out.path().join("f"), "secret").unwrap();
        symlink(out.path(), d.path().join("link")).unwrap();
        symlink(out.path().join("f"), d.path().join("real/f")).unwrap();
        let root = Dir::open(d.path()).unwrap();
        let e = root.open_dir("link").unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert!(root.open_dir("link/x").is_err());
        let e = root
            .make_dirs("link/x", &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbolic link"), "{e}");
        // A file where a folder must be is no folder (and not called a link).
        std::fs::write(d.path().join("file"), "x").unwrap();
        let e = root.open_dir("file").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR), "{e}");
        assert!(!e.to_string().contains("symbolic link"), "{e}");
        assert!(root.child_dir("file").is_err());
        assert_eq!(
            Dir::open(&d.path().join("file"))
                .unwrap_err()
                .raw_os_error(),
            Some(libc::ENOTDIR)
        );
        let real = root.open_dir("real").unwrap();
        assert!(real.read("f", 100).is_err());
        assert_eq!(real.kind("f").unwrap(), Some(Kind::Link));
        assert!(real.create_new("f", 0o644).is_err());
        assert_eq!(
            std::fs::read_to_string(out.path().join("f")).unwrap(),
            "secret"
        );
        assert!(std::fs::read_dir(out.path()).unwrap().count() == 1);
    }

    #[test]
    fn folders_files_and_renames_work_below_the_handle() {
        let d = tempfile::tempdir().unwrap();
        let root = Dir::open(d.path()).unwrap();
        let mut made = Vec::new();
        let sub = root.make_dirs("a/b", &mut made).unwrap();
        assert_eq!(made, vec!["a".to_string(), "a/b".to_string()]);
        made.clear();
        root.make_dirs("a/b", &mut made).unwrap();
        assert!(made.is_empty());
        sub.create_new("t", 0o644)
            .unwrap()
            .write_all(b"12345")
            .unwrap();
        assert!(sub.create_new("t", 0o644).is_err(), "exclusive");
        assert_eq!(sub.read("t", 100).unwrap(), b"12345");
        assert_eq!(sub.read("t", 2).unwrap(), b"123", "limit + 1 bytes");
        sub.hard_link("t", "u").unwrap();
        sub.rename("u", &root, "v").unwrap();
        assert_eq!(std::fs::read(d.path().join("v")).unwrap(), b"12345");
        assert_eq!(
            root.kind("v").unwrap(),
            Some(Kind::File {
                mode: std::fs::metadata(d.path().join("v")).unwrap().mode_bits(),
                size: 5
            })
        );
        let names: Vec<String> = root.entries().unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(names, vec!["a", "v"]);
        root.remove_file("v").unwrap();
        assert_eq!(root.kind("v").unwrap(), None);
        assert!(root.remove_dir("a").is_err(), "not empty");
        sub.remove_file("t").unwrap();
        root.open_dir("a").unwrap().remove_dir("b").unwrap();
        root.remove_dir("a").unwrap();
        assert!(root.entries().unwrap().is_empty());
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let p = CString::new(d.path().join("p").as_os_str().as_bytes()).unwrap();
        // SAFETY: valid C string.
        assert_eq!(unsafe { libc::mkfifo(p.as_ptr(), 0o644) }, 0);
        let root = Dir::open(d.path()).unwrap();
        assert_eq!(root.kind("p").unwrap(), Some(Kind::Other("a named pipe")));
        let e = root.read("p", 10).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }

    trait ModeBits {
        fn mode_bits(&self) -> u32;
    }
    impl ModeBits for std::fs::Metadata {
        fn mode_bits(&self) -> u32 {
            use std::os::unix::fs::PermissionsExt;
            self.permissions().mode() & 0o7777
        }
    }
}
