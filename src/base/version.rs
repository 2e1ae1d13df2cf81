//! Version strings as upstream writes them (`v1.15.5`, `1.22.8`, `v1.28.6`) parsed as semver.

/// Parses `v1.2.3` or `1.2.3` (a leading `v` is the only leniency).
pub fn parse_lenient(s: &str) -> Result<semver::Version, String> {
    let t = s.strip_prefix('v').unwrap_or(s);
    semver::Version::parse(t).map_err(|e| format!("`{s}` is not a version (x.y.z): {e}"))
}

/// `1.28` or `1.28.6` -> (1, 28).
pub fn minor_of(s: &str) -> Result<(u64, u64), String> {
    let t = s.strip_prefix('v').unwrap_or(s);
    let mut it = t.split('.');
    let major = it.next().and_then(|x| x.parse().ok());
    let minor = it.next().and_then(|x| x.parse().ok());
    match (major, minor) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!("`{s}` is not a major.minor version")),
    }
}

pub fn minor_string(v: &semver::Version) -> String {
    format!("{}.{}", v.major, v.minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_v_is_accepted() {
        assert_eq!(
            parse_lenient("v1.15.5").unwrap(),
            semver::Version::new(1, 15, 5)
        );
        assert!(parse_lenient("1.15").is_err());
        assert_eq!(minor_of("v1.28.6").unwrap(), (1, 28));
    }
}
