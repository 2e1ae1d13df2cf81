//! `cargo bench`: how long a full validate + render of the default matrix takes, and a
//! no-op write of the tree. Target: a render under 50 ms in release builds, so `check` in CI
//! and `render` on a release engineer's laptop are instant. Speed lives here, never in tests.

use std::time::{Duration, Instant};

const MATRIX: &str = include_str!("../matrix.yaml");
const TARGET: Duration = Duration::from_millis(50);

fn time<F: FnMut()>(name: &str, iterations: u32, mut f: F) -> Duration {
    f(); // warm up (catalog parse, template compile paths)
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per = start.elapsed() / iterations;
    println!("{name:<40} {per:>12.2?} per run ({iterations} runs)");
    per
}

fn main() {
    // The compiled-in catalog is Rust data (build.rs): a render parses no catalog YAML.
    let parses = deploygen::catalog::yaml_parses();
    deploygen::render("matrix.yaml", MATRIX.as_bytes()).expect("default matrix renders");
    assert_eq!(
        deploygen::catalog::yaml_parses(),
        parses,
        "a no-op render parsed catalog YAML"
    );
    println!("catalog YAML files parsed by a render: 0");
    time("catalog: compiled-in (static data)", 200, || {
        std::hint::black_box(deploygen::catalog::Catalog::load().expect("catalog"));
    });
    time("catalog: parsing its YAML (before)", 50, || {
        std::hint::black_box(deploygen::catalog::Catalog::parse_embedded().expect("catalog"));
    });
    let render = time("validate + render (default matrix)", 50, || {
        let tree =
            deploygen::render("matrix.yaml", MATRIX.as_bytes()).expect("default matrix renders");
        std::hint::black_box(tree);
    });
    let dir = std::env::temp_dir().join(format!("deploygen-bench-{}", std::process::id()));
    let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).expect("default matrix renders");
    deploygen::disk::write(&dir, &tree, Default::default()).expect("first write");
    time("no-op write (compare every file)", 50, || {
        let s = deploygen::disk::write(&dir, &tree, Default::default()).expect("write");
        assert!(s.is_noop());
    });
    let _ = std::fs::remove_dir_all(&dir);
    // Issue 13: hostile nesting just under the size limit is refused by the pre-scan, in time
    // linear in its size (the YAML library's scanner took 409 s on 1 MB of `{a: {a: ...}}`).
    let limit = deploygen::model::matrix::MAX_MATRIX_BYTES;
    let flow = {
        let n = (limit - 16) / 5;
        format!("a: {}{}\n", "{a: ".repeat(n), "}".repeat(n))
    };
    let flow = &flow[..flow.len().min(limit)];
    let seqs = format!("a: {}1\n", "[".repeat(limit - 16));
    let mut block = String::new();
    while block.len() + block.lines().count() + 4 < limit {
        let depth = block.lines().count();
        block.push_str(&format!("{}k:\n", " ".repeat(depth)));
    }
    let cases = [
        ("flow mappings", flow),
        ("flow sequences", seqs.as_str()),
        ("block mappings", block.as_str()),
    ];
    let mut worst = Duration::ZERO;
    for (name, text) in cases {
        let per = time(&format!("refuse 1 MiB of nested {name}"), 5, || {
            let e = deploygen::render("matrix.yaml", text.as_bytes());
            assert!(e.is_err(), "{name} is refused");
        });
        worst = worst.max(per);
    }
    let verdict = if worst <= Duration::from_secs(1) {
        "within"
    } else {
        "OVER"
    };
    println!("nesting refusals: worst {worst:?}, {verdict} the 1 s bound");
    let verdict = if render <= TARGET { "meets" } else { "MISSES" };
    println!("render {verdict} the {TARGET:?} target");
}
