//! Chart archives (`.tgz`, as `helm pull` and `helm package` write them), unpacked in memory
//! and bounded, never onto the disk by the tar library:
//!
//! - caps on the compressed bytes, the bytes unpacked (tar headers and padding counted), the
//!   number of entries and the size of one entry: a 1 GiB tar bomb stops at the cap, in
//!   memory, before anything is written;
//! - only files and folders: a link could point out of the chart, a device or pipe could
//!   block whoever reads it, and absolute paths or `..` could place a file anywhere;
//! - the gzip stream is read to its end, so a truncated or corrupted archive (its CRC) is
//!   refused rather than half read.
//!
//! `check_chart_archive` is `vendor`'s proof that an archive is the chart the catalog pins.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::rc::Rc;

use tar::EntryType;

use crate::base::sha256;

/// How much of an archive is read before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of the archive itself.
    pub compressed: u64,
    /// Most bytes the gzip stream unpacks to (the whole tar stream).
    pub unpacked: u64,
    /// Most tar entries (files, folders and the rest).
    pub entries: usize,
    /// Most bytes of one entry.
    pub entry: u64,
}

/// Bounds for a chart archive. The largest chart the catalog pins unpacks to 2.4 MB
/// (kserve-crd v0.20.0, one 1.9 MB file); the most files is 52 (cert-manager v1.19.6).
pub const LIMITS: Limits = Limits {
    compressed: 16 * 1024 * 1024,
    unpacked: 64 * 1024 * 1024,
    entries: 5_000,
    entry: 16 * 1024 * 1024,
};

/// Largest Chart.yaml read for its name and version (upstream's are under 1 KiB).
pub const MAX_CHART_YAML: usize = 64 * 1024;

/// Deepest `[`/`{` nesting a Chart.yaml may have. The YAML library's scanner is quadratic in
/// flow nesting (16 KiB of `[` took 0.4 s, 64 KiB 7.5 s); real ones nest 2 deep.
pub const MAX_FLOW_DEPTH: usize = 16;

/// What is wrong with an archive. The messages have no subject: the caller puts the archive's
/// path in front.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("more than {0} bytes (reading stopped there); a chart archive is a few MiB at most")]
    TooLarge(u64),
    #[error("not a gzip tar archive (.tgz): {0}")]
    NotGzipTar(String),
    #[error("more than {0} bytes unpacked (a tar bomb?); deploygen unpacks no more")]
    Unpacked(u64),
    #[error("more than {0} entries; deploygen unpacks no more")]
    Entries(usize),
    #[error("entry `{path}` is more than {limit} bytes; deploygen unpacks no larger entry")]
    Entry { path: String, limit: u64 },
    #[error(
        "entry `{path}` {why}; a chart archive holds only files and folders, below its own \
         folder"
    )]
    Refused { path: String, why: &'static str },
    #[error("entry `{0}` appears twice")]
    Duplicate(String),
    #[error("the digest `{0}` is not `sha256:` and 64 lower-case hex digits")]
    BadDigest(String),
    #[error("its sha256 is {0}, another archive than the one pinned")]
    WrongDigest(String),
    #[error("entry `{path}` lies outside `{folder}/`, the chart's folder")]
    Outside { path: String, folder: String },
    #[error("holds no `{0}`")]
    NoChartYaml(String),
    #[error("`{path}` {why}")]
    ChartYaml { path: String, why: String },
    #[error("its Chart.yaml says {field} `{got}`, not `{want}`")]
    Says {
        field: &'static str,
        got: String,
        want: String,
    },
}

/// Why an archive is not the chart the catalog pins: the problem, then what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}; expected the chart the catalog pins: {expected}")]
pub struct NotPinnedChart {
    /// `<name> <version>`, and ` with digest <digest>` when one is pinned.
    pub expected: String,
    pub problem: ArchiveError,
}

/// Text from an archive as a message quotes it: control characters escaped, cut short.
fn token(s: &str) -> String {
    // Long enough for a digest (71 characters), short enough for one line.
    const MAX: usize = 96;
    let escaped = crate::base::text::escape(s);
    match escaped.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &escaped[..at]),
        None => escaped.into_owned(),
    }
}

/// A reader that fails once more than `left` bytes came through, and says so in `over` (the
/// tar library wraps the error it gets, so its text cannot tell).
struct Capped<R> {
    inner: R,
    left: u64,
    over: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // One byte more than allowed is asked for, so reaching the cap exactly is no error.
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.over.set(true);
            return Err(io::Error::other("over the unpacked-size cap"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// An entry's path as `/`-separated plain names (`./` and empty parts dropped); absolute
/// paths, `..` and names that are not UTF-8 are refused.
fn entry_path(raw: &[u8]) -> Result<String, ArchiveError> {
    let refused = |why| ArchiveError::Refused {
        path: token(&String::from_utf8_lossy(raw)),
        why,
    };
    let text = std::str::from_utf8(raw).map_err(|_| refused("has a name that is not UTF-8"))?;
    if text.starts_with('/') {
        return Err(refused("is an absolute path"));
    }
    let mut parts = Vec::new();
    for part in text.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return Err(refused("leads out of the archive (`..`)"));
        }
        parts.push(part);
    }
    Ok(parts.join("/"))
}

/// Every file of a gzip tar archive with its bytes, by `/`-separated path (folders are implied
/// by the paths), within `limits`.
pub fn unpack(bytes: &[u8], limits: &Limits) -> Result<BTreeMap<String, Vec<u8>>, ArchiveError> {
    if bytes.len() as u64 > limits.compressed {
        return Err(ArchiveError::TooLarge(limits.compressed));
    }
    let over = Rc::new(Cell::new(false));
    let mut archive = tar::Archive::new(Capped {
        inner: flate2::read::GzDecoder::new(bytes),
        left: limits.unpacked,
        over: over.clone(),
    });
    let broken = |e: io::Error| {
        if over.get() {
            ArchiveError::Unpacked(limits.unpacked)
        } else {
            ArchiveError::NotGzipTar(token(&e.to_string()))
        }
    };
    let mut files = BTreeMap::new();
    let mut count = 0usize;
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        count += 1;
        if count > limits.entries {
            return Err(ArchiveError::Entries(limits.entries));
        }
        let path = entry_path(&entry.path_bytes())?;
        let refused = |why| ArchiveError::Refused {
            path: token(&path),
            why,
        };
        match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => {}
            // A pax global header only sets defaults for the entries after it.
            EntryType::Directory | EntryType::XGlobalHeader => continue,
            EntryType::Symlink | EntryType::Link => return Err(refused("is a link")),
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                return Err(refused("is a device or a named pipe"))
            }
            _ => return Err(refused("is neither a file nor a folder")),
        }
        if path.is_empty() {
            return Err(refused("is a file without a name"));
        }
        if entry.size() > limits.entry {
            return Err(ArchiveError::Entry {
                path: token(&path),
                limit: limits.entry,
            });
        }
        let mut content = Vec::new();
        entry.read_to_end(&mut content).map_err(broken)?;
        if files.contains_key(&path) {
            // Two bytes for one name: which one a reader keeps is anyone's guess.
            return Err(ArchiveError::Duplicate(token(&path)));
        }
        files.insert(path, content);
    }
    // The rest of the stream (the tar's end, the gzip trailer): a truncated or corrupted
    // archive fails its length or CRC check here.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(broken)?;
    Ok(files)
}

/// Deepest `[`/`{` nesting, counting every bracket (quoted or not: it can only over-count).
fn flow_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// `name` and `version` of a Chart.yaml (a string, or a number as YAML reads it).
fn chart_yaml(bytes: &[u8]) -> Result<(String, String), String> {
    if bytes.len() > MAX_CHART_YAML {
        return Err(format!(
            "is more than {MAX_CHART_YAML} bytes; a Chart.yaml is a few hundred"
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8".to_string())?;
    if flow_depth(text) > MAX_FLOW_DEPTH {
        return Err(format!(
            "nests `[` or `{{` deeper than {MAX_FLOW_DEPTH} levels"
        ));
    }
    let value: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|e| format!("is not YAML: {}", token(&e.to_string())))?;
    let field = |k: &str| match value.get(k) {
        Some(serde_yaml::Value::String(s)) => Ok(s.clone()),
        Some(serde_yaml::Value::Number(n)) => Ok(n.to_string()),
        _ => Err(format!("has no `{k}` (a string)")),
    };
    Ok((field("name")?, field("version")?))
}

/// Proves `bytes` are the chart archive the catalog pins: a gzip tar (within `LIMITS`) whose
/// files all lie in `<name>/`, with a `<name>/Chart.yaml` saying this `name` and `version`,
/// and, when the catalog records a digest (`sha256:<hex>`, or bare hex), whose sha256 is it.
pub fn check_chart_archive(
    bytes: &[u8],
    name: &str,
    version: &str,
    sha256: Option<&str>,
) -> Result<(), NotPinnedChart> {
    check_within(bytes, name, version, sha256, &LIMITS).map_err(|problem| NotPinnedChart {
        expected: format!(
            "{} {}{}",
            token(name),
            token(version),
            sha256
                .map(|d| format!(" with digest {}", token(d)))
                .unwrap_or_default()
        ),
        problem,
    })
}

fn check_within(
    bytes: &[u8],
    name: &str,
    version: &str,
    digest: Option<&str>,
    limits: &Limits,
) -> Result<(), ArchiveError> {
    // Unpacked first: it refuses an oversized archive before it is hashed.
    let files = unpack(bytes, limits)?;
    if let Some(d) = digest {
        let want = sha256::digest_hex(d).ok_or_else(|| ArchiveError::BadDigest(token(d)))?;
        let got = sha256::hex(bytes);
        if got != want {
            return Err(ArchiveError::WrongDigest(got));
        }
    }
    // Helm strips the first folder of every path and merges what is left, so a file in
    // another folder would replace the pinned chart's own.
    let folder = format!("{name}/");
    if let Some(path) = files.keys().find(|p| !p.starts_with(&folder)) {
        return Err(ArchiveError::Outside {
            path: token(path),
            folder: token(name),
        });
    }
    let path = format!("{name}/Chart.yaml");
    let chart = files
        .get(&path)
        .ok_or_else(|| ArchiveError::NoChartYaml(token(&path)))?;
    let (got_name, got_version) = chart_yaml(chart).map_err(|why| ArchiveError::ChartYaml {
        path: token(&path),
        why,
    })?;
    for (field, got, want) in [("name", got_name, name), ("version", got_version, version)] {
        if got != want {
            return Err(ArchiveError::Says {
                field,
                got: token(&got),
                want: token(want),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A tar entry: its raw path, type and bytes (written as raw headers, so paths the tar
    /// library would refuse to write, `..` or absolute, can be tested).
    type E<'a> = (&'a [u8], EntryType, &'a [u8]);

    fn tar(entries: &[E]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.as_old_mut().name[..path.len()].copy_from_slice(path);
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn tgz(entries: &[E]) -> Vec<u8> {
        gz(&tar(entries))
    }

    const F: EntryType = EntryType::Regular;

    fn chart(name: &str, version: &str) -> Vec<u8> {
        let yaml = format!("apiVersion: v2\nname: {name}\nversion: {version}\n");
        tgz(&[
            (format!("{name}/").as_bytes(), EntryType::Directory, b""),
            (format!("{name}/Chart.yaml").as_bytes(), F, yaml.as_bytes()),
            (format!("{name}/values.yaml").as_bytes(), F, b"a: 1\n"),
        ])
    }

    fn refusal(entries: &[E]) -> ArchiveError {
        unpack(&tgz(entries), &LIMITS).unwrap_err()
    }

    #[test]
    fn files_are_unpacked_by_plain_relative_paths_folders_implied() {
        let files = unpack(
            &tgz(&[
                (b"./c/", EntryType::Directory, b""),
                (b"./c//Chart.yaml", F, b"name: c"),
                (b"c/templates/a.yaml", EntryType::Continuous, b"a"),
                (b"pax_global_header", EntryType::XGlobalHeader, b"9 a=b\n"),
            ]),
            &LIMITS,
        )
        .unwrap();
        let got: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("c/Chart.yaml", &b"name: c"[..]),
                ("c/templates/a.yaml", b"a")
            ]
        );
    }

    #[test]
    fn absolute_paths_dot_dot_and_non_utf8_names_are_refused() {
        for (path, why) in [
            (&b"/etc/passwd"[..], "is an absolute path"),
            (b"c/../../x", "leads out of the archive (`..`)"),
            (b"..", "leads out of the archive (`..`)"),
            (b"c/\xff", "has a name that is not UTF-8"),
        ] {
            let e = refusal(&[(path, F, b"x")]);
            assert!(
                matches!(&e, ArchiveError::Refused { why: w, .. } if *w == why),
                "{e}"
            );
        }
        // A folder entry is checked too.
        let e = refusal(&[(b"../d/", EntryType::Directory, b"")]);
        assert!(matches!(e, ArchiveError::Refused { .. }), "{e}");
    }

    #[test]
    fn links_devices_pipes_and_other_kinds_are_refused_by_name() {
        for (kind, why) in [
            (EntryType::Symlink, "is a link"),
            (EntryType::Link, "is a link"),
            (EntryType::Char, "is a device or a named pipe"),
            (EntryType::Block, "is a device or a named pipe"),
            (EntryType::Fifo, "is a device or a named pipe"),
            (EntryType::new(b'Z'), "is neither a file nor a folder"),
        ] {
            let e = refusal(&[(b"c/x", kind, b"")]);
            assert_eq!(
                e,
                ArchiveError::Refused {
                    path: "c/x".into(),
                    why
                },
                "{kind:?}"
            );
            assert!(e.to_string().starts_with("entry `c/x` "), "{e}");
        }
        let e = refusal(&[(b"./", F, b"x")]);
        assert_eq!(
            e,
            ArchiveError::Refused {
                path: String::new(),
                why: "is a file without a name"
            }
        );
    }

    #[test]
    fn a_name_twice_is_refused() {
        let e = refusal(&[(b"c/a", F, b"1"), (b"./c/a", F, b"2")]);
        assert_eq!(e, ArchiveError::Duplicate("c/a".into()));
    }

    #[test]
    fn what_is_not_a_whole_gzip_tar_is_refused() {
        for bytes in [
            vec![0x1f, 0x8b],
            Vec::new(),
            tar(&[(b"c/a", F, b"1")]),
            b"hello, world".to_vec(),
        ] {
            let e = unpack(&bytes, &LIMITS).unwrap_err();
            assert!(matches!(e, ArchiveError::NotGzipTar(_)), "{e}");
        }
        // Cut short, or one byte of the CRC changed: refused at the end of the stream.
        let whole = tgz(&[(b"c/a", F, b"1")]);
        let e = unpack(&whole[..whole.len() - 4], &LIMITS).unwrap_err();
        assert!(matches!(e, ArchiveError::NotGzipTar(_)), "{e}");
        let mut bad_crc = whole.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        let e = unpack(&bad_crc, &LIMITS).unwrap_err();
        assert!(matches!(e, ArchiveError::NotGzipTar(_)), "{e}");
        assert_eq!(unpack(&whole, &LIMITS).unwrap().len(), 1);
    }

    #[test]
    fn the_compressed_size_is_read_up_to_its_cap_not_a_byte_more() {
        let bytes = tgz(&[(b"c/a", F, b"1")]);
        let at = |n: usize| Limits {
            compressed: n as u64,
            ..LIMITS
        };
        assert!(unpack(&bytes, &at(bytes.len())).is_ok());
        let e = unpack(&bytes, &at(bytes.len() - 1)).unwrap_err();
        assert_eq!(e, ArchiveError::TooLarge(bytes.len() as u64 - 1));
    }

    #[test]
    fn the_unpacked_size_is_read_up_to_its_cap_not_a_byte_more() {
        let plain = tar(&[(b"c/a", F, &[b'a'; 700])]);
        let bytes = gz(&plain);
        let at = |n: usize| Limits {
            unpacked: n as u64,
            ..LIMITS
        };
        assert!(unpack(&bytes, &at(plain.len())).is_ok());
        let e = unpack(&bytes, &at(plain.len() - 1)).unwrap_err();
        assert_eq!(e, ArchiveError::Unpacked(plain.len() as u64 - 1));
        // A bomb: 8 MiB of zeros in a file packs into a few KiB; refused at the cap.
        let bomb = gz(&tar(&[(b"c/zeros", F, &vec![0u8; 8 << 20])]));
        assert!(bomb.len() < 1 << 20);
        let small = Limits {
            unpacked: 1 << 20,
            ..LIMITS
        };
        assert_eq!(
            unpack(&bomb, &small).unwrap_err(),
            ArchiveError::Unpacked(1 << 20)
        );
    }

    #[test]
    fn entries_are_counted_up_to_their_cap_folders_included() {
        let bytes = tgz(&[(b"c/", EntryType::Directory, b""), (b"c/a", F, b"1")]);
        let at = |n| Limits {
            entries: n,
            ..LIMITS
        };
        assert!(unpack(&bytes, &at(2)).is_ok());
        assert_eq!(
            unpack(&bytes, &at(1)).unwrap_err(),
            ArchiveError::Entries(1)
        );
    }

    #[test]
    fn one_entry_is_read_up_to_its_cap_not_a_byte_more() {
        let bytes = tgz(&[(b"c/a", F, &[b'a'; 10])]);
        let at = |n| Limits { entry: n, ..LIMITS };
        assert_eq!(unpack(&bytes, &at(10)).unwrap()["c/a"].len(), 10);
        assert_eq!(
            unpack(&bytes, &at(9)).unwrap_err(),
            ArchiveError::Entry {
                path: "c/a".into(),
                limit: 9
            }
        );
    }

    #[test]
    fn the_caps_are_the_documented_ones() {
        // README ("What import reads, and how") states these numbers.
        assert_eq!(
            LIMITS,
            Limits {
                compressed: 16_777_216,
                unpacked: 67_108_864,
                entries: 5_000,
                entry: 16_777_216,
            }
        );
        assert_eq!(MAX_CHART_YAML, 65_536);
        assert_eq!(MAX_FLOW_DEPTH, 16);
    }

    #[test]
    fn tokens_are_escaped_and_cut_short() {
        assert_eq!(token("a\u{1b}[2J"), "a\\u{1b}[2J");
        assert_eq!(token(&"é".repeat(96)), "é".repeat(96));
        assert_eq!(token(&"é".repeat(97)), format!("{}…", "é".repeat(96)));
        let e = refusal(&[(format!("/{}", "a".repeat(98)).as_bytes(), F, b"")]);
        assert!(
            matches!(&e, ArchiveError::Refused { path, .. } if path.ends_with('…')),
            "{e}"
        );
    }

    #[test]
    fn flow_depth_counts_the_deepest_open_bracket() {
        assert_eq!(flow_depth("a: b"), 0);
        assert_eq!(flow_depth("[{a: [1]}, [2]]"), 3);
        assert_eq!(flow_depth("]]}[ ["), 2);
    }

    // `check_chart_archive`: one test per refusal, each message saying what was expected.

    fn check(bytes: &[u8], digest: Option<&str>) -> Result<(), NotPinnedChart> {
        check_chart_archive(bytes, "kserve", "v0.14.1", digest)
    }

    fn problem(bytes: &[u8], digest: Option<&str>) -> ArchiveError {
        let e = check(bytes, digest).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("expected the chart the catalog pins: kserve v0.14.1"),
            "{text}"
        );
        e.problem
    }

    #[test]
    fn the_pinned_chart_passes_with_or_without_its_digest_in_either_form() {
        let bytes = chart("kserve", "v0.14.1");
        check(&bytes, None).unwrap();
        check(&bytes, Some(&sha256::digest(&bytes))).unwrap();
        check(&bytes, Some(&sha256::hex(&bytes))).unwrap();
    }

    #[test]
    fn the_bytes_1f_8b_alone_are_refused_saying_what_was_expected() {
        let e = check(&[0x1f, 0x8b], None).unwrap_err();
        assert!(matches!(e.problem, ArchiveError::NotGzipTar(_)), "{e}");
        assert!(
            e.to_string().starts_with("not a gzip tar archive (.tgz): "),
            "{e}"
        );
    }

    #[test]
    fn a_valid_chart_named_evil_at_6_6_6_is_refused() {
        let e = problem(&chart("evil", "6.6.6"), None);
        assert_eq!(
            e,
            ArchiveError::Outside {
                path: "evil/Chart.yaml".into(),
                folder: "kserve".into()
            }
        );
    }

    #[test]
    fn a_chart_yaml_with_another_name_or_version_is_refused() {
        let renamed = tgz(&[(b"kserve/Chart.yaml", F, b"name: evil\nversion: v0.14.1\n")]);
        assert_eq!(
            problem(&renamed, None),
            ArchiveError::Says {
                field: "name",
                got: "evil".into(),
                want: "kserve".into()
            }
        );
        let e = check(&chart("kserve", "6.6.6"), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "its Chart.yaml says version `6.6.6`, not `v0.14.1`; expected the chart the \
             catalog pins: kserve v0.14.1"
        );
        // A version YAML reads as a number is compared as written back.
        let number = tgz(&[(b"kserve/Chart.yaml", F, b"name: kserve\nversion: 1.5\n")]);
        assert!(check_chart_archive(&number, "kserve", "1.5", None).is_ok());
    }

    #[test]
    fn a_file_outside_the_charts_folder_is_refused() {
        let mut entries = vec![(
            &b"kserve/Chart.yaml"[..],
            F,
            &b"name: kserve\nversion: v0.14.1\n"[..],
        )];
        entries.push((b"evil/templates/x.yaml", F, b"kind: Secret"));
        let e = problem(&tgz(&entries), None);
        assert!(
            matches!(&e, ArchiveError::Outside { path, .. } if path == "evil/templates/x.yaml"),
            "{e}"
        );
        // `kserve-evil/` starts with the name but is another folder.
        entries[1].0 = b"kserve-evil/x";
        assert!(matches!(
            problem(&tgz(&entries), None),
            ArchiveError::Outside { .. }
        ));
    }

    #[test]
    fn an_archive_without_the_charts_chart_yaml_is_refused() {
        let e = problem(&tgz(&[(b"kserve/values.yaml", F, b"a: 1")]), None);
        assert_eq!(e, ArchiveError::NoChartYaml("kserve/Chart.yaml".into()));
        let e = problem(&tgz(&[]), None);
        assert_eq!(e, ArchiveError::NoChartYaml("kserve/Chart.yaml".into()));
    }

    #[test]
    fn another_archive_than_the_digest_pins_is_refused() {
        let bytes = chart("kserve", "v0.14.1");
        let other = sha256::digest(b"another archive");
        let e = check(&bytes, Some(&other)).unwrap_err();
        assert_eq!(e.problem, ArchiveError::WrongDigest(sha256::hex(&bytes)));
        assert!(
            e.to_string().ends_with(&format!("with digest {other}")),
            "{e}"
        );
    }

    #[test]
    fn a_malformed_digest_is_refused_not_ignored() {
        let bytes = chart("kserve", "v0.14.1");
        for bad in ["", "sha256:", "md5:abc", "sha256:XYZ"] {
            assert_eq!(
                problem(&bytes, Some(bad)),
                ArchiveError::BadDigest(bad.into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_bounded_archive_is_refused_before_its_chart_is_read() {
        let bytes = chart("kserve", "v0.14.1");
        let tight = Limits {
            compressed: bytes.len() as u64 - 1,
            ..LIMITS
        };
        assert_eq!(
            check_within(&bytes, "kserve", "v0.14.1", None, &tight),
            Err(ArchiveError::TooLarge(bytes.len() as u64 - 1))
        );
    }

    fn chart_yaml_problem(text: &[u8]) -> String {
        match problem(&tgz(&[(b"kserve/Chart.yaml", F, text)]), None) {
            ArchiveError::ChartYaml { path, why } => {
                assert_eq!(path, "kserve/Chart.yaml");
                why
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn a_chart_yaml_that_is_not_a_small_shallow_yaml_map_with_both_fields_is_refused() {
        assert_eq!(chart_yaml_problem(b"\xff"), "is not UTF-8");
        assert!(chart_yaml_problem(b"name: [").starts_with("is not YAML: "));
        assert!(chart_yaml_problem(b"name: a\nname: b\n").contains("duplicate"));
        assert_eq!(chart_yaml_problem(b"- a"), "has no `name` (a string)");
        assert_eq!(
            chart_yaml_problem(b"name: [kserve]\nversion: v0.14.1"),
            "has no `name` (a string)"
        );
        assert_eq!(
            chart_yaml_problem(b"name: kserve\n"),
            "has no `version` (a string)"
        );
    }

    #[test]
    fn a_chart_yaml_is_read_up_to_its_size_cap_not_a_byte_more() {
        let head = b"name: kserve\nversion: v0.14.1\n#";
        let mut text = head.to_vec();
        text.resize(MAX_CHART_YAML, b'x');
        let bytes = tgz(&[(b"kserve/Chart.yaml", F, &text)]);
        assert!(check(&bytes, None).is_ok());
        text.push(b'x');
        assert_eq!(
            chart_yaml_problem(&text),
            format!("is more than {MAX_CHART_YAML} bytes; a Chart.yaml is a few hundred")
        );
    }

    #[test]
    fn a_chart_yaml_nested_deeper_than_the_cap_is_refused_before_it_is_parsed() {
        let nested = |n: usize| {
            format!(
                "name: kserve\nversion: v0.14.1\nx: {}{}\n",
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        let bytes = tgz(&[(b"kserve/Chart.yaml", F, nested(MAX_FLOW_DEPTH).as_bytes())]);
        assert!(check(&bytes, None).is_ok());
        assert_eq!(
            chart_yaml_problem(nested(MAX_FLOW_DEPTH + 1).as_bytes()),
            format!("nests `[` or `{{` deeper than {MAX_FLOW_DEPTH} levels")
        );
        // 64 KiB of `[` is refused at once (parsed, it takes seconds).
        let start = std::time::Instant::now();
        chart_yaml_problem(&[b'['; MAX_CHART_YAML]);
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
