//! The YAML door's pre-scan checked against the YAML library itself (libyaml, as
//! `unsafe-libyaml` which serde_yaml runs): on text made of YAML's structural pieces, whatever
//! the scan accepts, libyaml's parser nests no deeper in flow collections than the scan's limit,
//! puts no tag the kind refuses on a node, and starts no second document where the kind is one
//! document. (Flow nesting is what makes libyaml slow; the scan must never count less of it.)
//!
//! Seeding as in `props.rs`: a fixed ChaCha seed, `PROPTEST_RNG_SEED`/`PROPTEST_CASES` to
//! explore others.

use std::mem::MaybeUninit;

use deploygen::model::input::{precheck_as, Kind, CATALOG, MANIFESTS};
use deploygen::model::tags::Tags;
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed};
use unsafe_libyaml as unsafe_yaml;

const CASES: u32 = 4096;
const SEED: u64 = 0x7363_616e_5f79_616d;

/// What libyaml's parser made of `text`, up to its first error.
#[derive(Debug, Default)]
struct Parsed {
    flow_depth: usize,
    tags: Vec<String>,
    documents: usize,
}

fn libyaml(text: &str) -> Parsed {
    let mut out = Parsed::default();
    // The open collections, flow or block.
    let mut open: Vec<bool> = Vec::new();
    // SAFETY: the parser reads `text`, which outlives it; every event is deleted after use and
    // the parser after the loop.
    unsafe {
        let mut parser = MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit();
        if unsafe_yaml::yaml_parser_initialize(parser.as_mut_ptr()).fail {
            panic!("libyaml parser");
        }
        let parser = parser.as_mut_ptr();
        unsafe_yaml::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        let mut event = MaybeUninit::<unsafe_yaml::yaml_event_t>::uninit();
        loop {
            if unsafe_yaml::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                break;
            }
            let e = &*event.as_ptr();
            let tag = match e.type_ {
                unsafe_yaml::YAML_SCALAR_EVENT => e.data.scalar.tag,
                unsafe_yaml::YAML_SEQUENCE_START_EVENT => {
                    open.push(e.data.sequence_start.style == unsafe_yaml::YAML_FLOW_SEQUENCE_STYLE);
                    e.data.sequence_start.tag
                }
                unsafe_yaml::YAML_MAPPING_START_EVENT => {
                    // A single pair in a flow sequence (`[a: b]`) is a mapping of its own to
                    // the parser, not a flow level of the scanner: only a `{` opens one.
                    let at = e.start_mark.index as usize;
                    open.push(
                        e.data.mapping_start.style == unsafe_yaml::YAML_FLOW_MAPPING_STYLE
                            && text.as_bytes().get(at) == Some(&b'{'),
                    );
                    e.data.mapping_start.tag
                }
                unsafe_yaml::YAML_SEQUENCE_END_EVENT | unsafe_yaml::YAML_MAPPING_END_EVENT => {
                    open.pop();
                    std::ptr::null_mut()
                }
                unsafe_yaml::YAML_DOCUMENT_START_EVENT => {
                    out.documents += 1;
                    std::ptr::null_mut()
                }
                _ => std::ptr::null_mut(),
            };
            if !tag.is_null() {
                let s = std::ffi::CStr::from_ptr(tag as *const std::ffi::c_char);
                out.tags.push(s.to_string_lossy().into_owned());
            }
            out.flow_depth = out.flow_depth.max(open.iter().filter(|&&f| f).count());
            let done = e.type_ == unsafe_yaml::YAML_STREAM_END_EVENT;
            unsafe_yaml::yaml_event_delete(event.as_mut_ptr());
            if done {
                break;
            }
        }
        unsafe_yaml::yaml_parser_delete(parser);
    }
    out
}

/// The pieces the text is made of: every character that means something to libyaml's scanner.
const PIECES: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "#",
    ":",
    ": ",
    " ",
    "  ",
    "\n",
    "\n ",
    "\n  ",
    "- ",
    "-",
    "|",
    ">",
    "|1",
    "!t ",
    "!!str ",
    "!<tag:yaml.org,2002:str> ",
    "&a ",
    "*a",
    ",",
    ", ",
    "? ",
    "\\",
    "\\\"",
    "''",
    "a",
    "b:",
    "x",
    "---\n",
    "--- ",
    "...\n",
    "%TAG ! t:\n",
    "\t",
];

/// Nesting one level deeper than the limit, hidden behind what comes before it.
const DEEP: &[&str] = &[
    "",
    "\nb: [[[[x]]]]\n",
    "\n[[[[x]]]]\n",
    " [[[[x]]]]\n",
    "\n  - {a: [[[x]]]}\n",
    "\n---\n[[[[x]]]]\n",
    "'\nb: [[[[x]]]]\n",
];

/// Pieces, then (often) the deep nesting: whatever the pieces did to the scan, it must count
/// the nesting wherever libyaml reaches it.
fn text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(PIECES), 1..32),
        prop::sample::select(DEEP),
    )
        .prop_map(|(p, deep)| p.concat() + deep)
}

fn config() -> ProptestConfig {
    let env = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            env.cases
        } else {
            CASES
        },
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: match env.rng_seed {
            RngSeed::Random => RngSeed::Fixed(SEED),
            fixed => fixed,
        },
        failure_persistence: None,
        ..env
    }
}

/// `kind` with a small limit, so random text reaches it.
fn shallow(kind: &Kind) -> Kind {
    Kind {
        max_depth: 3,
        ..*kind
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn what_the_scan_accepts_libyaml_reads_within_the_kind(text in text()) {
        for kind in [shallow(&CATALOG), shallow(&MANIFESTS)] {
            if precheck_as("t.yaml", text.as_bytes(), &kind).is_err() {
                continue;
            }
            let parsed = libyaml(&text);
            prop_assert!(
                parsed.flow_depth <= kind.max_depth,
                "{} accepted, libyaml nests {} flow levels: {text:?}", kind.what, parsed.flow_depth
            );
            match kind.tags {
                Tags::Refused => prop_assert!(
                    parsed.tags.is_empty(),
                    "{} accepted, libyaml tags {:?}: {text:?}", kind.what, parsed.tags
                ),
                Tags::Core => prop_assert!(
                    parsed.tags.iter().all(|t| t.strip_prefix("tag:yaml.org,2002:").is_some_and(|n| deploygen::model::tags::CORE.contains(&n))),
                    "{} accepted, libyaml tags {:?}: {text:?}", kind.what, parsed.tags
                ),
            }
            if !kind.many_documents {
                prop_assert!(
                    parsed.documents <= 1,
                    "{} accepted, libyaml starts {} documents: {text:?}", kind.what, parsed.documents
                );
            }
        }
    }
}

/// The property's own oracle: libyaml is read right (a flow depth, a tag, two documents).
#[test]
fn the_libyaml_reading_sees_depth_tags_and_documents() {
    assert_eq!(libyaml("a: [[{b: c}]]\n").flow_depth, 3);
    assert_eq!(libyaml("a: [[b: c]]\n").flow_depth, 2);
    assert_eq!(libyaml("a:\n  b:\n    - c\n").flow_depth, 0);
    assert_eq!(libyaml("a: !!str 1\n").tags, ["tag:yaml.org,2002:str"]);
    assert_eq!(libyaml("a: 1\n---\nb: 2\n").documents, 2);
    // Up to the first error only.
    assert_eq!(libyaml("a: [\n- ]\n[[[[").flow_depth, 1);
}
