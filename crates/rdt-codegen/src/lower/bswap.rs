//! `bswap(x)`: the bytes of x reversed over its type's width, with shifts and masks.

use super::Lowerer;
use crate::lir::{AluOp, Operand, VReg};
use rdt_sema::ir::Expr;

impl Lowerer<'_> {
    /// `bytes` bytes of `e` in reverse order; bytes above the width are zero.
    pub(super) fn bswap(&mut self, e: &Expr, bytes: u32) -> VReg {
        let v = self.scalar(e);
        let mut acc = self.imm(0);
        for i in 0..bytes {
            let shifted = self.alu(AluOp::Rsh, v, Operand::Imm(i64::from(8 * i)));
            let byte = self.alu(AluOp::And, shifted, Operand::Imm(0xff));
            let placed = self.alu(
                AluOp::Lsh,
                byte,
                Operand::Imm(i64::from(8 * (bytes - 1 - i))),
            );
            acc = self.alu(AluOp::Or, acc, Operand::Reg(placed));
        }
        acc
    }
}
