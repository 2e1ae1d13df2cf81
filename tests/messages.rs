//! Issue 21's smaller defects in what deploygen says: a mirror written as a URL names the
//! scheme to drop, a run outside the deployment repository says where to run it, and a command
//! that never writes does not end its errors with "nothing was written".

mod common;

use common::{run, stderr, workdir, MATRIX};

#[test]
fn a_mirror_written_as_a_url_says_to_drop_the_scheme() {
    let m = MATRIX.replacen(
        "mirror: 10.61.3.31:35000",
        "mirror: https://10.61.3.31:35000",
        1,
    );
    assert_ne!(
        m, MATRIX,
        "the default matrix names the mirror 10.61.3.31:35000"
    );
    let dir = workdir(&m);
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("drop the scheme (`10.61.3.31:35000`)"),
        "{err}"
    );
    assert!(!err.contains("is not a number"), "{err}");
}

#[test]
fn a_run_outside_the_repository_says_where_to_run_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["render"][..], &["check"], &["images"]] {
        let o = run(dir.path(), args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("matrix.yaml: no matrix here") && err.contains("--matrix PATH"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn only_commands_that_write_say_nothing_was_written() {
    let dir = workdir(&MATRIX.replacen("kubernetes: v1.28.6", "kubernetes: one", 1));
    for (args, writes) in [
        (&["render"][..], true),
        (&["bump", "cert-manager", "v1.16.5"], true),
        (&["check"], false),
        (&["diff"], false),
        (&["images"], false),
        (&["explain"], false),
    ] {
        let o = run(dir.path(), args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("kubernetes"), "{args:?}: {err}");
        assert_eq!(
            err.contains("nothing was written"),
            writes,
            "{args:?}: {err}"
        );
    }
}

#[test]
fn nothing_deploygen_prints_or_renders_cites_a_folder_a_checkout_lacks() {
    let stack = std::fs::read_to_string(common::repo_root().join("stacks/2026/matrix.yaml"))
        .expect("stacks/2026/matrix.yaml");
    for (name, text) in [("matrix.yaml", MATRIX.to_string()), ("stacks/2026", stack)] {
        let tree = deploygen::render("matrix.yaml", text.as_bytes()).expect("renders");
        for (path, body) in &tree {
            assert!(
                !body.contains("../shared/"),
                "{name}: {path} cites ../shared/"
            );
        }
        let dir = workdir(&text);
        let o = run(dir.path(), &["explain"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = format!("{}{}", common::stdout(&o), stderr(&o));
        assert!(
            !out.contains("../shared/"),
            "{name}: explain cites ../shared/"
        );
    }
}
