//! `kstack` / `ustack` (and D's `stack()`), with bpftrace's optional mode and frame count, and
//! `ksym(addr)` / `usym(addr)`.

use super::{typed, ClauseChecker};
use crate::ir::{Expr, ExprKind};
use crate::types::{StackMode, StackType};
use crate::Type;
use rdt_btf::kallsyms::{self, KallsymsError};
use rdt_syntax::ast;
use rdt_syntax::{did_you_mean, Diagnostic, Span};

/// `kstack` / `ustack` written without parentheses: the default mode and frame count.
pub(super) fn stack_builtin(name: &str, span: Span) -> Option<Expr> {
    let user = match name {
        "kstack" => false,
        "ustack" => true,
        _ => return None,
    };
    Some(stack_expr(StackType::new(user), span))
}

fn stack_expr(stack: StackType, span: Span) -> Expr {
    typed(ExprKind::Stack, Type::Stack(stack), span)
}

fn kaddr_error(name: &str, span: Span, e: KallsymsError) -> Diagnostic {
    match e {
        KallsymsError::NotFound => {
            let d = Diagnostic::error(span, format!("the kernel has no symbol `{name}`"))
                .with_label("not in /proc/kallsyms");
            match rdt_syntax::did_you_mean(name, kallsyms::names_near(name)) {
                Some(near) => d.with_help(format!("did you mean `{near}`?")),
                None => d.with_help("`grep NAME /proc/kallsyms` lists the kernel's symbols"),
            }
        }
        KallsymsError::Hidden => Diagnostic::error(span, "the kernel hides its symbol addresses")
            .with_label("every address in /proc/kallsyms reads 0")
            .with_help("run as root, or lower `kernel.kptr_restrict`"),
        KallsymsError::Unreadable(why) => Diagnostic::error(span, why)
            .with_label("cannot look up this symbol")
            .with_help("kaddr() reads /proc/kallsyms"),
    }
}

/// `printf("%d", kstack)`: stacks and symbols only print as text.
pub(super) fn printed_as_number(value: &Expr, conversion: Span) -> Diagnostic {
    Diagnostic::error(
        value.span,
        format!(
            "printf() argument is a `{}`, which prints as text, but its conversion expects a number",
            value.ty
        ),
    )
    .with_label("printed as text")
    .with_secondary(conversion, "this conversion")
    .with_help("use `%s` for stacks and symbols")
}

impl ClauseChecker<'_> {
    /// `kstack()`, `kstack(N)`, `kstack(mode)`, `kstack(mode, N)` (and the same for `ustack`),
    /// and D's `ustack(N, strsize)`, whose string size has no use here (symbols are resolved in
    /// user space, at any length).
    pub(super) fn stack_call(
        &mut self,
        user: bool,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let mut stack = StackType::new(user);
        let (mode, limit) = match args {
            [] => (None, None),
            [one] if matches!(one.kind, ast::ExprKind::Ident(_)) => (Some(one), None),
            [one] => (None, Some(one)),
            [limit, strsize] if matches!(limit.kind, ast::ExprKind::Int(_)) => {
                self.expr(strsize)?;
                (None, Some(limit))
            }
            [mode, limit, ..] => (Some(mode), Some(limit)),
        };
        if let Some(mode) = mode {
            stack.mode = self.stack_mode(mode)?;
        }
        if let Some(limit) = limit {
            stack.limit = self.stack_limit(limit)?;
        }
        Some(stack_expr(stack, span))
    }

    fn stack_mode(&mut self, arg: &ast::Expr) -> Option<StackMode> {
        let names = StackMode::NAMES.iter().map(|(n, _)| *n);
        let modes = "bpftrace, perf or raw";
        let ast::ExprKind::Ident(name) = &arg.kind else {
            self.error(
                Diagnostic::error(arg.span, "a stack mode must be a name")
                    .with_label("not a stack mode")
                    .with_help(format!("write one of {modes}, e.g. `kstack(perf)`")),
            );
            return None;
        };
        if let Some(mode) = StackMode::named(name) {
            return Some(mode);
        }
        let help = match did_you_mean(name, names) {
            Some(near) => format!("did you mean `{near}`? (modes: {modes})"),
            None => format!("the modes are {modes}"),
        };
        self.error(
            Diagnostic::error(arg.span, format!("unknown stack mode `{name}`"))
                .with_label("not a stack mode")
                .with_help(help),
        );
        None
    }

    fn stack_limit(&mut self, arg: &ast::Expr) -> Option<u32> {
        let max = StackType::MAX_LIMIT;
        match arg.kind {
            ast::ExprKind::Int(n) if (1..=u64::from(max)).contains(&n) => Some(n as u32),
            _ => {
                self.error(
                    Diagnostic::error(
                        arg.span,
                        format!("the number of stack frames must be a constant from 1 to {max}"),
                    )
                    .with_label("not a frame count")
                    .with_help(format!(
                        "the kernel walks at most {max} frames (`perf_event_max_stack`)"
                    )),
                );
                None
            }
        }
    }

    /// `kaddr("name")`: the symbol's address from `/proc/kallsyms`, a constant in the program.
    pub(super) fn kaddr_call(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let arg = args.first()?;
        let ast::ExprKind::Str(name) = &arg.kind else {
            self.error(
                Diagnostic::error(
                    arg.span,
                    "kaddr() needs the symbol's name as a string literal",
                )
                .with_label("not a string literal")
                .with_help("for example `kaddr(\"jiffies\")`"),
            );
            return None;
        };
        match kallsyms::kernel_symbol_address(name) {
            Ok(addr) => Some(typed(ExprKind::Int(addr as i64), Type::U64, span)),
            Err(e) => {
                self.error(kaddr_error(name, arg.span, e));
                None
            }
        }
    }

    /// `ksym(addr)` / `usym(addr)`: the address, printed later as its symbol.
    pub(super) fn symbol_call(
        &mut self,
        user: bool,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let addr = self.expr(args.first()?)?;
        if !addr.ty.is_scalar() {
            let name = if user { "usym" } else { "ksym" };
            self.error(
                Diagnostic::error(
                    addr.span,
                    format!("{name}() needs an address, not `{}`", addr.ty),
                )
                .with_label("not an address")
                .with_help(format!(
                    "{name}() takes an integer or pointer holding a {} address",
                    if user { "user-space" } else { "kernel" }
                )),
            );
            return None;
        }
        Some(typed(
            ExprKind::Symbol {
                addr: Box::new(addr),
                user,
            },
            Type::Symbol { user },
            span,
        ))
    }
}
