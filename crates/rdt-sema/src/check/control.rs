//! Loops and early exits: `for ($i : a..b)`, `while`, `unroll(N)`, `break`, `continue`, `return`.

use super::{typed, ClauseChecker};
use crate::ir::{Event, ExprKind, Stmt, StmtKind};
use crate::Type;
use rdt_syntax::ast;
use rdt_syntax::{Diagnostic, Span};

/// bpftrace's limit on `unroll(N)`.
const MAX_UNROLL: i64 = 100;

/// Per-clause state of the language features checked outside check.rs.
#[derive(Debug, Default, Clone)]
pub struct LangState {
    /// Loops around the statement being checked (`unroll` counts too).
    pub loop_depth: u32,
    /// The script's `inline` constants.
    pub inline: Vec<(String, crate::ir::InlineValue)>,
    /// Loops around the statement that only the loop limit bounds (`while`, `for` with bounds
    /// computed at run time) when the kernel lacks bpf_loop: the verifier walks their body up
    /// to 1024 times.
    pub unbounded_loops: u32,
    /// The probe firing this clause: `probe`, `probefunc`, … (see `probe_names`).
    pub probe: crate::probe_names::ProbeNames,
    /// Loop bodies around the statement that run as callbacks (map loops; with bpf_loop, range
    /// and `while` loops too): each is one more frame on the kernel's call stack.
    pub callback_depth: u32,
    /// Variables that hold a value of one enum (`None`: assigned values of different kinds),
    /// so `print($v)` and `%s` name it (check/symbolic.rs).
    pub var_enums: std::collections::HashMap<crate::ir::VarId, Option<Type>>,
    /// The integer width each variable was assigned (`None`: different widths), since a
    /// variable itself holds 64 bits; `bswap($port)` swaps over this width (check/bswap.rs).
    pub var_bits: std::collections::HashMap<crate::ir::VarId, Option<u8>>,
    /// Variables of blocks already closed, to explain an unknown variable (check/let_decl.rs).
    pub out_of_scope: std::collections::HashSet<String>,
    /// Variables whose assignment already failed with an error: a later use says nothing
    /// more, since the first error is the one to fix.
    pub failed_assignments: std::collections::HashSet<String>,
    /// Variables read after the block that assigned them closed, where first read: a second
    /// check of the clause keeps them for the whole clause (check/let_decl.rs `hoist`).
    pub late_reads: Vec<(String, rdt_syntax::Span)>,
    /// The types variables were declared with (`let $x: uint8`), and where (check/let_decl.rs).
    pub declared_types: std::collections::HashMap<crate::ir::VarId, (Type, rdt_syntax::Span)>,
}

/// The kernel runs at most 8 nested BPF functions (MAX_CALL_FRAMES): the program and 7 loop
/// bodies.
const MAX_NESTED_CALLBACKS: u32 = 7;

impl ClauseChecker<'_> {
    /// Whether range `for` and `while` loops run through bpf_loop. The kernel is asked the
    /// first time a script needs to know (a failed probe load costs a syscall every run
    /// otherwise); the answer is kept for every clause and goes into `ir::Program::bpf_loop`,
    /// so codegen and the runtime act on the same answer as the checker.
    fn has_bpf_loop(&self) -> bool {
        *self
            .bpf_loop
            .get_or_init(|| self.params.bpf_loop_check.is_some_and(|has| has().is_ok()))
    }

    /// Checks a loop or early-exit statement.
    pub(super) fn control(&mut self, stmt: &ast::Stmt) -> Option<Stmt> {
        let span = stmt.span;
        let kind = match &stmt.kind {
            ast::StmtKind::ForRange {
                var,
                var_span,
                start,
                end,
                body,
            } => self.for_range(var, *var_span, start, end, body)?,
            ast::StmtKind::While { cond, body } => {
                let cond = self.condition(cond);
                let bpf_loop = self.has_bpf_loop();
                let walked = u32::from(!bpf_loop);
                let callback = self.enter_callback(bpf_loop, span)?;
                self.lang.unbounded_loops += walked;
                let body = self.loop_body(body);
                self.lang.unbounded_loops -= walked;
                self.lang.callback_depth -= callback;
                StmtKind::While { cond: cond?, body }
            }
            ast::StmtKind::Unroll { count, body } => {
                let count = self.unroll_count(count)?;
                let body = self.loop_body(body);
                StmtKind::Unroll { count, body }
            }
            ast::StmtKind::ForMap {
                var,
                var_span,
                map,
                map_span,
                body,
            } => self.for_map(var, *var_span, map, *map_span, body)?,
            ast::StmtKind::Break | ast::StmtKind::Continue => {
                if self.lang.loop_depth == 0 {
                    let word = if matches!(stmt.kind, ast::StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(
                        Diagnostic::error(span, format!("`{word}` outside a loop"))
                            .with_label("not inside `for`, `while` or `unroll`")
                            .with_help("use `return;` to leave the action block"),
                    );
                    return None;
                }
                if matches!(stmt.kind, ast::StmtKind::Break) {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                }
            }
            ast::StmtKind::Return => StmtKind::Return,
            _ => return None,
        };
        Some(Stmt { kind, span })
    }

    fn for_range(
        &mut self,
        var: &str,
        var_span: Span,
        start: &ast::Expr,
        end: &ast::Expr,
        body: &ast::Block,
    ) -> Option<StmtKind> {
        let start = self.expr(start);
        let end = self.expr(end);
        let (start, end) = (start?, end?);
        for bound in [&start, &end] {
            if !bound.ty.is_int() {
                self.error(
                    Diagnostic::error(
                        bound.span,
                        format!("a range bound must be an integer, not `{}`", bound.ty),
                    )
                    .with_label("not an integer")
                    .with_help("for example `for ($i : 0..10) { … }`"),
                );
                return None;
            }
        }
        // The loop variable lives in a scope of its own around the body.
        self.scopes.push(Default::default());
        let counter = typed(crate::ir::ExprKind::Int(0), Type::I64, var_span);
        let id = self.declare_or_check_var(var, var_span, &counter);
        // With bpf_loop the body is a callback checked once, whatever the bounds.
        let bpf_loop = self.has_bpf_loop();
        let bounded = bpf_loop
            || (matches!(start.kind, crate::ir::ExprKind::Int(_))
                && matches!(end.kind, crate::ir::ExprKind::Int(_)));
        let Some(callback) = self.enter_callback(bpf_loop, var_span) else {
            self.scopes.pop();
            return None;
        };
        self.lang.unbounded_loops += u32::from(!bounded);
        let body = self.loop_body(body);
        self.lang.unbounded_loops -= u32::from(!bounded);
        self.scopes.pop();
        self.lang.callback_depth -= callback;
        Some(StmtKind::ForRange {
            var: id?,
            start,
            end,
            body,
        })
    }

    fn for_map(
        &mut self,
        var: &str,
        var_span: Span,
        map: &str,
        map_span: Span,
        body: &ast::Block,
    ) -> Option<StmtKind> {
        if self.lang.unbounded_loops > 0 {
            self.error(
                Diagnostic::error(
                    map_span,
                    "a `for` over a map cannot be inside a `while` loop or a `for` loop with computed bounds",
                )
                .with_label("inside a loop the verifier cannot bound")
                .with_help("use a `for ($i : 0..N)` loop with constant bounds around it, or move it out"),
            );
            return None;
        }
        let name = format!("@{map}");
        let Some(id) = self.maps.id(&name) else {
            let names = self.maps.decls.iter().map(|d| d.name.as_str());
            let mut d = Diagnostic::error(
                map_span,
                format!("map `{name}` is iterated but never assigned"),
            )
            .with_label("no value was ever stored in it");
            if let Some(near) = rdt_syntax::did_you_mean(&name, names) {
                d = d.with_help(format!("did you mean `{near}`?"));
            }
            self.error(d);
            return None;
        };
        let decl = &self.maps.decls[id];
        let Some(key) = decl.key.clone() else {
            self.error(
                Diagnostic::error(map_span, format!("map `{name}` has no keys to iterate"))
                    .with_label("a map without keys")
                    .with_help(format!("read its one value as `{name}`")),
            );
            return None;
        };
        let value = match &decl.value {
            crate::ir::MapValue::Count => Type::U64,
            crate::ir::MapValue::Sum => Type::I64,
            crate::ir::MapValue::Plain(t) => super::symbolic::readable(t),
            _ => {
                self.error(
                    Diagnostic::error(
                        map_span,
                        format!("cannot iterate over `{name}`: its values are an aggregation"),
                    )
                    .with_label("for ($kv : @map) reads plain values, count() and sum()")
                    .with_help(format!("print it with `print({name})`")),
                );
                return None;
            }
        };
        self.scopes.push(Default::default());
        let pair = typed(
            crate::ir::ExprKind::Int(0),
            Type::Tuple(vec![super::symbolic::readable(&key), value]),
            var_span,
        );
        let var = self.declare_or_check_var(var, var_span, &pair);
        let Some(callback) = self.enter_callback(true, map_span) else {
            self.scopes.pop();
            return None;
        };
        let body = self.loop_body(body);
        self.lang.callback_depth -= callback;
        self.scopes.pop();
        Some(StmtKind::ForMap {
            map: id,
            var: var?,
            body,
        })
    }

    /// Counts a loop body that runs as a callback (`yes`); past the kernel's call depth, a
    /// located error. Returns what to take off `callback_depth` after the body.
    fn enter_callback(&mut self, yes: bool, span: Span) -> Option<u32> {
        if !yes {
            return Some(0);
        }
        if self.lang.callback_depth >= MAX_NESTED_CALLBACKS {
            self.error(
                Diagnostic::error(
                    span,
                    format!("loops nested more than {MAX_NESTED_CALLBACKS} deep"),
                )
                .with_label("each loop body is a BPF function, and the kernel runs at most 8 nested")
                .with_help("move the inner loops into a clause of their own, or repeat a short inner body with `unroll(N)`"),
            );
            return None;
        }
        self.lang.callback_depth += 1;
        Some(1)
    }

    fn loop_body(&mut self, body: &ast::Block) -> Vec<Stmt> {
        self.lang.loop_depth += 1;
        let stmts = self.block(body);
        self.lang.loop_depth -= 1;
        stmts
    }

    fn unroll_count(&mut self, count: &ast::Expr) -> Option<u32> {
        let value = self.expr(count)?;
        match value.kind {
            crate::ir::ExprKind::Int(n) if (1..=MAX_UNROLL).contains(&n) => Some(n as u32),
            _ => {
                self.error(
                    Diagnostic::error(value.span, "unroll() needs a constant from 1 to 100")
                        .with_label("not a constant in 1..=100")
                        .with_help("use a `for ($i : 0..N)` loop for longer or variable counts"),
                );
                None
            }
        }
    }
}

impl ClauseChecker<'_> {
    /// `exit()` / `exit(status)` (bpftrace 0.21): stop tracing; rdt exits with `status`, 0 by
    /// default. A process's exit status is one byte, so a constant outside 0..=255 is refused
    /// (a computed one keeps its low byte).
    pub(super) fn exit(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        let status = match args.first() {
            Some(a) => self.integer_arg(a, "exit() takes an exit status", "exit(1)")?,
            None => typed(ExprKind::Int(0), Type::I64, span),
        };
        if let ExprKind::Int(n) = status.kind {
            if !(0..=255).contains(&n) {
                self.error(
                    Diagnostic::error(status.span, format!("exit status {n} is out of range"))
                        .with_label("not 0 to 255")
                        .with_help("a process exits with a status from 0 to 255"),
                );
                return None;
            }
        }
        let event = self.events.len();
        self.events.push(Event::Exit { span });
        Some(StmtKind::Exit { event, status })
    }
}
