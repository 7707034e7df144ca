//! How a probe's program runs and attaches: its BPF program type and the attach point of each
//! instance. Sema decides them, codegen records them in the artifact, the runtime attaches.

/// The BPF program type, which fixes the context the program receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgType {
    /// `struct trace_event_raw_*` record from a tracefs tracepoint.
    Tracepoint,
    /// `u64 args[]` of a raw tracepoint.
    RawTracepoint,
    /// `struct pt_regs` (kprobes, uprobes).
    Kprobe,
    /// `struct bpf_perf_event_data` (profile, interval, software, hardware).
    PerfEvent,
    /// BPF trampoline on a function's entry / exit: `u64` argument slots (BPF_PROG_TYPE_TRACING).
    Fentry,
    Fexit,
}

impl ProgType {
    /// The ELF section prefix that identifies the program type to loaders.
    pub fn section_prefix(self) -> &'static str {
        match self {
            ProgType::Tracepoint => "tracepoint",
            ProgType::RawTracepoint => "raw_tracepoint",
            ProgType::Kprobe => "kprobe",
            ProgType::PerfEvent => "perf_event",
            ProgType::Fentry => "fentry",
            ProgType::Fexit => "fexit",
        }
    }
}

/// Where and how a program attaches. One variant per attach mechanism.
#[derive(Debug, Clone, PartialEq)]
pub enum Attach {
    /// Run once with BPF_PROG_TEST_RUN before the other probes attach.
    Begin,
    /// Run once with BPF_PROG_TEST_RUN after the other probes detach.
    End,
    /// A tracefs tracepoint through a perf event.
    Tracepoint { category: String, name: String },
    /// A raw tracepoint (`BPF_RAW_TRACEPOINT_OPEN`), e.g. `sys_enter`.
    RawTracepoint { name: String },
    /// A kprobe or kretprobe on a kernel function, `offset` bytes into it.
    Kprobe {
        function: String,
        offset: u64,
        ret: bool,
    },
    /// A BPF trampoline (fentry/fexit, by the program type) on a kernel function.
    Fentry { function: String },
    /// A software cpu-clock perf event: every `period_ns`, or `freq_hz` times a second, on every
    /// CPU (`all_cpus`, profile) or on one (interval).
    Timer { period: TimerPeriod, all_cpus: bool },
    /// A software or hardware perf counter on every CPU, firing every `period` events.
    PerfCounter(PerfCounter),
    /// A uprobe or uretprobe `offset` bytes into the file `path`; only in process `pid` when set.
    Uprobe {
        path: String,
        offset: u64,
        ret: bool,
        pid: Option<u32>,
    },
    /// A USDT probe site: a uprobe at file offset `offset` that, while attached, has the kernel
    /// increment the semaphore at file offset `semaphore` (0: the probe has none).
    Usdt {
        path: String,
        offset: u64,
        semaphore: u64,
        pid: Option<u32>,
    },
}

/// `software:`/`hardware:` probes: `PERF_TYPE_SOFTWARE`/`PERF_TYPE_HARDWARE` with `config`.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfCounter {
    pub hardware: bool,
    pub config: u64,
    pub period: u64,
    /// The event's perf name, for messages.
    pub event: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerPeriod {
    Nanos(u64),
    Hz(u64),
}
