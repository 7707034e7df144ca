//! DTrace's stable providers `proc`, `sched` and `io` (`proc:::exec-success`, `sched:::off-cpu`,
//! `io:::start`) as aliases of the Linux tracepoints that fire at the same moment in the same
//! task. A D probe expands to its tracepoints' instances, so a clause reads the tracepoint's
//! fields (`args->child_pid`) and the builtins of the task the tracepoint fires in.
//!
//! DTrace's typed `args[0]` (psinfo_t, lwpsinfo_t, bufinfo_t, devinfo_t) is not provided: a
//! clause that indexes `args` is told which tracepoint fields to use instead ([`whole_args`]).
//! Probes with no tracepoint that fires at the right moment in the right task are listed in
//! [`UNAVAILABLE`] and refused with the reason, rather than mapped to something close.

use super::{list::Listed, tracepoint, unlocated, Context, Instance};
use crate::ir::ExprKind;
use crate::probe_names::ProbeNames;
use crate::Type;
use rdt_btf::tracefs::glob_match;
use rdt_syntax::ast::BinOp;
use rdt_syntax::{did_you_mean, Diagnostic, Span};

/// The providers this module serves.
pub const PROVIDERS: &[&str] = &["proc", "sched", "io"];

/// A condition narrowing a tracepoint to the D probe's events.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Narrowing {
    None,
    /// `sched_process_exit` fires for every exiting thread; `group_dead` is set for the last
    /// one, when the process itself exits.
    ProcessDead,
    /// A syscall return probe whose return value is negative.
    SyscallFailed,
    /// `task_newtask` for a task sharing its creator's thread group (`CLONE_THREAD`).
    NewThread,
}

/// A narrowing's test: the tracepoint field it reads and, when the field alone is not the
/// test, the operator and constant it is combined with.
type FieldTest = (&'static str, Option<(BinOp, i64, Type)>);

impl Narrowing {
    fn test(self) -> Option<FieldTest> {
        match self {
            Narrowing::None => None,
            Narrowing::ProcessDead => Some(("group_dead", None)),
            Narrowing::SyscallFailed => Some(("ret", Some((BinOp::Lt, 0, Type::I64)))),
            Narrowing::NewThread => Some((
                "clone_flags",
                Some((BinOp::BitAnd, CLONE_THREAD, Type::U64)),
            )),
        }
    }
}

/// `CLONE_THREAD` from include/uapi/linux/sched.h.
const CLONE_THREAD: i64 = 0x10000;

/// One D probe and the tracepoints that fire at its moment.
struct DProbe {
    provider: &'static str,
    name: &'static str,
    tracepoints: &'static [&'static str],
    narrowing: Narrowing,
}

const fn probe(
    provider: &'static str,
    name: &'static str,
    tracepoints: &'static [&'static str],
    narrowing: Narrowing,
) -> DProbe {
    DProbe {
        provider,
        name,
        tracepoints,
        narrowing,
    }
}

/// The mapping (docs/probes.md "D providers" gives the kernel call site of each tracepoint).
const PROBES: &[DProbe] = &[
    // In the process calling execve/execveat, before the new image is loaded.
    probe(
        "proc",
        "exec",
        &["syscalls:sys_enter_execve", "syscalls:sys_enter_execveat"],
        Narrowing::None,
    ),
    // In the new program (exec_binprm), so execname is already the new name.
    probe(
        "proc",
        "exec-success",
        &["sched:sched_process_exec"],
        Narrowing::None,
    ),
    // execve/execveat returning an error, in the process that called it.
    probe(
        "proc",
        "exec-failure",
        &["syscalls:sys_exit_execve", "syscalls:sys_exit_execveat"],
        Narrowing::SyscallFailed,
    ),
    // do_exit of the last thread of the process.
    probe(
        "proc",
        "exit",
        &["sched:sched_process_exit"],
        Narrowing::ProcessDead,
    ),
    // do_exit of any thread.
    probe(
        "proc",
        "lwp-exit",
        &["sched:sched_process_exit"],
        Narrowing::None,
    ),
    // kernel_clone, in the parent, after the child exists.
    probe(
        "proc",
        "create",
        &["sched:sched_process_fork"],
        Narrowing::None,
    ),
    // copy_process, in the creating thread, for a new thread of its process.
    probe(
        "proc",
        "lwp-create",
        &["task:task_newtask"],
        Narrowing::NewThread,
    ),
    // In the sender (__send_signal_locked).
    probe(
        "proc",
        "signal-send",
        &["signal:signal_generate"],
        Narrowing::None,
    ),
    // In the receiver, as it takes the signal on the way back to user space (get_signal).
    probe(
        "proc",
        "signal-handle",
        &["signal:signal_deliver"],
        Narrowing::None,
    ),
    // __schedule, still in the task leaving the CPU.
    probe("sched", "off-cpu", &["sched:sched_switch"], Narrowing::None),
    // try_to_wake_up, always in the waker (sched_wakeup may run on the target CPU instead).
    probe("sched", "wakeup", &["sched:sched_waking"], Narrowing::None),
    // The request handed to the device driver.
    probe("io", "start", &["block:block_rq_issue"], Narrowing::None),
    // The request completed (usually in interrupt context, as in DTrace).
    probe("io", "done", &["block:block_rq_complete"], Narrowing::None),
];

/// Well-known D probes with no Linux tracepoint at the same moment in the same task: the reason,
/// and what to use instead.
const UNAVAILABLE: &[(&str, &str, &str, &str)] = &[
    (
        "sched",
        "on-cpu",
        "no tracepoint fires in the task coming onto the CPU: `sched_switch` runs in the task leaving it",
        "use `sched:::off-cpu`, or `tracepoint:sched:sched_switch` with `args->next_pid` / `args->next_comm` for the task coming on",
    ),
    (
        "sched",
        "remain-cpu",
        "Linux has no tracepoint for a scheduling decision that keeps the current task",
        "`sched:::off-cpu` fires when a task does leave the CPU",
    ),
    (
        "sched",
        "sleep",
        "Linux has no tracepoint as a task starts to sleep on a synchronization object",
        "use `sched:::off-cpu /args->prev_state != 0/` (the task left the CPU not runnable)",
    ),
    (
        "sched",
        "preempt",
        "Linux has no tracepoint as a task is about to be preempted",
        "use `sched:::off-cpu /args->prev_state == 0/` (the task left the CPU still runnable)",
    ),
    (
        "sched",
        "enqueue",
        "Linux has no tracepoint when a task is put on a run queue",
        "`sched:::wakeup` fires as a sleeping task is made runnable",
    ),
    (
        "sched",
        "dequeue",
        "Linux has no tracepoint when a task is taken off a run queue",
        "`sched:::off-cpu` fires when a task leaves the CPU",
    ),
    (
        "proc",
        "start",
        "no tracepoint fires in a new process before its first instruction",
        "`proc:::create` fires in the parent with `args->child_pid`",
    ),
    (
        "proc",
        "lwp-start",
        "no tracepoint fires in a new thread before its first instruction",
        "`proc:::create` fires in the creating thread with `args->child_pid`",
    ),
    (
        "io",
        "wait-start",
        "Linux has no tracepoint as a task starts waiting for a block I/O request",
        "`io:::start` and `io:::done` bracket the request itself",
    ),
    (
        "io",
        "wait-done",
        "Linux has no tracepoint as a task stops waiting for a block I/O request",
        "`io:::start` and `io:::done` bracket the request itself",
    ),
];

/// Expands `PROVIDER:::NAME` (NAME may be a glob) into its tracepoints' instances.
pub fn expand(provider: &str, text: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let Some(name) = text
        .strip_prefix(provider)
        .and_then(|r| r.strip_prefix(":::"))
        .filter(|n| !n.is_empty() && !n.contains(':'))
    else {
        return Err(
            Diagnostic::error(span, format!("invalid {provider} probe `{text}`"))
                .with_label(format!("expected `{provider}:::NAME`"))
                .with_help(format!(
                    "the {provider} provider's probes: {}",
                    names_of(provider).join(", ")
                )),
        );
    };
    let name_span = Span::new(
        (span.end as usize).saturating_sub(name.len()),
        span.end as usize,
    );
    let matched: Vec<&DProbe> = PROBES
        .iter()
        .filter(|p| p.provider == provider && glob_match(name, p.name))
        .collect();
    if matched.is_empty() {
        return Err(no_such_probe(provider, name, name_span));
    }
    let mut instances = Vec::new();
    for p in matched {
        for tp in p.tracepoints {
            for mut instance in tracepoint::expand(tp, span)? {
                narrow(&mut instance, p.narrowing, span);
                instance.names = Some(probe_names(provider, p));
                instances.push(instance);
            }
        }
    }
    Ok(instances)
}

fn names_of(provider: &str) -> Vec<&'static str> {
    PROBES
        .iter()
        .filter(|p| p.provider == provider)
        .map(|p| p.name)
        .collect()
}

fn no_such_probe(provider: &str, name: &str, span: Span) -> Diagnostic {
    if let Some((_, _, why, instead)) = UNAVAILABLE
        .iter()
        .find(|(prov, n, _, _)| *prov == provider && *n == name)
    {
        return Diagnostic::error(
            span,
            format!("`{provider}:::{name}` is not available on Linux"),
        )
        .with_label(*why)
        .with_help(*instead);
    }
    let mut d = Diagnostic::error(span, format!("unknown probe `{provider}:::{name}`"))
        .with_label(format!("not a probe of the {provider} provider"));
    if let Some(near) = did_you_mean(name, names_of(provider)) {
        d = d.with_help(format!("did you mean `{provider}:::{near}`?"));
    }
    d.with_help(format!(
        "the {provider} provider's probes: {}",
        names_of(provider).join(", ")
    ))
}

/// Adds the D probe's condition to the instance's own (a syscall probe checks its number).
fn narrow(instance: &mut Instance, narrowing: Narrowing, span: Span) {
    let (Some((field, compare)), Context::Tracepoint(tp)) = (narrowing.test(), &instance.context)
    else {
        return;
    };
    // A kernel without the field (group_dead before 6.16): every event of the tracepoint fires.
    let Ok(value) = tp.field(field, span) else {
        return;
    };
    let condition = match compare {
        None => (value.kind, value.ty),
        Some((op, constant, ty)) => (
            ExprKind::Binary {
                op,
                lhs: Box::new(unlocated(value.kind, value.ty)),
                rhs: Box::new(unlocated(ExprKind::Int(constant), ty)),
            },
            Type::U64,
        ),
    };
    instance.guard = Some(match instance.guard.take() {
        None => condition,
        Some((kind, ty)) => (
            ExprKind::Binary {
                op: BinOp::LogAnd,
                lhs: Box::new(unlocated(kind, ty)),
                rhs: Box::new(unlocated(condition.0, condition.1)),
            },
            Type::U64,
        ),
    });
}

/// `probeprov`, `probename`, … of a D provider's probe: the D probe, not its tracepoint. Module
/// `vmlinux` and an empty function, as Oracle Linux DTrace names them.
fn probe_names(provider: &str, p: &DProbe) -> ProbeNames {
    ProbeNames {
        probe: format!("{provider}:::{}", p.name),
        provider: provider.to_string(),
        module: "vmlinux".into(),
        function: String::new(),
        name: p.name.to_string(),
    }
}

/// The error for `args` used whole (DTrace's `args[0]`) in a D provider's probe: its typed
/// translators are not provided, the tracepoint's fields are.
pub fn whole_args(span: Span, provider: &str, context: &Context) -> Option<Diagnostic> {
    if !PROVIDERS.contains(&provider) {
        return None;
    }
    let Context::Tracepoint(tp) = context else {
        return None;
    };
    let (category, name) = tp.event();
    Some(
        Diagnostic::error(
            span,
            format!("`args[N]` is not available in {provider} probes"),
        )
        .with_label("DTrace's typed arguments (psinfo_t, bufinfo_t, …) are not provided")
        .with_help(format!(
            "this probe is tracepoint `{category}:{name}`: use its fields, `args->FIELD`: {}",
            tp.field_names().join(", ")
        )),
    )
}

/// `rdt -l 'proc:::*'`: the D probes the glob matches; with `verbose`, the tracepoint each
/// stands for and that tracepoint's fields.
pub fn list(provider: &str, glob: &str, verbose: bool) -> Result<Vec<Listed>, String> {
    let glob = glob.trim_start_matches(':');
    let glob = if glob.is_empty() { "*" } else { glob };
    let mut listed = Vec::new();
    for p in PROBES
        .iter()
        .filter(|p| p.provider == provider && glob_match(glob, p.name))
    {
        let mut args = Vec::new();
        if verbose {
            for tp in p.tracepoints {
                args.push(format!(
                    "    = tracepoint:{tp}{}",
                    narrowing_note(p.narrowing)
                ));
                for t in tracepoint::list(tp, true)? {
                    args.extend(t.args);
                }
            }
        }
        listed.push(Listed {
            name: format!("{provider}:::{}", p.name),
            args,
        });
    }
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(listed)
}

fn narrowing_note(n: Narrowing) -> &'static str {
    match n {
        Narrowing::None => "",
        Narrowing::ProcessDead => " when group_dead (the last thread exits)",
        Narrowing::SyscallFailed => " when ret < 0",
        Narrowing::NewThread => " when clone_flags has CLONE_THREAD",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_names_a_known_provider_and_a_category_name_tracepoint() {
        for p in PROBES {
            assert!(PROVIDERS.contains(&p.provider), "{}", p.name);
            for tp in p.tracepoints {
                assert_eq!(tp.split(':').count(), 2, "{tp}");
            }
        }
    }

    #[test]
    fn unavailable_probes_are_not_also_mapped() {
        for (provider, name, _, _) in UNAVAILABLE {
            assert!(
                !PROBES
                    .iter()
                    .any(|p| p.provider == *provider && p.name == *name),
                "{provider}:::{name}"
            );
        }
    }

    #[test]
    fn an_unknown_name_suggests_a_near_one() {
        let d = no_such_probe("proc", "exec-sucess", Span::new(0, 1));
        let text = format!("{d:?}");
        assert!(text.contains("proc:::exec-success"), "{text}");
    }
}
