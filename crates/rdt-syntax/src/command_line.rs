//! Program text and settings given on the command line instead of in a script: D's `-n` default
//! action and `-x name=value` options.

use crate::ast::OptionSetting;
use crate::lexer::{self, Tok};
use crate::Span;

/// What D does for a clause without an action: print the CPU and the probe, as `dtrace -n` does.
const D_DEFAULT_ACTION: &str = "{ printf(\"%3d %s:%s\\n\", cpu, probefunc, probename); }";

/// D's `-n 'syscall::openat:entry [/predicate/]'`: a program with no action block gets D's
/// default action. Decided on tokens, so a `{` in a string or a comment is not an action.
pub fn with_default_action(program: &str) -> String {
    let tokens = lexer::tokenize(program).tokens;
    let has_action = tokens
        .iter()
        .any(|(_, tok, _)| matches!(tok, Tok::LBrace | Tok::AngleOpen));
    // A blank program (nothing, or only comments) stays blank: the parser says it has no probes.
    if has_action || tokens.is_empty() {
        program.to_string()
    } else {
        format!("{program} {D_DEFAULT_ACTION}")
    }
}

impl OptionSetting {
    /// `-x name=value` (or `-x name`), as if the script had `#pragma D option name=value`. It
    /// has no place in the script, so its span is empty; report it with
    /// [`render_unlocated`](crate::render_unlocated).
    pub fn from_command_line(text: &str) -> OptionSetting {
        let (name, value) = match text.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (text.to_string(), None),
        };
        OptionSetting {
            name,
            value,
            span: Span::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_only_programs_get_the_default_action() {
        let p = with_default_action("syscall::openat:entry /pid == $target/");
        assert!(p.ends_with(D_DEFAULT_ACTION), "{p}");
        crate::parse(&p).expect("parses");
    }

    #[test]
    fn programs_with_an_action_are_kept() {
        for p in [
            "BEGIN { exit(); }",
            "kprobe:do_sys_open < @[comm] = count(); >",
        ] {
            assert_eq!(with_default_action(p), p);
        }
    }

    #[test]
    fn a_brace_in_a_string_or_comment_is_not_an_action() {
        let p = with_default_action("BEGIN /comm == \"{\"/ // {");
        assert!(p.ends_with(D_DEFAULT_ACTION), "{p}");
    }

    #[test]
    fn command_line_options() {
        let o = OptionSetting::from_command_line("strsize=5");
        assert_eq!(
            (o.name.as_str(), o.value.as_deref()),
            ("strsize", Some("5"))
        );
        let o = OptionSetting::from_command_line("quiet");
        assert_eq!((o.name.as_str(), o.value), ("quiet", None));
        assert_eq!(o.span, Span::default());
    }
}
