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
