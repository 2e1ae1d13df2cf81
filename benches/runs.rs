//! `cargo bench --bench runs`: what `render` and `check` cost, run as the commands run them
//! (validate, render, manifest, compare with the disk, write), on the default matrix and on a
//! matrix of 100 environments. Goals (issue 23; README, "Speed"): a no-op render and `check`
//! cost no more than November's build, a fresh render no more than 1.3 times, and the render
//! stays linear in the number of environments. Instruction counts against another build:
//! `.ci/instructions OLD NEW`. Speed lives here, never in tests.

use std::path::Path;
use std::time::{Duration, Instant};

use deploygen::disk::{self, WriteOptions};

mod common;
use common::{environments, temp};

use common::MATRIX;

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

/// `deploygen render`'s work: validate and render the matrix, then bring the tree on disk to it.
fn render(matrix: &str, out: &Path) -> disk::Summary {
    let tree = deploygen::render("matrix.yaml", matrix.as_bytes()).expect("renders");
    disk::write(out, &tree, WriteOptions::default()).expect("writes")
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
