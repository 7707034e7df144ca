//! `func` in kprobes: the traced function's address (`bpf_get_func_ip`), printed as its name
//! like `ksym()`, so one program serves every function of a wildcard. Compared with a string
//! (`func == "vfs_read"`), the string names a kernel function whose addresses (from
//! `/proc/kallsyms`) become constants of the program.

use super::{typed, ClauseChecker};
use crate::ir::{Builtin, Expr, ExprKind};
use crate::Type;
use rdt_syntax::ast::BinOp;
use rdt_syntax::{Diagnostic, Span};

/// The value of `func` (D: `probefunc`) in a kprobe or kretprobe.
pub(super) fn func_ip_symbol(span: Span) -> Expr {
    let addr = typed(ExprKind::Builtin(Builtin::FuncIp), Type::U64, span);
    typed(
        ExprKind::Symbol {
            addr: Box::new(addr),
            user: false,
        },
        Type::Symbol { user: false },
        span,
    )
}

/// A `ksym` compared with a string other than `func` with a literal: `ksym(addr)` can be anywhere
/// in a function, and a string variable is not known when the program is built.
pub(super) fn symbol_compared_to_string(string: Span, symbol: Span) -> Diagnostic {
    Diagnostic::error(string, "a kernel symbol cannot be compared with a string")
        .with_label("this is a string")
        .with_secondary(symbol, "this is `ksym`: an address printed as its name")
        .with_help("only `func` compares with a function's name, given as a literal: `func == \"vfs_read\"`")
}

impl ClauseChecker<'_> {
    /// `func == "name"` / `func != "name"`; `None` when the operands are not `func` and a
    /// string literal.
    pub(super) fn func_compared_to_name(
        &mut self,
        op: BinOp,
        l: &Expr,
        r: &Expr,
        span: Span,
    ) -> Option<Option<Expr>> {
        let (func, name, name_span) = match (&l.kind, &r.kind) {
            (ExprKind::Symbol { addr, user: false }, ExprKind::Str(s)) => (addr, s, r.span),
            (ExprKind::Str(s), ExprKind::Symbol { addr, user: false }) => (addr, s, l.span),
            _ => return None,
        };
        if !matches!(func.kind, ExprKind::Builtin(Builtin::FuncIp))
            || !matches!(op, BinOp::Eq | BinOp::Ne)
        {
            return None;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let addrs = match rdt_btf::kallsyms::text_addresses(&name) {
            Ok(addrs) if !addrs.is_empty() => addrs,
            Ok(_) => {
                self.error(
                    Diagnostic::error(name_span, format!("the kernel has no function `{name}`"))
                        .with_label("not in /proc/kallsyms")
                        .with_help(format!(
                            "`rdt -l 'kprobe:*{name}*'` lists the functions with similar names"
                        )),
                );
                return Some(None);
            }
            Err(why) => {
                self.error(
                    Diagnostic::error(name_span, format!("cannot find the address of `{name}`"))
                        .with_label("needed to compare it with `func`")
                        .with_help(why.to_string()),
                );
                return Some(None);
            }
        };
        Some(Some(address_test(op, func, &addrs, span)))
    }
}

/// `ip == a1 || ip == a2 …` (`!=`: `ip != a1 && …`): same-named static functions have several.
fn address_test(op: BinOp, ip: &Expr, addrs: &[u64], span: Span) -> Expr {
    let join = if op == BinOp::Eq {
        BinOp::LogOr
    } else {
        BinOp::LogAnd
    };
    let test = |addr: u64| {
        typed(
            ExprKind::Binary {
                op,
                lhs: Box::new(ip.clone()),
                rhs: Box::new(typed(ExprKind::Int(addr as i64), Type::U64, span)),
            },
            Type::U64,
            span,
        )
    };
    let mut acc = test(addrs[0]);
    for &addr in &addrs[1..] {
        acc = typed(
            ExprKind::Binary {
                op: join,
                lhs: Box::new(acc),
                rhs: Box::new(test(addr)),
            },
            Type::U64,
            span,
        );
    }
    acc
}
