//! The address of a tracepoint's `__data_loc` / `__rel_loc` data, for `str(args.filename)`.

use super::Lowerer;
use crate::lir::{AluOp, Inst, Operand, VReg};

/// A locator is a u32: the data's offset in its low 16 bits, its length in the high 16.
const LOCATOR_OFFSET_MASK: i64 = 0xffff;
const LOCATOR_SIZE: u32 = 4;

impl Lowerer<'_> {
    /// `ctx + (locator & 0xffff)`, plus the end of the locator for `__rel_loc`.
    pub(super) fn data_loc_addr(&mut self, offset: u32, rel: bool) -> VReg {
        let locator = self.vreg();
        self.emit(Inst::LoadCtx {
            dst: locator,
            offset: offset as i16,
            size: LOCATOR_SIZE,
        });
        let mut within = self.alu(AluOp::And, locator, Operand::Imm(LOCATOR_OFFSET_MASK));
        if rel {
            within = self.alu(
                AluOp::Add,
                within,
                Operand::Imm(i64::from(offset + LOCATOR_SIZE)),
            );
        }
        let ctx = self.vreg();
        self.emit(Inst::CtxAddr { dst: ctx });
        self.alu(AluOp::Add, ctx, Operand::Reg(within))
    }
}
