//! Linear-scan register allocation with spilling.
//!
//! Virtual registers go to r6–r8, which survive helper calls; when more are live at once, the one
//! whose interval ends last is spilled to an 8-byte stack slot. r0–r5 stay free as temporaries of
//! the emitter (helper arguments, operands loaded from spill slots), r9 holds the scratch pointer.
//!
//! Intervals are computed on the linear instruction order. A value live across a backward jump
//! (a loop) is live for the whole loop, so intervals that enter a loop are stretched to its end.

use crate::lir::{Function, Inst, VReg};
use std::collections::HashMap;

pub const ALLOCATABLE: [u8; 3] = [6, 7, 8];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    Reg(u8),
    /// Offset from the frame pointer (negative).
    Stack(i16),
}

pub struct Allocation {
    pub locs: Vec<Loc>,
    /// Bytes of stack used by spill slots, below `first_slot`.
    pub stack_bytes: u32,
}

#[derive(Debug, Clone, Copy)]
struct Interval {
    vreg: VReg,
    start: usize,
    end: usize,
}

/// `first_slot` is the frame offset of the first free 8-byte stack slot (e.g. -24).
pub fn allocate(f: &Function, first_slot: i16) -> Allocation {
    let mut intervals = live_intervals(f);
    intervals.sort_by_key(|i| (i.start, i.end));
    let mut locs = vec![Loc::Stack(first_slot); f.vregs as usize];
    let mut free: Vec<u8> = ALLOCATABLE.iter().rev().copied().collect();
    let mut active: Vec<Interval> = Vec::new();
    let mut slots = SpillSlots::new(first_slot);
    let mut spill = |locs: &mut Vec<Loc>, v: Interval| {
        locs[v.vreg as usize] = Loc::Stack(slots.take(v));
    };
    for iv in intervals {
        active.retain(|a| {
            let expired = a.end < iv.start;
            if expired {
                if let Loc::Reg(r) = locs[a.vreg as usize] {
                    free.push(r);
                }
            }
            !expired
        });
        if let Some(r) = free.pop() {
            locs[iv.vreg as usize] = Loc::Reg(r);
            active.push(iv);
            continue;
        }
        // Spill whichever of the active intervals and this one ends last.
        let longest = active
            .iter()
            .enumerate()
            .max_by_key(|(_, a)| a.end)
            .map(|(i, a)| (i, *a));
        let Some((victim_index, victim)) = longest else {
            spill(&mut locs, iv);
            continue;
        };
        if victim.end > iv.end {
            locs[iv.vreg as usize] = locs[victim.vreg as usize];
            spill(&mut locs, victim);
            active.remove(victim_index);
            active.push(iv);
        } else {
            spill(&mut locs, iv);
        }
    }
    let stack_bytes = slots.bytes();
    Allocation { locs, stack_bytes }
}

/// 8-byte stack slots, each reused once the interval that held it has ended: a long clause
/// spills many values over its length, but only a few at once.
struct SpillSlots {
    first: i16,
    /// Offset of each slot and the last instruction its current holder is live at.
    slots: Vec<(i16, usize)>,
}

impl SpillSlots {
    fn new(first: i16) -> SpillSlots {
        SpillSlots {
            first,
            slots: Vec::new(),
        }
    }

    /// A slot free for the whole of `iv` (a spilled victim holds its slot from its own start,
    /// so only slots released before then qualify).
    fn take(&mut self, iv: Interval) -> i16 {
        if let Some(slot) = self.slots.iter_mut().find(|(_, until)| *until < iv.start) {
            slot.1 = iv.end;
            return slot.0;
        }
        let offset = self.first - 8 * self.slots.len() as i16;
        self.slots.push((offset, iv.end));
        offset
    }

    fn bytes(&self) -> u32 {
        8 * self.slots.len() as u32
    }
}

fn live_intervals(f: &Function) -> Vec<Interval> {
    let mut map: HashMap<VReg, (usize, usize)> = HashMap::new();
    for (pos, (inst, _)) in f.insts.iter().enumerate() {
        for v in inst.uses().into_iter().chain(inst.def()) {
            let e = map.entry(v).or_insert((pos, pos));
            e.0 = e.0.min(pos);
            e.1 = e.1.max(pos);
        }
    }
    let labels: HashMap<u32, usize> = f
        .insts
        .iter()
        .enumerate()
        .filter_map(|(pos, (inst, _))| match inst {
            Inst::Label(l) => Some((*l, pos)),
            _ => None,
        })
        .collect();
    // Loops: a backward jump from `to` to `from`. Repeat until stable (nested loops).
    let loops: Vec<(usize, usize)> = f
        .insts
        .iter()
        .enumerate()
        .filter_map(|(pos, (inst, _))| {
            let target = match inst {
                Inst::Jump { target } | Inst::Branch { target, .. } => *target,
                _ => return None,
            };
            let at = *labels.get(&target)?;
            (at < pos).then_some((at, pos))
        })
        .collect();
    let mut changed = true;
    while changed {
        changed = false;
        for &(from, to) in &loops {
            for range in map.values_mut() {
                let live_into_loop = range.0 < from && range.1 >= from && range.1 < to;
                if live_into_loop {
                    range.1 = to;
                    changed = true;
                }
            }
        }
    }
    map.into_iter()
        .map(|(vreg, (start, end))| Interval { vreg, start, end })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lir::{Cond, Operand};
    use rdt_syntax::Span;

    fn func(insts: Vec<Inst>, vregs: u32) -> Function {
        Function {
            insts: insts.into_iter().map(|i| (i, Span::default())).collect(),
            vregs,
            labels: 4,
            ..Function::default()
        }
    }

    #[test]
    fn spills_when_more_than_three_values_are_live() {
        let mut insts: Vec<Inst> = (0..5)
            .map(|v| Inst::Mov {
                dst: v,
                src: Operand::Imm(1),
            })
            .collect();
        insts.extend((0..5).map(|v| Inst::Branch {
            cond: Cond::Eq,
            lhs: v,
            rhs: Operand::Imm(0),
            target: 0,
        }));
        insts.push(Inst::Label(0));
        let a = allocate(&func(insts, 5), -16);
        let regs = a.locs.iter().filter(|l| matches!(l, Loc::Reg(_))).count();
        assert_eq!(regs, 3);
        assert_eq!(a.stack_bytes, 16);
    }

    /// Ten rounds of "five values live at once": two spill slots, reused every round, not 20.
    #[test]
    fn spill_slots_are_reused_after_their_values_die() {
        let mut insts = vec![];
        for round in 0..10u32 {
            let vs: Vec<VReg> = (round * 5..round * 5 + 5).collect();
            insts.extend(vs.iter().map(|&v| Inst::Mov {
                dst: v,
                src: Operand::Imm(1),
            }));
            insts.extend(vs.iter().map(|&v| Inst::Branch {
                cond: Cond::Eq,
                lhs: v,
                rhs: Operand::Imm(0),
                target: 0,
            }));
        }
        insts.push(Inst::Label(0));
        let a = allocate(&func(insts, 50), -16);
        assert_eq!(a.stack_bytes, 16);
        // Values live at the same time never share a slot.
        for round in 0..10usize {
            let slots: Vec<Loc> = a.locs[round * 5..round * 5 + 5]
                .iter()
                .copied()
                .filter(|l| matches!(l, Loc::Stack(_)))
                .collect();
            assert_eq!(slots.len(), 2);
            assert_ne!(slots[0], slots[1]);
        }
    }

    #[test]
    fn values_live_into_a_loop_stay_live_for_the_whole_loop() {
        let insts = vec![
            Inst::Mov {
                dst: 0,
                src: Operand::Imm(7),
            },
            Inst::Label(1),
            Inst::Branch {
                cond: Cond::Eq,
                lhs: 0,
                rhs: Operand::Imm(0),
                target: 2,
            },
            Inst::Mov {
                dst: 1,
                src: Operand::Imm(1),
            },
            Inst::Mov {
                dst: 2,
                src: Operand::Imm(1),
            },
            Inst::Mov {
                dst: 3,
                src: Operand::Imm(1),
            },
            Inst::Jump { target: 1 },
            Inst::Label(2),
        ];
        let a = allocate(&func(insts, 4), -16);
        let v0 = a.locs[0];
        for v in 1..4 {
            assert_ne!(a.locs[v], v0, "v{v} shares v0's location inside the loop");
        }
    }
}
