//! Attaching loaded programs, one module per mechanism. Each returns the links it made; dropping
//! a link detaches it.

mod detach;
pub(crate) mod fentry;
mod kprobe;
mod kprobe_events;
mod load_skipped;
pub(crate) mod perf;
mod perf_event;
mod raw;
mod skipped;
pub(crate) mod uprobe;
pub(crate) mod uprobe_multi;
pub(crate) mod usdt;

use crate::error::RuntimeError;
use crate::load::Loaded;
use rdt_codegen::{Attach, ProgramMeta};
use rdt_syntax::{Diagnostic, Span};
use std::any::Any;
use std::os::fd::BorrowedFd;

/// An attachment that detaches when dropped.
pub type Link = Box<dyn Any + Send>;

pub use detach::detach_all;
pub use load_skipped::load_all;

/// Attaches every program. The kprobes of one wildcard (one program or one per function, all
/// with the probe description's span) are settled together: functions the kernel refuses are
/// skipped with one warning, and only a wildcard of which nothing attached is an error.
pub fn attach_all<'a>(
    ebpf: &mut Loaded,
    programs: impl Iterator<Item = &'a ProgramMeta>,
    target_pid: Option<u32>,
) -> Result<Vec<Link>, RuntimeError> {
    let programs: Vec<&ProgramMeta> = programs.collect();
    let mut links = Vec::new();
    // Per kprobe wildcard (its span): the refused functions and how many attached.
    let mut wildcards: Vec<(Span, &'static str, skipped::Skipped, usize)> = Vec::new();
    for meta in &programs {
        if !is_kprobe_wildcard(meta, &programs) {
            links.extend(attach(ebpf, meta, target_pid, None)?);
            continue;
        }
        let at = match wildcards.iter().position(|w| w.0 == meta.probe_span) {
            Some(at) => at,
            None => {
                wildcards.push((meta.probe_span, kind_name(meta), Default::default(), 0));
                wildcards.len() - 1
            }
        };
        let made = attach(ebpf, meta, target_pid, Some(&mut wildcards[at].2))?;
        wildcards[at].3 += made.len();
        links.extend(made);
    }
    for (_, kind, skipped, attached) in wildcards {
        if let Some(warning) = skipped.settle(kind, attached)? {
            eprintln!("{warning}");
        }
    }
    Ok(links)
}

/// Whether `meta` attaches kprobes of a wildcard: its probe description gives several.
fn is_kprobe_wildcard(meta: &ProgramMeta, programs: &[&ProgramMeta]) -> bool {
    let kprobes_only = meta
        .attach
        .iter()
        .all(|a| matches!(a, Attach::Kprobe { .. }));
    let points: usize = programs
        .iter()
        .filter(|p| p.probe_span == meta.probe_span)
        .map(|p| p.attach.len())
        .sum();
    kprobes_only && points > 1
}

/// Attaches `meta`'s program at every one of its attach points. BEGIN and END attach nowhere.
/// `target_pid` (`-p`/`-c`) narrows the probes that can watch one process (profile, perf
/// counters). Kprobes the kernel refuses go to `skipped` when given (a wildcard's functions).
fn attach(
    obj: &mut Loaded,
    meta: &ProgramMeta,
    target_pid: Option<u32>,
    skipped: Option<&mut skipped::Skipped>,
) -> Result<Vec<Link>, RuntimeError> {
    if let Some(links) = uprobe_multi::try_attach_raw(obj, meta)? {
        return Ok(links);
    }
    let prog = obj.program_fd(&meta.name).ok_or_else(|| {
        RuntimeError::Other(format!("internal error: program {} is missing", meta.name))
    })?;
    raw::attach(prog, meta, target_pid, skipped)
}

/// Attaches `prog` at a uprobe, uretprobe or USDT site, one perf event on the uprobe PMU; the
/// same for either loader.
fn user_space(prog: BorrowedFd, meta: &ProgramMeta, point: &Attach) -> Result<Link, RuntimeError> {
    match point {
        Attach::Uprobe {
            path,
            offset,
            ret,
            pid,
        } => {
            let at = uprobe::Placement {
                path,
                offset: *offset,
                ret: *ret,
                ref_ctr_offset: 0,
                pid: *pid,
            };
            uprobe::attach(prog, meta, &at)
        }
        Attach::Usdt {
            path,
            offset,
            semaphore,
            pid,
        } => usdt::attach(prog, meta, path, *offset, *semaphore, *pid),
        _ => Err(wrong_type(meta)),
    }
}

fn kind_name(meta: &ProgramMeta) -> &'static str {
    match meta.attach.first() {
        Some(Attach::Kprobe { ret: true, .. }) => "kretprobe",
        _ => "kprobe",
    }
}

pub(crate) fn wrong_type(meta: &ProgramMeta) -> RuntimeError {
    RuntimeError::Other(format!(
        "internal error: program {} has the wrong type",
        meta.name
    ))
}

pub(crate) fn failed(span: Span, what: &str, e: &dyn std::error::Error) -> RuntimeError {
    let mut cause = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        cause = format!("{cause}: {s}");
        source = s.source();
    }
    RuntimeError::located(
        Diagnostic::error(span, format!("cannot attach {what}")).with_label(cause),
    )
}
