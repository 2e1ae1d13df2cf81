//! `deploygen review BEFORE AFTER`: the command-line side of `crate::review` (reading the two
//! renders through the disk layer, the environment from the matrix, the output format and
//! `--fail-on`), and the lines `bump` prints on how to produce the two renders.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::audit::manifest::MAX_MANIFEST_BYTES;
use crate::base::error::{Error, Result};
use crate::disk::read;
use crate::review::{compare, context, fail_on, format};

/// What `review` prints on standard output, and its exit code.
pub struct Reviewed {
    pub code: u8,
    pub stdout: String,
}

#[derive(Args)]
pub struct ReviewArgs {
    /// The render before the change (`helmfile -e ENV template --include-crds` output): a
    /// file, or `-` for standard input.
    pub before: PathBuf,
    /// The render after the change, the same way (at most one of the two is `-`).
    pub after: PathBuf,
    /// The deployment matrix (namespaces of the releases; with --env, the environment).
    /// Default with --env: matrix.yaml.
    #[arg(long)]
    pub matrix: Option<PathBuf>,
    /// Catalog directory laid over the compiled-in catalog (default: `catalog/` beside the matrix).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// The environment the renders are for: new images are checked against its mirror and
    /// image lists, resources against its cluster's capacity.
    #[arg(long)]
    pub env: Option<String>,
    /// The registry the renders were made with, for an environment whose mirror is bound at
    /// install time.
    #[arg(long, requires = "env")]
    pub registry: Option<String>,
    #[arg(long, value_enum, default_value_t = ReviewFormat::Text)]
    pub format: ReviewFormat,
    /// Exit 1 when the review finds any of these classes (comma-separated, e.g.
    /// `rbac-widening,crd-version-removed`); exit 0 otherwise.
    #[arg(long, value_name = "CLASS,CLASS")]
    pub fail_on: Option<String>,
    /// Text: unfold every other change (the structural diff) and every detail line.
    #[arg(long)]
    pub all: bool,
    /// Text: colour (auto: only when standard output is a terminal and NO_COLOR is unset).
    #[arg(long, value_enum, default_value_t = Colour::Auto)]
    pub color: Colour,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReviewFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Colour {
    Auto,
    Always,
    Never,
}

fn colour(c: Colour) -> bool {
    match c {
        Colour::Always => true,
        Colour::Never => false,
        Colour::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    }
}

/// One line on standard error (escaped). A failure to write it is not the review's: the
/// output and exit code on standard output say what was found.
fn note(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", crate::base::text::escape_keep_lines(text));
}

/// The plan of the matrix at `path` (with its catalog directory), its warnings on stderr.
fn load(path: &Path, catalog: Option<&Path>) -> Result<crate::plan::Plan> {
    let text = read::read_matrix(path)?;
    let dir = read::catalog_dir_for(path, catalog)?;
    let catalog = read::catalog(dir.as_deref())?;
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let plan = crate::plan_with(&label, &text, &catalog)?;
    for w in crate::plan::explain::warnings(&plan) {
        note(&w);
    }
    Ok(plan)
}

/// A render (a file or `-` for stdin), at most `MAX_MANIFEST_BYTES`, as (label, text).
fn render(path: &Path) -> Result<(String, String)> {
    read::text_input(
        path,
        MAX_MANIFEST_BYTES as u64,
        "review one environment at a time",
    )
}

/// Runs `deploygen review`.
pub fn run(args: &ReviewArgs) -> Result<Reviewed> {
    let gate = match &args.fail_on {
        Some(spec) => fail_on::parse(spec)?,
        None => Vec::new(),
    };
    if args.before == Path::new("-") && args.after == Path::new("-") {
        return Err(Error::invalid(
            "BEFORE AFTER",
            "both are `-`: standard input can be one of them only",
        ));
    }
    let matrix = match (&args.matrix, &args.env) {
        (Some(m), _) => Some(m.clone()),
        (None, Some(_)) => Some(PathBuf::from("matrix.yaml")),
        (None, None) => None,
    };
    let plan = match &matrix {
        Some(m) => Some(load(m, args.catalog.as_deref())?),
        None => None,
    };
    let ctx = match (&plan, &args.env) {
        (Some(p), Some(env)) => {
            let bound = crate::plan::binding::require_bound(
                p,
                env,
                args.registry.as_deref(),
                "the renders were made with",
            )?;
            Some(context::of(&bound, env)?)
        }
        _ => None,
    };
    let release_ns = |release: &str| {
        plan.as_ref()?
            .releases
            .iter()
            .find(|r| r.name == release)
            .map(|r| r.namespace.clone())
    };
    let (bl, bt) = render(&args.before)?;
    let (al, at) = render(&args.after)?;
    let review = compare::review((&bl, &bt), (&al, &at), &release_ns, ctx.as_ref())?;
    let stdout = match args.format {
        ReviewFormat::Text => format::text(&review, colour(args.color), args.all),
        ReviewFormat::Markdown => format::markdown(&review),
        ReviewFormat::Json => format::json(&review),
    };
    let tripped = fail_on::tripped(&gate, &review);
    if !tripped.is_empty() {
        let names: Vec<&str> = tripped.iter().map(|c| c.name()).collect();
        note(&format!("review: found {} (--fail-on)", names.join(", ")));
    }
    Ok(Reviewed {
        code: u8::from(!tripped.is_empty()),
        stdout,
    })
}

/// What `bump` prints after a bump that changed the matrix: how to render the stack before
/// and after it and review the difference.
pub fn bump_hint(plan: &crate::plan::Plan, changed: bool) -> String {
    if !changed {
        return String::new();
    }
    let mut out = String::from(
        "\nto review what the charts change, render the stack before (the last commit) and after \
         (this tree) with the same command, then run deploygen review:\n",
    );
    out.push_str("  git worktree add ../before HEAD\n");
    for e in &plan.environments {
        let kube = format!("v{}", e.kubernetes);
        let cmd = format!(
            "helmfile -e {} template --include-crds --kube-version {kube}",
            e.name
        );
        out.push_str(&format!(
            "  (cd ../before && {cmd}) > before-{0}.yaml && {cmd} > after-{0}.yaml\n  deploygen review --env {0} before-{0}.yaml after-{0}.yaml\n",
            e.name
        ));
    }
    out
}
