//! `software:`, `hardware:`, `profile` and `interval` probes: one perf event per online CPU (or
//! one for the traced process), each running the program every `period` events. A machine
//! without a hardware PMU (most VMs) gets a located error.

use super::perf_event::{self, PerfEventAttr};
use super::{failed, Link};
use crate::error::RuntimeError;
use rdt_codegen::{PerfCounter, ProgramMeta, TimerPeriod};
use rdt_syntax::Diagnostic;
use std::os::fd::BorrowedFd;
use std::path::Path;

/// The CPU's PMU registers itself here; VMs without a virtual PMU have none.
const CPU_PMU: &str = "/sys/bus/event_source/devices/cpu";

const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;

/// Which CPUs or process a perf event watches.
#[derive(Clone, Copy)]
enum Scope {
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

/// A `profile` (every CPU, or the traced process) or `interval` (one CPU) timer: cpu-clock
/// samples every `period`.
pub(super) fn attach_timer(
    prog: BorrowedFd,
    meta: &ProgramMeta,
    period: TimerPeriod,
    all_cpus: bool,
    target_pid: Option<u32>,
) -> Result<Vec<Link>, RuntimeError> {
    let scope = match (all_cpus, target_pid) {
        (false, _) => Scope::OneCpu,
        (true, Some(pid)) => Scope::Process(pid),
        (true, None) => Scope::AllCpus,
    };
    let event = PerfEvent {
        type_: perf_event::TYPE_SOFTWARE,
        config: PERF_COUNT_SW_CPU_CLOCK,
        sample: period,
    };
    event.open_on(prog, meta, scope, "a cpu-clock timer")
}

/// A `software:` or `hardware:` counter, on every CPU or for the traced process.
pub(super) fn attach_counter(
    prog: BorrowedFd,
    meta: &ProgramMeta,
    counter: &PerfCounter,
    target_pid: Option<u32>,
) -> Result<Vec<Link>, RuntimeError> {
    if counter.hardware && hardware_available().is_err() {
        return Err(no_hardware_pmu(meta, &counter.event));
    }
    let (type_, kind) = if counter.hardware {
        (perf_event::TYPE_HARDWARE, "hardware")
    } else {
        (perf_event::TYPE_SOFTWARE, "software")
    };
    let event = PerfEvent {
        type_,
        config: counter.config,
        sample: TimerPeriod::Nanos(counter.period),
    };
    let scope = target_pid.map_or(Scope::AllCpus, Scope::Process);
    let what = format!("the {kind} event {}", counter.event);
    event.open_on(prog, meta, scope, &what)
}

fn no_hardware_pmu(meta: &ProgramMeta, event: &str) -> RuntimeError {
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
fn online_cpus() -> Vec<u32> {
    rdt_btf::machine::online_cpu_ids().unwrap_or_else(|| vec![0])
}

/// A sampling perf event: `sample` is its period (in its unit: ns for cpu-clock) or frequency.
struct PerfEvent {
    type_: u32,
    config: u64,
    sample: TimerPeriod,
}

impl PerfEvent {
    /// Opens the event in `scope` and runs the program on each sample.
    fn open_on(
        &self,
        prog: BorrowedFd,
        meta: &ProgramMeta,
        scope: Scope,
        what: &str,
    ) -> Result<Vec<Link>, RuntimeError> {
        let places: Vec<(Option<u32>, i32, String)> = match scope {
            Scope::AllCpus => online_cpus()
                .into_iter()
                .map(|cpu| (None, cpu as i32, format!(" on CPU {cpu}")))
                .collect(),
            Scope::OneCpu => vec![(None, 0, String::new())],
            Scope::Process(pid) => vec![(Some(pid), -1, format!(" for process {pid}"))],
        };
        let attr = self.attr(scope);
        let mut links = Vec::new();
        for (pid, cpu, where_) in places {
            let event = perf_event::open(&attr, pid, cpu)
                .and_then(|event| perf_event::set_bpf_and_enable(&event, prog).map(|()| event))
                .map_err(|e| failed(meta.probe_span, &format!("{what}{where_}"), &e))?;
            links.push(Box::new(event) as Link);
        }
        Ok(links)
    }

    /// Sampling every period (or at a frequency, with [`perf_event::FLAG_FREQ`]), waking the
    /// reader on each sample.
    fn attr(&self, scope: Scope) -> PerfEventAttr {
        let (sample, freq) = match self.sample {
            TimerPeriod::Nanos(period) => (period, 0),
            TimerPeriod::Hz(hz) => (hz, perf_event::FLAG_FREQ),
        };
        // The traced process's threads and children are counted too.
        let inherit = match scope {
            Scope::Process(_) => perf_event::FLAG_INHERIT,
            _ => 0,
        };
        PerfEventAttr {
            sample_period: sample,
            sample_type: perf_event::SAMPLE_RAW,
            wakeup_events: 1,
            flags: freq | inherit,
            ..PerfEventAttr::new(self.type_, self.config)
        }
    }
}
