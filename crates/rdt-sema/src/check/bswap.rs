//! `bswap(x)`: an integer with its bytes in reverse order, over the width of its type, as in
//! bpftrace (`bswap((uint16)0x1234)` is `0x3412`); it turns network-order ports and addresses
//! into host order.

use super::{typed, ClauseChecker};
use crate::ir::{Expr, ExprKind};
use crate::Type;
use rdt_syntax::{ast, Diagnostic, Span};

impl ClauseChecker<'_> {
    /// Remembers the integer width assigned to a variable; different widths forget it.
    pub(super) fn note_var_bits(&mut self, var: crate::ir::VarId, value: &Expr) {
        let bits = match value.ty {
            Type::Int { bits, .. } => Some(bits),
            _ => None,
        };
        let entry = self.lang.var_bits.entry(var).or_insert(bits);
        if *entry != bits {
            *entry = None;
        }
    }

    pub(super) fn bswap_call(&mut self, arg: &ast::Expr, span: Span) -> Option<Expr> {
        let value = self.expr(arg)?;
        let Type::Int { bits, .. } = value.ty else {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("bswap() needs an integer, not `{}`", value.ty),
                )
                .with_label("not an integer")
                .with_help("cast it to the width to swap: `bswap((uint16)x)`"),
            );
            return None;
        };
        // A variable holds 64 bits; swap over the width it was assigned, as bpftrace does.
        let bits = match &arg.kind {
            ast::ExprKind::Var(name) => self
                .lookup_var(name)
                .and_then(|id| self.lang.var_bits.get(&id).copied().flatten())
                .unwrap_or(bits),
            _ => bits,
        };
        let ty = Type::Int {
            bits,
            signed: false,
        };
        Some(typed(ExprKind::Bswap(Box::new(value)), ty, span))
    }
}
