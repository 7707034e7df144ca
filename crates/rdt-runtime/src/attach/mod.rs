//! Attaching loaded programs, one module per mechanism. Each returns the links it made; dropping
//! a link detaches it.

pub(crate) mod fentry;
mod kprobe;
mod kprobe_events;
pub(crate) mod perf;
mod perf_event;
mod timer;
pub(crate) mod uprobe;
mod uprobe_multi;
pub(crate) mod usdt;

use crate::error::RuntimeError;
use aya::programs::{RawTracePoint, TracePoint};
use aya::Ebpf;
use rdt_codegen::{Attach, ProgramMeta};
use rdt_syntax::{Diagnostic, Span};
use std::any::Any;

/// An attachment that detaches when dropped.
pub type Link = Box<dyn Any>;

/// Attaches `meta`'s program at every one of its attach points. BEGIN and END attach nowhere.
/// `target_pid` (`-p`/`-c`) narrows the probes that can watch one process (profile, perf
/// counters).
pub fn attach(
    ebpf: &mut Ebpf,
    meta: &ProgramMeta,
    target_pid: Option<u32>,
) -> Result<Vec<Link>, RuntimeError> {
    if let Some(links) = uprobe_multi::try_attach(ebpf, meta) {
        return Ok(links);
    }
    let mut links = Vec::new();
    for point in &meta.attach {
        let program = ebpf.program_mut(&meta.name).ok_or_else(|| {
            RuntimeError::Other(format!("internal error: program {} is missing", meta.name))
        })?;
        match point {
            Attach::Begin | Attach::End => {}
            Attach::Tracepoint { category, name } => {
                let p: &mut TracePoint = program.try_into().map_err(|_| wrong_type(meta))?;
                let id = p.attach(category, name).map_err(|e| {
                    failed(
                        meta.probe_span,
                        &format!("tracepoint {category}:{name}"),
                        &e,
                    )
                })?;
                links.push(Box::new(
                    p.take_link(id)
                        .map_err(|e| failed(meta.probe_span, "tracepoint", &e))?,
                ) as Link);
            }
            Attach::RawTracepoint { name } => {
                let p: &mut RawTracePoint = program.try_into().map_err(|_| wrong_type(meta))?;
                let id = p
                    .attach(name)
                    .map_err(|e| failed(meta.probe_span, &format!("raw tracepoint {name}"), &e))?;
                links.push(Box::new(
                    p.take_link(id)
                        .map_err(|e| failed(meta.probe_span, "raw tracepoint", &e))?,
                ) as Link);
            }
            Attach::Kprobe {
                function,
                offset,
                ret,
            } => {
                links.push(kprobe::attach(program, meta, function, *offset, *ret)?);
            }
            Attach::Fentry { function } => {
                links.push(fentry::attach(program, meta, function)?);
            }
            Attach::Timer { period, all_cpus } => {
                links.extend(timer::attach(
                    program, meta, *period, *all_cpus, target_pid,
                )?);
            }
            Attach::PerfCounter(counter) => {
                links.extend(perf::attach(program, meta, counter, target_pid)?);
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
                links.push(uprobe::attach(program, meta, &at)?);
            }
            Attach::Usdt {
                path,
                offset,
                semaphore,
                pid,
            } => {
                links.push(usdt::attach(
                    program, meta, path, *offset, *semaphore, *pid,
                )?);
            }
        }
    }
    Ok(links)
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
