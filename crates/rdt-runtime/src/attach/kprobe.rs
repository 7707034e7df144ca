//! kprobes and kretprobes through aya (the kprobe PMU, else tracefs `kprobe_events`). On a kernel
//! without either, the error says so and points at the tracepoints that can stand in.

use super::{failed, kprobe_events, wrong_type, Link};
use crate::error::RuntimeError;
use aya::programs::{KProbe, Program};
use rdt_btf::kprobes::Mechanism;
use rdt_codegen::ProgramMeta;
use rdt_syntax::Diagnostic;

/// `suggest`: explain a failure with the kernel's closest function names (reads the whole
/// function list, pointless for a wildcard's functions, which came from it).
pub fn attach(
    program: &mut Program,
    meta: &ProgramMeta,
    function: &str,
    offset: u64,
    ret: bool,
    suggest: bool,
) -> Result<Link, RuntimeError> {
    let kind = if ret { "kretprobe" } else { "kprobe" };
    let p: &mut KProbe = program.try_into().map_err(|_| wrong_type(meta))?;
    match rdt_btf::kprobes::mechanism() {
        Ok(Mechanism::Pmu) => {
            let id = p.attach(function, offset).map_err(|e| {
                let unknown = suggest.then(|| unknown_function(meta, function, kind));
                unknown
                    .flatten()
                    .unwrap_or_else(|| failed(meta.probe_span, &format!("{kind} {function}"), &e))
            })?;
            Ok(Box::new(
                p.take_link(id)
                    .map_err(|e| failed(meta.probe_span, kind, &e))?,
            ))
        }
        Ok(Mechanism::Events(events_file)) => {
            let tracefs = events_file.parent().unwrap_or(&events_file).to_path_buf();
            let fd = p
                .fd()
                .map_err(|e| failed(meta.probe_span, &format!("{kind} {function}"), &e))?;
            let probe =
                kprobe_events::attach(fd, &tracefs, function, offset, ret).map_err(|why| {
                    let unknown = suggest.then(|| unknown_function(meta, function, kind));
                    unknown.flatten().unwrap_or_else(|| {
                        RuntimeError::located(
                            Diagnostic::error(
                                meta.probe_span,
                                format!("cannot attach {kind} {function}"),
                            )
                            .with_label(why),
                        )
                    })
                })?;
            Ok(Box::new(probe))
        }
        Err(why) => Err(unavailable(meta, function, kind, &why)),
    }
}

/// When an attach failed because the kernel has no function of that name: a diagnostic with
/// the closest names it does have. `None` when the functions cannot be listed or it exists.
fn unknown_function(meta: &ProgramMeta, function: &str, kind: &str) -> Option<RuntimeError> {
    let all = rdt_btf::kfuncs::matching("*").ok()?;
    if all.iter().any(|f| f == function) {
        return None;
    }
    let mut d = Diagnostic::error(
        meta.probe_span,
        format!("the kernel has no function `{function}` to {kind}"),
    )
    .with_label("not in available_filter_functions");
    d = match rdt_syntax::did_you_mean(function, all.iter().map(String::as_str)) {
        Some(near) => d.with_help(format!("did you mean `{near}`?")),
        None => d.with_help(format!(
            "`rdt -l 'kprobe:*{function}*'` lists the functions with similar names"
        )),
    };
    Some(RuntimeError::located(d))
}

fn unavailable(meta: &ProgramMeta, function: &str, kind: &str, why: &str) -> RuntimeError {
    let mut d = Diagnostic::error(
        meta.probe_span,
        format!("{kind}s are not available on this kernel"),
    )
    .with_label(format!("cannot attach a {kind} to `{function}`"))
    .with_help(why.to_string())
    .with_help(fentry_cannot_stand_in(kind, offset_given(meta)));
    let alternatives = stand_in_tracepoints(function);
    if !alternatives.is_empty() {
        let list: Vec<String> = alternatives
            .iter()
            .map(|t| format!("`tracepoint:{t}`"))
            .collect();
        d = d.with_help(format!(
            "tracepoints that see the same events: {}",
            list.join(", ")
        ));
    } else {
        d = d.with_help(
            "tracepoints work on this kernel: `rdt -l 'tracepoint:*'` lists them".to_string(),
        );
    }
    RuntimeError::located(d)
}

/// Why the probe module did not compile this probe as fentry/fexit instead (it does when kprobes
/// are missing, fentry loads and BTF describes the function: crates/rdt-sema/src/probes/kprobe.rs).
fn fentry_cannot_stand_in(kind: &str, with_offset: bool) -> String {
    let trampoline = if kind == "kretprobe" {
        "fexit"
    } else {
        "fentry"
    };
    match crate::features::fentry_loads() {
        Err(why) => format!("{trampoline} cannot stand in either: {why}"),
        Ok(()) if with_offset => {
            format!("{trampoline} could stand in, but only at a function's entry (no `+offset`)")
        }
        Ok(()) => {
            format!("{trampoline} could stand in, but only for a function with a BTF prototype")
        }
    }
}

/// Whether the probe names an offset into its function.
fn offset_given(meta: &ProgramMeta) -> bool {
    meta.attach
        .iter()
        .any(|a| matches!(a, rdt_codegen::Attach::Kprobe { offset, .. } if *offset != 0))
}

/// Tracepoints that fire where `function` runs: for a syscall implementation (`do_sys_open`,
/// `__x64_sys_read`, `ksys_write`) the matching syscall entry tracepoints; otherwise tracepoints
/// whose name contains the function's name.
fn stand_in_tracepoints(function: &str) -> Vec<String> {
    let syscall = [
        "__x64_sys_",
        "__ia32_sys_",
        "__do_sys_",
        "do_sys_",
        "ksys_",
        "sys_",
    ]
    .iter()
    .find_map(|p| function.strip_prefix(p));
    let found = match syscall {
        Some(name) => rdt_btf::tracefs::list_events(&format!("syscalls:sys_enter_{name}*"))
            .unwrap_or_default(),
        None => rdt_btf::tracefs::list_events(&format!("*:*{function}*")).unwrap_or_default(),
    };
    let mut names: Vec<String> = found.into_iter().map(|(c, n)| format!("{c}:{n}")).collect();
    // The closest first: `sys_enter_open`, then `…openat`, `…openat2`.
    names.sort_by_key(|n| (n.len(), n.clone()));
    names.truncate(3);
    names
}
