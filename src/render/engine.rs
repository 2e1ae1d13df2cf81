//! The template engine: minijinja with the syntax that lets Helm's `{{ }}` pass through
//! (`syntax`), every value printed into a YAML or JSON template escaped as a JSON scalar, the
//! filters the templates use, and the embedded templates compiled on first use.

use minijinja::{AutoEscape, Environment, Value as JValue};

use super::syntax;
use crate::base::error::{Error, Result};

pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/template_files.rs"));
}

/// The engine for one render. Templates are compiled on first use, so a run compiles only the
/// ones it renders, each once (a render builds one engine).
pub fn template_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(syntax::syntax_config());
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // YAML and JSON templates escape every printed value as a JSON scalar (valid YAML);
    // pre-serialized blocks come through `toyaml`, which marks its output safe.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".yaml.j2") || name.ends_with(".json.j2") {
            AutoEscape::Json
        } else {
            AutoEscape::None
        }
    });
    env.add_filter("toyaml", toyaml);
    env.add_filter("md", markdown_cell);
    env.add_filter("comment", comment_text);
    env.set_loader(|name| Ok(source(name).map(str::to_string)));
    env
}

/// The text of the embedded template `name` (a path below `templates/`).
pub fn source(name: &str) -> Option<&'static str> {
    embedded::TEMPLATE_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
}

/// Serializes a value as a YAML block, indented by `indent` spaces after the first line.
fn toyaml(value: JValue, indent: Option<usize>) -> std::result::Result<JValue, minijinja::Error> {
    let yaml = serde_yaml::to_string(&value).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    let yaml = yaml.trim_end();
    let pad = " ".repeat(indent.unwrap_or(0));
    let text = yaml.lines().collect::<Vec<_>>().join(&format!("\n{pad}"));
    Ok(JValue::from_safe_string(text))
}

/// Text for a YAML comment: one line, no control characters (so nothing can end the comment).
fn comment_text(value: String) -> JValue {
    let one_line: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    JValue::from_safe_string(one_line)
}

/// A Markdown table cell: no line breaks, no column separators. One pass over the text (the
/// versions report prints thousands of cells).
pub fn markdown_cell(value: String) -> String {
    if !value.contains(['\\', '|', '&', '<', '\n', '\r']) {
        return value;
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            // No HTML from the matrix: `<!--` in a reason would hide the rest of the page.
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub fn render_one(env: &Environment, template: &str, ctx: JValue) -> Result<String> {
    let t = env
        .get_template(template)
        .map_err(|e| Error::internal(format!("templates/{template}"), e))?;
    let traced = super::trace::on().then(|| ctx.clone());
    let out = t.render(ctx).map_err(|e| {
        let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
        Error::internal(format!("templates/{template}{line}"), format!("{e:#}"))
    })?;
    if let Some(ctx) = traced {
        super::trace::record(template, &ctx, &out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toyaml_indents_every_line_after_the_first_and_marks_it_safe() {
        let v = JValue::from_serialize(serde_json::json!({"a": 1, "b": [1, 2]}));
        let out = toyaml(v.clone(), Some(4)).expect("serializes");
        assert_eq!(out.to_string(), "a: 1\n    b:\n    - 1\n    - 2");
        assert!(out.is_safe());
        assert_eq!(
            toyaml(v, None).expect("serializes").to_string(),
            "a: 1\nb:\n- 1\n- 2"
        );
    }

    #[test]
    fn comment_and_markdown_filters_keep_text_on_one_line() {
        assert_eq!(
            comment_text("a\nb\r\tc\u{85}d".into()).to_string(),
            "a b  c d"
        );
        assert_eq!(
            markdown_cell("a|b\\c\n<!--&x\r".into()),
            "a\\|b\\\\c &lt;!--&amp;x "
        );
    }

    proptest::proptest! {
        /// The one-pass cell is the chain of replacements it replaced.
        #[test]
        fn markdown_cell_is_the_chain_of_replacements(value in "[a-z\\\\|&<>;\n\r -]{0,24}") {
            let chain = value
                .replace('\\', "\\\\")
                .replace('|', "\\|")
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace(['\n', '\r'], " ");
            proptest::prop_assert_eq!(markdown_cell(value), chain);
        }
    }

    #[test]
    fn every_embedded_template_compiles_and_an_unknown_one_is_an_error() {
        let env = template_env();
        for (name, _) in embedded::TEMPLATE_FILES {
            env.get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        assert!(source("chart/Chart.yaml.j2").is_some());
        assert!(source("chart/nope.j2").is_none());
        assert!(render_one(&env, "chart/nope.j2", JValue::UNDEFINED).is_err());
    }
}
