//! Text from the matrix or the tree, made safe to print to a terminal: control characters
//! (escape sequences, carriage returns, newlines that would fake a line of output) and
//! bidirectional overrides are shown escaped (`\u{1b}`) instead of acting on the terminal.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_keeps_text() {
        assert_eq!(escape("plain é 日本"), "plain é 日本");
        assert_eq!(escape("a\u{1b}[31mb\rc\nd"), "a\\u{1b}[31mb\\rc\\nd");
        assert_eq!(escape("\u{202e}x"), "\\u{202e}x");
        assert_eq!(escape_keep_lines("a\nb\u{7}"), "a\nb\\u{7}");
    }
}
