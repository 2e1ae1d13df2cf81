//! The hash memo: the SHA-256 of each file a run rendered, remembered for the next run, so
//! that a render or `check` whose files did not change hashes nothing.
//!
//! The ownership manifest lists the SHA-256 of every generated file. Without a memo every run
//! hashes every file it renders, even when nothing changed (a no-op render, `check`). The memo
//! maps a file's bytes, named by their length and a 128-bit keyed fingerprint, to the SHA-256
//! of those bytes; a render looks each rendered file up and hashes only what it does not find.
//!
//! Why this is sound, and what it cannot change:
//! - **An entry is a fact about bytes, not about the tree.** Each one says "bytes of this
//!   length and fingerprint have this SHA-256"; it was made by a run that computed that
//!   SHA-256 from those bytes. It is looked up with the *rendered* bytes (never the bytes on
//!   disk), so it only ever stands in for a hash of what this run renders. Which files are
//!   created, changed, unchanged or refused is decided by comparing the rendered bytes with the
//!   bytes on disk, as before: the memo plays no part in that, so no memo, stale or edited, can
//!   make a changed or hand-edited file pass, or make render overwrite or remove anything.
//! - **It never trusts the manifest on disk.** The manifest a run renders holds the true hash
//!   of each rendered file, as it did without a memo; so `check` still reports a manifest line
//!   edited by hand, and render still rewrites it.
//! - **A wrong entry needs a fingerprint collision or a forged memo.** The fingerprint is
//!   SipHash-1-3 with 128-bit output (a keyed pseudo-random function), under a random key kept
//!   in the memo: two different files of the same length collide with probability about
//!   2^-128, and without the key a matrix cannot aim for a collision. The memo ends with a
//!   keyed checksum of everything before it, so a truncated, torn or casually edited memo is
//!   ignored whole (every file is then hashed, and the memo written anew). Only someone who
//!   rewrites `.git/deploygen.hashes` with its key can plant a wrong hash; even then the hash
//!   lands only in the manifest, where a wrong line makes deploygen *refuse* to remove that
//!   file later (its bytes do not match), never remove other bytes than it wrote, and `check`
//!   in a clone without the memo (CI's) reports the line.
//! - **It lives only inside `.git`,** next to the tree's lock (`lock::at_git_top`), where git
//!   never tracks anything: never a file in the user's tree. A tree that is not the top of a
//!   git work tree has no memo and hashes every file, as before.
//! - **It is written only by a render that wrote the tree or found it current** (`flush`, from
//!   the writer, under the tree's lock: `check`, `diff` and a refused run never write it, so a
//!   refused run still creates nothing), and only when it changes (a new file's hash, or a
//!   file gone), all or nothing (`txn`: an exclusive temp file renamed over it, never through
//!   a link), so a run with nothing to change writes nothing there either. A memo that cannot
//!   be read or written (a read-only checkout) is no memo; it is never an error.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use siphasher::sip128::{Hasher128, SipHasher13};

use super::dir::Dir;
use super::lock;
use super::manifest;
use super::txn;
use crate::base::generated::Tree;
use crate::base::sha256;

/// The memo's name inside `.git`.
pub const NAME: &str = "deploygen.hashes";

/// The first line: what the file is, and its format's version.
const HEAD: &str =
    "# deploygen hash memo v1: SHA-256 of files it rendered (see src/disk/memo.rs); \
                    safe to delete\n";

/// A memo larger than this is not read (a tree of 100,000 files makes about 11 MB).
const LIMIT: u64 = 32 * 1024 * 1024;

/// Some bytes, named by their length and keyed fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Print {
    fingerprint: u128,
    len: u64,
}

/// The memo of one run: what the memo on disk holds, and what this run looked up or hashed.
#[derive(Debug)]
pub struct Memo {
    key: [u8; 16],
    known: HashMap<Print, String>,
    /// The memo this run leaves: every file it asked for.
    used: BTreeMap<Print, String>,
    /// The memo file as read, when it was valid (it is rewritten only if this run's differs).
    read: Option<Vec<u8>>,
}

impl Memo {
    /// An empty memo under a new random key.
    pub fn new() -> Memo {
        Memo {
            key: random_key(),
            known: HashMap::new(),
            used: BTreeMap::new(),
            read: None,
        }
    }

    /// The memo in `text`, if it is a whole, valid memo (anything else: none).
    pub fn parse(text: &[u8]) -> Option<Memo> {
        let text = std::str::from_utf8(text).ok()?;
        let body = text.strip_prefix(HEAD)?;
        let (key_line, mut rest) = body.split_once('\n')?;
        let key = hex_u128(key_line.strip_prefix("key ")?)?.to_be_bytes();
        let mut known = HashMap::new();
        loop {
            let (line, after) = rest.split_once('\n')?;
            if let Some(sum) = line.strip_prefix("end ") {
                let signed = &text[..text.len() - rest.len()];
                let ok = after.is_empty() && hex_u128(sum)? == fingerprint(&key, signed.as_bytes());
                return ok.then(|| Memo {
                    key,
                    known,
                    used: BTreeMap::new(),
                    read: Some(text.as_bytes().to_vec()),
                });
            }
            let mut fields = line.split(' ');
            let (Some(sha), Some(len), Some(fp), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return None;
            };
            if sha256::digest_hex(sha) != Some(sha) {
                return None;
            }
            let digits = !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit());
            let print = Print {
                fingerprint: hex_u128(fp)?,
                len: digits.then(|| len.parse().ok()).flatten()?,
            };
            known.insert(print, sha.to_string());
            rest = after;
        }
    }

    /// The memo of the tree at `root`: the one in its `.git` folder when the root is the top
    /// of a git work tree and the memo there is valid; an empty one otherwise.
    pub fn load(root: &Path) -> Memo {
        git_dir(root)
            .and_then(|git| git.read(NAME, LIMIT).ok())
            .filter(|bytes| bytes.len() as u64 <= LIMIT)
            .and_then(|bytes| Memo::parse(&bytes))
            .unwrap_or_default()
    }

    /// The SHA-256 (lower-case hex) of `bytes`: the memo's when it knows bytes of this length
    /// and fingerprint, computed otherwise; recorded for the memo this run leaves.
    pub fn sha256(&mut self, bytes: &[u8]) -> String {
        let (print, sha) = self.lookup(bytes);
        self.used.insert(print, sha.clone());
        sha
    }

    /// `sha256` without the record (it takes `&self`, so files can be looked up side by side);
    /// the caller records what it looked up with `record`.
    fn lookup(&self, bytes: &[u8]) -> (Print, String) {
        let print = Print {
            fingerprint: fingerprint(&self.key, bytes),
            len: bytes.len() as u64,
        };
        let sha = match self.known.get(&print) {
            Some(sha) => sha.clone(),
            None => sha256::hex(bytes),
        };
        (print, sha)
    }

    /// The memo this run leaves (what it asked for), signed.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(HEAD.len() + 40 + self.used.len() * 120);
        out.push_str(HEAD);
        out.push_str("key ");
        out.push_str(&sha256::lower_hex(&self.key));
        out.push('\n');
        for (print, sha) in &self.used {
            out.push_str(sha);
            out.push(' ');
            out.push_str(&print.len.to_string());
            out.push(' ');
            out.push_str(&sha256::lower_hex(&print.fingerprint.to_be_bytes()));
            out.push('\n');
        }
        let sum = fingerprint(&self.key, out.as_bytes());
        out.push_str("end ");
        out.push_str(&sha256::lower_hex(&sum.to_be_bytes()));
        out.push('\n');
        out
    }

    /// Writes the memo into `root`'s `.git` folder when it differs from the one read (all or
    /// nothing, never through a link). Returns whether it wrote; a memo that cannot be written
    /// is left as it was.
    pub fn save(&self, root: &Path) -> bool {
        let Some(git) = git_dir(root) else {
            return false;
        };
        let text = self.text();
        if self.read.as_deref() == Some(text.as_bytes()) {
            return false;
        }
        let step = txn::Step::Write {
            at: txn::Place {
                base: Rc::new(git),
                rel: NAME.to_string(),
            },
            bytes: text.into_bytes(),
            mode: None,
        };
        txn::apply(&[step], txn::Hooks::default()).is_ok()
    }
}

impl Default for Memo {
    fn default() -> Self {
        Memo::new()
    }
}

thread_local! {
    /// The memo the last `with_manifest` of this thread made, and its root, until the writer
    /// `flush`es it: what this run computed or found, and nothing else.
    static PENDING: RefCell<Option<(PathBuf, Memo)>> = const { RefCell::new(None) };
}

/// Adds the ownership manifest to a rendered tree, as `manifest::with_manifest` does, taking
/// each file's SHA-256 from the memo of the tree at `root` where it has it (see the module
/// comment for why this is sound). The memo for the next run waits for `flush`.
pub fn with_manifest(root: &Path, tree: Tree, matrix_file: &str) -> Tree {
    if !lock::at_git_top(root) {
        // No memo here: no fingerprints either.
        return manifest::with_manifest(tree, matrix_file);
    }
    let mut memo = Memo::load(root);
    let looked_up = std::sync::Mutex::new(Vec::new());
    let tree = manifest::with_manifest_by(tree, matrix_file, |bytes| {
        let (print, sha) = memo.lookup(bytes);
        // A poisoned lock only means another lookup panicked (and the run with it).
        looked_up
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((print, sha.clone()));
        sha
    });
    let looked_up = looked_up
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    memo.used.extend(looked_up);
    PENDING.with(|p| *p.borrow_mut() = Some((root.to_path_buf(), memo)));
    tree
}

/// Writes the memo this thread's last `with_manifest` for `root` made, if it changed. The
/// writer calls it once the tree is written or found current, under the tree's lock. Returns
/// whether it wrote.
pub fn flush(root: &Path) -> bool {
    let pending = PENDING.with(|p| p.borrow_mut().take_if(|(r, _)| r == root));
    pending.is_some_and(|(_, memo)| memo.save(root))
}

/// The `.git` folder of `root`, opened without following a link, when `root` is the top of a
/// git work tree.
fn git_dir(root: &Path) -> Option<Dir> {
    if !lock::at_git_top(root) {
        return None;
    }
    Dir::open(root).and_then(|d| d.child_dir(".git")).ok()
}

/// SipHash-1-3, 128-bit output, under `key`.
fn fingerprint(key: &[u8; 16], bytes: &[u8]) -> u128 {
    let mut h = SipHasher13::new_with_key(key);
    h.write(bytes);
    h.finish128().as_u128()
}

/// Exactly 32 lower-case hex digits.
fn hex_u128(s: &str) -> Option<u128> {
    let well_formed = s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    well_formed
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
}

/// A random key: std's hasher is keyed from the operating system's random source once per
/// thread, so its output on any input is unpredictable; two of them make 128 bits.
fn random_key() -> [u8; 16] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mut key = [0u8; 16];
    for (i, half) in key.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u32(std::process::id());
        h.write_u64(nanos);
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join(".git")).unwrap();
        d
    }

    #[test]
    fn a_memo_reads_back_what_it_wrote_and_hashes_only_what_it_does_not_know() {
        let mut m = Memo::new();
        assert_eq!(m.sha256(b"a: 1\n"), sha256::hex(b"a: 1\n"));
        assert_eq!(m.sha256(b""), sha256::hex(b""));
        let text = m.text();
        let mut back = Memo::parse(text.as_bytes()).expect("a valid memo");
        assert_eq!(back.known.len(), 2);
        assert_eq!(back.sha256(b"a: 1\n"), sha256::hex(b"a: 1\n"));
        // Unknown bytes (same length, one byte changed) are hashed, not looked up.
        assert_eq!(back.sha256(b"a: 2\n"), sha256::hex(b"a: 2\n"));
        // What it leaves is what this run asked for: the entry for "" is gone.
        let left = Memo::parse(back.text().as_bytes()).unwrap();
        assert_eq!(left.known.len(), 2);
        assert!(left.known.values().any(|s| *s == sha256::hex(b"a: 2\n")));
        assert!(!left.known.values().any(|s| *s == sha256::hex(b"")));
    }

    #[test]
    fn an_entry_is_used_only_for_bytes_of_its_length_and_fingerprint() {
        // A memo whose entry for some bytes says another hash (as if forged, checksum and
        // all): the entry stands for those exact bytes and nothing else.
        let mut m = Memo::new();
        m.sha256(b"x: 1\n");
        let forged = m
            .text()
            .replace(&sha256::hex(b"x: 1\n"), &sha256::hex(b"other"));
        let forged = resign(&forged, &m.key);
        let mut f = Memo::parse(forged.as_bytes()).unwrap();
        assert_eq!(
            f.sha256(b"x: 1\n"),
            sha256::hex(b"other"),
            "the memo is used"
        );
        for other in [&b"x: 2\n"[..], b"x: 1\n\n", b"x: 1", b""] {
            assert_eq!(f.sha256(other), sha256::hex(other));
        }
    }

    /// `text` with its checksum made again under `key` (what only a forger with the key does).
    fn resign(text: &str, key: &[u8; 16]) -> String {
        let body = &text[..text.rfind("end ").unwrap()];
        let sum = fingerprint(key, body.as_bytes());
        format!("{body}end {}\n", sha256::lower_hex(&sum.to_be_bytes()))
    }

    #[test]
    fn a_memo_that_is_not_whole_and_signed_is_no_memo() {
        let mut m = Memo::new();
        m.sha256(b"a: 1\n");
        m.sha256(b"b: 2\n");
        let text = m.text();
        assert!(Memo::parse(text.as_bytes()).is_some());
        let sha = sha256::hex(b"a: 1\n");
        let mut bad = vec![
            String::new(),
            text[..text.len() - 1].to_string(),
            format!("{text}\n"),
            format!("{text}{sha} 5 {}\n", "0".repeat(32)),
            text.replace(&sha, &sha256::hex(b"a: 2\n")),
            text.replacen("# deploygen hash memo v1", "# deploygen hash memo v2", 1),
            text.replacen(" 5 ", " 6 ", 1),
            text.replacen(" 5 ", " +5 ", 1),
        ];
        // Torn: cut anywhere.
        for cut in [HEAD.len(), HEAD.len() + 10, text.len() / 2, text.len() - 5] {
            bad.push(text[..cut].to_string());
        }
        for b in &bad {
            assert!(Memo::parse(b.as_bytes()).is_none(), "{b}");
        }
        // Every line well-formed but re-signed under another key: refused too.
        let other = resign(&text, &[7; 16]);
        assert!(Memo::parse(other.as_bytes()).is_none());
        // Malformed entries, even signed, are refused.
        for line in [
            format!("{} 5 {}", sha.to_uppercase(), "0".repeat(32)),
            format!("{sha} 5 {}", "0".repeat(31)),
            format!("{sha} 5 {} x", "0".repeat(32)),
            format!("{sha}  5 {}", "0".repeat(32)),
            format!("{sha} -5 {}", "0".repeat(32)),
            format!("sha256:{} 5 {}", &sha[7..], "0".repeat(32)),
        ] {
            let body = text.replacen("end ", &format!("{line}\nend "), 1);
            let signed = resign(&body, &m.key);
            assert!(Memo::parse(signed.as_bytes()).is_none(), "{line}");
        }
    }

    #[test]
    fn only_a_git_work_trees_top_has_a_memo_and_it_is_written_only_when_it_changes() {
        let tree = Tree::from([
            ("a.yaml".to_string(), "a: 1\n".to_string()),
            ("b/c.json".to_string(), "{}\n".to_string()),
        ]);
        // Not a git top: nothing is written, and the manifest is the plain one.
        let plain = tempfile::tempdir().unwrap();
        let t = with_manifest(plain.path(), tree.clone(), "matrix.yaml");
        assert_eq!(t, manifest::with_manifest(tree.clone(), "matrix.yaml"));
        assert_eq!(std::fs::read_dir(plain.path()).unwrap().count(), 0);
        // A git top: the memo goes into .git, and only there.
        let d = git_tree();
        let t = with_manifest(d.path(), tree.clone(), "matrix.yaml");
        assert_eq!(t, manifest::with_manifest(tree.clone(), "matrix.yaml"));
        let memo = d.path().join(".git").join(NAME);
        assert!(!memo.exists(), "written only by the writer's flush");
        assert!(
            !flush(plain.path()),
            "another root's memo is not flushed there"
        );
        assert!(flush(d.path()));
        assert!(!flush(d.path()), "flushed once");
        let first = std::fs::read(&memo).unwrap();
        let names: Vec<_> = std::fs::read_dir(d.path().join(".git"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [NAME], "no temp file left");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        // Again with the same files: the same manifest, and the memo is not rewritten.
        let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&memo).unwrap());
        let mut again = Memo::load(d.path());
        for text in tree.values() {
            again.sha256(text.as_bytes());
        }
        assert!(!again.save(d.path()), "unchanged: not written");
        assert_eq!(with_manifest(d.path(), tree.clone(), "matrix.yaml"), t);
        assert!(!flush(d.path()), "unchanged: not written");
        let meta = std::fs::metadata(&memo).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::ino(&meta), inode);
        assert_eq!(std::fs::read(&memo).unwrap(), first);
        // A changed file: its new hash is computed (the manifest is the true one) and the memo
        // follows.
        let mut changed = tree.clone();
        changed.insert("a.yaml".to_string(), "a: 2\n".to_string());
        assert_eq!(
            with_manifest(d.path(), changed.clone(), "matrix.yaml"),
            manifest::with_manifest(changed, "matrix.yaml")
        );
        assert!(flush(d.path()));
        assert_ne!(std::fs::read(&memo).unwrap(), first);
    }

    #[test]
    fn a_damaged_or_linked_memo_is_ignored_and_replaced_never_followed() {
        let tree = Tree::from([("a.yaml".to_string(), "a: 1\n".to_string())]);
        let want = manifest::with_manifest(tree.clone(), "matrix.yaml");
        let d = git_tree();
        let memo = d.path().join(".git").join(NAME);
        for junk in [&b"garbage"[..], b"", &[0xff, 0xfe][..]] {
            std::fs::write(&memo, junk).unwrap();
            assert_eq!(with_manifest(d.path(), tree.clone(), "matrix.yaml"), want);
            assert!(flush(d.path()));
            assert!(Memo::parse(&std::fs::read(&memo).unwrap()).is_some());
        }
        // A link at the memo's name is replaced by a file, never written through.
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::write(&target, "keep\n").unwrap();
        std::fs::remove_file(&memo).unwrap();
        std::os::unix::fs::symlink(&target, &memo).unwrap();
        assert_eq!(with_manifest(d.path(), tree.clone(), "matrix.yaml"), want);
        flush(d.path());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
        // A linked .git: no memo at all (and nothing written through it).
        let l = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), l.path().join(".git")).unwrap();
        assert_eq!(with_manifest(l.path(), tree, "matrix.yaml"), want);
        assert!(!flush(l.path()));
        assert!(!outside.path().join(NAME).exists());
    }
}
