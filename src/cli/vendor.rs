//! Vendored charts (`layout.vendored_charts: true`): the upstream chart archives `helm pull`
//! fetched on a connected machine sit in the tree, at
//! `<charts>/<release>/charts/<name>-<version>.tgz`, where Helm reads a wrapper chart's
//! dependency from; `<charts>/versions.lock` records each archive's sha256.
//!
//! The archives are not generated: deploygen never writes them on render and never lists them
//! in its manifest. `deploygen vendor --from DIR` copies them in and writes the lock; `render`
//! and `check` verify every archive against the lock and refuse a missing or altered one. The
//! lock itself is owned (in the manifest) like any generated file.

use std::path::Path;

use crate::base::error::{Error, Result};
use crate::disk::dir::{Dir, Kind};
use crate::disk::fs_safe::Root;
use crate::disk::vendored::Replaced;
use crate::disk::Archive;
use crate::model::layout::Layout;
use crate::plan::Plan;

/// One archive the tree needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub release: String,
    pub chart: String,
    pub version: String,
    /// The archive's digest the catalog records (`sha256:<hex>`), if it records one.
    pub digest: Option<String>,
    /// Path below the repository root.
    pub archive: String,
}

/// The archives the plan's releases need, in install order.
pub fn entries(plan: &Plan) -> Vec<Entry> {
    let layout = &plan.matrix.layout;
    plan.releases
        .iter()
        .filter_map(|r| {
            let c = r.chart.as_ref()?;
            Some(Entry {
                release: r.name.clone(),
                chart: c.name.clone(),
                version: c.version.clone(),
                digest: c.digest.clone(),
                archive: Layout::join(
                    &layout.chart_dir(&r.name),
                    &format!("charts/{}-{}.tgz", c.name, c.version),
                ),
            })
        })
        .collect()
}

/// The lock text for archives with these digests.
pub fn lock_text(plan: &Plan, digests: &[(Entry, String)]) -> String {
    let layout = &plan.matrix.layout;
    let mut text = crate::render::header(&plan.matrix_file, "#");
    text.push_str(
        "# Upstream chart archives in this tree, each locked by sha256 (deploygen check refuses an\n\
         # archive that differs). Update with `deploygen vendor --from DIR` (archives from `helm pull`).\n\
         # release,chart,version,sha256,archive (relative to this file)\n",
    );
    for (e, sha) in digests {
        let rel = crate::model::layout::relative(&layout.charts, &e.archive);
        text.push_str(&format!(
            "{},{},{},{sha},{rel}\n",
            e.release, e.chart, e.version
        ));
    }
    text
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

/// In vendored mode: the lock, verified against the archives under `root`, as (path, text)
/// for the tree. Every problem (missing lock, missing or altered archive, a lock line the
/// plan does not need) is reported at once.
pub fn verified_lock(plan: &Plan, root: &Path) -> Result<Option<(String, String)>> {
    let layout = &plan.matrix.layout;
    if !layout.vendored_charts {
        return Ok(None);
    }
    let lock_path = layout.chart_lock();
    let full = root.join(&lock_path);
    let tree = Root::open(root).map_err(|e| Error::io(root, e))?;
    let text = match tree.read_file(&lock_path) {
        Ok(Some(t)) => String::from_utf8_lossy(&t).into_owned(),
        Ok(None) => {
            return Err(Error::invalid(
                full.display().to_string(),
                "is too large to be a lock file",
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::invalid(
                full.display().to_string(),
                "vendored charts (layout.vendored_charts) but no lock: place the archives pulled with `helm pull` with `deploygen vendor --from DIR`",
            ))
        }
        Err(e) => return Err(Error::io(&full, e)),
    };
    let mut recorded = std::collections::BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 5 {
            return Err(Error::invalid(
                format!("{}:{}", full.display(), i + 1),
                "expected release,chart,version,sha256,archive",
            ));
        }
        recorded.insert(
            (f[0].to_string(), f[1].to_string(), f[2].to_string()),
            (f[3].to_string(), i + 1),
        );
    }
    let mut problems = Vec::new();
    let mut digests = Vec::new();
    for e in entries(plan) {
        let archive = root.join(&e.archive);
        let key = (e.release.clone(), e.chart.clone(), e.version.clone());
        let Some((want, line)) = recorded.remove(&key) else {
            problems.push(crate::base::error::Problem {
                location: full.display().to_string(),
                message: format!(
                    "records no archive of chart {} {} (release {}); run `deploygen vendor --from DIR`",
                    e.chart, e.version, e.release
                ),
            });
            continue;
        };
        let shown = archive.display().to_string();
        match tree.read_at_most(&e.archive, MAX_ARCHIVE) {
            Ok(None) => problems.push(too_large(&shown)),
            Ok(Some(bytes)) => {
                if let Err(Error::Invalid(mut ps)) = check_archive(&shown, &bytes, &e) {
                    problems.append(&mut ps);
                }
                let got = crate::base::sha256::hex(&bytes);
                if got != want {
                    problems.push(crate::base::error::Problem {
                        location: archive.display().to_string(),
                        message: format!(
                            "sha256 {got} differs from the lock ({}:{line}: {want}): the archive was altered or replaced; restore it or re-vendor it from `helm pull`",
                            full.display()
                        ),
                    });
                }
                digests.push((e, want));
            }
            Err(err) => problems.push(crate::base::error::Problem {
                location: archive.display().to_string(),
                message: format!("locked ({}:{line}) but not readable: {err}", full.display()),
            }),
        }
    }
    problems.extend(unpinned_archives(&tree, root, plan));
    for ((release, chart, version), (_, line)) in recorded {
        problems.push(crate::base::error::Problem {
            location: format!("{}:{line}", full.display()),
            message: format!("locks chart {chart} {version} of release {release}, which the matrix does not pin; re-vendor"),
        });
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    Ok(Some((lock_path, lock_text(plan, &digests))))
}

/// Archives in a wrapper chart's `charts/` folder that the matrix does not pin: Helm loads
/// every archive there, so an old version left beside the new one is still read.
fn unpinned_archives(tree: &Root, root: &Path, plan: &Plan) -> Vec<crate::base::error::Problem> {
    let needed: Vec<String> = entries(plan).into_iter().map(|e| e.archive).collect();
    let folders: std::collections::BTreeSet<&str> = needed
        .iter()
        .filter_map(|a| a.rsplit_once('/').map(|(d, _)| d))
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
        for (name, _) in names {
            let rel = Layout::join(folder, &name);
            if name.ends_with(".tgz") && !needed.contains(&rel) {
                problems.push(crate::base::error::Problem {
                    location: root.join(&rel).display().to_string(),
                    message: "is a chart archive the matrix does not pin, and Helm loads every \
                              archive in a chart's charts/ folder: remove it (`deploygen vendor` \
                              removes the archives it replaces)"
                        .into(),
                });
            }
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

/// `deploygen vendor --from DIR`: every archive the plan needs, read (bounded, never through
/// a link) from `from` and checked, and the lock (path, text) recording their digests. The
/// caller writes them with the tree in one all-or-nothing step (`disk::write_vendored`).
/// Nothing is returned unless every archive is found and passes.
pub fn gather(plan: &Plan, from: &Path) -> Result<(Vec<Archive>, (String, String))> {
    let dir = Dir::open(from).map_err(|e| Error::io(from, e))?;
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for e in entries(plan) {
        let Some(name) = find_archive(&dir, &e) else {
            problems.push(crate::base::error::Problem {
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
        match check_archive(&shown, &bytes, &e) {
            Ok(()) => found.push((e, bytes)),
            Err(Error::Invalid(mut ps)) => problems.append(&mut ps),
            Err(other) => return Err(other),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let digests: Vec<(Entry, String)> = found
        .iter()
        .map(|(e, b)| (e.clone(), crate::base::sha256::hex(b)))
        .collect();
    let archives = found
        .into_iter()
        .map(|(e, bytes)| Archive {
            rel: e.archive,
            bytes,
        })
        .collect();
    let lock = (plan.matrix.layout.chart_lock(), lock_text(plan, &digests));
    Ok((archives, lock))
}

/// The archives the tree's current lock records that the plan no longer needs (a re-vendor
/// after a bump): `vendor` removes each while it still holds the recorded bytes
/// (`disk::vendored`). A lock line that is not `release,chart,version,sha256,archive` with a
/// plain relative `.tgz` path is skipped: its file, if any, is left alone.
pub fn replaced(plan: &Plan, root: &Path) -> Result<Vec<Replaced>> {
    let layout = &plan.matrix.layout;
    let tree = Root::open(root).map_err(|e| Error::io(root, e))?;
    let text = match tree.read_file(&layout.chart_lock()) {
        Ok(Some(t)) => String::from_utf8_lossy(&t).into_owned(),
        _ => return Ok(Vec::new()),
    };
    let needed: Vec<String> = entries(plan).into_iter().map(|e| e.archive).collect();
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(',').collect();
        let [_, _, _, sha, archive] = f[..] else {
            continue;
        };
        let plain = archive.ends_with(".tgz")
            && archive
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..");
        let Some(hex) = crate::base::sha256::digest_hex(sha) else {
            continue;
        };
        if line.starts_with('#') || !plain {
            continue;
        }
        let rel = Layout::join(&layout.charts, archive);
        if !needed.contains(&rel) {
            out.push(Replaced {
                rel,
                sha256: hex.to_string(),
            });
        }
    }
    Ok(out)
}
