//! The `deploygen` command line. Exit codes: 0 ok, 1 `check` found a difference, 2 invalid
//! input or usage (nothing written), 3 an internal error (a deploygen bug).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::output::{self, WriteOptions};

#[derive(Parser)]
#[command(
    name = "deploygen",
    version,
    about = "Render the Astrago KServe deployment tree from one typed matrix"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Paths {
    /// The deployment matrix.
    #[arg(long, default_value = "matrix.yaml")]
    matrix: PathBuf,
    /// Root of the generated tree.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Catalog directory laid over the compiled-in catalog (default: `catalog/` beside the matrix).
    #[arg(long)]
    catalog: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Write the tree: only files whose content changed; removes only stale files it generated.
    Render(Paths),
    /// Exit 0 when the tree on disk is exactly what render would write, else 1 and a diff.
    Check(Paths),
    /// Show what render would change, as a unified diff, without writing.
    Diff(Paths),
    /// Print the JSON Schema of matrix.yaml.
    Schema,
    /// List the images an environment needs (upstream references, or the mirror's).
    Images {
        #[arg(long, default_value = "matrix.yaml")]
        matrix: PathBuf,
        /// One environment (default: all).
        #[arg(long)]
        env: Option<String>,
        /// Print mirror references instead of upstream ones.
        #[arg(long)]
        mirror: bool,
        /// Catalog directory laid over the compiled-in catalog (default: `catalog/` beside the matrix).
        #[arg(long)]
        catalog: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Install order, versions, chart sources, Kubernetes ranges and every rule's verdict.
    Explain {
        #[arg(long, default_value = "matrix.yaml")]
        matrix: PathBuf,
        /// Catalog directory laid over the compiled-in catalog (default: `catalog/` beside the matrix).
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// One environment (default: all).
        #[arg(long)]
        env: Option<String>,
    },
    /// Prove rendered manifests (`helmfile -e ENV template` output) against the environment:
    /// images on the mirror and in the lists, wiring, network policies, served APIs.
    /// Exit 0 when every check holds, 1 with one located finding per line, 2 on bad input.
    Audit {
        #[arg(long, default_value = "matrix.yaml")]
        matrix: PathBuf,
        /// Catalog directory laid over the compiled-in catalog (default: `catalog/` beside the matrix).
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// The environment the manifests were rendered for.
        #[arg(long)]
        env: String,
        /// Only these releases were rendered (repeatable; default: all the environment installs).
        #[arg(long = "release")]
        releases: Vec<String>,
        /// The Knative Operator's kodata folder: check the objects it applies for the
        /// KnativeServing from its own manifests instead of the catalog's Serving images.
        #[arg(long)]
        operator_manifests: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Manifests to read; `-` (the default) reads standard input.
        #[arg(default_value = "-")]
        input: PathBuf,
    },
    /// Pin COMPONENT to VERSION in the matrix (after validating it) and re-render the tree.
    Bump {
        /// cert-manager, istio, knative-operator, knative-serving or kserve.
        component: String,
        version: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// The catalog: list its entries and where each came from; import a version from its chart.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// The bumps from the matrix's versions to the newest catalog versions that fit a cluster
    /// version, in an order `bump` accepts at every step, with every rule's verdict.
    PlanUpgrade {
        /// The cluster's new Kubernetes version (`1.31` or `v1.31.4`).
        #[arg(long)]
        kubernetes: String,
        #[arg(long, default_value = "matrix.yaml")]
        matrix: PathBuf,
        /// Catalog directory laid over the compiled-in catalog (default: `catalog/` beside the matrix).
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// Print only the steps, `COMPONENT VERSION` per line (for scripts).
        #[arg(long)]
        steps: bool,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Every catalog entry: compiled in, added or replaced by a catalog directory, or pending
    /// (TODOs left, each located).
    List {
        #[arg(long, default_value = "matrix.yaml")]
        matrix: PathBuf,
        /// Catalog directory laid over the compiled-in catalog (default: `catalog/` beside the matrix).
        #[arg(long)]
        catalog: Option<PathBuf>,
    },
    /// Write catalog/<COMPONENT>/<VERSION>.yaml from the upstream chart(s), starting from the
    /// nearest catalog version: images found by rendering, where each is set found by
    /// rendering each candidate key with a sentinel, facts it cannot derive left as TODOs.
    Import {
        /// cert-manager, istio, knative-operator, knative-serving or kserve.
        component: String,
        version: String,
        /// The upstream chart: a folder or a `.tgz` as `helm pull` leaves it (repeat for a
        /// component with several charts, e.g. Istio's base, istiod and gateway).
        #[arg(long = "chart")]
        charts: Vec<PathBuf>,
        /// The Knative Operator's kodata folder: Serving's images (it has no chart) and what an
        /// operator version installs.
        #[arg(long)]
        kodata: Option<PathBuf>,
        /// The `helm template` command, split on whitespace (`../shared/tools/helm-template
        /// --charts ../shared/upstream/charts`).
        #[arg(long, default_value = "helm template")]
        helm: String,
        #[arg(long, default_value = "matrix.yaml")]
        matrix: PathBuf,
        /// Catalog directory to write into (default: `catalog/` beside the matrix).
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// Also write the report to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
        /// Write nothing: compare the images and set-locations found with the catalog's entry
        /// of this version; exit 1 when they differ.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn read_matrix(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    // Refuse huge input before reading it.
    if meta.len() > crate::matrix::MAX_MATRIX_BYTES as u64 {
        return Err(Error::invalid(
            path.display().to_string(),
            format!(
                "is {} bytes; a matrix is at most {} bytes (is this the right file?)",
                meta.len(),
                crate::matrix::MAX_MATRIX_BYTES
            ),
        ));
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The compiled-in catalog with the matrix's catalog directory laid over it.
fn catalog_for(matrix: &Path, flag: Option<&Path>) -> Result<crate::catalog::Catalog> {
    let dir = crate::catalog::overlay::dir_for(matrix, flag)?;
    crate::catalog::overlay::load(dir.as_deref())
}

fn load(path: &Path, catalog: Option<&Path>) -> Result<crate::plan::Plan> {
    let text = read_matrix(path)?;
    let catalog = catalog_for(path, catalog)?;
    let plan = crate::plan_with(&file_label(path), &text, &catalog)?;
    for w in crate::explain::warnings(&plan) {
        eprintln!("{w}");
    }
    Ok(plan)
}

fn tree_for(plan: &crate::plan::Plan) -> Result<crate::render::Tree> {
    let tree = crate::render::render_tree(plan)?;
    Ok(output::with_manifest(tree, &plan.matrix_file))
}

fn run(command: Command) -> Result<u8> {
    let mut stdout = std::io::stdout().lock();
    let mut say = |s: &str| {
        // A closed pipe (`deploygen images | head`) is not an error worth reporting.
        let _ = stdout.write_all(s.as_bytes());
    };
    match command {
        Command::Render(p) => {
            let tree = tree_for(&load(&p.matrix, p.catalog.as_deref())?)?;
            let summary = output::write(&p.out, &tree, WriteOptions::default())?;
            say(&summary.report());
            Ok(0)
        }
        Command::Check(p) => {
            let tree = tree_for(&load(&p.matrix, p.catalog.as_deref())?)?;
            let diff = output::diff(&p.out, &tree)?;
            if diff.is_empty() {
                say(&format!(
                    "{}: the tree is current ({} files)\n",
                    p.out.display(),
                    tree.len()
                ));
                Ok(0)
            } else {
                say(&diff);
                eprintln!("the tree differs from what `deploygen render` writes (hand edits are overwritten by render); run `deploygen render`");
                Ok(1)
            }
        }
        Command::Diff(p) => {
            let tree = tree_for(&load(&p.matrix, p.catalog.as_deref())?)?;
            say(&output::diff(&p.out, &tree)?);
            Ok(0)
        }
        Command::Schema => {
            say(&crate::matrix::json_schema());
            Ok(0)
        }
        Command::Images {
            matrix,
            env,
            mirror,
            catalog,
            format,
        } => {
            let plan = load(&matrix, catalog.as_deref())?;
            let rows = crate::images::rows(&plan, env.as_deref())?;
            match format {
                Format::Text => say(&crate::images::text(&rows, mirror)?),
                Format::Json => {
                    let mut json = serde_json::to_string_pretty(&rows)
                        .map_err(|e| Error::internal("images", e))?;
                    json.push('\n');
                    say(&json);
                }
            }
            Ok(0)
        }
        Command::Explain {
            matrix,
            catalog,
            env,
        } => {
            let plan = load(&matrix, catalog.as_deref())?;
            if let Some(name) = &env {
                crate::images::rows(&plan, Some(name))?;
            }
            say(&crate::explain::explain(&plan, env.as_deref()));
            Ok(0)
        }
        Command::Audit {
            matrix,
            catalog,
            env,
            releases,
            operator_manifests,
            format,
            input,
        } => {
            let plan = load(&matrix, catalog.as_deref())?;
            let (label, text) = read_manifests(&input)?;
            let opts = crate::audit::Options {
                env,
                releases,
                operator_manifests,
            };
            let audit = crate::audit::audit(&plan, &opts, &label, &text)?;
            match format {
                Format::Text => say(&audit.text()),
                Format::Json => say(&audit.json()),
            }
            Ok(if audit.failures() > 0 { 1 } else { 0 })
        }
        Command::Bump {
            component,
            version,
            paths,
        } => {
            let text = read_matrix(&paths.matrix)?;
            let label = file_label(&paths.matrix);
            let text = String::from_utf8(text)
                .map_err(|_| Error::invalid(label.clone(), "is not UTF-8"))?;
            let edited = crate::bump::edit_version(&label, &text, &component, &version)?;
            // Validate and render everything in memory first: a refused bump changes nothing.
            let catalog = catalog_for(&paths.matrix, paths.catalog.as_deref())?;
            let plan = crate::plan_with(&label, edited.as_bytes(), &catalog)?;
            for w in crate::explain::warnings(&plan) {
                eprintln!("{w}");
            }
            let tree = tree_for(&plan)?;
            output::preview(&paths.out, &tree)?;
            write_matrix(&paths.matrix, &edited)?;
            let summary = output::write(&paths.out, &tree, WriteOptions::default())?;
            say(&format!(
                "{component} -> {version} in {}\n",
                paths.matrix.display()
            ));
            say(&summary.report());
            Ok(0)
        }
        Command::Catalog {
            command: CatalogCommand::List { matrix, catalog },
        } => {
            let catalog = catalog_for(&matrix, catalog.as_deref())?;
            say(&crate::catalog::overlay::list(&catalog));
            Ok(0)
        }
        Command::Catalog {
            command:
                CatalogCommand::Import {
                    component,
                    version,
                    charts,
                    kodata,
                    helm,
                    matrix,
                    catalog,
                    report,
                    force,
                    check,
                },
        } => {
            let dir = match &catalog {
                Some(d) => d.clone(),
                None => matrix
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .join("catalog"),
            };
            let loaded = crate::catalog::overlay::load(dir.is_dir().then_some(dir.as_path()))?;
            let target = dir.join(&component).join(format!("{version}.yaml"));
            if !check && target.exists() && !force {
                return Err(Error::invalid(
                    target.display().to_string(),
                    "exists; pass --force to replace it (or --check to compare with it)",
                ));
            }
            let renderer = crate::import::render::HelmCommand::new(&helm)?;
            let opts = crate::import::Options {
                component: component.clone(),
                version: version.clone(),
                charts,
                kodata,
            };
            let outcome = crate::import::import(&opts, &loaded, &renderer)?;
            if let Some(r) = &report {
                std::fs::write(r, &outcome.report).map_err(|e| Error::io(r, e))?;
            }
            say(&outcome.report);
            if check {
                let want = loaded.get(&component, &version).ok_or_else(|| {
                    Error::invalid(
                        "--check",
                        format!(
                            "{component} {version} is not a usable catalog entry to compare with"
                        ),
                    )
                })?;
                let diffs = crate::import::compare_images(&outcome.entry, want);
                if diffs.is_empty() {
                    say(&format!(
                        "{component} {version}: the chart's images and set-locations equal the catalog's\n"
                    ));
                    return Ok(0);
                }
                for d in &diffs {
                    say(&format!("MISMATCH {component} {version}: {d}\n"));
                }
                return Ok(1);
            }
            let parent = target.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            let tmp = parent.join(format!(".{version}.yaml.deploygen-tmp"));
            std::fs::write(&tmp, &outcome.yaml).map_err(|e| Error::io(&tmp, e))?;
            std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
            say(&format!("wrote {}\n", target.display()));
            Ok(0)
        }
        Command::PlanUpgrade {
            kubernetes,
            matrix,
            catalog,
            steps,
        } => {
            let text = read_matrix(&matrix)?;
            let catalog = catalog_for(&matrix, catalog.as_deref())?;
            let path =
                crate::upgrade::plan_upgrade(&file_label(&matrix), &text, &catalog, &kubernetes)?;
            if steps {
                say(&path.steps_text());
            } else {
                say(&path.text());
            }
            Ok(if path.failed() { 1 } else { 0 })
        }
    }
}

/// Reads a manifest stream (a file or `-` for stdin), at most MAX_MANIFEST_BYTES.
fn read_manifests(input: &Path) -> Result<(String, String)> {
    use std::io::Read as _;
    let limit = crate::audit::manifest::MAX_MANIFEST_BYTES;
    let (label, mut reader): (String, Box<dyn std::io::Read>) = if input == Path::new("-") {
        ("<stdin>".into(), Box::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(input).map_err(|e| Error::io(input, e))?;
        (input.display().to_string(), Box::new(file))
    };
    let mut bytes = Vec::new();
    reader
        .by_ref()
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(input, e))?;
    if bytes.len() > limit {
        return Err(Error::invalid(
            label,
            format!("is larger than {limit} bytes; audit one environment at a time"),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::invalid(
            label.clone(),
            format!("is not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        )
    })?;
    Ok((label, text))
}

fn write_matrix(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(".matrix.deploygen-tmp");
    std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
