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
