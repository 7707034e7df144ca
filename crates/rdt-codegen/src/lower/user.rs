//! Reads of user-space memory (USDT arguments kept in memory).

use super::Lowerer;
use crate::artifact::Counter;
use crate::insn::helper;
use crate::lir::{Base, CallArg, Cond, Inst, Operand, VReg};
use rdt_sema::ir::Expr;
use rdt_sema::Type;

impl Lowerer<'_> {
    /// An integer of type `ty` read from the user address `addr`. The scratch slot is zeroed
    /// first, so a failed read (counted) yields 0 rather than stale bytes.
    pub(super) fn read_user(&mut self, addr: &Expr, ty: &Type) -> VReg {
        let size = ty.size().clamp(1, 8);
        let slot = self.alloc(8);
        self.store(Base::Scratch, slot, 8, Operand::Imm(0));
        let a = self.scalar(addr);
        let r = self.call(
            helper::PROBE_READ_USER,
            vec![
                CallArg::Scratch(slot),
                CallArg::Imm(i64::from(size)),
                CallArg::Reg(a),
            ],
        );
        let ok = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Sge,
            lhs: r,
            rhs: Operand::Imm(0),
            target: ok,
        });
        self.bump_counter(Counter::ReadFaults);
        self.place(ok);
        let v = self.load(Base::Scratch, slot, size);
        self.extend(v, ty)
    }
}
