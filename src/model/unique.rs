//! YAML read for a proof, not for its values: it parses, and no mapping in it repeats a key.
//! Refused exactly when reading it into a `serde_yaml::Value` is refused (with the same words),
//! but only each mapping's keys are built (as `serde_yaml::Value`s, compared exactly as
//! `serde_yaml::Mapping` compares them when it refuses a duplicate); everything else is visited
//! and dropped. The render's self-check (`render::check`) and the YAML door (`model::yaml`, the
//! matrix) read this way; the tests below prove the equivalence against the `Value` reading.

use std::collections::HashSet;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// Every document of `text` parses, and no mapping in it repeats a key.
pub fn documents(text: &str) -> std::result::Result<(), serde_yaml::Error> {
    for doc in serde_yaml::Deserializer::from_str(text) {
        doc.deserialize_any(NodeVisitor)?;
    }
    Ok(())
}

/// What a node is, as the `serde_yaml::Value` it would have been read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Null,
    Bool,
    Number,
    String,
    Sequence,
    Mapping,
    Tagged,
}

/// One YAML document read for the proof (`serde_yaml::from_str::<Checked>`: refused exactly
/// when `serde_yaml::from_str::<Value>` is), keeping only the shape of its top node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked(pub Shape);

impl<'de> de::Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Checked, D::Error> {
        d.deserialize_any(NodeVisitor).map(Checked)
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

/// Visits a node as `serde_yaml::Value`'s visitor does, building nothing but mapping keys.
struct NodeVisitor;

type R<E> = std::result::Result<Shape, E>;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    // As `Value`'s visitor, no `visit_i128` or `visit_u128`: an integer beyond 64 bits is
    // refused as it refuses it.
    fn visit_bool<E: de::Error>(self, _: bool) -> R<E> {
        Ok(Shape::Bool)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> R<E> {
        Ok(Shape::Number)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> R<E> {
        Ok(Shape::Number)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> R<E> {
        Ok(Shape::Number)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> R<E> {
        Ok(Shape::String)
    }
    fn visit_unit<E: de::Error>(self) -> R<E> {
        Ok(Shape::Null)
    }
    fn visit_none<E: de::Error>(self) -> R<E> {
        Ok(Shape::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> R<D::Error> {
        d.deserialize_any(NodeVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> R<A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Shape::Sequence)
    }

    /// As `serde_yaml::Mapping` reads a mapping: each key read into a `Value`, refused when
    /// equal (`Value`'s `Eq`, which `Mapping`'s index uses with the matching `Hash`) to an
    /// earlier key of the same mapping, before its value is read.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> R<A::Error> {
        let mut keys = Keys::Few(Vec::new());
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            if let Some(key) = keys.insert(key) {
                return Err(de::Error::custom(duplicate(&key)));
            }
            map.next_value::<Checked>()?;
        }
        Ok(Shape::Mapping)
    }

    /// A tagged node (`!tag value`): serde_yaml hands it over as an enum whose variant is the
    /// tag, as `serde_yaml::Value` reads it (an empty tag is refused as there).
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> R<A::Error> {
        let (_tag, contents): (String, _) = data.variant_seed(TagSeed)?;
        contents.newtype_variant::<Checked>()?;
        Ok(Shape::Tagged)
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
        match (documents(text), as_values(text)) {
            (Ok(()), Ok(())) => {}
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
            (a, b) => panic!("{text:?}: the check says {a:?}, reading values {b:?}"),
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
            let got = documents(&text).expect_err(&text);
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
            assert!(documents(text).is_ok(), "{text}");
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
        assert!(documents("a: [1, 2\n").is_err());
        assert!(documents("a: *nowhere\n").is_err());
    }

    #[test]
    fn one_document_reads_as_its_value_would_and_keeps_its_shape() {
        use serde_yaml::Value;
        for text in [
            "",
            "# only a comment\n",
            "a: 1\n",
            "- 1\n",
            "x\n",
            "1\n",
            "true\n",
            "~\n",
            "!t {a: 1}\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\na: 2\n",
            "a: [\n",
        ] {
            let shape = match serde_yaml::from_str::<Value>(text) {
                Ok(Value::Null) => Ok(Shape::Null),
                Ok(Value::Bool(_)) => Ok(Shape::Bool),
                Ok(Value::Number(_)) => Ok(Shape::Number),
                Ok(Value::String(_)) => Ok(Shape::String),
                Ok(Value::Sequence(_)) => Ok(Shape::Sequence),
                Ok(Value::Mapping(_)) => Ok(Shape::Mapping),
                Ok(Value::Tagged(_)) => Ok(Shape::Tagged),
                Err(e) => Err(e.to_string()),
            };
            let got = serde_yaml::from_str::<Checked>(text)
                .map(|c| c.0)
                .map_err(|e| e.to_string());
            assert_eq!(got, shape, "{text:?}");
        }
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
}
