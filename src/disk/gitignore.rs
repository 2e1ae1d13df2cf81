//! The ignore files of the repository a tree lives in, read for `check`: `.git/info/exclude`
//! and every `.gitignore` from the root down to a path's folder (bounded, never through a
//! link, as git itself reads them), matched by `base::gitignore`.

use std::collections::BTreeMap;

use crate::base::gitignore::{hidden_at, parse, Rule};
use crate::disk::fs_safe::Root;

/// Largest ignore file read (a real one is a few KiB); a larger one is skipped.
pub const MAX_IGNORE_FILE: u64 = 1024 * 1024;

/// The ignore files read so far, by the folder they apply to.
#[derive(Debug, Default)]
pub struct Ignores {
    exclude: Option<Vec<Rule>>,
    by_folder: BTreeMap<String, Vec<Rule>>,
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
}
