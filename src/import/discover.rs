//! Where each image is set, discovered by rendering: every candidate values key is rendered
//! again with a sentinel, and the images whose reference changes, and how (the repository, the
//! tag, the whole reference, the hub before the last path element, the digest), say which key
//! sets what. Nothing is guessed from key names beyond picking the candidates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_yaml::Value;

use super::chart::set_path;
use super::render::Renderer;
use crate::audit::images::{collect, qualify, ImageUse};
use crate::audit::manifest;
use crate::catalog::{SetAt, ValuesKeys};

/// How a key moved an image's reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The whole reference (`repo:tag` in one key).
    Ref,
    /// The repository (registry/path).
    Repository,
    /// Everything before the last path element (Istio's hub).
    Hub,
    Tag,
    Digest,
}

/// One key's effect on one image: its role, and whether the value landed exactly in that part
/// (`derived`: the part holds the sentinel plus more, as the `-gpu` tag).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Move {
    pub key: String,
    pub role: Role,
    pub derived: bool,
}

/// An image found in a render, with every use site and the keys that move it.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Fully qualified reference.
    pub reference: String,
    /// Where it is used: `Kind ns/name field`.
    pub uses: Vec<String>,
    /// Objects of kind ServingRuntime/ClusterServingRuntime using it.
    pub runtimes: BTreeSet<String>,
    pub moves: Vec<Move>,
}

/// Result of a discovery run.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Active images, by qualified reference.
    pub images: BTreeMap<String, Found>,
    /// Inactive references (`reason`), not listed.
    pub inactive: BTreeMap<String, String>,
    /// Keys whose sentinel render failed: (key, message).
    pub failed: Vec<(String, String)>,
    /// Keys probed.
    pub probed: usize,
    /// Keys a render proved effective (they moved some image).
    pub effective: BTreeSet<String>,
}

/// Image uses of a rendered stream.
pub fn uses_of(label: &str, text: &str) -> Result<Vec<ImageUse>, String> {
    let objects = manifest::read(label, text, &|_| None).map_err(|e| e.to_string())?;
    Ok(collect(&objects))
}

fn site(u: &ImageUse) -> String {
    format!("{} {}", u.object, u.path)
}

/// Splits a raw reference into (name, tag, digest).
fn split_ref(r: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match r.split_once('@') {
        Some((a, d)) => (a, Some(d)),
        None => (r, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match rest[last_slash..].rfind(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(&rest[last_slash + i + 1..]),
            digest,
        ),
        None => (rest, None, digest),
    }
}

/// How the reference `new` holds the sentinel `s`.
pub fn classify(new: &str, s: &str) -> Option<(Role, bool)> {
    if new == s {
        return Some((Role::Ref, false));
    }
    let (name, tag, digest) = split_ref(new);
    if digest == Some(s) {
        return Some((Role::Digest, false));
    }
    if name == s {
        return Some((Role::Repository, false));
    }
    if let Some(rest) = name.strip_prefix(&format!("{s}/")) {
        if !rest.contains('/') {
            return Some((Role::Hub, false));
        }
        return None; // a registry prefixed to the repository: not a set-location of its own
    }
    if tag == Some(s) {
        return Some((Role::Tag, false));
    }
    if tag.is_some_and(|t| t.contains(s)) {
        return Some((Role::Tag, true));
    }
    if digest.is_some_and(|d| d.contains(s)) {
        return Some((Role::Digest, true));
    }
    if name.contains(s) {
        return Some((Role::Repository, true));
    }
    None
}

/// Whether a values key looks like it could hold (part of) an image reference.
pub fn is_candidate(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    if last.contains("pullpolicy") || last.contains("pullsecret") {
        return false;
    }
    [
        "repository",
        "image",
        "tag",
        "hub",
        "registry",
        "version",
        "digest",
    ]
    .iter()
    .any(|w| last.contains(w))
}

/// Renders the base values, then every candidate key with a sentinel.
pub fn discover(
    renderer: &dyn Renderer,
    chart: &Path,
    namespace: &str,
    base: &Value,
    skip_schema: bool,
    candidates: &BTreeSet<String>,
) -> Result<Discovery, String> {
    let text = renderer.render(chart, namespace, base, skip_schema)?;
    let base_uses = uses_of("render", &text)?;
    let mut d = Discovery::default();
    let mut sites: BTreeMap<String, String> = BTreeMap::new();
    for u in &base_uses {
        let q = qualify(&u.reference);
        if u.reference == "auto" {
            // Istio's gateway pods: istiod's injector fills in the proxy image (set on istiod).
            d.inactive.insert(
                u.reference.clone(),
                format!(
                    "{} is filled in by Istio's sidecar injector (the proxy image, set on istiod)",
                    site(u)
                ),
            );
            continue;
        }
        if let Some(why) = &u.inactive {
            d.inactive.insert(q, why.clone());
            continue;
        }
        sites.insert(site(u), q.clone());
        let f = d.images.entry(q.clone()).or_insert_with(|| Found {
            reference: q.clone(),
            ..Found::default()
        });
        f.uses.push(site(u));
        if u.object.starts_with("ClusterServingRuntime ") || u.object.starts_with("ServingRuntime ")
        {
            let name = u.object.rsplit(['/', ' ']).next().unwrap_or("").to_string();
            f.runtimes.insert(name);
        }
    }
    // Inactive references that are also active somewhere are active.
    let active: BTreeSet<String> = d.images.keys().cloned().collect();
    d.inactive.retain(|k, _| !active.contains(k));
    for (i, key) in candidates.iter().enumerate() {
        let sentinel = format!("dgprobe{i:04}");
        let mut values = base.clone();
        set_path(&mut values, key, Value::String(sentinel.clone()));
        d.probed += 1;
        let text = match renderer.render(chart, namespace, &values, skip_schema) {
            Ok(t) => t,
            Err(e) => {
                d.failed.push((key.clone(), e));
                continue;
            }
        };
        let Ok(uses) = uses_of("probe", &text) else {
            d.failed
                .push((key.clone(), "the render does not parse".into()));
            continue;
        };
        let mut moved: BTreeSet<(String, Role, bool)> = BTreeSet::new();
        for u in &uses {
            let Some(orig) = sites.get(&site(u)) else {
                continue;
            };
            if qualify(&u.reference) == *orig {
                continue;
            }
            if let Some((role, derived)) = classify(&u.reference, &sentinel) {
                moved.insert((orig.clone(), role, derived));
            }
        }
        for (image, role, derived) in moved {
            d.effective.insert(key.clone());
            if let Some(f) = d.images.get_mut(&image) {
                f.moves.push(Move {
                    key: key.clone(),
                    role,
                    derived,
                });
            }
        }
    }
    Ok(d)
}

/// Keys that exactly move an image in a role.
fn exact(f: &Found, role: Role) -> Vec<&str> {
    let mut v: Vec<&str> = f
        .moves
        .iter()
        .filter(|m| m.role == role && !m.derived)
        .map(|m| m.key.as_str())
        .collect();
    v.sort_by_key(|k| (k.len(), k.to_string()));
    v.dedup();
    v
}

fn parent(k: &str) -> &str {
    k.rsplit_once('.').map(|(p, _)| p).unwrap_or("")
}

/// Whether a catalog set-location is what the discovery shows for this image.
pub fn confirms(f: &Found, set: &SetAt) -> bool {
    let has = |k: &str, role: Role| exact(f, role).contains(&k);
    match set {
        SetAt::Values(ValuesKeys::RepositoryTag { repository, tag }) => {
            has(repository, Role::Repository) && has(tag, Role::Tag)
        }
        SetAt::Values(ValuesKeys::Reference { reference }) => has(reference, Role::Ref),
        SetAt::Values(ValuesKeys::RepositoryDigest { repository, digest }) => {
            has(repository, Role::Repository) && has(digest, Role::Digest)
        }
        SetAt::Hub { hub, tag } => has(hub, Role::Hub) && has(tag, Role::Tag),
        SetAt::Follows(_) => {
            // No complete set-location of its own, and some key moves it as part of another's.
            let has_part = |r: Role| -> bool { !exact(f, r).is_empty() };
            let own_pair =
                (has_part(Role::Repository) || has_part(Role::Hub)) && has_part(Role::Tag);
            exact(f, Role::Ref).is_empty() && !own_pair && f.moves.iter().any(|m| m.derived)
        }
        _ => false,
    }
}

/// The set-location the discovery shows, preferring `prefer` when it is confirmed; `follows`
/// is resolved by the caller (it needs the other image's id): Err(keys) then names the
/// derived keys.
pub fn choose(f: &Found, prefer: Option<&[SetAt]>, shared_hub: &BTreeMap<String, usize>) -> Choice {
    if let Some(p) = prefer {
        if !p.is_empty() && p.iter().all(|s| confirms(f, s)) {
            return Choice::Set(p.to_vec());
        }
    }
    let refs = exact(f, Role::Ref);
    if let Some(r) = refs.first() {
        return Choice::Set(vec![SetAt::Values(ValuesKeys::Reference {
            reference: r.to_string(),
        })]);
    }
    let tags = exact(f, Role::Tag);
    let pick_tag = |near: &str| -> Option<String> {
        tags.iter()
            .find(|t| parent(t) == parent(near))
            .or(tags.first())
            .map(|t| t.to_string())
    };
    let repos = exact(f, Role::Repository);
    if !repos.is_empty() && !tags.is_empty() {
        // A repository and a tag key side by side win over keys far apart.
        let (repo, tag) = repos
            .iter()
            .find_map(|r| {
                tags.iter()
                    .find(|t| parent(t) == parent(r))
                    .map(|t| (*r, *t))
            })
            .unwrap_or((repos[0], tags[0]));
        return Choice::Set(vec![SetAt::Values(ValuesKeys::RepositoryTag {
            repository: repo.to_string(),
            tag: tag.to_string(),
        })]);
    }
    let mut hubs = exact(f, Role::Hub);
    hubs.sort_by_key(|h| {
        (
            std::cmp::Reverse(shared_hub.get(*h).copied().unwrap_or(0)),
            h.len(),
        )
    });
    if let (Some(hub), Some(tag)) = (hubs.first(), hubs.first().and_then(|h| pick_tag(h))) {
        return Choice::Set(vec![SetAt::Hub {
            hub: hub.to_string(),
            tag,
        }]);
    }
    let digests = exact(f, Role::Digest);
    if let (Some(repo), Some(digest)) = (repos.first(), digests.first()) {
        return Choice::Set(vec![SetAt::Values(ValuesKeys::RepositoryDigest {
            repository: repo.to_string(),
            digest: digest.to_string(),
        })]);
    }
    let derived: Vec<String> = f
        .moves
        .iter()
        .filter(|m| m.derived)
        .map(|m| m.key.clone())
        .collect();
    if !derived.is_empty() {
        return Choice::Derived(derived);
    }
    if !f.moves.is_empty() {
        return Choice::Partial(
            f.moves
                .iter()
                .map(|m| format!("{} ({:?})", m.key, m.role))
                .collect(),
        );
    }
    Choice::Unset
}

#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Set(Vec<SetAt>),
    /// Only derived from these keys (another image's): `follows` that image.
    Derived(Vec<String>),
    /// Some keys move part of it, but no complete set-location exists.
    Partial(Vec<String>),
    /// No key moves it: it cannot be mirrored by values.
    Unset,
}

/// How many images each hub key moves exactly (shared hubs, as Istio's global.hub, win).
pub fn hub_counts(images: &BTreeMap<String, Found>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for f in images.values() {
        for m in f.moves.iter().filter(|m| m.role == Role::Hub && !m.derived) {
            *out.entry(m.key.clone()).or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_positions() {
        let s = "dgprobe0001";
        assert_eq!(classify(s, s), Some((Role::Ref, false)));
        assert_eq!(
            classify("dgprobe0001:v1", s),
            Some((Role::Repository, false))
        );
        assert_eq!(
            classify("kserve/x:dgprobe0001", s),
            Some((Role::Tag, false))
        );
        assert_eq!(
            classify("kserve/x:dgprobe0001-gpu", s),
            Some((Role::Tag, true))
        );
        assert_eq!(
            classify("dgprobe0001/pilot:1.2", s),
            Some((Role::Hub, false))
        );
        assert_eq!(
            classify("quay.io/x@dgprobe0001", s),
            Some((Role::Digest, false))
        );
        assert_eq!(classify("dgprobe0001/quay.io/j/c:v1", s), None);
        assert_eq!(
            classify("docker.io/istio/dgprobe0001:1.2", s),
            Some((Role::Repository, true))
        );
        assert!(is_candidate("kserve.controller.rbacProxyImage"));
        assert!(!is_candidate("image.pullPolicy"));
    }
}
