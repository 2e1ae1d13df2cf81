//! Rendering: the validated plan through the minijinja templates in `templates/` into the
//! whole tree, in memory. Values are serialized through serde; anything else a template
//! prints into YAML is JSON-escaped by minijinja (auto-escape), so a string from the matrix
//! parses back as exactly that string.

pub mod airgap;
pub mod check;
pub mod engine;
pub mod glue;
pub mod helmfile_keys;
pub mod images;
pub mod syntax;
pub mod trace;
pub mod values;

use std::collections::BTreeMap;

use minijinja::{context, Environment, Value as JValue};
use serde::Serialize;

use crate::base::error::{Error, Result};
use crate::plan::{EnvPlan, Plan, Release};

use engine::{embedded, markdown_cell, render_one};

pub use crate::base::generated::{header, Tree, GENERATED_NOTE, MANIFEST};

#[derive(Serialize)]
struct ReleaseCtx {
    name: String,
    namespace: String,
    component: String,
    label: String,
    version: String,
    chart_version: String,
    kube_version: String,
    needs: Vec<String>,
    knative_only: bool,
    chart: Option<crate::catalog::Chart>,
    image_count: usize,
    /// Chart defects the site's Helm hits, worked around by skipping schema validation.
    skip_schema: Vec<DefectCtx>,
    /// The chart carries the mTLS resources (its NOTES say what mTLS covers).
    mtls: bool,
    /// The chart carries egress policies (its NOTES say what they allow).
    egress: bool,
}

#[derive(Serialize)]
struct DefectCtx {
    id: String,
    why: String,
    source: String,
}

fn release_ctx(r: &Release, helm: &semver::Version) -> ReleaseCtx {
    let chart_version = crate::base::version::parse_lenient(&r.version)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| r.version.clone());
    ReleaseCtx {
        name: r.name.clone(),
        namespace: r.namespace.clone(),
        component: r.component.clone(),
        label: r.label.clone(),
        version: r.version.clone(),
        chart_version,
        kube_version: r.kube_version.clone(),
        needs: r.needs.clone(),
        knative_only: r.knative_only,
        chart: r.chart.clone(),
        image_count: r.images.len(),
        skip_schema: crate::plan::compat::defects(r, helm)
            .into_iter()
            .filter(|d| d.fix == crate::catalog::DefectFix::SkipSchemaValidation)
            .map(|d| DefectCtx {
                id: d.id.clone(),
                why: d.why.clone(),
                source: d.source.clone(),
            })
            .collect(),
        mtls: r.entry.glue.contains(&crate::catalog::Feature::Mtls),
        egress: r.entry.glue.iter().any(|f| {
            matches!(
                f,
                crate::catalog::Feature::Egress | crate::catalog::Feature::EgressRegistry
            )
        }),
    }
}

#[derive(Serialize)]
struct Repository {
    name: String,
    url: String,
    oci: bool,
}

/// Helm repositories of the wrapper charts' dependencies, for helmfile's `repositories:`
/// (OCI ones without the scheme and `oci: true`, as helmfile wants them).
fn repositories(plan: &Plan) -> Vec<Repository> {
    let mut out: Vec<Repository> = Vec::new();
    for r in &plan.releases {
        let Some(chart) = &r.chart else { continue };
        let (url, oci) = match chart.repository.strip_prefix("oci://") {
            Some(rest) => (rest.to_string(), true),
            None => (chart.repository.clone(), false),
        };
        if out.iter().any(|x| x.url == url) {
            continue;
        }
        let mut name = r.label.clone();
        let mut n = 2;
        while out.iter().any(|x| x.name == name) {
            name = format!("{}-{n}", r.label);
            n += 1;
        }
        out.push(Repository { name, url, oci });
    }
    out
}

/// Renders the whole tree for a plan. Nothing touches the disk here.
pub fn render_tree(plan: &Plan) -> Result<Tree> {
    let env = engine::template_env();
    let mut tree = Tree::new();
    let yaml_header = header(&plan.matrix_file, "#");
    // Validation parsed the tool versions already; a failure here is a deploygen bug.
    let helm = crate::base::version::parse_lenient(&plan.matrix.tools.helm)
        .map_err(|e| Error::internal("tools.helm", e))?;
    let releases: Vec<ReleaseCtx> = plan
        .releases
        .iter()
        .map(|r| release_ctx(r, &helm))
        .collect();
    let layout = &plan.matrix.layout;
    let env_names: Vec<&str> = plan.environments.iter().map(|e| e.name.as_str()).collect();
    let gotmpl = values_are_gotmpl(plan);
    // Paths in the helmfile are relative to its own folder: helmfile resolves them from there.
    let env_dir = layout.from_helmfile(&layout.environments);
    let local = |p: String| {
        if p.starts_with("../") {
            p
        } else {
            format!("./{p}")
        }
    };
    let chart_paths: BTreeMap<&str, String> = plan
        .releases
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                local(layout.from_helmfile(&layout.chart_dir(&r.name))),
            )
        })
        .collect();
    let values_ext = if gotmpl { "yaml.gotmpl" } else { "yaml" };
    let repos = if layout.vendored_charts {
        Vec::new()
    } else {
        repositories(plan)
    };
    let helmfile = render_one(
        &env,
        "helmfile.yaml.j2",
        context! {
            releases => &releases,
            environments => &env_names,
            repositories => repos,
            vendored => layout.vendored_charts,
            env_dir => env_dir,
            chart_paths => chart_paths,
            values_ext => values_ext,
            bound => plan.environments.iter().filter_map(|e| e.bound_value().map(|v| (e.name.clone(), v.to_string()))).collect::<BTreeMap<_, _>>(),
            keys => helmfile_keys::keys(plan),
        },
    )?;
    put(
        &mut tree,
        &layout.helmfile,
        format!("{yaml_header}{helmfile}"),
    )?;

    put(
        &mut tree,
        &layout.schema,
        crate::model::matrix::json_schema(),
    )?;

    for (release, ctx) in plan.releases.iter().zip(&releases) {
        render_chart(&env, plan, release, ctx, &yaml_header, &mut tree)?;
    }

    // Environments render side by side (`base::par`), each into a tree of its own, merged in
    // the matrix's order.
    let per_env = crate::base::par::map(&plan.environments, 4, |e| {
        env_files(&env, plan, e, &yaml_header)
    });
    for files in per_env {
        for (path, text) in files? {
            put(&mut tree, &path, text)?;
        }
    }

    for (path, text) in crate::render::images::image_lists(plan) {
        put(&mut tree, &path, text)?;
    }
    for (path, text) in crate::render::airgap::files(plan) {
        put(&mut tree, &path, text)?;
    }

    let doc = render_one(
        &env,
        "COMPONENT_VERSIONS.md.j2",
        crate::plan::explain::doc_context(plan),
    )?;
    let md_header = header(&plan.matrix_file, "<!--").replace('\n', " -->\n");
    put(
        &mut tree,
        &layout.versions_report,
        format!("{md_header}{doc}"),
    )?;

    Ok(tree)
}

/// Release values files are `.yaml.gotmpl` (helmfile renders them) when some environment binds
/// its registry at install time; helmfile names one values path per release for every
/// environment, so all environments then use the same extension.
pub fn values_are_gotmpl(plan: &Plan) -> bool {
    plan.environments.iter().any(|e| e.bound_value().is_some())
}

/// Adds a file to the tree; two outputs on one path (a layout that puts two things in one
/// place) are an error, never a silent overwrite.
fn put(tree: &mut Tree, path: &str, text: String) -> Result<()> {
    if tree.contains_key(path) {
        return Err(Error::invalid(
            "layout",
            format!("two generated files would both be {path}; give them distinct places"),
        ));
    }
    tree.insert(path.to_string(), text);
    Ok(())
}

fn render_chart(
    env: &Environment,
    plan: &Plan,
    release: &Release,
    ctx: &ReleaseCtx,
    yaml_header: &str,
    tree: &mut Tree,
) -> Result<()> {
    let base = plan.matrix.layout.chart_dir(&release.name);
    let chart = render_one(env, "chart/Chart.yaml.j2", context! { release => ctx })?;
    tree.insert(
        format!("{base}/Chart.yaml"),
        format!("{yaml_header}{chart}"),
    );

    // Helm shows NOTES.txt after install; it also gives every chart a templates/ folder.
    let notes = render_one(env, "chart/NOTES.txt.j2", context! { release => ctx })?;
    tree.insert(format!("{base}/templates/NOTES.txt"), notes);

    let glue_prefix = format!("glue/{}/", release.name);
    let glue_values = format!("{glue_prefix}values.yaml.j2");
    let has_glue_values = embedded::TEMPLATE_FILES
        .iter()
        .any(|(n, _)| *n == glue_values);
    let mut defaults = values::chart_defaults(release);
    if let serde_json::Value::Object(map) = &mut defaults {
        map.extend(glue::defaults(release));
    }
    tree.insert(format!("{base}/values.schema.json"), glue::schema(release));
    let vals = render_one(
        env,
        "chart/values.yaml.j2",
        context! {
            release => ctx,
            defaults => JValue::from_serialize(&defaults),
            glue_values => if has_glue_values { Some(glue_values.clone()) } else { None },
        },
    )?;
    tree.insert(
        format!("{base}/values.yaml"),
        format!("{yaml_header}{vals}"),
    );

    // Every other file under templates/glue/<release>/ becomes a file of the chart.
    for (name, _) in embedded::TEMPLATE_FILES {
        let Some(rel) = name.strip_prefix(&glue_prefix) else {
            continue;
        };
        if *name == glue_values {
            continue;
        }
        let text = render_one(env, name, context! { release => ctx })?;
        let out = rel.strip_suffix(".j2").unwrap_or(rel);
        let body = if out.ends_with(".json") {
            text
        } else {
            format!("{yaml_header}{text}")
        };
        tree.insert(format!("{base}/{out}"), body);
    }
    Ok(())
}

/// One environment's files: its values (`environments/<env>/`) and, with smoke tests on, its
/// example models (`examples/<env>/`).
fn env_files(env: &Environment, plan: &Plan, e: &EnvPlan, yaml_header: &str) -> Result<Tree> {
    let mut tree = Tree::new();
    render_environment(env, plan, e, yaml_header, &mut tree)?;
    if e.env.operations.smoke_tests.enabled {
        render_examples(env, plan, e, yaml_header, &mut tree)?;
    }
    Ok(tree)
}

fn render_environment(
    env: &Environment,
    plan: &Plan,
    e: &EnvPlan,
    yaml_header: &str,
    tree: &mut Tree,
) -> Result<()> {
    let base = crate::model::layout::Layout::join(&plan.matrix.layout.environments, &e.name);
    let hv = values::helmfile_environment(e);
    let text = render_one(
        env,
        "environment/environment.yaml.j2",
        context! { env => e.name, mode => e.env.deployment_mode.as_str(), mirror => e.mirror_label(), bound => e.bound_value(), upstream_when_empty => e.env.mirror.as_ref().is_some_and(crate::model::mirror::Mirror::online_when_empty), values => JValue::from_serialize(&hv) },
    )?;
    put(
        tree,
        &format!("{base}/environment.yaml"),
        format!("{yaml_header}{text}"),
    )?;
    let gotmpl = values_are_gotmpl(plan);
    for r in &plan.releases {
        let v = values::environment_values(plan, e, r);
        // A .gotmpl file is a Go template: every string goes through an expression (see
        // binding::gotmpl_yaml), and the header must not hold template delimiters.
        let body = if gotmpl && e.installs(&r.name) {
            let b = values::gotmpl_body(plan, e, r, &v)?;
            Some(JValue::from_safe_string(b.trim_end().to_string()))
        } else {
            None
        };
        let text = render_one(
            env,
            "environment/release.yaml.j2",
            context! {
                env => e.name,
                release => r.name,
                installed => e.installs(&r.name),
                mode => e.env.deployment_mode.as_str(),
                mirror => e.mirror_label(),
                profile => e.env.profile,
                nested => r.values_root(),
                values => JValue::from_serialize(&v),
                body => body,
            },
        )?;
        let (name, head) = if gotmpl {
            (
                format!("{base}/{}.yaml.gotmpl", r.name),
                yaml_header.replace("{{", "{ {").replace("}}", "} }"),
            )
        } else {
            (format!("{base}/{}.yaml", r.name), yaml_header.to_string())
        };
        put(tree, &name, format!("{head}{text}"))?;
    }
    Ok(())
}

/// The plan's Phase 3 test models for one environment, in examples/<env>/.
fn render_examples(
    env: &Environment,
    plan: &Plan,
    e: &EnvPlan,
    yaml_header: &str,
    tree: &mut Tree,
) -> Result<()> {
    let smoke = &e.env.operations.smoke_tests;
    let image = |id: &str| {
        e.images
            .iter()
            .find(|i| i.id == id && i.shipped)
            .map(|i| i.target.to_string())
    };
    let runs = |rt: &str| e.env.serving_runtimes.iter().any(|r| r == rt);
    let sklearn = runs("sklearnserver");
    let pytorch = runs("torchserve") && e.env.cluster.gpus_per_node > 0;
    let mut skipped = Vec::new();
    if !sklearn {
        skipped.push("sklearn-iris: serving runtime sklearnserver is not enabled here".to_string());
    }
    if !runs("torchserve") {
        skipped.push("pytorch-gpu: serving runtime torchserve is not enabled here".to_string());
    } else if e.env.cluster.gpus_per_node == 0 {
        skipped.push("pytorch-gpu: the cluster has no GPUs (gpus_per_node: 0)".to_string());
    }
    let tls = &e.env.operations.tls;
    let mtls = &e.env.operations.mtls;
    let mtls_mode = (mtls.mode != crate::model::matrix::MtlsMode::Off
        && mtls.namespaces.contains(&smoke.namespace))
    .then(|| mtls.mode.istio());
    let serverless = e.env.deployment_mode.uses_knative();
    let host = crate::model::gateway::inference_host("sklearn-iris", &smoke.namespace, &tls.domain);
    let load_test = smoke.load_test.as_ref().filter(|_| sklearn);
    let load_image = load_test.and_then(|lt| {
        let wanted = crate::base::image::ImageRef::parse(&lt.image).ok()?;
        e.images
            .iter()
            .find(|i| i.component == "extra" && i.source == wanted)
            .map(|i| i.target.to_string())
    });
    let ctx = context! {
        env => e.name,
        namespace => smoke.namespace,
        volume_size => smoke.volume_size,
        storage_class => e.env.cluster.storage_class,
        kubernetes => e.env.cluster.kubernetes,
        mode => e.env.deployment_mode.as_str(),
        mirror => e.mirror_label(),
        loader_image => image("kserve-storage-initializer"),
        sklearn => sklearn,
        pytorch => pytorch,
        skipped => skipped,
        https => tls.https,
        self_signed => tls.issuer == crate::model::matrix::IssuerKind::SelfSignedCa,
        mtls => mtls_mode,
        serverless => serverless,
        host => host,
        load_test => load_test.is_some(),
        requests => load_test.map(|l| l.requests),
        concurrency => load_test.map(|l| l.concurrency),
        image => load_image,
        domain => tls.domain,
        site_ingress => e.env.gateway.ingress_class,
        expose => e.env.gateway.expose.service_type(),
    };
    let base = crate::model::layout::Layout::join(&plan.matrix.layout.examples, &e.name);
    // A registry bound at install time is unknown here: the examples name it ${REGISTRY}
    // (their README says to substitute it with envsubst).
    let unbind = |t: String| t.replace(crate::model::mirror::PLACEHOLDER, "${REGISTRY}");
    let mut files = vec![("00-namespace.yaml", None)];
    if sklearn {
        files.push(("01-train-sklearn-iris.yaml", Some("kserve-sklearnserver")));
        files.push(("sklearn-iris.yaml", Some("kserve-sklearnserver")));
    }
    if pytorch {
        files.push(("02-build-torchserve-model.yaml", Some("kserve-torchserve")));
        files.push(("pytorch-gpu.yaml", Some("kserve-torchserve")));
    }
    if load_test.is_some() {
        if load_image.is_none() {
            return Err(Error::internal(
                "examples",
                "the load test's image is not among the environment's images (validation checks this)",
            ));
        }
        files.push(("load-test.yaml", None));
    }
    for (file, runtime) in files {
        let runtime_image = runtime.and_then(image);
        let c = context! { runtime_image => runtime_image, ..ctx.clone() };
        let text = unbind(render_one(env, &format!("examples/{file}.j2"), c)?);
        put(
            tree,
            &format!("{base}/{file}"),
            format!("{yaml_header}{text}"),
        )?;
    }
    let md_header = header(&plan.matrix_file, "<!--").replace('\n', " -->\n");
    // The README names the load test's image too.
    let mut readme = unbind(render_one(env, "examples/README.md.j2", ctx)?);
    if let Some(value) = e.bound_value() {
        readme.push_str(&format!(
            "\nThe mirror is bound at install time (`{}`), so these files name it `${{REGISTRY}}`:\n\
             apply them with `REGISTRY=192.168.56.11:35000 envsubst '$REGISTRY' < FILE | kubectl apply -f -`\n\
             (the same value as `{}`).\n",
            markdown_cell(value.to_string()),
            markdown_cell(value.to_string())
        ));
    }
    put(
        tree,
        &format!("{base}/README.md"),
        format!("{md_header}{readme}"),
    )?;
    Ok(())
}
