//! `deploygen bump`: change one pinned version in matrix.yaml by editing that one scalar, so
//! comments and layout survive, after the whole matrix has been validated with it.
//!
//! The scalar is found by the YAML parser itself, not by a text search: a probe deserializer
//! walks to `versions.<component>` and fails there on purpose, and the parser's error carries
//! the exact position of that value. (A line search can be fooled: a multi-line quoted
//! `accept` reason whose continuation lines read `versions:` / `  kserve: v0.14.1` looks like
//! the versions block.) The edit is then proven: the edited text, parsed again, must equal
//! the original with exactly that one version changed, or the bump is refused.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_yaml::Value;

use crate::base::error::{Error, Result};
use crate::model::matrix::COMPONENTS;

/// Returns the matrix text with `versions.<component>` set to `version`, every other byte
/// unchanged.
pub fn edit_version(file: &str, text: &str, component: &str, version: &str) -> Result<String> {
    if !COMPONENTS.contains(&component) {
        let hint = crate::base::suggest::hint(component, COMPONENTS.into_iter());
        return Err(Error::invalid(
            "COMPONENT",
            format!(
                "unknown component `{}`{hint}; components: {}",
                crate::base::text::escape(component),
                COMPONENTS.join(", ")
            ),
        ));
    }
    if version.is_empty()
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
    {
        return Err(Error::invalid(
            "VERSION",
            format!("`{}` is not a version", version.escape_debug()),
        ));
    }
    // The original must be a valid matrix (located errors otherwise, duplicates refused).
    crate::model::matrix::parse(file, text.as_bytes())?;
    let original: Value = serde_yaml::from_str(text).map_err(|e| Error::internal("bump", e))?;
    let not_editable = |at: String, why: &str| {
        Error::invalid(
            at,
            format!("versions.{component} {why}; change it by hand (or write it as a plain `{component}: VERSION` line)"),
        )
    };
    let start = locate_value(text, component)?
        .ok_or_else(|| not_editable(file.to_string(), "is not in the matrix"))?;
    let (line, col) = crate::model::input::position(text.as_bytes(), start);
    let at = format!("{file}:{line}:{col}");
    let end = scalar_end(text, start)
        .ok_or_else(|| not_editable(at.clone(), "is not a one-line scalar"))?;
    let old = &text[start..end];
    let new = match old.as_bytes().first() {
        Some(b'"') => format!("\"{version}\""),
        Some(b'\'') => format!("'{version}'"),
        _ if matches!(serde_yaml::from_str::<Value>(version), Ok(Value::String(_))) => {
            version.to_string()
        }
        // `1.22` alone would read back as a number: keep it a string.
        _ => format!("\"{version}\""),
    };
    let edited = format!("{}{new}{}", &text[..start], &text[end..]);
    // The proof: exactly that one version changed, nothing else.
    let mut expected = original;
    match expected
        .get_mut("versions")
        .and_then(|v| v.get_mut(component))
    {
        Some(v) => *v = Value::String(version.to_string()),
        None => return Err(not_editable(at, "is not in the matrix")),
    }
    match serde_yaml::from_str::<Value>(&edited) {
        Ok(got) if got == expected => Ok(edited),
        _ => Err(not_editable(
            at,
            "could not be edited in place without changing something else (a multi-line or \
             aliased value)",
        )),
    }
}

/// Byte offset of the value of `versions.<component>` (top-level `versions` only), found by
/// the parser. `None` when the key is absent.
fn locate_value(text: &str, component: &str) -> Result<Option<usize>> {
    let seed = Top { component };
    let err = match seed.deserialize(serde_yaml::Deserializer::from_str(text)) {
        Ok(()) => return Ok(None),
        Err(e) => e,
    };
    match err.location() {
        Some(loc) if err.to_string().contains(HERE) => {
            // libyaml's `index` counts characters, not bytes (a byte-order mark or a Korean
            // comment above `versions:` would shift it): the line and column give the byte.
            byte_offset(text, loc.line(), loc.column())
                .map(Some)
                .ok_or_else(|| {
                    Error::invalid(
                        format!("{}:{}", loc.line(), loc.column()),
                        "the versions entry could not be located exactly (unusual line breaks); change it by hand",
                    )
                })
        }
        _ => Err(Error::internal("bump", err)),
    }
}

/// Byte offset of a 1-based (line, column) position, columns counted in characters, as the
/// YAML parser reports them (after a byte-order mark, which it skips).
fn byte_offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    let end = rest.find('\n').unwrap_or(rest.len());
    let at = rest[..end]
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(end))
        .nth(column.checked_sub(1)?)?;
    Some(start + at)
}

const HERE: &str = "deploygen-bump-probe";

/// The top-level mapping: descends into `versions` only.
struct Top<'a> {
    component: &'a str,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(Keys {
            want: "versions",
            component: Some(self.component),
        })
    }
}

/// Walks a mapping; at key `want` either descends (into `versions`, looking for the
/// component) or stops with the probe error, which the parser locates at the value.
struct Keys<'a> {
    want: &'a str,
    component: Option<&'a str>,
}

impl<'de> Visitor<'de> for Keys<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<Value>()? {
            if key.as_str() != Some(self.want) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            return match self.component {
                Some(c) => map.next_value_seed(Inner { component: c }),
                None => map.next_value_seed(Stop),
            };
        }
        Ok(())
    }
}

struct Inner<'a> {
    component: &'a str,
}

impl<'de> DeserializeSeed<'de> for Inner<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(Keys {
            want: self.component,
            component: None,
        })
    }
}

/// Fails on the value it is given: the parser attaches that value's position. Only a string
/// reaches it: `matrix::parse` has already typed every version as one (any other value would
/// get serde's own type error, which `locate_value` reports as a deploygen bug).
struct Stop;

impl<'de> DeserializeSeed<'de> for Stop {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(Stop)
    }
}

impl<'de> Visitor<'de> for Stop {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<(), E> {
        Err(E::custom(HERE))
    }
}

/// End (exclusive) of the one-line scalar starting at `start`: a quoted scalar through its
/// closing quote, a plain one up to a space, comment, flow indicator or line end. `None`
/// when a quoted scalar does not close on its line.
fn scalar_end(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start..];
    let line = &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())];
    let b = line.as_bytes();
    match b.first() {
        Some(b'"') => {
            let mut i = 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => return Some(start + i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        Some(b'\'') => {
            let mut i = 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some(start + i + 1);
                }
                i += 1;
            }
            None
        }
        _ => Some(
            start
                + line
                    .find(|c: char| c.is_whitespace() || ",]}#".contains(c))
                    .unwrap_or(line.len()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = include_str!("../../matrix.yaml");

    #[test]
    fn edits_one_scalar_and_keeps_comments() {
        let text = M.replacen("  kserve: v0.14.1", "  kserve: v0.14.1   # pinned", 1);
        let got = edit_version("m", &text, "kserve", "v0.15.2").unwrap();
        assert_eq!(
            got,
            text.replacen(
                "  kserve: v0.14.1   # pinned",
                "  kserve: v0.15.2   # pinned",
                1
            )
        );
    }

    #[test]
    fn keeps_quotes_and_quotes_what_would_read_as_a_number() {
        let text = M.replacen("  kserve: v0.14.1", "  kserve: 'v0.14.1'", 1);
        let got = edit_version("m", &text, "kserve", "v0.15.2").unwrap();
        assert!(got.contains("  kserve: 'v0.15.2'\n"));
        let text = M.replacen("  kserve: v0.14.1", "  \"kserve\" : \"v0.14.1\"", 1);
        let got = edit_version("m", &text, "kserve", "v0.15.2").unwrap();
        assert!(got.contains("  \"kserve\" : \"v0.15.2\"\n"), "{got}");
        let got = edit_version("m", M, "istio", "1.22").unwrap();
        assert!(got.contains("  istio: \"1.22\"\n"), "{got}");
    }

    #[test]
    fn refuses_unknown_components_and_odd_versions() {
        assert!(edit_version("m", M, "kserv", "v1").is_err());
        for bad in ["", "v1\nx: y", "v1 x", "v1;rm"] {
            let e = edit_version("m", M, "kserve", bad).unwrap_err().to_string();
            assert!(
                e.contains("VERSION: ") && e.contains("is not a version"),
                "{bad:?}: {e}"
            );
        }
        for good in ["v0.15.2", "1.22.8", "v1.0.0-rc.1+build_2"] {
            assert!(edit_version("m", M, "kserve", good).is_ok(), "{good}");
        }
    }

    /// Quoted values end at their closing quote, not at a space or `#` inside them; escapes
    /// (`\"`) and doubled single quotes (`''`) do not close them.
    #[test]
    fn quoted_values_end_at_their_closing_quote() {
        for (old, new) in [
            ("\"v0.14.1 # not a comment\"", "\"v0.15.2\""),
            ("\"v0\\\".14 x\"", "\"v0.15.2\""),
            ("'v0.14.1 # not a comment'", "'v0.15.2'"),
            ("'it''s v0.14 x'", "'v0.15.2'"),
            // An escape or a doubled quote right after the opening quote.
            ("\"\\\"v0.14 x\"", "\"v0.15.2\""),
            ("'''v0.14 x'", "'v0.15.2'"),
        ] {
            let text = M.replacen(
                "  kserve: v0.14.1",
                &format!("  kserve: {old}  # pinned"),
                1,
            );
            assert_ne!(text, M);
            let got = edit_version("m", &text, "kserve", "v0.15.2")
                .unwrap_or_else(|e| panic!("{old}: {e}"));
            assert_eq!(
                got,
                text.replacen(&format!("  kserve: {old}"), &format!("  kserve: {new}"), 1),
                "{old}"
            );
        }
        // A quoted value that does not close on its line is not edited in place.
        for open in ["\"v0.14.1\n    more\"", "'v0.14.1\n    more'"] {
            let text = M.replacen("  kserve: v0.14.1", &format!("  kserve: {open}"), 1);
            let e = edit_version("m", &text, "kserve", "v0.15.2")
                .unwrap_err()
                .to_string();
            assert!(e.contains("is not a one-line scalar"), "{open}: {e}");
        }
    }

    /// The parser counts characters, the edit bytes: a byte-order mark, non-ASCII comments
    /// above the versions (Astrago's are often Korean) and on the version's own line do not
    /// shift the edit.
    #[test]
    fn multi_byte_characters_do_not_shift_the_edit() {
        let korean = M.replacen("versions:\n", "# 버전: 한 줄에 하나씩\nversions:\n", 1);
        let inline = M.replacen(
            "  cert-manager: v1.15.5",
            "  cert-manager: v1.15.5 # 인증서",
            1,
        );
        for text in [
            format!("\u{feff}{M}"),
            korean,
            inline,
            format!("\u{feff}{M}").replacen("versions:\n", "# é\nversions:\n", 1),
        ] {
            let got = edit_version("m", &text, "kserve", "v0.15.2").unwrap();
            assert_eq!(
                got,
                text.replacen("  kserve: v0.14.1", "  kserve: v0.15.2", 1)
            );
        }
    }

    #[test]
    fn byte_offsets_follow_lines_and_characters() {
        let t = "ab\n한국: x\n";
        assert_eq!(byte_offset(t, 1, 1), Some(0));
        assert_eq!(byte_offset(t, 2, 1), Some(3));
        assert_eq!(byte_offset(t, 2, 5), Some(3 + 6 + 2));
        assert_eq!(&t[byte_offset(t, 2, 5).unwrap()..], "x\n");
        assert_eq!(byte_offset("\u{feff}a: b", 1, 4), Some(6));
        assert_eq!(byte_offset(t, 9, 1), None);
        assert_eq!(byte_offset(t, 1, 0), None);
    }

    #[test]
    fn refuses_a_value_it_cannot_edit_in_place() {
        // A plain scalar continued on the next line: editing the first line alone would keep
        // the continuation, and the proof catches it.
        let text = M.replacen(
            "  kserve: v0.14.1\n",
            "  kserve: v0.14.1\n    continued\n",
            1,
        );
        if crate::model::matrix::parse("m", text.as_bytes()).is_ok() {
            let e = edit_version("m", &text, "kserve", "v0.15.2").unwrap_err();
            assert!(e.to_string().contains("by hand"), "{e}");
        }
        let text = M.replacen("  kserve: v0.14.1\n", "  kserve: \"v0.14.1\n    \"\n", 1);
        let e = edit_version("m", &text, "kserve", "v0.15.2").unwrap_err();
        assert!(e.to_string().contains("m:"), "{e}");
    }
}
