//! Astrago's deployment repository (`main` layout): the stack as a sub-helmfile, the registry
//! bound at install time, the parent helmfile check, vendored charts, the digest-safe copy
//! script, gateway exposure and overrides. The rendered-proof half (helmfile template with the
//! real charts, audit) is `.ci/astrago-layout`.

mod common;

use std::path::Path;

use common::{run, stderr, stdout};

const ASTRAGO: &str = include_str!("../examples/astrago/matrix.yaml");
const MATRIX: &str = "applications/kserve/matrix.yaml";
const PARENT: &str = "environments:\n  prod:\n    values: [environments/prod/values.yaml]\n  dev:\n    values: [environments/dev/values.yaml]\n  stage:\n    values: [environments/stage/values.yaml]\n  astrago:\n    values: [environments/astrago/values.yaml]\n---\nhelmfiles:\n  - path: applications/csi-driver-nfs/helmfile.yaml\n  - path: applications/kserve/helmfile.yaml\n    values:\n      - {{ toYaml .Values | nindent 8 }}\n";

/// A scratch repository like Astrago's main with `matrix` at applications/kserve/matrix.yaml.
fn repo(matrix: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("applications/kserve")).unwrap();
    std::fs::create_dir_all(root.join("airgap/kubespray-offline/imagelists")).unwrap();
    std::fs::write(root.join(MATRIX), matrix).unwrap();
    std::fs::write(root.join("helmfile.yaml"), PARENT).unwrap();
    std::fs::write(root.join("COMPONENT_VERSIONS.md"), "# Astrago's own\n").unwrap();
    dir
}

fn unvendored() -> String {
    let m = archives().replace("vendored_charts: true", "vendored_charts: false");
    assert_ne!(m, ASTRAGO);
    m
}

/// The example with its charts vendored as archives (it ships them unpacked).
fn archives() -> String {
    let m = ASTRAGO.replace("  vendored_as: unpacked\n", "");
    assert_ne!(m, ASTRAGO);
    m
}

fn read(root: &Path, p: &str) -> String {
    std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn renders_as_a_sub_helmfile_with_paths_from_its_own_folder() {
    let dir = repo(&unvendored());
    let root = dir.path();
    let out = run(root, &["render", "--matrix", MATRIX]);
    assert!(out.status.success(), "{}", stderr(&out));
    let helmfile = read(root, "applications/kserve/helmfile.yaml");
    assert!(
        helmfile.contains("chart: \"./charts/kserve\""),
        "{helmfile}"
    );
    assert!(helmfile.contains("- \"environments/{{ .Environment.Name }}/kserve.yaml.gotmpl\""));
    assert!(helmfile.contains("- \"environments/astrago/environment.yaml\""));
    assert!(root
        .join("applications/kserve/charts/kserve/Chart.yaml")
        .is_file());
    assert!(root
        .join("applications/kserve/environments/astrago/kserve.yaml.gotmpl")
        .is_file());
    // The image list at the root, one for the whole app; the root files are not touched.
    let list = read(root, "airgap/kubespray-offline/imagelists/kserve.txt");
    assert!(list.contains("quay.io/jetstack/cert-manager-controller:v1.15.5"));
    assert_eq!(read(root, "COMPONENT_VERSIONS.md"), "# Astrago's own\n");
    assert_eq!(read(root, "helmfile.yaml"), PARENT);
    // Every path the helmfile names exists relative to the helmfile's folder.
    let base = root.join("applications/kserve");
    for line in helmfile.lines() {
        let t = line.trim().trim_start_matches("- ");
        if let Some(p) = t.strip_prefix("chart: ") {
            assert!(
                base.join(p.trim_matches('"')).join("Chart.yaml").is_file(),
                "{p}"
            );
        }
        if t.starts_with("\"environments/") {
            let p = t
                .trim_matches('"')
                .replace("{{ .Environment.Name }}", "prod");
            assert!(base.join(&p).is_file(), "{p}");
        }
    }
    // Each bound environment's values read offline.registry first: empty, the upstream
    // registries (`when_empty: upstream`); else the value checked, then used.
    let v = read(
        root,
        "applications/kserve/environments/astrago/istiod.yaml.gotmpl",
    );
    assert!(v.contains(r#".Values | get "offline.registry" """#), "{v}");
    assert!(!v.contains("required"), "{v}");
    assert!(
        v.contains(r#"{{- if or (eq $registry "") (eq $registry "<nil>") }}"#),
        "{v}"
    );
    let (online, mirrored) = v.split_once("{{- else }}").expect("two branches");
    assert!(!online.contains("print $registry"), "{online}");
    assert!(mirrored.contains("regexMatch"), "{v}");
    assert!(
        v.contains(r#"hub: {{ print $registry "/istio" | toJson }}"#),
        "{v}"
    );
    assert!(!v.contains("docker.io"), "{v}");
    // An online environment: plain strings, no registry read.
    let v = read(
        root,
        "applications/kserve/environments/dev/istiod.yaml.gotmpl",
    );
    assert!(!v.contains("$registry"), "{v}");
    // NodePort exposure with fixed ports.
    let g = read(
        root,
        "applications/kserve/environments/astrago/istio-ingressgateway.yaml.gotmpl",
    );
    assert!(g.contains(r#"type: {{ "NodePort" | toJson }}"#), "{g}");
    assert!(g.contains("nodePort: 31380"), "{g}");
    // The whole tree is current, and the parent includes the stack in all its environments.
    let out = run(root, &["check", "--matrix", MATRIX]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("includes applications/kserve/helmfile.yaml"));
}

#[test]
fn the_parent_check_names_an_environment_the_matrix_lacks() {
    let without_stage = {
        let m = unvendored();
        let start = m.find("  stage:\n").unwrap();
        m[..start].to_string()
    };
    let dir = repo(&without_stage);
    let root = dir.path();
    assert!(run(root, &["render", "--matrix", MATRIX]).status.success());
    let out = run(root, &["check", "--matrix", MATRIX]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "helmfile.yaml:6: environment `stage` is declared by the parent but not by matrix.yaml"
        ),
        "{err}"
    );
    // Knowingly excluded: the check passes.
    let excluded = without_stage.replace(
        "    helmfile: helmfile.yaml\n",
        "    helmfile: helmfile.yaml\n    excluded_environments:\n      - {environment: stage, reason: staging runs KServe from the vendor's own tree}\n",
    );
    std::fs::write(root.join(MATRIX), excluded).unwrap();
    assert!(run(root, &["render", "--matrix", MATRIX]).status.success());
    let out = run(root, &["check", "--matrix", MATRIX]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A parent that does not list the sub-helmfile.
    std::fs::write(
        root.join("helmfile.yaml"),
        PARENT.replace("applications/kserve/", "applications/other/"),
    )
    .unwrap();
    let out = run(root, &["check", "--matrix", MATRIX]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("does not include applications/kserve/helmfile.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_copy_script_copies_every_listed_image_with_all_platforms() {
    let dir = repo(&unvendored());
    let root = dir.path();
    assert!(run(root, &["render", "--matrix", MATRIX]).status.success());
    let fake = root.join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let log = root.join("skopeo.log");
    // inspect fails (nothing in the mirror yet); copy records its arguments.
    std::fs::write(
        fake.join("skopeo"),
        format!(
            "#!/bin/sh\necho \"$*\" >>'{}'\n[ \"$1\" = inspect ] && exit 1\nexit 0\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(fake.join("skopeo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = root.join("airgap/kserve/copy-images.sh");
    assert!(std::fs::metadata(&script).unwrap().permissions().mode() & 0o111 != 0);
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new(&script)
        .arg("192.168.56.11:35000")
        .env("PATH", &path)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = std::fs::read_to_string(&log).unwrap();
    let copies: Vec<Vec<&str>> = calls
        .lines()
        .filter(|l| l.starts_with("copy "))
        .map(|l| l.split(' ').collect())
        .collect();
    let listed: Vec<String> = read(root, "airgap/kubespray-offline/imagelists/kserve.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect();
    assert_eq!(copies.len(), listed.len(), "{calls}");
    for image in &listed {
        let src = format!("docker://{image}");
        let c = copies
            .iter()
            .find(|c| c.contains(&src.as_str()))
            .unwrap_or_else(|| panic!("{image} not copied:\n{calls}"));
        assert!(c.contains(&"--all"), "{c:?}");
        let r = deploygen::base::image::ImageRef::parse(image).unwrap();
        let want = match (&r.tag, &r.digest) {
            (Some(t), _) => format!("docker://192.168.56.11:35000/{}:{t}", r.path),
            (None, Some(d)) => format!(
                "docker://192.168.56.11:35000/{}:{}",
                r.path,
                d.replace(':', "-")
            ),
            _ => unreachable!(),
        };
        assert_eq!(c.last().copied(), Some(want.as_str()), "{image}");
        // Digest references are checked in the mirror first (re-runs skip them).
        if let Some(d) = &r.digest {
            let inspected = format!("docker://192.168.56.11:35000/{}@{d}", r.path);
            assert!(calls.contains(&inspected), "{inspected}");
        }
    }
    // The list docker-based push scripts cannot handle: exactly the digest references and
    // the paths deeper than kubespray-offline's loader splits (Astrago's
    // load-push-all-images.sh: host$a$b$name$tag at most), the Knative Operator's own two.
    let digests = read(root, "airgap/kserve/images-by-digest.txt");
    let mut deep = Vec::new();
    for image in &listed {
        let r = deploygen::base::image::ImageRef::parse(image).unwrap();
        let too_deep = r.path.split('/').count() > 3;
        if too_deep && r.digest.is_none() {
            deep.push(image.as_str());
        }
        assert_eq!(
            digests.lines().any(|l| l == image),
            image.contains("@sha256:") || too_deep,
            "{image}"
        );
    }
    assert_eq!(
        deep,
        [
            "gcr.io/knative-releases/knative.dev/operator/cmd/operator:v1.15.10",
            "gcr.io/knative-releases/knative.dev/operator/cmd/webhook:v1.15.10"
        ]
    );
    // A malformed mirror is refused before any copy.
    let out = std::process::Command::new(&script)
        .arg("bad host;rm -rf /")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn vendored_archives_are_locked_and_a_tampered_one_fails_check() {
    let dir = repo(&archives());
    let root = dir.path();
    // Without archives: a located error, nothing written.
    let out = run(root, &["render", "--matrix", MATRIX]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("run `deploygen vendor --matrix applications/kserve/matrix.yaml --from DIR`"),
        "{}",
        stderr(&out)
    );
    assert!(!root.join("applications/kserve/helmfile.yaml").exists());
    // Archives as `helm pull` names them, each a chart with the pinned name and version
    // (vendor checks that much; the rest of the content is Helm's business).
    let pulled = root.join("pulled");
    std::fs::create_dir_all(&pulled).unwrap();
    for (chart, version) in [
        ("cert-manager", "v1.15.5"),
        ("base", "1.22.8"),
        ("istiod", "1.22.8"),
        ("gateway", "1.22.8"),
        ("knative-operator", "v1.15.10"),
        ("kserve-crd", "v0.14.1"),
        ("kserve", "v0.14.1"),
    ] {
        std::fs::write(
            pulled.join(format!("{chart}-{version}.tgz")),
            common::chart_tgz(chart, version),
        )
        .unwrap();
    }
    let out = run(root, &["vendor", "--matrix", MATRIX, "--from", "pulled"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let helmfile = read(root, "applications/kserve/helmfile.yaml");
    assert!(!helmfile.contains("repositories:"), "{helmfile}");
    assert!(helmfile.contains("skipDeps: true"));
    let lock = read(root, "applications/kserve/charts/versions.lock");
    assert!(lock.contains("kserve,kserve,v0.14.1,"), "{lock}");
    assert!(lock.contains(",kserve/charts/kserve-v0.14.1.tgz"), "{lock}");
    let manifest = read(root, ".deploygen-manifest");
    assert!(manifest.contains("applications/kserve/charts/versions.lock"));
    assert!(
        !manifest.contains(".tgz"),
        "archives are not generated files"
    );
    assert!(run(root, &["check", "--matrix", MATRIX]).status.success());
    // Tampered: check fails and names the archive.
    let archive = root.join("applications/kserve/charts/kserve/charts/kserve-v0.14.1.tgz");
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.push(b'x');
    std::fs::write(&archive, bytes).unwrap();
    let out = run(root, &["check", "--matrix", MATRIX]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("kserve-v0.14.1.tgz: sha256"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("differs from the lock"),
        "{}",
        stderr(&out)
    );
    // Re-vendoring restores it; a second vendor writes nothing.
    assert!(
        run(root, &["vendor", "--matrix", MATRIX, "--from", "pulled"])
            .status
            .success()
    );
    let out = run(root, &["vendor", "--matrix", MATRIX, "--from", "pulled"]);
    assert!(
        stdout(&out).contains("0 chart archives placed"),
        "{}",
        stdout(&out)
    );
    assert!(run(root, &["check", "--matrix", MATRIX]).status.success());
}

#[test]
fn images_and_audit_take_the_bound_registry_as_an_argument() {
    // A bound mirror that fails when empty (`when_empty: fail`, the default).
    let strict = unvendored().replace(", when_empty: upstream}", "}");
    assert_eq!(strict.matches("{from_value: offline.registry}").count(), 2);
    let dir = repo(&strict);
    let root = dir.path();
    let out = run(
        root,
        &["images", "--matrix", MATRIX, "--env", "astrago", "--mirror"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--registry"), "{}", stderr(&out));
    let out = run(
        root,
        &[
            "images",
            "--matrix",
            MATRIX,
            "--env",
            "astrago",
            "--mirror",
            "--registry",
            "192.168.56.11:35000",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().count() > 20);
    assert!(
        text.lines().all(|l| l.starts_with("192.168.56.11:35000/")),
        "{text}"
    );
    assert!(
        text.contains("192.168.56.11:35000/knative-releases/knative.dev/serving/cmd/queue@sha256:")
    );
    let out = run(
        root,
        &[
            "images",
            "--matrix",
            MATRIX,
            "--env",
            "dev",
            "--registry",
            "10.0.0.1:5000",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    // audit refuses a bound environment without the registry it was rendered with.
    std::fs::write(root.join("empty.yaml"), "").unwrap();
    let out = run(
        root,
        &[
            "audit",
            "--matrix",
            MATRIX,
            "--env",
            "astrago",
            "empty.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("offline.registry"),
        "{}",
        stderr(&out)
    );
    let out = run(
        root,
        &[
            "audit",
            "--matrix",
            MATRIX,
            "--env",
            "astrago",
            "--registry",
            "not a host",
            "empty.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn site_choices_are_checked_with_located_errors() {
    let bad = unvendored()
        .replace("controller:\n            nodeSelector:", "controller:\n            nodeSelectr:")
        .replace("http2: 31380", "http2: 80")
        .replace(
            "mirror: {from_value: offline.registry, when_empty: upstream}\n    serving_runtimes: *shipped\n    gateway: *gateway\n    operations: *airgap_ops\n",
            "mirror: {from_value: \"offline.{{registry}}\"}\n    serving_runtimes: *shipped\n    gateway: *gateway\n    operations: *airgap_ops\n",
        );
    let dir = repo(&bad);
    let out = run(dir.path(), &["render", "--matrix", MATRIX]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("environments.astrago.overrides.kserve.kserve.controller.nodeSelectr: chart kserve v0.14.1 has no values key `kserve.controller.nodeSelectr` (did you mean `nodeSelector`?)"),
        "{err}"
    );
    assert!(
        err.contains("gateway.node_ports.http2: 80 is outside"),
        "{err}"
    );
    assert!(
        err.contains(
            "environments.astrago.mirror.from_value: `offline.{{registry}}` is not a value path"
        ),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(common::files(dir.path()).len(), 3);
}

/// Astrago's online install leaves `offline.registry` empty (`when_empty: upstream`): the same
/// sub-helmfile renders with the real charts from the upstream registries when the value is
/// empty, from the mirror when install.sh wrote it, and refuses a malformed value; `audit`
/// proves each render against what `images` lists for that case.
#[test]
fn an_empty_bound_registry_installs_from_the_upstream_registries() {
    let dir = repo(&unvendored());
    let root = dir.path();
    let out = run(root, &["render", "--matrix", MATRIX]);
    assert!(out.status.success(), "{}", stderr(&out));
    let app = root.join("applications/kserve");
    // The sites of `main` run Helm 3.14, which ignores the Istio 1.22 gateway chart's schema
    // defect; the emulator runs Helm 4, which honours it, so it skips schema validation.
    let kube = ["--kube-version", "v1.28.6", "--skip-schema-validation"];
    let online = common::real::helmfile_template(&app, &[&["-e", "prod"][..], &kube].concat());
    let registry = "192.168.56.11:35000";
    let set = format!("offline.registry={registry}");
    let offline = common::real::helmfile_template(
        &app,
        &[&["-e", "prod", "--state-values-set", &set][..], &kube].concat(),
    );
    let images = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("image: "))
            .map(|i| i.trim_matches('"').to_string())
            .filter(|i| !i.contains("{{") && i != "auto")
            .collect()
    };
    let (on, off) = (images(&online), images(&offline));
    assert!(on.len() > 15 && off.len() == on.len(), "{on:?} {off:?}");
    assert!(on.iter().all(|i| !i.contains(registry)), "{on:?}");
    assert!(on.contains(&"quay.io/jetstack/cert-manager-controller:v1.15.5".to_string()));
    assert!(
        off.iter().filter(|i| i.starts_with(registry)).count() >= off.len() - 1,
        "{off:?}"
    );
    // Knative's tag resolution skips the mirror only where there is one.
    assert!(!online.contains(registry));
    assert!(offline.contains(&format!(
        "registries-skipping-tag-resolving: kind.local,ko.local,dev.local,{registry}"
    )));
    std::fs::write(root.join("online.yaml"), &online).unwrap();
    std::fs::write(root.join("offline.yaml"), &offline).unwrap();
    let audit = |args: &[&str]| {
        let mut all = vec!["audit", "--matrix", MATRIX, "--env", "prod"];
        all.extend_from_slice(args);
        run(root, &all)
    };
    let out = audit(&["online.yaml"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let out = audit(&["--registry", registry, "offline.yaml"]);
    assert!(out.status.success(), "{}", stdout(&out));
    // Each render fails the audit of the other case: the images are not what it pulls.
    let out = audit(&["offline.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let out = audit(&["--registry", registry, "online.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    // `images` without --registry lists what the online install pulls.
    let out = run(root, &["images", "--matrix", MATRIX, "--env", "prod"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("quay.io/jetstack/cert-manager-controller:v1.15.5"));
    // A malformed value is refused by the install, naming the value.
    let bad = std::process::Command::new(common::real::shared().join("tools/helmfile-template"))
        .args([
            "-e",
            "prod",
            "--state-values-set",
            "offline.registry=https://harbor.local",
        ])
        .args(kube)
        .arg("--charts")
        .arg(common::real::shared().join("upstream/charts"))
        .current_dir(&app)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("`offline.registry` must be a registry host[:port][/path]"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// A site's values cannot switch the stack by accident: Astrago's root passes its environment
/// values down to the stack, so a `knative: {enabled: false}` there (the kserve-integration
/// branch has a `knative:` key in its common values) leaves the Knative releases in, rendered
/// with the real charts from the root; a parent value under the stack's own key is refused
/// by `check`, naming file and line.
#[test]
fn the_parents_values_cannot_switch_the_stack() {
    let dir = repo(&unvendored());
    let root = dir.path();
    let out = run(root, &["render", "--matrix", MATRIX]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::create_dir_all(root.join("environments/prod")).unwrap();
    std::fs::write(
        root.join("environments/prod/values.yaml"),
        "offline:\n  registry: \"\"\nknative:\n  enabled: false\n",
    )
    .unwrap();
    let out = run(root, &["check", "--matrix", MATRIX]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Astrago's other app, with nothing in it here.
    std::fs::create_dir_all(root.join("applications/csi-driver-nfs")).unwrap();
    std::fs::write(
        root.join("applications/csi-driver-nfs/helmfile.yaml"),
        "environments: {prod: {}, dev: {}, stage: {}, astrago: {}}\n---\nreleases: []\n",
    )
    .unwrap();
    // helmfile v1 (the emulator) reads a templated root only as .gotmpl.
    let (v0, v1) = (
        root.join("helmfile.yaml"),
        root.join("helmfile.yaml.gotmpl"),
    );
    std::fs::rename(&v0, &v1).unwrap();
    let text = common::real::helmfile_template(
        root,
        &[
            "-e",
            "prod",
            "-l",
            "component=knative",
            "--kube-version",
            "v1.28.6",
            "--skip-schema-validation",
        ],
    );
    std::fs::rename(&v1, &v0).unwrap();
    assert!(
        text.contains("kind: KnativeServing"),
        "the Knative releases were left out"
    );
    std::fs::write(
        root.join("environments/prod/values.yaml"),
        "offline:\n  registry: \"\"\ndeploygen:\n  knative:\n    enabled: false\n",
    )
    .unwrap();
    let out = run(root, &["check", "--matrix", MATRIX]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out) + &stdout(&out);
    assert!(
        err.contains("environments/prod/values.yaml:3: defines `deploygen`"),
        "{err}"
    );
}

/// Issue 21: the example ships its charts unpacked, so Astrago's `.gitignore`
/// (`**/charts/*.tgz`) lets every one of them into git, and `check` passes with it in place.
#[test]
fn the_example_vendors_unpacked_charts_that_astragos_gitignore_lets_through() {
    let dir = repo(ASTRAGO);
    let root = dir.path();
    std::fs::write(root.join(".gitignore"), "/.idea/\n**/charts/*.tgz\n").unwrap();
    let pulled = root.join("pulled");
    std::fs::create_dir_all(&pulled).unwrap();
    let plan = deploygen::plan("matrix.yaml", ASTRAGO.as_bytes()).unwrap();
    for e in deploygen::cli::vendor::entries(&plan) {
        std::fs::write(
            pulled.join(format!("{}-{}.tgz", e.chart, e.version)),
            common::chart_tgz(&e.chart, &e.version),
        )
        .unwrap();
    }
    let out = run(root, &["vendor", "--matrix", MATRIX, "--from", "pulled"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(root
        .join("applications/kserve/charts/kserve/charts/kserve/Chart.yaml")
        .is_file());
    let lock = read(root, "applications/kserve/charts/versions.lock");
    assert!(lock.contains(",kserve/charts/kserve/,"), "{lock}");
    let out = run(root, &["check", "--matrix", MATRIX]);
    assert!(out.status.success(), "{}", stderr(&out));
}
