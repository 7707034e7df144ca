//! Reading kernel and user memory for typed expressions (`curtask->pid`, `args.addr->sa_family`):
//! every read goes through `bpf_probe_read_{kernel,user}[_str]` and a failed read bumps the
//! ReadFaults counter (the destination is then zero, as the helpers leave it).

use super::{Lowerer, Region};
use crate::artifact::Counter;
use crate::insn::helper;
use crate::lir::{Base, CallArg, Cond, Operand, VReg};
use rdt_sema::ir::{Expr, ExprKind};
use rdt_sema::ktypes::KernelType;
use rdt_sema::Type;

impl Lowerer<'_> {
    /// The integer or pointer of type `ty` at `addr`.
    pub(super) fn read_scalar_at(&mut self, addr: &Expr, user: bool, ty: &Type) -> VReg {
        let size = ty.size().clamp(1, 8);
        let tmp = self.alloc(8);
        self.probe_read(user, false, tmp, size, addr);
        let v = self.load(Base::Scratch, tmp, size);
        self.extend(v, ty)
    }

    /// A `char[N]` member as a string: at most `size - 1` bytes up to its NUL, zero-padded.
    pub(super) fn read_str_at(&mut self, addr: &Expr, user: bool, region: Region, size: u32) {
        self.zero(region, size);
        self.probe_read(user, true, region, size, addr);
    }

    /// The raw bytes of a struct or array at `addr`.
    pub(super) fn read_bytes_at(&mut self, addr: &Expr, user: bool, region: Region, size: u32) {
        self.probe_read(user, false, region, size, addr);
    }

    /// `size` bytes (up to a NUL when `str`) from user or kernel `addr` into `dst`; a failed
    /// read is counted.
    fn probe_read(&mut self, user: bool, str: bool, dst: Region, size: u32, addr: &Expr) {
        let a = self.scalar(addr);
        let read = match (user, str) {
            (true, false) => helper::PROBE_READ_USER,
            (true, true) => helper::PROBE_READ_USER_STR,
            (false, false) => helper::PROBE_READ_KERNEL,
            (false, true) => helper::PROBE_READ_KERNEL_STR,
        };
        let r = self.call(
            read,
            vec![
                CallArg::Scratch(dst),
                CallArg::Imm(i64::from(size)),
                CallArg::Reg(a),
            ],
        );
        self.count_unless(r, Cond::Sge, Counter::ReadFaults);
    }

    /// A whole struct or array (`print(*p)`): its bytes, or zeros when it is not in memory. An
    /// enum printed by name is an integer in the record.
    pub(super) fn kernel_value_into(&mut self, e: &Expr, region: Region, ty: &Type) {
        if let Type::Kernel(KernelType::Enum { .. }) = ty {
            let v = self.scalar(e);
            self.store(Base::Scratch, region, 8, Operand::Reg(v));
            return;
        }
        match &e.kind {
            ExprKind::Deref { addr, user } => self.read_bytes_at(addr, *user, region, ty.size()),
            // An array field of a tracepoint's record.
            ExprKind::CtxField { offset } => self.copy_from_ctx(region, *offset, ty.size()),
            // An array held in a variable or a map.
            ExprKind::Var(_) | ExprKind::MapRead { .. }
                if matches!(ty, Type::Kernel(KernelType::Array { .. })) =>
            {
                let src = self.materialize(e);
                self.copy((Base::Scratch, region), (Base::Scratch, src), ty.size());
            }
            // An element of such an array (or a member of one) that is an array or a struct.
            ExprKind::ArrayElem { .. } | ExprKind::HeldField { .. } => {
                let src = self.array_elem_location(e);
                self.copy((Base::Scratch, region), src, ty.size());
            }
            _ => self.zero(region, ty.size()),
        }
    }
}
