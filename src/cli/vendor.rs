//! Vendored charts (`layout.vendored_charts: true`): the upstream charts `helm pull` fetched
//! on a connected machine sit in the tree, in `<charts>/<release>/charts/`, where Helm reads a
//! wrapper chart's dependency from: as the archive `<name>-<version>.tgz` (`layout.vendored_as:
//! archive`, the default) or unpacked into the folder `<name>/` (`vendored_as: unpacked`, as
//! Astrago commits charts: its `.gitignore` ignores `**/charts/*.tgz`).
//! `<charts>/versions.lock` records each archive's sha256 and, for an unpacked chart, the
//! sha256 of every file of it and of that file list.
//!
//! The charts are not generated: deploygen never writes them on render and never lists them
//! in its manifest. `deploygen vendor --from DIR` places them and writes the lock; `render`
//! and `check` verify every chart against the lock (an unpacked one file by file), refuse a
//! missing or altered one, and name the git ignore rule that keeps a locked chart out of a
//! clone. The lock itself is owned (in the manifest) like any generated file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::base::error::{Error, Problem, Result};
use crate::disk::dir::{Dir, Kind};
use crate::disk::fs_safe::Root;
use crate::disk::gitignore::Ignores;
use crate::disk::vendored::Replaced;
use crate::disk::Archive;
use crate::model::layout::{Layout, VendoredAs};
use crate::plan::Plan;

/// One chart the tree needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub release: String,
    pub chart: String,
    pub version: String,
    /// The archive's digest the catalog records (`sha256:<hex>`), if it records one.
    pub digest: Option<String>,
    /// The archive's path below the repository root (`…/charts/<name>-<version>.tgz`): where it
    /// sits, unless the chart is unpacked.
    pub archive: String,
    /// With `vendored_as: unpacked`: the chart's folder below the repository root
    /// (`…/charts/<name>`), where it sits instead.
    pub unpacked: Option<String>,
}

impl Entry {
    /// Where the chart sits below the repository root: its archive or its folder.
    pub fn path(&self) -> &str {
        self.unpacked.as_deref().unwrap_or(&self.archive)
    }
}

/// The charts the plan's releases need, in install order.
pub fn entries(plan: &Plan) -> Vec<Entry> {
    let layout = &plan.matrix.layout;
    let unpacked = layout.vendored_as == VendoredAs::Unpacked;
    plan.releases
        .iter()
        .filter_map(|r| {
            let c = r.chart.as_ref()?;
            let charts = Layout::join(&layout.chart_dir(&r.name), "charts");
            Some(Entry {
                release: r.name.clone(),
                chart: c.name.clone(),
                version: c.version.clone(),
                digest: c.digest.clone(),
                archive: Layout::join(&charts, &format!("{}-{}.tgz", c.name, c.version)),
                unpacked: unpacked.then(|| Layout::join(&charts, &c.name)),
            })
        })
        .collect()
}

/// What the lock records of one chart: its archive's sha256 and, unpacked, its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    /// The archive's sha256 (hex).
    pub sha256: String,
    /// Unpacked: every file's path below the chart's folder and sha256 (hex), by path.
    pub files: Option<BTreeMap<String, String>>,
}

/// The sha256 of an unpacked chart's file list: of its lines `<sha256>  <path>\n`, by path
/// (what `sha256sum` prints for the folder's files, sorted).
pub fn tree_sha256(files: &BTreeMap<String, String>) -> String {
    let text: String = files
        .iter()
        .map(|(path, sha)| format!("{sha}  {path}\n"))
        .collect();
    crate::base::sha256::hex(text.as_bytes())
}

/// The lock text for these charts.
pub fn lock_text(plan: &Plan, locked: &[(Entry, Locked)]) -> String {
    let layout = &plan.matrix.layout;
    let mut text = crate::render::header(&plan.matrix_file, "#");
    text.push_str(
        "# Upstream chart archives in this tree, each locked by sha256 (deploygen check refuses an\n\
         # archive that differs). Update with `deploygen vendor --from DIR` (archives from `helm pull`).\n\
         # release,chart,version,sha256,archive (relative to this file)\n",
    );
    if locked.iter().any(|(_, l)| l.files.is_some()) {
        text.push_str(
            "# An unpacked chart: release,chart,version,sha256 of its archive,folder/ (relative to\n\
             # this file),sha256 of its file lines; then one line per file: two spaces, its sha256,\n\
             # two spaces, its path in the folder (deploygen check refuses a file that differs).\n",
        );
    }
    for (e, l) in locked {
        let rel = crate::model::layout::relative(&layout.charts, e.path());
        match &l.files {
            None => text.push_str(&format!(
                "{},{},{},{},{rel}\n",
                e.release, e.chart, e.version, l.sha256
            )),
            Some(files) => {
                text.push_str(&format!(
                    "{},{},{},{},{rel}/,{}\n",
                    e.release,
                    e.chart,
                    e.version,
                    l.sha256,
                    tree_sha256(files)
                ));
                for (path, sha) in files {
                    text.push_str(&format!("  {sha}  {path}\n"));
                }
            }
        }
    }
    text
}

/// One chart's record in the lock on disk.
#[derive(Debug, Clone)]
struct Recorded {
    /// 1-based line of the chart's line.
    line: usize,
    /// Its path, as written (relative to the lock's folder).
    path: String,
    locked: Locked,
    /// Unpacked: the tree sha256 the line records.
    tree: Option<String>,
}

/// The lock's charts by (release, chart, version); a line that is neither a chart's nor a
/// file's is a located error.
fn parse_lock(text: &str, shown: &str) -> Result<BTreeMap<(String, String, String), Recorded>> {
    let mut recorded = BTreeMap::new();
    let mut last: Option<(String, String, String)> = None;
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{shown}:{}", i + 1);
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("  ") {
            let file = rest.split_once("  ").filter(|(sha, path)| {
                crate::base::sha256::digest_hex(sha) == Some(*sha) && !path.is_empty()
            });
            let owner = last.as_ref().and_then(|k| recorded.get_mut(k));
            match (file, owner) {
                (
                    Some((sha, path)),
                    Some(Recorded {
                        locked:
                            Locked {
                                files: Some(files), ..
                            },
                        ..
                    }),
                ) => {
                    files.insert(path.to_string(), sha.to_string());
                }
                _ => problems.push(Problem {
                    location: at,
                    message: "expected `  <sha256>  <path>`, a file of the unpacked chart on \
                              the line above"
                        .into(),
                }),
            }
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let key = (
            f[0].to_string(),
            f.get(1).unwrap_or(&"").to_string(),
            f.get(2).unwrap_or(&"").to_string(),
        );
        let rec = match f[..] {
            [_, _, _, sha, path] => Recorded {
                line: i + 1,
                path: path.to_string(),
                locked: Locked {
                    sha256: sha.to_string(),
                    files: None,
                },
                tree: None,
            },
            [_, _, _, sha, path, tree] if path.ends_with('/') => Recorded {
                line: i + 1,
                path: path.trim_end_matches('/').to_string(),
                locked: Locked {
                    sha256: sha.to_string(),
                    files: Some(BTreeMap::new()),
                },
                tree: Some(tree.to_string()),
            },
            _ => {
                problems.push(Problem {
                    location: at,
                    message: "expected release,chart,version,sha256,archive (or, unpacked, \
                              release,chart,version,sha256,folder/,tree sha256)"
                        .into(),
                });
                last = None;
                continue;
            }
        };
        recorded.insert(key.clone(), rec);
        last = Some(key);
    }
    if problems.is_empty() {
        Ok(recorded)
    } else {
        Err(Error::Invalid(problems))
    }
}

/// Largest chart archive read (`helm pull` archives of this stack are 20 KiB to 1 MiB).
pub use crate::disk::vendored::MAX_ARCHIVE;

/// Checks an archive's bytes are the chart the catalog pins: a gzip tar holding
/// `<chart>/Chart.yaml` with that name and version, and the sha256 the catalog records where
/// it records one (`disk::archive::check_chart_archive`).
fn check_archive(location: &str, bytes: &[u8], e: &Entry) -> Result<()> {
    crate::disk::archive::check_chart_archive(bytes, &e.chart, &e.version, e.digest.as_deref())
        .map_err(|err| Error::invalid(location, format!("is not the pinned chart: {err}")))
}

/// An archive larger than `MAX_ARCHIVE` (reading stopped there).
fn too_large(location: &str) -> crate::base::error::Problem {
    crate::base::error::Problem {
        location: location.to_string(),
        message: format!(
            "is larger than {MAX_ARCHIVE} bytes (reading stopped there): not a chart archive"
        ),
    }
}

/// The command that places the charts again, run where `check` was. The plan knows its
/// matrix by file name only: it is shown where it lies in the tree (the root, or the
/// helmfile's folder, as in Astrago's `applications/kserve/`), else as named.
fn vendor_command(plan: &Plan, tree: &Root) -> String {
    let name = &plan.matrix_file;
    let beside = Layout::join(plan.matrix.layout.helmfile_dir(), name);
    let is_file = |rel: &str| matches!(tree.inspect(rel), Ok(crate::disk::fs_safe::Node::File(_)));
    let matrix = if !is_file(name) && is_file(&beside) {
        beside
    } else {
        name.clone()
    };
    let (matrix, out) = if tree.path() == Path::new(".") {
        (matrix, String::new())
    } else {
        (
            tree.path().join(matrix).display().to_string(),
            format!(" --out {}", tree.path().display()),
        )
    };
    format!(
        "`deploygen vendor --matrix {matrix}{out} --from DIR` (DIR: the archives `helm pull` fetched)"
    )
}

/// Why a locked chart is not in the tree, and what to run.
fn missing(plan: &Plan, ignores: &mut Ignores, tree: &Root, e: &Entry) -> String {
    let cause = match ignores.hiding(tree, e.path(), e.unpacked.is_some()) {
        Some(h) => format!(
            "git ignores it ({}:{} `{}`), so a clone of the repository lacks it",
            h.rule.source, h.rule.line, h.rule.text
        ),
        None => "it was never vendored here, or not committed".to_string(),
    };
    format!("{cause}; run {}", vendor_command(plan, tree))
}

/// The finding for a locked chart (or one of its files) that git ignores: a fresh clone will
/// not have it.
fn ignored(plan: &Plan, ignores: &mut Ignores, tree: &Root, e: &Entry) -> Option<Problem> {
    let (path, hidden) = match &e.unpacked {
        // A missing archive is reported as missing, with this cause.
        None => match tree.inspect(&e.archive) {
            Ok(crate::disk::fs_safe::Node::File(_)) => {
                (e.archive.clone(), ignores.hiding(tree, &e.archive, false)?)
            }
            _ => return None,
        },
        Some(folder) => {
            let files = crate::disk::vendored::read_unpacked(tree, folder).ok()??;
            files.keys().find_map(|f| {
                let path = Layout::join(folder, f);
                ignores.hiding(tree, &path, false).map(|r| (path, r))
            })?
        }
    };
    let rule = &hidden.rule;
    // A `!` rule brings back what the rule matched: the file, or the ignored folder on its way
    // (git does not look inside an ignored folder, so a rule for the file would not do).
    let bring_back = if hidden.at == path {
        match &e.unpacked {
            None => format!(
                "!{}/*.tgz",
                e.archive.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
            ),
            Some(folder) => format!("!{folder}/**"),
        }
    } else {
        format!("!{}/", hidden.at)
    };
    let undo = match &e.unpacked {
        None => format!(
            "set layout.vendored_as: unpacked and run {}, or add `{bring_back}`",
            vendor_command(plan, tree)
        ),
        Some(_) => format!("add `{bring_back}` after it, or drop that rule"),
    };
    let what = if hidden.at == path {
        String::new()
    } else {
        format!(" ignores its folder {}", hidden.at)
    };
    Some(Problem {
        location: tree.path().join(&path).display().to_string(),
        message: format!(
            "is ignored by git ({}:{} `{}`{what}): a fresh clone will not have it; {undo}",
            rule.source, rule.line, rule.text
        ),
    })
}

/// Checks one unpacked chart's folder against its lock record, file by file.
fn verify_unpacked(
    plan: &Plan,
    ignores: &mut Ignores,
    tree: &Root,
    e: &Entry,
    rec: &Recorded,
    lock_at: &str,
    problems: &mut Vec<Problem>,
) {
    let (Some(folder), Some(files)) = (&e.unpacked, &rec.locked.files) else {
        return;
    };
    let line = rec.line;
    let here = |rel: &str| tree.path().join(rel).display().to_string();
    if rec.tree.as_deref() != Some(tree_sha256(files).as_str()) {
        problems.push(Problem {
            location: format!("{lock_at}:{line}"),
            message: format!(
                "the file lines of chart {} {} do not add up to the tree sha256 recorded: the \
                 lock was edited; run {}",
                e.chart,
                e.version,
                vendor_command(plan, tree)
            ),
        });
    }
    if let Some(want) = e
        .digest
        .as_deref()
        .and_then(crate::base::sha256::digest_hex)
    {
        if want != rec.locked.sha256 {
            problems.push(Problem {
                location: format!("{lock_at}:{line}"),
                message: format!(
                    "records archive sha256 {} for chart {} {}, but the catalog pins {want}: \
                     run {}",
                    rec.locked.sha256,
                    e.chart,
                    e.version,
                    vendor_command(plan, tree)
                ),
            });
        }
    }
    let on_disk = match crate::disk::vendored::read_unpacked(tree, folder) {
        Ok(Some(f)) => f,
        Ok(None) => {
            problems.push(Problem {
                location: here(folder),
                message: format!(
                    "locked ({lock_at}:{line}) but missing: {}",
                    missing(plan, ignores, tree, e)
                ),
            });
            return;
        }
        Err(why) => {
            problems.push(Problem {
                location: here(folder),
                message: format!("locked ({lock_at}:{line}) but not readable: {why}"),
            });
            return;
        }
    };
    let locked: BTreeSet<&String> = files.keys().collect();
    for (path, want) in files {
        let rel = Layout::join(folder, path);
        match on_disk.get(path) {
            None => {
                let why = match ignores.hiding(tree, &rel, false) {
                    Some(h) => format!(
                        "git ignores it ({}:{} `{}`), so a clone lacks it",
                        h.rule.source, h.rule.line, h.rule.text
                    ),
                    None => "removed".to_string(),
                };
                problems.push(Problem {
                    location: here(&rel),
                    message: format!(
                        "is a file of chart {} {} ({lock_at}:{line}) but missing ({why}): \
                         restore it or run {}",
                        e.chart,
                        e.version,
                        vendor_command(plan, tree)
                    ),
                })
            }
            Some(bytes) => {
                let got = crate::base::sha256::hex(bytes);
                if &got != want {
                    problems.push(Problem {
                        location: here(&rel),
                        message: format!(
                            "sha256 {got} differs from the lock ({lock_at}:{line}: {want}): the \
                             file was changed; restore it or run {}",
                            vendor_command(plan, tree)
                        ),
                    });
                }
            }
        }
    }
    for path in on_disk.keys().filter(|p| !locked.contains(p)) {
        problems.push(Problem {
            location: here(&Layout::join(folder, path)),
            message: format!(
                "is not a file of chart {} {} as the lock records it ({lock_at}:{line}), and \
                 Helm loads every file of the folder: remove it, or run {}",
                e.chart,
                e.version,
                vendor_command(plan, tree)
            ),
        });
    }
}

/// In vendored mode: the lock, verified against the charts under `root`, as (path, text) for
/// the tree. Every problem (missing lock, missing or altered archive or file, a lock line the
/// plan does not need, a locked chart git ignores) is reported at once.
pub fn verified_lock(plan: &Plan, root: &Path) -> Result<Option<(String, String)>> {
    let layout = &plan.matrix.layout;
    if !layout.vendored_charts {
        return Ok(None);
    }
    let lock_path = layout.chart_lock();
    let full = root.join(&lock_path);
    let shown = full.display().to_string();
    let tree = Root::open(root).map_err(|e| Error::io(root, e))?;
    let text = match tree.read_file(&lock_path) {
        Ok(Some(t)) => String::from_utf8_lossy(&t).into_owned(),
        Ok(None) => return Err(Error::invalid(shown, "is too large to be a lock file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::invalid(
                shown,
                format!(
                    "vendored charts (layout.vendored_charts) but no lock: run {}",
                    vendor_command(plan, &tree)
                ),
            ))
        }
        Err(e) => return Err(Error::io(&full, e)),
    };
    let mut recorded = parse_lock(&text, &shown)?;
    let mut ignores = Ignores::default();
    let mut problems = Vec::new();
    let mut locked = Vec::new();
    for e in entries(plan) {
        let key = (e.release.clone(), e.chart.clone(), e.version.clone());
        let Some(rec) = recorded.remove(&key) else {
            problems.push(Problem {
                location: shown.clone(),
                message: format!(
                    "records no chart {} {} (release {}); run {}",
                    e.chart,
                    e.version,
                    e.release,
                    vendor_command(plan, &tree)
                ),
            });
            continue;
        };
        let line = rec.line;
        if e.unpacked.is_some() != rec.locked.files.is_some() {
            let (was, is) = if e.unpacked.is_some() {
                ("an archive", "unpacked")
            } else {
                ("unpacked", "archive")
            };
            problems.push(Problem {
                location: format!("{shown}:{line}"),
                message: format!(
                    "locks chart {} {} as {was}, but layout.vendored_as is {is}: run {}",
                    e.chart,
                    e.version,
                    vendor_command(plan, &tree)
                ),
            });
            continue;
        }
        if e.unpacked.is_some() {
            verify_unpacked(plan, &mut ignores, &tree, &e, &rec, &shown, &mut problems);
        } else {
            verify_archive(plan, &mut ignores, &tree, &e, &rec, &shown, &mut problems);
        }
        problems.extend(ignored(plan, &mut ignores, &tree, &e));
        locked.push((e, rec.locked));
    }
    problems.extend(unpinned(&tree, plan));
    for ((release, chart, version), rec) in recorded {
        problems.push(Problem {
            location: format!("{shown}:{}", rec.line),
            message: format!("locks chart {chart} {version} of release {release}, which the matrix does not pin; re-vendor"),
        });
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    Ok(Some((lock_path, lock_text(plan, &locked))))
}

/// Checks one archive against its lock record and the catalog's pin.
fn verify_archive(
    plan: &Plan,
    ignores: &mut Ignores,
    tree: &Root,
    e: &Entry,
    rec: &Recorded,
    lock_at: &str,
    problems: &mut Vec<Problem>,
) {
    let (want, line) = (&rec.locked.sha256, rec.line);
    let shown = tree.path().join(&e.archive).display().to_string();
    match tree.read_at_most(&e.archive, MAX_ARCHIVE) {
        Ok(None) => problems.push(too_large(&shown)),
        Ok(Some(bytes)) => {
            if let Err(Error::Invalid(mut ps)) = check_archive(&shown, &bytes, e) {
                problems.append(&mut ps);
            }
            let got = crate::base::sha256::hex(&bytes);
            if &got != want {
                problems.push(Problem {
                    location: shown,
                    message: format!(
                        "sha256 {got} differs from the lock ({lock_at}:{line}: {want}): the archive was altered or replaced; restore it or re-vendor it from `helm pull`"
                    ),
                });
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => problems.push(Problem {
            location: shown,
            message: format!(
                "locked ({lock_at}:{line}) but missing: {}",
                missing(plan, ignores, tree, e)
            ),
        }),
        Err(err) => problems.push(Problem {
            location: shown,
            message: format!("locked ({lock_at}:{line}) but not readable: {err}"),
        }),
    }
}

/// Charts in a wrapper chart's `charts/` folder that the matrix does not pin: Helm loads every
/// archive there, and every folder (but those whose name starts with `_` or `.`), so an old
/// version left beside the new one, or the other form of the same chart, is still read.
fn unpinned(tree: &Root, plan: &Plan) -> Vec<Problem> {
    let all = entries(plan);
    let needed: BTreeSet<&str> = all.iter().map(|e| e.path()).collect();
    let folders: BTreeSet<&str> = all
        .iter()
        .filter_map(|e| e.archive.rsplit_once('/').map(|(d, _)| d))
        .collect();
    let mut problems = Vec::new();
    for folder in folders {
        let Some(names) = tree
            .dir()
            .and_then(|d| d.open_dir(folder).ok())
            .and_then(|d| d.entries().ok())
        else {
            continue;
        };
        for (name, kind) in names {
            let rel = Layout::join(folder, &name);
            if needed.contains(rel.as_str()) || name.starts_with(['_', '.']) {
                continue;
            }
            let what = match kind {
                Kind::File { .. } if name.ends_with(".tgz") => "a chart archive",
                // An empty folder (what removing an unpacked chart's files leaves) loads nothing.
                Kind::Dir if !matches!(crate::disk::vendored::read_unpacked(tree, &rel), Ok(Some(f)) if f.is_empty()) => {
                    "a chart folder"
                }
                _ => continue,
            };
            problems.push(Problem {
                location: tree.path().join(&rel).display().to_string(),
                message: format!(
                    "is {what} the matrix does not pin, and Helm loads every chart in a \
                     chart's charts/ folder: remove it (`deploygen vendor` removes the charts it \
                     replaces)"
                ),
            });
        }
    }
    problems
}

/// Finds `<name>-<version>.tgz` in the folder `from` (or with the leading `v` toggled, as
/// chart repositories spell some versions): its name, if it is a regular file.
fn find_archive(from: &Dir, e: &Entry) -> Option<String> {
    let toggled = match e.version.strip_prefix('v') {
        Some(v) => v.to_string(),
        None => format!("v{}", e.version),
    };
    [e.version.as_str(), toggled.as_str()]
        .iter()
        .map(|v| format!("{}-{v}.tgz", e.chart))
        .find(|n| matches!(from.kind(n), Ok(Some(Kind::File { .. }))))
}

/// An archive's files below its chart folder `<name>/`, for `vendored_as: unpacked`; a name
/// the lock cannot hold on one line (control characters) is refused.
fn unpacked_files(shown: &str, bytes: &[u8], e: &Entry) -> Result<BTreeMap<String, Vec<u8>>> {
    let files = crate::disk::archive::unpack(bytes, &crate::disk::archive::LIMITS)
        .map_err(|err| Error::invalid(shown, format!("is not the pinned chart: {err}")))?;
    let prefix = format!("{}/", e.chart);
    let mut out = BTreeMap::new();
    for (path, content) in files {
        // `check_chart_archive` proved every file lies in `<name>/`.
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        if rel.chars().any(char::is_control) || rel.starts_with(' ') {
            return Err(Error::invalid(
                shown,
                format!(
                    "holds `{}`, a file name the lock cannot record (control characters or a \
                     leading space)",
                    crate::base::text::escape(rel)
                ),
            ));
        }
        out.insert(rel.to_string(), content);
    }
    Ok(out)
}

/// `deploygen vendor --from DIR`: every archive the plan needs, read (bounded, never through
/// a link) from `from` and checked, as the files to place (the archive, or its files when
/// unpacked) and the lock (path, text) recording their digests. The caller writes them with
/// the tree in one all-or-nothing step (`disk::write_vendored`). Nothing is returned unless
/// every archive is found and passes.
pub fn gather(plan: &Plan, from: &Path) -> Result<(Vec<Archive>, (String, String))> {
    let dir = Dir::open(from).map_err(|e| Error::io(from, e))?;
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for e in entries(plan) {
        let Some(name) = find_archive(&dir, &e) else {
            problems.push(Problem {
                location: from.display().to_string(),
                message: format!(
                    "no {}-{}.tgz (release {}): fetch it on a connected machine with `helm pull` of the chart at that version",
                    e.chart, e.version, e.release
                ),
            });
            continue;
        };
        let shown = from.join(&name).display().to_string();
        let bytes = dir
            .read(&name, MAX_ARCHIVE)
            .map_err(|err| Error::io(&shown, err))?;
        if bytes.len() as u64 > MAX_ARCHIVE {
            problems.push(too_large(&shown));
            continue;
        }
        let checked = check_archive(&shown, &bytes, &e).and_then(|()| match &e.unpacked {
            Some(_) => unpacked_files(&shown, &bytes, &e).map(Some),
            None => Ok(None),
        });
        match checked {
            Ok(files) => found.push((e, bytes, files)),
            Err(Error::Invalid(mut ps)) => problems.append(&mut ps),
            Err(other) => return Err(other),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let mut locked = Vec::new();
    let mut archives = Vec::new();
    for (e, bytes, files) in found {
        let sha256 = crate::base::sha256::hex(&bytes);
        match (files, &e.unpacked) {
            (Some(files), Some(folder)) => {
                let digests = files
                    .iter()
                    .map(|(p, b)| (p.clone(), crate::base::sha256::hex(b)))
                    .collect();
                archives.extend(files.into_iter().map(|(p, bytes)| Archive {
                    rel: Layout::join(folder, &p),
                    bytes,
                }));
                locked.push((
                    e,
                    Locked {
                        sha256,
                        files: Some(digests),
                    },
                ));
            }
            _ => {
                archives.push(Archive {
                    rel: e.archive.clone(),
                    bytes,
                });
                locked.push((
                    e,
                    Locked {
                        sha256,
                        files: None,
                    },
                ));
            }
        }
    }
    let lock = (plan.matrix.layout.chart_lock(), lock_text(plan, &locked));
    Ok((archives, lock))
}

/// The files the tree's current lock records that the new vendor does not place (a re-vendor
/// after a bump, or after switching `vendored_as`): old archives, and files of an old unpacked
/// chart that the new one lacks. `vendor` removes each while it still holds the recorded bytes
/// (`disk::vendored`): only what the lock says deploygen placed. A lock line that is not a
/// chart's or a file's, or whose path is not plain and relative, is skipped: its files, if
/// any, are left alone.
pub fn replaced(plan: &Plan, root: &Path, placed: &[Archive]) -> Result<Vec<Replaced>> {
    let layout = &plan.matrix.layout;
    let tree = Root::open(root).map_err(|e| Error::io(root, e))?;
    let text = match tree.read_file(&layout.chart_lock()) {
        Ok(Some(t)) => String::from_utf8_lossy(&t).into_owned(),
        _ => return Ok(Vec::new()),
    };
    let Ok(recorded) = parse_lock(&text, "") else {
        return Ok(Vec::new());
    };
    let kept: BTreeSet<&str> = placed.iter().map(|a| a.rel.as_str()).collect();
    let plain = |p: &str| p.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
    let mut out = Vec::new();
    let mut remove = |rel: String, sha: &str| {
        if plain(&rel) && !kept.contains(rel.as_str()) {
            if let Some(hex) = crate::base::sha256::digest_hex(sha) {
                out.push(Replaced {
                    rel,
                    sha256: hex.to_string(),
                });
            }
        }
    };
    for rec in recorded.values() {
        if !plain(&rec.path) {
            continue;
        }
        let at = Layout::join(&layout.charts, &rec.path);
        match &rec.locked.files {
            None if rec.path.ends_with(".tgz") => remove(at, &rec.locked.sha256),
            None => {}
            Some(files) => {
                for (path, sha) in files {
                    remove(Layout::join(&at, path), sha);
                }
            }
        }
    }
    Ok(out)
}

/// `vendor`'s count of what it placed: archives, or the files of unpacked charts.
pub fn placed_line(all: &[Archive], placed: &[String]) -> String {
    let what = if all.iter().all(|a| a.rel.ends_with(".tgz")) {
        "chart archives"
    } else {
        "chart files"
    };
    format!(
        "{} {what} placed, {} already in place\n",
        placed.len(),
        all.len().saturating_sub(placed.len())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn a_lock_holds_archives_and_unpacked_charts_with_their_files() {
        let text = format!(
            "# header\nr,c,v1,{A},r/charts/c-v1.tgz\nu,d,v2,{A},u/charts/d/,{B}\n  {B}  Chart.yaml\n  {A}  templates/a b.yaml\n"
        );
        let got = parse_lock(&text, "versions.lock").unwrap();
        let archive = &got[&("r".into(), "c".into(), "v1".into())];
        assert_eq!(
            (archive.line, archive.path.as_str()),
            (2, "r/charts/c-v1.tgz")
        );
        assert_eq!(archive.locked.files, None);
        let unpacked = &got[&("u".into(), "d".into(), "v2".into())];
        assert_eq!(unpacked.path, "u/charts/d");
        assert_eq!(unpacked.tree.as_deref(), Some(B));
        let files = unpacked.locked.files.as_ref().unwrap();
        assert_eq!(files["Chart.yaml"], B);
        assert_eq!(files["templates/a b.yaml"], A);
        // The tree sha256 is that of the file lines, sorted by path, as sha256sum prints them.
        let want = crate::base::sha256::hex(
            format!("{B}  Chart.yaml\n{A}  templates/a b.yaml\n").as_bytes(),
        );
        assert_eq!(tree_sha256(files), want);
    }

    #[test]
    fn a_file_line_without_its_chart_or_malformed_is_a_located_error() {
        for (text, line) in [
            (
                format!("r,c,v1,{A},r/charts/c-v1.tgz\n  {A}  Chart.yaml\n"),
                2,
            ),
            (format!("u,d,v2,{A},u/charts/d/,{B}\n  {A} Chart.yaml\n"), 2),
            (
                format!("u,d,v2,{A},u/charts/d/,{B}\n  XYZ  Chart.yaml\n"),
                2,
            ),
            (format!("u,d,v2,{A},u/charts/d/,{B}\n  {A}  \n"), 2),
            ("r,c,v1\n".to_string(), 1),
            (format!("u,d,v2,{A},u/charts/d,{B}\n"), 1),
        ] {
            let e = parse_lock(&text, "versions.lock").unwrap_err().to_string();
            assert!(e.contains(&format!("versions.lock:{line}")), "{text}: {e}");
        }
    }
}
