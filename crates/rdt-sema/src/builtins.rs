//! The builtin variables and functions of the language: one table entry each. Their lowering to
//! instructions lives in rdt-codegen, keyed by the same [`Builtin`] / [`Function`] values.

use crate::ir::{Builtin, DStringOp};
use crate::Type;

/// `(name, builtin)`; bpftrace names first, D aliases after.
pub const BUILTINS: &[(&str, Builtin)] = &[
    ("pid", Builtin::Pid),
    ("tid", Builtin::Tid),
    ("uid", Builtin::Uid),
    ("gid", Builtin::Gid),
    ("comm", Builtin::Comm),
    ("nsecs", Builtin::Nsecs),
    ("elapsed", Builtin::Elapsed),
    ("cpu", Builtin::Cpu),
    ("rand", Builtin::Rand),
    ("jiffies", Builtin::Jiffies),
    ("cgroup", Builtin::Cgroup),
    ("numaid", Builtin::NumaId),
    // D spellings.
    ("execname", Builtin::Comm),
    ("timestamp", Builtin::Nsecs),
];

/// Names that are context-dependent rather than builtins (resolved by the probe kind).
pub const CONTEXT_NAMES: &[&str] = &[
    "kstack",
    "ustack",
    "cpid",
    "curtask",
    "curthread",
    "curpsinfo",
    "args",
    "retval",
    "errno",
    "arg0",
    "arg1",
    "arg2",
    "arg3",
    "arg4",
    "arg5",
];

/// Builtins whose value is decided while checking: `ncpus` and `walltimestamp` are constants of
/// the run, `ppid` reads through kernel types (check/functions.rs); `username` and D's `cwd`
/// become text in user space (check/funcs_extra.rs).
pub const COMPUTED_NAMES: &[&str] = &["ncpus", "walltimestamp", "ppid", "username", "cwd"];

/// Every identifier the language defines, for "did you mean": builtins, context names, computed
/// builtins, the probe names (probe_names.rs) and the stdlib constants.
pub fn identifier_names() -> impl Iterator<Item = &'static str> {
    BUILTINS
        .iter()
        .map(|(n, _)| *n)
        .chain(CONTEXT_NAMES.iter().copied())
        .chain(COMPUTED_NAMES.iter().copied())
        .chain(crate::probe_names::PROBE_NAME_BUILTINS.iter().copied())
        .chain(crate::stdlib::names())
}

pub fn builtin(name: &str) -> Option<Builtin> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

pub fn builtin_type(b: Builtin) -> Type {
    match b {
        Builtin::Comm => Type::Str { size: 16 },
        Builtin::Pid | Builtin::Tid | Builtin::Uid | Builtin::Gid | Builtin::Cpu => Type::U32,
        Builtin::Nsecs | Builtin::Elapsed => Type::U64,
        Builtin::Rand | Builtin::NumaId => Type::U32,
        Builtin::Jiffies | Builtin::Cgroup => Type::U64,
        // Typed `struct task_struct *` by sema when BTF has it (see check/ktypes.rs).
        Builtin::Curtask => Type::U64,
        Builtin::FuncIp => Type::U64,
    }
}

/// Functions a script can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Printf,
    Exit,
    Str,
    Count,
    Sum,
    Sizeof,
    Offsetof,
    Kptr,
    Uptr,
    /// `kstack(…)`, `ustack(…)`, D's `stack(…)`.
    Stack {
        user: bool,
    },
    /// `ksym(addr)`, `usym(addr)`.
    Symbol {
        user: bool,
    },
    /// `kaddr("symbol")`: a kernel symbol's address, found when compiling.
    Kaddr,
    Avg,
    Min,
    Max,
    Stats,
    Stddev,
    Hist,
    Lhist,
    Llquantize,
    Delete,
    Clear,
    Zero,
    HasKey,
    Print,
    Printa,
    Trunc,
    Normalize,
    Denormalize,
    Time,
    Errorf,
    Strftime,
    Len,
    // String functions and actions, checked in check/functions.rs.
    Strncmp,
    Strcontains,
    Strlen,
    Signal,
    System,
    Join,
    // Values that become text in user space, `cgroupid()` and the output statements `cat()` and
    // D's `trace()`, checked in check/funcs_extra.rs.
    Ntop,
    Macaddr,
    Cgroupid,
    CgroupPath,
    Buf,
    Cat,
    Trace,
    Uaddr,
    /// `bswap(x)`: x with its bytes in reverse order (check/bswap.rs).
    Bswap,
    /// `strerror(errno)`: the error's description, made in user space (check/funcs_extra.rs).
    Strerror,
    /// `reg("ip")`: a register saved in the probe's `struct pt_regs` (check/reg.rs).
    Reg,
    /// DTrace's string functions, computed in the kernel (check/dstrings.rs).
    DString(DStringOp),
}

impl Function {
    /// The string functions and actions whose checks live in check/functions.rs.
    pub fn is_checked_in_functions(self) -> bool {
        use Function::*;
        matches!(
            self,
            Strncmp | Strcontains | Strlen | Signal | System | Join
        )
    }

    /// The functions whose checks live in check/funcs_extra.rs.
    pub fn is_checked_in_funcs_extra(self) -> bool {
        use Function::*;
        matches!(
            self,
            Ntop | Macaddr | Cgroupid | CgroupPath | Buf | Cat | Trace | Uaddr | Strerror
        )
    }

    /// Functions whose value is only ever assigned to a map: `@m[k] = count()`.
    pub fn is_aggregation(self) -> bool {
        use Function::*;
        matches!(
            self,
            Count | Sum | Avg | Min | Max | Stats | Stddev | Hist | Lhist | Llquantize
        )
    }

    /// Map operations and output functions used as statements (see check/map_ops.rs).
    pub fn is_map_statement(self) -> bool {
        use Function::*;
        matches!(
            self,
            Delete
                | Clear
                | Zero
                | Print
                | Printa
                | Trunc
                | Normalize
                | Denormalize
                | Time
                | Errorf
        )
    }
}

pub struct FunctionDef {
    pub name: &'static str,
    pub function: Function,
    pub min_args: usize,
    pub max_args: usize,
    /// Usage shown in help lines.
    pub usage: &'static str,
    /// Allowed only with `--unsafe`.
    pub unsafe_only: bool,
}

pub const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "printf",
        function: Function::Printf,
        min_args: 1,
        max_args: 7,
        usage: "printf(\"format\", args…)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "exit",
        function: Function::Exit,
        min_args: 0,
        max_args: 1,
        usage: "exit([status])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "str",
        function: Function::Str,
        min_args: 1,
        max_args: 2,
        usage: "str(pointer[, length])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "count",
        function: Function::Count,
        min_args: 0,
        max_args: 0,
        usage: "@map[key] = count()",
        unsafe_only: false,
    },
    FunctionDef {
        name: "sum",
        function: Function::Sum,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = sum(value)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "sizeof",
        function: Function::Sizeof,
        min_args: 1,
        max_args: 1,
        usage: "sizeof(type) or sizeof(expression)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "offsetof",
        function: Function::Offsetof,
        min_args: 2,
        max_args: 2,
        usage: "offsetof(struct name, field)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "kptr",
        function: Function::Kptr,
        min_args: 1,
        max_args: 1,
        usage: "kptr(pointer): read it from kernel memory",
        unsafe_only: false,
    },
    FunctionDef {
        name: "uptr",
        function: Function::Uptr,
        min_args: 1,
        max_args: 1,
        usage: "uptr(pointer): read it from user memory",
        unsafe_only: false,
    },
    FunctionDef {
        name: "kstack",
        function: Function::Stack { user: false },
        min_args: 0,
        max_args: 2,
        usage: "kstack([mode][, frames]) with mode bpftrace, perf or raw",
        unsafe_only: false,
    },
    FunctionDef {
        name: "ustack",
        function: Function::Stack { user: true },
        min_args: 0,
        max_args: 2,
        usage: "ustack([mode][, frames]) with mode bpftrace, perf or raw",
        unsafe_only: false,
    },
    FunctionDef {
        name: "ksym",
        function: Function::Symbol { user: false },
        min_args: 1,
        max_args: 1,
        usage: "ksym(kernel address)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "usym",
        function: Function::Symbol { user: true },
        min_args: 1,
        max_args: 1,
        usage: "usym(user address)",
        unsafe_only: false,
    },
    // D's names for the same: `func(pc)` and `sym(pc)` the kernel function a PC is in,
    // `ufunc(pc)` the user one (`profile-997 /arg0/ { @[func(arg0)] = count(); }`).
    FunctionDef {
        name: "func",
        function: Function::Symbol { user: false },
        min_args: 1,
        max_args: 1,
        usage: "func(kernel PC)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "sym",
        function: Function::Symbol { user: false },
        min_args: 1,
        max_args: 1,
        usage: "sym(kernel address)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "ufunc",
        function: Function::Symbol { user: true },
        min_args: 1,
        max_args: 1,
        usage: "ufunc(user PC)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "kaddr",
        function: Function::Kaddr,
        min_args: 1,
        max_args: 1,
        usage: "kaddr(\"kernel symbol\")",
        unsafe_only: false,
    },
    // Aggregations and map operations (see check/aggregate.rs and check/map_ops.rs).
    FunctionDef {
        name: "avg",
        function: Function::Avg,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = avg(value)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "min",
        function: Function::Min,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = min(value)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "max",
        function: Function::Max,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = max(value)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "stats",
        function: Function::Stats,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = stats(value)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "stddev",
        function: Function::Stddev,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = stddev(value)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "hist",
        function: Function::Hist,
        min_args: 1,
        max_args: 2,
        usage: "@map[key] = hist(value[, bits 0..5])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "lhist",
        function: Function::Lhist,
        min_args: 4,
        max_args: 4,
        usage: "@map[key] = lhist(value, min, max, step)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "delete",
        function: Function::Delete,
        min_args: 1,
        max_args: 2,
        usage: "delete(@map[key]) or delete(@map, key)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "clear",
        function: Function::Clear,
        min_args: 1,
        max_args: 1,
        usage: "clear(@map)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "zero",
        function: Function::Zero,
        min_args: 1,
        max_args: 1,
        usage: "zero(@map)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "has_key",
        function: Function::HasKey,
        min_args: 1,
        max_args: 2,
        usage: "has_key(@map, key)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "print",
        function: Function::Print,
        min_args: 1,
        max_args: 3,
        usage: "print(@map[, top[, div]]) or print(value)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "printa",
        function: Function::Printa,
        min_args: 1,
        max_args: 8,
        usage: "printa([\"format\", ]@map, …)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "time",
        function: Function::Time,
        min_args: 0,
        max_args: 1,
        usage: "time([\"%H:%M:%S\\n\"])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "errorf",
        function: Function::Errorf,
        min_args: 1,
        max_args: 7,
        usage: "errorf(\"format\", args…)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "strftime",
        function: Function::Strftime,
        min_args: 2,
        max_args: 2,
        usage: "printf(\"%s\", strftime(\"%H:%M:%S\", nsecs))",
        unsafe_only: false,
    },
    FunctionDef {
        name: "len",
        function: Function::Len,
        min_args: 1,
        max_args: 1,
        usage: "len(@map)",
        unsafe_only: false,
    },
    // String functions and actions (see check/functions.rs).
    FunctionDef {
        name: "strncmp",
        function: Function::Strncmp,
        min_args: 3,
        max_args: 3,
        usage: "strncmp(string, string, length)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "strcontains",
        function: Function::Strcontains,
        min_args: 2,
        max_args: 2,
        usage: "strcontains(haystack, needle)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "reg",
        function: Function::Reg,
        min_args: 1,
        max_args: 1,
        usage: "reg(\"ip\")",
        unsafe_only: false,
    },
    FunctionDef {
        name: "strerror",
        function: Function::Strerror,
        min_args: 1,
        max_args: 1,
        usage: "strerror(errno)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "bswap",
        function: Function::Bswap,
        min_args: 1,
        max_args: 1,
        usage: "bswap(integer)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "strlen",
        function: Function::Strlen,
        min_args: 1,
        max_args: 1,
        usage: "strlen(string)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "signal",
        function: Function::Signal,
        min_args: 1,
        max_args: 1,
        usage: "signal(SIGKILL), signal(\"KILL\") or signal(9)",
        unsafe_only: true,
    },
    FunctionDef {
        name: "system",
        function: Function::System,
        min_args: 1,
        max_args: 7,
        usage: "system(\"format\", args…)",
        unsafe_only: true,
    },
    FunctionDef {
        name: "join",
        function: Function::Join,
        min_args: 1,
        max_args: 2,
        usage: "join(args.argv[, \"separator\"])",
        unsafe_only: false,
    },
    // D spellings of aggregations and map operations.
    FunctionDef {
        name: "quantize",
        function: Function::Hist,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = quantize(value)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "lquantize",
        function: Function::Lhist,
        min_args: 4,
        max_args: 4,
        usage: "@map[key] = lquantize(value, min, max, step)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "llquantize",
        function: Function::Llquantize,
        min_args: 5,
        max_args: 5,
        usage: "@map[key] = llquantize(value, factor, low, high, steps)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "trunc",
        function: Function::Trunc,
        min_args: 1,
        max_args: 2,
        usage: "trunc(@map[, count])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "normalize",
        function: Function::Normalize,
        min_args: 2,
        max_args: 2,
        usage: "normalize(@map, factor)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "denormalize",
        function: Function::Denormalize,
        min_args: 1,
        max_args: 1,
        usage: "denormalize(@map)",
        unsafe_only: false,
    },
    // D spellings.
    FunctionDef {
        name: "stack",
        function: Function::Stack { user: false },
        min_args: 0,
        max_args: 2,
        usage: "stack([frames])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "copyinstr",
        function: Function::Str,
        min_args: 1,
        max_args: 2,
        usage: "copyinstr(pointer[, length])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "stringof",
        function: Function::Str,
        min_args: 1,
        max_args: 1,
        usage: "stringof(pointer)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "raise",
        function: Function::Signal,
        min_args: 1,
        max_args: 1,
        usage: "raise(SIGKILL)",
        unsafe_only: true,
    },
    // Text made in user space, cgroups, cat() and uaddr() (see check/funcs_extra.rs).
    FunctionDef {
        name: "ntop",
        function: Function::Ntop,
        min_args: 1,
        max_args: 2,
        usage: "ntop([AF_INET or AF_INET6, ]address)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "macaddr",
        function: Function::Macaddr,
        min_args: 1,
        max_args: 1,
        usage: "macaddr(eth->h_source)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "cgroupid",
        function: Function::Cgroupid,
        min_args: 1,
        max_args: 1,
        usage: "cgroupid(\"/sys/fs/cgroup/PATH\")",
        unsafe_only: false,
    },
    FunctionDef {
        name: "cgroup_path",
        function: Function::CgroupPath,
        min_args: 1,
        max_args: 1,
        usage: "cgroup_path(cgroup id)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "buf",
        function: Function::Buf,
        min_args: 1,
        max_args: 2,
        usage: "buf(pointer, length) or buf(array)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "cat",
        function: Function::Cat,
        min_args: 1,
        max_args: 7,
        usage: "cat(\"file name format\", args…)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "uaddr",
        function: Function::Uaddr,
        min_args: 1,
        max_args: 1,
        usage: "uaddr(\"symbol\") in a uprobe, or with -c CMD / -p PID",
        unsafe_only: false,
    },
    // D spelling.
    FunctionDef {
        name: "trace",
        function: Function::Trace,
        min_args: 1,
        max_args: 1,
        usage: "trace(value)",
        unsafe_only: false,
    },
    // DTrace's string functions, computed in the kernel (see check/dstrings.rs).
    FunctionDef {
        name: "strjoin",
        function: Function::DString(DStringOp::Strjoin),
        min_args: 2,
        max_args: 2,
        usage: "strjoin(string, string)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "basename",
        function: Function::DString(DStringOp::Basename),
        min_args: 1,
        max_args: 1,
        usage: "basename(string)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "dirname",
        function: Function::DString(DStringOp::Dirname),
        min_args: 1,
        max_args: 1,
        usage: "dirname(string)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "substr",
        function: Function::DString(DStringOp::Substr),
        min_args: 2,
        max_args: 3,
        usage: "substr(string, index[, length])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "lltostr",
        function: Function::DString(DStringOp::Lltostr),
        min_args: 1,
        max_args: 1,
        usage: "lltostr(integer)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "strstr",
        function: Function::DString(DStringOp::Strstr),
        min_args: 2,
        max_args: 2,
        usage: "strstr(string, substring)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "index",
        function: Function::DString(DStringOp::Index),
        min_args: 2,
        max_args: 3,
        usage: "index(string, substring[, start])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "rindex",
        function: Function::DString(DStringOp::Rindex),
        min_args: 2,
        max_args: 3,
        usage: "rindex(string, substring[, start])",
        unsafe_only: false,
    },
    FunctionDef {
        name: "toupper",
        function: Function::DString(DStringOp::Toupper),
        min_args: 1,
        max_args: 1,
        usage: "toupper(string)",
        unsafe_only: false,
    },
    FunctionDef {
        name: "tolower",
        function: Function::DString(DStringOp::Tolower),
        min_args: 1,
        max_args: 1,
        usage: "tolower(string)",
        unsafe_only: false,
    },
];

/// Every function name, for "did you mean".
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|f| f.name)
}

pub fn function(name: &str) -> Option<&'static FunctionDef> {
    FUNCTIONS.iter().find(|f| f.name == name)
}
