//! Whole fixed-size arrays as values: `print(curtask->cpus_mask.bits)`, an array as a map value
//! (`@a = p->arr`) or a map key (`@k[p->arr] = count()`), printed as bpftrace prints them,
//! `[1,2,3]`. The array is copied out of memory into the record, key or value; it is never held
//! in a register or a variable.

use super::ClauseChecker;
use crate::ir::{Expr, ExprKind};
use crate::ktypes::KernelType;
use crate::Type;
use rdt_syntax::Diagnostic;

/// The most bytes of one array copied into a record, a map key or a map value.
pub(super) const MAX_ARRAY_BYTES: u32 = 1024;

/// Whether `value` is a whole array in kernel or user memory, which can be copied whole.
pub(super) fn is_array_place(value: &Expr) -> bool {
    matches!(
        (&value.ty, &value.kind),
        (Type::Kernel(KernelType::Array { .. }), ExprKind::Deref { .. })
    )
}

impl ClauseChecker<'_> {
    /// `Some(())` when `value` is an array small enough to copy whole; an error otherwise
    /// (`what` says where it was to go: "a map key").
    pub(super) fn copyable_array(&mut self, value: &Expr, what: &str) -> Option<()> {
        if value.ty.size() <= MAX_ARRAY_BYTES {
            return Some(());
        }
        self.error(
            Diagnostic::error(
                value.span,
                format!(
                    "`{}` is {} bytes, too large for {what}",
                    value.ty,
                    value.ty.size()
                ),
            )
            .with_label(format!("arrays of at most {MAX_ARRAY_BYTES} bytes are copied whole"))
            .with_help("use some of its elements: `a[0]`, `a[1]`"),
        );
        None
    }
}
