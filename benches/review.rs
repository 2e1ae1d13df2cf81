//! `cargo bench --bench review`: `deploygen review` of two renders of a large stack. The
//! objects are those of real renders (Istio 1.22.8 and 1.25.5 as `helmfile template` prints
//! them with the upstream charts in ../shared, made when the bench starts), copied under new names until each side holds thousands of
//! objects and megabytes of YAML, more than a whole environment of the 2026 stack renders to.
//! Target: well under a second for reading both renders and the whole review.

use std::time::{Duration, Instant};

// The tests' real renders (only Istio's objects are used here).
#[allow(dead_code)]
#[path = "../tests/common/real.rs"]
mod real;

const MATRIX: &str = include_str!("../matrix.yaml");
const COPIES: usize = 200;
const TARGET: Duration = Duration::from_secs(1);

/// `COPIES` copies of a render, each under its own names (`istio` -> `istio7`, everywhere).
fn large(render: &str) -> String {
    let mut out = String::with_capacity(render.len() * COPIES);
    for i in 0..COPIES {
        out.push_str(&render.replace("istio", &format!("istio{i}")));
        out.push('\n');
    }
    out
}

/// CPU time this process has used (every thread), from getrusage: on a machine shared with
/// other builds the wall time measures the neighbours too.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| {
        Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
    };
    t(u.ru_utime) + t(u.ru_stime)
}

fn main() {
    let before = large(&real::istio_objects(&real::matrix_with_istio(
        MATRIX, "1.22.8",
    )));
    let after = large(&real::istio_objects(&real::matrix_with_istio(
        MATRIX, "1.25.5",
    )));
    let run = || {
        deploygen::review::compare::review(("before", &before), ("after", &after), &|_| None, None)
            .expect("renders read")
    };
    let r = run(); // warm up
    let objects = r.before.objects + r.after.objects;
    let iterations = 5u32;
    let start = Instant::now();
    let cpu = cpu_time();
    for _ in 0..iterations {
        std::hint::black_box(run());
    }
    let per = start.elapsed() / iterations;
    let cpu_per = (cpu_time() - cpu) / iterations;
    let mib = (before.len() + after.len()) as f64 / (1024.0 * 1024.0);
    println!(
        "review of two renders: {} + {} objects, {mib:.1} MiB of YAML, {} findings: {per:.2?} per run, {cpu_per:.2?} of CPU over both threads ({iterations} runs)",
        r.before.objects,
        r.after.objects,
        r.findings.len()
    );
    // Of which: reading the two renders (the YAML door, parsing), and comparing the objects.
    let start = Instant::now();
    let b = deploygen::audit::manifest::read("before", &before, &|_| None).expect("reads");
    let a = deploygen::audit::manifest::read("after", &after, &|_| None).expect("reads");
    println!("  reading both renders: {:.2?}", start.elapsed());
    let start = Instant::now();
    std::hint::black_box(deploygen::review::compare::objects(&b, &a, None).expect("compares"));
    println!("  comparing their objects: {:.2?}", start.elapsed());
    let start = Instant::now();
    let text = deploygen::review::format::markdown(&r);
    println!(
        "  Markdown of that review ({} KiB): {:.2?}",
        text.len() / 1024,
        start.elapsed()
    );
    assert!(objects >= 5000, "a large stack: {objects} objects");
    let verdict = if per < TARGET { "within" } else { "OVER" };
    println!("review: {per:.2?} per run, {verdict} the {TARGET:?} target");
}
