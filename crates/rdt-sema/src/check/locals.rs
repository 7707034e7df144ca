//! `self->x` (DTrace thread-local: one hidden hash map per variable keyed by thread id, freed
//! when assigned 0) and `this->x` (clause-local: keyed by CPU, so the clauses of one probe
//! firing, which run one after another on one CPU, share it). Both read 0 (or "") when unset.

use super::{storable, typed, ClauseChecker};
use crate::ir::{Builtin, Expr, ExprKind, MapValue, StmtKind};
use crate::Type;
use rdt_syntax::ast::{self, BinOp};
use rdt_syntax::{did_you_mean, Diagnostic, Span};

pub(super) fn is_local_base(base: &ast::Expr) -> bool {
    matches!(&base.kind, ast::ExprKind::Ident(n) if n == "self" || n == "this")
}

fn is_thread_local(base: &ast::Expr) -> bool {
    matches!(&base.kind, ast::ExprKind::Ident(n) if n == "self")
}

/// The hidden map's name: `self->x`, `this->x`. It has no `@`, so it is never printed.
fn local_name(base: &ast::Expr, field: &str) -> String {
    let owner = if is_thread_local(base) {
        "self"
    } else {
        "this"
    };
    format!("{owner}->{field}")
}

/// The current value of a compound assignment's target: a literal 0 while the target has
/// never been assigned (`@n++`, `self->n += 1` start from 0).
pub(super) fn zero_if_unknown(known: bool, target: ast::Expr) -> ast::Expr {
    if known {
        return target;
    }
    ast::Expr {
        kind: ast::ExprKind::Int(0),
        span: target.span,
    }
}

impl ClauseChecker<'_> {
    fn local_key(&self, base: &ast::Expr, span: Span) -> Expr {
        let b = if is_thread_local(base) {
            Builtin::Tid
        } else {
            Builtin::Cpu
        };
        typed(ExprKind::Builtin(b), Type::U64, span)
    }

    pub(super) fn assign_local(
        &mut self,
        base: &ast::Expr,
        field: &str,
        target: &ast::Expr,
        op: Option<BinOp>,
        value: &ast::Expr,
        span: Span,
    ) -> Option<StmtKind> {
        let known = self.maps.id(&local_name(base, field)).is_some();
        let value = match op {
            Some(op) => {
                let target = zero_if_unknown(known, target.clone());
                self.binary(op, &target, value, span)?
            }
            None => self.expr(value)?,
        };
        if !(value.ty.is_scalar() || value.ty.is_str()) {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!(
                        "`{}` cannot hold a value of type `{}`",
                        local_name(base, field),
                        value.ty
                    ),
                )
                .with_label("not a number or a string"),
            );
            return None;
        }
        let name = local_name(base, field);
        let key = self.local_key(base, target.span);
        let value_ty = storable(&value.ty);
        let free_on_zero = is_thread_local(base) && value_ty.is_int();
        let map = self.bind_map(
            &name,
            target.span,
            Some((storable(&key.ty), key.span)),
            MapValue::Plain(value_ty),
            value.span,
        )?;
        Some(StmtKind::LocalStore {
            map,
            key,
            value,
            free_on_zero,
        })
    }

    pub(super) fn read_local(&mut self, base: &ast::Expr, field: &str, span: Span) -> Option<Expr> {
        let name = local_name(base, field);
        let Some(id) = self.maps.id(&name) else {
            let prefix = name.split("->").next().unwrap_or("self").to_string() + "->";
            let names: Vec<&str> = self
                .maps
                .decls
                .iter()
                .map(|d| d.name.as_str())
                .filter(|n| n.starts_with(&prefix))
                .collect();
            let mut d = Diagnostic::error(span, format!("`{name}` is read but never assigned"))
                .with_label("no clause assigns it");
            if let Some(near) = did_you_mean(&name, names) {
                d = d.with_help(format!("did you mean `{near}`?"));
            } else {
                d = d.with_help(format!("assign it first, e.g. `{name} = 1;`"));
            }
            self.error(d);
            return None;
        };
        let ty = match &self.maps.decls[id].value {
            MapValue::Plain(t) => t.clone(),
            _ => Type::I64,
        };
        let key = self.local_key(base, span);
        Some(typed(
            ExprKind::MapRead {
                map: id,
                key: Some(Box::new(key)),
            },
            ty,
            span,
        ))
    }

    /// `x++`, `++x` (and `--`) used as a value: the old value after `x++`, the new one after
    /// `++x`.
    pub(super) fn incdec_value(
        &mut self,
        target: &ast::Expr,
        increment: bool,
        prefix: bool,
        span: Span,
    ) -> Option<Expr> {
        let one = ast::Expr {
            kind: ast::ExprKind::Int(1),
            span,
        };
        let op = if increment { BinOp::Add } else { BinOp::Sub };
        let store = self.assign(target, Some(op), &one, span)?;
        let value = self.expr(target)?;
        if !value.ty.is_int() {
            self.error(
                Diagnostic::error(
                    target.span,
                    format!("`++`/`--` need a number, not `{}`", value.ty),
                )
                .with_label("not a number"),
            );
            return None;
        }
        let ty = value.ty.clone();
        let store = vec![crate::ir::Stmt { kind: store, span }];
        let (before, after) = if prefix {
            (store, Vec::new())
        } else {
            (Vec::new(), store)
        };
        Some(typed(
            ExprKind::WithEffect {
                before,
                value: Box::new(value),
                after,
            },
            ty,
            span,
        ))
    }

    /// `$t.0`: a field of a tuple. `None` when `base` is not a tuple.
    pub(super) fn tuple_field(
        &mut self,
        base: &ast::Expr,
        field: &str,
        span: Span,
    ) -> Option<Option<Expr>> {
        let index: usize = field.parse().ok()?;
        let tuple_like = match &base.kind {
            ast::ExprKind::Var(_) | ast::ExprKind::Map { .. } | ast::ExprKind::Tuple(_) => true,
            // `$kv.0.1`: a field of a tuple field.
            ast::ExprKind::Field { field, .. } => field.parse::<usize>().is_ok(),
            _ => false,
        };
        if !tuple_like {
            return None;
        }
        let tuple = self.expr(base);
        let tuple = match tuple {
            Some(t) => t,
            None => return Some(None),
        };
        let Type::Tuple(fields) = &tuple.ty else {
            self.error(
                Diagnostic::error(
                    span,
                    format!("`.{field}` needs a tuple, not `{}`", tuple.ty),
                )
                .with_label("not a tuple"),
            );
            return Some(None);
        };
        let Some(ty) = fields.get(index).cloned() else {
            self.error(
                Diagnostic::error(
                    span,
                    format!(
                        "the tuple has {} fields; `.{index}` is past its end",
                        fields.len()
                    ),
                )
                .with_label("no such field")
                .with_help(format!("fields are numbered 0 to {}", fields.len() - 1)),
            );
            return Some(None);
        };
        Some(Some(typed(
            ExprKind::TupleField {
                tuple: Box::new(tuple),
                index,
            },
            ty,
            span,
        )))
    }
}
