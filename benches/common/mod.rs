//! What the benches share: the matrices they run on and where they write.

#![allow(dead_code)] // each bench uses a part

use std::path::{Path, PathBuf};

pub const MATRIX: &str = include_str!("../../matrix.yaml");

/// The default matrix with its `online` environment copied `n` times.
pub fn environments(n: usize) -> String {
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

/// A folder for one case: under DEPLOYGEN_BENCH_DIR, else tmpfs (/dev/shm) where there is one,
/// else the temp folder. On a disk, a fresh render's time is mostly the writer's fsyncs (each
/// file is synced before it is swapped in), which measures the disk, not deploygen.
pub fn temp(name: &str) -> PathBuf {
    let base = std::env::var_os("DEPLOYGEN_BENCH_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let shm = Path::new("/dev/shm");
            shm.is_dir().then(|| shm.to_path_buf())
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("deploygen-bench-{}-{name}", std::process::id()))
}
