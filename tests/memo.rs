//! Issue 23: the hash memo (`disk::memo`, `.git/deploygen.hashes`) spares a run hashing files
//! it already knows, and changes nothing else: the tree and its manifest are byte-identical,
//! hand edits (of a file or of a manifest line) are caught and refused as before, and a memo
//! that is damaged or stale cannot make a changed file pass.

mod common;

use std::path::Path;

use common::{files, mtimes, run, stderr, stdout, workdir, MATRIX};

const MEMO: &str = ".git/deploygen.hashes";

/// A work folder that is the top of a git work tree (the memo's only home).
fn git_workdir(matrix: &str) -> tempfile::TempDir {
    let dir = workdir(matrix);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

#[track_caller]
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The tree's files, without the git folder.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut f = files(dir);
    f.retain(|k, _| !k.starts_with(".git/"));
    f
}

#[test]
fn the_tree_is_the_same_with_or_without_a_memo_and_a_no_op_writes_nothing() {
    let plain = workdir(MATRIX);
    let git = git_workdir(MATRIX);
    ok(plain.path(), &["render"]);
    ok(git.path(), &["render"]);
    assert!(git.path().join(MEMO).is_file());
    assert!(!plain.path().join(".git").exists(), "no memo outside git");
    let mut want = tree(plain.path());
    want.remove(".deploygen.lock");
    assert_eq!(tree(git.path()), want);
    // A no-op render and check (served by the memo) change nothing, memo included.
    let before = mtimes(git.path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(ok(git.path(), &["render"])
        .lines()
        .any(|l| l.starts_with("0 created, 0 changed, ")));
    ok(git.path(), &["check"]);
    let after = mtimes(git.path());
    let lock = git.path().join(".git/deploygen.lock").display().to_string();
    let moved: Vec<_> = after
        .iter()
        .filter(|(k, v)| **k != lock && before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(moved.is_empty(), "written by a no-op: {moved:?}");
}

#[test]
fn a_manifest_line_edited_by_hand_is_caught_by_check_and_rewritten_by_render() {
    let dir = git_workdir(MATRIX);
    ok(dir.path(), &["render"]);
    let manifest = dir.path().join(".deploygen-manifest");
    let good = std::fs::read_to_string(&manifest).unwrap();
    let line = good
        .lines()
        .find(|l| l.ends_with("  helmfile.yaml"))
        .unwrap();
    let forged = format!("{}  helmfile.yaml", "0".repeat(64));
    std::fs::write(&manifest, good.replace(line, &forged)).unwrap();
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("+++ b/.deploygen-manifest"),
        "{}",
        stdout(&o)
    );
    let out = ok(dir.path(), &["render"]);
    assert!(out.contains("changed .deploygen-manifest"), "{out}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), good);
    ok(dir.path(), &["check"]);
}

#[test]
fn hand_edited_files_are_still_caught_and_never_lost_with_a_memo() {
    let dir = git_workdir(MATRIX);
    ok(dir.path(), &["render"]);
    // A generated file edited by hand: check reports it, render restores it.
    let helmfile = dir.path().join("helmfile.yaml");
    let good = std::fs::read(&helmfile).unwrap();
    std::fs::write(&helmfile, "# hand edit\n").unwrap();
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("a/helmfile.yaml"), "{}", stdout(&o));
    assert!(ok(dir.path(), &["render"]).contains("changed helmfile.yaml"));
    assert_eq!(std::fs::read(&helmfile).unwrap(), good);
    // A stale file edited by hand is refused, not removed.
    let f = dir.path().join("environments/online/kserve.yaml");
    std::fs::write(&f, "# my notes, kept\n").unwrap();
    // No longer generated (a writer given the tree without it), and edited: refused, kept.
    let mut tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).unwrap();
    tree.retain(|k, _| k != "environments/online/kserve.yaml");
    let tree = deploygen::disk::with_manifest(
        tree.into_iter()
            .filter(|(k, _)| k != ".deploygen-manifest")
            .collect(),
        "matrix.yaml",
    );
    let e = deploygen::disk::write(dir.path(), &tree, Default::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("it was changed since deploygen wrote it"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "# my notes, kept\n");
}

#[test]
fn a_damaged_memo_is_ignored_and_a_stale_one_never_makes_a_changed_file_pass() {
    let dir = git_workdir(MATRIX);
    ok(dir.path(), &["render"]);
    let memo = dir.path().join(MEMO);
    let text = std::fs::read_to_string(&memo).unwrap();
    let manifest = std::fs::read(dir.path().join(".deploygen-manifest")).unwrap();
    // Every hash in the memo swapped for another (the checksum no longer holds): the memo is
    // ignored, every file hashed, and the manifest is the true one.
    let sha = text.lines().nth(2).unwrap().split(' ').next().unwrap();
    std::fs::write(&memo, text.replace(sha, &"0".repeat(64))).unwrap();
    ok(dir.path(), &["check"]);
    assert!(ok(dir.path(), &["render"])
        .lines()
        .any(|l| l.starts_with("0 created, 0 changed, ")));
    assert_eq!(
        std::fs::read(dir.path().join(".deploygen-manifest")).unwrap(),
        manifest
    );
    // The memo written anew is valid again (and the same as the first one's entries).
    assert_ne!(
        std::fs::read_to_string(&memo).unwrap(),
        text.replace(sha, &"0".repeat(64))
    );
    // A memo from another matrix (stale for this one): the files that changed are hashed, and
    // check then render see exactly what they saw without a memo.
    let other = MATRIX.replacen(
        "domain: models.astrago.example",
        "domain: models.elsewhere.example",
        1,
    );
    assert_ne!(other, MATRIX, "the default matrix names a domain");
    std::fs::write(dir.path().join("matrix.yaml"), &other).unwrap();
    let plain = workdir(&other);
    ok(plain.path(), &["render"]);
    let o = run(dir.path(), &["check"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a changed matrix leaves the tree behind"
    );
    ok(dir.path(), &["render"]);
    let mut want = tree(plain.path());
    want.remove(".deploygen.lock");
    assert_eq!(tree(dir.path()), want);
    ok(dir.path(), &["check"]);
}
