//! `reg("ip")`: a register as the probed code left it, read from the `struct pt_regs` that
//! uprobe, USDT and perf-event (profile, interval, software, hardware) programs get, with
//! bpftrace's register names (`ip`, `sp`, `ax`, `di`, `r8`, …).

use super::{typed, ClauseChecker};
use crate::ir::{Expr, ExprKind};
use crate::probes::Context;
use crate::Type;
use rdt_syntax::{ast, Diagnostic, Span};

/// Probe kinds whose program context holds the interrupted registers (perf events).
const PERF_EVENT_KINDS: &[&str] = &[
    "profile", "p", "interval", "i", "software", "s", "hardware", "h",
];

impl ClauseChecker<'_> {
    pub(super) fn reg_call(&mut self, arg: &ast::Expr, span: Span) -> Option<Expr> {
        let ast::ExprKind::Str(name) = &arg.kind else {
            self.error(
                Diagnostic::error(arg.span, "reg() needs a register name in quotes")
                    .with_label("not a string literal")
                    .with_help("for example `reg(\"ip\")`, `reg(\"sp\")`, `reg(\"di\")`"),
            );
            return None;
        };
        let Some(offset) = rdt_btf::pt_regs::reg_offset(name) else {
            self.error(
                Diagnostic::error(arg.span, format!("`{name}` is not an x86-64 register"))
                    .with_label("unknown register")
                    .with_help(
                        "registers: ip sp bp ax bx cx dx si di r8 … r15 orig_ax flags cs ss",
                    ),
            );
            return None;
        };
        if !self.has_saved_registers() {
            self.error(
                Diagnostic::error(
                    span,
                    format!("reg() is not available in {} probes", self.probe_kind),
                )
                .with_label("this probe's context holds no registers")
                .with_help(
                    "use reg() in uprobe, usdt, profile, interval, software or hardware probes",
                ),
            );
            return None;
        }
        Some(typed(ExprKind::CtxField { offset }, Type::U64, span))
    }

    /// Whether the program's context is (or starts with) a `struct pt_regs`. kprobes are left
    /// out: where the kernel lacks them rdt runs them as fentry programs, without pt_regs.
    fn has_saved_registers(&self) -> bool {
        matches!(self.context, Context::Uprobe { .. } | Context::Usdt(_))
            || PERF_EVENT_KINDS.contains(&self.probe_kind)
    }
}
