//! rdt-sema: AST → typed IR. Expands probes, resolves names, infers the types of maps and
//! variables across clauses, and reports located errors.

pub mod builtins;
mod check;
pub mod format;
pub mod ir;
pub mod probes;
pub mod types;

pub use check::Params;
pub use types::Type;

use check::{ClauseChecker, MapTable};
use ir::{Event, Expr, Options, Probe};
use probes::Instance;
use rdt_syntax::ast::{self, BinOp};
use rdt_syntax::{Diagnostic, Span};

/// Checks a parsed script and produces the typed IR, or every error found.
pub fn analyze(program: &ast::Program, params: &Params) -> Result<ir::Program, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let options = options(&program.options, &mut diags);
    let clauses = expand_clauses(program, &mut diags);
    if program.clauses.is_empty() {
        diags.push(Diagnostic::error(Span::default(), "the program has no probes")
            .with_help("for example: rdt -e 'BEGIN { printf(\"hello\\n\"); exit(); }'"));
    }

    // Pass 1 learns the types of all maps; its diagnostics are dropped (pass 2 repeats them).
    let mut maps = MapTable::default();
    check_all(&clauses, &mut maps, params, &options, &mut Vec::new());
    let mut pass2_maps = maps.clone();
    let (probes, events) = check_all(&clauses, &mut pass2_maps, params, &options, &mut diags);

    if diags.iter().any(|d| !d.warning) {
        return Err(diags);
    }
    Ok(ir::Program { probes, maps: pass2_maps.decls, events, options })
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

fn expand_clauses<'a>(program: &'a ast::Program, diags: &mut Vec<Diagnostic>) -> Vec<ExpandedClause<'a>> {
    let mut out = Vec::new();
    for clause in &program.clauses {
        let mut groups = Vec::new();
        for spec in &clause.probes {
            match probes::expand(&spec.text, spec.span) {
                Ok(instances) => groups.extend(group_instances(spec, instances, uses_args(clause))),
                Err(d) => diags.push(d),
            }
        }
        out.push(ExpandedClause { clause, groups });
    }
    out
}

/// Instances that attach the same way and need no per-instance argument layout share a program.
fn group_instances(spec: &ast::ProbeSpec, instances: Vec<Instance>, per_instance: bool) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for instance in instances {
        let shared = groups.iter_mut().find(|g| {
            !per_instance && g.instances[0].prog_type == instance.prog_type && same_attach_kind(&g.instances[0], &instance)
        });
        match shared {
            Some(g) => g.instances.push(instance),
            None => groups.push(Group { spec: spec.clone(), instances: vec![instance] }),
        }
    }
    groups
}

fn same_attach_kind(a: &Instance, b: &Instance) -> bool {
    std::mem::discriminant(&a.attach) == std::mem::discriminant(&b.attach)
}

fn uses_args(clause: &ast::Clause) -> bool {
    // The Debug text names every identifier; `args`/`retval` usage is rare enough that a precise
    // walk is not worth its code.
    let text = format!("{:?}{:?}", clause.predicate, clause.body);
    ["Ident(\"args\")", "Ident(\"retval\")", "Ident(\"arg"].iter().any(|p| text.contains(p))
}

fn check_all(
    clauses: &[ExpandedClause],
    maps: &mut MapTable,
    params: &Params,
    options: &Options,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Probe>, Vec<Event>) {
    let mut probes = Vec::new();
    let mut events = Vec::new();
    for ec in clauses {
        for group in &ec.groups {
            let first = &group.instances[0];
            let kind = group.spec.text.split(':').next().unwrap_or("");
            let mut checker =
                ClauseChecker::new(maps, &mut events, diags, params, &first.context, kind, options.strsize);
            let predicate = ec.clause.predicate.as_ref().and_then(|p| checker.condition(p));
            let body = checker.block(&ec.clause.body);
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

/// The guards of a group's instances joined with `||`; none when the group covers everything
/// (`sys_enter_*`).
fn combined_guard(instances: &[Instance], spec: &ast::ProbeSpec) -> Option<Expr> {
    if spec.text.ends_with("_*") || spec.text.ends_with("::entry") || spec.text.ends_with("::return") {
        return None;
    }
    let mut guards = instances.iter().filter_map(|i| i.guard.clone());
    let (kind, ty) = guards.next()?;
    let mut acc = Expr { kind, ty, span: spec.span };
    for (kind, ty) in guards {
        let rhs = Expr { kind, ty, span: spec.span };
        acc = Expr {
            kind: ir::ExprKind::Binary { op: BinOp::LogOr, lhs: Box::new(acc), rhs: Box::new(rhs) },
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

fn options(settings: &[ast::OptionSetting], diags: &mut Vec<Diagnostic>) -> Options {
    let mut options = Options::default();
    for s in settings {
        match (s.name.as_str(), s.value.as_deref()) {
            ("quiet", None | Some("1" | "true")) => options.quiet = true,
            ("quiet", Some("0" | "false")) => options.quiet = false,
            ("strsize", Some(v)) => match v.parse::<u32>() {
                Ok(n) if (1..=1024).contains(&n) => options.strsize = n,
                _ => diags.push(Diagnostic::error(s.span, format!("invalid strsize `{v}`"))
                    .with_label("expected a number from 1 to 1024")),
            },
            (name, _) => diags.push(Diagnostic::warning(s.span, format!("unknown option `{name}` ignored"))
                .with_label("not an rdt option")
                .with_help("options: quiet, strsize")),
        }
    }
    options
}
