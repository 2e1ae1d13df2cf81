//! Issue 20: one door to the disk. The writer opens every name relative to a folder handle
//! walked from the root without following links, so another process that swaps a folder for a
//! link while a render runs cannot make it write outside the tree.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use common::MATRIX;
use deploygen::disk::{self, WriteOptions};

/// The default matrix with its `online` environment copied `n` times (`env-0000` ...), and
/// `storage` as every environment's storage class (so two values of it give two trees that
/// differ in every environment's folder).
fn many_environments(n: usize, storage: &str) -> String {
    let mut m: serde_yaml::Value = serde_yaml::from_str(MATRIX).unwrap();
    let envs = m["environments"].as_mapping_mut().unwrap();
    let mut online = envs["online"].clone();
    online["cluster"]["storage_class"] = storage.into();
    envs.clear();
    for i in 0..n {
        envs.insert(format!("env-{i:04}").into(), online.clone());
    }
    serde_yaml::to_string(&m).unwrap()
}

fn tree(text: &str) -> deploygen::render::Tree {
    deploygen::render("matrix.yaml", text.as_bytes()).unwrap()
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn a_folder_swapped_for_a_link_during_a_render_never_leads_the_render_outside() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let a = tree(&many_environments(60, "nfs-a"));
    let b = tree(&many_environments(60, "nfs-b"));
    disk::write(root.path(), &a, WriteOptions::default()).unwrap();
    let victim = root.path().join("environments/env-0030");
    let moved = root.path().join("environments/env-0030.moved");
    assert!(victim.is_dir());

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let swapper = {
        let (stop, swaps) = (stop.clone(), swaps.clone());
        let (victim, moved, target) = (victim.clone(), moved.clone(), outside.path().to_owned());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // The attack: the real folder moved aside, a link to elsewhere in its place,
                // and back again, as fast as the machine allows.
                if std::fs::rename(&victim, &moved).is_ok() {
                    let _ = symlink(&target, &victim);
                    std::thread::yield_now();
                    let _ = std::fs::remove_file(&victim);
                    let _ = std::fs::rename(&moved, &victim);
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let (mut refused, mut written) = (0, 0);
    for run in 0..40 {
        let want = if run % 2 == 0 { &b } else { &a };
        match disk::write(root.path(), want, WriteOptions::default()) {
            Ok(_) => written += 1,
            Err(e) => {
                // Refused (a link, or a folder missing mid-walk), never a bug, never a
                // half-written tree claimed as done.
                assert!(matches!(e.exit_code(), 2 | 4), "run {run}: {e}");
                refused += 1;
            }
        }
        assert_eq!(
            entries(outside.path()),
            0,
            "run {run} wrote outside the tree"
        );
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(swaps.load(Ordering::Relaxed) > 0, "the attack never ran");
    assert_eq!(entries(outside.path()), 0);
    eprintln!(
        "{written} runs written, {refused} refused, {} swaps",
        swaps.load(Ordering::Relaxed)
    );
}

#[test]
fn a_link_planted_where_render_makes_a_folder_is_refused() {
    // The folder does not exist yet (a new environment): a link planted at its name must not
    // be taken for it.
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let a = tree(&many_environments(2, "nfs-a"));
    std::fs::create_dir(root.path().join("environments")).unwrap();
    symlink(outside.path(), root.path().join("environments/env-0001")).unwrap();
    let e = disk::write(root.path(), &a, WriteOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(entries(outside.path()), 0);
}

// `vendor` (issue 20): archives are read through the --from folder's handle and placed with
// the tree in one all-or-nothing write.

/// The default matrix with vendored charts.
fn vendored() -> String {
    format!("layout:\n  vendored_charts: true\n{MATRIX}")
}

/// A tree rendered from the vendored matrix with `pulled/` holding every archive it needs;
/// returns the archives' paths below the root.
fn vendored_tree() -> (tempfile::TempDir, Vec<String>) {
    let dir = common::workdir(&vendored());
    let plan = deploygen::plan("matrix.yaml", vendored().as_bytes()).unwrap();
    let pulled = dir.path().join("pulled");
    std::fs::create_dir(&pulled).unwrap();
    let mut archives = Vec::new();
    for e in deploygen::cli::vendor::entries(&plan) {
        std::fs::write(
            pulled.join(format!("{}-{}.tgz", e.chart, e.version)),
            common::chart_tgz(&e.chart, &e.version),
        )
        .unwrap();
        archives.push(e.path().to_string());
    }
    (dir, archives)
}

fn vendor(dir: &Path) -> std::process::Output {
    common::run(dir, &["vendor", "--from", "pulled"])
}

#[test]
fn vendor_places_every_archive_and_a_second_run_places_none() {
    let (dir, archives) = vendored_tree();
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    for a in &archives {
        assert!(dir.path().join(a).is_file(), "{a}");
    }
    let o = vendor(dir.path());
    assert!(common::stdout(&o).contains("0 chart archives placed"));
    assert_eq!(common::run(dir.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn vendor_never_writes_through_a_link_planted_at_a_temp_name() {
    let (dir, archives) = vendored_tree();
    let victim = tempfile::tempdir().unwrap();
    let first = dir.path().join(&archives[0]);
    let charts = first.parent().unwrap();
    std::fs::create_dir_all(charts).unwrap();
    // The name the old vendor staged at, and a few more in the same shape.
    let name = first.file_name().unwrap().to_string_lossy().into_owned();
    for planted in [
        format!(".{name}.deploygen-tmp"),
        format!(".{name}.new.1-0-0.deploygen-tmp"),
    ] {
        symlink(victim.path().join("victim"), charts.join(planted)).unwrap();
    }
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert!(
        !victim.path().join("victim").exists(),
        "written through a link"
    );
    let meta = std::fs::symlink_metadata(&first).unwrap();
    assert!(meta.is_file(), "the archive in the tree is a regular file");
}

#[test]
fn vendor_refuses_a_linked_charts_folder_and_writes_nothing_there() {
    let (dir, archives) = vendored_tree();
    let out = tempfile::tempdir().unwrap();
    // The first chart's charts/ folder linked elsewhere.
    let charts = dir.path().join(&archives[0]);
    let charts = charts.parent().unwrap();
    std::fs::create_dir_all(charts.parent().unwrap()).unwrap();
    symlink(out.path(), charts).unwrap();
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
    assert!(
        common::stderr(&o).contains("symbolic link"),
        "{}",
        common::stderr(&o)
    );
    assert_eq!(entries(out.path()), 0);
    for a in &archives[1..] {
        assert!(
            !dir.path().join(a).exists(),
            "{a} placed by a refused vendor"
        );
    }
}

#[test]
fn vendor_is_all_or_nothing_when_a_chart_folder_cannot_be_made() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, archives) = vendored_tree();
    // The last archive's folder cannot be made: a read-only file stands where it must go
    // (a read-only folder would not stop root, who runs CI).
    let last = dir.path().join(archives.last().unwrap());
    let blocked = last.parent().unwrap();
    std::fs::create_dir_all(blocked.parent().unwrap()).unwrap();
    std::fs::write(blocked, "not a folder").unwrap();
    std::fs::set_permissions(blocked, std::fs::Permissions::from_mode(0o444)).unwrap();
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
    for a in &archives {
        assert!(
            !dir.path().join(a).exists(),
            "{a} placed by a failed vendor"
        );
    }
    let lock = dir.path().join("applications/versions.lock");
    assert!(!lock.exists());
    assert!(
        !common::files(dir.path())
            .keys()
            .any(|p| p.ends_with("versions.lock")),
        "a lock was written"
    );
}

#[test]
fn vendor_reads_no_link_fifo_or_endless_file_as_an_archive() {
    let (dir, _) = vendored_tree();
    let plan = deploygen::plan("matrix.yaml", vendored().as_bytes()).unwrap();
    let e = &deploygen::cli::vendor::entries(&plan)[0];
    let at = dir
        .path()
        .join(format!("pulled/{}-{}.tgz", e.chart, e.version));
    for how in ["link", "fifo", "large"] {
        std::fs::remove_file(&at).unwrap();
        match how {
            "link" => symlink("/dev/zero", &at).unwrap(),
            "fifo" => {
                let c = std::ffi::CString::new(at.to_str().unwrap()).unwrap();
                // SAFETY: a valid C string.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
            }
            _ => {
                let f = std::fs::File::create(&at).unwrap();
                f.set_len(deploygen::cli::vendor::MAX_ARCHIVE + 1).unwrap();
            }
        }
        let o = vendor(dir.path());
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{how}: {err}");
        let want = if how == "large" {
            "is larger than"
        } else {
            "no "
        };
        assert!(err.contains(want), "{how}: {err}");
    }
}

#[test]
fn a_bump_is_refused_while_its_matrix_is_bumped_into_another_tree() {
    // Two bumps of one matrix with different --out roots each locked only their own tree,
    // and one edit was lost. The matrix's folder is locked too now.
    let dir = common::workdir(MATRIX);
    let held = deploygen::disk::TreeLock::exclusive(dir.path(), "bump").unwrap();
    let o = common::run(
        dir.path(),
        &["bump", "istio", "1.21.6", "--out", "elsewhere"],
    );
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("another deploygen (pid"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("matrix.yaml")).unwrap(),
        MATRIX
    );
    drop(held);
    let o = common::run(
        dir.path(),
        &["bump", "istio", "1.21.6", "--out", "elsewhere"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    // With the matrix in the tree's own root, one lock is taken (not two on one file).
    let o = common::run(dir.path(), &["bump", "istio", "1.22.8"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
}

#[test]
fn catalog_files_that_are_links_or_streams_are_refused_before_they_are_parsed() {
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("git-credentials");
    std::fs::write(&secret, "https://deploy:ghp_SECRETTOKEN123@github.com\n").unwrap();
    for (rel, target) in [
        ("catalog/kserve/v0.99.0.yaml", secret.as_path()),
        ("catalog/rules.yaml", Path::new("/dev/zero")),
        ("catalog/kserve/v0.99.1.yaml", Path::new("/dev/zero")),
    ] {
        let dir = common::workdir(MATRIX);
        let at = dir.path().join(rel);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        symlink(target, &at).unwrap();
        let o = common::run(dir.path(), &["check"]);
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{rel}: {err}");
        assert!(err.contains("symbolic link"), "{rel}: {err}");
        assert!(
            !err.contains("SECRETTOKEN"),
            "{rel}: printed the secret: {err}"
        );
    }
    // A fifo among the catalog files is refused at once (it would hang a read).
    let dir = common::workdir(MATRIX);
    std::fs::create_dir_all(dir.path().join("catalog/kserve")).unwrap();
    let c = std::ffi::CString::new(
        dir.path()
            .join("catalog/kserve/v0.99.2.yaml")
            .to_str()
            .unwrap(),
    )
    .unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let o = common::run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        common::stderr(&o).contains("is a named pipe"),
        "{}",
        common::stderr(&o)
    );
    // A catalog file larger than any entry is refused by size, read no further.
    let dir = common::workdir(MATRIX);
    std::fs::create_dir_all(dir.path().join("catalog/kserve")).unwrap();
    let big = std::fs::File::create(dir.path().join("catalog/kserve/v0.99.3.yaml")).unwrap();
    big.set_len(deploygen::disk::read::MAX_CATALOG_FILE + 1)
        .unwrap();
    let o = common::run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        common::stderr(&o).contains("is more than"),
        "{}",
        common::stderr(&o)
    );
}

#[test]
fn a_vendored_lock_or_archive_swapped_for_a_link_fails_check_without_reading_it() {
    let (dir, archives) = vendored_tree();
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let lock = common::files(dir.path())
        .into_keys()
        .find(|p| p.ends_with("versions.lock"))
        .unwrap();
    for rel in [lock.as_str(), archives[0].as_str()] {
        let at = dir.path().join(rel);
        let kept = std::fs::read(&at).unwrap();
        std::fs::remove_file(&at).unwrap();
        symlink("/dev/zero", &at).unwrap();
        let o = common::run(dir.path(), &["check"]);
        let err = common::stderr(&o);
        assert_ne!(o.status.code(), Some(0), "{rel}: {err}");
        assert!(err.contains("symbolic link"), "{rel}: {err}");
        std::fs::remove_file(&at).unwrap();
        std::fs::write(&at, kept).unwrap();
    }
    assert_eq!(common::run(dir.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn vendor_places_nothing_but_the_pinned_chart() {
    // A valid chart with another name and version, or just the gzip magic bytes, was placed,
    // locked, and `check` passed.
    let plan = deploygen::plan("matrix.yaml", vendored().as_bytes()).unwrap();
    let e = deploygen::cli::vendor::entries(&plan)[0].clone();
    for (what, bytes) in [
        ("evil", common::chart_tgz("evil", "6.6.6")),
        ("magic", vec![0x1f, 0x8b]),
        ("version", common::chart_tgz(&e.chart, "0.0.1")),
    ] {
        let (dir, archives) = vendored_tree();
        std::fs::write(
            dir.path()
                .join(format!("pulled/{}-{}.tgz", e.chart, e.version)),
            bytes,
        )
        .unwrap();
        let o = vendor(dir.path());
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("is not the pinned chart"), "{what}: {err}");
        assert!(
            err.contains(&format!(
                "expected the chart the catalog pins: {} {}",
                e.chart, e.version
            )),
            "{what}: {err}"
        );
        for a in &archives {
            assert!(!dir.path().join(a).exists(), "{what}: {a} placed");
        }
    }
}

#[test]
fn a_vendored_archive_replaced_and_relocked_by_hand_fails_check() {
    // The lock is only a digest of what was placed: check also proves the archive is the
    // pinned chart, so an archive and lock line both swapped by hand do not pass.
    let (dir, archives) = vendored_tree();
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let plan = deploygen::plan("matrix.yaml", vendored().as_bytes()).unwrap();
    let e = deploygen::cli::vendor::entries(&plan)[0].clone();
    let evil = common::chart_tgz("evil", "6.6.6");
    let lock_rel = common::files(dir.path())
        .into_keys()
        .find(|p| p.ends_with("versions.lock"))
        .unwrap();
    let lock = std::fs::read_to_string(dir.path().join(&lock_rel)).unwrap();
    let good = deploygen::base::sha256::hex(&std::fs::read(dir.path().join(&archives[0])).unwrap());
    std::fs::write(
        dir.path().join(&lock_rel),
        lock.replace(&good, &deploygen::base::sha256::hex(&evil)),
    )
    .unwrap();
    std::fs::write(dir.path().join(&archives[0]), &evil).unwrap();
    let o = common::run(dir.path(), &["check"]);
    let err = common::stderr(&o);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("is not the pinned chart"), "{err}");
    assert!(err.contains(&e.chart), "{err}");
}

/// Issue 21: a re-vendor after a bump removes the archive it replaced (Helm loads every archive
/// in a chart's charts/ folder), and `check` names an archive the matrix does not pin.
#[test]
fn re_vendoring_after_a_bump_removes_the_replaced_archive_and_check_names_a_stale_one() {
    let (dir, archives) = vendored_tree();
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let old = archives
        .iter()
        .find(|a| a.ends_with("/cert-manager-v1.15.5.tgz"))
        .expect("the default matrix pins cert-manager v1.15.5")
        .clone();
    let o = common::run(dir.path(), &["bump", "cert-manager", "v1.16.5"]);
    // The bump re-renders the lock-less tree: the new version's archive is not there yet.
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
    let text = std::fs::read_to_string(dir.path().join("matrix.yaml"))
        .unwrap()
        .replacen("cert-manager: v1.15.5", "cert-manager: v1.16.5", 1);
    std::fs::write(dir.path().join("matrix.yaml"), text).unwrap();
    std::fs::write(
        dir.path().join("pulled/cert-manager-v1.16.5.tgz"),
        common::chart_tgz("cert-manager", "v1.16.5"),
    )
    .unwrap();
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert!(
        common::stdout(&o).contains(&format!("removed {old}")),
        "{}",
        common::stdout(&o)
    );
    assert!(!dir.path().join(&old).exists());
    let new = old.replace("v1.15.5", "v1.16.5");
    assert!(dir.path().join(&new).is_file());
    assert_eq!(common::run(dir.path(), &["check"]).status.code(), Some(0));

    // An archive nobody locked, left in the folder: check names it, and vendor leaves it
    // (its bytes are not the ones any lock recorded).
    std::fs::write(
        dir.path().join(&old),
        common::chart_tgz("cert-manager", "v1.15.5"),
    )
    .unwrap();
    std::fs::write(dir.path().join(&old).with_extension("tgz.bak"), b"x").unwrap();
    let o = common::run(dir.path(), &["check"]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&old) && err.contains("does not pin"), "{err}");
    assert!(!err.contains(".tgz.bak"), "{err}");
    let o = vendor(dir.path());
    assert!(dir.path().join(&old).exists(), "{}", common::stdout(&o));
}
