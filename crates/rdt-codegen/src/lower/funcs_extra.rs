//! Lowering of the values that user space turns into text (`username`, `cwd`, `ntop()`,
//! `cgroup_path()`, `buf()`): the kernel only stores the raw bytes laid out as
//! [`TextKind`] says; naming, path lookup and escaping happen when the value is printed.

use super::{Lowerer, Region};
use crate::artifact::Counter;
use crate::insn::helper;
use crate::lir::{Base, CallArg, Cond, Inst, Operand, VReg};
use rdt_sema::ir::{Builtin, Expr, ExprKind};
use rdt_sema::types::TextKind;
use rdt_sema::Type;

const HEADER: i32 = TextKind::HEADER as i32;

impl Lowerer<'_> {
    /// Writes the text value `e` at `region`, laid out as `kind`.
    pub(super) fn text_into(&mut self, e: &Expr, region: Region, kind: TextKind) {
        let ExprKind::Text { args } = &e.kind else {
            // A value stored earlier (a variable, a map value): copy its bytes.
            let src = self.mem_location(e);
            self.copy((Base::Scratch, region), src, kind.size().min(e.ty.size()));
            return;
        };
        match kind {
            TextKind::Username => self.header(region, |l| l.builtin(Builtin::Uid)),
            TextKind::Cwd => self.header(region, |l| l.builtin(Builtin::Pid)),
            TextKind::CgroupPath | TextKind::Strerror => {
                self.header(region, |l| l.scalar(&args[0]))
            }
            TextKind::Ntop => {
                self.header(region, |l| l.scalar(&args[0]));
                self.zero(region + HEADER, TextKind::NTOP_ADDR);
                self.bytes_into(&args[1], region + HEADER, TextKind::NTOP_ADDR);
            }
            TextKind::Macaddr => {
                self.zero(region, kind.size());
                self.bytes_into(&args[0], region + HEADER, TextKind::MAC_ADDR);
            }
            TextKind::Buf { size } => {
                let n = self.clamped_length(&args[1], size);
                self.store(Base::Scratch, region, 8, Operand::Reg(n));
                self.zero(region + HEADER, kind.size() - TextKind::HEADER);
                match &args[0].ty {
                    // An integer address outside a user-space probe: kernel memory.
                    Type::Int { .. } => self.read_n_bytes(&args[0], false, region + HEADER, n),
                    Type::Ptr { user, .. } => {
                        let user = *user;
                        self.read_n_bytes(&args[0], user, region + HEADER, n);
                    }
                    // An array: all of it; the header says how much prints.
                    _ => self.bytes_into(&args[0], region + HEADER, size),
                }
            }
        }
    }

    /// `len` limited to `max` by an unsigned comparison the verifier follows (a negative length
    /// is a huge unsigned one, so it reads `max` bytes).
    fn clamped_length(&mut self, len: &Expr, max: u32) -> VReg {
        // A copy: the length may be a variable's own register.
        let value = self.scalar(len);
        let n = self.vreg();
        self.emit(Inst::Mov {
            dst: n,
            src: Operand::Reg(value),
        });
        self.clamp_at_most(n, max);
        n
    }

    /// Reads `n` (at most the buffer's size) bytes at `addr`; a failed read is counted.
    fn read_n_bytes(&mut self, addr: &Expr, user: bool, region: Region, n: VReg) {
        let a = self.scalar(addr);
        let read = if user {
            helper::PROBE_READ_USER
        } else {
            helper::PROBE_READ_KERNEL
        };
        let r = self.call(
            read,
            vec![CallArg::Scratch(region), CallArg::Reg(n), CallArg::Reg(a)],
        );
        self.count_unless(r, Cond::Sge, Counter::ReadFaults);
    }

    /// Stores the u64 every text layout starts with.
    fn header(&mut self, region: Region, value: impl FnOnce(&mut Self) -> VReg) {
        let v = value(self);
        self.store(Base::Scratch, region, 8, Operand::Reg(v));
    }

    /// Copies up to `max` bytes of `data`: an integer's own 4 bytes (an IPv4 address), the
    /// memory a pointer points to, or an array's bytes.
    fn bytes_into(&mut self, data: &Expr, region: Region, max: u32) {
        match &data.ty {
            Type::Int { .. } => {
                let v = self.scalar(data);
                self.store(Base::Scratch, region, 4, Operand::Reg(v));
            }
            Type::Ptr { user, .. } => {
                let user = *user;
                self.read_bytes_at(data, user, region, max);
            }
            // A `char[N]` member is typed as a string, but its bytes matter past any NUL.
            ty if matches!(data.kind, ExprKind::Deref { .. }) => {
                let ExprKind::Deref { addr, user } = &data.kind else {
                    return;
                };
                self.read_bytes_at(addr, *user, region, ty.size().min(max));
            }
            ty => {
                let len = ty.size().min(max);
                let src = self.mem_location(data);
                self.copy((Base::Scratch, region), src, len);
            }
        }
    }
}
