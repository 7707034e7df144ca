//! Name resolution and type checking: AST clauses → typed IR statements.
//!
//! Maps are global and may be used in any clause in any order, so the whole program is checked
//! twice: the first pass only learns the key and value types of every map (its diagnostics are
//! dropped), the second builds the IR with those types and reports every error.

use crate::builtins::{self, Function};
use crate::format;
use crate::ir::{self, Event, Expr, ExprKind, MapDecl, MapId, MapValue, Stmt, StmtKind};
use crate::ktypes::KernelType;
use crate::probes::Context;
use crate::Type;
use rdt_syntax::ast::{self, BinOp, UnOp};
use rdt_syntax::{did_you_mean, Diagnostic, Span};
use std::collections::HashMap;

mod control;
mod func_ip;
mod functions;
mod let_decl;
mod locals;

pub use control::LangState;
mod aggregate;
mod array_index;
mod arrays;
mod bswap;
mod dstrings;
mod funcs_extra;
mod ktypes;
mod map_ops;
mod printf_checks;
mod psinfo;
mod reg;
mod stacks;
mod symbolic;
mod tuples;
mod uaddr;
mod user;

/// Inputs of a script that are not in its text.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// `$1`, `$2`, … as given on the command line.
    pub positional: Vec<String>,
    /// The `-c` child or `-p` process: `cpid`, D's `$target`.
    pub target_pid: Option<u32>,
    /// `--unsafe`: allow `system()` and `signal()`.
    pub unsafe_ok: bool,
    /// The `-c` command's program as typed (its first word): the binary D's `pid$target` probes
    /// and `uprobe` targets without a path refer to before the child has run `exec`.
    pub target_program: Option<String>,
    /// CPUs and start clocks, taken once by the caller (`ncpus`, `walltimestamp`).
    pub machine: rdt_btf::Machine,
    /// Whether fentry programs load on this kernel, or why not: asked only when kprobes are
    /// missing, to let fentry stand in (probes/kprobe.rs). `None` (tests, tools): no stand-in.
    pub fentry_check: Option<fn() -> Result<(), String>>,
    /// Whether the kernel has the bpf_loop helper, or why not: asked only when the script has a
    /// `while` or range `for` (check/control.rs), whose bodies then become callbacks the verifier
    /// checks once, so a `for` over a map may sit inside them. `None` (tests, tools): no bpf_loop.
    pub bpf_loop_check: Option<fn() -> Result<(), String>>,
}

/// Everything the checker learns about maps, shared by all clauses.
#[derive(Debug, Default, Clone)]
pub struct MapTable {
    pub decls: Vec<MapDecl>,
    by_name: HashMap<String, MapId>,
    /// Where each map's key type was first fixed.
    key_spans: Vec<Span>,
    /// Maps given to `len()`: their entries are counted in the kernel.
    pub counted: Vec<MapId>,
}

impl MapTable {
    fn id(&self, name: &str) -> Option<MapId> {
        self.by_name.get(name).copied()
    }

    fn declare(&mut self, name: &str, span: Span) -> MapId {
        if let Some(id) = self.id(name) {
            return id;
        }
        let id = self.decls.len();
        self.decls.push(MapDecl {
            name: name.to_string(),
            key: None,
            value: MapValue::Plain(Type::Void),
            span,
            d_global: false,
        });
        self.key_spans.push(span);
        self.by_name.insert(name.to_string(), id);
        id
    }
}

/// Checks one clause body in the context of one probe.
pub struct ClauseChecker<'a> {
    pub maps: &'a mut MapTable,
    pub events: &'a mut Vec<Event>,
    pub diags: &'a mut Vec<Diagnostic>,
    pub params: &'a Params,
    /// The answer of `params.bpf_loop_check`, shared by every clause (check/control.rs).
    pub bpf_loop: &'a std::cell::OnceCell<bool>,
    pub context: &'a Context,
    /// The probe kind as the script spells it, only for messages ("in tracepoint probes");
    /// questions about the probe go to `context`.
    pub probe_kind: &'a str,
    pub strsize: u32,
    vars: Vec<Type>,
    scopes: Vec<HashMap<String, ir::VarId>>,
    /// State of loops, locals and probe names (check/control.rs).
    pub lang: LangState,
}

fn typed(kind: ExprKind, ty: Type, span: Span) -> Expr {
    Expr { kind, ty, span }
}

const I64: Type = Type::I64;
const U64: Type = Type::U64;

impl<'a> ClauseChecker<'a> {
    #[allow(clippy::too_many_arguments)] // one per piece of shared state; a struct would only rename them
    pub fn new(
        maps: &'a mut MapTable,
        events: &'a mut Vec<Event>,
        diags: &'a mut Vec<Diagnostic>,
        params: &'a Params,
        bpf_loop: &'a std::cell::OnceCell<bool>,
        context: &'a Context,
        probe_kind: &'a str,
        strsize: u32,
    ) -> Self {
        ClauseChecker {
            maps,
            events,
            diags,
            params,
            bpf_loop,
            context,
            probe_kind,
            strsize,
            vars: Vec::new(),
            scopes: vec![HashMap::new()],
            lang: LangState::default(),
        }
    }

    /// Number of scratch variables the clause declared, and their types.
    pub fn var_types(&self) -> &[Type] {
        &self.vars
    }

    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn block(&mut self, block: &ast::Block) -> Vec<Stmt> {
        self.scopes.push(HashMap::new());
        let stmts = block.stmts.iter().filter_map(|s| self.stmt(s)).collect();
        if let Some(closed) = self.scopes.pop() {
            self.lang.out_of_scope.extend(closed.into_keys());
        }
        stmts
    }

    fn stmt(&mut self, stmt: &ast::Stmt) -> Option<Stmt> {
        let span = stmt.span;
        let kind = match &stmt.kind {
            ast::StmtKind::Expr(e) => self.expr_stmt(e)?,
            ast::StmtKind::Assign { target, op, value } => self.assign(target, *op, value, span)?,
            ast::StmtKind::If { cond, then, els } => {
                let cond = self.condition(cond);
                let then = self.block(then);
                let els = els.as_ref().map(|b| self.block(b)).unwrap_or_default();
                StmtKind::If {
                    cond: cond?,
                    then,
                    els,
                }
            }
            ast::StmtKind::Block(b) => {
                let then = self.block(b);
                StmtKind::If {
                    cond: typed(ExprKind::Int(1), I64, span),
                    then,
                    els: Vec::new(),
                }
            }
            ast::StmtKind::ForRange { .. }
            | ast::StmtKind::ForMap { .. }
            | ast::StmtKind::While { .. }
            | ast::StmtKind::Unroll { .. }
            | ast::StmtKind::Break
            | ast::StmtKind::Continue
            | ast::StmtKind::Return => return self.control(stmt),
            ast::StmtKind::Let {
                var,
                var_span,
                ty: Some(ty),
                value,
            } => self.typed_let(var, *var_span, ty, value.as_ref(), span)?,
            ast::StmtKind::Let {
                var,
                var_span,
                ty: None,
                value,
            } => self.let_decl(var, *var_span, value.as_ref(), span)?,
        };
        Some(Stmt { kind, span })
    }

    fn expr_stmt(&mut self, e: &ast::Expr) -> Option<StmtKind> {
        if let Some(kind) = self.lang_stmt_call(e) {
            return kind;
        }
        if let ast::ExprKind::Call { name, args, .. } = &e.kind {
            if let Some(stmt) = self.print_kernel_value(name, args, e.span) {
                return stmt;
            }
        }
        match &e.kind {
            ast::ExprKind::Call {
                name,
                name_span,
                args,
            } => match builtins::function(name).map(|f| f.function) {
                Some(Function::Printf) => return self.printf(args, e.span),
                Some(Function::Exit) => {
                    self.call_arity(name, *name_span, args)?;
                    return self.exit(args, e.span);
                }
                Some(Function::Cat) => {
                    self.call_arity(name, *name_span, args)?;
                    return self.cat(args, e.span);
                }
                // D's `trace(value)` prints the value like `print(value)`.
                Some(Function::Trace) => {
                    self.call_arity(name, *name_span, args)?;
                    return self.map_op_stmt(Function::Print, args, e.span);
                }
                Some(f) if f.is_aggregation() => {
                    self.error(aggregate_outside_assignment(name, e.span));
                    return None;
                }
                Some(f) if f.is_map_statement() => {
                    self.call_arity(name, *name_span, args)?;
                    return self.map_op_stmt(f, args, e.span);
                }
                _ => {}
            },
            ast::ExprKind::IncDec {
                target, increment, ..
            } => {
                let one = ast::Expr {
                    kind: ast::ExprKind::Int(1),
                    span: e.span,
                };
                let op = if *increment { BinOp::Add } else { BinOp::Sub };
                return self.assign(target, Some(op), &one, e.span);
            }
            _ => {}
        }
        Some(StmtKind::Eval(self.expr(e)?))
    }

    fn printf(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        let Some((fmt_expr, rest)) = args.split_first() else {
            self.error(
                Diagnostic::error(span, "printf() needs a format string")
                    .with_help("printf(\"%d\\n\", pid)"),
            );
            return None;
        };
        let ast::ExprKind::Str(format) = &fmt_expr.kind else {
            self.error(
                Diagnostic::error(
                    fmt_expr.span,
                    "the first argument of printf() must be a string literal",
                )
                .with_label("not a string literal"),
            );
            return None;
        };
        let conversions = match format::validate_format(format) {
            Ok(c) => c,
            Err((offset, message)) => {
                self.error(
                    Diagnostic::error(format_span(fmt_expr.span, format, offset), message)
                        .with_label("in this format string")
                        .with_help(format!("conversions: {}", crate::format::SUPPORTED)),
                );
                return None;
            }
        };
        let values: Vec<Option<Expr>> = rest.iter().map(|a| self.expr(a)).collect();
        if conversions.len() != rest.len() {
            let plural =
                |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
            let d = Diagnostic::error(
                fmt_expr.span,
                format!(
                    "printf() format has {} but {} {}",
                    plural(conversions.len(), "conversion"),
                    plural(rest.len(), "argument"),
                    if rest.len() == 1 { "follows" } else { "follow" }
                ),
            )
            .with_label(plural(conversions.len(), "conversion"))
            .with_help(
                "give one argument per `%` conversion (write `%%` for a literal percent sign)",
            );
            self.error(d);
            return None;
        }
        let mut typed_args = Vec::new();
        let mut record_types = Vec::new();
        for ((conversion, value), arg) in conversions.iter().zip(values).zip(rest) {
            let value = value?;
            // `%s` of an enum value prints its name (bpftrace does the same).
            let symbolic = (conversion.kind == format::ConvKind::Str && value.ty.is_int())
                .then(|| self.enum_type_of(arg))
                .flatten();
            if conversion.kind == format::ConvKind::Str {
                let conv_span = format_span(fmt_expr.span, format, conversion.offset);
                if let Some(d) = printf_checks::char_pointer_as_string(&value, conv_span) {
                    self.error(d);
                    return None;
                }
            }
            record_types.push(symbolic.unwrap_or_else(|| value.ty.clone()));
            if !value.ty.prints_as_text() && !value.ty.is_scalar() {
                self.error(
                    Diagnostic::error(
                        value.span,
                        format!("printf() cannot print a value of type `{}`", value.ty),
                    )
                    .with_label("not a number or a string")
                    .with_help(
                        "print a field of it, or its bytes with `buf()` (an address with `ntop()`)",
                    ),
                );
                return None;
            }
            if !value.ty.is_str()
                && value.ty.prints_as_text()
                && conversion.kind != format::ConvKind::Str
            {
                let conv_span = format_span(fmt_expr.span, format, conversion.offset);
                self.error(stacks::printed_as_number(&value, conv_span));
                return None;
            }
            if value.ty.is_str() && conversion.kind != format::ConvKind::Str {
                let conv_span = format_span(fmt_expr.span, format, conversion.offset);
                self.error(
                    Diagnostic::error(
                        value.span,
                        "printf() argument is a string, but its conversion expects a number",
                    )
                    .with_label("a string")
                    .with_secondary(conv_span, "this conversion")
                    .with_help("use `%s` for strings"),
                );
                return None;
            }
            typed_args.push(value);
        }
        let event = self.events.len();
        self.events.push(Event::Printf {
            format: format::Format::new(format),
            args: record_types,
            span,
            time_formats: typed_args.iter().map(map_ops::time_format).collect(),
        });
        Some(StmtKind::Printf {
            event,
            args: typed_args,
        })
    }

    fn call_arity(&mut self, name: &str, span: Span, args: &[ast::Expr]) -> Option<()> {
        let def = builtins::function(name)?;
        if args.len() < def.min_args || args.len() > def.max_args {
            let expected = if def.min_args == def.max_args {
                format!("{}", def.min_args)
            } else {
                format!("{} to {}", def.min_args, def.max_args)
            };
            self.error(
                Diagnostic::error(
                    span,
                    format!(
                        "{name}() takes {expected} argument(s), {} given",
                        args.len()
                    ),
                )
                .with_label("wrong number of arguments")
                .with_help(format!("usage: {}", def.usage)),
            );
            return None;
        }
        Some(())
    }

    fn assign(
        &mut self,
        target: &ast::Expr,
        op: Option<BinOp>,
        value: &ast::Expr,
        span: Span,
    ) -> Option<StmtKind> {
        match &target.kind {
            ast::ExprKind::Map { name, keys } => {
                self.assign_map(name, keys, target.span, op, value, span)
            }
            ast::ExprKind::Field { base, field, .. } if locals::is_local_base(base) => {
                self.assign_local(base, field, target, op, value, span)
            }
            ast::ExprKind::Var(name) => {
                let value_ast = value;
                let value = match op {
                    Some(op) => self.binary(op, target, value, span),
                    None => self.expr(value),
                };
                let Some(value) = value else {
                    self.lang.failed_assignments.insert(name.clone());
                    return None;
                };
                if value.ty == Type::Void {
                    return None;
                }
                if arrays::is_array_place(&value) {
                    self.copyable_array(&value, "a variable")?;
                } else if let Type::Kernel(_) = value.ty {
                    self.error(not_storable(&value));
                    return None;
                }
                // A variable declared with a type converts the value first (check/let_decl.rs).
                let value = match self.lookup_var(name) {
                    Some(var) => self.as_declared(var, name, value)?,
                    None => value,
                };
                let var = self.declare_or_check_var(name, target.span, &value)?;
                let assigned = op.is_none().then_some(value_ast);
                self.note_var_enum(var, assigned, &value);
                self.note_var_bits(var, &value);
                Some(StmtKind::VarStore { var, value })
            }
            ast::ExprKind::Ident(name) => {
                self.error(
                    Diagnostic::error(target.span, format!("`{name}` cannot be assigned"))
                        .with_label("a builtin, a constant or a reserved word")
                        .with_help(format!(
                            "keep a value in a variable (`${name} = …`) or a map (`@{name} = …`)"
                        )),
                );
                None
            }
            _ => {
                self.error(Diagnostic::error(target.span, "cannot assign to this expression")
                    .with_label("not a map or a variable")
                    .with_help("assign to a map (`@name = …`, `@name[key] = …`) or a variable (`$name = …`)"));
                None
            }
        }
    }

    fn assign_map(
        &mut self,
        name: &str,
        keys: &[ast::Expr],
        target_span: Span,
        op: Option<BinOp>,
        value: &ast::Expr,
        span: Span,
    ) -> Option<StmtKind> {
        let map_name = format!("@{name}");
        let value_ast = value;
        let key = self.map_key(keys, target_span);
        if let ast::ExprKind::Call {
            name: f,
            name_span,
            args,
        } = &value.kind
        {
            let function = builtins::function(f).map(|d| d.function);
            if let Some(agg) = function.filter(|f| f.is_aggregation()) {
                if op.is_some() {
                    self.error(
                        Diagnostic::error(
                            span,
                            "an aggregation is assigned with `=`, not a compound operator",
                        )
                        .with_label("use `=`"),
                    );
                    return None;
                }
                self.call_arity(f, *name_span, args)?;
                let (aggregate, value_kind) = self.aggregate(agg, f, args, value.span)?;
                let key = key?;
                let key_ty = self.key_type(keys, key.as_ref());
                let map = self.bind_map(&map_name, target_span, key_ty, value_kind, value.span)?;
                return Some(StmtKind::MapAggregate {
                    map,
                    key,
                    op: aggregate,
                });
            }
        }
        let value = match op {
            Some(op) => {
                let target = ast::Expr {
                    kind: ast::ExprKind::Map {
                        name: name.to_string(),
                        keys: keys.to_vec(),
                    },
                    span: target_span,
                };
                // `@new++` on a map never assigned before starts from 0, as in bpftrace.
                let target = locals::zero_if_unknown(self.maps.id(&map_name).is_some(), target);
                self.binary(op, &target, value, span)?
            }
            None => self.expr(value)?,
        };
        let key = key?;
        if arrays::is_array_place(&value) {
            self.copyable_array(&value, "a map value")?;
        } else if matches!(value.ty, Type::Kernel(_)) {
            self.error(not_storable(&value));
            return None;
        }
        if value.ty == Type::Void || !tuples::storable_tuple(&value.ty) {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("a map cannot hold a value of type `{}`", value.ty),
                )
                .with_label("not storable"),
            );
            return None;
        }
        let value_ty = if op.is_some() {
            storable(&value.ty)
        } else {
            self.stored_type(value_ast, &value)
        };
        let key_ty = self.key_type(keys, key.as_ref());
        let map = self.bind_map(
            &map_name,
            target_span,
            key_ty,
            MapValue::Plain(value_ty),
            value.span,
        )?;
        Some(StmtKind::MapStore { map, key, value })
    }

    fn map_key(&mut self, keys: &[ast::Expr], span: Span) -> Option<Option<Expr>> {
        let mut typed_keys = Vec::new();
        for k in keys {
            typed_keys.push(self.expr(k));
        }
        let typed_keys: Option<Vec<Expr>> = typed_keys.into_iter().collect();
        let mut typed_keys = typed_keys?;
        for k in &typed_keys {
            if arrays::is_array_place(k) {
                self.copyable_array(k, "a map key")?;
            } else if !(k.ty.is_scalar() || k.ty.prints_as_text()) {
                self.error(
                    Diagnostic::error(k.span, format!("a map key cannot be of type `{}`", k.ty))
                        .with_label("not usable as a key"),
                );
                return None;
            }
        }
        Some(match typed_keys.len() {
            0 => None,
            1 => typed_keys.pop(),
            _ => {
                let ty = Type::Tuple(
                    keys.iter()
                        .zip(&typed_keys)
                        .map(|(e, k)| self.stored_type(e, k))
                        .collect(),
                );
                Some(typed(ExprKind::Tuple(typed_keys), ty, span))
            }
        })
    }

    /// Records a write of `value` under `key` into the map, checking it against earlier uses.
    fn bind_map(
        &mut self,
        name: &str,
        span: Span,
        key: Option<(Type, Span)>,
        value: MapValue,
        value_span: Span,
    ) -> Option<MapId> {
        let id = self.maps.declare(name, span);
        let key_span = key.as_ref().map_or(span, |k| k.1);
        let key_ty = key.map(|k| k.0);
        let decl = &self.maps.decls[id];
        let first_key_span = self.maps.key_spans[id];
        let merged_key = match (
            &decl.key,
            &key_ty,
            decl.value == MapValue::Plain(Type::Void),
        ) {
            (_, _, true) => Some(key_ty.clone()),
            (old, new, false) => unify_optional(old, new),
        };
        let Some(merged_key) = merged_key else {
            let old = decl
                .key
                .as_ref()
                .map_or("no key".to_string(), |t| format!("key `{t}`"));
            let new = key_ty
                .as_ref()
                .map_or("no key".to_string(), |t| format!("key `{t}`"));
            self.error(
                Diagnostic::error(key_span, format!("map `{name}` is used with {new} here"))
                    .with_label(new)
                    .with_secondary(first_key_span, format!("but with {old} here"))
                    .with_help("every use of a map must have the same key types"),
            );
            return None;
        };
        let merged_value = match (&decl.value, &value) {
            (MapValue::Plain(Type::Void), v) => Some(v.clone()),
            (MapValue::Plain(old), MapValue::Plain(new)) => unify(old, new).map(MapValue::Plain),
            (old, new) if old == new => Some(old.clone()),
            _ => None,
        };
        let Some(merged_value) = merged_value else {
            let decl_span = decl.span;
            let old = describe_value(&decl.value);
            self.error(
                Diagnostic::error(
                    value_span,
                    format!(
                        "map `{name}` is assigned {} here",
                        describe_one_value(&value)
                    ),
                )
                .with_label(format!("{} value", describe_value(&value)))
                .with_secondary(decl_span, format!("but it holds {old} since here"))
                .with_help("a map holds one kind of value; use another map name"),
            );
            return None;
        };
        let decl = &mut self.maps.decls[id];
        if decl.value == MapValue::Plain(Type::Void) {
            decl.span = value_span;
            self.maps.key_spans[id] = key_span;
        }
        decl.key = merged_key;
        decl.value = merged_value;
        Some(id)
    }

    fn declare_or_check_var(&mut self, name: &str, span: Span, value: &Expr) -> Option<ir::VarId> {
        // Declared with `let $x;`: this first assignment gives it its type.
        if let Some(id) = self
            .lookup_var(name)
            .filter(|&id| self.vars[id] == Type::Void)
        {
            self.vars[id] = var_type(&value.ty);
            return Some(id);
        }
        if let Some(id) = self.lookup_var(name) {
            let Some(ty) = unify(&self.vars[id], &value.ty) else {
                self.error(
                    Diagnostic::error(
                        value.span,
                        format!("`${name}` holds `{}`, not `{}`", self.vars[id], value.ty),
                    )
                    .with_label("wrong type")
                    .with_secondary(span, "assigned here"),
                );
                return None;
            };
            if !value.ty.is_str() || ty == self.vars[id] {
                return Some(id);
            }
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("`${name}` holds a shorter string than this value"),
                )
                .with_label("too long for the variable"),
            );
            return None;
        }
        Some(self.new_var(name, var_type(&value.ty)))
    }

    /// A new variable of type `ty` (`Void` until its first assignment), in the innermost block.
    fn new_var(&mut self, name: &str, ty: Type) -> ir::VarId {
        let id = self.vars.len();
        self.vars.push(ty);
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), id);
        }
        id
    }

    fn lookup_var(&self, name: &str) -> Option<ir::VarId> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    /// An expression used as a condition: must be an integer or pointer.
    pub fn condition(&mut self, e: &ast::Expr) -> Option<Expr> {
        let cond = self.expr(e)?;
        if !cond.ty.is_scalar() {
            self.error(
                Diagnostic::error(
                    cond.span,
                    format!("a condition must be a number, not `{}`", cond.ty),
                )
                .with_label("not a number")
                .with_help("compare strings with `==`, e.g. `comm == \"bash\"`"),
            );
            return None;
        }
        Some(cond)
    }

    pub fn expr(&mut self, e: &ast::Expr) -> Option<Expr> {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Int(v) => Some(typed(ExprKind::Int(*v as i64), I64, span)),
            ast::ExprKind::Str(s) => Some(string_literal(s.as_bytes().to_vec(), span)),
            ast::ExprKind::Ident(name) => self.ident(name, span),
            ast::ExprKind::Var(name) if name == "target" && self.lookup_var(name).is_none() => {
                self.target_pid(span)
            }
            ast::ExprKind::Var(name) if self.is_d_macro(name) => Some(d_macro(name, span)),
            ast::ExprKind::Var(name) => match self.lookup_var(name) {
                Some(id) if self.vars[id] == Type::Void => {
                    self.error(let_decl::read_before_assigned(name, span));
                    None
                }
                Some(id) => Some(typed(ExprKind::Var(id), self.vars[id].clone(), span)),
                None if self.lang.failed_assignments.contains(name) => None,
                None => {
                    let names: Vec<&str> = self
                        .scopes
                        .iter()
                        .flat_map(|s| s.keys().map(String::as_str))
                        .collect();
                    let mut d = Diagnostic::error(span, format!("unknown variable `${name}`"))
                        .with_label("not assigned before this use");
                    if self.lang.out_of_scope.contains(name) {
                        self.lang.late_reads.push((name.clone(), span));
                        d = let_decl::declare_before_block(d, name);
                    } else if let Some(near) = did_you_mean(name, names) {
                        d = d.with_help(format!("did you mean `${near}`?"));
                    }
                    self.error(d);
                    None
                }
            },
            ast::ExprKind::Positional(n) => Some(self.positional(*n, span)),
            ast::ExprKind::PositionalCount => Some(typed(
                ExprKind::Int(self.params.positional.len() as i64),
                I64,
                span,
            )),
            ast::ExprKind::Map { name, keys } => self.map_read(name, keys, span),
            ast::ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(name, *name_span, args, span),
            ast::ExprKind::Field {
                base,
                field,
                field_span,
                arrow,
            } => self.field(base, field, *field_span, *arrow, span),
            ast::ExprKind::Unary { op, operand } => self.unary(*op, operand, span),
            ast::ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span),
            ast::ExprKind::Ternary { cond, then, els } => self.ternary(cond, then, els, span),
            ast::ExprKind::Tuple(items) => {
                let items: Option<Vec<Expr>> = items.iter().map(|i| self.expr(i)).collect();
                let items = items?;
                let ty = Type::Tuple(items.iter().map(|i| storable(&i.ty)).collect());
                Some(typed(ExprKind::Tuple(items), ty, span))
            }
            ast::ExprKind::Cast { ty, expr } => self.cast(ty, expr, span),
            ast::ExprKind::IncDec {
                target,
                increment,
                prefix,
            } => self.incdec_value(target, *increment, *prefix, span),
            ast::ExprKind::Index { base, index } => self.index(base, index, span),
        }
    }

    /// D's macro variables for the tracer itself, `$pid` and `$ppid` (`/pid != $pid/` keeps
    /// the tracer out), where the script has no variable of that name.
    fn is_d_macro(&self, name: &str) -> bool {
        matches!(name, "pid" | "ppid")
            && self.lookup_var(name).is_none()
            && !self.lang.out_of_scope.contains(name)
            && !self.lang.failed_assignments.contains(name)
    }

    fn target_pid(&mut self, span: Span) -> Option<Expr> {
        match self.params.target_pid {
            Some(pid) => Some(typed(ExprKind::Int(i64::from(pid)), Type::U32, span)),
            None => {
                self.error(
                    Diagnostic::error(span, "there is no target process")
                        .with_label("needs -c CMD or -p PID")
                        .with_help("run a command with `-c 'CMD'` or name a process with `-p PID`"),
                );
                None
            }
        }
    }

    fn ident(&mut self, name: &str, span: Span) -> Option<Expr> {
        if name == "cpid" {
            return self.target_pid(span);
        }
        if name == "curtask" || name == "curthread" {
            return self.curtask(span);
        }
        if let Some(stack) = stacks::stack_builtin(name, span) {
            return Some(stack);
        }
        if let Some(b) = builtins::builtin(name) {
            return Some(typed(ExprKind::Builtin(b), builtins::builtin_type(b), span));
        }
        if let Some(e) = self.extra_ident(name, span) {
            return e;
        }
        if let Some(e) = self.lang_ident(name, span) {
            return e;
        }
        let resolved = if name == "retval" {
            Some(self.context.retval(span, self.probe_kind))
        } else if name == "errno" {
            Some(self.context.errno(span, self.probe_kind))
        } else if let Some(index) = name.strip_prefix("arg").and_then(|n| n.parse::<u8>().ok()) {
            Some(self.context.arg(index, span, self.probe_kind))
        } else if name == "args" {
            let d_provider =
                crate::probes::d_providers::whole_args(span, self.probe_kind, self.context);
            Some(Err(d_provider.unwrap_or_else(|| {
                Diagnostic::error(span, "`args` is a structure; use one of its fields")
                    .with_label("needs a field")
                    .with_help("for example `args.filename`; `rdt -lv <probe>` lists the fields")
            })))
        } else {
            None
        };
        match resolved {
            Some(Ok(r)) => Some(typed(r.kind, r.ty, span)),
            Some(Err(d)) => {
                self.error(d);
                None
            }
            None => {
                if let Some(constant) = self.enumerator_constant(name, span) {
                    return Some(constant);
                }
                let candidates = builtins::identifier_names();
                let mut d = Diagnostic::error(span, format!("unknown identifier `{name}`"))
                    .with_label("not a builtin");
                if let Some(near) = did_you_mean(name, candidates) {
                    d = d.with_help(format!("did you mean `{near}`?"));
                }
                self.error(d);
                None
            }
        }
    }

    fn positional(&self, n: u32, span: Span) -> Expr {
        let value = self.params.positional.get(n.saturating_sub(1) as usize);
        match value.map(|v| (v, parse_int(v))) {
            Some((_, Some(i))) => typed(ExprKind::Int(i), I64, span),
            Some((s, None)) => string_literal(s.as_bytes().to_vec(), span),
            None => typed(ExprKind::Int(0), I64, span),
        }
    }

    fn map_read(&mut self, name: &str, keys: &[ast::Expr], span: Span) -> Option<Expr> {
        let (id, key) = self.keyed_map(name, keys, span)?;
        let decl = &self.maps.decls[id];
        let (map_name, value) = (decl.name.clone(), decl.value.clone());
        let ty = self.aggregation_read_type(&map_name, &value, span)?;
        Some(typed(
            ExprKind::MapRead {
                map: id,
                key: key.map(Box::new),
            },
            ty,
            span,
        ))
    }

    fn call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        if let Some(e) = self.extra_call(name, name_span, args, span) {
            return e;
        }
        let Some(def) = builtins::function(name) else {
            let names = builtins::function_names();
            let mut d = Diagnostic::error(name_span, format!("unknown function `{name}`"))
                .with_label("not a function");
            if let Some(near) = did_you_mean(name, names) {
                d = d.with_help(format!("did you mean `{near}()`?"));
            }
            self.error(d);
            return None;
        };
        if def.function.is_checked_in_functions() {
            return self.lang_call(def, name, name_span, args, span);
        }
        self.call_arity(name, name_span, args)?;
        match def.function {
            Function::Str => {
                let ptr = self.expr(&args[0])?;
                if !ptr.ty.is_scalar() {
                    if ptr.ty.is_str() {
                        return Some(ptr);
                    }
                    self.error(
                        Diagnostic::error(
                            ptr.span,
                            format!("str() needs a pointer, not `{}`", ptr.ty),
                        )
                        .with_label("not a pointer"),
                    );
                    return None;
                }
                let ptr = self.user_address(ptr);
                let (len, size) = match args.get(1) {
                    None => (None, self.strsize),
                    Some(a) => {
                        let len = self.expr(a)?;
                        let size = match len.kind {
                            ExprKind::Int(n) if n >= 0 => {
                                (n as u32).saturating_add(1).min(self.strsize)
                            }
                            _ => self.strsize,
                        };
                        (Some(Box::new(len)), size)
                    }
                };
                Some(typed(
                    ExprKind::ReadStr {
                        ptr: Box::new(ptr),
                        len,
                    },
                    Type::Str { size },
                    span,
                ))
            }
            Function::Stack { user } => self.stack_call(user, args, span),
            Function::Symbol { user } => self.symbol_call(user, args, span),
            Function::Kaddr => self.kaddr_call(args, span),
            Function::Sizeof => self.size_of(&args[0], span),
            Function::Offsetof => self.offset_of(args, span),
            Function::Kptr | Function::Uptr => {
                self.address_space(args, def.function == Function::Uptr, span)
            }
            f if f.is_aggregation() => {
                self.error(aggregate_outside_assignment(name, span));
                None
            }
            Function::HasKey => self.has_key(args, span),
            Function::Len => self.map_len(args, span),
            Function::Strftime => self.strftime(args, span),
            Function::Bswap => self.bswap_call(&args[0], span),
            Function::Reg => self.reg_call(&args[0], span),
            Function::DString(op) => self.dstring_call(op, name, args, span),
            _ => {
                self.error(
                    Diagnostic::error(span, format!("{name}() has no value"))
                        .with_label("used as a value")
                        .with_help(format!("call `{name}(…)` as a statement of its own")),
                );
                None
            }
        }
    }

    fn field(
        &mut self,
        base: &ast::Expr,
        field: &str,
        field_span: Span,
        arrow: bool,
        span: Span,
    ) -> Option<Expr> {
        if locals::is_local_base(base) {
            return self.read_local(base, field, span);
        }
        if psinfo::is_psinfo_base(base) {
            return self.psinfo_member(field, field_span, span);
        }
        if let Some(e) = self.tuple_field(base, field, span) {
            return e;
        }
        if !matches!(&base.kind, ast::ExprKind::Ident(n) if n == "args") {
            return self.kernel_field(base, field, field_span, arrow, span);
        }
        match self.context.field(field, field_span, self.probe_kind) {
            Ok(r) => Some(typed(r.kind, r.ty, span)),
            Err(d) => {
                self.error(d);
                None
            }
        }
    }

    fn unary(&mut self, op: UnOp, operand: &ast::Expr, span: Span) -> Option<Expr> {
        if op == UnOp::Deref {
            return self.deref(operand, span);
        }
        let value = self.expr(operand)?;
        if op == UnOp::AddrOf {
            self.error(
                Diagnostic::error(span, "taking an address with `&` is not supported")
                    .with_label("an address of a value in the BPF program")
                    .with_help(
                        "read kernel memory through a pointer instead: `ptr->field`, `*ptr`",
                    ),
            );
            return None;
        }
        if !value.ty.is_scalar() {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("operator needs a number, not `{}`", value.ty),
                )
                .with_label("not a number"),
            );
            return None;
        }
        let ty = match op {
            UnOp::Neg => I64,
            UnOp::Not => U64,
            _ => int_of(&value.ty),
        };
        Some(typed(
            ExprKind::Unary {
                op,
                operand: Box::new(value),
            },
            ty,
            span,
        ))
    }

    fn binary(&mut self, op: BinOp, lhs: &ast::Expr, rhs: &ast::Expr, span: Span) -> Option<Expr> {
        let l = self.expr(lhs);
        let r = self.expr(rhs);
        let (l, r) = (l?, r?);
        if l.ty.is_str() || r.ty.is_str() {
            return self.string_binary(op, l, r, span);
        }
        if op.is_comparison() {
            self.check_address_spaces(&l, &r, span)?;
        }
        for side in [&l, &r] {
            if !side.ty.is_scalar() {
                self.error(
                    Diagnostic::error(
                        side.span,
                        format!(
                            "operator `{}` needs numbers, not `{}`",
                            op.symbol(),
                            side.ty
                        ),
                    )
                    .with_label("not a number"),
                );
                return None;
            }
        }
        if matches!(op, BinOp::Div | BinOp::Mod) && matches!(r.kind, ExprKind::Int(0)) {
            // BPF refuses a division by the constant 0 outright (a zero only known at run time
            // yields 0, as in bpftrace).
            self.error(
                Diagnostic::error(r.span, format!("`{}` by the constant 0", op.symbol()))
                    .with_label("division by zero")
                    .with_help("divide by a non-zero constant, or by a value computed at run time"),
            );
            return None;
        }
        let ty = if op.is_comparison() || matches!(op, BinOp::LogAnd | BinOp::LogOr) {
            U64
        } else {
            let signed = is_signed(&l.ty) && is_signed(&r.ty);
            Type::Int { bits: 64, signed }
        };
        Some(typed(
            ExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty,
            span,
        ))
    }

    fn string_binary(&mut self, op: BinOp, l: Expr, r: Expr, span: Span) -> Option<Expr> {
        if let Some(compared) = self.func_compared_to_name(op, &l, &r, span) {
            return compared;
        }
        if l.ty.is_str() && r.ty.is_str() && matches!(op, BinOp::Eq | BinOp::Ne) {
            let negate = op == BinOp::Ne;
            return Some(typed(
                ExprKind::StrEq {
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                    negate,
                },
                U64,
                span,
            ));
        }
        let (s, other) = if l.ty.is_str() { (&l, &r) } else { (&r, &l) };
        let d = if other.ty.is_str() {
            Diagnostic::error(
                span,
                format!("strings cannot be combined with `{}`", op.symbol()),
            )
            .with_label("only `==` and `!=` compare strings")
        } else if matches!(other.ty, Type::Symbol { user: false }) {
            func_ip::symbol_compared_to_string(s.span, other.span)
        } else {
            Diagnostic::error(
                s.span,
                format!(
                    "cannot apply `{}` to a string and `{}`",
                    op.symbol(),
                    other.ty
                ),
            )
            .with_label("this is a string")
            .with_secondary(other.span, format!("this is `{}`", other.ty))
            .with_help("strings can only be compared, with `==` and `!=`")
        };
        self.error(d);
        None
    }

    fn ternary(
        &mut self,
        cond: &ast::Expr,
        then: &ast::Expr,
        els: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        let cond = self.condition(cond);
        let then = self.expr(then);
        let els = self.expr(els);
        let (cond, then, els) = (cond?, then?, els?);
        let Some(ty) = unify(&storable(&then.ty), &storable(&els.ty)) else {
            self.error(
                Diagnostic::error(span, "the two branches of `?:` have different types")
                    .with_label("mismatched branches")
                    .with_secondary(then.span, format!("`{}`", then.ty))
                    .with_secondary(els.span, format!("`{}`", els.ty)),
            );
            return None;
        };
        Some(typed(
            ExprKind::Ternary {
                cond: Box::new(cond),
                then: Box::new(then),
                els: Box::new(els),
            },
            ty,
            span,
        ))
    }
}

/// Struct and array values are read piecewise, never copied into variables or maps.
fn not_storable(value: &Expr) -> Diagnostic {
    Diagnostic::error(value.span, format!("a `{}` cannot be stored", value.ty))
        .with_label("a whole struct or array")
        .with_help("store one of its fields, or a pointer to it")
}

fn aggregate_outside_assignment(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("{name}() is an aggregation and must be assigned to a map"),
    )
    .with_label("not assigned to a map")
    .with_help(format!("write `@name[key] = {name}(…);`"))
}

fn string_literal(bytes: Vec<u8>, span: Span) -> Expr {
    let size = bytes.len() as u32 + 1;
    typed(ExprKind::Str(bytes), Type::Str { size }, span)
}

/// The type a variable holds for a value: a pointer keeps its type, so `$t = curtask;
/// $t->pid` works; integers widen to 64 bits.
pub(super) fn var_type(ty: &Type) -> Type {
    match ty {
        Type::Ptr { .. } => ty.clone(),
        other => storable(other),
    }
}

/// Maps hold integers as 64-bit values, the way bpftrace does.
fn storable(ty: &Type) -> Type {
    match ty {
        Type::Int { signed, .. } => Type::Int {
            bits: 64,
            signed: *signed,
        },
        Type::Ptr { .. } => U64,
        Type::Tuple(fields) => Type::Tuple(fields.iter().map(storable).collect()),
        other => other.clone(),
    }
}

fn int_of(ty: &Type) -> Type {
    match ty {
        Type::Int { .. } => ty.clone(),
        _ => U64,
    }
}

fn is_signed(ty: &Type) -> bool {
    matches!(ty, Type::Int { signed: true, .. })
}

/// The common type of two values, if they are compatible (strings widen to the longer one).
fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Ptr { .. }, Type::Ptr { .. }) if a == b => Some(a.clone()),
        (Type::Int { signed: sa, .. }, Type::Int { signed: sb, .. }) => Some(Type::Int {
            bits: 64,
            signed: *sa && *sb,
        }),
        (Type::Str { size: x }, Type::Str { size: y }) => Some(Type::Str { size: (*x).max(*y) }),
        (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .map(|(a, b)| unify(a, b))
            .collect::<Option<Vec<_>>>()
            .map(Type::Tuple),
        (Type::Ptr { .. } | Type::Int { .. }, Type::Ptr { .. } | Type::Int { .. }) => Some(U64),
        (Type::Stack(x), Type::Stack(y)) if x == y => Some(a.clone()),
        (Type::Symbol { user: x }, Type::Symbol { user: y }) if x == y => Some(a.clone()),
        (Type::Text(x), Type::Text(y)) if x == y => Some(a.clone()),
        (Type::Kernel(KernelType::Array { .. }), Type::Kernel(KernelType::Array { .. }))
            if a == b =>
        {
            Some(a.clone())
        }
        (Type::Kernel(KernelType::Enum { .. }), Type::Kernel(KernelType::Enum { .. }))
            if a == b =>
        {
            Some(a.clone())
        }
        // Values of one enum print by name; mixed with plain numbers they print as numbers.
        (Type::Kernel(KernelType::Enum { .. }), _) | (_, Type::Kernel(KernelType::Enum { .. })) => {
            unify(&symbolic::readable(a), &symbolic::readable(b))
        }
        _ => None,
    }
}

fn unify_optional(a: &Option<Type>, b: &Option<Type>) -> Option<Option<Type>> {
    match (a, b) {
        (None, None) => Some(None),
        (Some(a), Some(b)) => unify(a, b).map(Some),
        _ => None,
    }
}

/// "a string", "`int64`", "count()": what one assignment stores.
fn describe_one_value(v: &MapValue) -> String {
    match v {
        MapValue::Plain(t) if !t.is_str() => format!("`{t}`"),
        other => describe_value(other),
    }
}

/// "a string", "`int64` values", "count()": what a map holds.
fn describe_value(v: &MapValue) -> String {
    match v {
        MapValue::Count => "count()".into(),
        MapValue::Sum => "sum()".into(),
        MapValue::Avg => "avg()".into(),
        MapValue::Min => "min()".into(),
        MapValue::Max => "max()".into(),
        MapValue::Stats => "stats()".into(),
        MapValue::Stddev => "stddev()".into(),
        MapValue::Hist(crate::ir::Buckets::Log2 { .. }) => "hist()".into(),
        MapValue::Hist(crate::ir::Buckets::Linear { .. }) => "lhist()".into(),
        MapValue::Hist(crate::ir::Buckets::LogLinear { .. }) => "llquantize()".into(),
        MapValue::Plain(t) if t.is_str() => "a string".into(),
        MapValue::Plain(t) => format!("`{t}` values"),
    }
}

fn parse_int(s: &str) -> Option<i64> {
    if let Some(hex) = s.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    s.parse().ok()
}

fn int_type_named(name: &str) -> Option<Type> {
    let (bits, signed) = match name {
        "int8" | "s8" | "char" | "i8" => (8, true),
        "uint8" | "u8" | "unsigned char" => (8, false),
        "int16" | "s16" | "short" | "i16" => (16, true),
        "uint16" | "u16" | "unsigned short" => (16, false),
        "int32" | "s32" | "int" | "i32" => (32, true),
        "uint32" | "u32" | "unsigned int" | "unsigned" => (32, false),
        "int64" | "s64" | "long" | "i64" | "long long" => (64, true),
        "uint64" | "u64" | "unsigned long" | "unsigned long long" => (64, false),
        _ => return None,
    };
    Some(Type::Int { bits, signed })
}

/// The span of byte `offset` of a string literal's contents (approximate when escapes precede it).
fn format_span(literal: Span, text: &str, offset: usize) -> Span {
    let start = literal.start as usize + 1 + offset.min(text.len());
    Span::new(start, (start + 2).min(literal.end as usize).max(start + 1))
}

/// The value of D's `$pid` (rdt's own process) or `$ppid` (its parent), known when compiling.
fn d_macro(name: &str, span: Span) -> Expr {
    let pid = if name == "pid" {
        std::process::id()
    } else {
        std::os::unix::process::parent_id()
    };
    typed(ExprKind::Int(i64::from(pid)), Type::U32, span)
}
