//! Git's ignore rules (`.gitignore`, `.git/info/exclude`), matched as `gitignore(5)` documents
//! them, so `check` can name the rule that keeps a vendored chart out of git (a fresh clone
//! then lacks it). Pure: `disk::gitignore` reads the files.
//!
//! What is matched: blank lines and `#` comments skipped (`\#` is a literal `#`); trailing
//! spaces dropped unless escaped; `!` negates (`\!` is a literal `!`); a trailing `/` matches
//! folders only; a pattern with a `/` at its start or in its middle is anchored at its file's
//! folder (a leading `/` dropped), one without matches a name at any depth below it; `*`, `?`
//! and `[...]` never match a `/`; `**/` leading, `/**` trailing and `/**/` inside match across
//! folders; the last matching rule wins, deeper files after higher ones; and a path below an
//! ignored folder stays ignored whatever a later `!` says (git does not look inside it).
//! Not read: `core.excludesFile` (per user, not per repository).

/// One rule of an ignore file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Where it was read, as a message shows it (`.gitignore`, `applications/.gitignore`).
    pub source: String,
    /// 1-based line in that file.
    pub line: usize,
    /// The line as written (trailing spaces dropped).
    pub text: String,
    /// The folder the file applies to, relative to the repository root ("" for the root).
    base: String,
    pattern: String,
    negated: bool,
    dir_only: bool,
    anchored: bool,
}

/// The rules of one file, in order. `base` is the folder the file sits in (for `.gitignore`)
/// or "" (for `.git/info/exclude`).
pub fn parse(source: &str, base: &str, text: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = trim_trailing_spaces(raw);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negated, rest) = match line.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, line),
        };
        let (dir_only, rest) = match rest.strip_suffix('/') {
            Some(r) if !r.ends_with('\\') => (true, r),
            _ => (false, rest),
        };
        if rest.is_empty() {
            continue;
        }
        let anchored = rest.contains('/');
        let pattern = rest.strip_prefix('/').unwrap_or(rest).to_string();
        rules.push(Rule {
            source: source.to_string(),
            line: i + 1,
            text: line.to_string(),
            base: base.trim_matches('/').to_string(),
            pattern,
            negated,
            dir_only,
            anchored,
        });
    }
    rules
}

/// A line with its trailing spaces dropped, unless the last is escaped (`a\ `).
fn trim_trailing_spaces(line: &str) -> &str {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut end = line.len();
    while end > 0 && line.as_bytes()[end - 1] == b' ' {
        let escaped = end >= 2 && line.as_bytes()[end - 2] == b'\\';
        if escaped {
            break;
        }
        end -= 1;
    }
    &line[..end]
}

impl Rule {
    /// Whether this rule's pattern matches `path` (relative to the repository root).
    fn matches(&self, path: &str, is_dir: bool) -> bool {
        if self.dir_only && !is_dir {
            return false;
        }
        let rel = if self.base.is_empty() {
            path
        } else {
            match path
                .strip_prefix(self.base.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                Some(r) => r,
                None => return false,
            }
        };
        if self.anchored {
            wildmatch(self.pattern.as_bytes(), rel.as_bytes())
        } else {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            wildmatch(self.pattern.as_bytes(), name.as_bytes())
        }
    }
}

/// The rule that ignores `path` (relative to the repository root, `/`-separated), or None
/// when git would track it. `rules` in git's order of precedence, lowest first
/// (`.git/info/exclude`, then each `.gitignore` from the root down). A folder on the way that
/// is ignored hides the path, whatever the rules say of the path itself.
pub fn ignored_by<'a>(rules: &'a [Rule], path: &str, is_dir: bool) -> Option<&'a Rule> {
    hidden_at(rules, path, is_dir).map(|(r, _)| r)
}

/// `ignored_by`, with the path the rule matched: `path` itself, or the folder on the way that
/// is ignored (a `!` rule for the path cannot bring it back then: only one for that folder).
pub fn hidden_at<'a>(rules: &'a [Rule], path: &str, is_dir: bool) -> Option<(&'a Rule, String)> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for k in 1..=parts.len() {
        let prefix = parts[..k].join("/");
        let last = k == parts.len();
        let hit = rules
            .iter()
            .rev()
            .find(|r| r.matches(&prefix, if last { is_dir } else { true }));
        if let Some(r) = hit {
            if !r.negated {
                return Some((r, prefix));
            }
        }
    }
    None
}

/// Git's `wildmatch` with `WM_PATHNAME`: `*`, `?` and `[...]` never match `/`; `**` as a whole
/// path component matches across folders.
pub fn wildmatch(p: &[u8], t: &[u8]) -> bool {
    matches_at(p, 0, t, 0)
}

fn matches_at(p: &[u8], mut pi: usize, t: &[u8], mut ti: usize) -> bool {
    while pi < p.len() {
        match p[pi] {
            b'*' => {
                let start = pi;
                while pi < p.len() && p[pi] == b'*' {
                    pi += 1;
                }
                let whole_component = (start == 0 || p[start - 1] == b'/')
                    && pi - start >= 2
                    && (pi == p.len() || p[pi] == b'/');
                if whole_component {
                    if pi == p.len() {
                        // `**` or `a/**`: everything below (`a/**` needs something below).
                        return start == 0 || ti < t.len();
                    }
                    // `**/rest`: rest at the start or after any `/`.
                    let rest = pi + 1;
                    if matches_at(p, rest, t, ti) {
                        return true;
                    }
                    return (ti..t.len())
                        .filter(|&i| t[i] == b'/')
                        .any(|i| matches_at(p, rest, t, i + 1));
                }
                // `*`: any run of non-`/`, shortest first.
                let mut i = ti;
                loop {
                    if matches_at(p, pi, t, i) {
                        return true;
                    }
                    if i == t.len() || t[i] == b'/' {
                        return false;
                    }
                    i += 1;
                }
            }
            b'?' => {
                if ti == t.len() || t[ti] == b'/' {
                    return false;
                }
                pi += 1;
                ti += 1;
            }
            b'[' => {
                if ti == t.len() || t[ti] == b'/' {
                    return false;
                }
                match class(p, pi, t[ti]) {
                    Some((true, next)) => {
                        pi = next;
                        ti += 1;
                    }
                    Some((false, _)) => return false,
                    // No closing `]`: a literal `[`.
                    None => {
                        if t[ti] != b'[' {
                            return false;
                        }
                        pi += 1;
                        ti += 1;
                    }
                }
            }
            b'\\' if pi + 1 < p.len() => {
                if ti == t.len() || t[ti] != p[pi + 1] {
                    return false;
                }
                pi += 2;
                ti += 1;
            }
            c => {
                if ti == t.len() || t[ti] != c {
                    return false;
                }
                pi += 1;
                ti += 1;
            }
        }
    }
    ti == t.len()
}

/// A bracket expression at `p[at] == b'['`: whether `c` is in it, and where the pattern goes
/// on; None when it has no closing `]`.
fn class(p: &[u8], at: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negated = matches!(p.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    while i < p.len() {
        let mut lo = p[i];
        if lo == b']' && !first {
            return Some((found != negated, i + 1));
        }
        first = false;
        if lo == b'\\' && i + 1 < p.len() {
            i += 1;
            lo = p[i];
        }
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            let mut hi = p[i + 2];
            i += 2;
            if hi == b'\\' && i + 1 < p.len() {
                i += 1;
                hi = p[i];
            }
            found |= lo <= c && c <= hi;
        } else {
            found |= lo == c;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignored(gitignore: &str, path: &str, is_dir: bool) -> Option<(usize, String)> {
        let rules = parse(".gitignore", "", gitignore);
        ignored_by(&rules, path, is_dir).map(|r| (r.line, r.text.clone()))
    }

    fn yes(gitignore: &str, path: &str) -> bool {
        ignored(gitignore, path, false).is_some()
    }

    #[test]
    fn astragos_rule_ignores_every_chart_archive_at_any_depth_and_names_its_line() {
        let astrago = "/.idea/\n\n# Chart dependencies\n**/charts/*.tgz\n";
        assert_eq!(
            ignored(
                astrago,
                "applications/kserve/charts/kserve-v0.14.1.tgz",
                false
            ),
            Some((4, "**/charts/*.tgz".into()))
        );
        assert!(yes(astrago, "charts/a.tgz"));
        // An unpacked chart, and archives below a chart's own folder, are not matched.
        assert!(!yes(
            astrago,
            "applications/kserve/charts/kserve/Chart.yaml"
        ));
        assert!(!yes(
            astrago,
            "applications/kserve/charts/kserve/charts/x.tar.gz"
        ));
        assert!(!yes(astrago, "applications/kserve/charts/sub/x.tgz"));
        // `/.idea/` is anchored and for folders only.
        assert!(yes(astrago, ".idea/workspace.xml"));
        assert!(!yes(astrago, "a/.idea/workspace.xml"));
        assert!(ignored(astrago, ".idea", false).is_none());
    }

    #[test]
    fn the_documented_examples_of_gitignore_5() {
        // "doc/frotz/" matches doc/frotz but not a/doc/frotz; "frotz/" matches both.
        assert!(ignored("doc/frotz/", "doc/frotz", true).is_some());
        assert!(ignored("doc/frotz/", "a/doc/frotz", true).is_none());
        assert!(ignored("frotz/", "doc/frotz", true).is_some());
        assert!(ignored("frotz/", "a/frotz", true).is_some());
        // "*.html" matches at any depth; "/*.c" only at the top.
        assert!(yes("*.html", "a/b/index.html"));
        assert!(yes("/*.c", "cat-file.c"));
        assert!(!yes("/*.c", "mozilla-sha1/sha1.c"));
        // "foo/*" matches foo/test.json and foo/bar, not foo/bar/hello.c itself (but that
        // is below an ignored folder).
        assert!(wildmatch(b"foo/*", b"foo/test.json"));
        assert!(!wildmatch(b"foo/*", b"foo/bar/hello.c"));
        assert!(yes("foo/*", "foo/bar/hello.c"));
        // "**/foo" anywhere; "**/foo/bar" anywhere directly under foo; "abc/**" inside abc;
        // "a/**/b" with zero or more folders between.
        assert!(yes("**/foo", "x/y/foo"));
        assert!(yes("**/foo", "foo"));
        assert!(yes("**/foo/bar", "x/foo/bar"));
        assert!(!yes("**/foo/bar", "foo/x/bar"));
        assert!(yes("abc/**", "abc/d/e"));
        assert!(!wildmatch(b"abc/**", b"abc"));
        for p in ["a/b", "a/x/b", "a/x/y/b"] {
            assert!(yes("a/**/b", p), "{p}");
        }
        assert!(!yes("a/**/b", "a/xb"));
        // Other consecutive asterisks are a plain `*`.
        assert!(wildmatch(b"a**b", b"axxb"));
        assert!(!wildmatch(b"a**b", b"ax/xb"));
    }

    #[test]
    fn the_last_matching_rule_wins_and_negation_re_includes() {
        let text = "*.tgz\n!keep.tgz\n";
        assert!(yes(text, "a/drop.tgz"));
        assert!(!yes(text, "a/keep.tgz"));
        // Later rules win over earlier ones.
        assert_eq!(
            ignored("!a.tgz\n*.tgz\n", "a.tgz", false),
            Some((2, "*.tgz".into()))
        );
        // "!" cannot re-include a file whose folder is ignored; the folder is named.
        let text = "charts/\n!charts/a.tgz\n";
        assert_eq!(
            ignored(text, "charts/a.tgz", false),
            Some((1, "charts/".into()))
        );
        let rules = parse(".gitignore", "", "applications/*/charts/\n");
        let (_, at) = hidden_at(&rules, "applications/k/charts/k-1.tgz", false).unwrap();
        assert_eq!(at, "applications/k/charts");
        let rules = parse(
            ".gitignore",
            "",
            "applications/*/charts/\n!applications/k/charts/\n",
        );
        assert!(hidden_at(&rules, "applications/k/charts/k-1.tgz", false).is_none());
        // Astrago's rule, undone for one app with the rule check's suggestion.
        let text = "**/charts/*.tgz\n!applications/kserve/charts/*.tgz\n";
        assert!(!yes(text, "applications/kserve/charts/kserve-v0.14.1.tgz"));
        assert!(yes(text, "applications/other/charts/x-1.tgz"));
    }

    #[test]
    fn comments_blank_lines_escapes_and_trailing_spaces() {
        assert!(ignored("# a.tgz\n\n", "# a.tgz", false).is_none());
        assert!(yes("\\#a\n", "#a"));
        assert!(yes("\\!a\n", "!a"));
        assert!(yes("a.tgz   \n", "a.tgz"));
        assert!(yes("a\\ \n", "a "));
        assert!(yes("a.tgz\r\n", "a.tgz"));
        assert_eq!(trim_trailing_spaces("x \\  "), "x \\ ");
    }

    #[test]
    fn question_marks_and_brackets_match_one_character_never_a_slash() {
        assert!(wildmatch(b"v?.tgz", b"v1.tgz"));
        assert!(!wildmatch(b"v?.tgz", b"v/.tgz"));
        assert!(!wildmatch(b"v?.tgz", b"v.tgz"));
        assert!(wildmatch(b"v[0-9].tgz", b"v7.tgz"));
        assert!(!wildmatch(b"v[0-9].tgz", b"va.tgz"));
        assert!(wildmatch(b"v[!0-9].tgz", b"va.tgz"));
        assert!(wildmatch(b"v[^0-9].tgz", b"va.tgz"));
        assert!(wildmatch(b"[]a]", b"]"));
        assert!(!wildmatch(b"a[/]b", b"a/b"));
        assert!(wildmatch(b"a[b", b"a[b"));
        assert!(wildmatch(b"*", b"anything"));
        assert!(!wildmatch(b"*", b"a/b"));
        assert!(wildmatch(b"", b""));
        assert!(!wildmatch(b"a", b""));
    }

    #[test]
    fn a_gitignore_below_the_root_applies_below_its_folder_only() {
        let mut rules = parse(".gitignore", "", "!*.tgz\n");
        rules.extend(parse(
            "applications/.gitignore",
            "applications",
            "*.tgz\n/top\n",
        ));
        let hit = ignored_by(&rules, "applications/k/charts/a.tgz", false).unwrap();
        assert_eq!(
            (hit.source.as_str(), hit.line),
            ("applications/.gitignore", 1)
        );
        assert!(ignored_by(&rules, "a.tgz", false).is_none());
        assert!(ignored_by(&rules, "applications/top", false).is_some());
        assert!(ignored_by(&rules, "applications/k/top", false).is_none());
        assert!(ignored_by(&rules, "top", false).is_none());
    }
}
