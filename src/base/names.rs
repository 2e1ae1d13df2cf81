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
    fn quantities() {
        for ok in ["100m", "0.5", "1", "256Mi", "1Gi", "2e3", "1.5G", "+1"] {
            assert!(check_quantity(ok).is_ok(), "{ok}");
        }
        for bad in ["", "m", "1.2.3", "100 m", "1GB", "1Gi\nx: y", "ten", "1e"] {
            assert!(check_quantity(bad).is_err(), "{bad}");
        }
    }
}
