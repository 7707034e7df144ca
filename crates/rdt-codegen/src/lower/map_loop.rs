//! `for ($kv : @map)`: the body becomes a callback that bpf_for_each_map_elem calls once per
//! entry. It shares the clause's state as bpf_loop's callbacks do (lower/bpf_loop.rs): variables
//! in the per-CPU scratch area, and the address of the caller's saved context pointer passed as
//! the helper's callback context, so the body reads `args`, `argN`, `retval` and takes stacks as
//! the clause does, and map loops nest in each other and in range loops. A word in scratch tells
//! the loop's caller how the body ended: 0 ran to the end, 1 `break`, 2 `return` or `exit()`
//! (after a `break`, the remaining calls return at once).

use super::{remove_unreachable, Lowerer, Region, VarLoc};
use crate::insn::helper;
use crate::lir::{AluOp, Base, CallArg, Cond, Entry, Inst, Operand};
use rdt_sema::ir::{MapValue, Stmt, StmtKind};
use rdt_sema::Type;

use super::bpf_loop::STOP_RETURN;
use crate::insn::helper::FOR_EACH_MAP_ELEM;
const STOP_BREAK: i64 = 1;

/// Whether any statement (at any depth) is a `for` over a map.
pub(super) fn has_map_loop(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match &s.kind {
        StmtKind::ForMap { .. } => true,
        StmtKind::If { then, els, .. } => has_map_loop(then) || has_map_loop(els),
        StmtKind::ForRange { body, .. }
        | StmtKind::While { body, .. }
        | StmtKind::Unroll { body, .. } => has_map_loop(body),
        _ => false,
    })
}

impl Lowerer<'_> {
    pub(super) fn for_map(&mut self, map: usize, var: usize, body: &[Stmt]) {
        let VarLoc::Mem(kv) = self.vars[var] else {
            return;
        };
        let stop = self.alloc(8);
        self.store(Base::Scratch, stop, 8, Operand::Imm(0));
        let cb = self.callback_lowerer();
        let callback = cb.lower_callback(map, kv, stop, body);
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

    /// The callback function and the scratch bytes in use after it.
    fn lower_callback(
        mut self,
        map: usize,
        kv: Region,
        stop: Region,
        body: &[Stmt],
    ) -> super::bpf_loop::LoweredCallback {
        self.f.entry = Entry::MapElem;
        // First, before any call overwrites r2.
        let key = self.vreg();
        self.emit(Inst::CallbackArg { dst: key, n: 2 });
        let (end, broke, returned) = (self.label(), self.label(), self.label());
        self.exit = returned;
        self.emit(Inst::InitScratch);
        let how = self.load(Base::Scratch, stop, 8);
        self.emit(Inst::Branch {
            cond: Cond::Ne,
            lhs: how,
            rhs: Operand::Imm(0),
            target: end,
        });
        self.load_entry(map, key, kv);
        self.loops.push(super::lang::LoopLabels {
            continue_to: end,
            break_to: broke,
        });
        self.stmts(body);
        self.loops.pop();
        self.emit(Inst::Jump { target: end });
        self.place(broke);
        self.store(Base::Scratch, stop, 8, Operand::Imm(STOP_BREAK));
        self.emit(Inst::Jump { target: end });
        self.place(returned);
        self.store(Base::Scratch, stop, 8, Operand::Imm(STOP_RETURN));
        self.place(end);
        remove_unreachable(&mut self.f);
        super::bpf_loop::LoweredCallback {
            scratch_top: self.scratch_needed(),
            function: self.f,
            callbacks: self.callbacks,
        }
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
