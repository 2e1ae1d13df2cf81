//! `cargo bench --bench peer`: deploygen against a Python + Jinja2 renderer of the same
//! templates (`benches/peer/render.py`), both run as processes on the same matrix, at 2 and 100
//! environments. Goal (issue 23; README, "Speed"): at 100 environments deploygen renders at
//! least 20 times faster, and stays linear at 1000 (`DEPLOYGEN_BENCH_1000=1`).
//!
//! The peer is handed what deploygen's planner built (every template's context, from
//! `render::trace`), so it reads no matrix, validates and plans nothing, self-checks nothing
//! and writes without the all-or-nothing writer: its time is a lower bound for a real peer,
//! and the ratio printed here a lower bound of deploygen's lead. Both trees are compared byte
//! for byte before any time counts, so the peer renders what deploygen renders.
//!
//! Needs `python3` with Jinja2 and PyYAML; without them it says so and measures nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use deploygen::render::trace::{self, Call};

mod common;
use common::{environments, temp, MATRIX};

const BIN: &str = env!("CARGO_BIN_EXE_deploygen");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn main() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import jinja2, yaml, markupsafe"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        println!("peer: {python} with jinja2 and yaml is not available here; nothing measured");
        return;
    }
    let mut sizes = vec![2usize, 100];
    if std::env::var_os("DEPLOYGEN_BENCH_1000").is_some() {
        sizes.push(1000);
    }
    let mut rows = Vec::new();
    for n in sizes {
        let matrix = if n == 2 {
            MATRIX.to_string()
        } else {
            environments(n)
        };
        let dir = temp(&format!("peer-n{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench folder");
        std::fs::write(dir.join("matrix.yaml"), &matrix).expect("matrix");
        let runs = if n >= 1000 { 3 } else { 7 };

        let ours = median(runs, || {
            let _ = std::fs::remove_dir_all(dir.join("rust"));
            run(Command::new(BIN).current_dir(&dir).args([
                "render",
                "--matrix",
                "matrix.yaml",
                "--out",
                "rust",
            ]))
        });
        // The dump is made from the tree deploygen wrote, so the peer's bytes are compared
        // with the files on disk, header and all.
        let written = read_tree(&dir.join("rust"));
        let (tree, calls) =
            trace::traced(|| deploygen::render("matrix.yaml", matrix.as_bytes()).expect("renders"));
        std::fs::write(dir.join("dump.json"), dump(&written, &tree, &calls)).expect("dump");

        let theirs = median(runs.min(3), || {
            let _ = std::fs::remove_dir_all(dir.join("peer"));
            run(Command::new(&python).current_dir(&dir).args([
                &format!("{ROOT}/benches/peer/render.py"),
                "dump.json",
                &format!("{ROOT}/templates"),
                "peer",
            ]))
        });
        let peer = read_tree(&dir.join("peer"));
        same_trees(&written, &peer);
        // Of deploygen's time, what reading, planning and rendering take (in process, no
        // self-check, no hashing, no writing).
        let rendering = median(runs, || {
            deploygen::render("matrix.yaml", matrix.as_bytes()).expect("renders");
        });
        println!(
            "{n:>5} environments: deploygen reads, plans and renders in {rendering:.2?} of it (in process)"
        );
        println!(
            "{n:>5} environments: deploygen {ours:>9.2?}, Python + Jinja2 {theirs:>9.2?}: x{:.1} ({} files, {} template renders)",
            theirs.as_secs_f64() / ours.as_secs_f64(),
            written.len(),
            calls.len()
        );
        rows.push((n, ours, theirs));
        let _ = std::fs::remove_dir_all(&dir);
    }
    // The cost of one more environment, each side: what the ratio tends to as environments
    // grow (the fixed costs, Python's start and Jinja2's compiling, fade).
    for w in rows.windows(2) {
        let ((a, ta, pa), (b, tb, pb)) = (w[0], w[1]);
        let ours = tb.saturating_sub(ta) / (b - a) as u32;
        let theirs = pb.saturating_sub(pa) / (b - a) as u32;
        println!(
            "per environment, {a} to {b}: deploygen {ours:.2?}, Python + Jinja2 {theirs:.2?}: x{:.1}",
            theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9)
        );
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The median wall time of `runs` runs of `f`, after one to warm the page cache.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn read_tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.expect("walks");
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(root).expect("below root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.insert(rel, std::fs::read_to_string(e.path()).expect("utf-8"));
        }
    }
    out
}

fn same_trees(ours: &BTreeMap<String, String>, peer: &BTreeMap<String, String>) {
    // The writer's lock is no rendering.
    let ours: BTreeMap<_, _> = ours.iter().filter(|(p, _)| !p.ends_with(".lock")).collect();
    let peer: BTreeMap<_, _> = peer.iter().collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        peer.keys().collect::<Vec<_>>(),
        "the peer wrote other files"
    );
    for (path, text) in &ours {
        let theirs = peer[path];
        if *text != theirs {
            let line = text
                .lines()
                .zip(theirs.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{path}: the peer's bytes differ, line {}:\n  deploygen: {:?}\n  peer:      {:?}",
                line + 1,
                text.lines().nth(line),
                theirs.lines().nth(line)
            );
        }
    }
}

/// The peer's input: every template render (template and context), and each written file as
/// the text around one render, or whole where no template makes it.
fn dump(
    written: &BTreeMap<String, String>,
    tree: &deploygen::render::Tree,
    calls: &[Call],
) -> String {
    let placeholder = deploygen::model::mirror::PLACEHOLDER;
    let unbind = |t: &str| t.replace(placeholder, "${REGISTRY}");
    let manifest = deploygen::render::MANIFEST;
    let mut files = Vec::new();
    let mut used = vec![false; calls.len()];
    let unbound: Vec<Option<String>> = calls
        .iter()
        .map(|c| c.output.contains(placeholder).then(|| unbind(&c.output)))
        .collect();
    for (path, text) in written {
        if path == manifest || path.ends_with(".lock") {
            continue;
        }
        assert!(tree.contains_key(path), "{path} written but not rendered");
        // The render that makes this file: the longest output the file holds (as is, or with
        // the bound registry unbound, as the examples are), preferring one not yet used.
        let found = (0..calls.len())
            .filter(|&i| !calls[i].output.is_empty())
            .flat_map(|i| {
                let out = &calls[i].output;
                let mut v = Vec::new();
                if text.ends_with(out.as_str()) {
                    v.push((i, false, text.len() - out.len()));
                }
                if let Some(at) = unbound[i].as_ref().and_then(|u| text.find(u.as_str())) {
                    v.push((i, true, at));
                }
                v
            })
            .max_by_key(|&(i, _, _)| (!used[i], calls[i].output.len()))
            .or_else(|| {
                // The README's closing words follow its render.
                (0..calls.len())
                    .filter(|&i| calls[i].template.ends_with("README.md.j2") && !used[i])
                    .find_map(|i| text.find(calls[i].output.as_str()).map(|at| (i, false, at)))
            });
        let entry = match found {
            Some((i, unbound, at)) => {
                used[i] = true;
                let body = if unbound {
                    unbind(&calls[i].output)
                } else {
                    calls[i].output.clone()
                };
                serde_json::json!({
                    "path": path,
                    "call": i,
                    "unbind": unbound,
                    "prefix": &text[..at],
                    "suffix": &text[at + body.len()..],
                })
            }
            None => serde_json::json!({ "path": path, "text": text }),
        };
        files.push(entry);
    }
    // The manifest's comment lines; the hash lines after them the peer writes itself.
    let head_end: usize = written[manifest]
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.len() + 1)
        .sum();
    let calls_json: Vec<String> = calls
        .iter()
        .map(|c| {
            format!(
                "{{\"template\":{},\"context\":{}}}",
                serde_json::to_string(&c.template).expect("a string"),
                c.context
            )
        })
        .collect();
    format!(
        "{{\"placeholder\":{},\"manifest\":{},\"manifest_head\":{},\"files\":{},\"calls\":[{}]}}",
        serde_json::to_string(placeholder).expect("a string"),
        serde_json::to_string(manifest).expect("a string"),
        serde_json::to_string(&written[manifest][..head_end]).expect("a string"),
        serde_json::to_string(&files).expect("json"),
        calls_json.join(",")
    )
}
