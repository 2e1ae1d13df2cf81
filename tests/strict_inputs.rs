//! Issue 20's input strictness, end to end: every YAML input passes the door of its kind
//! (catalog files and rules.yaml, audit input, the matrix), catalog files are as strict as the
//! matrix (names, tags, TODOs in any spelling, pending replacements), errors quote tokens and
//! never files, and user input that used to end as "a deploygen bug" (exit 3) is refused
//! (exit 2) or rendered.

mod common;

use std::path::Path;

use common::{compiled_catalog_file as compiled, run, stderr, workdir, MATRIX};

fn write(dir: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
}

/// The refusal of a catalog directory holding `files`, as one message.
fn catalog_refusal(files: &[(&str, &str)]) -> String {
    let d = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(d.path(), rel, text);
    }
    deploygen::disk::read::catalog(Some(d.path()))
        .map(|_| {
            panic!(
                "accepted: {:?}",
                files.iter().map(|f| f.0).collect::<Vec<_>>()
            )
        })
        .unwrap_err()
        .to_string()
}

/// A catalog directory holding `files`, loaded.
fn catalog_of(files: &[(&str, &str)]) -> deploygen::catalog::Catalog {
    let d = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(d.path(), rel, text);
    }
    deploygen::disk::read::catalog(Some(d.path())).unwrap()
}

/// kserve v0.15.2's compiled-in entry as a new version, v0.15.9.
fn entry_v0_15_9() -> String {
    let text = compiled("kserve/v0.15.2.yaml");
    assert!(text.contains("version: v0.15.2\n"));
    text.replacen("version: v0.15.2\n", "version: v0.15.9\n", 1)
}

/// 1-based line of the first line of `text` that starts with `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(needle))
        .unwrap_or_else(|| panic!("no {needle:?}"))
        + 1
}

/// About 500 KB of each kind of nesting the YAML library is slow on, behind `head`.
fn hostile(head: &str) -> [(String, &'static str); 2] {
    let flow = format!("{head}{}\n", "[".repeat(500_000));
    let mut block = head.to_string();
    let mut depth = 0;
    while block.len() < 500_000 {
        block.push_str(&format!("{}k{depth}:\n", " ".repeat(depth)));
        depth += 1;
    }
    [(flow, "flow"), (block, "block")]
}

#[test]
fn hostile_nesting_in_a_catalog_file_or_rules_yaml_is_refused_located() {
    for (rel, head) in [
        (
            "kserve/v0.99.0.yaml",
            "component: kserve\nversion: v0.99.0\nlabel: ",
        ),
        ("rules.yaml", "known_bad: "),
    ] {
        for (text, kind) in hostile(head) {
            let err = catalog_refusal(&[(rel, &text)]);
            // The flow is refused at its 32nd bracket on line 1 (one level for the mapping
            // it is in); the block maps at the 33rd key, 32 columns in.
            let at = match (kind, rel) {
                ("flow", "rules.yaml") => format!("{rel}:1:{}:", "known_bad: ".len() + 32),
                ("flow", _) => format!("{rel}:3:{}:", "label: ".len() + 32),
                (_, "rules.yaml") => format!("{rel}:33:33:"),
                _ => format!("{rel}:35:33:"),
            };
            assert!(
                err.contains(&at) && err.contains("nests deeper than 32 levels; a catalog file"),
                "{rel} {kind}: want {at}\n{}",
                &err[..err.len().min(400)]
            );
        }
    }
}

#[test]
fn hostile_nesting_in_audit_input_is_refused_located() {
    let dir = workdir(MATRIX);
    for (text, kind) in hostile("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: ") {
        std::fs::write(dir.path().join("in.yaml"), &text).unwrap();
        let o = run(dir.path(), &["audit", "--env", "online", "in.yaml"]);
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{kind}: {}",
            &err[..err.len().min(400)]
        );
        let at = if kind == "flow" {
            format!("in.yaml:4:{}:", "data: ".len() + 100)
        } else {
            "in.yaml:104:101:".to_string()
        };
        assert!(
            err.contains(&format!(
                "error: {at} nests deeper than 100 levels; a manifest stream"
            )),
            "{kind}: want {at}\n{}",
            &err[..err.len().min(400)]
        );
    }
}

#[test]
fn audit_input_takes_kubernetes_yaml_and_refuses_custom_tags_and_duplicates() {
    let read = |text: &str| {
        deploygen::audit::manifest::read("in.yaml", text, &|_| None).map_err(|e| e.to_string())
    };
    let object = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
    // YAML's core tags are Kubernetes' YAML: read, with the values Kubernetes reads.
    let objs = read(&format!(
        "{object}data:\n  n: !!str 1\n  b: !!binary aGk=\n---\n{object}data: !!map {{x: y}}\n"
    ))
    .unwrap();
    assert_eq!(objs[0].str_at("data.n"), Some("1"));
    assert_eq!(objs[0].str_at("data.b"), Some("aGk="));
    assert_eq!(objs[1].line, 9);
    // A merge key is applied as Kubernetes' YAML reader applies it.
    let merged = read(&format!(
        "{object}x: &i {{image: evil, name: c}}\nspec: {{<<: *i, name: own}}\n"
    ))
    .unwrap();
    assert_eq!(merged[0].str_at("spec.image"), Some("evil"));
    assert_eq!(merged[0].str_at("spec.name"), Some("own"));
    // A custom tag, a %TAG directive, a duplicate key, a merge key on no mapping: refused,
    // located.
    for (text, at, message) in [
        (
            format!("{object}data:\n  a: !Ref x\n"),
            "in.yaml:6:6:",
            "has the YAML tag `!Ref`",
        ),
        (
            format!("%TAG !! tag:example.com,2000:\n---\n{object}"),
            "in.yaml:1:1:",
            "has a %TAG directive",
        ),
        (
            format!("{object}---\n{object}data:\n  a: x\n  a: y\n"),
            "in.yaml:11:3:",
            "is not YAML: data: duplicate key `a` in one mapping",
        ),
        (
            format!("{object}  labels: {{a: x, a: y}}\n"),
            "in.yaml:5:11:",
            "duplicate key `a`",
        ),
        (
            format!("{object}x: &i {{image: evil}}\nspec: {{<<: 7}}\n"),
            "in.yaml:6:",
            "a merge key `<<` takes a mapping",
        ),
    ] {
        let err = read(&text).unwrap_err();
        assert!(
            err.contains(at) && err.contains(message),
            "{text}\nwant {at} {message}\n{err}"
        );
    }
}

#[test]
fn catalog_files_are_plain_data_one_document_without_duplicates() {
    let entry = entry_v0_15_9();
    for (text, message) in [
        (
            entry.replacen("label: kserve", "label: !!str kserve", 1),
            "has a YAML tag (`!!str`); a catalog file is plain data",
        ),
        (
            format!("{entry}---\ncomponent: kserve\n"),
            "starts a second YAML document; a catalog file is one document",
        ),
        (
            entry.replacen("label: kserve\n", "label: kserve\nlabel: kserve\n", 1),
            "duplicate entry with key \"label\"",
        ),
        (
            entry.replacen("label: kserve\n", "label: kserve\n\u{2028}", 1),
            "which YAML reads as a line break",
        ),
    ] {
        let err = catalog_refusal(&[("kserve/v0.15.9.yaml", &text)]);
        assert!(
            err.contains("kserve/v0.15.9.yaml:") && err.contains(message),
            "want {message}\n{err}"
        );
    }
    let err = catalog_refusal(&[(
        "rules.yaml",
        "known_bad:\n  - component: kserve\n    component: istio\n",
    )]);
    assert!(
        err.contains("rules.yaml:2:5: known_bad[0]: duplicate entry with key \"component\""),
        "{err}"
    );
}

#[test]
fn a_todo_in_any_spelling_leaves_the_entry_pending() {
    let entry = entry_v0_15_9();
    let source = "    source: ";
    assert!(entry.contains(source));
    for todo in [
        "todo: ask upstream",
        "TODO - the range",
        "\\u200BTODO: pasted with a zero-width space",
        "\\uFEFFTodo(maria)",
    ] {
        // The first `source:` value replaced (a double-quoted YAML string: `\uXXXX` escapes).
        let at = entry.find(source).unwrap() + source.len();
        let end = at + entry[at..].find('\n').unwrap();
        let text = format!("{}\"{todo}\"{}", &entry[..at], &entry[end..]);
        let c = catalog_of(&[("kserve/v0.15.9.yaml", &text)]);
        let key = ("kserve".to_string(), "v0.15.9".to_string());
        assert!(c.pending.contains_key(&key), "{todo:?} left it ready");
        assert!(c.get("kserve", "v0.15.9").is_none(), "{todo:?}");
    }
    // A TODO as a mapping key (a values key still to be found).
    let mode = "    deployment_mode_path: kserve.controller.deploymentMode\n";
    assert!(entry.contains(mode));
    let text = entry.replacen(
        mode,
        &format!("{mode}    values:\n      \"TODO: which key\": 1\n"),
        1,
    );
    let c = catalog_of(&[("kserve/v0.15.9.yaml", &text)]);
    let todos = &c.pending[&("kserve".to_string(), "v0.15.9".to_string())].todos;
    assert!(
        todos
            .iter()
            .any(|t| t.location.contains(".values.TODO: which key")),
        "{todos:?}"
    );
    // A tagged TODO never makes it ready either: the tag itself is refused.
    let text = entry.replacen(source, "    source: !todo ", 1);
    assert!(catalog_refusal(&[("kserve/v0.15.9.yaml", &text)]).contains("has a YAML tag (`!todo`)"));
}

#[test]
fn names_that_leave_the_tree_or_break_helm_grammar_are_refused_at_load() {
    let entry = entry_v0_15_9();
    for (from, to, path, message) in [
        (
            "      name: kserve\n      version: v0.15.2\n",
            "      name: ./../../../../OUT/esc\n      version: v0.15.2\n",
            ".chart.name",
            "`./../../../../OUT/esc` is not a Helm chart name",
        ),
        (
            "  - name: kserve\n",
            "  - name: ../../x\n",
            ".name",
            "`../../x` is not a Helm release name",
        ),
        (
            "  - name: kserve\n",
            "  - name: k serve\n",
            ".name",
            "`k serve` is not a Helm release name",
        ),
        (
            "      version: v0.15.2\n",
            "      version: v0.15\n",
            ".chart.version",
            "`v0.15` is not a chart version",
        ),
    ] {
        assert!(entry.contains(from), "{from:?}");
        let text = entry.replacen(from, to, 1);
        let err = catalog_refusal(&[("kserve/v0.15.9.yaml", &text)]);
        let changed = to.lines().next().unwrap();
        let line = line_of(&text, changed);
        assert!(
            err.contains(&format!("kserve/v0.15.9.yaml:{line}:"))
                && err.contains(path)
                && err.contains(message),
            "{to}: want line {line}, {path}: {message}\n{err}"
        );
    }
}

#[test]
fn a_pending_replacement_of_a_compiled_in_entry_refuses_a_matrix_pinning_it() {
    let dir = workdir(MATRIX);
    let text = compiled("kserve/v0.14.1.yaml");
    let source = text.find("    source: ").expect("a source");
    let pending = format!("{}    source: \"todo: re-check\"\n{}", &text[..source], {
        let rest = &text[source..];
        &rest[rest.find('\n').unwrap() + 1..]
    });
    write(dir.path(), "catalog/kserve/v0.14.1.yaml", &pending);
    let o = run(dir.path(), &["check"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("versions.kserve: kserve v0.14.1 is in")
            && err.contains("catalog/kserve/v0.14.1.yaml but not usable yet"),
        "{err}"
    );
    let list = common::stdout(&run(dir.path(), &["catalog", "list"]));
    let line = list
        .lines()
        .find(|l| l.contains(" v0.14.1 "))
        .unwrap_or_default();
    assert!(line.contains("pending (1 TODO)"), "{list}");
}

#[test]
fn errors_quote_tokens_never_files() {
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBTRUNSRVRTRUNSRVRTRUNSRVRTRUNSRVRTRUNSRVRTRUNSRVQAAAAJi\n-----END OPENSSH PRIVATE KEY-----\n";
    let credentials = "https://maria:ghp_s3cr3tT0k3nValue@github.com\n";
    // A catalog entry that is a key, a matrix that is a credentials line: `check`, `render`.
    let dir = workdir(MATRIX);
    write(dir.path(), "catalog/kserve/v0.99.0.yaml", key);
    for cmd in ["check", "render"] {
        let o = run(dir.path(), &[cmd]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("kserve/v0.99.0.yaml:1:1: holds a string"),
            "{err}"
        );
        for secret in ["b3Bl", "Qy", "TUN", "END OPENSSH"] {
            assert!(!err.contains(secret), "{cmd} printed the key: {err}");
        }
    }
    let dir = workdir(credentials);
    for cmd in ["check", "render"] {
        let o = run(dir.path(), &[cmd]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("matrix.yaml:1:1: holds a string where a matrix"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t") && !err.contains("maria"), "{err}");
    }
    // A value where a typed error quotes it: cut to 32 characters.
    let secret = format!("{}SECRETPART", "x".repeat(40));
    let bad = MATRIX.replacen("  kserve: v0.14.1", &format!("  kserve: [{secret}]"), 1);
    let dir = workdir(&bad);
    let err = stderr(&run(dir.path(), &["check"]));
    assert!(
        err.contains("versions.kserve: invalid type: sequence"),
        "{err}"
    );
    let bad = MATRIX.replacen("tools:\n", &format!("{secret}:\ntools:\n"), 1);
    let dir = workdir(&bad);
    let err = stderr(&run(dir.path(), &["check"]));
    assert!(
        err.contains(&format!("unknown field `{}…`", "x".repeat(32)))
            && !err.contains("SECRETPART"),
        "{err}"
    );
}

/// The default matrix with airgap's mirror bound at install time (its egress policy then
/// needs the mirror's address).
fn bound() -> String {
    let m = MATRIX.replacen(
        "    mirror: 10.61.3.31:35000\n",
        "    mirror: {from_value: offline.registry}\n",
        1,
    );
    let m = m.replacen(
        "        api_server_port: 6443\n",
        "        api_server_port: 6443\n        mirror_cidr: 10.61.3.31/32\n",
        1,
    );
    assert_ne!(m, MATRIX);
    m
}

#[test]
fn a_bound_mirror_with_the_load_test_renders() {
    let dir = workdir(&bound());
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let readme = std::fs::read_to_string(dir.path().join("examples/airgap/README.md")).unwrap();
    assert!(
        readme.contains("through the ingress gateway (`${REGISTRY}/library/busybox:1.36.1`)"),
        "{readme}"
    );
    let job = std::fs::read_to_string(dir.path().join("examples/airgap/load-test.yaml")).unwrap();
    assert!(job.contains("${REGISTRY}/library/busybox:1.36.1"), "{job}");
}

#[test]
fn template_delimiters_in_an_override_key_are_refused_where_values_are_gotmpl() {
    let overrides = "    overrides:\n      kserve:\n        kserve:\n          controller:\n            nodeSelector:\n              \"{{x}}\": a\n";
    let mirror = "    mirror: {from_value: offline.registry}\n";
    let m = bound().replacen(mirror, &format!("{mirror}{overrides}"), 1);
    let dir = workdir(&m);
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let line = line_of(&m, "              \"{{x}}\"");
    assert!(
        err.contains(&format!(
            "error: matrix.yaml:{line}:15: environments.airgap.overrides.kserve.kserve.controller.nodeSelector.{{{{x}}}}: the key `{{{{x}}}}` holds a template delimiter"
        )),
        "want line {line}\n{err}"
    );
    // Without a bound mirror the values are plain YAML, which helmfile does not render.
    let m = MATRIX.replacen(
        "    mirror: 10.61.3.31:35000\n",
        &format!("    mirror: 10.61.3.31:35000\n{overrides}"),
        1,
    );
    let dir = workdir(&m);
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_release_named_out_of_the_tree_is_refused_not_a_bug() {
    let dir = workdir(MATRIX);
    let text = compiled("kserve/v0.14.1.yaml");
    let from = "  - name: kserve\n";
    assert!(text.contains(from));
    write(
        dir.path(),
        "catalog/kserve/v0.14.1.yaml",
        text.replacen(from, "  - name: ../../x\n", 1),
    );
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let line = text[..text.find(from).unwrap()].lines().count() + 1;
    assert!(
        err.contains(&format!(
            "kserve/v0.14.1.yaml:{line}:5: releases[1].name: `../../x` is not a Helm release name"
        )),
        "want line {line}\n{err}"
    );
}

#[test]
fn a_parent_helmfile_passes_the_door_too() {
    let m = MATRIX.replacen(
        "tools:\n",
        "layout:\n  helmfile: stack/helmfile.yaml\n  parent: {helmfile: helmfile.yaml}\n\ntools:\n",
        1,
    );
    let dir = workdir(&m);
    assert_eq!(run(dir.path(), &["render"]).status.code(), Some(0));
    for (parent, want) in [
        (
            "helmfiles:\n  - path: stack/helmfile.yaml\nenvironments:\n  online: {}\n  online: {}\n",
            "error: helmfile.yaml (part 1):4:3: is not YAML once template actions are set aside: environments: duplicate entry with key \"online\"",
        ),
        (
            "helmfiles:\n  - path: !Ref stack/helmfile.yaml\n",
            "error: helmfile.yaml (part 1):2:11: has the YAML tag `!Ref`; a helmfile takes only",
        ),
    ] {
        write(dir.path(), "helmfile.yaml", parent);
        let o = run(dir.path(), &["check"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
    }
    // The same parent, well formed, is read (and includes the stack).
    write(
        dir.path(),
        "helmfile.yaml",
        "helmfiles:\n  - path: !!str stack/helmfile.yaml\nenvironments:\n  online: {}\n  airgap: {}\n",
    );
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_catalog_values_key_a_gotmpl_file_cannot_hold_is_refused_at_load() {
    let dir = workdir(&bound());
    let text = compiled("kserve/v0.14.1.yaml");
    // The kserve release's values (the first `values:` of the file) get one more key.
    let values = "    values:\n";
    assert!(text.contains(values));
    let bad = text.replacen(values, "    values:\n      \"{{x}}\": 1\n", 1);
    write(dir.path(), "catalog/kserve/v0.14.1.yaml", &bad);
    let o = run(dir.path(), &["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let line = line_of(&bad, "      \"{{x}}\"");
    assert!(
        err.contains(&format!(
            "kserve/v0.14.1.yaml:{line}:7: releases[1].values.{{{{x}}}}: the key `{{{{x}}}}` holds a template delimiter"
        )),
        "want line {line}\n{err}"
    );
}
