//! `let $x;` and `let $x = value;`: bpftrace's (0.22) declaration of a scratch variable in the
//! enclosing block. Variables are block scoped, so a variable first assigned inside an `if` is
//! gone after it; declared before, it is the same variable in every nested block:
//! `let $addr; if (v4) { $addr = …; } else { $addr = …; } printf("%s", $addr);`.
//! A variable declared without a value takes the type of its first assignment; one declared
//! with a type (`let $x: uint8 = 5;`, `let $t: struct task_struct *;`) keeps it, and every value
//! it is given is converted to it as a cast would (a constant that does not fit is an error).

use super::{typed, ClauseChecker};
use crate::ir::{Expr, ExprKind, StmtKind, VarId};
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
        self.not_yet_declared(var, var_span)?;
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
                self.new_var(var, Type::Void);
                Some(StmtKind::Eval(typed(ExprKind::Int(0), Type::I64, span)))
            }
        }
    }
}

impl ClauseChecker<'_> {
    /// `let $x: TYPE;` (the variable starts at 0) or `let $x: TYPE = value;`.
    pub(super) fn typed_let(
        &mut self,
        var: &str,
        var_span: Span,
        ty: &ast::TypeName,
        value: Option<&ast::Expr>,
        span: Span,
    ) -> Option<StmtKind> {
        self.not_yet_declared(var, var_span)?;
        let declared = self.declarable_type(ty)?;
        let value = match value {
            Some(v) => self.expr(v)?,
            None => typed(ExprKind::Int(0), Type::I64, span),
        };
        let value = self.convert_to_declared(var, &declared, ty.span, value)?;
        let id = self.new_var(var, super::var_type(&declared));
        self.lang.declared_types.insert(id, (declared, ty.span));
        Some(StmtKind::VarStore { var: id, value })
    }

    /// `value`, assigned to `$var`, as the type `$var` was declared with (unchanged for a
    /// variable declared without one).
    pub(super) fn as_declared(&mut self, var: VarId, name: &str, value: Expr) -> Option<Expr> {
        match self.lang.declared_types.get(&var).cloned() {
            Some((declared, decl_span)) => {
                self.convert_to_declared(name, &declared, decl_span, value)
            }
            None => Some(value),
        }
    }

    fn not_yet_declared(&mut self, var: &str, var_span: Span) -> Option<()> {
        if self.lookup_var(var).is_none() {
            return Some(());
        }
        self.error(
            Diagnostic::error(var_span, format!("`${var}` is already declared"))
                .with_label("declared again here")
                .with_help(format!("assign it without `let`: `${var} = …`")),
        );
        None
    }

    /// The type of a `let $x: TYPE`: an integer or a pointer, which is what a variable holds
    /// in one register.
    fn declarable_type(&mut self, ty: &ast::TypeName) -> Option<Type> {
        let declared = self.named_type(&ty.name, ty.pointer_depth, ty.span)?;
        if declared.is_scalar() {
            return Some(declared);
        }
        self.error(
            Diagnostic::error(
                ty.span,
                format!("a variable cannot be declared `{declared}`"),
            )
            .with_label("not an integer or a pointer")
            .with_help("declare it without a type (`let $x;`): its first value gives it one"),
        );
        None
    }

    fn convert_to_declared(
        &mut self,
        name: &str,
        declared: &Type,
        decl_span: Span,
        value: Expr,
    ) -> Option<Expr> {
        if !value.ty.is_scalar() {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("`${name}` is declared `{declared}`, not `{}`", value.ty),
                )
                .with_label("wrong type")
                .with_secondary(decl_span, "declared here")
                .with_help("a variable declared with a type holds numbers or pointers of it; use another variable for this value"),
            );
            return None;
        }
        if let (ExprKind::Int(n), Type::Int { bits, signed }) = (&value.kind, declared) {
            if !fits(*n, *bits, *signed) {
                self.error(
                    Diagnostic::error(
                        value.span,
                        format!("{n} does not fit in `${name}`, declared `{declared}`"),
                    )
                    .with_label("out of range")
                    .with_secondary(decl_span, "declared here")
                    .with_help(format!(
                        "cast it to say the value should wrap: `({declared}){n}`"
                    )),
                );
                return None;
            }
        }
        let span = value.span;
        Some(typed(
            ExprKind::Cast(Box::new(value)),
            declared.clone(),
            span,
        ))
    }
}

/// Whether the constant `n` is a value of an integer type.
fn fits(n: i64, bits: u8, signed: bool) -> bool {
    match (bits, signed) {
        (64, true) => true,
        (64, false) => n >= 0,
        (b, true) => (-(1i64 << (b - 1))..(1i64 << (b - 1))).contains(&n),
        (b, false) => (0..(1i64 << b)).contains(&n),
    }
}

impl ClauseChecker<'_> {
    /// bpftrace 0.17 kept a variable for its whole clause, and its tools read one after the
    /// `if` that assigned it (tcpconnect.bt's `$saddr`); bpftrace 0.22 wants `let $saddr;`
    /// first. rdt runs both: a variable the first check of the clause found read after its
    /// block is declared at the start of the clause, as `let` would, with a warning there.
    pub(crate) fn hoist(&mut self, name: &str, first_late_read: Span) {
        if self.lookup_var(name).is_some() {
            return;
        }
        self.new_var(name, Type::Void);
        self.error(
            Diagnostic::warning(
                first_late_read,
                format!("`${name}` is read after the block that assigned it"),
            )
            .with_label("kept for the whole clause, as bpftrace 0.17 did")
            .with_help(format!(
                "declare it before that block with `let ${name};` (bpftrace 0.22 and later require it)"
            )),
        );
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
