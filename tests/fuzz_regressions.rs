//! Inputs found by (or built after) fuzzing `deploygen::render` (fuzz/fuzz_targets/matrix.rs).
//! Each one must end in `Ok` or `Error::Invalid`: never a panic, never `Error::Internal`, and
//! never take long.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::MATRIX;
use deploygen::Error;

/// What the fuzz target checks, plus a time budget (debug build).
#[track_caller]
fn handled(text: &[u8]) -> Option<Vec<deploygen::base::error::Problem>> {
    let start = Instant::now();
    let result = deploygen::render("matrix.yaml", text);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(20), "render took {took:?}");
    match result {
        Ok(_) => None,
        Err(Error::Invalid(problems)) => {
            assert!(!problems.is_empty());
            let _ = Error::Invalid(problems.clone()).to_string();
            Some(problems)
        }
        Err(e) => panic!("not Invalid: {e:?}"),
    }
}

#[track_caller]
fn env_block(extra: &str) -> String {
    let header = "\n  airgap:\n";
    let at = MATRIX.find(header).expect("environment airgap") + header.len();
    format!("{}{extra}{}", &MATRIX[..at], &MATRIX[at..])
}

/// Thousands of independent problems in a matrix under the size limit. Every problem was
/// located by re-scanning the whole text (`locate::locate` per problem: lines x problems), so
/// a 1 MB matrix took minutes to be refused (3 min release, >10 min debug). The test runs the
/// binary with a deadline so a regression fails in bounded time instead of hanging the suite.
#[test]
fn many_problems_are_refused_in_bounded_time() {
    let mut body = String::new();
    let mut i = 0;
    loop {
        let line = format!(
            "    w{i}: {{requests: {{cpu: x, memory: y}}, limits: {{cpu: z, memory: q}}}}\n"
        );
        if MATRIX.len() + body.len() + line.len()
            > deploygen::model::matrix::MAX_MATRIX_BYTES - 1024
        {
            break;
        }
        body.push_str(&line);
        i += 1;
    }
    let text = MATRIX.replacen("  minimal:\n", &format!("  minimal:\n{body}"), 1);
    assert_ne!(text, MATRIX);
    let dir = common::workdir(&text);
    let err_path = dir.path().join("stderr.txt");
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_deploygen"))
        .args(["render", "--out", "out"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("run deploygen");
    let budget = Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > budget {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{i} bad workloads ({} bytes): not refused within {budget:?}",
                text.len()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(2));
    assert!(!dir.path().join("out").exists());
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert!(
        err.contains("profiles.minimal.w0"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(
        err.contains("more problems not shown; fix these first"),
        "{}",
        &err[err.len().saturating_sub(2000)..]
    );
    assert!(
        err.ends_with("nothing was written\n"),
        "{}",
        &err[err.len().saturating_sub(2000)..]
    );
}

/// YAML aliases expanding exponentially ("billion laughs"), under the size limit.
#[test]
fn alias_bomb() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text.push_str(&MATRIX.replacen("registries:\n", "registries:\n  bomb: *a11\n", 1));
    assert!(handled(text.as_bytes()).is_some());
}

#[test]
fn deep_nesting() {
    for open in ["[", "{a: ", "- "] {
        let text = format!("versions: {}", open.repeat(20_000));
        assert!(handled(text.as_bytes()).is_some(), "{open}");
    }
}

/// Key paths with `.`, `[`, `]` and quotes in them go through `locate` (which splits paths on
/// them) and the did-you-mean hints.
#[test]
fn key_paths_with_path_syntax() {
    for name in [
        "a[0]",
        "a.b",
        "[",
        "]",
        "a[99999999999999999999]",
        "\"x\"",
        "a[-1].b",
        "..",
        "x\u{2028}y",
    ] {
        let q = serde_json::to_string(name).unwrap();
        let text = MATRIX.replacen("\n  airgap:\n", &format!("\n  {q}:\n"), 1);
        assert!(handled(text.as_bytes()).is_some(), "{name:?}");
        let text = MATRIX.replacen("  minimal:\n", &format!("  minimal:\n    {q}: {{requests: {{cpu: 1, memory: 1}}, limits: {{cpu: 1, memory: 1}}}}\n"), 1);
        assert!(handled(text.as_bytes()).is_some(), "{name:?}");
    }
}

/// A near-1 MB unknown key (an explicit `? key` one: libyaml caps simple keys at 1024
/// characters): the did-you-mean edit distance must stay cheap.
#[test]
fn huge_unknown_key() {
    let key = "k".repeat(900_000);
    let text = MATRIX.replacen("\nversions:\n", &format!("\n? {key}\n: 1\nversions:\n"), 1);
    let problems = handled(text.as_bytes()).expect("refused");
    let first: String = problems[0].message.chars().take(200).collect();
    assert!(first.starts_with("unknown field `kkk"), "{first}");
}

/// YAML line breaks other than \n (NEL, LS, PS) and a BOM inside free-text values that reach
/// rendered files (binding group names, accept reasons, extra-image reasons).
#[test]
fn unicode_line_breaks_in_free_text() {
    for s in [
        "a\u{85}b",
        "a\u{2028}b",
        "a\u{2029}b",
        "\u{feff}a",
        "a\u{85}: b",
        "a\u{2028}# c",
    ] {
        let escaped: String = s
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    format!("\\u{:04x}", c as u32)
                }
            })
            .collect();
        let group = MATRIX.replacen(
            "{group: astrago-admins,",
            &format!("{{group: \"{escaped}\","),
            1,
        );
        assert_ne!(group, MATRIX, "the default matrix binds astrago-admins");
        handled(group.as_bytes());
        let accept = env_block(&format!(
            "    accept:\n      - {{rule: kserve-recommended-istio, reason: \"{escaped}\"}}\n    extra_images:\n      - {{image: registry.example.com/a/b:v1, why: \"{escaped}\"}}\n"
        ));
        handled(accept.as_bytes());
    }
}

/// Raw (unquoted) odd bytes spliced into the default matrix at a value position.
#[test]
fn raw_splices() {
    for raw in [
        "\u{85}",
        "\u{2028}",
        "\t",
        "\r",
        "*x",
        "&x",
        "!x",
        "%x",
        "@",
        "`",
        "|\n x",
        ">-\n x",
        "? x",
        "<<: *x",
        "!!binary x",
        "!!int x",
    ] {
        let text = MATRIX.replacen("mirror: 10.61.3.31:35000", &format!("mirror: {raw}"), 1);
        handled(text.as_bytes());
        let text = MATRIX.replacen("  istio: ", &format!("  istio: {raw}"), 1);
        handled(text.as_bytes());
    }
}
