//! The low-level IR: BPF-shaped instructions over unlimited virtual registers. Lowering produces
//! it from the typed IR; the register allocator maps its registers; the emitter encodes it.
//!
//! Two physical registers are fixed for the whole program and never appear here: the context
//! pointer is saved on the stack at entry (read back with [`CallArg::Ctx`] / [`Inst::LoadCtx`]),
//! and r9 holds the per-CPU scratch area ([`Base::Scratch`]) where keys, strings and records are
//! assembled.

use rdt_syntax::Span;

pub type VReg = u32;
pub type Label = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    Reg(VReg),
    Imm(i64),
}

/// Where a memory access points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// The program's per-CPU scratch area.
    Scratch,
    /// A pointer held in a register (a map value returned by a lookup).
    Reg(VReg),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Lsh,
    Rsh,
    Arsh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    Eq,
    Ne,
    /// Unsigned comparisons.
    Gt,
    Ge,
    Lt,
    Le,
    /// Signed comparisons.
    Sgt,
    Sge,
    Slt,
    Sle,
}

/// A map the program refers to, by its index in the object's map list.
pub type MapIndex = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallArg {
    Reg(VReg),
    Imm(i64),
    /// The address `scratch + offset`.
    Scratch(i32),
    Map(MapIndex),
    /// The program's context pointer (saved at entry), for helpers such as `get_stack`.
    Ctx,
    /// The address of callback function N of this program (bpf_for_each_map_elem, bpf_loop).
    Callback(usize),
    /// The address of the stack slot holding the saved context pointer: the callback context of
    /// bpf_loop and bpf_for_each_map_elem, from which a loop callback takes the probe's context
    /// (lower/callback.rs).
    CtxSlot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inst {
    Mov {
        dst: VReg,
        src: Operand,
    },
    /// `dst = lhs op rhs`, 64-bit.
    Alu {
        op: AluOp,
        dst: VReg,
        lhs: VReg,
        rhs: Operand,
    },
    Neg {
        dst: VReg,
        src: VReg,
    },
    /// `dst = *(size *)(ctx + offset)`, zero-extended.
    LoadCtx {
        dst: VReg,
        offset: i16,
        size: u32,
    },
    /// `dst = ctx`: the context pointer itself (saved on the stack at entry).
    CtxAddr {
        dst: VReg,
    },
    /// `dst = scratch + offset`: an address in the scratch area, for a load at a computed
    /// offset (an element of an array held in a variable).
    ScratchAddr {
        dst: VReg,
        offset: i32,
    },
    /// `dst = *(size *)(base + offset)`, zero-extended.
    Load {
        dst: VReg,
        base: Base,
        offset: i16,
        size: u32,
    },
    /// `*(size *)(base + offset) = src`.
    Store {
        base: Base,
        offset: i16,
        size: u32,
        src: Operand,
    },
    Call {
        helper: i32,
        args: Vec<CallArg>,
        ret: Option<VReg>,
    },
    Jump {
        target: Label,
    },
    /// `if lhs cond rhs goto target`.
    Branch {
        cond: Cond,
        lhs: VReg,
        rhs: Operand,
        target: Label,
    },
    Label(Label),
    /// Finds this CPU's scratch area (r9); every [`Base::Scratch`] access comes after it.
    InitScratch,
    /// `dst = ` argument `n` (1 to 5) the callback was called with: bpf_loop's iteration index
    /// (1), bpf_for_each_map_elem's key pointer (2). First in the callback, before any call
    /// overwrites r1-r5.
    CallbackArg {
        dst: VReg,
        n: u8,
    },
    /// Leaves the function with `value` (a bpf_loop callback's 1 stops the loop).
    Return {
        value: i32,
    },
}

impl Inst {
    /// Registers read by the instruction.
    pub fn uses(&self) -> Vec<VReg> {
        let op = |o: &Operand| match o {
            Operand::Reg(r) => Some(*r),
            Operand::Imm(_) => None,
        };
        let base = |b: &Base| match b {
            Base::Reg(r) => Some(*r),
            Base::Scratch => None,
        };
        match self {
            Inst::Mov { src, .. } => op(src).into_iter().collect(),
            Inst::Alu { lhs, rhs, .. } => std::iter::once(*lhs).chain(op(rhs)).collect(),
            Inst::Neg { src, .. } => vec![*src],
            Inst::LoadCtx { .. } | Inst::CtxAddr { .. } | Inst::ScratchAddr { .. } => vec![],
            Inst::Load { base: b, .. } => base(b).into_iter().collect(),
            Inst::Store { base: b, src, .. } => base(b).into_iter().chain(op(src)).collect(),
            Inst::Call { args, .. } => args
                .iter()
                .filter_map(|a| match a {
                    CallArg::Reg(r) => Some(*r),
                    _ => None,
                })
                .collect(),
            Inst::Branch { lhs, rhs, .. } => std::iter::once(*lhs).chain(op(rhs)).collect(),
            Inst::Jump { .. }
            | Inst::Label(_)
            | Inst::InitScratch
            | Inst::CallbackArg { .. }
            | Inst::Return { .. } => vec![],
        }
    }

    /// The register written by the instruction.
    pub fn def(&self) -> Option<VReg> {
        match self {
            Inst::Mov { dst, .. }
            | Inst::Alu { dst, .. }
            | Inst::Neg { dst, .. }
            | Inst::LoadCtx { dst, .. }
            | Inst::CtxAddr { dst }
            | Inst::ScratchAddr { dst, .. }
            | Inst::Load { dst, .. }
            | Inst::CallbackArg { dst, .. } => Some(*dst),
            Inst::Call { ret, .. } => *ret,
            _ => None,
        }
    }
}

/// A lowered program: instructions with the source span each came from.
#[derive(Debug, Clone, Default)]
pub struct Function {
    pub insts: Vec<(Inst, Span)>,
    pub vregs: u32,
    pub labels: u32,
    /// How a callback is called (programs ignore it).
    pub entry: Entry,
}

/// The arguments a callback receives. Both helpers pass their callback context (the caller's
/// [`CallArg::CtxSlot`]) in a different register, from which the prologue takes the probe's
/// context.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Entry {
    /// bpf_for_each_map_elem: (map, key, value, ctx).
    #[default]
    MapElem,
    /// bpf_loop: (index, ctx).
    Loop,
}

impl Entry {
    /// The argument register (1 to 5) holding the callback context.
    pub fn ctx_arg(self) -> u8 {
        match self {
            Entry::MapElem => 4,
            Entry::Loop => 2,
        }
    }
}
