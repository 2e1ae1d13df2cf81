//! Writes a catalog entry as YAML in the catalog's own layout (flow-style `set:` lists, one
//! image per block), deterministically.

use std::fmt::Write as _;

use crate::catalog::{
    CatalogImage, ChartDefect, ComponentVersion, Installs, ReleaseEntry, Rule, SetAt, ValuesKeys,
};

/// A YAML scalar, quoted where YAML would read it as something else.
pub fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/@:".contains(c))
        && !s.starts_with(['-', ':', '@'])
        && !s.contains(": ")
        && !s.ends_with(':')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

fn set_at(s: &SetAt) -> String {
    match s {
        SetAt::Values(ValuesKeys::RepositoryTag { repository, tag }) => format!(
            "{{values: {{repository: {}, tag: {}}}}}",
            scalar(repository),
            scalar(tag)
        ),
        SetAt::Values(ValuesKeys::Reference { reference }) => {
            format!("{{values: {{ref: {}}}}}", scalar(reference))
        }
        SetAt::Values(ValuesKeys::RepositoryDigest { repository, digest }) => format!(
            "{{values: {{repository: {}, digest: {}}}}}",
            scalar(repository),
            scalar(digest)
        ),
        SetAt::Hub { hub, tag } => {
            format!("{{hub: {{hub: {}, tag: {}}}}}", scalar(hub), scalar(tag))
        }
        SetAt::KnativeOverride(k) => format!("{{knative_override: {}}}", scalar(k)),
        SetAt::KnativeConfig { configmap, key } => format!(
            "{{knative_config: {{configmap: {}, key: {}}}}}",
            scalar(configmap),
            scalar(key)
        ),
        SetAt::Follows(id) => format!("{{follows: {}}}", scalar(id)),
    }
}

fn images(
    out: &mut String,
    indent: &str,
    images: &[CatalogImage],
    comments: &dyn Fn(&str) -> Vec<String>,
) {
    for img in images {
        for c in comments(&img.id) {
            let _ = writeln!(out, "{indent}# {c}");
        }
        let _ = writeln!(out, "{indent}- id: {}", scalar(&img.id));
        let _ = writeln!(out, "{indent}  ref: {}", scalar(&img.reference));
        if let Some(rt) = &img.runtime {
            let _ = writeln!(out, "{indent}  runtime: {}", scalar(rt));
        }
        let sets: Vec<String> = img.set.iter().map(set_at).collect();
        let _ = writeln!(out, "{indent}  set: [{}]", sets.join(", "));
    }
}

/// A YAML block of a values tree, indented.
fn block(out: &mut String, indent: &str, v: &serde_yaml::Value) {
    let text = serde_yaml::to_string(v).unwrap_or_default();
    for line in text.lines() {
        let _ = writeln!(out, "{indent}{line}");
    }
}

fn rule(out: &mut String, r: &Rule) {
    let _ = writeln!(out, "  - id: {}", scalar(&r.id));
    let kind = match r.kind {
        crate::catalog::RuleKind::Requires => "requires",
        crate::catalog::RuleKind::Recommends => "recommends",
    };
    let _ = writeln!(out, "    kind: {kind}");
    let _ = writeln!(out, "    component: {}", scalar(&r.component));
    if let Some(m) = &r.min {
        let _ = writeln!(out, "    min: {}", scalar(m));
    }
    if let Some(mode) = r.mode {
        let _ = writeln!(out, "    mode: {}", mode.as_str());
    }
    if let Some(v) = &r.versions {
        let items: Vec<String> = v
            .iter()
            .map(|s| serde_json::to_string(s).unwrap_or_default())
            .collect();
        let _ = writeln!(out, "    versions: [{}]", items.join(", "));
    }
    if let Some(map) = &r.per_kubernetes {
        let _ = writeln!(out, "    per_kubernetes:");
        for (k, v) in map {
            let items: Vec<String> = v
                .iter()
                .map(|s| serde_json::to_string(s).unwrap_or_default())
                .collect();
            let _ = writeln!(
                out,
                "      {}: [{}]",
                serde_json::to_string(k).unwrap_or_default(),
                items.join(", ")
            );
        }
    }
    let _ = writeln!(out, "    why: {}", scalar(&r.why));
    let _ = writeln!(out, "    source: {}", scalar(&r.source));
}

fn installs(out: &mut String, i: &Installs) {
    let _ = writeln!(out, "installs:");
    let _ = writeln!(out, "  serving:");
    let _ = writeln!(out, "    min: {}", i.serving.min);
    let _ = writeln!(out, "    max: {}", i.serving.max);
    let _ = writeln!(out, "  source: {}", scalar(&i.source));
    let _ = writeln!(out, "  net_istio:");
    for (minor, n) in &i.net_istio {
        let _ = writeln!(
            out,
            "    {}:",
            serde_json::to_string(minor).unwrap_or_default()
        );
        let _ = writeln!(out, "      version: {}", scalar(&n.version));
        let _ = writeln!(out, "      images:");
        images(out, "        ", &n.images, &|_| Vec::new());
    }
    let _ = writeln!(out, "  net_istio_source: {}", scalar(&i.net_istio_source));
}

fn defect(out: &mut String, d: &ChartDefect) {
    let _ = writeln!(out, "      - id: {}", scalar(&d.id));
    let _ = writeln!(
        out,
        "        helm: {}",
        serde_json::to_string(&d.helm.to_string()).unwrap_or_default()
    );
    let _ = writeln!(out, "        why: {}", scalar(&d.why));
    let _ = writeln!(out, "        source: {}", scalar(&d.source));
    let fix = match d.fix {
        crate::catalog::DefectFix::SkipSchemaValidation => "skip-schema-validation",
    };
    let _ = writeln!(out, "        fix: {fix}");
}

fn release(out: &mut String, r: &ReleaseEntry, comments: &dyn Fn(&str) -> Vec<String>) {
    let _ = writeln!(out, "  - name: {}", scalar(&r.name));
    let _ = writeln!(out, "    namespace: {}", scalar(&r.namespace));
    if !r.pull_secrets.is_empty() {
        let _ = writeln!(
            out,
            "    # Image pull secrets for a mirror that needs credentials (environments[].image_pull_secrets)."
        );
        let _ = writeln!(out, "    pull_secrets:");
        for p in &r.pull_secrets {
            let form = match p.form {
                crate::catalog::PullSecretForm::Names => "names",
                crate::catalog::PullSecretForm::Objects => "objects",
            };
            let _ = writeln!(
                out,
                "      - {{path: {}, form: {form}, source: {}}}",
                scalar(&p.path),
                scalar(&p.source)
            );
        }
    }
    if let Some(c) = &r.chart {
        let _ = writeln!(out, "    chart:");
        let _ = writeln!(out, "      repository: {}", scalar(&c.repository));
        let _ = writeln!(out, "      name: {}", scalar(&c.name));
        let _ = writeln!(out, "      version: {}", scalar(&c.version));
        if let Some(d) = &c.digest {
            let _ = writeln!(out, "      digest: {}", scalar(d));
        }
        let _ = writeln!(out, "      source: {}", scalar(&c.source));
    }
    let needs: Vec<String> = r.needs.iter().map(|n| scalar(n)).collect();
    let _ = writeln!(out, "    needs: [{}]", needs.join(", "));
    if let Some(v) = &r.values {
        let _ = writeln!(out, "    values:");
        block(out, "      ", v);
    }
    for (k, v) in [
        ("deployment_mode_path", &r.deployment_mode_path),
        ("domain_path", &r.domain_path),
        ("url_scheme_path", &r.url_scheme_path),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "    {k}: {}", scalar(v));
        }
    }
    if let Some(w) = &r.deployment_mode_words {
        let _ = writeln!(out, "    deployment_mode_words:");
        let _ = writeln!(out, "      serverless: {}", scalar(&w.serverless));
        let _ = writeln!(out, "      raw_deployment: {}", scalar(&w.raw_deployment));
        let _ = writeln!(out, "      source: {}", scalar(&w.source));
    }
    if let Some(p) = &r.runtime_disabled {
        let _ = writeln!(out, "    runtime_disabled: {}", scalar(p));
    }
    if !r.glue.is_empty() {
        let glue: Vec<String> = r
            .glue
            .iter()
            .map(|g| {
                serde_yaml::to_string(g)
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            })
            .collect();
        let _ = writeln!(out, "    glue: [{}]", glue.join(", "));
    }
    if !r.defects.is_empty() {
        let _ = writeln!(out, "    defects:");
        for d in &r.defects {
            defect(out, d);
        }
    }
    if !r.workloads.is_empty() {
        let _ = writeln!(out, "    workloads:");
        for w in &r.workloads {
            match (&w.path, &w.knative_workload) {
                (_, Some(k)) => {
                    let _ = writeln!(
                        out,
                        "      - {{id: {}, knative_workload: {{name: {}, container: {}}}}}",
                        scalar(&w.id),
                        scalar(&k.name),
                        scalar(&k.container)
                    );
                }
                (Some(p), None) => {
                    let _ = writeln!(out, "      - id: {}", scalar(&w.id));
                    let _ = writeln!(out, "        path: {}", scalar(p));
                }
                (None, None) => {
                    let _ = writeln!(out, "      - id: {}", scalar(&w.id));
                }
            }
        }
    }
    if r.images.is_empty() {
        let _ = writeln!(out, "    images: []");
    } else {
        let _ = writeln!(out, "    images:");
        images(out, "      ", &r.images, comments);
    }
    if let Some(s) = &r.images_source {
        let _ = writeln!(out, "    images_source: {}", scalar(s));
    }
    if !r.values_keys.is_empty() {
        let _ = writeln!(
            out,
            "    # Every values key of the chart (values.yaml, values.schema.json, the templates' .Values paths),"
        );
        let _ = writeln!(
            out,
            "    # as `deploygen catalog import` read them: the keys above must be among them."
        );
        let _ = writeln!(out, "    values_keys:");
        for k in &r.values_keys {
            let _ = writeln!(out, "      - {}", scalar(k));
        }
    }
}

/// The whole entry, with a header saying how it was made.
pub fn entry(
    header: &[String],
    e: &ComponentVersion,
    comments: &dyn Fn(&str) -> Vec<String>,
) -> String {
    let mut out = String::new();
    for h in header {
        let _ = writeln!(out, "# {h}");
    }
    let _ = writeln!(out, "component: {}", scalar(&e.component));
    let _ = writeln!(out, "version: {}", scalar(&e.version));
    let _ = writeln!(out, "label: {}", scalar(&e.label));
    let _ = writeln!(out, "kubernetes:");
    let _ = writeln!(
        out,
        "  min: {}",
        serde_json::to_string(&e.kubernetes.min).unwrap_or_default()
    );
    if let Some(m) = &e.kubernetes.max {
        let _ = writeln!(
            out,
            "  max: {}",
            serde_json::to_string(m).unwrap_or_default()
        );
    }
    let _ = writeln!(out, "  source: {}", scalar(&e.kubernetes.source));
    if !e.rules.is_empty() {
        let _ = writeln!(out, "rules:");
        for r in &e.rules {
            rule(&mut out, r);
        }
    }
    if let Some(i) = &e.installs {
        installs(&mut out, i);
    }
    if !e.migrations.is_empty() {
        let _ = writeln!(out, "migrations:");
        for m in &e.migrations {
            let _ = writeln!(out, "  - id: {}", scalar(&m.id));
            let _ = writeln!(out, "    from_below: {}", scalar(&m.from_below));
            let _ = writeln!(out, "    why: {}", scalar(&m.why));
            let _ = writeln!(out, "    steps:");
            for step in &m.steps {
                let _ = writeln!(out, "      - {}", scalar(step));
            }
            let _ = writeln!(out, "    source: {}", scalar(&m.source));
        }
    }
    let _ = writeln!(out, "releases:");
    for r in &e.releases {
        release(&mut out, r, comments);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::scalar;

    #[test]
    fn scalars_are_quoted_where_yaml_would_misread_them() {
        assert_eq!(scalar("kserve.controller.image"), "kserve.controller.image");
        assert_eq!(scalar("1.30"), "\"1.30\"");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("TODO: fill me"), "\"TODO: fill me\"");
        assert_eq!(
            scalar("docker.io/kserve/agent:v0.16.0"),
            "docker.io/kserve/agent:v0.16.0"
        );
    }
}
