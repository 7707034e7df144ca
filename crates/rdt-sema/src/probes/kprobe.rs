//! `kprobe:fn`, `kprobe:fn+off`, `kretprobe:fn`; D's `fbt::fn:entry|return`. The program is a
//! BPF_PROG_TYPE_KPROBE over `struct pt_regs`; whether the kernel can attach it is the runtime's
//! question (it explains kernels without kprobes).

use super::btf_args::{BtfContext, Source};
use super::Instance;
use crate::ir::{Attach, ProgType};
use rdt_syntax::{Diagnostic, Span};

pub fn expand(kind: &str, rest: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let (function, ret) = if kind == "fbt" {
        d_spec(rest, span)?
    } else {
        (rest, matches!(kind, "kretprobe" | "kr"))
    };
    let (function, offset) = match function.split_once('+') {
        Some((f, off)) => (f, parse_offset(off, span)?),
        None => (function, 0),
    };
    if function.is_empty()
        || !function
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(
            Diagnostic::error(span, format!("invalid kernel function name `{function}`"))
                .with_label("expected `kprobe:function` or `kprobe:function+offset`")
                .with_help("wildcards in kprobes are not supported by this version of rdt yet"),
        );
    }
    if ret && offset != 0 {
        return Err(Diagnostic::error(span, "a kretprobe cannot have an offset")
            .with_label("remove `+offset`"));
    }
    Ok(vec![Instance {
        prog_type: ProgType::Kprobe,
        attach: Attach::Kprobe {
            function: function.to_string(),
            offset,
            ret,
        },
        context: BtfContext {
            source: Source::Kprobe,
            name: function.to_string(),
            ret,
        }
        .into_context(),
        guard: None,
        label: function.to_string(),
    }])
}

/// `fbt::vfs_read:entry` → (`vfs_read`, false); the module part is ignored.
fn d_spec(rest: &str, span: Span) -> Result<(&str, bool), Diagnostic> {
    let parts: Vec<&str> = rest.split(':').collect();
    match parts.as_slice() {
        [_module, function, "entry"] => Ok((function, false)),
        [_module, function, "return"] => Ok((function, true)),
        _ => Err(Diagnostic::error(span, "invalid fbt probe")
            .with_label("expected `fbt::function:entry` or `fbt::function:return`")),
    }
}

fn parse_offset(text: &str, span: Span) -> Result<u64, Diagnostic> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| {
        Diagnostic::error(span, format!("invalid offset `{text}`"))
            .with_label("expected a number after `+`")
    })
}
