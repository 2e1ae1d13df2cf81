//! The ingress path's references: the TLS secrets gateways and Ingresses serve, and the
//! gateways KServe's `inferenceservice-config` names.
//!
//! - A TLS secret named by an Istio `Gateway` (`servers[].tls.credentialName`, resolved in the
//!   namespace of the gateway pods its selector picks), by the `KnativeServing`'s own gateway
//!   servers (`spec.ingress.istio.<gateway>.servers`, the Gateways the operator creates), by a
//!   Gateway API `Gateway` (`listeners[].tls.certificateRefs`) or by an `Ingress`
//!   (`spec.tls[].secretName`) exists: a rendered Secret, or a cert-manager Certificate whose
//!   `spec.secretName` writes it (or cert-manager's ingress-shim annotations on the object).
//! - An Ingress's class is an IngressClass of the input or the site's declared controller, and
//!   each Service backend exists with the port it names.
//! - KServe's `ingress` settings name gateways that exist: `ingressGateway` and
//!   `localGateway` (`namespace/name`) where Knative serves (a KnativeServing is rendered: its
//!   operator creates `knative-ingress-gateway` and `knative-local-gateway` in its
//!   namespace), `kserveIngressGateway` where `enableGatewayApi` is on.

use serde_json::Value;

use super::manifest::Object;
use super::operator;
use super::pods::pod_labels;
use super::report::{missing, Findings};
use super::wiring::selects;

/// `site_class`: the IngressClass of the site's own controller, as the matrix declares it
/// (`gateway.ingress_class`): it exists on the cluster without being in the input.
pub fn check(objects: &[Object], partial: bool, site_class: Option<&str>, f: &mut Findings) {
    tls_secrets(objects, partial, f);
    kserve_gateways(objects, partial, f);
    super::virtual_services::check(objects, &gateways(objects), partial, f);
    backends(objects, partial, site_class, f);
}

/// An Ingress reaches what it names: its `ingressClassName` is an IngressClass of the input or
/// the site's declared one (a class nothing serves leaves the Ingress unserved, silently), and
/// every Service backend exists in the Ingress's namespace with the port it names, by number or
/// by name (else the controller answers 503 for the path).
fn backends(objects: &[Object], partial: bool, site_class: Option<&str>, f: &mut Findings) {
    for o in objects
        .iter()
        .filter(|o| o.group() == "networking.k8s.io" && o.kind == "Ingress")
    {
        if let Some(class) = o.str_at("spec.ingressClassName") {
            let rendered = objects.iter().any(|c| {
                c.group() == "networking.k8s.io" && c.kind == "IngressClass" && c.name == class
            });
            if !rendered && site_class != Some(class) {
                let declared = site_class
                    .map(|c| format!(" (the matrix declares the site's class as {c})"))
                    .unwrap_or_default();
                missing(partial, f, o, "spec.ingressClassName", format!(
                    "is {class:?}, which no IngressClass in the input is and the environment does not declare as its site's controller (gateway.ingress_class){declared}: no controller serves this Ingress; fix the class or declare it"
                ));
            }
        }
        let ns = o.namespace.as_deref().unwrap_or("");
        let mut named: Vec<(String, &Value)> = Vec::new();
        if let Some(b) = o.at("spec.defaultBackend") {
            named.push(("spec.defaultBackend".into(), b));
        }
        for (i, rule) in o
            .at("spec.rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            for (j, p) in rule
                .pointer("/http/paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(b) = p.get("backend") {
                    named.push((format!("spec.rules[{i}].http.paths[{j}].backend"), b));
                }
            }
        }
        for (path, backend) in named {
            if let Some(service) = backend.get("service") {
                service_backend(objects, partial, f, o, ns, &path, service);
            }
        }
    }
}

fn service_backend(
    objects: &[Object],
    partial: bool,
    f: &mut Findings,
    o: &Object,
    ns: &str,
    path: &str,
    service: &Value,
) {
    let name = service.get("name").and_then(Value::as_str).unwrap_or("");
    let Some(svc) = objects.iter().find(|s| {
        s.group().is_empty()
            && s.kind == "Service"
            && s.namespace.as_deref() == Some(ns)
            && s.name == name
    }) else {
        missing(partial, f, o, &format!("{path}.service.name"), format!(
            "names Service {ns}/{name}, which is not in the input: the controller answers 503 for this path; fix the name or render the Service"
        ));
        return;
    };
    let ports: Vec<&Value> = svc
        .at("spec.ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let shown = || {
        ports
            .iter()
            .map(|p| {
                let n = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                match p.get("name").and_then(Value::as_str) {
                    Some(name) => format!("{name} ({n})"),
                    None => n.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let port = service.get("port");
    if let Some(number) = port.and_then(|p| p.get("number")).and_then(Value::as_i64) {
        if !ports
            .iter()
            .any(|p| p.get("port").and_then(Value::as_i64) == Some(number))
        {
            f.fail("refs", o, &format!("{path}.service.port.number"), format!(
                "is {number}, which Service {ns}/{name} does not expose (its ports: {}): the controller answers 503 for this path",
                shown()
            ));
        }
    } else if let Some(want) = port.and_then(|p| p.get("name")).and_then(Value::as_str) {
        if !ports
            .iter()
            .any(|p| p.get("name").and_then(Value::as_str) == Some(want))
        {
            f.fail("refs", o, &format!("{path}.service.port.name"), format!(
                "is {want:?}, which no port of Service {ns}/{name} is named (its ports: {}): the controller answers 503 for this path",
                shown()
            ));
        }
    }
}

/// Whether a TLS secret `ns/name` is written by something in the input.
fn secret_exists(objects: &[Object], ns: &str, name: &str) -> bool {
    objects.iter().any(|o| {
        o.namespace.as_deref() == Some(ns)
            && ((o.group().is_empty() && o.kind == "Secret" && o.name == name)
                || (o.group() == "cert-manager.io"
                    && o.kind == "Certificate"
                    && o.str_at("spec.secretName") == Some(name)))
    })
}

/// cert-manager's ingress-shim writes the secrets of an annotated Ingress or Gateway.
fn shimmed(o: &Object) -> bool {
    o.at("metadata.annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| {
            a.contains_key("cert-manager.io/issuer")
                || a.contains_key("cert-manager.io/cluster-issuer")
        })
}

/// Namespaces of the rendered pods an Istio gateway selector picks.
pub(super) fn gateway_namespaces<'a>(
    objects: &'a [Object],
    selector: Option<&Value>,
) -> Vec<&'a str> {
    let Some(sel) = selector.filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) else {
        return Vec::new();
    };
    let mut out: Vec<&str> = objects
        .iter()
        .filter(|o| pod_labels(o).is_some_and(|l| selects(Some(sel), &l)))
        .filter_map(|o| o.namespace.as_deref())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `credentialName`s of Istio gateway servers, checked where the selected gateway pods run.
fn istio_servers(
    objects: &[Object],
    partial: bool,
    f: &mut Findings,
    o: &Object,
    base: &str,
    gateway: &Value,
) {
    let namespaces = gateway_namespaces(objects, gateway.get("selector"));
    for (i, server) in gateway
        .get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(name) = server
            .pointer("/tls/credentialName")
            .and_then(Value::as_str)
        else {
            continue;
        };
        for ns in &namespaces {
            if !secret_exists(objects, ns, name) {
                missing(partial, f, o, &format!("{base}servers[{i}].tls.credentialName"), format!(
                    "names TLS secret {ns}/{name} (the gateway pods it selects run in {ns}), which no Certificate writes (spec.secretName) and no Secret is: the gateway serves no certificate on this port; add a Certificate writing {name} in {ns}, or fix the name"
                ));
            }
        }
    }
}

fn tls_secrets(objects: &[Object], partial: bool, f: &mut Findings) {
    for o in objects {
        match (o.group(), o.kind.as_str()) {
            ("networking.istio.io", "Gateway") => {
                if let Some(spec) = o.at("spec") {
                    istio_servers(objects, partial, f, o, "spec.", spec);
                }
            }
            ("operator.knative.dev", "KnativeServing") => {
                for (key, gateway) in o
                    .at("spec.ingress.istio")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .filter(|(_, g)| g.is_object())
                {
                    let base = format!("spec.ingress.istio.{key}.");
                    istio_servers(objects, partial, f, o, &base, gateway);
                }
            }
            ("gateway.networking.k8s.io", "Gateway") if !shimmed(o) => {
                let own = o.namespace.as_deref().unwrap_or("");
                for (i, l) in o
                    .at("spec.listeners")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    for (j, r) in l
                        .pointer("/tls/certificateRefs")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        let kind = r.get("kind").and_then(Value::as_str).unwrap_or("Secret");
                        let group = r.get("group").and_then(Value::as_str).unwrap_or("");
                        if kind != "Secret" || !group.is_empty() {
                            continue;
                        }
                        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                        let ns = r.get("namespace").and_then(Value::as_str).unwrap_or(own);
                        if !secret_exists(objects, ns, name) {
                            missing(partial, f, o, &format!("spec.listeners[{i}].tls.certificateRefs[{j}]"), format!(
                                "names TLS secret {ns}/{name}, which no Certificate writes and no Secret is: the listener has no certificate"
                            ));
                        }
                    }
                }
            }
            ("networking.k8s.io", "Ingress") if !shimmed(o) => {
                let ns = o.namespace.as_deref().unwrap_or("");
                for (i, t) in o
                    .at("spec.tls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let Some(name) = t.get("secretName").and_then(Value::as_str) else {
                        continue;
                    };
                    if !secret_exists(objects, ns, name) {
                        missing(partial, f, o, &format!("spec.tls[{i}].secretName"), format!(
                            "names TLS secret {ns}/{name}, which no Certificate writes and no Secret is: the ingress serves its default certificate"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Gateways the input creates: rendered Istio and Gateway API Gateways, and the two the
/// Knative Operator creates for a KnativeServing with Istio ingress.
pub(super) fn gateways(objects: &[Object]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = objects
        .iter()
        .filter(|o| {
            o.kind == "Gateway"
                && matches!(
                    o.group(),
                    "networking.istio.io" | "gateway.networking.k8s.io"
                )
        })
        .map(|o| (o.namespace.clone().unwrap_or_default(), o.name.clone()))
        .collect();
    for ks in operator::knative_servings(objects) {
        let istio = ks
            .at("spec.ingress.istio.enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let (true, Some(ns)) = (istio, ks.namespace.as_deref()) {
            for name in ["knative-ingress-gateway", "knative-local-gateway"] {
                out.push((ns.to_string(), name.to_string()));
            }
        }
    }
    out
}

fn kserve_gateways(objects: &[Object], partial: bool, f: &mut Findings) {
    let known = gateways(objects);
    let serverless = operator::knative_servings(objects).next().is_some();
    for (o, ingress) in super::manifest::kserve_ingress_configs(objects) {
        let gateway_api = ingress.get("enableGatewayApi").and_then(Value::as_bool) == Some(true);
        for (key, used) in [
            ("ingressGateway", serverless),
            ("localGateway", serverless),
            ("kserveIngressGateway", gateway_api),
        ] {
            let Some(value) = ingress.get(key).and_then(Value::as_str).filter(|_| used) else {
                continue;
            };
            let path = format!("data.ingress.{key}");
            let Some((ns, name)) = value.split_once('/') else {
                f.fail(
                    "refs",
                    o,
                    &path,
                    format!("is {value:?}: KServe reads it as namespace/name of a Gateway"),
                );
                continue;
            };
            if !known.iter().any(|(n, m)| n == ns && m == name) {
                let have: Vec<String> = known.iter().map(|(n, m)| format!("{n}/{m}")).collect();
                missing(partial, f, o, &path, format!(
                    "names Gateway {ns}/{name}, which is neither rendered nor created by the Knative Operator (gateways: {}): KServe routes InferenceServices to a gateway that does not exist",
                    if have.is_empty() { "none".to_string() } else { have.join(", ") }
                ));
            }
        }
    }
}
