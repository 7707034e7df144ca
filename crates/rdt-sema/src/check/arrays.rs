//! Whole fixed-size arrays as values: `print(curtask->cpus_mask.bits)`, an array as a map value
//! (`@a = p->arr`), a map key (`@k[p->arr] = count()`) or a variable (`$a = p->arr`), printed as bpftrace prints them,
//! `[1,2,3]`. The array is copied out of memory into the record, key, value or variable; it is
//! never held in a register.

use super::ClauseChecker;
use crate::ir::{Expr, ExprKind};
use crate::ktypes::KernelType;
use crate::Type;
use rdt_syntax::Diagnostic;

/// The most bytes of one array copied into a record, a map key or a map value.
pub(super) const MAX_ARRAY_BYTES: u32 = 1024;

/// Whether `value` is a whole array that can be copied whole: in kernel or user memory, in a
/// tracepoint's record, in a variable or a map.
pub(super) fn is_array_place(value: &Expr) -> bool {
    matches!(
        (&value.ty, &value.kind),
        (
            Type::Kernel(KernelType::Array { .. }),
            ExprKind::Deref { .. }
                | ExprKind::CtxField { .. }
                | ExprKind::Var(_)
                | ExprKind::MapRead { .. }
        )
    )
}

impl ClauseChecker<'_> {
    /// `args.arr[i]` for an array field of a tracepoint's record (`raw_syscalls:sys_enter`'s
    /// `args[6]`): the element is itself a field of the record, so `i` must be a constant.
    pub(super) fn ctx_array_element(
        &mut self,
        array: &Expr,
        offset: u32,
        idx: Expr,
    ) -> Option<Expr> {
        let (elem, len) = match &array.ty {
            Type::Kernel(KernelType::Array { elem, len }) => ((**elem).clone(), *len),
            other => {
                self.error(
                    Diagnostic::error(array.span, format!("cannot index a `{other}`"))
                        .with_label("not an array or a pointer"),
                );
                return None;
            }
        };
        let ExprKind::Int(i) = idx.kind else {
            self.error(
                Diagnostic::error(idx.span, "a tracepoint array field takes a constant index")
                    .with_label("not a constant")
                    .with_help(format!(
                        "index it with a number from 0 to {}",
                        len.saturating_sub(1)
                    )),
            );
            return None;
        };
        if i < 0 || i >= i64::from(len) {
            self.error(
                Diagnostic::error(idx.span, format!("index {i} is out of bounds"))
                    .with_label(format!("the array has {len} elements")),
            );
            return None;
        }
        let offset = offset + (i as u32) * elem.size();
        Some(super::typed(
            ExprKind::CtxField { offset },
            elem,
            array.span.to(idx.span),
        ))
    }

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
            .with_label(format!(
                "arrays of at most {MAX_ARRAY_BYTES} bytes are copied whole"
            ))
            .with_help("use some of its elements: `a[0]`, `a[1]`"),
        );
        None
    }
}
