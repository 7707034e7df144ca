//! `software:` and `hardware:` probes, and the perf-event plumbing `profile`/`interval` share:
//! one perf event per online CPU (or one for the traced process), each running the program
//! every `period` events. A machine without a hardware PMU (most VMs) gets a located error.

use super::{failed, wrong_type, Link};
use crate::error::RuntimeError;
use aya::programs::perf_event::{PerfEventConfig, PerfEventScope, SamplePolicy};
use aya::programs::{PerfEvent, Program};
use rdt_codegen::{PerfCounter, ProgramMeta};
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

pub fn attach(
    program: &mut Program,
    meta: &ProgramMeta,
    counter: &PerfCounter,
    target_pid: Option<u32>,
) -> Result<Vec<Link>, RuntimeError> {
    let kind = if counter.hardware {
        "hardware"
    } else {
        "software"
    };
    if counter.hardware && hardware_available().is_err() {
        return Err(no_hardware_pmu(meta, &counter.event));
    }
    let config = PerfEventConfig::Pmu {
        pmu_type: if counter.hardware {
            super::perf_event::TYPE_HARDWARE
        } else {
            super::perf_event::TYPE_SOFTWARE
        },
        config: counter.config,
    };
    let scope = target_pid.map_or(Scope::AllCpus, Scope::Process);
    let what = format!("the {kind} event {}", counter.event);
    open_on(
        program,
        meta,
        config,
        SamplePolicy::Period(counter.period),
        scope,
        &what,
    )
}

/// Opens `config` in `scope` and attaches the program to each event.
pub fn open_on(
    program: &mut Program,
    meta: &ProgramMeta,
    config: PerfEventConfig,
    policy: SamplePolicy,
    scope: Scope,
    what: &str,
) -> Result<Vec<Link>, RuntimeError> {
    let p: &mut PerfEvent = program.try_into().map_err(|_| wrong_type(meta))?;
    let scopes: Vec<(PerfEventScope, String)> = match scope {
        Scope::AllCpus => online_cpus()
            .into_iter()
            .map(|cpu| {
                (
                    PerfEventScope::AllProcessesOneCpu { cpu },
                    format!(" on CPU {cpu}"),
                )
            })
            .collect(),
        Scope::OneCpu => vec![(PerfEventScope::AllProcessesOneCpu { cpu: 0 }, String::new())],
        Scope::Process(pid) => vec![(
            PerfEventScope::OneProcess { pid, cpu: None },
            format!(" for process {pid}"),
        )],
    };
    let inherit = matches!(scope, Scope::Process(_));
    let mut links = Vec::new();
    for (scope, where_) in scopes {
        let id = p
            .attach(config, scope, policy, inherit)
            .map_err(|e| failed(meta.probe_span, &format!("{what}{where_}"), &e))?;
        links.push(Box::new(
            p.take_link(id)
                .map_err(|e| failed(meta.probe_span, what, &e))?,
        ) as Link);
    }
    Ok(links)
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
