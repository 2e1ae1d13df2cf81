//! Vendored charts (`layout.vendored_charts: true`): the upstream chart archives `helm pull`
//! fetched on a connected machine sit in the tree, at
//! `<charts>/<release>/charts/<name>-<version>.tgz`, where Helm reads a wrapper chart's
//! dependency from; `<charts>/versions.lock` records each archive's sha256.
//!
//! The archives are not generated: deploygen never writes them on render and never lists them
//! in its manifest. `deploygen vendor --from DIR` copies them in and writes the lock; `render`
//! and `check` verify every archive against the lock and refuse a missing or altered one. The
//! lock itself is owned (in the manifest) like any generated file.

use std::path::{Path, PathBuf};

use crate::base::error::{Error, Result};
use crate::model::layout::Layout;
use crate::plan::Plan;

/// One archive the tree needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub release: String,
    pub chart: String,
    pub version: String,
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

fn read_archive(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Err(Error::invalid(
            path.display().to_string(),
            "is not a gzip archive (a chart from `helm pull` is a .tgz)",
        ));
    }
    Ok(bytes)
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
    let text = match std::fs::read_to_string(&full) {
        Ok(t) => t,
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
        match std::fs::read(&archive) {
            Ok(bytes) => {
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

/// Finds `<name>-<version>.tgz` in `from` (or with the leading `v` toggled, as chart
/// repositories spell some versions).
fn find_archive(from: &Path, e: &Entry) -> Option<PathBuf> {
    let toggled = match e.version.strip_prefix('v') {
        Some(v) => v.to_string(),
        None => format!("v{}", e.version),
    };
    [e.version.as_str(), toggled.as_str()]
        .iter()
        .map(|v| from.join(format!("{}-{v}.tgz", e.chart)))
        .find(|p| p.is_file())
}

/// `deploygen vendor --from DIR`: copies every needed archive into the tree (each through a
/// temp file and a rename) and returns the lock (path, text) for the render that follows.
/// Nothing is copied unless every archive is found.
pub fn place(plan: &Plan, from: &Path, root: &Path) -> Result<(Vec<String>, (String, String))> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for e in entries(plan) {
        match find_archive(from, &e) {
            Some(p) => match read_archive(&p) {
                Ok(bytes) => found.push((e, bytes)),
                Err(Error::Invalid(mut ps)) => problems.append(&mut ps),
                Err(other) => return Err(other),
            },
            None => problems.push(crate::base::error::Problem {
                location: from.display().to_string(),
                message: format!(
                    "no {}-{}.tgz (release {}): fetch it on a connected machine with `helm pull` of the chart at that version",
                    e.chart, e.version, e.release
                ),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let mut placed = Vec::new();
    let mut digests = Vec::new();
    for (e, bytes) in found {
        let target = root.join(&e.archive);
        let unchanged = std::fs::read(&target).is_ok_and(|b| b == bytes);
        if !unchanged {
            let dir = target.parent().unwrap_or(root);
            std::fs::create_dir_all(dir).map_err(|err| Error::io(dir, err))?;
            let tmp = dir.join(format!(".{}-{}.tgz.deploygen-tmp", e.chart, e.version));
            std::fs::write(&tmp, &bytes).map_err(|err| Error::io(&tmp, err))?;
            std::fs::rename(&tmp, &target).map_err(|err| Error::io(&target, err))?;
            placed.push(e.archive.clone());
        }
        digests.push((e, crate::base::sha256::hex(&bytes)));
    }
    let lock = (plan.matrix.layout.chart_lock(), lock_text(plan, &digests));
    Ok((placed, lock))
}
