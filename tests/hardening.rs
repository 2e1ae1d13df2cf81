//! Issue 13: the writer cannot leave the tree, never leaves it half-done, never interleaves
//! with another run, and `check` sees everything it owns. One test (or a few) per reproduction
//! of the issue; each failed before the fix.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{files, mtimes, raw_matrix, run, stderr, stdout, workdir, MATRIX};
use deploygen::disk::{self, MatrixEdit, WriteOptions};
use deploygen::Error;

fn tree(text: &str) -> deploygen::render::Tree {
    deploygen::render("matrix.yaml", text.as_bytes()).unwrap()
}

/// Files of the tree below `dir`, without the matrix and the lock file (not generated).
fn generated(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut f = files(dir);
    f.remove("matrix.yaml");
    f.remove(".deploygen.lock");
    f
}

/// Asserts two trees are equal, naming the paths that differ (never dumping contents).
#[track_caller]
fn same(got: &BTreeMap<String, Vec<u8>>, want: &BTreeMap<String, Vec<u8>>, what: &str) {
    let differ: Vec<&String> = got
        .keys()
        .chain(want.keys())
        .filter(|k| got.get(*k) != want.get(*k))
        .collect();
    assert!(differ.is_empty(), "{what}: these paths differ: {differ:?}");
}

fn as_bytes(t: &deploygen::render::Tree) -> BTreeMap<String, Vec<u8>> {
    t.iter()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect()
}

/// The default matrix without the `online` environment.
fn without_online() -> String {
    let start = MATRIX.find("  # A connected cluster").unwrap();
    let end = MATRIX.find("  # An air-gapped customer site").unwrap();
    // `online` holds the anchors airgap aliases: inline them.
    let m = format!("{}{}", &MATRIX[..start], &MATRIX[end..]);
    let online = &MATRIX[start..end];
    let block = |key: &str| {
        let from = online.find(&format!("      {key}: &")).unwrap();
        let rest = &online[from..];
        let first_line_end = rest.find('\n').unwrap() + 1;
        let body_end = rest[first_line_end..]
            .find("\n      ")
            .map(|_| {
                let mut end = first_line_end;
                for l in rest[first_line_end..].split_inclusive('\n') {
                    if l.starts_with("        ") || l.starts_with("      #") {
                        end += l.len();
                    } else {
                        break;
                    }
                }
                end
            })
            .unwrap();
        format!("      {key}:\n{}", &rest[first_line_end..body_end])
    };
    let m = m.replace("      monitoring: *monitoring\n", &block("monitoring"));
    let m = m.replace("      access_control: *access\n", &block("access_control"));
    // extra_images (one level up): its list items run until the next 4-space key.
    let from = online.find("    extra_images: &extra\n").unwrap();
    let rest = &online[from..];
    let body: String = rest
        .split_inclusive('\n')
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .collect();
    m.replace(
        "    extra_images: *extra\n",
        &format!("    extra_images:\n{body}"),
    )
}

// 1. Temp files: planted links at the old fixed temp names are never written through.

#[test]
fn a_planted_link_at_a_temp_name_is_not_written_through() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let dir = workdir(MATRIX);
    std::fs::create_dir_all(dir.path().join("environments/airgap")).unwrap();
    symlink(
        &victim,
        dir.path()
            .join("environments/airgap/.kserve.yaml.deploygen-tmp"),
    )
    .unwrap();
    symlink(&victim, dir.path().join(".matrix.deploygen-tmp")).unwrap();
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let kserve = dir.path().join("environments/airgap/kserve.yaml");
    assert!(std::fs::symlink_metadata(&kserve).unwrap().is_file());
    same(
        &generated(dir.path()),
        &as_bytes(&tree(MATRIX)),
        "the planted links are removed as stray temp names, the tree is exact",
    );
    // bump, with a link at its old temp name again.
    symlink(&victim, dir.path().join(".matrix.deploygen-tmp")).unwrap();
    let o = run(dir.path(), &["bump", "istio", "1.21.6"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(std::fs::read_to_string(dir.path().join("matrix.yaml"))
        .unwrap()
        .contains("  istio: 1.21.6\n"));
}

#[test]
fn temp_names_are_unpredictable_and_never_reused() {
    let a = disk::fs_safe::temp_name("kserve.yaml", "new");
    let b = disk::fs_safe::temp_name("kserve.yaml", "new");
    assert_ne!(a, b);
    let name = a;
    assert!(name.starts_with(".kserve.yaml.new."), "{name}");
    assert!(name.contains(&std::process::id().to_string()), "{name}");
    assert!(name.ends_with(".deploygen-tmp"), "{name}");
}

// 2. A folder of the tree that is a link is a refusal, for writes and removals alike.

#[test]
fn a_symlinked_folder_is_refused_and_nothing_outside_is_touched() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("Chart.yaml"), "mine\n").unwrap();
    let dir = workdir(MATRIX);
    std::fs::create_dir_all(dir.path().join("applications")).unwrap();
    symlink(outside.path(), dir.path().join("applications/kserve")).unwrap();
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("applications/kserve: is a symbolic link")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(files(outside.path()).len(), 1);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("Chart.yaml")).unwrap(),
        "mine\n"
    );
    assert!(
        !dir.path().join("helmfile.yaml").exists(),
        "nothing was written"
    );
    // check says so too.
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("symbolic link"), "{}", stdout(&o));
}

#[test]
fn a_stale_file_under_a_symlinked_folder_is_not_deleted() {
    let dir = workdir(MATRIX);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    // environments/online now lives outside the tree, reached through a link.
    let outside = tempfile::tempdir().unwrap();
    let moved = outside.path().join("online");
    std::fs::rename(dir.path().join("environments/online"), &moved).unwrap();
    symlink(&moved, dir.path().join("environments/online")).unwrap();
    let before = files(outside.path());
    std::fs::write(dir.path().join("matrix.yaml"), without_online()).unwrap();
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("environments/online: is a symbolic link"),
        "{err}"
    );
    assert_eq!(
        files(outside.path()),
        before,
        "a file outside the tree was touched"
    );
}

// 3. Forged manifest lines are refused with their line, never deleted.

#[test]
fn forged_manifest_lines_never_delete_the_matrix_readme_or_git() {
    let dir = workdir(MATRIX);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    std::fs::write(dir.path().join("README.md"), "# ours\n").unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git/config"), "[core]\n").unwrap();
    let manifest = dir.path().join(".deploygen-manifest");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    let lines = text.lines().count();
    let sha = |b: &[u8]| deploygen::base::sha256::hex(b);
    // Bare lines (an old manifest's format) and lines with the files' true hashes.
    text.push_str("matrix.yaml\nREADME.md\n.git/config\n");
    text.push_str(&format!("{}  ../outside.txt\n", "0".repeat(64)));
    std::fs::write(&manifest, &text).unwrap();
    let before = files(dir.path());
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(".deploygen-manifest:{}: `matrix.yaml` is listed for removal, but deploygen never removes the matrix", lines + 1)),
        "{err}"
    );
    assert!(
        err.contains(
            "`.git/config` is listed for removal, but deploygen never removes anything under .git"
        ),
        "{err}"
    );
    assert!(
        err.contains("`README.md` (") && err.contains("is no longer generated, but it does not start with deploygen's generated-file note"),
        "{err}"
    );
    assert!(
        err.contains("`../outside.txt` is not a path below the tree"),
        "{err}"
    );
    same(&files(dir.path()), &before, "render changed the tree");
    // `check` names each forged line too: outside the tree, and never removable.
    let o = run(dir.path(), &["check"]);
    let report = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{report}");
    for forged in ["../outside.txt", "matrix.yaml", ".git/config"] {
        assert!(
            report.contains(&format!(
                "lists `{forged}`, which deploygen never removes; delete that line"
            )),
            "{forged}: {report}"
        );
    }

    // Even with the right hashes, the matrix and .git are never removed; README.md then is
    // (the hash says deploygen wrote exactly those bytes).
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text = text.replace("matrix.yaml\nREADME.md\n.git/config\n", "");
    text = text.replace(&format!("{}  ../outside.txt\n", "0".repeat(64)), "");
    text.push_str(&format!(
        "{}  matrix.yaml\n{}  .git/config\n",
        sha(MATRIX.as_bytes()),
        sha(b"[core]\n")
    ));
    std::fs::write(&manifest, &text).unwrap();
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(dir.path().join("matrix.yaml").is_file());
    assert!(dir.path().join(".git/config").is_file());
    assert!(dir.path().join("README.md").is_file());
}

#[test]
fn a_hand_edited_stale_file_is_refused_not_deleted() {
    let dir = workdir(MATRIX);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    let f = dir.path().join("environments/online/kserve.yaml");
    std::fs::write(&f, "# my notes, kept\n").unwrap();
    std::fs::write(dir.path().join("matrix.yaml"), without_online()).unwrap();
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("environments/online/kserve.yaml) is no longer generated, but it was changed since deploygen wrote it"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "# my notes, kept\n");
    // Moved away, the environment goes, folder and all.
    std::fs::remove_file(&f).unwrap();
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !dir.path().join("environments/online").exists(),
        "a folder the removal emptied is removed"
    );
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn an_old_manifest_without_hashes_still_works_conservatively() {
    let dir = tempfile::tempdir().unwrap();
    let t = tree(MATRIX);
    disk::write(dir.path(), &t, WriteOptions::default()).unwrap();
    // Rewrite the manifest in the old format (bare paths).
    let bare: String = t.keys().map(|k| format!("{k}\n")).collect();
    std::fs::write(
        dir.path().join(".deploygen-manifest"),
        format!("# old\n{bare}"),
    )
    .unwrap();
    let s = disk::write(
        dir.path(),
        &tree(&without_online()),
        WriteOptions::default(),
    )
    .unwrap();
    assert!(
        s.removed
            .contains(&"environments/online/kserve.yaml".to_string()),
        "{s:?}"
    );
    let m = std::fs::read_to_string(dir.path().join(".deploygen-manifest")).unwrap();
    assert!(
        m.contains("  helmfile.yaml\n"),
        "the new manifest has hashes"
    );
}

// 4. bump edits the scalar the parser points at, never a look-alike line.

/// `versions:` below `environments:`, and an accept reason (double-quoted, multi-line) whose
/// continuation lines read like the versions block.
fn trap_matrix() -> String {
    let start = MATRIX.find("versions:\n").unwrap();
    let end = MATRIX.find("registries:\n").unwrap();
    let versions = &MATRIX[start..end];
    let rest = format!("{}{}", &MATRIX[..start], &MATRIX[end..]);
    let rest = rest.replacen(
        "    mirror: 10.61.3.31:35000\n",
        "    mirror: 10.61.3.31:35000\n    accept:\n      - rule: kserve-min-cert-manager\n        reason: \"pinned by the site,\nversions:\n  kserve: v0.14.1\n  see the ticket\"\n",
        1,
    );
    format!("{rest}\n{versions}")
}

#[test]
fn bump_is_not_fooled_by_a_multi_line_string_that_reads_like_versions() {
    let m = trap_matrix();
    deploygen::plan("matrix.yaml", m.as_bytes()).expect("the trap matrix is valid");
    let dir = workdir(&m);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    let before = files(dir.path());
    // The real kserve entry is edited, so the Kubernetes 1.28 refusal applies.
    let o = run(dir.path(), &["bump", "kserve", "v0.15.2"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    same(
        &files(dir.path()),
        &before,
        "a refused bump changed something",
    );
    // A fitting bump edits the real entry and leaves the reason alone.
    let o = run(dir.path(), &["bump", "kserve", "v0.14.1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let edited = deploygen::cli::bump::edit_version("matrix.yaml", &m, "istio", "1.21.6").unwrap();
    assert_eq!(
        edited,
        m.replacen("  istio: 1.22.8\n", "  istio: 1.21.6\n", 1)
    );
    let edited =
        deploygen::cli::bump::edit_version("matrix.yaml", &m, "kserve", "v0.15.2").unwrap();
    let real = m.rfind("  kserve: v0.14.1\n").unwrap();
    assert_eq!(
        edited,
        format!("{}  kserve: v0.15.2\n{}", &m[..real], &m[real + 18..])
    );
}

#[test]
fn bump_handles_a_same_named_key_before_versions_and_comments_inside_it() {
    let m = MATRIX.replacen(
        "versions:\n  cert-manager: v1.15.5\n",
        "versions:\n\n  # kserve: v0.13.0 was the last on 1.27\n  cert-manager: v1.15.5\n\n",
        1,
    );
    // A `kserve:` key before `versions:` (in a flow mapping nobody reads as versions).
    let m = format!("x-note: {{kserve: v0.14.1}}\n{m}");
    let edited = deploygen::cli::bump::edit_version("matrix.yaml", &m, "kserve", "v0.15.2");
    // `x-note` is not a matrix key: the original is refused, located, before any edit.
    let e = edited.unwrap_err().to_string();
    assert!(e.contains("matrix.yaml:1:1") && e.contains("x-note"), "{e}");
    // Same-named keys in the matrix itself: a profile workload `kserve` before versions.
    let start = MATRIX.find("versions:\n").unwrap();
    let end = MATRIX.find("registries:\n").unwrap();
    let moved = format!(
        "{}{}\n{}",
        &MATRIX[..start],
        &MATRIX[end..],
        &MATRIX[start..end].replacen(
            "  istio:",
            "\n  # istio: 1.21.6 is the fallback\n  istio:",
            1
        )
    );
    let edited =
        deploygen::cli::bump::edit_version("matrix.yaml", &moved, "istio", "1.21.6").unwrap();
    assert_eq!(
        edited,
        moved.replacen("  istio: 1.22.8\n", "  istio: 1.21.6\n", 1)
    );
    assert!(edited.contains("  # istio: 1.21.6 is the fallback\n"));
}

// 5. A failed write leaves the tree exactly as it was; bump's matrix included.

#[test]
fn a_write_failure_at_any_point_leaves_the_tree_exactly_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let old = tree(MATRIX);
    disk::write(dir.path(), &old, WriteOptions::default()).unwrap();
    std::fs::write(dir.path().join("NOTES.md"), "mine\n").unwrap();
    let before = files(dir.path());
    // A change that creates files (a new environment), changes files and removes some.
    let staging = MATRIX.replacen("  airgap:\n", "  staging:\n", 1);
    let new = tree(&raw_matrix().replacen("  airgap:\n", "  staging:\n", 1));
    assert_ne!(tree(&staging), new);
    let steps = new.len() + old.len();
    for n in [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, steps] {
        for opts in [
            WriteOptions {
                fail_after: Some(n),
                ..Default::default()
            },
            WriteOptions {
                fail_swap_after: Some(n),
                ..Default::default()
            },
        ] {
            match disk::write(dir.path(), &new, opts) {
                Err(e @ Error::WriteFailed { .. }) => {
                    assert_eq!(e.exit_code(), 2);
                    assert!(
                        e.to_string().contains("the tree is exactly as it was"),
                        "{e}"
                    );
                    same(
                        &files(dir.path()),
                        &before,
                        &format!("{opts:?} left a change"),
                    );
                    assert!(!dir.path().join("environments/staging").exists());
                }
                Err(e) => panic!("{e}"),
                Ok(_) => {
                    // n is past the last step: the write completed. Put the old tree back.
                    disk::write(dir.path(), &old, WriteOptions::default()).unwrap();
                }
            }
        }
    }
}

#[test]
fn injected_failures_strike_at_the_step_they_name() {
    // The test above relies on `fail_after: n` / `fail_swap_after: n` failing at step n (so
    // "any point" means every point): each n in 0..4 fails, each at a different file.
    let dir = tempfile::tempdir().unwrap();
    disk::write(dir.path(), &tree(MATRIX), WriteOptions::default()).unwrap();
    let new = tree(&raw_matrix().replacen("  airgap:\n", "  staging:\n", 1));
    for swap in [false, true] {
        let mut failed_at = std::collections::BTreeSet::new();
        for n in 0..4 {
            let opts = if swap {
                WriteOptions {
                    fail_swap_after: Some(n),
                    ..Default::default()
                }
            } else {
                WriteOptions {
                    fail_after: Some(n),
                    ..Default::default()
                }
            };
            match disk::write(dir.path(), &new, opts) {
                Err(Error::WriteFailed { path, .. }) => {
                    assert!(failed_at.insert(path.clone()), "{opts:?}: {path:?} again")
                }
                other => panic!("{opts:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_failed_bump_restores_the_matrix_too() {
    let dir = workdir(MATRIX);
    let old = tree(MATRIX);
    disk::write(dir.path(), &old, WriteOptions::default()).unwrap();
    let before = files(dir.path());
    let text = MATRIX.replacen("  istio: 1.22.8", "  istio: 1.21.6", 1);
    let edit = MatrixEdit {
        path: dir.path().join("matrix.yaml"),
        text: text.clone(),
        mode: 0o644,
    };
    for n in 1..5 {
        let e = disk::write_with(
            dir.path(),
            &tree(&text),
            &[],
            Some(&edit),
            WriteOptions {
                fail_swap_after: Some(n),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        same(
            &files(dir.path()),
            &before,
            &format!("after {n} swaps the undo missed something"),
        );
    }
}

#[test]
fn an_interrupted_render_that_creates_files_is_healed_and_its_files_are_owned() {
    let dir = tempfile::tempdir().unwrap();
    let old = tree(MATRIX);
    disk::write(dir.path(), &old, WriteOptions::default()).unwrap();
    let new = tree(&MATRIX.replacen("  airgap:\n", "  staging:\n", 1));
    // Killed after the interim manifest and at least one created file were swapped in (the
    // first crash point where a file of the new environment exists).
    let mut created = Vec::new();
    for n in 1..new.len() {
        disk::write(dir.path(), &old, WriteOptions::default()).unwrap();
        let e = disk::write(
            dir.path(),
            &new,
            WriteOptions {
                crash_after: Some(n),
                ..Default::default()
            },
        );
        assert!(e.is_err());
        created = files(dir.path())
            .keys()
            .filter(|p| p.starts_with("environments/staging/") && !p.ends_with(".deploygen-tmp"))
            .cloned()
            .collect();
        if !created.is_empty() {
            break;
        }
    }
    assert!(
        !created.is_empty(),
        "no crash point came after a created file"
    );
    // The interim manifest left by the crash names the matrix the tree came from.
    let interim = std::fs::read_to_string(dir.path().join(".deploygen-manifest")).unwrap();
    assert!(
        interim.starts_with("# Generated by deploygen from matrix.yaml. Do not edit by hand:\n"),
        "{interim}"
    );
    // check sees the leftovers.
    let d = disk::diff(dir.path(), &old).unwrap();
    assert!(d.contains("stray "), "{d}");
    // Going back to the old matrix removes what the interrupted run created: the interim
    // manifest recorded it (with its hash) before it was swapped in.
    let s = disk::write(dir.path(), &old, WriteOptions::default()).unwrap();
    for p in &created {
        assert!(s.removed.contains(p), "{p} not removed: {s:?}");
    }
    assert!(!s.stale.is_empty(), "the temp files were removed");
    same(&generated(dir.path()), &as_bytes(&old), "healed");
    assert!(disk::diff(dir.path(), &old).unwrap().is_empty());
}

// 6. One writer at a time.

fn spawn_render(matrix: &Path, out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_deploygen"))
        .args(["render", "--matrix"])
        .arg(matrix)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn concurrent_pairs(pairs: usize) {
    let src = tempfile::tempdir().unwrap();
    let (a, b) = (src.path().join("a.yaml"), src.path().join("b.yaml"));
    let (text_a, text_b) = (MATRIX.to_string(), raw_matrix());
    std::fs::write(&a, &text_a).unwrap();
    std::fs::write(&b, &text_b).unwrap();
    let tree_a = as_bytes(&deploygen::render("a.yaml", text_a.as_bytes()).unwrap());
    let tree_b = as_bytes(&deploygen::render("b.yaml", text_b.as_bytes()).unwrap());
    let out = tempfile::tempdir().unwrap();
    for i in 0..pairs {
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let one = spawn_render(first, out.path());
        let two = spawn_render(second, out.path());
        let mut ok = 0;
        for child in [one, two] {
            let o = child.wait_with_output().unwrap();
            match o.status.code() {
                Some(0) => ok += 1,
                // Busy: the other render held the tree, as its writer or while it confirmed
                // a refusal under a reader's lock.
                Some(2) => assert!(
                    stderr(&o).contains("the tree is locked by another deploygen (pid ")
                        || stderr(&o)
                            .contains("the tree is locked by a deploygen reading the tree"),
                    "pair {i}: {}",
                    stderr(&o)
                ),
                other => panic!("pair {i}: exit {other:?}: {}", stderr(&o)),
            }
        }
        assert!(ok >= 1, "pair {i}: neither render ran");
        let got = generated(out.path());
        let winner = if got == tree_a {
            &a
        } else if got == tree_b {
            &b
        } else {
            panic!("pair {i}: the tree is neither render's")
        };
        let o = Command::new(env!("CARGO_BIN_EXE_deploygen"))
            .args(["check", "--matrix"])
            .arg(winner)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "pair {i}: {}", stdout(&o));
    }
}

#[test]
fn concurrent_renders_end_with_one_of_the_two_trees() {
    concurrent_pairs(6);
}

/// The issue's acceptance run: 50 pairs of concurrent renders with different matrices, each
/// ending with one of the two trees and `check` agreeing (about 10 s).
#[test]
fn fifty_concurrent_render_pairs() {
    concurrent_pairs(50);
}

#[test]
fn a_held_lock_names_its_holder() {
    let dir = workdir(MATRIX);
    let lock = disk::TreeLock::exclusive(dir.path(), "render").unwrap();
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "locked by another deploygen (pid {} render)",
            std::process::id()
        )),
        "{err}"
    );
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(2));
    drop(lock);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    // A reader blocks writers (and says so), not other readers.
    let reader = disk::TreeLock::shared(dir.path()).unwrap();
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(0));
    let o = run(dir.path(), &["bump", "istio", "1.21.6"]);
    assert!(
        stderr(&o).contains("locked by a deploygen reading the tree"),
        "{}",
        stderr(&o)
    );
    drop(reader);
    let ignored = std::fs::read_to_string(common::repo_root().join(".gitignore")).unwrap();
    assert!(ignored.contains("/.deploygen.lock"));
}

// 7. check sees everything it owns.

#[test]
fn check_leaves_user_files_in_shared_folders_alone() {
    // The root, the image lists (Astrago keeps every app's list in one folder), the air-gap
    // folder and the examples hold generated files beside the user's: check reports nothing
    // there. Below a chart folder and in an environment folder it would (the test above).
    let dir = workdir(MATRIX);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    for user in [
        "NOTES.md",
        "airgap/site-notes.md",
        "airgap/kubespray-offline/imagelists/astrago.txt",
        "examples/airgap/my-model.yaml",
        "applications/README.md",
    ] {
        std::fs::write(dir.path().join(user), "mine\n").unwrap();
        let o = run(dir.path(), &["check"]);
        assert_eq!(o.status.code(), Some(0), "{user}:\n{}", stdout(&o));
    }
    // A chart's nested folder is owned like the chart itself.
    std::fs::write(
        dir.path().join("applications/kserve/dashboards/mine.json"),
        "{}",
    )
    .unwrap();
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("extra applications/kserve/dashboards/mine.json"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_knows_what_helm_leaves_in_a_chart_folder_and_nothing_else() {
    let dir = workdir(MATRIX);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    let d = dir.path();
    // `helm dependency build` writes Chart.lock and charts/ in a chart folder: expected.
    std::fs::write(d.join("applications/kserve/Chart.lock"), "lock\n").unwrap();
    std::fs::create_dir(d.join("applications/kserve/charts")).unwrap();
    let o = run(d, &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // The same names anywhere else, a file named `charts`, a folder of the user's, and a
    // file where a generated folder belongs are all reported (once each).
    std::fs::write(d.join("environments/airgap/Chart.lock"), "lock\n").unwrap();
    std::fs::create_dir(d.join("environments/airgap/charts")).unwrap();
    std::fs::write(d.join("applications/istiod/charts"), "a file\n").unwrap();
    std::fs::create_dir(d.join("applications/kserve/mine")).unwrap();
    std::fs::remove_dir_all(d.join("applications/kserve/dashboards")).unwrap();
    std::fs::write(d.join("applications/kserve/dashboards"), "a file\n").unwrap();
    let o = run(d, &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for extra in [
        "environments/airgap/Chart.lock",
        "environments/airgap/charts",
        "applications/istiod/charts",
        "applications/kserve/mine",
        "applications/kserve/dashboards",
    ] {
        let line = format!("extra {extra}: not generated by deploygen");
        assert_eq!(out.matches(&line).count(), 1, "{extra}:\n{out}");
    }
    assert!(
        !out.contains("extra applications/kserve/Chart.lock"),
        "{out}"
    );
    assert!(!out.contains("extra applications/kserve/charts"), "{out}");
    // A leftover temp file is a stray (render removes it), not also an extra file.
    let temp = "environments/online/.kserve.yaml.new.1-2-3.deploygen-tmp";
    std::fs::write(d.join(temp), "half").unwrap();
    let out = stdout(&run(d, &["check"]));
    assert!(out.contains(&format!("stray {temp}")), "{out}");
    assert!(!out.contains(&format!("extra {temp}")), "{out}");
}

#[test]
fn check_fails_on_extra_files_stray_temps_and_modes() {
    let dir = workdir(MATRIX);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    type Make = Box<dyn Fn(&Path)>;
    let cases: [(&str, Make, &str); 5] = [
        (
            "extra applications/kserve/templates/x.yaml",
            Box::new(|d| {
                std::fs::write(
                    d.join("applications/kserve/templates/x.yaml"),
                    "kind: Pod\n",
                )
                .unwrap()
            }),
            "delete",
        ),
        (
            "extra environments/airgap/notes.txt",
            Box::new(|d| std::fs::write(d.join("environments/airgap/notes.txt"), "x\n").unwrap()),
            "delete",
        ),
        (
            "stray environments/airgap/.kserve.yaml.new.1-2-3.deploygen-tmp",
            Box::new(|d| {
                std::fs::write(
                    d.join("environments/airgap/.kserve.yaml.new.1-2-3.deploygen-tmp"),
                    "half",
                )
                .unwrap()
            }),
            "render",
        ),
        (
            "helmfile.yaml: has mode 0755",
            Box::new(|d| {
                std::fs::set_permissions(
                    d.join("helmfile.yaml"),
                    std::fs::Permissions::from_mode(0o755),
                )
                .unwrap()
            }),
            "render",
        ),
        (
            "a/applications/kserve/templates/NOTES.txt (a folder, not a file)",
            Box::new(|d| {
                std::fs::remove_file(d.join("applications/kserve/templates/NOTES.txt")).unwrap();
                std::fs::create_dir(d.join("applications/kserve/templates/NOTES.txt")).unwrap();
            }),
            "delete",
        ),
    ];
    for (finding, make, fix) in cases {
        make(dir.path());
        let o = run(dir.path(), &["check"]);
        assert_eq!(o.status.code(), Some(1), "{finding}");
        assert!(stdout(&o).contains(finding), "{finding}:\n{}", stdout(&o));
        if fix == "render" {
            let o = run(dir.path(), &["render"]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        } else {
            // Not deploygen's: render refuses (folder) or leaves it (extra file); the owner
            // removes it.
            for p in [
                "applications/kserve/templates/x.yaml",
                "environments/airgap/notes.txt",
            ] {
                let _ = std::fs::remove_file(dir.path().join(p));
            }
            let nf = dir.path().join("applications/kserve/templates/NOTES.txt");
            if nf.is_dir() {
                let o = run(dir.path(), &["render"]);
                assert_eq!(
                    o.status.code(),
                    Some(2),
                    "a folder at a generated path is refused"
                );
                std::fs::remove_dir(&nf).unwrap();
                assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
            }
        }
        let o = run(dir.path(), &["check"]);
        assert_eq!(o.status.code(), Some(0), "{finding}: {}", stdout(&o));
    }
    // Helm's own output in a chart folder is expected there.
    std::fs::create_dir_all(dir.path().join("applications/kserve/charts")).unwrap();
    std::fs::write(dir.path().join("applications/kserve/Chart.lock"), "x").unwrap();
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn a_symlink_at_a_generated_path_is_refused_and_its_target_untouched() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("v.yaml");
    std::fs::write(&victim, "precious\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    symlink(&victim, dir.path().join("helmfile.yaml")).unwrap();
    let e = disk::write(dir.path(), &tree(MATRIX), WriteOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Unsafe(_)), "{e}");
    assert!(
        e.to_string().contains("helmfile.yaml: is a symbolic link"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(disk::preview(dir.path(), &tree(MATRIX)).is_err());
}

#[test]
fn preview_reports_conflicts_and_what_would_change() {
    let dir = tempfile::tempdir().unwrap();
    let t = tree(MATRIX);
    let s = disk::preview(dir.path(), &t).unwrap();
    assert_eq!(s.created.len(), t.len());
    assert!(files(dir.path()).is_empty(), "preview wrote something");
    std::fs::write(dir.path().join("helmfile.yaml"), "releases: []\n").unwrap();
    assert!(matches!(
        disk::preview(dir.path(), &t),
        Err(Error::NotOwned(_))
    ));
    // bump into that hand-written file: refused, the matrix unchanged.
    std::fs::write(dir.path().join("matrix.yaml"), MATRIX).unwrap();
    let o = run(dir.path(), &["bump", "istio", "1.21.6"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("matrix.yaml")).unwrap(),
        MATRIX
    );
}

#[test]
fn the_manifest_is_not_rewritten_when_its_bytes_do_not_change() {
    let dir = workdir(MATRIX);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    let f = dir.path().join("helmfile.yaml");
    let good = std::fs::read(&f).unwrap();
    std::fs::write(&f, "# hand edit\n").unwrap();
    let manifest = dir.path().join(".deploygen-manifest");
    let before = mtimes(dir.path())[&manifest.display().to_string()];
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = run(dir.path(), &["render"]);
    assert!(
        stdout(&o).contains("changed helmfile.yaml"),
        "{}",
        stdout(&o)
    );
    assert_eq!(std::fs::read(&f).unwrap(), good);
    assert_eq!(mtimes(dir.path())[&manifest.display().to_string()], before);
}

// 8. Output errors are reported.

#[test]
fn writing_to_a_full_device_fails_loudly() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = workdir(MATRIX);
    for args in [
        &["schema"][..],
        &["images", "--env", "airgap"],
        &["explain"],
        &["diff"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_deploygen"))
            .args(args)
            .current_dir(dir.path())
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(4), "{args:?}");
        assert!(
            stderr(&o).contains("cannot write the standard output"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

/// When standard output fails after a bump, the message says whether the tree was written
/// (then the matrix and tree changed although the exit code is 4) or not.
#[test]
fn a_bump_whose_output_fails_says_whether_it_wrote() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let bump = |dir: &Path, version: &str| {
        Command::new(env!("CARGO_BIN_EXE_deploygen"))
            .args(["bump", "istio", version])
            .current_dir(dir)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap()
    };
    // The pinned version on a tree never rendered: the matrix stays, the tree is written.
    let dir = workdir(MATRIX);
    let first = bump(dir.path(), "1.22.8");
    assert_eq!(first.status.code(), Some(4));
    assert!(
        stderr(&first).contains("the tree itself was written"),
        "{}",
        stderr(&first)
    );
    // The same again: nothing to write.
    let again = bump(dir.path(), "1.22.8");
    assert_eq!(again.status.code(), Some(4));
    assert!(
        !stderr(&again).contains("the tree itself was written"),
        "{}",
        stderr(&again)
    );
    // Another version: the matrix and the tree change.
    let other = bump(dir.path(), "1.21.6");
    assert_eq!(other.status.code(), Some(4));
    assert!(
        stderr(&other).contains("the tree itself was written"),
        "{}",
        stderr(&other)
    );
}

// 10. Streams are bounded.

#[test]
fn an_endless_stream_is_refused() {
    let dir = workdir(MATRIX);
    let o = run(dir.path(), &["render", "--matrix", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is more than 1048576 bytes"),
        "{}",
        stderr(&o)
    );
}

// 11. Text from the matrix never acts on the terminal.

#[test]
fn control_characters_from_the_matrix_are_escaped() {
    let m = MATRIX.replacen(
        "    mirror: 10.61.3.31:35000\n",
        "    mirror: 10.61.3.31:35000\n    accept:\n      - rule: kserve-min-cert-manager\n        reason: \"ok\\e[2K\\rpass     everything fine\"\n",
        1,
    );
    let dir = workdir(&m);
    let o = run(dir.path(), &["explain", "--env", "airgap"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}') && !out.contains('\r'), "{out:?}");
    assert!(out.contains("accepted: ok\\u{1b}[2K\\rpass"), "{out}");
    let m = MATRIX.replacen("  airgap:\n", "  \"air\\e]0;pwned\\u0007gap\":\n", 1);
    let dir = workdir(&m);
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
}

// 12. Located refusals, symlinked matrix, modes.

#[test]
fn every_refusal_is_located() {
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{MATRIX}---\nversions: {{}}\n"),
            "second YAML document",
        ),
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n".to_string(),
            "matrix.yaml:2:",
        ),
        (MATRIX.replace('\n', "\r"), "CR-only line endings"),
        (MATRIX.replacen("  kserve: v0.14.1", "  kserve: !Ref v0.14.1", 1), "has a YAML tag"),
        (MATRIX.replacen("  kserve: v0.14.1", "  kserve: !!str v0.14.1", 1), "has a YAML tag"),
        (
            format!("{MATRIX}x: {}{}\n", "{a: ".repeat(50_000), "}".repeat(50_000)),
            "nests deeper than 24 levels",
        ),
    ];
    for (text, want) in cases {
        let e = deploygen::render("matrix.yaml", text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
        let first = e.lines().next().unwrap();
        let loc = first.trim_start_matches("error: matrix.yaml:");
        let mut parts = loc.splitn(3, ':');
        let line: Option<usize> = parts.next().and_then(|l| l.parse().ok());
        let col: Option<usize> = parts.next().and_then(|c| c.parse().ok());
        assert!(line.is_some() && col.is_some(), "not located: {first}");
    }
}

#[test]
fn a_matrix_linked_in_from_outside_is_refused_before_it_is_parsed() {
    // CI runs `check` on a pull request's tree: a matrix that is a link to a secret file
    // (it parses as one scalar) must not have its content printed in an error.
    let dir = tempfile::tempdir().unwrap();
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("id_ed25519");
    std::fs::write(
        &secret,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    symlink(&secret, dir.path().join("matrix.yaml")).unwrap();
    for cmd in [&["check"][..], &["render"], &["bump", "istio", "1.21.6"]] {
        let o = run(dir.path(), cmd);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("symbolic link leading outside its folder"),
            "{err}"
        );
        assert!(
            !err.contains("b3BlbnNzaC1rZXkt"),
            "{cmd:?} printed the key: {err}"
        );
    }
}

#[test]
fn bump_keeps_a_symlinked_matrix_a_link_and_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    // The matrix kept in a folder of the repository, linked from the root: a link that stays
    // inside its folder is followed (one leading out is refused: see
    // `a_matrix_linked_in_from_outside_is_refused_before_it_is_parsed`).
    std::fs::create_dir(dir.path().join("config")).unwrap();
    let real = dir.path().join("config/matrix.yaml");
    std::fs::write(&real, MATRIX).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink("config/matrix.yaml", dir.path().join("matrix.yaml")).unwrap();
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    let o = run(dir.path(), &["bump", "istio", "1.21.6"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let link = std::fs::symlink_metadata(dir.path().join("matrix.yaml")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the matrix link was replaced"
    );
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .contains("  istio: 1.21.6\n"));
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(0));
}

/// Generated scripts (`#!`) are written executable, and `check` wants them so; every other
/// generated file is a plain read-write file.
#[test]
fn generated_scripts_are_executable_and_check_keeps_them_so() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut t = deploygen::base::generated::Tree::new();
    t.insert("airgap/copy.sh".into(), "#!/bin/sh\necho hi\n".into());
    t.insert(
        "airgap/list.txt".into(),
        "# Generated by deploygen\na\n".into(),
    );
    let t = disk::with_manifest(t, "matrix.yaml");
    disk::write(dir.path(), &t, WriteOptions::default()).unwrap();
    let mode = |p: &str| {
        std::fs::metadata(dir.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("airgap/copy.sh"), 0o755);
    assert_eq!(mode("airgap/list.txt") & 0o111, 0);
    assert!(disk::diff(dir.path(), &t).unwrap().is_empty());
    // A script that lost its execute bit is a finding, and render restores it.
    std::fs::set_permissions(
        dir.path().join("airgap/copy.sh"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let d = disk::diff(dir.path(), &t).unwrap();
    assert!(d.contains("mode ") && d.contains("copy.sh"), "{d}");
    let s = disk::write(dir.path(), &t, WriteOptions::default()).unwrap();
    assert_eq!(s.changed, ["airgap/copy.sh"]);
    assert_eq!(mode("airgap/copy.sh"), 0o755);
}

#[test]
fn a_forged_manifest_line_never_deletes_a_matrix_of_another_name_or_behind_a_link() {
    // `matrix.yaml` is protected by name; a matrix of another name (`--matrix site.yaml`) and
    // the file a linked matrix names are protected because they are the matrix in use.
    let sha = deploygen::base::sha256::hex(MATRIX.as_bytes());
    for (matrix, real, forged) in [
        ("site.yaml", "site.yaml", "site.yaml"),
        ("m.yaml", "config/site.yaml", "config/site.yaml"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("config")).unwrap();
        std::fs::write(dir.path().join(real), MATRIX).unwrap();
        if matrix != real {
            symlink(real, dir.path().join(matrix)).unwrap();
        }
        let args = ["render", "--matrix", matrix];
        assert_eq!(run(dir.path(), &args).status.code(), Some(0));
        let manifest = dir.path().join(".deploygen-manifest");
        let original = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{original}{sha}  {forged}\n")).unwrap();
        let o = run(dir.path(), &args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{forged}: {err}");
        assert!(
            err.contains(&format!(
                "`{forged}` is listed for removal, but deploygen never removes the matrix"
            )),
            "{forged}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(real)).unwrap(),
            MATRIX
        );
    }
}
