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
mod tests;
