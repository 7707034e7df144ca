//! Hand-written scanners for the parts of a script that are not ordinary tokens: whitespace and
//! comments, probe descriptions, `#pragma` lines, and the lookahead that decides whether a `>`
//! ends an angle-bracket action block.

use super::token::PragmaOption;
use crate::{Diagnostic, Span};

/// Skips whitespace and comments from `pos`; returns the position of the next significant byte.
/// An unclosed `/*` is an error located at the `/*`.
pub fn skip_trivia(src: &str, mut pos: usize) -> Result<usize, Diagnostic> {
    loop {
        let rest = src.get(pos..).unwrap_or("");
        let trimmed = rest.trim_start();
        pos += rest.len() - trimmed.len();
        if trimmed.starts_with("//") {
            pos += trimmed.find('\n').unwrap_or(trimmed.len());
        } else if let Some(body) = trimmed.strip_prefix("/*") {
            let Some(end) = body.find("*/") else {
                return Err(
                    Diagnostic::error(Span::new(pos, pos + 2), "unterminated comment")
                        .with_label("this comment is not closed")
                        .with_help("end the comment with `*/`"),
                );
            };
            pos += 2 + end + 2;
        } else {
            return Ok(pos);
        }
    }
}

/// Like [`skip_trivia`], but an unclosed comment simply runs to the end of the input: used for
/// lookahead, where the error is reported later by the real scan.
pub fn skip_trivia_lenient(src: &str, pos: usize) -> usize {
    skip_trivia(src, pos).unwrap_or(src.len())
}

pub fn is_probe_start(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '_' | '*' | '?')
}

fn is_probe_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_:/.*?-+$[]@~".contains(c)
}

/// Byte length of the probe description at the start of `text`.
///
/// A probe ends at whitespace or at any character that cannot appear in one (`{`, `,`, `<`, …).
/// `/` is both a path separator (`uprobe:/bin/bash:readline`) and the predicate delimiter
/// (`kprobe:f/pid == 1/`), so it belongs to the probe only inside a path component: one that
/// starts, right after a `:`, with `/` or `.`.
pub fn probe_len(text: &str) -> usize {
    let mut component_start = true;
    let mut in_path = false;
    for (i, c) in text.char_indices() {
        if !is_probe_char(c) {
            return i;
        }
        if c == ':' {
            component_start = true;
            in_path = false;
            continue;
        }
        if component_start && (c == '/' || c == '.') {
            in_path = true;
        } else if c == '/' && !in_path {
            return i;
        }
        component_start = false;
    }
    text.len()
}

/// Whether a clause starts at `pos`: a word that looks like a probe (it has a `:`, or is
/// `BEGIN`/`END`, `profile-N`, `tick-N`) followed by `{`, `<`, `/`, `,`, or the end of input.
/// A `#pragma` line also starts a new top-level item.
pub fn clause_starts_at(src: &str, pos: usize) -> bool {
    let rest = src.get(pos..).unwrap_or("");
    if rest.starts_with("#pragma") {
        return true;
    }
    if !rest.starts_with(is_probe_start) {
        return false;
    }
    let probe = &rest[..probe_len(rest)];
    let probe_like = probe.contains(':')
        || matches!(probe, "BEGIN" | "END")
        || probe.starts_with("profile-")
        || probe.starts_with("tick-");
    if !probe_like {
        return false;
    }
    let after = skip_trivia_lenient(src, pos + probe.len());
    match src.get(after..).and_then(|s| s.chars().next()) {
        None => true,
        Some(c) => matches!(c, '{' | '<' | '/' | ','),
    }
}

/// Byte length of the line starting at `pos`, without its newline.
pub fn line_len(src: &str, pos: usize) -> usize {
    let rest = src.get(pos..).unwrap_or("");
    rest.find('\n').unwrap_or(rest.len())
}

/// What a `#` line at the top level turned out to be.
pub enum HashLine {
    Option(PragmaOption),
    /// Any other `#pragma` (`#pragma D depends_on …`): meaningful to DTrace only, ignored.
    Ignored,
}

/// Reads the `#…` line at `start` (`line` is its text without the newline).
pub fn hash_line(line: &str, start: usize) -> Result<HashLine, Diagnostic> {
    let line = line.split("//").next().unwrap_or("").trim_end();
    let mut words = line.split_whitespace();
    let directive = words.next().unwrap_or("#");
    if directive != "#pragma" {
        return Err(unsupported_directive(directive, start));
    }
    if words.next() != Some("D") || words.next() != Some("option") {
        return Ok(HashLine::Ignored);
    }
    let setting = words.collect::<Vec<_>>().join(" ");
    let (name, value) = match setting.split_once('=') {
        Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
        None => (setting.trim(), None),
    };
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_name || value.as_deref() == Some("") {
        return Err(Diagnostic::error(
            Span::new(start, start + line.len()),
            "malformed `#pragma D option`",
        )
        .with_label("expected `name` or `name=value` after `option`")
        .with_help("for example `#pragma D option quiet` or `#pragma D option bufsize=4m`"));
    }
    Ok(HashLine::Option(PragmaOption {
        name: name.to_string(),
        value,
    }))
}

fn unsupported_directive(directive: &str, start: usize) -> Diagnostic {
    let span = Span::new(start, start + directive.len());
    Diagnostic::error(
        span,
        format!("unsupported preprocessor directive `{directive}`"),
    )
    .with_label("not supported")
    .with_help(
        "rdt does not run the C preprocessor; it understands `#pragma D option …`, `#include` (ignored) and `#ifdef BPFTRACE_HAVE_BTF`",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(text: &str) -> &str {
        &text[..probe_len(text)]
    }

    #[test]
    fn probe_descriptions() {
        assert_eq!(probe("BEGIN{"), "BEGIN");
        assert_eq!(probe("kprobe:vfs_read+16 {"), "kprobe:vfs_read+16");
        assert_eq!(
            probe("uprobe:/bin/bash:readline/pid/"),
            "uprobe:/bin/bash:readline"
        );
        assert_eq!(
            probe("usdt:/usr/lib/x.so:prov:name"),
            "usdt:/usr/lib/x.so:prov:name"
        );
        assert_eq!(probe("uprobe:./a.out:main"), "uprobe:./a.out:main");
        assert_eq!(probe("kprobe:f/pid == 1/"), "kprobe:f");
        assert_eq!(
            probe("pid$target::malloc:entry"),
            "pid$target::malloc:entry"
        );
        assert_eq!(probe("profile-997,tick-1s"), "profile-997");
        assert_eq!(probe("t:syscalls:sys_enter_*<"), "t:syscalls:sys_enter_*");
    }

    #[test]
    fn trivia() {
        assert_eq!(skip_trivia(" // x\n /* y */ z", 0), Ok(15));
        assert!(skip_trivia("  /* open", 0).is_err());
        assert_eq!(skip_trivia_lenient("  /* open", 0), 9);
    }

    #[test]
    fn clause_start_lookahead() {
        assert!(clause_starts_at("kprobe:f {", 0));
        assert!(clause_starts_at("END", 0));
        assert!(clause_starts_at("tick-1s /x/", 0));
        assert!(!clause_starts_at("b / c;", 0));
        assert!(!clause_starts_at("1;", 0));
    }

    #[test]
    fn pragma_lines() {
        let Ok(HashLine::Option(o)) = hash_line("#pragma D option quiet", 0) else {
            panic!()
        };
        assert_eq!((o.name.as_str(), o.value), ("quiet", None));
        let Ok(HashLine::Option(o)) = hash_line("#pragma D option bufsize=4m // big", 0) else {
            panic!()
        };
        assert_eq!(
            (o.name.as_str(), o.value.as_deref()),
            ("bufsize", Some("4m"))
        );
        assert!(matches!(
            hash_line("#pragma D depends_on x", 0),
            Ok(HashLine::Ignored)
        ));
        assert!(hash_line("#include <x.h>", 0).is_err());
        assert!(hash_line("#pragma D option", 0).is_err());
    }
}
