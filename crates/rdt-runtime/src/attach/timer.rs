//! `interval` and `profile`: a software cpu-clock perf event per CPU, sampling by period or
//! frequency. interval runs on one CPU; profile on every online CPU.

use super::{failed, wrong_type, Link};
use crate::error::RuntimeError;
use aya::programs::perf_event::{PerfEventConfig, PerfEventScope, SamplePolicy, SoftwareEvent};
use aya::programs::{PerfEvent, Program};
use rdt_codegen::{ProgramMeta, TimerPeriod};

pub fn attach(
    program: &mut Program,
    meta: &ProgramMeta,
    period: TimerPeriod,
    all_cpus: bool,
) -> Result<Vec<Link>, RuntimeError> {
    let p: &mut PerfEvent = program.try_into().map_err(|_| wrong_type(meta))?;
    let policy = match period {
        TimerPeriod::Nanos(ns) => SamplePolicy::Period(ns),
        TimerPeriod::Hz(hz) => SamplePolicy::Frequency(hz),
    };
    let cpus = if all_cpus { online_cpus() } else { vec![0] };
    let mut links = Vec::new();
    for cpu in cpus {
        let config = PerfEventConfig::Software(SoftwareEvent::CpuClock);
        let id = p
            .attach(
                config,
                PerfEventScope::AllProcessesOneCpu { cpu },
                policy,
                false,
            )
            .map_err(|e| {
                failed(
                    meta.probe_span,
                    &format!("a cpu-clock timer on CPU {cpu}"),
                    &e,
                )
            })?;
        links.push(Box::new(
            p.take_link(id)
                .map_err(|e| failed(meta.probe_span, "a timer", &e))?,
        ) as Link);
    }
    Ok(links)
}

/// CPUs listed in `/sys/devices/system/cpu/online`; CPU 0 if it cannot be read.
fn online_cpus() -> Vec<u32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    crate::bpf_sys::cpu_ids(&text).unwrap_or_else(|| vec![0])
}
