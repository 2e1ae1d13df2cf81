//! Bad input, one test per class, through the real binary. Each test starts from a work folder
//! that already holds the tree rendered from the good matrix, writes a bad matrix, runs
//! `deploygen render` and checks: exit code 2, a located message naming what is wrong, and a
//! tree that is byte-for-byte what it was.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{files, run, stderr, workdir, MATRIX};

/// A work folder holding the tree rendered from the default matrix.
struct Rendered {
    dir: tempfile::TempDir,
    /// Every file but `matrix.yaml`, after the good render.
    tree: BTreeMap<String, Vec<u8>>,
}

impl Rendered {
    fn new() -> Rendered {
        let dir = workdir(MATRIX);
        let out = run(dir.path(), &["render"]);
        assert!(
            out.status.success(),
            "the default matrix renders: {}",
            stderr(&out)
        );
        let tree = tree_without_matrix(dir.path());
        assert!(
            tree.contains_key(".deploygen-manifest"),
            "{:?}",
            tree.keys()
        );
        assert!(
            tree.contains_key("environments/airgap/kserve.yaml"),
            "{:?}",
            tree.keys()
        );
        Rendered { dir, tree }
    }

    /// Writes `bad` as the matrix, runs `render`, checks the refusal (exit 2, tree unchanged)
    /// and returns stderr.
    fn refuse(&self, bad: impl AsRef<[u8]>) -> String {
        std::fs::write(self.dir.path().join("matrix.yaml"), bad.as_ref()).unwrap();
        let out = run(self.dir.path(), &["render"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "exit code; stderr:\n{err}");
        assert!(err.contains("nothing was written"), "stderr:\n{err}");
        assert!(
            out.stdout.is_empty(),
            "stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let after = tree_without_matrix(self.dir.path());
        assert!(
            after == self.tree,
            "the tree changed: {}",
            tree_delta(&self.tree, &after)
        );
        err
    }
}

fn tree_without_matrix(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut tree = files(dir);
    tree.remove("matrix.yaml");
    tree
}

fn tree_delta(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) -> String {
    let mut out = Vec::new();
    for (p, b) in before {
        match after.get(p) {
            None => out.push(format!("removed {p}")),
            Some(a) if a != b => out.push(format!("changed {p}")),
            _ => {}
        }
    }
    out.extend(
        after
            .keys()
            .filter(|p| !before.contains_key(*p))
            .map(|p| format!("created {p}")),
    );
    out.join(", ")
}

/// Asserts every needle is in stderr.
#[track_caller]
fn has(err: &str, needles: &[&str]) {
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}; stderr:\n{err}");
    }
}

/// The default matrix with the first `from` replaced by `to` (`from` must be there, so a
/// changed default matrix fails loudly instead of making the test vacuous).
#[track_caller]
fn edit(from: &str, to: &str) -> String {
    assert!(MATRIX.contains(from), "the default matrix has no {from:?}");
    MATRIX.replacen(from, to, 1)
}

/// Like `edit`, but only within environment `env` (from its header line on).
#[track_caller]
fn edit_env(env: &str, from: &str, to: &str) -> String {
    let header = format!("\n  {env}:\n");
    let at = MATRIX
        .find(&header)
        .unwrap_or_else(|| panic!("no environment {env}"))
        + header.len();
    let (head, tail) = MATRIX.split_at(at);
    assert!(tail.contains(from), "environment {env} has no {from:?}");
    format!("{head}{}", tail.replacen(from, to, 1))
}

/// Inserts `lines` (YAML, indented for an environment's keys) at the top of environment `env`.
#[track_caller]
fn add_to_env(env: &str, lines: &str) -> String {
    let header = format!("\n  {env}:\n");
    let at = MATRIX
        .find(&header)
        .unwrap_or_else(|| panic!("no environment {env}"))
        + header.len();
    format!("{}{lines}{}", &MATRIX[..at], &MATRIX[at..])
}

/// 1-based number of the first line of `text` that is `line` once trimmed.
#[track_caller]
fn line_eq(text: &str, line: &str) -> usize {
    text.lines()
        .position(|l| l.trim() == line)
        .unwrap_or_else(|| panic!("no line {line:?}"))
        + 1
}

/// 1-based number of the first line of `text` containing `needle`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}"))
        + 1
}

/// Asserts stderr has the semantic problem `matrix.yaml[:L:C]: {path}: {message}…` (a key
/// path, with or without the line and column it was found at) and returns that line number,
/// checked to be a line of `text`, when the location has one.
#[track_caller]
fn at(err: &str, text: &str, path: &str, message: &str) -> Option<usize> {
    let want = format!(" {path}: {message}");
    for line in err.lines() {
        let Some(rest) = line.strip_prefix("error: matrix.yaml:") else {
            continue;
        };
        // `: path: …` or `L:C: path: …`
        let (loc, tail) = match rest.find(": ") {
            Some(i) if !rest.starts_with(' ') => (&rest[..i], &rest[i + 1..]),
            _ => ("", rest),
        };
        if !tail.starts_with(&want) {
            continue;
        }
        if loc.is_empty() {
            return None;
        }
        let (l, c) = loc
            .split_once(':')
            .unwrap_or_else(|| panic!("location {loc:?} in {line:?}"));
        let (l, c): (usize, usize) = (l.parse().expect("line"), c.parse().expect("column"));
        let lines = text.lines().count();
        assert!(
            l >= 1 && l <= lines && c >= 1,
            "location {l}:{c} outside the {lines}-line matrix: {line}"
        );
        return Some(l);
    }
    panic!("stderr lacks `matrix.yaml[:L:C]:{want}`; stderr:\n{err}");
}

/// When a semantic problem carries a line, that line is the one holding `needle`.
#[track_caller]
fn points_at(text: &str, line: Option<usize>, needle: &str) {
    if let Some(l) = line {
        let got = text.lines().nth(l - 1).unwrap_or_default();
        assert!(
            got.contains(needle),
            "line {l} is {got:?}, not the one with {needle:?}"
        );
    }
}

#[test]
fn yaml_syntax_error_is_located_by_line_and_column() {
    let r = Rendered::new();
    let bad = edit("  istio: 1.22.8\n", "  istio: 1.22.8: x\n");
    let err = r.refuse(&bad);
    // The second `: ` on the line is where the YAML stops being YAML (1-based column 16).
    let line = line_of(&bad, "istio: 1.22.8: x");
    has(
        &err,
        &[
            &format!("error: matrix.yaml:{line}:16: "),
            "mapping values are not allowed",
        ],
    );

    // An unclosed quote: located too, never a panic or a half-written tree.
    let bad = edit("  istio: 1.22.8\n", "  istio: \"1.22.8\n");
    let err = r.refuse(&bad);
    has(&err, &["error: matrix.yaml:", "did not find expected"]);
}

#[test]
fn misspelt_top_level_key_gets_a_did_you_mean_hint() {
    let r = Rendered::new();
    let bad = edit("\nversions:\n", "\nversons:\n");
    let err = r.refuse(&bad);
    let line = line_of(&bad, "versons:");
    has(
        &err,
        &[
            &format!("error: matrix.yaml:{line}:1: "),
            "unknown field `versons`",
            "(did you mean `versions`?)",
        ],
    );
}

#[test]
fn misspelt_nested_key_gets_a_did_you_mean_hint() {
    let r = Rendered::new();
    let bad = edit_env(
        "online",
        "    profile: recommended\n",
        "    profle: recommended\n",
    );
    let err = r.refuse(&bad);
    let line = line_of(&bad, "profle:");
    has(
        &err,
        &[
            &format!("error: matrix.yaml:{line}:5: environments.online: unknown field `profle`"),
            "(did you mean `profile`?)",
        ],
    );
}

#[test]
fn misspelt_enum_value_gets_a_did_you_mean_hint() {
    let r = Rendered::new();
    let bad = edit_env(
        "online",
        "deployment_mode: Serverless",
        "deployment_mode: Serverles",
    );
    let err = r.refuse(&bad);
    let line = line_eq(&bad, "deployment_mode: Serverles");
    has(&err, &[
        &format!("error: matrix.yaml:{line}:22: environments.online.deployment_mode: unknown variant `Serverles`"),
        "(did you mean `Serverless`?)",
    ]);
}

#[test]
fn wrong_type_names_the_key_and_the_expected_type() {
    let r = Rendered::new();
    let bad = edit_env("online", "gpus_per_node: 4", "gpus_per_node: four");
    let err = r.refuse(&bad);
    let line = line_of(&bad, "gpus_per_node: four");
    has(&err, &[
        &format!("error: matrix.yaml:{line}:22: environments.online.cluster.gpus_per_node: invalid type: string \"four\""),
        "expected u32",
    ]);

    // A list where a map belongs.
    let bad = edit("\nprofiles:\n", "\nprofiles: [minimal]\nx:\n");
    let err = r.refuse(&bad);
    has(
        &err,
        &[
            "error: matrix.yaml:",
            "profiles: invalid type: sequence, expected a map",
        ],
    );
}

#[test]
fn missing_required_field_is_named() {
    let r = Rendered::new();
    let bad = edit("  kserve: v0.14.1\n", "");
    let err = r.refuse(&bad);
    let line = line_of(&bad, "  cert-manager: v");
    has(
        &err,
        &[&format!(
            "error: matrix.yaml:{line}:3: versions: missing field `kserve`"
        )],
    );

    let bad = edit_env("airgap", "    profile: recommended\n", "");
    let err = r.refuse(&bad);
    has(
        &err,
        &[
            "error: matrix.yaml:",
            "environments.airgap: missing field `profile`",
        ],
    );
}

#[test]
fn empty_file_is_refused() {
    let r = Rendered::new();
    for empty in ["", "\n\n  \n", "# only a comment\n# and another\n"] {
        let err = r.refuse(empty);
        has(&err, &["error: matrix.yaml: is empty; expected a mapping with versions, registries, profiles and environments"]);
    }
}

#[test]
fn duplicate_key_is_refused() {
    let r = Rendered::new();
    let bad = edit("  istio: 1.22.8\n", "  istio: 1.22.8\n  istio: 1.21.6\n");
    let err = r.refuse(&bad);
    let line = line_of(&bad, "  cert-manager: v");
    // serde's "duplicate field `istio`" or serde_yaml's "duplicate entry with key \"istio\"".
    has(
        &err,
        &[
            &format!("error: matrix.yaml:{line}:3: versions: duplicate "),
            "istio",
        ],
    );
}

/// The second `online:` must not silently replace the first (serde fills a map last-wins).
#[test]
fn duplicate_environment_name_is_refused() {
    let r = Rendered::new();
    let bad = format!(
        "{MATRIX}\n  online:\n    cluster: {{kubernetes: v1.28.6, storage_class: other, gpus_per_node: 1}}\n    \
         profile: minimal\n    deployment_mode: RawDeployment\n    serving_runtimes: []\n"
    );
    let err = r.refuse(&bad);
    has(
        &err,
        &["error: matrix.yaml:", "environments", "duplicate", "online"],
    );
}

/// Same for a profile defined twice: which one an environment gets must not depend on order.
#[test]
fn duplicate_profile_name_is_refused() {
    let r = Rendered::new();
    let minimal_start = MATRIX.find("\n  minimal:\n").expect("profile minimal") + 1;
    let minimal_end = MATRIX
        .find("\n  recommended:\n")
        .expect("profile recommended")
        + 1;
    let block = &MATRIX[minimal_start..minimal_end];
    let bad = MATRIX.replacen(block, &format!("{block}{block}"), 1);
    let err = r.refuse(&bad);
    has(
        &err,
        &["error: matrix.yaml:", "profiles", "duplicate", "minimal"],
    );
}

#[test]
fn version_that_does_not_parse() {
    let r = Rendered::new();
    let bad = edit("  istio: 1.22.8\n", "  istio: one.two\n");
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "versions.istio",
        "`one.two` is not a version (x.y.z)",
    );
    points_at(&bad, line, "istio: one.two");
    let bad = edit("  istio: 1.22.8\n", "  istio: \"1.22\"\n");
    let err = r.refuse(&bad);
    at(
        &err,
        &bad,
        "versions.istio",
        "`1.22` is not a version (x.y.z)",
    );
}

/// Versions the embedded catalog holds for `component` (its files, as the build embeds them).
fn catalog_versions(component: &str) -> Vec<String> {
    let dir = common::repo_root().join("catalog").join(component);
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".yaml")
                .map(str::to_string)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn version_not_in_catalog_lists_the_known_versions() {
    let r = Rendered::new();
    let bad = edit("  istio: 1.22.8\n", "  istio: 1.99.0\n");
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "versions.istio",
        "istio 1.99.0 is not in the catalog; known versions: ",
    );
    points_at(&bad, line, "istio: 1.99.0");
    let known = catalog_versions("istio");
    assert!(!known.is_empty());
    let line = err.lines().find(|l| l.contains("known versions:")).unwrap();
    for v in &known {
        assert!(line.contains(v.as_str()), "{v} not listed in {line}");
    }
}

#[test]
fn known_bad_version_is_refused_with_why_and_source() {
    let r = Rendered::new();
    let bad = edit("  cert-manager: v1.15.5\n", "  cert-manager: v1.14.0\n");
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "versions.cert-manager",
        "cert-manager v1.14.0 is known bad: ",
    );
    points_at(&bad, line, "cert-manager: v1.14.0");
    has(&err, &["cainjector", "(source: "]);
}

#[test]
fn malformed_mirror_is_refused() {
    let r = Rendered::new();
    let bad = edit("mirror: 10.61.3.31:35000", "mirror: 10.61.3.31:99999");
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "environments.airgap.mirror",
        "not a registry host[:port][/path]: ",
    );
    points_at(&bad, line, "mirror: 10.61.3.31:99999");
    has(&err, &["port `99999` is not a number from 1 to 65535"]);
    let bad = edit("mirror: 10.61.3.31:35000", "mirror: bad host");
    let err = r.refuse(&bad);
    at(
        &err,
        &bad,
        "environments.airgap.mirror",
        "not a registry host[:port][/path]: `bad host`",
    );
    has(&err, &["not a valid host label"]);
    let bad = edit(
        "mirror: 10.61.3.31:35000",
        "mirror: \"10.61.3.31:35000/Astrago\"",
    );
    let err = r.refuse(&bad);
    at(
        &err,
        &bad,
        "environments.airgap.mirror",
        "mirror path prefix: ",
    );
    has(&err, &["`Astrago`"]);
}

#[test]
fn environment_name_must_be_a_dns_label_inside_the_output_folder() {
    let r = Rendered::new();
    for name in ["../x", "a/b", "A", "..", "-x", "a_b"] {
        let quoted = serde_json::to_string(name).unwrap();
        let bad = edit("\n  airgap:\n", &format!("\n  {quoted}:\n"));
        let err = r.refuse(&bad);
        at(
            &err,
            &bad,
            &format!("environments.{name}"),
            &format!("`{name}` is not a valid name (DNS-1123 label"),
        );
    }
    // Nothing appeared beside the work folder either.
    let parent = r.dir.path().parent().unwrap();
    assert!(!parent.join("x").join("kserve.yaml").exists());
}

#[test]
fn bad_storage_class() {
    let r = Rendered::new();
    let bad = edit_env(
        "airgap",
        "storage_class: astrago-nfs-csi",
        "storage_class: Astrago_NFS",
    );
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "environments.airgap.cluster.storage_class",
        "`Astrago_NFS` is not a valid name (DNS-1123 subdomain",
    );
    points_at(&bad, line, "storage_class: Astrago_NFS");
}

#[test]
fn unknown_serving_runtime_gets_a_did_you_mean_hint() {
    let r = Rendered::new();
    let bad = edit_env(
        "airgap",
        "serving_runtimes: [sklearnserver,",
        "serving_runtimes: [sklernserver,",
    );
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "environments.airgap.serving_runtimes[0]",
        "unknown serving runtime `sklernserver` (did you mean `sklearnserver`?); known: ",
    );
    points_at(&bad, line, "sklernserver");
    has(&err, &["tritonserver"]);
}

#[test]
fn unknown_profile_lists_the_profiles() {
    let r = Rendered::new();
    let bad = edit_env(
        "airgap",
        "    profile: recommended\n",
        "    profile: gpu-heavy\n",
    );
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "environments.airgap.profile",
        "unknown profile `gpu-heavy`; profiles: minimal, recommended",
    );
    points_at(&bad, line, "profile: gpu-heavy");
    let bad = edit_env(
        "airgap",
        "    profile: recommended\n",
        "    profile: recomended\n",
    );
    let err = r.refuse(&bad);
    at(
        &err,
        &bad,
        "environments.airgap.profile",
        "unknown profile `recomended` (did you mean `recommended`?)",
    );
}

#[test]
fn bad_resource_quantity() {
    let r = Rendered::new();
    let bad = edit(
        "istiod: {requests: {cpu: 500m, memory: 2Gi}",
        "istiod: {requests: {cpu: 100 m, memory: 512MB}",
    );
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "profiles.minimal.istiod.requests.cpu",
        "`100 m` is not a Kubernetes quantity",
    );
    points_at(&bad, line, "cpu: 100 m");
    at(
        &err,
        &bad,
        "profiles.minimal.istiod.requests.memory",
        "`512MB` is not a Kubernetes quantity",
    );
    has(&err, &["2 problems; nothing was written"]);
}

#[test]
fn extra_image_must_be_pinned_and_fully_qualified() {
    let r = Rendered::new();
    let cases = [
        ("docker.io/acme/server:latest", "uses the tag `latest`"),
        ("docker.io/acme/server", "has no tag and no digest"),
        ("acme/server:v1.2.0", "`acme` is not a registry host"),
        ("server:v1.2.0", "`server` has no registry host"),
    ];
    for (image, why) in cases {
        // The airgap environment's list (the load test's busybox) replaced by the bad image.
        let bad = edit_env(
            "airgap",
            "    extra_images: *extra\n",
            &format!("    extra_images:\n      - {{image: {image}, why: our model server}}\n"),
        );
        let err = r.refuse(&bad);
        let line = at(
            &err,
            &bad,
            "environments.airgap.extra_images[0].image",
            &format!("`{image}` "),
        );
        points_at(&bad, line, image);
        has(&err, &[why]);
    }
}

#[test]
fn accept_needs_a_known_rule_and_a_reason() {
    let r = Rendered::new();
    let bad = add_to_env(
        "airgap",
        "    accept:\n      - {rule: kserve-recomended-istio, reason: tested on site}\n",
    );
    let err = r.refuse(&bad);
    at(
        &err,
        &bad,
        "environments.airgap.accept[0].rule",
        "unknown rule `kserve-recomended-istio` (did you mean `kserve-recommended-istio`?)",
    );
    let bad = add_to_env(
        "airgap",
        "    accept:\n      - {rule: kserve-recommended-istio, reason: \"  \"}\n",
    );
    let err = r.refuse(&bad);
    at(
        &err,
        &bad,
        "environments.airgap.accept[0].reason",
        "an accepted rule needs a written reason",
    );
}

#[test]
fn kubernetes_too_old_for_kserve_names_the_rule() {
    let r = Rendered::new();
    let bad = edit_env("airgap", "kubernetes: v1.28.6", "kubernetes: v1.27.3");
    let err = r.refuse(&bad);
    let line = at(
        &err,
        &bad,
        "environments.airgap",
        "[kserve-kubernetes] kserve ",
    );
    points_at(&bad, line, "airgap:");
    has(&err, &["runs v1.27.3", "(source: "]);
    assert!(
        !err.contains("environments.online"),
        "only airgap is too old:\n{err}"
    );
}

#[test]
fn several_independent_problems_are_all_reported() {
    let r = Rendered::new();
    let bad = edit("  istio: 1.22.8\n", "  istio: 9.9.9\n")
        .replacen("mirror: 10.61.3.31:35000", "mirror: bad host", 1)
        .replacen(
            "istiod: {requests: {cpu: 500m,",
            "istiod: {requests: {cpu: lots,",
            1,
        );
    let airgap = bad.find("\n  airgap:\n").unwrap();
    let (head, tail) = bad.split_at(airgap);
    let bad = format!(
        "{head}{}",
        tail.replacen("storage_class: astrago-nfs-csi", "storage_class: Bad_SC", 1)
    );
    let err = r.refuse(&bad);
    at(
        &err,
        &bad,
        "versions.istio",
        "istio 9.9.9 is not in the catalog",
    );
    at(&err, &bad, "profiles.minimal.istiod.requests.cpu", "`lots`");
    at(
        &err,
        &bad,
        "environments.airgap.cluster.storage_class",
        "`Bad_SC`",
    );
    at(
        &err,
        &bad,
        "environments.airgap.mirror",
        "not a registry host",
    );
    has(&err, &["4 problems; nothing was written"]);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error: ")).count(),
        4,
        "{err}"
    );
}

#[test]
fn oversized_input_is_refused_fast() {
    let r = Rendered::new();
    let size = 50 * 1024 * 1024;
    let mut big = MATRIX.as_bytes().to_vec();
    big.resize(size, b'#');
    let start = Instant::now();
    let err = r.refuse(&big);
    let took = start.elapsed();
    has(
        &err,
        &[&format!(
            "error: matrix.yaml: is more than {} bytes (reading stopped there)",
            deploygen::model::matrix::MAX_MATRIX_BYTES
        )],
    );
    assert!(
        took < Duration::from_secs(5),
        "refusing {size} bytes took {took:?}"
    );
}

#[test]
fn nul_bytes_are_refused() {
    let r = Rendered::new();
    // Located by line and column, like every other refusal.
    let offset = MATRIX.find("istio: ").unwrap();
    let line = MATRIX[..offset].matches('\n').count() + 1;
    let mut bad = MATRIX.as_bytes().to_vec();
    bad.insert(offset, 0);
    let err = r.refuse(&bad);
    has(
        &err,
        &[&format!("error: matrix.yaml:{line}:3: holds a NUL byte")],
    );

    let mut bad = MATRIX.as_bytes().to_vec();
    bad.insert(offset, 0xff);
    let err = r.refuse(&bad);
    has(
        &err,
        &[&format!("error: matrix.yaml:{line}:3: is not UTF-8")],
    );
}

#[test]
fn hand_written_file_at_a_generated_path_stops_the_first_render() {
    let dir = workdir(MATRIX);
    let mine = dir.path().join("environments/online/kserve.yaml");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, "# mine\nkserve: {}\n").unwrap();
    let before = files(dir.path());

    let out = run(dir.path(), &["render"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    has(
        &err,
        &[
            "environments/online/kserve.yaml: exists but was not generated by deploygen",
            "nothing was written",
        ],
    );
    assert!(
        !dir.path().join(".deploygen-manifest").exists(),
        "the manifest was created"
    );
    assert_eq!(files(dir.path()), before, "render wrote something");
}

#[test]
fn hand_written_file_at_a_new_generated_path_stops_a_later_render() {
    let r = Rendered::new();
    let mine = r.dir.path().join("environments/staging/kserve.yaml");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, "# mine\n").unwrap();
    let r = Rendered {
        tree: tree_without_matrix(r.dir.path()),
        dir: r.dir,
    };
    // A valid matrix with a new environment `staging`, a copy of `online`.
    let online = MATRIX.find("\n  online:\n").unwrap() + 1;
    let rest = &MATRIX[online..];
    let end = rest[1..].find("\n\n").map(|i| i + 2).unwrap_or(rest.len());
    let staging = rest[..end].replacen("  online:", "  staging:", 1);
    let good = format!("{MATRIX}\n{staging}");
    let err = r.refuse(good);
    has(
        &err,
        &["environments/staging/kserve.yaml: exists but was not generated by deploygen"],
    );
}
