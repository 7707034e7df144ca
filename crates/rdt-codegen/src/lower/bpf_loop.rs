//! `for ($i : a..b)` and `while` through the bpf_loop helper (kernel 5.17+), as bpftrace lowers
//! its range loops: the body becomes a callback the kernel calls once per iteration, so the
//! verifier checks the body once instead of walking every iteration, and a loop of 100,000 (up
//! to bpf_loop's 8,388,608) iterations of any body loads.
//!
//! The body is a callback like a map loop's, lowered by the same code (lower/callback.rs):
//! variables in scratch, the probe's context reachable, a stop word saying how the loop ended.
//! A `while` whose condition turns false ends like `break`.
//!
//! Without bpf_loop (an older kernel, or `RDT_NO_BPF_LOOP=1`) loops stay verifier-bounded BPF
//! loops (lower/lang.rs).

use super::callback::LoweredCallback;
use super::Lowerer;
use crate::artifact::Counter;
use crate::insn::helper::LOOP;
use crate::lir::{AluOp, Base, CallArg, Cond, Entry, Inst, Operand};
use rdt_sema::ir::{Expr, Stmt, LOOP_LIMIT};

/// The most iterations bpf_loop runs (BPF_MAX_LOOPS); a longer range is cut here and counted.
pub const BPF_MAX_LOOPS: i64 = 1 << 23;

impl Lowerer<'_> {
    /// `for ($i : start..end)`: bpf_loop(end - start, body) with `$i = start + index`.
    pub(super) fn range_via_bpf_loop(
        &mut self,
        var: usize,
        start: &Expr,
        end: &Expr,
        body: &[Stmt],
    ) {
        let s = self.scalar(start);
        let e = self.scalar(end);
        let start_at = self.alloc(8);
        self.store(Base::Scratch, start_at, 8, Operand::Reg(s));
        let stop = self.stop_word();
        let done = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Sle,
            lhs: e,
            rhs: Operand::Reg(s),
            target: done,
        });
        // Unsigned from here: `end - start` of a range wider than i64 still counts as large.
        let count = self.alu(AluOp::Sub, e, Operand::Reg(s));
        self.cap_iterations(count);
        let mut cb = self.callback_lowerer();
        // First, before any call overwrites r1.
        let index = cb.vreg();
        cb.emit(Inst::CallbackArg { dst: index, n: 1 });
        let exits = cb.callback_start(Entry::Loop);
        let first = cb.load(Base::Scratch, start_at, 8);
        let i = cb.alu(AluOp::Add, first, Operand::Reg(index));
        cb.store_var(var, i);
        cb.callback_body(body, &exits);
        let callback = cb.callback_end(exits, stop);
        self.call_bpf_loop(count, callback, stop);
        self.place(done);
    }

    /// `while (cond)`: bpf_loop(LOOP_LIMIT, `if (!cond) stop; body`). When every iteration ran
    /// and the condition still holds, the loop was cut at the limit, counted as before.
    pub(super) fn while_via_bpf_loop(&mut self, cond: &Expr, body: &[Stmt]) {
        let stop = self.stop_word();
        let mut cb = self.callback_lowerer();
        let exits = cb.callback_start(Entry::Loop);
        cb.branch_if_false(cond, exits.done);
        cb.callback_body(body, &exits);
        let callback = cb.callback_end(exits, stop);
        let limit = self.imm(LOOP_LIMIT);
        self.call_bpf_loop(limit, callback, stop);
        let how = self.load(Base::Scratch, stop, 8);
        let done = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Ne,
            lhs: how,
            rhs: Operand::Imm(0),
            target: done,
        });
        // The verifier-bounded loop tested the condition once more before counting the stop.
        self.branch_if_false(cond, done);
        self.bump_counter(Counter::LoopLimit);
        self.place(done);
    }

    /// A longer range than bpf_loop runs is cut to its maximum (an unsigned compare), and the
    /// cut counted.
    fn cap_iterations(&mut self, count: crate::lir::VReg) {
        let fits = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Le,
            lhs: count,
            rhs: Operand::Imm(BPF_MAX_LOOPS),
            target: fits,
        });
        self.emit(Inst::Mov {
            dst: count,
            src: Operand::Imm(BPF_MAX_LOOPS),
        });
        self.bump_counter(Counter::RangeLimit);
        self.place(fits);
    }

    /// Calls bpf_loop with the finished callback; after a `return` or `exit()` in the body,
    /// leaves the clause too.
    fn call_bpf_loop(&mut self, count: crate::lir::VReg, callback: LoweredCallback, stop: i32) {
        let index = self.adopt_callback(callback);
        self.call(
            LOOP,
            vec![
                CallArg::Reg(count),
                CallArg::Callback(index),
                CallArg::CtxSlot,
                CallArg::Imm(0),
            ],
        );
        self.leave_if_returned(stop);
    }

    /// Stores a scalar into a variable (in a callback, always a scratch slot).
    fn store_var(&mut self, var: usize, value: crate::lir::VReg) {
        match self.vars[var] {
            super::VarLoc::Reg(r) => self.emit(Inst::Mov {
                dst: r,
                src: Operand::Reg(value),
            }),
            super::VarLoc::Mem(region) => self.store(Base::Scratch, region, 8, Operand::Reg(value)),
        }
    }
}
