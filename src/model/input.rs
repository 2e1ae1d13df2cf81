//! Pre-checked input. The matrix is read with a hard cap (`disk::read`), and a fast linear
//! scan refuses what the YAML library would handle badly or silently, each with line:column:
//! NUL bytes, invalid UTF-8, CR-only line endings, nesting deeper than `MAX_DEPTH` (the
//! library's scanner is quadratic in flow nesting: a 1 MB `{a: {a: ...}}` took minutes), custom
//! tags (`!Ref`, `!!str`: a matrix is plain data) and a second YAML document.
//!
//! The scan is deliberately conservative where YAML is subtle: it counts every `[`/`{` outside
//! quotes, comments and block scalars, so it can only over-count nesting, never miss it.

use crate::base::error::{Error, Result};

/// Deepest nesting of mappings, sequences and flow collections a matrix may have. The real
/// matrix needs 7 (`environments.<env>.operations.monitoring.selector_labels.<key>`).
pub const MAX_DEPTH: usize = 24;

/// 1-based line and column (in characters) of byte `at` in `text` (lines end with `\n`).
pub fn position(text: &[u8], at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let line_start = text[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = text[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let col = String::from_utf8_lossy(&text[line_start..at])
        .chars()
        .count()
        + 1;
    (line, col)
}

fn refuse(file: &str, text: &[u8], at: usize, message: impl Into<String>) -> Error {
    let (line, col) = position(text, at);
    Error::invalid(format!("{file}:{line}:{col}"), message)
}

/// Byte-level checks and the structure scan. Returns the text as UTF-8 and what the scan found.
pub fn precheck<'a>(file: &str, bytes: &'a [u8]) -> Result<(&'a str, Scan)> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(refuse(
            file,
            bytes,
            at,
            "holds a NUL byte: a matrix is YAML text, not binary",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        refuse(
            file,
            bytes,
            e.valid_up_to(),
            "is not UTF-8 (an invalid byte here): save the matrix as UTF-8",
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
            "has a carriage return without a line feed: CR-only line endings are not \
             supported; save the matrix with LF (or CRLF) line endings",
        ));
    }
    let found = scan(file, text)?;
    Ok((text, found))
}

/// What the structure scan found besides refusals.
#[derive(Debug, Default)]
pub struct Scan {
    /// Byte offset of the first alias (`*name`), to locate alias-expansion refusals.
    pub first_alias: Option<usize>,
}

/// The linear structure scan (see the module comment).
pub fn scan(file: &str, text: &str) -> Result<Scan> {
    let bytes = text.as_bytes();
    let mut out = Scan::default();
    let mut quote: Option<u8> = None;
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    // Block scalar (`|`, `>`): its content is every following line indented more than this.
    let mut block_scalar: Option<usize> = None;
    let mut content_seen = false;
    let mut doc_end: Option<usize> = None;
    let mut offset = 0usize;
    for raw in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let lb = line.as_bytes();
        let indent = lb.iter().take_while(|&&b| b == b' ').count();
        let blank =
            lb[indent..].iter().all(|&b| b == b' ' || b == b'\t') || lb.get(indent) == Some(&b'#');
        if let Some(parent) = block_scalar {
            if blank || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        if quote.is_none() && flow == 0 {
            let marker =
                |m: &str| line.starts_with(m) && matches!(lb.get(3), None | Some(b' ' | b'\t'));
            if marker("---") {
                if content_seen {
                    return Err(refuse(
                        file,
                        bytes,
                        line_start,
                        "starts a second YAML document; a matrix is one document",
                    ));
                }
                continue;
            }
            if marker("...") {
                doc_end = Some(line_start);
                continue;
            }
            if line.starts_with('%') {
                continue; // a directive (%YAML); the library checks it
            }
            if blank {
                continue;
            }
            if let Some(end) = doc_end {
                let (l, _) = position(bytes, end);
                return Err(refuse(
                    file,
                    bytes,
                    line_start + indent,
                    format!("follows the end of the document (`...` on line {l}); a matrix is one document"),
                ));
            }
            content_seen = true;
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
            if indents.len() > MAX_DEPTH {
                return Err(refuse(
                    file,
                    bytes,
                    line_start + indent,
                    format!("nests deeper than {MAX_DEPTH} levels; a matrix is shallow (this is not a matrix)"),
                ));
            }
        }
        // Walk the line's characters.
        // Leading spaces mean nothing in any state (structure, quote or flow): skip them.
        let mut i = indent;
        let mut token_start = quote.is_none();
        let mut dashes = 0usize;
        let mut key_col = indent;
        while i < lb.len() {
            let b = lb[i];
            if let Some(q) = quote {
                if q == b'"' && b == b'\\' {
                    i += 2;
                    continue;
                }
                if b == q {
                    if q == b'\'' && lb.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    quote = None;
                }
                i += 1;
                continue;
            }
            let ws_before = i == 0 || matches!(lb[i - 1], b' ' | b'\t');
            match b {
                b' ' | b'\t' => {
                    i += 1;
                    continue;
                }
                b'#' if ws_before => break,
                b'[' | b'{' => {
                    flow += 1;
                    token_start = true;
                    let depth = indents.len() + dashes + flow;
                    if depth > MAX_DEPTH {
                        return Err(refuse(
                            file,
                            bytes,
                            line_start + i,
                            format!("nests deeper than {MAX_DEPTH} levels; a matrix is shallow (this is not a matrix)"),
                        ));
                    }
                    i += 1;
                    continue;
                }
                b']' | b'}' => {
                    flow = flow.saturating_sub(1);
                    i += 1;
                    continue;
                }
                b',' if flow > 0 => {
                    token_start = true;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let next_ws = matches!(lb.get(i + 1), None | Some(b' ' | b'\t'));
            if matches!(b, b'-' | b'?' | b':') && next_ws {
                if b == b'-' && token_start && flow == 0 {
                    dashes += 1;
                    key_col = i + 2;
                    if indents.len() + dashes > MAX_DEPTH {
                        return Err(refuse(
                            file,
                            bytes,
                            line_start + i,
                            format!("nests deeper than {MAX_DEPTH} levels; a matrix is shallow (this is not a matrix)"),
                        ));
                    }
                }
                token_start = true;
                i += 1;
                continue;
            }
            if token_start {
                match b {
                    b'"' | b'\'' => quote = Some(b),
                    b'!' => {
                        return Err(refuse(
                            file,
                            bytes,
                            line_start + i,
                            "has a YAML tag (`!...`); a matrix is plain data: write the value \
                             without a tag",
                        ))
                    }
                    b'*' => {
                        out.first_alias.get_or_insert(line_start + i);
                    }
                    b'|' | b'>' if flow == 0 => {
                        block_scalar = Some(key_col);
                        break;
                    }
                    _ => {}
                }
                token_start = false;
            }
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        precheck("m.yaml", text.as_bytes()).unwrap_err().to_string()
    }

    /// Asserts the scan accepts `text`, showing the refusal if it does not.
    #[track_caller]
    fn accepted(text: &str) {
        if let Err(e) = precheck("m.yaml", text.as_bytes()) {
            panic!("refused:\n{text}\n{e}");
        }
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
        accepted("a: 1\r\nb: 2\r\n");
    }

    #[test]
    fn refuses_deep_nesting_tags_and_documents() {
        let deep = format!("a: {}{}\n", "{a: ".repeat(40), "}".repeat(40));
        assert!(err(&deep).contains("nests deeper"), "{}", err(&deep));
        let mut block = String::new();
        for i in 0..40 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(err(&block).contains("nests deeper"));
        assert!(err(&format!("a: {}1\n", "- ".repeat(40))).contains("nests deeper"));
        assert!(err("a: !Ref x\n").contains("m.yaml:1:4:"));
        assert!(err("a:\n  - !!str 1\n").contains("m.yaml:2:5:"));
        assert!(err("a: 1\n---\nb: 2\n").contains("m.yaml:2:1:"));
        assert!(err("a: 1\n...\nb: 2\n").contains("m.yaml:3:1:"));
        // Quoted, commented and block-scalar text is not structure.
        accepted("a: \"!x {{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"\nb: 1 # !x [[[\n");
        let bs = format!("a: |\n  {}\n  ---\nb: don't ! {{\n", "{".repeat(40));
        accepted(&bs);
        accepted("---\na: 1\n...\n");
    }

    #[test]
    fn blank_and_comment_lines_are_not_structure() {
        // Comments and blank lines before the document marker, and after its end.
        let ok = "# Generated by hand\n\n   \t\n---\na: 1\n...\n# the end\n\n";
        accepted(ok);
        // A whitespace-only line inside a block scalar, less indented than its text, does not
        // end it: the text after it is still text (a `!` there is no tag).
        let bs = "a: |\n    first\n\t \n    uses !Ref here\nb: 1\n";
        accepted(bs);
        // Blank lines between nesting levels do not reset the depth count.
        let mut deep = String::new();
        for i in 0..40 {
            deep.push_str(&format!("{}k{i}:\n\n", " ".repeat(i)));
        }
        assert!(err(&deep).contains("nests deeper"));
    }

    #[test]
    fn a_block_scalar_ends_at_a_line_as_shallow_as_its_key() {
        let text = "a: |\n  text\nb: !Ref x\n";
        assert!(err(text).contains("m.yaml:3:4:"), "{}", err(text));
    }

    #[test]
    fn lines_inside_a_quoted_scalar_or_a_flow_collection_are_not_block_structure() {
        // Continuation lines, each indented one more than the last: no nesting at all.
        let mut quoted = String::from("a: \"w0\n");
        let mut flow = String::from("a: [\n");
        for i in 1..40 {
            quoted.push_str(&format!("{}w{i}\n", " ".repeat(i)));
            flow.push_str(&format!("{}x{i},\n", " ".repeat(i)));
        }
        quoted.push_str(" end\"\n");
        flow.push_str(" x]\n");
        for text in [quoted, flow] {
            accepted(&text);
        }
    }

    #[test]
    fn refusals_point_at_the_offending_column() {
        let after_end = "a: 1\n...\n  b: 2\n";
        assert!(err(after_end).contains("m.yaml:3:3:"), "{}", err(after_end));
        // MAX_DEPTH levels of block nesting are a matrix; one more is refused where it starts.
        let levels = |n: usize| -> String {
            (0..n)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect()
        };
        let ok = levels(MAX_DEPTH);
        accepted(&ok);
        let deep = levels(MAX_DEPTH + 1);
        let at = format!("m.yaml:{}:{}:", MAX_DEPTH + 1, MAX_DEPTH + 1);
        assert!(err(&deep).contains(&at), "{}", err(&deep));
    }

    #[test]
    fn flow_and_dash_nesting_count_to_max_depth_and_refuse_where_they_pass_it() {
        // `a:` is one level; 23 more brackets or dashes make MAX_DEPTH, the 24th is refused
        // at its own column.
        let k = MAX_DEPTH - 1;
        let flow = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        accepted(&flow(k));
        let at = format!("m.yaml:1:{}:", 4 + k);
        assert!(err(&flow(k + 1)).contains(&at), "{}", err(&flow(k + 1)));
        let dashes = |n: usize| format!("a:\n{}1\n", "- ".repeat(n));
        accepted(&dashes(k));
        let at = format!("m.yaml:2:{}:", 2 * k + 1);
        assert!(err(&dashes(k + 1)).contains(&at), "{}", err(&dashes(k + 1)));
        // Levels add up across kinds: block, dashes, then brackets.
        let h = MAX_DEPTH / 2;
        let mixed =
            |n: usize| format!("a:\n{}{}{}\n", "- ".repeat(h), "[".repeat(n), "]".repeat(n));
        let fits = MAX_DEPTH - 1 - h;
        accepted(&mixed(fits));
        let at = format!("m.yaml:2:{}:", 2 * h + fits + 1);
        assert!(
            err(&mixed(fits + 1)).contains(&at),
            "{}",
            err(&mixed(fits + 1))
        );
        // A block scalar after a dash is text from past the dash's content column on.
        let item = "a:\n  b:\n    - |\n       !t text\n    - x\n";
        accepted(item);
        // Only a dash opens a sequence level; `?` (a complex key) does not count.
        let keys = format!("{}x\n", "? ".repeat(30));
        accepted(&keys);
        // A comma starts a new token inside a flow collection only: a tag after it there is
        // a tag; in a plain block scalar it is text.
        assert!(err("a: [x, !t y]\n").contains("m.yaml:1:8:"));
        accepted("a: x, !t\n");
    }

    #[test]
    fn quotes_end_where_yaml_ends_them() {
        // Escaped double quotes and doubled single quotes do not end the string: what follows
        // them is still quoted (no flow nesting, no tag)...
        let braces = "{".repeat(30);
        for text in [
            format!(r#"a: "x\" {braces} !t""#) + "\n",
            format!(r#"a: 'x'' {braces} !t'"#) + "\n",
            r#"a: "\\"
b: 'it''s'
c: ''''
"#
            .to_string(),
        ] {
            accepted(&text);
        }
        // ...and the string does end: the next line is structure again.
        for text in [
            "a: \"x\\\" y\"\nb: !Ref x\n",
            "a: 'it''s'\nb: !Ref x\n",
            "a: 'x'\nb: !Ref x\n",
            "a: \"\\\\\"\nb: !Ref x\n",
        ] {
            assert!(err(text).contains("m.yaml:2:4:"), "{text}: {}", err(text));
        }
        // `#` starts a comment only after a space: inside a plain scalar it is text.
        let plain = format!("a: b#c {}\n", "[".repeat(30));
        assert!(err(&plain).contains("nests deeper"), "{}", err(&plain));
    }
}
