//! Tracepoints and raw tracepoints. A tracefs tracepoint runs the program from a perf event on
//! its id (`PERF_EVENT_IOC_SET_BPF`, see [`super::perf_event`]); a raw tracepoint takes the
//! program directly (`BPF_RAW_TRACEPOINT_OPEN`). Closing the returned link detaches.

use super::perf_event::{self, PerfEventAttr};
use super::{failed, Link};
use crate::bpf_sys::raw_tracepoint_open;
use crate::error::RuntimeError;
use rdt_codegen::ProgramMeta;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// Attaches `prog` to the tracefs tracepoint `category:name`.
pub(super) fn attach(
    prog: BorrowedFd,
    meta: &ProgramMeta,
    category: &str,
    name: &str,
) -> Result<Link, RuntimeError> {
    let event = open_with_program(prog, category, name).map_err(|e| {
        failed(
            meta.probe_span,
            &format!("tracepoint {category}:{name}"),
            &e,
        )
    })?;
    Ok(Box::new(event))
}

/// Attaches `prog` to the raw tracepoint `name`.
pub(super) fn attach_raw(
    prog: BorrowedFd,
    meta: &ProgramMeta,
    name: &str,
) -> Result<Link, RuntimeError> {
    let link = raw_tracepoint_open(prog, Some(name))
        .map_err(|e| failed(meta.probe_span, &format!("raw tracepoint {name}"), &e))?;
    Ok(Box::new(link))
}

/// A perf event on the tracepoint's id, on CPU 0 for every process (a tracepoint perf event
/// runs its BPF program on whichever CPU the tracepoint fires).
fn open_with_program(prog: BorrowedFd, category: &str, name: &str) -> io::Result<OwnedFd> {
    let root = rdt_btf::tracefs::root().map_err(io::Error::other)?;
    let id_path = root.join("events").join(category).join(name).join("id");
    let id: u64 = std::fs::read_to_string(&id_path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", id_path.display())))?
        .trim()
        .parse()
        .map_err(|_| io::Error::other(format!("{} holds no number", id_path.display())))?;
    let attr = PerfEventAttr {
        wakeup_events: 1,
        sample_type: perf_event::SAMPLE_RAW,
        ..PerfEventAttr::new(perf_event::TYPE_TRACEPOINT, id)
    };
    let event = perf_event::open(&attr, None, 0)?;
    perf_event::set_bpf_and_enable(&event, prog)?;
    Ok(event)
}
