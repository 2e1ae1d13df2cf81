//! Pre-checked input: every YAML input (the matrix, catalog files, manifest streams) passes
//! these checks before the YAML library sees it, each refusal with line:column. Byte-level
//! checks here: NUL bytes, invalid UTF-8, CR-only line endings, and the characters the YAML
//! library reads as line breaks although no editor shows one (U+0085, U+2028, U+2029) or
//! skips where it starts a line (a byte order mark after the first byte): the structure scan
//! (`scan`) must see the lines the library sees. Then the structure scan: nesting deeper than
//! the kind's limit (the library's scanner is quadratic in flow nesting: a 1 MB
//! `{a: {a: ...}}` took minutes), tags, and documents.

use crate::base::error::Result;

pub use crate::model::kind::{
    position, refuse, Kind, CATALOG, HELMFILE, MANIFESTS, MATRIX, MAX_DEPTH,
};
pub use crate::model::scan::{scan, Scan};

/// The matrix's checks (`precheck_as` with `MATRIX`).
pub fn precheck<'a>(file: &str, bytes: &'a [u8]) -> Result<(&'a str, Scan)> {
    precheck_as(file, bytes, &MATRIX)
}

/// Byte-level checks and the structure scan. Returns the text as UTF-8 and what the scan found.
pub fn precheck_as<'a>(file: &str, bytes: &'a [u8], kind: &Kind) -> Result<(&'a str, Scan)> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(refuse(
            file,
            bytes,
            at,
            format!("holds a NUL byte: {} is YAML text, not binary", kind.what),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        refuse(
            file,
            bytes,
            e.valid_up_to(),
            format!(
                "is not UTF-8 (an invalid byte here): save {} as UTF-8",
                kind.the
            ),
        )
    })?;
    if let Some(at) = bytes
        .iter()
        .enumerate()
        .position(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    {
        return Err(refuse(
            file,
            bytes,
            at,
            format!(
                "has a carriage return without a line feed: CR-only line endings are not \
                 supported; save {} with LF (or CRLF) line endings",
                kind.the
            ),
        ));
    }
    if let Some((at, c)) = text.char_indices().find(|&(i, c)| {
        matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') || (c == '\u{feff}' && i > 0)
    }) {
        let what = if c == '\u{feff}' {
            "a byte order mark (U+FEFF) after the start, which YAML skips where a line starts"
                .to_string()
        } else {
            format!(
                "the character U+{:04X}, which YAML reads as a line break",
                c as u32
            )
        };
        return Err(refuse(
            file,
            bytes,
            at,
            format!("holds {what}; save {} without it", kind.the),
        ));
    }
    let found = scan(file, text, kind)?;
    Ok((text, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        precheck("m.yaml", text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn locates_byte_level_problems() {
        assert!(
            err("a: 1\nb: \0\n").contains("m.yaml:2:4:"),
            "{}",
            err("a: 1\nb: \0\n")
        );
        let bad = b"a: 1\nb: \xff\n";
        let e = precheck("m.yaml", bad).unwrap_err().to_string();
        assert!(e.contains("m.yaml:2:4:") && e.contains("UTF-8"), "{e}");
        assert!(err("a: 1\rb: 2\r").contains("m.yaml:1:5:"));
        assert!(precheck("m.yaml", b"a: 1\r\nb: 2\r\n").is_ok());
    }

    #[test]
    fn line_breaks_no_editor_shows_are_refused_where_they_are() {
        // YAML ends a line (a comment, a plain scalar) at each of them: the scan would see
        // one line where the library sees two.
        for c in ['\u{85}', '\u{2028}', '\u{2029}'] {
            let text = format!("a: 1 # x{c}b: [\n");
            let e = err(&text);
            assert!(
                e.contains("m.yaml:1:9:") && e.contains("reads as a line break"),
                "{e}"
            );
        }
        // A byte order mark is fine where the file starts, nowhere else.
        assert!(precheck("m.yaml", "\u{feff}a: 1\n".as_bytes()).is_ok());
        let e = err("a: 1\n\u{feff}b: 2\n");
        assert!(
            e.contains("m.yaml:2:1:") && e.contains("byte order mark"),
            "{e}"
        );
    }

    #[test]
    fn messages_name_the_kind_of_input() {
        let e = precheck_as("c.yaml", b"a: \0", &CATALOG)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a catalog file is YAML text"), "{e}");
        let e = precheck_as("c.yaml", b"a: \xff", &CATALOG)
            .unwrap_err()
            .to_string();
        assert!(e.contains("save the catalog file as UTF-8"), "{e}");
    }
}
