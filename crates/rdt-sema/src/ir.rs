//! The typed IR: what the script means, with every name resolved and every value typed.
//! Codegen turns it into instructions; it never looks at the AST.

use crate::Type;
use rdt_syntax::ast::{BinOp, UnOp};
use rdt_syntax::Span;

// What the IR shares with codegen's artifact and the runtime lives in rdt-types.
pub use rdt_types::{Attach, Buckets, MapOp, PerfCounter, ProgType, TimerPeriod};

#[derive(Debug, Clone)]
pub struct Program {
    pub probes: Vec<Probe>,
    pub maps: Vec<MapDecl>,
    /// Ring-buffer record kinds; a record's leading u64 is its index here.
    pub events: Vec<Event>,
    pub options: Options,
    /// Warnings found while checking (an unknown option, …), for the caller to print.
    pub warnings: Vec<rdt_syntax::Diagnostic>,
    /// What `-v` reports about choices made for the script (fentry standing in for kprobes).
    pub notes: Vec<String>,
    /// Maps whose entries are counted in the kernel because the script calls `len()` on them.
    pub counted_maps: Vec<MapId>,
    /// Whether range `for` and `while` loops run through the bpf_loop helper: the kernel's
    /// answer as the checker got it, for codegen and the runtime to follow. `None`: the script
    /// has no such loop, so the kernel was not asked.
    pub bpf_loop: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Size of strings read with `str()` (bpftrace's `strsize`).
    pub strsize: u32,
    /// Entries per script map (bpftrace's `max_map_keys`).
    pub max_map_keys: u32,
    /// Pages of the ring buffer that carries printf and other records (a power of two).
    pub perf_rb_pages: u32,
    /// Print no "Attached N probes" line and no maps at exit... only the maps (D's `quiet`).
    pub quiet: bool,
    /// The script's own `inline TYPE NAME = VALUE;` constants.
    pub inline: Vec<(String, InlineValue)>,
}

/// The value of an `inline` constant.
#[derive(Debug, Clone, PartialEq)]
pub enum InlineValue {
    Int(i64),
    Str(String),
}

impl Default for Options {
    fn default() -> Options {
        Options {
            strsize: 64,
            max_map_keys: 4096,
            perf_rb_pages: 128,
            quiet: false,
            inline: Vec::new(),
        }
    }
}

/// One BPF program: one clause on one probe description. A wildcard that expands to several
/// attach points still compiles once.
#[derive(Debug, Clone)]
pub struct Probe {
    /// A symbol-safe unique name (`p0_sys_enter_openat`).
    pub name: String,
    pub prog_type: ProgType,
    pub attach: Vec<Attach>,
    /// Runs first; when it is false the body is skipped.
    pub guard: Option<Expr>,
    pub predicate: Option<Expr>,
    pub body: Vec<Stmt>,
    /// Types of the clause's scratch variables, indexed by [`VarId`].
    pub vars: Vec<Type>,
    /// The probe description in the script.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct MapDecl {
    /// With its `@` (`@` alone for the anonymous map).
    pub name: String,
    pub key: Option<Type>,
    pub value: MapValue,
    /// First place the map was written, for diagnostics.
    pub span: Span,
    /// A D global variable (`start = timestamp;`, d_globals.rs): not printed at exit.
    pub d_global: bool,
}

impl MapDecl {
    /// A key-less aggregation lives in a one-slot per-CPU array (no key hashing, no insertion),
    /// where an all-zero slot reads as "no entry". Not `sum()`: a sum of zeros is an entry that
    /// prints `@x: 0`, so it stays a hash.
    pub fn is_single_slot(&self) -> bool {
        self.key.is_none() && self.value.is_aggregation() && self.value != MapValue::Sum
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapValue {
    Count,
    Sum,
    Plain(Type),
    /// `avg(x)`: per CPU `[count, total]`.
    Avg,
    /// `min(x)` / `max(x)`: per CPU `[value, seen]`.
    Min,
    Max,
    /// `stats(x)`: per CPU `[count, total]`, printed as count, average and total.
    Stats,
    /// `stddev(x)`: per CPU `[count, total, sum of squares]`.
    Stddev,
    /// `hist`, `lhist`, `llquantize`: per CPU one u64 count per bucket.
    Hist(Buckets),
}

impl MapValue {
    /// Aggregations live in per-CPU maps and are merged when read.
    pub fn is_aggregation(&self) -> bool {
        !matches!(self, MapValue::Plain(_))
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    Printf {
        format: crate::format::Format,
        args: Vec<Type>,
        span: Span,
        /// For each argument, the strftime format when it is `strftime(fmt, ns)`.
        time_formats: Vec<Option<String>>,
    },
    Exit {
        span: Span,
    },
    /// `join(argv[, sep])`: up to `max_args` user strings of `arg_size` bytes read from a
    /// NULL-terminated array of pointers; user space prints them joined by `sep`.
    Join {
        sep: String,
        max_args: u32,
        arg_size: u32,
        span: Span,
    },
    /// `system(format, args…)`: user space runs the formatted command (with `--unsafe`).
    System {
        format: crate::format::Format,
        args: Vec<Type>,
        span: Span,
    },
    /// `cat(format, args…)`: user space prints the contents of the file the format names.
    Cat {
        format: crate::format::Format,
        args: Vec<Type>,
        span: Span,
    },
    /// `clear`, `zero`, `print`, `trunc`, `normalize`, `denormalize` of a whole map: done by
    /// user space when it reads the record, so it happens in stream order.
    MapOp {
        op: MapOp,
        map: MapId,
        span: Span,
    },
    /// `print(value)`: one value, printed on its own line.
    PrintValue {
        ty: Type,
        span: Span,
    },
    /// `errorf(format, args…)`: a printf to standard error, prefixed with the call's location.
    Errorf {
        format: crate::format::Format,
        args: Vec<Type>,
        span: Span,
    },
    /// `time([format])`: the current local time, formatted with strftime.
    Time {
        format: String,
        span: Span,
    },
    /// `printa([format, ]@a, @b…)`: the maps' entries joined on their keys.
    Printa {
        format: Option<String>,
        maps: Vec<MapId>,
        span: Span,
    },
}

pub type MapId = usize;
pub type VarId = usize;

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    /// `@m[key] = value`
    MapStore {
        map: MapId,
        key: Option<Expr>,
        value: Expr,
    },
    /// `@m[key] = count()` / `sum(x)`: update the per-CPU slot in place.
    MapAggregate {
        map: MapId,
        key: Option<Expr>,
        op: Aggregate,
    },
    /// `delete(@m[key])`
    MapDelete {
        map: MapId,
        key: Option<Expr>,
    },
    /// `$v = value`
    VarStore {
        var: VarId,
        value: Expr,
    },
    /// Emit ring-buffer record `event` holding `args`.
    Printf {
        event: usize,
        args: Vec<Expr>,
    },
    /// Emit the exit record, holding rdt's exit status, and stop this program.
    Exit {
        event: usize,
        status: Expr,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
    },
    /// An expression evaluated for nothing but its side effects.
    Eval(Expr),
    /// `for ($var : start..end)`: `end` is evaluated once; the loop stops after
    /// [`LOOP_LIMIT`] iterations unless both bounds are constants.
    ForRange {
        var: VarId,
        start: Expr,
        end: Expr,
        body: Vec<Stmt>,
    },
    /// `for ($kv : @map)`: the body runs once per entry (bpf_for_each_map_elem) with `var`
    /// holding the tuple `(key, value)`.
    ForMap {
        map: MapId,
        var: VarId,
        body: Vec<Stmt>,
    },
    /// `while (cond)`: bounded by [`LOOP_LIMIT`] iterations.
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    /// `unroll(count)`: the body repeated `count` times.
    Unroll {
        count: u32,
        body: Vec<Stmt>,
    },
    Break,
    Continue,
    /// Ends the action block.
    Return,
    /// `self->x = value` (keyed by thread) or `this->x = value` (keyed by CPU): stores into a
    /// hidden map; a thread-local assigned integer 0 is deleted (DTrace frees it).
    LocalStore {
        map: MapId,
        key: Expr,
        value: Expr,
        free_on_zero: bool,
    },
    /// `signal(sig)`: bpf_send_signal to the current process.
    Signal(Expr),
    /// `join(argv[, sep])`: emit the [`Event::Join`] record `event`, reading from `array`.
    Join {
        event: usize,
        array: Expr,
    },
}

/// Iterations after which a `while` loop (or a `for` loop with a bound computed at run time)
/// stops; each stop is counted and reported, so the verifier can prove every loop ends.
pub const LOOP_LIMIT: i64 = 1024;

#[derive(Debug, Clone)]
pub enum Aggregate {
    Count,
    Sum(Expr),
    Avg(Expr),
    Min(Expr),
    Max(Expr),
    Stats(Expr),
    Stddev(Expr),
    Hist(Expr, Buckets),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Int(i64),
    /// A string literal's bytes, without the NUL.
    Str(Vec<u8>),
    Builtin(Builtin),
    /// A field of the tracepoint record at `offset` in the context, of the expression's type.
    CtxField {
        offset: u32,
    },
    /// A u64 field of the `struct pt_regs` that the `raw_syscalls` tracepoints pass as their
    /// first argument: a syscall argument register or `orig_ax`.
    SyscallRegs {
        offset: u32,
    },
    /// Raw context argument `index` (`arg0…` of raw tracepoints, pt_regs registers of kprobes).
    Arg {
        index: u8,
    },
    /// Return value register (kretprobe).
    Retval,
    /// The kernel address of a tracepoint's `__data_loc` / `__rel_loc` data (a string such as
    /// `sched_process_exec`'s `filename`): the context pointer plus the low 16 bits of the u32
    /// locator at `offset`, counted from the end of the locator when `rel`.
    CtxDataLoc {
        offset: u32,
        rel: bool,
    },
    MapRead {
        map: MapId,
        key: Option<Box<Expr>>,
    },
    Var(VarId),
    /// `strftime(format, ns)`: the nanosecond timestamp `ns`; printf formats it as the wall-clock
    /// time with `format` in user space.
    Strftime {
        format: String,
        ns: Box<Expr>,
    },
    /// `len(@m)`: the number of entries, from the map's entry counter.
    MapLen {
        map: MapId,
    },
    /// `has_key(@m, key)`: 1 when the key is in the map.
    HasKey {
        map: MapId,
        key: Option<Box<Expr>>,
    },
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    /// Integer arithmetic, bitwise and comparison operators; `&&`/`||` short-circuit.
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `==` / `!=` between strings (`negate` for `!=`).
    StrEq {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        negate: bool,
    },
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    Tuple(Vec<Expr>),
    /// `str(ptr[, len])`: a NUL-terminated string read from `ptr`; the size is in the type.
    ReadStr {
        ptr: Box<Expr>,
        len: Option<Box<Expr>>,
    },
    /// Integer conversion to the expression's type (truncate / sign-extend).
    Cast(Box<Expr>),
    /// `$a[i]`, `@m[k][i]`: element `index` of an array or string held in a variable, a map or
    /// an outer element; a computed index is checked against `len` when the program runs.
    ArrayElem {
        array: Box<Expr>,
        index: Box<Expr>,
        len: u32,
    },
    /// `$a[0].field`: the member at byte `offset` of a struct element of a held array.
    HeldField {
        record: Box<Expr>,
        offset: u32,
    },
    /// Field `index` of a tuple value.
    TupleField {
        tuple: Box<Expr>,
        index: usize,
    },
    /// `strncmp(a, b, n)`: 0 when the first `n` bytes (up to a NUL) agree, else 1.
    StrNcmp {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        n: u32,
    },
    /// `strcontains(haystack, needle)`: 1 when `needle` occurs in `haystack`.
    StrContains {
        haystack: Box<Expr>,
        needle: Box<Expr>,
    },
    /// `strlen(s)`: bytes before the NUL.
    StrLen(Box<Expr>),
    /// `bswap(x)`: the integer's bytes reversed, over the width of the expression's type.
    Bswap(Box<Expr>),
    /// A DTrace string function (`basename(s)`, `strjoin(a, b)`, …) computed in the kernel:
    /// a string in scratch memory, or a position for `index`/`rindex` (check/dstrings.rs).
    DString {
        op: DStringOp,
        args: Vec<Expr>,
    },
    /// The value of the expression's type stored at address `addr` in kernel memory, or in user
    /// memory when `user`; read with `bpf_probe_read_*`, a failed read counted. Struct and array
    /// types are places: member access and indexing move `addr`, nothing is read for them.
    Deref {
        addr: Box<Expr>,
        user: bool,
    },
    /// `kstack` / `ustack`: the current call stack, captured with `bpf_get_stack`; the
    /// expression's type is a [`Type::Stack`](crate::Type::Stack) saying which and how.
    Stack,
    /// `ksym(addr)` / `usym(addr)`: an address that prints as its symbol.
    Symbol {
        addr: Box<Expr>,
        user: bool,
    },
    /// A value the expression's [`Type::Text`](crate::Type::Text) turns into text in user
    /// space; `args` are the call's checked arguments (see check/funcs_extra.rs).
    Text {
        args: Vec<Expr>,
    },
    /// `x++` / `++x` used as a value: `value` is read after the `before` statements and before
    /// the `after` ones.
    WithEffect {
        before: Vec<Stmt>,
        value: Box<Expr>,
        after: Vec<Stmt>,
    },
}

/// DTrace's string functions (check/dstrings.rs, lowered in rdt-codegen's lower/dstrings.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DStringOp {
    Strjoin,
    Basename,
    Dirname,
    Substr,
    Lltostr,
    Strstr,
    Index,
    Rindex,
    Toupper,
    Tolower,
    /// `curpsinfo->pr_psargs` (check/psinfo.rs): the user memory from `args[0]` to `args[1]`
    /// (`mm->arg_start`, `mm->arg_end`), NULs between the arguments turned into spaces.
    Psargs,
}

/// Values that come from the kernel's view of the current event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Pid,
    Tid,
    Uid,
    Gid,
    Comm,
    Nsecs,
    Elapsed,
    Cpu,
    /// `rand`: bpf_get_prandom_u32.
    Rand,
    /// `jiffies`: bpf_jiffies64.
    Jiffies,
    /// `cgroup`: the current task's cgroup v2 id.
    Cgroup,
    /// `numaid`: the NUMA node of the current CPU (bpf_get_numa_node_id).
    NumaId,
    /// The current `struct task_struct *` (bpf_get_current_task).
    Curtask,
    /// The address of the traced kernel function (bpf_get_func_ip): what `func` reads in a
    /// kprobe, so one program serves every function of a wildcard.
    FuncIp,
}
