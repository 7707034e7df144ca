//! `rdt --info`: what this kernel offers a tracer, each feature probed for real (a map created,
//! a program loaded, a link tried), not guessed from the version number.

use aya::maps::MapType;
use aya::programs::ProgramType;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// One line of the report.
pub struct Feature {
    pub name: &'static str,
    pub available: bool,
    /// Why not, or how (the mechanism found).
    pub note: String,
}

const EVENT_SOURCES: &str = "/sys/bus/event_source/devices";

/// Every feature rdt cares about, probed in this order.
pub fn probe_all() -> Vec<Feature> {
    vec![
        btf(),
        ring_buffer(),
        kprobe_pmu(),
        kprobe_events(),
        kprobe_multi(),
        fentry(),
        uprobes(),
        usdt_semaphores(),
        hardware_pmu(),
        get_stack(),
        test_run(),
    ]
}

fn feature(name: &'static str, result: Result<String, String>) -> Feature {
    match result {
        Ok(note) => Feature {
            name,
            available: true,
            note,
        },
        Err(note) => Feature {
            name,
            available: false,
            note,
        },
    }
}

fn file_exists(path: &str, yes: &str, no: &str) -> Result<String, String> {
    if Path::new(path).exists() {
        Ok(yes.to_string())
    } else {
        Err(no.to_string())
    }
}

fn btf() -> Feature {
    feature(
        "BTF",
        file_exists(
            "/sys/kernel/btf/vmlinux",
            "/sys/kernel/btf/vmlinux",
            "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF off)",
        ),
    )
}

fn ring_buffer() -> Feature {
    let r = match aya::sys::is_map_supported(MapType::RingBuf) {
        Ok(true) => Ok(String::new()),
        Ok(false) => Err("BPF_MAP_TYPE_RINGBUF refused (kernel < 5.8)".into()),
        Err(e) => Err(format!("probe failed: {e}")),
    };
    feature("ring buffer", r)
}

fn kprobe_pmu() -> Feature {
    feature(
        "kprobe PMU",
        file_exists(
            "/sys/bus/event_source/devices/kprobe/type",
            "perf_event_open of kprobes",
            "no /sys/bus/event_source/devices/kprobe (CONFIG_KPROBES off)",
        ),
    )
}

fn kprobe_events() -> Feature {
    let r = match rdt_btf::tracefs::root() {
        Ok(root) if root.join("kprobe_events").exists() => {
            Ok(root.join("kprobe_events").display().to_string())
        }
        Ok(root) => Err(format!(
            "no {} (CONFIG_KPROBE_EVENTS off)",
            root.join("kprobe_events").display()
        )),
        Err(e) => Err(e.to_string()),
    };
    feature("kprobe_events", r)
}

fn fentry() -> Feature {
    let r = match aya::sys::is_program_supported(ProgramType::Tracing) {
        Ok(true) => Ok("BPF trampolines".to_string()),
        Ok(false) => Err("tracing programs cannot attach (no BPF trampoline)".into()),
        Err(e) => Err(format!("a tracing program cannot be loaded: {}", cause(&e))),
    };
    feature("fentry/fexit", r)
}

fn cause(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

fn uprobes() -> Feature {
    feature(
        "uprobes",
        file_exists(
            "/sys/bus/event_source/devices/uprobe/type",
            "perf_event_open of uprobes",
            "no /sys/bus/event_source/devices/uprobe (CONFIG_UPROBES off)",
        ),
    )
}

fn usdt_semaphores() -> Feature {
    feature(
        "USDT semaphores",
        file_exists(
            "/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset",
            "uprobe ref_ctr_offset",
            "the uprobe PMU has no ref_ctr_offset (kernel < 4.20)",
        ),
    )
}

fn hardware_pmu() -> Feature {
    feature(
        "hardware PMU",
        file_exists(
            &format!("{EVENT_SOURCES}/cpu"),
            "cycles, instructions, cache and branch counters",
            "no CPU PMU (a virtual machine without a virtual PMU)",
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Probes that load a tiny program.

const BPF_PROG_LOAD: u32 = 5;
const BPF_PROG_TEST_RUN: u32 = 10;
const BPF_LINK_CREATE: u32 = 28;
const PROG_TYPE_KPROBE: u32 = 2;
const PROG_TYPE_RAW_TRACEPOINT: u32 = 17;
const BPF_TRACE_KPROBE_MULTI: u32 = 42;
const HELPER_GET_STACK: i32 = 67;

/// One BPF instruction: opcode, dst/src registers, offset, immediate.
fn insn(code: u8, regs: u8, off: i16, imm: i32) -> u64 {
    u64::from(code)
        | (u64::from(regs) << 8)
        | (u64::from(off as u16) << 16)
        | (u64::from(imm as u32) << 32)
}

const EXIT_0: [u64; 2] = [
    0xb7, // mov r0, 0
    0x95, // exit
];

fn sys_bpf(cmd: u32, attr: &mut [u8; 128]) -> io::Result<i64> {
    // SAFETY: attr is a zero-padded 128-byte bpf_attr; its pointers refer to live buffers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr.as_mut_ptr(),
            attr.len() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn put32(attr: &mut [u8; 128], at: usize, v: u32) {
    attr[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

fn put64(attr: &mut [u8; 128], at: usize, v: u64) {
    attr[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}

fn load(prog_type: u32, expected_attach: u32, insns: &[u64]) -> io::Result<OwnedFd> {
    let license = c"GPL";
    let mut attr = [0u8; 128];
    put32(&mut attr, 0, prog_type);
    put32(&mut attr, 4, insns.len() as u32);
    put64(&mut attr, 8, insns.as_ptr() as u64);
    put64(&mut attr, 16, license.as_ptr() as u64);
    put32(&mut attr, 68, expected_attach);
    let fd = sys_bpf(BPF_PROG_LOAD, &mut attr)?;
    // SAFETY: BPF_PROG_LOAD returned a new file descriptor that we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn raw_fd(fd: &OwnedFd) -> u32 {
    use std::os::fd::AsRawFd;
    fd.as_raw_fd() as u32
}

/// Like libbpf: a kprobe.multi link to address 0 fails with EINVAL where the kernel has
/// kprobe.multi links and with EOPNOTSUPP (or at load) where it has not.
fn kprobe_multi() -> Feature {
    let r = (|| {
        let prog = load(PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, &EXIT_0)
            .map_err(|e| format!("a kprobe.multi program cannot be loaded: {e}"))?;
        let addrs = [0u64];
        let mut attr = [0u8; 128];
        put32(&mut attr, 0, raw_fd(&prog));
        put32(&mut attr, 8, BPF_TRACE_KPROBE_MULTI);
        put32(&mut attr, 20, 1); // kprobe_multi.cnt
        put64(&mut attr, 32, addrs.as_ptr() as u64); // kprobe_multi.addrs
        match sys_bpf(BPF_LINK_CREATE, &mut attr) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                Ok("BPF_TRACE_KPROBE_MULTI links".to_string())
            }
            Err(e) => Err(format!("BPF_LINK_CREATE refused: {e} (CONFIG_FPROBE off)")),
            Ok(fd) => {
                // SAFETY: an unexpected success returned a link fd; close it.
                drop(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
                Ok("BPF_TRACE_KPROBE_MULTI links".to_string())
            }
        }
    })();
    feature("kprobe.multi", r)
}

/// Loads a kprobe program that calls bpf_get_stack into a stack buffer.
fn get_stack() -> Feature {
    let prog = [
        insn(0xbf, 0xa << 4 | 2, 0, 0),     // r2 = r10
        insn(0x07, 2, 0, -64),              // r2 += -64
        insn(0xb7, 3, 0, 64),               // r3 = 64
        insn(0xb7, 4, 0, 0),                // r4 = 0
        insn(0x85, 0, 0, HELPER_GET_STACK), // call bpf_get_stack
        insn(0xb7, 0, 0, 0),                // r0 = 0
        insn(0x95, 0, 0, 0),                // exit
    ];
    let r = load(PROG_TYPE_KPROBE, 0, &prog)
        .map(|_| String::new())
        .map_err(|e| format!("a program calling it was refused: {e}"));
    feature("bpf_get_stack", r)
}

/// Runs a raw tracepoint program with BPF_PROG_TEST_RUN (what BEGIN and END need).
fn test_run() -> Feature {
    let r = (|| {
        let prog = load(PROG_TYPE_RAW_TRACEPOINT, 0, &EXIT_0)
            .map_err(|e| format!("a raw tracepoint program cannot be loaded: {e}"))?;
        let mut attr = [0u8; 128];
        put32(&mut attr, 0, raw_fd(&prog));
        sys_bpf(BPF_PROG_TEST_RUN, &mut attr)
            .map(|_| "raw tracepoint programs (BEGIN, END)".to_string())
            .map_err(|e| format!("BPF_PROG_TEST_RUN refused: {e}"))
    })();
    feature("test_run", r)
}

/// `Linux 6.1.0-56-cloud-amd64 #1 SMP … x86_64`.
pub fn kernel_release() -> String {
    // SAFETY: uname fills the struct it is given.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "unknown".into();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {} {}",
        field(&u.sysname),
        field(&u.release),
        field(&u.version),
        field(&u.machine)
    )
}
