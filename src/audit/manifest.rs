//! Reading rendered manifests: the multi-document YAML that `helm template` and
//! `helmfile template` print. Each document becomes an [`Object`] that remembers where it came
//! from (document number, first line, the `# Source:` template) so findings can be located.

use serde_json::Value;

use crate::base::error::{Error, Problem, Result};
use crate::model::input::{precheck_as, MANIFESTS};
use crate::model::yaml::{json_document, message};

/// Largest manifest stream read (a whole environment renders to about 3 MB).
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024 * 1024;

/// One rendered Kubernetes object.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `metadata.namespace`, else the namespace of the release that rendered it (from the
    /// `# Source:` line), else None (cluster-scoped, or unknown).
    pub namespace: Option<String>,
    /// The template that produced it (`kserve/charts/kserve/templates/service.yaml`).
    pub source: Option<String>,
    /// 1-based line of the document's first line in the input.
    pub line: usize,
    pub body: Value,
}

impl Object {
    /// `Kind namespace/name` (or `Kind name` when cluster-scoped): how findings name it.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    /// The value at a dotted path of plain keys (no list indices).
    pub fn at(&self, path: &str) -> Option<&Value> {
        path.split('.')
            .try_fold(&self.body, |v, key| v.as_object()?.get(key))
    }

    pub fn str_at(&self, path: &str) -> Option<&str> {
        self.at(path).and_then(Value::as_str)
    }

    /// `metadata.labels` as string pairs.
    pub fn labels(&self) -> Vec<(&str, &str)> {
        string_map(self.at("metadata.labels"))
    }

    /// A PodMonitor's endpoints that name their port: (index in `spec.podMetricsEndpoints`,
    /// port name). Endpoints by number or without a port are left out.
    pub fn pod_monitor_ports(&self) -> impl Iterator<Item = (usize, &str)> {
        self.at("spec.podMetricsEndpoints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, ep)| Some((i, ep.get("port")?.as_str()?)))
    }
}

/// KServe's ingress settings: each `inferenceservice-config` ConfigMap with its `data.ingress`
/// JSON (one that does not parse is left out: KServe's own validation reports it).
pub fn kserve_ingress_configs(objects: &[Object]) -> impl Iterator<Item = (&Object, Value)> {
    objects
        .iter()
        .filter(|o| {
            o.group().is_empty() && o.kind == "ConfigMap" && o.name == "inferenceservice-config"
        })
        .filter_map(|o| {
            let ingress = serde_json::from_str::<Value>(o.str_at("data.ingress")?).ok()?;
            Some((o, ingress))
        })
}

/// String-valued pairs of a JSON object (others ignored).
pub fn string_map(v: Option<&Value>) -> Vec<(&str, &str)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
                .collect()
        })
        .unwrap_or_default()
}

/// One YAML document of the stream, before parsing.
struct Document<'a> {
    text: &'a str,
    line: usize,
    source: Option<String>,
}

/// Splits a stream on `---` lines, keeping each document's first line number and the
/// `# Source:` comment Helm writes at its top.
fn documents(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") {
            docs.push((start, offset, start_line));
            start = offset + line.len();
            start_line = i + 2;
        }
        offset += line.len();
    }
    docs.push((start, text.len(), start_line));
    docs.into_iter()
        .map(|(a, b, line)| {
            let text = &text[a..b];
            let source = text
                .lines()
                .find_map(|l| l.strip_prefix("# Source: "))
                .map(|s| s.trim().to_string());
            Document { text, line, source }
        })
        .collect()
}

/// Parses one document (`model::yaml::json_document`: duplicate keys refused, merge keys
/// applied as go-yaml applies them).
/// Go's YAML (what Helm and the API server read) accepts a tab before a plain scalar
/// (`description: \tText`, as in the Knative Operator's CRDs); libyaml does not. Such a
/// document is retried with those tabs read as spaces: only free text changes. (The stream's
/// scan stands for the retried text too: a tab is whitespace to it either way, and a space
/// where a tab indented a line can only make a block scalar go on, never hide a bracket.)
fn parse_document(text: &str) -> std::result::Result<Option<Value>, serde_yaml::Error> {
    match json_document(text) {
        Ok(v) => Ok(v),
        Err(e) if text.contains('\t') => {
            let relaxed = text.replace(": \t", ":  ").replace('\t', " ");
            json_document(&relaxed).map_err(|_| e)
        }
        Err(e) => Err(e),
    }
}

/// Reads every object of a manifest stream. `release_namespace` gives the namespace of a
/// document whose metadata has none, from the release its `# Source:` names (Helm installs
/// such objects into the release namespace). The stream passes the YAML door first, as
/// Kubernetes' YAML (`model::input::MANIFESTS`: many documents, bounded nesting, only YAML's
/// core tags).
pub fn read(
    label: &str,
    text: &str,
    release_namespace: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Object>> {
    precheck_as(label, text.as_bytes(), &MANIFESTS)?;
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for doc in documents(text) {
        let value = match parse_document(doc.text) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => {
                let (line, col) = e
                    .location()
                    .map(|l| (doc.line + l.line() - 1, l.column()))
                    .unwrap_or((doc.line, 1));
                problems.push(Problem {
                    location: format!("{label}:{line}:{col}"),
                    message: format!("is not YAML: {}", message(&e)),
                });
                continue;
            }
        };
        if value.is_null() {
            continue;
        }
        let Some(map) = value.as_object() else {
            problems.push(Problem {
                location: format!("{label}:{}", doc.line),
                message: "a document is not a mapping (not a Kubernetes object)".into(),
            });
            continue;
        };
        let field = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_string);
        let meta = |k: &str| {
            map.get("metadata")
                .and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (Some(api_version), Some(kind), Some(name)) = (
            field("apiVersion"),
            field("kind"),
            meta("name").or_else(|| meta("generateName")),
        ) else {
            problems.push(Problem {
                location: format!("{label}:{}", doc.line),
                message: "a document lacks apiVersion, kind or metadata.name (or generateName)"
                    .into(),
            });
            continue;
        };
        let namespace = meta("namespace").or_else(|| {
            let release = doc.source.as_deref()?.split('/').next()?;
            if cluster_scoped(&kind) {
                None
            } else {
                release_namespace(release)
            }
        });
        objects.push(Object {
            api_version,
            kind,
            name,
            namespace,
            source: doc.source,
            line: doc.line,
            body: value,
        });
    }
    if problems.is_empty() {
        Ok(objects)
    } else {
        Err(Error::Invalid(problems))
    }
}

/// Whether a template (`# Source:` path) is the stack's in a platform render (`helmfile -e ENV
/// template` of a root helmfile whose other apps are not the stack's): its chart, the path's
/// first segment, is one of `releases` (the wrapper charts are named after them). No source
/// at all counts as the stack's: an object nobody can place is held to every check.
pub fn stacks_source(source: Option<&str>, releases: &[&str]) -> bool {
    source
        .and_then(|s| s.split('/').next())
        .is_none_or(|chart| releases.contains(&chart))
}

/// What the source of an object the Knative Operator applies says (operator.rs reads them
/// from its manifests with `--operator-manifests`).
pub const APPLIED_MARK: &str = "(applied by the Knative Operator for ";

/// Whether a source is that of an object the operator applies for the stack's KnativeServing:
/// the stack's, though no wrapper chart renders it.
pub fn applied_source(source: &str) -> bool {
    source.contains(APPLIED_MARK)
}

/// `Kind namespace/name` of the objects that are not the stack's (see [`stacks_source`]).
pub fn ids_of_others(objects: &[Object], releases: &[&str]) -> std::collections::BTreeSet<String> {
    objects
        .iter()
        .filter(|o| !stacks_source(o.source.as_deref(), releases))
        .map(Object::id)
        .collect()
}

/// Kinds that have no namespace (Helm leaves them out of the release namespace).
pub fn cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "StorageClass"
            | "CSIDriver"
            | "CustomResourceDefinition"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "APIService"
            | "PriorityClass"
            | "IngressClass"
            | "RuntimeClass"
            | "PodSecurityPolicy"
            | "ClusterIssuer"
            | "ClusterServingRuntime"
            | "ClusterStorageContainer"
            | "FlowSchema"
            | "PriorityLevelConfiguration"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_line_and_source() {
        let text = "---\n# Source: kserve/templates/a.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n# Source: kserve/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: x\n";
        let objs = read("in", text, &|r| (r == "kserve").then(|| "kserve".into())).unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].id(), "Service kserve/a");
        assert_eq!(objs[0].line, 2);
        assert_eq!(objs[1].id(), "ConfigMap x/b");
        assert_eq!(objs[1].line, 8);
    }

    #[test]
    fn a_tab_before_a_plain_scalar_is_read_as_go_yaml_reads_it() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  d: \tText\n";
        let objs = read("in", text, &|_| None).unwrap();
        assert_eq!(objs[0].str_at("data.d"), Some("Text"));
    }

    #[test]
    fn a_platform_render_splits_into_the_stacks_objects_and_the_rest() {
        let text = "---\n# Source: kserve/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: kserve}\n\
                    ---\n# Source: astrago/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: astrago}\n\
                    ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: kserve}\n";
        let all = read("t", text, &|_| None).unwrap();
        let ours: Vec<&str> = all
            .iter()
            .filter(|o| stacks_source(o.source.as_deref(), &["kserve", "istiod"]))
            .map(|o| o.name.as_str())
            .collect();
        // No source: the stack's (an object nobody can place is held to every check).
        assert_eq!(ours, ["a", "c"]);
    }

    #[test]
    fn broken_yaml_is_located() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nkind: [\n";
        let err = read("in.yaml", text, &|_| None).unwrap_err().to_string();
        assert!(err.contains("in.yaml:7:"), "{err}");
    }
}
