//! `interval` and `profile`: a software cpu-clock perf event, sampling by period or frequency.
//! interval runs on one CPU; profile on every online CPU, or only in the `-p`/`-c` process.

use super::perf::{self, Scope};
use super::Link;
use crate::error::RuntimeError;
use aya::programs::perf_event::{PerfEventConfig, SamplePolicy, SoftwareEvent};
use aya::programs::Program;
use rdt_codegen::{ProgramMeta, TimerPeriod};

pub fn attach(
    program: &mut Program,
    meta: &ProgramMeta,
    period: TimerPeriod,
    all_cpus: bool,
    target_pid: Option<u32>,
) -> Result<Vec<Link>, RuntimeError> {
    let policy = match period {
        TimerPeriod::Nanos(ns) => SamplePolicy::Period(ns),
        TimerPeriod::Hz(hz) => SamplePolicy::Frequency(hz),
    };
    let scope = match (all_cpus, target_pid) {
        (false, _) => Scope::OneCpu,
        (true, Some(pid)) => Scope::Process(pid),
        (true, None) => Scope::AllCpus,
    };
    perf::open_on(
        program,
        meta,
        PerfEventConfig::Software(SoftwareEvent::CpuClock),
        policy,
        scope,
        "a cpu-clock timer",
    )
}
