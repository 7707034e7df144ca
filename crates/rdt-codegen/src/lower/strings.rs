//! Branch-free byte scans for string comparison and length.
//!
//! A scan that branches on every byte leaves the verifier one pending state per byte; a few
//! string compares inside a loop then exceed its limit of 8192 pending jumps ("the sequence of
//! jumps is too complex"). These scans keep 0/1 flags in registers instead: the verifier walks
//! them once, straight through.

use super::Lowerer;
use crate::lir::{AluOp, Base, Inst, Operand, VReg};

impl Lowerer<'_> {
    /// `acc = acc <op> rhs`, in place.
    fn update(&mut self, op: AluOp, acc: VReg, rhs: VReg) {
        self.emit(Inst::Alu {
            op,
            dst: acc,
            lhs: acc,
            rhs: Operand::Reg(rhs),
        });
    }

    /// 1 when the byte `x` (0..=255) is not zero, else 0: `(x + 255) >> 8`.
    fn byte_is_nonzero(&mut self, x: VReg) -> VReg {
        let sum = self.alu(AluOp::Add, x, Operand::Imm(255));
        self.alu(AluOp::Rsh, sum, Operand::Imm(8))
    }

    /// 1 when the strings at `a` and `b` differ within their first `n` bytes, up to the first
    /// NUL they share; else 0.
    pub(super) fn strings_differ(&mut self, a: (Base, i32), b: (Base, i32), n: i32) -> VReg {
        let differ = self.imm(0);
        let live = self.imm(1);
        for i in 0..n {
            let x = self.load(a.0, a.1 + i, 1);
            let y = self.load(b.0, b.1 + i, 1);
            let delta = self.alu(AluOp::Xor, x, Operand::Reg(y));
            let this_differs = self.byte_is_nonzero(delta);
            self.update(AluOp::And, this_differs, live);
            self.update(AluOp::Or, differ, this_differs);
            // Equal bytes: a NUL in `x` ends both strings.
            let more = self.byte_is_nonzero(x);
            self.update(AluOp::And, live, more);
        }
        differ
    }

    /// The number of bytes before the first NUL in the `size` bytes at `at`.
    pub(super) fn string_length(&mut self, at: (Base, i32), size: i32) -> VReg {
        let len = self.imm(0);
        let live = self.imm(1);
        for i in 0..size {
            let x = self.load(at.0, at.1 + i, 1);
            let more = self.byte_is_nonzero(x);
            self.update(AluOp::And, live, more);
            self.update(AluOp::Add, len, live);
        }
        len
    }
}
