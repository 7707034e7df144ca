//! x86-64 `struct pt_regs`: where the registers a kprobe or uprobe program sees are saved in its
//! context. The one table of these offsets; USDT operands, `argN`, `retval` and stack arguments
//! all read through it.

/// (64-bit register name, byte offset in `struct pt_regs`).
pub const REGISTERS: &[(&str, u32)] = &[
    ("r15", R15),
    ("r14", R14),
    ("r13", R13),
    ("r12", R12),
    ("rbp", RBP),
    ("rbx", RBX),
    ("r11", R11),
    ("r10", R10),
    ("r9", R9),
    ("r8", R8),
    ("rax", RAX),
    ("rcx", RCX),
    ("rdx", RDX),
    ("rsi", RSI),
    ("rdi", RDI),
    ("rip", RIP),
    ("rsp", RSP),
];

pub const R15: u32 = 0;
pub const R14: u32 = 8;
pub const R13: u32 = 16;
pub const R12: u32 = 24;
pub const RBP: u32 = 32;
pub const RBX: u32 = 40;
pub const R11: u32 = 48;
pub const R10: u32 = 56;
pub const R9: u32 = 64;
pub const R8: u32 = 72;
pub const RAX: u32 = 80;
pub const RCX: u32 = 88;
pub const RDX: u32 = 96;
pub const RSI: u32 = 104;
pub const RDI: u32 = 112;
/// `orig_ax` (120) sits between `di` and `ip`.
pub const RIP: u32 = 128;
/// `cs` (136) and `flags` (144) sit between `ip` and `sp`.
pub const RSP: u32 = 152;

/// The System V calling convention's six integer argument registers, in order.
pub const ARGUMENTS: [u32; 6] = [RDI, RSI, RDX, RCX, R8, R9];

/// The integer return value register.
pub const RETURN_VALUE: u32 = RAX;

/// The offset of a register as bpftrace's `reg()` names it (`ip`, `sp`, `ax`, `r8`, `flags`),
/// or as rdt's table does (`rip`, `rax`).
pub fn reg_offset(name: &str) -> Option<u32> {
    match name {
        "orig_ax" => Some(120),
        "cs" => Some(136),
        "flags" => Some(144),
        "ss" => Some(160),
        _ => offset(name).or_else(|| offset(&format!("r{name}"))),
    }
}

/// The offset of a 64-bit register by name (`rax`, `r8`, `rip`).
pub fn offset(name: &str) -> Option<u32> {
    REGISTERS.iter().find(|(n, _)| *n == name).map(|&(_, o)| o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_the_kernel_layout() {
        // Every slot is 8 bytes; orig_ax, cs and flags are the gaps.
        let mut offsets: Vec<u32> = REGISTERS.iter().map(|&(_, o)| o).collect();
        offsets.sort();
        offsets.dedup();
        assert_eq!(offsets.len(), REGISTERS.len());
        assert_eq!(offset("rdi"), Some(112));
        assert_eq!(offset("rsp"), Some(152));
        assert_eq!(offset("eax"), None);
    }

    #[test]
    fn bpftrace_register_names() {
        assert_eq!(reg_offset("ip"), Some(RIP));
        assert_eq!(reg_offset("sp"), Some(RSP));
        assert_eq!(reg_offset("di"), Some(RDI));
        assert_eq!(reg_offset("r8"), Some(R8));
        assert_eq!(reg_offset("rax"), Some(RAX));
        assert_eq!(reg_offset("orig_ax"), Some(120));
        assert_eq!(reg_offset("zz"), None);
    }
}
