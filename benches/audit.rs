//! `cargo bench --bench audit`: `deploygen audit` of a whole environment, the real render of
//! environment airgap (made when the bench starts: the committed tree through
//! ../shared/tools/helmfile-template with the upstream charts, as the tests make it), with the
//! CRDs it installs. Target (issue 19): under half a second.

use std::time::{Duration, Instant};

// The tests' real renders (only the airgap environment is used here).
#[allow(dead_code)]
#[path = "../tests/common/real.rs"]
mod real;

const MATRIX: &str = include_str!("../matrix.yaml");
const TARGET: Duration = Duration::from_millis(500);

fn main() {
    let render = real::airgap_whole();
    let plan = deploygen::plan("matrix.yaml", MATRIX.as_bytes()).expect("default plan");
    let opts = deploygen::audit::Options {
        env: "airgap".into(),
        ..Default::default()
    };
    let run = || deploygen::audit::audit(&plan, &opts, "airgap.yaml", &render).expect("audits");
    let first = run();
    assert_eq!(first.failures(), 0, "{}", first.text());
    let iterations = 10u32;
    let start = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(run());
    }
    let per = start.elapsed() / iterations;
    let verdict = if per < TARGET { "within" } else { "OVER" };
    println!(
        "audit of environment airgap ({} objects, {:.1} MiB): {per:.2?} per run, {verdict} the {TARGET:?} target",
        first.objects,
        render.len() as f64 / (1024.0 * 1024.0)
    );
}
