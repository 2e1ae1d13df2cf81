//! Reading an upstream chart as `helm pull` leaves it (a folder, or a `.tgz` unpacked into a
//! temporary folder): Chart.yaml facts, and every values key the chart has (values.yaml,
//! values.schema.json properties, `.Values.a.b` paths its templates read).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use super::error::ImportError;

/// A chart folder; a `.tgz` is unpacked into a temporary folder removed on drop.
pub struct ChartDir {
    pub root: PathBuf,
    _tmp: Option<TempDir>,
}

/// A temporary folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> Result<TempDir, ImportError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "deploygen-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| ImportError::io(&dir, e))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What Chart.yaml says.
#[derive(Debug, Clone, Default)]
pub struct ChartFacts {
    pub name: String,
    pub version: String,
    pub app_version: Option<String>,
    pub kube_version: Option<String>,
    /// `name version (repository)` of each dependency.
    pub dependencies: Vec<String>,
}

/// Opens a chart folder or unpacks a `.tgz`.
pub fn open(path: &Path) -> Result<ChartDir, ImportError> {
    if path.is_dir() {
        if !path.join("Chart.yaml").is_file() {
            return Err(ImportError::Chart {
                path: path.to_path_buf(),
                message: "holds no Chart.yaml (is it a chart folder?)".into(),
            });
        }
        return Ok(ChartDir {
            root: path.to_path_buf(),
            _tmp: None,
        });
    }
    let file = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
    let tmp = TempDir::new("chart")?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    // Entries are unpacked one by one: `unpack_in` refuses paths that leave the folder.
    let entries = archive.entries().map_err(|e| ImportError::Chart {
        path: path.to_path_buf(),
        message: format!("is not a chart archive (.tgz): {e}"),
    })?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ImportError::Chart {
            path: path.to_path_buf(),
            message: format!("is not a chart archive (.tgz): {e}"),
        })?;
        entry.unpack_in(&tmp.0).map_err(|e| ImportError::Chart {
            path: path.to_path_buf(),
            message: format!("cannot unpack: {e}"),
        })?;
    }
    // `helm package` puts the chart in a folder named after it.
    let mut roots: Vec<PathBuf> = std::fs::read_dir(&tmp.0)
        .map_err(|e| ImportError::io(&tmp.0, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Chart.yaml").is_file())
        .collect();
    roots.sort();
    match roots.as_slice() {
        [root] => Ok(ChartDir {
            root: root.clone(),
            _tmp: Some(tmp),
        }),
        _ => Err(ImportError::Chart {
            path: path.to_path_buf(),
            message: "the archive holds no single <chart>/Chart.yaml".into(),
        }),
    }
}

fn read_yaml(path: &Path) -> Result<Value, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::io(path, e))?;
    serde_yaml::from_str(&text).map_err(|e| ImportError::Chart {
        path: path.to_path_buf(),
        message: match e.location() {
            Some(l) => format!("line {}:{}: {e}", l.line(), l.column()),
            None => e.to_string(),
        },
    })
}

pub fn facts(chart: &Path) -> Result<ChartFacts, ImportError> {
    let path = chart.join("Chart.yaml");
    let v = read_yaml(&path)?;
    let s = |k: &str| {
        v.get(k).and_then(|x| match x {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let name = s("name").ok_or_else(|| ImportError::Chart {
        path: path.clone(),
        message: "has no `name`".into(),
    })?;
    let version = s("version").ok_or_else(|| ImportError::Chart {
        path: path.clone(),
        message: "has no `version`".into(),
    })?;
    let dependencies = v
        .get("dependencies")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|d| {
            let f = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
            format!("{} {} ({})", f("name"), f("version"), f("repository"))
        })
        .collect();
    Ok(ChartFacts {
        name,
        version,
        app_version: s("appVersion"),
        kube_version: s("kubeVersion"),
        dependencies,
    })
}

/// The chart's default values (values.yaml; empty when absent).
pub fn default_values(chart: &Path) -> Result<Value, ImportError> {
    let path = chart.join("values.yaml");
    if !path.is_file() {
        return Ok(Value::Mapping(Default::default()));
    }
    match read_yaml(&path)? {
        Value::Null => Ok(Value::Mapping(Default::default())),
        v => Ok(v),
    }
}

/// Every key path of a values tree (intermediate maps too), with leaves' values.
pub fn value_keys(v: &Value, prefix: &str, out: &mut Vec<(String, Option<Value>)>) {
    let Some(m) = v.as_mapping() else { return };
    for (k, child) in m {
        let Some(k) = key_str(k) else { continue };
        let path = join(prefix, &k);
        if child.is_mapping() && !child.as_mapping().is_some_and(|m| m.is_empty()) {
            out.push((path.clone(), None));
            value_keys(child, &path, out);
        } else {
            out.push((path, Some(child.clone())));
        }
    }
}

fn key_str(k: &Value) -> Option<String> {
    match k {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn join(prefix: &str, k: &str) -> String {
    if prefix.is_empty() {
        k.to_string()
    } else {
        format!("{prefix}.{k}")
    }
}

/// Property paths of values.schema.json (through `properties`, not `$ref`s).
pub fn schema_keys(chart: &Path) -> Result<BTreeSet<String>, ImportError> {
    let path = chart.join("values.schema.json");
    let mut out = BTreeSet::new();
    if !path.is_file() {
        return Ok(out);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| ImportError::io(&path, e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| ImportError::Chart {
        path: path.clone(),
        message: format!("is not JSON: {e}"),
    })?;
    let defs = json
        .get("$defs")
        .or_else(|| json.get("definitions"))
        .cloned()
        .unwrap_or_default();
    schema_walk(&json, "", &defs, &mut out, 0);
    Ok(out)
}

fn schema_walk(
    node: &serde_json::Value,
    prefix: &str,
    defs: &serde_json::Value,
    out: &mut BTreeSet<String>,
    depth: usize,
) {
    if depth > 24 {
        return;
    }
    // Follow local `$ref`s (`#/$defs/x`), as cert-manager's schema is built from them.
    if let Some(r) = node.get("$ref").and_then(serde_json::Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        if let Some(target) = defs.get(name) {
            schema_walk(target, prefix, defs, out, depth + 1);
        }
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for sub in node
            .get(combinator)
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            schema_walk(sub, prefix, defs, out, depth + 1);
        }
    }
    if let Some(props) = node
        .get("properties")
        .and_then(serde_json::Value::as_object)
    {
        for (k, child) in props {
            let path = join(prefix, k);
            out.insert(path.clone());
            schema_walk(child, &path, defs, out, depth + 1);
        }
    }
}

/// `.Values.a.b.c` paths the templates read (every prefix counts as a key too).
pub fn template_keys(chart: &Path) -> Result<BTreeSet<String>, ImportError> {
    let mut out = BTreeSet::new();
    let dir = chart.join("templates");
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let mut rest = text.as_str();
            while let Some(i) = rest.find(".Values.") {
                rest = &rest[i + ".Values.".len()..];
                let end = rest
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
                    })
                    .unwrap_or(rest.len());
                let path = rest[..end].trim_end_matches('.');
                let mut acc = String::new();
                for seg in path.split('.').filter(|s| !s.is_empty()) {
                    acc = join(&acc, seg);
                    out.insert(acc.clone());
                }
            }
        }
    }
    Ok(out)
}

/// Sets `path` (dotted) in a values tree, creating maps on the way.
pub fn set_path(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !node.is_mapping() {
            *node = Value::Mapping(Default::default());
        }
        let Some(m) = node.as_mapping_mut() else {
            return;
        };
        let key = Value::String((*part).to_string());
        if i + 1 == parts.len() {
            m.insert(key, value);
            return;
        }
        node = m
            .entry(key)
            .or_insert_with(|| Value::Mapping(Default::default()));
    }
}
/// `s` with the old version written as the new one (with and without a leading v).
pub(crate) fn subst(s: &str, old: &str, new: &str) -> String {
    let bare = |v: &str| v.strip_prefix('v').unwrap_or(v).to_string();
    let out = s.replace(old, new);
    if bare(old) != old {
        out
    } else {
        out.replace(&format!("v{}", bare(old)), &format!("v{}", bare(new)))
    }
}
