//! The render's self-check: a template bug must never reach the disk.
//!
//! What it guards against: a template (or a filter, or the code feeding it) that renders a
//! YAML file that does not parse or holds a duplicate key in some mapping (Helm's YAML reader
//! refuses both), a JSON file that is not well-formed, or the bound-registry placeholder left
//! in any file. Every YAML and JSON file deploygen is about to write is checked (Helm
//! templates excepted: they are Go templates). It runs on the files a render writes, and only
//! those: a file whose bytes already are on disk is not written, so checking it would prove
//! nothing this run does (a no-op render parses nothing).
//!
//! How, at what it costs: each YAML document is parsed once by the same parser as before
//! (serde_yaml's, libyaml underneath), but walked without building values
//! (`model::unique`): only each mapping's keys are built, and compared exactly as
//! `serde_yaml::Mapping` compares them when it refuses a duplicate. So a file is refused
//! exactly when reading it into a `serde_yaml::Value` (what this check did before) fails:
//! `model::unique`'s tests prove it on generated YAML, and the tests below on broken
//! renderings of the default tree, against that reading.

use crate::base::error::{Error, Result};
use crate::base::generated::Tree;

/// Checks the files `paths` of `tree` (paths not in the tree are skipped). The files are
/// checked side by side on the machine's cores (`base::par`); the error reported is the first
/// in `paths`' order, whatever the number of cores.
pub fn self_check<'a>(tree: &Tree, paths: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let paths: Vec<&str> = paths.into_iter().collect();
    // 64 files a thread at least: a file is checked in tens of microseconds, a thread takes
    // about as long to start, and the default matrix's 100 files gain nothing from a second
    // one (measured: `cargo bench --bench runs`).
    crate::base::par::map(&paths, 64, |path| check_file(tree, path))
        .into_iter()
        .collect()
}

fn check_file(tree: &Tree, path: &str) -> Result<()> {
    let Some(text) = tree.get(path) else {
        return Ok(());
    };
    if text.contains(crate::model::mirror::PLACEHOLDER) {
        return Err(Error::internal(
            format!("rendered {path}"),
            "holds the bound-registry placeholder",
        ));
    }
    if path.contains("/templates/") {
        return Ok(());
    }
    if path.ends_with(".yaml") {
        crate::model::unique::documents(text)
            .map_err(|e| Error::internal(format!("rendered {path}"), e))?;
    } else if path.ends_with(".json") && text != crate::model::matrix::JSON_SCHEMA {
        // Well-formed JSON is what this proves (reading into serde_json's `Value`, as it
        // did, never refused a repeated key either), so nothing is built: the same proof
        // without the allocations. The matrix's JSON Schema is no rendering but a constant
        // (`model::matrix::JSON_SCHEMA`): a test below proves it well-formed.
        serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map_err(|e| Error::internal(format!("rendered {path}"), e))?;
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

    /// What this check did before it stopped building values: every document read into a
    /// `serde_yaml::Value` (which refuses a repeated key).
    fn as_values(text: &str) -> std::result::Result<(), serde_yaml::Error> {
        for doc in serde_yaml::Deserializer::from_str(text) {
            <serde_yaml::Value as serde::Deserialize>::deserialize(doc)?;
        }
        Ok(())
    }

    /// The check and the reading into values agree on `text`, down to the error's words.
    fn agree(text: &str) {
        match (crate::model::unique::documents(text), as_values(text)) {
            (Ok(()), Ok(())) => {}
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
            (a, b) => panic!("{text:?}: the check says {a:?}, reading values {b:?}"),
        }
    }

    /// Checked side by side, the files give the error of the first broken one in the order
    /// given, as one by one did: the report does not depend on the cores.
    #[test]
    fn reports_the_first_broken_file_in_order_however_many_threads_check() {
        let tree: Tree = (0..200)
            .map(|i| {
                let text = if i == 70 || i == 150 {
                    "a: 1\na: 2\n"
                } else {
                    "a: 1\n"
                };
                (format!("f{i:03}.yaml"), text.to_string())
            })
            .collect();
        let paths: Vec<&str> = tree.keys().map(String::as_str).collect();
        for order in [paths.clone(), paths.iter().rev().copied().collect()] {
            let first = order
                .iter()
                .position(|p| *p == "f070.yaml" || *p == "f150.yaml");
            let expected = format!("rendered {}", order[first.unwrap()]);
            match self_check(&tree, order.iter().copied()) {
                Err(Error::Internal { what, .. }) => assert_eq!(what, expected),
                other => panic!("{other:?}"),
            }
        }
        let clean: Tree = (0..200)
            .map(|i| (format!("f{i:03}.yaml"), "a: 1\n".to_string()))
            .collect();
        assert!(self_check(&clean, clean.keys().map(String::as_str)).is_ok());
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

    /// A rendering broken the ways a template bug breaks one (a line repeated, a line lost, a
    /// line's indent changed, the text cut short) is refused exactly when reading it into values
    /// refuses it; and repeating a mapping's key line (the usual template bug: a key written
    /// by two branches) is always refused. On every YAML file of the default tree.
    #[test]
    fn catches_broken_renderings_of_the_default_tree_as_reading_values_does() {
        let catalog = crate::catalog::Catalog::load().unwrap();
        let plan = crate::plan::resolve::plan_from_text(
            "matrix.yaml",
            include_bytes!("../../matrix.yaml"),
            &catalog,
        )
        .unwrap();
        let tree = crate::render::render_tree(&plan).unwrap();
        self_check(&tree, tree.keys().map(String::as_str)).unwrap();
        let checked: Vec<(&String, &String)> = tree
            .iter()
            .filter(|(p, _)| p.ends_with(".yaml") && !p.contains("/templates/"))
            .collect();
        assert!(checked.len() > 20, "{}", checked.len());
        let mut refused = 0;
        for (path, text) in checked {
            let lines: Vec<&str> = text.lines().collect();
            for i in 0..lines.len() {
                let with = |f: &dyn Fn(&mut Vec<String>)| {
                    let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                    f(&mut l);
                    l.join("\n") + "\n"
                };
                let line = lines[i];
                for broken in [
                    with(&|l| l.insert(i, line.to_string())),
                    with(&|l| {
                        l.remove(i);
                    }),
                    with(&|l| l[i] = format!(" {}", l[i])),
                    text[..text.len() * i / lines.len()].to_string(),
                ] {
                    agree(&broken);
                }
                // A top-level key's line written twice, as a second branch would write it.
                let top_key = !line.starts_with([' ', '-', '#']) && line.contains(':');
                if top_key && !line.starts_with("---") {
                    let twice = with(&|l| l.insert(i, line.to_string()));
                    let tree = Tree::from([(path.clone(), twice)]);
                    match self_check(&tree, [path.as_str()]) {
                        Err(Error::Internal { what, .. }) => {
                            assert_eq!(what, format!("rendered {path}"));
                            refused += 1;
                        }
                        other => panic!("{path}:{}: {line:?} twice: {other:?}", i + 1),
                    }
                }
            }
        }
        assert!(refused > 50, "{refused}");
    }

    #[test]
    fn the_constant_schema_left_unparsed_is_well_formed_json() {
        let schema = crate::model::matrix::JSON_SCHEMA;
        serde_json::from_str::<serde::de::IgnoredAny>(schema).unwrap();
        assert!(one("matrix.schema.json", schema).is_ok());
        assert!(one("matrix.schema.json", &schema[1..]).is_err());
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
