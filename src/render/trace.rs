//! A record of the template renders a run makes, for the peer bench (`benches/peer.rs`): it
//! hands the same templates and the same contexts to a Python + Jinja2 renderer and compares
//! the bytes. Off unless `traced` runs, and then only on its own thread; a render that is not
//! traced pays one thread-local read per template.

use std::cell::RefCell;

use minijinja::value::{Value as JValue, ValueKind};

/// One template render: which template, with what context, to what text.
#[derive(Debug, Clone)]
pub struct Call {
    pub template: String,
    /// The context as JSON; a string the template prints unescaped (marked safe, for example
    /// a pre-rendered block) is `{"__safe__": "..."}`, so the peer prints it as is.
    pub context: String,
    pub output: String,
}

thread_local! {
    static CALLS: RefCell<Option<Vec<Call>>> = const { RefCell::new(None) };
}

/// Runs `f`, recording every template render it makes; its work stays on this thread
/// (`base::par::serially`), where the record is kept.
pub fn traced<R>(f: impl FnOnce() -> R) -> (R, Vec<Call>) {
    CALLS.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let out = crate::base::par::serially(f);
    let calls = CALLS.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (out, calls)
}

pub(super) fn on() -> bool {
    CALLS.with(|c| c.borrow().is_some())
}

pub(super) fn record(template: &str, context: &JValue, output: &str) {
    CALLS.with(|c| {
        if let Some(calls) = c.borrow_mut().as_mut() {
            calls.push(Call {
                template: template.to_string(),
                context: to_json(context),
                output: output.to_string(),
            });
        }
    });
}

/// JSON text of a template context, maps in the order the template iterates them (which
/// `serde_json::Value` would not keep).
fn to_json(v: &JValue) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &JValue, out: &mut String) {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::String if v.is_safe() => {
            out.push_str("{\"__safe__\":");
            out.push_str(&scalar(&v.to_string()));
            out.push('}');
        }
        ValueKind::String => out.push_str(&scalar(&v.to_string())),
        ValueKind::Map => {
            out.push('{');
            for (i, k) in v.try_iter().into_iter().flatten().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&scalar(&k.to_string()));
                out.push(':');
                write_json(&v.get_item(&k).unwrap_or_default(), out);
            }
            out.push('}');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            for (i, x) in v.try_iter().into_iter().flatten().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(&x, out);
            }
            out.push(']');
        }
        _ => out.push_str(&scalar(v)),
    }
}

/// A JSON scalar's text (strings and numbers: serde_json cannot fail on them).
fn scalar<T: serde::Serialize + ?Sized>(x: &T) -> String {
    serde_json::to_string(x).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_inside_traced_and_marks_safe_strings() {
        let matrix = include_bytes!("../../matrix.yaml");
        // Outside `traced` nothing is recorded, and the render spreads over the cores.
        crate::render("matrix.yaml", matrix).unwrap();
        assert!(!on());
        let (tree, calls) = traced(|| crate::render("matrix.yaml", matrix).unwrap());
        assert!(!on());
        // Every template render of the run, each one's output in the file it makes.
        assert!(calls.len() > 50, "{}", calls.len());
        for c in &calls {
            assert!(
                tree.values().any(|t| t.contains(c.output.as_str())),
                "{}: output in no file",
                c.template
            );
            serde_json::from_str::<serde_json::Value>(&c.context).unwrap();
        }
        let (_, none) = traced(|| ());
        assert!(none.is_empty(), "a record is not carried into the next");
        let ctx = minijinja::context! { z => JValue::from_safe_string("x: 1".into()), n => 2, l => vec![true], s => "q\"" };
        // Keys in the order the template sees them; safe strings marked.
        let keys: Vec<String> = ctx.try_iter().unwrap().map(|k| k.to_string()).collect();
        let text = to_json(&ctx);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["z"], serde_json::json!({"__safe__": "x: 1"}));
        assert_eq!(parsed["l"], serde_json::json!([true]));
        assert_eq!(parsed["s"], "q\"");
        let order: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
}
