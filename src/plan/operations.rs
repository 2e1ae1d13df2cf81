//! The later parts of the operations layer: Istio mTLS for the model namespaces, egress
//! control in the stack's namespaces, and the plan's scaling test. Their matrix checks (each
//! problem located) and the facts their templates need.

use std::net::IpAddr;

use crate::model::matrix::{Environment, MtlsMode, NetworkPolicies};

/// Namespaces the stack's own releases install into. STRICT mTLS there would cut the API
/// server (no sidecar) off from their webhooks, and they hold no models.
pub const STACK_NAMESPACES: [&str; 5] = [
    "cert-manager",
    "istio-system",
    "knative-operator",
    "knative-serving",
    "kserve",
];

/// Knative's queue-proxy ports a client without a sidecar reaches in every model namespace:
/// (port, name, who). Source: knative/serving pkg/networking/constants.go (1.14, 1.15).
pub const QUEUE_PROXY_PLAIN_PORTS: [(u16, &str, &str); 2] = [
    (
        9090,
        "http-autometric",
        "Knative's autoscaler scrapes the request statistics it scales on (no sidecar)",
    ),
    (
        9091,
        "http-usermetric",
        "Prometheus scrapes request metrics (PodMonitor knative-queue-proxy, no sidecar)",
    ),
];

/// A CIDR (`10.0.0.1/32`, `fd00::/64`).
pub fn check_cidr(s: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{}` is not a CIDR: {why}", s.escape_debug()));
    let Some((addr, bits)) = s.split_once('/') else {
        return bad("expected address/prefix, e.g. 10.61.3.10/32");
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return bad("not an IPv4 or IPv6 address");
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match bits.parse::<u8>() {
        Ok(b) if b <= max && bits.chars().all(|c| c.is_ascii_digit()) => Ok(()),
        _ => bad(&format!("the prefix length must be 0 to {max}")),
    }
}

/// The mirror's (CIDR, port) for the egress policy: `mirror_cidr` where given, else the
/// mirror's own address when it is an IP. The port defaults to 443 (HTTPS) as containerd
/// does.
pub fn mirror_endpoint(env: &Environment) -> Option<(String, u16)> {
    // A mirror bound at install time has no address yet: only `mirror_cidr` can name it.
    let mirror = match env.mirror.as_ref()? {
        crate::model::mirror::Mirror::Fixed(m) => m.as_str(),
        crate::model::mirror::Mirror::Bound(_) => return None,
    };
    let host_port = mirror.split('/').next().unwrap_or(mirror);
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        match rest.split_once("]:") {
            Some((h, port)) => (h, port.parse::<u16>().unwrap_or(443)),
            None => (rest.trim_end_matches(']'), 443),
        }
    } else {
        match host_port.split_once(':') {
            Some((h, port)) => (h, port.parse::<u16>().unwrap_or(443)),
            None => (host_port, 443),
        }
    };
    let cidr = match &env.operations.egress.mirror_cidr {
        Some(c) => c.clone(),
        None => match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => format!("{ip}/32"),
            Ok(IpAddr::V6(ip)) => format!("{ip}/128"),
            Err(_) => return None,
        },
    };
    Some((cidr, port))
}

/// Checks of `operations.mtls`, `operations.egress` and `operations.smoke_tests.load_test`.
pub fn check(env: &Environment, at: &dyn Fn(&str) -> String, p: &mut dyn FnMut(String, String)) {
    let ops = &env.operations;
    let mtls = &ops.mtls;
    let path = |k: &str| at(&format!(".operations.mtls{k}"));
    match mtls.mode {
        MtlsMode::Off if !mtls.namespaces.is_empty() => p(
            path(".namespaces"),
            "namespaces are only used with mode: strict or permissive".into(),
        ),
        MtlsMode::Strict | MtlsMode::Permissive if mtls.namespaces.is_empty() => p(
            path(".namespaces"),
            "name the model namespaces mTLS covers (e.g. [kserve-test])".into(),
        ),
        _ => {}
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, ns) in mtls.namespaces.iter().enumerate() {
        let here = path(&format!(".namespaces[{i}]"));
        if let Err(e) = crate::base::names::check_dns_label(ns) {
            p(here.clone(), e);
        }
        if STACK_NAMESPACES.contains(&ns.as_str()) {
            p(here.clone(), format!("`{ns}` is a namespace of the stack itself: the API server calls its webhooks without a sidecar, so mTLS covers model namespaces only"));
        }
        if !seen.insert(ns) {
            p(here, format!("`{ns}` is listed twice"));
        }
    }

    let eg = &ops.egress;
    let path = |k: &str| at(&format!(".operations.egress{k}"));
    for (i, c) in eg.api_server.iter().enumerate() {
        if let Err(e) = check_cidr(c) {
            p(path(&format!(".api_server[{i}]")), e);
        }
    }
    if let Some(c) = &eg.mirror_cidr {
        if let Err(e) = check_cidr(c) {
            p(path(".mirror_cidr"), e);
        }
        if env.mirror.is_none() {
            p(path(".mirror_cidr"), "the environment has no mirror".into());
        }
    }
    if eg.policy == NetworkPolicies::Enforce {
        if eg.api_server.is_empty() {
            p(path(".api_server"), "egress enforce needs the API server's addresses (CIDRs of `kubectl get endpoints kubernetes -n default`): every controller talks to it".into());
        }
        if eg.api_server_port == 0 {
            p(
                path(".api_server_port"),
                "must be a port from 1 to 65535".into(),
            );
        }
        // (A mirror that is not a registry address is reported as such, not again here.)
        match &env.mirror {
            Some(crate::model::mirror::Mirror::Fixed(m)) => {
                let valid_mirror = crate::model::mirror::check_mirror(m).is_ok();
                if valid_mirror && eg.mirror_cidr.is_none() && mirror_endpoint(env).is_none() {
                    p(path(".mirror_cidr"), "the mirror is named by a host name, which a NetworkPolicy cannot match: give its address as a CIDR".into());
                }
            }
            Some(crate::model::mirror::Mirror::Bound(b)) if eg.mirror_cidr.is_none() => p(
                path(".mirror_cidr"),
                format!("the mirror is bound at install time (`{}`), so the egress policy cannot know its address: give the mirror's address as a CIDR", b.from_value),
            ),
            _ => {}
        }
    }

    let smoke = &ops.smoke_tests;
    if let Some(lt) = &smoke.load_test {
        let path = |k: &str| at(&format!(".operations.smoke_tests.load_test{k}"));
        if !smoke.enabled {
            p(
                path(""),
                "the load test runs with the smoke tests: set smoke_tests.enabled: true".into(),
            );
        }
        if !env.serving_runtimes.iter().any(|r| r == "sklearnserver") {
            p(
                path(""),
                "the load test targets the sklearn model: add sklearnserver to serving_runtimes"
                    .into(),
            );
        }
        let parsed = crate::base::image::ImageRef::parse(&lt.image);
        if let Err(e) = &parsed {
            p(path(".image"), format!("`{}` {e}", lt.image.escape_debug()));
        } else if !env
            .extra_images
            .iter()
            .any(|x| crate::base::image::ImageRef::parse(&x.image).ok() == parsed.clone().ok())
        {
            let listed: Vec<&str> = env.extra_images.iter().map(|x| x.image.as_str()).collect();
            p(
                path(".image"),
                format!(
                    "`{}` is not among extra_images ({}): add it there, so it is listed and mirrored",
                    lt.image.escape_debug(),
                    if listed.is_empty() {
                        "none".to_string()
                    } else {
                        listed.join(", ")
                    }
                ),
            );
        }
        if !(1..=256).contains(&lt.concurrency) {
            p(path(".concurrency"), "must be 1 to 256".into());
        }
        if lt.requests < lt.concurrency || lt.requests > 1_000_000 {
            p(
                path(".requests"),
                "must be at least concurrency and at most 1000000".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_cidr;

    #[test]
    fn cidrs() {
        assert!(check_cidr("10.61.3.10/32").is_ok());
        assert!(check_cidr("fd00::/64").is_ok());
        assert!(check_cidr("10.61.3.10").is_err());
        assert!(check_cidr("10.61.3.10/33").is_err());
        assert!(check_cidr("host/32").is_err());
    }
}
