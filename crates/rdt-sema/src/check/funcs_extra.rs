//! Builtins and functions whose values become text in user space (`username`, D's `cwd`,
//! `ntop()`, `cgroup_path()`, `buf()`), `cgroupid()` resolved when compiling, and the output
//! statement `cat()`. Their table rows are in builtins.rs; check.rs dispatches here with one
//! line each for identifiers, calls and statements (D's `trace()` is `print()` there).

use super::{typed, ClauseChecker};
use crate::builtins::{self, Function};
use crate::ir::{Event, Expr, ExprKind, StmtKind};
use crate::types::TextKind;
use crate::Type;
use rdt_syntax::ast;
use rdt_syntax::{Diagnostic, Span};

/// Largest `buf()` length: the record must fit the BPF stack with room to spare.
pub const MAX_BUF_LEN: u32 = 256;

const AF_INET: i64 = 2;
const AF_INET6: i64 = 10;

/// `buf()`'s length: a constant, or a value known only when the probe fires.
enum BufLength {
    Constant(u32),
    Runtime(Expr),
}

fn text(kind: TextKind, args: Vec<Expr>, span: Span) -> Expr {
    typed(ExprKind::Text { args }, Type::Text(kind), span)
}

impl ClauseChecker<'_> {
    /// `username` and `cwd`; `None` for any other name.
    pub(super) fn extra_ident(&mut self, name: &str, span: Span) -> Option<Option<Expr>> {
        let kind = match name {
            "username" => TextKind::Username,
            "cwd" => TextKind::Cwd,
            _ => return None,
        };
        Some(Some(text(kind, Vec::new(), span)))
    }

    /// A call of one of the functions checked here used as a value; `None` for any other name
    /// (and for `cat()` and `trace()`, which check.rs reports as having no value).
    pub(super) fn extra_call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Option<Expr>> {
        let function = builtins::function(name).map(|d| d.function).filter(|f| {
            f.is_checked_in_funcs_extra() && !matches!(f, Function::Cat | Function::Trace)
        })?;
        Some(self.extra_value(function, name, name_span, args, span))
    }

    fn extra_value(
        &mut self,
        function: Function,
        name: &str,
        name_span: Span,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        self.call_arity(name, name_span, args)?;
        match function {
            Function::Ntop => self.ntop(args, span),
            Function::Macaddr => self.macaddr(&args[0], span),
            Function::Cgroupid => self.cgroupid(&args[0], span),
            Function::CgroupPath => {
                let id = self.integer_arg(
                    &args[0],
                    "cgroup_path() needs a cgroup id",
                    "cgroup_path(cgroup)",
                )?;
                Some(text(TextKind::CgroupPath, vec![id], span))
            }
            Function::Strerror => {
                let errno = self.integer_arg(
                    &args[0],
                    "strerror() needs an error number",
                    "strerror(retval)",
                )?;
                Some(text(TextKind::Strerror, vec![errno], span))
            }
            Function::Buf => self.buf(args, span),
            Function::Uaddr => self.uaddr_call(&args[0], span),
            _ => None,
        }
    }

    /// `cat(format, args…)`: checked like printf; user space prints the named file's contents.
    pub(super) fn cat(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        self.printf_as(args, span, |format, args, span| Event::Cat {
            format,
            args,
            span,
        })
    }

    /// `ntop(addr)` (IPv4 from an integer, IPv4 or IPv6 from a 4- or 16-byte array) and
    /// `ntop(af, addr)`.
    fn ntop(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let (family, addr) = match args {
            [addr] => (None, addr),
            [family, addr, ..] => (Some(family), addr),
            [] => return None,
        };
        let addr = self.expr(addr)?;
        let array = matches!(
            addr.ty,
            Type::Str { .. } | Type::Kernel(crate::ktypes::KernelType::Array { .. })
        );
        let size = if addr.ty.is_int() {
            Some(4)
        } else if array && matches!(addr.ty.size(), 4 | 16) {
            Some(addr.ty.size())
        } else {
            None
        };
        let Some(size) = size else {
            self.error(
                Diagnostic::error(
                    addr.span,
                    format!(
                        "ntop() needs an IPv4 address (an integer or 4 bytes) or an IPv6 address (16 bytes), not `{}`",
                        addr.ty
                    ),
                )
                .with_label("not an address")
                .with_help("for example `ntop(args.saddr)` or `ntop(AF_INET6, args.saddr_v6)`"),
            );
            return None;
        };
        let implied = if size == 16 { AF_INET6 } else { AF_INET };
        let family = match family {
            None => typed(ExprKind::Int(implied), Type::I64, span),
            Some(f) => {
                let f = self.expr(f)?;
                match f.kind {
                    ExprKind::Int(n) if n == implied => f,
                    ExprKind::Int(n) if n == AF_INET || n == AF_INET6 => {
                        self.error(
                            Diagnostic::error(
                                addr.span,
                                format!(
                                    "an {} address has {} bytes, this one has {size}",
                                    if n == AF_INET { "AF_INET" } else { "AF_INET6" },
                                    if n == AF_INET { 4 } else { 16 },
                                ),
                            )
                            .with_label("wrong size for the address family")
                            .with_help("AF_INET addresses have 4 bytes, AF_INET6 addresses 16"),
                        );
                        return None;
                    }
                    _ => {
                        self.error(
                            Diagnostic::error(
                                f.span,
                                "the address family must be AF_INET (2) or AF_INET6 (10)",
                            )
                            .with_label("not an address family")
                            .with_help("for example `ntop(AF_INET6, args.saddr_v6)`"),
                        );
                        return None;
                    }
                }
            }
        };
        Some(text(TextKind::Ntop, vec![family, addr], span))
    }

    /// `macaddr(addr)`: the 6 bytes of a MAC address, from a 6-byte array or from memory at a
    /// pointer (an integer is an address: user memory in a user-space probe, kernel otherwise).
    fn macaddr(&mut self, arg: &ast::Expr, span: Span) -> Option<Expr> {
        let addr = self.expr(arg)?;
        let addr = self.user_address(addr);
        let addr = if addr.ty.is_int() {
            super::user::char_pointer(addr, false)
        } else {
            addr
        };
        let mac = TextKind::MAC_ADDR;
        let usable = match &addr.ty {
            Type::Ptr { .. } => true,
            Type::Str { .. } | Type::Kernel(crate::ktypes::KernelType::Array { .. }) => {
                addr.ty.size() == mac
            }
            _ => false,
        };
        if !usable {
            self.error(
                Diagnostic::error(
                    addr.span,
                    format!(
                        "macaddr() needs a {mac}-byte array or a pointer to one, not `{}`",
                        addr.ty
                    ),
                )
                .with_label("not a MAC address")
                .with_help("for example `macaddr(eth->h_source)` with `$eth = (struct ethhdr *)p`"),
            );
            return None;
        }
        Some(text(TextKind::Macaddr, vec![addr], span))
    }

    /// `cgroupid("/sys/fs/cgroup/…")`: the cgroup2 directory's inode number, which is the
    /// kernel's cgroup id (what `cgroup` and `bpf_get_current_cgroup_id` give).
    fn cgroupid(&mut self, arg: &ast::Expr, span: Span) -> Option<Expr> {
        let ast::ExprKind::Str(path) = &arg.kind else {
            self.error(
                Diagnostic::error(arg.span, "cgroupid() needs a path as a string literal")
                    .with_label("not a string literal")
                    .with_help("for example `cgroupid(\"/sys/fs/cgroup/system.slice\")`"),
            );
            return None;
        };
        match rdt_btf::cgroup::cgroup_inode(path) {
            Ok(id) => Some(typed(ExprKind::Int(id as i64), Type::U64, span)),
            Err(why) => {
                self.error(
                    Diagnostic::error(arg.span, format!("cannot find cgroup `{path}`: {why}"))
                        .with_label("not a cgroup2 directory")
                        .with_help(match rdt_btf::cgroup::cgroup2_mount() {
                            Some(m) => {
                                format!("cgroup2 is mounted at {m}; give a directory under it")
                            }
                            None => "cgroup2 is not mounted on this machine".to_string(),
                        }),
                );
                None
            }
        }
    }

    /// `buf(p, n)`: `n` (a constant) bytes at pointer `p`; `buf(array)`: a whole array.
    fn buf(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let data = self.expr(&args[0])?;
        let data = self.user_address(data);
        let array = matches!(
            data.ty,
            Type::Str { .. } | Type::Kernel(crate::ktypes::KernelType::Array { .. })
        );
        // A run-time length reads at most strsize bytes, like str() (bpftrace does the same).
        let (len, length) = match args.get(1) {
            Some(a) => match self.buf_length(a)? {
                BufLength::Constant(n) => (Some(n), None),
                BufLength::Runtime(e) => (Some(self.strsize.min(MAX_BUF_LEN)), Some(e)),
            },
            None => (None, None),
        };
        let len = match (len, array) {
            (Some(n), true) => n.min(data.ty.size()),
            (Some(n), false) if data.ty.is_scalar() => n,
            (None, true) => data.ty.size().min(MAX_BUF_LEN),
            _ => {
                self.error(
                    Diagnostic::error(
                        data.span,
                        format!(
                            "buf() needs a pointer and a length, or an array; not `{}`{}",
                            data.ty,
                            if data.ty.is_scalar() { " alone" } else { "" }
                        ),
                    )
                    .with_label("no length known")
                    .with_help("for example `buf(arg1, 16)`"),
                );
                return None;
            }
        };
        let length =
            length.unwrap_or_else(|| typed(ExprKind::Int(i64::from(len)), Type::U64, span));
        Some(text(TextKind::Buf { size: len }, vec![data, length], span))
    }

    fn buf_length(&mut self, arg: &ast::Expr) -> Option<BufLength> {
        let value = self.expr(arg)?;
        match value.kind {
            ExprKind::Int(n) if (0..=i64::from(MAX_BUF_LEN)).contains(&n) => {
                Some(BufLength::Constant(n as u32))
            }
            _ if value.ty.is_int() && !matches!(value.kind, ExprKind::Int(_)) => {
                Some(BufLength::Runtime(value))
            }
            _ => {
                self.error(
                    Diagnostic::error(
                        value.span,
                        format!("the length of buf() must be an integer; a constant may be at most {MAX_BUF_LEN}"),
                    )
                    .with_label("not a usable length")
                    .with_help("for example `buf(arg1, 16)` or `buf(args.buf, args.count)`"),
                );
                None
            }
        }
    }

    /// The integer argument of a function; otherwise `message`, with a call that `example`
    /// shows done right.
    pub(super) fn integer_arg(
        &mut self,
        arg: &ast::Expr,
        message: &str,
        example: &str,
    ) -> Option<Expr> {
        let value = self.expr(arg)?;
        if !value.ty.is_scalar() {
            self.error(
                Diagnostic::error(value.span, format!("{message}, not `{}`", value.ty))
                    .with_label("not an integer")
                    .with_help(format!("for example `{example}`")),
            );
            return None;
        }
        Some(value)
    }
}
