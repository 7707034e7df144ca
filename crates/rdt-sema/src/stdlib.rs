//! The constants of `stdlib/*.d`, compiled into the binary.
//!
//! Each file declares constants the D way, `inline int NAME = VALUE;`, one per line. Nothing is
//! parsed up front: a name is looked up only when a script uses an identifier that is not a
//! builtin, by scanning the text for that one declaration, so scripts that use no constants pay
//! nothing at startup.

/// `(file name, text)` of every stdlib file.
pub const FILES: &[(&str, &str)] = &[
    ("errno.d", include_str!("../../../stdlib/errno.d")),
    ("signal.d", include_str!("../../../stdlib/signal.d")),
    ("fcntl.d", include_str!("../../../stdlib/fcntl.d")),
    ("sched.d", include_str!("../../../stdlib/sched.d")),
    ("socket.d", include_str!("../../../stdlib/socket.d")),
];

/// The value of the stdlib constant `name`: a substring search for its declaration (no line
/// is parsed but the one that matches).
pub fn constant(name: &str) -> Option<i64> {
    let needle = format!("inline int {name} =");
    FILES.iter().find_map(|(_, text)| {
        let at = text.find(&needle)?;
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        match declaration(&text[line_start..line_end]) {
            Some((n, v)) if n == name => Some(v),
            _ => None,
        }
    })
}

/// Every constant's name (for "did you mean" suggestions, so only on an error path).
pub fn names() -> impl Iterator<Item = &'static str> {
    FILES
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter_map(|line| declaration(line).map(|(n, _)| n))
}

/// `inline int NAME = VALUE;` → `(NAME, VALUE)`; VALUE is decimal, `0x` hex or `-` negative.
fn declaration(line: &'static str) -> Option<(&'static str, i64)> {
    let rest = line.trim().strip_prefix("inline")?.trim_start();
    let rest = rest.strip_prefix("int")?.trim_start();
    let (name, value) = rest.split_once('=')?;
    let value = value.trim().strip_suffix(';')?.trim();
    Some((name.trim(), parse_value(value)?))
}

/// The value of a script's `inline` constant: an integer as in the stdlib, or a string literal
/// (`\"`, `\\`, `\n`, `\t` escapes).
pub fn inline_value(text: &str) -> Option<crate::ir::InlineValue> {
    if let Some(body) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            out.push(match (c, c == '\\') {
                (_, true) => match chars.next()? {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                },
                (c, false) => c,
            });
        }
        return Some(crate::ir::InlineValue::Str(out));
    }
    parse_value(text).map(crate::ir::InlineValue::Int)
}

fn parse_value(v: &str) -> Option<i64> {
    let (negative, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let n = match digits.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    Some(if negative { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_resolve_by_name() {
        assert_eq!(constant("ENOENT"), Some(2));
        assert_eq!(constant("SIGKILL"), Some(9));
        assert_eq!(constant("O_CREAT"), Some(0o100));
        assert_eq!(constant("AT_FDCWD"), Some(-100));
        assert_eq!(constant("TASK_UNINTERRUPTIBLE"), Some(2));
        assert_eq!(constant("NOPE"), None);
    }

    #[test]
    fn every_line_of_every_file_is_a_comment_or_a_declaration() {
        for (file, text) in FILES {
            for line in text.lines() {
                let t = line.trim();
                let comment = t.is_empty() || t.starts_with("/*") || t.starts_with('*');
                assert!(
                    comment || declaration(line).is_some(),
                    "{file}: bad line {line:?}"
                );
            }
        }
    }
}
