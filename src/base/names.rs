//! Grammars for strings from the matrix that land in rendered files: Kubernetes names and
//! resource quantities. A string that passes these cannot add YAML keys or documents.

/// DNS-1123 label: what Kubernetes, helmfile environment names and our folder names accept.
/// Also refuses anything that would leave the output folder (`..`, `/`, `\`).
pub fn check_dns_label(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a valid name (DNS-1123 label: 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit)",
            s.escape_debug()
        ))
    }
}

/// Longest Helm release name. Helm refuses longer ones (`maxReleaseNameLen` in
/// helm/pkg/chartutil/validate_name.go): the name is a prefix of resource names, which
/// Kubernetes caps at 63.
pub const MAX_RELEASE_NAME: usize = 53;

/// A Helm release name as deploygen writes one: a DNS-1123 label of at most 53 characters.
/// Helm itself also takes dots between labels; deploygen names a folder
/// (`applications/<release>/`), a values file and a helmfile `needs` entry after the release,
/// so it takes the label alone.
pub fn check_release_name(s: &str) -> Result<(), String> {
    if s.len() <= MAX_RELEASE_NAME && check_dns_label(s).is_ok() {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a Helm release name (1 to {MAX_RELEASE_NAME} lowercase letters, digits or '-', starting and ending with a letter or digit)",
            crate::base::text::cut(&s.escape_debug().to_string(), crate::base::text::MAX_TOKEN_CHARS)
        ))
    }
}

/// A Helm chart name: "Chart names must follow DNS-1123 label conventions: only lowercase
/// letters, numbers, and dashes are allowed, names must start and end with a lowercase letter
/// or number, and names cannot exceed 63 characters" (Helm's best practices, General
/// Conventions, helm.sh/docs/chart_best_practices/conventions; `helm lint` checks it). No dot,
/// no underscore, no slash: a chart name becomes an archive name (`<name>-<version>.tgz`).
pub fn check_chart_name(s: &str) -> Result<(), String> {
    check_dns_label(s).map_err(|_| {
        format!(
            "`{}` is not a Helm chart name (DNS-1123 label: 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit)",
            crate::base::text::cut(&s.escape_debug().to_string(), crate::base::text::MAX_TOKEN_CHARS)
        )
    })
}

/// What deploygen writes in place of each string of a `.yaml.gotmpl` values file before the
/// string's template expression replaces it (`plan::binding`).
pub const GOTMPL_TOKEN: &str = "DEPLOYGENGOTMPLVALUE";

/// A values key that can be written into a `.yaml.gotmpl` file: helmfile renders the file as a
/// Go template, and keys are written as they are (only strings become expressions), so a key
/// may hold neither template delimiters nor deploygen's own placeholder.
pub fn check_gotmpl_key(k: &str) -> Result<(), String> {
    let shown = || {
        crate::base::text::cut(
            &k.escape_debug().to_string(),
            crate::base::text::MAX_TOKEN_CHARS,
        )
        .into_owned()
    };
    if k.contains("{{") || k.contains("}}") {
        return Err(format!(
            "the key `{}` holds a template delimiter (`{{{{` or `}}}}`), which a `.yaml.gotmpl` \
             values file (written where a mirror is bound at install time) cannot hold: \
             helmfile renders it as a Go template",
            shown()
        ));
    }
    if k.contains(GOTMPL_TOKEN) {
        return Err(format!(
            "the key `{}` holds `{GOTMPL_TOKEN}`, which deploygen writes into `.yaml.gotmpl` \
             values files itself",
            shown()
        ));
    }
    Ok(())
}

/// DNS-1123 subdomain: StorageClass names.
pub fn check_dns_subdomain(s: &str) -> Result<(), String> {
    let ok = !s.is_empty() && s.len() <= 253 && s.split('.').all(|l| check_dns_label(l).is_ok());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a valid name (DNS-1123 subdomain: lowercase letters, digits, '-' and '.')",
            s.escape_debug()
        ))
    }
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of up to 63 characters.
pub fn check_label_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        check_dns_subdomain(p).map_err(|e| format!("label key prefix: {e}"))?;
    }
    if name.is_empty() || !is_label_text(name) {
        return Err(format!(
            "`{}` is not a valid label key (up to 63 of [A-Za-z0-9-_.], starting and ending alphanumeric, optional dns/ prefix)",
            k.escape_debug()
        ));
    }
    Ok(())
}

/// A label value: empty, or up to 63 of [A-Za-z0-9-_.] starting and ending alphanumeric.
pub fn check_label_value(v: &str) -> Result<(), String> {
    if v.is_empty() || is_label_text(v) {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a valid label value (up to 63 of [A-Za-z0-9-_.], starting and ending alphanumeric)",
            v.escape_debug()
        ))
    }
}

fn is_label_text(s: &str) -> bool {
    s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// A Kubernetes resource quantity (k8s.io/apimachinery `resource.Quantity` grammar):
/// a signed decimal number, then an optional binary (Ki..Ei), decimal (n, u, m, k, M..E)
/// or exponent (e3, E-2) suffix.
pub fn check_quantity(s: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "`{}` is not a Kubernetes quantity (e.g. 100m, 0.5, 256Mi, 1Gi)",
            s.escape_debug()
        ))
    };
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, suffix) = body.split_at(num_end);
    let digits_ok = !num.is_empty()
        && num != "."
        && num.matches('.').count() <= 1
        && num.chars().any(|c| c.is_ascii_digit());
    if !digits_ok {
        return bad();
    }
    const SUFFIXES: [&str; 16] = [
        "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    if SUFFIXES.contains(&suffix) {
        return Ok(());
    }
    if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if !exp.is_empty() && exp.chars().all(|c| c.is_ascii_digit()) {
            return Ok(());
        }
    }
    bad()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(check_dns_label("airgap").is_ok());
        for bad in [
            "",
            "Airgap",
            "../x",
            "a/b",
            "a\\b",
            "-a",
            "a-",
            "a_b",
            &"a".repeat(64),
        ] {
            assert!(check_dns_label(bad).is_err(), "{bad}");
        }
        assert!(check_dns_subdomain("astrago-nfs-csi").is_ok());
        assert!(check_dns_subdomain("a..b").is_err());
    }

    #[test]
    fn gotmpl_keys() {
        for ok in ["a", "{x}", "a}b{c", "DEPLOYGEN"] {
            assert!(check_gotmpl_key(ok).is_ok(), "{ok}");
        }
        for bad in ["{{x}}", "a{{", "}}b", "xDEPLOYGENGOTMPLVALUE000000X"] {
            assert!(check_gotmpl_key(bad).is_err(), "{bad}");
        }
        assert!(check_gotmpl_key("{{")
            .unwrap_err()
            .contains("template delimiter"));
        assert!(check_gotmpl_key(GOTMPL_TOKEN)
            .unwrap_err()
            .contains("writes into"));
    }

    #[test]
    fn release_and_chart_names() {
        let at = "a".repeat(MAX_RELEASE_NAME);
        assert!(check_release_name(&at).is_ok());
        let over = format!("{at}b");
        assert!(check_release_name(&over).is_err());
        for bad in ["../../x", "a b", "a.b", "A", "", "-a"] {
            let e = check_release_name(bad).unwrap_err();
            assert!(e.contains("is not a Helm release name"), "{e}");
        }
        assert!(check_chart_name("kserve-crd").is_ok());
        assert!(check_chart_name(&"a".repeat(63)).is_ok());
        for bad in [
            "./../../../../OUT/esc",
            "my_chart",
            "my.chart",
            "MyChart",
            &"a".repeat(64),
        ] {
            let e = check_chart_name(bad).unwrap_err();
            assert!(e.contains("is not a Helm chart name"), "{e}");
        }
        // A long name is quoted cut short.
        let e = check_chart_name(&format!("{}SECRET", "A".repeat(40))).unwrap_err();
        assert!(!e.contains("SECRET"), "{e}");
    }

    #[test]
    fn quantities() {
        for ok in ["100m", "0.5", "1", "256Mi", "1Gi", "2e3", "1.5G", "+1"] {
            assert!(check_quantity(ok).is_ok(), "{ok}");
        }
        for bad in ["", "m", "1.2.3", "100 m", "1GB", "1Gi\nx: y", "ten", "1e"] {
            assert!(check_quantity(bad).is_err(), "{bad}");
        }
    }
}
