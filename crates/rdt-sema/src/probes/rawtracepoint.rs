//! `rawtracepoint:name` (`rt:name`): a raw tracepoint (`BPF_RAW_TRACEPOINT_OPEN`), cheaper to
//! attach and to run than a tracefs tracepoint. The program sees the tracepoint's arguments as
//! a `u64` array: `arg0`, `arg1`, … (the `TP_PROTO` arguments, untyped), and by name with their
//! kernel types from BTF as `args.name` (`args.next->comm` in `sched_switch`). A `module:`
//! prefix, which bpftrace accepts, is ignored. A wildcard (`rawtracepoint:sched_process_*`)
//! expands to the tracepoints `-l` lists, one program each.

use super::btf_args::{raw_tracepoint_args, BtfContext, Source};
use super::Instance;
use crate::ir::{Attach, ProgType};
use rdt_syntax::{Diagnostic, Span};

pub fn expand(rest: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    // `rawtracepoint:module:name` names the module first; the tracepoint name is last.
    let name = rest.rsplit(':').next().unwrap_or("");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '?'))
    {
        return Err(
            Diagnostic::error(span, format!("invalid raw tracepoint `{rest}`"))
                .with_label("expected `rawtracepoint:name`")
                .with_help("for example `rawtracepoint:sched_switch` or `rawtracepoint:sys_enter`"),
        );
    }
    if name.contains(['*', '?']) {
        return Ok(wildcard_names(name, span)?
            .iter()
            .map(|n| instance(n))
            .collect());
    }
    Ok(vec![instance(name)])
}

/// The raw tracepoints a wildcard names.
fn wildcard_names(glob: &str, span: Span) -> Result<Vec<String>, Diagnostic> {
    let names = list(glob, false).map_err(|why| {
        Diagnostic::error(span, format!("cannot expand the wildcard `{glob}`"))
            .with_label("the kernel's tracepoints cannot be listed")
            .with_help(why)
    })?;
    if names.is_empty() {
        return Err(
            Diagnostic::error(span, format!("no raw tracepoint matches `{glob}`"))
                .with_label("matches nothing")
                .with_help("`rdt -l 'rawtracepoint:*'` lists them"),
        );
    }
    Ok(names
        .into_iter()
        .filter_map(|l| l.name.strip_prefix("rawtracepoint:").map(str::to_string))
        .collect())
}

fn instance(name: &str) -> Instance {
    Instance {
        prog_type: ProgType::RawTracepoint,
        attach: Attach::RawTracepoint {
            name: name.to_string(),
        },
        context: BtfContext {
            source: Source::RawTracepoint,
            name: name.to_string(),
            ret: false,
            func_ip: false,
        }
        .into_context(),
        guard: None,
        label: name.to_string(),
        names: None,
    }
}

/// `rdt -l 'rawtracepoint:GLOB'`: the kernel's tracepoints by bare name (a raw tracepoint is
/// the tracepoint itself, before tracefs formats a record). The `syscalls` and `ftrace`
/// categories are tracefs-only events, not raw tracepoints. `-lv` adds the typed arguments.
pub fn list(glob: &str, verbose: bool) -> Result<Vec<super::list::Listed>, String> {
    let events = rdt_btf::tracefs::list_events("*:*").map_err(|e| e.to_string())?;
    let names: std::collections::BTreeSet<String> = events
        .into_iter()
        .filter(|(category, _)| category != "syscalls" && category != "ftrace")
        .map(|(_, name)| name)
        .filter(|name| rdt_btf::glob_match(glob, name))
        .collect();
    Ok(names
        .into_iter()
        .map(|n| super::list::Listed {
            args: if verbose {
                typed_arg_lines(&n)
            } else {
                Vec::new()
            },
            name: format!("rawtracepoint:{n}"),
        })
        .collect())
}

/// `struct task_struct * prev` lines for `-lv`; none when BTF does not know the tracepoint.
fn typed_arg_lines(name: &str) -> Vec<String> {
    raw_tracepoint_args(name)
        .map(|typed| {
            typed
                .args
                .iter()
                .map(|a| format!("    {} {}", a.c_type, a.name))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_module_prefix() {
        let s = Span::default();
        let i = &expand("sched_switch", s).unwrap()[0];
        assert_eq!(
            i.attach,
            Attach::RawTracepoint {
                name: "sched_switch".into()
            }
        );
        let m = &expand("vmlinux:sys_enter", s).unwrap()[0];
        assert_eq!(
            m.attach,
            Attach::RawTracepoint {
                name: "sys_enter".into()
            }
        );
        assert!(expand("", s).is_err());
        assert!(expand("sched-switch", s).is_err());
    }
}
