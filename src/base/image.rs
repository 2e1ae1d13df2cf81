//! Container image references: parsed and checked against the OCI distribution reference
//! grammar (github.com/distribution/reference), and rewritten to a mirror with the
//! kubespray-offline convention (`<mirror>/<path without the source registry host>`).

use std::fmt;

/// A fully qualified image reference: `registry/path[:tag][@algorithm:hex]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageRef {
    /// `host[:port]`, plus a path prefix for a mirror such as `harbor.local/astrago`.
    pub registry: String,
    /// Repository path below the registry (`jetstack/cert-manager-controller`).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

const MAX_NAME: usize = 255;
const MAX_TAG: usize = 128;

impl ImageRef {
    /// Parses a fully qualified reference. The registry must be explicit (a short name like
    /// `kserve/agent:v1` is refused: runtimes resolve it differently), and a tag other than
    /// `latest` or a digest is required, so what is listed is what runs.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        if s.is_empty() {
            return Err("is empty".into());
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "contains {c:?}; a reference has no spaces or control characters"
            ));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                check_digest(d)?;
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        // The tag is after the last ':' that follows the last '/', so a registry port is not a tag.
        // Slicing is safe: the indices come from find/rfind of ASCII bytes in this same string.
        let last_slash = rest.rfind('/').unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(rest[at + 1..].to_string()))
            }
            None => (rest, None),
        };
        if let Some(t) = &tag {
            check_tag(t)?;
            if t == "latest" {
                return Err(
                    "uses the tag `latest`, which moves; pin a release tag or a digest".into(),
                );
            }
        }
        if tag.is_none() && digest.is_none() {
            return Err("has no tag and no digest; pin a release tag or a digest".into());
        }
        if name.len() > MAX_NAME {
            return Err(format!("has a name longer than {MAX_NAME} characters"));
        }
        let Some((registry, path)) = name.split_once('/') else {
            return Err(format!(
                "`{name}` has no registry host; write it fully qualified (docker.io/library/{name})"
            ));
        };
        if !looks_like_registry(registry) {
            return Err(format!(
                "`{registry}` is not a registry host; write the reference fully qualified (docker.io/{name})"
            ));
        }
        check_host(registry)?;
        check_path(path)?;
        Ok(ImageRef {
            registry: registry.to_string(),
            path: path.to_string(),
            tag,
            digest,
        })
    }

    /// The same image in a mirror: the source registry host is dropped, the path kept.
    pub fn mirrored(&self, mirror: &str) -> ImageRef {
        let (host, prefix) = match mirror.split_once('/') {
            Some((h, p)) => (h.to_string(), format!("{p}/")),
            None => (mirror.to_string(), String::new()),
        };
        ImageRef {
            registry: host,
            path: format!("{prefix}{}", self.path),
            tag: self.tag.clone(),
            digest: self.digest.clone(),
        }
    }

    /// `registry/path`, what a chart's `repository` value takes.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }

    /// `registry/path` without the last path element, what Istio's `hub` takes.
    pub fn hub(&self) -> String {
        match self.path.rsplit_once('/') {
            Some((dir, _)) => format!("{}/{dir}", self.registry),
            None => self.registry.clone(),
        }
    }

    /// The last path element (`pilot` for `docker.io/istio/pilot`).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// docker's rule: the first component is a registry when it has a '.' or ':' or is localhost.
fn looks_like_registry(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

/// `host[:port]` where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
pub fn check_host(s: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err(format!("`{s}`: unclosed '[' in an IPv6 host"));
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{s}`: `{v6}` is not an IPv6 address"));
        }
        match after {
            "" => return Ok(()),
            p if p.starts_with(':') => ("", Some(&p[1..])),
            _ => return Err(format!("`{s}`: unexpected text after the IPv6 address")),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit()) => {}
            _ => return Err(format!("`{s}`: port `{p}` is not a number from 1 to 65535")),
        }
    }
    if host.is_empty() && port.is_some() && s.starts_with('[') {
        return Ok(());
    }
    if host.is_empty() || host.len() > 253 {
        return Err(format!(
            "`{s}`: the host is empty or longer than 253 characters"
        ));
    }
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "`{s}`: `{label}` is not a valid host label (letters, digits, '-', not at either end)"
            ));
        }
    }
    Ok(())
}

/// Repository path: `/`-separated components of `[a-z0-9]+` joined by `.`, `_`, `__` or `-`+.
pub fn check_path(path: &str) -> Result<(), String> {
    for comp in path.split('/') {
        if !is_path_component(comp) {
            return Err(format!(
                "path component `{comp}` is not valid (lowercase letters and digits, separated by '.', '_', '__' or '-')"
            ));
        }
    }
    Ok(())
}

fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    // Indexing is safe: `b` is non-empty past the first test, and `i < b.len()` guards the loop.
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: '.', '_', '__' or one or more '-'.
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.chars().all(|ch| ch == '-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn check_tag(t: &str) -> Result<(), String> {
    let mut chars = t.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if !first_ok || !rest_ok || t.len() > MAX_TAG {
        return Err(format!(
            "tag `{t}` is not valid (1 to {MAX_TAG} of [A-Za-z0-9_.-], not starting with '.' or '-')"
        ));
    }
    Ok(())
}

/// Digest algorithms a registry and a container runtime verify (go-digest's registered ones,
/// which distribution/reference's parser requires), with the length of their hex encoding.
const DIGESTS: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];

fn check_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(format!("digest `{d}` is not algorithm:hex"));
    };
    let Some(&(_, len)) = DIGESTS.iter().find(|(a, _)| *a == alg) else {
        return Err(format!(
            "digest `{d}`: algorithm `{alg}` is not sha256, sha384 or sha512"
        ));
    };
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if hex.len() != len || !hex.bytes().all(lower_hex) {
        return Err(format!(
            "digest `{d}` is not valid ({alg} takes {len} lowercase hex digits)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tag_digest_and_port() {
        let r = ImageRef::parse("quay.io/jetstack/cert-manager-controller:v1.15.5").unwrap();
        assert_eq!(r.registry, "quay.io");
        assert_eq!(r.path, "jetstack/cert-manager-controller");
        assert_eq!(r.tag.as_deref(), Some("v1.15.5"));
        let m = r.mirrored("10.61.3.31:35000");
        assert_eq!(
            m.to_string(),
            "10.61.3.31:35000/jetstack/cert-manager-controller:v1.15.5"
        );
        let d = ImageRef::parse(&format!("localhost:5000/a/b@sha256:{}", "a".repeat(64))).unwrap();
        assert_eq!(d.registry, "localhost:5000");
        assert!(d.tag.is_none());
    }

    #[test]
    fn refuses_what_the_grammar_refuses() {
        for bad in [
            "kserve/agent:v0.14.1",
            "docker.io/kserve/agent",
            "docker.io/kserve/agent:latest",
            "docker.io/KServe/agent:v1",
            "docker.io/kserve/agent:.v1",
            "docker.io/kserve/agent@sha256:abc",
            "docker.io/kserve//agent:v1",
            "docker.io/kserve/agent:v1\nkey: x",
            "bad_host.io/a:v1",
            "host.io:99999/a:v1",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad} should be refused");
        }
        let long_tag = format!("docker.io/a/b:{}", "x".repeat(129));
        assert!(ImageRef::parse(&long_tag).is_err());
    }

    #[test]
    fn hub_and_name() {
        let r = ImageRef::parse("docker.io/istio/pilot:1.22.8").unwrap();
        assert_eq!(r.hub(), "docker.io/istio");
        assert_eq!(r.name(), "pilot");
        assert_eq!(
            r.mirrored("reg.local/astrago").hub(),
            "reg.local/astrago/istio"
        );
    }
}
