//! The digest-safe way to fill a mirror, generated beside the image lists:
//! - `<airgap>/copy-images.sh MIRROR`: every listed image copied with `skopeo copy --all`
//!   (every platform of a multi-arch index, so `@sha256:` references keep their digest),
//!   safe to re-run (a digest already in the mirror is skipped; a tag is copied again, which
//!   skopeo does without re-sending blobs the mirror has);
//! - `<airgap>/images-by-digest.txt`: the references pinned by digest, which docker-based push
//!   scripts (`docker pull/tag/push`, `docker save`) cannot move: they split names on `:` and
//!   `/`, docker refuses to tag a digest, and `docker save` keeps one platform.

use std::collections::BTreeSet;

use crate::base::image::ImageRef;
use crate::model::layout::Layout;
use crate::plan::Plan;

/// Every image a mirrored environment ships, sorted, unique.
fn shipped(plan: &Plan) -> BTreeSet<ImageRef> {
    plan.environments
        .iter()
        .filter(|e| e.mirror().is_some())
        .flat_map(|e| e.shipped_images().map(|i| i.source.clone()))
        .collect()
}

/// The files, as (path, text); none when no environment has a mirror.
pub fn files(plan: &Plan) -> Vec<(String, String)> {
    let images = shipped(plan);
    if images.is_empty() {
        return Vec::new();
    }
    let dir = &plan.matrix.layout.airgap;
    let mut digests = crate::base::generated::header(&plan.matrix_file, "#");
    digests.push_str(
        "# References pinned by digest (multi-arch indexes). docker-based push scripts cannot move\n\
         # them (docker refuses to tag a digest; `docker save` keeps one platform and changes the\n\
         # digest): copy these with copy-images.sh (skopeo copy --all) instead.\n",
    );
    for i in images.iter().filter(|i| i.digest.is_some()) {
        digests.push_str(&i.to_string());
        digests.push('\n');
    }
    vec![
        (Layout::join(dir, "copy-images.sh"), script(plan, &images)),
        (Layout::join(dir, "images-by-digest.txt"), digests),
    ]
}

/// The destination of `source` in `$mirror`, as the script writes it: the path without the
/// source host; a tag kept; a digest-only reference gets the tag `sha256-<hex>` (a registry
/// stores a manifest under a tag; pods pull it by its digest, which --preserve-digests keeps).
fn destination(i: &ImageRef) -> String {
    match (&i.tag, &i.digest) {
        (Some(t), _) => format!("{}:{t}", i.path),
        (None, Some(d)) => format!("{}:{}", i.path, d.replace(':', "-")),
        (None, None) => i.path.clone(),
    }
}

fn script(plan: &Plan, images: &BTreeSet<ImageRef>) -> String {
    let mut s = String::from("#!/usr/bin/env bash\n");
    s.push_str(&crate::base::generated::header(&plan.matrix_file, "#"));
    s.push_str(&format!(
        r#"#
# Copies every image the mirrored environments need into MIRROR with all platforms
# (skopeo copy --all --preserve-digests): multi-arch digests stay what the values reference.
# The mirror path is MIRROR/<path without the source registry host>, as in the values.
# Safe to re-run: an image pinned by digest that the mirror already holds is skipped; tagged
# images are copied again (skopeo sends only the blobs the mirror lacks).
#
# Usage: {script} MIRROR            e.g. {script} 192.168.56.11:35000
#   SKOPEO_OPTS          extra options of `skopeo copy`, e.g. "--dest-tls-verify=false"
#                        (a plain-HTTP mirror) or "--dest-creds user:password"
#   SKOPEO_INSPECT_OPTS  the same for `skopeo inspect` ("--tls-verify=false", "--creds u:p")
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 MIRROR (host[:port][/path], e.g. 192.168.56.11:35000)" >&2
  exit 2
fi
mirror="$1"
pattern='{pattern}'
if ! [[ "$mirror" =~ $pattern ]]; then
  echo "$0: '$mirror' is not a registry host[:port][/path]" >&2
  exit 2
fi
read -r -a opts <<<"${{SKOPEO_OPTS:-}}"
read -r -a iopts <<<"${{SKOPEO_INSPECT_OPTS:-}}"

copied=0 skipped=0
copy() {{ # SOURCE DESTINATION [DIGEST]
  local src="$1" dest="$mirror/$2" digest="${{3:-}}"
  if [ -n "$digest" ] && skopeo inspect --raw "${{iopts[@]}}" "docker://${{dest%:*}}@$digest" >/dev/null 2>&1; then
    echo "present $dest@$digest"
    skipped=$((skipped + 1))
    return
  fi
  echo "copy    $src -> $dest"
  skopeo copy --all --preserve-digests "${{opts[@]}}" "docker://$src" "docker://$dest"
  copied=$((copied + 1))
}}

"#,
        script = "copy-images.sh",
        pattern = crate::model::mirror::REGISTRY_PATTERN,
    ));
    for i in images {
        // References are validated against the OCI grammar: no quote or space can occur.
        match &i.digest {
            Some(d) => s.push_str(&format!("copy '{i}' '{}' '{d}'\n", destination(i))),
            None => s.push_str(&format!("copy '{i}' '{}'\n", destination(i))),
        }
    }
    s.push_str(&format!(
        "\necho \"{} images: $copied copied, $skipped already in $mirror\"\n",
        images.len()
    ));
    s
}
