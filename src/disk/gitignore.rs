//! The ignore files of the repository a tree lives in, read for `check`: `.git/info/exclude`
//! and every `.gitignore` from the root down to a path's folder (bounded, never through a
//! link, as git itself reads them), matched by `base::gitignore`; and the index
//! (`.git/index`, `base::gitindex`), since no ignore rule applies to a file git tracks.
//! Not read: `core.excludesFile` (a user's own ignore file, outside the repository: it keeps
//! files out of that user's commits, and a fresh clone then lacks them, which `check` in the
//! clone reports as missing).

use std::collections::BTreeMap;

use crate::base::gitignore::{hidden_at, parse, Rule};
use crate::base::gitindex::{self, Tracked};
use crate::disk::fs_safe::Root;

/// Largest ignore file read (a real one is a few KiB); a larger one is skipped.
pub const MAX_IGNORE_FILE: u64 = 1024 * 1024;
/// Largest index read (about 100 bytes per tracked file); a larger one is not read, and the
/// ignore rules alone decide.
pub const MAX_INDEX: u64 = 64 * 1024 * 1024;

/// The ignore files read so far, by the folder they apply to.
#[derive(Debug, Default)]
pub struct Ignores {
    exclude: Option<Vec<Rule>>,
    by_folder: BTreeMap<String, Vec<Rule>>,
    tracked: Option<Tracked>,
}

/// What the repository's index tracks; nothing when there is no index (not a git work tree,
/// or `.git` is a file pointing elsewhere) or it cannot be read.
fn read_tracked(root: &Root) -> Tracked {
    let sha256 = match root.read_at_most(".git/config", MAX_IGNORE_FILE) {
        Ok(Some(bytes)) => object_format_sha256(&String::from_utf8_lossy(&bytes)),
        _ => false,
    };
    match root.read_at_most(".git/index", MAX_INDEX) {
        Ok(Some(bytes)) => {
            gitindex::parse(&bytes, if sha256 { 32 } else { 20 }).unwrap_or_default()
        }
        _ => Tracked::default(),
    }
}

/// `extensions.objectformat = sha256` in a git config (section and key names are
/// case-insensitive; the value may be quoted).
fn object_format_sha256(config: &str) -> bool {
    let mut in_extensions = false;
    for line in config.lines().map(str::trim) {
        if let Some(section) = line.strip_prefix('[') {
            in_extensions = section
                .trim_end_matches(']')
                .trim()
                .eq_ignore_ascii_case("extensions");
            continue;
        }
        if let (true, Some((k, v))) = (in_extensions, line.split_once('=')) {
            if k.trim().eq_ignore_ascii_case("objectformat") {
                return v.trim().trim_matches('"').eq_ignore_ascii_case("sha256");
            }
        }
    }
    false
}

fn read_rules(root: &Root, rel: &str, base: &str) -> Vec<Rule> {
    match root.read_at_most(rel, MAX_IGNORE_FILE) {
        Ok(Some(bytes)) => parse(rel, base, &String::from_utf8_lossy(&bytes)),
        // Missing, a link, a folder, too large or unreadable: git reads no rules from it.
        _ => Vec::new(),
    }
}

impl Ignores {
    /// The rule that keeps `path` (below the root, `/`-separated) out of git, if one does, and
    /// what it matched: the path, or an ignored folder on its way.
    pub fn hiding(&mut self, root: &Root, path: &str, is_dir: bool) -> Option<Hidden> {
        if !is_dir
            && self
                .tracked
                .get_or_insert_with(|| read_tracked(root))
                .contains(path)
        {
            return None;
        }
        let exclude = self
            .exclude
            .get_or_insert_with(|| read_rules(root, ".git/info/exclude", ""));
        let mut rules = exclude.clone();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for k in 0..parts.len() {
            let folder = parts[..k].join("/");
            let rules_here = self.by_folder.entry(folder.clone()).or_insert_with(|| {
                let file = crate::model::layout::Layout::join(&folder, ".gitignore");
                read_rules(root, &file, &folder)
            });
            rules.extend(rules_here.iter().cloned());
        }
        hidden_at(&rules, path, is_dir).map(|(rule, at)| Hidden {
            rule: rule.clone(),
            at,
        })
    }
}

/// A path git ignores: the rule, and what it matched (the path, or a folder on its way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    pub rule: Rule,
    pub at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_come_from_exclude_and_every_gitignore_on_the_way_deeper_ones_last() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join(".git/info")).unwrap();
        std::fs::create_dir_all(p.join("apps/k/charts")).unwrap();
        std::fs::write(p.join(".git/info/exclude"), "*.local\n").unwrap();
        std::fs::write(p.join(".gitignore"), "# charts\n**/charts/*.tgz\n").unwrap();
        std::fs::write(p.join("apps/.gitignore"), "!k/charts/keep-*.tgz\n").unwrap();
        let root = Root::open(p).unwrap();
        let mut ig = Ignores::default();
        let hit = ig
            .hiding(&root, "apps/k/charts/kserve-v0.14.1.tgz", false)
            .unwrap()
            .rule;
        assert_eq!((hit.source.as_str(), hit.line), (".gitignore", 2));
        assert_eq!(hit.text, "**/charts/*.tgz");
        assert!(ig
            .hiding(&root, "apps/k/charts/keep-1.tgz", false)
            .is_none());
        let hit = ig.hiding(&root, "apps/x.local", false).unwrap().rule;
        assert_eq!(hit.source, ".git/info/exclude");
        assert!(ig
            .hiding(&root, "apps/k/charts/kserve/Chart.yaml", false)
            .is_none());
        // A linked .gitignore is not read (git refuses one in the tree too).
        std::fs::remove_file(p.join(".gitignore")).unwrap();
        std::fs::write(p.join("elsewhere"), "*\n").unwrap();
        std::os::unix::fs::symlink(p.join("elsewhere"), p.join(".gitignore")).unwrap();
        let mut fresh = Ignores::default();
        assert!(fresh
            .hiding(&root, "apps/k/charts/kserve-v0.14.1.tgz", false)
            .is_none());
    }

    fn git(dir: &std::path::Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .args(["-c", "user.email=t@t", "-c", "user.name=t"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What git itself tracks, in each index version it writes: a file added with `-f` past
    /// an ignore rule is not hidden (a clone has it); one only marked `add -N` still is.
    #[test]
    fn a_file_git_tracks_is_not_hidden_by_an_ignore_rule() {
        for version in ["2", "3", "4"] {
            let d = tempfile::tempdir().unwrap();
            let p = d.path();
            git(p, &["init", "-q"]);
            std::fs::create_dir_all(p.join("apps/kserve/charts")).unwrap();
            std::fs::write(p.join(".gitignore"), "**/charts/*.tgz\n").unwrap();
            for f in ["forced-1.0.0.tgz", "planned-1.0.0.tgz", "left-1.0.0.tgz"] {
                std::fs::write(p.join("apps/kserve/charts").join(f), "x").unwrap();
            }
            git(p, &["add", ".gitignore"]);
            git(p, &["add", "-f", "apps/kserve/charts/forced-1.0.0.tgz"]);
            git(
                p,
                &["add", "-f", "-N", "apps/kserve/charts/planned-1.0.0.tgz"],
            );
            git(p, &["update-index", "--index-version", version]);
            let root = Root::open(p).unwrap();
            let mut ig = Ignores::default();
            assert!(
                ig.hiding(&root, "apps/kserve/charts/forced-1.0.0.tgz", false)
                    .is_none(),
                "index v{version}"
            );
            for f in ["planned-1.0.0.tgz", "left-1.0.0.tgz"] {
                let hit = ig.hiding(&root, &format!("apps/kserve/charts/{f}"), false);
                assert_eq!(
                    hit.unwrap().rule.text,
                    "**/charts/*.tgz",
                    "index v{version}: {f}"
                );
            }
        }
    }

    #[test]
    fn the_object_format_is_read_from_the_extensions_section() {
        assert!(object_format_sha256(
            "[core]\n\tbare = false\n[Extensions]\n\tobjectFormat = \"sha256\"\n"
        ));
        assert!(!object_format_sha256("[core]\n\tobjectformat = sha256\n"));
        assert!(!object_format_sha256(
            "[extensions]\n\tobjectformat = sha1\n"
        ));
        assert!(!object_format_sha256(""));
    }
}
