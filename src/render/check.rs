//! The render's self-check: a template bug must never reach the disk. Every YAML and JSON file
//! deploygen is about to write must parse (Helm templates excepted: they are Go templates), and
//! no file may still hold the bound-registry placeholder. It runs on the files a render writes,
//! and only those: a file whose bytes already are on disk is not written, so checking it would
//! prove nothing this run does (a no-op render parses nothing).

use crate::base::error::{Error, Result};
use crate::base::generated::Tree;

/// Checks the files `paths` of `tree` (paths not in the tree are skipped).
pub fn self_check<'a>(tree: &Tree, paths: impl IntoIterator<Item = &'a str>) -> Result<()> {
    for path in paths {
        let Some(text) = tree.get(path) else {
            continue;
        };
        if text.contains(crate::model::mirror::PLACEHOLDER) {
            return Err(Error::internal(
                format!("rendered {path}"),
                "holds the bound-registry placeholder",
            ));
        }
        if path.contains("/templates/") {
            continue;
        }
        if path.ends_with(".yaml") {
            // Parsed into values, not skimmed: a duplicate key is an error here, as it is to
            // Helm's YAML reader.
            for doc in serde_yaml::Deserializer::from_str(text) {
                <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
                    .map_err(|e| Error::internal(format!("rendered {path}"), e))?;
            }
        } else if path.ends_with(".json") {
            // Well-formed JSON is what this proves (reading into serde_json's `Value`, as it
            // did, never refused a repeated key either), so nothing is built: the same proof
            // without the allocations.
            serde_json::from_str::<serde::de::IgnoredAny>(text)
                .map_err(|e| Error::internal(format!("rendered {path}"), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(path: &str, text: &str) -> Result<()> {
        let tree = Tree::from([(path.to_string(), text.to_string())]);
        self_check(&tree, [path])
    }

    #[test]
    fn refuses_a_yaml_or_json_file_that_does_not_parse() {
        assert!(one("a.yaml", "a: 1\n---\nb: 2\n").is_ok());
        assert!(one("a.json", "{\"a\": 1}").is_ok());
        // Helm templates are Go templates, not YAML; other files are not checked.
        assert!(one("applications/x/templates/a.yaml", "{{ if }}: : [\n").is_ok());
        assert!(one("README.md", "a: : [\n").is_ok());
        for (path, text) in [
            ("a.yaml", "a: 1\n---\nb: : [\n"),
            ("a.yaml", "a: 1\na: 2\n"),
            ("a.json", "{\"a\": }"),
        ] {
            match one(path, text) {
                Err(Error::Internal { what, .. }) => assert_eq!(what, format!("rendered {path}")),
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_the_placeholder_anywhere_and_checks_only_the_paths_given() {
        let held = format!("x: {}\n", crate::model::mirror::PLACEHOLDER);
        for path in ["a.yaml", "README.md", "applications/x/templates/a.yaml"] {
            assert!(one(path, &held).is_err(), "{path}");
        }
        let tree = Tree::from([
            ("bad.yaml".to_string(), "a: : [\n".to_string()),
            ("good.yaml".to_string(), "a: 1\n".to_string()),
        ]);
        assert!(self_check(&tree, ["good.yaml", "missing.yaml"]).is_ok());
        assert!(self_check(&tree, ["good.yaml", "bad.yaml"]).is_err());
    }
}
