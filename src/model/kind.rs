//! The kinds of YAML input deploygen reads, and where a refusal of one is: what each kind is
//! called in messages and what its structure scan (`scan`) allows.

use crate::base::error::Error;
use crate::model::tags::Tags;

/// Deepest nesting of mappings, sequences and flow collections a matrix may have. The real
/// matrix needs 7 (`environments.<env>.operations.monitoring.selector_labels.<key>`).
pub const MAX_DEPTH: usize = 24;

/// What kind of YAML an input is: how messages name it and what its scan allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// How a message names one: `a matrix`.
    pub what: &'static str,
    /// How a message names this one: `the matrix`.
    pub the: &'static str,
    pub max_depth: usize,
    /// A stream of documents (`---` between them) rather than one.
    pub many_documents: bool,
    pub tags: Tags,
}

/// `matrix.yaml`: one shallow document of plain data.
pub const MATRIX: Kind = Kind {
    what: "a matrix",
    the: "the matrix",
    max_depth: MAX_DEPTH,
    many_documents: false,
    tags: Tags::Refused,
};

/// A catalog file (`<component>/<version>.yaml`, `rules.yaml`): one document of plain data.
/// The deepest compiled-in entry nests 9 levels (chart values under `releases[].values`); a
/// test keeps every compiled-in file within the limit.
pub const CATALOG: Kind = Kind {
    what: "a catalog file",
    the: "the catalog file",
    max_depth: 32,
    many_documents: false,
    tags: Tags::Refused,
};

/// Rendered manifests (`helm template`, `helmfile template`, the Knative Operator's own): a
/// stream of Kubernetes objects in Kubernetes' YAML. The deepest upstream object (a
/// cert-manager CRD's schema) nests 38 levels; the YAML library stops at 128 anyway.
pub const MANIFESTS: Kind = Kind {
    what: "a manifest stream",
    the: "the manifests",
    max_depth: 100,
    many_documents: true,
    tags: Tags::Core,
};

/// A helmfile (`layout.parent`), one part at a time once its template actions are set aside.
pub const HELMFILE: Kind = Kind {
    what: "a helmfile",
    the: "the helmfile",
    max_depth: 100,
    many_documents: false,
    tags: Tags::Core,
};

/// A file of an upstream chart `catalog import` reads (`Chart.yaml`, `values.yaml`): Helm's
/// YAML, core tags allowed, one document. The deepest upstream values nest about 12 levels.
pub const CHART_FILE: Kind = Kind {
    what: "a chart's YAML file",
    the: "the chart file",
    max_depth: 100,
    many_documents: false,
    tags: Tags::Core,
};

/// 1-based line and column (in characters) of byte `at` in `text` (lines end with `\n`).
pub fn position(text: &[u8], at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let line_start = text[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = text[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let col = String::from_utf8_lossy(&text[line_start..at])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// A refusal located at byte `at` of `text`.
pub fn refuse(file: &str, text: &[u8], at: usize, message: impl Into<String>) -> Error {
    let (line, col) = position(text, at);
    Error::invalid(format!("{file}:{line}:{col}"), message)
}
