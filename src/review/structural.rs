//! Everything else: objects added and removed (by kind), and for each object in both renders
//! whose body differs, a structural diff (field path: before -> after). List items with a
//! `name` are matched by name, others by position; multi-line strings (config files in
//! ConfigMaps) get a line diff.

use serde_json::Value;

use super::finding::{Class, Finding};
use super::objects::{name_of, Pairs};

/// Longest value quoted on a line.
const MAX_VALUE: usize = 120;

fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        v => serde_json::to_string(v).unwrap_or_default(),
    };
    if s.chars().count() > MAX_VALUE {
        let cut: String = s.chars().take(MAX_VALUE).collect();
        format!("{cut}… ({} chars)", s.chars().count())
    } else {
        s
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Every item of the list has a string `name`, all distinct.
fn named(items: &[Value]) -> Option<Vec<&str>> {
    let names: Option<Vec<&str>> = items
        .iter()
        .map(|i| i.get("name").and_then(Value::as_str))
        .collect();
    let names = names?;
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == names.len()).then_some(names)
}

/// The differences between two values, one line each, under `path`.
pub fn diff(before: &Value, after: &Value, path: &str, out: &mut Vec<String>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, vb) in b {
                match a.get(k) {
                    Some(va) => diff(vb, va, &join(path, k), out),
                    None => out.push(format!("- {}: {}", join(path, k), show(vb))),
                }
            }
            for (k, va) in a {
                if !b.contains_key(k) {
                    out.push(format!("+ {}: {}", join(path, k), show(va)));
                }
            }
        }
        (Value::Array(b), Value::Array(a)) => match (named(b), named(a)) {
            (Some(nb), Some(na)) => {
                for (i, n) in nb.iter().enumerate() {
                    let at = format!("{path}[{n}]");
                    match na.iter().position(|x| x == n) {
                        Some(j) => diff(&b[i], &a[j], &at, out),
                        None => out.push(format!("- {at}")),
                    }
                }
                for n in &na {
                    if !nb.contains(n) {
                        out.push(format!("+ {path}[{n}]"));
                    }
                }
            }
            _ => {
                for i in 0..b.len().max(a.len()) {
                    let at = format!("{path}[{i}]");
                    match (b.get(i), a.get(i)) {
                        (Some(x), Some(y)) => diff(x, y, &at, out),
                        (Some(x), None) => out.push(format!("- {at}: {}", show(x))),
                        (None, Some(y)) => out.push(format!("+ {at}: {}", show(y))),
                        (None, None) => {}
                    }
                }
            }
        },
        (Value::String(b), Value::String(a)) if b.contains('\n') || a.contains('\n') => {
            out.push(format!("~ {path}: (text)"));
            let d = similar::TextDiff::from_lines(b.as_str(), a.as_str());
            for change in d.iter_all_changes() {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                    similar::ChangeTag::Equal => continue,
                };
                let line = change.value().trim_end_matches('\n');
                out.push(format!(
                    "    {sign} {}",
                    show(&Value::String(line.to_string()))
                ));
            }
        }
        (b, a) => out.push(format!("~ {path}: {} -> {}", show(b), show(a))),
    }
}

pub fn check(p: &Pairs) -> Vec<Finding> {
    let mut out = Vec::new();
    for (_, b, a) in p.all() {
        let object = name_of(b, a);
        match (b, a) {
            (Some(b), None) => out.push(Finding::new(
                Class::ObjectRemoved,
                object,
                "",
                format!("{} removed", b.kind),
            )),
            (None, Some(a)) => out.push(Finding::new(
                Class::ObjectAdded,
                object,
                "",
                format!("{} added", a.kind),
            )),
            (Some(b), Some(a)) if b.body != a.body => {
                let mut lines = Vec::new();
                diff(&b.body, &a.body, "", &mut lines);
                let fields = lines.iter().filter(|l| !l.starts_with("    ")).count();
                out.push(
                    Finding::new(
                        Class::Changed,
                        object,
                        "",
                        format!("{fields} field(s) changed"),
                    )
                    .with_details(lines),
                );
            }
            _ => {}
        }
    }
    out
}
