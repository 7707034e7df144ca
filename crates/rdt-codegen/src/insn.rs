//! BPF instruction encoding (the kernel's `struct bpf_insn`) and the helper numbers rdt calls.

/// One 8-byte BPF instruction. `ld_imm64` takes two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0] = self.code;
        b[1] = (self.src << 4) | (self.dst & 0x0f);
        b[2..4].copy_from_slice(&self.off.to_le_bytes());
        b[4..8].copy_from_slice(&self.imm.to_le_bytes());
        b
    }
}

// Instruction classes.
pub const LD: u8 = 0x00;
pub const LDX: u8 = 0x01;
pub const ST: u8 = 0x02;
pub const STX: u8 = 0x03;
pub const JMP: u8 = 0x05;
pub const ALU64: u8 = 0x07;

// Sizes.
pub const W: u8 = 0x00;
pub const H: u8 = 0x08;
pub const B: u8 = 0x10;
pub const DW: u8 = 0x18;

// Modes.
pub const IMM: u8 = 0x00;
pub const MEM: u8 = 0x60;

// Sources.
pub const K: u8 = 0x00;
pub const X: u8 = 0x08;

// ALU operations.
pub const ADD: u8 = 0x00;
pub const SUB: u8 = 0x10;
pub const MUL: u8 = 0x20;
pub const DIV: u8 = 0x30;
pub const OR: u8 = 0x40;
pub const AND: u8 = 0x50;
pub const LSH: u8 = 0x60;
pub const RSH: u8 = 0x70;
pub const NEG: u8 = 0x80;
pub const MOD: u8 = 0x90;
pub const XOR: u8 = 0xa0;
pub const MOV: u8 = 0xb0;
pub const ARSH: u8 = 0xc0;

// Jumps.
pub const JA: u8 = 0x00;
pub const JEQ: u8 = 0x10;
pub const JGT: u8 = 0x20;
pub const JGE: u8 = 0x30;
pub const JSET: u8 = 0x40;
pub const JNE: u8 = 0x50;
pub const JSGT: u8 = 0x60;
pub const JSGE: u8 = 0x70;
pub const CALL: u8 = 0x80;
pub const EXIT: u8 = 0x90;
pub const JLT: u8 = 0xa0;
pub const JLE: u8 = 0xb0;
pub const JSLT: u8 = 0xc0;
pub const JSLE: u8 = 0xd0;

/// `src` of an `ld_imm64` whose immediate is a map fd (patched by the loader).
pub const PSEUDO_MAP_FD: u8 = 1;

pub const R0: u8 = 0;
pub const R1: u8 = 1;
pub const R2: u8 = 2;
pub const R3: u8 = 3;
pub const R4: u8 = 4;
pub const R5: u8 = 5;
pub const R6: u8 = 6;
pub const R7: u8 = 7;
pub const R8: u8 = 8;
pub const R9: u8 = 9;
pub const FP: u8 = 10;

/// `enum bpf_map_type` values rdt creates (codegen) and reads (runtime).
pub mod map_type {
    pub const HASH: u32 = 1;
    pub const ARRAY: u32 = 2;
    pub const PERCPU_HASH: u32 = 5;
    pub const PERCPU_ARRAY: u32 = 6;
    pub const RINGBUF: u32 = 27;
}

/// Kernel helper function numbers (`enum bpf_func_id`).
pub mod helper {
    pub const MAP_LOOKUP_ELEM: i32 = 1;
    pub const MAP_UPDATE_ELEM: i32 = 2;
    pub const MAP_DELETE_ELEM: i32 = 3;
    pub const PROBE_READ_STR: i32 = 45;
    pub const KTIME_GET_NS: i32 = 5;
    pub const GET_SMP_PROCESSOR_ID: i32 = 8;
    pub const GET_NUMA_NODE_ID: i32 = 42;
    pub const GET_CURRENT_PID_TGID: i32 = 14;
    pub const GET_CURRENT_UID_GID: i32 = 15;
    pub const GET_CURRENT_COMM: i32 = 16;
    pub const GET_CURRENT_TASK: i32 = 35;
    pub const PROBE_READ_USER: i32 = 112;
    pub const PROBE_READ_USER_STR: i32 = 114;
    pub const PROBE_READ_KERNEL: i32 = 113;
    pub const PROBE_READ_KERNEL_STR: i32 = 115;
    pub const RINGBUF_OUTPUT: i32 = 130;
    pub const MAP_LOOKUP_PERCPU_ELEM: i32 = 195;
    pub const GET_STACK: i32 = 67;
    pub const GET_PRANDOM_U32: i32 = 7;
    pub const GET_CURRENT_CGROUP_ID: i32 = 80;
    pub const SEND_SIGNAL: i32 = 109;
    pub const JIFFIES64: i32 = 118;
    pub const FOR_EACH_MAP_ELEM: i32 = 164;
    pub const LOOP: i32 = 181;

    pub fn name(id: i32) -> &'static str {
        match id {
            MAP_LOOKUP_ELEM => "map_lookup_elem",
            MAP_UPDATE_ELEM => "map_update_elem",
            MAP_DELETE_ELEM => "map_delete_elem",
            PROBE_READ_STR => "probe_read_str",
            KTIME_GET_NS => "ktime_get_ns",
            GET_SMP_PROCESSOR_ID => "get_smp_processor_id",
            GET_NUMA_NODE_ID => "get_numa_node_id",
            GET_CURRENT_PID_TGID => "get_current_pid_tgid",
            GET_CURRENT_UID_GID => "get_current_uid_gid",
            GET_CURRENT_COMM => "get_current_comm",
            GET_CURRENT_TASK => "get_current_task",
            PROBE_READ_USER => "probe_read_user",
            PROBE_READ_USER_STR => "probe_read_user_str",
            PROBE_READ_KERNEL => "probe_read_kernel",
            PROBE_READ_KERNEL_STR => "probe_read_kernel_str",
            RINGBUF_OUTPUT => "ringbuf_output",
            MAP_LOOKUP_PERCPU_ELEM => "map_lookup_percpu_elem",
            GET_STACK => "get_stack",
            GET_PRANDOM_U32 => "get_prandom_u32",
            GET_CURRENT_CGROUP_ID => "get_current_cgroup_id",
            SEND_SIGNAL => "send_signal",
            JIFFIES64 => "jiffies64",
            FOR_EACH_MAP_ELEM => "for_each_map_elem",
            LOOP => "loop",
            _ => "helper",
        }
    }
}

pub fn alu64_imm(op: u8, dst: u8, imm: i32) -> Insn {
    Insn {
        code: ALU64 | op | K,
        dst,
        src: 0,
        off: 0,
        imm,
    }
}

pub fn alu64_reg(op: u8, dst: u8, src: u8) -> Insn {
    Insn {
        code: ALU64 | op | X,
        dst,
        src,
        off: 0,
        imm: 0,
    }
}

pub fn mov_imm(dst: u8, imm: i32) -> Insn {
    alu64_imm(MOV, dst, imm)
}

pub fn mov_reg(dst: u8, src: u8) -> Insn {
    alu64_reg(MOV, dst, src)
}

pub fn load(size: u8, dst: u8, src: u8, off: i16) -> Insn {
    Insn {
        code: LDX | MEM | size,
        dst,
        src,
        off,
        imm: 0,
    }
}

pub fn store_reg(size: u8, dst: u8, off: i16, src: u8) -> Insn {
    Insn {
        code: STX | MEM | size,
        dst,
        src,
        off,
        imm: 0,
    }
}

pub fn store_imm(size: u8, dst: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code: ST | MEM | size,
        dst,
        src: 0,
        off,
        imm,
    }
}

/// The two halves of `ld_imm64 dst, imm` (src = [`PSEUDO_MAP_FD`] for a map reference).
pub fn ld_imm64(dst: u8, src: u8, imm: i64) -> [Insn; 2] {
    [
        Insn {
            code: LD | IMM | DW,
            dst,
            src,
            off: 0,
            imm: imm as i32,
        },
        Insn {
            code: 0,
            dst: 0,
            src: 0,
            off: 0,
            imm: (imm >> 32) as i32,
        },
    ]
}

pub fn jump_imm(op: u8, dst: u8, imm: i32, off: i16) -> Insn {
    Insn {
        code: JMP | op | K,
        dst,
        src: 0,
        off,
        imm,
    }
}

pub fn jump_reg(op: u8, dst: u8, src: u8, off: i16) -> Insn {
    Insn {
        code: JMP | op | X,
        dst,
        src,
        off,
        imm: 0,
    }
}

pub fn call(helper: i32) -> Insn {
    Insn {
        code: JMP | CALL,
        dst: 0,
        src: 0,
        off: 0,
        imm: helper,
    }
}

pub fn exit() -> Insn {
    Insn {
        code: JMP | EXIT,
        dst: 0,
        src: 0,
        off: 0,
        imm: 0,
    }
}

pub fn size_code(bytes: u32) -> u8 {
    match bytes {
        1 => B,
        2 => H,
        4 => W,
        _ => DW,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_kernel() {
        // r1 = r10 (bf a1 00 00 00 00 00 00)
        assert_eq!(mov_reg(R1, FP).to_bytes(), [0xbf, 0xa1, 0, 0, 0, 0, 0, 0]);
        // exit (95 00 ...)
        assert_eq!(exit().to_bytes(), [0x95, 0, 0, 0, 0, 0, 0, 0]);
        // *(u64 *)(r10 - 8) = r1 (7b 1a f8 ff 00 00 00 00)
        assert_eq!(
            store_reg(DW, FP, -8, R1).to_bytes(),
            [0x7b, 0x1a, 0xf8, 0xff, 0, 0, 0, 0]
        );
    }
}
