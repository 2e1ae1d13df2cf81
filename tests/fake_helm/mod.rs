//! A stand-in for `helm template` for the importer's tests, so the discovery logic runs without
//! Helm: the chart's values.yaml deep-merged with the given values, as Helm merges values files;
//! every `{{ .Values.a.b }}` and `{{ .Release.Namespace }}` of each file under templates/
//! substituted (strings as they are, other values as flow YAML, a missing value an error as
//! Helm's `nil` would break the YAML); nothing rendered while the key a `rendered-when` file in
//! the chart names is not true (a chart whose resources sit behind an `enabled`); and a chart
//! with a `schema-refuses-defaults` file refused unless schema validation is skipped (a chart
//! whose values.schema.json refuses its own defaults).

use std::path::{Path, PathBuf};

use deploygen::import::render::Renderer;
use serde_yaml::Value;

pub struct FakeHelm;

/// Deep merge, as Helm merges values files.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) if existing.is_mapping() && v.is_mapping() => merge(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

impl Renderer for FakeHelm {
    fn render(
        &self,
        chart: &Path,
        namespace: &str,
        values: &Value,
        skip_schema_validation: bool,
    ) -> Result<String, String> {
        if !skip_schema_validation && chart.join("schema-refuses-defaults").exists() {
            return Err("values don't meet the specifications of the schema(s)".into());
        }
        let text = std::fs::read_to_string(chart.join("values.yaml")).map_err(|e| e.to_string())?;
        let mut merged: Value = serde_yaml::from_str(&text).map_err(|e| e.to_string())?;
        merge(&mut merged, values);
        if let Ok(key) = std::fs::read_to_string(chart.join("rendered-when")) {
            if lookup(&merged, key.trim()) != Some(&Value::Bool(true)) {
                return Ok(String::new());
            }
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(chart.join("templates"))
            .map_err(|e| e.to_string())?
            .map(|e| e.map(|e| e.path()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        files.sort();
        let mut out = String::new();
        for f in files {
            let template = std::fs::read_to_string(&f).map_err(|e| e.to_string())?;
            let name = f.file_name().unwrap_or_default().to_string_lossy();
            out.push_str(&format!("---\n# Source: fixture/templates/{name}\n"));
            let mut rest = template.as_str();
            while let Some(i) = rest.find("{{") {
                out.push_str(&rest[..i]);
                let end = rest[i..].find("}}").ok_or("unclosed action")? + i;
                let expr = rest[i + 2..end].trim();
                let value = if expr == ".Release.Namespace" {
                    namespace.to_string()
                } else {
                    let path = expr.strip_prefix(".Values.").ok_or("unknown action")?;
                    match lookup(&merged, path) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => return Err(format!("{path}: nil")),
                        Some(v) => serde_json::to_string(v).map_err(|e| e.to_string())?,
                    }
                };
                out.push_str(&value);
                rest = &rest[end + 2..];
            }
            out.push_str(rest);
            out.push('\n');
        }
        Ok(out)
    }
}
