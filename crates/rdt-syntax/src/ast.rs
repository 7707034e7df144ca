//! The abstract syntax tree. Every node carries the byte span of its source text so that any
//! later stage can point a diagnostic at it.

use crate::Span;

/// A whole script: `#pragma`/`config` options and clauses, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub options: Vec<OptionSetting>,
    pub clauses: Vec<Clause>,
}

/// `#pragma D option name=value`, `config = { name = value }`.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionSetting {
    pub name: String,
    /// `None` for a bare `#pragma D option quiet`.
    pub value: Option<String>,
    pub span: Span,
}

/// `probe[, probe…] [/predicate/] { statements }`
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub probes: Vec<ProbeSpec>,
    pub predicate: Option<Expr>,
    pub body: Block,
    pub span: Span,
}

/// The raw text of one probe description, e.g. `tracepoint:syscalls:sys_enter_openat`,
/// `interval:ms:100`, `BEGIN`, `syscall::openat:entry`. Its syntax belongs to the probe kind, so
/// the parser keeps it as text and the probe kind module in rdt-sema takes it apart.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSpec {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// An expression evaluated for its effect: a call such as `printf(…)` or `exit()`, `x++`.
    Expr(Expr),
    /// `target = value`, or `target op= value` when `op` is set (`+=`, `<<=`, …).
    Assign {
        target: Expr,
        op: Option<BinOp>,
        value: Expr,
    },
    /// `if (cond) { … } else { … }`; `else if` nests an `If` as the only statement of `els`.
    If {
        cond: Expr,
        then: Block,
        els: Option<Block>,
    },
    /// `{ … }` nested block.
    Block(Block),
    /// `for ($var : start..end) { … }`
    ForRange {
        var: String,
        var_span: Span,
        start: Expr,
        end: Expr,
        body: Block,
    },
    /// `for ($kv : @map) { … }`
    ForMap {
        var: String,
        var_span: Span,
        map: String,
        map_span: Span,
        body: Block,
    },
    /// `while (cond) { … }`
    While {
        cond: Expr,
        body: Block,
    },
    /// `unroll (n) { … }`
    Unroll {
        count: Expr,
        body: Block,
    },
    Break,
    Continue,
    /// `return;` ends the action block early.
    Return,
    /// `let $var;` / `let $var = value;` / `let $var: TYPE [= value];`: declares a scratch
    /// variable in the enclosing block, so that assignments in nested blocks reach it (bpftrace
    /// 0.22's block scoping); with a type, every value it is given is converted to that type.
    Let {
        var: String,
        var_span: Span,
        ty: Option<TypeName>,
        value: Option<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Integer literal (decimal, hex `0x`, octal `0…`, with optional duration suffix already applied).
    Int(u64),
    /// String literal with escapes already decoded.
    Str(String),
    /// A bare identifier: a builtin (`pid`, `comm`, `args`), a constant, or a D keyword builtin.
    Ident(String),
    /// `$name` scratch variable; `$1` positional parameters are `Positional`.
    Var(String),
    /// `$1`, `$2`, … (1-based).
    Positional(u32),
    /// `$#`: number of positional parameters.
    PositionalCount,
    /// `@name[keys]`; `name` is empty for the anonymous map `@`; `keys` is empty for `@name`.
    Map {
        name: String,
        keys: Vec<Expr>,
    },
    /// `f(args…)`.
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    /// `base.field` or `base->field` (`arrow`).
    Field {
        base: Box<Expr>,
        field: String,
        field_span: Span,
        arrow: bool,
    },
    /// `base[index]` on a non-map value.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `cond ? a : b`
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    /// `(a, b, …)` with at least two elements.
    Tuple(Vec<Expr>),
    /// `x++`, `x--`, `++x`, `--x`.
    IncDec {
        target: Box<Expr>,
        increment: bool,
        prefix: bool,
    },
    /// `(type)expr`
    Cast {
        ty: TypeName,
        expr: Box<Expr>,
    },
}

/// A type as written in a cast: `uint32`, `struct task_struct *`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    pub name: String,
    pub pointer_depth: u32,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
    BitNot,
    /// `*p`
    Deref,
    /// `&x`
    AddrOf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogAnd,
    LogOr,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            Shl => "<<",
            Shr => ">>",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            LogAnd => "&&",
            LogOr => "||",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}
