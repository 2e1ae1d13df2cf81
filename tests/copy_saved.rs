//! The copy script's path for a cut-off site (`airgap/copy-images.sh save` on the connected
//! side, `push-saved` on the site), run with a fake `skopeo` that records its calls and keeps
//! an OCI layout's references and digests in `fake-index`: the layout holds every image
//! `deploygen images --env ENV` lists, under its mirror path, with its pinned digest, and the
//! push moves each one into the mirror and checks the digest it was saved with.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{run, stderr, stdout};
use deploygen::base::image::ImageRef;

const MIRROR: &str = "192.168.56.11:35000";

/// Records every call in `$SKOPEO_LOG`; `inspect` finds nothing; `copy` gives a docker source
/// its pinned digest (or a hash of its name), an `oci:DIR:REF` source the digest DIR's
/// fake-index holds for REF (failing when there is none), records an `oci:DIR:REF`
/// destination in DIR/fake-index, and writes the digest to `--digestfile`.
const FAKE_SKOPEO: &str = r#"#!/bin/sh
echo "$*" >>"$SKOPEO_LOG"
[ "$1" = inspect ] && exit 1
[ "$1" = copy ] || exit 0
shift
digestfile=
while [ "$#" -gt 2 ]; do
  case "$1" in --digestfile) digestfile="$2"; shift 2 ;; *) shift ;; esac
done
src="$1" dst="$2"
case "$src" in
  oci:*)
    rest="${src#oci:}"; dir="${rest%%:*}"; ref="${rest#*:}"
    d="$(awk -v r="$ref" '$1 == r { print $2 }' "$dir/fake-index")"
    [ -n "$d" ] || { echo "fake skopeo: no $ref in $dir" >&2; exit 1; } ;;
  docker://*@sha256:*) d="sha256:${src##*@sha256:}" ;;
  docker://*) d="sha256:$(printf %s "$src" | sha256sum | cut -d' ' -f1)" ;;
  *) echo "fake skopeo: source $src" >&2; exit 1 ;;
esac
case "$dst" in
  oci:*)
    rest="${dst#oci:}"; dir="${rest%%:*}"; ref="${rest#*:}"
    mkdir -p "$dir"
    echo '{"imageLayoutVersion": "1.0.0"}' >"$dir/oci-layout"
    echo "$ref $d" >>"$dir/fake-index" ;;
  docker://*) ;;
  *) echo "fake skopeo: destination $dst" >&2; exit 1 ;;
esac
[ -z "$digestfile" ] || printf %s "$d" >"$digestfile"
"#;

struct Site {
    dir: tempfile::TempDir,
    path: String,
}

impl Site {
    /// The default matrix, with environment `online` mirrored too (its runtimes differ from
    /// airgap's), rendered into a temp folder beside a fake skopeo.
    fn new() -> Site {
        let matrix =
            common::MATRIX.replacen("  online:\n", "  online:\n    mirror: 10.9.8.7:5000\n", 1);
        assert_ne!(matrix, common::MATRIX);
        let dir = common::workdir(&matrix);
        let out = run(dir.path(), &["render"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let fake = dir.path().join("fakebin");
        std::fs::create_dir_all(&fake).unwrap();
        std::fs::write(fake.join("skopeo"), FAKE_SKOPEO).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(fake.join("skopeo"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let path = format!(
            "{}:{}",
            fake.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Site { dir, path }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn at(&self, p: &str) -> PathBuf {
        self.root().join(p)
    }

    fn log(&self) -> PathBuf {
        self.at("skopeo.log")
    }

    /// `airgap/copy-images.sh ARGS`, the skopeo log emptied first.
    fn script(&self, args: &[&str]) -> Output {
        let _ = std::fs::remove_file(self.log());
        Command::new(self.at("airgap/copy-images.sh"))
            .args(args)
            .env("PATH", &self.path)
            .env("SKOPEO_LOG", self.log())
            .current_dir(self.root())
            .output()
            .unwrap()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// What `deploygen images --env ENV` lists.
    fn images(&self, env: &str) -> BTreeSet<String> {
        let out = run(self.root(), &["images", "--env", env]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).lines().map(str::to_string).collect()
    }
}

/// The mirror path (and layout reference) of an image, as the values name it.
fn destination(image: &str) -> String {
    let r = ImageRef::parse(image).unwrap();
    match (&r.tag, &r.digest) {
        (Some(t), _) => format!("{}:{t}", r.path),
        (None, Some(d)) => format!("{}:{}", r.path, d.replace(':', "-")),
        _ => unreachable!("{image}"),
    }
}

/// The saved list of a layout: (destination, digest, source) per image.
fn saved(layout: &Path) -> Vec<(String, String, String)> {
    std::fs::read_to_string(layout.join("deploygen-images.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect()
}

/// The layout holds exactly `images`, each under its mirror path, pinned ones with their digest.
fn assert_layout_holds(layout: &Path, images: &BTreeSet<String>) {
    let list = saved(layout);
    let sources: BTreeSet<String> = list.iter().map(|(_, _, s)| s.clone()).collect();
    assert_eq!(&sources, images);
    let index = std::fs::read_to_string(layout.join("fake-index")).unwrap();
    for (dest, digest, source) in &list {
        assert_eq!(dest, &destination(source));
        assert!(digest.starts_with("sha256:"), "{digest}");
        if let Some((_, pinned)) = source.split_once('@') {
            assert_eq!(digest, pinned, "{source} keeps its digest");
        }
        assert!(
            index.lines().any(|l| l == format!("{dest} {digest}")),
            "{dest} is in the layout"
        );
    }
}

#[test]
fn one_environment_saved_to_an_oci_layout_and_pushed_keeps_every_image_and_digest() {
    let site = Site::new();
    let airgap = site.images("airgap");
    let online = site.images("online");
    // Operator-managed images (Serving's, pinned by digest) are among them.
    assert!(airgap
        .iter()
        .any(|i| i.contains("/serving/cmd/queue@sha256:")));
    assert!(online.iter().any(|i| i.contains("xgbserver")));
    assert!(!airgap.iter().any(|i| i.contains("xgbserver")));

    for (env, images) in [("airgap", &airgap), ("online", &online)] {
        let layout = site.at(&format!("{env}-layout"));
        let out = site.script(&["--env", env, "save", layout.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_layout_holds(&layout, images);
        let calls = site.calls();
        assert_eq!(calls.len(), images.len(), "{calls:#?}");
        for c in &calls {
            assert!(
                c.starts_with("copy --all --preserve-digests --digestfile "),
                "{c}"
            );
            assert!(c.contains(&format!(" oci:{}:", layout.display())), "{c}");
        }

        let out = site.script(&["push-saved", layout.to_str().unwrap(), MIRROR]);
        assert!(out.status.success(), "{}", stderr(&out));
        let copies: Vec<String> = site
            .calls()
            .into_iter()
            .filter(|c| c.starts_with("copy "))
            .collect();
        assert_eq!(copies.len(), images.len(), "{copies:#?}");
        for image in images {
            let dest = destination(image);
            let want = format!(" oci:{}:{dest} docker://{MIRROR}/{dest}", layout.display());
            let c = copies
                .iter()
                .find(|c| c.ends_with(&want))
                .unwrap_or_else(|| panic!("{image} not pushed: {copies:#?}"));
            assert!(c.starts_with("copy --all --preserve-digests "), "{c}");
        }
        assert!(stdout(&out).contains(&format!("{} pushed", images.len())));
    }

    // Registry to registry, one environment: its images only.
    let out = site.script(&["--env", "online", MIRROR]);
    assert!(out.status.success(), "{}", stderr(&out));
    let copied: BTreeSet<String> = site
        .calls()
        .iter()
        .filter(|c| c.starts_with("copy "))
        .map(|c| {
            c.split(' ')
                .rev()
                .nth(1)
                .unwrap()
                .trim_start_matches("docker://")
                .to_string()
        })
        .collect();
    assert_eq!(copied, online);

    // Every mirrored environment: the union.
    let all = site.at("all-layout");
    let out = site.script(&["save", all.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_layout_holds(&all, &airgap.union(&online).cloned().collect());
}

#[test]
fn an_oci_archive_is_saved_and_pushed_too() {
    let site = Site::new();
    let airgap = site.images("airgap");
    let archive = site.at("airgap.tar");
    let out = site.script(&["--env", "airgap", "save", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The archive is a tar of the layout.
    let unpacked = site.at("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&unpacked)
        .arg("-xf")
        .arg(&archive)
        .status()
        .unwrap();
    assert!(tar.success());
    assert!(unpacked.join("oci-layout").is_file());
    let list = saved(&unpacked);
    let sources: BTreeSet<String> = list.iter().map(|(_, _, s)| s.clone()).collect();
    assert_eq!(sources, airgap);

    let out = site.script(&["push-saved", archive.to_str().unwrap(), MIRROR]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pushes = site
        .calls()
        .iter()
        .filter(|c| {
            c.starts_with("copy --all --preserve-digests ")
                && c.contains(&format!(" docker://{MIRROR}/"))
        })
        .count();
    assert_eq!(pushes, airgap.len());
}

#[test]
fn a_digest_that_changed_between_save_and_push_fails_the_push() {
    let site = Site::new();
    let layout = site.at("layout");
    let out = site.script(&["--env", "airgap", "save", layout.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The layout's copy of one tagged image is not what was saved.
    let index = std::fs::read_to_string(layout.join("fake-index")).unwrap();
    let (first, rest) = index.split_once('\n').unwrap();
    let (reference, _) = first.split_once(' ').unwrap();
    std::fs::write(
        layout.join("fake-index"),
        format!("{reference} sha256:{}\n{rest}", "0".repeat(64)),
    )
    .unwrap();
    let out = site.script(&["push-saved", layout.to_str().unwrap(), MIRROR]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!("{reference} was pushed as sha256:000")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_arguments_are_refused_before_any_copy() {
    let site = Site::new();
    for (args, needle) in [
        (
            vec!["--env", "nope", "save", "x"],
            "no mirrored environment 'nope'; they are: airgap online",
        ),
        (vec!["save", "a:b"], "no ':' allowed"),
        (vec!["push-saved", "x", "bad host;rm"], "is not a registry"),
        (
            vec!["--env", "airgap", "push-saved", "x", MIRROR],
            "--env belongs to save",
        ),
        (
            vec!["push-saved", "empty", MIRROR],
            "holds no deploygen-images.txt",
        ),
        (vec!["save"], "usage:"),
        (vec![], "usage:"),
    ] {
        let out = site.script(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert!(site.calls().is_empty(), "{args:?}");
    }
}
