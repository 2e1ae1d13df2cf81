//! Locating key paths in matrix text: block mappings, sequences at a key's own indentation,
//! `- key:` items, quoted keys, comments and blank lines, flow collections, and the fallback
//! to the deepest part found. Each case says the 1-based line and column the path points at.

use deploygen::base::locate::{locate, locate_in};

const TEXT: &str = "# top comment\nversions:\n  kserve: v1\n  \"istio\": 1.22\n  'cert-manager' : v1.15.5\nregistries:\n  upstream:\n  - docker.io\n  # a comment inside\n\n  - quay.io\nprofiles:\n  minimal:\n    istiod: {requests: {cpu: 1}}\nenvironments:\n  online:\n    serving_runtimes: [a, b]\n    extra_images:\n      - image: a\n        list: x\n      -\n        image: c\n        why: d\n    accept:\n    - rule: r\n      reason: s\n  airgap:\n    mirror: m\n    cluster:\n      kubernetes: v1\n    extra_images:\n      - image: e\n        nested:\n          - n0\n          - n1\n      - image: f\n";

#[test]
fn key_paths_point_at_their_line_and_column() {
    let lines: Vec<&str> = TEXT.lines().collect();
    let mut wrong = Vec::new();
    for (path, want) in [
        ("versions", (2, 1)),
        ("versions.kserve", (3, 3)),
        // Double- and single-quoted keys, a space before the colon.
        ("versions.istio", (4, 3)),
        ("versions.cert-manager", (5, 3)),
        ("registries.upstream", (7, 3)),
        // Items at the key's own indentation, across a comment and a blank line.
        ("registries.upstream[0]", (8, 3)),
        ("registries.upstream[1]", (11, 3)),
        // Flow mappings and flow sequences: the deepest key on a line of its own.
        ("profiles.minimal.istiod", (14, 5)),
        ("profiles.minimal.istiod.requests.cpu", (14, 5)),
        ("environments.online.serving_runtimes[1]", (17, 5)),
        // `- key:` items, and an item whose keys start on the next line.
        ("environments.online.extra_images[0]", (19, 7)),
        ("environments.online.extra_images[0].list", (20, 9)),
        ("environments.online.extra_images[1]", (21, 7)),
        ("environments.online.extra_images[1].why", (23, 9)),
        ("environments.online.accept[0].reason", (26, 7)),
        // The same key in the next environment is not this one's.
        ("environments.airgap.mirror", (28, 5)),
        ("environments.airgap.cluster.kubernetes", (30, 7)),
        // Nested sequences inside items.
        ("environments.airgap.extra_images[0].nested[1]", (35, 11)),
        ("environments.airgap.extra_images[1]", (36, 7)),
        ("environments.airgap.extra_images[1].image", (36, 9)),
        // Missing parts fall back to the deepest part found.
        ("registries.upstream[2]", (7, 3)),
        ("environments.online.extra_images[2]", (18, 5)),
        ("environments.online.mirror", (16, 3)),
    ] {
        let got = locate(TEXT, path);
        if got != Some(want) {
            wrong.push(format!("{path}: {got:?}, want {want:?}"));
        }
        assert_eq!(
            locate_in(&lines, path),
            got,
            "locate and locate_in agree on {path}"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_path_whose_first_key_is_absent_is_not_located() {
    assert_eq!(locate(TEXT, "nope"), None);
    assert_eq!(locate(TEXT, "nope.kserve"), None);
    assert_eq!(locate(TEXT, ""), None);
    assert_eq!(locate("", "versions"), None);
    // A key that only appears in a comment is not a key.
    assert_eq!(locate("# versions:\nx: 1\n", "versions"), None);
}
