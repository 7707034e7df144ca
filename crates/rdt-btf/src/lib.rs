//! rdt-btf: the kernel's types, as rdt needs them.
//!
//! - [`tracefs`]: finding (and mounting) tracefs, tracepoint `format` files, listing events,
//!   and x86-64 syscall numbers.
//! - [`btf`]: a lazy reader of the kernel's BTF (vmlinux and modules' split BTF).
//! - [`kfuncs`]: the kernel functions kprobes can attach to.
//! - [`kallsyms`]: kernel symbol addresses by name, from /proc/kallsyms.
//! - [`pt_regs`]: where x86-64 registers are saved in a probe's context.
//! - [`cgroup`]: cgroup v2 ids and mounts.
//! - [`machine`]: CPU lists and start clocks, read once per run.

pub mod btf;
pub mod cgroup;
pub mod kallsyms;
pub mod kfuncs;
pub mod kprobes;
pub mod machine;
pub mod pt_regs;
mod syscalls_x86_64;
pub mod tracefs;

pub use machine::Machine;
pub use syscalls_x86_64::SYSCALLS;
pub use tracefs::{
    categories, categories_at, event_format, event_format_at, glob_match, list_events,
    list_events_at, root, syscall_name, syscall_number, EventFormat, Field, FormatError,
    TracefsError,
};
