//! Rendering details the default matrix does not exercise, driven through a catalog changed
//! on purpose.

mod common;

use deploygen::catalog::Catalog;
use serde_yaml::Value;

use common::MATRIX;

fn helmfile_repositories(catalog: &Catalog) -> Vec<(String, String, bool)> {
    let matrix = deploygen::model::matrix::parse("matrix.yaml", MATRIX.as_bytes()).expect("parses");
    let plan = deploygen::plan::resolve::build("matrix.yaml", matrix, catalog).expect("valid");
    let tree = deploygen::render::render_tree(&plan).expect("renders");
    let text = &tree["helmfile.yaml"];
    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .collect();
    let repos = docs
        .iter()
        .find_map(|d| d.get("repositories"))
        .and_then(Value::as_sequence)
        .expect("repositories");
    repos
        .iter()
        .map(|r| {
            (
                r["name"].as_str().expect("name").to_string(),
                r["url"].as_str().expect("url").to_string(),
                r.get("oci").and_then(Value::as_bool).unwrap_or(false),
            )
        })
        .collect()
}

/// One repository per URL, named after the component label; a second and third URL of one
/// label get `-2` and `-3`, and OCI repositories lose their scheme and say `oci: true`.
#[test]
fn helm_repositories_are_one_per_url_with_unique_names() {
    let mut catalog = Catalog::load().expect("catalog");
    let default = helmfile_repositories(&catalog);
    let istio: Vec<_> = default
        .iter()
        .filter(|r| r.0.starts_with("istio"))
        .collect();
    assert_eq!(
        istio,
        [&(
            "istio".to_string(),
            "https://blob.istio.io/istio-release/charts".to_string(),
            false
        )],
        "the three Istio charts share one repository"
    );
    assert!(default.contains(&("kserve".into(), "ghcr.io/kserve/charts".into(), true)));

    let entry = catalog
        .components
        .get_mut("istio")
        .and_then(|v| v.get_mut("1.22.8"))
        .expect("istio 1.22.8");
    let urls = ["https://a.example/charts", "oci://b.example/charts"];
    for (release, url) in entry.releases.iter_mut().skip(1).zip(urls) {
        release.chart.as_mut().expect("chart").repository = url.to_string();
    }
    let repos = helmfile_repositories(&catalog);
    let istio: Vec<_> = repos
        .iter()
        .filter(|r| r.0.starts_with("istio"))
        .cloned()
        .collect();
    assert_eq!(
        istio,
        [
            (
                "istio".into(),
                "https://blob.istio.io/istio-release/charts".into(),
                false
            ),
            ("istio-2".into(), "https://a.example/charts".into(), false),
            ("istio-3".into(), "b.example/charts".into(), true),
        ]
    );
}

/// Only the Knative releases are conditional on `deploygen.knative.enabled` (left out in RawDeployment).
#[test]
fn only_knative_releases_are_knative_only() {
    let plan = deploygen::plan("matrix.yaml", MATRIX.as_bytes()).expect("valid");
    let knative_only: Vec<&str> = plan
        .releases
        .iter()
        .filter(|r| r.knative_only)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(knative_only, ["knative-operator", "knative-serving"]);
    assert_eq!(plan.releases.len(), 8);
}

/// The smoke-test examples of an environment: sklearn-iris where sklearnserver ships,
/// pytorch-gpu where torchserve ships and nodes have GPUs; the README says why one is missing.
#[test]
fn smoke_test_examples_follow_the_runtimes_and_the_gpus() {
    let airgap = MATRIX.find("\n  airgap:\n").expect("airgap");
    let variant = |runtimes: &str, gpus: &str| {
        let tail = MATRIX[airgap..]
            .replacen(
                "serving_runtimes: [sklearnserver, huggingfaceserver, torchserve]",
                &format!("serving_runtimes: [{runtimes}]"),
                1,
            )
            .replacen("gpus_per_node: 4", &format!("gpus_per_node: {gpus}"), 1);
        assert_ne!(tail, MATRIX[airgap..], "the airgap environment changed");
        // The load test targets the sklearn model: without sklearnserver it goes too.
        let tail = if runtimes.contains("sklearnserver") {
            tail
        } else {
            let at = tail
                .find("        load_test:\n")
                .expect("airgap's load test");
            let end = tail[at..]
                .split_inclusive('\n')
                .skip(1)
                .take_while(|l| l.starts_with("          "))
                .map(str::len)
                .sum::<usize>()
                + "        load_test:\n".len();
            format!("{}{}", &tail[..at], &tail[at + end..])
        };
        let text = format!("{}{tail}", &MATRIX[..airgap]);
        let tree = deploygen::render("matrix.yaml", text.as_bytes()).expect("renders");
        let files: Vec<String> = tree
            .keys()
            .filter_map(|k| k.strip_prefix("examples/airgap/"))
            .map(str::to_string)
            .collect();
        let readme = tree["examples/airgap/README.md"].clone();
        (files, readme)
    };
    let no_sklearn = "sklearn-iris: serving runtime sklearnserver is not enabled here";
    let no_torchserve = "pytorch-gpu: serving runtime torchserve is not enabled here";
    let no_gpus = "pytorch-gpu: the cluster has no GPUs (gpus_per_node: 0)";

    let (files, readme) = variant("sklearnserver, torchserve", "1");
    assert_eq!(
        files,
        [
            "00-namespace.yaml",
            "01-train-sklearn-iris.yaml",
            "02-build-torchserve-model.yaml",
            "README.md",
            "load-test.yaml",
            "pytorch-gpu.yaml",
            "sklearn-iris.yaml"
        ]
    );
    for why in [no_sklearn, no_torchserve, no_gpus] {
        assert!(!readme.contains(why), "{why}");
    }

    let (files, readme) = variant("huggingfaceserver", "4");
    assert_eq!(files, ["00-namespace.yaml", "README.md"]);
    assert!(
        readme.contains(no_sklearn) && readme.contains(no_torchserve),
        "{readme}"
    );
    assert!(!readme.contains(no_gpus));

    let (files, readme) = variant("sklearnserver, torchserve", "0");
    assert_eq!(
        files,
        [
            "00-namespace.yaml",
            "01-train-sklearn-iris.yaml",
            "README.md",
            "load-test.yaml",
            "sklearn-iris.yaml"
        ]
    );
    assert!(
        readme.contains(no_gpus) && !readme.contains(no_torchserve),
        "{readme}"
    );
}

/// Examples of environment `airgap` rendered from the default matrix with one edit there.
fn airgap_examples(from: &str, to: &str) -> std::collections::BTreeMap<String, String> {
    let airgap = MATRIX.find("\n  airgap:\n").expect("airgap");
    assert!(MATRIX[airgap..].contains(from), "airgap has no {from:?}");
    let text = format!(
        "{}{}",
        &MATRIX[..airgap],
        MATRIX[airgap..].replacen(from, to, 1)
    );
    deploygen::render("matrix.yaml", text.as_bytes())
        .expect("renders")
        .into_iter()
        .filter_map(|(p, t)| {
            p.strip_prefix("examples/airgap/")
                .map(|name| (name.to_string(), t))
        })
        .collect()
}

#[test]
fn the_smoke_test_namespace_is_under_mtls_only_when_mtls_names_it() {
    let mtls = "      mtls:\n        mode: strict\n        namespaces: [kserve-test]\n";
    let on = airgap_examples(mtls, mtls);
    assert!(on["00-namespace.yaml"].contains("Under mTLS (STRICT)"));
    assert!(on["00-namespace.yaml"].contains("istio-injection: enabled"));
    for (what, other) in [
        (
            "another namespace",
            "      mtls:\n        mode: strict\n        namespaces: [models]\n",
        ),
        (
            "mTLS off",
            "      mtls:\n        mode: \"off\"\n        namespaces: []\n",
        ),
    ] {
        let ex = airgap_examples(mtls, other);
        assert!(!ex["00-namespace.yaml"].contains("mTLS"), "{what}");
        assert!(!ex["README.md"].contains("mTLS STRICT"), "{what}");
    }
}

#[test]
fn the_load_test_runs_the_image_it_names_from_the_mirror() {
    // Another extra image listed first: the load test still takes busybox, mirrored.
    let ex = airgap_examples(
        "    extra_images: *extra\n",
        "    extra_images:\n      - {image: docker.io/library/alpine:3.20.3, list: smoke-tests, why: a shell for debugging}\n      - {image: docker.io/library/busybox:1.36.1, list: smoke-tests, why: the load test}\n",
    );
    let job = &ex["load-test.yaml"];
    assert!(
        job.contains("image: \"10.61.3.31:35000/library/busybox:1.36.1\"\n"),
        "{job}"
    );
    assert!(!job.contains("alpine"), "{job}");
}

/// The tree is the same bytes whether the work is spread over the cores or done on one thread
/// (`base::par`): 12 environments, mixing the default matrix's online and air-gapped ones, so
/// the planning, rendering, self-check and hashing all split.
#[test]
fn the_tree_is_the_same_on_one_thread_and_on_many() {
    let mut m: Value = serde_yaml::from_str(MATRIX).expect("default matrix");
    let envs = m["environments"].as_mapping_mut().expect("environments");
    let originals: Vec<(Value, Value)> = envs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    envs.clear();
    for i in 0..12 {
        let (name, env) = &originals[i % originals.len()];
        envs.insert(
            format!("{}-{i:02}", name.as_str().expect("a name")).into(),
            env.clone(),
        );
    }
    let text = serde_yaml::to_string(&m).expect("serializes");
    let many = deploygen::render("matrix.yaml", text.as_bytes()).expect("renders");
    let one = deploygen::base::par::serially(|| deploygen::render("matrix.yaml", text.as_bytes()))
        .expect("renders");
    assert!(many.len() > 150, "{}", many.len());
    assert_eq!(many, one);
}
