//! Errors at the library boundary. Each variant carries enough context (file, line/column or
//! key path, what was expected) for a release engineer to fix the input without reading code.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with the input, located by file position or by key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `matrix.yaml:12:5` or `matrix.yaml: environments.airgap.mirror`.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The matrix (or a flag) is wrong: every independent problem found, in input order.
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The embedded catalog or templates are broken: a bug in deploygen, not in the input.
    #[error("internal error in {what}: {message}")]
    Internal { what: String, message: String },

    /// A path the generator wants to write holds a file it did not generate.
    #[error("{}", render_conflicts(.0))]
    NotOwned(Vec<PathBuf>),

    /// The tree cannot be written safely: a link on the way, a manifest entry deploygen may
    /// not remove, a stale file whose bytes are no longer the ones it wrote. Located by path
    /// (or manifest line); nothing was written.
    #[error("{}", render_problems(.0))]
    Unsafe(Vec<Problem>),

    /// Another deploygen holds the tree's lock.
    #[error("error: {}: the tree is locked by {holder}; nothing was written. Wait for it to finish and run again", lock.display())]
    Busy { lock: PathBuf, holder: String },

    /// Writing the tree failed part-way; `outcome` says what is on disk now.
    #[error("{}", render_write_failure(path, source, outcome))]
    WriteFailed {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        outcome: Outcome,
    },

    /// Standard output or error could not be written (a full disk, a closed terminal).
    #[error("error: cannot write the {stream}: {source}{}", if *.wrote_tree { "; the tree itself was written" } else { "" })]
    Output {
        stream: &'static str,
        #[source]
        source: std::io::Error,
        wrote_tree: bool,
    },
}

/// What a failed write left on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every swap was undone: the tree is exactly as it was.
    RolledBack,
    /// These files could not be restored: they hold this run's bytes (or are gone).
    Partial(Vec<PathBuf>),
    /// Every file is as it was, but these temp files (or folders staging made) could not be
    /// removed: say so rather than claim the tree is exactly as it was.
    RolledBackLeaving(Vec<PathBuf>),
}

impl Error {
    pub fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(vec![Problem {
            location: location.into(),
            message: message.into(),
        }])
    }

    pub fn internal(what: impl Into<String>, message: impl fmt::Display) -> Self {
        Error::Internal {
            what: what.into(),
            message: message.to_string(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Exit code for the CLI: 2 for anything the user can fix in the input or the tree.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Invalid(_)
            | Error::NotOwned(_)
            | Error::Io { .. }
            | Error::Unsafe(_)
            | Error::Busy { .. } => 2,
            Error::WriteFailed { outcome, .. } => match outcome {
                Outcome::RolledBack | Outcome::RolledBackLeaving(_) => 2,
                Outcome::Partial(_) => 4,
            },
            Error::Internal { .. } => 3,
            Error::Output { .. } => 4,
        }
    }
}

/// Location of a note that is not itself a problem (how many problems were left unshown).
pub const NOTE: &str = "note";

fn render_problems(problems: &[Problem]) -> String {
    let mut out = String::new();
    let mut count = 0;
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if p.location == NOTE {
            out.push_str(&format!("note: {}", crate::base::text::escape(&p.message)));
        } else {
            count += 1;
            // Names from the matrix may hold control characters: shown escaped, never acted on.
            out.push_str(&format!(
                "error: {}: {}",
                crate::base::text::escape(&p.location),
                crate::base::text::escape(&p.message)
            ));
        }
    }
    if count > 1 {
        out.push_str(&format!("\n{count} problems; nothing was written"));
    } else {
        out.push_str("\nnothing was written");
    }
    out
}

fn render_conflicts(paths: &[PathBuf]) -> String {
    let mut out = String::new();
    for p in paths {
        out.push_str(&format!(
            "error: {}: exists but was not generated by deploygen; move it away or delete it, \
             deploygen never overwrites files it does not own\n",
            crate::base::text::escape(&p.display().to_string())
        ));
    }
    out.push_str("nothing was written");
    out
}

fn render_write_failure(
    path: &std::path::Path,
    source: &std::io::Error,
    outcome: &Outcome,
) -> String {
    let head = format!(
        "error: {}: {source}",
        crate::base::text::escape(&path.display().to_string())
    );
    match outcome {
        Outcome::RolledBack => {
            format!(
                "{head}\nevery change was undone: the tree is exactly as it was before this run"
            )
        }
        Outcome::RolledBackLeaving(paths) => {
            let mut out = format!(
                "{head}\nevery file was restored, but these temp files or new folders could not be removed:"
            );
            for p in paths {
                out.push_str(&format!(
                    "\n  {}",
                    crate::base::text::escape(&p.display().to_string())
                ));
            }
            out.push_str("\nremove them (`deploygen render` removes stray temp files once it can)");
            out
        }
        Outcome::Partial(paths) => {
            let mut out = format!(
                "{head}\nthe undo failed too; these paths were left with this run's content (or removed):"
            );
            for p in paths {
                out.push_str(&format!(
                    "\n  {}",
                    crate::base::text::escape(&p.display().to_string())
                ));
            }
            out.push_str("\nfix the cause, then run `deploygen render` to finish");
            out
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
