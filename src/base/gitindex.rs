//! The paths git tracks, read from its index file (`.git/index`, format versions 2, 3 and 4 as
//! git's Documentation/gitformat-index.txt describes them). Ignore rules do not apply to a
//! tracked file: a chart archive added with `git add -f` past `**/charts/*.tgz` is committed,
//! and a clone has it. Only the entries' paths are read; a malformed index is an error, which
//! the caller takes as "nothing known to be tracked" (the ignore rules then decide, as before).

use std::collections::BTreeSet;

/// Bytes of the fixed part of an entry before the object name: ctime, mtime (8 each), dev,
/// ino, mode, uid, gid, size (4 each).
const STAT_BYTES: usize = 40;
/// The entry flag saying a second flags word follows (versions 3 and 4).
const EXTENDED: u16 = 0x4000;
/// In the second flags word: `git add -N` (intent to add): listed, but nothing committed yet.
const INTENT_TO_ADD: u16 = 0x2000;

/// What the index lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tracked {
    files: BTreeSet<String>,
    /// Sparse-index directory entries (`path/`): everything below is tracked.
    dirs: Vec<String>,
}

impl Tracked {
    /// Whether `path` (`/`-separated, from the top of the work tree) is tracked.
    pub fn contains(&self, path: &str) -> bool {
        self.files.contains(path) || self.dirs.iter().any(|d| path.starts_with(d.as_str()))
    }
}

/// Parses an index. `hash_len`: 20 for SHA-1 repositories, 32 for SHA-256 ones
/// (`extensions.objectformat = sha256`).
pub fn parse(bytes: &[u8], hash_len: usize) -> Result<Tracked, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != b"DIRC" {
        return Err("not a git index (no DIRC signature)".into());
    }
    let version = r.u32()?;
    if !(2..=4).contains(&version) {
        return Err(format!("index version {version} (2, 3 or 4 are read)"));
    }
    let count = r.u32()?;
    let mut out = Tracked::default();
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = r.at;
        r.take(STAT_BYTES)?;
        r.take(hash_len)?;
        let flags = r.u16()?;
        let extra = if version >= 3 && flags & EXTENDED != 0 {
            r.u16()?
        } else {
            0
        };
        let path = if version == 4 {
            // The path is the previous one, cut by N bytes at its end, plus a NUL-ended suffix.
            let cut = r.varint()?;
            let keep = previous
                .len()
                .checked_sub(cut)
                .ok_or("entry path cuts more than the previous path holds")?;
            let mut p = previous[..keep].to_vec();
            p.extend_from_slice(r.until_nul()?);
            p
        } else {
            let p = r.until_nul()?.to_vec();
            // 1 to 8 NULs in all end the entry on a multiple of 8 bytes from its start.
            let len = r.at - start;
            r.take((8 - len % 8) % 8)?;
            p
        };
        previous.clone_from(&path);
        if extra & INTENT_TO_ADD != 0 {
            continue;
        }
        let path = String::from_utf8(path).map_err(|_| "entry path is not UTF-8")?;
        if path.ends_with('/') {
            out.dirs.push(path);
        } else {
            out.files.insert(path);
        }
    }
    Ok(out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or("index ends inside an entry")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn until_nul(&mut self) -> Result<&'a [u8], String> {
        let rest = &self.bytes[self.at..];
        let n = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or("entry path has no NUL")?;
        self.at += n + 1;
        Ok(&rest[..n])
    }

    /// git's offset varint (varint.c): 7 bits a byte, high bit "more", +1 per continuation.
    fn varint(&mut self) -> Result<usize, String> {
        let mut c = self.take(1)?[0];
        let mut val = usize::from(c & 0x7f);
        while c & 0x80 != 0 {
            val = val
                .checked_add(1)
                .and_then(|v| v.checked_mul(128))
                .ok_or("varint overflows")?;
            c = self.take(1)?[0];
            val += usize::from(c & 0x7f);
        }
        Ok(val)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One v2/v3 entry for `path`, padded as git pads it.
    fn entry(path: &str, extra: Option<u16>) -> Vec<u8> {
        let mut e = vec![0u8; STAT_BYTES + 20];
        let flags = (path.len().min(0xfff) as u16) | if extra.is_some() { EXTENDED } else { 0 };
        e.extend_from_slice(&flags.to_be_bytes());
        if let Some(x) = extra {
            e.extend_from_slice(&x.to_be_bytes());
        }
        e.extend_from_slice(path.as_bytes());
        e.push(0);
        while !e.len().is_multiple_of(8) {
            e.push(0);
        }
        e
    }

    fn index(version: u32, entries: &[Vec<u8>]) -> Vec<u8> {
        let mut b = b"DIRC".to_vec();
        b.extend_from_slice(&version.to_be_bytes());
        b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for e in entries {
            b.extend_from_slice(e);
        }
        b.extend_from_slice(&[0u8; 20]); // the trailing checksum, not read
        b
    }

    #[test]
    fn version_2_and_3_entries_with_padding_and_intent_to_add() {
        let b = index(
            3,
            &[
                entry("a/charts/x-1.0.0.tgz", None),
                entry("abcdefg", None), // 60+2+7+1 = 70: padded to 72
                entry("new.txt", Some(INTENT_TO_ADD)),
                entry("sparse/", Some(0)),
            ],
        );
        let t = parse(&b, 20).unwrap();
        assert!(t.contains("a/charts/x-1.0.0.tgz") && t.contains("abcdefg"));
        assert!(!t.contains("new.txt"), "intent-to-add is not committed");
        assert!(t.contains("sparse/deep/file") && !t.contains("sparsely"));
        assert!(!t.contains("a/charts"));
    }

    #[test]
    fn version_4_paths_are_cut_from_the_previous_one() {
        let mut b = b"DIRC".to_vec();
        b.extend_from_slice(&4u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        for (cut, suffix) in [(0u8, "apps/charts/a.tgz"), (5, "b.tgz")] {
            b.extend_from_slice(&[0u8; STAT_BYTES + 20]);
            b.extend_from_slice(&0u16.to_be_bytes());
            b.push(cut);
            b.extend_from_slice(suffix.as_bytes());
            b.push(0);
        }
        let t = parse(&b, 20).unwrap();
        assert!(t.contains("apps/charts/a.tgz") && t.contains("apps/charts/b.tgz"));
    }

    #[test]
    fn git_varints_add_one_per_continuation_byte() {
        let mut r = Reader {
            bytes: &[0x80, 0x00, 0x81, 0x7f, 0x05],
            at: 0,
        };
        assert_eq!(r.varint().unwrap(), 128); // (0 + 1) << 7 | 0
        assert_eq!(r.varint().unwrap(), 383); // (1 + 1) << 7 | 127
        assert_eq!(r.varint().unwrap(), 5);
    }

    #[test]
    fn malformed_indexes_are_errors_not_panics() {
        assert!(parse(b"", 20).is_err());
        assert!(parse(b"DIRX\0\0\0\x02\0\0\0\0", 20).is_err());
        assert!(parse(b"DIRC\0\0\0\x09\0\0\0\0", 20).is_err());
        let mut b = index(2, &[entry("x", None)]);
        b.truncate(30);
        assert!(parse(&b, 20).is_err());
        // A count larger than the entries.
        let mut b = index(2, &[entry("x", None)]);
        b[11] = 9;
        assert!(parse(&b, 20).is_err());
        // v4: a cut longer than the previous path.
        let mut b = b"DIRC\0\0\0\x04\0\0\0\x01".to_vec();
        b.extend_from_slice(&[0u8; STAT_BYTES + 22]);
        b.extend_from_slice(&[3, b'x', 0]);
        assert!(parse(&b, 20).is_err());
        // An endless varint.
        assert!(Reader {
            bytes: &[0xff; 20],
            at: 0
        }
        .varint()
        .is_err());
    }

    /// Every byte of a valid v3 and v4 index changed to every value, and every truncation:
    /// an error or a result, never a panic (the index is input deploygen does not control).
    #[test]
    fn any_single_byte_change_or_truncation_is_survived() {
        let v3 = index(3, &[entry("a/charts/x.tgz", Some(0)), entry("b", None)]);
        let mut v4 = b"DIRC\0\0\0\x04\0\0\0\x02".to_vec();
        for (cut, suffix) in [(0u8, "apps/a.tgz"), (5, "b.tgz")] {
            v4.extend_from_slice(&[0u8; STAT_BYTES + 22]);
            v4.extend_from_slice(&[cut]);
            v4.extend_from_slice(suffix.as_bytes());
            v4.push(0);
        }
        for valid in [v3, v4] {
            for at in 0..valid.len() {
                let _ = parse(&valid[..at], 20);
                for value in [0u8, 1, 0x40, 0x7f, 0x80, 0xff] {
                    let mut b = valid.clone();
                    b[at] = value;
                    let _ = parse(&b, 20);
                    let _ = parse(&b, 32);
                }
            }
        }
    }
}
