//! KServe's `inferenceservice-config` `ingress` settings that name Services and an
//! IngressClass (the gateways it names: ingress.rs). The keys are KServe's `IngressConfig`
//! (kserve/kserve pkg/apis/serving/v1beta1/configmap.go; python/kserve/docs/
//! V1beta1IngressConfig.md lists them): `localGatewayService` and `knativeLocalGatewayService`
//! are the host names of Services (`<name>.<namespace>.svc.<cluster domain>`) that KServe
//! routes to (an InferenceService's top-level ExternalName Service points at the local gateway
//! Service), and `ingressClassName` is the class of the Ingresses KServe creates in
//! RawDeployment mode.
//!
//! A Service exists when it is rendered, or it is the `knative-local-gateway` Service that
//! net-istio (installed by the Knative Operator for a KnativeServing with Istio ingress)
//! creates where its local gateway's pods run (kodata/ingress/1.15/istio/net-istio.yaml:
//! Service `knative-local-gateway` in `istio-system`, selecting `istio: ingressgateway`).
//!
//! The local gateway keys are read only by KServe's Serverless (Knative) reconciler. Where no
//! InferenceService can be Serverless (the default mode is raw, `RawDeployment` or from v0.17
//! `Standard`, and the input installs no Knative Serving), the chart's default host is never
//! resolved and is not judged.

use serde_json::{json, Value};

use super::manifest::Object;
use super::operator;
use super::report::{missing, Findings};

/// (namespace, name) of the Services the input creates, with net-istio's local gateway.
fn services(objects: &[Object]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = objects
        .iter()
        .filter(|o| o.kind == "Service" && o.group().is_empty())
        .map(|o| (o.namespace.clone().unwrap_or_default(), o.name.clone()))
        .collect();
    let default_selector = json!({"istio": "ingressgateway"});
    for ks in operator::knative_servings(objects) {
        let istio = ks
            .at("spec.ingress.istio.enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !istio {
            continue;
        }
        let selector = ks
            .at("spec.ingress.istio.knative-local-gateway.selector")
            .unwrap_or(&default_selector);
        for ns in super::ingress::gateway_namespaces(objects, Some(selector)) {
            out.push((ns.to_string(), "knative-local-gateway".to_string()));
        }
    }
    out
}

/// Whether the input installs Knative Serving: the operator's KnativeServing, or Serving's own
/// CRD (installed from its release YAML).
fn knative_installed(objects: &[Object]) -> bool {
    objects.iter().any(|o| {
        (o.group() == "operator.knative.dev" && o.kind == "KnativeServing")
            || (o.kind == "CustomResourceDefinition" && o.name == "services.serving.knative.dev")
    })
}

/// Whether the ConfigMap's `deploy.defaultDeploymentMode` is a raw mode (`RawDeployment`, or
/// `Standard`, its name from KServe v0.17; the chart's default, Serverless/Knative, otherwise).
fn raw_by_default(config: &Object) -> bool {
    config
        .str_at("data.deploy")
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
        .and_then(|d| {
            d.get("defaultDeploymentMode")
                .and_then(Value::as_str)
                .map(|m| matches!(m, "RawDeployment" | "Standard"))
        })
        .unwrap_or(false)
}

pub fn check(objects: &[Object], partial: bool, site_class: Option<&str>, f: &mut Findings) {
    let known = services(objects);
    super::knative_config::check(objects, &known, partial, f);
    let knative = knative_installed(objects);
    for (o, ingress) in super::manifest::kserve_ingress_configs(objects) {
        // Only the Serverless reconciler reads the local gateway keys.
        let local_keys: &[&str] = if knative || !raw_by_default(o) {
            &["localGatewayService", "knativeLocalGatewayService"]
        } else {
            &[]
        };
        for key in local_keys {
            let Some(host) = ingress
                .get(key)
                .and_then(Value::as_str)
                .filter(|h| !h.is_empty())
            else {
                continue;
            };
            let path = format!("data.ingress.{key}");
            let Some((ns, name)) = super::knative_config::service_of(host) else {
                f.fail("refs", o, &path, format!(
                    "is {host:?}: KServe reads it as a Service's host name, <name>.<namespace>.svc.cluster.local"
                ));
                continue;
            };
            if !known.iter().any(|(n, m)| n == ns && m == name) {
                missing(partial, f, o, &path, format!(
                    "names Service {ns}/{name} ({host}), which is neither rendered nor created by net-istio where the local gateway runs: KServe routes to a host that does not resolve; name the local gateway's Service"
                ));
            }
        }
        if let Some(class) = ingress
            .get("ingressClassName")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
        {
            let rendered = objects.iter().any(|c| {
                c.group() == "networking.k8s.io" && c.kind == "IngressClass" && c.name == class
            });
            if !rendered && site_class != Some(class) {
                missing(partial, f, o, "data.ingress.ingressClassName", format!(
                    "is {class:?}, which no IngressClass in the input is and the environment does not declare as its site's controller (gateway.ingress_class): the Ingresses KServe creates in RawDeployment mode are served by nothing; fix the class"
                ));
            }
        }
    }
}
