//! Property tests: hostile strings in every matrix field that reaches a rendered file.
//!
//! Each property substitutes a generated value into the default matrix (encoded with
//! `serde_json::to_string`, a valid YAML double-quoted scalar, so the matrix itself stays
//! well-formed) and renders in memory. Either the matrix is refused as `Error::Invalid` (never
//! a panic, never `Internal`), or every rendered YAML file outside `*/templates/*` parses (all
//! documents) and the value reads back exactly where it is written. A refusal must be about
//! the field the value went into (no other key path), so a value refused for the wrong reason
//! fails too.
//!
//! The oracles at the end say which: values built from the grammar must be accepted, and the
//! same values with one known defect must be refused at their key path with the message of
//! the rule the defect breaks.
//!
//! Seeding: the runs are deterministic (ChaCha, seed `SEED` below), so CI and a laptop test
//! the same cases and a failure reproduces with a plain `cargo test --test props`. To explore
//! other cases, set `PROPTEST_RNG_SEED=<u64>` (and `PROPTEST_CASES=<n>`); a failure found that
//! way reproduces with the same two variables. Mutation runs set `PROPTEST_CASES=8`.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use deploygen::Error;
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed, TestCaseError};
use serde_yaml::Value;

use common::MATRIX;

type Tree = BTreeMap<String, String>;

const CASES: u32 = 64;

/// The fixed seed of every property (see the module comment for other seeds).
const SEED: u64 = 0x6465_706c_6f79_6765;

/// Pieces that break naive YAML, Markdown, Jinja or path handling.
const NASTY: &[&str] = &[
    "\n",
    "\r\n",
    "\r",
    ": ",
    ":",
    "#",
    " #x",
    "{{ x }}",
    "{{{ x }}}",
    "{{% if %}}",
    "}}}",
    "{{#",
    "'",
    "\"",
    "---",
    "...",
    "- a",
    "&a",
    "*a",
    "!!str",
    "|",
    ">",
    "%YAML 1.1",
    "@",
    "`",
    "\t",
    "\u{0}",
    "\u{7}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "é",
    "日本",
    "🙂",
    "\\",
    "null",
    "~",
    "true",
    "yes",
    "on",
    "no",
    "1e3",
    "0x1F",
    ".inf",
    "<<",
    "?",
    "[",
    "]",
    "{",
    "}",
    ",",
    " ",
    "/",
    "..",
    "../",
    "<!--",
    "a",
    "0",
    "-",
    ".",
    "_",
];

fn nasty() -> impl Strategy<Value = String> {
    prop::sample::select(NASTY).prop_map(str::to_string)
}

/// A hostile string: a nasty piece, several glued together, anything at all, or very long.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => nasty(),
        3 => prop::collection::vec(nasty(), 1..6).prop_map(|v| v.concat()),
        2 => any::<String>(),
        1 => (1usize..5000, nasty()).prop_map(|(n, s)| format!("{}{s}", "a".repeat(n))),
    ]
}

/// A value near `valid` (which the grammar accepts) or shaped like `plausible` (a regex of
/// values that often pass), or hostile: so both the refusal and the render path are hit.
fn near(valid: &'static str, plausible: &'static str) -> BoxedStrategy<String> {
    prop_oneof![
        2 => hostile(),
        2 => (hostile(), any::<bool>()).prop_map(move |(h, before)| if before {
            format!("{h}{valid}")
        } else {
            format!("{valid}{h}")
        }),
        3 => proptest::string::string_regex(plausible).expect("regex"),
    ]
    .boxed()
}

/// YAML-safe encoding of a string: a JSON string is a YAML double-quoted scalar, except that
/// serde_json leaves DEL, C1 controls, U+2028/U+2029 and BOMs raw, which YAML either refuses
/// (not printable) or reads as line breaks (NEL, LS, PS fold into a space). Those are escaped.
fn q(s: &str) -> String {
    let json = serde_json::to_string(s).expect("a string serializes");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    debug_assert_eq!(
        serde_yaml::from_str::<String>(&out).ok().as_deref(),
        Some(s),
        "{out}"
    );
    out
}

#[track_caller]
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the default matrix has no {from:?}");
    text.replacen(from, to, 1)
}

/// Replaces `from` only inside environment `env` (from its header line on).
#[track_caller]
fn replace_in_env(env: &str, from: &str, to: &str) -> String {
    let header = format!("\n  {env}:\n");
    let at = MATRIX.find(&header).expect("environment") + header.len();
    format!("{}{}", &MATRIX[..at], replace_once(&MATRIX[at..], from, to))
}

/// Inserts lines at the top of environment `env`.
/// airgap's extra images with one more entry (the new one is `extra_images[1]`): airgap
/// aliases online's list, which the load test's image is in.
fn with_airgap_extra_image(entry: &str) -> String {
    let anchor = "    extra_images: &extra\n";
    let at = MATRIX.find(anchor).expect("online's extra images") + anchor.len();
    let list: String = MATRIX[at..]
        .split_inclusive('\n')
        .take_while(|l| l.starts_with("      "))
        .collect();
    replace_once(
        MATRIX,
        "    extra_images: *extra\n",
        &format!("    extra_images:\n{list}      - {entry}\n"),
    )
}

fn add_to_env(env: &str, lines: &str) -> String {
    let header = format!("\n  {env}:\n");
    let at = MATRIX.find(&header).expect("environment") + header.len();
    format!("{}{lines}{}", &MATRIX[..at], &MATRIX[at..])
}

fn default_tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        deploygen::render("matrix.yaml", MATRIX.as_bytes()).expect("the default matrix renders")
    })
}

/// Every document of a YAML text, parsed.
fn yaml_docs(path: &str, text: &str) -> Result<Vec<Value>, TestCaseError> {
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        match <Value as serde::Deserialize>::deserialize(doc) {
            Ok(v) => docs.push(v),
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "{path} does not parse: {e}\n{text}"
                )))
            }
        }
    }
    Ok(docs)
}

fn single_doc(tree: &Tree, path: &str) -> Result<Value, TestCaseError> {
    let text = tree
        .get(path)
        .ok_or_else(|| TestCaseError::fail(format!("no {path} in the tree")))?;
    let mut docs = yaml_docs(path, text)?;
    prop_assert_eq!(docs.len(), 1, "{} documents in {}", docs.len(), path);
    Ok(docs.remove(0))
}

/// In `render`'s fields: a YAML syntax error is a right refusal too.
const SYNTAX: &str = "(syntax)";

/// The key path of a problem's location: `matrix.yaml:12:5: a.b` or `matrix.yaml: a.b` -> `a.b`.
fn key_path(location: &str) -> &str {
    let rest = location.strip_prefix("matrix.yaml").unwrap_or(location);
    if let Some(path) = rest.strip_prefix(": ") {
        return path;
    }
    // `:L:C: path`
    let mut parts = rest.splitn(4, ':');
    let (_, line, col) = (parts.next(), parts.next(), parts.next());
    match (line.map(str::parse::<usize>), col.map(str::parse::<usize>)) {
        (Some(Ok(_)), Some(Ok(_))) => parts.next().unwrap_or_default().trim_start(),
        _ => rest,
    }
}

/// Renders; `None` when refused as Invalid. Fails on a panic (proptest catches it), on any
/// other error, on a refusal with a problem at no key path starting with one of `fields`
/// (the value was refused for something else), and on a rendered tree whose YAML/JSON does
/// not parse or whose paths escape.
fn render(text: &str, fields: &[&str]) -> Result<Option<Tree>, TestCaseError> {
    match deploygen::render("matrix.yaml", text.as_bytes()) {
        Err(Error::Invalid(problems)) => {
            prop_assert!(!problems.is_empty(), "Invalid with no problem");
            for p in &problems {
                prop_assert!(!p.location.is_empty() && !p.message.is_empty(), "{:?}", p);
                prop_assert!(p.location.starts_with("matrix.yaml"), "{:?}", p);
                // Parse errors carry the key path at the start of the message.
                let at = match key_path(&p.location) {
                    "" => p.message.split(": ").next().unwrap_or_default(),
                    at => at,
                };
                // A YAML syntax error has no key path. Only keys can cause one here (an
                // implicit key is at most 1024 characters): those properties allow SYNTAX.
                let syntax = !p.message.contains(": ") && !key_path(&p.location).contains('.');
                prop_assert!(
                    fields.iter().any(|f| at.starts_with(f))
                        || (syntax && fields.contains(&SYNTAX)),
                    "refused at {:?}, not at {:?}: {}",
                    at,
                    fields,
                    p
                );
            }
            Ok(None)
        }
        Err(e) => Err(TestCaseError::fail(format!(
            "not Error::Invalid: {e:?}\nmatrix:\n{text}"
        ))),
        Ok(tree) => {
            for (path, body) in &tree {
                prop_assert!(
                    !path.starts_with('/')
                        && path
                            .split('/')
                            .all(|c| !c.is_empty() && c != "." && c != ".."),
                    "unsafe path {:?}",
                    path
                );
                if path.contains("/templates/") {
                    continue;
                }
                if path.ends_with(".yaml") {
                    yaml_docs(path, body)?;
                } else if path.ends_with(".json") {
                    if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
                        return Err(TestCaseError::fail(format!("{path} does not parse: {e}")));
                    }
                }
            }
            Ok(Some(tree))
        }
    }
}

/// `v` with every string leaf transformed by `f`.
fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Sequence(seq) => Value::Sequence(seq.iter().map(|x| map_strings(x, f)).collect()),
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .map(|(k, x)| (k.clone(), map_strings(x, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn md(tree: &Tree) -> &str {
    tree.get("COMPONENT_VERSIONS.md")
        .map(String::as_str)
        .unwrap_or_default()
}

/// Unescaped `|` in a Markdown table line (`\|` and `\\` are escapes).
fn pipes(line: &str) -> usize {
    let mut n = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => n += 1,
            _ => {}
        }
    }
    n
}

/// Every table row of the report has as many cells as the default report's rows do, and
/// the report has as many lines: no value added a row, a column or a line.
fn md_shape_kept(tree: &Tree) -> Result<(), TestCaseError> {
    let widths = |text: &str| -> std::collections::BTreeSet<usize> {
        text.lines()
            .filter(|l| l.starts_with('|'))
            .map(pipes)
            .collect()
    };
    let (got, want) = (md(tree), md(default_tree()));
    prop_assert!(
        widths(got).is_subset(&widths(want)),
        "table widths {:?} vs {:?}",
        widths(got),
        widths(want)
    );
    for l in got.lines().filter(|l| l.starts_with('|')) {
        prop_assert!(l.ends_with('|'), "table row does not end with |: {:?}", l);
    }
    Ok(())
}

/// Where `flows` puts the value in a template matrix.
const HOLE: &str = "@@VALUE@@";

/// The marker's tree for a matrix text, rendered once per text (a property's base matrix).
fn reference(text: &str) -> Tree {
    static CACHE: OnceLock<std::sync::Mutex<BTreeMap<String, Tree>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(text.to_string())
        .or_insert_with(|| {
            deploygen::render("matrix.yaml", text.as_bytes()).expect("the marker matrix renders")
        })
        .clone()
}

/// `v` with `from` replaced by `to` in every string, keys included.
fn substitute(v: &Value, from: &str, to: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace(from, to)),
        Value::Sequence(seq) => {
            Value::Sequence(seq.iter().map(|x| substitute(x, from, to)).collect())
        }
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .map(|(k, x)| (substitute(k, from, to), substitute(x, from, to)))
                .collect(),
        ),
        Value::Tagged(t) => Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
            tag: t.tag.clone(),
            value: substitute(&t.value, from, to),
        })),
        other => other.clone(),
    }
}

/// The value flows exactly where a marker flows: `template` holds `@@VALUE@@` where the
/// YAML-encoded value goes. The tree rendered with `marker` is the reference; the tree rendered with
/// `value` (if it is accepted) must have the same files, and every YAML and JSON file must
/// parse to the reference's content with the marker replaced by the value, keys included.
fn flows(
    template: &str,
    marker: &str,
    value: &str,
    fields: &[&str],
) -> Result<Option<Tree>, TestCaseError> {
    assert!(template.contains(HOLE), "no {HOLE} in the template");
    let reference = reference(&template.replacen(HOLE, &q(marker), 1));
    let Some(tree) = render(&template.replacen(HOLE, &q(value), 1), fields)? else {
        return Ok(None);
    };
    let want_paths: std::collections::BTreeSet<String> =
        reference.keys().map(|p| p.replace(marker, value)).collect();
    let got_paths: std::collections::BTreeSet<String> = tree.keys().cloned().collect();
    prop_assert_eq!(got_paths, want_paths);
    let mut seen = false;
    for (path, want) in &reference {
        let got = &tree[&path.replace(marker, value)];
        if path.contains("/templates/") {
            continue;
        }
        if path.ends_with(".yaml") {
            let want: Vec<Value> = yaml_docs(path, want)?
                .iter()
                .map(|d| substitute(d, marker, value))
                .collect();
            seen |= want != yaml_docs(path, want_text(&reference, path))?;
            prop_assert_eq!(&yaml_docs(path, got)?, &want, "{}", path);
        } else if path.ends_with(".json") {
            let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).expect("json");
            let want = parse(&want.replace(marker, &json_inner(value)));
            prop_assert_eq!(&parse(got), &want, "{}", path);
        }
    }
    prop_assert!(
        seen,
        "the marker {:?} reaches no YAML file: the property tests nothing",
        marker
    );
    Ok(Some(tree))
}

fn want_text<'a>(tree: &'a Tree, path: &str) -> &'a str {
    tree.get(path).map(String::as_str).unwrap_or_default()
}

/// `s` as it sits between the quotes of a JSON string.
fn json_inner(s: &str) -> String {
    let j = serde_json::to_string(s).expect("string");
    j[1..j.len() - 1].to_string()
}

fn config() -> ProptestConfig {
    // `default()` reads PROPTEST_CASES and PROPTEST_RNG_SEED from the environment.
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

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mirror(m in near("10.61.3.31:35000", "[a-z0-9]{1,12}(\\.[a-z0-9-]{1,12}){0,3}(:[0-9]{1,5})?(/[a-z0-9._-]{1,10}){0,2}")) {
        let text = replace_once(MATRIX, "mirror: 10.61.3.31:35000", &format!("mirror: {}", q(&m)));
        // airgap's egress policy needs the mirror's address when the mirror is a host name.
        let text = replace_once(&text, "        api_server_port: 6443\n", "        api_server_port: 6443\n        mirror_cidr: 10.61.3.31/32\n");
        if let Some(tree) = render(&text, &["environments.airgap.mirror"])? {
            let got = single_doc(&tree, "environments/airgap/kserve.yaml")?;
            let default = single_doc(default_tree(), "environments/airgap/kserve.yaml")?;
            let want = map_strings(&default, &|s| s.replace("10.61.3.31:35000", &m));
            prop_assert_eq!(&got, &want);
            prop_assert!(md(&tree).contains(&format!("images from mirror `{m}`")), "mirror {:?} not in the report", m);
        }
    }

    #[test]
    fn storage_class(sc in near("astrago-nfs-csi", "[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?")) {
        let template = replace_in_env("airgap", "storage_class: astrago-nfs-csi", &format!("storage_class: {HOLE}"));
        if let Some(tree) = flows(&template, "zqx-storage-class", &sc, &["environments.airgap.cluster.storage_class"])? {
            prop_assert!(md(&tree).contains(&format!("storage class `{sc}` ·")), "storage class {:?} not in the report", sc);
            md_shape_kept(&tree)?;
        }
    }

    #[test]
    fn environment_name(name in near("airgap", "[a-z0-9][a-z0-9-]{0,70}")) {
        let template = replace_once(MATRIX, "\n  airgap:\n", &format!("\n  {HOLE}:\n"));
        if let Some(tree) = flows(&template, "zqx-env", &name, &["environments", SYNTAX])? {
            let path = format!("environments/{name}/kserve.yaml");
            prop_assert!(tree.contains_key(&path), "no {}", path);
            let helmfile = tree.get("helmfile.yaml").expect("helmfile");
            let first = serde_yaml::Deserializer::from_str(helmfile).next().expect("a document");
            let doc = <Value as serde::Deserialize>::deserialize(first).expect("parses");
            let envs = doc.get("environments").and_then(Value::as_mapping).expect("environments");
            let values = envs.get(Value::String(name.clone())).and_then(|e| e.get("values"));
            let want = Value::Sequence(vec![Value::String(format!("environments/{name}/environment.yaml"))]);
            prop_assert_eq!(values, Some(&want));
            md_shape_kept(&tree)?;
        }
    }

    #[test]
    fn profile_name(name in near("recommended", "[a-z0-9][a-z0-9-]{0,70}")) {
        let text = MATRIX.replace("  recommended:\n", &format!("  {}:\n", q(&name)))
            .replace("profile: recommended", &format!("profile: {}", q(&name)));
        if let Some(tree) = render(&text, &["profiles", SYNTAX])? {
            // The name is only a label: every value is the same as with `recommended`.
            let got = single_doc(&tree, "environments/airgap/kserve.yaml")?;
            let want = single_doc(default_tree(), "environments/airgap/kserve.yaml")?;
            prop_assert_eq!(got, want);
            let kserve = tree.get("environments/airgap/kserve.yaml").expect("file");
            prop_assert!(kserve.contains(&format!(", profile {name}, ")), "profile {:?} not in the comment", name);
            prop_assert!(md(&tree).contains(&format!("profile `{name}` ·")), "profile {:?} not in the report", name);
        }
    }

    #[test]
    fn resource_quantity(cpu in near("2000m", "[+-]?[0-9]{0,4}(\\.[0-9]{0,3})?(Ki|Mi|Gi|m|k|M|G|n|u|e[0-9]{1,2}|E-?[0-9]|)")) {
        let line = "kserve-controller: {requests: {cpu: 2000m, memory: 4Gi}";
        let text = replace_once(MATRIX, line, &line.replace("cpu: 2000m", &format!("cpu: {}", q(&cpu))));
        // A well-formed but huge request is refused by the capacity check, on the profile.
        if let Some(tree) = render(&text, &["profiles.recommended.kserve-controller.requests.cpu", "environments.airgap.profile", "environments.online.profile"])? {
            let got = single_doc(&tree, "environments/airgap/kserve.yaml")?;
            let default = single_doc(default_tree(), "environments/airgap/kserve.yaml")?;
            let want = map_strings(&default, &|s| if s == "2000m" { cpu.clone() } else { s.to_string() });
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn serving_runtime(rt in prop_oneof![
        near("sklearnserver", "[a-z]{1,16}"),
        prop::sample::select(vec!["tritonserver", "xgbserver", "lgbserver", "mlserver", "art"]).prop_map(str::to_string),
    ]) {
        // sklearnserver stays: airgap's load test targets the sklearn model.
        prop_assume!(rt != "sklearnserver");
        let text = replace_in_env("airgap", "serving_runtimes: [sklearnserver,", &format!("serving_runtimes: [{}, sklearnserver,", q(&rt)));
        if let Some(tree) = render(&text, &["environments.airgap.serving_runtimes[0]"])? {
            prop_assert!(
                md(&tree).contains(&format!("serving runtimes: {rt}, sklearnserver, huggingfaceserver, torchserve\n")),
                "runtime {:?} not in the report", rt
            );
            md_shape_kept(&tree)?;
        }
    }

    #[test]
    fn extra_image(
        image in prop_oneof![
            1 => near("registry.example.com/team/server:v1.2.0", "[a-z0-9./:@-]{1,40}"),
            2 => proptest::string::string_regex(
                "[a-z0-9]{1,8}\\.[a-z]{2,3}(:[0-9]{1,5})?/[a-z0-9]{1,8}([._-][a-z0-9]{1,4})?(/[a-z0-9]{1,6}){0,2}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,12})?(@sha256:[0-9a-f]{64})?",
            ).expect("regex"),
        ],
        list in prop_oneof![3 => "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", 1 => near("extra", "[a-z0-9-]{1,12}")],
        why in hostile(),
    ) {
        let text = with_airgap_extra_image(&format!("{{image: {}, list: {}, why: {}}}", q(&image), q(&list), q(&why)));
        if let Some(tree) = render(&text, &["environments.airgap.extra_images[1]"])? {
            let path = format!("airgap/kubespray-offline/imagelists/{list}.txt");
            let body = tree.get(&path).ok_or_else(|| TestCaseError::fail(format!("no {path}")))?;
            prop_assert!(body.lines().any(|l| l == image), "{:?} not a line of {}:\n{}", image, path, body);
            for l in body.lines().filter(|l| !l.starts_with('#')) {
                prop_assert!(!l.contains(char::is_whitespace), "{:?}", l);
            }
        }
    }

    #[test]
    fn accept_reason(reason in hostile()) {
        let lines = format!("    accept:\n      - {{rule: kserve-recommended-istio, reason: {}}}\n", q(&reason));
        let text = add_to_env("airgap", &lines);
        if let Some(tree) = render(&text, &["environments.airgap.accept[0].reason"])? {
            md_shape_kept(&tree)?;
            let report = md(&tree);
            let items: Vec<&str> = report.lines().filter(|l| l.starts_with("- `kserve-recommended-istio`: ")).collect();
            prop_assert_eq!(items.len(), 1, "accepted exceptions: {:?}", items);
            // What the reader sees is the reason, line breaks turned into spaces.
            let shown = items[0].trim_start_matches("- `kserve-recommended-istio`: ");
            let mut unescaped = String::new();
            let mut chars = shown.chars();
            while let Some(c) = chars.next() {
                unescaped.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
            }
            // `&` and `<` are written as `&amp;` and `&lt;` (no HTML comment can hide the rest of the page).
            prop_assert_eq!(unescaped.replace("&lt;", "<").replace("&amp;", "&"), reason.replace(['\n', '\r'], " "));
        }
    }

    #[test]
    fn gpus(raw in prop_oneof![
        hostile().prop_map(|h| q(&h)),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        prop::sample::select(vec!["0x10", "0o17", "1e3", "+4", "4.0", "~", "null", "-0", "4294967296", "\"4\"", "[4]", "{a: 4}", ".nan"])
            .prop_map(str::to_string),
    ]) {
        let text = replace_in_env("airgap", "gpus_per_node: 4", &format!("gpus_per_node: {raw}"));
        if let Some(tree) = render(&text, &["environments.airgap.cluster.gpus_per_node"])? {
            let n: u32 = serde_yaml::from_str(&raw).map_err(|e| TestCaseError::fail(format!("{raw:?} rendered but is not a u32: {e}")))?;
            prop_assert!(md(&tree).contains(&format!(" · {n} GPUs per node · ")), "{} not in the report", n);
        }
    }

    #[test]
    fn kubernetes_version(k in near("v1.28.6", "v?1\\.(2[89]|30)\\.[0-9]{1,2}(-[a-z0-9.]{1,10})?(\\+[a-z0-9.]{1,10})?")) {
        let text = replace_in_env("airgap", "kubernetes: v1.28.6", &format!("kubernetes: {}", q(&k)));
        if let Some(tree) = render(&text, &["environments.airgap"])? {
            prop_assert!(md(&tree).contains(&format!("Kubernetes {k} · ")), "{:?} not in the report", k);
            md_shape_kept(&tree)?;
        }
    }
    #[test]
    fn tls_domain(v in near("models.astrago.local", "[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?")) {
        let template = replace_in_env("airgap", "domain: models.astrago.local", &format!("domain: {HOLE}"));
        flows(&template, "zqx-domain.test", &v, &["environments.airgap.operations.tls.domain"])?;
    }

    #[test]
    fn tls_external_issuer(v in near("astrago-acme", "[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?")) {
        let template = replace_once(MATRIX, "external_issuer: astrago-acme", &format!("external_issuer: {HOLE}"));
        flows(&template, "zqx-issuer", &v, &["environments.online.operations.tls.external_issuer"])?;
    }

    #[test]
    fn monitoring_namespace(v in near("monitoring", "[a-z0-9][a-z0-9-]{0,70}")) {
        let template = replace_once(MATRIX, "namespace: monitoring\n", &format!("namespace: {HOLE}\n"));
        flows(&template, "zqx-monitoring-ns", &v, &["environments.online.operations.monitoring.namespace", "environments.airgap.operations.monitoring.namespace"])?;
    }

    #[test]
    fn monitoring_label_value(v in near("kube-prometheus-stack", "([A-Za-z0-9]([A-Za-z0-9._-]{0,70}[A-Za-z0-9])?)?")) {
        let template = replace_once(MATRIX, "{release: kube-prometheus-stack}", &format!("{{release: {HOLE}}}"));
        flows(&template, "zqx-selector-value", &v, &["environments.online.operations.monitoring.selector_labels", "environments.airgap.operations.monitoring.selector_labels"])?;
    }

    #[test]
    fn monitoring_label_key(v in near("grafana_dashboard", "([a-z0-9][a-z0-9.-]{0,20}[a-z0-9]/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,70}[A-Za-z0-9])?")) {
        let template = replace_once(MATRIX, "{grafana_dashboard: \"1\"}", &format!("{{{HOLE}: \"1\"}}"));
        flows(&template, "zqx-dashboard-key", &v, &["environments.online.operations.monitoring.dashboard_labels", "environments.airgap.operations.monitoring.dashboard_labels", SYNTAX])?;
    }

    #[test]
    fn access_group(v in prop_oneof![near("astrago-admins", "[ -~]{1,40}"), hostile()]) {
        let template = replace_once(MATRIX, "{group: astrago-admins,", &format!("{{group: {HOLE},"));
        flows(&template, "zqx-group", &v, &["environments.online.operations.access_control.bindings[0].group", "environments.airgap.operations.access_control.bindings[0].group"])?;
    }

    #[test]
    fn access_binding_namespace(v in near("kserve-test", "[a-z0-9][a-z0-9-]{0,70}")) {
        let template = replace_once(MATRIX, "namespace: kserve-test}", &format!("namespace: {HOLE}}}"));
        flows(&template, "zqx-binding-ns", &v, &["environments.online.operations.access_control.bindings[1].namespace", "environments.airgap.operations.access_control.bindings[1].namespace"])?;
    }

    #[test]
    fn smoke_test_namespace(v in near("kserve-test", "[a-z0-9][a-z0-9-]{0,70}")) {
        let smoke = "smoke_tests:\n        enabled: true\n";
        let template = replace_in_env("airgap", smoke, &format!("{smoke}        namespace: {HOLE}\n"));
        // mTLS names the namespaces it covers (and labels them in the examples): off here, so
        // the namespace is only a name.
        let mtls = "      mtls:\n        mode: strict\n        namespaces: [kserve-test]\n";
        let template = template.replacen(&format!("{mtls}      # Only what"), "      # Only what", 1);
        flows(&template, "zqx-smoke-ns", &v, &["environments.airgap.operations.smoke_tests.namespace"])?;
    }

    #[test]
    fn smoke_test_volume_size(v in near("10Gi", "[+-]?[0-9]{0,4}(\\.[0-9]{0,3})?(Ki|Mi|Gi|Ti|m|k|M|G|e[0-9]{1,2}|)")) {
        let smoke = "smoke_tests:\n        enabled: true\n";
        let template = replace_in_env("airgap", smoke, &format!("{smoke}        volume_size: {HOLE}\n"));
        flows(&template, "7777Mi", &v, &["environments.airgap.operations.smoke_tests.volume_size"])?;
    }
}

#[test]
fn default_matrix_passes_the_same_checks() {
    let tree = render(MATRIX, &[]).expect("renders").expect("valid");
    assert_eq!(&tree, default_tree());
}

// ---------------------------------------------------------------------------------------------
// The writer (issue 13): random trees with planted links, forged manifest lines, hand edits and
// injected I/O failures. Whatever happens, nothing outside the tree changes, files deploygen
// does not own survive, and the tree is either exactly as it was (a refusal, a failure that
// was undone) or exactly the new render.

/// Something hostile done to a rendered tree before the next render.
#[derive(Debug, Clone)]
enum Plant {
    /// A link to a file outside the tree, at a generated path (index into the new tree).
    LinkAtFile(usize),
    /// A link to a folder outside the tree, in place of a generated folder.
    LinkAtFolder(usize),
    /// A manifest line naming something deploygen must never remove.
    Forge(usize),
    /// A hand edit of a generated file (index into the old tree).
    Edit(usize),
    /// A hand-written file next to generated ones.
    Extra(usize),
}

const FORGED: &[&str] = &[
    "matrix.yaml",
    "README.md",
    ".git/config",
    "../outside.txt",
    "/etc/hostname",
    ".deploygen.lock",
    "environments/NOTES.txt",
];

fn plant() -> impl Strategy<Value = Plant> {
    prop_oneof![
        any::<usize>().prop_map(Plant::LinkAtFile),
        any::<usize>().prop_map(Plant::LinkAtFolder),
        any::<usize>().prop_map(Plant::Forge),
        any::<usize>().prop_map(Plant::Edit),
        any::<usize>().prop_map(Plant::Extra),
    ]
}

fn writer_trees() -> &'static [Tree; 3] {
    static TREES: OnceLock<[Tree; 3]> = OnceLock::new();
    TREES.get_or_init(|| {
        let r = |m: &str| deploygen::render("matrix.yaml", m.as_bytes()).expect("renders");
        [
            r(MATRIX),
            r(&common::raw_matrix()),
            r(&MATRIX.replacen("  airgap:\n", "  staging:\n", 1)),
        ]
    })
}

fn pick(tree: &Tree, i: usize) -> &str {
    let keys: Vec<&String> = tree
        .keys()
        .filter(|k| *k != ".deploygen-manifest")
        .collect();
    keys[i % keys.len()]
}

fn snapshot(dir: &std::path::Path) -> BTreeMap<String, (bool, Vec<u8>)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path() != dir)
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            let t = e.file_type();
            let content = if t.is_symlink() {
                std::fs::read_link(e.path())
                    .unwrap()
                    .display()
                    .to_string()
                    .into_bytes()
            } else if t.is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (rel, (t.is_symlink(), content))
        })
        .filter(|(rel, _)| rel != ".deploygen.lock")
        .collect()
}

fn writer_config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(writer_config())]

    #[test]
    fn the_writer_never_leaves_the_tree_and_never_half_writes(
        from in 0usize..3,
        to in 0usize..3,
        plants in prop::collection::vec(plant(), 0..4),
        failure in prop::option::of((any::<bool>(), 0usize..200)),
    ) {
        use deploygen::disk::{self, WriteOptions};
        use std::os::unix::fs::symlink;
        let trees = writer_trees();
        let (old, new) = (&trees[from], &trees[to]);
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("victim.txt"), "outside\n").unwrap();
        std::fs::create_dir(outside.path().join("folder")).unwrap();
        std::fs::write(outside.path().join("folder/kserve.yaml"), "outside\n").unwrap();
        std::fs::write(root.path().join("matrix.yaml"), MATRIX).unwrap();
        std::fs::write(root.path().join("README.md"), "# ours\n").unwrap();
        std::fs::create_dir(root.path().join(".git")).unwrap();
        std::fs::write(root.path().join(".git/config"), "[core]\n").unwrap();
        disk::write(root.path(), old, WriteOptions::default()).unwrap();
        let mut ours = vec!["matrix.yaml".to_string(), "README.md".into(), ".git/config".into()];
        for p in &plants {
            match p {
                Plant::LinkAtFile(i) => {
                    let at = root.path().join(pick(new, *i));
                    let _ = std::fs::create_dir_all(at.parent().unwrap());
                    let _ = std::fs::remove_file(&at);
                    let _ = symlink(outside.path().join("victim.txt"), &at);
                }
                Plant::LinkAtFolder(i) => {
                    let path = pick(new, *i);
                    if let Some((dir, _)) = path.rsplit_once('/') {
                        let at = root.path().join(dir);
                        let _ = std::fs::remove_dir_all(&at);
                        let _ = std::fs::create_dir_all(at.parent().unwrap());
                        let _ = symlink(outside.path().join("folder"), &at);
                    }
                }
                Plant::Forge(i) => {
                    let line = FORGED[i % FORGED.len()];
                    let m = root.path().join(".deploygen-manifest");
                    let mut text = std::fs::read_to_string(&m).unwrap_or_default();
                    if i % 2 == 0 {
                        text.push_str(&format!("{line}\n"));
                    } else {
                        text.push_str(&format!("{}  {line}\n", "ab".repeat(32)));
                    }
                    std::fs::write(&m, text).unwrap();
                }
                Plant::Edit(i) => {
                    let at = root.path().join(pick(old, *i));
                    if std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_file()) {
                        std::fs::write(&at, "# hand edit\n").unwrap();
                    }
                }
                Plant::Extra(i) => {
                    let path = pick(new, *i);
                    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    let rel = if dir.is_empty() { "extra.txt".to_string() } else { format!("{dir}/extra.txt") };
                    let at = root.path().join(&rel);
                    if std::fs::create_dir_all(at.parent().unwrap()).is_ok()
                        && std::fs::symlink_metadata(at.parent().unwrap()).is_ok_and(|m| m.is_dir())
                    {
                        std::fs::write(&at, "mine\n").unwrap();
                        ours.push(rel);
                    }
                }
            }
        }
        let outside_before = snapshot(outside.path());
        let before = snapshot(root.path());
        let opts = match failure {
            Some((true, n)) => WriteOptions { fail_after: Some(n), ..Default::default() },
            Some((false, n)) => WriteOptions { fail_swap_after: Some(n), ..Default::default() },
            None => WriteOptions::default(),
        };
        let result = disk::write(root.path(), new, opts);
        prop_assert_eq!(snapshot(outside.path()), outside_before, "outside the tree changed");
        match result {
            Ok(_) => {
                for (path, want) in new.iter() {
                    let at = root.path().join(path);
                    let meta = std::fs::symlink_metadata(&at).unwrap();
                    prop_assert!(meta.is_file(), "{} is not a regular file", path);
                    prop_assert_eq!(&std::fs::read_to_string(&at).unwrap(), want, "{}", path);
                }
                for p in &ours {
                    prop_assert!(root.path().join(p).is_file(), "{} was removed", p);
                }
                let d = disk::diff(root.path(), new).unwrap();
                let unexpected: Vec<&str> = d
                    .lines()
                    .filter(|l| l.starts_with("stray ") || l.starts_with("mode ") || l.starts_with("unsafe "))
                    .collect();
                prop_assert!(unexpected.is_empty(), "{:?}", unexpected);
            }
            Err(e) => {
                prop_assert!(
                    matches!(e, Error::Unsafe(_) | Error::NotOwned(_) | Error::WriteFailed { .. }),
                    "unexpected error kind: {}", e
                );
                prop_assert_eq!(e.exit_code(), 2, "{}", e);
                prop_assert!(snapshot(root.path()) == before, "a failed write changed the tree: {}", e);
            }
        }
    }
}

// ---- oracles: values built from the grammar are accepted; one known defect is refused ------

/// A reference built from the grammar's parts.
#[derive(Debug, Clone)]
struct Parts {
    host: String,
    path: Vec<String>,
    tag: Option<String>,
    digest: Option<String>,
}

impl Parts {
    fn text(&self) -> String {
        let mut s = format!("{}/{}", self.host, self.path.join("/"));
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

fn regex(r: &'static str) -> BoxedStrategy<String> {
    proptest::string::string_regex(r).expect("regex").boxed()
}

/// `host[:port]`: a dotted DNS name, localhost, IPv4 or bracketed IPv6, with an optional port.
fn host() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        regex("[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?){1,3}"),
        Just("localhost".to_string()).boxed(),
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"))
            .boxed(),
        any::<std::net::Ipv6Addr>()
            .prop_map(|a| format!("[{a}]"))
            .boxed(),
    ];
    (name, prop::option::of(1u16..=u16::MAX)).prop_map(|(h, port)| match port {
        Some(p) => format!("{h}:{p}"),
        None => h,
    })
}

fn image_reference() -> impl Strategy<Value = Parts> {
    let component = regex("[a-z0-9]{1,5}((\\.|_|__|-{1,3})[a-z0-9]{1,5}){0,2}");
    let tag =
        regex("[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}").prop_filter("latest moves", |t| t != "latest");
    let digest = prop_oneof![
        regex("sha256:[0-9a-f]{64}"),
        regex("sha384:[0-9a-f]{96}"),
        regex("sha512:[0-9a-f]{128}"),
    ];
    (
        host(),
        prop::collection::vec(component, 1..4),
        prop::option::of(tag),
        prop::option::of(digest),
        any::<bool>(),
    )
        .prop_map(|(host, path, tag, digest, tag_if_none)| {
            // A tag or a digest is required.
            let tag = match (&tag, &digest) {
                (None, None) if tag_if_none => Some("v1".to_string()),
                _ => tag,
            };
            let digest = match (&tag, &digest) {
                (None, None) => Some(format!("sha256:{}", "0".repeat(64))),
                _ => digest,
            };
            Parts {
                host,
                path,
                tag,
                digest,
            }
        })
}

/// One defect, and the message fragment of the rule it breaks.
#[derive(Debug, Clone, Copy)]
enum Defect {
    UpperInPath,
    DoubleDotInPath,
    SeparatorAtComponentEnd,
    EmptyComponent,
    LatestTag,
    NoPin,
    TagStartsWithDot,
    PortZero,
    PortWithPlus,
    PortTooBig,
    HostWithoutDotOrPort,
    HostLabelUnderscore,
    DigestShort,
    DigestUpperHex,
    DigestUnknownAlgorithm,
    Space,
}

fn defect() -> impl Strategy<Value = Defect> {
    use Defect::*;
    prop::sample::select(vec![
        UpperInPath,
        DoubleDotInPath,
        SeparatorAtComponentEnd,
        EmptyComponent,
        LatestTag,
        NoPin,
        TagStartsWithDot,
        PortZero,
        PortWithPlus,
        PortTooBig,
        HostWithoutDotOrPort,
        HostLabelUnderscore,
        DigestShort,
        DigestUpperHex,
        DigestUnknownAlgorithm,
        Space,
    ])
}

/// `p` with the defect, and what the refusal must say.
fn with_defect(mut p: Parts, d: Defect) -> (String, String) {
    let bare_host = |h: &str| -> String {
        if h.starts_with('[') {
            h[..=h.find(']').expect("bracket")].to_string()
        } else {
            h.split(':').next().unwrap_or(h).to_string()
        }
    };
    let why = match d {
        Defect::UpperInPath => {
            let last = p.path.len() - 1;
            p.path[last] = format!("{}X", p.path[last]);
            format!("path component `{}` is not valid", p.path[last])
        }
        Defect::DoubleDotInPath => {
            p.path[0] = format!("{}..a", p.path[0]);
            format!("path component `{}` is not valid", p.path[0])
        }
        Defect::SeparatorAtComponentEnd => {
            p.path[0] = format!("{}-", p.path[0]);
            format!("path component `{}` is not valid", p.path[0])
        }
        Defect::EmptyComponent => {
            p.path.insert(0, String::new());
            "path component `` is not valid".to_string()
        }
        Defect::LatestTag => {
            p.tag = Some("latest".into());
            "uses the tag `latest`, which moves".to_string()
        }
        Defect::NoPin => {
            p.tag = None;
            p.digest = None;
            "has no tag and no digest".to_string()
        }
        Defect::TagStartsWithDot => {
            let t = format!(".{}", p.tag.clone().unwrap_or_default());
            p.tag = Some(t.clone());
            format!("tag `{t}` is not valid")
        }
        Defect::PortZero | Defect::PortWithPlus | Defect::PortTooBig => {
            let port = match d {
                Defect::PortZero => "0",
                Defect::PortWithPlus => "+80",
                _ => "65536",
            };
            p.host = format!("{}:{port}", bare_host(&p.host));
            format!("port `{port}` is not a number from 1 to 65535")
        }
        Defect::HostWithoutDotOrPort => {
            p.host = "registry".into();
            "`registry` is not a registry host".to_string()
        }
        Defect::HostLabelUnderscore => {
            p.host = format!("my_registry.{}", bare_host(&p.host).trim_start_matches('['));
            p.host = p.host.replace([']', '['], "").replace(':', "-");
            "`my_registry` is not a valid host label".to_string()
        }
        Defect::DigestShort => {
            let d = format!("sha256:{}", "a".repeat(63));
            p.digest = Some(d);
            "is not valid (sha256 takes 64 lowercase hex digits)".to_string()
        }
        Defect::DigestUpperHex => {
            p.digest = Some(format!("sha256:{}", "A".repeat(64)));
            "is not valid (sha256 takes 64 lowercase hex digits)".to_string()
        }
        Defect::DigestUnknownAlgorithm => {
            p.digest = Some(format!("md5:{}", "a".repeat(32)));
            "algorithm `md5` is not sha256, sha384 or sha512".to_string()
        }
        Defect::Space => {
            p.path[0] = format!("a {}", p.path[0]);
            "contains ' '; a reference has no spaces or control characters".to_string()
        }
    };
    (p.text(), why)
}

fn extra_image_matrix(image: &str) -> String {
    with_airgap_extra_image(&format!(
        "{{image: {}, list: oracle, why: property test}}",
        q(image)
    ))
}

proptest! {
    #![proptest_config(config())]

    /// Every reference built from the grammar parses into exactly its parts and prints back.
    #[test]
    fn oracle_grammar_references_parse_into_their_parts(p in image_reference()) {
        let text = p.text();
        let r = deploygen::base::image::ImageRef::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?} refused: {e}")))?;
        prop_assert_eq!(&r.registry, &p.host);
        prop_assert_eq!(&r.path, &p.path.join("/"));
        prop_assert_eq!(&r.tag, &p.tag);
        prop_assert_eq!(&r.digest, &p.digest);
        prop_assert_eq!(r.to_string(), text);
    }

    /// ... and an environment listing it as an extra image is accepted and lists it, in the
    /// mirror under the same path.
    #[test]
    fn oracle_grammar_references_are_accepted_as_extra_images(p in image_reference()) {
        let image = p.text();
        let tree = render(&extra_image_matrix(&image), &[])?
            .ok_or_else(|| TestCaseError::fail(format!("{image:?} refused")))?;
        let list = tree.get("airgap/kubespray-offline/imagelists/oracle.txt")
            .ok_or_else(|| TestCaseError::fail("no oracle.txt list"))?;
        prop_assert!(list.lines().any(|l| l == image), "{:?} not in:\n{}", image, list);
        let mirrored = image.replacen(&p.host, "10.61.3.31:35000", 1);
        let plan = deploygen::plan("matrix.yaml", extra_image_matrix(&image).as_bytes())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let airgap = plan.environments.iter().find(|e| e.name == "airgap").expect("airgap");
        prop_assert!(
            airgap.images.iter().any(|i| i.target.to_string() == mirrored),
            "{:?} not mirrored as {:?}", image, mirrored
        );
    }

    /// The same references with one defect are refused, at the image's key path, with the
    /// message of the rule the defect breaks (and nothing else is reported).
    #[test]
    fn oracle_references_with_one_defect_are_refused_by_their_rule(p in image_reference(), d in defect()) {
        let (image, why) = with_defect(p, d);
        match deploygen::plan("matrix.yaml", extra_image_matrix(&image).as_bytes()) {
            Ok(_) => return Err(TestCaseError::fail(format!("{d:?}: {image:?} accepted"))),
            Err(Error::Invalid(problems)) => {
                prop_assert_eq!(problems.len(), 1, "{:?}: {:?}", d, problems);
                let p = &problems[0];
                prop_assert_eq!(key_path(&p.location), "environments.airgap.extra_images[1].image");
                prop_assert!(p.message.contains(&why), "{:?}: {:?} refused with {:?}, want {:?}", d, image, p.message, why);
            }
            Err(e) => return Err(TestCaseError::fail(format!("not Invalid: {e:?}"))),
        }
    }

    /// DNS names built from the grammar are accepted as a storage class (subdomain) and an
    /// environment name (label); one defect each is refused with the DNS-1123 message.
    #[test]
    fn oracle_dns_names(
        label in regex("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"),
        more in prop::collection::vec(regex("[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"), 0..4),
        defect in prop::sample::select(vec!["A", "_", ".", "-"]),
        at_start in any::<bool>(),
    ) {
        let subdomain = std::iter::once(label.clone()).chain(more).collect::<Vec<_>>().join(".");
        let sc = replace_in_env("airgap", "storage_class: astrago-nfs-csi", &format!("storage_class: {}", q(&subdomain)));
        prop_assert!(render(&sc, &[])?.is_some(), "storage class {:?} refused", subdomain);
        let env = replace_once(MATRIX, "\n  airgap:\n", &format!("\n  {}:\n", q(&label)));
        prop_assert!(render(&env, &[])?.is_some(), "environment name {:?} refused", label);

        // '.' splits a subdomain into labels, so as a defect it only counts at an end.
        let bad = if at_start { format!("{defect}{subdomain}") } else { format!("{subdomain}{defect}") };
        let sc = replace_in_env("airgap", "storage_class: astrago-nfs-csi", &format!("storage_class: {}", q(&bad)));
        let problems = match deploygen::plan("matrix.yaml", sc.as_bytes()) {
            Err(Error::Invalid(p)) => p,
            other => return Err(TestCaseError::fail(format!("{bad:?}: {:?}", other.map(|_| "accepted")))),
        };
        prop_assert_eq!(problems.len(), 1, "{:?}", problems);
        prop_assert_eq!(key_path(&problems[0].location), "environments.airgap.cluster.storage_class");
        prop_assert!(problems[0].message.contains("is not a valid name (DNS-1123 subdomain"), "{:?}", problems[0]);
    }

    /// Quantities built from the Kubernetes grammar are accepted as a profile's cpu request;
    /// a unit outside the grammar is refused with the quantity message.
    #[test]
    fn oracle_quantities(
        sign in prop::sample::select(vec!["", "+", "-"]),
        number in regex("[0-9]{1,4}(\\.[0-9]{1,3})?|\\.[0-9]{1,3}"),
        suffix in prop::sample::select(vec!["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E", "e3", "E-2", "e+1"]),
        bad_suffix in prop::sample::select(vec!["KB", "mi", "K", "g", "e", "E+", "x", " m", "Gi.5", "i"]),
    ) {
        let line = "kserve-controller: {requests: {cpu: 2000m, memory: 4Gi}";
        let with = |v: &str| replace_once(MATRIX, line, &line.replace("cpu: 2000m", &format!("cpu: {}", q(v))));
        let good = format!("{sign}{number}{suffix}");
        // The grammar accepts it: rendered, or refused only by the capacity check (a huge or
        // negative request), never as a malformed quantity.
        if let Err(Error::Invalid(problems)) = deploygen::plan("matrix.yaml", with(&good).as_bytes()) {
            for p in &problems {
                prop_assert!(!p.message.contains("is not a Kubernetes quantity"), "{:?} refused: {:?}", good, p);
                prop_assert!(key_path(&p.location).ends_with(".profile"), "{:?} refused: {:?}", good, p);
            }
        }
        let bad = format!("{sign}{number}{bad_suffix}");
        let problems = match deploygen::plan("matrix.yaml", with(&bad).as_bytes()) {
            Err(Error::Invalid(p)) => p,
            other => return Err(TestCaseError::fail(format!("{bad:?}: {:?}", other.map(|_| "accepted")))),
        };
        prop_assert_eq!(problems.len(), 1, "{:?}", problems);
        prop_assert_eq!(key_path(&problems[0].location), "profiles.recommended.kserve-controller.requests.cpu");
        prop_assert!(problems[0].message.contains("is not a Kubernetes quantity"), "{:?}", problems[0]);
    }

    /// Label keys and values built from their grammar are accepted as Prometheus selector
    /// labels; a key or value starting with '-' is refused with its message.
    #[test]
    fn oracle_labels(
        prefix in prop::option::of(regex("[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\\.[a-z0-9]{1,8}){0,2}")),
        name in regex("[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?"),
        value in regex("([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?"),
        break_key in any::<bool>(),
    ) {
        let key = match &prefix { Some(p) => format!("{p}/{name}"), None => name.clone() };
        let with = |k: &str, v: &str| replace_once(MATRIX, "{release: kube-prometheus-stack}", &format!("{{{}: {}}}", q(k), q(v)));
        prop_assert!(render(&with(&key, &value), &[])?.is_some(), "{:?}: {:?} refused", key, value);
        let (k, v, why) = if break_key {
            (format!("-{name}"), value.clone(), "is not a valid label key")
        } else {
            (key.clone(), format!("-{value}"), "is not a valid label value")
        };
        let problems = match deploygen::plan("matrix.yaml", with(&k, &v).as_bytes()) {
            Err(Error::Invalid(p)) => p,
            other => return Err(TestCaseError::fail(format!("{k:?}: {v:?}: {:?}", other.map(|_| "accepted")))),
        };
        // The monitoring block is shared by both environments (a YAML anchor).
        prop_assert_eq!(problems.len(), 2, "{:?}", problems);
        for (p, env) in problems.iter().zip(["airgap", "online"]) {
            prop_assert_eq!(key_path(&p.location), format!("environments.{env}.operations.monitoring.selector_labels"));
            prop_assert!(p.message.contains(why), "{:?}", p);
        }
    }
}
