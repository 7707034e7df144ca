//! D's global variables: `start = timestamp;` and associative arrays `ts[tid] = timestamp;`
//! `ts[pid, fd] = 0;`. A name the script assigns without `@`, `$`, `self->` or `this->` is one
//! of them. Before checking, each becomes the map `@name` (keyed by its index for an array), so
//! it is typed, read and stored like every map; the map is then marked as a D global, which
//! leaves it out of the maps printed at exit (DTrace prints only aggregations). A global that
//! is declared (`int n;`, `string s;`) but never assigned reads as 0 or "", as in D.

use crate::builtins;
use rdt_syntax::ast::{Block, Expr, ExprKind, Program, StmtKind};
use rdt_syntax::{Diagnostic, Span};
use std::collections::{BTreeMap, BTreeSet};

/// The names the program assigns as D globals, and the program with them turned into maps.
/// A global that shares its name with a `@map` of the script is an error.
pub fn desugar(program: &Program) -> (Program, BTreeSet<String>, Vec<Diagnostic>) {
    let mut program = program.clone();
    let mut assigned = BTreeMap::new();
    let mut maps = BTreeSet::new();
    each_expr(&mut program, &mut |assigned_to, e| {
        if let Some(target) = assignment_target(assigned_to, e) {
            assigned.entry(target.0).or_insert(target.1);
        }
        if let ExprKind::Map { name, .. } = &e.kind {
            maps.insert(name.clone());
        }
    });
    assigned.retain(|name, _| !is_reserved(name, &program));
    let never_assigned: BTreeMap<String, ExprKind> = declared_globals(&program)
        .filter(|(name, _)| !assigned.contains_key(name) && !is_reserved(name, &program))
        .map(|(name, ty)| {
            let zero = if ty.starts_with("string") {
                ExprKind::Str(String::new())
            } else {
                ExprKind::Int(0)
            };
            (name, zero)
        })
        .collect();
    let diags: Vec<Diagnostic> = assigned
        .iter()
        .filter(|(name, _)| maps.contains(*name))
        .map(|(name, span)| clash(name, *span))
        .collect();
    let globals: BTreeSet<String> = assigned.into_keys().collect();
    if !globals.is_empty() || !never_assigned.is_empty() {
        each_expr(&mut program, &mut |_, e| {
            rewrite_expr(e, &globals);
            read_as_zero(e, &never_assigned);
        });
    }
    (program, globals, diags)
}

/// The variables declared at the top level (`int n;`, `uint64_t ts[int];`) that are global
/// (not `self` or `this`), with their declared type.
fn declared_globals(program: &Program) -> impl Iterator<Item = (String, String)> + '_ {
    program.options.iter().filter_map(|o| {
        let name = o.name.strip_prefix("declare ")?;
        let ty = o.value.clone().unwrap_or_default();
        let local = ty.starts_with("self ") || ty.starts_with("this ");
        (!local).then(|| (name.to_string(), ty))
    })
}

/// A declared global that nothing assigns, read (`n`, `a[k]`): its zero value.
fn read_as_zero(e: &mut Expr, never_assigned: &BTreeMap<String, ExprKind>) {
    if let Some(zero) = global_name(e).and_then(|name| never_assigned.get(name)) {
        e.kind = zero.clone();
    }
}

/// The name `e` uses as a global would be: `name` or `name[keys]`.
fn global_name(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Ident(name) => Some(name),
        ExprKind::Index { base, .. } => match &base.kind {
            ExprKind::Ident(name) => Some(name),
            _ => None,
        },
        _ => None,
    }
}

fn clash(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("the D global `{name}` and the map `@{name}` share a name"),
    )
    .with_label("a D global is kept in the map of its name")
    .with_help(format!("rename one of them, or write `@{name}` here too"))
}

/// Names that mean something already: every identifier the language defines (builtins,
/// context names, stdlib constants), functions, inline constants and `self`/`this`. Assigning
/// one stays an error of the checker.
fn is_reserved(name: &str, program: &Program) -> bool {
    let arg_n = name
        .strip_prefix("arg")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    matches!(name, "self" | "this")
        || arg_n
        || builtins::identifier_names().any(|n| n == name)
        || builtins::function(name).is_some()
        || program
            .options
            .iter()
            .any(|o| o.name.strip_prefix("inline ") == Some(name))
}

/// The name and place of what `e` assigns when it is the target of an assignment
/// (`assigned_to`: `name = …`, `name[k] = …`) or is `name++`/`--name`.
fn assignment_target(assigned_to: bool, e: &Expr) -> Option<(String, Span)> {
    let target = match &e.kind {
        _ if assigned_to => e,
        ExprKind::IncDec { target, .. } => target,
        _ => return None,
    };
    Some((global_name(target)?.to_string(), target.span))
}

/// Turns a use of a global into its map: `x` into `@x`, `a[k]` into `@a[k]`, `a[k1, k2]` into
/// `@a[k1, k2]`. Called on every expression, outermost first.
fn rewrite_expr(e: &mut Expr, globals: &BTreeSet<String>) {
    let Some(name) = global_name(e).filter(|n| globals.contains(*n)) else {
        return;
    };
    let name = name.to_string();
    let keys = match &mut e.kind {
        ExprKind::Index { index, .. } => {
            match std::mem::replace(&mut index.kind, ExprKind::Int(0)) {
                ExprKind::Tuple(items) => items,
                kind => vec![Expr {
                    kind,
                    span: index.span,
                }],
            }
        }
        _ => Vec::new(),
    };
    e.kind = ExprKind::Map { name, keys };
}

/// What `f` is called with: whether the expression is the target of an assignment statement,
/// and the expression, which `f` may replace (the walk then goes on into what it put there).
type Visit<'f> = &'f mut dyn FnMut(bool, &mut Expr);

/// Calls `f` on every expression of the program (predicates, statements and everything inside
/// them), outermost first.
fn each_expr(program: &mut Program, f: Visit) {
    for clause in &mut program.clauses {
        if let Some(p) = &mut clause.predicate {
            walk_expr(p, false, f);
        }
        each_expr_of_block(&mut clause.body, f);
    }
}

fn each_expr_of_block(block: &mut Block, f: Visit) {
    for stmt in &mut block.stmts {
        let assigns = matches!(stmt.kind, StmtKind::Assign { .. });
        let (exprs, blocks) = parts_mut(&mut stmt.kind);
        for (i, e) in exprs.into_iter().enumerate() {
            // An assignment's target comes first.
            walk_expr(e, assigns && i == 0, f);
        }
        for b in blocks {
            each_expr_of_block(b, f);
        }
    }
}

fn walk_expr(e: &mut Expr, assigned_to: bool, f: Visit) {
    f(assigned_to, e);
    for child in children_mut(e) {
        walk_expr(child, false, f);
    }
}

/// A statement's own expressions (an assignment's target first) and the blocks nested in it.
fn parts_mut(kind: &mut StmtKind) -> (Vec<&mut Expr>, Vec<&mut Block>) {
    match kind {
        StmtKind::Expr(e) | StmtKind::Let { value: Some(e), .. } => (vec![e], vec![]),
        StmtKind::Assign { target, value, .. } => (vec![target, value], vec![]),
        StmtKind::If { cond, then, els } => (
            vec![cond],
            std::iter::once(then).chain(els.as_mut()).collect(),
        ),
        StmtKind::ForRange {
            start, end, body, ..
        } => (vec![start, end], vec![body]),
        StmtKind::While { cond: e, body } | StmtKind::Unroll { count: e, body } => {
            (vec![e], vec![body])
        }
        StmtKind::Block(body) | StmtKind::ForMap { body, .. } => (vec![], vec![body]),
        StmtKind::Let { value: None, .. }
        | StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Return => (vec![], vec![]),
    }
}

fn children_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match &mut e.kind {
        ExprKind::Map { keys, .. } => keys.iter_mut().collect(),
        // `offsetof(struct S, field)` names a field, which may spell like a global.
        ExprKind::Call { name, .. } if name == "offsetof" => Vec::new(),
        ExprKind::Call { args, .. } | ExprKind::Tuple(args) => args.iter_mut().collect(),
        ExprKind::Field { base, .. }
        | ExprKind::Unary { operand: base, .. }
        | ExprKind::IncDec { target: base, .. }
        | ExprKind::Cast { expr: base, .. } => vec![base.as_mut()],
        ExprKind::Index { base, index } => vec![base.as_mut(), index.as_mut()],
        ExprKind::Binary { lhs, rhs, .. } => vec![lhs.as_mut(), rhs.as_mut()],
        ExprKind::Ternary { cond, then, els } => vec![cond.as_mut(), then.as_mut(), els.as_mut()],
        ExprKind::Int(_)
        | ExprKind::Str(_)
        | ExprKind::Ident(_)
        | ExprKind::Var(_)
        | ExprKind::Positional(_)
        | ExprKind::PositionalCount => Vec::new(),
    }
}
