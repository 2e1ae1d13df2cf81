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
        /// The registry of an environment whose mirror is bound at install time
        /// (`mirror: {from_value: ...}`), as HOST[:PORT][/PATH]; needs --env.
        #[arg(long, requires = "env")]
        registry: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Install order, versions, chart sources, Kubernetes ranges and every rule's verdict.
    Explain {
        #[arg(long, default_value = "matrix.yaml")]
        matrix: PathBuf,
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
        /// The registry the manifests were rendered with, for an environment whose mirror is
        /// bound at install time (required there): every image must be on it.
        #[arg(long)]
        registry: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Manifests to read; `-` (the default) reads standard input.
        #[arg(default_value = "-")]
        input: PathBuf,
    },
    /// Place upstream chart archives (from `helm pull` on a connected machine) into the tree
    /// for `layout.vendored_charts`, write their sha256 lock and re-render.
    Vendor {
        /// Folder holding `<chart>-<version>.tgz` for every chart the matrix pins.
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        paths: Paths,
    },
    /// Pin COMPONENT to VERSION in the matrix (after validating it) and re-render the tree.
    Bump {
        /// cert-manager, istio, knative-operator, knative-serving or kserve.
        component: String,
        version: String,
        #[command(flatten)]
        paths: Paths,
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

fn load(path: &Path) -> Result<crate::plan::Plan> {
    let text = read_matrix(path)?;
    let plan = crate::plan(&file_label(path), &text)?;
    for w in crate::explain::warnings(&plan) {
        eprintln!("{w}");
    }
    Ok(plan)
}

fn tree_for(plan: &crate::plan::Plan, root: &Path) -> Result<crate::render::Tree> {
    let mut tree = crate::render::render_tree(plan)?;
    // Vendored charts: the lock, verified against the archives on disk, is part of the tree.
    if let Some((path, text)) = crate::vendor::verified_lock(plan, root)? {
        tree.insert(path, text);
    }
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
            let tree = tree_for(&load(&p.matrix)?, &p.out)?;
            let summary = output::write(&p.out, &tree, WriteOptions::default())?;
            say(&summary.report());
            Ok(0)
        }
        Command::Check(p) => {
            let plan = load(&p.matrix)?;
            let tree = tree_for(&plan, &p.out)?;
            let diff = output::diff(&p.out, &tree)?;
            // The parent helmfile (layout.parent) must include the stack in every environment.
            if let Some(report) = crate::parent::check(&plan, &p.out)? {
                for n in &report.notes {
                    eprintln!("note: {n}");
                }
                for f in &report.failures {
                    eprintln!("error: {f}");
                }
                if !report.failures.is_empty() {
                    say(&diff);
                    eprintln!(
                        "the parent helmfile does not run the stack in every environment it declares"
                    );
                    return Ok(1);
                }
                say(&format!(
                    "{}: includes {} in every environment it declares\n",
                    plan.matrix
                        .layout
                        .parent
                        .as_ref()
                        .map(|x| x.helmfile.as_str())
                        .unwrap_or_default(),
                    plan.matrix.layout.helmfile
                ));
            }
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
            let tree = tree_for(&load(&p.matrix)?, &p.out)?;
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
            registry,
            format,
        } => {
            let mut plan = load(&matrix)?;
            if let (Some(r), Some(e)) = (&registry, &env) {
                plan = crate::binding::bind(&plan, e, r)?;
            }
            if mirror {
                let bound: Vec<String> = plan
                    .environments
                    .iter()
                    .filter(|e| env.as_deref().is_none_or(|n| n == e.name))
                    .filter_map(|e| e.bound_value().map(|v| format!("{} (from `{v}`)", e.name)))
                    .collect();
                if !bound.is_empty() {
                    return Err(Error::invalid(
                        "--mirror",
                        format!("the mirror of {} is bound at install time: give it with --env ENV --registry HOST:PORT", bound.join(", ")),
                    ));
                }
            }
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
        Command::Explain { matrix, env } => {
            let plan = load(&matrix)?;
            if let Some(name) = &env {
                crate::images::rows(&plan, Some(name))?;
            }
            say(&crate::explain::explain(&plan, env.as_deref()));
            Ok(0)
        }
        Command::Audit {
            matrix,
            env,
            releases,
            operator_manifests,
            registry,
            format,
            input,
        } => {
            let plan = load(&matrix)?;
            let plan = crate::binding::require_bound(
                &plan,
                &env,
                registry.as_deref(),
                "the manifests were rendered with",
            )?;
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
        Command::Vendor { from, paths } => {
            say(&vendor(&from, &paths)?);
            Ok(0)
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
            let plan = crate::plan(&label, edited.as_bytes())?;
            for w in crate::explain::warnings(&plan) {
                eprintln!("{w}");
            }
            let tree = tree_for(&plan, &paths.out)?;
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

/// `deploygen vendor`: archives in, lock and tree written (the lock goes through the owned,
/// atomic writes like every generated file).
fn vendor(from: &Path, paths: &Paths) -> Result<String> {
    let plan = load(&paths.matrix)?;
    if !plan.matrix.layout.vendored_charts {
        return Err(Error::invalid(
            paths.matrix.display().to_string(),
            "layout.vendored_charts is off: set it to true to keep chart archives in the tree",
        ));
    }
    let mut tree = crate::render::render_tree(&plan)?;
    output::preview(
        &paths.out,
        &output::with_manifest(tree.clone(), &plan.matrix_file),
    )?;
    let (placed, (lock_path, lock)) = crate::vendor::place(&plan, from, &paths.out)?;
    tree.insert(lock_path, lock);
    let tree = output::with_manifest(tree, &plan.matrix_file);
    let summary = output::write(&paths.out, &tree, WriteOptions::default())?;
    let mut out = String::new();
    for p in &placed {
        out.push_str(&format!("{:>9} {p}\n", "placed"));
    }
    out.push_str(&format!(
        "{} chart archives placed, {} already in place\n",
        placed.len(),
        crate::vendor::entries(&plan).len() - placed.len()
    ));
    out.push_str(&summary.report());
    Ok(out)
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
