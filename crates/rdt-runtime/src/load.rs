//! Loading the object, and turning verifier rejections into located diagnostics.

use crate::error::RuntimeError;
use rdt_codegen::ProgramMeta;
use rdt_syntax::Diagnostic;

mod object;

pub use object::Object;

/// Why a program is too large for the verifier, and what to change, by how codegen lowered the
/// script's loops.
fn too_complex_help(meta: &ProgramMeta) -> &'static str {
    match meta.bpf_loop {
        // No walked loops (bpf_loop callbacks are checked once): the size is in straight-line code.
        Some(true) | None => "the program is too large for the verifier: lower `strsize`, shorten the clause or its `unroll`s, or split the clause",
        // The verifier walks a loop once per iteration: long loops exhaust its budget.
        Some(false) => "the program is too large for the verifier, which walks every loop iteration because this kernel has no bpf_loop helper (5.17+): lower the bounds (or `strsize`), move work out of the loop, or split the clause",
    }
}

/// A load failure with the verifier's log, located at the instruction the verifier stopped on.
pub(crate) fn rejected_log(
    io_error: &std::io::Error,
    log: &str,
    meta: &ProgramMeta,
) -> RuntimeError {
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
        too_complex_help(meta)
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
