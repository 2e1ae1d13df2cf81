//! `TODO:` markers in catalog data: what `deploygen catalog import` leaves for a person to
//! fill. Shared by build.rs (a compiled-in entry with a TODO fails the build) and the catalog
//! directory overlay (such an entry is pending, each TODO located).

/// (key path, text) of every string value starting with `TODO:`.
pub fn find_todos(v: &serde_yaml::Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_yaml::Value::String(s) if s.trim_start().starts_with("TODO:") => {
            out.push((path.to_string(), s.trim().to_string()))
        }
        serde_yaml::Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                find_todos(item, &format!("{path}[{i}]"), out);
            }
        }
        serde_yaml::Value::Mapping(m) => {
            for (k, item) in m {
                let key = k
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{k:?}"));
                let p = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                find_todos(item, &p, out);
            }
        }
        _ => {}
    }
}
