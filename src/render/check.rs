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
//! (serde_yaml's, libyaml underneath), but walked by a visitor that builds no values. Only
//! each mapping's keys are built, as `serde_yaml::Value`s, and compared exactly as
//! `serde_yaml::Mapping` compares them when it refuses a duplicate; the values are visited and
//! dropped. So a file is refused exactly when reading it into a `serde_yaml::Value` (what this
//! check did before) fails: the tests below prove it on broken renderings and on generated
//! YAML, against that reading.

use std::collections::HashSet;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

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
            yaml(text).map_err(|e| Error::internal(format!("rendered {path}"), e))?;
        } else if path.ends_with(".json") && text != crate::model::matrix::JSON_SCHEMA {
            // (The matrix's JSON Schema is no rendering but a constant: a test below proves it
            // well-formed.) Well-formed JSON is what this proves (reading into serde_json's `Value`, as it
            // did, never refused a repeated key either), so nothing is built: the same proof
            // without the allocations.
            serde_json::from_str::<serde::de::IgnoredAny>(text)
                .map_err(|e| Error::internal(format!("rendered {path}"), e))?;
        }
    }
    Ok(())
}

/// Every document of `text` parses, and no mapping in it repeats a key.
fn yaml(text: &str) -> std::result::Result<(), serde_yaml::Error> {
    for doc in serde_yaml::Deserializer::from_str(text) {
        Node::deserialize_from(doc)?;
    }
    Ok(())
}

/// A YAML node walked for its proof alone: nothing is kept but the keys of the mapping being
/// walked.
struct Node;

impl Node {
    fn deserialize_from<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Node, D::Error> {
        Node::deserialize_from(d).map(|()| Node)
    }
}

/// Mappings with more keys than this look keys up in a hash set instead of comparing each new
/// key with every earlier one.
const SCAN: usize = 16;

/// The keys of one mapping so far.
enum Keys {
    Few(Vec<serde_yaml::Value>),
    Many(HashSet<serde_yaml::Value>),
}

impl Keys {
    /// Adds `key`; gives it back when the mapping already has it.
    fn insert(&mut self, key: serde_yaml::Value) -> Option<serde_yaml::Value> {
        match self {
            Keys::Few(few) if few.contains(&key) => Some(key),
            Keys::Few(few) if few.len() < SCAN => {
                few.push(key);
                None
            }
            Keys::Few(few) => {
                let mut many: HashSet<serde_yaml::Value> = few.drain(..).collect();
                many.insert(key);
                *self = Keys::Many(many);
                None
            }
            Keys::Many(many) if many.contains(&key) => Some(key),
            Keys::Many(many) => {
                many.insert(key);
                None
            }
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        Node::deserialize_from(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while seq.next_element::<Node>()?.is_some() {}
        Ok(())
    }

    /// As `serde_yaml::Mapping` reads a mapping: each key read into a `Value`, refused when
    /// equal (`Value`'s `Eq`, which `Mapping`'s index uses with the matching `Hash`) to an
    /// earlier key of the same mapping, before its value is read.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut keys = Keys::Few(Vec::new());
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            if let Some(key) = keys.insert(key) {
                return Err(de::Error::custom(duplicate(&key)));
            }
            map.next_value::<Node>()?;
        }
        Ok(())
    }

    /// A tagged node (`!tag value`): serde_yaml hands it over as an enum whose variant is the
    /// tag, as `serde_yaml::Value` reads it (an empty tag is refused as there).
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> std::result::Result<(), A::Error> {
        let (tag, contents) = data.variant_seed(TagSeed)?;
        let _: String = tag;
        contents.newtype_variant::<Node>()?;
        Ok(())
    }
}

struct TagSeed;

impl<'de> DeserializeSeed<'de> for TagSeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<String, D::Error> {
        let tag = <String as de::Deserialize>::deserialize(d)?;
        if tag.is_empty() {
            return Err(de::Error::custom("empty YAML tag is not allowed"));
        }
        Ok(tag)
    }
}

/// The refusal of a repeated key, in the words `serde_yaml::Mapping` uses.
fn duplicate(key: &serde_yaml::Value) -> String {
    use serde_yaml::Value;
    match key {
        Value::Null => "duplicate entry with null key".to_string(),
        Value::Bool(b) => format!("duplicate entry with key `{b}`"),
        Value::Number(n) => format!("duplicate entry with key {n}"),
        Value::String(s) => format!("duplicate entry with key {s:?}"),
        Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => {
            "duplicate entry in YAML map".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        match (yaml(text), as_values(text)) {
            (Ok(()), Ok(())) => {}
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
            (a, b) => panic!("{text:?}: the check says {a:?}, reading values {b:?}"),
        }
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
    fn refuses_a_repeated_key_wherever_it_is_and_however_it_is_spelt() {
        let many_keys: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        for text in [
            "a: 1\na: 2\n".to_string(),
            "x:\n  b: 1\n  c: 2\n  b: 3\n".to_string(),
            "- a: 1\n- b: 1\n  b: 2\n".to_string(),
            "x: {a: 1, a: 2}\n".to_string(),
            "x: [{a: 1}, {a: 1, a: 1}]\n".to_string(),
            "a: 1\n\"a\": 2\n".to_string(),
            "a: 1\n'a': 2\n".to_string(),
            "1: a\n0x1: b\n".to_string(),
            "true: a\nTrue: b\n".to_string(),
            "~: a\nnull: b\n".to_string(),
            "? [a, b]\n: 1\n? [a, b]\n: 2\n".to_string(),
            "x: !custom\n  a: 1\n  a: 2\n".to_string(),
            "x: &anchor {a: 1, a: 2}\n".to_string(),
            "a: 1\n---\nb: 1\nc: 2\nb: 3\n".to_string(),
            // Beyond the keys compared one by one: the hash set.
            format!("{many_keys}k3: again\n"),
            format!("{many_keys}k39: again\n"),
            format!(
                "x:\n{}  k0: again\n",
                many_keys
                    .lines()
                    .map(|l| format!("  {l}\n"))
                    .collect::<String>()
            ),
        ] {
            let got = yaml(&text).expect_err(&text);
            assert!(got.to_string().contains("duplicate entry"), "{text}: {got}");
            agree(&text);
        }
        // Equal-looking keys YAML reads as different values are not repeated.
        for text in [
            "1: a\n\"1\": b\n",
            "1: a\n1.0: b\n",
            "true: a\n\"true\": b\n",
            "~: a\n\"~\": b\n",
            "x: {a: 1}\ny: {a: 1}\n",
            "- {a: 1}\n- {a: 1}\n",
        ] {
            assert!(yaml(text).is_ok(), "{text}");
            agree(text);
        }
        agree(&many_keys);
    }

    #[test]
    fn refuses_what_reading_values_refused_besides_repeated_keys() {
        for text in [
            "a: : [\n",
            "a: [1, 2\n",
            "a: {b: 1\n",
            "a: 'unterminated\n",
            "a:\n  - 1\n b: 2\n",
            "a: *nowhere\n",
            "a: ! x\n",
            "a: 99999999999999999999999\n",
            "\t- a\n",
            "a: \"\\q\"\n",
            "a: |\n b\n  c\n d: 1\n",
        ] {
            agree(text);
        }
        assert!(yaml("a: [1, 2\n").is_err());
        assert!(yaml("a: *nowhere\n").is_err());
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

    /// YAML made of the pieces templates are made of: the check and reading values agree.
    fn yamlish() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "a", "b", "\"a\"", "'b'", "1", "01", "0x1", "1.0", "true", "True", "~", "null", ": ",
            ":", "- ", "-", "\n", "\n  ", "\n    ", "\n- ", "{", "}", "[", "]", ", ", "? ", "&x ",
            "*x", "!t ", "!!str ", "#c", "|\n  ", ">-\n  ", "---\n", "...\n", "\t", "\"",
        ]);
        prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    /// A fixed seed (PROPTEST_RNG_SEED picks another), as tests/props.rs has: the same cases on
    /// every run.
    fn config() -> ProptestConfig {
        use proptest::test_runner::{RngAlgorithm, RngSeed};
        let env = ProptestConfig::default();
        ProptestConfig {
            cases: 2000,
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: match env.rng_seed {
                RngSeed::Random => RngSeed::Fixed(0x7961_6d6c),
                fixed => fixed,
            },
            failure_persistence: None,
            ..env
        }
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn agrees_with_reading_values_on_generated_yaml(text in yamlish()) {
            agree(&text);
        }
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
