//! TODO markers in catalog data: what `deploygen catalog import` leaves for a person to fill.
//! Shared by build.rs (a compiled-in entry with a TODO fails the build) and the catalog
//! directory overlay (such an entry is pending, each TODO located).
//!
//! A person finishing an entry by hand writes the marker in many ways: `todo: ask upstream`,
//! `TODO - range`, `Todo(maria)`, with a zero-width space or a byte order mark pasted in front,
//! in full-width letters, as a mapping key, behind a tag. Every one of them is found: a value
//! (or key) is a TODO when, ignoring whitespace and invisible characters, it starts with the
//! letters T, O, D, O in any case (full-width ones too) and no letter or digit follows them (`today`, `todos` are
//! words, not markers).

/// (key path, text) of every TODO marker: string values, mapping keys, tags.
pub fn find_todos(v: &serde_yaml::Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_yaml::Value::String(s) if is_todo(s) => {
            out.push((path.to_string(), s.trim().to_string()))
        }
        serde_yaml::Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                find_todos(item, &format!("{path}[{i}]"), out);
            }
        }
        serde_yaml::Value::Mapping(m) => {
            for (k, item) in m {
                let key = k
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{k:?}"));
                let p = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                // A key can be the marker (`TODO: the key this chart reads`).
                find_todos(k, &p, out);
                find_todos(item, &p, out);
            }
        }
        serde_yaml::Value::Tagged(t) => {
            let tag = t.tag.to_string();
            if is_todo(tag.trim_start_matches('!')) {
                out.push((path.to_string(), tag));
            }
            find_todos(&t.value, path, out);
        }
        _ => {}
    }
}

/// Whether `s` starts with a TODO marker (see the module comment).
pub fn is_todo(s: &str) -> bool {
    // Spaces in front are skipped; within the word only what takes no room (`T\u{200b}ODO`):
    // `to do` is two words.
    let word = s.trim_start_matches(|c: char| c.is_whitespace() || invisible(c));
    let mut visible = word.chars().filter(|&c| !invisible(c)).map(plain_letter);
    let head: String = visible.by_ref().take(4).collect();
    head.eq_ignore_ascii_case("todo") && !visible.next().is_some_and(char::is_alphanumeric)
}

/// Controls and format characters: nothing a reader sees, and no room taken either.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{34f}'
                | '\u{61c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}

/// A full-width form (`Ｔ`) as the ASCII letter it shows.
fn plain_letter(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_the_marker_is_one() {
        for s in [
            "TODO: fill",
            "todo: fill",
            "Todo(maria) the range",
            "TODO - ask upstream",
            "TODO",
            "  TODO.",
            "\u{200b}TODO: pasted",
            "\u{feff}\u{2060}todo",
            "T\u{200b}ODO: split",
            "ＴＯＤＯ: full width",
            "\tTODO\n",
            "\u{3000}todo - ideographic space in front",
        ] {
            assert!(is_todo(s), "{s:?}");
        }
        for s in [
            "today", "todos", "TODO2", "to do", "mastodon", "", "tod", "x TODO",
        ] {
            assert!(!is_todo(s), "{s:?}");
        }
    }

    #[test]
    fn keys_tags_and_nested_values_are_searched() {
        let v: serde_yaml::Value = serde_yaml::from_str(
            "a: {b: [ok, \"todo - x\"]}\nvalues:\n  TODO: which key\nc: !todo x\nd: !ok TODO y\n",
        )
        .unwrap();
        let mut out = Vec::new();
        find_todos(&v, "", &mut out);
        let paths: Vec<&str> = out.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["a.b[1]", "values.TODO", "c", "d"]);
        assert_eq!(out[0].1, "todo - x");
        assert_eq!(out[2].1, "!todo");
    }
}
