//! The refusal corpus: one case per validation rule, as data. Each case is the default matrix
//! with one thing made wrong, and the exact problems the refusal must report (key path and a
//! fragment of the message). Switching a check off, or making it more lenient, fails the case
//! that names the rule; a check that starts firing where it should not fails the problem count.
//!
//! Rules that need a wrong catalog (the embedded one is right) are at the end: they load the
//! catalog, break one fact and run `validate::build` on the default matrix.

mod common;

use deploygen::base::error::Problem;
use deploygen::catalog::{Catalog, SetAt, ValuesKeys};
use deploygen::Error;

use common::MATRIX;

/// One rule and the input that breaks it.
struct Case {
    rule: &'static str,
    matrix: String,
    /// (key path, message fragment) of every problem the refusal reports, in any order.
    want: Vec<(&'static str, String)>,
}

fn case(rule: &'static str, matrix: String, want: &[(&'static str, &str)]) -> Case {
    Case {
        rule,
        matrix,
        want: want.iter().map(|(p, m)| (*p, m.to_string())).collect(),
    }
}

/// The default matrix with the first `from` replaced by `to` (`from` must be there, so a
/// changed default matrix fails loudly instead of making a case vacuous).
#[track_caller]
fn edit(from: &str, to: &str) -> String {
    assert!(MATRIX.contains(from), "the default matrix has no {from:?}");
    MATRIX.replacen(from, to, 1)
}

/// Like `edit`, but only within environment `env` (from its header line on).
#[track_caller]
fn edit_env(env: &str, from: &str, to: &str) -> String {
    let header = format!("\n  {env}:\n");
    let at = MATRIX.find(&header).expect("environment") + header.len();
    let (head, tail) = MATRIX.split_at(at);
    assert!(tail.contains(from), "environment {env} has no {from:?}");
    format!("{head}{}", tail.replacen(from, to, 1))
}

/// Inserts `lines` (indented for an environment's keys) at the top of environment `env`.
/// Extra images for airgap go in front of the ones it already has (an alias of online's,
/// which the load test's image is in), so the new ones keep indices 0, 1, ...
fn add_to_env(env: &str, lines: &str) -> String {
    if let (Some(items), "airgap") = (lines.strip_prefix("    extra_images:\n"), env) {
        let anchor = "    extra_images: &extra\n";
        let at = MATRIX.find(anchor).expect("online's extra images") + anchor.len();
        let own: String = MATRIX[at..]
            .split_inclusive('\n')
            .take_while(|l| l.starts_with("      "))
            .collect();
        return edit_env(
            "airgap",
            "    extra_images: *extra\n",
            &format!("    extra_images:\n{items}{own}"),
        );
    }
    let header = format!("\n  {env}:\n");
    let at = MATRIX.find(&header).expect("environment") + header.len();
    format!("{}{lines}{}", &MATRIX[..at], &MATRIX[at..])
}

/// The default matrix with a top-level `layout:` block of `lines` (indented two spaces).
fn with_layout(lines: &str) -> String {
    edit("tools:\n", &format!("layout:\n{lines}\ntools:\n"))
}

/// The default matrix with airgap's `operations:` block (the last one) replaced by `ops`
/// (lines indented six spaces). Airgap's block uses online's anchors; this one stands alone,
/// so a wrong value shows up once, in airgap only.
fn airgap_ops(ops: &str) -> String {
    let start = "    operations:\n      monitoring: *monitoring\n";
    let at = MATRIX.find(start).expect("airgap's operations block");
    assert!(
        MATRIX[at + start.len()..]
            .lines()
            .all(|l| l.is_empty() || l.starts_with("      ")),
        "airgap's operations block is no longer the end of the matrix"
    );
    format!("{}    operations:\n{ops}", &MATRIX[..at])
}

/// The key path of a problem location: `matrix.yaml:12:5: a.b` or `matrix.yaml: a.b` -> `a.b`.
fn key_path(location: &str) -> &str {
    let rest = location
        .strip_prefix("matrix.yaml")
        .unwrap_or_else(|| panic!("location {location:?} does not name matrix.yaml"));
    let rest = rest.strip_prefix(": ").unwrap_or(rest);
    match rest.strip_prefix(':') {
        // `:L:C: path`
        Some(lc) => lc.splitn(3, ':').nth(2).unwrap_or_default().trim_start(),
        None => rest,
    }
}

/// The problems the matrix is refused with (panics when it is accepted).
fn refusal(rule: &str, text: &str) -> Vec<Problem> {
    match deploygen::plan("matrix.yaml", text.as_bytes()) {
        Err(Error::Invalid(p)) => p,
        Err(e) => panic!("[{rule}] refused, but not as invalid input: {e:?}"),
        Ok(_) => panic!("[{rule}] the matrix was accepted; the check for this rule is off"),
    }
}

/// Checks every wanted problem is there (each matched once) and nothing else is.
fn check(rule: &str, problems: &[Problem], want: &[(&str, String)]) -> Result<(), String> {
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let mut left: Vec<&Problem> = problems.iter().collect();
    for (path, fragment) in want {
        let Some(i) = left
            .iter()
            .position(|p| key_path(&p.location) == *path && p.message.contains(fragment.as_str()))
        else {
            return Err(format!(
                "[{rule}] no problem at `{path}` saying {fragment:?}; got:\n  {}",
                shown.join("\n  ")
            ));
        };
        left.remove(i);
    }
    if !left.is_empty() {
        let extra: Vec<String> = left.iter().map(|p| p.to_string()).collect();
        return Err(format!(
            "[{rule}] unexpected problems:\n  {}",
            extra.join("\n  ")
        ));
    }
    Ok(())
}

fn run_cases(cases: Vec<Case>) {
    let mut failures = Vec::new();
    let mut rules = std::collections::BTreeSet::new();
    for c in &cases {
        assert!(rules.insert(c.rule), "rule {} has two cases", c.rule);
        assert_ne!(c.matrix, MATRIX, "[{}] the case changes nothing", c.rule);
        let problems = refusal(c.rule, &c.matrix);
        if let Err(e) = check(c.rule, &problems, &c.want) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} refusal cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn long(n: usize) -> String {
    "a".repeat(n)
}

/// Grammar and reference rules of the matrix's own fields.
fn matrix_cases() -> Vec<Case> {
    vec![
        // versions
        case(
            "version-parses",
            edit("  istio: 1.22.8\n", "  istio: one.two\n"),
            &[("versions.istio", "`one.two` is not a version (x.y.z)")],
        ),
        case(
            "version-in-catalog",
            edit("  istio: 1.22.8\n", "  istio: 1.99.0\n"),
            &[(
                "versions.istio",
                "istio 1.99.0 is not in the catalog; known versions: 1.21.6, 1.22.8",
            )],
        ),
        case(
            "version-known-bad",
            edit("  cert-manager: v1.15.5\n", "  cert-manager: v1.14.0\n"),
            &[("versions.cert-manager", "cert-manager v1.14.0 is known bad: ")],
        ),
        case(
            "knative-operator-installs",
            edit(
                "  knative-operator: v1.15.10\n",
                "  knative-operator: v1.14.9\n",
            ),
            &[(
                "versions.knative-serving",
                "[knative-operator-installs] knative-operator v1.14.9 installs Knative Serving 1.11.0 to 1.14.1, not 1.15.3",
            )],
        ),
        // registries
        case(
            "registry-host",
            edit("    - registry.k8s.io\n", "    - registry.k8s.io\n    - bad_host.io\n"),
            &[(
                "registries.upstream[6]",
                "not a registry host: `bad_host.io`: `bad_host` is not a valid host label",
            )],
        ),
        case(
            "registry-listed-once",
            edit("    - registry.k8s.io\n", "    - registry.k8s.io\n    - quay.io\n"),
            &[("registries.upstream[6]", "`quay.io` is listed twice")],
        ),
        case(
            "catalog-image-registry-listed",
            edit("    - nvcr.io\n", ""),
            &[(
                "registries.upstream",
                "catalog kserve v0.14.1: image kserve-tritonserver comes from nvcr.io, which is not listed",
            )],
        ),
        // profiles
        case(
            "profile-name",
            edit("\n  minimal:\n", "\n  Minimal:\n"),
            &[("profiles.Minimal", "`Minimal` is not a valid name (DNS-1123 label")],
        ),
        case(
            "profile-workload-known",
            edit("    istiod: {requests: {cpu: 500m", "    istiodd: {requests: {cpu: 500m"),
            &[(
                "profiles.minimal.istiodd",
                "unknown workload `istiodd` (did you mean `istiod`?); known: ",
            )],
        ),
        case(
            "profile-quantity",
            edit(
                "limits: {cpu: 500m, memory: 1Gi}}",
                "limits: {cpu: 500m, memory: 1GB}}",
            ),
            &[(
                "profiles.minimal.knative-webhook.limits.memory",
                "`1GB` is not a Kubernetes quantity",
            )],
        ),
        // environments
        case(
            "environment-present",
            format!("{}environments: {{}}\n", &MATRIX[..MATRIX.find("environments:").unwrap()]),
            &[("environments", "no environment: add at least one")],
        ),
        case(
            "environment-name",
            edit("\n  airgap:\n", "\n  Air_Gap:\n"),
            &[("environments.Air_Gap", "`Air_Gap` is not a valid name (DNS-1123 label")],
        ),
        case(
            "cluster-kubernetes-version",
            edit_env("airgap", "kubernetes: v1.28.6", "kubernetes: latest"),
            &[("environments.airgap.cluster.kubernetes", "`latest` is not a version (x.y.z)")],
        ),
        case(
            "cluster-storage-class",
            edit_env("airgap", "storage_class: astrago-nfs-csi", "storage_class: nfs_csi"),
            &[(
                "environments.airgap.cluster.storage_class",
                "`nfs_csi` is not a valid name (DNS-1123 subdomain",
            )],
        ),
        case(
            "cluster-platform-apis",
            edit_env(
                "airgap",
                "      storage_class: astrago-nfs-csi\n",
                "      storage_class: astrago-nfs-csi\n      platform_apis: [gateway.networking.k8s.io, apps/v1, monitoring.coreos.com/V1, gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1, example.com/1v]\n",
            ),
            &[
                ("environments.airgap.cluster.platform_apis[0]", "`gateway.networking.k8s.io` is not group/version (e.g. gateway.networking.k8s.io/v1)"),
                ("environments.airgap.cluster.platform_apis[1]", "`apps/v1`: `apps` is not an API group a CRD can define (a DNS-1123 subdomain with at least one dot"),
                ("environments.airgap.cluster.platform_apis[2]", "`monitoring.coreos.com/V1`: `V1` is not an API version (a DNS-1035 label"),
                ("environments.airgap.cluster.platform_apis[4]", "`gateway.networking.k8s.io/v1` is listed twice"),
                ("environments.airgap.cluster.platform_apis[5]", "`example.com/1v`: `1v` is not an API version"),
            ],
        ),
        case(
            "environment-profile-known",
            edit_env("airgap", "profile: recommended", "profile: recomended"),
            &[(
                "environments.airgap.profile",
                "unknown profile `recomended` (did you mean `recommended`?); profiles: minimal, recommended",
            )],
        ),
        case(
            "mirror-host",
            edit("mirror: 10.61.3.31:35000", "mirror: 10.61.3.31:0"),
            &[(
                "environments.airgap.mirror",
                "not a registry host[:port][/path]: `10.61.3.31:0`: port `0` is not a number from 1 to 65535",
            )],
        ),
        case(
            "mirror-path-prefix",
            edit("mirror: 10.61.3.31:35000", "mirror: 10.61.3.31:35000/a..b"),
            &[(
                "environments.airgap.mirror",
                "mirror path prefix: path component `a..b` is not valid",
            )],
        ),
        case(
            "mirror-no-collision",
            add_to_env(
                "airgap",
                "    extra_images:\n      - {image: docker.io/acme/server:v1, why: ours}\n      - {image: quay.io/acme/server:v1, why: theirs}\n",
            ),
            &[(
                "environments.airgap",
                "docker.io/acme/server:v1 and quay.io/acme/server:v1 both become 10.61.3.31:35000/acme/server:v1 in the mirror",
            )],
        ),
        case(
            "serving-runtime-known",
            edit_env("airgap", "serving_runtimes: [sklearnserver,", "serving_runtimes: [sklearnserver, sklernserver,"),
            &[(
                "environments.airgap.serving_runtimes[1]",
                "unknown serving runtime `sklernserver` (did you mean `sklearnserver`?); known: ",
            )],
        ),
        case(
            "serving-runtime-listed-once",
            edit_env("airgap", "serving_runtimes: [sklearnserver,", "serving_runtimes: [torchserve, sklearnserver,"),
            &[("environments.airgap.serving_runtimes[3]", "`torchserve` is listed twice")],
        ),
        case(
            "extra-image-list",
            add_to_env("airgap", "    extra_images:\n      - {image: docker.io/acme/server:v1, list: Team_A, why: ours}\n"),
            &[("environments.airgap.extra_images[0].list", "`Team_A` is not a valid name (DNS-1123 label")],
        ),
        case(
            "extra-image-why",
            add_to_env("airgap", "    extra_images:\n      - {image: docker.io/acme/server:v1, why: \" \"}\n"),
            &[("environments.airgap.extra_images[0].why", "say why the image is needed")],
        ),
        case(
            "extra-image-reference",
            add_to_env("airgap", "    extra_images:\n      - {image: docker.io/acme/server:latest, why: ours}\n"),
            &[(
                "environments.airgap.extra_images[0].image",
                "`docker.io/acme/server:latest` uses the tag `latest`",
            )],
        ),
        case(
            "accept-rule-known",
            add_to_env("airgap", "    accept:\n      - {rule: kserve-recomended-istio, reason: tested}\n"),
            &[(
                "environments.airgap.accept[0].rule",
                "unknown rule `kserve-recomended-istio` (did you mean `kserve-recommended-istio`?)",
            )],
        ),
        case(
            "accept-reason",
            add_to_env("airgap", "    accept:\n      - {rule: kserve-recommended-istio, reason: \"\"}\n"),
            &[("environments.airgap.accept[0].reason", "an accepted rule needs a written reason")],
        ),
        // compatibility rules (compat.rs verdicts at level Fail)
        case(
            "component-kubernetes-range",
            edit_env("airgap", "kubernetes: v1.28.6", "kubernetes: v1.27.3"),
            &[
                ("environments.airgap", "[kserve-kubernetes] kserve v0.14.1 needs Kubernetes >= 1.28; environment airgap runs v1.27.3"),
                ("environments.airgap", "[knative-serving-kubernetes] knative-serving 1.15.3 needs Kubernetes >= 1.28"),
            ],
        ),
        case(
            "requires-min-version",
            edit("  cert-manager: v1.15.5\n", "  cert-manager: v1.14.7\n"),
            &[
                ("environments.online", "[kserve-min-cert-manager] kserve v0.14.1 needs cert-manager >= 1.15.0; environment online pins cert-manager v1.14.7"),
                ("environments.airgap", "[kserve-min-cert-manager] kserve v0.14.1 needs cert-manager >= 1.15.0; environment airgap pins cert-manager v1.14.7"),
            ],
        ),
        // operations: monitoring
        case(
            "monitoring-namespace",
            airgap_ops("      monitoring: {prometheus: true, namespace: Monitoring}\n"),
            &[("environments.airgap.operations.monitoring.namespace", "`Monitoring` is not a valid name")],
        ),
        case(
            "selector-label-key",
            airgap_ops("      monitoring: {prometheus: true, selector_labels: {\"-release\": x}}\n"),
            &[("environments.airgap.operations.monitoring.selector_labels", "`-release` is not a valid label key")],
        ),
        case(
            "selector-label-key-prefix",
            airgap_ops("      monitoring: {prometheus: true, selector_labels: {\"Example.com/release\": x}}\n"),
            &[(
                "environments.airgap.operations.monitoring.selector_labels",
                "label key prefix: `Example.com` is not a valid name (DNS-1123 subdomain",
            )],
        ),
        case(
            "selector-label-value",
            airgap_ops("      monitoring: {prometheus: true, selector_labels: {release: \"kube prometheus\"}}\n"),
            &[("environments.airgap.operations.monitoring.selector_labels", "`kube prometheus` is not a valid label value")],
        ),
        case(
            "dashboard-label-key",
            airgap_ops("      monitoring: {grafana_dashboards: true, dashboard_labels: {\"grafana/\": \"1\"}}\n"),
            &[("environments.airgap.operations.monitoring.dashboard_labels", "`grafana/` is not a valid label key")],
        ),
        // operations: access control
        case(
            "binding-group-blank",
            airgap_ops("      access_control: {roles: true, bindings: [{group: \" \", role: admin}]}\n"),
            &[("environments.airgap.operations.access_control.bindings[0].group", "` ` is not a group name (1 to 253 printable characters)")],
        ),
        case(
            "binding-group-control-character",
            airgap_ops("      access_control: {roles: true, bindings: [{group: \"ops\\u0007\", role: admin}]}\n"),
            &[("environments.airgap.operations.access_control.bindings[0].group", "`ops\\u{7}` is not a group name")],
        ),
        case(
            "binding-group-length",
            airgap_ops(&format!("      access_control: {{roles: true, bindings: [{{group: {}, role: admin}}]}}\n", long(254))),
            &[("environments.airgap.operations.access_control.bindings[0].group", "is not a group name (1 to 253 printable characters)")],
        ),
        case(
            "binding-namespace",
            airgap_ops("      access_control: {roles: true, bindings: [{group: ops, role: viewer, namespace: Team}]}\n"),
            &[("environments.airgap.operations.access_control.bindings[0].namespace", "`Team` is not a valid name")],
        ),
        case(
            "bindings-need-roles",
            airgap_ops("      access_control: {roles: false, bindings: [{group: ops, role: viewer}]}\n"),
            &[("environments.airgap.operations.access_control.roles", "bindings refer to the kserve-* ClusterRoles: set roles: true")],
        ),
        // operations: TLS, each arm of the issuer match
        case(
            "tls-domain",
            airgap_ops("      tls: {issuer: self-signed-ca, domain: Models.local}\n"),
            &[("environments.airgap.operations.tls.domain", "`Models.local` is not a valid name (DNS-1123 subdomain")],
        ),
        case(
            "tls-external-needs-issuer",
            airgap_ops("      tls: {issuer: external}\n"),
            &[("environments.airgap.operations.tls.external_issuer", "issuer: external needs external_issuer")],
        ),
        case(
            "tls-external-issuer-name",
            airgap_ops("      tls: {issuer: external, external_issuer: Acme_Issuer}\n"),
            &[("environments.airgap.operations.tls.external_issuer", "`Acme_Issuer` is not a valid name (DNS-1123 subdomain")],
        ),
        case(
            "tls-external-issuer-only-with-external-self-signed",
            airgap_ops("      tls: {issuer: self-signed-ca, external_issuer: acme}\n"),
            &[("environments.airgap.operations.tls.external_issuer", "only used with issuer: external")],
        ),
        case(
            "tls-external-issuer-only-with-external-none",
            airgap_ops("      tls: {issuer: none, external_issuer: acme}\n"),
            &[("environments.airgap.operations.tls.external_issuer", "only used with issuer: external")],
        ),
        case(
            "tls-https-needs-issuer",
            airgap_ops("      tls: {issuer: none, https: true}\n"),
            &[("environments.airgap.operations.tls.https", "HTTPS needs a certificate: set issuer to self-signed-ca or external")],
        ),
        // layout: where the tree goes (Astrago's repository has its own shape)
        case(
            "layout-path-relative",
            with_layout("  charts: /srv/charts\n"),
            &[("layout.charts", "`/srv/charts` is absolute; write it relative to the repository root")],
        ),
        case(
            "layout-path-plain",
            with_layout("  image_lists: ../lists\n"),
            &[("layout.image_lists", "`../lists`: `..` is not a plain folder or file name")],
        ),
        case(
            "layout-helmfile-yaml",
            with_layout("  helmfile: helmfile.yml\n"),
            &[("layout.helmfile", "a helmfile is named *.yaml (or *.yaml.gotmpl)")],
        ),
        case(
            "layout-parent-not-self",
            with_layout("  parent: {helmfile: helmfile.yaml}\n"),
            &[("layout.parent.helmfile", "the parent helmfile is the stack's own helmfile")],
        ),
        case(
            "layout-parent-excludes-only-others",
            with_layout("  helmfile: stack/helmfile.yaml\n  parent:\n    helmfile: helmfile.yaml\n    excluded_environments:\n      - {environment: dev, reason: no GPUs}\n      - {environment: online, reason: no GPUs}\n"),
            &[(
                "layout.parent.excluded_environments[1].environment",
                "`online` is an environment of the matrix, so it is not excluded",
            )],
        ),
        case(
            "layout-parent-exclusion-reason",
            with_layout("  helmfile: stack/helmfile.yaml\n  parent:\n    helmfile: helmfile.yaml\n    excluded_environments: [{environment: dev, reason: \"  \"}]\n"),
            &[(
                "layout.parent.excluded_environments[0].reason",
                "say why the environment goes without the stack",
            )],
        ),
        // tools: a chart defect's workaround must be within the site's tools
        case(
            "tools-defect-workaround",
            edit("  helmfile: 1.1.6\n", "  helmfile: 0.171.0\n"),
            &[("tools.helmfile", "whose workaround needs helmfile >= 1.0.0")],
        ),
        case(
            "tools-version",
            edit("  helmfile: 1.1.6\n", "  helmfile: newest\n"),
            &[("tools.helmfile", "`newest` is not a version")],
        ),
        // operations: smoke tests
        case(
            "smoke-test-namespace",
            airgap_ops("      smoke_tests: {enabled: true, namespace: Tests}\n"),
            &[("environments.airgap.operations.smoke_tests.namespace", "`Tests` is not a valid name")],
        ),
        case(
            "smoke-test-volume-size",
            airgap_ops("      smoke_tests: {enabled: true, volume_size: 10GB}\n"),
            &[("environments.airgap.operations.smoke_tests.volume_size", "`10GB` is not a Kubernetes quantity")],
        ),
    ]
}

#[test]
fn every_matrix_rule_refuses_its_bad_input_with_its_message() {
    run_cases(matrix_cases());
}

/// The boundary of each length and shape rule is on the accepted side: what the refusals above
/// refuse is exactly the step over the line, not a neighbour of it.
#[test]
fn values_at_the_edge_of_each_rule_are_accepted() {
    let accepted = [
        (
            "binding group of 253 characters",
            airgap_ops(&format!(
                "      access_control: {{roles: true, bindings: [{{group: {}, role: admin}}]}}\n",
                long(253)
            )),
        ),
        (
            "prefixed label key and empty label value",
            airgap_ops("      monitoring: {prometheus: true, selector_labels: {\"app.kubernetes.io/part-of\": \"\"}}\n"),
        ),
        (
            // Absent blocks mean their defaults (namespace `monitoring`, domain `example.com`,
            // smoke tests in `kserve-test` with 10Gi), all switched off: never empty names.
            "an environment without operations",
            MATRIX[..MATRIX.find("    operations:\n      monitoring: *monitoring").unwrap()].to_string(),
        ),
        (
            "an operations block with only tls",
            airgap_ops("      tls: {issuer: self-signed-ca, https: true, domain: models.astrago.local}\n"),
        ),
        (
            "the oldest helmfile the gateway defect's workaround works with",
            edit("  helmfile: 1.1.6\n", "  helmfile: 1.0.0\n"),
        ),
        (
            "a helmfile of .yaml.gotmpl under a parent that excludes another environment",
            with_layout("  helmfile: stack/helmfile.yaml.gotmpl\n  parent:\n    helmfile: helmfile.yaml\n    excluded_environments: [{environment: dev, reason: no GPUs}]\n"),
        ),
        (
            "platform APIs of a CRD group, versions alpha to GA",
            edit_env(
                "airgap",
                "      storage_class: astrago-nfs-csi\n",
                "      storage_class: astrago-nfs-csi\n      platform_apis: [gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1alpha2, a.b/v1beta1]\n",
            ),
        ),
        (
            "issuer none without https",
            airgap_ops("      tls: {issuer: none}\n"),
        ),
        (
            "mirror with a path prefix",
            // A host name: airgap's egress policy then needs the mirror's address.
            edit("mirror: 10.61.3.31:35000", "mirror: harbor.local:443/astrago").replacen(
                "        api_server_port: 6443\n",
                "        api_server_port: 6443\n        mirror_cidr: 10.61.3.31/32\n",
                1,
            ),
        ),
        (
            "two extra images from different registries on different paths",
            add_to_env(
                "airgap",
                "    extra_images:\n      - {image: docker.io/acme/server:v1, why: ours}\n      - {image: quay.io/acme/server:v2, why: theirs}\n",
            ),
        ),
    ];
    for (what, text) in accepted {
        if let Err(e) = deploygen::plan("matrix.yaml", text.as_bytes()) {
            panic!("{what}: refused:\n{e}");
        }
    }
}

/// The same image from one registry listed twice in the mirror is one image, not a collision.
#[test]
fn the_same_source_twice_is_not_a_mirror_collision() {
    let text = add_to_env(
        "airgap",
        "    extra_images:\n      - {image: docker.io/acme/server:v1, why: ours}\n      - {image: docker.io/acme/server:v1, list: other, why: again}\n",
    );
    deploygen::plan("matrix.yaml", text.as_bytes()).expect("accepted");
}

// ---- rules about catalog facts: the catalog is broken on purpose --------------------------

fn matrix() -> deploygen::model::matrix::Matrix {
    deploygen::model::matrix::parse("matrix.yaml", MATRIX.as_bytes())
        .expect("the default matrix parses")
}

/// The problems `validate::build` reports for the default matrix against `catalog`.
fn catalog_refusal(rule: &str, catalog: &Catalog) -> Vec<Problem> {
    match deploygen::plan::resolve::build("matrix.yaml", matrix(), catalog) {
        Err(Error::Invalid(p)) => p,
        Err(e) => panic!("[{rule}] refused, but not as invalid input: {e:?}"),
        Ok(_) => panic!("[{rule}] accepted; the check for this rule is off"),
    }
}

/// The pinned version entry of `component` in the default matrix.
fn pinned<'a>(
    catalog: &'a mut Catalog,
    component: &str,
) -> &'a mut deploygen::catalog::ComponentVersion {
    let m = matrix();
    let version = m.versions.get(component).expect("pinned").to_string();
    catalog
        .components
        .get_mut(component)
        .and_then(|v| v.get_mut(&version))
        .expect("in the catalog")
}

fn image<'a>(
    catalog: &'a mut Catalog,
    component: &str,
    id: &str,
) -> &'a mut deploygen::catalog::CatalogImage {
    pinned(catalog, component)
        .releases
        .iter_mut()
        .flat_map(|r| r.images.iter_mut())
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no image {id} in {component}"))
}

fn catalog_case(
    rule: &str,
    break_it: impl FnOnce(&mut Catalog),
    want: &[(&str, &str)],
) -> Result<(), String> {
    let mut catalog = Catalog::load().expect("catalog");
    deploygen::plan::resolve::build("matrix.yaml", matrix(), &catalog)
        .unwrap_or_else(|e| panic!("[{rule}] the unbroken catalog is refused: {e}"));
    break_it(&mut catalog);
    let problems = catalog_refusal(rule, &catalog);
    let want: Vec<(&str, String)> = want.iter().map(|(p, m)| (*p, m.to_string())).collect();
    check(rule, &problems, &want)
}

#[test]
fn every_catalog_rule_refuses_a_broken_catalog_fact() {
    let results = [
        catalog_case(
            "catalog-image-reference",
            |c| image(c, "cert-manager", "cert-manager-controller").reference = "quay.io/jetstack/cert-manager-controller:latest".into(),
            &[("versions", "catalog cert-manager v1.15.5: image cert-manager-controller: `quay.io/jetstack/cert-manager-controller:latest` uses the tag `latest`")],
        ),
        catalog_case(
            "catalog-image-set-somewhere",
            |c| image(c, "cert-manager", "cert-manager-controller").set.clear(),
            &[("versions", "catalog cert-manager v1.15.5: image cert-manager-controller says nowhere where it is set")],
        ),
        catalog_case(
            "catalog-digest-not-through-tag-key",
            |c| {
                let img = image(c, "cert-manager", "cert-manager-controller");
                img.reference = format!("quay.io/jetstack/cert-manager-controller@sha256:{}", "a".repeat(64));
                assert!(matches!(img.set[0], SetAt::Values(ValuesKeys::RepositoryTag { .. })));
            },
            &[("versions", "catalog cert-manager v1.15.5: image cert-manager-controller is pinned by digest but set through a tag key")],
        ),
        catalog_case(
            "catalog-tag-and-digest-not-through-tag-key",
            |c| {
                let img = image(c, "cert-manager", "cert-manager-controller");
                img.reference = format!("quay.io/jetstack/cert-manager-controller:v1.15.5@sha256:{}", "a".repeat(64));
            },
            &[("versions", "image cert-manager-controller is pinned by digest but set through a tag key")],
        ),
        catalog_case(
            "catalog-digest-not-through-hub",
            |c| {
                let img = image(c, "istio", "istio-pilot");
                assert!(matches!(img.set[0], SetAt::Hub { .. }), "{:?}", img.set);
                img.reference = format!("docker.io/istio/pilot@sha256:{}", "b".repeat(64));
            },
            &[
                ("versions", "catalog istio 1.22.8: image istio-pilot is pinned by digest but set through a tag key"),
                // What the check prevents: the hub's tag would be empty for one image only.
                ("environments.online", "images of istiod disagree on global.hub/global.tag: (\"docker.io/istio\", \"\") vs (\"docker.io/istio\", \"1.22.8\")"),
                ("environments.airgap", "images of istiod disagree on global.hub/global.tag"),
            ],
        ),
        catalog_case(
            "catalog-hub-images-agree",
            |c| image(c, "istio", "istio-pilot").reference = "docker.io/istio/pilot:1.22.7".into(),
            &[
                ("environments.online", "images of istiod disagree on "),
                ("environments.airgap", "images of istiod disagree on "),
            ],
        ),
        catalog_case(
            "catalog-kubernetes-range",
            |c| pinned(c, "istio").kubernetes.min = "one".into(),
            &[
                ("versions.istio", "catalog range: `one` is not a major.minor version"),
                // Istio's releases are left out, so what needs them or sizes them is refused too.
                ("versions", "release knative-serving/knative-serving needs istio-system/istio-ingressgateway, which no pinned component defines"),
                ("versions", "release kserve/kserve needs istio-system/istio-ingressgateway, which no pinned component defines"),
                ("profiles.minimal.istiod", "unknown workload `istiod`"),
                ("profiles.minimal.istio-ingressgateway", "unknown workload `istio-ingressgateway`"),
                ("profiles.recommended.istiod", "unknown workload `istiod`"),
                ("profiles.recommended.istio-ingressgateway", "unknown workload `istio-ingressgateway`"),
            ],
        ),
        catalog_case(
            "catalog-needs-resolve",
            |c| pinned(c, "kserve").releases[0].needs.push("nowhere/nothing".into()),
            &[("versions", "needs nowhere/nothing, which no pinned component defines")],
        ),
        catalog_case(
            "catalog-needs-acyclic",
            |c| {
                let kserve = pinned(c, "kserve").releases.last().expect("kserve release");
                let id = format!("{}/{}", kserve.namespace, kserve.name);
                pinned(c, "cert-manager").releases[0].needs.push(id);
            },
            &[("versions", "needs form a cycle among ")],
        ),
        catalog_case(
            "catalog-release-ids-unique",
            |c| {
                let first = pinned(c, "cert-manager").releases[0].clone();
                pinned(c, "kserve").releases.push(first);
            },
            &[("versions", "two releases share one namespace/name")],
        ),
        catalog_case(
            "catalog-operator-serving-span-max",
            |c| {
                let installs = pinned(c, "knative-operator").installs.as_mut().expect("installs");
                installs.serving.max = semver::Version::new(1, 15, 2);
            },
            &[("versions.knative-serving", "[knative-operator-installs] knative-operator v1.15.10 installs Knative Serving 1.12.0 to 1.15.2, not 1.15.3")],
        ),
        catalog_case(
            "catalog-operator-serving-span-min",
            |c| {
                let installs = pinned(c, "knative-operator").installs.as_mut().expect("installs");
                installs.serving.min = semver::Version::new(1, 15, 4);
            },
            &[("versions.knative-serving", "[knative-operator-installs] knative-operator v1.15.10 installs Knative Serving 1.15.4 to 1.15.3, not 1.15.3")],
        ),
        catalog_case(
            "catalog-operator-bundles-net-istio",
            |c| {
                pinned(c, "knative-operator")
                    .installs
                    .as_mut()
                    .expect("installs")
                    .net_istio
                    .remove("1.15");
            },
            &[("versions.knative-serving", "[knative-operator-installs] knative-operator v1.15.10 installs Knative Serving 1.12.0 to 1.15.3, not 1.15.3")],
        ),
    ];
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// net-istio is bundled per Serving minor: with the operator at 1.15 and Serving at 1.14 the
/// images are the 1.14 build's, never the operator's own minor's.
#[test]
fn net_istio_images_follow_the_serving_minor_not_the_operator_minor() {
    let text = edit("  knative-serving: 1.15.3\n", "  knative-serving: 1.14.1\n");
    assert!(text.contains("knative-operator: v1.15.10"));
    let plan = deploygen::plan("matrix.yaml", text.as_bytes())
        .expect("operator 1.15 installs serving 1.14");
    let catalog = Catalog::load().expect("catalog");
    let installs = catalog
        .get("knative-operator", "v1.15.10")
        .and_then(|c| c.installs.clone())
        .expect("installs");
    let want = |minor: &str| -> Vec<String> {
        installs.net_istio[minor]
            .images
            .iter()
            .map(|i| i.reference.clone())
            .collect()
    };
    assert_ne!(
        want("1.14"),
        want("1.15"),
        "the two builds differ, or the test proves nothing"
    );
    let serving = plan
        .releases
        .iter()
        .find(|r| r.name == "knative-serving")
        .expect("release");
    let got: Vec<String> = serving
        .images
        .iter()
        .filter(|i| i.id.starts_with("net-istio"))
        .map(|i| i.reference.clone())
        .collect();
    assert_eq!(got, want("1.14"));
    let online = plan
        .environments
        .iter()
        .find(|e| e.name == "online")
        .expect("online");
    let planned: Vec<String> = online
        .images
        .iter()
        .filter(|i| i.id.starts_with("net-istio"))
        .map(|i| i.source.to_string())
        .collect();
    assert_eq!(planned, want("1.14"));
}

/// A refusal shows the first 100 problems, located, and then a note with how many more.
#[test]
fn at_most_100_problems_are_shown_then_a_note_says_how_many_more() {
    let with_bad_lists = |n: usize| {
        let items: String = (0..n)
            .map(|i| format!("      - {{image: docker.io/acme/s{i}:v1, list: Bad_{i}, why: x}}\n"))
            .collect();
        add_to_env("airgap", &format!("    extra_images:\n{items}"))
    };
    let problems = refusal("max-reported", &with_bad_lists(100));
    assert_eq!(problems.len(), 100, "exactly 100: no note");
    assert!(problems
        .iter()
        .all(|p| p.location != deploygen::base::error::NOTE));

    let problems = refusal("max-reported", &with_bad_lists(103));
    assert_eq!(problems.len(), 101, "100 problems and the note");
    let note = problems.last().expect("a note");
    assert_eq!(note.location, deploygen::base::error::NOTE);
    assert_eq!(note.message, "3 more problems not shown; fix these first");
    // The shown ones are the first ones, located by line.
    assert!(
        problems[0]
            .location
            .strip_prefix("matrix.yaml:")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            && key_path(&problems[0].location) == "environments.airgap.extra_images[0].list",
        "{:?}",
        problems[0]
    );
    assert_eq!(
        key_path(&problems[99].location),
        "environments.airgap.extra_images[99].list"
    );
}
