//! `perf_event_open` and `PERF_EVENT_IOC_SET_BPF`/`ENABLE`: how a BPF program runs on a
//! tracepoint, a kprobe or uprobe (on its PMU or made through tracefs `kprobe_events`), a timer or
//! a counter. Closing the event detaches the program.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;

/// `PERF_TYPE_HARDWARE`: `config` is a CPU counter (cycles, instructions, …).
pub const TYPE_HARDWARE: u32 = 0;
/// `PERF_TYPE_SOFTWARE`: `config` is a kernel counter (cpu-clock, page faults, …).
pub const TYPE_SOFTWARE: u32 = 1;
/// `PERF_TYPE_TRACEPOINT`: `config` is a tracefs event id.
pub const TYPE_TRACEPOINT: u32 = 2;
/// `PERF_SAMPLE_RAW` in `sample_type`.
pub const SAMPLE_RAW: u64 = 1 << 10;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
/// `_IO('$', 0)` and `_IOW('$', 8, u32)`.
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;
/// `disabled` in `flags`: the event starts once the program is set.
pub const FLAG_DISABLED: u64 = 1;
/// `inherit` in `flags`: threads and children the process creates are counted too.
pub const FLAG_INHERIT: u64 = 1 << 1;
/// `freq` in `flags`: `sample_period` is a frequency in Hz.
pub const FLAG_FREQ: u64 = 1 << 10;

/// The leading part of `struct perf_event_attr` up to `config2` (PERF_ATTR_SIZE_VER1); the
/// kernel zero-fills the rest.
#[repr(C)]
#[derive(Default)]
pub struct PerfEventAttr {
    pub type_: u32,
    pub size: u32,
    pub config: u64,
    pub sample_period: u64,
    pub sample_type: u64,
    pub read_format: u64,
    pub flags: u64,
    pub wakeup_events: u32,
    pub bp_type: u32,
    pub config1: u64,
    pub config2: u64,
}

impl PerfEventAttr {
    /// An event of PMU `type_` with `config`, firing the program on every hit.
    pub fn new(type_: u32, config: u64) -> Self {
        PerfEventAttr {
            type_,
            size: std::mem::size_of::<PerfEventAttr>() as u32,
            config,
            sample_period: 1,
            ..PerfEventAttr::default()
        }
    }
}

/// Opens the event for process `pid` on every CPU, or, without a pid, on `cpu` for every
/// process. Pointers in `attr` (a uprobe's path) must be live for the call.
pub fn open(attr: &PerfEventAttr, pid: Option<u32>, cpu: i32) -> io::Result<OwnedFd> {
    let (pid, cpu) = match pid {
        Some(pid) => (pid as libc::c_int, -1),
        None => (-1, cpu),
    };
    // SAFETY: attr is a perf_event_attr prefix of the size it declares; the kernel copies it and
    // whatever its pointers refer to.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr as *const PerfEventAttr,
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

/// Sets `prog` on `event` and enables the event.
pub fn set_bpf_and_enable(event: &OwnedFd, prog: BorrowedFd) -> io::Result<()> {
    // SAFETY: ioctls on a perf event fd we own, with a program fd or 0 as the argument.
    unsafe {
        if libc::ioctl(
            event.as_raw_fd(),
            PERF_EVENT_IOC_SET_BPF as _,
            prog.as_raw_fd(),
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
        if libc::ioctl(event.as_raw_fd(), PERF_EVENT_IOC_ENABLE as _, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The kernel's two dynamic-probe PMUs.
#[derive(Clone, Copy)]
pub enum ProbePmuKind {
    Kprobe,
    Uprobe,
}

/// A dynamic-probe PMU: its perf event type and the `config` bit that makes a return probe.
pub struct ProbePmu {
    pub type_: u32,
    retprobe_bit: u32,
}

impl ProbePmu {
    /// The `config` bits of an entry (`ret == false`) or return probe.
    pub fn retprobe_config(&self, ret: bool) -> u64 {
        if ret {
            1 << self.retprobe_bit
        } else {
            0
        }
    }
}

/// The PMU's type and retprobe bit, read from sysfs once per process: a wildcard attaches
/// hundreds of probes, each of which would read them again.
pub fn probe_pmu(kind: ProbePmuKind) -> io::Result<&'static ProbePmu> {
    static KPROBE: OnceLock<Result<ProbePmu, String>> = OnceLock::new();
    static UPROBE: OnceLock<Result<ProbePmu, String>> = OnceLock::new();
    let (cell, name) = match kind {
        ProbePmuKind::Kprobe => (&KPROBE, "kprobe"),
        ProbePmuKind::Uprobe => (&UPROBE, "uprobe"),
    };
    cell.get_or_init(|| read_probe_pmu(name))
        .as_ref()
        .map_err(|e| io::Error::other(e.clone()))
}

fn read_probe_pmu(name: &str) -> Result<ProbePmu, String> {
    let dir = format!("/sys/bus/event_source/devices/{name}");
    let read = |file: &str| {
        let path = format!("{dir}/{file}");
        std::fs::read_to_string(&path)
            .map_err(|e| format!("this kernel has no {name} PMU ({path}): {e}"))
    };
    let type_ = read("type")?
        .trim()
        .parse()
        .map_err(|_| format!("{dir}/type is not a number"))?;
    let retprobe_bit = parse_config_bit(&read("format/retprobe")?)
        .ok_or_else(|| format!("{dir}/format/retprobe: not `config:<bit>`"))?;
    Ok(ProbePmu {
        type_,
        retprobe_bit,
    })
}

/// The bit of a PMU format file such as `format/retprobe` (`config:0`).
fn parse_config_bit(format: &str) -> Option<u32> {
    let bit: u32 = format.trim().strip_prefix("config:")?.parse().ok()?;
    (bit < 64).then_some(bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retprobe_bit_comes_from_the_format_file() {
        assert_eq!(parse_config_bit("config:0\n"), Some(0));
        assert_eq!(parse_config_bit("config:9"), Some(9));
        assert_eq!(parse_config_bit("config1:0"), None);
        assert_eq!(parse_config_bit("config:64"), None);
    }

    #[test]
    fn attr_is_perf_attr_size_ver1() {
        assert_eq!(std::mem::size_of::<PerfEventAttr>(), 72);
        assert_eq!(std::mem::offset_of!(PerfEventAttr, config1), 56);
    }
}
