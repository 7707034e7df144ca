//! `fentry:fn` / `fexit:fn` (bpftrace's older spellings `kfunc:` / `kretfunc:`, short `f:` /
//! `fr:`): BPF trampoline programs on a kernel function, with typed `args.name` from its BTF
//! prototype and, in fexit, `retval`. The runtime loads them against the function's BTF id
//! (crates/rdt-runtime/src/attach/fentry.rs) and explains kernels that refuse them.

use super::btf_args::{function_args, BtfContext, Source};
use super::Instance;
use crate::ir::{Attach, ProgType};
use rdt_syntax::{Diagnostic, Span};

pub fn expand(kind: &str, rest: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let ret = matches!(kind, "fexit" | "kretfunc" | "fr");
    // `fentry:vmlinux:fn` and `fentry:module:fn` name the module; BTF lookups search them all.
    let function = rest.rsplit(':').next().unwrap_or(rest);
    if function.is_empty()
        || !function
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(
            Diagnostic::error(span, format!("invalid kernel function name `{function}`"))
                .with_label(format!("expected `{kind}:function`"))
                .with_help(
                    "wildcards in fentry probes are not supported by this version of rdt yet",
                ),
        );
    }
    if let Err(why) = function_args(function) {
        return Err(
            Diagnostic::error(span, format!("cannot trace `{function}` with {kind}"))
                .with_label("no BTF prototype")
                .with_help(why),
        );
    }
    Ok(vec![Instance {
        prog_type: if ret {
            ProgType::Fexit
        } else {
            ProgType::Fentry
        },
        attach: Attach::Fentry {
            function: function.to_string(),
        },
        context: BtfContext {
            source: Source::Fentry,
            name: function.to_string(),
            ret,
        }
        .into_context(),
        guard: None,
        label: function.to_string(),
    }])
}
