//! Arbitrary bytes as a matrix, raw or spliced into the default matrix. Refusing input
//! (`Error::Invalid`) is fine; a panic, an `Error::Internal` (a deploygen bug by definition) or
//! any other error kind from an in-memory render is a finding.
#![no_main]

use deploygen::Error;
use libfuzzer_sys::fuzz_target;

const MATRIX: &str = include_str!("../../matrix.yaml");

fn check(text: &[u8]) {
    match deploygen::render("matrix.yaml", text) {
        Ok(_) => {}
        Err(Error::Invalid(problems)) => {
            assert!(!problems.is_empty(), "Invalid with no problem");
            // Formatting the report must not panic either.
            let _ = Error::Invalid(problems).to_string();
        }
        Err(e @ Error::Internal { .. }) => panic!("internal error (a deploygen bug): {e}"),
        Err(e) => panic!("an in-memory render returned {e:?}"),
    }
}

/// Byte splice: data[0..2] picks an offset in the matrix, data[2] how many bytes to drop
/// there, the rest is inserted.
fn splice(data: &[u8]) -> Option<Vec<u8>> {
    let m = MATRIX.as_bytes();
    let (head, rest) = data.split_at_checked(3)?;
    let at = usize::from(u16::from_le_bytes([head[0], head[1]])) % (m.len() + 1);
    let end = (at + usize::from(head[2])).min(m.len());
    Some([&m[..at], rest, &m[end..]].concat())
}

/// Value splice: data[0] picks a line of the matrix that has `key: value`; the value (or,
/// with the top bit set, the key) is replaced by the rest of the input.
fn replace_value(data: &[u8]) -> Option<Vec<u8>> {
    let (pick, rest) = data.split_first()?;
    let lines: Vec<&str> = MATRIX.split_inclusive('\n').collect();
    let candidates: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(": ") && !lines[i].trim_start().starts_with('#'))
        .collect();
    let i = *candidates.get(usize::from(pick & 0x7f) % candidates.len().max(1))?;
    let line = lines[i];
    let colon = line.find(": ")?;
    let indent = line.len() - line.trim_start().len();
    let mut out = Vec::with_capacity(MATRIX.len() + rest.len());
    for l in &lines[..i] {
        out.extend_from_slice(l.as_bytes());
    }
    if pick & 0x80 == 0 {
        out.extend_from_slice(&line.as_bytes()[..colon + 2]);
        out.extend_from_slice(rest);
        out.push(b'\n');
    } else {
        out.extend_from_slice(&line.as_bytes()[..indent]);
        out.extend_from_slice(rest);
        out.extend_from_slice(&line.as_bytes()[colon..]);
    }
    for l in &lines[i + 1..] {
        out.extend_from_slice(l.as_bytes());
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    // One render per input (a render is the expensive part): the first byte picks a mode.
    // The seeds are whole matrices (they start with `#`), so they take the raw path.
    match data.split_first() {
        Some((1, rest)) => {
            if let Some(m) = splice(rest) {
                check(&m);
            }
        }
        Some((2, rest)) => {
            if let Some(m) = replace_value(rest) {
                check(&m);
            }
        }
        _ => check(data),
    }
});
