//! `len(@m)`: maps given to `len()` count their entries in a per-CPU array slot. An insert that
//! succeeds adds 1 on the inserting CPU, a delete that succeeds subtracts 1 on the deleting
//! CPU; `len()` sums the slots. User space resets the count after it clears or truncates the map.

use super::{Lowerer, Region};
use crate::insn::helper;
use crate::lir::{Base, CallArg, Cond, Inst, Label, Operand, VReg};

/// `BPF_NOEXIST`: insert only if the key is absent.
const NOEXIST: i64 = 1;

impl Lowerer<'_> {
    fn is_counted(&self, map: usize) -> bool {
        self.g.lens.is_some() && self.g.program.counted_maps.contains(&map)
    }

    /// For a counted map, first tries to insert `value` under a new `key`; a success is counted
    /// and jumps to the returned label (placed by the caller after its own update). `None` for
    /// maps that are not counted.
    pub(super) fn insert_counting(
        &mut self,
        map: usize,
        key: Region,
        value: Region,
    ) -> Option<Label> {
        if !self.is_counted(map) {
            return None;
        }
        let done = self.label();
        let m = self.g.user_maps[map];
        let r = self.call(
            helper::MAP_UPDATE_ELEM,
            vec![
                CallArg::Map(m),
                CallArg::Scratch(key),
                CallArg::Scratch(value),
                CallArg::Imm(NOEXIST),
            ],
        );
        let existing = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Ne,
            lhs: r,
            rhs: Operand::Imm(0),
            target: existing,
        });
        self.add_to_len(map, 1);
        self.emit(Inst::Jump { target: done });
        self.place(existing);
        Some(done)
    }

    /// Adds `delta` to the map's entry count when the helper result `r` is 0 (success).
    pub(super) fn count_entry_if_ok(&mut self, map: usize, r: VReg, delta: i64) {
        if !self.is_counted(map) {
            return;
        }
        let skip = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Ne,
            lhs: r,
            rhs: Operand::Imm(0),
            target: skip,
        });
        self.add_to_len(map, delta);
        self.place(skip);
    }

    fn add_to_len(&mut self, map: usize, delta: i64) {
        if let Some(lens) = self.g.lens {
            self.add_to_array_slot(lens, map as i64, delta);
        }
    }

    /// `len(@m)`: the sum of every CPU's count.
    pub(super) fn map_len(&mut self, map: usize) -> VReg {
        let Some(lens) = self.g.lens else {
            return self.imm(0);
        };
        let index = self.alloc(4);
        self.store(Base::Scratch, index, 4, Operand::Imm(map as i64));
        self.sum_slots(lens, index)
    }
}
