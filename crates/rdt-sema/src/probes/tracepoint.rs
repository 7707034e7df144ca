//! `tracepoint:category:name` (wildcards allowed) and D's `syscall::name:entry|return`.
//!
//! Fields come from the tracefs `format` file. The `syscalls` category is special: each of its
//! events sits on the `raw_syscalls` tracepoints, and attaching a raw tracepoint costs 0.1 ms where
//! a perf-event tracepoint costs ~10 ms to attach and ~80 ms to detach (KERNEL.md). So a syscall
//! probe compiles to a raw tracepoint program on `sys_enter`/`sys_exit` that checks the syscall
//! number first and reads the arguments from the `pt_regs` the raw tracepoint passes. (Unlike the
//! perf-event path, 32-bit compat syscalls are not filtered out.)

use super::{unlocated, Context, Instance, Resolved};
use crate::ir::{Attach, ExprKind, ProgType};
use crate::Type;
use rdt_btf::tracefs::{self, EventFormat, Field};
use rdt_syntax::ast::BinOp;
use rdt_syntax::{did_you_mean, Diagnostic, Span};

#[derive(Debug, Clone)]
pub struct TracepointContext {
    category: String,
    name: String,
    format: EventFormat,
    syscall: Option<Syscall>,
}

#[derive(Debug, Clone, Copy)]
struct Syscall {
    nr: u32,
    enter: bool,
}

/// Offsets in x86-64 `struct pt_regs` of the six syscall argument registers (di si dx r10 r8 r9)
/// and of `orig_ax`, which holds the syscall number.
const SYSCALL_ARG_REGS: [u32; 6] = [112, 104, 96, 56, 72, 64];
const ORIG_AX: u32 = 120;
/// First syscall argument in a `syscalls:sys_enter_*` record (after the common fields and nr).
const SYSCALL_ARGS_OFFSET: u32 = 16;

pub fn expand(spec: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let Some((category, name)) = spec.split_once(':') else {
        return Err(Diagnostic::error(span, "invalid tracepoint")
            .with_label("expected `tracepoint:category:name`")
            .with_help("for example `tracepoint:syscalls:sys_enter_openat`; `rdt -l 'tracepoint:*'` lists them"));
    };
    let events = if is_glob(spec) {
        let found = tracefs::list_events(spec).map_err(|e| tracefs_error(e, span))?;
        if found.is_empty() {
            return Err(
                Diagnostic::error(span, format!("no tracepoint matches `{spec}`"))
                    .with_label("matches nothing"),
            );
        }
        found
    } else {
        vec![(category.to_string(), name.to_string())]
    };
    let mut instances: Vec<Instance> = events
        .iter()
        .map(|(c, n)| instance(c, n, span))
        .collect::<Result<_, _>>()?;
    if category == "syscalls" && (name == "sys_enter_*" || name == "sys_exit_*") {
        // Every syscall of that direction: the program needs no syscall-number check.
        for i in &mut instances {
            i.guard = None;
        }
    }
    Ok(instances)
}

/// `syscall::openat:entry` → `tracepoint:syscalls:sys_enter_openat`.
pub fn expand_d_syscall(spec: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (name, side) = match parts.as_slice() {
        [_module, name, "entry"] => (name, "enter"),
        [_module, name, "return"] => (name, "exit"),
        _ => {
            return Err(Diagnostic::error(span, "invalid syscall probe")
                .with_label("expected `syscall::name:entry` or `syscall::name:return`"))
        }
    };
    let name = if name.is_empty() { "*" } else { name };
    expand(&format!("syscalls:sys_{side}_{name}"), span)
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn instance(category: &str, name: &str, span: Span) -> Result<Instance, Diagnostic> {
    let format = tracefs::event_format(category, name)
        .map_err(|e| missing_event(e, category, name, span))?;
    let syscall = syscall_of(category, name);
    let (prog_type, attach, guard) = match syscall {
        Some(sc) => {
            let raw = if sc.enter { "sys_enter" } else { "sys_exit" };
            (
                ProgType::RawTracepoint,
                Attach::RawTracepoint { name: raw.into() },
                Some(syscall_guard(sc)),
            )
        }
        None => (
            ProgType::Tracepoint,
            Attach::Tracepoint {
                category: category.into(),
                name: name.into(),
            },
            None,
        ),
    };
    Ok(Instance {
        prog_type,
        attach,
        context: Context::Tracepoint(TracepointContext {
            category: category.into(),
            name: name.into(),
            format,
            syscall,
        }),
        guard,
        label: name.to_string(),
        names: None,
    })
}

fn syscall_of(category: &str, name: &str) -> Option<Syscall> {
    if category != "syscalls" {
        return None;
    }
    let (enter, syscall) = if let Some(s) = name.strip_prefix("sys_enter_") {
        (true, s)
    } else {
        (false, name.strip_prefix("sys_exit_")?)
    };
    Some(Syscall {
        nr: tracefs::syscall_number(syscall)?,
        enter,
    })
}

/// The syscall-number check that makes a `raw_syscalls` program behave like one syscall's event.
fn syscall_guard(sc: Syscall) -> (ExprKind, Type) {
    let nr = if sc.enter {
        ExprKind::Arg { index: 1 }
    } else {
        ExprKind::SyscallRegs { offset: ORIG_AX }
    };
    let check = ExprKind::Binary {
        op: BinOp::Eq,
        lhs: Box::new(unlocated(nr, Type::U64)),
        rhs: Box::new(unlocated(ExprKind::Int(i64::from(sc.nr)), Type::U64)),
    };
    (check, Type::U64)
}

impl TracepointContext {
    /// The tracepoint's category and name (`sched`, `sched_switch`).
    pub fn event(&self) -> (&str, &str) {
        (&self.category, &self.name)
    }

    /// The names of the record's own fields (not the common ones).
    pub fn field_names(&self) -> Vec<&str> {
        let fields = self.format.fields.iter().filter(|f| !f.common);
        fields.map(|f| f.name.as_str()).collect()
    }

    pub fn is_syscall(&self) -> bool {
        self.syscall.is_some()
    }

    pub fn is_syscall_exit(&self) -> bool {
        matches!(self.syscall, Some(Syscall { enter: false, .. }))
    }

    /// D's `arg0`…`arg5` in a syscall probe (`syscall::read:entry { @ = sum(arg2); }`): the raw
    /// arguments on entry; on return `arg0` and `arg1` are both the return value, as in DTrace.
    pub fn syscall_arg(&self, index: u8) -> Option<Resolved> {
        let sc = self.syscall?;
        if sc.enter {
            let offset = *SYSCALL_ARG_REGS.get(usize::from(index))?;
            return Some(Resolved {
                kind: ExprKind::SyscallRegs { offset },
                ty: Type::U64,
            });
        }
        (index <= 1).then(syscall_return_value)
    }

    /// D's `errno` in a syscall return probe: the error number of a failed call (the kernel
    /// returns it negated), 0 after a success.
    pub fn errno(&self) -> Option<Resolved> {
        if !self.is_syscall_exit() {
            return None;
        }
        let ret = || {
            let r = syscall_return_value();
            Box::new(unlocated(r.kind, r.ty))
        };
        let int = |n| Box::new(unlocated(ExprKind::Int(n), Type::I64));
        let binary = |op, lhs, rhs| unlocated(ExprKind::Binary { op, lhs, rhs }, Type::I64);
        let failed = binary(BinOp::Lt, ret(), int(0));
        let negated = binary(BinOp::Sub, int(0), ret());
        Some(Resolved {
            kind: ExprKind::Ternary {
                cond: Box::new(failed),
                then: Box::new(negated),
                els: int(0),
            },
            ty: Type::I64,
        })
    }

    pub fn field(&self, name: &str, span: Span) -> Result<Resolved, Diagnostic> {
        let Some(field) = self
            .format
            .fields
            .iter()
            .find(|f| f.name == name && !f.common)
        else {
            return Err(self.unknown_field(name, span));
        };
        if let Some(resolved) = data_loc_field(field, self.syscall.is_some()) {
            return Ok(resolved);
        }
        let ty = field_type(field, self.syscall.is_some()).ok_or_else(|| {
            Diagnostic::error(
                span,
                format!(
                    "field `{name}` has type `{}`, which rdt cannot read yet",
                    field.c_type
                ),
            )
            .with_label("unsupported field type")
        })?;
        let kind = match self.syscall {
            None => ExprKind::CtxField {
                offset: field.offset,
            },
            Some(sc) => syscall_field(sc, field),
        };
        Ok(Resolved { kind, ty })
    }

    /// The BTF type a field's C type names (`enum skb_drop_reason reason`), if any.
    pub fn field_btf_type(&self, name: &str) -> Option<rdt_btf::btf::TypeRef> {
        let field = self.format.fields.iter().find(|f| f.name == name)?;
        let c = field.c_type.trim_start_matches("const ").trim();
        let spelled = c.strip_prefix("enum ")?;
        rdt_btf::btf::TypeRef::find(rdt_btf::btf::NameKind::Enum, spelled.trim())
            .ok()
            .flatten()
    }

    fn unknown_field(&self, name: &str, span: Span) -> Diagnostic {
        let names = self
            .format
            .fields
            .iter()
            .filter(|f| !f.common)
            .map(|f| f.name.as_str());
        let mut d = Diagnostic::error(
            span,
            format!(
                "tracepoint `{}:{}` has no field `{name}`",
                self.category, self.name
            ),
        )
        .with_label("unknown field");
        if let Some(near) = did_you_mean(name, names.clone()) {
            d = d.with_help(format!("did you mean `{near}`?"));
        }
        let all: Vec<&str> = names.collect();
        d.with_help(format!("its fields are: {}", all.join(", ")))
    }
}

/// A syscall's return value in a `raw_syscalls:sys_exit` program: its second argument.
fn syscall_return_value() -> Resolved {
    Resolved {
        kind: ExprKind::Arg { index: 1 },
        ty: Type::I64,
    }
}

fn syscall_field(sc: Syscall, field: &Field) -> ExprKind {
    if field.name == "__syscall_nr" {
        return ExprKind::Int(i64::from(sc.nr));
    }
    if !sc.enter {
        return ExprKind::Arg { index: 1 };
    }
    let index = field.offset.saturating_sub(SYSCALL_ARGS_OFFSET) / 8;
    ExprKind::SyscallRegs {
        offset: SYSCALL_ARG_REGS[(index as usize).min(5)],
    }
}

/// The element type of an array field of wider integers (`unsigned long args[6]`), when the
/// field's size says its elements are that wide. Byte arrays are left to the caller.
fn int_array_elem(field: &Field, len: u32) -> Option<Type> {
    let elem = c_int_type(field.elem_type())?;
    (len > 0 && elem.size() > 1 && field.size == len * elem.size()).then_some(elem)
}

/// A `__data_loc`/`__rel_loc` field is, as in bpftrace, the kernel address of its data in the
/// record: a `char *` for strings (`str(args.filename)`), a pointer to its elements otherwise.
fn data_loc_field(field: &Field, syscall: bool) -> Option<Resolved> {
    if !field.is_dynamic() || syscall {
        return None;
    }
    let elem = if field.is_string() {
        Type::Int {
            bits: 8,
            signed: true,
        }
    } else {
        c_int_type(field.elem_type())?
    };
    Some(Resolved {
        kind: ExprKind::CtxDataLoc {
            offset: field.offset,
            rel: field.rel_loc,
        },
        ty: Type::Ptr {
            to: Box::new(elem),
            user: false,
        },
    })
}

/// The rdt type of a format field; `None` for what rdt cannot read yet.
fn field_type(field: &Field, user_pointers: bool) -> Option<Type> {
    if field.data_loc {
        return None;
    }
    let c = field.c_type.as_str();
    if c.contains('*') {
        // `struct sockaddr * uservaddr`: typed through BTF, so `args.uservaddr->sa_family` works.
        if let Some(ty) = crate::ktypes::pointer_from_c(c, user_pointers) {
            return Some(ty);
        }
        let to = Type::Int {
            bits: 8,
            signed: true,
        };
        return Some(Type::Ptr {
            to: Box::new(to),
            user: user_pointers,
        });
    }
    if let Some(len) = field.array_len {
        if let Some(elem) = int_array_elem(field, len) {
            // `unsigned long args[6]`: indexed `args.args[0]`, printed `[1,2,…]`.
            let elem = Box::new(elem);
            return Some(Type::Kernel(crate::ktypes::KernelType::Array { elem, len }));
        }
        if !field.is_string() && len > 0 && field.size == len {
            // `__u8 saddr[4]`, `unsigned char addr[6]`: raw bytes, for ntop() and buf().
            let elem = Box::new(Type::Int {
                bits: 8,
                signed: false,
            });
            return Some(Type::Kernel(crate::ktypes::KernelType::Array { elem, len }));
        }
        return field.is_string().then_some(Type::Str { size: len });
    }
    if let Some(ty) = c_int_type(c) {
        return Some(ty);
    }
    let bits = match field.size {
        1 | 2 | 4 | 8 => (field.size * 8) as u8,
        _ => return None,
    };
    Some(Type::Int {
        bits,
        signed: field.signed,
    })
}

/// The type a C integer type name stands for on x86-64. Syscall formats declare every argument
/// as 8 unsigned bytes, so the C name is the only place that says `int dfd` is signed 32-bit.
fn c_int_type(c: &str) -> Option<Type> {
    let c = c.trim_start_matches("const ").trim();
    let (bits, signed) = match c {
        "char" | "signed char" | "s8" | "__s8" => (8, true),
        "unsigned char" | "u8" | "__u8" | "bool" => (8, false),
        "short" | "signed short" | "s16" | "__s16" => (16, true),
        "unsigned short" | "u16" | "__u16" | "umode_t" => (16, false),
        "int" | "signed int" | "s32" | "__s32" | "pid_t" | "key_serial_t" | "clockid_t"
        | "timer_t" | "mqd_t" | "rwf_t" => (32, true),
        "unsigned int" | "unsigned" | "u32" | "__u32" | "uid_t" | "gid_t" | "qid_t"
        | "old_uid_t" | "old_gid_t" => (32, false),
        "long"
        | "signed long"
        | "long long"
        | "s64"
        | "__s64"
        | "off_t"
        | "loff_t"
        | "ssize_t"
        | "time_t"
        | "__kernel_old_time_t" => (64, true),
        "unsigned long" | "unsigned long long" | "u64" | "__u64" | "size_t" | "aio_context_t"
        | "cap_user_header_t" | "cap_user_data_t" => (64, false),
        _ => return None,
    };
    Some(Type::Int { bits, signed })
}

fn tracefs_error(e: tracefs::TracefsError, span: Span) -> Diagnostic {
    Diagnostic::error(span, format!("cannot read tracepoints: {e}")).with_label("needs tracefs")
}

fn missing_event(e: tracefs::TracefsError, category: &str, name: &str, span: Span) -> Diagnostic {
    if !matches!(e, tracefs::TracefsError::NoSuchEvent { .. }) {
        return tracefs_error(e, span);
    }
    let mut d = Diagnostic::error(
        span,
        format!("tracepoint `{category}:{name}` does not exist"),
    )
    .with_label("no such tracepoint");
    // Suggest a name within the category, or another category when this one does not exist.
    let in_category = tracefs::list_events(&format!("{category}:*")).unwrap_or_default();
    let (wanted, candidates): (&str, Vec<String>) = if in_category.is_empty() {
        (category, tracefs::categories().unwrap_or_default())
    } else {
        (name, in_category.into_iter().map(|(_, n)| n).collect())
    };
    if let Some(near) = did_you_mean(wanted, candidates.iter().map(String::as_str)) {
        d = d.with_help(format!("did you mean `{near}`?"));
    }
    d.with_help(format!(
        "`rdt -l 'tracepoint:{category}:*'` lists what exists"
    ))
}

/// `rdt -l 'tracepoint:GLOB'`: tracepoints from tracefs; with `verbose`, their record fields
/// as C declarations (what `args.x` reaches).
pub fn list(glob: &str, verbose: bool) -> Result<Vec<super::list::Listed>, String> {
    let events = tracefs::list_events(glob).map_err(|e| e.to_string())?;
    Ok(events
        .into_iter()
        .map(|(category, name)| {
            let args = if verbose {
                tracefs::event_format(&category, &name)
                    .map(|f| f.args().map(field_declaration).collect())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            super::list::Listed {
                name: format!("tracepoint:{category}:{name}"),
                args,
            }
        })
        .collect())
}

/// `const char * filename`, `char comm[16]`, `__data_loc char[] name`.
fn field_declaration(f: &Field) -> String {
    if f.is_dynamic() {
        let loc = if f.rel_loc { "__rel_loc" } else { "__data_loc" };
        return format!("    {loc} {} {}", f.c_type, f.name);
    }
    match f.array_len {
        Some(0) => format!("    {} {}[]", f.elem_type(), f.name),
        Some(n) => format!("    {} {}[{n}]", f.elem_type(), f.name),
        None => format!("    {} {}", f.c_type, f.name),
    }
}

/// The syscall-number check of a `syscalls:*` instance on `raw_syscalls`, even when [`expand`]
/// dropped it because the wildcard covered every syscall: a clause compiled once per instance
/// (it reads `probefunc`, `args`, …) needs it back.
pub fn exact_syscall_guard(instance: &Instance) -> Option<(ExprKind, Type)> {
    if !matches!(instance.attach, Attach::RawTracepoint { .. }) {
        return None;
    }
    syscall_of("syscalls", &instance.label).map(syscall_guard)
}
