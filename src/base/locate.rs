//! Finds where a key path (`environments.airgap.mirror`, `registries.upstream[1]`) sits in
//! the matrix text, so semantic errors point at a line and column like syntax errors do.
//! A best-effort scan of block-style YAML: where the path enters a flow mapping
//! (`{cpu: 1}`), the deepest key found on a line of its own is reported.

/// 1-based (line, column) of the deepest part of `path` found in `text`.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    locate_in(&lines, path)
}

/// `locate` over text already split into lines (split once when locating many problems: a
/// large matrix with thousands of problems was quadratic in its size, found by fuzzing).
pub fn locate_in(lines: &[&str], path: &str) -> Option<(usize, usize)> {
    // (first line of the current block, its end, indentation of its parent)
    let (mut start, mut end, mut parent_indent) = (0usize, lines.len(), -1i64);
    let mut found = None;
    for segment in split(path) {
        let (key, index) = segment;
        let Some((line, indent)) = find_key(lines, start, end, parent_indent, key) else {
            break;
        };
        found = Some((line + 1, indent as usize + 1));
        start = line + 1;
        end = block_end(lines, start, indent);
        parent_indent = indent;
        if let Some(i) = index {
            match find_item(lines, start, end, i) {
                Some((l, col)) => {
                    found = Some((l + 1, col + 1));
                    start = l;
                    end = block_end(lines, l + 1, col as i64);
                    parent_indent = col as i64;
                    // Keys of a `- key: v` item sit two columns right of the dash. `col` is the
                    // byte length of the line's leading spaces, so the slice is in bounds.
                    if let Some(t) = lines.get(l) {
                        if t[col..].starts_with("- ") {
                            start = l;
                            parent_indent = col as i64;
                        }
                    }
                }
                None => break,
            }
        }
    }
    found
}

/// `a.b[2].c` -> [("a", None), ("b", Some(2)), ("c", None)].
fn split(path: &str) -> Vec<(&str, Option<usize>)> {
    path.split('.')
        .map(|s| match s.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse().ok()),
            None => (s, None),
        })
        .collect()
}

fn indent_of(line: &str) -> i64 {
    (line.len() - line.trim_start().len()) as i64
}

fn is_content(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// First line after `start` that leaves the block of a key indented by `indent`: less
/// indented, or as indented and not a `- ` item (YAML lets a key's sequence items sit at the
/// key's own indentation).
fn block_end(lines: &[&str], start: usize, indent: i64) -> usize {
    (start..lines.len())
        .find(|&i| {
            let (line, ind) = (lines[i], indent_of(lines[i]));
            is_content(line)
                && (ind < indent || (ind == indent && !line.trim_start().starts_with("- ")))
        })
        .unwrap_or(lines.len())
}

fn find_key(
    lines: &[&str],
    start: usize,
    end: usize,
    parent: i64,
    key: &str,
) -> Option<(usize, i64)> {
    for (i, line) in lines.iter().enumerate().take(end).skip(start) {
        if !is_content(line) {
            continue;
        }
        let mut indent = indent_of(line);
        let mut t = line.trim_start();
        // `- key: value` inside a sequence item.
        while let Some(rest) = t.strip_prefix("- ") {
            indent += 2;
            t = rest;
        }
        if indent <= parent {
            continue;
        }
        for k in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
            if let Some(rest) = t.strip_prefix(&k) {
                if rest.trim_start().starts_with(':') {
                    return Some((i, indent));
                }
            }
        }
    }
    None
}

/// The `index`-th `- ` item between start and end: (line, column of the dash).
fn find_item(lines: &[&str], start: usize, end: usize, index: usize) -> Option<(usize, usize)> {
    let mut n = 0;
    let mut item_indent = None;
    for (i, line) in lines.iter().enumerate().take(end).skip(start) {
        let t = line.trim_start();
        if !t.starts_with("- ") && t != "-" {
            continue;
        }
        let ind = indent_of(line);
        if *item_indent.get_or_insert(ind) != ind {
            continue;
        }
        if n == index {
            return Some((i, ind as usize));
        }
        n += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# c\nversions:\n  kserve: v1\nregistries:\n  upstream:\n    - docker.io\n    - quay.io\nenvironments:\n  airgap:\n    cluster:\n      kubernetes: v1\n    mirror: x\n    extra_images:\n      - image: a\n        why: b\n      - image: c\n        why: d\n";

    #[test]
    fn finds_keys_and_items() {
        assert_eq!(locate(TEXT, "versions.kserve"), Some((3, 3)));
        assert_eq!(locate(TEXT, "environments.airgap.mirror"), Some((12, 5)));
        assert_eq!(
            locate(TEXT, "environments.airgap.cluster.kubernetes"),
            Some((11, 7))
        );
        assert_eq!(locate(TEXT, "registries.upstream[1]"), Some((7, 5)));
        assert_eq!(
            locate(TEXT, "environments.airgap.extra_images[1].why"),
            Some((17, 9))
        );
        assert_eq!(
            locate(TEXT, "environments.airgap.extra_images[1].image"),
            Some((16, 9))
        );
        // Missing keys fall back to the deepest key found.
        assert_eq!(locate(TEXT, "environments.airgap.nope"), Some((9, 3)));
    }
}
