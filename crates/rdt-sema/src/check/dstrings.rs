//! DTrace's string functions: `strjoin`, `basename`, `dirname`, `substr`, `lltostr`, `strstr`,
//! `index`, `rindex`, `toupper`, `tolower`. Each builds its result in the kernel (see
//! rdt-codegen's lower/dstrings.rs), so it works wherever a string does: printf, map keys and
//! values, variables, comparisons.

use super::{typed, ClauseChecker};
use crate::ir::{DStringOp, Expr, ExprKind};
use crate::Type;
use rdt_syntax::{ast, Diagnostic, Span};

/// Largest size of a `strjoin()` result: the largest `strsize` rdt accepts.
const MAX_JOINED_SIZE: u32 = 1024;

/// Largest (positions searched × needle bytes) for `strstr`, `index` and `rindex`: every pair is
/// compared in unrolled code, which must stay small enough for one BPF program.
const MAX_SEARCH_PAIRS: u32 = 128 * 128;

/// The decimal text of any 64-bit integer: 20 characters ("-9223372036854775808") and a NUL.
const LLTOSTR_SIZE: u32 = 21;

/// What an argument of a D string function must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ArgKind {
    Text,
    Integer,
}

impl DStringOp {
    fn arg_kind(self, index: usize) -> ArgKind {
        use DStringOp::*;
        match (self, index) {
            (Lltostr, _) => ArgKind::Integer,
            (Substr | Index | Rindex, i) if i >= 2 => ArgKind::Integer,
            (Substr, 1) => ArgKind::Integer,
            _ => ArgKind::Text,
        }
    }

    fn is_search(self) -> bool {
        matches!(
            self,
            DStringOp::Strstr | DStringOp::Index | DStringOp::Rindex
        )
    }
}

impl ClauseChecker<'_> {
    /// Checks a call of a D string function whose argument count `call_arity` accepted.
    pub(super) fn dstring_call(
        &mut self,
        op: DStringOp,
        name: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let checked: Vec<Option<Expr>> = args
            .iter()
            .enumerate()
            .map(|(i, arg)| self.dstring_arg(name, op.arg_kind(i), arg))
            .collect();
        let args: Vec<Expr> = checked.into_iter().collect::<Option<_>>()?;
        if op.is_search() {
            self.check_dstring_search(name, &args)?;
        }
        let ty = match op {
            DStringOp::Index | DStringOp::Rindex => Type::I64,
            _ => Type::Str {
                size: result_size(op, &args),
            },
        };
        Some(typed(ExprKind::DString { op, args }, ty, span))
    }

    fn dstring_arg(&mut self, name: &str, kind: ArgKind, arg: &ast::Expr) -> Option<Expr> {
        let value = self.expr(arg)?;
        let fits = match kind {
            ArgKind::Text => value.ty.is_str(),
            ArgKind::Integer => value.ty.is_int(),
        };
        if fits {
            return Some(value);
        }
        let usage = crate::builtins::function(name).map_or("", |d| d.usage);
        let (wanted, label, help) = match kind {
            ArgKind::Text => (
                "a string",
                "not a string",
                format!(
                    "read a string from a pointer with `copyinstr(pointer)` or `str(pointer)`; usage: {usage}"
                ),
            ),
            ArgKind::Integer => ("an integer", "not an integer", format!("usage: {usage}")),
        };
        self.error(
            Diagnostic::error(
                value.span,
                format!("{name}() needs {wanted} here, not `{}`", value.ty),
            )
            .with_label(label)
            .with_help(help),
        );
        None
    }

    /// The search compares every start position with every needle byte, unrolled.
    fn check_dstring_search(&mut self, name: &str, args: &[Expr]) -> Option<()> {
        let (haystack, needle) = (&args[0], &args[1]);
        // A literal's bytes are compared as constants, at a quarter of the cost.
        let (needle_bytes, limit) = match &needle.kind {
            ExprKind::Str(lit) => (lit.len() as u32, 4 * MAX_SEARCH_PAIRS),
            _ => (needle.ty.size(), MAX_SEARCH_PAIRS),
        };
        let pairs = (haystack.ty.size() + 1).saturating_mul(needle_bytes);
        if pairs <= limit {
            return Some(());
        }
        self.error(
            Diagnostic::error(
                needle.span,
                format!(
                    "{name}() on a {}-byte string with a {needle_bytes}-byte substring is too large for one BPF program",
                    haystack.ty.size()
                ),
            )
            .with_label("substring too large for this string")
            .with_help(format!(
                "{}, or lower strsize (the string's size plus one, times the substring's, may be at most {limit})",
                if limit > MAX_SEARCH_PAIRS {
                    "use a shorter substring"
                } else {
                    "use a string literal as the substring"
                }
            )),
        );
        None
    }
}

/// The size of the string a D string function makes from arguments `args`.
fn result_size(op: DStringOp, args: &[Expr]) -> u32 {
    let size = |i: usize| args.get(i).map_or(1, |a| a.ty.size().max(1));
    match op {
        // One NUL fewer than the two strings hold.
        DStringOp::Strjoin => (size(0) + size(1) - 1).min(MAX_JOINED_SIZE),
        // Room for "." when the path is empty.
        DStringOp::Basename | DStringOp::Dirname => size(0).max(2),
        DStringOp::Lltostr => LLTOSTR_SIZE,
        _ => size(0),
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::MapValue;
    use crate::{analyze, Params, Type};

    /// The type of the value the script stores in its first map.
    fn stored(script: &str) -> Type {
        let ast = rdt_syntax::parse(script).expect("parses");
        let program = analyze(&ast, &Params::default()).expect("checks");
        match &program.maps[0].value {
            MapValue::Plain(ty) => ty.clone(),
            _ => panic!("not a plain value"),
        }
    }

    fn first_error(script: &str) -> String {
        let ast = rdt_syntax::parse(script).expect("parses");
        match analyze(&ast, &Params::default()) {
            Ok(_) => panic!("checks"),
            Err(diags) => diags[0].message.clone(),
        }
    }

    #[test]
    fn results_are_sized_from_their_inputs() {
        let size = |s: &str| stored(&format!("BEGIN {{ @x = {s}; }}")).size();
        assert_eq!(size("strjoin(\"ab\", \"cde\")"), 6);
        assert_eq!(size("basename(\"\")"), 2);
        assert_eq!(size("dirname(\"/usr/bin\")"), 9);
        assert_eq!(size("substr(\"abcdef\", 1)"), 7);
        assert_eq!(size("lltostr(-1)"), 21);
        assert_eq!(size("toupper(str(0))"), 64);
        let joined = stored("config = { strsize = 1024 } BEGIN { @x = strjoin(str(0), str(0)); }");
        assert_eq!(joined, Type::Str { size: 1024 });
    }

    #[test]
    fn positions_are_signed_integers() {
        assert!(stored("BEGIN { @x = index(\"abc\", \"b\"); }").is_int());
        assert!(stored("BEGIN { @x = rindex(\"abc\", \"b\", 2); }").is_int());
    }

    #[test]
    fn wrong_arguments_are_errors() {
        assert!(first_error("BEGIN { @x = basename(1); }").contains("needs a string"));
        assert!(first_error("BEGIN { @x = substr(\"a\", \"b\"); }").contains("needs an integer"));
        assert!(first_error("BEGIN { @x = strjoin(\"a\"); }").contains("argument"));
        let search = "config = { strsize = 1024 } BEGIN { @x = strstr(str(0), str(1)); }";
        assert!(first_error(search).contains("too large"));
    }
}
