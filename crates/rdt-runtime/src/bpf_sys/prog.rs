//! Program, BTF and link commands of the `bpf()` system call: every program rdt runs is loaded
//! and attached through here, the script's own (see [`crate::load`]) and the tiny probe programs
//! of `rdt --info`.

use super::{fd_u32, object_name, sys_bpf, OBJ_NAME_LEN};
use rdt_codegen::insn::Insn;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};

/// `enum bpf_cmd` values for programs and links.
mod prog_cmd {
    pub const PROG_LOAD: u32 = 5;
    pub const PROG_TEST_RUN: u32 = 10;
    pub const RAW_TRACEPOINT_OPEN: u32 = 17;
    pub const BTF_LOAD: u32 = 18;
    pub const LINK_CREATE: u32 = 28;
}

/// `enum bpf_prog_type` values.
pub(crate) mod prog_type {
    pub const KPROBE: u32 = 2;
    pub const TRACEPOINT: u32 = 5;
    pub const PERF_EVENT: u32 = 7;
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

/// The `BPF_PROG_LOAD` member of `union bpf_attr`, up to `attach_btf_id`.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; OBJ_NAME_LEN],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
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

/// The `BPF_BTF_LOAD` member of `union bpf_attr`, up to `btf_log_level`.
#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    _pad: u32,
}

/// The `raw_tracepoint` member of `union bpf_attr`.
#[repr(C)]
struct RawTracepointOpenAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
}

/// Everything `BPF_PROG_LOAD` is told about one program.
pub(crate) struct ProgLoad<'a> {
    pub prog_type: u32,
    /// What the program is loaded for: 0, a trampoline kind (fentry/fexit) or uprobe-multi.
    pub expected_attach_type: u32,
    /// The traced function's BTF id in vmlinux (fentry/fexit), else 0.
    pub attach_btf_id: u32,
    /// `bpf_insn`s, 8 bytes each, live for as long as this description.
    pub insns: &'a [u8],
    pub license: &'a CStr,
    pub name: &'a str,
    pub btf: Option<ProgBtf>,
}

/// What the verifier needs to know about the program's functions (its callbacks): the object's
/// BTF and the records that point into it.
pub(crate) struct ProgBtf {
    pub fd: u32,
    pub func_info: Vec<u8>,
    pub func_info_cnt: u32,
    pub func_info_rec_size: u32,
    pub line_info: Vec<u8>,
    pub line_info_cnt: u32,
    pub line_info_rec_size: u32,
}

/// Where the verifier log started when the first load was silent; it grows up to
/// [`MAX_LOG_SIZE`] when the kernel says the log did not fit.
const FIRST_LOG_SIZE: usize = 1 << 20;
const MAX_LOG_SIZE: usize = 1 << 26;

impl ProgLoad<'_> {
    /// Loads the program (the verifier runs here), with the verifier's log written into `log`.
    pub fn load(&self, log: Option<&mut [u8]>) -> io::Result<OwnedFd> {
        let mut attr = ProgLoadAttr {
            prog_type: self.prog_type,
            expected_attach_type: self.expected_attach_type,
            attach_btf_id: self.attach_btf_id,
            insn_cnt: (self.insns.len() / 8) as u32,
            insns: self.insns.as_ptr() as u64,
            license: self.license.as_ptr() as u64,
            prog_name: object_name(self.name),
            ..Default::default()
        };
        if let Some(btf) = &self.btf {
            attr.prog_btf_fd = btf.fd;
            if btf.func_info_rec_size > 0 {
                attr.func_info = btf.func_info.as_ptr() as u64;
                attr.func_info_cnt = btf.func_info_cnt;
                attr.func_info_rec_size = btf.func_info_rec_size;
            }
            if btf.line_info_rec_size > 0 {
                attr.line_info = btf.line_info.as_ptr() as u64;
                attr.line_info_cnt = btf.line_info_cnt;
                attr.line_info_rec_size = btf.line_info_rec_size;
            }
        }
        if let Some(buf) = log {
            attr.log_level = 1;
            attr.log_size = buf.len() as u32;
            attr.log_buf = buf.as_mut_ptr() as u64;
        }
        let fd = sys_bpf(prog_cmd::PROG_LOAD, &mut attr)?;
        // SAFETY: BPF_PROG_LOAD returned a fresh descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
    }

    /// Loads with the verifier's log on (slower: first loads go without); on failure the error
    /// and the log.
    pub fn load_with_log(&self) -> Result<OwnedFd, (io::Error, String)> {
        let mut size = FIRST_LOG_SIZE;
        loop {
            let mut buf = vec![0u8; size];
            let error = match self.load(Some(&mut buf)) {
                Ok(fd) => return Ok(fd),
                Err(e) => e,
            };
            // ENOSPC: the log did not fit; the kernel keeps its tail, which is what we read, but
            // the error then hides the verifier's own errno: grow once more if we still can.
            if error.raw_os_error() == Some(libc::ENOSPC) && size < MAX_LOG_SIZE {
                size <<= 2;
                continue;
            }
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return Err((error, String::from_utf8_lossy(&buf[..end]).into_owned()));
        }
    }
}

/// Loads a GPL program of `prog_type` named `name` (the probe programs of `rdt --info`).
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
    ProgLoad {
        prog_type,
        expected_attach_type,
        attach_btf_id,
        insns: &bytes,
        license: c"GPL",
        name,
        btf: None,
    }
    .load(None)
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

/// Loads an object's BTF (`BPF_BTF_LOAD`), which its programs' `func_info` then refers to.
pub(crate) fn btf_load(data: &[u8]) -> io::Result<OwnedFd> {
    let mut attr = BtfLoadAttr {
        btf: data.as_ptr() as u64,
        btf_size: data.len() as u32,
        ..Default::default()
    };
    let fd = sys_bpf(prog_cmd::BTF_LOAD, &mut attr)?;
    // SAFETY: BPF_BTF_LOAD returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// `BPF_RAW_TRACEPOINT_OPEN`: attaches a raw tracepoint program to `tracepoint`, or, with
/// `None`, a loaded fentry/fexit program to the function it was loaded for (its trampoline
/// link). Closing the returned descriptor detaches.
pub(crate) fn raw_tracepoint_open(
    prog: BorrowedFd,
    tracepoint: Option<&str>,
) -> io::Result<OwnedFd> {
    let name = tracepoint
        .map(CString::new)
        .transpose()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the tracepoint name"))?;
    let mut attr = RawTracepointOpenAttr {
        name: name.as_ref().map_or(0, |n| n.as_ptr() as u64),
        prog_fd: fd_u32(prog),
        _pad: 0,
    };
    let fd = sys_bpf(prog_cmd::RAW_TRACEPOINT_OPEN, &mut attr)?;
    // SAFETY: the command returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
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
        assert_eq!(std::mem::size_of::<RawTracepointOpenAttr>(), 16);
        assert_eq!(std::mem::size_of::<BtfLoadAttr>(), 32);
    }

    /// A rejected program is loaded a second time with the log on, and the log says why (needs
    /// root, like the e2e cases).
    #[test]
    fn a_rejection_comes_with_the_verifier_log() {
        // r0 = *(u32 *)(r2 + 0); exit — r2 was never written.
        let insns: [u64; 2] = [0x0000_0000_0000_2061, 0x0000_0000_0000_0095];
        let bytes: Vec<u8> = insns.iter().flat_map(|i| i.to_le_bytes()).collect();
        let code = ProgLoad {
            prog_type: prog_type::RAW_TRACEPOINT,
            expected_attach_type: 0,
            attach_btf_id: 0,
            insns: &bytes,
            license: c"GPL",
            name: "reject_me",
            btf: None,
        };
        let first = code.load(None).expect_err("the verifier must reject this");
        if first.raw_os_error() == Some(libc::EPERM) {
            eprintln!("skipped: not allowed to load BPF programs");
            return;
        }
        let Err((error, log)) = code.load_with_log() else {
            panic!("the verifier accepted the program the second time");
        };
        assert_eq!(error.raw_os_error(), Some(libc::EACCES), "{log}");
        assert!(log.contains("R2 !read_ok"), "{log}");
    }
}
