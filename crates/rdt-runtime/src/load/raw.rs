//! Loading without aya's `EbpfLoader`, which parses all of `/sys/kernel/btf/vmlinux` before
//! anything else (~19 MiB of heap and ~10 ms of CPU here, ~250 ms under the VM lane's qemu), then
//! runs a dozen feature-probe loads.
//!
//! rdt's objects need nothing of that: they carry no CO-RE relocations, and tracepoint, raw
//! tracepoint, perf-event, kprobe, uprobe and USDT programs are plain `BPF_PROG_LOAD`s. The one
//! thing kernel BTF is needed for is the attach BTF id of an fentry/fexit program, and rdt-btf's
//! lazy reader finds one function's id without parsing the rest. So objects are parsed and
//! relocated with aya-obj (no BTF involved), their maps created and their programs loaded here
//! with the bare `bpf()` commands; maps are then handed to aya's `Map`/`MapData` so reading them
//! is the same code as before. Attaching is by descriptor (crate::attach::raw).

use crate::bpf_sys::{attach_type, prog_cmd, prog_type, sys_bpf, ProgLoadAttr};
use crate::error::RuntimeError;
use aya::maps::{Map, MapData};
use aya_obj::Object;
use rdt_codegen::{Artifact, ProgType, ProgramMeta};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `enum bpf_prog_type` of a program: kprobes, uprobes and USDT sites are all kprobe-type
/// programs; fentry/fexit are tracing programs loaded against their function's BTF id.
fn kernel_prog_type(meta: &ProgramMeta) -> u32 {
    match meta.prog_type {
        ProgType::Tracepoint => 5,
        ProgType::PerfEvent => 7,
        ProgType::RawTracepoint => prog_type::RAW_TRACEPOINT,
        ProgType::Kprobe => prog_type::KPROBE,
        ProgType::Fentry | ProgType::Fexit => prog_type::TRACING,
    }
}

/// The attach type and BTF id a tracing program must be loaded with (0 and 0 for the others).
fn load_target(meta: &ProgramMeta) -> Result<(u32, u32), RuntimeError> {
    let attach_type = match meta.prog_type {
        ProgType::Fentry => attach_type::TRACE_FENTRY,
        ProgType::Fexit => attach_type::TRACE_FEXIT,
        _ => return Ok((0, 0)),
    };
    Ok((attach_type, crate::attach::fentry::attach_btf_id(meta)?))
}

const BPF_MAP_TYPE_RINGBUF: u32 = 27;

/// An object whose maps exist in the kernel and whose programs are loaded on demand.
pub struct RawObject {
    obj: Object,
    /// The object's own BTF (codegen emits it for callbacks: `func_info` must describe them).
    btf: Option<OwnedFd>,
    maps: HashMap<String, Map>,
    programs: HashMap<String, LoadedProgram>,
}

/// A program in the kernel, and how it was loaded.
struct LoadedProgram {
    fd: OwnedFd,
    /// `BPF_TRACE_UPROBE_MULTI` when loaded for a uprobe-multi link, the trampoline kind of an
    /// fentry/fexit program, else 0.
    expected_attach_type: u32,
}

/// Creates the object's maps and relocates its programs against them.
pub fn open(artifact: &Artifact) -> Result<RawObject, RuntimeError> {
    let mut obj = Object::parse(&artifact.elf)
        .map_err(|e| RuntimeError::Other(format!("cannot load the BPF object: {e}")))?;
    let btf = match &obj.btf {
        Some(btf) => Some(load_btf(&btf.to_bytes()).map_err(|e| {
            RuntimeError::Other(format!("the kernel refused the object's BTF: {e}"))
        })?),
        None => None,
    };
    let mut fds: Vec<(String, OwnedFd)> = Vec::new();
    for (name, def) in &obj.maps {
        fds.push((name.clone(), create_map(name, def)?));
    }
    let text_sections: HashSet<usize> = obj.functions.keys().map(|(section, _)| *section).collect();
    // aya-obj rewrites instructions while reading the definitions: relocate against copies.
    let defs: Vec<(String, i32, aya_obj::Map)> = fds
        .iter()
        .filter_map(|(name, fd)| Some((name.clone(), fd.as_raw_fd(), obj.maps.get(name)?.clone())))
        .collect();
    obj.relocate_maps(
        defs.iter().map(|(n, fd, m)| (n.as_str(), *fd, m)),
        &text_sections,
    )
    .map_err(|e| RuntimeError::Other(format!("cannot load the BPF object: {e}")))?;
    obj.relocate_calls(&text_sections)
        .map_err(|e| RuntimeError::Other(format!("cannot load the BPF object: {e}")))?;
    let mut maps = HashMap::new();
    for (name, fd) in fds {
        let map = MapData::from_fd(fd)
            .and_then(Map::from_map_data)
            .map_err(|e| RuntimeError::Other(format!("cannot open map {name}: {e}")))?;
        maps.insert(name, map);
    }
    Ok(RawObject {
        obj,
        btf,
        maps,
        programs: HashMap::new(),
    })
}

fn create_map(name: &str, def: &aya_obj::Map) -> Result<OwnedFd, RuntimeError> {
    // The kernel wants a ring buffer's key and value sizes zero (the legacy definition has room).
    let (key_size, value_size) = match def.map_type() {
        BPF_MAP_TYPE_RINGBUF => (0, 0),
        _ => (def.key_size(), def.value_size()),
    };
    crate::bpf_sys::map_create_with_flags(
        def.map_type(),
        key_size,
        value_size,
        def.max_entries(),
        def.map_flags(),
        name,
    )
    .map_err(|e| {
        RuntimeError::Other(format!(
            "the kernel refused to create a BPF map: {name}: {e}"
        ))
    })
}

impl RawObject {
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.get(name)
    }

    pub fn take_map(&mut self, name: &str) -> Option<Map> {
        self.maps.remove(name)
    }

    /// The loaded program's descriptor.
    pub fn program_fd(&self, name: &str) -> Option<BorrowedFd<'_>> {
        self.programs.get(name).map(|p| p.fd.as_fd())
    }

    /// Whether the program was loaded for a uprobe-multi link (see [`Self::load_program`]).
    pub fn loaded_for_uprobe_multi(&self, name: &str) -> bool {
        self.programs
            .get(name)
            .is_some_and(|p| p.expected_attach_type == attach_type::TRACE_UPROBE_MULTI)
    }

    /// Loads one program (the verifier runs here). On a rejection the load is repeated with the
    /// verifier log on, so that the diagnostic can point at the instruction.
    ///
    /// A program that can put all its uprobes on one uprobe-multi link is loaded for that link
    /// (the kernel wants the attach type known at load time, and a program loaded so cannot go on
    /// a perf event); should this kernel not know the attach type, it is loaded plainly.
    pub fn load_program(&mut self, meta: &ProgramMeta) -> Result<(), RuntimeError> {
        let multi = crate::attach::uprobe_multi::is_candidate(meta);
        let code = self.program_code(meta)?;
        let plain = code.expected_attach_type;
        let loaded = if multi {
            code.load(None, attach_type::TRACE_UPROBE_MULTI)
                .map(|fd| (fd, attach_type::TRACE_UPROBE_MULTI))
                .or_else(|_| code.load(None, plain).map(|fd| (fd, plain)))
        } else {
            code.load(None, plain).map(|fd| (fd, plain))
        };
        let (fd, expected_attach_type) = loaded
            .or_else(|_| code.load_with_log().map(|fd| (fd, plain)))
            .map_err(|(error, log)| match meta.prog_type {
                ProgType::Fentry | ProgType::Fexit => {
                    crate::attach::fentry::refused(&error, &log, meta)
                }
                _ => super::rejected_log(&error, &log, meta),
            })?;
        let program = LoadedProgram {
            fd,
            expected_attach_type,
        };
        self.programs.insert(meta.name.clone(), program);
        Ok(())
    }

    /// Loads the program again without an expected attach type, replacing the copy loaded for a
    /// uprobe-multi link that the kernel then refused: the uprobes go on perf events instead.
    pub fn reload_plainly(&mut self, meta: &ProgramMeta) -> Result<(), RuntimeError> {
        let fd = self
            .program_code(meta)?
            .load(None, 0)
            .map_err(|e| super::rejected_log(&e, "", meta))?;
        let program = LoadedProgram {
            fd,
            expected_attach_type: 0,
        };
        self.programs.insert(meta.name.clone(), program);
        Ok(())
    }

    fn program_code<'a>(&'a self, meta: &'a ProgramMeta) -> Result<ProgramCode<'a>, RuntimeError> {
        let missing =
            || RuntimeError::Other(format!("internal error: program {} is missing", meta.name));
        let prog_type = kernel_prog_type(meta);
        let (expected_attach_type, attach_btf_id) = load_target(meta)?;
        let program = self.obj.programs.get(&meta.name).ok_or_else(missing)?;
        let function = self
            .obj
            .functions
            .get(&program.function_key())
            .ok_or_else(missing)?;
        Ok(ProgramCode {
            prog_type,
            expected_attach_type,
            attach_btf_id,
            insns: function.instructions.as_ptr() as u64,
            insn_cnt: function.instructions.len() as u32,
            license: &program.license,
            name: &meta.name,
            btf: self.btf.as_ref().map(|fd| BtfInfo {
                fd: fd.as_raw_fd() as u32,
                func_info: function.func_info.func_info_bytes(),
                func_info_cnt: function.func_info.func_info.len() as u32,
                func_info_rec_size: function.func_info_rec_size as u32,
                line_info: function.line_info.line_info_bytes(),
                line_info_cnt: function.line_info.line_info.len() as u32,
                line_info_rec_size: function.line_info_rec_size as u32,
            }),
        })
    }

    /// Runs a BEGIN/END program once (`BPF_PROG_TEST_RUN` on a raw tracepoint program).
    pub fn run_once(&self, name: &str) -> io::Result<()> {
        let fd = self
            .program_fd(name)
            .ok_or_else(|| io::Error::other(format!("program {name} is not loaded")))?;
        crate::bpf_sys::prog_test_run(fd).map(drop)
    }
}

/// Attaches a raw tracepoint program; the returned descriptor detaches it when closed.
pub fn raw_tracepoint_open(prog: BorrowedFd, tracepoint: &str) -> io::Result<OwnedFd> {
    let name = CString::new(tracepoint).map_err(io::Error::other)?;
    let mut attr = RawTracepointOpenAttr {
        name: name.as_ptr() as u64,
        prog_fd: prog.as_raw_fd() as u32,
        _pad: 0,
    };
    let fd = sys_bpf(prog_cmd::RAW_TRACEPOINT_OPEN, &mut attr)?;
    // SAFETY: the command returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Attaches a loaded fentry/fexit program to the function it was loaded for (a raw tracepoint
/// open without a name makes the trampoline link); closing the descriptor detaches it.
pub fn trampoline_open(prog: BorrowedFd) -> io::Result<OwnedFd> {
    let mut attr = RawTracepointOpenAttr {
        name: 0,
        prog_fd: prog.as_raw_fd() as u32,
        _pad: 0,
    };
    let fd = sys_bpf(prog_cmd::RAW_TRACEPOINT_OPEN, &mut attr)?;
    // SAFETY: the command returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

struct ProgramCode<'a> {
    prog_type: u32,
    /// What the program is loaded for: 0, or a trampoline kind (fentry/fexit).
    expected_attach_type: u32,
    /// The traced function's BTF id in vmlinux (fentry/fexit), else 0.
    attach_btf_id: u32,
    insns: u64,
    insn_cnt: u32,
    license: &'a CString,
    name: &'a str,
    btf: Option<BtfInfo>,
}

/// What the verifier needs to know about the program's functions (its callbacks).
struct BtfInfo {
    fd: u32,
    func_info: Vec<u8>,
    func_info_cnt: u32,
    func_info_rec_size: u32,
    line_info: Vec<u8>,
    line_info_cnt: u32,
    line_info_rec_size: u32,
}

impl ProgramCode<'_> {
    fn load(&self, log: Option<&mut [u8]>, expected_attach_type: u32) -> io::Result<OwnedFd> {
        let mut attr = ProgLoadAttr {
            prog_type: self.prog_type,
            expected_attach_type,
            attach_btf_id: self.attach_btf_id,
            insn_cnt: self.insn_cnt,
            insns: self.insns,
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

    /// The load again with the verifier's log; on failure the error and the log.
    fn load_with_log(&self) -> Result<OwnedFd, (io::Error, String)> {
        let mut size = 1 << 20;
        loop {
            let mut buf = vec![0u8; size];
            let error = match self.load(Some(&mut buf), self.expected_attach_type) {
                Ok(fd) => return Ok(fd),
                Err(e) => e,
            };
            // ENOSPC: the log did not fit; the kernel keeps its tail, which is what we read, but
            // the error then hides the verifier's own errno: grow once more if we still can.
            if error.raw_os_error() == Some(libc::ENOSPC) && size < 1 << 26 {
                size <<= 2;
                continue;
            }
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return Err((error, String::from_utf8_lossy(&buf[..end]).into_owned()));
        }
    }
}

fn load_btf(data: &[u8]) -> io::Result<OwnedFd> {
    let mut attr = BtfLoadAttr {
        btf: data.as_ptr() as u64,
        btf_size: data.len() as u32,
        ..Default::default()
    };
    let fd = sys_bpf(prog_cmd::BTF_LOAD, &mut attr)?;
    // SAFETY: BPF_BTF_LOAD returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// A kernel object name: at most 15 bytes of `[A-Za-z0-9_.]`, NUL-terminated.
fn object_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (dst, src) in out.iter_mut().zip(name.bytes().take(15)) {
        *dst = if src.is_ascii_alphanumeric() || src == b'_' || src == b'.' {
            src
        } else {
            b'_'
        };
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_truncated_and_sanitised() {
        assert_eq!(
            &object_name("p0_sys_enter_openat")[..16],
            b"p0_sys_enter_op\0"
        );
        assert_eq!(&object_name("a:b")[..4], b"a_b\0");
    }

    /// A rejected program is loaded a second time with the log on, and the log says why (needs
    /// root, like the e2e cases).
    #[test]
    fn a_rejection_comes_with_the_verifier_log() {
        // r0 = *(u32 *)(r2 + 0); exit — r2 was never written.
        let insns: [u64; 2] = [0x0000_0000_0000_2061, 0x0000_0000_0000_0095];
        let license = CString::new("GPL").unwrap();
        let code = ProgramCode {
            prog_type: 17,
            expected_attach_type: 0,
            attach_btf_id: 0,
            insns: insns.as_ptr() as u64,
            insn_cnt: 2,
            license: &license,
            name: "reject_me",
            btf: None,
        };
        let first = code
            .load(None, 0)
            .expect_err("the verifier must reject this");
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

    #[test]
    fn attrs_have_the_kernel_layout() {
        assert_eq!(std::mem::size_of::<ProgLoadAttr>(), 112);
        assert_eq!(std::mem::size_of::<RawTracepointOpenAttr>(), 16);
    }
}
