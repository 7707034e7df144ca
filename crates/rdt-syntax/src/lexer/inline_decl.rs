//! D's inline constants at the top level of a script: `inline int LIMIT = 10;`,
//! `inline string GREETING = "hi";` — the syntax of the stdlib files (`stdlib/*.d`). The lexer
//! hands each one to the parser as an option named `inline NAME`, so the grammar needs no rule of
//! its own; rdt-sema resolves the names.

use super::token::PragmaOption;
use crate::{Diagnostic, Span};

/// Whether `text` starts with the word `inline` followed by whitespace.
pub fn starts_inline(text: &str) -> bool {
    text.strip_prefix("inline")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_whitespace()))
}

/// Length of the declaration at the start of `text`: up to and including its `;`, or to the end
/// of the line when the `;` is missing.
pub fn declaration_len(text: &str) -> usize {
    let line_end = text.find('\n').unwrap_or(text.len());
    match text[..line_end].find(';') {
        Some(i) => i + 1,
        None => line_end,
    }
}

/// Parses `inline TYPE NAME = VALUE;` (`TYPE` may be several words, `unsigned int`).
pub fn parse(decl: &str, start: usize) -> Result<PragmaOption, Diagnostic> {
    let span = Span::new(start, start + decl.trim_end().len());
    let malformed = || {
        Diagnostic::error(span, "malformed inline constant")
            .with_label("expected `inline TYPE NAME = VALUE;`")
            .with_help("for example `inline int LIMIT = 10;` or `inline string TAG = \"db\";`")
    };
    let body = decl
        .trim_end()
        .strip_suffix(';')
        .ok_or_else(|| malformed().with_label("missing `;`"))?;
    let (lhs, value) = body.split_once('=').ok_or_else(malformed)?;
    let words: Vec<&str> = lhs.split_whitespace().collect();
    let name = match words.as_slice() {
        ["inline", _ty @ .., name] if words.len() >= 3 => *name,
        _ => return Err(malformed()),
    };
    let value = value.trim();
    if !super::is_c_identifier(name) || value.is_empty() {
        return Err(malformed());
    }
    Ok(PragmaOption {
        name: format!("inline {name}"),
        value: Some(value.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_become_inline_options() {
        let o = parse("inline int LIMIT = 10;", 0).unwrap();
        assert_eq!(o.name, "inline LIMIT");
        assert_eq!(o.value.as_deref(), Some("10"));
        let o = parse("inline string TAG = \"a b\";", 0).unwrap();
        assert_eq!(o.value.as_deref(), Some("\"a b\""));
        assert!(parse("inline int = 3;", 0).is_err());
        assert!(parse("inline int X = 3", 0).is_err());
        assert!(starts_inline("inline int X = 1;"));
        assert!(!starts_inline("inlined:probe"));
        assert_eq!(declaration_len("inline int X = 1; // c\nBEGIN"), 17);
    }
}
