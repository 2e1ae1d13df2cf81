//! Arbitrary bytes as a file of a catalog directory (`catalog::overlay::load_files`, the reader
//! `--catalog DIR` and `catalog/` beside the matrix go through). Refusing the file
//! (`Error::Invalid`) and loading it (ready or pending) are fine; a panic or any other error
//! kind is a finding, and so is a slow input (libFuzzer's `-timeout`): the file passes the YAML
//! door's pre-scan before the YAML library sees it.
#![no_main]

use std::path::PathBuf;

use deploygen::catalog::overlay::{load_files, OverlayFile};
use deploygen::Error;
use libfuzzer_sys::fuzz_target;

const ENTRY: &str = include_str!("../../catalog/kserve/v0.15.2.yaml");

fn check(rel: &str, bytes: Vec<u8>) {
    let file = OverlayFile {
        rel: rel.to_string(),
        path: PathBuf::from("catalog").join(rel),
        bytes,
    };
    match load_files(vec![file]) {
        Ok(catalog) => {
            let _ = deploygen::catalog::overlay::list(&catalog);
        }
        Err(Error::Invalid(problems)) => {
            assert!(!problems.is_empty(), "Invalid with no problem");
            let _ = Error::Invalid(problems).to_string();
        }
        Err(e) => panic!("a catalog file was neither loaded nor refused: {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the file: rules.yaml, a byte splice into a compiled-in entry
    // (bytes 1-2: the offset, byte 3: how many bytes to drop), or an entry as it is.
    match data.split_first() {
        Some((1, rest)) => check("rules.yaml", rest.to_vec()),
        Some((2, rest)) if rest.len() >= 3 => {
            let e = ENTRY.as_bytes();
            let at = usize::from(u16::from_le_bytes([rest[0], rest[1]])) % (e.len() + 1);
            let end = (at + usize::from(rest[2])).min(e.len());
            check("kserve/v0.15.2.yaml", [&e[..at], &rest[3..], &e[end..]].concat());
        }
        _ => check("kserve/v0.99.0.yaml", data.to_vec()),
    }
});
