//! Attaching programs of the aya-free loader ([`crate::load::Loaded::Raw`]) by descriptor:
//! raw tracepoints with `BPF_RAW_TRACEPOINT_OPEN`, tracepoints and perf events with
//! `perf_event_open` + `PERF_EVENT_IOC_SET_BPF`. Closing the returned descriptors detaches.

use super::perf::{no_hardware_pmu, online_cpus, Scope, CPU_PMU};
use super::{failed, Link};
use crate::error::RuntimeError;
use aya_obj::generated::perf_event_attr;
use rdt_codegen::{Attach, PerfCounter, ProgramMeta, TimerPeriod};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

const PERF_TYPE_HARDWARE: u32 = 0;
const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;
const PERF_SAMPLE_RAW: u64 = 1 << 10;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// Attaches `prog` at every attach point of `meta` (see [`super::attach`]).
pub fn attach(
    prog: BorrowedFd,
    meta: &ProgramMeta,
    target_pid: Option<u32>,
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
                    type_: PERF_TYPE_SOFTWARE,
                    config: PERF_COUNT_SW_CPU_CLOCK,
                    sample: *period,
                };
                links.extend(event.open_on(prog, meta, scope, "a cpu-clock timer")?);
            }
            Attach::PerfCounter(counter) => {
                links.extend(perf_counter(prog, meta, counter, target_pid)?);
            }
            Attach::Kprobe { .. }
            | Attach::Fentry { .. }
            | Attach::Uprobe { .. }
            | Attach::Usdt { .. } => {
                return Err(RuntimeError::Other(format!(
                    "internal error: program {} was loaded without aya but needs it to attach",
                    meta.name
                )))
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
        (PERF_TYPE_HARDWARE, "hardware")
    } else {
        (PERF_TYPE_SOFTWARE, "software")
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
    let mut attr = new_attr(PERF_TYPE_TRACEPOINT, id);
    attr.__bindgen_anon_1.sample_period = 1;
    attr.__bindgen_anon_2.wakeup_events = 1;
    let event = perf_event_open(&attr, -1, 0)?;
    set_bpf(&event, prog)?;
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
        let places: Vec<(i32, i32, String)> = match scope {
            Scope::AllCpus => online_cpus()
                .into_iter()
                .map(|cpu| (-1, cpu as i32, format!(" on CPU {cpu}")))
                .collect(),
            Scope::OneCpu => vec![(-1, 0, String::new())],
            Scope::Process(pid) => vec![(pid as i32, -1, format!(" for process {pid}"))],
        };
        let mut attr = new_attr(self.type_, self.config);
        match self.sample {
            TimerPeriod::Nanos(period) => attr.__bindgen_anon_1.sample_period = period,
            TimerPeriod::Hz(hz) => {
                attr.set_freq(1);
                attr.__bindgen_anon_1.sample_freq = hz;
            }
        }
        // The traced process's threads and children are counted too.
        attr.set_inherit(u64::from(matches!(scope, Scope::Process(_))));
        attr.__bindgen_anon_2.wakeup_events = 1;
        let mut links = Vec::new();
        for (pid, cpu, where_) in places {
            let event = perf_event_open(&attr, pid, cpu)
                .and_then(|event| set_bpf(&event, prog).map(|()| event))
                .map_err(|e| failed(meta.probe_span, &format!("{what}{where_}"), &e))?;
            links.push(Box::new(event) as Link);
        }
        Ok(links)
    }
}

fn new_attr(type_: u32, config: u64) -> perf_event_attr {
    // SAFETY: perf_event_attr is plain integers and unions of integers; all zeroes is its
    // documented "nothing set" value.
    let mut attr: perf_event_attr = unsafe { std::mem::zeroed() };
    attr.type_ = type_;
    attr.size = std::mem::size_of::<perf_event_attr>() as u32;
    attr.config = config;
    attr.sample_type = PERF_SAMPLE_RAW;
    attr
}

fn perf_event_open(attr: &perf_event_attr, pid: i32, cpu: i32) -> io::Result<OwnedFd> {
    // SAFETY: attr is a valid perf_event_attr whose size field matches its type.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr as *const perf_event_attr,
            pid,
            cpu,
            -1,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: perf_event_open returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Runs `prog` on the event's firings and enables it.
fn set_bpf(event: &OwnedFd, prog: BorrowedFd) -> io::Result<()> {
    for (request, arg) in [
        (PERF_EVENT_IOC_SET_BPF, prog.as_raw_fd()),
        (PERF_EVENT_IOC_ENABLE, 0),
    ] {
        // SAFETY: both requests take an int argument and touch no user memory.
        if unsafe { libc::ioctl(event.as_raw_fd(), request, arg) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
