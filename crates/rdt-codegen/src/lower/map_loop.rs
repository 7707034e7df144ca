//! `for ($kv : @map)`: the body becomes a callback that bpf_for_each_map_elem calls once per
//! entry, lowered like a range loop's (lower/callback.rs): it shares the clause's variables and
//! context, map loops nest in each other and in range loops, and `break` returns 1, on which the
//! helper skips the remaining entries.

use super::callback::LoweredCallback;
use super::{Lowerer, Region, VarLoc};
use crate::insn::helper;
use crate::insn::helper::FOR_EACH_MAP_ELEM;
use crate::lir::{AluOp, Base, CallArg, Cond, Entry, Inst, Operand};
use rdt_sema::ir::{MapValue, Stmt};
use rdt_sema::Type;

impl Lowerer<'_> {
    pub(super) fn for_map(&mut self, map: usize, var: usize, body: &[Stmt]) {
        let VarLoc::Mem(kv) = self.vars[var] else {
            return;
        };
        let stop = self.stop_word();
        let callback = self
            .callback_lowerer()
            .map_loop_callback(map, kv, stop, body);
        let index = self.adopt_callback(callback);
        let m = self.g.user_maps[map];
        self.call(
            FOR_EACH_MAP_ELEM,
            vec![
                CallArg::Map(m),
                CallArg::Callback(index),
                CallArg::CtxSlot,
                CallArg::Imm(0),
            ],
        );
        self.leave_if_returned(stop);
    }

    /// The callback: `$kv` = the entry the helper passes, then the body.
    fn map_loop_callback(
        mut self,
        map: usize,
        kv: Region,
        stop: Region,
        body: &[Stmt],
    ) -> LoweredCallback {
        // First, before any call overwrites r2.
        let key = self.vreg();
        self.emit(Inst::CallbackArg { dst: key, n: 2 });
        let exits = self.callback_start(Entry::MapElem);
        self.load_entry(map, key, kv);
        self.callback_body(body, &exits);
        self.callback_end(exits, stop)
    }

    /// Copies the entry's key (what the callback's `key` argument points at) and its value into
    /// `$kv`.
    fn load_entry(&mut self, map: usize, key: crate::lir::VReg, kv: Region) {
        let decl = &self.g.program.maps[map];
        let key_ty = decl.key.clone().unwrap_or(Type::U64);
        let (value_ty, per_cpu) = match &decl.value {
            MapValue::Plain(t) => (t.clone(), false),
            MapValue::Count => (Type::U64, true),
            MapValue::Sum => (Type::I64, true),
            // Sema lets only plain, count and sum maps into a loop.
            _ => (Type::U64, false),
        };
        let fields = [key_ty.clone(), value_ty.clone()];
        let value_at = kv + Type::tuple_offsets(&fields)[1] as i32;
        self.copy((Base::Scratch, kv), (Base::Reg(key), 0), key_ty.size());
        let m = self.g.user_maps[map];
        if per_cpu {
            let total = self.sum_slots(m, kv);
            self.store(Base::Scratch, value_at, 8, Operand::Reg(total));
            return;
        }
        self.zero(value_at, value_ty.size());
        let slot = self.call(
            helper::MAP_LOOKUP_ELEM,
            vec![CallArg::Map(m), CallArg::Scratch(kv)],
        );
        let done = self.label();
        self.branch_if_zero(slot, done);
        self.copy(
            (Base::Scratch, value_at),
            (Base::Reg(slot), 0),
            value_ty.size(),
        );
        self.place(done);
    }

    /// The sum over every CPU of a per-CPU map's slot for the key at `key`.
    pub(super) fn sum_slots(&mut self, m: usize, key: Region) -> crate::lir::VReg {
        let acc = self.imm(0);
        let cpu = self.imm(0);
        let (top, skip) = (self.label(), self.label());
        self.place(top);
        let slot = self.call(
            helper::MAP_LOOKUP_PERCPU_ELEM,
            vec![CallArg::Map(m), CallArg::Scratch(key), CallArg::Reg(cpu)],
        );
        self.branch_if_zero(slot, skip);
        let v = self.load(Base::Reg(slot), 0, 8);
        let sum = self.alu(AluOp::Add, acc, Operand::Reg(v));
        self.emit(Inst::Mov {
            dst: acc,
            src: Operand::Reg(sum),
        });
        self.place(skip);
        let next = self.alu(AluOp::Add, cpu, Operand::Imm(1));
        self.emit(Inst::Mov {
            dst: cpu,
            src: Operand::Reg(next),
        });
        self.emit(Inst::Branch {
            cond: Cond::Lt,
            lhs: cpu,
            rhs: Operand::Imm(i64::from(self.g.ncpus)),
            target: top,
        });
        acc
    }
}
