//! The few preprocessor lines bpftrace's own tools use, handled without a preprocessor:
//! `#include <…>` is ignored (kernel types come from BTF, common constants from rdt's stdlib),
//! and `#ifdef BPFTRACE_HAVE_BTF` / `#ifndef BPFTRACE_HAVE_BTF` / `#else` / `#endif` keep the
//! branch written for kernels with BTF, which rdt always reads. Any other directive, or a
//! condition on another name, is still an error.

use crate::{Diagnostic, Span};

/// The one name a condition may test; rdt defines it, as bpftrace does when it has BTF.
const HAVE_BTF: &str = "BPFTRACE_HAVE_BTF";

/// A recognised conditional or include line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    Include,
    /// `#ifdef`/`#ifndef BPFTRACE_HAVE_BTF`: `keep` when the branch that follows is kept.
    If {
        keep: bool,
    },
    Else,
    Endif,
}

/// The directive on a `#` line (comments already removed), if it is one handled here.
pub fn directive(line: &str, start: usize) -> Result<Option<Directive>, Diagnostic> {
    let mut words = line.split_whitespace();
    let word = words.next().unwrap_or("#");
    let name = words.next();
    Ok(Some(match word {
        "#include" => Directive::Include,
        "#else" => Directive::Else,
        "#endif" => Directive::Endif,
        "#ifdef" | "#ifndef" => {
            if name != Some(HAVE_BTF) {
                return Err(only_have_btf(word, line, start));
            }
            Directive::If {
                keep: word == "#ifdef",
            }
        }
        _ => return Ok(None),
    }))
}

/// Where the skipped branch that starts after `from` ends: just past its `#else` line (`true`:
/// the `#else` branch is kept and its `#endif` is still to come) or its `#endif` line (`false`).
/// Nested conditionals inside the skipped text are skipped whole. `None` at the end of the text.
pub fn skip_branch(src: &str, from: usize, stop_at_else: bool) -> Option<(usize, bool)> {
    let mut depth = 0usize;
    let mut pos = from;
    while pos < src.len() {
        let rest = &src[pos..];
        let len = rest.find('\n').map_or(rest.len(), |n| n + 1);
        let word = rest[..len].split_whitespace().next().unwrap_or("");
        pos += len;
        match word {
            "#if" | "#ifdef" | "#ifndef" => depth += 1,
            "#endif" if depth == 0 => return Some((pos, false)),
            "#endif" => depth -= 1,
            "#else" if depth == 0 && stop_at_else => return Some((pos, true)),
            _ => {}
        }
    }
    None
}

fn only_have_btf(word: &str, line: &str, start: usize) -> Diagnostic {
    Diagnostic::error(
        Span::new(start, start + line.trim_end().len()),
        format!("`{word}` can only test `{HAVE_BTF}`"),
    )
    .with_label("rdt does not run the C preprocessor")
    .with_help(format!(
        "rdt always has BTF: keep the `#ifdef {HAVE_BTF}` branch and remove the others"
    ))
}

pub fn unterminated(start: usize, len: usize) -> Diagnostic {
    Diagnostic::error(
        Span::new(start, start + len),
        "this condition has no `#endif`",
    )
    .with_label("never closed")
    .with_help("close it with `#endif` on a line of its own")
}

pub fn unmatched(word: &str, start: usize) -> Diagnostic {
    Diagnostic::error(
        Span::new(start, start + word.len()),
        format!("`{word}` without `#ifdef`"),
    )
    .with_label("no open condition")
    .with_help("remove it, or open the condition with `#ifdef BPFTRACE_HAVE_BTF`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_btf_condition_is_recognised() {
        assert_eq!(
            directive("#ifndef BPFTRACE_HAVE_BTF", 0).ok().flatten(),
            Some(Directive::If { keep: false })
        );
        assert_eq!(
            directive("#include <net/sock.h>", 0).ok().flatten(),
            Some(Directive::Include)
        );
        assert!(directive("#ifdef CONFIG_X", 0).is_err());
        assert_eq!(directive("#define X 1", 0).ok().flatten(), None);
    }

    #[test]
    fn skipping_stops_at_the_matching_else_or_endif() {
        let src = "a\n#ifdef X\nb\n#endif\n#else\nc\n#endif\nd";
        let (after_else, kept) = skip_branch(src, 0, true).unwrap_or_default();
        assert!(kept);
        assert!(src[after_else..].starts_with("c\n"));
        let (after_endif, kept) = skip_branch(src, after_else, false).unwrap_or_default();
        assert!(!kept);
        assert_eq!(&src[after_endif..], "d");
        assert_eq!(skip_branch("a\nb", 0, true), None);
    }
}
