//! What the body of a `for ($kv : @map)` cannot do: it runs as a bpf_for_each_map_elem callback,
//! which has no probe context, and the stack helpers (bpf_get_stackid) need that context.

use rdt_syntax::ast;
use rdt_syntax::Span;

/// The first `kstack` / `ustack` / `stack()` taken in the block, if any.
pub(super) fn first_stack_use(block: &ast::Block) -> Option<Span> {
    block.stmts.iter().find_map(|s| match &s.kind {
        ast::StmtKind::Expr(e) => in_expr(e),
        ast::StmtKind::Assign { target, value, .. } => in_expr(target).or_else(|| in_expr(value)),
        ast::StmtKind::If { cond, then, els } => in_expr(cond)
            .or_else(|| first_stack_use(then))
            .or_else(|| els.as_ref().and_then(first_stack_use)),
        ast::StmtKind::Block(b) | ast::StmtKind::ForMap { body: b, .. } => first_stack_use(b),
        ast::StmtKind::ForRange {
            start, end, body, ..
        } => in_expr(start)
            .or_else(|| in_expr(end))
            .or_else(|| first_stack_use(body)),
        ast::StmtKind::While { cond, body } | ast::StmtKind::Unroll { count: cond, body } => {
            in_expr(cond).or_else(|| first_stack_use(body))
        }
        ast::StmtKind::Let { value, .. } => value.as_ref().and_then(in_expr),
        ast::StmtKind::Break | ast::StmtKind::Continue | ast::StmtKind::Return => None,
    })
}

fn is_stack_name(name: &str) -> bool {
    matches!(name, "kstack" | "ustack" | "stack")
}

fn in_expr(e: &ast::Expr) -> Option<Span> {
    use ast::ExprKind as K;
    let any = |items: &[ast::Expr]| items.iter().find_map(in_expr);
    match &e.kind {
        K::Ident(name) if is_stack_name(name) => Some(e.span),
        K::Call { name, .. } if is_stack_name(name) => Some(e.span),
        K::Ident(_) | K::Int(_) | K::Str(_) | K::Var(_) | K::Positional(_) | K::PositionalCount => {
            None
        }
        K::Map { keys: items, .. } | K::Call { args: items, .. } | K::Tuple(items) => any(items),
        K::Field { base, .. } => in_expr(base),
        K::Index { base, index } => in_expr(base).or_else(|| in_expr(index)),
        K::Unary { operand, .. } => in_expr(operand),
        K::Binary { lhs, rhs, .. } => in_expr(lhs).or_else(|| in_expr(rhs)),
        K::Ternary { cond, then, els } => in_expr(cond)
            .or_else(|| in_expr(then))
            .or_else(|| in_expr(els)),
        K::IncDec { target, .. } => in_expr(target),
        K::Cast { expr, .. } => in_expr(expr),
    }
}
