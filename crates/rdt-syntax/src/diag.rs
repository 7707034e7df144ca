//! Diagnostics shared by every stage: a message, a primary span with a label, optional secondary
//! spans, and help lines. Rendered with codespan-reporting as file:line:col, the source line and a
//! caret.

use crate::Span;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor::NoColor, Config};

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    pub label: String,
    /// Other places that explain the error ("first used as an integer here").
    pub secondary: Vec<(Span, String)>,
    /// "help: did you mean `pid`?" lines.
    pub help: Vec<String>,
    /// Warnings do not stop compilation.
    pub warning: bool,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span,
            label: String::new(),
            secondary: Vec::new(),
            help: Vec::new(),
            warning: false,
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            warning: true,
            ..Diagnostic::error(span, message)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }
}

/// Renders diagnostics as plain text (no colour), the way rdt prints them on stderr.
pub fn render(file_name: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let file = SimpleFile::new(file_name, source);
    let mut out = NoColor::new(Vec::new());
    let config = Config::default();
    for d in diagnostics {
        let severity = if d.warning {
            CsDiagnostic::warning()
        } else {
            CsDiagnostic::error()
        };
        let clamp = |s: Span| {
            let end = (s.end as usize).min(source.len());
            let start = (s.start as usize).min(end);
            start..end
        };
        let mut labels = vec![Label::primary((), clamp(d.span)).with_message(d.label.clone())];
        for (span, label) in &d.secondary {
            labels.push(Label::secondary((), clamp(*span)).with_message(label.clone()));
        }
        let cs = severity
            .with_message(d.message.clone())
            .with_labels(labels)
            .with_notes(d.help.iter().map(|h| format!("help: {h}")).collect());
        // Writing into a Vec cannot fail; a failure would only lose this diagnostic's text.
        let _ = term::emit(&mut out, &config, &file, &cs);
    }
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// Renders diagnostics that have no place in a script (a `-x` option, say) against `context`,
/// the input as the user typed it: `error: -x strsize=0: invalid strsize `0` (expected …)`.
pub fn render_unlocated(context: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let kind = if d.warning { "warning" } else { "error" };
        out.push_str(&format!("{kind}: {context}: {}", d.message));
        if !d.label.is_empty() {
            out.push_str(&format!(" ({})", d.label));
        }
        out.push('\n');
        for help in &d.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
    }
    out
}

/// Closest candidate by edit distance, for "did you mean" help. `None` when nothing is close.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.len() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        // On a tie, prefer a candidate as long as the name (a swap beats a dropped letter).
        .min_by_key(|(d, c)| (*d, c.len().abs_diff(name.len()), c.len()))
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters each cost 1, so the typo `pdi` is one edit from `pid`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between the first i chars of `a` and the first j chars of `b`.
    let mut rows: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| i.max(j)).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j - 1] + cost)
                .min(rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_name() {
        assert_eq!(did_you_mean("pdi", ["pid", "tid", "comm"]), Some("pid"));
        assert_eq!(did_you_mean("zzzzzz", ["pid", "tid"]), None);
    }
}
