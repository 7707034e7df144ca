//! D's declarations of variables at the top level of a script: `int n;`, `string last;`,
//! `uint64_t ts[int];`, `self int depth;`, `this struct file *f;`. D infers every type from the
//! first assignment, so a declaration only says a name is a variable. The lexer hands each one
//! to the parser as an option named `declare NAME` whose value is the declared type, as it does
//! for `inline` constants; rdt-sema reads the global ones (d_globals.rs).

use super::token::{PragmaOption, TYPE_WORDS};

/// Words a declared type can start with besides the integer type words of casts
/// ([`TYPE_WORDS`]).
const MORE_TYPE_WORDS: &[&str] = &[
    "string", "struct", "union", "enum", "pid_t", "uid_t", "gid_t",
];

/// The length of the declaration at the start of `text`, up to and including its `;`, if the
/// text is one: an optional `self` or `this`, a type, a name, optional `[key types]`, all on
/// one line. A probe description never looks like this.
pub fn declaration_len(text: &str) -> Option<usize> {
    let line = &text[..text.find('\n').unwrap_or(text.len())];
    let end = line.find(';')?;
    let decl = &line[..end];
    if decl.contains(['{', '}', '/', ':', '(', '=']) {
        return None;
    }
    let (head, _keys) = match decl.split_once('[') {
        Some((head, keys)) => (head, Some(keys.strip_suffix(']')?)),
        None => (decl, None),
    };
    let mut words: Vec<&str> = head.split_whitespace().collect();
    if matches!(words.first(), Some(&("self" | "this"))) {
        words.remove(0);
    }
    let (name, ty) = words.split_last()?;
    let name = name.trim_start_matches('*');
    let valid_name = super::is_c_identifier(name);
    let typed = ty
        .first()
        .is_some_and(|w| TYPE_WORDS.contains(w) || MORE_TYPE_WORDS.contains(w));
    (valid_name && typed).then_some(end + 1)
}

/// The option a declaration (as `declaration_len` measured it) becomes: `declare NAME` with
/// the type as its value (`self int`, `uint64_t[int]`), which says whether it is global.
pub fn option(decl: &str) -> PragmaOption {
    let body = decl.trim_end().trim_end_matches(';');
    let (head, keys) = match body.split_once('[') {
        Some((head, keys)) => (head, format!("[{keys}")),
        None => (body, String::new()),
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    let (name, ty) = words.split_last().unwrap_or((&"", &[]));
    let stars = name.len() - name.trim_start_matches('*').len();
    PragmaOption {
        name: format!("declare {}", name.trim_start_matches('*')),
        value: Some(format!("{}{}{keys}", ty.join(" "), "*".repeat(stars))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_measured_to_their_semicolon() {
        assert_eq!(declaration_len("int n; BEGIN {}"), Some(6));
        assert_eq!(declaration_len("uint64_t ts[int];\n"), Some(17));
        assert_eq!(declaration_len("self int depth;"), Some(15));
        assert_eq!(declaration_len("this struct file *f;"), Some(20));
    }

    #[test]
    fn probes_and_other_text_are_not_declarations() {
        assert_eq!(declaration_len("syscall::read:entry { x = 1; }"), None);
        assert_eq!(declaration_len("BEGIN { n = 1; }"), None);
        assert_eq!(declaration_len("tick-1s;"), None);
        assert_eq!(declaration_len("inline int X = 1;"), None);
        assert_eq!(declaration_len("int"), None);
    }

    #[test]
    fn declarations_become_options_named_after_the_variable() {
        let o = option("uint64_t ts[int];");
        assert_eq!(o.name, "declare ts");
        assert_eq!(o.value.as_deref(), Some("uint64_t[int]"));
        let o = option("self int depth;");
        assert_eq!(o.value.as_deref(), Some("self int"));
        let o = option("this struct file *f;");
        assert_eq!(
            (o.name.as_str(), o.value.as_deref()),
            ("declare f", Some("this struct file*"))
        );
    }
}
