//! Install-time registry binding. An environment's mirror is either a fixed registry
//! (`mirror: 10.61.3.31:35000`) or bound on the site from a helmfile environment value
//! (`mirror: {from_value: offline.registry}`), the way Astrago's install script writes
//! `offline.registry` into `environments/astrago/values.yaml`.
//!
//! A bound environment is planned with a placeholder registry ([`PLACEHOLDER`]); its release
//! values are rendered as `.yaml.gotmpl` files in which every string holding the placeholder
//! becomes a Go template expression over `$registry`, read from `.Values` and checked (required,
//! then a `regexMatch` on the same grammar deploygen uses, else `fail`) before any value is used.

use serde_json::Value;

use crate::base::error::{Error, Result};
use crate::model::mirror::{Mirror, PLACEHOLDER, REGISTRY_PATTERN};
use crate::plan::{EnvPlan, Plan};

/// The plan with environment `env`'s bound mirror replaced by `registry` (what `images
/// --registry` and `audit --registry` prove against). A fixed environment is refused: its
/// registry is already known.
pub fn bind(plan: &Plan, env: &str, registry: &str) -> Result<Plan> {
    crate::model::mirror::check_mirror(registry).map_err(|e| Error::invalid("--registry", e))?;
    let mut plan = plan.clone();
    let Some(e) = plan.environments.iter_mut().find(|e| e.name == env) else {
        return Err(no_env(&plan, env));
    };
    match &e.env.mirror {
        Some(Mirror::Bound(_)) => {}
        Some(Mirror::Fixed(m)) => {
            return Err(Error::invalid(
                "--registry",
                format!("environment {env} has the fixed mirror {m}; --registry is only for mirrors bound at install time"),
            ))
        }
        None => {
            return Err(Error::invalid(
                "--registry",
                format!("environment {env} has no mirror"),
            ))
        }
    }
    e.env.mirror = Some(Mirror::Fixed(registry.to_string()));
    for img in &mut e.images {
        img.target = img.source.mirrored(registry);
    }
    Ok(plan)
}

/// Refuses to go on with a bound environment whose registry was not given.
pub fn require_bound(plan: &Plan, env: &str, registry: Option<&str>, what: &str) -> Result<Plan> {
    let e = plan
        .environments
        .iter()
        .find(|e| e.name == env)
        .ok_or_else(|| no_env(plan, env))?;
    match (e.env.mirror.as_ref().and_then(Mirror::bound_value), registry) {
        (Some(_), None) if e.env.mirror.as_ref().is_some_and(Mirror::online_when_empty) => {
            Ok(online_plan(plan, env))
        }
        (Some(value), None) => Err(Error::invalid(
            "--registry",
            format!("environment {env} binds its registry at install time from `{value}`: give the value {what} with --registry HOST:PORT"),
        )),
        (_, Some(r)) => bind(plan, env, r),
        (None, None) => Ok(plan.clone()),
    }
}

/// The plan with environment `env` installing online: no mirror, every image pulled from its
/// upstream reference. What a bound environment with `when_empty: upstream` installs when the
/// site leaves the value empty.
pub fn online_plan(plan: &Plan, env: &str) -> Plan {
    let mut plan = plan.clone();
    for e in plan.environments.iter_mut().filter(|e| e.name == env) {
        *e = online(e);
    }
    plan
}

/// One environment planned online (see [`online_plan`]).
pub fn online(e: &EnvPlan) -> EnvPlan {
    let mut e = e.clone();
    e.env.mirror = None;
    for img in &mut e.images {
        img.target = img.source.clone();
    }
    e
}

fn no_env(plan: &Plan, env: &str) -> Error {
    let all: Vec<&str> = plan.environments.iter().map(|e| e.name.as_str()).collect();
    Error::invalid(
        "--env",
        format!("no environment `{env}`; environments: {}", all.join(", ")),
    )
}

/// A Go template string literal (JSON string syntax is a subset Go accepts).
fn go_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The first lines of a bound environment's `.yaml.gotmpl` values file: read the value, fail
/// the install with a message naming it when it is missing or malformed.
pub fn preamble(value_path: &str) -> String {
    let missing = format!(
        "deploygen: the helmfile environment value `{value_path}` (the mirror registry, host[:port][/path]) is not set; write it into the environment's values (e.g. with yq) or pass --state-values-set {value_path}=HOST:PORT"
    );
    format!(
        "{read}{{{{- $registry = required {missing} (ternary \"\" $registry (eq $registry \"<nil>\")) }}}}\n{check}",
        read = read_value(value_path),
        missing = go_string(&missing),
        check = check_value(value_path),
    )
}

/// `$registry`: the value as a string ("" when absent, "<nil>" when null).
fn read_value(value_path: &str) -> String {
    format!(
        "{{{{- $registry := .Values | get {path} \"\" | toString }}}}\n",
        path = go_string(value_path),
    )
}

/// Fails the install on a malformed registry; sets `$registryHost`.
fn check_value(value_path: &str) -> String {
    let malformed = format!(
        "deploygen: the helmfile environment value `{value_path}` must be a registry host[:port][/path] such as 192.168.56.11:35000, not %q"
    );
    format!(
        "{{{{- if not (regexMatch {pattern} $registry) }}}}{{{{ fail (printf {malformed} $registry) }}}}{{{{ end }}}}\n\
         {{{{- $registryHost := first (splitList \"/\" $registry) }}}}\n",
        pattern = go_string(REGISTRY_PATTERN),
        malformed = go_string(&malformed),
    )
}

/// The whole body of a release's `.yaml.gotmpl` values file (after its comment header).
/// - no bound mirror: `values` (planned without a mirror or with a fixed one);
/// - bound, `when_empty: fail` (`online` None): the preamble, then `values` over `$registry`;
/// - bound, `when_empty: upstream`: an empty value selects `online` (the same release planned
///   without a mirror), any other value is checked and selects `values`. Two whole bodies
///   rather than a choice per string, because more than image references differ (tag
///   resolution, egress policies).
pub fn gotmpl_file(bound: Option<&str>, values: &Value, online: Option<&Value>) -> Result<String> {
    let Some(path) = bound else {
        return gotmpl_yaml(values, false);
    };
    let Some(online) = online else {
        return Ok(preamble(path) + &gotmpl_yaml(values, true)?);
    };
    Ok(format!(
        "{read}{{{{- if or (eq $registry \"\") (eq $registry \"<nil>\") }}}}\n{online}{{{{- else }}}}\n{check}{mirrored}{{{{- end }}}}\n",
        read = read_value(path),
        online = gotmpl_yaml(online, false)?,
        check = check_value(path),
        mirrored = gotmpl_yaml(values, true)?,
    ))
}

/// Serializes a values tree as the body of a `.yaml.gotmpl` file. Every string is emitted as
/// a Go template expression printing a JSON string, so nothing from the matrix is ever read
/// as template code; strings holding the placeholder print `$registry` (or `$registryHost`)
/// in its place. `bound` false: no `$registry` exists, and a placeholder is a deploygen bug.
pub fn gotmpl_yaml(values: &Value, bound: bool) -> Result<String> {
    let mut exprs: Vec<String> = Vec::new();
    let tokenized = tokenize(values, &mut exprs, bound)?;
    let yaml = serde_yaml::to_string(&tokenized).map_err(|e| Error::internal("gotmpl", e))?;
    let mut out = String::with_capacity(yaml.len());
    for line in yaml.lines() {
        out.push_str(&replace_tokens(line, &exprs));
        out.push('\n');
    }
    Ok(out)
}

const TOKEN: &str = crate::base::names::GOTMPL_TOKEN;

/// Every key below `v` (at `path`) that cannot be written into a `.yaml.gotmpl` values file
/// (`base::names::check_gotmpl_key`): (key path, message). Validation calls this on what the
/// user wrote, so `tokenize` never meets such a key.
pub fn gotmpl_key_problems(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let here = format!("{path}.{k}");
                if let Err(e) = crate::base::names::check_gotmpl_key(k) {
                    out.push((here.clone(), e));
                }
                gotmpl_key_problems(child, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                gotmpl_key_problems(child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn token(i: usize) -> String {
    format!("{TOKEN}{i:06}X")
}

fn replace_tokens(line: &str, exprs: &[String]) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(TOKEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + TOKEN.len()..];
        let digits: String = after.chars().take(6).collect();
        match digits.parse::<usize>().ok().and_then(|n| exprs.get(n)) {
            Some(e) if after[6..].starts_with('X') => {
                out.push_str(e);
                rest = &after[7..];
            }
            _ => {
                out.push_str(TOKEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn tokenize(v: &Value, exprs: &mut Vec<String>, bound: bool) -> Result<Value> {
    Ok(match v {
        Value::String(s) => {
            let e = string_expr(s, bound)?;
            exprs.push(e);
            Value::String(token(exprs.len() - 1))
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| tokenize(x, exprs, bound))
                .collect::<Result<_>>()?,
        ),
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                if k.contains("{{") || k.contains("}}") || k.contains(TOKEN) {
                    return Err(Error::internal(
                        "gotmpl",
                        format!(
                            "values key `{}` holds template delimiters",
                            k.escape_debug()
                        ),
                    ));
                }
                out.insert(k.clone(), tokenize(x, exprs, bound)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// `{{ print "a" $registry "b" | toJson }}` for a string with the placeholder, `{{ "s" | toJson }}`
/// otherwise (toJson prints a JSON string, which YAML reads back exactly).
fn string_expr(s: &str, bound: bool) -> Result<String> {
    if !s.contains(PLACEHOLDER) {
        return Ok(format!("{{{{ {} | toJson }}}}", go_string(s)));
    }
    if !bound {
        return Err(Error::internal(
            "gotmpl",
            "a fixed environment's value holds the bound-registry placeholder",
        ));
    }
    let mut parts = Vec::new();
    for (i, piece) in s.split(PLACEHOLDER).enumerate() {
        if i > 0 {
            // A placeholder followed by a path is the registry (with its path prefix); a bare
            // one in a host list (registries-skipping-tag-resolving) is the host.
            parts.push(
                if piece.starts_with('/') || piece.starts_with(':') || piece.starts_with('@') {
                    "$registry".to_string()
                } else {
                    "$registryHost".to_string()
                },
            );
        }
        if !piece.is_empty() {
            parts.push(go_string(piece));
        }
    }
    Ok(format!("{{{{ print {} | toJson }}}}", parts.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_a_gotmpl_file_cannot_hold_are_found_at_any_depth() {
        let v = serde_json::json!({
            "ok": {"{x}": 1},
            "a": {"{{b}}": {"c}}": 1}},
            "list": [{"n": 1}, {"DEPLOYGENGOTMPLVALUE": 2}],
        });
        let mut found = Vec::new();
        gotmpl_key_problems(&v, "o", &mut found);
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "o.a.{{b}}",
                "o.a.{{b}}.c}}",
                "o.list[1].DEPLOYGENGOTMPLVALUE"
            ]
        );
    }

    #[test]
    fn strings_become_expressions_and_the_placeholder_the_registry() {
        let v = serde_json::json!({
            "a": {"repository": format!("{PLACEHOLDER}/jetstack/x"), "n": 3},
            "skip": format!("kind.local,{PLACEHOLDER}"),
            "evil": "{{ .Values }}\n---\nx: y",
        });
        let text = gotmpl_yaml(&v, true).unwrap();
        assert!(
            text.contains(r#"repository: {{ print $registry "/jetstack/x" | toJson }}"#),
            "{text}"
        );
        assert!(
            text.contains(r#"skip: {{ print "kind.local," $registryHost | toJson }}"#),
            "{text}"
        );
        assert!(
            text.contains(r#"evil: {{ "{{ .Values }}\n---\nx: y" | toJson }}"#),
            "{text}"
        );
        assert!(!text.contains(PLACEHOLDER));
        assert!(gotmpl_yaml(&v, false).is_err());
    }
}
