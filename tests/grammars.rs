//! The grammars of strings from the matrix and the catalog, branch by branch, as data: values
//! that must be accepted, and values that must be refused with the message of the rule they
//! break. Image references (with the host and path grammars mirrors use, and the mirror
//! rewrite), Kubernetes names, label keys and values, quantities, and versions.

use deploygen::base::image::{check_host, check_path, ImageRef};
use deploygen::base::names::{
    check_dns_label, check_dns_subdomain, check_label_key, check_label_value, check_quantity,
};
use deploygen::base::version::{minor_of, minor_string, parse_lenient};

const HEX64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn hex(n: usize) -> String {
    HEX64.chars().cycle().take(n).collect()
}

/// (reference, registry, path, tag, digest) of a reference the grammar accepts.
type Accepted = (
    String,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<String>,
);

fn accepted() -> Vec<Accepted> {
    vec![
        (
            "quay.io/jetstack/cert-manager-controller:v1.15.5".into(),
            "quay.io",
            "jetstack/cert-manager-controller",
            Some("v1.15.5"),
            None,
        ),
        ("localhost/a:v1".into(), "localhost", "a", Some("v1"), None),
        (
            "localhost:5000/a/b:v1".into(),
            "localhost:5000",
            "a/b",
            Some("v1"),
            None,
        ),
        (
            "registry:5000/a:v1".into(),
            "registry:5000",
            "a",
            Some("v1"),
            None,
        ),
        ("host.io:1/a:v1".into(), "host.io:1", "a", Some("v1"), None),
        (
            "host.io:65535/a:v1".into(),
            "host.io:65535",
            "a",
            Some("v1"),
            None,
        ),
        (
            "10.61.3.31:35000/a:v1".into(),
            "10.61.3.31:35000",
            "a",
            Some("v1"),
            None,
        ),
        (
            "[::1]:5000/a/b:v1".into(),
            "[::1]:5000",
            "a/b",
            Some("v1"),
            None,
        ),
        ("[fe80::1]/a:v1".into(), "[fe80::1]", "a", Some("v1"), None),
        ("a-b.c0.io/x:v1".into(), "a-b.c0.io", "x", Some("v1"), None),
        // Path component separators: '.', '_', '__' and runs of '-'.
        (
            "docker.io/a.b_c__d---e/f:v1".into(),
            "docker.io",
            "a.b_c__d---e/f",
            Some("v1"),
            None,
        ),
        (
            "docker.io/0/9:v1".into(),
            "docker.io",
            "0/9",
            Some("v1"),
            None,
        ),
        // Tags: first character a word character, then up to 127 of [A-Za-z0-9_.-].
        (
            "docker.io/a:_V1.2-rc.3".into(),
            "docker.io",
            "a",
            Some("_V1.2-rc.3"),
            None,
        ),
        (
            format!("docker.io/a:{}", "t".repeat(128)),
            "docker.io",
            "a",
            Some(Box::leak("t".repeat(128).into_boxed_str())),
            None,
        ),
        // Digests: sha256, sha384, sha512 with exactly their length of lowercase hex.
        (
            format!("docker.io/a@sha256:{}", hex(64)),
            "docker.io",
            "a",
            None,
            Some(format!("sha256:{}", hex(64))),
        ),
        (
            format!("docker.io/a@sha384:{}", hex(96)),
            "docker.io",
            "a",
            None,
            Some(format!("sha384:{}", hex(96))),
        ),
        (
            format!("docker.io/a@sha512:{}", hex(128)),
            "docker.io",
            "a",
            None,
            Some(format!("sha512:{}", hex(128))),
        ),
        (
            format!("docker.io/a:v1@sha256:{}", hex(64)),
            "docker.io",
            "a",
            Some("v1"),
            Some(format!("sha256:{}", hex(64))),
        ),
        (
            format!("[::1]:5000/a@sha256:{}", hex(64)),
            "[::1]:5000",
            "a",
            None,
            Some(format!("sha256:{}", hex(64))),
        ),
    ]
}

#[test]
fn references_in_the_grammar_are_accepted_and_read_back() {
    for (s, registry, path, tag, digest) in accepted() {
        let r = ImageRef::parse(&s).unwrap_or_else(|e| panic!("{s} refused: {e}"));
        assert_eq!(r.registry, registry, "{s}");
        assert_eq!(r.path, path, "{s}");
        assert_eq!(r.tag.as_deref(), tag, "{s}");
        assert_eq!(r.digest, digest, "{s}");
        assert_eq!(r.to_string(), s, "{s} does not print back as written");
    }
}

/// The longest name (registry and path) the grammar takes is 255 characters.
#[test]
fn the_name_length_limit_is_255() {
    let name = |n: usize| format!("docker.io/{}", "a".repeat(n - "docker.io/".len()));
    assert!(ImageRef::parse(&format!("{}:v1", name(255))).is_ok());
    let err = ImageRef::parse(&format!("{}:v1", name(256))).unwrap_err();
    assert_eq!(err, "has a name longer than 255 characters");
}

/// (reference, fragment of the message the refusal must carry).
fn refused() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        ("", "is empty"),
        ("docker.io/a:v 1", "contains ' '; a reference has no spaces or control characters"),
        ("docker.io/a:v1\nkey: x", "contains '\\n'"),
        ("docker.io/a:v1\u{7}", "contains '\\u{7}'"),
        ("docker.io/a:v1\u{85}", "contains '\\u{85}'"),
        // pinning
        ("docker.io/a", "has no tag and no digest"),
        ("docker.io/a:latest", "uses the tag `latest`, which moves"),
        // tags
        ("docker.io/a:", "tag `` is not valid"),
        ("docker.io/a:.v1", "tag `.v1` is not valid"),
        ("docker.io/a:-v1", "tag `-v1` is not valid"),
        ("docker.io/a:v1+b", "tag `v1+b` is not valid"),
        // registry present and a host
        ("agent:v1", "`agent` has no registry host; write it fully qualified (docker.io/library/agent)"),
        ("kserve/agent:v1", "`kserve` is not a registry host; write the reference fully qualified (docker.io/kserve/agent)"),
        ("registry/a:v1", "`registry` is not a registry host"),
        ("bad_host.io/a:v1", "`bad_host.io`: `bad_host` is not a valid host label"),
        ("-a.io/x:v1", "`-a` is not a valid host label"),
        ("a-.io/x:v1", "`a-` is not a valid host label"),
        ("a..io/x:v1", "`` is not a valid host label"),
        (":80/a:v1", "`:80`: the host is empty or longer than 253 characters"),
        // ports
        ("host.io:0/a:v1", "port `0` is not a number from 1 to 65535"),
        ("host.io:+80/a:v1", "port `+80` is not a number from 1 to 65535"),
        ("host.io:65536/a:v1", "port `65536` is not a number from 1 to 65535"),
        ("host.io:99999/a:v1", "port `99999` is not a number from 1 to 65535"),
        ("host.io:8o/a:v1", "port `8o` is not a number from 1 to 65535"),
        // bracketed IPv6
        ("[::1]:0/a:v1", "port `0` is not a number from 1 to 65535"),
        ("[::1]:+80/a:v1", "port `+80` is not a number from 1 to 65535"),
        ("[::1]:/a:v1", "port `` is not a number from 1 to 65535"),
        ("[::1/a:v1", "unclosed '[' in an IPv6 host"),
        ("[zz::1]:5000/a:v1", "`zz::1` is not an IPv6 address"),
        ("[10.0.0.1]:5000/a:v1", "`10.0.0.1` is not an IPv6 address"),
        ("[::1]x:5000/a:v1", "unexpected text after the IPv6 address"),
        // path components: [a-z0-9]+ joined by '.', '_', '__' or '-'+
        ("docker.io/kserve/aGent:v1", "path component `aGent` is not valid"),
        ("docker.io/KServe/agent:v1", "path component `KServe` is not valid"),
        ("docker.io/a..b:v1", "path component `a..b` is not valid"),
        ("docker.io/a___b:v1", "path component `a___b` is not valid"),
        ("docker.io/a-_b:v1", "path component `a-_b` is not valid"),
        ("docker.io/a._b:v1", "path component `a._b` is not valid"),
        ("docker.io/-a:v1", "path component `-a` is not valid"),
        ("docker.io/a-:v1", "path component `a-` is not valid"),
        ("docker.io/_a:v1", "path component `_a` is not valid"),
        ("docker.io/a.:v1", "path component `a.` is not valid"),
        ("docker.io/kserve//agent:v1", "path component `` is not valid"),
        ("docker.io/a/:v1", "path component `` is not valid"),
        ("docker.io/a+b:v1", "path component `a+b` is not valid"),
        // digests
        ("docker.io/a@sha256", "digest `sha256` is not algorithm:hex"),
        ("docker.io/a@sha256:abc", "digest `sha256:abc` is not valid (sha256 takes 64 lowercase hex digits)"),
        ("docker.io/a@", "digest `` is not algorithm:hex"),
    ]
    .iter()
    .map(|(r, m)| (r.to_string(), m.to_string()))
    .collect();
    let digest = |d: String, why: &str| (format!("docker.io/a@{d}"), why.replace("{d}", &d));
    v.extend([
        digest(
            format!("sha256:{}", hex(63)),
            "digest `{d}` is not valid (sha256 takes 64 lowercase hex digits)",
        ),
        digest(
            format!("sha256:{}", hex(65)),
            "digest `{d}` is not valid (sha256 takes 64 lowercase hex digits)",
        ),
        digest(
            format!("sha256:{}g", hex(63)),
            "digest `{d}` is not valid (sha256 takes 64 lowercase hex digits)",
        ),
        digest(
            format!("sha256:{}", hex(64).to_uppercase()),
            "digest `{d}` is not valid (sha256 takes 64 lowercase hex digits)",
        ),
        digest(
            format!("sha512:{}", hex(64)),
            "digest `{d}` is not valid (sha512 takes 128 lowercase hex digits)",
        ),
        digest(
            format!("sha384:{}", hex(128)),
            "digest `{d}` is not valid (sha384 takes 96 lowercase hex digits)",
        ),
        digest(
            format!("md5:{}", hex(32)),
            "digest `{d}`: algorithm `md5` is not sha256, sha384 or sha512",
        ),
        digest(
            format!("sha1:{}", hex(40)),
            "digest `{d}`: algorithm `sha1` is not sha256, sha384 or sha512",
        ),
        digest(
            format!("SHA256:{}", hex(64)),
            "digest `{d}`: algorithm `SHA256` is not sha256, sha384 or sha512",
        ),
        digest(
            format!("sha256+b64:{}", hex(64)),
            "algorithm `sha256+b64` is not sha256, sha384 or sha512",
        ),
        digest(
            format!(":{}", hex(64)),
            "algorithm `` is not sha256, sha384 or sha512",
        ),
        (
            format!("docker.io/a:{}", "t".repeat(129)),
            format!("tag `{}` is not valid (1 to 128", "t".repeat(129)),
        ),
    ]);
    v
}

#[test]
fn references_outside_the_grammar_are_refused_by_the_rule_they_break() {
    let mut failures = Vec::new();
    for (s, want) in refused() {
        match ImageRef::parse(&s) {
            Ok(r) => failures.push(format!("{s:?} accepted as {r:?}; want: {want}")),
            Err(e) if !e.contains(&want) => {
                failures.push(format!("{s:?} refused with {e:?}; want: {want}"))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn host_grammar_on_its_own() {
    let label63 = "a".repeat(63);
    // 4 labels of 63 and the dots: 255; trim to 253 and 254.
    let long = [label63.as_str(); 4].join(".");
    for ok in [
        "localhost",
        "a",
        "a-b",
        "10.61.3.31:35000",
        "[::1]",
        "[::1]:1",
        label63.as_str(),
        &long[..253],
    ] {
        assert_eq!(check_host(ok), Ok(()), "{ok}");
    }
    for (bad, why) in [
        ("", "the host is empty or longer than 253 characters"),
        (
            &long[..254],
            "the host is empty or longer than 253 characters",
        ),
        (&format!("{label63}a.io"), "is not a valid host label"),
        ("a.b-", "`b-` is not a valid host label"),
        ("a:0", "port `0` is not a number from 1 to 65535"),
        ("[::1]:65536", "port `65536`"),
        ("[]", "`` is not an IPv6 address"),
    ] {
        let err = check_host(bad).expect_err(bad);
        assert!(err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn path_grammar_on_its_own() {
    assert_eq!(check_path("astrago/models"), Ok(()));
    assert_eq!(
        check_path("astrago/Models"),
        Err("path component `Models` is not valid (lowercase letters and digits, separated by '.', '_', '__' or '-')".into())
    );
}

#[test]
fn mirroring_keeps_the_path_and_pin_and_drops_the_source_host() {
    let digest = format!("sha256:{}", hex(64));
    let r = ImageRef::parse(&format!("docker.io/istio/pilot:1.22.8@{digest}")).unwrap();
    assert_eq!(r.repository(), "docker.io/istio/pilot");
    assert_eq!(r.hub(), "docker.io/istio");
    assert_eq!(r.name(), "pilot");
    let m = r.mirrored("10.61.3.31:35000");
    assert_eq!(m.registry, "10.61.3.31:35000");
    assert_eq!(m.path, "istio/pilot");
    assert_eq!(
        m.to_string(),
        format!("10.61.3.31:35000/istio/pilot:1.22.8@{digest}")
    );
    let m = r.mirrored("harbor.local/astrago/ai");
    assert_eq!(m.registry, "harbor.local");
    assert_eq!(m.path, "astrago/ai/istio/pilot");
    assert_eq!(m.repository(), "harbor.local/astrago/ai/istio/pilot");
    assert_eq!(m.hub(), "harbor.local/astrago/ai/istio");
    assert_eq!(m.name(), "pilot");
    // A one-component path has the registry as its hub.
    let top = ImageRef::parse("quay.io/agent:v1").unwrap();
    assert_eq!(top.hub(), "quay.io");
    assert_eq!(top.name(), "agent");
}

#[test]
fn dns_labels_and_subdomains() {
    let l63 = "a".repeat(63);
    for ok in ["a", "0", "a-0", "airgap", l63.as_str()] {
        assert_eq!(check_dns_label(ok), Ok(()), "{ok}");
    }
    for bad in [
        "",
        "A",
        "a_b",
        "a.b",
        "-a",
        "a-",
        "../x",
        "a/b",
        &"a".repeat(64),
    ] {
        let err = check_dns_label(bad).expect_err(bad);
        assert!(
            err.contains("is not a valid name (DNS-1123 label"),
            "{bad}: {err}"
        );
    }
    // A subdomain is dot-separated labels, at most 253 characters.
    let long = [l63.as_str(); 4].join(".");
    for ok in ["a", "a.b", "astrago-nfs-csi", &long[..253]] {
        assert_eq!(check_dns_subdomain(ok), Ok(()), "{ok}");
    }
    for bad in ["", "a..b", ".a", "a.", "A.b", "a_b.c", &long[..254]] {
        let err = check_dns_subdomain(bad).expect_err(bad);
        assert!(
            err.contains("is not a valid name (DNS-1123 subdomain"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn label_keys_take_an_optional_dns_prefix_and_a_63_character_name() {
    let n63 = format!("a{}z", "-_.".repeat(20) + "b");
    assert_eq!(n63.len(), 63);
    for ok in [
        "release",
        "grafana_dashboard",
        "A.b-C_d",
        "app.kubernetes.io/name",
        "x/y",
        n63.as_str(),
    ] {
        assert_eq!(check_label_key(ok), Ok(()), "{ok}");
    }
    let name_rule = "is not a valid label key (up to 63 of [A-Za-z0-9-_.], starting and ending alphanumeric, optional dns/ prefix)";
    for (bad, why) in [
        ("", name_rule),
        ("grafana/", name_rule),
        ("-release", name_rule),
        ("release-", name_rule),
        ("_release", name_rule),
        ("rel ease", name_rule),
        ("rel:ease", name_rule),
        (&format!("{n63}x"), name_rule),
        (
            "/release",
            "label key prefix: `` is not a valid name (DNS-1123 subdomain",
        ),
        (
            "Example.com/release",
            "label key prefix: `Example.com` is not a valid name",
        ),
        ("a_b/release", "label key prefix: `a_b`"),
    ] {
        let err = check_label_key(bad).expect_err(bad);
        assert!(err.contains(why), "{bad:?}: {err}");
    }
}

#[test]
fn label_values_are_empty_or_63_label_characters() {
    for ok in ["", "1", "kube-prometheus-stack", "A_b.c", &"v".repeat(63)] {
        assert_eq!(check_label_value(ok), Ok(()), "{ok}");
    }
    for bad in ["-a", "a-", ".a", "a b", "a/b", "a\nb", &"v".repeat(64)] {
        let err = check_label_value(bad).expect_err(bad);
        assert!(err.contains("is not a valid label value"), "{bad:?}: {err}");
    }
}

#[test]
fn quantities_follow_the_kubernetes_grammar() {
    for ok in [
        "1", "0", "100m", "0.5", ".5", "5.", "+1", "-1", "256Mi", "1Ki", "1Gi", "1Ti", "1Pi",
        "1Ei", "1n", "1u", "1k", "1M", "1G", "1T", "1P", "1E", "2e3", "2E3", "2e+3", "2e-3",
        "1.5G",
    ] {
        assert_eq!(check_quantity(ok), Ok(()), "{ok}");
    }
    for bad in [
        "",
        "m",
        ".",
        "+",
        "1.2.3",
        "100 m",
        "1GB",
        "1mi",
        "1K",
        "1e",
        "1e+",
        "1ee3",
        "1e3.5",
        "ten",
        "1Gi\nx: y",
        "--1",
        "+-1",
    ] {
        let err = check_quantity(bad).expect_err(bad);
        assert!(
            err.contains("is not a Kubernetes quantity (e.g. 100m, 0.5, 256Mi, 1Gi)"),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn versions_parse_with_an_optional_leading_v_only() {
    assert_eq!(parse_lenient("v1.15.5"), Ok(semver::Version::new(1, 15, 5)));
    assert_eq!(parse_lenient("1.22.8"), Ok(semver::Version::new(1, 22, 8)));
    for bad in ["1.15", "V1.15.5", "vv1.15.5", "one.two", ""] {
        let err = parse_lenient(bad).expect_err(bad);
        assert!(
            err.starts_with(&format!("`{bad}` is not a version (x.y.z)")),
            "{err}"
        );
    }
    assert_eq!(minor_of("v1.28.6"), Ok((1, 28)));
    assert_eq!(minor_of("1.30"), Ok((1, 30)));
    for bad in ["1", "x.28", "1.x", "", "v"] {
        assert_eq!(
            minor_of(bad),
            Err(format!("`{bad}` is not a major.minor version"))
        );
    }
    assert_eq!(minor_string(&semver::Version::new(1, 15, 3)), "1.15");
}
