//! Which instances of a wildcard share one program (`group_instances` in lib.rs). Kernel-free:
//! the instances are built from plain function names, as a kprobe wildcard would expand them.

use super::*;

fn kprobes(functions: &[&str]) -> Vec<Instance> {
    functions
        .iter()
        .flat_map(|f| {
            probes::expand(&format!("kprobe:{f}"), Span::default(), &Params::default()).unwrap()
        })
        .collect()
}

fn groups(script: &str, functions: &[&str]) -> usize {
    let program = rdt_syntax::parse(script).expect("parses");
    let clause = &program.clauses[0];
    group_instances(&clause.probes[0], kprobes(functions), reads_of(clause)).len()
}

const VFS: &[&str] = &["vfs_read", "vfs_write", "vfs_open"];

#[test]
fn kprobe_wildcard_reading_registers_and_func_shares_one_program() {
    assert_eq!(groups("kprobe:vfs_* { @[func] = count(); }", VFS), 1);
    assert_eq!(
        groups("kprobe:vfs_* /arg0/ { @[probefunc] = sum(arg2); }", VFS),
        1
    );
    assert_eq!(
        groups("kretprobe:vfs_* { @[func] = hist(retval); }", VFS),
        1
    );
    assert_eq!(groups("kprobe:vfs_* { @ = count(); }", VFS), 1);
}

#[test]
fn typed_args_and_probe_names_need_one_program_per_function() {
    assert_eq!(groups("kprobe:vfs_* { @[args.file] = count(); }", VFS), 3);
    assert_eq!(groups("kprobe:vfs_* { @[probe] = count(); }", VFS), 3);
    assert_eq!(groups("kprobe:vfs_* { @[func, probe] = count(); }", VFS), 3);
}

#[test]
fn register_names_are_exactly_argn_retval_func() {
    assert!(is_register_name("arg0") && is_register_name("arg12"));
    assert!(is_register_name("retval") && is_register_name("func"));
    assert!(!is_register_name("args") && !is_register_name("arg") && !is_register_name("probe"));
}

#[test]
fn func_is_read_at_run_time_only_at_a_function_entry() {
    let context = |spec: &str| {
        probes::expand(spec, Span::default(), &Params::default()).unwrap()[0]
            .context
            .clone()
    };
    assert!(context("kprobe:vfs_read").func_ip());
    assert!(context("kretprobe:vfs_read").func_ip());
    assert!(!context("kprobe:vfs_read+5").func_ip());
    assert!(!context("rawtracepoint:sched_switch").func_ip());
}
