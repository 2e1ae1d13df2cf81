//! How a review prints: text for a terminal (colour only when asked, on a TTY), Markdown for
//! a pull-request comment (consequential findings first, the rest folded in `<details>`), and
//! JSON for machines. Text from the renders is printed escaped (no control characters).

use std::collections::BTreeMap;

use super::compare::Review;
use super::finding::{Class, Finding};
use crate::base::text::escape;

/// Detail lines shown under a finding before "… N more".
const DETAILS_SHOWN: usize = 10;
/// Lines of one object's structural diff in Markdown.
const MARKDOWN_DIFF_LINES: usize = 25;
/// Where the Markdown stops adding structural diffs, and where it stops listing objects: a
/// GitHub comment holds 65536 characters.
const MARKDOWN_DIFFS_BUDGET: usize = 50_000;
const MARKDOWN_BUDGET: usize = 60_000;

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn head(r: &Review) -> String {
    let env = r
        .environment
        .as_ref()
        .map(|e| format!(", environment {e}"))
        .unwrap_or_default();
    format!(
        "{} ({} objects) -> {} ({} objects){env}",
        escape(&r.before.label),
        r.before.objects,
        escape(&r.after.label),
        r.after.objects
    )
}

fn counts_line(r: &Review) -> String {
    let counts = r.counts();
    let n: usize = counts
        .iter()
        .filter(|(c, _)| **c != Class::Changed)
        .map(|(_, n)| n)
        .sum();
    let by: Vec<String> = counts
        .iter()
        .filter(|(c, _)| **c != Class::Changed)
        .map(|(c, n)| format!("{n} {}", c.name()))
        .collect();
    if n == 0 {
        "no findings".to_string()
    } else {
        format!("{n} finding(s): {}", by.join(", "))
    }
}

/// Consequential findings by section, objects added/removed grouped by kind into one entry.
fn sections(r: &Review) -> Vec<(&'static str, Vec<Finding>)> {
    let mut out: Vec<(&'static str, Vec<Finding>)> = Vec::new();
    let mut by_kind: BTreeMap<(Class, String), Vec<String>> = BTreeMap::new();
    for f in r.consequential() {
        if matches!(f.class, Class::ObjectAdded | Class::ObjectRemoved) {
            let (kind, rest) = f.object.split_once(' ').unwrap_or((&f.object, ""));
            by_kind
                .entry((f.class, kind.to_string()))
                .or_default()
                .push(rest.to_string());
            continue;
        }
        match out.last_mut() {
            Some((s, list)) if *s == f.class.section() => list.push(f.clone()),
            _ => out.push((f.class.section(), vec![f.clone()])),
        }
    }
    if !by_kind.is_empty() {
        let list = by_kind
            .into_iter()
            .map(|((class, kind), names)| {
                Finding::new(
                    class,
                    format!("{kind} ({})", names.len()),
                    "",
                    names.join(", "),
                )
            })
            .collect();
        out.push((Class::ObjectAdded.section(), list));
    }
    out
}

fn changed(r: &Review) -> Vec<&Finding> {
    r.findings
        .iter()
        .filter(|f| f.class == Class::Changed)
        .collect()
}

fn located(f: &Finding) -> String {
    let mut s = escape(&f.object).into_owned();
    if !f.path.is_empty() {
        s.push(' ');
        s.push_str(&escape(&f.path));
    }
    s
}

/// Text for a terminal; `colour` adds ANSI colours, `all` unfolds the other changes.
pub fn text(r: &Review, colour: bool, all: bool) -> String {
    let paint = |code: &str, s: &str| {
        if colour {
            format!("{code}{s}{RESET}")
        } else {
            s.to_string()
        }
    };
    let mut out = format!("review: {}\n{}\n", head(r), counts_line(r));
    for (section, findings) in sections(r) {
        out.push_str(&format!("\n{}\n", paint(BOLD, section)));
        for f in findings {
            let tag = format!("[{}]", f.class.name());
            let tag = paint(if f.class.alarming() { RED } else { YELLOW }, &tag);
            out.push_str(&format!(
                "  {tag} {}: {}\n",
                located(&f),
                escape(&f.message)
            ));
            let shown = if all { f.details.len() } else { DETAILS_SHOWN };
            for d in f.details.iter().take(shown) {
                out.push_str(&format!("      {}\n", escape(d)));
            }
            if f.details.len() > shown {
                out.push_str(&format!(
                    "      … {} more (--all shows them)\n",
                    f.details.len() - shown
                ));
            }
        }
    }
    let rest = changed(r);
    if !rest.is_empty() {
        out.push_str(&format!("\n{}\n", paint(BOLD, "Other changes")));
        if all {
            for f in rest {
                out.push_str(&format!("  {}: {}\n", located(f), escape(&f.message)));
                for d in &f.details {
                    out.push_str(&format!("      {}\n", escape(d)));
                }
            }
        } else {
            out.push_str(&format!(
                "  {} object(s) changed otherwise (folded: --all shows the structural diff)\n",
                rest.len()
            ));
        }
    }
    out
}

/// Text safe inside a Markdown paragraph.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '|' | '[' | ']' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text safe inside a Markdown code span (no backticks).
fn code(s: &str) -> String {
    format!("`{}`", escape(s).replace('`', "'"))
}

/// A fenced block of lines (no line can close the fence).
fn block(lines: &[String], cap: usize) -> String {
    let mut out = String::from("````diff\n");
    for l in lines.iter().take(cap) {
        out.push_str(&escape(l).replace("````", "'''"));
        out.push('\n');
    }
    if lines.len() > cap {
        out.push_str(&format!(
            "… {} more lines (deploygen review --format json has them all)\n",
            lines.len() - cap
        ));
    }
    out.push_str("````\n");
    out
}

/// Markdown for a pull-request comment.
pub fn markdown(r: &Review) -> String {
    let mut out = format!(
        "## deploygen review\n\n{}\n\n**{}**\n",
        md(&head(r)),
        md(&counts_line(r))
    );
    for (section, findings) in sections(r) {
        out.push_str(&format!("\n### {section}\n\n"));
        for f in findings {
            let mark = if f.class.alarming() { " ⚠" } else { "" };
            let path = if f.path.is_empty() {
                String::new()
            } else {
                format!(" {}", code(&f.path))
            };
            out.push_str(&format!(
                "- **{}**{mark} {}{path}: {}\n",
                f.class.name(),
                code(&f.object),
                md(&f.message)
            ));
            if !f.details.is_empty() {
                out.push_str(&format!(
                    "  <details><summary>{} line(s)</summary>\n\n",
                    f.details.len()
                ));
                for l in block(&f.details, MARKDOWN_DIFF_LINES).lines() {
                    out.push_str(&format!("  {l}\n"));
                }
                out.push_str("  </details>\n");
            }
        }
    }
    let rest = changed(r);
    if !rest.is_empty() {
        out.push_str(&format!(
            "\n<details><summary>Other changes: {} object(s)</summary>\n\n",
            rest.len()
        ));
        // CRD schemas last: their long diffs would crowd out the workloads' (what matters in
        // them has its own classes).
        let mut rest = rest;
        rest.sort_by_key(|f| f.object.starts_with("CustomResourceDefinition "));
        let mut short = Vec::new();
        for f in rest {
            let head = format!("{}: {}\n\n", code(&f.object), md(&f.message));
            let chunk = format!("{head}{}\n", block(&f.details, MARKDOWN_DIFF_LINES));
            if short.is_empty() && out.len() + chunk.len() <= MARKDOWN_DIFFS_BUDGET {
                out.push_str(&chunk);
            } else {
                short.push(format!("- {}", head.trim_end()));
            }
        }
        if !short.is_empty() {
            out.push_str(&format!(
                "{} more object(s), without their diff (a pull-request comment holds 65536 characters; `--format json` has every line):\n\n",
                short.len()
            ));
            let mut shown = 0;
            for line in &short {
                if out.len() + line.len() > MARKDOWN_BUDGET {
                    break;
                }
                out.push_str(line);
                out.push('\n');
                shown += 1;
            }
            if shown < short.len() {
                out.push_str(&format!("- … and {} more\n", short.len() - shown));
            }
            out.push('\n');
        }
        out.push_str("</details>\n");
    }
    out
}

/// JSON for machines: every finding, the structural rest included.
pub fn json(r: &Review) -> String {
    let counts: BTreeMap<&str, usize> =
        r.counts().into_iter().map(|(c, n)| (c.name(), n)).collect();
    let v = serde_json::json!({
        "before": {"label": r.before.label, "objects": r.before.objects},
        "after": {"label": r.after.label, "objects": r.after.objects},
        "environment": r.environment,
        "counts": counts,
        "findings": r.findings,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
