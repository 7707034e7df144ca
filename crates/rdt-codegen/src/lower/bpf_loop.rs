//! `for ($i : a..b)` and `while` through the bpf_loop helper (kernel 5.17+), as bpftrace lowers
//! its range loops: the body becomes a callback the kernel calls once per iteration, so the
//! verifier checks the body once instead of walking every iteration, and a loop of 100,000 (up
//! to bpf_loop's 8,388,608) iterations of any body loads.
//!
//! The callback is a separate BPF function with its own stack frame, so it shares the clause's
//! state the way `for ($kv : @map)` does (lower/map_loop.rs): every variable of the clause lives
//! in the per-CPU scratch area, which both functions find by the same key. Scratch rather than a
//! pointer into the caller's stack: the caller's variables would have to sit at fixed stack
//! offsets (the register allocator places them freely), nested loops would need a chain of frame
//! pointers, and strings and tuples already live in scratch. The one thing passed through
//! bpf_loop's own context argument ([`CallArg::CtxSlot`]) is the address of the caller's saved
//! context pointer: the callback copies it into its frame (emit.rs, [`Entry::ctx_arg`]), so the
//! body reads `args`, `argN` and takes stacks as the clause does. Map loops pass the same through
//! bpf_for_each_map_elem's context argument.
//!
//! A word in scratch tells the caller how the loop ended: `break` (and a `while` condition turning
//! false) return 1 from the callback, which stops bpf_loop; `return` and `exit()` also store
//! [`STOP_RETURN`], and the caller then leaves the clause.
//!
//! Without bpf_loop (an older kernel, or `RDT_NO_BPF_LOOP=1`) loops stay verifier-bounded BPF
//! loops (lower/lang.rs).

use super::{remove_unreachable, Lowerer};
use crate::artifact::Counter;
use crate::insn::helper::LOOP;
use crate::lir::{AluOp, Base, CallArg, Cond, Entry, Function, Inst, Label, Operand};
use rdt_sema::ir::{Expr, Stmt, StmtKind, LOOP_LIMIT};

/// The most iterations bpf_loop runs (BPF_MAX_LOOPS); a longer range is cut here and counted.
pub const BPF_MAX_LOOPS: i64 = 1 << 23;
/// How the loop ended, in its stop word: 0 still running, 1 finished early (`break`, or a
/// `while` condition turned false), 2 `return` or `exit()`.
const STOP_DONE: i64 = 1;
pub(super) const STOP_RETURN: i64 = 2;

/// Whether any statement (at any depth) is a loop lowered through bpf_loop.
pub(super) fn has_loop(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match &s.kind {
        StmtKind::ForRange { .. } | StmtKind::While { .. } => true,
        StmtKind::If { then, els, .. } => has_loop(then) || has_loop(els),
        StmtKind::ForMap { body, .. } | StmtKind::Unroll { body, .. } => has_loop(body),
        _ => false,
    })
}

/// A callback lowered apart from its caller.
pub(super) struct LoweredCallback {
    pub function: Function,
    /// Scratch bytes in use after it.
    pub scratch_top: u32,
    /// The clause's callbacks, with any nested in this one added.
    pub callbacks: Vec<Function>,
}

/// Where the callback's `break`, `return` and end of body go.
struct CallbackExits {
    done: Label,
    returned: Label,
    next: Label,
}

impl<'a> Lowerer<'a> {
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
        let stop = self.alloc(8);
        self.store(Base::Scratch, stop, 8, Operand::Imm(0));
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
        let exits = cb.callback_start();
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
        let stop = self.alloc(8);
        self.store(Base::Scratch, stop, 8, Operand::Imm(0));
        let mut cb = self.callback_lowerer();
        let exits = cb.callback_start();
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

    /// After a loop helper (bpf_loop, bpf_for_each_map_elem) returns: leaves the clause when
    /// the body ran `return` or `exit()`.
    pub(super) fn leave_if_returned(&mut self, stop: i32) {
        let how = self.load(Base::Scratch, stop, 8);
        self.emit(Inst::Branch {
            cond: Cond::Eq,
            lhs: how,
            rhs: Operand::Imm(STOP_RETURN),
            target: self.exit,
        });
    }

    /// A lowerer for a callback of this clause: the same variables (all in scratch), its own
    /// scratch above what is in use here, and the clause's callback list (loops nest).
    pub(super) fn callback_lowerer(&mut self) -> Lowerer<'a> {
        let mut cb = Lowerer::new(self.g, self.prog_type);
        cb.vars = self.vars.clone();
        cb.memory_vars = true;
        cb.scratch_top = self.scratch_top;
        cb.scratch_peak = self.scratch_top;
        cb.span = self.span;
        cb.callbacks = std::mem::take(&mut self.callbacks);
        cb
    }

    /// Takes a lowered callback (and the scratch it used) into the clause; returns its index
    /// for [`CallArg::Callback`].
    pub(super) fn adopt_callback(&mut self, cb: LoweredCallback) -> usize {
        self.scratch_top = self.scratch_top.max(cb.scratch_top);
        self.scratch_peak = self.scratch_peak.max(cb.scratch_top);
        self.callbacks = cb.callbacks;
        self.callbacks.push(cb.function);
        self.callbacks.len() - 1
    }

    fn callback_start(&mut self) -> CallbackExits {
        self.f.entry = Entry::Loop;
        let exits = CallbackExits {
            done: self.label(),
            returned: self.label(),
            next: self.label(),
        };
        self.exit = exits.returned;
        self.emit(Inst::InitScratch);
        exits
    }

    fn callback_body(&mut self, body: &[Stmt], exits: &CallbackExits) {
        self.loops.push(super::lang::LoopLabels {
            continue_to: exits.next,
            break_to: exits.done,
        });
        self.stmts(body);
        self.loops.pop();
        self.emit(Inst::Jump { target: exits.next });
    }

    /// Ends the callback: `break` returns 1 (bpf_loop stops), `return` also marks the stop
    /// word, the end of the body returns 0. Gives the callback back to its caller.
    fn callback_end(mut self, exits: CallbackExits, stop: i32) -> LoweredCallback {
        self.place(exits.done);
        self.store(Base::Scratch, stop, 8, Operand::Imm(STOP_DONE));
        self.emit(Inst::Return { value: 1 });
        self.place(exits.returned);
        self.store(Base::Scratch, stop, 8, Operand::Imm(STOP_RETURN));
        self.emit(Inst::Return { value: 1 });
        self.place(exits.next);
        remove_unreachable(&mut self.f);
        LoweredCallback {
            scratch_top: self.scratch_needed(),
            function: self.f,
            callbacks: self.callbacks,
        }
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

#[cfg(test)]
mod tests {
    use super::has_loop;
    use rdt_sema::ir::{Expr, ExprKind, Stmt, StmtKind};
    use rdt_sema::Type;
    use rdt_syntax::Span;

    fn stmt(kind: StmtKind) -> Stmt {
        Stmt {
            kind,
            span: Span::default(),
        }
    }

    fn int(v: i64) -> Expr {
        Expr {
            kind: ExprKind::Int(v),
            ty: Type::I64,
            span: Span::default(),
        }
    }

    #[test]
    fn finds_loops_nested_in_ifs_and_unrolls() {
        let range = stmt(StmtKind::ForRange {
            var: 0,
            start: int(0),
            end: int(3),
            body: vec![],
        });
        let unrolled = stmt(StmtKind::Unroll {
            count: 2,
            body: vec![range],
        });
        let in_if = stmt(StmtKind::If {
            cond: int(1),
            then: vec![],
            els: vec![unrolled],
        });
        assert!(has_loop(&[in_if]));
        assert!(!has_loop(&[stmt(StmtKind::Unroll {
            count: 2,
            body: vec![],
        })]));
    }
}
