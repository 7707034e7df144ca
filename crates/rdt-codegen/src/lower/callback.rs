//! What every loop body run as a callback shares, whichever helper calls it (bpf_loop for range
//! `for` and `while`, lower/bpf_loop.rs; bpf_for_each_map_elem for `for` over a map,
//! lower/map_loop.rs).
//!
//! A callback is a separate BPF function with its own stack frame, so it shares the clause's
//! state through the per-CPU scratch area: every variable of the clause lives there, and both
//! functions find it by the same key. Scratch rather than a pointer into the caller's stack: the
//! caller's variables would have to sit at fixed stack offsets (the register allocator places
//! them freely), nested loops would need a chain of frame pointers, and strings and tuples
//! already live in scratch. The helper's context argument carries the address of the
//! caller's saved context pointer ([`crate::lir::CallArg::CtxSlot`]), so the body reads `args`,
//! `argN` and takes stacks as the clause does.
//!
//! Both helpers stop when the callback returns 1 and go on when it returns 0. A word in scratch
//! (the stop word) tells the caller how the loop ended: [`STOP_DONE`] after `break` (or a
//! `while` condition turning false), [`STOP_RETURN`] after `return` or `exit()`, on which the
//! caller leaves the clause too.

use super::{remove_unreachable, Lowerer};
use crate::lir::{Base, Cond, Entry, Function, Inst, Label, Operand};
use rdt_sema::ir::{Stmt, StmtKind};

/// The stop word after `break`, or a `while` condition turning false: the loop ended early.
pub(super) const STOP_DONE: i64 = 1;
/// The stop word after `return` or `exit()`: the caller leaves the clause.
pub(super) const STOP_RETURN: i64 = 2;

/// Whether a clause has loop bodies run as callbacks: map loops always, range `for` and
/// `while` when the kernel has bpf_loop. Its variables then live in scratch, where the
/// callbacks find them.
pub(super) fn needs_callbacks(stmts: &[Stmt], bpf_loop: bool) -> bool {
    stmts.iter().any(|s| match &s.kind {
        StmtKind::ForMap { .. } => true,
        StmtKind::ForRange { body, .. } | StmtKind::While { body, .. } => {
            bpf_loop || needs_callbacks(body, bpf_loop)
        }
        StmtKind::If { then, els, .. } => {
            needs_callbacks(then, bpf_loop) || needs_callbacks(els, bpf_loop)
        }
        StmtKind::Unroll { body, .. } => needs_callbacks(body, bpf_loop),
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

/// Where the callback's `break`, `return` and end of body (and `continue`) go.
pub(super) struct CallbackExits {
    pub done: Label,
    returned: Label,
    next: Label,
}

impl<'a> Lowerer<'a> {
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
    /// for [`crate::lir::CallArg::Callback`].
    pub(super) fn adopt_callback(&mut self, cb: LoweredCallback) -> usize {
        self.scratch_top = self.scratch_top.max(cb.scratch_top);
        self.scratch_peak = self.scratch_peak.max(cb.scratch_top);
        self.callbacks = cb.callbacks;
        self.callbacks.push(cb.function);
        self.callbacks.len() - 1
    }

    /// A fresh stop word for one run of a loop: a stale word from an earlier run (an outer
    /// loop's previous iteration) would end this one at once.
    pub(super) fn stop_word(&mut self) -> super::Region {
        let stop = self.alloc(8);
        self.store(Base::Scratch, stop, 8, Operand::Imm(0));
        stop
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

    /// Begins a callback called the `entry` way. The caller reads the helper's arguments it
    /// needs before this, while r1–r5 still hold them.
    pub(super) fn callback_start(&mut self, entry: Entry) -> CallbackExits {
        self.f.entry = entry;
        let exits = CallbackExits {
            done: self.label(),
            returned: self.label(),
            next: self.label(),
        };
        self.exit = exits.returned;
        self.emit(Inst::InitScratch);
        exits
    }

    /// The loop body, with `break` and `continue` leading to the callback's exits.
    pub(super) fn callback_body(&mut self, body: &[Stmt], exits: &CallbackExits) {
        self.loops.push(super::lang::LoopLabels {
            continue_to: exits.next,
            break_to: exits.done,
        });
        self.stmts(body);
        self.loops.pop();
        self.emit(Inst::Jump { target: exits.next });
    }

    /// Ends the callback: `break` returns 1 (the helper stops), `return` also marks the stop
    /// word, the end of the body returns 0 (on to the next iteration or entry). Gives the
    /// callback back to its caller.
    pub(super) fn callback_end(mut self, exits: CallbackExits, stop: i32) -> LoweredCallback {
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
}

#[cfg(test)]
mod tests {
    use super::needs_callbacks;
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

    fn range(body: Vec<Stmt>) -> Stmt {
        stmt(StmtKind::ForRange {
            var: 0,
            start: int(0),
            end: int(3),
            body,
        })
    }

    #[test]
    fn range_loops_nested_in_ifs_and_unrolls_need_callbacks_only_with_bpf_loop() {
        let unrolled = stmt(StmtKind::Unroll {
            count: 2,
            body: vec![range(vec![])],
        });
        let in_if = [stmt(StmtKind::If {
            cond: int(1),
            then: vec![],
            els: vec![unrolled],
        })];
        assert!(needs_callbacks(&in_if, true));
        assert!(!needs_callbacks(&in_if, false));
        let empty_unroll = [stmt(StmtKind::Unroll {
            count: 2,
            body: vec![],
        })];
        assert!(!needs_callbacks(&empty_unroll, true));
    }

    #[test]
    fn a_map_loop_inside_a_walked_range_loop_needs_callbacks() {
        let map_loop = stmt(StmtKind::ForMap {
            map: 0,
            var: 1,
            body: vec![],
        });
        assert!(needs_callbacks(&[range(vec![map_loop])], false));
    }
}
