//! `func` in kprobes: the traced function's address from `bpf_get_func_ip`, printed as its
//! symbol in user space. Reading it at run time lets one program serve every function a
//! wildcard matches (`kprobe:vfs_* { @[func] = count(); }`) instead of one program each.

use super::Lowerer;
use crate::lir::{CallArg, VReg};

/// `bpf_get_func_ip(ctx)`: kprobes since 5.15 (the function's entry address, 0 inside it).
const GET_FUNC_IP: i32 = 173;

impl Lowerer<'_> {
    pub(super) fn func_ip(&mut self) -> VReg {
        self.call(GET_FUNC_IP, vec![CallArg::Ctx])
    }
}
