//! Attaching loaded programs, one module per mechanism. Each returns the links it made; dropping
//! a link detaches it.

mod detach;
pub(crate) mod fentry;
mod kprobe;
mod kprobe_events;
mod load_skipped;
pub(crate) mod perf;
mod perf_event;
mod skipped;
mod tracepoint;
pub(crate) mod uprobe;
pub(crate) mod uprobe_multi;
pub(crate) mod usdt;

use crate::error::RuntimeError;
use crate::load::Object;
use rdt_codegen::{Attach, ProgramMeta};
use rdt_syntax::{Diagnostic, Span};
use std::any::Any;
use std::io;

/// An attachment that detaches when dropped.
pub type Link = Box<dyn Any + Send>;

pub use detach::detach_all;
pub use load_skipped::load_all;

/// Attaches every program. The kprobes of one wildcard (one program or one per function, all
/// with the probe description's span) are settled together: functions the kernel refuses are
/// skipped with one warning, and only a wildcard of which nothing attached is an error.
pub fn attach_all<'a>(
    obj: &mut Object,
    programs: impl Iterator<Item = &'a ProgramMeta>,
    target_pid: Option<u32>,
) -> Result<Vec<Link>, RuntimeError> {
    let programs: Vec<&ProgramMeta> = programs.collect();
    let mut links = Vec::new();
    // Per kprobe wildcard (its span): the refused functions and how many attached.
    let mut wildcards: Vec<(Span, &'static str, skipped::Skipped, usize)> = Vec::new();
    for meta in &programs {
        if !is_kprobe_wildcard(meta, &programs) {
            links.extend(attach(obj, meta, target_pid, None)?);
            continue;
        }
        let at = match wildcards.iter().position(|w| w.0 == meta.probe_span) {
            Some(at) => at,
            None => {
                wildcards.push((meta.probe_span, kind_name(meta), Default::default(), 0));
                wildcards.len() - 1
            }
        };
        let made = attach(obj, meta, target_pid, Some(&mut wildcards[at].2))?;
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
    obj: &mut Object,
    meta: &ProgramMeta,
    target_pid: Option<u32>,
    mut skipped: Option<&mut skipped::Skipped>,
) -> Result<Vec<Link>, RuntimeError> {
    // A program whose uprobes all share one link never gets to the one-by-one attach below.
    if let Some(links) = uprobe_multi::try_attach(obj, meta)? {
        return Ok(links);
    }
    let prog = obj.program_fd(&meta.name).ok_or_else(|| {
        RuntimeError::Other(format!("internal error: program {} is missing", meta.name))
    })?;
    let mut links = Vec::new();
    for point in &meta.attach {
        match point {
            Attach::Begin | Attach::End => {}
            Attach::Tracepoint { category, name } => {
                links.push(tracepoint::attach(prog, meta, category, name)?);
            }
            Attach::RawTracepoint { name } => {
                links.push(tracepoint::attach_raw(prog, meta, name)?);
            }
            Attach::Timer { period, all_cpus } => {
                links.extend(perf::attach_timer(
                    prog, meta, *period, *all_cpus, target_pid,
                )?);
            }
            Attach::PerfCounter(counter) => {
                links.extend(perf::attach_counter(prog, meta, counter, target_pid)?);
            }
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
                links.push(uprobe::attach(prog, meta, &at)?);
            }
            Attach::Usdt {
                path,
                offset,
                semaphore,
                pid,
            } => links.push(usdt::attach(prog, meta, path, *offset, *semaphore, *pid)?),
            Attach::Kprobe {
                function,
                offset,
                ret,
            } => match (
                kprobe::attach(prog, meta, function, *offset, *ret, skipped.is_none()),
                &mut skipped,
            ) {
                (Ok(link), _) => links.push(link),
                (Err(why), Some(skipped)) => skipped.push(function, why),
                (Err(why), None) => return Err(why),
            },
            Attach::Fentry { function } => links.push(fentry::attach(prog, meta, function)?),
        }
    }
    Ok(links)
}

fn kind_name(meta: &ProgramMeta) -> &'static str {
    match meta.attach.first() {
        Some(Attach::Kprobe { ret: true, .. }) => "kretprobe",
        _ => "kprobe",
    }
}

/// A located "cannot attach" error with the kernel's reason.
pub(crate) fn failed(span: Span, what: &str, e: &io::Error) -> RuntimeError {
    RuntimeError::located(
        Diagnostic::error(span, format!("cannot attach {what}")).with_label(e.to_string()),
    )
}
