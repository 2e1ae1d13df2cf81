//! Text from the matrix or the tree, made safe to print to a terminal: control characters
//! (escape sequences, carriage returns, newlines that would fake a line of output) and
//! bidirectional overrides are shown escaped (`\u{1b}`) instead of acting on the terminal.
//! Tokens quoted from an input file are cut short (`cut_tokens`): an error names the offending
//! token, never prints a file (a linked-in key or credentials line would reach CI's log).

use std::borrow::Cow;

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// `s` with every control character escaped (borrowed when there is none).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Like `escape`, but keeps line breaks (and tabs) of multi-line messages.
pub fn escape_keep_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && c != '\t' && unsafe_char(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.split('\n')
            .map(|l| {
                l.split('\t')
                    .map(|p| escape(p).into_owned())
                    .collect::<Vec<_>>()
                    .join("\t")
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Longest token an error message quotes from an input, in characters.
pub const MAX_TOKEN_CHARS: usize = 32;

/// Longest message the YAML library's error may make (a last stop for text no quote encloses).
pub const MAX_MESSAGE_CHARS: usize = 480;

/// `s` cut to `max` characters, with `…` where it was cut.
pub fn cut(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((at, _)) => Cow::Owned(format!("{}…", &s[..at])),
    }
}

/// A library's error message with every quoted token (`"..."`, with `\"` escapes, and
/// `` `...` ``) cut to `MAX_TOKEN_CHARS`, and the whole cut to `MAX_MESSAGE_CHARS`: serde quotes
/// the offending value whole (`invalid type: string "-----BEGIN OPENSSH PRIVATE KEY----- b3Bl…"`).
pub fn cut_tokens(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS + 8));
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open];
        out.push_str(&rest[..=open]);
        let body = &rest[open + 1..];
        let mut end = None;
        let mut escaped = false;
        for (i, b) in body.bytes().enumerate() {
            if escaped {
                escaped = false;
            } else if b == b'\\' && quote == b'"' {
                escaped = true;
            } else if b == quote {
                end = Some(i);
                break;
            }
        }
        let token = &body[..end.unwrap_or(body.len())];
        out.push_str(&cut(token, MAX_TOKEN_CHARS));
        match end {
            Some(i) => {
                out.push(quote as char);
                rest = &body[i + 1..];
            }
            None => rest = "",
        }
    }
    out.push_str(rest);
    cut(&out, MAX_MESSAGE_CHARS).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_the_limit_and_not_before() {
        let at = "a".repeat(MAX_TOKEN_CHARS);
        assert_eq!(cut(&at, MAX_TOKEN_CHARS), at);
        let over = format!("{at}b");
        assert_eq!(cut(&over, MAX_TOKEN_CHARS), format!("{at}…"));
        // Characters, not bytes: a cut never splits one.
        assert_eq!(cut("ééé", 2), "éé…");
    }

    #[test]
    fn quoted_tokens_are_cut_and_the_rest_kept() {
        let long = format!("{}SECRET", "x".repeat(MAX_TOKEN_CHARS));
        let m = format!("a.b: invalid type: string \"{long}\", expected struct Matrix");
        let cut_m = cut_tokens(&m);
        assert!(!cut_m.contains("SECRET"), "{cut_m}");
        assert_eq!(
            cut_m,
            format!(
                "a.b: invalid type: string \"{}…\", expected struct Matrix",
                "x".repeat(MAX_TOKEN_CHARS)
            )
        );
        // An escaped quote does not end the token; backticks quote too.
        let m = format!("unknown field `{long}`, got \"a\\\"{long}\" and `ok`");
        let cut_m = cut_tokens(&m);
        assert!(!cut_m.contains("SECRET"), "{cut_m}");
        assert!(cut_m.ends_with(" and `ok`"), "{cut_m}");
        // A token that never closes is cut all the same.
        assert!(!cut_tokens(&format!("x \"{long}")).contains("SECRET"));
        // Short tokens and plain text are kept as they are.
        let m = "unknown variant `Serverles`, expected `Serverless` or `RawDeployment`";
        assert_eq!(cut_tokens(m), m);
        // The whole message is bounded too.
        let m = "w ".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(cut_tokens(&m).chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn escapes_controls_and_keeps_text() {
        assert_eq!(escape("plain é 日本"), "plain é 日本");
        assert_eq!(escape("a\u{1b}[31mb\rc\nd"), "a\\u{1b}[31mb\\rc\\nd");
        assert_eq!(escape("\u{202e}x"), "\\u{202e}x");
        assert_eq!(escape_keep_lines("a\nb\u{7}"), "a\nb\\u{7}");
    }
}
