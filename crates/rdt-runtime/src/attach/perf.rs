//! What `software:`, `hardware:`, `profile` and `interval` probes share (attached in
//! [`super::raw`]): one perf event per online CPU (or one for the traced process), each running
//! the program every `period` events. A machine without a hardware PMU (most VMs) gets a located
//! error.

use crate::error::RuntimeError;
use rdt_codegen::ProgramMeta;
use rdt_syntax::Diagnostic;
use std::path::Path;

/// The CPU's PMU registers itself here; VMs without a virtual PMU have none.
pub(super) const CPU_PMU: &str = "/sys/bus/event_source/devices/cpu";

/// Which CPUs or process a perf event watches.
#[derive(Clone, Copy)]
pub enum Scope {
    /// Every online CPU, every process.
    AllCpus,
    /// CPU 0 only (interval timers: one firing per period).
    OneCpu,
    /// One process (and the threads it creates) on whichever CPU it runs.
    Process(u32),
}

/// Whether the CPU exposes a hardware PMU: `Ok(what it counts)` or `Err(why not)`.
pub fn hardware_available() -> Result<String, String> {
    if Path::new(CPU_PMU).exists() {
        Ok("cycles, instructions, cache and branch counters".into())
    } else {
        Err("no CPU PMU (a virtual machine without a virtual PMU)".into())
    }
}

pub(super) fn no_hardware_pmu(meta: &ProgramMeta, event: &str) -> RuntimeError {
    RuntimeError::located(
        Diagnostic::error(
            meta.probe_span,
            "hardware events are not available on this machine",
        )
        .with_label(format!("cannot count `{event}`"))
        .with_help(format!(
            "the CPU exposes no hardware PMU ({CPU_PMU} is missing; virtual machines often have none)"
        ))
        .with_help("software events work here: `software:cpu-clock:1000000`, `profile:hz:99`"),
    )
}

/// CPUs listed in `/sys/devices/system/cpu/online`; CPU 0 if it cannot be read.
pub fn online_cpus() -> Vec<u32> {
    rdt_btf::machine::online_cpu_ids().unwrap_or_else(|| vec![0])
}
