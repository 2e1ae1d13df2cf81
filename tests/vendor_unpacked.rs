//! Issue 21, "Charts that survive the repository they live in": vendored charts unpacked
//! (`layout.vendored_as: unpacked`), verified file by file, and `check` naming the git ignore
//! rule that keeps a locked chart out of a clone.

mod common;

use std::path::Path;

use tar::EntryType;

fn matrix(form: &str) -> String {
    format!(
        "layout:\n  vendored_charts: true\n  vendored_as: {form}\n{}",
        common::MATRIX
    )
}

/// A gzip tar of raw entries (paths written as raw header bytes, so `..` can be tested).
fn tgz(entries: &[(&str, EntryType, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if *kind == EntryType::Symlink {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// A chart archive as `helm pull` gives it: `<name>/Chart.yaml`, values and a template,
/// plus `extra` files below `<name>/`.
fn chart(name: &str, version: &str, extra: &[&str]) -> Vec<u8> {
    let yaml = format!("apiVersion: v2\nname: {name}\nversion: {version}\n");
    let paths: Vec<(String, Vec<u8>)> = [
        ("Chart.yaml".to_string(), yaml.into_bytes()),
        ("values.yaml".to_string(), b"a: 1\n".to_vec()),
        (
            "templates/cm.yaml".to_string(),
            format!("# {version}\n").into_bytes(),
        ),
    ]
    .into_iter()
    .chain(extra.iter().map(|e| (e.to_string(), b"x: 1\n".to_vec())))
    .map(|(p, b)| (format!("{name}/{p}"), b))
    .collect();
    let entries: Vec<(&str, EntryType, &[u8])> = paths
        .iter()
        .map(|(p, b)| (p.as_str(), EntryType::Regular, b.as_slice()))
        .collect();
    tgz(&entries)
}

/// A work folder with the matrix and `pulled/` holding every archive it needs; returns the
/// charts' (chart, version, path below the root).
fn setup(form: &str) -> (tempfile::TempDir, Vec<(String, String, String)>) {
    let dir = common::workdir(&matrix(form));
    let plan = deploygen::plan("matrix.yaml", matrix(form).as_bytes()).unwrap();
    let pulled = dir.path().join("pulled");
    std::fs::create_dir(&pulled).unwrap();
    let mut charts = Vec::new();
    for e in deploygen::cli::vendor::entries(&plan) {
        std::fs::write(
            pulled.join(format!("{}-{}.tgz", e.chart, e.version)),
            chart(&e.chart, &e.version, &[]),
        )
        .unwrap();
        charts.push((e.chart.clone(), e.version.clone(), e.path().to_string()));
    }
    (dir, charts)
}

fn vendor(dir: &Path) -> std::process::Output {
    common::run(dir, &["vendor", "--from", "pulled"])
}

fn check(dir: &Path) -> (Option<i32>, String) {
    let o = common::run(dir, &["check"]);
    (o.status.code(), common::stderr(&o))
}

fn lock_of(dir: &Path) -> String {
    let rel = common::files(dir)
        .into_keys()
        .find(|p| p.ends_with("versions.lock"))
        .expect("a lock");
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

#[test]
fn unpacked_charts_are_folders_every_file_locked_and_check_passes() {
    let (dir, charts) = setup("unpacked");
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let out = common::stdout(&o);
    assert!(
        out.contains(&format!(
            "{} chart files placed, 0 already",
            charts.len() * 3
        )),
        "{out}"
    );
    let lock = lock_of(dir.path());
    for (name, version, folder) in &charts {
        assert!(folder.ends_with(&format!("/charts/{name}")), "{folder}");
        let chart_yaml =
            std::fs::read_to_string(dir.path().join(folder).join("Chart.yaml")).unwrap();
        assert!(chart_yaml.contains(&format!("version: {version}")));
        assert!(dir.path().join(folder).join("templates/cm.yaml").is_file());
        assert!(!dir
            .path()
            .join(folder)
            .with_file_name(format!("{name}-{version}.tgz"))
            .exists());
    }
    // One chart line (archive sha256, folder, tree sha256) and one line per file.
    let archive = chart(&charts[0].0, &charts[0].1, &[]);
    let line = lock
        .lines()
        .find(|l| l.contains(&deploygen::base::sha256::hex(&archive)))
        .unwrap_or_else(|| panic!("{lock}"));
    let hex = deploygen::base::sha256::hex;
    let (name, version) = (&charts[0].0, &charts[0].1);
    let chart_yaml = format!("apiVersion: v2\nname: {name}\nversion: {version}\n");
    let file_lines = format!(
        "{}  Chart.yaml\n{}  templates/cm.yaml\n{}  values.yaml\n",
        hex(chart_yaml.as_bytes()),
        hex(format!("# {version}\n").as_bytes()),
        hex(b"a: 1\n")
    );
    let rel = charts[0].2.strip_prefix("applications/").unwrap();
    assert!(
        line.ends_with(&format!(
            ",{version},{},{rel}/,{}",
            hex(&archive),
            hex(file_lines.as_bytes())
        )),
        "{line}"
    );
    let indented: String = file_lines.lines().map(|l| format!("  {l}\n")).collect();
    assert!(lock.contains(&format!("{line}\n{indented}")), "{lock}");
    let sha = deploygen::base::sha256::hex(b"a: 1\n");
    assert!(lock.contains(&format!("  {sha}  values.yaml\n")), "{lock}");
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
    // A second vendor places nothing.
    let o = vendor(dir.path());
    assert!(
        common::stdout(&o).contains("0 chart files placed"),
        "{}",
        common::stdout(&o)
    );
}

#[test]
fn check_names_a_changed_an_added_and_a_removed_file_of_an_unpacked_chart() {
    let (dir, charts) = setup("unpacked");
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let folder = dir.path().join(&charts[0].2);
    let shown = Path::new(".").join(&charts[0].2);
    std::fs::write(folder.join("values.yaml"), "a: 2\n").unwrap();
    std::fs::write(folder.join("templates/evil.yaml"), "kind: Secret\n").unwrap();
    std::fs::remove_file(folder.join("templates/cm.yaml")).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    let at = |f: &str| shown.join(f).display().to_string();
    assert!(
        err.contains(&format!("{}: sha256 ", at("values.yaml")))
            && err.contains("the file was changed"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: is not a file of chart {}",
            at("templates/evil.yaml"),
            charts[0].0
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: is a file of chart", at("templates/cm.yaml")))
            && err.contains("but missing (removed)"),
        "{err}"
    );
    // A lock line edited by hand to match the changed file is caught by the tree sha256.
    let lock_rel = common::files(dir.path())
        .into_keys()
        .find(|p| p.ends_with("versions.lock"))
        .unwrap();
    let lock = lock_of(dir.path());
    let edited = lock.replace(
        &deploygen::base::sha256::hex(b"a: 1\n"),
        &deploygen::base::sha256::hex(b"a: 2\n"),
    );
    std::fs::write(dir.path().join(&lock_rel), edited).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("do not add up to the tree sha256"), "{err}");
}

#[test]
fn an_archive_with_a_path_out_or_a_link_is_refused_and_nothing_is_written() {
    for (what, entry, kind) in [
        ("dot-dot", "NAME/../../escape.yaml", EntryType::Regular),
        ("link", "NAME/templates/passwd", EntryType::Symlink),
    ] {
        let (dir, charts) = setup("unpacked");
        let (name, version, _) = &charts[0];
        let chart_yaml = format!("name: {name}\nversion: {version}\n");
        let path = format!("{name}/Chart.yaml");
        let bad = entry.replace("NAME", name);
        let bytes = tgz(&[
            (path.as_str(), EntryType::Regular, chart_yaml.as_bytes()),
            (bad.as_str(), kind, b""),
        ]);
        std::fs::write(
            dir.path().join(format!("pulled/{name}-{version}.tgz")),
            bytes,
        )
        .unwrap();
        // What vendor may write before it reads an archive: its lock against other writers.
        let files = || {
            let mut f = common::files(dir.path());
            f.remove(".deploygen.lock");
            f
        };
        let before = files();
        let o = vendor(dir.path());
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        let why = if what == "link" {
            "is a link"
        } else {
            "leads out of the archive"
        };
        assert!(err.contains(why), "{what}: {err}");
        let after = files();
        assert!(
            after == before,
            "{what}: something was written: {:?}",
            after
                .keys()
                .filter(|k| !before.contains_key(*k))
                .collect::<Vec<_>>()
        );
        for (_, _, folder) in &charts {
            assert!(!dir.path().join(folder).exists(), "{what}: {folder}");
        }
        assert!(!dir.path().join("escape.yaml").exists());
    }
}

#[test]
fn re_vendoring_an_unpacked_chart_after_a_bump_removes_only_the_files_the_lock_owned() {
    let (dir, charts) = setup("unpacked");
    let (name, _, folder) = charts
        .iter()
        .find(|c| c.0 == "cert-manager")
        .expect("the default matrix pins cert-manager")
        .clone();
    std::fs::write(
        dir.path().join("pulled/cert-manager-v1.15.5.tgz"),
        chart(&name, "v1.15.5", &["templates/old-only.yaml"]),
    )
    .unwrap();
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let old_only = dir.path().join(&folder).join("templates/old-only.yaml");
    assert!(old_only.is_file());
    // A file the user put there is not the lock's: never removed.
    let mine = dir.path().join(&folder).join("templates/mine.yaml");
    std::fs::write(&mine, "kind: ConfigMap\n").unwrap();
    let text = std::fs::read_to_string(dir.path().join("matrix.yaml"))
        .unwrap()
        .replacen("cert-manager: v1.15.5", "cert-manager: v1.16.5", 1);
    std::fs::write(dir.path().join("matrix.yaml"), text).unwrap();
    std::fs::write(
        dir.path().join("pulled/cert-manager-v1.16.5.tgz"),
        chart(&name, "v1.16.5", &[]),
    )
    .unwrap();
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert!(
        common::stdout(&o).contains(&format!("removed {folder}/templates/old-only.yaml")),
        "{}",
        common::stdout(&o)
    );
    assert!(!old_only.exists());
    assert!(mine.is_file(), "a file the lock does not own was removed");
    let cm = std::fs::read_to_string(dir.path().join(&folder).join("templates/cm.yaml")).unwrap();
    assert_eq!(cm, "# v1.16.5\n");
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("templates/mine.yaml: is not a file of chart"),
        "{err}"
    );
    std::fs::remove_file(&mine).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn switching_from_archives_to_unpacked_removes_the_archives_and_check_asks_for_a_vendor_first() {
    let (dir, charts) = setup("archive");
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let archives: Vec<String> = charts.iter().map(|c| c.2.clone()).collect();
    std::fs::write(dir.path().join("matrix.yaml"), matrix("unpacked")).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("as an archive, but layout.vendored_as is unpacked: run `deploygen vendor --matrix matrix.yaml --from DIR`"),
        "{err}"
    );
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    for a in &archives {
        assert!(
            !dir.path().join(a).exists(),
            "{a} left beside the unpacked chart"
        );
    }
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
    // An archive put back beside the unpacked chart is loaded by Helm too: named.
    std::fs::write(dir.path().join(&archives[0]), b"x").unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("is a chart archive the matrix does not pin"),
        "{err}"
    );
}

/// Astrago's `.gitignore` as far as charts go (its rule is on line 8 there too).
const ASTRAGO_GITIGNORE: &str = "/.idea/\n\n# Created by https://www.toptal.com/developers/gitignore/api/helm,visualstudiocode\n# Edit at https://www.toptal.com/developers/gitignore?templates=helm,visualstudiocode\n\n### Helm ###\n# Chart dependencies\n**/charts/*.tgz\n\nenvironments/astrago\n";

#[test]
fn check_names_the_ignore_rule_that_hides_a_locked_archive_and_what_to_run() {
    let (dir, charts) = setup("archive");
    std::fs::write(dir.path().join(".gitignore"), ASTRAGO_GITIGNORE).unwrap();
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    let first = &charts[0].2;
    let folder = first.rsplit_once('/').unwrap().0;
    assert!(
        err.contains(&format!(
            "{}: is ignored by git (.gitignore:8 `**/charts/*.tgz`): a fresh clone will not \
             have it; set layout.vendored_as: unpacked and run `deploygen vendor --matrix \
             matrix.yaml --from DIR` (DIR: the archives `helm pull` fetched), or add \
             `!{folder}/*.tgz`",
            Path::new(".").join(first).display()
        )),
        "{err}"
    );
    // Added with `git add -f`, the archives are tracked: no ignore rule applies to them, and a
    // clone has them, so check passes.
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q"]);
    let forced: Vec<&str> = charts.iter().map(|(_, _, a)| a.as_str()).collect();
    git(&[&["add", "-f", "--"][..], &forced].concat());
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
    std::fs::remove_dir_all(dir.path().join(".git")).unwrap();
    // What a fresh clone has: no archive. The cause and the command.
    for (_, _, a) in &charts {
        std::fs::remove_file(dir.path().join(a)).unwrap();
    }
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}: locked (",
            Path::new(".").join(first).display()
        )) && err.contains(
            "but missing: git ignores it (.gitignore:8 `**/charts/*.tgz`), so a clone of the \
             repository lacks it; run `deploygen vendor --matrix matrix.yaml --from DIR`"
        ),
        "{err}"
    );
    // The rule undone for every chart folder as suggested: check passes again.
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let mut gitignore = ASTRAGO_GITIGNORE.to_string();
    for (_, _, a) in &charts {
        gitignore.push_str(&format!("!{}/*.tgz\n", a.rsplit_once('/').unwrap().0));
    }
    std::fs::write(dir.path().join(".gitignore"), gitignore).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn unpacked_charts_pass_astragos_gitignore_and_a_missing_one_says_what_to_run() {
    let (dir, charts) = setup("unpacked");
    std::fs::write(dir.path().join(".gitignore"), ASTRAGO_GITIGNORE).unwrap();
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
    // A rule in a deeper .gitignore that hides a file of an unpacked chart is named too.
    let app = charts[0].2.split("/charts/").next().unwrap().to_string();
    std::fs::write(dir.path().join(&app).join(".gitignore"), "values.yaml\n").unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}: is ignored by git ({app}/.gitignore:1 `values.yaml`)",
            Path::new(".")
                .join(&charts[0].2)
                .join("values.yaml")
                .display()
        )),
        "{err}"
    );
    // What a clone has then: the chart without that file, and why.
    let values = dir.path().join(&charts[0].2).join("values.yaml");
    let kept = std::fs::read(&values).unwrap();
    std::fs::remove_file(&values).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "but missing (git ignores it ({app}/.gitignore:1 `values.yaml`), so a clone lacks it)"
        )),
        "{err}"
    );
    std::fs::write(&values, kept).unwrap();
    std::fs::remove_file(dir.path().join(&app).join(".gitignore")).unwrap();
    std::fs::remove_dir_all(dir.path().join(&charts[0].2)).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("but missing: it was never vendored here, or not committed; run `deploygen vendor --matrix matrix.yaml --from DIR`"),
        "{err}"
    );
}

#[test]
fn vendored_as_without_vendored_charts_is_refused() {
    let text = format!("layout:\n  vendored_as: unpacked\n{}", common::MATRIX);
    let e = deploygen::plan("matrix.yaml", text.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("layout.vendored_as"), "{e}");
}

#[test]
fn a_rule_that_ignores_a_charts_folder_is_named_with_the_folder_to_bring_back() {
    // deploygen's own .gitignore ignores the wrapper charts' charts/ folders (fetched mode).
    let (dir, charts) = setup("archive");
    std::fs::write(dir.path().join(".gitignore"), "applications/*/charts/\n").unwrap();
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    let first = &charts[0].2;
    let folder = first.rsplit_once('/').unwrap().0;
    assert!(
        err.contains(&format!(
            "{}: is ignored by git (.gitignore:1 `applications/*/charts/` ignores its folder \
             {folder}): a fresh clone will not have it; set \
             layout.vendored_as: unpacked and run `deploygen vendor --matrix matrix.yaml \
             --from DIR` (DIR: the archives `helm pull` fetched), or add `!{folder}/`",
            Path::new(".").join(first).display()
        )),
        "{err}"
    );
    // Unpacked charts sit in that folder too: the rule is named for them as well.
    std::fs::write(dir.path().join("matrix.yaml"), matrix("unpacked")).unwrap();
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("add `!{folder}/` after it, or drop that rule")),
        "{err}"
    );
    // Brought back as suggested: check passes.
    let mut gitignore = "applications/*/charts/\n".to_string();
    for (_, _, f) in &charts {
        gitignore.push_str(&format!("!{}/\n", f.rsplit_once('/').unwrap().0));
    }
    std::fs::write(dir.path().join(".gitignore"), gitignore).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn switching_from_unpacked_to_archives_removes_the_chart_folder_and_an_empty_one_is_no_finding() {
    let (dir, charts) = setup("unpacked");
    assert_eq!(vendor(dir.path()).status.code(), Some(0));
    std::fs::write(dir.path().join("matrix.yaml"), matrix("archive")).unwrap();
    let o = vendor(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let folder = dir.path().join(&charts[0].2);
    assert!(!folder.join("Chart.yaml").exists());
    assert!(!folder.join("templates/cm.yaml").exists());
    // The folders left empty go with their last file.
    assert!(!folder.exists(), "the unpacked chart's folder is left");
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
    // An empty folder there loads nothing in Helm: no finding.
    std::fs::create_dir_all(folder.join("templates")).unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(0), "{err}");
    // A file in such a folder is loaded by Helm as a chart: named.
    std::fs::write(folder.join("templates/x.yaml"), "a: 1\n").unwrap();
    let (code, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}: is a chart folder the matrix does not pin",
            Path::new(".").join(&charts[0].2).display()
        )),
        "{err}"
    );
}
