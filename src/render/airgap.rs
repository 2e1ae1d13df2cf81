//! The digest-safe way to fill a mirror, generated beside the image lists:
//! - `<airgap>/copy-images.sh`: every listed image copied with `skopeo copy --all
//!   --preserve-digests` (every platform of a multi-arch index, so `@sha256:` references keep
//!   their digest), for every mirrored environment or one (`--env ENV`), three ways:
//!   registry to registry (`MIRROR`: one machine reaches both); `save DIR|FILE.tar` to an OCI
//!   layout (or an OCI archive) on the connected side, with the digest of every image saved;
//!   `push-saved DIR|FILE.tar MIRROR` from that layout into the mirror on a cut-off site, each
//!   image checked against the digest it was saved with. Safe to re-run (a digest already in
//!   the mirror is skipped);
//! - `<airgap>/images-by-digest.txt`: the references docker-based push scripts cannot move:
//!   those pinned by digest (`docker pull/tag/push` and `docker save` split names on `:` and
//!   `/`, docker refuses to tag a digest, and `docker save` keeps one platform), and those
//!   whose path is deeper than kubespray-offline's loader splits (Astrago's).

use std::collections::{BTreeMap, BTreeSet};

use crate::base::image::ImageRef;
use crate::model::layout::Layout;
use crate::plan::Plan;

/// Every image a mirrored environment ships, sorted, unique, with the mirrored environments
/// that ship it.
fn shipped(plan: &Plan) -> BTreeMap<ImageRef, BTreeSet<&str>> {
    let mut images: BTreeMap<ImageRef, BTreeSet<&str>> = BTreeMap::new();
    for e in plan.environments.iter().filter(|e| e.mirror().is_some()) {
        for i in e.shipped_images() {
            images
                .entry(i.source.clone())
                .or_default()
                .insert(e.name.as_str());
        }
    }
    images
}

/// Path segments kubespray-offline's loader (Astrago's `load-push-all-images.sh`) splits: it
/// saves `host/a/b/name:tag` as `host$a$b$name$tag.tar.gz` and refuses a file name of other
/// than 3 to 5 `$`-separated parts, so a path deeper than three segments cannot be loaded
/// (`gcr.io/knative-releases/knative.dev/operator/cmd/operator:v1.15.10` has five).
const LOADER_MAX_SEGMENTS: usize = 3;

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
    for i in images.keys().filter(|i| i.digest.is_some()) {
        digests.push_str(&i.to_string());
        digests.push('\n');
    }
    let deep: Vec<&ImageRef> = images
        .keys()
        .filter(|i| i.digest.is_none() && i.path.split('/').count() > LOADER_MAX_SEGMENTS)
        .collect();
    if !deep.is_empty() {
        digests.push_str(&format!(
            "# Tagged, but with a path deeper than {LOADER_MAX_SEGMENTS} segments: kubespray-offline's loader\n\
             # (load-push-all-images.sh) saves them as host$a$b$...$tag.tar.gz and refuses more than\n\
             # 5 `$` parts. Copy these with copy-images.sh too.\n"
        ));
        for i in deep {
            digests.push_str(&i.to_string());
            digests.push('\n');
        }
    }
    vec![
        (Layout::join(dir, "copy-images.sh"), script(plan, &images)),
        (Layout::join(dir, "images-by-digest.txt"), digests),
    ]
}

/// The destination of `source` in `$mirror`, as the script writes it: the path without the
/// source host; a tag kept; a digest-only reference gets the tag `sha256-<hex>` (a registry
/// stores a manifest under a tag; pods pull it by its digest, which --preserve-digests keeps).
/// The same name is the image's reference in a saved OCI layout.
fn destination(i: &ImageRef) -> String {
    match (&i.tag, &i.digest) {
        (Some(t), _) => format!("{}:{t}", i.path),
        (None, Some(d)) => format!("{}:{}", i.path, d.replace(':', "-")),
        (None, None) => i.path.clone(),
    }
}

/// The script's fixed part; `@MIRRORED@` (the mirrored environments), `@PATTERN@` (a
/// registry) and `@IMAGES@` (one line per image) are filled in.
const SCRIPT: &str = r##"#
# Copies the images the mirrored environments (@MIRRORED@) need, with all platforms
# (skopeo copy --all --preserve-digests): multi-arch digests stay what the values reference.
# The mirror path is MIRROR/<path without the source registry host>, as in the values.
#
# Usage:
#   copy-images.sh [--env ENV] MIRROR
#       registry to registry, on a machine that reaches both, e.g. 192.168.56.11:35000
#   copy-images.sh [--env ENV] save DIR|FILE.tar
#       on the connected side: every image into an OCI layout DIR (or an OCI archive FILE.tar,
#       a tar of that layout), each under its mirror path (istio/pilot:1.22.8), with
#       DIR/deploygen-images.txt listing every image saved and its digest
#   copy-images.sh push-saved DIR|FILE.tar MIRROR
#       on the site: every image of the layout into MIRROR, each checked against the digest it
#       was saved with
# --env ENV: only what environment ENV ships (default: every mirrored environment).
# Safe to re-run: an image pinned by digest (or, for push-saved, any saved image) that the
# mirror already holds is skipped; tagged images are copied again (skopeo sends only the blobs
# the mirror lacks).
#   SKOPEO_OPTS          extra options of `skopeo copy`, e.g. "--dest-tls-verify=false"
#                        (a plain-HTTP mirror) or "--dest-creds user:password"
#   SKOPEO_INSPECT_OPTS  the same for `skopeo inspect` ("--tls-verify=false", "--creds u:p")
set -euo pipefail

usage() {
  echo "usage: $0 [--env ENV] MIRROR | [--env ENV] save DIR|FILE.tar | push-saved DIR|FILE.tar MIRROR" >&2
  echo "  MIRROR: host[:port][/path], e.g. 192.168.56.11:35000; ENV: one of @MIRRORED@" >&2
  exit 2
}
pattern='@PATTERN@'
registry() {
  if ! [[ "$1" =~ $pattern ]]; then
    echo "$0: '$1' is not a registry host[:port][/path]" >&2
    exit 2
  fi
}
layout_path() { # skopeo's oci: transport splits its argument at the first ':'
  if [ -z "$1" ] || [[ "$1" == *:* ]]; then
    echo "$0: '$1' is not a folder or .tar file skopeo can name (no ':' allowed)" >&2
    exit 2
  fi
}

env_name=""
if [ "${1:-}" = --env ]; then
  [ "$#" -ge 2 ] || usage
  env_name="$2"
  shift 2
  case " @MIRRORED@ " in
    *" $env_name "*) ;;
    *) echo "$0: no mirrored environment '$env_name'; they are: @MIRRORED@" >&2; exit 2 ;;
  esac
fi
mode=copy
case "${1:-}" in
  -h|--help) usage ;;
  save) [ "$#" -eq 2 ] || usage; mode=save; target="$2"; layout_path "$target" ;;
  push-saved)
    [ "$#" -eq 3 ] || usage
    [ -z "$env_name" ] || { echo "$0: push-saved pushes what was saved; --env belongs to save" >&2; exit 2; }
    mode=push; target="$2"; layout_path "$target"; mirror="$3"; registry "$mirror" ;;
  *) [ "$#" -eq 1 ] || usage; mirror="$1"; registry "$mirror" ;;
esac
read -r -a opts <<<"${SKOPEO_OPTS:-}"
read -r -a iopts <<<"${SKOPEO_INSPECT_OPTS:-}"
work="$(mktemp -d)"
stage=""
trap 'rm -rf "$work" ${stage:+"$stage"}' EXIT
staged() { # a layout folder beside FILE.tar (the same disk: images take gigabytes)
  stage="$(mktemp -d "$(dirname "$1")/.copy-images.XXXXXX")"
}

# SOURCE DESTINATION DIGEST (- when the reference has none) ENVIRONMENTS...
images() {
  cat <<'IMAGES'
@IMAGES@IMAGES
}
selected() { # the images of --env ENV, or all
  images | while read -r src dest digest envs; do
    if [ -z "$env_name" ] || [[ " $envs " == *" $env_name "* ]]; then
      echo "$src $dest $digest"
    fi
  done
}
present() { # REPOSITORY DIGEST: the mirror holds it
  skopeo inspect --raw "${iopts[@]}" "docker://$1@$2" >/dev/null 2>&1
}

copied=0 skipped=0
case "$mode" in
copy)
  while read -r src dest digest; do
    if [ "$digest" != - ] && present "$mirror/${dest%:*}" "$digest"; then
      echo "present $mirror/$dest@$digest"
      skipped=$((skipped + 1))
      continue
    fi
    echo "copy    $src -> $mirror/$dest"
    skopeo copy --all --preserve-digests "${opts[@]}" "docker://$src" "docker://$mirror/$dest" </dev/null
    copied=$((copied + 1))
  done < <(selected)
  echo "$((copied + skipped)) images: $copied copied, $skipped already in $mirror"
  ;;
save)
  layout="$target"
  if [[ "$target" == *.tar ]]; then staged "$target"; layout="$stage"; fi
  mkdir -p "$layout"
  list="$work/list"
  echo "# Saved by copy-images.sh for environment(s): ${env_name:-@MIRRORED@}" >"$list"
  echo "# MIRROR-PATH DIGEST SOURCE: push with copy-images.sh push-saved" >>"$list"
  while read -r src dest digest; do
    echo "save    $src -> oci:$layout:$dest"
    skopeo copy --all --preserve-digests --digestfile "$work/digest" "${opts[@]}" \
      "docker://$src" "oci:$layout:$dest" </dev/null
    saved="$(cat "$work/digest")"
    if [ "$digest" != - ] && [ "$saved" != "$digest" ]; then
      echo "$0: $src was saved as $saved, not its pinned digest" >&2
      exit 1
    fi
    echo "$dest $saved $src" >>"$list"
    copied=$((copied + 1))
  done < <(selected)
  cp "$list" "$layout/deploygen-images.txt"
  if [ "$layout" != "$target" ]; then
    tar -C "$layout" -cf "$target" .
  fi
  echo "$copied images saved to $target (digests in deploygen-images.txt)"
  ;;
push)
  layout="$target"
  if [[ "$target" == *.tar ]]; then
    staged "$target"
    layout="$stage"
    tar -C "$layout" -xf "$target"
  fi
  list="$layout/deploygen-images.txt"
  [ -f "$list" ] || { echo "$0: $target holds no deploygen-images.txt: save it with copy-images.sh save" >&2; exit 2; }
  while read -r dest digest src; do
    case "$dest" in '#'*|'') continue ;; esac
    if present "$mirror/${dest%:*}" "$digest"; then
      echo "present $mirror/$dest@$digest"
      skipped=$((skipped + 1))
      continue
    fi
    echo "push    oci:$layout:$dest -> $mirror/$dest"
    skopeo copy --all --preserve-digests --digestfile "$work/digest" "${opts[@]}" \
      "oci:$layout:$dest" "docker://$mirror/$dest" </dev/null
    pushed="$(cat "$work/digest")"
    if [ "$pushed" != "$digest" ]; then
      echo "$0: $dest was pushed as $pushed, but saved as $digest ($src)" >&2
      exit 1
    fi
    copied=$((copied + 1))
  done <"$list"
  echo "$((copied + skipped)) images: $copied pushed, $skipped already in $mirror"
  ;;
esac
"##;

fn script(plan: &Plan, images: &BTreeMap<ImageRef, BTreeSet<&str>>) -> String {
    let mirrored: BTreeSet<&str> = images.values().flatten().copied().collect();
    let mirrored = mirrored.into_iter().collect::<Vec<_>>().join(" ");
    let mut table = String::new();
    for (i, envs) in images {
        // References are validated against the OCI grammar and environment names are DNS
        // labels: no quote, space or newline can occur.
        table.push_str(&format!(
            "{i} {} {} {}\n",
            destination(i),
            i.digest.as_deref().unwrap_or("-"),
            envs.iter().copied().collect::<Vec<_>>().join(" ")
        ));
    }
    let mut s = String::from("#!/usr/bin/env bash\n");
    s.push_str(&crate::base::generated::header(&plan.matrix_file, "#"));
    s.push_str(
        &SCRIPT
            .replace("@MIRRORED@", &mirrored)
            .replace("@PATTERN@", crate::model::mirror::REGISTRY_PATTERN)
            .replace("@IMAGES@", &table),
    );
    s
}
