//! uprobes and uretprobes through the kernel's uprobe PMU: `perf_event_open` with the file path
//! and offset, then the loaded program is set on the event. USDT probes take this path too, with
//! their semaphore (`ref_ctr_offset`) in `config`. Programs whose uprobes can share one link take
//! [`super::uprobe_multi`] instead.

use super::perf_event::{self, PerfEventAttr, ProbePmuKind};
use super::Link;
use crate::error::RuntimeError;
use rdt_codegen::ProgramMeta;
use rdt_syntax::Diagnostic;
use std::ffi::CString;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// `config` bits 32..63 (`format/ref_ctr_offset`).
const REF_CTR_SHIFT: u32 = 32;

/// Whether this kernel has the uprobe PMU: `Ok(how)` or `Err(why not)`.
pub fn pmu_available() -> Result<String, String> {
    match perf_event::probe_pmu(ProbePmuKind::Uprobe) {
        Ok(_) => Ok("perf_event_open of uprobes".into()),
        Err(_) => Err("no /sys/bus/event_source/devices/uprobe (CONFIG_UPROBES off)".into()),
    }
}

/// One uprobe placement.
pub struct Placement<'a> {
    pub path: &'a str,
    pub offset: u64,
    pub ret: bool,
    /// File offset of a USDT semaphore, 0 for none.
    pub ref_ctr_offset: u64,
    pub pid: Option<u32>,
}

pub fn attach(
    prog_fd: BorrowedFd,
    meta: &ProgramMeta,
    at: &Placement,
) -> Result<Link, RuntimeError> {
    let what = describe(at);
    let event = open_event(at).map_err(|e| attach_error(meta, &what, at, &e))?;
    perf_event::set_bpf_and_enable(&event, prog_fd)
        .map_err(|e| attach_error(meta, &what, at, &e))?;
    Ok(Box::new(event))
}

fn describe(at: &Placement) -> String {
    let kind = if at.ret { "uretprobe" } else { "uprobe" };
    format!("{kind} at {}+{:#x}", at.path, at.offset)
}

fn open_event(at: &Placement) -> io::Result<OwnedFd> {
    let pmu = perf_event::probe_pmu(ProbePmuKind::Uprobe)?;
    let path = CString::new(at.path)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the path"))?;
    let config = at.ref_ctr_offset << REF_CTR_SHIFT | pmu.retprobe_config(at.ret);
    let attr = PerfEventAttr {
        flags: perf_event::FLAG_DISABLED,
        // `uprobe_path` and `probe_offset`.
        config1: path.as_ptr() as u64,
        config2: at.offset,
        ..PerfEventAttr::new(pmu.type_, config)
    };
    // A pid-scoped event follows that process on every CPU; a system-wide one is opened on CPU 0
    // and fires for every process anyway (uprobes are not per-CPU).
    perf_event::open(&attr, at.pid, 0)
}

fn attach_error(meta: &ProgramMeta, what: &str, at: &Placement, e: &io::Error) -> RuntimeError {
    let mut d = Diagnostic::error(meta.probe_span, format!("cannot attach {what}"))
        .with_label(e.to_string());
    match e.raw_os_error() {
        Some(libc::ESRCH) => {
            if let Some(pid) = at.pid {
                d = d.with_help(format!("process {pid} does not exist"));
            }
        }
        Some(libc::EINVAL) if at.ref_ctr_offset != 0 => {
            d = d.with_help(
                "the kernel refused the USDT semaphore: another tracer may hold a uprobe on this \
                 site without it, or the kernel predates ref_ctr_offset (Linux 4.20)",
            );
        }
        Some(libc::EINVAL) => {
            d = d.with_help("the offset is not inside the file, or not at an instruction");
        }
        _ => {}
    }
    RuntimeError::located(d)
}
