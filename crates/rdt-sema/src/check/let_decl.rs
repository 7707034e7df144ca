//! `let $x;` and `let $x = value;`: bpftrace's (0.22) declaration of a scratch variable in the
//! enclosing block. Variables are block scoped, so a variable first assigned inside an `if` is
//! gone after it; declared before, it is the same variable in every nested block:
//! `let $addr; if (v4) { $addr = …; } else { $addr = …; } printf("%s", $addr);`.
//! A variable declared without a value takes the type of its first assignment.

use super::{typed, ClauseChecker};
use crate::ir::{ExprKind, StmtKind};
use crate::Type;
use rdt_syntax::{ast, Diagnostic, Span};

impl ClauseChecker<'_> {
    pub(super) fn let_decl(
        &mut self,
        var: &str,
        var_span: Span,
        value: Option<&ast::Expr>,
        span: Span,
    ) -> Option<StmtKind> {
        if self.lookup_var(var).is_some() {
            self.error(
                Diagnostic::error(var_span, format!("`${var}` is already declared"))
                    .with_label("declared again here")
                    .with_help(format!("assign it without `let`: `${var} = …`")),
            );
            return None;
        }
        match value {
            Some(value) => {
                let target = ast::Expr {
                    kind: ast::ExprKind::Var(var.to_string()),
                    span: var_span,
                };
                self.assign(&target, None, value, span)
            }
            None => {
                // The type comes with the first assignment (declare_or_check_var).
                let id = self.vars.len();
                self.vars.push(Type::Void);
                if let Some(scope) = self.scopes.last_mut() {
                    scope.insert(var.to_string(), id);
                }
                Some(StmtKind::Eval(typed(ExprKind::Int(0), Type::I64, span)))
            }
        }
    }
}

/// A variable declared with `let $x;` read before any assignment gave it a type.
pub(super) fn read_before_assigned(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(span, format!("`${name}` is read before it is assigned"))
        .with_label("declared with `let`, but no value yet")
        .with_help(format!("assign it first: `${name} = …`"))
}

/// An unknown variable that a closed block assigned: bpftrace 0.17 scripts expect it to live on.
pub(super) fn declare_before_block(d: Diagnostic, name: &str) -> Diagnostic {
    d.with_help(format!(
        "`${name}` is assigned inside a block that has ended; declare it before that block with `let ${name};`"
    ))
}
