//! Lowering of loops, early exits, `self->`/`this->` stores, `signal()`, tuple fields and the
//! string functions.
//!
//! Range `for` and `while` loops go through bpf_loop where the kernel has it (lower/bpf_loop.rs);
//! here they are real BPF loops (the verifier accepts bounded loops since 5.3), the fallback for
//! older kernels. A `for` loop with constant bounds is proved finite by the verifier itself;
//! every other loop also counts its iterations and stops after [`LOOP_LIMIT`], bumping
//! [`Counter::LoopLimit`] so the stop is reported, never silent.

use super::{Lowerer, Region};
use crate::artifact::Counter;
use crate::lir::{AluOp, Base, CallArg, Cond, Inst, Label, Operand, VReg};
use rdt_sema::ir::{Expr, ExprKind, Stmt, StmtKind, LOOP_LIMIT};
use rdt_sema::Type;

use crate::insn::helper::{MAP_DELETE_ELEM, PROBE_READ_USER, SEND_SIGNAL};

/// Where `break` and `continue` of the innermost loop jump.
#[derive(Clone, Copy)]
pub(super) struct LoopLabels {
    pub continue_to: Label,
    pub break_to: Label,
}

impl Lowerer<'_> {
    /// Statements added by the language work; other kinds are lowered in lower.rs.
    pub(super) fn lang_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::ForRange {
                var,
                start,
                end,
                body,
            } if self.g.bpf_loop => self.range_via_bpf_loop(*var, start, end, body),
            StmtKind::ForRange {
                var,
                start,
                end,
                body,
            } => self.for_range(*var, start, end, body),
            StmtKind::While { cond, body } if self.g.bpf_loop => {
                self.while_via_bpf_loop(cond, body)
            }
            StmtKind::While { cond, body } => self.while_loop(cond, body),
            StmtKind::ForMap { map, var, body } => self.for_map(*map, *var, body),
            StmtKind::Unroll { count, body } => self.unroll(*count, body),
            StmtKind::Break | StmtKind::Continue => {
                if let Some(l) = self.loops.last().copied() {
                    let target = if matches!(s.kind, StmtKind::Break) {
                        l.break_to
                    } else {
                        l.continue_to
                    };
                    self.emit(Inst::Jump { target });
                }
            }
            StmtKind::Return => self.emit(Inst::Jump { target: self.exit }),
            StmtKind::LocalStore {
                map,
                key,
                value,
                free_on_zero,
            } => self.local_store(*map, key, value, *free_on_zero),
            StmtKind::Join { event, array } => self.join(*event, array),
            StmtKind::Signal(sig) => {
                let v = self.scalar(sig);
                self.call(SEND_SIGNAL, vec![CallArg::Reg(v)]);
            }
            _ => {}
        }
    }

    fn set_var(&mut self, var: usize, value: VReg) {
        match self.vars[var] {
            super::VarLoc::Reg(r) => self.emit(Inst::Mov {
                dst: r,
                src: Operand::Reg(value),
            }),
            super::VarLoc::Mem(region) => self.store(Base::Scratch, region, 8, Operand::Reg(value)),
        }
    }

    /// Counts one iteration in `iter`; past the limit, jumps to `limit`.
    fn count_iteration(&mut self, iter: VReg, limit: Label) {
        self.emit(Inst::Branch {
            cond: Cond::Ge,
            lhs: iter,
            rhs: Operand::Imm(LOOP_LIMIT),
            target: limit,
        });
        let next = self.alu(AluOp::Add, iter, Operand::Imm(1));
        self.emit(Inst::Mov {
            dst: iter,
            src: Operand::Reg(next),
        });
    }

    fn loop_body(&mut self, body: &[Stmt], labels: LoopLabels) {
        self.loops.push(labels);
        self.stmts(body);
        self.loops.pop();
    }

    fn for_range(&mut self, var: usize, start: &Expr, end: &Expr, body: &[Stmt]) {
        let constant =
            matches!(start.kind, ExprKind::Int(_)) && matches!(end.kind, ExprKind::Int(_));
        let s = self.scalar(start);
        let e = self.scalar(end);
        let end_v = self.vreg();
        self.emit(Inst::Mov {
            dst: end_v,
            src: Operand::Reg(e),
        });
        let iter = self.imm(0);
        // The counter stays in a register the verifier tracks exactly (a variable in scratch
        // memory would read back as unknown and make even a constant loop unprovable).
        let i = self.vreg();
        self.emit(Inst::Mov {
            dst: i,
            src: Operand::Reg(s),
        });
        let (top, next, limit, done) = (self.label(), self.label(), self.label(), self.label());
        self.place(top);
        self.emit(Inst::Branch {
            cond: Cond::Sge,
            lhs: i,
            rhs: Operand::Reg(end_v),
            target: done,
        });
        self.set_var(var, i);
        if !constant {
            self.count_iteration(iter, limit);
        }
        self.loop_body(
            body,
            LoopLabels {
                continue_to: next,
                break_to: done,
            },
        );
        self.place(next);
        let after = self.alu(AluOp::Add, i, Operand::Imm(1));
        self.emit(Inst::Mov {
            dst: i,
            src: Operand::Reg(after),
        });
        self.loop_back(top, limit, done);
    }

    /// Ends a loop: jumps back to `top`; `limit` (reached when the iteration cap is hit) counts
    /// the cut-short loop and falls through to `done`, the loop's exit.
    fn loop_back(&mut self, top: Label, limit: Label, done: Label) {
        self.emit(Inst::Jump { target: top });
        self.place(limit);
        self.bump_counter(Counter::LoopLimit);
        self.place(done);
    }

    fn while_loop(&mut self, cond: &Expr, body: &[Stmt]) {
        let iter = self.imm(0);
        let (top, limit, done) = (self.label(), self.label(), self.label());
        self.place(top);
        self.branch_if_false(cond, done);
        self.count_iteration(iter, limit);
        self.loop_body(
            body,
            LoopLabels {
                continue_to: top,
                break_to: done,
            },
        );
        self.loop_back(top, limit, done);
    }

    fn unroll(&mut self, count: u32, body: &[Stmt]) {
        let done = self.label();
        for _ in 0..count {
            let next = self.label();
            self.loop_body(
                body,
                LoopLabels {
                    continue_to: next,
                    break_to: done,
                },
            );
            self.place(next);
        }
        self.place(done);
    }

    /// `join(array)`: reads up to `max_args` pointers from the user array, and the string each
    /// points to, into one record; a NULL pointer ends the list.
    fn join(&mut self, event: usize, array: &Expr) {
        let crate::artifact::EventKind::Join {
            max_args, arg_size, ..
        } = self.g.events[event].kind
        else {
            return;
        };
        let size = self.g.events[event].record_size();
        let rec = self.alloc(size);
        self.store(Base::Scratch, rec, 8, Operand::Imm(event as i64));
        self.store(Base::Scratch, rec + 8, 8, Operand::Imm(0));
        let base = self.scalar(array);
        let slot = self.alloc(8);
        let done = self.label();
        for i in 0..max_args as i32 {
            let at = self.alu(AluOp::Add, base, Operand::Imm(i64::from(i) * 8));
            let r = self.call(
                PROBE_READ_USER,
                vec![CallArg::Scratch(slot), CallArg::Imm(8), CallArg::Reg(at)],
            );
            self.emit(Inst::Branch {
                cond: Cond::Ne,
                lhs: r,
                rhs: Operand::Imm(0),
                target: done,
            });
            let p = self.load(Base::Scratch, slot, 8);
            self.branch_if_zero(p, done);
            let dst = rec + 16 + i * arg_size as i32;
            self.call(
                crate::insn::helper::PROBE_READ_USER_STR,
                vec![
                    CallArg::Scratch(dst),
                    CallArg::Imm(i64::from(arg_size)),
                    CallArg::Reg(p),
                ],
            );
            self.store(Base::Scratch, rec + 8, 8, Operand::Imm(i64::from(i + 1)));
        }
        self.place(done);
        self.send_record(rec, size);
    }

    fn local_store(&mut self, map: usize, key: &Expr, value: &Expr, free_on_zero: bool) {
        if !value.ty.is_scalar() {
            self.map_store(map, Some(key), value);
            return;
        }
        let v = self.scalar(value);
        let store = self.label();
        let done = self.label();
        let m = self.g.user_maps[map];
        if free_on_zero {
            self.emit(Inst::Branch {
                cond: Cond::Ne,
                lhs: v,
                rhs: Operand::Imm(0),
                target: store,
            });
            let k = self.map_key(map, Some(key));
            self.call(MAP_DELETE_ELEM, vec![CallArg::Map(m), CallArg::Scratch(k)]);
            self.emit(Inst::Jump { target: done });
        }
        self.place(store);
        let val = self.alloc(8);
        self.store(Base::Scratch, val, 8, Operand::Reg(v));
        let k = self.map_key(map, Some(key));
        self.update_or_count_full(m, k, val);
        self.place(done);
    }

    /// Scalar expressions added by the language work.
    pub(super) fn lang_scalar(&mut self, e: &Expr) -> VReg {
        match &e.kind {
            ExprKind::TupleField { .. } => {
                let (base, at) = self.tuple_field_location(e);
                let v = self.load(base, at, e.ty.size().clamp(1, 8));
                self.extend(v, &e.ty)
            }
            ExprKind::StrLen(s) => self.str_len(s),
            ExprKind::WithEffect {
                before,
                value,
                after,
            } => {
                self.stmts(before);
                let v = self.scalar(value);
                // A copy: the statements after may change the register the value was read from.
                let kept = self.vreg();
                self.emit(Inst::Mov {
                    dst: kept,
                    src: Operand::Reg(v),
                });
                self.stmts(after);
                kept
            }
            ExprKind::StrNcmp { lhs, rhs, n } => self.str_ncmp(lhs, rhs, *n),
            ExprKind::StrContains { haystack, needle } => self.str_contains(haystack, needle),
            _ => self.imm(0),
        }
    }

    /// Where a tuple field's bytes are.
    pub(super) fn tuple_field_location(&mut self, e: &Expr) -> (Base, Region) {
        let ExprKind::TupleField { tuple, index } = &e.kind else {
            return (Base::Scratch, self.materialize(e));
        };
        let (base, at) = self.mem_location(tuple);
        let offset = match &tuple.ty {
            Type::Tuple(fields) => Type::tuple_offsets(fields)
                .get(*index)
                .copied()
                .unwrap_or(0),
            _ => 0,
        };
        (base, at + offset as i32)
    }

    fn str_len(&mut self, s: &Expr) -> VReg {
        if let ExprKind::Str(lit) = &s.kind {
            let len = lit.iter().position(|&b| b == 0).unwrap_or(lit.len());
            let len = len.min(s.ty.size().saturating_sub(1) as usize);
            return self.imm(len as i64);
        }
        let at = self.mem_location(s);
        self.string_length(at, s.ty.size() as i32)
    }

    /// 0 when the strings agree in their first `n` bytes (or up to a common NUL), else 1.
    fn str_ncmp(&mut self, lhs: &Expr, rhs: &Expr, n: u32) -> VReg {
        let a = self.mem_location(lhs);
        let b = self.mem_location(rhs);
        let m = n.min(lhs.ty.size()).min(rhs.ty.size()) as i32;
        self.strings_differ(a, b, m)
    }

    /// 1 when `needle` occurs in `haystack`: every start position tried, unrolled.
    fn str_contains(&mut self, haystack: &Expr, needle: &Expr) -> VReg {
        let h = self.mem_location(haystack);
        let hsize = haystack.ty.size() as i32;
        let result = self.imm(0);
        let (found, done) = (self.label(), self.label());
        if let ExprKind::Str(lit) = &needle.kind {
            let lit = lit.clone();
            for p in 0..=(hsize - 1 - lit.len() as i32).max(-1) {
                let next = self.label();
                for (j, byte) in lit.iter().enumerate() {
                    let x = self.load(h.0, h.1 + p + j as i32, 1);
                    self.emit(Inst::Branch {
                        cond: Cond::Ne,
                        lhs: x,
                        rhs: Operand::Imm(i64::from(*byte)),
                        target: next,
                    });
                }
                self.emit(Inst::Jump { target: found });
                self.place(next);
            }
        } else {
            let n = self.mem_location(needle);
            let nsize = needle.ty.size() as i32;
            for p in 0..hsize {
                let next = self.label();
                for j in 0..nsize {
                    let y = self.load(n.0, n.1 + j, 1);
                    self.branch_if_zero(y, found);
                    if p + j >= hsize {
                        self.emit(Inst::Jump { target: next });
                        break;
                    }
                    let x = self.load(h.0, h.1 + p + j, 1);
                    self.emit(Inst::Branch {
                        cond: Cond::Ne,
                        lhs: x,
                        rhs: Operand::Reg(y),
                        target: next,
                    });
                }
                self.place(next);
            }
        }
        self.emit(Inst::Jump { target: done });
        self.place(found);
        self.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(1),
        });
        self.place(done);
        result
    }
}
