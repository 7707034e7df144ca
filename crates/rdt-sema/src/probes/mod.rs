//! Probe kinds. Each kind is one module that knows its spec syntax (bpftrace and D spellings),
//! expands wildcards, picks the program type and attach points, and resolves the context values a
//! clause may read (`args.field`, `arg0`, `retval`). Attaching happens in rdt-runtime, which
//! follows the [`Attach`] value chosen here.

pub mod btf_args;
pub mod d_providers;
mod fentry;
mod kprobe;
pub mod list;
pub mod perf;
mod rawtracepoint;
mod special;
mod timer;
mod tracepoint;
pub mod uprobe;
pub mod usdt;

use crate::ir::{Attach, ExprKind, ProgType};
use crate::{Params, Type};
use rdt_syntax::{Diagnostic, Span};

/// One attachable instance of a probe description, e.g. one tracepoint of a wildcard.
#[derive(Debug, Clone)]
pub struct Instance {
    pub prog_type: ProgType,
    pub attach: Attach,
    pub context: Context,
    /// A condition the program checks first (e.g. the syscall number on `raw_syscalls`).
    pub guard: Option<(ExprKind, Type)>,
    /// Short name for the program symbol and `probe` builtin.
    pub label: String,
    /// The probe names (`probename`, …) when the spelling is not the attach point's own: D's
    /// `proc:::exec-success` rides on `sched:sched_process_exec` (d_providers.rs).
    pub names: Option<crate::probe_names::ProbeNames>,
}

/// What a clause can read from its probe's context.
#[derive(Debug, Clone)]
pub enum Context {
    /// BEGIN, END, timers: no arguments.
    None,
    Tracepoint(tracepoint::TracepointContext),
    /// Kernel functions and raw tracepoints whose arguments are typed from BTF.
    Btf(btf_args::BtfContext),
    /// uprobe / uretprobe: `arg0…` from the x86-64 calling convention, `retval`.
    Uprobe {
        ret: bool,
    },
    /// One USDT probe site: its arguments as the note describes them at that site.
    Usdt(usdt::UsdtContext),
    /// D's `profile-N` and `tick-N`: `arg0` is the kernel PC, `arg1` the user PC (timer.rs).
    DTimer,
}

/// A context value a probe resolved for a name used in the script.
pub struct Resolved {
    pub kind: ExprKind,
    pub ty: Type,
}

/// An expression a probe builds itself (a guard, D's `errno`), with no place in the script.
pub(crate) fn unlocated(kind: ExprKind, ty: Type) -> crate::ir::Expr {
    crate::ir::Expr {
        kind,
        ty,
        span: Span::default(),
    }
}

pub use tracepoint::exact_syscall_guard;

/// What `-v` says about how a probe description was expanded, if anything.
pub fn note(text: &str, instances: &[Instance]) -> Option<String> {
    match split_kind(text).0 {
        "kprobe" | "k" | "kretprobe" | "kr" | "fbt" => kprobe::stand_in_note(text, instances),
        _ => None,
    }
}

/// Parses and expands one probe description into its instances.
pub fn expand(text: &str, span: Span, params: &Params) -> Result<Vec<Instance>, Diagnostic> {
    let (kind, rest) = split_kind(text);
    match kind {
        "BEGIN" | "END" | "ERROR" if rest.is_none() => special::expand(kind, span),
        // D's full descriptions, provider:module:function:name: `dtrace:::BEGIN`,
        // `profile:::tick-1sec`, `profile:::profile-997`.
        "dtrace" => match rest.and_then(|r| r.strip_prefix("::")) {
            Some(name @ ("BEGIN" | "END" | "ERROR")) => special::expand(name, span),
            _ => Err(Diagnostic::error(span, format!("unknown probe `{text}`"))
                .with_label("the dtrace provider has BEGIN, END and ERROR")
                .with_help("for example `dtrace:::BEGIN`, or `BEGIN` alone")),
        },
        "profile" if rest.is_some_and(|r| r.starts_with("::")) => {
            match rest.unwrap_or("").trim_start_matches(':') {
                name if name.starts_with("tick-") || name.starts_with("profile-") => {
                    timer::expand_d(name, span)
                }
                _ => Err(Diagnostic::error(span, format!("unknown probe `{text}`"))
                    .with_label("the profile provider has tick-N and profile-N")
                    .with_help("for example `profile:::tick-1sec` or `profile:::profile-997`")),
            }
        }
        "tracepoint" | "t" => tracepoint::expand(rest.unwrap_or(""), span),
        "syscall" => tracepoint::expand_d_syscall(rest.unwrap_or(""), span),
        "interval" | "i" | "profile" | "p" => timer::expand(kind, rest.unwrap_or(""), span),
        _ if kind.starts_with("tick-") || kind.starts_with("profile-") => {
            timer::expand_d(kind, span)
        }
        "kprobe" | "k" | "kretprobe" | "kr" | "fbt" => {
            kprobe::expand(kind, rest.unwrap_or(""), span, params)
        }
        "rawtracepoint" | "rt" => rawtracepoint::expand(rest.unwrap_or(""), span),
        "software" | "s" | "hardware" | "h" => perf::expand(kind, rest.unwrap_or(""), span),
        "fentry" | "f" | "kfunc" | "fexit" | "fr" | "kretfunc" => {
            fentry::expand(kind, rest.unwrap_or(""), span)
        }
        "uprobe" | "u" | "uretprobe" | "ur" => {
            uprobe::expand(kind, rest.unwrap_or(""), span, params)
        }
        _ if uprobe::is_d_pid_provider(kind) => {
            uprobe::expand(kind, rest.unwrap_or(""), span, params)
        }
        "usdt" | "U" => usdt::expand(rest.unwrap_or(""), span, params),
        "proc" | "sched" | "io" => d_providers::expand(kind, text, span),
        _ => Err(unknown_kind(text, kind, span)),
    }
}

fn split_kind(text: &str) -> (&str, Option<&str>) {
    match text.split_once(':') {
        Some((kind, rest)) => (kind, Some(rest)),
        None => (text, None),
    }
}

const KINDS: &[&str] = &[
    "BEGIN",
    "END",
    "tracepoint",
    "syscall",
    "interval",
    "profile",
    "kprobe",
    "kretprobe",
    "fbt",
    "uprobe",
    "uretprobe",
    "usdt",
    "rawtracepoint",
    "fentry",
    "fexit",
    "software",
    "hardware",
    "proc",
    "sched",
    "io",
];

fn unknown_kind(text: &str, kind: &str, span: Span) -> Diagnostic {
    let kind_span = Span::new(
        span.start as usize,
        span.start as usize + kind.len().min(text.len()),
    );
    let mut d = Diagnostic::error(kind_span, format!("unknown probe type `{kind}`"))
        .with_label("not a probe type");
    if let Some(near) = rdt_syntax::did_you_mean(kind, KINDS.iter().copied()) {
        d = d.with_help(format!("did you mean `{near}`?"));
    } else {
        d = d.with_help(format!("probe types: {}", KINDS.join(", ")));
    }
    d
}

/// Error for a reference to `args` or `argN` in a probe that has none.
pub(crate) fn no_args(what: &str, span: Span, probe: &str) -> Diagnostic {
    Diagnostic::error(span, format!("`{what}` is not available in {probe} probes"))
        .with_label("this probe has no arguments")
}

impl Context {
    /// Whether every instance of this kind reads `arg0…` and `retval` the same way (registers)
    /// and `func` at run time, so one program serves a whole wildcard that reads only those.
    pub fn uniform_args(&self) -> bool {
        matches!(self, Context::Btf(b) if b.source == btf_args::Source::Kprobe)
    }

    /// Whether `func` is read when the probe fires (`bpf_get_func_ip`) rather than a constant.
    pub fn func_ip(&self) -> bool {
        matches!(self, Context::Btf(b) if b.func_ip)
    }

    /// Resolves `args.field` / `args->field`.
    pub fn field(&self, field: &str, span: Span, probe: &str) -> Result<Resolved, Diagnostic> {
        match self {
            Context::Tracepoint(tp) => tp.field(field, span),
            Context::Btf(b) => b.field(field, span),
            Context::Uprobe { .. } | Context::Usdt(_) => Err(Diagnostic::error(
                span,
                format!("{probe} probes have no named `args`"),
            )
            .with_label("no debug information is read for user-space functions")
            .with_help("use `arg0`, `arg1`, … for the raw arguments")),
            Context::None | Context::DTimer => Err(no_args("args", span, probe)),
        }
    }

    /// The BTF type of `args.<field>`, when the probe knows it (for printing enums by name).
    pub fn arg_btf_type(&self, field: &str) -> Option<rdt_btf::btf::TypeRef> {
        match self {
            Context::Btf(b) => b.arg_btf_type(field),
            Context::Tracepoint(tp) => tp.field_btf_type(field),
            _ => None,
        }
    }

    /// Whether the clause runs in user-space context, where pointers are user addresses.
    pub fn user_space(&self) -> bool {
        matches!(self, Context::Uprobe { .. } | Context::Usdt(_))
    }

    /// Whether two instances of a probe find their arguments in the same places, so one program
    /// can serve both even when it reads them (every uprobe; USDT sites with the same specs).
    pub fn same_args_as(&self, other: &Context) -> bool {
        match (self, other) {
            (Context::Uprobe { ret: a }, Context::Uprobe { ret: b }) => a == b,
            (Context::Usdt(a), Context::Usdt(b)) => a.same_args_as(b),
            _ => false,
        }
    }

    /// Resolves `arg0`…`arg5`.
    pub fn arg(&self, index: u8, span: Span, probe: &str) -> Result<Resolved, Diagnostic> {
        match self {
            Context::Btf(b) => b.arg(index, span),
            Context::Uprobe { ret } => uprobe::arg(index, *ret, span, probe),
            Context::Usdt(site) => site.arg(index, span),
            Context::Tracepoint(tp) if tp.is_syscall() => tp.syscall_arg(index).ok_or_else(|| {
                Diagnostic::error(span, format!("`arg{index}` is not available in {probe} probes"))
                    .with_label("not an argument of this syscall probe")
                    .with_help("a syscall has `arg0`…`arg5` on entry and `arg0`/`arg1` (the return value) on return; its arguments also have names: `args.<field>` (rdt -lv lists them)")
            }),
            Context::Tracepoint(_) => Err(no_args(&format!("arg{index}"), span, probe).with_help(
                "tracepoint arguments are named: use `args.<field>` (rdt -lv lists them)",
            )),
            Context::DTimer => timer::d_arg(index).ok_or_else(|| {
                no_args(&format!("arg{index}"), span, probe)
                    .with_label("a profile or tick probe has arg0 and arg1")
                    .with_help("arg0 is the kernel PC (0 in user mode), arg1 the user PC (0 in the kernel)")
            }),
            Context::None => Err(no_args(&format!("arg{index}"), span, probe)),
        }
    }

    /// Resolves D's `args[N]`, the N-th argument by position, where the probe's arguments have
    /// an order: a kernel function's parameters (fbt, kprobe, fentry) and a syscall's
    /// arguments (on return, `args[0]` and `args[1]` are the return value). `None` elsewhere.
    pub fn arg_at(&self, index: u64, span: Span) -> Option<Result<Resolved, Diagnostic>> {
        let names: Vec<String> = match self {
            Context::Btf(b) => b.param_names()?,
            Context::Tracepoint(tp) if tp.is_syscall_exit() => vec!["ret".into(), "ret".into()],
            Context::Tracepoint(tp) if tp.is_syscall() => tp
                .field_names()
                .into_iter()
                .filter(|n| *n != "__syscall_nr")
                .map(String::from)
                .collect(),
            _ => return None,
        };
        let Some(name) = usize::try_from(index).ok().and_then(|i| names.get(i)) else {
            return Some(Err(Diagnostic::error(
                span,
                format!("`args[{index}]` is past the last argument"),
            )
            .with_label(format!("this probe has {} arguments", names.len()))
            .with_help(format!(
                "index them from 0 to {}",
                names.len().saturating_sub(1)
            ))));
        };
        Some(match self {
            Context::Btf(b) => b.field(name, span),
            Context::Tracepoint(tp) => tp.field(name, span),
            _ => return None,
        })
    }

    /// Resolves D's `errno`: known in syscall return probes.
    pub fn errno(&self, span: Span, probe: &str) -> Result<Resolved, Diagnostic> {
        match self {
            Context::Tracepoint(tp) => tp.errno(),
            _ => None,
        }
        .ok_or_else(|| {
            Diagnostic::error(span, format!("`errno` is not available in {probe} probes"))
                .with_label("only a syscall's return probe knows its error")
                .with_help(
                    "use it in `syscall::NAME:return` (or `tracepoint:syscalls:sys_exit_NAME`)",
                )
        })
    }

    /// Resolves `retval`.
    pub fn retval(&self, span: Span, probe: &str) -> Result<Resolved, Diagnostic> {
        match self {
            Context::Uprobe { ret: true } => Ok(Resolved {
                kind: ExprKind::Retval,
                ty: Type::I64,
            }),
            Context::Tracepoint(tp) if tp.is_syscall_exit() => tp.field("ret", span),
            Context::Btf(b) => b.retval(span),
            _ => Err(Diagnostic::error(
                span,
                format!("`retval` is not available in {probe} probes"),
            )
            .with_label("only return probes have a return value")),
        }
    }
}
