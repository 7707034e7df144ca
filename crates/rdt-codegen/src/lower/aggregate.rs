//! Aggregations in the kernel: each CPU updates its own slot of a per-CPU hash map in place (no
//! atomics, no shared read-modify-write); user space merges the slots when it reads the map.
//!
//! Slot layouts, in u64 words: count `[n]`, sum `[total]`, avg and stats `[n, total]`, stddev
//! `[n, total, sum of squares]`, min and max `[value, seen]`, histograms one count per bucket
//! (see `rdt_sema::buckets` for the bucket rules this code follows).

use super::{Lowerer, Region};
use crate::artifact::Counter;
use crate::insn::helper;
use crate::lir::{AluOp, Base, CallArg, Cond, Inst, Label, Operand, VReg};
use rdt_sema::buckets;
use rdt_sema::ir::{Aggregate, Buckets, Expr, MapValue};

/// `BPF_NOEXIST`: insert only if the key is absent (another CPU may have inserted it).
const NOEXIST: i64 = 1;

impl Lowerer<'_> {
    pub(super) fn map_aggregate(&mut self, map: usize, key: Option<&Expr>, op: &Aggregate) {
        let value = match op {
            Aggregate::Count => None,
            Aggregate::Sum(e)
            | Aggregate::Avg(e)
            | Aggregate::Min(e)
            | Aggregate::Max(e)
            | Aggregate::Stats(e)
            | Aggregate::Stddev(e)
            | Aggregate::Hist(e, _) => Some(self.scalar(e)),
        };
        let bucket = match (op, value) {
            (Aggregate::Hist(_, b), Some(v)) => Some(self.bucket_index(v, b)),
            _ => None,
        };
        let key = self.map_key(map, key);
        let done = self.label();
        let slot = self.lookup_or_insert(map, key, done);
        let v = value.map_or(Operand::Imm(1), Operand::Reg);
        match op {
            Aggregate::Count | Aggregate::Sum(_) => self.add_to_word(slot, 0, v),
            Aggregate::Avg(_) | Aggregate::Stats(_) => {
                self.add_to_word(slot, 0, Operand::Imm(1));
                self.add_to_word(slot, 8, v);
            }
            Aggregate::Stddev(_) => {
                self.add_to_word(slot, 0, Operand::Imm(1));
                self.add_to_word(slot, 8, v);
                if let Some(x) = value {
                    let square = self.alu(AluOp::Mul, x, Operand::Reg(x));
                    self.add_to_word(slot, 16, Operand::Reg(square));
                }
            }
            Aggregate::Min(_) | Aggregate::Max(_) => {
                let keep_old = if matches!(op, Aggregate::Min(_)) {
                    Cond::Sge
                } else {
                    Cond::Sle
                };
                if let Some(x) = value {
                    self.replace_if(slot, x, keep_old);
                }
            }
            Aggregate::Hist(..) => {
                if let Some(index) = bucket {
                    let offset = self.alu(AluOp::Lsh, index, Operand::Imm(3));
                    let at = self.alu(AluOp::Add, slot, Operand::Reg(offset));
                    self.add_to_word(at, 0, Operand::Imm(1));
                }
            }
        }
        self.place(done);
    }

    /// Reads min, max or avg in the kernel: every CPU's slot merged as user space would.
    pub(super) fn read_aggregate(&mut self, map: usize, key: Option<&Expr>) -> VReg {
        let kind = self.map_decl(map).value.clone();
        let key = self.map_key(map, key);
        let m = self.g.user_maps[map];
        // min/max: `result` with `seen` set once a CPU had a value; avg: `result` sums totals
        // and `seen` sums counts.
        let result = self.imm(0);
        let seen = self.imm(0);
        let cpu = self.imm(0);
        let top = self.label();
        let next = self.label();
        self.place(top);
        let slot = self.call(
            helper::MAP_LOOKUP_PERCPU_ELEM,
            vec![CallArg::Map(m), CallArg::Scratch(key), CallArg::Reg(cpu)],
        );
        self.branch_if_zero(slot, next);
        let first = self.load(Base::Reg(slot), 0, 8);
        let second = self.load(Base::Reg(slot), 8, 8);
        if kind == MapValue::Avg {
            let n = self.alu(AluOp::Add, seen, Operand::Reg(first));
            self.set(seen, n);
            let t = self.alu(AluOp::Add, result, Operand::Reg(second));
            self.set(result, t);
        } else {
            // Skip CPUs without a value; take the first one seen, then the extreme.
            self.branch_if_zero(second, next);
            let take = self.label();
            self.branch_if_zero(seen, take);
            let keep_old = if kind == MapValue::Min {
                Cond::Sge
            } else {
                Cond::Sle
            };
            self.emit(Inst::Branch {
                cond: keep_old,
                lhs: first,
                rhs: Operand::Reg(result),
                target: next,
            });
            self.place(take);
            self.set(result, first);
            self.emit(Inst::Mov {
                dst: seen,
                src: Operand::Imm(1),
            });
        }
        self.place(next);
        let c = self.alu(AluOp::Add, cpu, Operand::Imm(1));
        self.set(cpu, c);
        self.emit(Inst::Branch {
            cond: Cond::Lt,
            lhs: cpu,
            rhs: Operand::Imm(i64::from(self.g.ncpus)),
            target: top,
        });
        if kind == MapValue::Avg {
            return self.signed_average(result, seen);
        }
        result
    }

    /// `total / count` truncated toward zero (BPF's division is unsigned); 0 when count is 0.
    fn signed_average(&mut self, total: VReg, count: VReg) -> VReg {
        let avg = self.imm(0);
        let done = self.label();
        self.branch_if_zero(count, done);
        let negative = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Slt,
            lhs: total,
            rhs: Operand::Imm(0),
            target: negative,
        });
        let q = self.alu(AluOp::Div, total, Operand::Reg(count));
        self.set(avg, q);
        self.emit(Inst::Jump { target: done });
        self.place(negative);
        let magnitude = self.vreg();
        self.emit(Inst::Neg {
            dst: magnitude,
            src: total,
        });
        let q = self.alu(AluOp::Div, magnitude, Operand::Reg(count));
        let neg = self.vreg();
        self.emit(Inst::Neg { dst: neg, src: q });
        self.set(avg, neg);
        self.place(done);
        avg
    }

    pub(super) fn map_delete(&mut self, map: usize, key: Option<&Expr>) {
        let key = self.map_key(map, key);
        let m = self.g.user_maps[map];
        let deleted = self.call(
            helper::MAP_DELETE_ELEM,
            vec![CallArg::Map(m), CallArg::Scratch(key)],
        );
        self.count_entry_if_ok(map, deleted, -1);
    }

    /// This CPU's slot for `key`, inserting a zeroed value first when the key is new. A full
    /// map is counted and jumps to `full`.
    fn lookup_or_insert(&mut self, map: usize, key: Region, full: Label) -> VReg {
        let m = self.g.user_maps[map];
        if self.map_decl(map).is_single_slot() {
            // A one-slot per-CPU array: the slot always exists.
            let slot = self.call(
                helper::MAP_LOOKUP_ELEM,
                vec![CallArg::Map(m), CallArg::Scratch(key)],
            );
            self.branch_if_zero(slot, full);
            return slot;
        }
        let slot = self.vreg();
        let have = self.label();
        let failed = self.label();
        let lookup = |me: &mut Self| {
            me.emit(Inst::Call {
                helper: helper::MAP_LOOKUP_ELEM,
                args: vec![CallArg::Map(m), CallArg::Scratch(key)],
                ret: Some(slot),
            });
            me.emit(Inst::Branch {
                cond: Cond::Ne,
                lhs: slot,
                rhs: Operand::Imm(0),
                target: have,
            });
        };
        lookup(self);
        let zero = self.zero_value(failed);
        let inserted = self.call(
            helper::MAP_UPDATE_ELEM,
            vec![
                CallArg::Map(m),
                CallArg::Scratch(key),
                CallArg::Reg(zero),
                CallArg::Imm(NOEXIST),
            ],
        );
        self.count_entry_if_ok(map, inserted, 1);
        lookup(self);
        self.place(failed);
        self.bump_counter(Counter::MapFull);
        self.emit(Inst::Jump { target: full });
        self.place(have);
        slot
    }

    /// A pointer to zeroed memory as large as any aggregation value.
    fn zero_value(&mut self, failed: Label) -> VReg {
        let Some(zeroes) = self.g.zeroes else {
            // Codegen creates the map whenever a script has an aggregation.
            self.emit(Inst::Jump { target: failed });
            return self.imm(0);
        };
        let index = self.alloc(4);
        self.store(Base::Scratch, index, 4, Operand::Imm(0));
        let p = self.call(
            helper::MAP_LOOKUP_ELEM,
            vec![CallArg::Map(zeroes), CallArg::Scratch(index)],
        );
        self.branch_if_zero(p, failed);
        p
    }

    fn add_to_word(&mut self, slot: VReg, offset: i32, amount: Operand) {
        let old = self.load(Base::Reg(slot), offset, 8);
        let new = self.alu(AluOp::Add, old, amount);
        self.store(Base::Reg(slot), offset, 8, Operand::Reg(new));
    }

    /// min/max: stores `x` unless the slot has a value and `x keep_old value` holds.
    fn replace_if(&mut self, slot: VReg, x: VReg, keep_old: Cond) {
        let replace = self.label();
        let skip = self.label();
        let seen = self.load(Base::Reg(slot), 8, 8);
        self.branch_if_zero(seen, replace);
        let old = self.load(Base::Reg(slot), 0, 8);
        self.emit(Inst::Branch {
            cond: keep_old,
            lhs: x,
            rhs: Operand::Reg(old),
            target: skip,
        });
        self.place(replace);
        self.store(Base::Reg(slot), 0, 8, Operand::Reg(x));
        self.store(Base::Reg(slot), 8, 8, Operand::Imm(1));
        self.place(skip);
    }

    /// The bucket of `v`, bounded by the bucket count so the verifier accepts the access.
    fn bucket_index(&mut self, v: VReg, b: &Buckets) -> VReg {
        let index = self.imm(0);
        let end = self.label();
        match *b {
            Buckets::Log2 { bits } => self.log2_bucket(v, bits, index, end),
            Buckets::Linear { min, max, step } => {
                self.branch_set(Cond::Slt, v, min, index, 0, end);
                let n = (max - min) / step;
                self.branch_set(Cond::Sge, v, max, index, n + 1, end);
                let from_min = self.alu(AluOp::Sub, v, Operand::Imm(min));
                let q = self.alu(AluOp::Div, from_min, Operand::Imm(step));
                let i = self.alu(AluOp::Add, q, Operand::Imm(1));
                self.set(index, i);
            }
            Buckets::LogLinear { .. } => {
                let mags = buckets::magnitudes(b);
                let first = mags.first().map_or(0, |m| m.start) as i64;
                self.branch_set(Cond::Slt, v, first, index, 0, end);
                let mut base = 1i64;
                for m in &mags {
                    let next = self.label();
                    self.emit(Inst::Branch {
                        cond: Cond::Ge,
                        lhs: v,
                        rhs: Operand::Imm(m.end as i64),
                        target: next,
                    });
                    let from = self.alu(AluOp::Sub, v, Operand::Imm(m.start as i64));
                    let q = self.alu(AluOp::Div, from, Operand::Imm(m.width as i64));
                    let i = self.alu(AluOp::Add, q, Operand::Imm(base));
                    self.set(index, i);
                    self.emit(Inst::Jump { target: end });
                    self.place(next);
                    base += m.buckets as i64;
                }
                self.emit(Inst::Mov {
                    dst: index,
                    src: Operand::Imm(base),
                });
            }
        }
        self.place(end);
        let last = buckets::count(b) as i64 - 1;
        let ok = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Le,
            lhs: index,
            rhs: Operand::Imm(last),
            target: ok,
        });
        self.emit(Inst::Mov {
            dst: index,
            src: Operand::Imm(last),
        });
        self.place(ok);
        index
    }

    /// Power-of-two buckets, each split in `2^bits`: negative values in bucket 0, values below
    /// `2^(bits+1)` one per bucket, then `p = log2(v)` found by binary search.
    fn log2_bucket(&mut self, v: VReg, bits: u8, index: VReg, end: Label) {
        let bits = i64::from(bits);
        self.branch_set(Cond::Slt, v, 0, index, 0, end);
        let exact = 2i64 << bits;
        let large = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Ge,
            lhs: v,
            rhs: Operand::Imm(exact),
            target: large,
        });
        let i = self.alu(AluOp::Add, v, Operand::Imm(1));
        self.set(index, i);
        self.emit(Inst::Jump { target: end });
        self.place(large);
        let rest = self.vreg();
        self.set(rest, v);
        let power = self.imm(0);
        for shift in [32, 16, 8, 4, 2, 1] {
            let skip = self.label();
            let high = self.alu(AluOp::Rsh, rest, Operand::Imm(shift));
            self.branch_if_zero(high, skip);
            self.set(rest, high);
            let p = self.alu(AluOp::Add, power, Operand::Imm(shift));
            self.set(power, p);
            self.place(skip);
        }
        // index = 1 + 2^(bits+1) + (power - bits - 1) * 2^bits + sub-bucket
        let drop = self.alu(AluOp::Sub, power, Operand::Imm(bits));
        let shifted = self.alu(AluOp::Rsh, v, Operand::Reg(drop));
        let sub = self.alu(AluOp::And, shifted, Operand::Imm((1 << bits) - 1));
        let group = self.alu(AluOp::Lsh, power, Operand::Imm(bits));
        let i = self.alu(AluOp::Add, group, Operand::Reg(sub));
        let i = self.alu(
            AluOp::Add,
            i,
            Operand::Imm(1 + exact - (bits + 1) * (1 << bits)),
        );
        self.set(index, i);
    }

    /// `if v cond imm { index = value; goto end }`.
    fn branch_set(&mut self, cond: Cond, v: VReg, imm: i64, index: VReg, value: i64, end: Label) {
        let skip = self.label();
        self.emit(Inst::Branch {
            cond: invert(cond),
            lhs: v,
            rhs: Operand::Imm(imm),
            target: skip,
        });
        self.emit(Inst::Mov {
            dst: index,
            src: Operand::Imm(value),
        });
        self.emit(Inst::Jump { target: end });
        self.place(skip);
    }

    fn set(&mut self, dst: VReg, src: VReg) {
        self.emit(Inst::Mov {
            dst,
            src: Operand::Reg(src),
        });
    }
}

fn invert(cond: Cond) -> Cond {
    match cond {
        Cond::Eq => Cond::Ne,
        Cond::Ne => Cond::Eq,
        Cond::Gt => Cond::Le,
        Cond::Ge => Cond::Lt,
        Cond::Lt => Cond::Ge,
        Cond::Le => Cond::Gt,
        Cond::Sgt => Cond::Sle,
        Cond::Sge => Cond::Slt,
        Cond::Slt => Cond::Sge,
        Cond::Sle => Cond::Sgt,
    }
}
