//! kprobes and kretprobes: a perf event on the kernel's kprobe PMU (`perf_event_open` with the
//! function's name and offset) running the loaded program, else a probe written to tracefs
//! `kprobe_events` ([`super::kprobe_events`]). On a kernel without either, the error says so and
//! points at the tracepoints that can stand in.

use super::perf_event::{self, PerfEventAttr, ProbePmuKind};
use super::{kprobe_events, Link};
use crate::error::RuntimeError;
use rdt_btf::kprobes::Mechanism;
use rdt_codegen::ProgramMeta;
use rdt_syntax::Diagnostic;
use std::ffi::CString;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// Attaches `prog` at `function+offset` (its return with `ret`). `suggest`: explain a failure
/// with the kernel's closest function names (reads the whole function list, pointless for a
/// wildcard's functions, which came from it).
pub fn attach(
    prog: BorrowedFd,
    meta: &ProgramMeta,
    function: &str,
    offset: u64,
    ret: bool,
    suggest: bool,
) -> Result<Link, RuntimeError> {
    let kind = if ret { "kretprobe" } else { "kprobe" };
    let cannot = |why: String| {
        let unknown = suggest.then(|| unknown_function(meta, function, kind));
        unknown.flatten().unwrap_or_else(|| {
            RuntimeError::located(
                Diagnostic::error(meta.probe_span, format!("cannot attach {kind} {function}"))
                    .with_label(why),
            )
        })
    };
    match rdt_btf::kprobes::mechanism() {
        Ok(Mechanism::Pmu) => {
            let event = open_pmu_event(function, offset, ret)
                .map_err(|e| {
                    kprobe_reason(&e).map_or_else(
                        || format!("perf_event_open on the kprobe PMU: {e}"),
                        str::to_string,
                    )
                })
                .and_then(|event| {
                    perf_event::set_bpf_and_enable(&event, prog)
                        .map(|()| event)
                        .map_err(|e| format!("PERF_EVENT_IOC_SET_BPF: {e}"))
                })
                .map_err(cannot)?;
            Ok(Box::new(event))
        }
        Ok(Mechanism::Events(events_file)) => {
            let tracefs = events_file.parent().unwrap_or(&events_file).to_path_buf();
            let probe =
                kprobe_events::attach(prog, &tracefs, function, offset, ret).map_err(cannot)?;
            Ok(Box::new(probe))
        }
        Err(why) => Err(unavailable(meta, function, kind, &why)),
    }
}

/// `perf_event_open` on the kprobe PMU: the function's name in `config1`, the offset into it in
/// `config2`, the retprobe bit in `config`. One event on CPU 0 fires for every CPU and process.
fn open_pmu_event(function: &str, offset: u64, ret: bool) -> io::Result<OwnedFd> {
    let pmu = perf_event::probe_pmu(ProbePmuKind::Kprobe)?;
    let name = CString::new(function)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the function name"))?;
    let attr = PerfEventAttr {
        flags: perf_event::FLAG_DISABLED,
        // `kprobe_func` and `probe_offset`.
        config1: name.as_ptr() as u64,
        config2: offset,
        ..PerfEventAttr::new(pmu.type_, pmu.retprobe_config(ret))
    };
    perf_event::open(&attr, None, 0)
}

/// Why the kernel refused a kprobe, in words, for the errors that have one meaning whichever way
/// the probe was made (the kprobe PMU or `kprobe_events`): for a wildcard's function this is
/// all the skipped warning says.
pub(super) fn kprobe_reason(e: &io::Error) -> Option<&'static str> {
    match e.raw_os_error()? {
        libc::ENOENT => Some("the kernel has no such function"),
        libc::EINVAL => Some("kprobes are not allowed on it (notrace or blacklisted)"),
        libc::EILSEQ => Some("+offset is not at an instruction boundary"),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kprobe_refusals_are_put_in_words() {
        let words = |errno| kprobe_reason(&io::Error::from_raw_os_error(errno));
        assert_eq!(words(libc::ENOENT), Some("the kernel has no such function"));
        assert!(words(libc::EINVAL).is_some_and(|w| w.contains("blacklisted")));
        assert!(words(libc::EILSEQ).is_some_and(|w| w.contains("instruction boundary")));
        assert_eq!(words(libc::EBUSY), None);
    }
}
