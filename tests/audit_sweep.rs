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

/// Every failure starts with one of `at` and contains `needle`; there is at least one, and
/// each names a line.
fn assert_all(a: &audit::Audit, at: &[&str], needle: &str) {
    let f = failures(a);
    assert!(!f.is_empty(), "no failure");
    for l in &f {
        assert!(at.iter().any(|p| l.starts_with(p)), "{f:#?}");
        assert!(l.contains(needle), "{f:#?}");
    }
    assert!(a
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .all(|f| f
            .source
            .as_deref()
            .is_some_and(|s| s.contains("input line"))));
}

/// The render with `doc` appended as one more document.
fn with(doc: &str) -> String {
    format!("{}\n---\n{doc}", render().trim_end())
}

// What the Knative Operator runs (src/audit/stand_ins.rs): its Deployments, Services and
// ServiceAccounts stand in where its manifests are not given.

#[test]
fn the_operators_workloads_are_judged_and_harmless_edits_around_them_stay_clean() {
    let harmless = [
        // The webhook policy admits one more port.
        plant_after(
            "  name: allow-webhooks-from-api-server\n  namespace: knative-serving\n",
            "{port: 8443, protocol: TCP}",
            "{port: 8443, protocol: TCP}\n        - {port: 9443, protocol: TCP}",
        ),
        // A PERMISSIVE namespace policy, and a STRICT activator one that keeps the scraped
        // port PERMISSIVE.
        with("apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: knative-serving\nspec:\n  mtls:\n    mode: PERMISSIVE\n"),
        with("apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: activator\n  namespace: knative-serving\nspec:\n  selector:\n    matchLabels:\n      app: activator\n  mtls:\n    mode: STRICT\n  portLevelMtls:\n    9090:\n      mode: PERMISSIVE\n"),
        // A binding to the operator's own ServiceAccount, a PDB of its webhook.
        with("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: serving-controller-view\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n  - kind: ServiceAccount\n    name: controller\n    namespace: knative-serving\n"),
        with("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: extra-webhook-pdb\n  namespace: knative-serving\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: webhook\n"),
        // The revisions' PodMonitor scrapes the autoscaler's port too.
        plant(
            "    - port: http-usermetric\n",
            "    - port: http-usermetric\n    - port: http-autometric\n",
        ),
    ];
    for text in &harmless {
        assert_eq!(failures(&run(text)), Vec::<String>::new());
    }
}

#[test]
fn a_monitor_port_the_operators_or_the_revisions_pods_do_not_declare_is_caught() {
    let a = run(&plant(
        "    - port: metrics\n      interval: 30s\n",
        "    - port: metric\n      interval: 30s\n",
    ));
    assert_all(
        &a,
        &["wiring PodMonitor knative-serving/knative-serving-control-plane spec.podMetricsEndpoints[0].port:"],
        "names port `metric`, which no container of Deployment knative-serving/",
    );
    let a = run(&plant(
        "    - port: http-usermetric\n",
        "    - port: http-usermetrics\n",
    ));
    assert_one(
        &a,
        "wiring PodMonitor knative-serving/knative-queue-proxy spec.podMetricsEndpoints[0].port:",
        "which no container of the Knative revision pods it selects declares",
    );
}

#[test]
fn the_operators_webhooks_and_egress_not_admitted_are_caught() {
    let a = run(&plant_after(
        "  name: allow-webhooks-from-api-server\n  namespace: knative-serving\n",
        "{port: 8443, protocol: TCP}",
        "{port: 9443, protocol: TCP}",
    ));
    assert_all(
        &a,
        &[
            "network Service knative-serving/webhook spec.ports[2]:",
            "network Service knative-serving/net-istio-webhook spec.ports[2]:",
        ],
        "-> 8443 on Deployment knative-serving/",
    );
    let a = run(&plant_after(
        "  name: allow-egress-istio\n  namespace: knative-serving\n",
        "        - {port: 15012, protocol: TCP}\n",
        "",
    ));
    assert_one(
        &a,
        "egress Deployment knative-serving/activator :",
        "xDS to istiod (Deployment istio-system/istiod port 15012) is not allowed",
    );
}

#[test]
fn strict_mtls_over_the_activators_scraped_port_is_caught() {
    for ns in ["knative-serving", "istio-system"] {
        let a = run(&with(&format!("apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n  mtls:\n    mode: STRICT\n")));
        assert_one(
            &a,
            "mesh PodMonitor knative-serving/knative-serving-control-plane spec.podMetricsEndpoints[0].port:",
            "scrapes port 9090 of Deployment knative-serving/activator, which is STRICT mTLS",
        );
    }
}

#[test]
fn references_into_the_operators_namespace_are_judged() {
    let a = run(&with("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: serving-extra\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n  - kind: ServiceAccount\n    name: operator-webhook\n    namespace: knative-serving\n"));
    assert_one(
        &a,
        "refs ClusterRoleBinding serving-extra subjects[0]:",
        "binds ServiceAccount knative-serving/operator-webhook, which is not rendered",
    );
    let a = run(&with("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: controller\n  namespace: knative-serving\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: controllers\n  minReplicas: 1\n  maxReplicas: 3\n"));
    assert_one(
        &a,
        "refs HorizontalPodAutoscaler knative-serving/controller spec.scaleTargetRef:",
        "scales Deployment knative-serving/controllers, which is not rendered",
    );
}

// Fields a CRD's schema prunes (src/audit/schema.rs).

#[test]
fn a_field_the_crds_schema_prunes_is_caught() {
    // The render with its CRDs (the schemas are theirs).
    let whole = common::real::airgap_whole();
    let edit = |from: &str, to: &str| {
        assert_eq!(whole.matches(from).count(), 1, "`{from}` occurs once");
        whole.replacen(from, to, 1)
    };
    assert_eq!(failures(&run(&whole)), Vec::<String>::new());
    let gateway = "      knative-ingress-gateway:\n        selector:\n          istio: ingressgateway\n        servers:\n";
    let a = run(&edit(
        gateway,
        &gateway.replace("knative-ingress-gateway", "knative-ingress-gw"),
    ));
    assert_one(
        &a,
        "api KnativeServing knative-serving/knative-serving spec.ingress.istio.knative-ingress-gw:",
        "fields here: enabled, knative-ingress-gateway, knative-local-gateway",
    );
    let cert = "  name: ingress-gateway\n  namespace: istio-system\nspec:\n  secretName: \"astrago-ingress-tls\"\n";
    let a = run(&edit(cert, &format!("{cert}  dnsName: [x]\n")));
    assert_one(
        &a,
        "api Certificate istio-system/ingress-gateway spec.dnsName:",
        "the API server prunes it",
    );
    // A field the schema has stays clean.
    let ok = edit(cert, &format!("{cert}  usages:\n    - server auth\n"));
    assert_eq!(failures(&run(&ok)), Vec::<String>::new());
}

// KServe's ingress config names Services and an IngressClass (src/audit/kserve_ingress.rs).

#[test]
fn kserve_ingress_services_and_class_that_do_not_exist_are_caught() {
    // The `ingress` key of the data (its `_example` holds the same text, indented).
    let ingress = "\n  ingress: |-\n";
    let a = run(&plant_after(
        ingress,
        "\"knative-local-gateway.istio-system.svc.cluster.local\"",
        "\"knative-local-gateway.knative-serving.svc.cluster.local\"",
    ));
    assert_one(
        &a,
        "refs ConfigMap kserve/inferenceservice-config data.ingress.localGatewayService:",
        "names Service knative-serving/knative-local-gateway",
    );
    let a = run(&plant_after(
        ingress,
        "\"ingressClassName\" : \"istio\"",
        "\"ingressClassName\" : \"istoi\"",
    ));
    assert_one(
        &a,
        "refs ConfigMap kserve/inferenceservice-config data.ingress.ingressClassName:",
        "is \"istoi\", which no IngressClass in the input is",
    );
    // A host that is not a Service's (no `.svc`), such as the gateway's external name.
    let a = run(&plant_after(
        ingress,
        "\"knative-local-gateway.istio-system.svc.cluster.local\"",
        "\"knative-local-gateway.istio-system\"",
    ));
    assert_one(
        &a,
        "refs ConfigMap kserve/inferenceservice-config data.ingress.localGatewayService:",
        "KServe reads it as a Service's host name",
    );
    let ok = plant_after(
        ingress,
        "\"knative-local-gateway.istio-system.svc.cluster.local\"",
        "\"knative-local-gateway.istio-system.svc\"",
    );
    assert_eq!(failures(&run(&ok)), Vec::<String>::new());
}

/// The local gateway keys are read by KServe's Serverless reconciler alone: judged while an
/// InferenceService can be Serverless (by default, or by annotation where Knative is
/// installed), not where the default is raw and no Knative Serving is installed (Astrago's
/// RawDeployment environment keeps the chart's default host, which nothing resolves).
#[test]
fn the_local_gateway_is_judged_only_where_an_inference_service_can_be_serverless() {
    let swap = |text: &str, after: &str, from: &str, to: &str| {
        assert_eq!(text.matches(after).count(), 1, "`{after}` occurs once");
        let at = text.find(after).expect("anchor") + after.len();
        let rel = text[at..].find(from).expect("`from` after the anchor");
        format!(
            "{}{}{}",
            &text[..at + rel],
            to,
            &text[at + rel + from.len()..]
        )
    };
    let wrong_host = |text: &str| {
        swap(
            text,
            "\n  ingress: |-\n",
            "\"knative-local-gateway.istio-system.svc.cluster.local\"",
            "\"knative-local-gateway.knative-serving.svc.cluster.local\"",
        )
    };
    let raw = |text: &str, mode: &str| {
        swap(
            text,
            "\n  deploy: |-\n",
            "\"defaultDeploymentMode\": \"Serverless\"",
            &format!("\"defaultDeploymentMode\": \"{mode}\""),
        )
    };
    let at = "refs ConfigMap kserve/inferenceservice-config data.ingress.localGatewayService:";
    // Raw by default with Knative installed: an annotation still makes one Serverless.
    let a = run(&wrong_host(&raw(render(), "RawDeployment")));
    assert_one(
        &a,
        at,
        "names Service knative-serving/knative-local-gateway",
    );
    // Raw by default (both names of the mode) and no KnativeServing: the host is never read.
    let without_knative = common::real::documents(render())
        .into_iter()
        .filter(|d| !d.lines().any(|l| l == "kind: KnativeServing"))
        .collect::<Vec<_>>()
        .join("---\n");
    assert!(
        without_knative.len() < render().len(),
        "a KnativeServing was left out"
    );
    for mode in ["RawDeployment", "Standard"] {
        let clean = failures(&run(&raw(&without_knative, mode)));
        let planted = failures(&run(&wrong_host(&raw(&without_knative, mode))));
        assert_eq!(planted, clean, "{mode}");
        assert!(!planted.iter().any(|f| f.starts_with(at)), "{planted:#?}");
    }
    // Serverless by default without a KnativeServing in the input: still judged.
    let a = run(&wrong_host(&without_knative));
    assert!(
        failures(&a).iter().any(|f| f.starts_with(at)),
        "{:#?}",
        failures(&a)
    );
    // Raw by default, Knative Serving installed from its release YAML (its Service CRD): judged;
    // another group's CRD, and the operator's KnativeEventing, do not count.
    let crd = |name: &str, plural: &str, kind: &str| {
        format!(
            "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {name}\nspec:\n  group: {group}\n  names:\n    kind: {kind}\n    plural: {plural}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n",
            group = name.split_once('.').expect("plural.group").1
        )
    };
    let raw_without = raw(&without_knative, "RawDeployment");
    let serving = format!(
        "{}{}",
        wrong_host(&raw_without),
        crd("services.serving.knative.dev", "services", "Service")
    );
    let a = run(&serving);
    assert!(
        failures(&a).iter().any(|f| f.starts_with(at)),
        "{:#?}",
        failures(&a)
    );
    let eventing = "---\napiVersion: operator.knative.dev/v1beta1\nkind: KnativeEventing\nmetadata:\n  name: knative-eventing\n  namespace: knative-eventing\n";
    let other = format!(
        "{}{}{eventing}",
        wrong_host(&raw_without),
        crd("services.example.com", "services", "Service")
    );
    let a = run(&other);
    assert!(
        !failures(&a).iter().any(|f| f.starts_with(at)),
        "{:#?}",
        failures(&a)
    );
}

#[test]
fn a_monitor_that_scrapes_nothing_or_selects_no_operator_pod_is_caught() {
    let a = run(&plant(
        "  podMetricsEndpoints:\n    - port: metrics\n",
        "  podMetricEndpoints:\n    - port: metrics\n",
    ));
    assert_one(
        &a,
        "wiring PodMonitor knative-serving/knative-serving-control-plane spec.podMetricsEndpoints:",
        "is missing or empty: the PodMonitor scrapes nothing",
    );
    let a = run(&plant(
        "values: [activator, autoscaler, controller, webhook]",
        "values: [activator2]",
    ));
    assert_one(
        &a,
        "wiring PodMonitor knative-serving/knative-serving-control-plane spec.selector:",
        "selects no pod (labels app in (activator2)) in knative-serving",
    );
}

#[test]
fn strict_mtls_over_a_webhook_applies_only_to_pods_with_a_sidecar() {
    let strict_kserve = "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: kserve\nspec:\n  mtls:\n    mode: STRICT\n";
    // No sidecar in kserve (an annotation alone reaches no injection webhook): a note only.
    let annotated = plant(
        "        kubectl.kubernetes.io/default-container: manager\n",
        "        kubectl.kubernetes.io/default-container: manager\n        sidecar.istio.io/inject: \"true\"\n",
    );
    let text = format!("{}\n---\n{strict_kserve}", annotated.trim_end());
    assert_eq!(failures(&run(&text)), Vec::<String>::new());
    // Labelled, the controller gets a sidecar: the API server's calls to its webhook fail,
    // once for the Service port, however many configurations call it.
    let labelled = plant(
        "        controller-tools.k8s.io: \"1.0\"\n      annotations",
        "        controller-tools.k8s.io: \"1.0\"\n        sidecar.istio.io/inject: \"true\"\n      annotations",
    );
    let text = format!("{}\n---\n{strict_kserve}", labelled.trim_end());
    let f = failures(&run(&text));
    let webhook: Vec<&String> = f
        .iter()
        .filter(|l| {
            l.starts_with("mesh Service kserve/kserve-webhook-server-service spec.ports[0]:")
        })
        .collect();
    assert_eq!(webhook.len(), 1, "{f:#?}");
    assert!(webhook[0].contains("is STRICT mTLS (PeerAuthentication kserve/default), but the API server (webhook inferenceservice.serving.kserve.io, trainedmodel.serving.kserve.io"), "{f:#?}");
    // And Prometheus's scrape, and the sidecar's xDS egress to istiod.
    assert!(
        f.iter()
            .any(|l| l.starts_with("mesh Service kserve/kserve-controller-manager-metrics")),
        "{f:#?}"
    );
    assert!(
        f.iter().any(
            |l| l.starts_with("egress Deployment kserve/kserve-controller-manager :")
                && l.contains("xDS to istiod")
        ),
        "{f:#?}"
    );
    // Knative's namespace injected and STRICT: Prometheus's scrapes of its control plane fail,
    // but not the API server's calls to its webhooks (net-istio's own PeerAuthentications keep
    // 8443 PERMISSIVE, stood in), and no model pods are assumed there. (`portLevelMtls` acts
    // only in a policy with a selector.)
    let text = with("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: knative-serving\n  labels:\n    istio-injection: enabled\n---\napiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: knative-serving\nspec:\n  mtls:\n    mode: STRICT\n");
    assert_all(
        &run(&text),
        &["mesh PodMonitor knative-serving/knative-serving-control-plane spec.podMetricsEndpoints[0].port:"],
        "which is STRICT mTLS (PeerAuthentication knative-serving/default); Prometheus has no sidecar",
    );
}

#[test]
fn a_virtual_service_bound_to_a_gateway_that_does_not_exist_is_caught() {
    let vs = |gateway: &str| {
        with(&format!("apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n  name: models\n  namespace: kserve-test\nspec:\n  hosts: [\"models.astrago.local\"]\n  gateways:\n    - {gateway}\n    - mesh\n  http:\n    - route:\n        - destination:\n            host: knative-local-gateway.istio-system.svc.cluster.local\n"))
    };
    // The operator's gateway: clean.
    assert_eq!(
        failures(&run(&vs("knative-serving/knative-ingress-gateway"))),
        Vec::<String>::new()
    );
    let a = run(&vs("knative-ingress-gateway"));
    assert_one(
        &a,
        "refs VirtualService kserve-test/models spec.gateways[0]:",
        "names Gateway kserve-test/knative-ingress-gateway, which is neither rendered nor created by the Knative Operator",
    );
}

/// `run` with the Knative Operator's own manifests (its kodata, CI's test data beside the
/// checkout) instead of the stand-ins.
fn run_with_operator_manifests(text: &str) -> audit::Audit {
    let matrix = include_str!("../matrix.yaml");
    let plan = deploygen::plan("matrix.yaml", matrix.as_bytes()).expect("default plan");
    let opts = audit::Options {
        env: "airgap".into(),
        releases: Vec::new(),
        operator_manifests: Some(
            common::real::shared().join("upstream/knative-operator-kodata/v1.15.10"),
        ),
    };
    audit::audit(&plan, &opts, "render.yaml", text).expect("readable input")
}

#[test]
fn with_the_operators_manifests_its_objects_are_judged_the_same() {
    assert_eq!(
        failures(&run_with_operator_manifests(render())),
        Vec::<String>::new()
    );
    // Findings about what it applies are the stack's (not another app's, dropped).
    let a = run_with_operator_manifests(&plant_after(
        "  name: allow-webhooks-from-api-server\n  namespace: knative-serving\n",
        "{port: 8443, protocol: TCP}",
        "{port: 9443, protocol: TCP}",
    ));
    assert!(
        failures(&a)
            .iter()
            .any(|l| l.starts_with("network Service knative-serving/webhook ")),
        "{:#?}",
        failures(&a)
    );
    // The KnativeServing's workload labels reach the applied Deployment: the activator's
    // sidecar, whose scraped port a STRICT namespace refuses to Prometheus.
    let a = run_with_operator_manifests(&with("apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: knative-serving\nspec:\n  mtls:\n    mode: STRICT\n"));
    assert_all(
        &a,
        &["mesh PodMonitor knative-serving/knative-serving-control-plane spec.podMetricsEndpoints[0].port:"],
        "scrapes port 9090 of Deployment knative-serving/activator",
    );
}

#[test]
fn knative_serving_istio_gateway_keys_net_istio_does_not_read_are_caught() {
    let config = |entry: &str| plant("  config:\n", &format!("  config:\n    istio:\n{entry}"));
    // The legacy key and the list, naming what exists: clean.
    for ok in [
        "      gateway.knative-serving.knative-ingress-gateway: \"istio-ingressgateway.istio-system.svc.cluster.local\"\n",
        "      local-gateways: |\n        - name: knative-local-gateway\n          namespace: knative-serving\n          service: knative-local-gateway.istio-system.svc.cluster.local\n",
    ] {
        assert_eq!(failures(&run(&config(ok))), Vec::<String>::new());
    }
    let a = run(&config("      gateway.knative-ingress-gateway: \"istio-ingressgateway.istio-system.svc.cluster.local\"\n"));
    assert_one(
        &a,
        "refs KnativeServing knative-serving/knative-serving spec.config.istio.gateway.knative-ingress-gateway:",
        "is not read by net-istio",
    );
    let a = run(&config("      local-gateway.knative-serving.knative-local-gateway: \"knative-local-gateway.knative-serving.svc.cluster.local\"\n"));
    assert_one(
        &a,
        "refs KnativeServing knative-serving/knative-serving spec.config.istio.local-gateway.knative-serving.knative-local-gateway:",
        "names Service knative-serving/knative-local-gateway",
    );
    let a = run(&config("      gateway.knative-serving.knative-ingress-gateway: \"istio-ingressgateway.istio-system\"\n"));
    assert_one(
        &a,
        "refs KnativeServing knative-serving/knative-serving spec.config.istio.gateway.knative-serving.knative-ingress-gateway:",
        "net-istio reads it as the host of the gateway pods' Service",
    );
}
