//! The uprobes of one program in one object through a single uprobe-multi link
//! (`BPF_TRACE_UPROBE_MULTI`, Linux 6.6).
//!
//! Closing a uprobe perf event waits for RCU grace periods (~80-120 ms here) and the kernel
//! closes them one after another, so a wildcard over 1,000 functions attached one event each
//! takes well over a minute to detach; one multi link attaches and detaches them all at once, and
//! closes in ~15 ms. That is why even a single uprobe goes on a link: it is what makes
//! `uprobe:… { … } interval:ms:1 { exit(); }` end in a few dozen milliseconds instead of 130. The link needs
//! the program loaded with that expected attach type, which the loader does from the start (see
//! [`crate::load`]). Whenever anything here fails — an older kernel, say — the program is loaded
//! again plainly and the caller falls back to one perf event per uprobe, so this path only ever
//! makes things faster.

use super::Link;
use crate::bpf_sys::{attach_type, link_create};
use crate::error::RuntimeError;
use crate::load::Object;
use rdt_codegen::{Attach, ProgramMeta};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

const BPF_F_UPROBE_MULTI_RETURN: u32 = 1;

/// The `BPF_LINK_CREATE` member of `union bpf_attr` with its `uprobe_multi` part.
#[repr(C)]
#[derive(Default)]
struct UprobeMultiLinkAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    path: u64,
    offsets: u64,
    ref_ctr_offsets: u64,
    cookies: u64,
    cnt: u32,
    multi_flags: u32,
    pid: u32,
    _pad: u32,
}

/// The uprobes of one program that one link can carry.
struct Group<'a> {
    path: &'a str,
    ret: bool,
    pid: Option<u32>,
    offsets: Vec<u64>,
    ref_ctr_offsets: Vec<u64>,
}

/// One more attach point of a multi link, so "Attached N probes" counts uprobes, not links.
struct SharedAttachPoint;

/// Whether all of `meta`'s uprobes can go on one link: all in one object, all entries or all
/// returns, for one process or every one.
pub fn is_candidate(meta: &ProgramMeta) -> bool {
    group(meta).is_some()
}

/// Attaches all of `meta`'s uprobes through one link, when the loader loaded the program for it.
/// `Ok(None)`: not a candidate (several objects, say), or the kernel refused the link and the
/// program has been loaded again for one perf event per uprobe.
pub fn try_attach(obj: &mut Object, meta: &ProgramMeta) -> Result<Option<Vec<Link>>, RuntimeError> {
    let Some(group) = group(meta) else {
        return Ok(None);
    };
    if !obj.loaded_for_uprobe_multi(&meta.name) {
        return Ok(None);
    }
    let made = obj
        .program_fd(&meta.name)
        .ok_or_else(|| io::Error::other("the program is missing"))
        .and_then(|program| create_link(program, &group));
    let links = settle(meta, &group, made);
    if links.is_none() {
        obj.reload_plainly(meta)?;
    }
    Ok(links)
}

/// The links of an attached group (one per uprobe, for the "Attached N probes" count), or `None`
/// after saying why not with `-v`.
fn settle(meta: &ProgramMeta, group: &Group, made: io::Result<OwnedFd>) -> Option<Vec<Link>> {
    match made {
        Ok(link) => {
            let mut links: Vec<Link> = vec![Box::new(link)];
            for _ in 1..group.offsets.len() {
                links.push(Box::new(SharedAttachPoint));
            }
            Some(links)
        }
        Err(e) => {
            if crate::VERBOSE.load(std::sync::atomic::Ordering::Relaxed) {
                eprintln!(
                    "rdt: no uprobe-multi link for {} ({e}); attaching one uprobe at a time",
                    meta.name
                );
            }
            None
        }
    }
}

fn group(meta: &ProgramMeta) -> Option<Group<'_>> {
    let mut group: Option<Group> = None;
    for point in &meta.attach {
        let (path, offset, ret, ref_ctr, pid) = match point {
            Attach::Uprobe {
                path,
                offset,
                ret,
                pid,
            } => (path.as_str(), *offset, *ret, 0, *pid),
            Attach::Usdt {
                path,
                offset,
                semaphore,
                pid,
            } => (path.as_str(), *offset, false, *semaphore, *pid),
            _ => return None,
        };
        let g = group.get_or_insert_with(|| Group {
            path,
            ret,
            pid,
            offsets: Vec::new(),
            ref_ctr_offsets: Vec::new(),
        });
        if g.path != path || g.ret != ret || g.pid != pid {
            return None;
        }
        g.offsets.push(offset);
        g.ref_ctr_offsets.push(ref_ctr);
    }
    group
}

fn create_link(program: BorrowedFd, group: &Group) -> io::Result<OwnedFd> {
    let path = CString::new(group.path)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the path"))?;
    let mut attr = UprobeMultiLinkAttr {
        prog_fd: program.as_raw_fd() as u32,
        attach_type: attach_type::TRACE_UPROBE_MULTI,
        path: path.as_ptr() as u64,
        offsets: group.offsets.as_ptr() as u64,
        ref_ctr_offsets: group.ref_ctr_offsets.as_ptr() as u64,
        cnt: group.offsets.len() as u32,
        multi_flags: if group.ret {
            BPF_F_UPROBE_MULTI_RETURN
        } else {
            0
        },
        pid: group.pid.unwrap_or(0),
        ..UprobeMultiLinkAttr::default()
    };
    link_create(&mut attr)
}
