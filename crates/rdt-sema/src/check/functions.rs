//! The language's own functions and builtins that need no table in builtins.rs: string
//! functions (`strncmp`, `strcontains`, `strlen`), the unsafe actions (`signal`, `system`),
//! `ncpus`, `walltimestamp`, the probe names, and the stdlib constants (`ENOENT`, `SIGKILL`, …).

use super::{string_literal, typed, ClauseChecker};
use crate::builtins::{self, Function, FunctionDef};
use crate::ir::{Builtin, Event, Expr, ExprKind, StmtKind};
use crate::{stdlib, Type};
use rdt_syntax::ast::{self, BinOp};
use rdt_syntax::{did_you_mean, Diagnostic, Span};

/// Largest haystack × needle size for `strcontains` with a needle that is not a literal.
const MAX_SEARCH_PAIRS: u32 = 128 * 128;

/// Arguments `join()` reads at most (bpftrace's default).
const JOIN_MAX_ARGS: u32 = 16;

impl ClauseChecker<'_> {
    /// Resolves a builtin or stdlib constant; `None` when `name` is neither.
    pub(super) fn lang_ident(&mut self, name: &str, span: Span) -> Option<Option<Expr>> {
        if self.context.func_ip() && matches!(name, "func" | "probefunc") {
            return Some(Some(super::func_ip::func_ip_symbol(span)));
        }
        let probe = &self.lang.probe;
        let probe_string = match name {
            "probe" => Some(probe.probe.clone()),
            "func" | "probefunc" => Some(probe.function.clone()),
            "probeprov" => Some(probe.provider.clone()),
            "probemod" => Some(probe.module.clone()),
            "probename" => Some(probe.name.clone()),
            _ => None,
        };
        if let Some(s) = probe_string {
            return Some(Some(string_literal(s.into_bytes(), span)));
        }
        match name {
            "ncpus" => Some(Some(typed(
                ExprKind::Int(i64::from(self.params.machine.online_cpus)),
                Type::I64,
                span,
            ))),
            "walltimestamp" => Some(Some(walltimestamp(
                self.params.machine.realtime_offset_ns(),
                span,
            ))),
            "ppid" => Some(self.ppid(span)),
            _ if self.lang.inline.iter().any(|(n, _)| n == name) => {
                let value = self
                    .lang
                    .inline
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone());
                Some(Some(match value {
                    Some(crate::ir::InlineValue::Str(s)) => string_literal(s.into_bytes(), span),
                    Some(crate::ir::InlineValue::Int(v)) => {
                        typed(ExprKind::Int(v), Type::I64, span)
                    }
                    None => typed(ExprKind::Int(0), Type::I64, span),
                }))
            }
            // Context names (`args`, `arg0`, `retval`) are resolved by the probe, not here.
            _ if crate::builtins::CONTEXT_NAMES.contains(&name) => None,
            _ => stdlib::constant(name).map(|v| Some(typed(ExprKind::Int(v), Type::I64, span))),
        }
    }

    /// `ppid`: `curtask->real_parent->tgid`, checked and read like the script had written it.
    fn ppid(&mut self, span: Span) -> Option<Expr> {
        let tgid = self.curtask_chain(&["real_parent", "tgid"], span)?;
        Some(typed(ExprKind::Cast(Box::new(tgid)), Type::U32, span))
    }

    /// `curtask->a->b…`, checked as if the script had written it.
    pub(super) fn curtask_chain(&mut self, members: &[&str], span: Span) -> Option<Expr> {
        let curtask = ast::Expr {
            kind: ast::ExprKind::Ident("curtask".into()),
            span,
        };
        let chain = members.iter().fold(curtask, |base, name| ast::Expr {
            kind: ast::ExprKind::Field {
                base: Box::new(base),
                field: name.to_string(),
                field_span: span,
                arrow: true,
            },
            span,
        });
        self.expr(&chain)
    }

    /// Checks a call of a string function or action (see
    /// [`Function::is_checked_in_functions`]) used as a value.
    pub(super) fn lang_call(
        &mut self,
        def: &FunctionDef,
        name: &str,
        name_span: Span,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        self.call_arity(name, name_span, args)?;
        let kind = match def.function {
            Function::Strncmp => {
                let (a, b) = (self.string_arg(&args[0]), self.string_arg(&args[1]));
                let n = self.length_arg(&args[2])?;
                ExprKind::StrNcmp {
                    lhs: Box::new(a?),
                    rhs: Box::new(b?),
                    n,
                }
            }
            Function::Strcontains => {
                let (h, n) = (self.string_arg(&args[0]), self.string_arg(&args[1]));
                let (h, n) = (h?, n?);
                self.check_search_size(&h, &n)?;
                ExprKind::StrContains {
                    haystack: Box::new(h),
                    needle: Box::new(n),
                }
            }
            Function::Strlen => ExprKind::StrLen(Box::new(self.string_arg(&args[0])?)),
            // call() sends only these functions here; the rest have values.
            _ => {
                self.error(
                    Diagnostic::error(span, format!("{name}() has no value"))
                        .with_label("used as a value")
                        .with_help(format!("call `{name}(…)` as a statement of its own")),
                );
                return None;
            }
        };
        Some(typed(kind, Type::U64, span))
    }

    /// A statement that calls `signal()` or `system()`; `None` for any other expression.
    pub(super) fn lang_stmt_call(&mut self, e: &ast::Expr) -> Option<Option<StmtKind>> {
        let ast::ExprKind::Call {
            name,
            name_span,
            args,
        } = &e.kind
        else {
            return None;
        };
        let def =
            builtins::function(name).filter(|d| d.unsafe_only || d.function == Function::Join)?;
        if def.unsafe_only && !self.params.unsafe_ok {
            self.error(
                Diagnostic::error(*name_span, format!("{name}() is an unsafe function"))
                    .with_label("needs --unsafe")
                    .with_help(format!(
                        "it changes the system being traced; run rdt with `--unsafe` (D's `-w`) to allow {name}()"
                    )),
            );
            return Some(None);
        }
        if self.call_arity(name, *name_span, args).is_none() {
            return Some(None);
        }
        Some(match def.function {
            Function::Signal => self.signal_arg(&args[0]).map(StmtKind::Signal),
            Function::Join => self.join(args, e.span),
            _ => self.system(args, e.span),
        })
    }

    fn join(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        let array = self.expr(&args[0]);
        let sep = match args.get(1).map(|a| &a.kind) {
            None => " ".to_string(),
            Some(ast::ExprKind::Str(s)) => s.clone(),
            Some(_) => {
                self.error(
                    Diagnostic::error(
                        args[1].span,
                        "the separator of join() must be a string literal",
                    )
                    .with_label("not a string literal"),
                );
                return None;
            }
        };
        let array = array?;
        if !array.ty.is_scalar() {
            self.error(
                Diagnostic::error(
                    array.span,
                    format!(
                        "join() needs an array of string pointers, not `{}`",
                        array.ty
                    ),
                )
                .with_label("not a pointer")
                .with_help("for example `join(args.argv)` in `syscall::execve:entry`"),
            );
            return None;
        }
        let event = self.events.len();
        self.events.push(Event::Join {
            sep,
            max_args: JOIN_MAX_ARGS,
            arg_size: self.strsize,
            span,
        });
        Some(StmtKind::Join { event, array })
    }

    fn system(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        // Same record as printf, run as a command instead of printed.
        self.printf_as(args, span, |format, args, span| Event::System {
            format,
            args,
            span,
        })
    }

    /// A statement whose arguments are printf's (`system`, `cat`): checked as printf, then its
    /// record's event is retagged by `event`, so user space does something else with the text.
    pub(super) fn printf_as(
        &mut self,
        args: &[ast::Expr],
        span: Span,
        event: fn(crate::format::Format, Vec<Type>, Span) -> Event,
    ) -> Option<StmtKind> {
        let stmt = self.printf(args, span)?;
        if let Some(Event::Printf {
            format, args, span, ..
        }) = self.events.pop()
        {
            self.events.push(event(format, args, span));
        }
        Some(stmt)
    }

    /// `SIGKILL` (a stdlib constant), `"KILL"`, `"SIGKILL"` or a number.
    fn signal_arg(&mut self, arg: &ast::Expr) -> Option<Expr> {
        if let ast::ExprKind::Str(s) = &arg.kind {
            let full = if s.starts_with("SIG") {
                s.clone()
            } else {
                format!("SIG{s}")
            };
            return match stdlib::constant(&full) {
                Some(n) => Some(typed(ExprKind::Int(n), Type::I64, arg.span)),
                None => {
                    let names = stdlib::names().filter(|n| n.starts_with("SIG"));
                    let mut d = Diagnostic::error(arg.span, format!("unknown signal `{s}`"))
                        .with_label("not a signal name");
                    if let Some(near) = did_you_mean(&full, names) {
                        d = d.with_help(format!("did you mean `{near}`?"));
                    }
                    self.error(d);
                    None
                }
            };
        }
        let value = self.expr(arg)?;
        if let ExprKind::Int(n) = value.kind {
            if !(1..=64).contains(&n) {
                self.error(
                    Diagnostic::error(value.span, format!("signal {n} does not exist"))
                        .with_label("signals are numbered 1 to 64"),
                );
                return None;
            }
        }
        if !value.ty.is_int() {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("signal() needs a signal number or name, not `{}`", value.ty),
                )
                .with_label("not a signal"),
            );
            return None;
        }
        Some(value)
    }

    /// `strcontains` compares every start position with every needle byte, unrolled; a needle
    /// that is not a literal must keep that product small enough for one BPF program.
    fn check_search_size(&mut self, haystack: &Expr, needle: &Expr) -> Option<()> {
        let pairs = haystack.ty.size() * needle.ty.size();
        if matches!(needle.kind, ExprKind::Str(_)) || pairs <= MAX_SEARCH_PAIRS {
            return Some(());
        }
        self.error(
            Diagnostic::error(
                needle.span,
                format!(
                    "strcontains() on a {}-byte string with a {}-byte needle is too large for one BPF program",
                    haystack.ty.size(),
                    needle.ty.size()
                ),
            )
            .with_label("a needle that is not a literal")
            .with_help(format!(
                "use a string literal as the needle, or lower strsize (the two sizes multiplied may be at most {MAX_SEARCH_PAIRS})"
            )),
        );
        None
    }

    fn string_arg(&mut self, arg: &ast::Expr) -> Option<Expr> {
        let value = self.expr(arg)?;
        if !value.ty.is_str() {
            self.error(
                Diagnostic::error(value.span, format!("expected a string, not `{}`", value.ty))
                    .with_label("not a string")
                    .with_help("read a string from a pointer with `str(pointer)`"),
            );
            return None;
        }
        Some(value)
    }

    fn length_arg(&mut self, arg: &ast::Expr) -> Option<u32> {
        let value = self.expr(arg)?;
        match value.kind {
            ExprKind::Int(n) if (0..=i64::from(u16::MAX)).contains(&n) => Some(n as u32),
            _ => {
                self.error(
                    Diagnostic::error(value.span, "the length must be a constant")
                        .with_label("not a constant length")
                        .with_help("for example `strncmp(comm, \"bash\", 4)`"),
                );
                None
            }
        }
    }
}

/// `walltimestamp`: nanoseconds since the epoch, from the monotonic clock plus the offset
/// between the two clocks taken when rdt started (the same instant `elapsed` counts from).
fn walltimestamp(offset: u64, span: Span) -> Expr {
    typed(
        ExprKind::Binary {
            op: BinOp::Add,
            lhs: Box::new(typed(ExprKind::Builtin(Builtin::Nsecs), Type::U64, span)),
            rhs: Box::new(typed(ExprKind::Int(offset as i64), Type::I64, span)),
        },
        Type::U64,
        span,
    )
}
