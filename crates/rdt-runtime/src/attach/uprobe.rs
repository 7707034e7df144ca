//! uprobes and uretprobes through the kernel's uprobe PMU: `perf_event_open` with the file path
//! and offset, then the loaded program is set on the event. aya's UProbe cannot pass a USDT
//! semaphore (`ref_ctr_offset`), so both uprobes and USDT probes take this one path.

use super::{wrong_type, Link};
use crate::error::RuntimeError;
use aya::programs::Program;
use rdt_codegen::ProgramMeta;
use rdt_syntax::Diagnostic;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

const UPROBE_PMU_TYPE: &str = "/sys/bus/event_source/devices/uprobe/type";
/// `config` bit 0 of the uprobe PMU (`format/retprobe`).
const RETPROBE_BIT: u64 = 1;
/// `config` bits 32..63 (`format/ref_ctr_offset`).
const REF_CTR_SHIFT: u32 = 32;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
/// `_IO('$', 0)` and `_IOW('$', 8, u32)`.
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// The leading part of `struct perf_event_attr` up to `config2` (PERF_ATTR_SIZE_VER1); the
/// kernel zero-fills the rest.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    /// `uprobe_path`: a pointer to the NUL-terminated path.
    config1: u64,
    /// `probe_offset`: the file offset.
    config2: u64,
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

/// A perf event with the program set on it; closing it detaches the program.
struct UprobeLink {
    _event: OwnedFd,
}

pub fn attach(
    program: &mut Program,
    meta: &ProgramMeta,
    at: &Placement,
) -> Result<Link, RuntimeError> {
    let what = describe(at);
    let prog_fd = program
        .fd()
        .map_err(|_| wrong_type(meta))?
        .as_fd()
        .as_raw_fd();
    let event = open_event(at).map_err(|e| attach_error(meta, &what, at, &e))?;
    // SAFETY: ioctls on the perf event fd we own, with the program fd as argument.
    let set = unsafe { libc::ioctl(event.as_raw_fd(), PERF_EVENT_IOC_SET_BPF, prog_fd) };
    if set != 0 {
        return Err(attach_error(meta, &what, at, &io::Error::last_os_error()));
    }
    if unsafe { libc::ioctl(event.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0) } != 0 {
        return Err(attach_error(meta, &what, at, &io::Error::last_os_error()));
    }
    Ok(Box::new(UprobeLink { _event: event }))
}

fn describe(at: &Placement) -> String {
    let kind = if at.ret { "uretprobe" } else { "uprobe" };
    format!("{kind} at {}+{:#x}", at.path, at.offset)
}

fn open_event(at: &Placement) -> io::Result<OwnedFd> {
    let pmu_type: u32 = std::fs::read_to_string(UPROBE_PMU_TYPE)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("this kernel has no uprobe PMU ({UPROBE_PMU_TYPE}): {e}"),
            )
        })?
        .trim()
        .parse()
        .map_err(|_| io::Error::other(format!("{UPROBE_PMU_TYPE} is not a number")))?;
    let path = CString::new(at.path)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the path"))?;
    let mut config = at.ref_ctr_offset << REF_CTR_SHIFT;
    if at.ret {
        config |= RETPROBE_BIT;
    }
    let attr = PerfEventAttr {
        type_: pmu_type,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config,
        sample_period: 1,
        // `disabled`: enabled once the program is set.
        flags: 1,
        config1: path.as_ptr() as u64,
        config2: at.offset,
        ..PerfEventAttr::default()
    };
    // A pid-scoped event follows that process on every CPU; a system-wide one is opened on CPU 0
    // and fires for every process anyway (uprobes are not per-CPU).
    let (pid, cpu) = match at.pid {
        Some(pid) => (pid as libc::c_int, -1),
        None => (-1, 0),
    };
    // SAFETY: attr and path outlive the call; the kernel copies both.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            pid,
            cpu,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: perf_event_open returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
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
