//! Typed arguments from kernel BTF: the parameters of a kernel function (kprobe, fentry/fexit)
//! and of a raw tracepoint (`btf_trace_<name>`, whose first parameter is the tracepoint's private
//! data and is not an argument). Probe kinds hold a [`BtfContext`] and resolve `args.name`,
//! `argN` and `retval` through it; the BTF is read only when a script uses them.

use super::{Context, Resolved};
use crate::ir::ExprKind;
use crate::ktypes;
use crate::Type;
use rdt_btf::btf::{Kind, NameKind, TypeRef};
use rdt_syntax::{did_you_mean, Diagnostic, Span};

/// One typed argument.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedArg {
    pub name: String,
    pub ty: Type,
    /// Its slot in the context: a u64 per slot (structs passed by value take several).
    pub slot: u8,
    /// The C spelling, for listings (`const char * filename`).
    pub c_type: String,
}

/// The arguments of a function or raw tracepoint and its return type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedArgs {
    pub args: Vec<TypedArg>,
    pub ret: Type,
}

/// Where the arguments come from; also how the probe kind names itself in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A kprobe or kretprobe: arguments in `pt_regs` registers.
    Kprobe,
    /// fentry/fexit: arguments as u64 slots, fexit's return value after them.
    Fentry,
    /// A raw tracepoint / tp_btf: u64 slots.
    RawTracepoint,
}

/// What a BTF-typed probe can read.
#[derive(Debug, Clone)]
pub struct BtfContext {
    pub source: Source,
    /// The kernel function or raw tracepoint.
    pub name: String,
    /// A return probe (kretprobe, fexit).
    pub ret: bool,
    /// `func` is read when the probe fires (`bpf_get_func_ip`: a kprobe or kretprobe at the
    /// function's entry), so one program serves every function of a wildcard.
    pub func_ip: bool,
}

/// The typed arguments of kernel function `function`.
pub fn function_args(function: &str) -> Result<TypedArgs, String> {
    typed_params(function_proto(function)?, 0)
}

fn function_proto(function: &str) -> Result<TypeRef, String> {
    let func = find(NameKind::Func, function)?.ok_or_else(|| {
        format!("the kernel's BTF has no function `{function}` (it may be inlined, static or not traceable)")
    })?;
    let proto = func
        .btf
        .ty(func.id)
        .map_err(|e| e.to_string())?
        .size_or_type;
    Ok(func.with_id(proto))
}

/// The typed arguments of raw tracepoint `name`: from `__bpf_trace_<name>`, the kernel function
/// that calls the programs (its prototype names the parameters), else from the `btf_trace_<name>`
/// typedef (whose parameters are unnamed: `arg0`, `arg1`, …). Both start with the tracepoint's
/// private data, which is not an argument.
pub fn raw_tracepoint_args(name: &str) -> Result<TypedArgs, String> {
    if let Some(func) = find(NameKind::Func, &format!("__bpf_trace_{name}"))? {
        let proto = func.with_id(
            func.btf
                .ty(func.id)
                .map_err(|e| e.to_string())?
                .size_or_type,
        );
        return typed_params(proto, 1);
    }
    let typedef = format!("btf_trace_{name}");
    let t = find(NameKind::Typedef, &typedef)?.ok_or_else(|| {
        format!("the kernel's BTF has no `{typedef}`: no raw tracepoint `{name}`")
    })?;
    let btf = t.btf;
    let ptr = btf.resolve(t.id).map_err(|e| e.to_string())?;
    let ptr = btf.ty(ptr).map_err(|e| e.to_string())?;
    if ptr.kind != Kind::Ptr {
        return Err(format!("`{typedef}` is not a function pointer"));
    }
    // Skip `void *__data`.
    typed_params(t.with_id(ptr.size_or_type), 1)
}

fn find(kind: NameKind, name: &str) -> Result<Option<TypeRef>, String> {
    ktypes::vmlinux()?;
    TypeRef::find(kind, name).map_err(|e| e.to_string())
}

fn typed_params(proto: TypeRef, skip: usize) -> Result<TypedArgs, String> {
    let btf = proto.btf;
    let (params, ret) = btf.func_params(proto.id).map_err(|e| e.to_string())?;
    let mut args = Vec::new();
    let mut slot = 0u32;
    for (i, p) in params.iter().enumerate().skip(skip) {
        if p.ty == 0 {
            break; // `...`
        }
        let ty = ktypes::from_btf(proto.with_id(p.ty), false);
        let name = if p.name.is_empty() {
            format!("arg{}", i - skip)
        } else {
            p.name.to_string()
        };
        args.push(TypedArg {
            name,
            c_type: btf.type_name(p.ty),
            ty: match ty {
                // A struct passed by value is not addressable here: expose its first slot.
                Type::Kernel(_) => Type::U64,
                t => t,
            },
            slot: slot.min(255) as u8,
        });
        let size = btf.size_of(p.ty).ok().flatten().unwrap_or(8);
        slot += size.div_ceil(8).max(1);
    }
    let ret = ktypes::from_btf(proto.with_id(ret), false);
    Ok(TypedArgs { args, ret })
}

impl BtfContext {
    pub fn into_context(self) -> Context {
        Context::Btf(self)
    }

    fn args(&self) -> Result<TypedArgs, String> {
        match self.source {
            Source::RawTracepoint => raw_tracepoint_args(&self.name),
            Source::Kprobe | Source::Fentry => function_args(&self.name),
        }
    }

    fn kind_name(&self) -> &'static str {
        match (self.source, self.ret) {
            (Source::Kprobe, false) => "kprobe",
            (Source::Kprobe, true) => "kretprobe",
            (Source::Fentry, false) => "fentry",
            (Source::Fentry, true) => "fexit",
            (Source::RawTracepoint, _) => "rawtracepoint",
        }
    }

    /// The names of the parameters, in order, if the prototype is known.
    pub fn param_names(&self) -> Option<Vec<String>> {
        let typed = self.args().ok()?;
        Some(typed.args.iter().map(|a| a.name.clone()).collect())
    }

    /// `args.name`.
    pub fn field(&self, field: &str, span: Span) -> Result<Resolved, Diagnostic> {
        let typed = self.args().map_err(|why| {
            Diagnostic::error(span, format!("`args` of `{}` are not known", self.name))
                .with_label("no typed arguments")
                .with_help(why)
                .with_help("use `arg0`, `arg1`, … for the raw arguments")
        })?;
        let Some(arg) = typed.args.iter().find(|a| a.name == field) else {
            let names: Vec<&str> = typed.args.iter().map(|a| a.name.as_str()).collect();
            let mut d = Diagnostic::error(
                span,
                format!(
                    "{} `{}` has no argument `{field}`",
                    self.kind_name(),
                    self.name
                ),
            )
            .with_label("unknown argument");
            if let Some(near) = did_you_mean(field, names.iter().copied()) {
                d = d.with_help(format!("did you mean `{near}`?"));
            }
            let list: Vec<String> = typed
                .args
                .iter()
                .map(|a| format!("{} {}", a.c_type, a.name))
                .collect();
            return Err(d.with_help(format!("its arguments are: {}", list.join(", "))));
        };
        if self.source == Source::Kprobe && arg.slot >= 6 {
            return Err(Diagnostic::error(
                span,
                format!("argument `{field}` is not passed in a register"),
            )
            .with_label("kprobes read the first six arguments only"));
        }
        Ok(Resolved {
            kind: ExprKind::Arg { index: arg.slot },
            ty: arg.ty.clone(),
        })
    }

    /// The BTF type of argument `field` of a kernel function or raw tracepoint (whose
    /// `__bpf_trace_<name>` names the parameters).
    pub fn arg_btf_type(&self, field: &str) -> Option<TypeRef> {
        let proto = match self.source {
            Source::RawTracepoint => function_proto(&format!("__bpf_trace_{}", self.name)).ok()?,
            Source::Kprobe | Source::Fentry => function_proto(&self.name).ok()?,
        };
        let (params, _) = proto.btf.func_params(proto.id).ok()?;
        let p = params.iter().find(|p| p.name == field)?;
        Some(proto.with_id(p.ty))
    }

    /// `argN`: the raw N-th argument slot.
    pub fn arg(&self, index: u8, span: Span) -> Result<Resolved, Diagnostic> {
        let limit = if self.source == Source::Kprobe { 6 } else { 12 };
        if index >= limit {
            return Err(
                Diagnostic::error(span, format!("`arg{index}` is out of range")).with_label(
                    format!("{} probes have arg0 to arg{}", self.kind_name(), limit - 1),
                ),
            );
        }
        Ok(Resolved {
            kind: ExprKind::Arg { index },
            ty: Type::U64,
        })
    }

    /// `retval` of a kretprobe (a register) or fexit (the slot after the arguments).
    pub fn retval(&self, span: Span) -> Result<Resolved, Diagnostic> {
        if !self.ret {
            return Err(Diagnostic::error(
                span,
                format!("`retval` is not available in {} probes", self.kind_name()),
            )
            .with_label("only return probes have a return value"));
        }
        match self.source {
            // Like bpftrace, a kretprobe's `retval` is the raw register; only fexit's is typed.
            Source::Kprobe => Ok(Resolved {
                kind: ExprKind::Retval,
                ty: Type::I64,
            }),
            _ => {
                let typed = self.args().map_err(|why| {
                    Diagnostic::error(span, "the return value's slot is not known")
                        .with_label("needs the function's BTF prototype")
                        .with_help(why)
                })?;
                let slot = typed
                    .args
                    .last()
                    .map_or(0, |a| u32::from(a.slot) + slot_count(&a.ty));
                Ok(Resolved {
                    kind: ExprKind::Arg { index: slot as u8 },
                    ty: if typed.ret == Type::Void {
                        Type::I64
                    } else {
                        typed.ret
                    },
                })
            }
        }
    }
}

fn slot_count(ty: &Type) -> u32 {
    ty.size().div_ceil(8).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn have_btf() -> bool {
        let ok = rdt_btf::btf::vmlinux().is_ok();
        if !ok {
            eprintln!("skipped: no kernel BTF");
        }
        ok
    }

    #[test]
    fn function_args_are_typed_and_numbered() {
        if !have_btf() {
            return;
        }
        let typed = function_args("do_sys_openat2").expect("do_sys_openat2 in BTF");
        let names: Vec<(&str, u8)> = typed
            .args
            .iter()
            .map(|a| (a.name.as_str(), a.slot))
            .collect();
        assert_eq!(names, [("dfd", 0), ("filename", 1), ("how", 2)]);
        assert_eq!(
            typed.args[0].ty,
            Type::Int {
                bits: 32,
                signed: true
            }
        );
        assert_eq!(typed.args[2].ty.to_string(), "struct open_how *");
        assert!(function_args("no_such_function_at_all").is_err());
    }

    #[test]
    fn raw_tracepoint_args_skip_the_private_data() {
        if !have_btf() {
            return;
        }
        let typed = raw_tracepoint_args("sched_switch").expect("btf_trace_sched_switch");
        let names: Vec<&str> = typed.args.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names[0], "preempt");
        assert!(names.contains(&"prev") && names.contains(&"next"));
        let prev = typed.args.iter().find(|a| a.name == "prev").unwrap();
        assert_eq!(prev.ty.to_string(), "struct task_struct *");
    }

    #[test]
    fn fexit_retval_is_the_slot_after_the_arguments() {
        if !have_btf() {
            return;
        }
        let ctx = BtfContext {
            source: Source::Fentry,
            name: "do_sys_openat2".into(),
            ret: true,
            func_ip: false,
        };
        let r = ctx.retval(Span::default()).unwrap();
        assert!(matches!(r.kind, ExprKind::Arg { index: 3 }));
        assert!(r.ty.is_int());
    }
}
