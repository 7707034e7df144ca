//! Lowering of the values that user space turns into text (`username`, `cwd`, `ntop()`,
//! `cgroup_path()`, `buf()`): the kernel only stores the raw bytes laid out as
//! [`TextKind`] says; naming, path lookup and escaping happen when the value is printed.

use super::{Lowerer, Region};
use crate::lir::{Base, Operand};
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
            TextKind::CgroupPath => self.header(region, |l| l.scalar(&args[0])),
            TextKind::Ntop => {
                self.header(region, |l| l.scalar(&args[0]));
                self.zero(region + HEADER, TextKind::NTOP_ADDR);
                self.bytes_into(&args[1], region + HEADER, TextKind::NTOP_ADDR);
            }
            TextKind::Buf { size } => {
                self.header(region, |l| l.scalar(&args[1]));
                self.zero(region + HEADER, kind.size() - TextKind::HEADER);
                if args[0].ty.is_int() {
                    // An integer address outside a user-space probe: kernel memory.
                    self.read_bytes_at(&args[0], false, region + HEADER, size);
                } else {
                    self.bytes_into(&args[0], region + HEADER, size);
                }
            }
        }
    }

    /// Stores the u64 every text layout starts with.
    fn header(&mut self, region: Region, value: impl FnOnce(&mut Self) -> crate::lir::VReg) {
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
