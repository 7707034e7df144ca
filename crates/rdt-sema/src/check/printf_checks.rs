//! printf mistakes bpftrace refuses too: `%s` of a `char *` prints an address, not the string
//! it points to (`printf("%s", args.filename)` where `str(args.filename)` was meant).

use crate::ir::Expr;
use crate::Type;
use rdt_syntax::{Diagnostic, Span};

/// A `char *` given to `%s`: the string must be read with `str()`.
pub(super) fn char_pointer_as_string(value: &Expr, conversion: Span) -> Option<Diagnostic> {
    let Type::Ptr { to, .. } = &value.ty else {
        return None;
    };
    if !matches!(**to, Type::Int { bits: 8, .. }) {
        return None;
    }
    Some(
        Diagnostic::error(
            value.span,
            "printf() `%s` is given a `char *`, which would print its address",
        )
        .with_label("a pointer to a string")
        .with_secondary(conversion, "this conversion")
        .with_help("read the string it points to with `str(…)`, or print the address with `%p`"),
    )
}
