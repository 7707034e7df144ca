//! Expressions over kernel types: `curtask`, casts to `struct foo *`, `->` and `.` chains,
//! indexing, `*p`, bitfields, `sizeof` and `offsetof`.
//!
//! Struct and array values are places (an `ExprKind::Deref` whose address is computed but never
//! read): `->`/`.` and `[i]` only move the address, so `curtask->real_parent->comm` reads two
//! pointers and one string, exactly like the C it looks like.

use super::{int_type_named, typed, ClauseChecker, U64};
use crate::ir::{Builtin, Expr, ExprKind};
use crate::ktypes::{self, KernelType};
use crate::Type;
use rdt_btf::btf::{Member, NameKind, TypeRef};
use rdt_syntax::ast::{self, BinOp};
use rdt_syntax::{did_you_mean, Diagnostic, Span};

impl ClauseChecker<'_> {
    /// `curtask`: the current task, typed `struct task_struct *` from BTF.
    pub(super) fn curtask(&mut self, span: Span) -> Option<Expr> {
        let task = match ktypes::named("struct task_struct") {
            Ok(Some(t)) => t,
            Ok(None) => {
                return self.no_btf(span, "the kernel's BTF has no `struct task_struct`".into())
            }
            Err(why) => return self.no_btf(span, why),
        };
        let ty = Type::Ptr {
            to: Box::new(task),
            user: false,
        };
        Some(typed(ExprKind::Builtin(Builtin::Curtask), ty, span))
    }

    fn no_btf(&mut self, span: Span, why: String) -> Option<Expr> {
        self.error(
            Diagnostic::error(span, "kernel types are not available")
                .with_label("needs kernel BTF")
                .with_help(why),
        );
        None
    }

    /// `base.field` / `base->field` on anything but the probe's `args`.
    pub(super) fn kernel_field(
        &mut self,
        base: &ast::Expr,
        field: &str,
        field_span: Span,
        arrow: bool,
        span: Span,
    ) -> Option<Expr> {
        let value = self.expr(base)?;
        let place = match (&value.ty, arrow) {
            (Type::Ptr { to, user }, true) if is_record(to) => {
                let (to, user) = ((**to).clone(), *user);
                typed(
                    ExprKind::Deref {
                        addr: Box::new(value),
                        user,
                    },
                    to,
                    span,
                )
            }
            (Type::Kernel(KernelType::Record { .. }), false) => value,
            (Type::Ptr { to, .. }, false) if is_record(to) => {
                let d = Diagnostic::error(
                    span,
                    format!("`.` needs a struct, but this is a pointer (`{}`)", value.ty),
                )
                .with_label("a pointer")
                .with_help(format!(
                    "use `->` to reach a field through a pointer: `->{field}`"
                ));
                self.error(d);
                return None;
            }
            (Type::Kernel(KernelType::Record { .. }), true) => {
                let d = Diagnostic::error(
                    span,
                    format!("`->` needs a pointer, but this is a `{}` value", value.ty),
                )
                .with_label("not a pointer")
                .with_help(format!(
                    "use `.` to reach a field of a struct value: `.{field}`"
                ));
                self.error(d);
                return None;
            }
            (Type::Ptr { to, .. }, _) => {
                let d = Diagnostic::error(
                    value.span,
                    format!("`{}` points to `{to}`, which has no fields", value.ty),
                )
                .with_label("not a pointer to a struct")
                .with_help(
                    "cast it to the right pointer type first: `((struct name *)value)->field`",
                );
                self.error(d);
                return None;
            }
            (other, _) => {
                let d = Diagnostic::error(
                    value.span,
                    format!("cannot access field `{field}` of a `{other}` value"),
                )
                .with_label(if arrow {
                    "not a pointer"
                } else {
                    "not a struct"
                })
                .with_help(
                    "cast an address to a struct pointer first: `((struct name *)value)->field`",
                );
                self.error(d);
                return None;
            }
        };
        self.member(place, field, field_span, span)
    }

    /// Member `field` of the struct or union at `place`.
    fn member(&mut self, place: Expr, field: &str, field_span: Span, span: Span) -> Option<Expr> {
        if super::array_index::is_held_record(&place) {
            return self.held_member(place, field, field_span, span);
        }
        let (Type::Kernel(KernelType::Record { r, name, .. }), ExprKind::Deref { addr, user }) =
            (&place.ty, &place.kind)
        else {
            self.error(
                Diagnostic::error(span, format!("cannot reach field `{field}` of this value"))
                    .with_label("not a struct in memory")
                    .with_help("read the field where the struct is: `p->field`"),
            );
            return None;
        };
        let (r, user) = (*r, *user);
        let member = self.find_member(r, name, field, field_span)?;
        let ty = ktypes::from_btf(r.with_id(member.ty), user);
        let addr = (**addr).clone();
        if member.bitfield_size > 0 {
            return Some(bitfield(addr, &member, &ty, user, span));
        }
        let addr = offset_by(addr, i64::from(member.bit_offset / 8));
        Some(read_at(addr, ty, user, span))
    }

    /// Member `field` of the struct or union `r` (named `name`), or a located error.
    pub(super) fn find_member(
        &mut self,
        r: TypeRef,
        name: &str,
        field: &str,
        field_span: Span,
    ) -> Option<Member<'_>> {
        match r.btf.member(r.id, field) {
            Ok(Some(m)) => Some(m),
            Ok(None) | Err(_) => {
                let names = r.btf.member_names(r.id);
                let mut d =
                    Diagnostic::error(field_span, format!("`{name}` has no field `{field}`"))
                        .with_label("unknown field");
                if let Some(near) = did_you_mean(field, names.iter().copied()) {
                    d = d.with_help(format!("did you mean `{near}`?"));
                } else if names.len() <= 12 {
                    d = d.with_help(format!("its fields are: {}", names.join(", ")));
                } else {
                    d = d.with_help(format!("`rdt -lv '{name}'` prints its fields"));
                }
                self.error(d);
                None
            }
        }
    }

    /// `*p`.
    pub(super) fn deref(&mut self, operand: &ast::Expr, span: Span) -> Option<Expr> {
        let value = self.expr(operand)?;
        let (to, user) = self.pointee(&value, "dereference")?;
        Some(read_at(value, to, user, span))
    }

    /// What a pointer points to, or a diagnostic for a value that cannot be dereferenced.
    fn pointee(&mut self, value: &Expr, what: &str) -> Option<(Type, bool)> {
        match &value.ty {
            Type::Ptr { to, user } if **to != Type::Void => Some(((**to).clone(), *user)),
            Type::Ptr { .. } => {
                self.error(
                    Diagnostic::error(value.span, format!("cannot {what} a `void *`"))
                        .with_label("points to nothing typed")
                        .with_help(
                            "cast it to a pointer to the right type: `(struct name *)value`",
                        ),
                );
                None
            }
            other => {
                self.error(
                    Diagnostic::error(
                        value.span,
                        format!("cannot {what} a `{other}`: it is not a pointer"),
                    )
                    .with_label("not a pointer")
                    .with_help("cast it to a pointer type first: `(struct name *)value`"),
                );
                None
            }
        }
    }

    /// `base[index]`: an element of an array or string member, or of the memory a pointer
    /// points to.
    pub(super) fn index(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        if let Some(arg) = self.positional_args(base, index, span) {
            return arg;
        }
        let value = self.expr(base);
        let idx = self.expr(index);
        let (value, idx) = (value?, idx?);
        if !idx.ty.is_int() {
            self.error(
                Diagnostic::error(
                    idx.span,
                    format!("an index must be an integer, not `{}`", idx.ty),
                )
                .with_label("not an integer"),
            );
            return None;
        }
        if let ExprKind::CtxField { offset } = value.kind {
            return self.ctx_array_element(&value, offset, idx);
        }
        if super::array_index::is_held_array(&value) {
            return self.held_array_element(value, idx, span);
        }
        let (start, elem, len, user) = match (&value.ty, &value.kind) {
            (Type::Kernel(KernelType::Array { elem, len }), ExprKind::Deref { addr, user }) => {
                ((**addr).clone(), (**elem).clone(), Some(*len), *user)
            }
            (Type::Str { size }, ExprKind::Deref { addr, user }) => {
                let byte = Type::Int {
                    bits: 8,
                    signed: true,
                };
                ((**addr).clone(), byte, Some(*size), *user)
            }
            (Type::Ptr { .. }, _) => {
                let (to, user) = self.pointee(&value, "index")?;
                (value, to, None, user)
            }
            (other, _) => {
                self.error(
                    Diagnostic::error(value.span, format!("cannot index a `{other}`"))
                        .with_label("not an array or a pointer"),
                );
                return None;
            }
        };
        let size = i64::from(elem.size().max(1));
        let addr = match idx.kind {
            ExprKind::Int(i) => {
                if let Some(len) = len.filter(|&l| l > 0 && (i < 0 || i >= i64::from(l))) {
                    self.error(
                        Diagnostic::error(idx.span, format!("index {i} is out of bounds"))
                            .with_label(format!("the array has {len} elements")),
                    );
                    return None;
                }
                offset_by(start, i.wrapping_mul(size))
            }
            _ => {
                let scaled = typed(
                    ExprKind::Binary {
                        op: BinOp::Mul,
                        lhs: Box::new(idx),
                        rhs: Box::new(typed(ExprKind::Int(size), U64, span)),
                    },
                    U64,
                    span,
                );
                typed(
                    ExprKind::Binary {
                        op: BinOp::Add,
                        lhs: Box::new(start),
                        rhs: Box::new(scaled),
                    },
                    U64,
                    span,
                )
            }
        };
        Some(read_at(addr, elem, user, span))
    }

    /// The type a cast or `sizeof` names: an rdt integer type, `struct x`, `union x`, `enum x`,
    /// with pointer stars. `None` after reporting an unknown name.
    pub(super) fn named_type(
        &mut self,
        name: &str,
        pointer_depth: u32,
        span: Span,
    ) -> Option<Type> {
        let base = if let Some(t) = int_type_named(name) {
            t
        } else if name == "void" {
            Type::Void
        } else {
            match ktypes::named(name) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    let mut d = Diagnostic::error(span, format!("unknown type `{name}`"))
                        .with_label("the kernel's BTF has no such type");
                    let candidates = ktypes::similar_names(name);
                    let limit = (name.len() / 3).max(1);
                    let close = candidates
                        .iter()
                        .filter(|c| c.len().abs_diff(name.len()) <= limit)
                        .map(String::as_str);
                    if let Some(near) = did_you_mean(name, close) {
                        d = d.with_help(format!("did you mean `{near}`?"));
                    }
                    self.error(d);
                    return None;
                }
                Err(why) => {
                    self.no_btf(span, why);
                    return None;
                }
            }
        };
        let mut ty = base;
        for _ in 0..pointer_depth {
            ty = Type::Ptr {
                to: Box::new(ty),
                // Pointers made from plain numbers point into user memory in user-space probes.
                user: self.context.user_space(),
            };
        }
        Some(ty)
    }

    /// Every cast: `(uint32)x` and `(pid_t)x` convert a number; `(struct foo *)expr` and
    /// `(int8 *)expr` reinterpret a number or pointer as a typed pointer.
    pub(super) fn cast(
        &mut self,
        ty: &ast::TypeName,
        expr: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        let value = self.expr(expr);
        let target = self.named_type(&ty.name, ty.pointer_depth, ty.span);
        let (value, mut target) = (value?, target?);
        if ty.pointer_depth == 0 && target.is_int() && value.ty.is_scalar() {
            // A kernel typedef of an integer: `(pid_t)x`, `(size_t)x`.
            return Some(typed(ExprKind::Cast(Box::new(value)), target, span));
        }
        if ty.pointer_depth == 0 && target.is_int() {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("cannot cast `{}` to `{}`", value.ty, ty.name),
                )
                .with_label("not a number"),
            );
            return None;
        }
        if ty.pointer_depth == 0 {
            self.error(
                Diagnostic::error(ty.span, format!("cannot cast a value to `{}`", ty.name))
                    .with_label("a struct is not a number")
                    .with_help(format!("cast to a pointer instead: `({} *)`", ty.name)),
            );
            return None;
        }
        if !value.ty.is_scalar() {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("cannot cast `{}` to a pointer", value.ty),
                )
                .with_label("not a number or a pointer"),
            );
            return None;
        }
        // A pointer keeps its address space through casts.
        if let (
            Type::Ptr { user, .. },
            Type::Ptr {
                user: target_user, ..
            },
        ) = (&value.ty, &mut target)
        {
            *target_user = *user;
        }
        Some(typed(ExprKind::Cast(Box::new(value)), target, span))
    }

    /// `kptr(p)` / `uptr(p)`: the same address, read from kernel or user memory.
    pub(super) fn address_space(
        &mut self,
        args: &[ast::Expr],
        user: bool,
        span: Span,
    ) -> Option<Expr> {
        let mut value = self.expr(args.first()?)?;
        match &mut value.ty {
            Type::Ptr { user: u, .. } => *u = user,
            other if other.is_int() => {
                value.ty = Type::Ptr {
                    to: Box::new(Type::Int {
                        bits: 8,
                        signed: true,
                    }),
                    user,
                }
            }
            other => {
                let d = Diagnostic::error(value.span, format!("`{other}` is not an address"))
                    .with_label("not a pointer");
                self.error(d);
                return None;
            }
        }
        value.span = span;
        Some(value)
    }

    /// `sizeof(type)` / `sizeof(expr)`: a constant.
    pub(super) fn size_of(&mut self, arg: &ast::Expr, span: Span) -> Option<Expr> {
        let size = match &arg.kind {
            ast::ExprKind::Ident(name) if is_type_spelling(name) => {
                let (base, depth) = split_stars(name);
                self.named_type(base, depth, arg.span)?.size()
            }
            // A kernel typedef the lexer does not know as a type word: `sizeof(pid_t)`.
            ast::ExprKind::Ident(name) if !is_builtin_name(name) => match ktypes::named(name) {
                Ok(Some(t)) => t.size(),
                _ => self.expr(arg)?.ty.size(),
            },
            _ => self.expr(arg)?.ty.size(),
        };
        Some(typed(ExprKind::Int(i64::from(size)), U64, span))
    }

    /// `offsetof(struct x, field)`, `offsetof(struct x, a.b)`: a constant.
    pub(super) fn offset_of(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let [ty, path] = args else { return None };
        let ast::ExprKind::Ident(name) = &ty.kind else {
            self.error(
                Diagnostic::error(ty.span, "offsetof() needs a struct type first")
                    .with_label("not a type")
                    .with_help("offsetof(struct task_struct, pid)"),
            );
            return None;
        };
        let record = match self.named_type(name, 0, ty.span)? {
            Type::Kernel(KernelType::Record { r, .. }) => r,
            other => {
                self.error(
                    Diagnostic::error(ty.span, format!("`{other}` is not a struct or union"))
                        .with_label("has no fields"),
                );
                return None;
            }
        };
        let mut fields = Vec::new();
        if !field_path(path, &mut fields) {
            self.error(
                Diagnostic::error(path.span, "offsetof() needs a field name")
                    .with_label("not a field")
                    .with_help("offsetof(struct task_struct, pid)"),
            );
            return None;
        }
        let mut current = record;
        let mut offset = 0u32;
        for (field, field_span) in fields {
            let place = typed(
                ExprKind::Deref {
                    addr: Box::new(typed(ExprKind::Int(0), U64, span)),
                    user: false,
                },
                ktypes::from_btf(current, false),
                span,
            );
            let member = self.member(place, &field, field_span, span)?;
            let Ok(Some(m)) = current.btf.member(current.id, &field) else {
                return None;
            };
            offset += m.bit_offset / 8;
            match member.ty {
                Type::Kernel(KernelType::Record { r, .. }) => current = r,
                _ => current = current.with_id(m.ty),
            }
        }
        Some(typed(ExprKind::Int(i64::from(offset)), U64, span))
    }

    /// `print(*p)`, `print(p->struct_member)`: the whole struct, copied into the event
    /// record and laid out in user space from BTF as bpftrace does (`{ .a = 1, .b = { … } }`).
    /// `None` when the argument is not a kernel struct (other `print` uses are not
    /// handled here).
    pub(super) fn print_kernel_value(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Option<crate::ir::StmtKind>> {
        let [arg] = args else { return None };
        if name != "print" {
            return None;
        }
        let mut quiet = Vec::new();
        std::mem::swap(self.diags, &mut quiet);
        let probe = self.expr(arg);
        std::mem::swap(self.diags, &mut quiet);
        if !matches!(probe?.ty, Type::Kernel(KernelType::Record { .. })) {
            return None;
        }
        let value = self.expr(arg)?;
        if value.ty.size() > MAX_PRINTED_BYTES {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!(
                        "`{}` is {} bytes, too large to print whole",
                        value.ty,
                        value.ty.size()
                    ),
                )
                .with_label(format!("print() copies at most {MAX_PRINTED_BYTES} bytes"))
                .with_help("print the members you need"),
            );
            return Some(None);
        }
        let event = self.events.len();
        self.events.push(crate::ir::Event::Printf {
            format: crate::format::Format::new("%s\n"),
            args: vec![value.ty.clone()],
            span,
            time_formats: vec![None],
        });
        Some(Some(crate::ir::StmtKind::Printf {
            event,
            args: vec![value],
        }))
    }

    /// The enum type of an expression whose value a `%s` should name: a kernel struct member,
    /// a typed probe argument, or a cast to `enum x`. `None` for everything else.
    pub(super) fn enum_type_of(&mut self, e: &ast::Expr) -> Option<Type> {
        match &e.kind {
            ast::ExprKind::Cast { ty, .. } if ty.pointer_depth == 0 => {
                let name = ty.name.strip_prefix("enum ")?;
                let r = TypeRef::find(NameKind::Enum, name).ok()??;
                ktypes::as_enum(r)
            }
            ast::ExprKind::Field { base, field, .. } => {
                if matches!(&base.kind, ast::ExprKind::Ident(n) if n == "args") {
                    let r = self.context.arg_btf_type(field)?;
                    return ktypes::as_enum(r);
                }
                // The base was checked already: typing it again reports nothing new.
                let mut quiet = Vec::new();
                std::mem::swap(self.diags, &mut quiet);
                let base = self.expr(base);
                std::mem::swap(self.diags, &mut quiet);
                let record = match base?.ty {
                    Type::Kernel(KernelType::Record { r, .. }) => r,
                    Type::Ptr { to, .. } => match *to {
                        Type::Kernel(KernelType::Record { r, .. }) => r,
                        _ => return None,
                    },
                    _ => return None,
                };
                let member = record.btf.member(record.id, field).ok()??;
                ktypes::as_enum(record.with_id(member.ty))
            }
            _ => self.stored_enum_of(e),
        }
    }

    /// Comparing a user-space pointer with a kernel pointer is always false: report it.
    pub(super) fn check_address_spaces(&mut self, l: &Expr, r: &Expr, span: Span) -> Option<()> {
        if let (Type::Ptr { user: lu, .. }, Type::Ptr { user: ru, .. }) = (&l.ty, &r.ty) {
            if lu != ru {
                let side = |u: bool| {
                    if u {
                        "a user-space pointer"
                    } else {
                        "a kernel pointer"
                    }
                };
                self.error(
                    Diagnostic::error(span, "these pointers are in different address spaces")
                        .with_label("a user-space and a kernel address are never equal")
                        .with_secondary(l.span, side(*lu))
                        .with_secondary(r.span, side(*ru))
                        .with_help("if one of them is mislabelled, say which it is with `uptr(p)` or `kptr(p)`"),
                );
                return None;
            }
        }
        Some(())
    }
}

/// The largest struct `print()` copies into an event record (the record is assembled in the
/// per-CPU scratch value).
const MAX_PRINTED_BYTES: u32 = 8192;

fn is_builtin_name(name: &str) -> bool {
    crate::builtins::builtin(name).is_some()
        || crate::builtins::CONTEXT_NAMES.contains(&name)
        || name.starts_with("arg")
}

fn is_record(t: &Type) -> bool {
    matches!(t, Type::Kernel(KernelType::Record { .. }))
}

/// Whether a `sizeof` argument the parser kept as an identifier is a type's spelling.
fn is_type_spelling(name: &str) -> bool {
    let (base, _) = split_stars(name);
    int_type_named(base).is_some()
        || ["struct ", "union ", "enum "]
            .iter()
            .any(|p| base.starts_with(p))
}

/// `struct x * *` → (`struct x`, 2): the parser spells pointer types with spaced stars.
fn split_stars(name: &str) -> (&str, u32) {
    let base = name.trim_end_matches(['*', ' ']);
    (base, name[base.len()..].matches('*').count() as u32)
}

/// `a.b.c` → [a, b, c].
fn field_path(e: &ast::Expr, out: &mut Vec<(String, Span)>) -> bool {
    match &e.kind {
        ast::ExprKind::Ident(n) => {
            out.push((n.clone(), e.span));
            true
        }
        ast::ExprKind::Field {
            base,
            field,
            field_span,
            arrow: false,
        } => {
            let ok = field_path(base, out);
            out.push((field.clone(), *field_span));
            ok
        }
        _ => false,
    }
}

/// The value of type `ty` at `addr`.
fn read_at(addr: Expr, ty: Type, user: bool, span: Span) -> Expr {
    typed(
        ExprKind::Deref {
            addr: Box::new(addr),
            user,
        },
        ty,
        span,
    )
}

/// `addr + offset`, folding constant offsets so a chain of `.` adds once.
fn offset_by(addr: Expr, offset: i64) -> Expr {
    if offset == 0 {
        return addr;
    }
    let span = addr.span;
    if let ExprKind::Binary {
        op: BinOp::Add,
        lhs,
        rhs,
    } = &addr.kind
    {
        if let ExprKind::Int(k) = rhs.kind {
            return offset_by((**lhs).clone(), k.wrapping_add(offset));
        }
    }
    typed(
        ExprKind::Binary {
            op: BinOp::Add,
            lhs: Box::new(addr),
            rhs: Box::new(typed(ExprKind::Int(offset), U64, span)),
        },
        U64,
        span,
    )
}

/// A bitfield: read the smallest aligned-size word that holds it, shift it down and mask it
/// (sign-extending signed fields).
fn bitfield(addr: Expr, m: &Member, ty: &Type, user: bool, span: Span) -> Expr {
    let first_byte = m.bit_offset / 8;
    let last_byte = (m.bit_offset + m.bitfield_size).div_ceil(8);
    let width = (last_byte - first_byte).next_power_of_two().min(8);
    let shift = i64::from(m.bit_offset - first_byte * 8);
    let bits = i64::from(m.bitfield_size);
    let signed = matches!(ty, Type::Int { signed: true, .. });
    let word = read_at(
        offset_by(addr, i64::from(first_byte)),
        Type::Int {
            bits: (width * 8) as u8,
            signed: false,
        },
        user,
        span,
    );
    let int = |v: i64| typed(ExprKind::Int(v), U64, span);
    let op = |op, lhs: Expr, rhs: Expr, ty: Type| {
        typed(
            ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            ty,
            span,
        )
    };
    // Move the field to the top of the register, then shift it down: arithmetically for signed
    // fields, which sign-extends them.
    // (A field wider than the 8 bytes read — never seen in a kernel — keeps its low bits.)
    let up = op(BinOp::Shl, word, int((64 - shift - bits).max(0)), U64);
    let result_ty = Type::Int { bits: 64, signed };
    let down = op(BinOp::Shr, up, int(64 - bits), result_ty.clone());
    typed(ExprKind::Cast(Box::new(down)), ty_or(ty, result_ty), span)
}

fn ty_or(ty: &Type, fallback: Type) -> Type {
    if ty.is_int() {
        ty.clone()
    } else {
        fallback
    }
}

impl ClauseChecker<'_> {
    /// D's `args[N]`: the probe's N-th argument by position, where its arguments have an order
    /// (`fbt::vfs_read:entry { args[2] }`, `syscall::read:entry { args[0] }`).
    fn positional_args(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        span: Span,
    ) -> Option<Option<Expr>> {
        let (ast::ExprKind::Ident(name), ast::ExprKind::Int(n)) = (&base.kind, &index.kind) else {
            return None;
        };
        if name != "args" {
            return None;
        }
        match self.context.arg_at(*n, span)? {
            Ok(r) => Some(Some(typed(r.kind, r.ty, span))),
            Err(d) => {
                self.error(d);
                Some(None)
            }
        }
    }
}
