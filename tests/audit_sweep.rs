//! Mistakes found by a sweep of planted mistakes over the real render of environment airgap
//! (`common::real`, rendered with the upstream charts when the tests run) that the audit let
//! through before `src/audit/validity.rs` and the checks beside it: each test plants one in
//! the real render and asserts the located finding, and the clean render (and harmless edits
//! of it) stays clean.

mod common;

use deploygen::audit::{self, report::Severity};

fn render() -> &'static str {
    common::real::airgap()
}

use common::real::audit_airgap as run;

/// The real render with `from` (which occurs exactly `count` times) replaced by `to` once,
/// at the occurrence that follows `after` (which occurs once).
fn plant_after(after: &str, from: &str, to: &str) -> String {
    let r = render();
    assert_eq!(r.matches(after).count(), 1, "`{after}` occurs once");
    let at = r.find(after).expect("anchor") + after.len();
    let rel = r[at..].find(from).expect("`from` after the anchor");
    format!("{}{}{}", &r[..at + rel], to, &r[at + rel + from.len()..])
}

fn plant(from: &str, to: &str) -> String {
    assert_eq!(render().matches(from).count(), 1, "`{from}` occurs once");
    render().replacen(from, to, 1)
}

/// `check object path: message` of every failure.
fn failures(a: &audit::Audit) -> Vec<String> {
    a.findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .map(|f| format!("{} {} {}: {}", f.check, f.object, f.path, f.message))
        .collect()
}

/// Exactly one failure, starting with `at` and containing `needle`; and it names a line.
fn assert_one(a: &audit::Audit, at: &str, needle: &str) {
    let f = failures(a);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].starts_with(at), "{f:#?}");
    assert!(f[0].contains(needle), "{f:#?}");
    let finding = a
        .findings
        .iter()
        .find(|f| f.severity == Severity::Fail)
        .expect("one");
    assert!(
        finding
            .source
            .as_deref()
            .is_some_and(|s| s.contains("input line")),
        "{finding:?}"
    );
}

#[test]
fn the_real_render_and_harmless_edits_of_it_stay_clean() {
    assert_eq!(failures(&run(render())), Vec::<String>::new());
    let harmless = [
        // A second, block-style DNS port list: the same rule.
        plant_after(
            "  name: allow-egress-dns\n  namespace: cert-manager\n",
            "        - {port: 53, protocol: UDP}\n",
            "        - port: 53\n          protocol: UDP\n",
        ),
        // A volume mounted twice, under another path.
        plant(
            "        - mountPath: /tmp/k8s-webhook-server/serving-certs\n",
            "        - mountPath: /tmp/certs\n          name: cert\n        - mountPath: /tmp/k8s-webhook-server/serving-certs\n",
        ),
        // A binding to a Group, and the HPA at the same target with another max.
        plant_after(
            "  name: kserve-proxy-rolebinding\n",
            "subjects:\n",
            "subjects:\n- kind: Group\n  name: ml-team\n  apiGroup: rbac.authorization.k8s.io\n",
        ),
        plant_after(
            "kind: HorizontalPodAutoscaler\nmetadata:\n  name: istiod\n",
            "maxReplicas: 5",
            "maxReplicas: 10",
        ),
    ];
    for text in &harmless {
        assert_eq!(failures(&run(text)), Vec::<String>::new());
    }
}

#[test]
fn a_binding_the_api_server_refuses_is_caught() {
    let a = run(&plant_after(
        "  name: kserve-proxy-rolebinding\n",
        "  apiGroup: rbac.authorization.k8s.io\n",
        "  apiGroup: rbac.k8s.io\n",
    ));
    assert_one(
        &a,
        "refs ClusterRoleBinding kserve-proxy-rolebinding roleRef.apiGroup:",
        "set roleRef.apiGroup: rbac.authorization.k8s.io",
    );
    let a = run(&plant_after(
        "  name: kserve-proxy-rolebinding\n",
        "- kind: ServiceAccount\n",
        "- kind: ServiceAcount\n",
    ));
    assert_one(
        &a,
        "refs ClusterRoleBinding kserve-proxy-rolebinding subjects[0].kind:",
        "ServiceAccount, User or Group",
    );
}

#[test]
fn a_subject_in_a_namespace_nothing_creates_is_caught() {
    let a = run(&plant_after(
        "  name: istiod-clusterrole-istio-system\n  labels:\n    app: istiod\n    release: istiod\nroleRef",
        "    namespace: istio-system\n",
        "    namespace: istio\n",
    ));
    assert_one(
        &a,
        "refs ClusterRoleBinding istiod-clusterrole-istio-system subjects[0].namespace:",
        "binds ServiceAccount istio/istiod, in namespace istio, which nothing creates",
    );
}

#[test]
fn a_mount_of_a_volume_the_pod_does_not_define_is_caught() {
    let a = run(&plant(
        "        - mountPath: /tmp/k8s-webhook-server/serving-certs\n          name: cert\n",
        "        - mountPath: /tmp/k8s-webhook-server/serving-certs\n          name: certs\n",
    ));
    assert_one(
        &a,
        "refs Deployment kserve/kserve-controller-manager spec.template.spec.containers[manager].volumeMounts[0].name:",
        "mounts volume \"certs\", which spec.template.spec.volumes does not define (it has: cert)",
    );
}

#[test]
fn an_autoscaler_target_at_an_api_the_cluster_does_not_serve_is_caught() {
    let a = run(&plant_after(
        "kind: HorizontalPodAutoscaler\nmetadata:\n  name: istiod\n",
        "    apiVersion: apps/v1\n",
        "    apiVersion: apps/v1beta1\n",
    ));
    assert_one(
        &a,
        "refs HorizontalPodAutoscaler istio-system/istiod spec.scaleTargetRef.apiVersion:",
        "apps/v1beta1 Deployment is not served by Kubernetes 1.28",
    );
}

#[test]
fn a_cluster_issuer_whose_ca_secret_nothing_writes_is_caught() {
    // The ClusterIssuer names another Secret ...
    let a = run(&plant_after(
        "kind: ClusterIssuer\nmetadata:\n  name: \"astrago-ca\"\n",
        "    secretName: astrago-ca\n",
        "    secretName: astrago-ca-tls\n",
    ));
    assert_one(
        &a,
        "refs ClusterIssuer astrago-ca spec.ca.secretName:",
        "names Secret cert-manager/astrago-ca-tls",
    );
    // ... or the CA Certificate writes another one.
    let a = run(&plant_after(
        "kind: Certificate\nmetadata:\n  name: astrago-ca\n",
        "  secretName: astrago-ca\n",
        "  secretName: astrago-ca-secret\n",
    ));
    assert_one(
        &a,
        "refs ClusterIssuer astrago-ca spec.ca.secretName:",
        "names Secret cert-manager/astrago-ca",
    );
}

#[test]
fn dns_egress_without_udp_is_caught() {
    let a = run(&plant_after(
        "  name: allow-egress-dns\n  namespace: kserve\n",
        "{port: 53, protocol: UDP}",
        "{port: 5353, protocol: UDP}",
    ));
    let f = failures(&a);
    assert!(!f.is_empty(), "{f:#?}");
    assert!(
        f.iter().all(|l| l.starts_with("egress Deployment kserve/")
            && l.contains("DNS (UDP port 53) is not allowed")),
        "{f:#?}"
    );
}
