//! Indexing an array held in a variable or a map (`$x = curtask->comm; $x[0]`, `@a[1][2]`): the
//! element is read from the copy, not from kernel memory. A constant index is checked here; a
//! computed one is checked by the program, which reads 0 for an index past the end.

use super::{typed, ClauseChecker};
use crate::ir::{Expr, ExprKind};
use crate::ktypes::KernelType;
use crate::Type;
use rdt_syntax::{Diagnostic, Span};

/// Whether `value` is an array (or a `char[N]` string) copied into a variable, a map value or
/// an element of such an array.
pub(super) fn is_held_array(value: &Expr) -> bool {
    matches!(
        value.kind,
        ExprKind::Var(_)
            | ExprKind::MapRead { .. }
            | ExprKind::ArrayElem { .. }
            | ExprKind::HeldField { .. }
    ) && element_of(&value.ty).is_some()
}

/// Whether `value` is a struct element of a held array (`$a[0]`) or a struct member of one.
pub(super) fn is_held_record(value: &Expr) -> bool {
    matches!(
        value.kind,
        ExprKind::ArrayElem { .. } | ExprKind::HeldField { .. }
    ) && matches!(value.ty, Type::Kernel(KernelType::Record { .. }))
}

/// The element type and length of an array or string type.
fn element_of(ty: &Type) -> Option<(Type, u32)> {
    match ty {
        Type::Kernel(KernelType::Array { elem, len }) => Some(((**elem).clone(), *len)),
        Type::Str { size } => Some((
            Type::Int {
                bits: 8,
                signed: true,
            },
            *size,
        )),
        _ => None,
    }
}

impl ClauseChecker<'_> {
    /// `$a[0].field`: a member of a struct element of a held array.
    pub(super) fn held_member(
        &mut self,
        record: Expr,
        field: &str,
        field_span: Span,
        span: Span,
    ) -> Option<Expr> {
        let Type::Kernel(KernelType::Record { r, name, .. }) = &record.ty else {
            return None;
        };
        let (r, name) = (*r, name.clone());
        let member = self.find_member(r, &name, field, field_span)?;
        if member.bitfield_size > 0 {
            self.error(
                Diagnostic::error(field_span, format!("`{field}` is a bitfield"))
                    .with_label("a bitfield of a copied struct")
                    .with_help("read it where the struct is: `p->arr[0].field`"),
            );
            return None;
        }
        let ty = crate::ktypes::from_btf(r.with_id(member.ty), false);
        Some(typed(
            ExprKind::HeldField {
                record: Box::new(record),
                offset: member.bit_offset / 8,
            },
            ty,
            span,
        ))
    }

    /// `array[idx]` for an array held in a variable, a map or an outer array.
    pub(super) fn held_array_element(
        &mut self,
        array: Expr,
        idx: Expr,
        span: Span,
    ) -> Option<Expr> {
        let (elem, len) = element_of(&array.ty)?;
        if len == 0 {
            self.error(
                Diagnostic::error(array.span, format!("`{}` has no elements", array.ty))
                    .with_label("an empty array"),
            );
            return None;
        }
        if let ExprKind::Int(i) = idx.kind {
            if i < 0 || i >= i64::from(len) {
                self.error(
                    Diagnostic::error(idx.span, format!("index {i} is out of bounds"))
                        .with_label(format!("the array has {len} elements"))
                        .with_help(format!("index it with a number from 0 to {}", len - 1)),
                );
                return None;
            }
        }
        Some(typed(
            ExprKind::ArrayElem {
                array: Box::new(array),
                index: Box::new(idx),
                len,
            },
            elem,
            span,
        ))
    }
}
