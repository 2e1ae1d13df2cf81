//! The one door for YAML: every YAML input (the matrix, catalog files, manifest streams, a
//! parent helmfile) is parsed through here, after the byte checks and the structure scan of its
//! kind (`input`). Here, on top of the YAML library:
//!
//! - duplicate keys are refused: typed maps and JSON values keep the last of two silently, so
//!   which value counts would depend on the reader;
//! - a document that is not a mapping is refused without quoting it (a file that is one long
//!   scalar, an SSH key or a credentials line, would otherwise be printed whole);
//! - every message the library makes is located and quotes the offending token cut short.

use serde::de::{DeserializeOwned, Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::base::error::{Error, Problem, Result};
use crate::base::text::{cut, cut_tokens, MAX_TOKEN_CHARS};
use crate::model::input::{position, precheck_as, Kind, Scan};
use crate::model::unique::{Checked, Shape};

/// One document that passed the checks and the generic pass.
#[derive(Debug)]
pub struct Document<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub scan: Scan,
    pub value: serde_yaml::Value,
}

/// Reads one document of `kind`: the byte checks and the scan, then a generic pass that
/// refuses duplicate keys, then the check that it is a mapping.
pub fn read<'a>(file: &'a str, bytes: &'a [u8], kind: &Kind) -> Result<Document<'a>> {
    let (text, scan) = precheck_as(file, bytes, kind)?;
    read_checked(file, text, scan, kind)
}

/// `read` for text that already passed `precheck_as` (the matrix says "is empty" in between).
pub fn read_checked<'a>(
    file: &'a str,
    text: &'a str,
    scan: Scan,
    kind: &Kind,
) -> Result<Document<'a>> {
    let value = serde_yaml::from_str::<serde_yaml::Value>(text)
        .map_err(|e| Error::Invalid(vec![problem(file, text, &scan, &e)]))?;
    let shape = match &value {
        serde_yaml::Value::Mapping(_) => Shape::Mapping,
        serde_yaml::Value::Null => Shape::Null,
        serde_yaml::Value::Sequence(_) => Shape::Sequence,
        serde_yaml::Value::String(_) => Shape::String,
        serde_yaml::Value::Number(_) => Shape::Number,
        serde_yaml::Value::Bool(_) => Shape::Bool,
        serde_yaml::Value::Tagged(_) => Shape::Tagged,
    };
    a_mapping(file, text, shape, kind)?;
    Ok(Document {
        file,
        text,
        scan,
        value,
    })
}

/// `read_checked(..)?.typed()` without building the document's `Value`, which only `typed`'s
/// caller would drop: the same checks (`model::unique` refuses exactly what reading the `Value`
/// refuses, a repeated key among them, with the same words), then the typed read.
pub fn typed_checked<T: DeserializeOwned>(
    file: &str,
    text: &str,
    scan: Scan,
    kind: &Kind,
) -> Result<T> {
    let Checked(shape) = serde_yaml::from_str::<Checked>(text)
        .map_err(|e| Error::Invalid(vec![problem(file, text, &scan, &e)]))?;
    a_mapping(file, text, shape, kind)?;
    serde_yaml::from_str::<T>(text)
        .map_err(|e| Error::Invalid(vec![problem(file, text, &scan, &e)]))
}

/// Refuses a document that is not a mapping, naming what it holds.
fn a_mapping(file: &str, text: &str, shape: Shape, kind: &Kind) -> Result<()> {
    let shape = match shape {
        Shape::Mapping => return Ok(()),
        Shape::Null => "nothing",
        Shape::Sequence => "a list",
        Shape::String => "a string",
        Shape::Number => "a number",
        Shape::Bool => "a boolean",
        Shape::Tagged => "a tagged value",
    };
    Err(Error::invalid(
        content_start(file, text),
        format!(
            "holds {shape} where {} is a mapping (key: value); is this the right file?",
            kind.what
        ),
    ))
}

impl Document<'_> {
    /// The document as `T`, parsed from its text so that errors keep their line and column.
    pub fn typed<T: DeserializeOwned>(&self) -> Result<T> {
        serde_yaml::from_str::<T>(self.text)
            .map_err(|e| Error::Invalid(vec![problem(self.file, self.text, &self.scan, &e)]))
    }
}

/// Reads one document of `kind` as `T` (`read`, then `typed`).
pub fn parse<T: DeserializeOwned>(file: &str, bytes: &[u8], kind: &Kind) -> Result<T> {
    read(file, bytes, kind)?.typed()
}

/// `file:line:col` of the first character that is neither space nor comment.
fn content_start(file: &str, text: &str) -> String {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if !t.trim_end().is_empty() && !t.starts_with('#') {
            offset += line.len() - t.len();
            let (l, c) = position(text.as_bytes(), offset);
            return format!("{file}:{l}:{c}");
        }
        offset += line.len();
    }
    file.to_string()
}

/// The YAML library's message, without the position it appends (the location says it), with
/// a "did you mean" for a misspelt key and every quoted token cut short.
pub fn message(e: &serde_yaml::Error) -> String {
    let mut m = e.to_string();
    if let Some(i) = m.rfind(" at line ") {
        m.truncate(i);
    }
    cut_tokens(&crate::base::suggest::did_you_mean(&m))
}

/// A located problem for a YAML library error on `text`.
pub fn problem(file: &str, text: &str, scan: &Scan, e: &serde_yaml::Error) -> Problem {
    let location = match (e.location(), scan.first_alias) {
        (Some(l), _) => format!("{file}:{}:{}", l.line(), l.column()),
        // The library locates nothing when aliases expand too far (billion laughs): the first
        // alias is where the expansion starts.
        (None, Some(at)) => {
            let (line, col) = position(text.as_bytes(), at);
            format!("{file}:{line}:{col}")
        }
        (None, None) => {
            let (line, col) = position(text.as_bytes(), text.len());
            format!("{file}:{line}:{col}")
        }
    };
    Problem {
        location,
        message: message(e),
    }
}

/// One document of a manifest stream as a JSON value, as Kubernetes reads it: `None` for an
/// empty document. Duplicate keys are refused and merge keys applied (see `Strict`).
pub fn json_document(
    text: &str,
) -> std::result::Result<Option<serde_json::Value>, serde_yaml::Error> {
    serde_yaml::Deserializer::from_str(text)
        .next()
        .map(|d| Strict::deserialize(d).map(|s| s.0))
        .transpose()
}

/// A JSON value read strictly: a key twice in one mapping is an error (serde_json's own value
/// keeps the last). A YAML merge key `<<` is applied as Go's YAML reader (Kubernetes', Helm's)
/// applies it, which serde_yaml does not (it would keep `<<` as a key, and the audit would
/// prove another object than the one the cluster gets).
pub struct Strict(pub serde_json::Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Strict, E> {
        Ok(Strict(v.into()))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Strict, E> {
        Ok(Strict(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Strict, E> {
        Ok(Strict(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> std::result::Result<Strict, E> {
        Ok(Strict(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Strict, E> {
        Ok(Strict(v.into()))
    }

    fn visit_unit<E>(self) -> std::result::Result<Strict, E> {
        Ok(Strict(serde_json::Value::Null))
    }

    fn visit_none<E>(self) -> std::result::Result<Strict, E> {
        Ok(Strict(serde_json::Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Strict, D::Error> {
        Strict::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = a.next_element()? {
            items.push(v);
        }
        Ok(Strict(items.into()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Strict, A::Error> {
        let mut map = serde_json::Map::new();
        let mut merged: Option<Vec<serde_json::Map<String, serde_json::Value>>> = None;
        while let Some(key) = a.next_key::<String>()? {
            if key == "<<" {
                if merged.is_some() {
                    return Err(A::Error::custom("duplicate merge key `<<` in one mapping"));
                }
                let Strict(v) = a.next_value()?;
                merged = Some(merge_sources(v).map_err(A::Error::custom)?);
                continue;
            }
            if map.contains_key(&key) {
                return Err(A::Error::custom(format!(
                    "duplicate key `{}` in one mapping (readers differ in which one counts)",
                    cut(&key, MAX_TOKEN_CHARS)
                )));
            }
            let Strict(v) = a.next_value()?;
            map.insert(key, v);
        }
        // A merge key as go-yaml (Kubernetes', Helm's) applies it: the mapping's own keys win,
        // then the merged mappings in order, the first holding a key winning
        // (yaml.org/type/merge.html).
        for source in merged.into_iter().flatten() {
            for (k, v) in source {
                map.entry(k).or_insert(v);
            }
        }
        Ok(Strict(map.into()))
    }
}

/// The mappings a merge key's value brings: one mapping, or a list of mappings.
fn merge_sources(
    v: serde_json::Value,
) -> std::result::Result<Vec<serde_json::Map<String, serde_json::Value>>, &'static str> {
    const WRONG: &str =
        "a merge key `<<` takes a mapping or a list of mappings (an alias such as `<<: *base`)";
    match v {
        serde_json::Value::Object(m) => Ok(vec![m]),
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                serde_json::Value::Object(m) => Ok(m),
                _ => Err(WRONG),
            })
            .collect(),
        _ => Err(WRONG),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::input::{CATALOG, MANIFESTS, MATRIX};

    fn refused(bytes: &str, kind: &Kind) -> String {
        read("f.yaml", bytes.as_bytes(), kind)
            .map(|d| panic!("accepted: {:?}", d.value))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_document_that_is_no_mapping_is_refused_without_quoting_it() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nc2VjcmV0c2VjcmV0\n-----END OPENSSH PRIVATE KEY-----\n";
        let e = refused(key, &CATALOG);
        assert!(
            e.contains("f.yaml:1:1: holds a string where a catalog file is a mapping"),
            "{e}"
        );
        assert!(!e.contains("b3Bl") && !e.contains("c2Vj"), "{e}");
        let e = refused("# a note\n\n  https://user:s3cret@github.com\n", &MATRIX);
        assert!(
            e.contains("f.yaml:3:3: holds a string where a matrix"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");
        for (text, shape) in [
            ("- a\n", "a list"),
            ("42\n", "a number"),
            ("true\n", "a boolean"),
            ("~\n", "nothing"),
        ] {
            let e = refused(text, &CATALOG);
            assert!(e.contains(&format!("holds {shape} where")), "{text}: {e}");
        }
    }

    #[test]
    fn duplicate_keys_are_refused_with_the_mapping_located() {
        let e = refused("a: 1\nb:\n  c: 1\n  c: 2\n", &CATALOG);
        assert!(e.contains("f.yaml:3:3: b: duplicate entry"), "{e}");
        let e = parse::<std::collections::BTreeMap<String, u8>>("f.yaml", b"a: 1\n", &CATALOG);
        assert_eq!(e.unwrap()["a"], 1);
    }

    #[test]
    fn typed_errors_are_located_and_quote_tokens_cut_short() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            name: u8,
        }
        let long = format!("{}SECRET", "x".repeat(40));
        let e = parse::<T>("f.yaml", format!("\nname: {long}\n").as_bytes(), &CATALOG)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.yaml:2:7: name: invalid type: string \""),
            "{e}"
        );
        assert!(!e.contains("SECRET") && !e.contains(" at line "), "{e}");
        let e = parse::<T>("f.yaml", b"nmae: 1\n", &CATALOG)
            .unwrap_err()
            .to_string();
        assert!(e.contains("(did you mean `name`?)"), "{e}");
    }

    #[test]
    fn manifest_documents_refuse_duplicates_and_apply_merge_keys() {
        assert_eq!(
            json_document("a: !!str 1\nb: [x]\n").unwrap(),
            Some(serde_json::json!({"a": "1", "b": ["x"]}))
        );
        // An empty document is null (the audit skips it), as serde_json's own value reads it.
        assert_eq!(
            json_document("# nothing\n").unwrap(),
            Some(serde_json::Value::Null)
        );
        assert_eq!(json_document("").unwrap(), Some(serde_json::Value::Null));
        let e = json_document("a: 1\nb: {c: 1, c: 2}\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("b: duplicate key `c` in one mapping"),
            "{e}"
        );
        assert_eq!(e.location().map(|l| l.line()), Some(2));
        // A node no JSON value holds (a tagged one, which the stream's scan refuses first).
        let e = json_document("a: !Ref x\n").unwrap_err();
        assert!(e.to_string().contains("expected a YAML value"), "{e}");
        // Merge keys are applied as go-yaml applies them: own keys first, then the first
        // merged mapping holding a key.
        assert_eq!(
            json_document("x: &b {image: a, name: b}\ny: {<<: *b, name: n}\n").unwrap(),
            Some(
                serde_json::json!({"x": {"image": "a", "name": "b"}, "y": {"image": "a", "name": "n"}})
            )
        );
        assert_eq!(
            json_document("a: &a {k: 1, p: 1}\nb: &b {k: 2, q: 2}\nc: {<<: [*a, *b]}\n").unwrap(),
            Some(
                serde_json::json!({"a": {"k": 1, "p": 1}, "b": {"k": 2, "q": 2}, "c": {"k": 1, "p": 1, "q": 2}})
            )
        );
        let e = json_document("a: {<<: 1}\n").unwrap_err();
        assert!(e.to_string().contains("takes a mapping"), "{e}");
        let e = json_document("a: &a {k: 1}\nb: {<<: *a, <<: *a}\n").unwrap_err();
        assert!(e.to_string().contains("duplicate merge key"), "{e}");
        // The stream's own checks come first.
        assert!(precheck_as("f.yaml", b"a: 1\n---\nb: 2\n", &MANIFESTS).is_ok());
    }
}
