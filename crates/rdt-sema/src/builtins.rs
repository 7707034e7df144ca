//! The builtin variables and functions of the language: one table entry each. Their lowering to
//! instructions lives in rdt-codegen, keyed by the same [`Builtin`] / [`Function`] values.

use crate::ir::Builtin;
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
    // D spellings.
    ("execname", Builtin::Comm),
    ("timestamp", Builtin::Nsecs),
];

/// Names that are context-dependent rather than builtins (resolved by the probe kind).
pub const CONTEXT_NAMES: &[&str] = &[
    "kstack", "ustack", "cpid", "curtask", "args", "retval", "arg0", "arg1", "arg2", "arg3",
    "arg4", "arg5",
];

pub fn builtin(name: &str) -> Option<Builtin> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

pub fn builtin_type(b: Builtin) -> Type {
    match b {
        Builtin::Comm => Type::Str { size: 16 },
        Builtin::Pid | Builtin::Tid | Builtin::Uid | Builtin::Gid | Builtin::Cpu => Type::U32,
        Builtin::Nsecs | Builtin::Elapsed => Type::U64,
        Builtin::Rand => Type::U32,
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
    Stack { user: bool },
    /// `ksym(addr)`, `usym(addr)`.
    Symbol { user: bool },
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
}

impl Function {
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
}

pub const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "printf",
        function: Function::Printf,
        min_args: 1,
        max_args: 7,
        usage: "printf(\"format\", args…)",
    },
    FunctionDef {
        name: "exit",
        function: Function::Exit,
        min_args: 0,
        max_args: 0,
        usage: "exit()",
    },
    FunctionDef {
        name: "str",
        function: Function::Str,
        min_args: 1,
        max_args: 2,
        usage: "str(pointer[, length])",
    },
    FunctionDef {
        name: "count",
        function: Function::Count,
        min_args: 0,
        max_args: 0,
        usage: "@map[key] = count()",
    },
    FunctionDef {
        name: "sum",
        function: Function::Sum,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = sum(value)",
    },
    FunctionDef {
        name: "sizeof",
        function: Function::Sizeof,
        min_args: 1,
        max_args: 1,
        usage: "sizeof(type) or sizeof(expression)",
    },
    FunctionDef {
        name: "offsetof",
        function: Function::Offsetof,
        min_args: 2,
        max_args: 2,
        usage: "offsetof(struct name, field)",
    },
    FunctionDef {
        name: "kptr",
        function: Function::Kptr,
        min_args: 1,
        max_args: 1,
        usage: "kptr(pointer): read it from kernel memory",
    },
    FunctionDef {
        name: "uptr",
        function: Function::Uptr,
        min_args: 1,
        max_args: 1,
        usage: "uptr(pointer): read it from user memory",
    },
    FunctionDef {
        name: "kstack",
        function: Function::Stack { user: false },
        min_args: 0,
        max_args: 2,
        usage: "kstack([mode][, frames]) with mode bpftrace, perf or raw",
    },
    FunctionDef {
        name: "ustack",
        function: Function::Stack { user: true },
        min_args: 0,
        max_args: 2,
        usage: "ustack([mode][, frames]) with mode bpftrace, perf or raw",
    },
    FunctionDef {
        name: "ksym",
        function: Function::Symbol { user: false },
        min_args: 1,
        max_args: 1,
        usage: "ksym(kernel address)",
    },
    FunctionDef {
        name: "usym",
        function: Function::Symbol { user: true },
        min_args: 1,
        max_args: 1,
        usage: "usym(user address)",
    },
    FunctionDef {
        name: "kaddr",
        function: Function::Kaddr,
        min_args: 1,
        max_args: 1,
        usage: "kaddr(\"kernel symbol\")",
    },
    // Aggregations and map operations (see check/aggregate.rs and check/map_ops.rs).
    FunctionDef {
        name: "avg",
        function: Function::Avg,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = avg(value)",
    },
    FunctionDef {
        name: "min",
        function: Function::Min,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = min(value)",
    },
    FunctionDef {
        name: "max",
        function: Function::Max,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = max(value)",
    },
    FunctionDef {
        name: "stats",
        function: Function::Stats,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = stats(value)",
    },
    FunctionDef {
        name: "stddev",
        function: Function::Stddev,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = stddev(value)",
    },
    FunctionDef {
        name: "hist",
        function: Function::Hist,
        min_args: 1,
        max_args: 2,
        usage: "@map[key] = hist(value[, bits 0..5])",
    },
    FunctionDef {
        name: "lhist",
        function: Function::Lhist,
        min_args: 4,
        max_args: 4,
        usage: "@map[key] = lhist(value, min, max, step)",
    },
    FunctionDef {
        name: "delete",
        function: Function::Delete,
        min_args: 1,
        max_args: 2,
        usage: "delete(@map[key]) or delete(@map, key)",
    },
    FunctionDef {
        name: "clear",
        function: Function::Clear,
        min_args: 1,
        max_args: 1,
        usage: "clear(@map)",
    },
    FunctionDef {
        name: "zero",
        function: Function::Zero,
        min_args: 1,
        max_args: 1,
        usage: "zero(@map)",
    },
    FunctionDef {
        name: "has_key",
        function: Function::HasKey,
        min_args: 1,
        max_args: 2,
        usage: "has_key(@map, key)",
    },
    FunctionDef {
        name: "print",
        function: Function::Print,
        min_args: 1,
        max_args: 3,
        usage: "print(@map[, top[, div]]) or print(value)",
    },
    FunctionDef {
        name: "printa",
        function: Function::Printa,
        min_args: 1,
        max_args: 8,
        usage: "printa([\"format\", ]@map, …)",
    },
    FunctionDef {
        name: "time",
        function: Function::Time,
        min_args: 0,
        max_args: 1,
        usage: "time([\"%H:%M:%S\\n\"])",
    },
    FunctionDef {
        name: "errorf",
        function: Function::Errorf,
        min_args: 1,
        max_args: 7,
        usage: "errorf(\"format\", args…)",
    },
    FunctionDef {
        name: "strftime",
        function: Function::Strftime,
        min_args: 2,
        max_args: 2,
        usage: "printf(\"%s\", strftime(\"%H:%M:%S\", nsecs))",
    },
    FunctionDef {
        name: "len",
        function: Function::Len,
        min_args: 1,
        max_args: 1,
        usage: "len(@map)",
    },
    // D spellings of aggregations and map operations.
    FunctionDef {
        name: "quantize",
        function: Function::Hist,
        min_args: 1,
        max_args: 1,
        usage: "@map[key] = quantize(value)",
    },
    FunctionDef {
        name: "lquantize",
        function: Function::Lhist,
        min_args: 4,
        max_args: 4,
        usage: "@map[key] = lquantize(value, min, max, step)",
    },
    FunctionDef {
        name: "llquantize",
        function: Function::Llquantize,
        min_args: 5,
        max_args: 5,
        usage: "@map[key] = llquantize(value, factor, low, high, steps)",
    },
    FunctionDef {
        name: "trunc",
        function: Function::Trunc,
        min_args: 1,
        max_args: 2,
        usage: "trunc(@map[, count])",
    },
    FunctionDef {
        name: "normalize",
        function: Function::Normalize,
        min_args: 2,
        max_args: 2,
        usage: "normalize(@map, factor)",
    },
    FunctionDef {
        name: "denormalize",
        function: Function::Denormalize,
        min_args: 1,
        max_args: 1,
        usage: "denormalize(@map)",
    },
    // D spellings.
    FunctionDef {
        name: "stack",
        function: Function::Stack { user: false },
        min_args: 0,
        max_args: 2,
        usage: "stack([frames])",
    },
    FunctionDef {
        name: "copyinstr",
        function: Function::Str,
        min_args: 1,
        max_args: 2,
        usage: "copyinstr(pointer[, length])",
    },
    FunctionDef {
        name: "stringof",
        function: Function::Str,
        min_args: 1,
        max_args: 1,
        usage: "stringof(pointer)",
    },
];

pub fn function(name: &str) -> Option<&'static FunctionDef> {
    FUNCTIONS.iter().find(|f| f.name == name)
}
