//! Arbitrary bytes as one file of a catalog directory, read as `render` and `check` read a
//! catalog beside the matrix (`catalog::overlay::load_files`). Refusing it (`Error::Invalid`)
//! is fine; a panic or any other error kind is a finding.
//!
//! The first byte picks what the file is:
//!
//! | first byte | the file |
//! |---|---|
//! | `0x01` | `rules.yaml`, the rest as it is |
//! | `0x02` | `kserve/v0.15.2.yaml` (a replacement of a compiled-in entry): the compiled-in text with a byte splice (bytes 1-2 pick an offset, byte 3 how many bytes to drop, the rest inserted) |
//! | anything else | `kserve/v0.99.0.yaml` (a new version), the input as it is |
#![no_main]

use std::path::PathBuf;

use deploygen::catalog::overlay::{load_files, OverlayFile};
use deploygen::Error;
use libfuzzer_sys::fuzz_target;

const ENTRY: &str = include_str!("../../catalog/kserve/v0.15.2.yaml");

/// The compiled-in entry with `data[3..]` put in at the offset `data[0..2]` picks, `data[2]`
/// bytes dropped there.
fn splice(data: &[u8]) -> Option<Vec<u8>> {
    let e = ENTRY.as_bytes();
    let (head, rest) = data.split_at_checked(3)?;
    let at = usize::from(u16::from_le_bytes([head[0], head[1]])) % (e.len() + 1);
    let end = (at + usize::from(head[2])).min(e.len());
    Some([&e[..at], rest, &e[end..]].concat())
}

fn load(rel: &str, bytes: Vec<u8>) {
    let file = OverlayFile {
        rel: rel.to_string(),
        path: PathBuf::from("catalog").join(rel),
        bytes,
    };
    match load_files(vec![file]) {
        Ok(catalog) => {
            // Listing what was loaded must not panic either.
            let _ = deploygen::catalog::overlay::list(&catalog);
        }
        Err(Error::Invalid(problems)) => {
            assert!(!problems.is_empty(), "Invalid with no problem");
            let _ = Error::Invalid(problems).to_string();
        }
        Err(e) => panic!("a catalog file returned {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((1, rest)) => load("rules.yaml", rest.to_vec()),
        Some((2, rest)) => {
            if let Some(bytes) = splice(rest) {
                load("kserve/v0.15.2.yaml", bytes);
            }
        }
        _ => load("kserve/v0.99.0.yaml", data.to_vec()),
    }
});
