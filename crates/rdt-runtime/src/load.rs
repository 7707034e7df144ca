//! Loading the object with aya, and turning verifier rejections into located diagnostics.

use crate::error::RuntimeError;
use aya::maps::Map;
use aya::programs::{
    KProbe, PerfEvent, ProgramError, RawTracePoint, RawTracePointRunOptions, TestRun, TracePoint,
};
use aya::{Ebpf, EbpfError, EbpfLoader, VerifierLogLevel};
use rdt_codegen::{Artifact, ProgType, ProgramMeta};
use rdt_syntax::Diagnostic;

mod raw;

pub use raw::{raw_tracepoint_open, RawObject};

/// A loaded object: through aya when a program needs it (kprobes, fentry/fexit), else through
/// rdt's own loader, which never reads kernel BTF (see [`raw`]).
pub enum Loaded {
    Aya(Ebpf),
    Raw(Box<raw::RawObject>),
}

impl Loaded {
    pub fn map(&self, name: &str) -> Option<&Map> {
        match self {
            Loaded::Aya(ebpf) => ebpf.map(name),
            Loaded::Raw(obj) => obj.map(name),
        }
    }

    pub fn take_map(&mut self, name: &str) -> Option<Map> {
        match self {
            Loaded::Aya(ebpf) => ebpf.take_map(name),
            Loaded::Raw(obj) => obj.take_map(name),
        }
    }

    /// Runs a BEGIN or END program once with BPF_PROG_TEST_RUN.
    pub fn test_run(&mut self, meta: &ProgramMeta) -> Result<(), RuntimeError> {
        let ran = match self {
            Loaded::Aya(ebpf) => {
                let program = ebpf.program_mut(&meta.name).ok_or_else(|| {
                    RuntimeError::Other(format!("internal error: {} missing", meta.name))
                })?;
                let raw: &mut RawTracePoint = program
                    .try_into()
                    .map_err(|_| crate::attach::wrong_type(meta))?;
                raw.test_run(RawTracePointRunOptions::new())
                    .map(drop)
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)
            }
            Loaded::Raw(obj) => obj.test_run(&meta.name).map_err(Into::into),
        };
        ran.map_err(|e| {
            crate::attach::failed(meta.probe_span, "run this probe (BPF_PROG_TEST_RUN)", &*e)
        })
    }
}

/// Creates the maps of the object. Programs are loaded one by one with [`load_program`].
pub fn open(artifact: &Artifact) -> Result<Loaded, RuntimeError> {
    if raw::can_load(artifact) {
        return raw::open(artifact).map(|obj| Loaded::Raw(Box::new(obj)));
    }
    EbpfLoader::new()
        .verifier_log_level(VerifierLogLevel::DEBUG)
        .load(&artifact.elf)
        .map(Loaded::Aya)
        .map_err(|e| RuntimeError::Other(describe_load_error(&e)))
}

fn describe_load_error(e: &EbpfError) -> String {
    match e {
        EbpfError::MapError(m) => format!("the kernel refused to create a BPF map: {m}"),
        other => format!("cannot load the BPF object: {other}"),
    }
}

/// Loads one program into the kernel (the verifier runs here).
pub fn load_program(loaded: &mut Loaded, meta: &ProgramMeta) -> Result<(), RuntimeError> {
    let ebpf = match loaded {
        Loaded::Aya(ebpf) => ebpf,
        Loaded::Raw(obj) => return obj.load_program(meta),
    };
    let Some(program) = ebpf.program_mut(&meta.name) else {
        return Err(RuntimeError::Other(format!(
            "internal error: program {} is missing from the object",
            meta.name
        )));
    };
    match meta.prog_type {
        ProgType::Tracepoint => as_type::<TracePoint>(program, meta)
            .and_then(|p| p.load().map_err(|e| rejected(e, meta))),
        ProgType::RawTracepoint => as_type::<RawTracePoint>(program, meta)
            .and_then(|p| p.load().map_err(|e| rejected(e, meta))),
        ProgType::Kprobe => {
            as_type::<KProbe>(program, meta).and_then(|p| p.load().map_err(|e| rejected(e, meta)))
        }
        ProgType::PerfEvent => as_type::<PerfEvent>(program, meta)
            .and_then(|p| p.load().map_err(|e| rejected(e, meta))),
        ProgType::Fentry | ProgType::Fexit => crate::attach::fentry::load(program, meta),
    }
}

fn as_type<'a, T>(
    program: &'a mut aya::programs::Program,
    meta: &ProgramMeta,
) -> Result<&'a mut T, RuntimeError>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program>,
{
    program.try_into().map_err(|_| {
        RuntimeError::Other(format!(
            "internal error: program {} has the wrong type",
            meta.name
        ))
    })
}

/// A load failure of a program loaded elsewhere (fentry), explained like any other.
pub(crate) fn rejected_program(e: ProgramError, meta: &ProgramMeta) -> RuntimeError {
    rejected(e, meta)
}

/// A verifier rejection, located at the instruction the verifier stopped on.
fn rejected(e: ProgramError, meta: &ProgramMeta) -> RuntimeError {
    let ProgramError::LoadError {
        io_error,
        verifier_log,
    } = &e
    else {
        return RuntimeError::located(
            Diagnostic::error(
                meta.probe_span,
                format!("the kernel refused to load this probe's program: {e}"),
            )
            .with_label("could not load"),
        );
    };
    rejected_log(io_error, &verifier_log.to_string(), meta)
}

/// Why a program is too large for the verifier, and what to change.
fn too_complex_help() -> &'static str {
    match crate::features::bpf_loop_available() {
        // Loops are bpf_loop callbacks, checked once: the size is in straight-line code.
        Ok(()) => "the program is too large for the verifier: lower `strsize`, shorten the clause or its `unroll`s, or split the clause",
        // The verifier walks a loop once per iteration: long loops exhaust its budget.
        Err(_) => "the program is too large for the verifier, which walks every loop iteration because this kernel has no bpf_loop helper (5.17+): lower the bounds (or `strsize`), move work out of the loop, or split the clause",
    }
}

/// A load failure with the verifier's log, located at the instruction the verifier stopped on.
fn rejected_log(io_error: &std::io::Error, log: &str, meta: &ProgramMeta) -> RuntimeError {
    if io_error.raw_os_error() == Some(libc::EPERM) && log.trim().is_empty() {
        return RuntimeError::located(
            Diagnostic::error(
                meta.probe_span,
                "the kernel refused to load this probe's program: permission denied",
            )
            .with_label("could not load")
            .with_help("rdt needs root (CAP_BPF and CAP_PERFMON) to load BPF programs"),
        );
    }
    let (insn, reason) = verifier_failure(log);
    let span = insn
        .and_then(|i| meta.insn_spans.get(i).copied())
        .unwrap_or(meta.probe_span);
    let reason = reason.unwrap_or_else(|| io_error.to_string());
    let too_complex = reason.contains("too large") || reason.contains("too complex");
    let help = if too_complex {
        too_complex_help()
    } else if reason.contains("combined stack size") {
        // Nested loop bodies are nested BPF functions sharing one 512-byte stack.
        "the nested loop bodies (each a BPF function) need more than the 512 bytes of stack they share: nest fewer loops, or move the inner ones into a clause of their own"
    } else {
        "this is a bug in rdt's code generation; run with `-d bpf` to see the instructions, `-v` for the verifier log"
    };
    let mut d = Diagnostic::error(
        span,
        "the kernel's BPF verifier rejected the program for this probe",
    )
    .with_label(reason)
    .with_help(help);
    if span != meta.probe_span {
        d = d.with_secondary(meta.probe_span, "in this probe");
    }
    if crate::VERBOSE.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("{log}");
    }
    RuntimeError::located(d)
}

/// The last instruction the verifier reached and its complaint (the last line of the log that is
/// not a statistic).
pub fn verifier_failure(log: &str) -> (Option<usize>, Option<String>) {
    let insn = log.lines().rev().find_map(|l| {
        let (n, rest) = l.split_once(": ")?;
        rest.starts_with('(')
            .then(|| n.trim().parse::<usize>().ok())
            .flatten()
    });
    let reason = log
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| {
            !l.is_empty()
                && !l.starts_with("processed ")
                && !l.starts_with("verification time")
                && !l.starts_with("stack depth")
        })
        .map(str::to_string);
    (insn, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rejected_instruction_and_reason() {
        let log = "0: R1=ctx() R10=fp0\n0: (bf) r6 = r1\n1: (61) r0 = *(u32 *)(r2 +0)\nR2 !read_ok\nprocessed 2 insns (limit 1000000)\n";
        assert_eq!(
            verifier_failure(log),
            (Some(1), Some("R2 !read_ok".to_string()))
        );
    }
}
