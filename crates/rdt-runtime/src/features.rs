//! `rdt --info`: what this kernel offers a tracer, each feature probed for real (a map created,
//! a program loaded, a link tried), not guessed from the version number.

use crate::bpf_sys::{
    attach_type, link_create, map_create, map_type, prog_load, prog_load_at, prog_test_run,
    prog_type, raw_tracepoint_open,
};
use rdt_codegen::insn::{self, helper, Insn};
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

/// One line of the report.
pub struct Feature {
    pub name: &'static str,
    pub available: bool,
    /// Why not, or how (the mechanism found).
    pub note: String,
}

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
        bpf_loop(),
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
    // The smallest ring buffer there is: one page.
    let r = match map_create(map_type::RINGBUF, 0, 0, 4096, "rdt_info") {
        Ok(_map) => Ok(String::new()),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            Err("BPF_MAP_TYPE_RINGBUF refused (kernel < 5.8)".into())
        }
        Err(e) => Err(format!("probe failed: {e}")),
    };
    feature("ring buffer", r)
}

fn kprobe_pmu() -> Feature {
    if rdt_btf::kprobes::disabled_by_env() {
        return feature("kprobe PMU", Err("RDT_NO_KPROBES=1".to_string()));
    }
    feature(
        "kprobe PMU",
        file_exists(
            rdt_btf::kprobes::KPROBE_PMU,
            "perf_event_open of kprobes",
            "no /sys/bus/event_source/devices/kprobe (CONFIG_KPROBES off)",
        ),
    )
}

fn kprobe_events() -> Feature {
    if rdt_btf::kprobes::disabled_by_env() {
        return feature("kprobe_events", Err("RDT_NO_KPROBES=1".to_string()));
    }
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
    feature(
        "fentry/fexit",
        fentry_loads().map(|()| "BPF trampolines".to_string()),
    )
}

/// Whether an fentry program loads here, or why not (probed once per process). The kprobe probe
/// module asks this (through `Params::fentry_check`) before letting fentry stand in for kprobes.
pub fn fentry_loads() -> Result<(), String> {
    static LOADS: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    LOADS.get_or_init(probe_fentry).clone()
}

/// Loads a trivial fentry program on `bpf_fentry_test1` (the kernel's own fentry test function,
/// found by rdt-btf without parsing the rest of vmlinux's BTF) and attaches it: some kernels load
/// tracing programs but cannot make trampolines (ENOTSUPP).
fn probe_fentry() -> Result<(), String> {
    const TEST_FUNCTION: &str = "bpf_fentry_test1";
    let id = rdt_btf::btf::vmlinux()
        .map_err(|e| e.to_string())?
        .find(rdt_btf::btf::NameKind::Func, TEST_FUNCTION)
        .ok_or_else(|| format!("cannot tell: vmlinux's BTF has no `{TEST_FUNCTION}` to try"))?;
    let prog = prog_load_at(
        prog_type::TRACING,
        attach_type::TRACE_FENTRY,
        id,
        "rdt_info",
        &exit_0(),
    )
    .map_err(|e| format!("a tracing program cannot be loaded: `bpf_prog_load` failed: {e}"))?;
    raw_tracepoint_open(prog.as_fd(), None)
        .map(drop)
        .map_err(|e| {
            format!(
                "a tracing program cannot attach: {}",
                crate::attach::fentry::trampoline_refused(&e)
            )
        })
}

fn uprobes() -> Feature {
    feature("uprobes", crate::attach::uprobe::pmu_available())
}

fn usdt_semaphores() -> Feature {
    feature(
        "USDT semaphores",
        crate::attach::usdt::semaphores_available(),
    )
}

fn hardware_pmu() -> Feature {
    feature("hardware PMU", crate::attach::perf::hardware_available())
}

// ---------------------------------------------------------------------------------------------
// Probes that load a tiny program.

/// `r0 = 0; exit`.
fn exit_0() -> [Insn; 2] {
    [insn::mov_imm(insn::R0, 0), insn::exit()]
}

/// The `BPF_LINK_CREATE` member of `union bpf_attr` with its `kprobe_multi` part.
#[repr(C)]
#[derive(Default)]
struct KprobeMultiLinkAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    multi_flags: u32,
    cnt: u32,
    syms: u64,
    addrs: u64,
    cookies: u64,
}

/// Like libbpf: a kprobe.multi link to address 0 fails with EINVAL where the kernel has
/// kprobe.multi links and with EOPNOTSUPP (or at load) where it has not.
fn kprobe_multi() -> Feature {
    let r = (|| {
        let prog = prog_load(
            prog_type::KPROBE,
            attach_type::TRACE_KPROBE_MULTI,
            "rdt_info",
            &exit_0(),
        )
        .map_err(|e| format!("a kprobe.multi program cannot be loaded: {e}"))?;
        let addrs = [0u64];
        let mut attr = KprobeMultiLinkAttr {
            prog_fd: prog.as_raw_fd() as u32,
            attach_type: attach_type::TRACE_KPROBE_MULTI,
            cnt: 1,
            addrs: addrs.as_ptr() as u64,
            ..KprobeMultiLinkAttr::default()
        };
        match link_create(&mut attr) {
            // An unexpected success returned a link, closed here.
            Ok(_) => Ok("BPF_TRACE_KPROBE_MULTI links".to_string()),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                Ok("BPF_TRACE_KPROBE_MULTI links".to_string())
            }
            Err(e) => Err(format!("BPF_LINK_CREATE refused: {e} (CONFIG_FPROBE off)")),
        }
    })();
    feature("kprobe.multi", r)
}

/// Loads a kprobe program that calls bpf_get_stack into a stack buffer.
fn get_stack() -> Feature {
    let prog = [
        insn::mov_reg(insn::R2, insn::FP),
        insn::alu64_imm(insn::ADD, insn::R2, -64),
        insn::mov_imm(insn::R3, 64),
        insn::mov_imm(insn::R4, 0),
        insn::call(helper::GET_STACK),
        insn::mov_imm(insn::R0, 0),
        insn::exit(),
    ];
    let r = prog_load(prog_type::KPROBE, 0, "rdt_info", &prog)
        .map(|_| String::new())
        .map_err(|e| format!("a program calling it was refused: {e}"));
    feature("bpf_get_stack", r)
}

fn bpf_loop() -> Feature {
    feature(
        "bpf_loop",
        bpf_loop_available().map(|()| "range `for` and `while` loops run as callbacks".to_string()),
    )
}

/// Whether the kernel has the bpf_loop helper (5.17+), or why not (probed once per process);
/// `RDT_NO_BPF_LOOP=1` answers no, to exercise the verifier-bounded loops.
///
/// The probe calls helper 181 with a number where the callback belongs: a kernel that knows
/// the helper rejects the argument (EACCES), one that does not rejects the helper (EINVAL).
pub fn bpf_loop_available() -> Result<(), String> {
    static AVAILABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    AVAILABLE
        .get_or_init(|| {
            if std::env::var_os("RDT_NO_BPF_LOOP").is_some_and(|v| v == "1") {
                return Err("RDT_NO_BPF_LOOP=1".to_string());
            }
            let prog = [
                insn::mov_imm(insn::R1, 1),
                insn::mov_imm(insn::R2, 0),
                insn::mov_imm(insn::R3, 0),
                insn::mov_imm(insn::R4, 0),
                insn::call(helper::LOOP),
                insn::mov_imm(insn::R0, 0),
                insn::exit(),
            ];
            match prog_load(prog_type::KPROBE, 0, "rdt_info", &prog) {
                Err(e) if e.raw_os_error() == Some(libc::EACCES) => Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    Err("the kernel does not know the helper (kernel < 5.17)".to_string())
                }
                Err(e) => Err(format!("probe failed: {e}")),
                Ok(_) => Ok(()),
            }
        })
        .clone()
}

/// Runs a raw tracepoint program with BPF_PROG_TEST_RUN (what BEGIN and END need).
fn test_run() -> Feature {
    let r = (|| {
        let prog = prog_load(prog_type::RAW_TRACEPOINT, 0, "rdt_info", &exit_0())
            .map_err(|e| format!("a raw tracepoint program cannot be loaded: {e}"))?;
        prog_test_run(prog.as_fd())
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
