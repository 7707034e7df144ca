//! Start-up stays lazy: the common one-liners must not pay for kernel BTF they do not use.
//! aya's `EbpfLoader::new()` parses all of `/sys/kernel/btf/vmlinux` (~17 MiB of heap); rdt loads
//! every object without it, and peaks at ~6-7 MiB. (kprobes only load here, this kernel cannot
//! attach them: the VM lane bounds kprobe and fentry scripts that run,
//! tests/vm/cases/startup/.) The bound is loose (timings are measured in `bench/`, not here); it catches the
//! eager parse coming back.

use std::process::Command;

/// Peak RSS allowed for a whole run, in KiB.
const MAX_PEAK_KIB: i64 = 12 * 1024;
/// The same for uprobe scripts, which also read the traced object's symbols.
const MAX_UPROBE_PEAK_KIB: i64 = 18 * 1024;

/// The largest peak RSS of the children this process has waited for, in KiB.
fn children_peak_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    usage.ru_maxrss
}

/// One test only: RUSAGE_CHILDREN covers every child of this test binary.
#[test]
fn common_one_liners_start_without_kernel_btf() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipped: loading BPF programs needs root");
        return;
    }
    // The last allows for reading libc's symbol table: ~10.5 MiB in this test build, ~25 MiB when
    // it went through aya.
    for (script, max_peak_kib) in [
        ("BEGIN { printf(\"hello %d\\n\", pid); exit(); }", MAX_PEAK_KIB),
        ("tracepoint:syscalls:sys_enter_openat { @[comm] = count(); } interval:ms:1 { exit(); }", MAX_PEAK_KIB),
        ("profile:hz:99 { @[cpu] = count(); } interval:ms:10 { exit(); }", MAX_PEAK_KIB),
        // BEGIN runs before anything attaches: the kprobe program is loaded (and fentry probed
        // as its stand-in, this kernel lacking kprobes), not attached. 23.5 MiB through aya.
        ("kprobe:do_sys_open { @[comm] = count(); } BEGIN { exit(); }", MAX_PEAK_KIB),
        ("uprobe:libc:malloc { @[probe] = count(); } uretprobe:libc:malloc { @[probe] = count(); } interval:ms:1 { exit(); }", MAX_UPROBE_PEAK_KIB),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rdt"))
            .args(["-e", script])
            .output()
            .expect("rdt runs");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let peak = children_peak_rss_kib();
        assert!(
            peak < max_peak_kib,
            "{script}: peak RSS {peak} KiB, over {max_peak_kib} KiB: is kernel BTF parsed eagerly again?"
        );
    }
}
