//! The structure scan every YAML input passes before the YAML library sees it: one linear pass
//! that refuses, with line:column, nesting deeper than the input kind allows, tags the kind
//! does not take, and a second document where the kind is one document.
//!
//! The YAML library's scanner (libyaml) costs time proportional to the flow nesting for every
//! token, so 1 MB of `[[[[...` takes minutes. The scan counts nesting exactly where libyaml's
//! scanner opens a flow collection, so it must split the text into tokens as libyaml does: a
//! `[` or a quote inside a plain scalar is text, and so is every character of a line that
//! continues a plain scalar (`key: x` then a more indented line), of a block scalar (`|`, `>`,
//! as far as its indentation goes), of a quoted scalar and of a comment (`#` where a token may
//! start, or after a space inside a plain scalar). A scan that took any of these for structure
//! could be led into a quote libyaml never opens and miss the nesting after it. To know where a
//! plain scalar continues and a block scalar ends, the scan keeps libyaml's stack of block
//! indentation (one column per open block collection).
//!
//! Where the two could still differ, libyaml stops at a syntax error at once, before any
//! nesting after it costs anything. The depth the limit applies to counts the indentation of
//! block lines, their dashes and the flow collections (a conservative count: it may refuse
//! YAML libyaml would nest less deeply, never the other way round for flow).

use crate::base::error::Result;
use crate::base::text::{cut, MAX_TOKEN_CHARS};
use crate::model::kind::{position, refuse, Kind};
use crate::model::tags::{is_core, Tags};

/// What the structure scan found besides refusals.
#[derive(Debug, Default)]
pub struct Scan {
    /// Byte offset of the first alias (`*name`), to locate alias-expansion refusals.
    pub first_alias: Option<usize>,
}

/// Where the scan is, between tokens or inside a plain scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Boundary,
    Plain,
}

/// A block scalar (`|`, `>`) whose content lines are being skipped.
#[derive(Debug)]
struct BlockScalar {
    /// libyaml's block indentation where it started (-1 at the root).
    parent: isize,
    /// The indentation indicator (`|2`).
    explicit: Option<usize>,
    /// Deepest indentation of the blank lines before its first content line.
    blank_indent: usize,
    /// Indentation of its content, once known.
    content: Option<usize>,
}

impl BlockScalar {
    /// The content indentation, as libyaml decides it from the first non-blank line.
    fn content_indent(&mut self, first_line_indent: usize) -> usize {
        let base = self.parent + 1;
        *self.content.get_or_insert_with(|| match self.explicit {
            Some(n) => (self.parent.max(0) as usize) + n,
            None => first_line_indent
                .max(self.blank_indent)
                .max(base.max(1) as usize),
        })
    }
}

struct Scanner<'a> {
    file: &'a str,
    /// The whole input, for locations.
    bytes: &'a [u8],
    kind: &'a Kind,
    out: Scan,
    quote: Option<u8>,
    flow: usize,
    at: At,
    /// libyaml's block indentation stack: the column of each open block collection.
    block: Vec<usize>,
    /// libyaml's indentation when the open plain scalar started.
    plain_indent: isize,
    /// Lines starting at this column or right of it continue the plain scalar the last line
    /// ended in (block context).
    plain_from: Option<usize>,
    block_scalar: Option<BlockScalar>,
    /// Column of the first token since the line or the last `: ` began: where a mapping starts
    /// when a `: ` follows (libyaml's simple key; a `- ` or `? ` takes no token before it on
    /// its line).
    key_col: Option<usize>,
    /// The depth count: indentation of the block lines, dashes of the current line.
    indents: Vec<usize>,
    dashes: usize,
    content_seen: bool,
    /// A `---` started the document (a second one starts a second document, empty or not).
    document_marked: bool,
    doc_end: Option<usize>,
}

/// The linear structure scan (see the module comment) of `text`, an input of `kind`.
pub fn scan(file: &str, text: &str, kind: &Kind) -> Result<Scan> {
    // A byte order mark where the text starts is no character of the document.
    let (body, base) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, text.len() - rest.len()),
        None => (text, 0),
    };
    let mut s = Scanner {
        file,
        bytes: text.as_bytes(),
        kind,
        out: Scan::default(),
        quote: None,
        flow: 0,
        at: At::Boundary,
        block: Vec::new(),
        plain_indent: 0, // set where a plain scalar starts
        plain_from: None,
        block_scalar: None,
        key_col: None,
        indents: Vec::new(),
        dashes: 0,
        content_seen: false,
        document_marked: false,
        doc_end: None,
    };
    let mut offset = 0usize;
    for raw in body.split_inclusive('\n') {
        let line_start = base + offset;
        offset += raw.len();
        s.line(line_start, raw.trim_end_matches(['\n', '\r']).as_bytes())?;
    }
    Ok(s.out)
}

impl Scanner<'_> {
    fn refuse(&self, at: usize, message: impl Into<String>) -> crate::base::error::Error {
        refuse(self.file, self.bytes, at, message)
    }

    fn yindent(&self) -> isize {
        self.block.last().map_or(-1, |&c| c as isize)
    }

    /// Closes the block collections a token at `col` is left of (libyaml's unroll).
    fn unroll(&mut self, col: usize) {
        while self.block.last().is_some_and(|&c| c > col) {
            self.block.pop();
        }
    }

    /// Opens a block collection at `col` when it is right of the current one (libyaml's roll).
    fn roll(&mut self, col: usize) {
        if self.yindent() < col as isize {
            self.block.push(col);
        }
    }

    /// Records where a possible mapping key starts (block context).
    fn key(&mut self, col: usize) {
        if self.flow == 0 && self.key_col.is_none() {
            self.key_col = Some(col);
        }
    }

    fn check_depth(&self, at: usize) -> Result<()> {
        let depth = self.indents.len() + self.dashes + self.flow;
        if depth > self.kind.max_depth {
            return Err(self.refuse(
                at,
                format!(
                    "nests deeper than {} levels; {} is shallow (this is not {})",
                    self.kind.max_depth, self.kind.what, self.kind.what
                ),
            ));
        }
        Ok(())
    }

    /// A new document starts (`---`) or one ends (`...`) where the kind is a stream: libyaml
    /// closes every block collection, and the depth counts from the top again.
    fn next_document(&mut self) {
        self.block.clear();
        self.indents.clear();
        self.dashes = 0;
    }

    fn line(&mut self, line_start: usize, lb: &[u8]) -> Result<()> {
        let spaces = lb.iter().take_while(|&&b| b == b' ').count();
        let first = lb
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(lb.len());
        let blank = first == lb.len();
        self.key_col = None;
        if let Some(bs) = &mut self.block_scalar {
            if blank {
                if bs.content.is_none() {
                    bs.blank_indent = bs.blank_indent.max(spaces);
                }
                return Ok(());
            }
            if spaces >= bs.content_indent(spaces) {
                return Ok(());
            }
            self.block_scalar = None;
        }
        // Inside a quoted scalar or a flow collection, lines have no block structure.
        if self.quote.is_some() || self.flow > 0 {
            return self.walk(line_start, lb, 0);
        }
        let marker = |m: &[u8]| lb.starts_with(m) && matches!(lb.get(3), None | Some(b' ' | b'\t'));
        if marker(b"---") || marker(b"...") {
            self.plain_from = None;
            self.at = At::Boundary;
            if self.kind.many_documents {
                self.next_document();
            } else if lb[0] == b'.' {
                self.doc_end = Some(line_start);
            } else if self.content_seen || self.document_marked {
                return Err(self.refuse(
                    line_start,
                    format!(
                        "starts a second YAML document; {} is one document",
                        self.kind.what
                    ),
                ));
            }
            self.document_marked |= lb[0] == b'-';
            // What follows the marker on its line is the document's first node (`--- [`).
            return self.walk(line_start, lb, 3);
        }
        if blank {
            return Ok(()); // a plain scalar goes on past blank lines
        }
        if lb[first] == b'#' {
            self.plain_from = None; // but not past a comment
            return Ok(());
        }
        if self.plain_from.is_some_and(|from| first >= from) {
            // This line continues the plain scalar: all of it is text up to `: ` or ` #`.
            self.at = At::Plain;
            return self.walk(line_start, lb, first);
        }
        self.plain_from = None;
        if lb[0] == b'%' {
            if self.kind.tags == Tags::Core && lb.starts_with(b"%TAG") {
                return Err(self.refuse(
                    line_start,
                    format!(
                        "has a %TAG directive, which can make `!!` mean another tag; {} takes \
                         YAML's core tags as they are",
                        self.kind.what
                    ),
                ));
            }
            return Ok(()); // a directive (%YAML); the library checks it
        }
        if let Some(end) = self.doc_end {
            let (l, _) = position(self.bytes, end);
            return Err(self.refuse(
                line_start + first,
                format!(
                    "follows the end of the document (`...` on line {l}); {} is one document",
                    self.kind.what
                ),
            ));
        }
        self.content_seen = true;
        while self.indents.last().is_some_and(|&i| i >= spaces) {
            self.indents.pop();
        }
        self.indents.push(spaces);
        self.dashes = 0;
        self.check_depth(line_start + spaces)?;
        self.at = At::Boundary;
        self.walk(line_start, lb, first)
    }

    /// Walks a line's characters from `from`, token by token as libyaml's scanner takes them.
    fn walk(&mut self, line_start: usize, lb: &[u8], from: usize) -> Result<()> {
        let mut i = from;
        // The start of a line counts as whitespace (a `#` there starts a comment).
        let mut after_space = true;
        while i < lb.len() {
            let b = lb[i];
            if let Some(q) = self.quote {
                if q == b'"' && b == b'\\' {
                    i += 2;
                    continue;
                }
                if b == q {
                    if q == b'\'' && lb.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    self.quote = None;
                    self.at = At::Boundary;
                }
                i += 1;
                after_space = false;
                continue;
            }
            if b == b' ' || b == b'\t' {
                after_space = true;
                i += 1;
                continue;
            }
            let next = lb.get(i + 1).copied();
            let blank_next = matches!(next, None | Some(b' ' | b'\t'));
            if self.at == At::Plain {
                if b == b'#' && after_space {
                    self.at = At::Boundary;
                    self.plain_from = None;
                    return Ok(()); // a comment ends the scalar and the line
                }
                // (In a flow collection, `:` right before `,[]{}?` is an error to libyaml.)
                let ends = (b == b':' && blank_next)
                    || (self.flow > 0 && matches!(b, b',' | b'[' | b']' | b'{' | b'}'));
                if !ends {
                    after_space = false;
                    i += 1;
                    continue;
                }
                self.at = At::Boundary; // the indicator is a token of its own
            }
            after_space = false;
            let at = line_start + i;
            let block = self.flow == 0;
            if block {
                self.unroll(i);
            }
            match b {
                b'#' => return self.end_line(),
                b'[' | b'{' => {
                    self.key(i);
                    self.flow += 1;
                    self.check_depth(at)?;
                }
                b']' | b'}' => self.flow = self.flow.saturating_sub(1),
                b',' => {}
                b'-' if blank_next => {
                    if block {
                        self.dashes += 1;
                        self.check_depth(at)?;
                        self.roll(i);
                    }
                }
                b'?' if !block || blank_next => {
                    if block {
                        self.roll(i);
                    }
                }
                b':' if !block || blank_next => {
                    if block {
                        let col = self.key_col.take().unwrap_or(i);
                        self.roll(col);
                    }
                }
                b'*' | b'&' => {
                    if b == b'*' {
                        self.out.first_alias.get_or_insert(at);
                    }
                    self.key(i);
                    let name = lb[i + 1..]
                        .iter()
                        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                        .count();
                    i += 1 + name;
                    continue;
                }
                b'!' => {
                    self.key(i);
                    let len = tag_len(&lb[i..]);
                    self.tag(at, &lb[i..i + len])?;
                    i += len;
                    continue;
                }
                // (In a flow collection, libyaml refuses `|` and `>` where a token starts.)
                b'|' | b'>' => {
                    let header = lb[i + 1..]
                        .iter()
                        .take_while(|c| matches!(c, b'+' | b'-' | b'0'..=b'9'))
                        .filter(|c| c.is_ascii_digit())
                        .map(|c| usize::from(c - b'0'))
                        .next();
                    self.block_scalar = Some(BlockScalar {
                        parent: self.yindent(),
                        // (`|0` is an error to libyaml.)
                        explicit: header,
                        blank_indent: 0,
                        content: None,
                    });
                    self.at = At::Boundary;
                    self.plain_from = None;
                    return Ok(());
                }
                b'\'' | b'"' => {
                    self.key(i);
                    self.quote = Some(b);
                }
                _ => {
                    self.key(i);
                    self.at = At::Plain;
                    self.plain_indent = self.yindent();
                }
            }
            i += 1;
        }
        self.end_line()
    }

    /// After a line: a block plain scalar may go on on the next, more indented line.
    fn end_line(&mut self) -> Result<()> {
        self.plain_from = (self.at == At::Plain && self.flow == 0 && self.quote.is_none())
            .then(|| (self.plain_indent + 1) as usize);
        Ok(())
    }

    /// A tag the kind may refuse: `tag` is as written, from its `!`.
    fn tag(&self, at: usize, tag: &[u8]) -> Result<()> {
        let tag = String::from_utf8_lossy(tag);
        match self.kind.tags {
            Tags::Core if is_core(&tag) => Ok(()),
            Tags::Core => Err(self.refuse(
                at,
                format!(
                    "has the YAML tag `{}`; {} takes only YAML's core tags (!!str, !!int, \
                     !!float, !!bool, !!null, !!binary, !!timestamp, !!map, !!seq), which Go's \
                     YAML (Kubernetes', helmfile's) reads as deploygen does",
                    cut(&tag, MAX_TOKEN_CHARS),
                    self.kind.what
                ),
            )),
            Tags::Refused => Err(self.refuse(
                at,
                format!(
                    "has a YAML tag (`{}`); {} is plain data: write the value without a tag",
                    cut(&tag, MAX_TOKEN_CHARS),
                    self.kind.what
                ),
            )),
        }
    }
}

/// Length of the tag at the start of `s` (`!`, `!!str`, `!e!x`, `!<tag:...>`), as far as
/// libyaml reads one.
fn tag_len(s: &[u8]) -> usize {
    if s.get(1) == Some(&b'<') {
        return s.iter().position(|&c| c == b'>').map_or_else(
            || s.iter().take_while(|&&c| c != b' ' && c != b'\t').count(),
            |e| e + 1,
        );
    }
    1 + s[1..]
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || b"-_;/?:@&=+$.%!~*'()".contains(&c))
        .count()
}

#[cfg(test)]
mod tests {
    use crate::model::input::{precheck, precheck_as, CATALOG, MANIFESTS, MAX_DEPTH};

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
        // Empty documents count too.
        assert!(err("---\n---\n").contains("m.yaml:2:1: starts a second YAML document"));
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
        // `#` starts a comment only after a space: inside a plain scalar it is text (in a flow
        // collection, where the brackets after it are structure).
        let plain = format!("a: [b#c, {}\n", "[".repeat(30));
        assert!(err(&plain).contains("nests deeper"), "{}", err(&plain));
    }

    /// Text whose flow nesting only a scan that splits tokens as libyaml does can see: each
    /// hides 30 levels of `[` behind something the old scan read differently. (line, column)
    /// of the refusal.
    #[test]
    fn nesting_is_found_wherever_libyaml_finds_it() {
        let deep = "[".repeat(30);
        for (text, at) in [
            // A bracket inside a plain scalar is text, so the quote after it is text too.
            (format!("a: x[ , '\nb: {deep}\n"), (2, 4 + MAX_DEPTH - 1)),
            // A plain scalar goes on over more indented lines: their quote is text.
            (format!("a: x\n  'y\nb: {deep}\n"), (3, 4 + MAX_DEPTH - 1)),
            // So does a block scalar, as far as its own indentation (the dash's, here).
            (format!("- |\n 'x\n- {deep}\n"), (3, 3 + MAX_DEPTH - 2)),
            // A block scalar's content is right of its mapping: a line at the mapping's own
            // column is structure, even as the scalar's first line.
            (format!("a:\n  b: |\n  {deep}\n"), (3, 3 + MAX_DEPTH - 2)),
            // `?x` and `:x` are plain scalars, not indicators: the line after goes on with them.
            (format!("a: ?x\n  'q\nb: {deep}\n"), (3, 4 + MAX_DEPTH - 1)),
            (format!("a: :x\n  'q\nb: {deep}\n"), (3, 4 + MAX_DEPTH - 1)),
            // An anchor's name is letters, digits, `_` and `-`; after it, a token starts.
            (format!("a: &x_y-1 {deep}\n"), (1, 11 + MAX_DEPTH - 1)),
            // An indentation indicator is a number of columns.
            (format!("a: |2\n   x\n {deep}\n"), (3, 2 + MAX_DEPTH - 2)),
            // A byte order mark where the text starts is one column of its first line.
            (format!("\u{feff}a: {deep}\n"), (1, 5 + MAX_DEPTH - 1)),
            // A `#` where a token may start is a comment, space before it or not: the `]`
            // after it closes nothing.
            (format!("a: [x,#]\n{}", "[#]\n".repeat(30)), (MAX_DEPTH, 1)),
            // After a document marker, after an anchor, a tag's `'` is part of the tag.
            (format!("--- {deep}\n"), (1, 5 + MAX_DEPTH)),
            (format!("a: &x {deep}\n"), (1, 7 + MAX_DEPTH - 1)),
            // A block scalar's content is as indented as its first line, or a blank line
            // before it: a line less indented ends it.
            (
                format!("a: |\n      \n    {deep}\n"),
                (3, 5 + MAX_DEPTH - 2),
            ),
            (
                format!("a: |\n      x\n    {deep}\n"),
                (3, 5 + MAX_DEPTH - 2),
            ),
            // A mapping closed by a line left of it no longer holds the plain scalar after it: a
            // line one column in continues that scalar.
            (
                format!("a:\n  b: 1\nc: x\n 'q\nd: {deep}\n"),
                (5, 4 + MAX_DEPTH - 1),
            ),
            // A mapping starts where its key does on its own line, not where the last line's
            // token did: the line after it, as indented as the key, is structure.
            (
                format!("- xx\n-   y: z\n    {deep}: v\n"),
                (3, 5 + MAX_DEPTH - 2),
            ),
            // An indentation indicator counts from the block's indentation.
            (
                format!("a:\n  b: |1\n    x\n  {deep}\n"),
                (4, 3 + MAX_DEPTH - 2),
            ),
        ] {
            let e = precheck("m.yaml", text.as_bytes())
                .map(|_| panic!("accepted:\n{text}"))
                .unwrap_err()
                .to_string();
            let want = format!("m.yaml:{}:{}: nests deeper", at.0, at.1);
            assert!(e.contains(&want), "{text}\nwant {want}\n{e}");
        }
    }

    /// And text libyaml reads as text is no nesting.
    #[test]
    fn brackets_in_text_are_no_nesting() {
        let deep = "[".repeat(30);
        for text in [
            format!("a: x\n  {deep}\n"),
            format!("a: x {deep}\n"),
            format!("- |\n  {deep}\n- x\n"),
            format!("a: >2\n  {deep}\n"),
            format!("a: |1\n   x\n  {deep}\n"),
            format!("a:\n  b: |1\n    x\n   {deep}\n"),
            format!("a: |\n\n      {deep}\n      {deep}\n"),
            format!("a: [\"{deep}\", '{deep}']\n"),
            format!("a: 'x\n{deep}'\n"),
            format!("a: \"x\\\n{deep}\"\n"),
            format!("key: value\n# {deep}\n"),
            format!("a: [\n  # {deep}\n]\n"),
            format!("-----BEGIN KEY-----\n{deep}\n-----END KEY-----\n"),
            // A mapping starts at its key's first token, an anchor in front of it included:
            // the value's next line, right of that, goes on with the value.
            format!("&a key: value\n  {deep}\n"),
            // A `?` key's block starts at the `?`: a line at its column is no continuation
            // (here, a quote libyaml reads as one).
            format!("? a\n'q\nb: {deep}'\n"),
            // A collection stays open for a token at its own column (libyaml unrolls only
            // those right of the token): `  c` keeps `b`'s mapping, so ` 'q` is no
            // continuation of `c` but a quote.
            format!("a:\n  b: x\n  c\n 'q\nd: {deep}'\n"),
        ] {
            accepted(&text);
        }
    }

    #[test]
    fn the_first_alias_is_where_an_expansion_is_located() {
        let text = "a: &x 1\nb: *x\nc: *x\n";
        let found = super::scan("m.yaml", text, &crate::model::input::MATRIX).unwrap();
        assert_eq!(found.first_alias, Some(text.find('*').unwrap()));
    }

    #[test]
    fn a_plain_scalar_ends_where_libyaml_ends_it() {
        // At a line as indented as its mapping, at a comment line, at `: `, at ` #`, at a
        // document marker: what follows is structure again.
        for text in [
            "a: x\nb: !t y\n",
            "a: x\n# note\n  !t y\n",
            "a: x\n  y: !t z\n",
            "a: x #c\n  !t y\n",
            "a: [x,\n !t y]\n",
        ] {
            assert!(
                err(text).contains("has a YAML tag"),
                "{text}: {}",
                err(text)
            );
        }
        // After a tag, the line goes on where the tag ends.
        let deep = format!("a: !!str {}\n", "[".repeat(110));
        let e = precheck_as("m.yaml", deep.as_bytes(), &MANIFESTS)
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.yaml:1:109: nests deeper"), "{e}");
        let e = precheck_as("m.yaml", b"x\n---\n!t y\n", &MANIFESTS)
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.yaml:3:1: has the YAML tag `!t`"), "{e}");
        // Within it, a tag, an anchor, a quote are text, blank lines between lines or not.
        for text in [
            "a: x\n\n  !t 'y &z\n",
            "- a: x\n   !t\n",
            "a: x !t\n",
            "a: [x\n !t y]\n",
        ] {
            accepted(text);
        }
    }

    #[test]
    fn each_kind_has_its_limit_documents_and_tags() {
        let flow = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        for kind in [&CATALOG, &MANIFESTS] {
            let fits = flow(kind.max_depth - 1);
            let ok = precheck_as("k.yaml", fits.as_bytes(), kind);
            assert!(ok.is_ok(), "{ok:?}");
            let e = precheck_as("k.yaml", flow(kind.max_depth).as_bytes(), kind)
                .unwrap_err()
                .to_string();
            let want = format!(
                "k.yaml:1:{}: nests deeper than {} levels; {}",
                3 + kind.max_depth,
                kind.max_depth,
                kind.what
            );
            assert!(e.contains(&want), "{e}");
        }
        // A document marker closes every block collection and ends a plain scalar: the depth
        // counts from the top again, and the next document's lines are its own.
        let deep = "[".repeat(110);
        for (text, at) in [
            (format!("a:\n  - - x\n--- {deep}\n"), "3:105"),
            (format!("x\n--- {deep}\n"), "2:105"),
            (
                format!("a:\n  b: x\n--- y\n  'q\n---\nc: {deep}\n"),
                "6:103",
            ),
        ] {
            let e = precheck_as("k.yaml", text.as_bytes(), &MANIFESTS)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("k.yaml:{at}: nests deeper")),
                "{text}\n{e}"
            );
        }
        let quoted = format!("a: x\n---\n  'q\nb: {deep}'\n");
        assert!(precheck_as("k.yaml", quoted.as_bytes(), &MANIFESTS).is_ok());
        // A stream takes documents one after another, each counted from the top again.
        let docs = format!("{}---\n{}...\n---\n{}", flow(90), flow(90), flow(90));
        assert!(precheck_as("k.yaml", docs.as_bytes(), &MANIFESTS).is_ok());
        let e = precheck_as("k.yaml", b"a: 1\n---\nb: 2\n", &CATALOG)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("k.yaml:2:1: starts a second YAML document; a catalog file"),
            "{e}"
        );
        // Kubernetes' YAML takes the core tags, nothing else; plain data takes none.
        let ok = "a: !!str 1\nb: !!binary aGk=\nc: !<tag:yaml.org,2002:int> 2\nd: [!!null ~, &x !!bool true]\n";
        assert!(precheck_as("k.yaml", ok.as_bytes(), &MANIFESTS).is_ok());
        for (text, at, tag) in [
            ("a: !Ref x\n", "1:4", "!Ref"),
            (
                "a:\n- !!python/name:os.system x\n",
                "2:3",
                "!!python/name:os.system",
            ),
            ("a: [x, !!set {b}]\n", "1:8", "!!set"),
            (
                "a: !<tag:example.com,2000:x> y\n",
                "1:4",
                "!<tag:example.com,2000:x>",
            ),
            (
                "a: !<tag:yaml.org,2002:str x\n",
                "1:4",
                "!<tag:yaml.org,2002:str",
            ),
        ] {
            let e = precheck_as("k.yaml", text.as_bytes(), &MANIFESTS)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!(
                    "k.yaml:{at}: has the YAML tag `{tag}`; a manifest stream"
                )),
                "{text}: {e}"
            );
        }
        let e = precheck_as(
            "k.yaml",
            b"%TAG !! tag:example.com,2000:\n---\na: !!str x\n",
            &MANIFESTS,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("k.yaml:1:1: has a %TAG directive"), "{e}");
        assert!(precheck_as("k.yaml", b"%YAML 1.1\n---\na: 1\n", &MANIFESTS).is_ok());
        let e = precheck_as("k.yaml", b"a: !!str x\n", &CATALOG)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("k.yaml:1:4: has a YAML tag (`!!str`); a catalog file is plain data"),
            "{e}"
        );
        // A tag is read as far as libyaml reads one, and cut short in the message.
        let long = format!("a: !{}SECRET x\n", "t".repeat(40));
        let e = precheck_as("k.yaml", long.as_bytes(), &CATALOG)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("SECRET") && e.contains("…"), "{e}");
    }
}
