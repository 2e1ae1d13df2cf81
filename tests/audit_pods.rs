//! Pods wherever they run (src/audit/pods.rs): every check that reads pods (images, the
//! ServiceAccount, ConfigMaps and Secrets they use, probes, fit) reads the pods of every
//! pod-bearing kind: the built-in ones and the custom resources of the catalog's components
//! (KServe's runtimes, InferenceServices and storage container, Knative's Services,
//! Configurations and Revisions, a KnativeServing's workload resources). On the real render
//! of environment airgap (`common::real`), one pod of each kind is added clean, then with one
//! mistake of each class; and the real runtimes, storage container and KnativeServing are
//! planted with mistakes where they are.

mod common;

use deploygen::audit::{self, report::Severity};

fn render() -> &'static str {
    common::real::airgap()
}

use common::real::audit_airgap as run;

/// `check object path: message` of every failure.
fn failures(a: &audit::Audit) -> Vec<String> {
    a.findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .map(|f| format!("{} {} {}: {}", f.check, f.object, f.path, f.message))
        .collect()
}

/// The real render with `from` (which occurs exactly once) replaced by `to`.
fn plant(from: &str, to: &str) -> String {
    assert_eq!(render().matches(from).count(), 1, "`{from}` occurs once");
    render().replacen(from, to, 1)
}

/// A clean pod spec of namespace kserve: a listed image on the mirror, the rendered
/// ServiceAccount, ConfigMap and Secret (the one Certificate serving-cert writes), a probe on a
/// declared port, limits above requests that fit a node.
const SPEC: &str = "{serviceAccountName: kserve-controller-manager, containers: [{name: c, image: \"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\", ports: [{name: http, containerPort: 8080}], readinessProbe: {httpGet: {port: http, path: /}}, envFrom: [{configMapRef: {name: inferenceservice-config}}], resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: \"1\", memory: 1Gi}}}], volumes: [{name: cert, secret: {secretName: kserve-webhook-server-cert}}]}";

/// Every pod-bearing kind: (apiVersion, kind, the path of its pod spec, the object around
/// `spec`).
fn kinds() -> Vec<(&'static str, &'static str, &'static str, String)> {
    let labels = "{app: planted}";
    let controller = |spec: &str| {
        format!("spec:\n  selector: {{matchLabels: {labels}}}\n  template:\n    metadata: {{labels: {labels}}}\n    spec: {spec}\n")
    };
    vec![
        ("v1", "Pod", "spec", "spec: SPEC\n".to_string()),
        (
            "v1",
            "ReplicationController",
            "spec.template.spec",
            format!("spec:\n  selector: {labels}\n  template:\n    metadata: {{labels: {labels}}}\n    spec: SPEC\n"),
        ),
        ("apps/v1", "ReplicaSet", "spec.template.spec", controller("SPEC")),
        ("apps/v1", "Deployment", "spec.template.spec", controller("SPEC")),
        ("apps/v1", "StatefulSet", "spec.template.spec", controller("SPEC").replace("spec:\n  selector", "spec:\n  serviceName: planted\n  selector")),
        ("apps/v1", "DaemonSet", "spec.template.spec", controller("SPEC")),
        ("batch/v1", "Job", "spec.template.spec", "spec:\n  template:\n    spec: JOB\n".to_string()),
        (
            "batch/v1",
            "CronJob",
            "spec.jobTemplate.spec.template.spec",
            "spec:\n  schedule: \"0 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec: JOB\n".to_string(),
        ),
        (
            "serving.kserve.io/v1alpha1",
            "ServingRuntime",
            "spec",
            "spec: SPEC\n".to_string(),
        ),
        (
            "serving.kserve.io/v1beta1",
            "InferenceService",
            "spec.predictor",
            "spec:\n  predictor: SPEC\n".to_string(),
        ),
        (
            "serving.kserve.io/v1beta1",
            "InferenceService",
            "spec.transformer",
            "spec:\n  predictor: {model: {modelFormat: {name: sklearn}, storageUri: \"pvc://kserve-models/sklearn/iris\"}}\n  transformer: SPEC\n".to_string(),
        ),
        (
            "serving.knative.dev/v1",
            "Service",
            "spec.template.spec",
            "spec:\n  template:\n    spec: SPEC\n".to_string(),
        ),
        (
            "serving.knative.dev/v1",
            "Configuration",
            "spec.template.spec",
            "spec:\n  template:\n    spec: SPEC\n".to_string(),
        ),
        ("serving.knative.dev/v1", "Revision", "spec", "spec: SPEC\n".to_string()),
    ]
}

/// The object of `kind` around `spec` (`SPEC`, or `JOB` for a Job's), appended to the real render.
fn with(api: &str, kind: &str, body: &str, spec: &str) -> String {
    // A Job's pods must end: `JOB` is the spec with restartPolicy Never.
    let job = spec.replacen('{', "{restartPolicy: Never, ", 1);
    let body = body.replace("JOB", &job).replace("SPEC", spec);
    format!(
        "{}---\n# Source: kserve/templates/planted.yaml\napiVersion: {api}\nkind: {kind}\nmetadata:\n  name: planted\n  namespace: kserve\n{body}",
        render()
    )
}

/// The mistakes planted in [`SPEC`]: (name, from, to, check, path under the pod spec, words of
/// the message).
const MISTAKES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "an image off the mirror",
        "\"10.61.3.31:35000/kserve/kserve-controller:v0.14.1\"",
        "\"docker.io/kserve/kserve-controller:v0.14.1\"",
        "images",
        ".containers[c].image",
        "is not on the mirror 10.61.3.31:35000",
    ),
    (
        "a missing ServiceAccount",
        "serviceAccountName: kserve-controller-manager",
        "serviceAccountName: kserve-controller",
        "refs",
        ".serviceAccountName",
        "runs as ServiceAccount kserve/kserve-controller, which is not rendered",
    ),
    (
        "a missing ConfigMap",
        "name: inferenceservice-config}",
        "name: inferenceservice-configs}",
        "refs",
        ".containers[c].envFrom[0].configMapRef",
        "names ConfigMap kserve/inferenceservice-configs",
    ),
    (
        "a missing Secret",
        "secretName: kserve-webhook-server-cert}",
        "secretName: kserve-webhook-server-certs}",
        "refs",
        ".volumes[0].secret",
        "names Secret kserve/kserve-webhook-server-certs, which is not rendered and no Certificate writes",
    ),
    (
        "a probe on an undeclared port",
        "port: http, path",
        "port: https, path",
        "refs",
        ".containers[c].readinessProbe.httpGet.port",
        "names port `https`, which container c does not declare",
    ),
    (
        "a limit below its request",
        "limits: {cpu: \"1\"",
        "limits: {cpu: 50m",
        "fit",
        ".containers[c].resources.limits.cpu",
        "is 50m CPU, below the request 100m CPU",
    ),
    (
        "requests larger than a node",
        "requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: \"1\", memory: 1Gi}",
        "requests: {cpu: 100m, memory: 500Gi}, limits: {cpu: \"1\", memory: 600Gi}",
        "fit",
        ".containers[*].resources.requests.memory",
        "more than a whole node of environment airgap has",
    ),
];

#[test]
fn a_clean_pod_of_every_kind_adds_no_failure() {
    assert_eq!(failures(&run(render())), Vec::<String>::new());
    for (api, kind, path, body) in kinds() {
        let a = run(&with(api, kind, &body, SPEC));
        assert_eq!(failures(&a), Vec::<String>::new(), "{kind} at {path}");
    }
}

#[test]
fn every_mistake_is_found_in_the_pods_of_every_kind() {
    for (api, kind, path, body) in kinds() {
        for (what, from, to, check, at, words) in MISTAKES {
            if kind == "ServingRuntime" && *check == "refs" && at.contains("serviceAccount") {
                continue; // A ServingRuntime's pods run as the InferenceService's account.
            }
            assert_eq!(SPEC.matches(from).count(), 1, "{from}");
            let a = run(&with(api, kind, &body, &SPEC.replacen(from, to, 1)));
            let f = failures(&a);
            let expected = format!("{check} {kind} kserve/planted {path}{at}: ");
            assert!(
                f.len() == 1 && f[0].starts_with(&expected) && f[0].contains(words),
                "{what} in a {kind} ({path}): expected one `{expected}… {words}`, got {f:#?}"
            );
        }
    }
}

#[test]
fn an_inference_service_model_container_is_a_container_of_its_pods() {
    let body = "spec:\n  predictor:\n    serviceAccountName: kserve-controller-manager\n    model:\n      modelFormat: {name: sklearn}\n      storageUri: \"pvc://kserve-models/sklearn/iris\"\n      resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: \"1\", memory: 1Gi}}\n";
    let isvc = |body: &str| {
        format!("{}---\n# Source: kserve/templates/planted.yaml\napiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: planted\n  namespace: kserve\n{body}", render())
    };
    assert_eq!(failures(&run(&isvc(body))), Vec::<String>::new());
    let a = run(&isvc(&body.replace("cpu: \"1\"", "cpu: 10m")));
    assert_eq!(
        failures(&a),
        ["fit InferenceService kserve/planted spec.predictor.model.resources.limits.cpu: is 10m CPU, below the request 100m CPU: the API server refuses a container whose limit is below its request; raise the limit or lower the request"]
    );
    let a = run(&isvc(&body.replace(
        "modelFormat: {name: sklearn}",
        "modelFormat: {name: sklearn}\n      image: docker.io/kserve/sklearnserver:v0.14.1",
    )));
    let f = failures(&a);
    assert!(
        f.len() == 1
            && f[0].starts_with(
                "images InferenceService kserve/planted spec.predictor.model.image: docker.io/kserve/sklearnserver:v0.14.1 is not on the mirror"
            ),
        "{f:#?}"
    );
}

#[test]
fn a_cluster_serving_runtime_of_the_render_is_read_for_probes_and_fit() {
    let resources = "      image: \"10.61.3.31:35000/kserve/sklearnserver:v0.14.1\"\n";
    // A probe on a named port the runtime's container does not declare.
    let a = run(&plant(
        resources,
        &format!("{resources}      readinessProbe:\n        httpGet: {{port: http1, path: /v1/models}}\n"),
    ));
    let f = failures(&a);
    assert!(
        f.len() == 1
            && f[0].starts_with("refs ClusterServingRuntime kserve-sklearnserver spec.containers[kserve-container].readinessProbe.httpGet.port: names port `http1`"),
        "{f:#?}"
    );
    // Limits below requests, and more than a node.
    let requests = "  name: kserve-sklearnserver\n";
    let doc = &render()[render().find(requests).expect("runtime")..];
    let limits = "        limits:\n          cpu: \"1\"\n          memory: 2Gi\n";
    let end = doc.find(limits).expect("limits") + limits.len();
    let planted = doc[..end].replacen(
        limits,
        "        limits:\n          cpu: 500m\n          memory: 2Gi\n",
        1,
    );
    let a = run(&render().replacen(&doc[..end], &planted, 1));
    assert_eq!(
        failures(&a),
        ["fit ClusterServingRuntime kserve-sklearnserver spec.containers[kserve-container].resources.limits.cpu: is 500m CPU, below the request 1 CPU: the API server refuses a container whose limit is below its request; raise the limit or lower the request"]
    );
}

#[test]
fn the_storage_container_is_read_for_its_image_and_fit() {
    let image = "    image: \"10.61.3.31:35000/kserve/storage-initializer:v0.14.1\"\n";
    let a = run(&plant(
        image,
        "    image: \"docker.io/kserve/storage-initializer:v0.14.1\"\n",
    ));
    let f = failures(&a);
    assert!(
        f.iter().any(|l| l.starts_with("images ClusterStorageContainer default spec.container.image: docker.io/kserve/storage-initializer:v0.14.1 is not on the mirror")),
        "{f:#?}"
    );
    let a = run(&plant(
        "      limits:\n        memory: 1Gi\n        cpu: \"1\"\n    securityContext",
        "      limits:\n        memory: 1Gi\n        cpu: 50m\n    securityContext",
    ));
    assert_eq!(
        failures(&a),
        ["fit ClusterStorageContainer default spec.container.resources.limits.cpu: is 50m CPU, below the request 100m CPU: the API server refuses a container whose limit is below its request; raise the limit or lower the request"]
    );
}

#[test]
fn a_knative_serving_workloads_resources_are_read_for_fit() {
    let activator = "      - container: activator\n        limits:\n          cpu: \"3\"\n";
    let a = run(&plant(
        activator,
        "      - container: activator\n        limits:\n          cpu: \"1\"\n",
    ));
    assert_eq!(
        failures(&a),
        ["fit KnativeServing knative-serving/knative-serving spec.workloads[activator].resources[activator].limits.cpu: is 1 CPU, below the request 1500m CPU: the API server refuses a container whose limit is below its request; raise the limit or lower the request"]
    );
    let a = run(&plant(
        "        requests:\n          cpu: \"1\"\n          memory: 2Gi\n    - name: controller",
        "        requests:\n          cpu: \"1\"\n          memory: 2Ti\n    - name: controller",
    ));
    let f = failures(&a);
    assert!(
        f.iter().any(|l| l.starts_with("fit KnativeServing knative-serving/knative-serving spec.workloads[autoscaler].resources[*].requests.memory: its pods request")),
        "{f:#?}"
    );
}
