//! `cargo bench --bench runs`: what `render` and `check` cost, run as the commands run them
//! (validate, render, manifest, compare with the disk, write), on the default matrix and on a
//! matrix of 100 environments. Goals (issue 23; README, "Speed"): a no-op render and `check`
//! cost no more than November's build, a fresh render no more than 1.3 times, and the render
//! stays linear in the number of environments. Instruction counts against another build:
//! `.ci/instructions OLD NEW`. Speed lives here, never in tests.

use std::path::Path;
use std::time::{Duration, Instant};

use deploygen::disk::{self, WriteOptions};

const MATRIX: &str = include_str!("../matrix.yaml");

fn time<F: FnMut()>(name: &str, iterations: u32, mut f: F) -> Duration {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per = start.elapsed() / iterations;
    println!("{name:<44} {per:>12.2?} per run ({iterations} runs)");
    per
}

/// The default matrix with its `online` environment copied `n` times.
fn environments(n: usize) -> String {
    let mut m: serde_yaml::Value = serde_yaml::from_str(MATRIX).expect("default matrix");
    let envs = m["environments"].as_mapping_mut().expect("environments");
    let online = envs["online"].clone();
    envs.clear();
    for i in 0..n {
        envs.insert(format!("env-{i:04}").into(), online.clone());
    }
    let block = serde_yaml::to_string(&m).expect("serializes");
    if block.len() <= MATRIX_LIMIT {
        return block;
    }
    // 1000 environments written out pass the matrix's size limit (1 MiB, in block or flow
    // style): the first one then written once, with an anchor, and the others its alias.
    // Every environment is still read, planned and rendered; only the matrix's text is shorter.
    m["environments"] = serde_yaml::Value::Mapping(Default::default());
    let mut text = serde_yaml::to_string(&m).expect("serializes");
    text = text.replace("environments: {}\n", "");
    text.push_str("environments:\n");
    let flow = serde_json::to_string(&online).expect("serializes");
    for i in 0..n {
        if i == 0 {
            text.push_str(&format!("  env-{i:04}: &env {flow}\n"));
        } else {
            text.push_str(&format!("  env-{i:04}: *env\n"));
        }
    }
    assert!(text.len() <= MATRIX_LIMIT, "{} bytes", text.len());
    text
}

/// The largest matrix deploygen reads.
const MATRIX_LIMIT: usize = 1024 * 1024;

/// `deploygen render`'s work: validate and render the matrix, then bring the tree on disk to it.
fn render(matrix: &str, out: &Path) -> disk::Summary {
    let tree = deploygen::render("matrix.yaml", matrix.as_bytes()).expect("renders");
    disk::write(out, &tree, WriteOptions::default()).expect("writes")
}

/// A folder for one case: under DEPLOYGEN_BENCH_DIR, else tmpfs (/dev/shm) where there is one,
/// else the temp folder. On a disk, a fresh render's time is mostly the writer's fsyncs (each
/// file is synced before it is swapped in), which measures the disk, not deploygen.
fn temp(name: &str) -> std::path::PathBuf {
    let base = std::env::var_os("DEPLOYGEN_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let shm = Path::new("/dev/shm");
            shm.is_dir().then(|| shm.to_path_buf())
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("deploygen-bench-{}-{name}", std::process::id()))
}

fn main() {
    let fresh_dir = temp("fresh");
    time("fresh render (default matrix)", 30, || {
        let _ = std::fs::remove_dir_all(&fresh_dir);
        assert!(!render(MATRIX, &fresh_dir).created.is_empty());
    });
    time("no-op render (default matrix)", 50, || {
        assert!(render(MATRIX, &fresh_dir).is_noop());
    });
    time("check (default matrix)", 50, || {
        let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).expect("renders");
        assert!(disk::diff(&fresh_dir, &tree).expect("diff").is_empty());
    });
    let _ = std::fs::remove_dir_all(&fresh_dir);

    // Linear in environments: the cost per environment at 10 and at 100 (and 1000 with
    // DEPLOYGEN_BENCH_1000=1, a few seconds).
    let mut sizes = vec![10, 100];
    if std::env::var_os("DEPLOYGEN_BENCH_1000").is_some() {
        sizes.push(1000);
    }
    let mut per_env = Vec::new();
    for n in sizes {
        let matrix = environments(n);
        let dir = temp(&format!("n{n}"));
        let runs = if n >= 1000 { 2 } else { 5 };
        let per = time(&format!("fresh render, {n} environments"), runs, || {
            let _ = std::fs::remove_dir_all(&dir);
            render(&matrix, &dir);
        });
        time(&format!("no-op render, {n} environments"), runs, || {
            assert!(render(&matrix, &dir).is_noop());
        });
        let _ = std::fs::remove_dir_all(&dir);
        per_env.push((n, per / n as u32));
    }
    for (n, per) in &per_env {
        println!("fresh render per environment at {n:<5} {per:>12.2?}");
    }
}
