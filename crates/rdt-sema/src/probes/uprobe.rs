//! `uprobe:TARGET:FUNCTION` and `uretprobe:TARGET:FUNCTION` (`u`, `ur`), and D's
//! `pid$target:MODULE:FUNCTION:entry|return`.
//!
//! TARGET is a path, a library short name found through `/etc/ld.so.cache` or the traced
//! process's maps (`uprobe:libc:malloc`), or a program on `PATH`. FUNCTION is a symbol of the
//! object's `.symtab`/`.dynsym` (mangled or demangled), a wildcard over them, `symbol+offset`, or
//! a virtual address `0x…`. The program is a BPF_PROG_TYPE_KPROBE over `struct pt_regs`, attached
//! through the uprobe PMU at the function's file offset; with `-p PID` or `-c CMD` only that
//! process fires it.

use super::list::{Listed, Query};
use super::{Context, Instance, Resolved};
use crate::ir::{Attach, Expr, ExprKind, ProgType};
use crate::{Params, Type};
use rdt_btf::tracefs::glob_match;
use rdt_elf::{ElfError, ElfObject, Symbol};
use rdt_syntax::ast::BinOp;
use rdt_syntax::{did_you_mean, Diagnostic, Span};
use std::path::PathBuf;

/// What a probe description asks for, before the object is read.
struct UprobeSpec<'a> {
    target: Target<'a>,
    function: &'a str,
    ret: bool,
    pid: Option<u32>,
}

enum Target<'a> {
    /// A path or a name to resolve.
    Named(&'a str),
    /// D's empty or `a.out` module: the traced program, then the libraries it uses.
    TracedProgram,
}

/// D's pid provider: `pid$target` or `pid1234`.
pub fn is_d_pid_provider(kind: &str) -> bool {
    kind == "pid$target"
        || kind
            .strip_prefix("pid")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

pub fn expand(
    kind: &str,
    rest: &str,
    span: Span,
    params: &Params,
) -> Result<Vec<Instance>, Diagnostic> {
    let spec = if is_d_pid_provider(kind) {
        d_spec(kind, rest, span, params)?
    } else {
        bpftrace_spec(kind, rest, span, params)?
    };
    let function_span = sub_span(span, rest, spec.function);
    let objects = match spec.target {
        Target::Named(name) => vec![open(name, spec.pid, sub_span(span, rest, name))?],
        Target::TracedProgram => traced_objects(params.target_program.as_deref(), spec.pid, span)?,
    };
    let mut instances = Vec::new();
    let mut first_error = None;
    for object in &objects {
        match instances_in(object, &spec, function_span) {
            Ok(found) if !found.is_empty() => {
                instances = found;
                break;
            }
            Ok(_) => {}
            Err(d) => {
                first_error.get_or_insert(d);
            }
        }
    }
    if instances.is_empty() {
        return Err(first_error.unwrap_or_else(|| {
            Diagnostic::error(
                function_span,
                format!("no function matches `{}`", spec.function),
            )
            .with_label("matches nothing")
        }));
    }
    Ok(instances)
}

/// `uprobe:TARGET:FUNCTION`.
fn bpftrace_spec<'a>(
    kind: &str,
    rest: &'a str,
    span: Span,
    params: &Params,
) -> Result<UprobeSpec<'a>, Diagnostic> {
    let Some((target, function)) = rest
        .split_once(':')
        .filter(|(t, f)| !t.is_empty() && !f.is_empty())
    else {
        return Err(
            Diagnostic::error(span, format!("invalid {} probe", long_kind(kind)))
                .with_label("expected `uprobe:BINARY:FUNCTION`")
                .with_help("for example `uprobe:/bin/bash:readline` or `uprobe:libc:malloc`"),
        );
    };
    Ok(UprobeSpec {
        target: Target::Named(target),
        function,
        ret: matches!(kind, "uretprobe" | "ur"),
        pid: params.target_pid,
    })
}

fn long_kind(kind: &str) -> &str {
    match kind {
        "u" => "uprobe",
        "ur" => "uretprobe",
        k => k,
    }
}

/// `pid$target:MODULE:FUNCTION:entry|return`; an empty module or `a.out` is the program.
fn d_spec<'a>(
    kind: &str,
    rest: &'a str,
    span: Span,
    params: &Params,
) -> Result<UprobeSpec<'a>, Diagnostic> {
    let pid = match kind.strip_prefix("pid").and_then(|n| n.parse::<u32>().ok()) {
        Some(pid) => Some(pid),
        None => Some(params.target_pid.ok_or_else(|| {
            Diagnostic::error(span, "`pid$target` needs a target process")
                .with_label("there is no target process")
                .with_help("run a command with `-c 'CMD'` or name a process with `-p PID`")
        })?),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (module, function, ret) = match parts.as_slice() {
        [module, function, "entry"] if !function.is_empty() => (*module, *function, false),
        [module, function, "return"] if !function.is_empty() => (*module, *function, true),
        _ => {
            return Err(Diagnostic::error(span, "invalid pid probe")
                .with_label("expected `pid$target:MODULE:FUNCTION:entry` or `…:return`"))
        }
    };
    let target = match module {
        "" | "a.out" => Target::TracedProgram,
        m => Target::Named(m),
    };
    Ok(UprobeSpec {
        target,
        function,
        ret,
        pid,
    })
}

/// The span of `part`, a slice of `rest`, which is the tail of the probe text at `span`.
fn sub_span(span: Span, rest: &str, part: &str) -> Span {
    let rest_start = (span.end as usize).saturating_sub(rest.len());
    let offset = (part.as_ptr() as usize).saturating_sub(rest.as_ptr() as usize);
    if offset + part.len() > rest.len() || part.is_empty() {
        return span;
    }
    Span::new(rest_start + offset, rest_start + offset + part.len())
}

/// Opens the object a probe names, or explains why not.
pub(crate) fn open(target: &str, pid: Option<u32>, span: Span) -> Result<ElfObject, Diagnostic> {
    let path = rdt_elf::resolve(target, pid).map_err(|e| object_error(&e, target, span))?;
    ElfObject::open(&path).map_err(|e| object_error(&e, target, span))
}

pub(crate) fn object_error(e: &ElfError, target: &str, span: Span) -> Diagnostic {
    match e {
        ElfError::NotFound { .. } => Diagnostic::error(span, format!("cannot find `{target}`"))
            .with_label("no such binary, library or program")
            .with_help(
                "give a path (`uprobe:/usr/bin/bash:readline`), a library in ld.so.cache \
                 (`uprobe:libc:malloc`) or a program on PATH",
            ),
        other => {
            Diagnostic::error(span, format!("cannot use `{target}`")).with_label(other.to_string())
        }
    }
}

/// The objects of the traced process, for D's empty module: the program, then its libraries.
fn traced_objects(
    program: Option<&str>,
    pid: Option<u32>,
    span: Span,
) -> Result<Vec<ElfObject>, Diagnostic> {
    let mut paths: Vec<PathBuf> = Vec::new();
    match (program, pid) {
        (Some(program), _) => {
            // The `-c` child has not run `exec` yet: its maps are still rdt's own.
            paths.push(
                rdt_elf::resolve(program, None).map_err(|e| object_error(&e, program, span))?,
            );
            paths.extend(rdt_elf::resolve("libc", None).ok());
        }
        (None, Some(pid)) => {
            paths = rdt_elf::mapped_objects(pid).map_err(|e| {
                Diagnostic::error(span, format!("cannot read the maps of process {pid}"))
                    .with_label(e.to_string())
            })?;
        }
        (None, None) => {}
    }
    Ok(paths
        .iter()
        .filter_map(|p| ElfObject::open(p).ok())
        .collect())
}

/// The attach points `spec.function` names in `object`.
fn instances_in(
    object: &ElfObject,
    spec: &UprobeSpec,
    span: Span,
) -> Result<Vec<Instance>, Diagnostic> {
    let path = object.path().to_string_lossy().into_owned();
    let elf_error = |e: ElfError| object_error(&e, &path, span);
    let instance = |offset: u64, label: &str| Instance {
        prog_type: ProgType::Kprobe,
        attach: Attach::Uprobe {
            path: path.clone(),
            offset,
            ret: spec.ret,
            pid: spec.pid,
        },
        context: Context::Uprobe { ret: spec.ret },
        guard: None,
        label: label.to_string(),
        names: None,
    };
    if let Some(address) = parse_number(spec.function) {
        if !object.is_code(address).map_err(elf_error)? {
            return Err(Diagnostic::error(
                span,
                format!("address {:#x} is not in the code of {path}", address),
            )
            .with_label("not an address of an executable segment")
            .with_help(format!("`rdt -l 'uprobe:{path}:*'` lists its functions")));
        }
        let offset = file_offset(object, address, span)?;
        return Ok(vec![instance(offset, spec.function)]);
    }
    let functions = object.functions().map_err(elf_error)?;
    if spec.function.contains(['*', '?']) {
        // Aliases (`malloc`, `__libc_malloc`) share an address: probe it once, or every call
        // would count twice.
        let mut out: Vec<Instance> = Vec::new();
        let mut offsets = std::collections::HashSet::new();
        // An IFUNC symbol is a resolver that runs once at load time; its implementations match
        // the wildcard under their own names.
        let matching = functions
            .iter()
            .filter(|f| !f.ifunc && matches_glob(f, spec.function));
        for f in matching {
            let offset = file_offset(object, f.address, span)?;
            if offsets.insert(offset) {
                out.push(instance(offset, f.display_name()));
            }
        }
        return Ok(out);
    }
    let (name, offset) = split_offset(spec.function, span)?;
    let Some(symbol) = functions.iter().find(|f| names(f, name)) else {
        return Err(unknown_function(&path, name, &functions, span));
    };
    if symbol.ifunc {
        return Err(indirect_function(&path, symbol, &functions, span));
    }
    if offset != 0 {
        if spec.ret {
            return Err(Diagnostic::error(span, "a uretprobe cannot have an offset")
                .with_label("remove `+offset`"));
        }
        if symbol.size != 0 && offset >= symbol.size {
            return Err(Diagnostic::error(
                span,
                format!(
                    "offset {offset} is outside `{name}`, which is {} bytes long",
                    symbol.size
                ),
            )
            .with_label("bad offset")
            .with_help(format!("use an offset below {}", symbol.size)));
        }
    }
    let at = file_offset(object, symbol.address + offset, span)?;
    Ok(vec![instance(at, symbol.display_name())])
}

fn file_offset(object: &ElfObject, address: u64, span: Span) -> Result<u64, Diagnostic> {
    let path = object.path().display().to_string();
    object
        .file_offset(address)
        .map_err(|e| object_error(&e, &path, span))?
        .ok_or_else(|| {
            Diagnostic::error(
                span,
                format!("address {address:#x} is not in a segment of {path}"),
            )
            .with_label("not loaded from the file")
        })
}

/// Whether `wanted` names `f`: its stored or demangled name, or the demangled name without its
/// parameter list (`ns::f` for `ns::f(int)`).
fn names(f: &Symbol, wanted: &str) -> bool {
    f.name == wanted
        || f.demangled.as_deref().is_some_and(|d| {
            d == wanted
                || d.strip_prefix(wanted)
                    .is_some_and(|rest| rest.starts_with('('))
        })
}

fn matches_glob(f: &Symbol, pattern: &str) -> bool {
    glob_match(pattern, &f.name)
        || f.demangled
            .as_deref()
            .is_some_and(|d| glob_match(pattern, d))
}

/// `name+off` → (name, off); a bad offset is an error.
fn split_offset(function: &str, span: Span) -> Result<(&str, u64), Diagnostic> {
    let Some((name, off)) = function.rsplit_once('+') else {
        return Ok((function, 0));
    };
    match parse_number(off) {
        Some(n) => Ok((name, n)),
        None => Err(Diagnostic::error(span, format!("invalid offset `{off}`"))
            .with_label("expected a number after `+`")
            .with_help("for example `uprobe:/bin/bash:readline+4` or `+0x10`")),
    }
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        None => None,
    }
}

/// `strlen` in libc is an IFUNC: probing it would probe the resolver, which never runs again.
fn indirect_function(path: &str, f: &Symbol, functions: &[Symbol], span: Span) -> Diagnostic {
    let name = f.display_name();
    let variants: Vec<&str> = functions
        .iter()
        .map(Symbol::display_name)
        .filter(|n| n.starts_with(&format!("__{name}_")))
        .collect();
    let d = Diagnostic::error(span, format!("`{name}` in {path} is an indirect function"))
        .with_label("this symbol is the IFUNC resolver, which runs once when the library loads")
        .with_help(
            "the dynamic linker picks an implementation for this CPU; probe the implementations",
        );
    if variants.is_empty() {
        d.with_help(
            "they are local symbols, and this object has no symbol table for them (it is \
             stripped): probe the callers, or an implementation by address (`0xADDR`)",
        )
    } else {
        d.with_help(format!(
            "its implementations here: {} (`uprobe:{path}:__{name}_*` probes them all)",
            variants.join(", ")
        ))
    }
}

fn unknown_function(path: &str, name: &str, functions: &[Symbol], span: Span) -> Diagnostic {
    let mut d = Diagnostic::error(span, format!("{path} has no function `{name}`"))
        .with_label("no such function");
    if let Some(near) = did_you_mean(name, functions.iter().map(|f| f.display_name())) {
        d = d.with_help(format!("did you mean `{near}`?"));
    }
    d.with_help(format!("`rdt -l 'uprobe:{path}:*'` lists its functions"))
}

/// Arguments passed in registers (rdi, rsi, rdx, rcx, r8, r9).
const REGISTER_ARGS: u8 = 6;

/// `argN`: the first six from their registers; later ones from the caller's stack, where they
/// sit above the return address when the function is entered.
pub(super) fn arg(index: u8, ret: bool, span: Span, probe: &str) -> Result<Resolved, Diagnostic> {
    if index < REGISTER_ARGS {
        return Ok(Resolved {
            kind: ExprKind::Arg { index },
            ty: Type::U64,
        });
    }
    if ret {
        return Err(Diagnostic::error(
            span,
            format!("arg{index} is not available in {probe} probes"),
        )
        .with_label("stack arguments are gone when the function returns")
        .with_help("read it in a uprobe on the function's entry"));
    }
    let u64_expr = |kind| Expr {
        kind,
        ty: Type::U64,
        span,
    };
    let slot = 8 * i64::from(index - REGISTER_ARGS + 1);
    let addr = u64_expr(ExprKind::Binary {
        op: BinOp::Add,
        lhs: Box::new(u64_expr(ExprKind::CtxField {
            offset: rdt_btf::pt_regs::RSP,
        })),
        rhs: Box::new(u64_expr(ExprKind::Int(slot))),
    });
    Ok(Resolved {
        kind: ExprKind::Deref {
            addr: Box::new(addr),
            user: true,
        },
        ty: Type::U64,
    })
}

/// `rdt -l 'uprobe:TARGET[:GLOB]'`: the functions of TARGET matching GLOB (with `-p PID` and
/// no TARGET, or `*`, those of every object the process maps). `-lv` adds nothing: no debug
/// information is read for user-space functions.
pub fn list_uprobes(query: &Query) -> Result<Vec<Listed>, String> {
    list_functions("uprobe", query)
}

/// `rdt -l 'uretprobe:TARGET[:GLOB]'`: as [`list_uprobes`].
pub fn list_uretprobes(query: &Query) -> Result<Vec<Listed>, String> {
    list_functions("uretprobe", query)
}

fn list_functions(kind: &str, query: &Query) -> Result<Vec<Listed>, String> {
    let (target, glob) = query.glob.split_once(':').unwrap_or((query.glob, "*"));
    let mut out = Vec::new();
    for object in objects_to_list(kind, target, query.pid)? {
        let shown = object.path().display().to_string();
        for f in object.functions().map_err(|e| e.to_string())? {
            if matches_glob(&f, glob) {
                out.push(Listed {
                    name: format!("{kind}:{shown}:{}", f.display_name()),
                    args: Vec::new(),
                });
            }
        }
    }
    Ok(out)
}

/// The binaries a user-space listing reads: TARGET (a path or a library's short name), or,
/// when it is empty or `*`, every object process `pid` maps.
pub(super) fn objects_to_list(
    kind: &str,
    target: &str,
    pid: Option<u32>,
) -> Result<Vec<ElfObject>, String> {
    if !target.is_empty() && target != "*" {
        let path = rdt_elf::resolve(target, pid).map_err(|e| e.to_string())?;
        return Ok(vec![ElfObject::open(&path).map_err(|e| e.to_string())?]);
    }
    let Some(pid) = pid else {
        return Err(format!(
            "listing {kind} probes needs a binary (`rdt -l '{kind}:/path/to/binary'`) or -p PID"
        ));
    };
    let paths = rdt_elf::mapped_objects(pid)
        .map_err(|e| format!("cannot read the maps of process {pid}: {e}"))?;
    Ok(paths
        .iter()
        .filter_map(|p| ElfObject::open(p).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_provider_names() {
        assert!(is_d_pid_provider("pid$target"));
        assert!(is_d_pid_provider("pid123"));
        assert!(!is_d_pid_provider("pid"));
        assert!(!is_d_pid_provider("pidx"));
    }

    #[test]
    fn offsets() {
        let s = Span::new(0, 1);
        assert_eq!(split_offset("f+4", s).unwrap(), ("f", 4));
        assert_eq!(split_offset("f+0x10", s).unwrap(), ("f", 16));
        assert_eq!(split_offset("f", s).unwrap(), ("f", 0));
        assert!(split_offset("f+x", s).is_err());
    }

    #[test]
    fn demangled_names_match_without_parameters() {
        let f = Symbol {
            name: "_ZN2ns3addEii".into(),
            demangled: Some("ns::add(int, int)".into()),
            address: 0x1000,
            size: 8,
            ifunc: false,
        };
        assert!(names(&f, "ns::add"));
        assert!(names(&f, "_ZN2ns3addEii"));
        assert!(!names(&f, "ns::ad"));
        assert!(matches_glob(&f, "ns::*"));
    }
}
