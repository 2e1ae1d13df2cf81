//! `--fail-on CLASS,CLASS`: the finding classes a team gates on. An unknown class is refused
//! with the list of classes.

use super::compare::Review;
use super::finding::Class;
use crate::base::error::{Error, Result};

/// The classes named in `spec` (comma-separated; blanks ignored).
pub fn parse(spec: &str) -> Result<Vec<Class>> {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for name in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match Class::parse(name) {
            Some(c) => {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            None => unknown.push(format!("`{}`", crate::base::text::escape(name))),
        }
    }
    if !unknown.is_empty() {
        let all: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
        return Err(Error::invalid(
            "--fail-on",
            format!(
                "unknown finding class {}; classes: {}",
                unknown.join(", "),
                all.join(", ")
            ),
        ));
    }
    Ok(out)
}

/// The gated classes the review found, in report order.
pub fn tripped(gate: &[Class], review: &Review) -> Vec<Class> {
    let mut found: Vec<Class> = gate
        .iter()
        .copied()
        .filter(|c| review.findings.iter().any(|f| f.class == *c))
        .collect();
    found.sort();
    found
}
