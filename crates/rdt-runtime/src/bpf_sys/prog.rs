//! Program commands of the `bpf()` system call that aya 0.14 does not offer the way rdt needs
//! them: loading a copy with an expected attach type (uprobe-multi links) and the tiny probe
//! programs of `rdt --info`.

use super::{fd_u32, sys_bpf};
use rdt_codegen::insn::Insn;
use std::io;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};

/// `enum bpf_cmd` values for programs and links.
pub(crate) mod prog_cmd {
    pub const PROG_LOAD: u32 = 5;
    pub const PROG_TEST_RUN: u32 = 10;
    pub const RAW_TRACEPOINT_OPEN: u32 = 17;
    pub const BTF_LOAD: u32 = 18;
    pub const LINK_CREATE: u32 = 28;
}

/// `enum bpf_prog_type` values.
pub(crate) mod prog_type {
    pub const KPROBE: u32 = 2;
    pub const RAW_TRACEPOINT: u32 = 17;
    pub const TRACING: u32 = 26;
}

/// `enum bpf_attach_type` values.
pub(crate) mod attach_type {
    pub const TRACE_FENTRY: u32 = 24;
    pub const TRACE_FEXIT: u32 = 25;
    pub const TRACE_KPROBE_MULTI: u32 = 42;
    pub const TRACE_UPROBE_MULTI: u32 = 48;
}

/// `BPF_OBJ_NAME_LEN`.
const OBJ_NAME_LEN: usize = 16;

/// The `BPF_PROG_LOAD` member of `union bpf_attr`, up to `attach_btf_id`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgLoadAttr {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; OBJ_NAME_LEN],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
}

/// The `test` member of `union bpf_attr`, up to `data_out`.
#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
}

/// Loads a GPL program of `prog_type` named `name` (cut to the kernel's 15 bytes).
pub(crate) fn prog_load(
    prog_type: u32,
    expected_attach_type: u32,
    name: &str,
    insns: &[Insn],
) -> io::Result<OwnedFd> {
    prog_load_at(prog_type, expected_attach_type, 0, name, insns)
}

/// The same for a program that attaches to the kernel function of BTF id `attach_btf_id`
/// (fentry/fexit).
pub(crate) fn prog_load_at(
    prog_type: u32,
    expected_attach_type: u32,
    attach_btf_id: u32,
    name: &str,
    insns: &[Insn],
) -> io::Result<OwnedFd> {
    let bytes: Vec<u8> = insns.iter().flat_map(|i| i.to_bytes()).collect();
    let license = c"GPL";
    let mut prog_name = [0u8; OBJ_NAME_LEN];
    for (dst, src) in prog_name
        .iter_mut()
        .zip(name.bytes().take(OBJ_NAME_LEN - 1))
    {
        *dst = src;
    }
    let mut attr = ProgLoadAttr {
        prog_type,
        insn_cnt: insns.len() as u32,
        insns: bytes.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name,
        expected_attach_type,
        attach_btf_id,
        ..ProgLoadAttr::default()
    };
    let fd = sys_bpf(prog_cmd::PROG_LOAD, &mut attr)?;
    // SAFETY: BPF_PROG_LOAD returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Runs `prog` once with `BPF_PROG_TEST_RUN` and no input; returns its return value.
pub(crate) fn prog_test_run(prog: BorrowedFd) -> io::Result<u32> {
    let mut attr = TestRunAttr {
        prog_fd: fd_u32(prog),
        ..TestRunAttr::default()
    };
    sys_bpf(prog_cmd::PROG_TEST_RUN, &mut attr)?;
    Ok(attr.retval)
}

/// Creates a link with `BPF_LINK_CREATE`; `attr` is the command's member of `union bpf_attr`.
pub(crate) fn link_create<T>(attr: &mut T) -> io::Result<OwnedFd> {
    let fd = sys_bpf(prog_cmd::LINK_CREATE, attr)?;
    // SAFETY: BPF_LINK_CREATE returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prog_attr_layouts_match_the_kernel() {
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, prog_name), 48);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, expected_attach_type), 68);
        assert_eq!(std::mem::size_of::<ProgLoadAttr>(), 112);
        assert_eq!(std::mem::size_of::<TestRunAttr>(), 32);
    }
}
