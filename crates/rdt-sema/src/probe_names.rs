//! The names of the probe a clause runs on, for the `probe`, `func` builtins and D's
//! `probeprov`, `probemod`, `probefunc`, `probename`. They are constants of each program: a
//! clause that reads them compiles once per attach point (see `uses_args` in lib.rs).

use crate::ir::{Attach, TimerPeriod};
use crate::probes::Instance;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ProbeNames {
    /// bpftrace's full name: `tracepoint:syscalls:sys_enter_openat`, `interval:ms:100`.
    pub probe: String,
    pub provider: String,
    pub module: String,
    pub function: String,
    pub name: String,
}

/// Names seen by builtins, which the probe names of a clause depend on.
pub const PROBE_NAME_BUILTINS: &[&str] = &[
    "probe",
    "func",
    "probeprov",
    "probemod",
    "probefunc",
    "probename",
];

impl ProbeNames {
    pub fn of(instance: &Instance) -> ProbeNames {
        if let Some(names) = &instance.names {
            return names.clone();
        }
        let label = instance.label.as_str();
        match &instance.attach {
            Attach::Begin | Attach::End => ProbeNames {
                probe: label.to_string(),
                provider: label.to_string(),
                name: label.to_string(),
                ..Default::default()
            },
            Attach::Tracepoint { category, name } => ProbeNames {
                probe: format!("tracepoint:{category}:{name}"),
                provider: "tracepoint".into(),
                module: category.clone(),
                function: name.clone(),
                name: name.clone(),
            },
            // Syscall probes ride on raw tracepoints `sys_enter`/`sys_exit` under their own label.
            Attach::RawTracepoint { name } if name != label => syscall_names(label),
            Attach::RawTracepoint { name } => ProbeNames {
                probe: format!("rawtracepoint:{name}"),
                provider: "rawtracepoint".into(),
                function: name.clone(),
                name: name.clone(),
                ..Default::default()
            },
            Attach::PerfCounter(counter) => {
                let kind = if counter.hardware {
                    "hardware"
                } else {
                    "software"
                };
                ProbeNames {
                    probe: format!("{kind}:{}:{}", counter.event, counter.period),
                    provider: kind.into(),
                    function: counter.event.clone(),
                    name: counter.event.clone(),
                    ..Default::default()
                }
            }
            Attach::Kprobe { function, ret, .. } => ProbeNames {
                probe: format!("{}:{function}", if *ret { "kretprobe" } else { "kprobe" }),
                provider: "fbt".into(),
                module: "kernel".into(),
                function: function.clone(),
                name: if *ret { "return" } else { "entry" }.into(),
            },
            Attach::Fentry { function } => {
                let exit = instance.prog_type == crate::ir::ProgType::Fexit;
                ProbeNames {
                    probe: format!("{}:{function}", if exit { "fexit" } else { "fentry" }),
                    provider: "fbt".into(),
                    module: "kernel".into(),
                    function: function.clone(),
                    name: if exit { "return" } else { "entry" }.into(),
                }
            }
            Attach::Uprobe { path, ret, .. } => ProbeNames {
                probe: format!(
                    "{}:{path}:{label}",
                    if *ret { "uretprobe" } else { "uprobe" }
                ),
                provider: "pid".into(),
                module: path.clone(),
                function: label.to_string(),
                name: if *ret { "return" } else { "entry" }.into(),
            },
            Attach::Usdt { path, .. } => {
                let provider = match &instance.context {
                    crate::probes::Context::Usdt(site) => site.provider.clone(),
                    _ => String::new(),
                };
                ProbeNames {
                    probe: format!("usdt:{path}:{provider}:{label}"),
                    provider,
                    module: path.clone(),
                    function: label.to_string(),
                    name: label.to_string(),
                }
            }
            Attach::Timer { period, all_cpus } => {
                let kind = if *all_cpus { "profile" } else { "interval" };
                let spec = match period {
                    TimerPeriod::Hz(hz) => format!("hz:{hz}"),
                    TimerPeriod::Nanos(ns) => timer_spec(*ns),
                };
                ProbeNames {
                    probe: format!("{kind}:{spec}"),
                    provider: kind.into(),
                    name: spec,
                    ..Default::default()
                }
            }
        }
    }
}

/// `sys_enter_openat` → `tracepoint:syscalls:sys_enter_openat`, D: `syscall::openat:entry`.
fn syscall_names(label: &str) -> ProbeNames {
    let (call, side) = match label.strip_prefix("sys_enter_") {
        Some(c) => (c, "entry"),
        None => (label.strip_prefix("sys_exit_").unwrap_or(label), "return"),
    };
    ProbeNames {
        probe: format!("tracepoint:syscalls:{label}"),
        provider: "syscall".into(),
        module: "syscalls".into(),
        function: call.to_string(),
        name: side.into(),
    }
}

fn timer_spec(ns: u64) -> String {
    for (unit, scale) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        if ns.is_multiple_of(scale) {
            return format!("{unit}:{}", ns / scale);
        }
    }
    format!("ns:{ns}")
}
