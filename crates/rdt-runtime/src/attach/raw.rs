//! Attaching loaded programs by descriptor: raw tracepoints with `BPF_RAW_TRACEPOINT_OPEN`,
//! tracepoints and perf events with `perf_event_open` + `PERF_EVENT_IOC_SET_BPF` (see
//! [`super::perf_event`]), kprobes on the kprobe PMU or tracefs `kprobe_events`
//! ([`super::kprobe`]), fentry/fexit through their trampoline ([`super::fentry`]), uprobes and USDT
//! sites one perf event each on the uprobe PMU ([`super::uprobe`]; a program whose uprobes share
//! one link never gets here, see [`super::uprobe_multi`]). Closing the returned descriptors
//! detaches.

use super::perf::{no_hardware_pmu, online_cpus, Scope, CPU_PMU};
use super::perf_event::{self, PerfEventAttr};
use super::skipped::Skipped;
use super::{failed, Link};
use crate::error::RuntimeError;
use rdt_codegen::{Attach, PerfCounter, ProgramMeta, TimerPeriod};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;

/// Attaches `prog` at every attach point of `meta` (see [`super::attach`]).
pub fn attach(
    prog: BorrowedFd,
    meta: &ProgramMeta,
    target_pid: Option<u32>,
    mut skipped: Option<&mut Skipped>,
) -> Result<Vec<Link>, RuntimeError> {
    let mut links = Vec::new();
    for point in &meta.attach {
        match point {
            Attach::Begin | Attach::End => {}
            Attach::Tracepoint { category, name } => {
                let what = format!("tracepoint {category}:{name}");
                let event = tracepoint(prog, category, name)
                    .map_err(|e| failed(meta.probe_span, &what, &e))?;
                links.push(Box::new(event) as Link);
            }
            Attach::RawTracepoint { name } => {
                let link = crate::load::raw_tracepoint_open(prog, name)
                    .map_err(|e| failed(meta.probe_span, &format!("raw tracepoint {name}"), &e))?;
                links.push(Box::new(link) as Link);
            }
            Attach::Timer { period, all_cpus } => {
                let scope = match (all_cpus, target_pid) {
                    (false, _) => Scope::OneCpu,
                    (true, Some(pid)) => Scope::Process(pid),
                    (true, None) => Scope::AllCpus,
                };
                let event = PerfEvent {
                    type_: perf_event::TYPE_SOFTWARE,
                    config: PERF_COUNT_SW_CPU_CLOCK,
                    sample: *period,
                };
                links.extend(event.open_on(prog, meta, scope, "a cpu-clock timer")?);
            }
            Attach::PerfCounter(counter) => {
                links.extend(perf_counter(prog, meta, counter, target_pid)?);
            }
            Attach::Uprobe { .. } | Attach::Usdt { .. } => {
                links.push(super::user_space(prog, meta, point)?);
            }
            Attach::Kprobe {
                function,
                offset,
                ret,
            } => match (
                super::kprobe::attach(prog, meta, function, *offset, *ret, skipped.is_none()),
                &mut skipped,
            ) {
                (Ok(link), _) => links.push(link),
                (Err(why), Some(skipped)) => skipped.push(function, why),
                (Err(why), None) => return Err(why),
            },
            Attach::Fentry { function } => {
                links.push(super::fentry::attach(prog, meta, function)?);
            }
        }
    }
    Ok(links)
}

fn perf_counter(
    prog: BorrowedFd,
    meta: &ProgramMeta,
    counter: &PerfCounter,
    target_pid: Option<u32>,
) -> Result<Vec<Link>, RuntimeError> {
    if counter.hardware && !Path::new(CPU_PMU).exists() {
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

/// A tracefs tracepoint: a perf event on its id, on CPU 0 for every process (a tracepoint perf
/// event runs its BPF program on whichever CPU the tracepoint fires).
fn tracepoint(prog: BorrowedFd, category: &str, name: &str) -> io::Result<OwnedFd> {
    let root = rdt_btf::tracefs::root().map_err(io::Error::other)?;
    let id_path = root.join("events").join(category).join(name).join("id");
    let id: u64 = std::fs::read_to_string(&id_path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", id_path.display())))?
        .trim()
        .parse()
        .map_err(|_| io::Error::other(format!("{} holds no number", id_path.display())))?;
    let attr = new_attr(perf_event::TYPE_TRACEPOINT, id, 1);
    let event = perf_event::open(&attr, None, 0)?;
    perf_event::set_bpf_and_enable(&event, prog)?;
    Ok(event)
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
        let mut attr = match self.sample {
            TimerPeriod::Nanos(period) => new_attr(self.type_, self.config, period),
            TimerPeriod::Hz(hz) => {
                let mut attr = new_attr(self.type_, self.config, hz);
                attr.flags |= perf_event::FLAG_FREQ;
                attr
            }
        };
        // The traced process's threads and children are counted too.
        if matches!(scope, Scope::Process(_)) {
            attr.flags |= perf_event::FLAG_INHERIT;
        }
        let mut links = Vec::new();
        for (pid, cpu, where_) in places {
            let event = perf_event::open(&attr, pid, cpu)
                .and_then(|event| perf_event::set_bpf_and_enable(&event, prog).map(|()| event))
                .map_err(|e| failed(meta.probe_span, &format!("{what}{where_}"), &e))?;
            links.push(Box::new(event) as Link);
        }
        Ok(links)
    }
}

/// An event of PMU `type_` with `config` sampling every `sample` (a period, or a frequency
/// with [`perf_event::FLAG_FREQ`]), waking the reader on each sample.
fn new_attr(type_: u32, config: u64, sample: u64) -> PerfEventAttr {
    PerfEventAttr {
        sample_period: sample,
        sample_type: perf_event::SAMPLE_RAW,
        wakeup_events: 1,
        ..PerfEventAttr::new(type_, config)
    }
}
