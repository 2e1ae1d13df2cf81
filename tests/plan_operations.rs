//! The rest of the installation plan (issue 12): mTLS, egress control, the capacity report
//! and Phase 3 runnable with nothing carried in. Each feature is on in the default matrix's
//! airgap environment; switching it off removes exactly its own objects; the capacity report
//! is the hand computation below; the smoke-test Jobs use only the environment's images.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{files, flatten, run, stderr, workdir, MATRIX};
use serde_json::Value;

fn tree(text: &str) -> BTreeMap<String, String> {
    deploygen::render("matrix.yaml", text.as_bytes()).unwrap()
}

fn docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// The airgap environment's text, `from` replaced by `to` (once).
fn airgap(from: &str, to: &str) -> String {
    let start = MATRIX.find("\n  airgap:\n").unwrap();
    let (head, tail) = MATRIX.split_at(start);
    assert!(tail.contains(from), "airgap has no {from:?}");
    format!("{head}{}", tail.replacen(from, to, 1))
}

/// Files added, removed or changed between two trees (the manifest aside), and for the
/// environment values the dotted keys that changed.
fn delta(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for p in a.keys().chain(b.keys()) {
        match (a.get(p), b.get(p)) {
            (Some(x), Some(y)) if x != y && p.starts_with("environments/") => {
                let (mut fx, mut fy) = (BTreeMap::new(), BTreeMap::new());
                flatten(&serde_yaml::from_str(x).unwrap(), "", &mut fx);
                flatten(&serde_yaml::from_str(y).unwrap(), "", &mut fy);
                for k in fx.keys().chain(fy.keys()) {
                    if fx.get(k) != fy.get(k) {
                        out.insert(format!("{p}: {k}"));
                    }
                }
            }
            (Some(x), Some(y)) if x != y && p != ".deploygen-manifest" => {
                out.insert(format!("changed {p}"));
            }
            (None, Some(_)) => {
                out.insert(format!("added {p}"));
            }
            (Some(_), None) => {
                out.insert(format!("removed {p}"));
            }
            _ => {}
        }
    }
    out.into_iter().collect()
}

const MTLS: &str = "      mtls:\n        mode: strict\n        namespaces: [kserve-test]\n";
const EGRESS: &str = "      egress:\n        policy: enforce\n        api_server: [10.61.3.10/32]\n        api_server_port: 6443\n";
const LOAD: &str =
    "        load_test:\n          image: docker.io/library/busybox:1.36.1\n          concurrency: 8\n          requests: 3000\n";

#[test]
fn each_feature_is_on_in_airgap_and_off_removes_exactly_its_objects() {
    let base = tree(MATRIX);
    // On: the objects exist.
    let istiod: Vec<Value> = docs(&base["environments/airgap/istiod.yaml"]);
    assert_eq!(istiod[0]["mtls"]["mode"], "STRICT");
    assert_eq!(istiod[0]["egress"]["enabled"], true);
    assert!(base.contains_key("applications/istiod/templates/mtls.yaml"));
    assert!(base.contains_key("examples/airgap/load-test.yaml"));

    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "mtls",
            airgap(MTLS, ""),
            vec![
                // The namespace loses its injection label; the README its mTLS lines.
                "changed examples/airgap/00-namespace.yaml",
                "changed examples/airgap/README.md",
                "environments/airgap/istiod.yaml: mtls.enabled",
                "environments/airgap/istiod.yaml: mtls.mode",
                "environments/airgap/istiod.yaml: mtls.namespaces",
                "environments/airgap/knative-serving.yaml: knativeServing.workloads",
            ],
        ),
        (
            "egress",
            airgap(EGRESS, ""),
            vec![
                "environments/airgap/cert-manager.yaml: egress.apiServer",
                "environments/airgap/cert-manager.yaml: egress.apiServerPort",
                "environments/airgap/cert-manager.yaml: egress.enabled",
                "environments/airgap/istiod.yaml: egress.apiServer",
                "environments/airgap/istiod.yaml: egress.apiServerPort",
                "environments/airgap/istiod.yaml: egress.enabled",
                "environments/airgap/knative-serving.yaml: egress.apiServer",
                "environments/airgap/knative-serving.yaml: egress.apiServerPort",
                "environments/airgap/knative-serving.yaml: egress.enabled",
                "environments/airgap/knative-serving.yaml: egress.mirror.cidr",
                "environments/airgap/knative-serving.yaml: egress.mirror.port",
                "environments/airgap/knative-serving.yaml: egress.mirror.public",
                "environments/airgap/kserve.yaml: egress.apiServer",
                "environments/airgap/kserve.yaml: egress.apiServerPort",
                "environments/airgap/kserve.yaml: egress.enabled",
            ],
        ),
        (
            "load test",
            airgap(LOAD, ""),
            vec![
                // sklearn-iris loses its scaling bounds, the README its section 4.
                "changed examples/airgap/README.md",
                "changed examples/airgap/sklearn-iris.yaml",
                "removed examples/airgap/load-test.yaml",
            ],
        ),
        (
            "gpu dashboard",
            airgap(
                "      monitoring: *monitoring\n",
                "      monitoring: {prometheus: true, selector_labels: {release: kube-prometheus-stack}, grafana_dashboards: true, dashboard_labels: {grafana_dashboard: \"1\"}}\n",
            ),
            vec!["environments/airgap/kserve.yaml: dashboards.gpu"],
        ),
    ];
    for (name, matrix, expected) in cases {
        assert_eq!(delta(&base, &tree(&matrix)), expected, "{name}");
    }
}

/// Container images of every Job and Pod in a file.
fn job_images(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for d in docs(text) {
        let spec = match d["kind"].as_str() {
            Some("Job") => &d["spec"]["template"]["spec"],
            Some("Pod") => &d["spec"],
            _ => continue,
        };
        for c in spec["containers"]
            .as_array()
            .into_iter()
            .chain(spec["initContainers"].as_array())
            .flatten()
        {
            out.push(c["image"].as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn every_smoke_test_and_load_test_job_uses_only_the_environments_images() {
    let plan = deploygen::plan("matrix.yaml", MATRIX.as_bytes()).unwrap();
    let t = deploygen::render::render_tree(&plan).unwrap();
    for e in &plan.environments {
        let shipped: BTreeSet<String> = e.shipped_images().map(|i| i.target.to_string()).collect();
        let mut jobs = 0;
        for (path, text) in t.iter().filter(|(p, _)| {
            p.starts_with(&format!("examples/{}/", e.name)) && p.ends_with(".yaml")
        }) {
            for image in job_images(text) {
                jobs += 1;
                assert!(
                    shipped.contains(&image),
                    "{path}: {image} is not in the images of {}",
                    e.name
                );
                if let Some(m) = e.mirror() {
                    assert!(
                        image.starts_with(&format!("{m}/")),
                        "{path}: {image} is not on the mirror"
                    );
                    // And in the image lists the site mirrors (as its upstream reference).
                    let listed = t
                        .iter()
                        .filter(|(p, _)| p.starts_with("airgap/kubespray-offline/imagelists/"))
                        .any(|(_, l)| {
                            e.shipped_images().any(|i| {
                                i.target.to_string() == image
                                    && l.lines().any(|x| x == i.source.to_string())
                            })
                        });
                    assert!(listed, "{path}: {image} is in no image list");
                }
            }
        }
        // train, build, load test
        assert_eq!(jobs, 3, "{}", e.name);
    }
    // Nothing to fetch: no step of the airgap README downloads or copies a model in.
    let readme = &t["examples/airgap/README.md"];
    for fetch in [
        "kubectl cp",
        "wget ",
        "curl -L",
        "gs://",
        "s3://",
        "https://storage",
        "pip install",
    ] {
        assert!(
            !readme.contains(fetch),
            "the airgap README fetches: {fetch}"
        );
    }
    let load = &t["examples/airgap/load-test.yaml"];
    assert!(load.contains("value: \"3000\"") && load.contains("value: \"8\""));
}

#[test]
fn the_capacity_report_of_the_default_matrix_is_the_hand_computation() {
    let plan = deploygen::plan("matrix.yaml", MATRIX.as_bytes()).unwrap();
    let e = plan
        .environments
        .iter()
        .find(|e| e.name == "airgap")
        .unwrap();
    let r = deploygen::plan::capacity::report(&plan, e).unwrap();
    const MI: u64 = 1 << 20;
    const GI: u64 = 1 << 30;
    // Profile `recommended`, one replica each (requests; limits):
    //   cert-manager: controller 100m/256Mi, webhook 50m/64Mi, cainjector 50m/128Mi
    //                 = 200m, 448Mi;   limits 500m+200m+200m = 900m, 512+256+512 = 1280Mi
    //   istio: istiod 1/2Gi + gateway 1/2Gi = 2000m, 4Gi;   limits 2+2 = 4000m, 4+4 = 8Gi
    //   knative: activator 1500m/3Gi + autoscaler 1/2Gi + controller 1/2Gi + webhook 500m/1Gi
    //            = 4000m, 8Gi;   limits 3+2+2+1 = 8000m, 6+4+4+2 = 16Gi
    //   kserve: controller 2000m/4Gi;   limits 4000m, 8Gi
    //   stack: 200+2000+4000+2000 = 8200m; 448Mi + 16Gi = 16832Mi
    let want = [
        ("cert-manager", 200, 448 * MI, 900, 1280 * MI),
        ("istio", 2000, 4 * GI, 4000, 8 * GI),
        ("knative", 4000, 8 * GI, 8000, 16 * GI),
        ("kserve", 2000, 4 * GI, 4000, 8 * GI),
    ];
    let got: Vec<(&str, u64, u64, u64, u64)> = r
        .components
        .iter()
        .map(|c| {
            (
                c.component.as_str(),
                c.requests.millicores,
                c.requests.bytes,
                c.limits.millicores,
                c.limits.bytes,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(r.requests.millicores, 8200);
    assert_eq!(r.requests.bytes, 16832 * MI);
    // Against the plan: every row's requests equal its recommended table exactly
    // (Knative 4 cores/8 GB, Istio 2/4, KServe 2/4; 8Gi >= 8 GB).
    for c in r
        .components
        .iter()
        .filter(|c| c.component != "cert-manager")
    {
        assert_eq!(
            c.verdict, "requests reach the recommended, limits reach the recommended",
            "{}",
            c.component
        );
    }
    // Cluster: 2 workers x 64 cores x 450G (450e9 bytes), 4 GPUs each.
    let c = r.cluster.as_ref().unwrap();
    assert_eq!(c.total.millicores, 128_000);
    assert_eq!(c.total.bytes, 900_000_000_000);
    assert_eq!(c.gpus, 8);
    // Left: 128000m - 8200m = 119800m; 900e9 - 16832 Mi (17649631232) = 882350368768 bytes.
    assert_eq!(c.left.millicores, 119_800);
    assert_eq!(c.left.bytes, 900_000_000_000 - 16832 * MI);
    assert_eq!(c.left.bytes, 882_350_368_768);
    // The plan's per-model sizes (GB = 1e9):
    //   1 core, 2 GB, 0 GPU:   cpu 119800/1000 = 119, memory 882350368768/2e9 = 441 -> 119 (cpu)
    //   4 cores, 8 GB, 4 GPUs: cpu 29, memory 110, GPUs 8/4 = 2 -> 2 (GPUs)
    //   4 cores, 8 GB, 1 GPU:  cpu 29, memory 110, GPUs 8 -> 8 (GPUs)
    //   16 cores, 32 GB, 8 GPUs: one node has 4 GPUs -> 0
    let fits: Vec<(u64, &str)> = c
        .fits
        .iter()
        .map(|f| (f.count, f.limited_by.as_str()))
        .collect();
    assert_eq!(
        fits,
        vec![
            (119, "cpu"),
            (2, "GPUs"),
            (8, "GPUs"),
            (0, "needs 8 GPUs on one node; nodes have 4")
        ]
    );
    // The same numbers reach COMPONENT_VERSIONS.md and `deploygen explain`.
    let t = deploygen::render::render_tree(&plan).unwrap();
    let doc = &t["COMPONENT_VERSIONS.md"];
    assert!(
        doc.contains("## Capacity of `airgap` (profile `recommended`)"),
        "{doc}"
    );
    assert!(
        doc.contains("| **stack** | | 8.2 cores, 16.43 GiB | 16.9 cores, 33.25 GiB |"),
        "{doc}"
    );
    assert!(
        doc.contains("| recommended row, low end | 4 cores, 8 GB, 1 GPU | 8 | GPUs |"),
        "{doc}"
    );
    let explain = deploygen::plan::explain::explain(&plan, Some("airgap"));
    assert!(
        explain.contains("left for models: 119.8 cores, 821.75 GiB, 8 GPUs"),
        "{explain}"
    );
}

#[test]
fn a_profile_that_exceeds_the_cluster_is_refused_located_and_nothing_is_written() {
    let bad = airgap("      cores_per_node: 64\n", "      cores_per_node: 4\n");
    let err = deploygen::plan("matrix.yaml", bad.as_bytes())
        .unwrap_err()
        .to_string();
    // 8.2 cores requested, 2 x 4 = 8 cores in the cluster.
    assert!(
        err.contains(": environments.airgap.profile: profile `recommended` requests 8.2 cores, 16.43 GiB in total, more than the cluster has (2 nodes of 4 cores, 419.09 GiB: 8 cores, 838.19 GiB)"),
        "{err}"
    );
    let line = bad[..bad.find("\n  airgap:\n").unwrap()].lines().count() + 1;
    let profile_line = bad
        .lines()
        .enumerate()
        .skip(line)
        .find(|(_, l)| l.trim_start().starts_with("profile:"))
        .unwrap()
        .0
        + 1;
    assert!(
        err.contains(&format!("matrix.yaml:{profile_line}:")),
        "{err}"
    );
    // One workload larger than a node: its pod can never be scheduled.
    let bad = airgap(
        "      cores_per_node: 64\n",
        "      cores_per_node: 1\n      # tiny nodes\n",
    );
    let err = deploygen::plan("matrix.yaml", bad.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("workload knative-activator requests 1.5 cores"),
        "{err}"
    );
    // Through the binary: exit 2, not a byte written.
    let dir = workdir(&airgap(
        "      cores_per_node: 64\n",
        "      cores_per_node: 4\n",
    ));
    let before = files(dir.path());
    let o = run(dir.path(), &["render"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("environments.airgap.profile"));
    assert_eq!(files(dir.path()), before);
}

#[test]
fn a_profile_below_the_plans_minimum_is_a_warning_naming_the_source() {
    let low = MATRIX.replacen(
        "kserve-controller: {requests: {cpu: 2000m, memory: 4Gi}, limits: {cpu: \"4\", memory: 8Gi}}",
        "kserve-controller: {requests: {cpu: 100m, memory: 300Mi}, limits: {cpu: 500m, memory: 1Gi}}",
        1,
    );
    assert_ne!(low, MATRIX);
    let plan = deploygen::plan("matrix.yaml", low.as_bytes()).unwrap();
    let w = deploygen::plan::explain::warnings(&plan);
    assert!(
        w.iter().any(|w| w.starts_with("warning: environment airgap: [profile-below-plan-minimum] profile `recommended` caps KServe at 0.5 cores, 1.00 GiB (limits of kserve-controller), below the plan's minimum of 1 core, 2 GB (source: Astrago's KServe installation plan")),
        "{w:?}"
    );
    // The default matrix has none.
    let plan = deploygen::plan("matrix.yaml", MATRIX.as_bytes()).unwrap();
    assert!(deploygen::plan::explain::warnings(&plan)
        .iter()
        .all(|w| !w.contains("profile-below")));
}

#[test]
fn wrong_mtls_egress_and_load_test_settings_are_located_errors() {
    let cases = [
        (
            airgap("namespaces: [kserve-test]", "namespaces: [kserve]"),
            "environments.airgap.operations.mtls.namespaces[0]",
            "`kserve` is a namespace of the stack itself",
        ),
        (
            airgap("        api_server: [10.61.3.10/32]\n", ""),
            "environments.airgap.operations.egress.api_server",
            "egress enforce needs the API server's addresses",
        ),
        (
            airgap("api_server: [10.61.3.10/32]", "api_server: [10.61.3.10]"),
            "environments.airgap.operations.egress.api_server[0]",
            "`10.61.3.10` is not a CIDR",
        ),
        (
            airgap(
                "    mirror: 10.61.3.31:35000\n",
                "    mirror: harbor.astrago.local\n",
            ),
            "environments.airgap.operations.egress.mirror_cidr",
            "give its address as a CIDR",
        ),
        (
            airgap(
                "image: docker.io/library/busybox:1.36.1\n          concurrency",
                "image: docker.io/library/busybox:1.37.0\n          concurrency",
            ),
            "environments.airgap.operations.smoke_tests.load_test.image",
            "is not among extra_images",
        ),
        (
            airgap("requests: 3000", "requests: 4"),
            "environments.airgap.operations.smoke_tests.load_test.requests",
            "at least concurrency",
        ),
    ];
    for (text, path, message) in cases {
        let err = deploygen::plan("matrix.yaml", text.as_bytes())
            .unwrap_err()
            .to_string();
        let line = err
            .lines()
            .find(|l| l.contains(&format!(": {path}: ")))
            .unwrap_or_else(|| panic!("{path}:\n{err}"));
        assert!(line.contains(message), "{line}");
        assert!(line.starts_with("error: matrix.yaml:"), "located: {line}");
    }
}
