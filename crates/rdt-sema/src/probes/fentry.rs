//! `fentry:fn` / `fexit:fn` (bpftrace's older spellings `kfunc:` / `kretfunc:`, short `f:` /
//! `fr:`): BPF trampoline programs on a kernel function, with typed `args.name` from its BTF
//! prototype and, in fexit, `retval`. The runtime loads them against the function's BTF id
//! (crates/rdt-runtime/src/attach/fentry.rs) and explains kernels that refuse them.
//!
//! A wildcard (`fentry:vfs_*`) expands to the traceable functions (tracefs
//! `available_filter_functions`) that BTF describes; each gets its own program, since a
//! trampoline program is loaded against one function.

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
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*' | '?'))
    {
        return Err(
            Diagnostic::error(span, format!("invalid kernel function name `{function}`"))
                .with_label(format!("expected `{kind}:function` or a wildcard"))
                .with_help(format!("for example `{kind}:vfs_read` or `{kind}:vfs_*`")),
        );
    }
    if function.contains(['*', '?']) {
        return Ok(wildcard_functions(kind, function, span)?
            .iter()
            .map(|f| instance(f, ret))
            .collect());
    }
    if let Err(why) = function_args(function) {
        return Err(
            Diagnostic::error(span, format!("cannot trace `{function}` with {kind}"))
                .with_label("no BTF prototype")
                .with_help(why),
        );
    }
    Ok(vec![instance(function, ret)])
}

fn instance(function: &str, ret: bool) -> Instance {
    Instance {
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
            func_ip: false,
        }
        .into_context(),
        guard: None,
        label: function.to_string(),
    }
}

/// The traceable kernel functions matching `glob` that have a BTF prototype.
fn wildcard_functions(kind: &str, glob: &str, span: Span) -> Result<Vec<String>, Diagnostic> {
    let traceable = rdt_btf::kfuncs::matching(glob).map_err(|why| {
        Diagnostic::error(span, format!("cannot expand the wildcard `{glob}`"))
            .with_label("the kernel's functions cannot be listed")
            .with_help(why)
    })?;
    let found: Vec<String> = traceable
        .into_iter()
        .filter(|f| function_args(f).is_ok())
        .collect();
    if found.is_empty() {
        return Err(
            Diagnostic::error(span, format!("no kernel function matches `{glob}`"))
                .with_label("matches nothing")
                .with_help(format!(
                    "{kind} needs a traceable function (available_filter_functions) that BTF describes"
                )),
        );
    }
    Ok(found)
}

/// `rdt -l 'fentry:GLOB'`: the traceable kernel functions (tracefs `available_filter_functions`)
/// that vmlinux BTF describes; `-lv` adds their typed arguments.
pub fn list(glob: &str, verbose: bool) -> Result<Vec<super::list::Listed>, String> {
    let btf = rdt_btf::btf::vmlinux().map_err(|e| e.to_string())?;
    let described: std::collections::BTreeSet<&str> = btf
        .names_of(rdt_btf::btf::NameKind::Func)
        .into_iter()
        .collect();
    Ok(rdt_btf::kfuncs::matching(glob)?
        .into_iter()
        .filter(|f| described.contains(f.as_str()))
        .map(|f| super::list::Listed {
            args: if verbose {
                typed_arg_lines(&f)
            } else {
                Vec::new()
            },
            name: format!("fentry:{f}"),
        })
        .collect())
}

/// `    const char * filename` lines for `-lv`.
fn typed_arg_lines(function: &str) -> Vec<String> {
    function_args(function)
        .map(|typed| {
            typed
                .args
                .iter()
                .map(|a| format!("    {} {}", a.c_type, a.name))
                .collect()
        })
        .unwrap_or_default()
}
