//! `kprobe:fn`, `kprobe:fn+off`, `kretprobe:fn`; D's `fbt::fn:entry|return`. The program is a
//! BPF_PROG_TYPE_KPROBE over `struct pt_regs`; whether the kernel can attach it is the runtime's
//! question (it explains kernels without kprobes).
//!
//! Where the kernel has no kprobes (no kprobe PMU, no `kprobe_events`; or `RDT_NO_KPROBES=1`) but
//! fentry programs load, a kprobe at a function's entry that BTF describes compiles as fentry and
//! a kretprobe as fexit ([`fentry_stands_in`]): `argN`, typed `args.name`, `retval` and `func`
//! keep their meaning, and `-v` says so ([`stand_in_note`]).

use super::btf_args::{function_args, BtfContext, Source};
use super::Instance;
use crate::ir::{Attach, ProgType};
use crate::Params;
use rdt_syntax::{Diagnostic, Span};

pub fn expand(
    kind: &str,
    rest: &str,
    span: Span,
    params: &Params,
) -> Result<Vec<Instance>, Diagnostic> {
    let (function, ret) = if kind == "fbt" {
        d_spec(rest, span)?
    } else {
        (rest, matches!(kind, "kretprobe" | "kr"))
    };
    let (function, offset) = match function.split_once('+') {
        Some((f, off)) => (f, parse_offset(off, span)?),
        None => (function, 0),
    };
    let wildcard = function.contains(['*', '?']);
    if function.is_empty()
        || !function
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*' | '?'))
    {
        return Err(
            Diagnostic::error(span, format!("invalid kernel function name `{function}`"))
                .with_label("expected `kprobe:function`, `kprobe:function+offset` or a wildcard")
                .with_help("for example `kprobe:vfs_read` or `kprobe:vfs_*`"),
        );
    }
    if ret && offset != 0 {
        return Err(Diagnostic::error(span, "a kretprobe cannot have an offset")
            .with_label("remove `+offset`"));
    }
    if wildcard && offset != 0 {
        return Err(
            Diagnostic::error(span, "a wildcard kprobe cannot have an offset")
                .with_label("an offset is only meaningful in one function"),
        );
    }
    let functions = if wildcard {
        wildcard_functions(function, span)?
    } else {
        vec![function.to_string()]
    };
    if offset == 0 && fentry_stands_in(params) {
        let described: Vec<&String> = functions
            .iter()
            .filter(|f| function_args(f).is_ok())
            .collect();
        // Without a BTF prototype it stays a kprobe, whose attach explains what is missing.
        if !described.is_empty() {
            return Ok(described
                .into_iter()
                .map(|f| super::fentry::instance(f, ret))
                .collect());
        }
    }
    Ok(functions
        .into_iter()
        .map(|function| Instance {
            prog_type: ProgType::Kprobe,
            label: function.clone(),
            names: None,
            context: BtfContext {
                source: Source::Kprobe,
                name: function.clone(),
                ret,
                // Inside a function (`+offset`) the helper has no entry address to give.
                func_ip: offset == 0,
            }
            .into_context(),
            attach: Attach::Kprobe {
                function,
                offset,
                ret,
            },
            guard: None,
        })
        .collect())
}

/// Whether fentry/fexit replace kprobes here: the kernel has no kprobes but fentry loads.
fn fentry_stands_in(params: &Params) -> bool {
    rdt_btf::kprobes::mechanism().is_err()
        && params.fentry_check.is_some_and(|loads| loads().is_ok())
}

/// `-v`: the line saying kprobes are unavailable and fentry (fexit) is used instead.
pub fn stand_in_note(text: &str, instances: &[Instance]) -> Option<String> {
    let trampoline = match instances.first()?.prog_type {
        ProgType::Fentry => "fentry",
        ProgType::Fexit => "fexit",
        _ => return None,
    };
    let why = rdt_btf::kprobes::mechanism().err()?;
    Some(format!(
        "kprobes are unavailable ({why}); `{text}` uses {trampoline} instead"
    ))
}

/// The kernel functions matching `glob`, from tracefs `available_filter_functions` (also the
/// start of fentry's wildcards); an error at `span` when they cannot be listed.
pub(super) fn matching_functions(glob: &str, span: Span) -> Result<Vec<String>, Diagnostic> {
    rdt_btf::kfuncs::matching(glob).map_err(|why| {
        Diagnostic::error(span, format!("cannot expand the wildcard `{glob}`"))
            .with_label("the kernel's functions cannot be listed")
            .with_help(why)
    })
}

/// The kernel functions a wildcard names.
fn wildcard_functions(glob: &str, span: Span) -> Result<Vec<String>, Diagnostic> {
    let found = matching_functions(glob, span)?;
    if found.is_empty() {
        return Err(
            Diagnostic::error(span, format!("no kernel function matches `{glob}`"))
                .with_label("matches nothing")
                .with_help(format!(
                    "`rdt -l 'kprobe:{glob}'` lists the functions kprobes can attach to"
                )),
        );
    }
    Ok(found)
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

/// `rdt -l 'kprobe:GLOB'`: the kernel functions kprobes can attach to.
pub fn list(glob: &str, _verbose: bool) -> Result<Vec<super::list::Listed>, String> {
    Ok(rdt_btf::kfuncs::matching(glob)?
        .into_iter()
        .map(|f| super::list::Listed {
            name: format!("kprobe:{f}"),
            args: Vec::new(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loads() -> Result<(), String> {
        Ok(())
    }

    fn refused() -> Result<(), String> {
        Err("no trampolines".into())
    }

    /// The stand-in is only testable where kprobes are missing (this machine) and BTF exists.
    fn kprobes_missing_with_btf() -> bool {
        let ok = rdt_btf::kprobes::mechanism().is_err() && rdt_btf::btf::vmlinux().is_ok();
        if !ok {
            eprintln!("skipped: this kernel has kprobes or no BTF");
        }
        ok
    }

    fn prog_type(spec: &str, check: Option<fn() -> Result<(), String>>) -> ProgType {
        let (kind, rest) = spec.split_once(':').unwrap();
        let params = Params {
            fentry_check: check,
            ..Params::default()
        };
        expand(kind, rest, Span::default(), &params).unwrap()[0].prog_type
    }

    #[test]
    fn fentry_and_fexit_stand_in_where_they_load() {
        if !kprobes_missing_with_btf() {
            return;
        }
        assert_eq!(
            prog_type("kprobe:do_sys_openat2", Some(loads)),
            ProgType::Fentry
        );
        assert_eq!(
            prog_type("kretprobe:do_sys_openat2", Some(loads)),
            ProgType::Fexit
        );
        assert_eq!(
            prog_type("fbt::do_sys_openat2:entry", Some(loads)),
            ProgType::Fentry
        );
    }

    #[test]
    fn kprobes_stay_where_fentry_cannot_stand_in() {
        if !kprobes_missing_with_btf() {
            return;
        }
        assert_eq!(
            prog_type("kprobe:do_sys_openat2", Some(refused)),
            ProgType::Kprobe
        );
        assert_eq!(prog_type("kprobe:do_sys_openat2", None), ProgType::Kprobe);
        assert_eq!(
            prog_type("kprobe:do_sys_openat2+4", Some(loads)),
            ProgType::Kprobe
        );
        assert_eq!(
            prog_type("kprobe:no_such_function_at_all", Some(loads)),
            ProgType::Kprobe
        );
    }

    #[test]
    fn the_note_names_the_probe_and_its_trampoline() {
        if !kprobes_missing_with_btf() {
            return;
        }
        let params = Params {
            fentry_check: Some(loads),
            ..Params::default()
        };
        let instances = expand("kretprobe", "do_sys_openat2", Span::default(), &params).unwrap();
        let note = stand_in_note("kretprobe:do_sys_openat2", &instances).unwrap();
        assert!(note.starts_with("kprobes are unavailable ("), "{note}");
        assert!(
            note.ends_with("`kretprobe:do_sys_openat2` uses fexit instead"),
            "{note}"
        );
        let params = Params::default();
        let instances = expand("kprobe", "do_sys_openat2", Span::default(), &params).unwrap();
        assert_eq!(stand_in_note("kprobe:do_sys_openat2", &instances), None);
    }
}
