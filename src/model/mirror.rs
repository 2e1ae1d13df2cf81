//! An environment's mirror registry, as the matrix states it: fixed (`mirror:
//! 10.61.3.31:35000`) or bound on the site from a helmfile environment value (`mirror:
//! {from_value: offline.registry}`). Binding it into a plan is `plan::binding`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::base::image::{check_host, check_path};

/// The registry a bound environment is planned with. A `.invalid` host (RFC 2606) never
/// resolves; render proves it reaches no file.
pub const PLACEHOLDER: &str = "deploygen-bound-registry.invalid";

/// Same grammar as [`check_mirror`] (DNS name or IPv4, optional port, optional path
/// prefix), as a Go RE2 pattern for the install-time check.
pub const REGISTRY_PATTERN: &str = r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$";

/// An environment's mirror registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Mirror {
    /// A registry known at render time: `host[:port][/path]`.
    Fixed(String),
    /// Bound at install time from a helmfile environment value.
    Bound(BoundMirror),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoundMirror {
    /// Dotted path of the helmfile environment value holding `host[:port][/path]`
    /// (Astrago: `offline.registry`).
    pub from_value: String,
    /// What an empty or absent value means: `fail` (the default) stops the install with a
    /// message naming the value; `upstream` installs from the upstream registries, as
    /// Astrago's templates read an empty `offline.registry` (`| default "nvcr.io"`) and its
    /// online install scripts leave it empty. A malformed value is refused either way.
    #[serde(default, skip_serializing_if = "WhenEmpty::is_fail")]
    pub when_empty: WhenEmpty,
}

/// A bound mirror's meaning when the site leaves the value empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenEmpty {
    /// The install fails, naming the value.
    #[default]
    Fail,
    /// The environment installs online, every image from its upstream registry.
    Upstream,
}

impl WhenEmpty {
    fn is_fail(&self) -> bool {
        *self == WhenEmpty::Fail
    }
}

impl<'de> Deserialize<'de> for Mirror {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = serde_yaml::Value::deserialize(d)?;
        match v {
            serde_yaml::Value::String(s) => Ok(Mirror::Fixed(s)),
            serde_yaml::Value::Mapping(_) => serde_yaml::from_value::<BoundMirror>(v)
                .map(Mirror::Bound)
                .map_err(|e| {
                    D::Error::custom(format!(
                        "{e}; expected {{from_value: a.b, when_empty: fail|upstream}}"
                    ))
                }),
            _ => Err(D::Error::custom(
                "expected a registry `host[:port][/path]` or `{from_value: offline.registry}`",
            )),
        }
    }
}

impl Mirror {
    /// The registry images are planned with: the fixed one, or the placeholder.
    pub fn planned(&self) -> &str {
        match self {
            Mirror::Fixed(m) => m,
            Mirror::Bound(_) => PLACEHOLDER,
        }
    }

    /// The environment value a bound mirror reads.
    pub fn bound_value(&self) -> Option<&str> {
        match self {
            Mirror::Fixed(_) => None,
            Mirror::Bound(b) => Some(&b.from_value),
        }
    }

    /// How reports and comments name it.
    pub fn label(&self) -> String {
        match self {
            Mirror::Fixed(m) => m.clone(),
            Mirror::Bound(b) if b.when_empty == WhenEmpty::Upstream => format!(
                "the registry in `{}` (bound at install time; left empty, the upstream registries)",
                b.from_value
            ),
            Mirror::Bound(b) => {
                format!("the registry in `{}` (bound at install time)", b.from_value)
            }
        }
    }

    /// True for a mirror bound at install time whose empty value means the upstream
    /// registries (`when_empty: upstream`).
    pub fn online_when_empty(&self) -> bool {
        matches!(self, Mirror::Bound(b) if b.when_empty == WhenEmpty::Upstream)
    }
}

/// A bound value's path: dot-separated identifiers (`offline.registry`).
pub fn check_value_path(path: &str) -> std::result::Result<(), String> {
    let ok = !path.is_empty()
        && path.len() <= 253
        && path.split('.').all(|p| {
            let mut c = p.chars();
            c.next()
                .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
                && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a value path (identifiers of letters, digits and '_', joined by '.', e.g. offline.registry)",
            path.escape_debug()
        ))
    }
}

/// `host[:port]` optionally followed by a path prefix (`harbor.local/astrago`).
pub fn check_mirror(m: &str) -> std::result::Result<(), String> {
    if let Some((scheme, rest)) = m.split_once("://") {
        return Err(format!(
            "`{m}` starts with the URL scheme `{scheme}://`; a mirror is written as image \
             references name it, `host[:port][/path]`: drop the scheme (`{rest}`)"
        ));
    }
    let (host, prefix) = match m.split_once('/') {
        Some((h, rest)) => (h, Some(rest)),
        None => (m, None),
    };
    check_host(host).map_err(|e| format!("not a registry host[:port][/path]: {e}"))?;
    if let Some(prefix) = prefix {
        check_path(prefix).map_err(|e| format!("mirror path prefix: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_scheme_is_named_with_the_mirror_written_without_it() {
        for m in [
            "https://harbor.local/astrago",
            "http://10.61.3.31:35000",
            "oci://h.io",
        ] {
            let e = check_mirror(m).unwrap_err();
            let rest = m.split_once("://").unwrap().1;
            assert!(
                e.contains("drop the scheme") && e.contains(&format!("(`{rest}`)")),
                "{e}"
            );
        }
        assert!(check_mirror("harbor.local/astrago").is_ok());
        assert!(check_mirror("10.61.3.31:35000").is_ok());
    }

    #[test]
    fn value_paths() {
        assert!(check_value_path("offline.registry").is_ok());
        for bad in ["", "offline..registry", "a.b c", "1a", "a.{{x}}"] {
            assert!(check_value_path(bad).is_err(), "{bad}");
        }
    }
}
