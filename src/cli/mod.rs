//! The `deploygen` command line. Exit codes: 0 ok, 1 `check` found a difference, 2 refused
//! (invalid input or usage, an unsafe tree, a busy lock, a write failure that was undone:
//! nothing was written), 3 an internal error (a deploygen bug), 4 incomplete (the output could
//! not be printed, or an undo failed: the message says what was written).

pub mod bump;
mod messages;
pub mod parent;
pub mod review;
pub mod vendor;
mod writer;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::base::error::{Error, Result};
use crate::disk::{self, MatrixEdit, TreeLock, WriteOptions};
use crate::model::input;
use writer::refuse_early;

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
        /// The registry of an environment whose mirror is bound at install time
        /// (`mirror: {from_value: ...}`), as HOST[:PORT][/PATH]; needs --env.
        #[arg(long, requires = "env")]
        registry: Option<String>,
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
    /// What a change really does to the cluster: two renders (before, after) compared object
    /// by object, images, RBAC, CRDs, webhooks and the workload surface first.
    /// Exit 0, or 1 when --fail-on names a class found, 2 on bad input.
    Review(crate::cli::review::ReviewArgs),
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

impl Command {
    /// Whether the command writes files (the tree, the matrix, a catalog entry, a vendored
    /// chart): only then do its errors say that nothing was written.
    fn writes(&self) -> bool {
        matches!(
            self,
            Command::Render(_)
                | Command::Vendor { .. }
                | Command::Bump { .. }
                | Command::Catalog {
                    command: CatalogCommand::Import { check: false, .. }
                }
        )
    }
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

/// What a command did: its exit code, what it prints on stdout, and whether it wrote the tree
/// (so a failure to print can say so).
struct Done {
    code: u8,
    stdout: String,
    wrote: bool,
}

impl Done {
    fn ok(stdout: String) -> Done {
        Done {
            code: 0,
            stdout,
            wrote: false,
        }
    }
}

/// Set when standard error could not be written: the exit code must not claim success.
static STDERR_FAILED: AtomicBool = AtomicBool::new(false);

/// One message for standard error (control characters escaped); a failure is remembered.
fn warn(text: &str) {
    let mut err = std::io::stderr().lock();
    let text = crate::base::text::escape_keep_lines(text);
    if writeln!(err, "{text}").and_then(|()| err.flush()).is_err() {
        STDERR_FAILED.store(true, Ordering::Relaxed);
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            return match e.print() {
                Ok(()) => ExitCode::from(code),
                Err(_) if e.use_stderr() => ExitCode::from(code),
                // `--help > /dev/full`
                Err(source) => {
                    warn(
                        &Error::Output {
                            stream: "standard output",
                            source,
                            wrote_tree: false,
                        }
                        .to_string(),
                    );
                    ExitCode::from(4)
                }
            };
        }
    };
    let writes = cli.command.writes();
    let code = match run(cli.command) {
        Ok(done) => {
            let mut out = std::io::stdout().lock();
            match out
                .write_all(done.stdout.as_bytes())
                .and_then(|()| out.flush())
            {
                Ok(()) => done.code,
                // `deploygen images | head`: the reader stopped reading, which is its choice.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => done.code,
                Err(source) => {
                    let e = Error::Output {
                        stream: "standard output",
                        source,
                        wrote_tree: done.wrote,
                    };
                    warn(&e.to_string());
                    e.exit_code()
                }
            }
        }
        Err(e) => {
            let text = e.to_string();
            warn(&if writes {
                text
            } else {
                messages::for_read_only(&text)
            });
            e.exit_code()
        }
    };
    if STDERR_FAILED.load(Ordering::Relaxed) && code == 0 {
        return ExitCode::from(4);
    }
    ExitCode::from(code)
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The compiled-in catalog with the matrix's catalog directory laid over it.
fn catalog_for(matrix: &Path, flag: Option<&Path>) -> Result<crate::catalog::Catalog> {
    let dir = crate::disk::read::catalog_dir_for(matrix, flag)?;
    crate::disk::read::catalog(dir.as_deref())
}

fn load_bytes(path: &Path, text: &[u8], catalog: Option<&Path>) -> Result<crate::plan::Plan> {
    let catalog = catalog_for(path, catalog)?;
    let plan = crate::plan_with(&file_label(path), text, &catalog)?;
    for w in crate::plan::explain::warnings(&plan) {
        warn(&w);
    }
    Ok(plan)
}

fn load(path: &Path, catalog: Option<&Path>) -> Result<crate::plan::Plan> {
    load_bytes(path, &disk::read::read_matrix(path)?, catalog)
}

fn tree_for(plan: &crate::plan::Plan, root: &Path) -> Result<crate::render::Tree> {
    let mut tree = crate::render::render_tree(plan)?;
    // Vendored charts: the lock, verified against the archives on disk, is part of the tree.
    if let Some((path, text)) = crate::cli::vendor::verified_lock(plan, root)? {
        tree.insert(path, text);
    }
    // Each file's hash from the tree's memo where it has it (`disk::memo`: sound, see there).
    Ok(disk::memo::with_manifest(root, tree, &plan.matrix_file))
}

/// The matrix's paths relative to the output root, if it lives there (as given, and with
/// links resolved): render never removes it, whatever the manifest says.
fn protected(matrix: &Path, root: &Path) -> Vec<String> {
    let Ok(root) = disk::read::real_path(root) else {
        return Vec::new();
    };
    let given = matrix
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .and_then(|p| disk::read::real_path(p).ok())
        .zip(matrix.file_name())
        .map(|(p, n)| p.join(n));
    [given, disk::read::real_path(matrix).ok()]
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p.strip_prefix(&root)
                .ok()
                .map(|r| r.to_string_lossy().into_owned())
        })
        .collect()
}

/// Renders `matrix`, then (under the tree's lock) makes sure the matrix did not change while
/// rendering; a bad matrix is refused before the lock (or the output folder) is created.
fn render_locked(p: &Paths, command: &str) -> Result<(TreeLock, crate::render::Tree)> {
    let bytes = disk::read::read_matrix(&p.matrix)?;
    let mut tree = tree_for(
        &load_bytes(&p.matrix, &bytes, p.catalog.as_deref())?,
        &p.out,
    )?;
    refuse_early(&p.out, &tree)?;
    let lock = TreeLock::exclusive(&p.out, command)?;
    let again = disk::read::read_matrix(&p.matrix)?;
    if again != bytes {
        tree = tree_for(
            &load_bytes(&p.matrix, &again, p.catalog.as_deref())?,
            &p.out,
        )?;
    }
    Ok((lock, tree))
}

fn run(command: Command) -> Result<Done> {
    match command {
        Command::Render(p) => {
            let (_lock, tree) = render_locked(&p, "render")?;
            let protect = protected(&p.matrix, &p.out);
            let summary = disk::write_with(&p.out, &tree, &protect, None, WriteOptions::default())?;
            Ok(Done {
                code: 0,
                wrote: !summary.is_noop(),
                stdout: summary.report(),
            })
        }
        Command::Check(p) => {
            let plan = load(&p.matrix, p.catalog.as_deref())?;
            let tree = tree_for(&plan, &p.out)?;
            let _lock = TreeLock::shared(&p.out)?;
            let diff = disk::diff(&p.out, &tree)?;
            // The parent helmfile (layout.parent) must include the stack in every environment.
            let mut parent_ok = String::new();
            if let Some(report) = crate::cli::parent::check(&plan, &p.out)? {
                for n in &report.notes {
                    warn(&format!("note: {n}"));
                }
                for f in &report.failures {
                    warn(&format!("error: {f}"));
                }
                if !report.failures.is_empty() {
                    warn("the parent helmfile does not run the stack in every environment it declares");
                    return Ok(Done {
                        code: 1,
                        stdout: diff,
                        wrote: false,
                    });
                }
                parent_ok = format!(
                    "{}: includes {} in every environment it declares\n",
                    plan.matrix
                        .layout
                        .parent
                        .as_ref()
                        .map(|x| x.helmfile.as_str())
                        .unwrap_or_default(),
                    plan.matrix.layout.helmfile
                );
            }
            if diff.is_empty() {
                Ok(Done::ok(format!(
                    "{parent_ok}{}: the tree is current ({} files)\n",
                    p.out.display(),
                    tree.len()
                )))
            } else {
                warn("the tree differs from what `deploygen render` writes (hand edits are overwritten by render); run `deploygen render`");
                Ok(Done {
                    code: 1,
                    stdout: diff,
                    wrote: false,
                })
            }
        }
        Command::Diff(p) => {
            let tree = tree_for(&load(&p.matrix, p.catalog.as_deref())?, &p.out)?;
            let _lock = TreeLock::shared(&p.out)?;
            Ok(Done::ok(disk::diff(&p.out, &tree)?))
        }
        Command::Schema => Ok(Done::ok(crate::model::matrix::json_schema())),
        Command::Images {
            matrix,
            env,
            mirror,
            registry,
            catalog,
            format,
        } => {
            let mut plan = load(&matrix, catalog.as_deref())?;
            if let (Some(r), Some(e)) = (&registry, &env) {
                plan = crate::plan::binding::bind(&plan, e, r)?;
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
            let rows = crate::render::images::rows(&plan, env.as_deref())?;
            match format {
                Format::Text => Ok(Done::ok(crate::render::images::text(&rows, mirror)?)),
                Format::Json => {
                    let mut json = serde_json::to_string_pretty(&rows)
                        .map_err(|e| Error::internal("images", e))?;
                    json.push('\n');
                    Ok(Done::ok(json))
                }
            }
        }
        Command::Explain {
            matrix,
            catalog,
            env,
        } => {
            let plan = load(&matrix, catalog.as_deref())?;
            if let Some(name) = &env {
                crate::render::images::rows(&plan, Some(name))?;
            }
            Ok(Done::ok(crate::plan::explain::explain(
                &plan,
                env.as_deref(),
            )))
        }
        Command::Audit {
            matrix,
            catalog,
            env,
            releases,
            operator_manifests,
            registry,
            format,
            input,
        } => {
            let plan = load(&matrix, catalog.as_deref())?;
            let plan = crate::plan::binding::require_bound(
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
            Ok(Done {
                code: if audit.failures() > 0 { 1 } else { 0 },
                stdout: match format {
                    Format::Text => audit.text(),
                    Format::Json => audit.json(),
                },
                wrote: false,
            })
        }
        Command::Bump {
            component,
            version,
            paths,
        } => bump(&component, &version, &paths),
        Command::Review(args) => crate::cli::review::run(&args).map(|r| Done {
            code: r.code,
            stdout: r.stdout,
            wrote: false,
        }),
        Command::Catalog { command } => catalog_command(command),
        Command::Vendor { from, paths } => vendor(&from, &paths),
        Command::PlanUpgrade {
            kubernetes,
            matrix,
            catalog,
            steps,
        } => {
            let text = disk::read::read_matrix(&matrix)?;
            let catalog = catalog_for(&matrix, catalog.as_deref())?;
            let path = crate::plan::upgrade::plan_upgrade(
                &file_label(&matrix),
                &text,
                &catalog,
                &kubernetes,
            )?;
            Ok(Done {
                code: if path.failed() { 1 } else { 0 },
                stdout: if steps {
                    path.steps_text()
                } else {
                    path.text()
                },
                wrote: false,
            })
        }
    }
}

/// Reads a manifest stream (a file or `-` for stdin), at most MAX_MANIFEST_BYTES.
fn read_manifests(input: &Path) -> Result<(String, String)> {
    let limit = crate::audit::manifest::MAX_MANIFEST_BYTES as u64;
    disk::read::text_input(input, limit, "audit one environment at a time")
}

/// The edited matrix and its tree, validated in memory: a refused bump changes nothing.
fn bump_plan(
    label: &str,
    bytes: &[u8],
    component: &str,
    version: &str,
    catalog: &crate::catalog::Catalog,
    root: &Path,
) -> Result<(String, crate::render::Tree)> {
    let (text, _) = input::precheck(label, bytes)?;
    let edited = crate::cli::bump::edit_version(label, text, component, version)?;
    let plan = crate::plan_with(label, edited.as_bytes(), catalog)?;
    let tree = tree_for(&plan, root)?;
    Ok((edited, tree))
}

fn bump(component: &str, version: &str, paths: &Paths) -> Result<Done> {
    let label = file_label(&paths.matrix);
    // A symlinked matrix stays a link: the edit goes to the file it points to (one inside
    // the link's own folder; a link leading out is refused, like every read of the matrix).
    disk::read::refuse_link_out(&paths.matrix)?;
    let real = disk::read::real_path(&paths.matrix).map_err(|e| Error::io(&paths.matrix, e))?;
    let catalog = catalog_for(&paths.matrix, paths.catalog.as_deref())?;
    let bytes = disk::read::read_matrix(&real)?;
    let (_, tree) = bump_plan(&label, &bytes, component, version, &catalog, &paths.out)?;
    refuse_early(&paths.out, &tree)?;
    // Two bumps of one matrix must not interleave whatever their `--out`: the matrix's folder
    // is locked too (once, when it is the tree's own root).
    let matrix_dir = real.parent().unwrap_or(Path::new("/")).to_path_buf();
    let same_root = disk::read::real_path(&paths.out).is_ok_and(|o| o == matrix_dir);
    let _matrix_lock = if same_root {
        None
    } else {
        Some(TreeLock::exclusive(&matrix_dir, "bump (its matrix)")?)
    };
    let _lock = TreeLock::exclusive(&paths.out, "bump")?;
    let bytes = disk::read::read_matrix(&real)?;
    let (edited, tree) = bump_plan(&label, &bytes, component, version, &catalog, &paths.out)?;
    let plan = crate::plan_with(&label, edited.as_bytes(), &catalog)?;
    for w in crate::plan::explain::warnings(&plan) {
        warn(&w);
    }
    let mode = disk::read::mode_of(&real)?;
    let changed = edited.as_bytes() != bytes.as_slice();
    let edit = changed.then(|| MatrixEdit {
        path: real.clone(),
        text: edited,
        mode,
    });
    let protect = protected(&paths.matrix, &paths.out);
    let summary = disk::write_with(
        &paths.out,
        &tree,
        &protect,
        edit.as_ref(),
        WriteOptions::default(),
    )?;
    // What the cluster needs beyond `helmfile sync` across this bump (catalog `migrations`).
    let pinned = crate::model::matrix::parse(&label, &bytes)
        .ok()
        .and_then(|m| m.versions.get(component).map(str::to_string))
        .unwrap_or_default();
    let mut migrations = String::new();
    for m in catalog.migrations_crossed(component, &pinned, version) {
        migrations
            .push_str("\non the cluster, in this order (instead of a plain `helmfile sync`):\n");
        migrations.push_str(&crate::catalog::migration_text(component, m));
    }
    let head = if changed {
        format!("{component} -> {version} in {}\n", paths.matrix.display())
    } else {
        format!(
            "{component} is already {version} in {}\n",
            paths.matrix.display()
        )
    };
    Ok(Done {
        code: 0,
        wrote: changed || !summary.is_noop(),
        stdout: format!(
            "{head}{}{migrations}{}",
            summary.report(),
            crate::cli::review::bump_hint(&plan, changed)
        ),
    })
}

/// `deploygen catalog list|import`.
fn catalog_command(command: CatalogCommand) -> Result<Done> {
    match command {
        CatalogCommand::List { matrix, catalog } => {
            let catalog = catalog_for(&matrix, catalog.as_deref())?;
            Ok(Done::ok(crate::catalog::overlay::list(&catalog)))
        }
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
        } => {
            let dir = match &catalog {
                Some(d) => d.clone(),
                None => matrix
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .join("catalog"),
            };
            let loaded = crate::disk::read::catalog(dir.is_dir().then_some(dir.as_path()))?;
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
                disk::write_named(r, outcome.report.as_bytes())?;
            }
            let mut stdout = outcome.report.clone();
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
                    stdout.push_str(&format!(
                        "{component} {version}: the chart's images and set-locations equal the catalog's\n"
                    ));
                    return Ok(Done::ok(stdout));
                }
                for d in &diffs {
                    stdout.push_str(&format!("MISMATCH {component} {version}: {d}\n"));
                }
                return Ok(Done {
                    code: 1,
                    stdout,
                    wrote: false,
                });
            }
            disk::write_file(
                &dir,
                &format!("{component}/{version}.yaml"),
                outcome.yaml.as_bytes(),
            )?;
            stdout.push_str(&format!("wrote {}\n", target.display()));
            Ok(Done {
                code: 0,
                stdout,
                wrote: true,
            })
        }
    }
}

/// `deploygen vendor`: archives in, lock and tree written (the lock goes through the owned,
/// all-or-nothing writes like every generated file).
fn vendor(from: &Path, paths: &Paths) -> Result<Done> {
    let plan = load(&paths.matrix, paths.catalog.as_deref())?;
    if !plan.matrix.layout.vendored_charts {
        return Err(Error::invalid(
            paths.matrix.display().to_string(),
            "layout.vendored_charts is off: set it to true to keep chart archives in the tree",
        ));
    }
    let mut tree = crate::render::render_tree(&plan)?;
    refuse_early(
        &paths.out,
        &disk::with_manifest(tree.clone(), &plan.matrix_file),
    )?;
    let _lock = TreeLock::exclusive(&paths.out, "vendor")?;
    let (archives, (lock_path, lock)) = crate::cli::vendor::gather(&plan, from)?;
    tree.insert(lock_path, lock);
    let tree = disk::with_manifest(tree, &plan.matrix_file);
    let protect = protected(&paths.matrix, &paths.out);
    let replaced = crate::cli::vendor::replaced(&plan, &paths.out, &archives)?;
    let (summary, placed) =
        disk::write_vendored(&paths.out, &tree, &protect, &archives, &replaced)?;
    let mut out = String::new();
    for p in &placed {
        out.push_str(&format!("{:>9} {p}\n", "placed"));
    }
    out.push_str(&crate::cli::vendor::placed_line(&archives, &placed));
    out.push_str(&summary.report());
    Ok(Done {
        code: 0,
        wrote: !placed.is_empty() || !summary.is_noop(),
        stdout: out,
    })
}
