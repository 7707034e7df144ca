//! The loaded object: its maps created, its programs loaded one by one.
//!
//! rdt loads with the bare `bpf()` commands rather than aya's `EbpfLoader`, which parses all of
//! `/sys/kernel/btf/vmlinux` before anything else (~19 MiB of heap and ~10 ms of CPU here,
//! ~250 ms under the VM lane's qemu), then runs a dozen feature-probe loads. rdt's objects need
//! none of that: they carry no CO-RE relocations, and tracepoint, raw tracepoint, perf-event,
//! kprobe, uprobe and USDT programs are plain `BPF_PROG_LOAD`s. Kernel BTF is needed only for the
//! attach BTF id of an fentry/fexit program, and rdt-btf's lazy reader finds one function's id
//! without parsing the rest. aya-obj parses the ELF and relocates map references and calls (no
//! BTF involved); maps stay plain descriptors, read with [`crate::bpf_sys`].

use crate::bpf_sys::{
    attach_type, btf_load, map_type, prog_test_run, prog_type, ProgBtf, ProgLoad,
};
use crate::error::RuntimeError;
use rdt_codegen::{Artifact, ProgType, ProgramMeta};
use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// `enum bpf_prog_type` of a program: kprobes, uprobes and USDT sites are all kprobe-type
/// programs; fentry/fexit are tracing programs loaded against their function's BTF id.
fn kernel_prog_type(meta: &ProgramMeta) -> u32 {
    match meta.prog_type {
        ProgType::Tracepoint => prog_type::TRACEPOINT,
        ProgType::PerfEvent => prog_type::PERF_EVENT,
        ProgType::RawTracepoint => prog_type::RAW_TRACEPOINT,
        ProgType::Kprobe => prog_type::KPROBE,
        ProgType::Fentry | ProgType::Fexit => prog_type::TRACING,
    }
}

/// The attach type a program is loaded with when nothing better is on offer: a tracing
/// program's trampoline kind, 0 for the others.
fn plain_attach_type(meta: &ProgramMeta) -> u32 {
    match meta.prog_type {
        ProgType::Fentry => attach_type::TRACE_FENTRY,
        ProgType::Fexit => attach_type::TRACE_FEXIT,
        _ => 0,
    }
}

/// The vmlinux BTF id a tracing program is loaded against (0 for the others).
fn attach_btf_id(meta: &ProgramMeta) -> Result<u32, RuntimeError> {
    match meta.prog_type {
        ProgType::Fentry | ProgType::Fexit => crate::attach::fentry::attach_btf_id(meta),
        _ => Ok(0),
    }
}

/// An object whose maps exist in the kernel and whose programs are loaded on demand.
pub struct Object {
    obj: aya_obj::Object,
    /// The object's own BTF (codegen emits it for callbacks: `func_info` must describe them).
    btf: Option<OwnedFd>,
    /// The maps not yet taken by the session (see [`Self::take_map_fd`]).
    maps: HashMap<String, OwnedFd>,
    programs: HashMap<String, LoadedProgram>,
}

/// A program in the kernel, and how it was loaded.
struct LoadedProgram {
    fd: OwnedFd,
    /// `BPF_TRACE_UPROBE_MULTI` when loaded for a uprobe-multi link, the trampoline kind of an
    /// fentry/fexit program, else 0.
    expected_attach_type: u32,
}

fn unloadable(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Other(format!("cannot load the BPF object: {e}"))
}

impl Object {
    /// Creates the object's maps and relocates its programs against them. Programs are loaded
    /// one by one with [`Self::load_program`].
    pub fn open(artifact: &Artifact) -> Result<Object, RuntimeError> {
        let mut obj = aya_obj::Object::parse(&artifact.elf).map_err(unloadable)?;
        let btf = match &obj.btf {
            Some(btf) => Some(btf_load(&btf.to_bytes()).map_err(|e| {
                RuntimeError::Other(format!("the kernel refused the object's BTF: {e}"))
            })?),
            None => None,
        };
        let mut maps = HashMap::new();
        for (name, def) in &obj.maps {
            maps.insert(name.clone(), create_map(name, def)?);
        }
        let text_sections: HashSet<usize> =
            obj.functions.keys().map(|(section, _)| *section).collect();
        // aya-obj rewrites instructions while reading the definitions: relocate against copies.
        let defs: Vec<(String, i32, aya_obj::Map)> = maps
            .iter()
            .filter_map(|(name, fd)| {
                Some((name.clone(), fd.as_raw_fd(), obj.maps.get(name)?.clone()))
            })
            .collect();
        obj.relocate_maps(
            defs.iter().map(|(n, fd, m)| (n.as_str(), *fd, m)),
            &text_sections,
        )
        .map_err(unloadable)?;
        obj.relocate_calls(&text_sections).map_err(unloadable)?;
        Ok(Object {
            obj,
            btf,
            maps,
            programs: HashMap::new(),
        })
    }

    /// Takes the descriptor of map `name` out of the object, for the session to keep.
    pub fn take_map_fd(&mut self, name: &str) -> Option<OwnedFd> {
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

    /// Loads one program (the verifier runs here).
    ///
    /// A program that can put all its uprobes on one uprobe-multi link is loaded for that link
    /// (the kernel wants the attach type known at load time, and a program loaded so cannot go on
    /// a perf event); should this kernel not know the attach type, it is loaded plainly.
    pub fn load_program(&mut self, meta: &ProgramMeta) -> Result<(), RuntimeError> {
        if crate::attach::uprobe_multi::is_candidate(meta)
            && self.try_load_as(meta, attach_type::TRACE_UPROBE_MULTI)?
        {
            return Ok(());
        }
        self.load_as(meta, plain_attach_type(meta))
    }

    /// Loads the program again plainly, replacing the copy loaded for a uprobe-multi link that
    /// the kernel then refused: the uprobes go on perf events instead.
    pub fn reload_plainly(&mut self, meta: &ProgramMeta) -> Result<(), RuntimeError> {
        self.load_as(meta, plain_attach_type(meta))
    }

    /// Loads the program for `expected_attach_type`. On a rejection the load is repeated with
    /// the verifier log on (the first try goes without: the log costs time on every load), so
    /// that the diagnostic can point at the instruction.
    fn load_as(
        &mut self,
        meta: &ProgramMeta,
        expected_attach_type: u32,
    ) -> Result<(), RuntimeError> {
        let fd = {
            let code = self.program_code(meta, expected_attach_type)?;
            code.load(None)
                .or_else(|_| code.load_with_log())
                .map_err(|(error, log)| refused(&error, &log, meta))?
        };
        self.insert(meta, fd, expected_attach_type);
        Ok(())
    }

    /// Loads the program for `expected_attach_type` if the kernel takes it; `false` if not, so
    /// that the caller can fall back to the plain load (which explains a rejection).
    fn try_load_as(
        &mut self,
        meta: &ProgramMeta,
        expected_attach_type: u32,
    ) -> Result<bool, RuntimeError> {
        let Ok(fd) = self.program_code(meta, expected_attach_type)?.load(None) else {
            return Ok(false);
        };
        self.insert(meta, fd, expected_attach_type);
        Ok(true)
    }

    fn insert(&mut self, meta: &ProgramMeta, fd: OwnedFd, expected_attach_type: u32) {
        let program = LoadedProgram {
            fd,
            expected_attach_type,
        };
        self.programs.insert(meta.name.clone(), program);
    }

    /// What `BPF_PROG_LOAD` needs to load `meta`'s relocated program.
    fn program_code<'a>(
        &'a self,
        meta: &'a ProgramMeta,
        expected_attach_type: u32,
    ) -> Result<ProgLoad<'a>, RuntimeError> {
        let missing =
            || RuntimeError::Other(format!("internal error: program {} is missing", meta.name));
        let program = self.obj.programs.get(&meta.name).ok_or_else(missing)?;
        let function = self
            .obj
            .functions
            .get(&program.function_key())
            .ok_or_else(missing)?;
        let insns = &function.instructions;
        // SAFETY: `bpf_insn` is a plain 8-byte #[repr(C)] struct; its bytes are what the kernel
        // reads, and the slice borrows the instructions for as long as `self`.
        let insns = unsafe {
            std::slice::from_raw_parts(
                insns.as_ptr().cast::<u8>(),
                std::mem::size_of_val(&insns[..]),
            )
        };
        Ok(ProgLoad {
            prog_type: kernel_prog_type(meta),
            expected_attach_type,
            attach_btf_id: attach_btf_id(meta)?,
            insns,
            license: &program.license,
            name: &meta.name,
            btf: self.btf.as_ref().map(|fd| ProgBtf {
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
    pub fn run_once(&self, meta: &ProgramMeta) -> Result<(), RuntimeError> {
        let fd = self.program_fd(&meta.name).ok_or_else(|| {
            RuntimeError::Other(format!(
                "internal error: program {} is not loaded",
                meta.name
            ))
        })?;
        prog_test_run(fd).map(drop).map_err(|e| {
            crate::attach::failed(meta.probe_span, "run this probe (BPF_PROG_TEST_RUN)", &e)
        })
    }
}

/// A load failure, explained: tracing programs have reasons of their own (a kernel without
/// trampolines), the others are verifier rejections.
fn refused(error: &std::io::Error, log: &str, meta: &ProgramMeta) -> RuntimeError {
    match meta.prog_type {
        ProgType::Fentry | ProgType::Fexit => crate::attach::fentry::refused(error, log, meta),
        _ => super::rejected_log(error, log, meta),
    }
}

fn create_map(name: &str, def: &aya_obj::Map) -> Result<OwnedFd, RuntimeError> {
    // The kernel wants a ring buffer's key and value sizes zero (the legacy definition has room).
    let (key_size, value_size) = match def.map_type() {
        map_type::RINGBUF => (0, 0),
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
