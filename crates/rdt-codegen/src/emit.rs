//! LIR + register allocation → BPF instructions, each with the source span it came from.
//!
//! Frame layout: `fp-8` holds the context pointer, `fp-16` the scratch-map key, spill slots follow.
//! r0–r5 are temporaries; r9 holds the scratch pointer for the whole program.

use crate::insn::{self, Insn, FP, R0, R1, R2, R9};
use crate::lir::{AluOp, Base, CallArg, Cond, Function, Inst, Label, Operand, VReg};
use crate::regalloc::{self, Allocation, Loc};
use rdt_syntax::Span;
use std::collections::HashMap;

pub const CTX_SLOT: i16 = -8;
pub const SCRATCH_KEY_SLOT: i16 = -16;
pub const FIRST_SPILL_SLOT: i16 = -24;
const STACK_LIMIT: u32 = 512;

/// Encoded program: instructions, their spans, and where map addresses must be relocated.
#[derive(Debug, Clone, Default)]
pub struct Encoded {
    pub insns: Vec<Insn>,
    pub spans: Vec<Span>,
    /// `(instruction index of the ld_imm64, map index)`.
    pub map_relocs: Vec<(usize, usize)>,
    /// `(instruction index of the ld_imm64, callback index)`: a callback's address.
    pub func_relocs: Vec<(usize, usize)>,
}

/// Why a function cannot be encoded: limits of the BPF instruction set, reported at the clause.
#[derive(Debug)]
pub enum EmitError {
    /// Spill slots and the frame exceed the 512-byte BPF stack.
    TooMuchStack { bytes: u32 },
    /// A jump spans more instructions than its 16-bit offset reaches.
    JumpTooFar { span: Span, insns: usize },
}

struct Emitter<'a> {
    out: Encoded,
    alloc: &'a Allocation,
    labels: HashMap<Label, usize>,
    /// `(instruction index, label)` of jumps to patch.
    fixups: Vec<(usize, Label)>,
    span: Span,
}

/// Emits a whole program: save ctx, then the body (which finds its scratch area with
/// [`Inst::InitScratch`] after any cheap guard, so events the guard rejects cost no map lookup).
pub fn emit(
    f: &Function,
    scratch_map: usize,
    scratch_key: u32,
    prologue_span: Span,
) -> Result<Encoded, EmitError> {
    emit_function(
        f,
        scratch_map,
        scratch_key,
        prologue_span,
        Prologue::Register(R1),
    )
}

/// Emits a callback (bpf_for_each_map_elem, bpf_loop). Its callback context points at the
/// caller's saved context pointer, which it copies into its own frame: the probe's context stays
/// readable inside the loop body, however deeply loops nest.
pub fn emit_callback(
    f: &Function,
    scratch_map: usize,
    scratch_key: u32,
    prologue_span: Span,
) -> Result<Encoded, EmitError> {
    let ctx = Prologue::PointedToBy(f.entry.ctx_arg());
    emit_function(f, scratch_map, scratch_key, prologue_span, ctx)
}

/// Where a function finds the context pointer it saves at entry.
#[derive(Clone, Copy)]
enum Prologue {
    Register(u8),
    /// At offset 0 of the memory this register points to (the other argument registers stay
    /// untouched for [`Inst::CallbackArg`]).
    PointedToBy(u8),
}

fn emit_function(
    f: &Function,
    scratch_map: usize,
    scratch_key: u32,
    prologue_span: Span,
    ctx: Prologue,
) -> Result<Encoded, EmitError> {
    let alloc = regalloc::allocate(f, FIRST_SPILL_SLOT);
    let frame = (-FIRST_SPILL_SLOT) as u32 - 8 + alloc.stack_bytes;
    if frame > STACK_LIMIT {
        return Err(EmitError::TooMuchStack { bytes: frame });
    }
    let mut e = Emitter {
        out: Encoded::default(),
        alloc: &alloc,
        labels: HashMap::new(),
        fixups: Vec::new(),
        span: prologue_span,
    };
    match ctx {
        Prologue::Register(r) => e.push(insn::store_reg(insn::DW, FP, CTX_SLOT, r)),
        Prologue::PointedToBy(r) => {
            e.push(insn::load(insn::DW, R0, r, 0));
            e.push(insn::store_reg(insn::DW, FP, CTX_SLOT, R0));
        }
    }
    for (inst, span) in &f.insts {
        e.span = *span;
        match inst {
            Inst::InitScratch => e.init_scratch(scratch_map, scratch_key),
            other => e.inst(other),
        }
    }
    // The verifier rejects unreachable instructions: a function that ends in a jump or a
    // return (a loop body ending in `return`) gets no epilogue.
    if falls_off_end(f) {
        e.span = prologue_span;
        e.push(insn::mov_imm(R0, 0));
        e.push(insn::exit());
    }
    e.patch_jumps()?;
    Ok(e.out)
}

/// Whether control can run past the function's last instruction (into the epilogue).
fn falls_off_end(f: &Function) -> bool {
    !matches!(
        f.insts.last(),
        Some((Inst::Jump { .. } | Inst::Return { .. }, _))
    )
}

impl Emitter<'_> {
    fn push(&mut self, i: Insn) {
        self.out.insns.push(i);
        self.out.spans.push(self.span);
    }

    fn init_scratch(&mut self, scratch_map: usize, scratch_key: u32) {
        self.push(insn::store_imm(
            insn::W,
            FP,
            SCRATCH_KEY_SLOT,
            scratch_key as i32,
        ));
        self.push(insn::store_imm(insn::W, FP, SCRATCH_KEY_SLOT + 4, 0));
        self.load_map(R1, scratch_map);
        self.push(insn::mov_reg(R2, FP));
        self.push(insn::alu64_imm(insn::ADD, R2, i32::from(SCRATCH_KEY_SLOT)));
        self.push(insn::call(insn::helper::MAP_LOOKUP_ELEM));
        // A per-CPU array lookup of an existing key cannot fail, but the verifier needs the check.
        self.push(insn::jump_imm(insn::JNE, R0, 0, 2));
        self.push(insn::mov_imm(R0, 0));
        self.push(insn::exit());
        self.push(insn::mov_reg(R9, R0));
    }

    fn load_map(&mut self, reg: u8, map: usize) {
        self.out.map_relocs.push((self.out.insns.len(), map));
        for i in insn::ld_imm64(reg, insn::PSEUDO_MAP_FD, 0) {
            self.push(i);
        }
    }

    fn load_imm(&mut self, reg: u8, imm: i64) {
        if let Ok(small) = i32::try_from(imm) {
            self.push(insn::mov_imm(reg, small));
        } else {
            for i in insn::ld_imm64(reg, 0, imm) {
                self.push(i);
            }
        }
    }

    /// The physical register holding `v`, loading it into `tmp` if it is spilled.
    fn read(&mut self, v: VReg, tmp: u8) -> u8 {
        match self.alloc.locs[v as usize] {
            Loc::Reg(r) => r,
            Loc::Stack(off) => {
                self.push(insn::load(insn::DW, tmp, FP, off));
                tmp
            }
        }
    }

    /// The register to compute `v` into: its own, or `tmp` when spilled (then call [`Self::commit`]).
    fn target(&self, v: VReg, tmp: u8) -> u8 {
        match self.alloc.locs[v as usize] {
            Loc::Reg(r) => r,
            Loc::Stack(_) => tmp,
        }
    }

    fn commit(&mut self, v: VReg, reg: u8) {
        if let Loc::Stack(off) = self.alloc.locs[v as usize] {
            self.push(insn::store_reg(insn::DW, FP, off, reg));
        }
    }

    fn operand(&mut self, o: Operand, tmp: u8) -> Result<u8, i32> {
        match o {
            Operand::Reg(v) => Ok(self.read(v, tmp)),
            Operand::Imm(i) => match i32::try_from(i) {
                Ok(small) => Err(small),
                Err(_) => {
                    self.load_imm(tmp, i);
                    Ok(tmp)
                }
            },
        }
    }

    fn base(&mut self, b: Base, tmp: u8) -> u8 {
        match b {
            Base::Scratch => R9,
            Base::Reg(v) => self.read(v, tmp),
        }
    }

    fn inst(&mut self, inst: &Inst) {
        match inst {
            Inst::Mov { dst, src } => {
                let d = self.target(*dst, R0);
                match self.operand(*src, d) {
                    Ok(r) if r != d => self.push(insn::mov_reg(d, r)),
                    Ok(_) => {}
                    Err(imm) => self.push(insn::mov_imm(d, imm)),
                }
                self.commit(*dst, d);
            }
            Inst::Alu { op, dst, lhs, rhs } => {
                let l = self.read(*lhs, R0);
                if l != R0 {
                    self.push(insn::mov_reg(R0, l));
                }
                let code = alu_code(*op);
                match self.operand(*rhs, R1) {
                    Ok(r) => self.push(insn::alu64_reg(code, R0, r)),
                    Err(imm) => self.push(insn::alu64_imm(code, R0, imm)),
                }
                self.store_result(*dst);
            }
            Inst::Neg { dst, src } => {
                let s = self.read(*src, R0);
                if s != R0 {
                    self.push(insn::mov_reg(R0, s));
                }
                self.push(insn::alu64_imm(insn::NEG, R0, 0));
                self.store_result(*dst);
            }
            Inst::LoadCtx { dst, offset, size } => {
                self.push(insn::load(insn::DW, R1, FP, CTX_SLOT));
                let d = self.target(*dst, R0);
                self.push(insn::load(insn::size_code(*size), d, R1, *offset));
                self.commit(*dst, d);
            }
            Inst::CtxAddr { dst } => {
                let d = self.target(*dst, R0);
                self.push(insn::load(insn::DW, d, FP, CTX_SLOT));
                self.commit(*dst, d);
            }
            Inst::ScratchAddr { dst, offset } => {
                let d = self.target(*dst, R0);
                self.push(insn::mov_reg(d, R9));
                self.push(insn::alu64_imm(insn::ADD, d, *offset));
                self.commit(*dst, d);
            }
            Inst::Load {
                dst,
                base,
                offset,
                size,
            } => {
                let b = self.base(*base, R1);
                let d = self.target(*dst, R0);
                self.push(insn::load(insn::size_code(*size), d, b, *offset));
                self.commit(*dst, d);
            }
            Inst::Store {
                base,
                offset,
                size,
                src,
            } => {
                let b = self.base(*base, R1);
                let code = insn::size_code(*size);
                match self.operand(*src, R0) {
                    Ok(r) => self.push(insn::store_reg(code, b, *offset, r)),
                    Err(imm) => self.push(insn::store_imm(code, b, *offset, imm)),
                }
            }
            Inst::Call { helper, args, ret } => {
                for (i, arg) in args.iter().enumerate() {
                    self.call_arg(i as u8 + 1, *arg);
                }
                self.push(insn::call(*helper));
                if let Some(ret) = ret {
                    self.store_result(*ret);
                }
            }
            Inst::Jump { target } => self.jump(insn::jump_imm(insn::JA, 0, 0, 0), *target),
            Inst::Branch {
                cond,
                lhs,
                rhs,
                target,
            } => {
                let l = self.read(*lhs, R0);
                let code = cond_code(*cond);
                let j = match self.operand(*rhs, R1) {
                    Ok(r) => insn::jump_reg(code, l, r, 0),
                    Err(imm) => insn::jump_imm(code, l, imm, 0),
                };
                self.jump(j, *target);
            }
            Inst::Label(l) => {
                self.labels.insert(*l, self.out.insns.len());
            }
            Inst::InitScratch => {}
            Inst::CallbackArg { dst, n } => {
                let d = self.target(*dst, R0);
                self.push(insn::mov_reg(d, *n));
                self.commit(*dst, d);
            }
            Inst::Return { value } => {
                self.push(insn::mov_imm(R0, *value));
                self.push(insn::exit());
            }
        }
    }

    /// Moves a result computed in r0 to `dst`'s location.
    fn store_result(&mut self, dst: VReg) {
        match self.alloc.locs[dst as usize] {
            Loc::Reg(r) => self.push(insn::mov_reg(r, R0)),
            Loc::Stack(off) => self.push(insn::store_reg(insn::DW, FP, off, R0)),
        }
    }

    fn call_arg(&mut self, reg: u8, arg: CallArg) {
        match arg {
            CallArg::Reg(v) => match self.alloc.locs[v as usize] {
                Loc::Reg(r) => self.push(insn::mov_reg(reg, r)),
                Loc::Stack(off) => self.push(insn::load(insn::DW, reg, FP, off)),
            },
            CallArg::Imm(i) => self.load_imm(reg, i),
            CallArg::Scratch(off) => {
                self.push(insn::mov_reg(reg, R9));
                if off != 0 {
                    self.push(insn::alu64_imm(insn::ADD, reg, off));
                }
            }
            CallArg::Map(m) => self.load_map(reg, m),
            CallArg::Ctx => self.push(insn::load(insn::DW, reg, FP, CTX_SLOT)),
            CallArg::CtxSlot => {
                self.push(insn::mov_reg(reg, FP));
                self.push(insn::alu64_imm(insn::ADD, reg, i32::from(CTX_SLOT)));
            }
            CallArg::Callback(index) => {
                // The loader links the callback in and marks this a BPF_PSEUDO_FUNC load.
                self.out.func_relocs.push((self.out.insns.len(), index));
                for i in insn::ld_imm64(reg, 0, 0) {
                    self.push(i);
                }
            }
        }
    }

    fn jump(&mut self, j: Insn, target: Label) {
        self.fixups.push((self.out.insns.len(), target));
        self.push(j);
    }

    fn patch_jumps(&mut self) -> Result<(), EmitError> {
        // The verifier inlines some helper calls into several instructions and re-patches the
        // jumps around them; a jump that fits here can then overflow its 16-bit offset in the
        // kernel ("cannot be patched due to 16-bit range"). Budget that growth up front.
        let mut growth_before = Vec::with_capacity(self.out.insns.len() + 1);
        let mut grown = 0i64;
        for i in &self.out.insns {
            growth_before.push(grown);
            grown += kernel_growth(i);
        }
        growth_before.push(grown);
        for (at, label) in std::mem::take(&mut self.fixups) {
            // Every label used by a jump is placed by lowering; a missing one is a codegen bug.
            let dest = self.labels.get(&label).copied().unwrap_or(at + 1);
            let off = dest as i64 - at as i64 - 1;
            let (lo, hi) = (at.min(dest), at.max(dest));
            let worst = off.abs() + (growth_before[hi] - growth_before[lo]);
            let too_far = EmitError::JumpTooFar {
                span: self.out.spans[at],
                insns: self.out.insns.len(),
            };
            if worst > i16::MAX as i64 {
                return Err(too_far);
            }
            self.out.insns[at].off = i16::try_from(off).map_err(|_| too_far)?;
        }
        Ok(())
    }
}

/// How many instructions the verifier may add in place of `i`: bpf_loop is inlined into a
/// loop of about 20, map lookups into a few (array maps), other inlined helpers into 2–3.
fn kernel_growth(i: &Insn) -> i64 {
    if i.code != insn::JMP | insn::CALL || i.src != 0 {
        return 0;
    }
    match i.imm {
        insn::helper::LOOP => 24,
        insn::helper::MAP_LOOKUP_ELEM => 10,
        _ => 4,
    }
}

fn alu_code(op: AluOp) -> u8 {
    match op {
        AluOp::Add => insn::ADD,
        AluOp::Sub => insn::SUB,
        AluOp::Mul => insn::MUL,
        AluOp::Div => insn::DIV,
        AluOp::Mod => insn::MOD,
        AluOp::And => insn::AND,
        AluOp::Or => insn::OR,
        AluOp::Xor => insn::XOR,
        AluOp::Lsh => insn::LSH,
        AluOp::Rsh => insn::RSH,
        AluOp::Arsh => insn::ARSH,
    }
}

fn cond_code(c: Cond) -> u8 {
    match c {
        Cond::Eq => insn::JEQ,
        Cond::Ne => insn::JNE,
        Cond::Gt => insn::JGT,
        Cond::Ge => insn::JGE,
        Cond::Lt => insn::JLT,
        Cond::Le => insn::JLE,
        Cond::Sgt => insn::JSGT,
        Cond::Sge => insn::JSGE,
        Cond::Slt => insn::JSLT,
        Cond::Sle => insn::JSLE,
    }
}
