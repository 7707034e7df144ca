//! Elements of arrays held in variables and maps (`$x[0]`, `@a[1][$i]`). The array is a copy
//! in the scratch area; a constant index is an offset into it. A computed index is compared
//! with the array's length first, which is what lets the verifier accept a load at a variable
//! offset into the scratch map's value; an index past the end reads zeros.

use super::Lowerer;
use crate::lir::{AluOp, Base, Cond, Inst, Operand, VReg};
use rdt_sema::ir::{Expr, ExprKind};

impl Lowerer<'_> {
    /// The integer element `e` (an `ExprKind::ArrayElem`).
    pub(super) fn array_elem_scalar(&mut self, e: &Expr) -> VReg {
        let (base, at) = self.array_elem_location(e);
        let v = self.load(base, at, e.ty.size().clamp(1, 8));
        self.extend(v, &e.ty)
    }

    /// Where the bytes of element `e` (or of a member of a struct element) are.
    pub(super) fn array_elem_location(&mut self, e: &Expr) -> (Base, i32) {
        if let ExprKind::HeldField { record, offset } = &e.kind {
            let (base, at) = self.array_elem_location(record);
            return (base, at + *offset as i32);
        }
        let ExprKind::ArrayElem { array, index, len } = &e.kind else {
            return self.mem_location(e);
        };
        let (base, at) = self.array_elem_location(array);
        let size = e.ty.size().max(1);
        if let ExprKind::Int(i) = index.kind {
            return (base, at + (i as i32) * size as i32);
        }
        let start = self.address(base, at);
        let i = self.scalar(index);
        let addr = self.vreg();
        let out_of_range = self.label();
        let done = self.label();
        // Unsigned: a negative index is past the end too.
        self.emit(Inst::Branch {
            cond: Cond::Ge,
            lhs: i,
            rhs: Operand::Imm(i64::from(*len)),
            target: out_of_range,
        });
        let offset = self.alu(AluOp::Mul, i, Operand::Imm(i64::from(size)));
        let inside = self.alu(AluOp::Add, start, Operand::Reg(offset));
        self.emit(Inst::Mov {
            dst: addr,
            src: Operand::Reg(inside),
        });
        self.emit(Inst::Jump { target: done });
        self.place(out_of_range);
        let zeros = self.alloc(size);
        self.zero(zeros, size);
        self.emit(Inst::ScratchAddr {
            dst: addr,
            offset: zeros,
        });
        self.place(done);
        (Base::Reg(addr), 0)
    }
}
