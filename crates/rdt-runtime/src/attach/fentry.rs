//! fentry / fexit: BPF_PROG_TYPE_TRACING programs loaded against the traced function's BTF id
//! (found by rdt-btf's lazy reader, which looks up the one function without parsing the rest of
//! vmlinux's BTF) and attached through a BPF trampoline. Kernels can refuse them at load time
//! (the development machine answers EPERM); that is explained at the probe, with what to use
//! instead.

use super::Link;
use crate::bpf_sys::raw_tracepoint_open;
use crate::error::RuntimeError;
use rdt_btf::btf::{NameKind, TypeRef};
use rdt_codegen::{Attach, ProgType, ProgramMeta};
use rdt_syntax::Diagnostic;
use std::io;
use std::os::fd::BorrowedFd;

/// The function an fentry/fexit program traces.
pub(super) fn function(meta: &ProgramMeta) -> Result<&str, RuntimeError> {
    meta.attach
        .iter()
        .find_map(|a| match a {
            Attach::Fentry { function } => Some(function.as_str()),
            _ => None,
        })
        .ok_or_else(|| {
            RuntimeError::Other(format!(
                "internal error: fentry program {} has no function",
                meta.name
            ))
        })
}

/// `fentry` or `fexit`, as the probe is spelled.
pub(super) fn kind(meta: &ProgramMeta) -> &'static str {
    if meta.prog_type == ProgType::Fexit {
        "fexit"
    } else {
        "fentry"
    }
}

/// The BTF id of the traced function in vmlinux, which the program is loaded against (the
/// verifier checks it against the prototype).
pub fn attach_btf_id(meta: &ProgramMeta) -> Result<u32, RuntimeError> {
    let function = function(meta)?;
    let found = TypeRef::find(NameKind::Func, function).map_err(|e| {
        RuntimeError::located(
            Diagnostic::error(meta.probe_span, "fentry/fexit probes need kernel BTF")
                .with_label(e.to_string()),
        )
    })?;
    let vmlinux = rdt_btf::btf::vmlinux().ok();
    match found {
        Some(t) if vmlinux.is_some_and(|v| std::ptr::eq(t.btf, v)) => Ok(t.id),
        Some(_) => Err(RuntimeError::located(
            Diagnostic::error(
                meta.probe_span,
                format!(
                    "cannot {} `{function}`: it is a module's function",
                    kind(meta)
                ),
            )
            .with_label("rdt attaches fentry/fexit to vmlinux functions only")
            .with_help(format!("use `kprobe:{function}` instead")),
        )),
        None => Err(RuntimeError::located(
            Diagnostic::error(
                meta.probe_span,
                format!("the kernel's BTF has no function `{function}`"),
            )
            .with_label(format!("cannot load the {} program", kind(meta))),
        )),
    }
}

/// A load failure of an fentry/fexit program: a kernel that refuses trampolines altogether
/// (EPERM even as root) is explained; anything else is a verifier rejection like any other.
pub fn refused(error: &std::io::Error, log: &str, meta: &ProgramMeta) -> RuntimeError {
    let kind = kind(meta);
    let function = function(meta).unwrap_or(&meta.name);
    if error.raw_os_error() == Some(libc::EPERM) {
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
    crate::load::rejected_log(error, log, meta)
}

/// Attaches the loaded program to its function's trampoline; closing the link detaches it.
pub fn attach(prog: BorrowedFd, meta: &ProgramMeta, function: &str) -> Result<Link, RuntimeError> {
    let link = raw_tracepoint_open(prog, None).map_err(|e| {
        RuntimeError::located(
            Diagnostic::error(
                meta.probe_span,
                format!("cannot attach {} {function}", kind(meta)),
            )
            .with_label(trampoline_refused(&e)),
        )
    })?;
    Ok(Box::new(link))
}

/// Why the kernel would not attach a loaded tracing program, in words: some kernels load them
/// but cannot make a trampoline.
pub(crate) fn trampoline_refused(e: &io::Error) -> String {
    // The kernel's own ENOTSUPP, which libc does not name.
    const ENOTSUPP: i32 = 524;
    match e.raw_os_error() {
        Some(ENOTSUPP) => "this kernel has no BPF trampoline for it (ENOTSUPP)".to_string(),
        _ => format!("`bpf_raw_tracepoint_open` failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_trampoline_is_put_in_words() {
        let words = trampoline_refused(&io::Error::from_raw_os_error(524));
        assert!(words.contains("no BPF trampoline"), "{words}");
    }
}
