//! `fentry:fn` / `fexit:fn` (bpftrace's older spellings `kfunc:` / `kretfunc:`, short `f:` /
//! `fr:`): BPF trampoline programs on a kernel function, with typed `args.name` from its BTF
//! prototype and, in fexit, `retval`. The runtime loads them against the function's BTF id
//! (crates/rdt-runtime/src/attach/fentry.rs) and explains kernels that refuse them.
//!
//! A wildcard (`fentry:vfs_*`) expands to the traceable functions (tracefs
//! `available_filter_functions`) that BTF describes; each gets its own program, since a
//! trampoline program is loaded against one function.

use super::btf_args::{function_args, BtfContext, Source};
use super::list::{Listed, Query};
use super::Instance;
use crate::ir::{Attach, ProgType};
use crate::ktypes;
use rdt_btf::btf::{self, Btf, NameKind};
use rdt_btf::kfuncs;
use rdt_btf::tracefs::glob_match;
use rdt_syntax::{Diagnostic, Span};
use std::collections::BTreeSet;

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

pub(super) fn instance(function: &str, ret: bool) -> Instance {
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
        names: None,
    }
}

/// The traceable kernel functions matching `glob` that have a BTF prototype.
fn wildcard_functions(kind: &str, glob: &str, span: Span) -> Result<Vec<String>, Diagnostic> {
    let found: Vec<String> = super::kprobe::matching_functions(glob, span)?
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

/// `rdt -l 'fentry:[MODULE:]GLOB'`: the kernel functions a trampoline can attach to, as
/// `fentry:MODULE:function`; `-lv` adds the parameters of each one's BTF prototype.
pub fn list_fentry(query: &Query) -> Result<Vec<Listed>, String> {
    list_functions("fentry", query)
}

/// `rdt -l 'fexit:[MODULE:]GLOB'`: as [`list_fentry`]; `-lv` also shows `retval`.
pub fn list_fexit(query: &Query) -> Result<Vec<Listed>, String> {
    list_functions("fexit", query)
}

/// A trampoline needs both the function's BTF prototype and its ftrace entry, so the functions
/// listed are the BTF FUNC names that `available_filter_functions` also names.
fn list_functions(kind: &str, query: &Query) -> Result<Vec<Listed>, String> {
    let (module_glob, function_glob) = query.glob.split_once(':').unwrap_or(("*", query.glob));
    let traceable: BTreeSet<String> = kfuncs::traceable(function_glob)?.into_iter().collect();
    let vmlinux = ktypes::vmlinux()?;
    let mut blobs = vec![("vmlinux".to_string(), vmlinux, 0)];
    let base_names = vmlinux.names_of(NameKind::Func).len();
    for module in btf::module_names() {
        if let Ok(b) = btf::module(&module) {
            blobs.push((module, b, base_names));
        }
    }
    let mut out = Vec::new();
    for (module, blob, skip) in blobs {
        if !glob_match(module_glob, &module) {
            continue;
        }
        // A module's split BTF lists vmlinux's names first.
        let mut names: Vec<&str> = blob.names_of(NameKind::Func).split_off(skip);
        names.retain(|n| traceable.contains(*n));
        names.sort_unstable();
        names.dedup();
        for name in names {
            let args = if query.verbose {
                prototype(blob, name, kind == "fexit")
            } else {
                Vec::new()
            };
            out.push(Listed {
                name: format!("{kind}:{module}:{name}"),
                args,
            });
        }
    }
    Ok(out)
}

/// `    struct file * file`, one line per parameter, and `    ssize_t retval` for fexit.
fn prototype(blob: &Btf, function: &str, ret: bool) -> Vec<String> {
    let Some(id) = blob.find(NameKind::Func, function) else {
        return Vec::new();
    };
    let Ok((params, ret_type)) = blob.func_params(id) else {
        return Vec::new();
    };
    let mut lines: Vec<String> = params
        .iter()
        .take_while(|p| p.ty != 0) // `...`
        .enumerate()
        .map(|(i, p)| {
            let name = if p.name.is_empty() {
                format!("arg{i}")
            } else {
                p.name.to_string()
            };
            format!("    {} {name}", blob.type_name(p.ty))
        })
        .collect();
    if ret {
        lines.push(format!("    {} retval", blob.type_name(ret_type)));
    }
    lines
}
