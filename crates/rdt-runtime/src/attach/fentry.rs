//! fentry / fexit: BPF_PROG_TYPE_TRACING programs loaded against the traced function's BTF id
//! and attached through a BPF trampoline. Kernels can refuse them at load time (this one answers
//! EPERM); that is explained at the probe, with what to use instead.

use super::{failed, wrong_type, Link};
use crate::error::RuntimeError;
use aya::programs::{FEntry, FExit, Program, ProgramError};
use aya::Btf;
use rdt_codegen::{Attach, ProgType, ProgramMeta};
use rdt_syntax::Diagnostic;
use std::sync::OnceLock;

/// Loads the program against its function (the verifier checks it against the prototype).
pub fn load(program: &mut Program, meta: &ProgramMeta) -> Result<(), RuntimeError> {
    let Some(function) = meta.attach.iter().find_map(|a| match a {
        Attach::Fentry { function } => Some(function.as_str()),
        _ => None,
    }) else {
        return Err(RuntimeError::Other(format!(
            "internal error: fentry program {} has no function",
            meta.name
        )));
    };
    let btf = vmlinux_btf().map_err(|e| {
        RuntimeError::located(
            Diagnostic::error(meta.probe_span, "fentry/fexit probes need kernel BTF")
                .with_label(format!("cannot read /sys/kernel/btf/vmlinux: {e}")),
        )
    })?;
    let result = match meta.prog_type {
        ProgType::Fexit => {
            let p: &mut FExit = program.try_into().map_err(|_| wrong_type(meta))?;
            p.load(function, btf)
        }
        _ => {
            let p: &mut FEntry = program.try_into().map_err(|_| wrong_type(meta))?;
            p.load(function, btf)
        }
    };
    result.map_err(|e| refused(e, meta, function))
}

/// aya's parse of all of vmlinux's BTF (~26 ms): only fentry/fexit scripts pay for it, and once,
/// however many functions a wildcard gives them.
fn vmlinux_btf() -> Result<&'static Btf, String> {
    static BTF: OnceLock<Result<Btf, String>> = OnceLock::new();
    BTF.get_or_init(|| Btf::from_sys_fs().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

fn refused(e: ProgramError, meta: &ProgramMeta, function: &str) -> RuntimeError {
    let kind = if meta.prog_type == ProgType::Fexit {
        "fexit"
    } else {
        "fentry"
    };
    if let ProgramError::LoadError { io_error, .. } = &e {
        if io_error.raw_os_error() == Some(libc::EPERM) {
            return RuntimeError::located(
                Diagnostic::error(
                    meta.probe_span,
                    format!("{kind} probes are not available on this kernel"),
                )
                .with_label(format!(
                    "the kernel refused to load the {kind} program for `{function}` (EPERM)"
                ))
                .with_help(
                    "this kernel does not allow BPF trampoline (fentry/fexit) programs, even as root",
                )
                .with_help(format!(
                    "use `kprobe:{function}` where kprobes exist, or a tracepoint (`rdt -l 'tracepoint:*'`)"
                )),
            );
        }
    }
    crate::load::rejected_program(e, meta)
}

pub fn attach(
    program: &mut Program,
    meta: &ProgramMeta,
    function: &str,
) -> Result<Link, RuntimeError> {
    let what = format!("{} {function}", meta.prog_type.section_prefix());
    if meta.prog_type == ProgType::Fexit {
        let p: &mut FExit = program.try_into().map_err(|_| wrong_type(meta))?;
        let id = p.attach().map_err(|e| failed(meta.probe_span, &what, &e))?;
        let link = p
            .take_link(id)
            .map_err(|e| failed(meta.probe_span, &what, &e))?;
        return Ok(Box::new(link));
    }
    let p: &mut FEntry = program.try_into().map_err(|_| wrong_type(meta))?;
    let id = p.attach().map_err(|e| failed(meta.probe_span, &what, &e))?;
    let link = p
        .take_link(id)
        .map_err(|e| failed(meta.probe_span, &what, &e))?;
    Ok(Box::new(link))
}
