//! Checks specific to user-space probes (uprobes, USDT).

use super::ClauseChecker;
use crate::ir::{Expr, ExprKind};
use crate::Type;

impl ClauseChecker<'_> {
    /// In a user-space probe a plain integer handed to `str()` (`arg0`, `retval`) is an address
    /// in the traced process, read with probe_read_user, as bpftrace does.
    pub(super) fn user_address(&self, ptr: Expr) -> Expr {
        if !self.context.user_space() || !ptr.ty.is_int() {
            return ptr;
        }
        char_pointer(ptr, true)
    }
}

/// An integer used as an address: a `char *` to user (`user`) or kernel memory.
pub(super) fn char_pointer(addr: Expr, user: bool) -> Expr {
    let span = addr.span;
    Expr {
        kind: ExprKind::Cast(Box::new(addr)),
        ty: Type::Ptr {
            to: Box::new(Type::Int {
                bits: 8,
                signed: true,
            }),
            user,
        },
        span,
    }
}
