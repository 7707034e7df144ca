//! rdt-sema: AST → typed IR. Expands probes, resolves names, infers the types of maps and
//! variables across clauses, and reports located errors.

#[cfg(test)]
mod array_index_tests;
#[cfg(test)]
mod bpf_loop_tests;
pub mod builtins;
mod check;
mod d_globals;
#[cfg(test)]
mod grouping_tests;
pub mod ir;
pub mod ktypes;
pub mod probe_names;
pub mod probes;
pub mod stdlib;

pub use check::Params;
pub use types::Type;
// The shared vocabulary moved to rdt-types; these keep the `rdt_sema::…` paths.
pub use rdt_types::{buckets, format, types};

use check::{ClauseChecker, MapTable};
use ir::{Event, Expr, Options, Probe};
use probes::Instance;
use rdt_syntax::ast::{self, BinOp};
use rdt_syntax::{Diagnostic, Span};

/// Checks a parsed script and produces the typed IR, or every error found.
pub fn analyze(program: &ast::Program, params: &Params) -> Result<ir::Program, Vec<Diagnostic>> {
    let (program, d_globals, mut diags) = d_globals::desugar(program);
    if !diags.is_empty() {
        // A D global named like a map: checking on would only repeat it as type clashes.
        return Err(diags);
    }
    let program = &program;
    let options = options(&program.options, &mut diags);
    let mut notes = Vec::new();
    let clauses = expand_clauses(program, params, &mut diags, &mut notes);
    if program.clauses.is_empty() {
        diags.push(
            Diagnostic::error(Span::default(), "the program has no probes")
                .with_help("for example: rdt -e 'BEGIN { printf(\"hello\\n\"); exit(); }'"),
        );
    }

    // Pass 1 learns the types of all maps; its diagnostics are dropped (pass 2 repeats them).
    let mut maps = MapTable::default();
    let bpf_loop = std::cell::OnceCell::new();
    let shared = Shared {
        params,
        late_reads: Default::default(),
        bpf_loop: &bpf_loop,
        options: &options,
    };
    check_all(&clauses, &mut maps, &shared, &mut Vec::new());
    let mut pass2_maps = maps.clone();
    let (probes, events) = check_all(&clauses, &mut pass2_maps, &shared, &mut diags);

    if diags.iter().any(|d| !d.warning) {
        return Err(diags);
    }
    let mut maps = pass2_maps.decls;
    for m in &mut maps {
        m.d_global = d_globals.contains(m.name.trim_start_matches('@'));
    }
    Ok(ir::Program {
        probes,
        counted_maps: pass2_maps.counted.clone(),
        maps,
        events,
        options,
        warnings: diags,
        notes,
        bpf_loop: bpf_loop.get().copied(),
    })
}

/// What every clause's checker reads and no clause owns.
struct Shared<'a> {
    params: &'a Params,
    /// Per program, the variables the first pass found read after their block closed, which
    /// the second declares for the whole clause (check/let_decl.rs `hoist`).
    late_reads: std::cell::RefCell<std::collections::HashMap<usize, Vec<(String, Span)>>>,
    /// Asked at most once, when a clause first has a range `for` or `while`.
    bpf_loop: &'a std::cell::OnceCell<bool>,
    options: &'a Options,
}

/// A clause with its probe descriptions expanded into groups that compile to one program each.
struct ExpandedClause<'a> {
    clause: &'a ast::Clause,
    groups: Vec<Group>,
}

struct Group {
    spec: ast::ProbeSpec,
    instances: Vec<Instance>,
}

fn expand_clauses<'a>(
    program: &'a ast::Program,
    params: &Params,
    diags: &mut Vec<Diagnostic>,
    notes: &mut Vec<String>,
) -> Vec<ExpandedClause<'a>> {
    let mut out = Vec::new();
    for clause in &program.clauses {
        let mut groups = Vec::new();
        for spec in &clause.probes {
            match probes::expand(&spec.text, spec.span, params) {
                Ok(instances) => {
                    notes.extend(probes::note(&spec.text, &instances));
                    groups.extend(group_instances(spec, instances, reads_of(clause)))
                }
                Err(d) => diags.push(d),
            }
        }
        out.push(ExpandedClause { clause, groups });
    }
    out
}

/// What a clause reads of its probe's instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// Nothing: one program serves every instance.
    Nothing,
    /// Only `arg0…`, `retval` and `func`: one program serves instances that keep their
    /// arguments in the same places (kprobes: registers) and, when `func` is read, read it at
    /// run time.
    Registers { func: bool },
    /// Typed `args`, probe names: one program per instance.
    Layout,
}

fn reads_of(clause: &ast::Clause) -> Reads {
    if !clause_reads(clause, &is_instance_name) {
        Reads::Nothing
    } else if clause_reads(clause, &|n| is_instance_name(n) && !is_register_name(n)) {
        Reads::Layout
    } else {
        Reads::Registers {
            func: clause_reads(clause, &|n| matches!(n, "func" | "probefunc")),
        }
    }
}

/// Names whose value depends on the probe instance.
fn is_instance_name(name: &str) -> bool {
    name == "args"
        || name == "retval"
        || name.starts_with("arg")
        || probe_names::PROBE_NAME_BUILTINS.contains(&name)
}

/// Instance names a register-based probe reads the same way everywhere.
fn is_register_name(name: &str) -> bool {
    let arg_n = name
        .strip_prefix("arg")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    arg_n || matches!(name, "retval" | "func" | "probefunc")
}

/// Instances that attach the same way and need no per-instance argument layout share a program.
fn group_instances(spec: &ast::ProbeSpec, instances: Vec<Instance>, reads: Reads) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for mut instance in instances {
        if reads != Reads::Nothing && instance.guard.is_none() {
            instance.guard = probes::exact_syscall_guard(&instance);
        }
        let shared = groups.iter_mut().find(|g| {
            let layout_ok = match reads {
                Reads::Nothing => true,
                Reads::Registers { func } => {
                    (instance.context.uniform_args() && (!func || instance.context.func_ip()))
                        || (!func && g.instances[0].context.same_args_as(&instance.context))
                }
                Reads::Layout => false,
            };
            layout_ok
                && g.instances[0].prog_type == instance.prog_type
                && same_program(&g.instances[0], &instance)
        });
        match shared {
            Some(g) => g.instances.push(instance),
            None => groups.push(Group {
                spec: spec.clone(),
                instances: vec![instance],
            }),
        }
    }
    groups
}

/// Whether one program can serve both instances: the same mechanism, and for raw tracepoints the
/// same tracepoint (a `sys_enter` and a `sys_exit` program read their context differently).
fn same_program(a: &Instance, b: &Instance) -> bool {
    match (&a.attach, &b.attach) {
        (ir::Attach::RawTracepoint { name: x }, ir::Attach::RawTracepoint { name: y }) => x == y,
        // Entry and return probes are different program sections.
        (ir::Attach::Kprobe { ret: x, .. }, ir::Attach::Kprobe { ret: y, .. }) => x == y,
        // A trampoline program is loaded against one function's BTF id.
        (ir::Attach::Fentry { function: x }, ir::Attach::Fentry { function: y }) => x == y,
        (x, y) => std::mem::discriminant(x) == std::mem::discriminant(y),
    }
}

/// Whether a clause reads a name `reads` picks; a wildcard probe whose instances lay out their
/// arguments differently then needs one program per instance.
fn clause_reads(clause: &ast::Clause, reads: &dyn Fn(&str) -> bool) -> bool {
    clause
        .predicate
        .as_ref()
        .is_some_and(|p| expr_uses_args(p, reads))
        || block_uses_args(&clause.body, reads)
}

pub(crate) fn block_uses_args(block: &ast::Block, reads: &dyn Fn(&str) -> bool) -> bool {
    let expr_uses_args = |e: &ast::Expr| expr_uses_args(e, reads);
    let block_uses_args = |b: &ast::Block| block_uses_args(b, reads);
    block.stmts.iter().any(|s| match &s.kind {
        ast::StmtKind::Expr(e) => expr_uses_args(e),
        ast::StmtKind::Assign { target, value, .. } => {
            expr_uses_args(target) || expr_uses_args(value)
        }
        ast::StmtKind::If { cond, then, els } => {
            expr_uses_args(cond)
                || block_uses_args(then)
                || els.as_ref().is_some_and(block_uses_args)
        }
        ast::StmtKind::Block(b) | ast::StmtKind::ForMap { body: b, .. } => block_uses_args(b),
        ast::StmtKind::ForRange {
            start, end, body, ..
        } => expr_uses_args(start) || expr_uses_args(end) || block_uses_args(body),
        ast::StmtKind::While { cond, body } | ast::StmtKind::Unroll { count: cond, body } => {
            expr_uses_args(cond) || block_uses_args(body)
        }
        ast::StmtKind::Let { value, .. } => value.as_ref().is_some_and(expr_uses_args),
        ast::StmtKind::Break | ast::StmtKind::Continue | ast::StmtKind::Return => false,
    })
}

fn expr_uses_args(e: &ast::Expr, reads: &dyn Fn(&str) -> bool) -> bool {
    use ast::ExprKind as K;
    let expr_uses_args = |e: &ast::Expr| expr_uses_args(e, reads);
    match &e.kind {
        K::Ident(name) => reads(name),
        K::Int(_) | K::Str(_) | K::Var(_) | K::Positional(_) | K::PositionalCount => false,
        K::Map { keys: items, .. } | K::Call { args: items, .. } | K::Tuple(items) => {
            items.iter().any(expr_uses_args)
        }
        K::Field { base, .. } => expr_uses_args(base),
        K::Index { base, index } => expr_uses_args(base) || expr_uses_args(index),
        K::Unary { operand, .. } => expr_uses_args(operand),
        K::Binary { lhs, rhs, .. } => expr_uses_args(lhs) || expr_uses_args(rhs),
        K::Ternary { cond, then, els } => {
            expr_uses_args(cond) || expr_uses_args(then) || expr_uses_args(els)
        }
        K::IncDec { target, .. } => expr_uses_args(target),
        K::Cast { expr, .. } => expr_uses_args(expr),
    }
}

fn check_all(
    clauses: &[ExpandedClause],
    maps: &mut MapTable,
    shared: &Shared,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Probe>, Vec<Event>) {
    let options = shared.options;
    let mut probes = Vec::new();
    let mut events = Vec::new();
    for ec in clauses {
        for group in &ec.groups {
            let first = &group.instances[0];
            let kind = group.spec.text.split(':').next().unwrap_or("");
            let mut checker = ClauseChecker::new(
                maps,
                &mut events,
                diags,
                shared.params,
                shared.bpf_loop,
                &first.context,
                kind,
                options.strsize,
            );
            checker.lang.probe = probe_names::ProbeNames::of(first);
            checker.lang.inline = options.inline.clone();
            let program_index = probes.len();
            if let Some(late) = shared.late_reads.borrow().get(&program_index) {
                for (name, span) in late {
                    checker.hoist(name, *span);
                }
            }
            let predicate = ec
                .clause
                .predicate
                .as_ref()
                .and_then(|p| checker.condition(p));
            let body = checker.block(&ec.clause.body);
            shared
                .late_reads
                .borrow_mut()
                .entry(program_index)
                .or_insert_with(|| checker.lang.late_reads.clone());
            let vars = checker.var_types().to_vec();
            let mut attach: Vec<ir::Attach> = Vec::new();
            for i in &group.instances {
                if !attach.contains(&i.attach) {
                    attach.push(i.attach.clone());
                }
            }
            probes.push(Probe {
                name: symbol_name(probes.len(), &first.label),
                prog_type: first.prog_type,
                attach,
                guard: combined_guard(&group.instances, &group.spec),
                predicate,
                body,
                vars,
                span: group.spec.span,
            });
        }
    }
    (probes, events)
}

/// The guards of a group's instances joined with `||`; none when an instance accepts every event.
fn combined_guard(instances: &[Instance], spec: &ast::ProbeSpec) -> Option<Expr> {
    let guards: Option<Vec<_>> = instances.iter().map(|i| i.guard.clone()).collect();
    let mut guards = guards?.into_iter();
    let (kind, ty) = guards.next()?;
    let mut acc = Expr {
        kind,
        ty,
        span: spec.span,
    };
    for (kind, ty) in guards {
        let rhs = Expr {
            kind,
            ty,
            span: spec.span,
        };
        acc = Expr {
            kind: ir::ExprKind::Binary {
                op: BinOp::LogOr,
                lhs: Box::new(acc),
                rhs: Box::new(rhs),
            },
            ty: Type::U64,
            span: spec.span,
        };
    }
    Some(acc)
}

fn symbol_name(index: usize, label: &str) -> String {
    let clean: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(24)
        .collect();
    format!("p{index}_{clean}")
}

/// Checks option settings on their own (`-x name=value` from the command line), returning the
/// errors and warnings they would cause in a script.
pub fn check_options(settings: &[ast::OptionSetting]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    options(settings, &mut diags);
    diags
}

fn options(settings: &[ast::OptionSetting], diags: &mut Vec<Diagnostic>) -> Options {
    let mut options = Options::default();
    for s in settings {
        match (s.name.as_str(), s.value.as_deref()) {
            ("quiet", None | Some("1" | "true")) => options.quiet = true,
            ("quiet", Some("0" | "false")) => options.quiet = false,
            ("bufsize" | "switchrate" | "dynvarsize", Some(_)) => {}
            // `int n;` at the top level (d_globals.rs reads them).
            (name, _) if name.starts_with("declare ") => {}
            (name, Some(v)) if name.starts_with("inline ") => {
                let name = name.trim_start_matches("inline ").to_string();
                match stdlib::inline_value(v) {
                    Some(value) => options.inline.push((name, value)),
                    None => diags.push(
                        Diagnostic::error(s.span, format!("invalid value for inline constant `{name}`"))
                            .with_label("expected an integer or a string literal")
                            .with_help("for example `inline int LIMIT = 10;` or `inline string TAG = \"db\";`"),
                    ),
                }
            }
            ("strsize" | "max_strlen", Some(v)) => match v.parse::<u32>() {
                Ok(n) if (1..=1024).contains(&n) => options.strsize = n,
                _ => diags.push(
                    Diagnostic::error(s.span, format!("invalid strsize `{v}`"))
                        .with_label("expected a number from 1 to 1024"),
                ),
            },
            ("max_map_keys", Some(v)) => match v.parse::<u32>() {
                Ok(n) if (1..=1 << 24).contains(&n) => options.max_map_keys = n,
                _ => diags.push(
                    Diagnostic::error(s.span, format!("invalid max_map_keys `{v}`"))
                        .with_label("expected a number from 1 to 16777216"),
                ),
            },
            ("perf_rb_pages", Some(v)) => match v.parse::<u32>() {
                Ok(n) if n.is_power_of_two() && n <= 1 << 16 => options.perf_rb_pages = n,
                _ => diags.push(
                    Diagnostic::error(s.span, format!("invalid perf_rb_pages `{v}`"))
                        .with_label("expected a power of two from 1 to 65536"),
                ),
            },
            (name, _) => diags.push(
                Diagnostic::warning(s.span, format!("unknown option `{name}` ignored"))
                    .with_label("not an rdt option")
                    .with_help("options: quiet, strsize (bpftrace: max_strlen), bufsize, max_map_keys, perf_rb_pages"),
            ),
        }
    }
    options
}
