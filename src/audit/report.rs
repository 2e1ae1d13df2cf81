//! Findings of an audit and how they print: one located line each (text), or JSON for CI.

use serde::Serialize;

use super::manifest::Object;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something the site would get wrong: exit 1.
    Fail,
    /// Worth knowing, not wrong (an inactive image, a check that could not run).
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// `images`, `lists`, `wiring`, `network`, `api`, `ports`...
    pub check: &'static str,
    /// `Kind namespace/name`, or the image list for list findings.
    pub object: String,
    /// Field path inside the object.
    pub path: String,
    /// Where the object came from: the template (`# Source:`) and its line in the input.
    pub source: Option<String>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Findings(pub Vec<Finding>);

/// Checks whose findings hold across a whole platform render: two Services on one nodePort,
/// two pods on one host port, one object rendered by two apps. (check, field path).
const PLATFORM_WIDE: &[(&str, Option<&str>)] = &[("ports", None), ("refs", Some("metadata.name"))];

/// In a platform render every check reads every object (a CRD, Namespace or Service of
/// another app is there for the stack's objects to use), but only the stack's objects are
/// judged, apart from the platform-wide checks: the plan knows nothing else of the others.
pub fn keep_the_stacks(f: &mut Findings, releases: &[&str]) {
    f.0.retain(|x| {
        // `template (input line N)`, or `input line N` for an object with no `# Source:`.
        let template = x.source.as_deref().filter(|s| !s.starts_with("input line"));
        // What the Knative Operator applies for the stack's KnativeServing (read from its
        // manifests with --operator-manifests) is the stack's too.
        let applied = x
            .source
            .as_deref()
            .is_some_and(crate::audit::manifest::applied_source);
        applied
            || crate::audit::manifest::stacks_source(template, releases)
            || PLATFORM_WIDE
                .iter()
                .any(|(check, path)| *check == x.check && path.is_none_or(|p| p == x.path))
    });
}

impl Findings {
    fn push(
        &mut self,
        severity: Severity,
        check: &'static str,
        o: &Object,
        path: &str,
        message: String,
    ) {
        let finding = Finding {
            severity,
            check,
            object: o.id(),
            path: path.to_string(),
            source: Some(match &o.source {
                Some(s) => format!("{s} (input line {})", o.line),
                None => format!("input line {}", o.line),
            }),
            message,
        };
        // One mistake reached by several routes (a Service called by two webhook
        // configurations) is one finding.
        if !self.0.contains(&finding) {
            self.0.push(finding);
        }
    }

    pub fn fail(&mut self, check: &'static str, o: &Object, path: &str, message: String) {
        self.push(Severity::Fail, check, o, path, message);
    }

    pub fn note(&mut self, check: &'static str, o: &Object, path: &str, message: String) {
        self.push(Severity::Note, check, o, path, message);
    }

    /// A finding not tied to one object.
    pub fn add(
        &mut self,
        severity: Severity,
        check: &'static str,
        object: String,
        path: String,
        message: String,
    ) {
        self.0.push(Finding {
            severity,
            check,
            object,
            path,
            source: None,
            message,
        });
    }

    pub fn failures(&self) -> usize {
        self.0
            .iter()
            .filter(|f| f.severity == Severity::Fail)
            .count()
    }
}

/// A reference to a missing object: a failure, or a note when only some releases were
/// rendered.
pub fn missing(partial: bool, f: &mut Findings, o: &Object, path: &str, message: String) {
    if partial {
        f.note(
            "refs",
            o,
            path,
            format!("{message} in these releases (another release may render it)"),
        );
    } else {
        f.fail("refs", o, path, message);
    }
}

/// Failures first, then notes; each group in the order found.
/// `objects`: the stack's objects, and those of the rest of a platform render.
pub fn text(findings: &[Finding], objects: (usize, usize), env: &str) -> String {
    let (objects, platform) = objects;
    let mut out = String::new();
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity);
    for f in &sorted {
        let tag = match f.severity {
            Severity::Fail => "FAIL",
            Severity::Note => "note",
        };
        let path = if f.path.is_empty() {
            String::new()
        } else {
            format!(" {}", f.path)
        };
        out.push_str(&format!(
            "{tag} {}: {}{path}: {}",
            f.check,
            f.object,
            printable(&f.message)
        ));
        if let Some(s) = &f.source {
            out.push_str(&format!(" [{s}]"));
        }
        out.push('\n');
    }
    let fails = findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .count();
    let rest = if platform > 0 {
        format!(" (and {platform} of the rest of the platform, judged for port collisions and duplicates only)")
    } else {
        String::new()
    };
    out.push_str(&format!(
        "audit of environment {env}: {objects} objects{rest}, {fails} failure(s), {} note(s)\n",
        findings.len() - fails
    ));
    out
}

/// Text that came from the input, with control characters escaped so it cannot move the
/// cursor or fake a line of its own on a terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
