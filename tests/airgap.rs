//! Air-gap completeness: every shipped image is listed, and its mirror reference is what the
//! rendered values set, from one catalog record; no public registry is left in air-gap files.

mod common;

use common::{run, stdout, workdir, MATRIX};
use deploygen::catalog::{SetAt, ValuesKeys};
use deploygen::render::values::get_path;

const PUBLIC: [&str; 7] = [
    "docker.io",
    "gcr.io",
    "quay.io",
    "ghcr.io",
    "registry.k8s.io",
    "nvcr.io",
    "registry.istio.io",
];

fn yaml(text: &str) -> serde_json::Value {
    serde_yaml::from_str(text).unwrap()
}

#[test]
fn every_image_record_yields_both_the_list_entry_and_the_override() {
    let plan = deploygen::plan("matrix.yaml", MATRIX.as_bytes()).unwrap();
    let tree = deploygen::render::render_tree(&plan).unwrap();
    let env = plan
        .environments
        .iter()
        .find(|e| e.name == "airgap")
        .unwrap();
    let mut checked = 0;
    // Catalog records only: matrix extra images (the load test's busybox) have no release.
    for img in env.images.iter().filter(|i| i.component != "extra") {
        let release = plan.releases.iter().find(|r| r.name == img.app).unwrap();
        let values = yaml(&tree[&format!("environments/airgap/{}.yaml", img.app)]);
        let root = release
            .values_root()
            .map(|r| format!("{r}."))
            .unwrap_or_default();
        let list = tree.get(&format!(
            "airgap/kubespray-offline/imagelists/{}.txt",
            img.app
        ));
        // Listed exactly when shipped.
        let listed = list.is_some_and(|l| l.lines().any(|line| line == img.source.to_string()));
        assert_eq!(
            listed, img.shipped,
            "{} listed={listed} shipped={}",
            img.source, img.shipped
        );
        let t = &img.target;
        assert!(t.to_string().starts_with("10.61.3.31:35000/"), "{t}");
        for s in &img.set {
            let at = |p: &str| {
                get_path(&values, &format!("{root}{p}"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            match s {
                SetAt::Values(ValuesKeys::RepositoryTag { repository, tag }) => {
                    assert_eq!(at(repository), Some(t.repository()), "{}", img.id);
                    assert_eq!(at(tag), t.tag.clone(), "{}", img.id);
                }
                SetAt::Values(ValuesKeys::Reference { reference }) => {
                    assert_eq!(at(reference), Some(t.to_string()))
                }
                SetAt::Values(ValuesKeys::RepositoryDigest { repository, digest }) => {
                    assert_eq!(at(repository), Some(t.repository()), "{}", img.id);
                    assert_eq!(at(digest), t.digest.clone(), "{}", img.id);
                }
                SetAt::Hub { hub, tag } => {
                    assert_eq!(at(hub), Some(t.hub()));
                    assert_eq!(at(tag), t.tag.clone());
                }
                SetAt::KnativeOverride(key) => {
                    let v = &values["knativeServing"]["registry"]["override"][key];
                    assert_eq!(v.as_str(), Some(t.to_string().as_str()), "{key}");
                }
                SetAt::KnativeConfig { configmap, key } => {
                    let v = &values["knativeServing"]["config"][configmap][key];
                    assert_eq!(
                        v.as_str(),
                        Some(t.to_string().as_str()),
                        "{configmap}/{key}"
                    );
                }
                SetAt::Follows(id) => {
                    let followed = env
                        .images
                        .iter()
                        .find(|i| &i.id == id && i.app == img.app)
                        .unwrap();
                    assert_eq!(followed.target.repository(), t.repository());
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "checked {checked} image keys");
}

#[test]
fn queue_proxy_net_istio_and_the_operator_are_listed() {
    let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).unwrap();
    let kn = &tree["airgap/kubespray-offline/imagelists/knative-serving.txt"];
    for needle in [
        "serving/cmd/queue@sha256:",
        "net-istio/cmd/controller@sha256:",
        "net-istio/cmd/webhook@sha256:",
        "cmd/migrate@sha256:",
        "cleanup/cmd/cleanup@sha256:",
        "cmd/autoscaler-hpa@sha256:",
    ] {
        assert!(
            kn.contains(needle),
            "{needle} missing from the Knative list"
        );
    }
    let op = &tree["airgap/kubespray-offline/imagelists/knative-operator.txt"];
    assert!(
        op.contains("operator/cmd/operator:v1.15.10")
            && op.contains("operator/cmd/webhook:v1.15.10")
    );
    let ks = &tree["airgap/kubespray-offline/imagelists/kserve.txt"];
    assert!(
        ks.contains("docker.io/kserve/agent:v0.14.1")
            && ks.contains("quay.io/brancz/kube-rbac-proxy:v0.18.0")
    );
    assert!(
        !ks.contains("tritonserver"),
        "a disabled runtime is not shipped"
    );
}

#[test]
fn image_lists_are_sorted_unique_qualified_and_pinned() {
    let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).unwrap();
    for (path, text) in tree
        .iter()
        .filter(|(p, _)| p.starts_with("airgap/kubespray-offline/imagelists/"))
    {
        assert!(text.starts_with("# Generated by deploygen"), "{path}");
        let refs: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let mut sorted = refs.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(refs, sorted, "{path}");
        for r in refs {
            let parsed = deploygen::base::image::ImageRef::parse(r).unwrap();
            assert!(PUBLIC.contains(&parsed.registry.as_str()), "{r}");
            assert_ne!(parsed.tag.as_deref(), Some("latest"));
        }
    }
}

#[test]
fn no_public_registry_remains_in_airgap_values() {
    let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).unwrap();
    let mut seen = 0;
    let airgap = |p: &str| {
        p.starts_with("environments/airgap/")
            || (p.starts_with("examples/airgap/") && p.ends_with(".yaml"))
    };
    for (path, text) in tree.iter().filter(|(p, _)| airgap(p)) {
        for host in PUBLIC {
            assert!(!text.contains(&format!("{host}/")), "{path} names {host}");
        }
        seen += 1;
    }
    assert!(seen >= 12);
    // Disabled runtimes are rewritten too (the chart cannot switch them off).
    let kserve = &tree["environments/airgap/kserve.yaml"];
    assert!(
        kserve.contains("image: 10.61.3.31:35000/nvidia/tritonserver"),
        "{kserve}"
    );
}

#[test]
fn images_command_prints_mirror_or_upstream_references() {
    let dir = workdir(MATRIX);
    let o = run(dir.path(), &["images", "--env", "airgap", "--mirror"]);
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    // 27 catalog images and the load test's busybox (an extra image).
    assert_eq!(lines.len(), 28);
    assert!(
        lines.iter().all(|l| l.starts_with("10.61.3.31:35000/")),
        "{lines:?}"
    );
    let o = run(dir.path(), &["images", "--env", "airgap"]);
    assert!(stdout(&o)
        .lines()
        .all(|l| PUBLIC.iter().any(|h| l.starts_with(&format!("{h}/")))));
    let o = run(
        dir.path(),
        &["images", "--env", "airgap", "--format", "json"],
    );
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let queue = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "knative-queue-proxy")
        .unwrap();
    assert_eq!(queue["app"], "knative-serving");
    assert_eq!(queue["component"], "knative");
    assert!(queue["mirror"]
        .as_str()
        .unwrap()
        .starts_with("10.61.3.31:35000/knative-releases/"));
    assert_eq!(
        queue["set"][1],
        "KnativeServing spec.config.deployment[queue-sidecar-image]"
    );
    // online has no mirror: --mirror is refused, plainly.
    let o = run(dir.path(), &["images", "--env", "online", "--mirror"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn extra_images_are_listed_and_mirrored() {
    let m = MATRIX.replace(
        "    extra_images: *extra\n",
        "    extra_images:\n      - image: docker.io/library/busybox:1.36.1\n        list: smoke-tests\n        why: the load test\n      - image: registry.example.com/team/llm-server:1.2.0\n        list: team-models\n        why: the team's own model server\n",
    );
    let m = m.replace(
        "    - registry.k8s.io\n",
        "    - registry.k8s.io\n    - registry.example.com\n",
    );
    let tree = deploygen::render("matrix.yaml", m.as_bytes()).unwrap();
    let list = &tree["airgap/kubespray-offline/imagelists/team-models.txt"];
    assert!(list
        .lines()
        .any(|l| l == "registry.example.com/team/llm-server:1.2.0"));
}
