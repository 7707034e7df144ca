//! What codegen hands to the runtime: the ELF object and everything needed to attach its programs
//! and to decode what they write (map keys and values, ring-buffer records).

use crate::insn::Insn;
use rdt_syntax::Span;
use rdt_types::Type;
pub use rdt_types::{Attach, Buckets, MapOp, PerfCounter, ProgType, TimerPeriod};

#[derive(Debug, Clone)]
pub struct Artifact {
    /// A relocatable ELF object for EM_BPF: program sections, `maps`, `license`.
    pub elf: Vec<u8>,
    pub programs: Vec<ProgramMeta>,
    /// Script-visible maps (`@name`), in the order they should print (by name).
    pub maps: Vec<MapMeta>,
    /// Ring-buffer record kinds, indexed by the record's leading u64 id.
    pub events: Vec<EventMeta>,
    /// Kernel name of the BPF ring buffer map.
    pub ringbuf_map: String,
    /// Kernel name of the per-CPU u64 array counting problems seen in the kernel (see [`Counter`]).
    pub counters_map: String,
    /// Entries each script map can hold.
    pub max_map_keys: u32,
    /// Kernel name of the per-CPU array counting the entries of maps given to `len()`, and the
    /// slot of each such map (by script name).
    pub lens_map: Option<String>,
    pub len_slots: Vec<(String, u32)>,
}

#[derive(Debug, Clone)]
pub struct ProgramMeta {
    /// The function symbol; the loader (aya-obj) looks programs up by it.
    pub name: String,
    /// The ELF section, `<kind>/<name>`.
    pub section: String,
    pub prog_type: ProgType,
    /// Every place the program attaches (a wildcard gives several).
    pub attach: Vec<Attach>,
    /// The probe description's span in the script.
    pub probe_span: Span,
    /// The instructions, for `-d bpf`.
    pub insns: Vec<Insn>,
    /// Source span of each instruction (index = instruction number), for verifier errors.
    pub insn_spans: Vec<Span>,
    /// `(instruction index, map kernel name)` of every map reference, for `-d bpf`.
    pub map_refs: Vec<(usize, String)>,
    /// Whether the script's range `for` and `while` loops run through bpf_loop (`None`: it has
    /// none), as the checker decided: the runtime explains a rejection by it.
    pub bpf_loop: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct MapMeta {
    /// The name in the script, with its `@` (`@` alone for the anonymous map).
    pub name: String,
    /// The BPF map's symbol in the ELF.
    pub kernel_name: String,
    /// The key type; `None` for a map without keys, stored under the single u64 key 0.
    pub key: Option<Type>,
    /// Key size in bytes as created in the kernel.
    pub key_size: u32,
    pub value: ValueKind,
    /// Value size in bytes of one CPU's slot.
    pub value_size: u32,
    /// A one-slot per-CPU array, never inserted into (see `ir::MapDecl::is_single_slot`): an
    /// all-zero value there means the map has no entry.
    pub single_slot: bool,
    /// Printed when the session ends: every map but a D global variable's.
    pub printed_at_exit: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `count()`: a per-CPU u64, summed when read.
    Count,
    /// `sum(x)`: a per-CPU i64, summed when read.
    Sum,
    /// A plain value written with `=` (hash map, not per CPU).
    Plain(Type),
    /// `avg(x)`: per CPU `[count, total]`.
    Avg,
    /// `min(x)`, `max(x)`: per CPU `[value, seen]`.
    Min,
    Max,
    /// `stats(x)`: per CPU `[count, total]`.
    Stats,
    /// `stddev(x)`: per CPU `[count, total, sum of squares]`.
    Stddev,
    /// `hist`, `lhist`, `llquantize`: per CPU a u64 count per bucket.
    Hist(Buckets),
}

impl ValueKind {
    pub fn is_per_cpu(&self) -> bool {
        !matches!(self, ValueKind::Plain(_))
    }

    /// The u64 words of one CPU's slot of an aggregation (0 for plain values).
    pub fn words(&self) -> u32 {
        match self {
            ValueKind::Plain(_) => 0,
            ValueKind::Count | ValueKind::Sum => 1,
            ValueKind::Avg | ValueKind::Min | ValueKind::Max | ValueKind::Stats => 2,
            ValueKind::Stddev => 3,
            ValueKind::Hist(b) => rdt_types::buckets::count(b) as u32,
        }
    }
}

#[derive(Debug, Clone)]
pub struct EventMeta {
    pub kind: EventKind,
    pub span: Span,
}

/// Bytes of a [`EventKind::ReadFault`] record after its id.
pub const READ_FAULT_BODY: u32 = 16;

impl EventMeta {
    /// Bytes of the ring-buffer record: the u64 id, then the arguments.
    pub fn record_size(&self) -> u32 {
        match &self.kind {
            EventKind::Join {
                max_args, arg_size, ..
            } => 16 + max_args * arg_size,
            EventKind::ProcessSeen => 16,
            EventKind::ReadFault => 8 + READ_FAULT_BODY,
            _ => {
                let args = self.arg_slots();
                8 + Type::Tuple(args.iter().map(|(_, t)| t.clone()).collect()).size()
            }
        }
    }

    /// `(offset after the id, type)` of each value the record carries.
    pub fn arg_slots(&self) -> &[(u32, Type)] {
        match &self.kind {
            EventKind::Printf { args, .. }
            | EventKind::Errorf { args, .. }
            | EventKind::System { args, .. }
            | EventKind::Cat { args, .. }
            | EventKind::PrintValue { args }
            | EventKind::Exit { args } => args,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone)]
pub enum EventKind {
    /// `printf(format, args…)`: after the u64 id, each argument at its offset.
    Printf {
        format: rdt_types::format::Format,
        args: Vec<(u32, Type)>,
        /// Per argument, its strftime format when it is `strftime(fmt, ns)`.
        time_formats: Vec<Option<String>>,
    },
    /// `exit([status])`: stop tracing; after the id, the i64 status rdt exits with.
    Exit { args: Vec<(u32, Type)> },
    /// `join(argv)`: after the id, a u64 count, then `max_args` strings of `arg_size` bytes.
    Join {
        sep: String,
        max_args: u32,
        arg_size: u32,
    },
    /// `system(format, args…)`: laid out like printf; user space runs the formatted command.
    System {
        format: rdt_types::format::Format,
        args: Vec<(u32, Type)>,
    },
    /// `cat(format, args…)`: laid out like printf; user space prints the named file.
    Cat {
        format: rdt_types::format::Format,
        args: Vec<(u32, Type)>,
    },
    /// A process whose user addresses were captured for the first time (u64 pid after the id):
    /// user space notes its memory mappings while it still runs, to symbolize them later.
    ProcessSeen,
    /// `-k`: a memory read failed. After the id: the helper's error (i64), then the start and
    /// end of the read's span in the script (u32 each).
    ReadFault,
    /// `clear`, `zero`, `print`, `trunc`, `normalize` of the map named `map` (with its `@`).
    MapOp { op: MapOp, map: String },
    /// `print(value)`: the one value in `args`.
    PrintValue { args: Vec<(u32, Type)> },
    /// `time(format)`.
    Time { format: String },
    /// `errorf(format, args…)`: printf to standard error after the call's location.
    Errorf {
        format: rdt_types::format::Format,
        args: Vec<(u32, Type)>,
    },
    /// `printa([format, ]@a, …)`: map names, with their `@`.
    Printa {
        format: Option<String>,
        maps: Vec<String>,
    },
}

/// Slots of the counters map: problems counted in the kernel instead of being lost silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Counter {
    /// `bpf_ringbuf_output` failed: the ring buffer was full.
    LostEvents = 0,
    /// A map update failed because the map was full.
    MapFull = 1,
    /// A `probe_read` failed (a bad pointer); the value read as zeros.
    ReadFaults = 2,
    /// A loop stopped after `LOOP_LIMIT` iterations.
    LoopLimit = 3,
    /// `bpf_get_stack` failed (no user stack in a kernel thread, a fault while walking); the
    /// stack read as empty.
    StackFaults = 4,
    /// `exit()` ran: user space also learns it from here when a full ring buffer lost the
    /// exit record, so the session still ends.
    ExitRequested = 5,
    /// A range loop longer than bpf_loop's 8,388,608 iterations was cut there.
    RangeLimit = 6,
}

impl Counter {
    pub const ALL: [Counter; 7] = [
        Counter::LostEvents,
        Counter::MapFull,
        Counter::ReadFaults,
        Counter::LoopLimit,
        Counter::StackFaults,
        Counter::ExitRequested,
        Counter::RangeLimit,
    ];
}
