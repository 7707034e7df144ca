//! D's `curpsinfo`: the current process as DTrace's `psinfo_t` describes it. Its members are
//! the builtins they mean (`pr_pid` is `pid`, `pr_fname` is `execname`) and `pr_psargs`, the
//! command line: the process's argument strings from `mm->arg_start` to `mm->arg_end` in user
//! memory, NULs turned into spaces, at most `PRARGSZ` bytes (lowered in codegen's
//! lower/dstrings.rs).

use super::{typed, ClauseChecker};
use crate::ir::{DStringOp, Expr, ExprKind};
use crate::Type;
use rdt_syntax::{ast, did_you_mean, Diagnostic, Span};

/// Bytes of `pr_psargs`, NUL included (Solaris's PRARGSZ).
pub const PRARGSZ: u32 = 80;

const MEMBERS: &[&str] = &[
    "pr_pid",
    "pr_ppid",
    "pr_uid",
    "pr_gid",
    "pr_fname",
    "pr_psargs",
];

/// Whether `base` is `curpsinfo`.
pub(super) fn is_psinfo_base(base: &ast::Expr) -> bool {
    matches!(&base.kind, ast::ExprKind::Ident(n) if n == "curpsinfo")
}

impl ClauseChecker<'_> {
    /// `curpsinfo->member`.
    pub(super) fn psinfo_member(
        &mut self,
        member: &str,
        member_span: Span,
        span: Span,
    ) -> Option<Expr> {
        match member {
            // The builtins they are, resolved as the script's own `pid` would be.
            "pr_pid" => self.ident("pid", span),
            "pr_uid" => self.ident("uid", span),
            "pr_gid" => self.ident("gid", span),
            "pr_fname" => self.ident("comm", span),
            "pr_ppid" => self.ident("ppid", span),
            "pr_psargs" => self.psargs(span),
            _ => {
                let mut d =
                    Diagnostic::error(member_span, format!("`curpsinfo` has no member `{member}`"))
                        .with_label("not a member rdt knows");
                if let Some(near) = did_you_mean(member, MEMBERS.iter().copied()) {
                    d = d.with_help(format!("did you mean `{near}`?"));
                }
                self.error(d.with_help(format!("its members are: {}", MEMBERS.join(", "))));
                None
            }
        }
    }

    fn psargs(&mut self, span: Span) -> Option<Expr> {
        let start = self.curtask_chain(&["mm", "arg_start"], span)?;
        let end = self.curtask_chain(&["mm", "arg_end"], span)?;
        Some(typed(
            ExprKind::DString {
                op: DStringOp::Psargs,
                args: vec![start, end],
            },
            Type::Str { size: PRARGSZ },
            span,
        ))
    }
}
