//! `deploygen bump`: change one pinned version in matrix.yaml by editing that one line, so
//! comments and layout survive, after the whole matrix has been validated with it.

use crate::error::{Error, Result};
use crate::matrix::COMPONENTS;

/// Returns the matrix text with `versions.<component>` set to `version`, every other byte
/// unchanged.
pub fn edit_version(file: &str, text: &str, component: &str, version: &str) -> Result<String> {
    if !COMPONENTS.contains(&component) {
        let hint = crate::suggest::hint(component, COMPONENTS.into_iter());
        return Err(Error::invalid(
            "COMPONENT",
            format!(
                "unknown component `{component}`{hint}; components: {}",
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
    let mut in_versions = false;
    let mut block_indent: Option<usize> = None;
    let mut out = Vec::new();
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let content = body.trim_start();
        let is_blank = content.is_empty() || content.starts_with('#');
        if !is_blank && indent == 0 {
            in_versions = content.starts_with("versions:");
            block_indent = None;
            out.push(line.to_string());
            continue;
        }
        if in_versions && !is_blank && !done {
            let level = *block_indent.get_or_insert(indent);
            if indent == level {
                if let Some(rest) = strip_key(content, component) {
                    // Keep what follows the value (alignment and comment) byte for byte.
                    let value = rest.trim_start();
                    let end = value.find(char::is_whitespace).unwrap_or(value.len());
                    let comment = &value[end..];
                    let eol = &line[body.len()..];
                    out.push(format!(
                        "{}{component}: {version}{comment}{eol}",
                        &body[..indent]
                    ));
                    done = true;
                    continue;
                }
            }
        }
        out.push(line.to_string());
    }
    if !done {
        return Err(Error::invalid(
            format!("{file}: versions.{component}"),
            "not found as a plain `key: value` line under `versions:`; edit it by hand",
        ));
    }
    Ok(out.concat())
}

/// `component: value # c` -> ` value # c` when the line's key is `component` (quoted or not).
fn strip_key<'a>(content: &'a str, component: &str) -> Option<&'a str> {
    for key in [
        component.to_string(),
        format!("\"{component}\""),
        format!("'{component}'"),
    ] {
        if let Some(rest) = content.strip_prefix(&key) {
            if let Some(rest) = rest.trim_start().strip_prefix(':') {
                return Some(rest);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_one_line_and_keeps_comments() {
        let text = "# top\nversions:\n  cert-manager: v1.15.5   # pinned\n  kserve: v0.14.1\nother:\n  kserve: x\n";
        let got = edit_version("m", text, "kserve", "v0.15.2").unwrap();
        assert_eq!(got, "# top\nversions:\n  cert-manager: v1.15.5   # pinned\n  kserve: v0.15.2\nother:\n  kserve: x\n");
        let got = edit_version("m", text, "cert-manager", "v1.14.7").unwrap();
        assert!(got.contains("  cert-manager: v1.14.7   # pinned\n"));
    }

    #[test]
    fn refuses_unknown_components_and_odd_versions() {
        assert!(edit_version("m", "versions:\n  kserve: v1\n", "kserv", "v1").is_err());
        assert!(edit_version("m", "versions:\n  kserve: v1\n", "kserve", "v1\nx: y").is_err());
    }
}
