//! The uprobes of one program in one object through a single uprobe-multi link
//! (`BPF_TRACE_UPROBE_MULTI`, Linux 6.6).
//!
//! Closing a uprobe perf event waits for RCU grace periods (~80-120 ms here) and the kernel
//! closes them one after another, so a wildcard over 1,000 functions attached one event each
//! takes well over a minute to detach; one multi link attaches and detaches them all at once, and
//! closes in ~15 ms. That is why even a single uprobe goes on a link: it is what makes
//! `uprobe:… { … } interval:ms:1 { exit(); }` end in a few dozen milliseconds instead of 130. The link needs
//! the program loaded with that expected attach type. rdt's own loader does that from the start
//! (see [`crate::load`]); for an object aya loaded (one that also has kprobes), which aya 0.14
//! cannot do, this module loads a second copy of the program itself: the same instructions with
//! the same maps (taken from the copy aya loaded). Whenever anything here fails — an older kernel,
//! say — the caller falls back to one perf event per uprobe, so this path only ever makes things
//! faster.

use super::Link;
use crate::bpf_sys::{attach_type, link_create, prog_load, prog_type};
use crate::error::RuntimeError;
use crate::load::RawObject;
use aya::maps::MapData;
use aya::Ebpf;
use rdt_codegen::insn::{self, PSEUDO_MAP_FD};
use rdt_codegen::{Attach, ProgramMeta};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

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

/// The link (and the program copy it runs, if it made one) keeps the uprobes attached; dropping
/// both detaches.
struct MultiLink {
    _link: OwnedFd,
    _program: Option<OwnedFd>,
}

/// One more attach point of a [`MultiLink`], so "Attached N probes" counts uprobes, not links.
struct SharedAttachPoint;

/// Whether all of `meta`'s uprobes can go on one link: all in one object, all entries or all
/// returns, for one process or every one.
pub fn is_candidate(meta: &ProgramMeta) -> bool {
    group(meta).is_some()
}

/// Attaches all of `meta`'s uprobes through one link, or returns `None` when the program is not
/// a candidate (several objects, say) or the kernel refuses.
pub fn try_attach(ebpf: &Ebpf, meta: &ProgramMeta) -> Option<Vec<Link>> {
    let group = group(meta)?;
    let made = load_copy(ebpf, meta).and_then(|program| {
        let link = create_link(program.as_fd(), &group)?;
        Ok(MultiLink {
            _link: link,
            _program: Some(program),
        })
    });
    settle(meta, &group, made)
}

/// The same for a program rdt's own loader loaded for the link. `Ok(None)`: the kernel refused
/// the link, and the program has been loaded again for one perf event per uprobe.
pub fn try_attach_raw(
    obj: &mut RawObject,
    meta: &ProgramMeta,
) -> Result<Option<Vec<Link>>, RuntimeError> {
    let Some(group) = group(meta) else {
        return Ok(None);
    };
    if !obj.loaded_for_uprobe_multi(&meta.name) {
        return Ok(None);
    }
    let made = obj
        .program_fd(&meta.name)
        .ok_or_else(|| io::Error::other("the program is missing"))
        .and_then(|program| create_link(program, &group))
        .map(|link| MultiLink {
            _link: link,
            _program: None,
        });
    let links = settle(meta, &group, made);
    if links.is_none() {
        obj.reload_plainly(meta)?;
    }
    Ok(links)
}

/// The links of an attached group (one per uprobe, for the "Attached N probes" count), or `None`
/// after saying why not with `-v`.
fn settle(meta: &ProgramMeta, group: &Group, made: io::Result<MultiLink>) -> Option<Vec<Link>> {
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

/// Loads `meta`'s instructions again, with BPF_TRACE_UPROBE_MULTI as the expected attach type,
/// referring to the maps aya created for the first copy.
fn load_copy(ebpf: &Ebpf, meta: &ProgramMeta) -> io::Result<OwnedFd> {
    let maps = used_maps(ebpf, meta)?;
    let mut insns = meta.insns.clone();
    for (index, name) in &meta.map_refs {
        let map = maps
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| io::Error::other(format!("map {name} was not found")))?;
        let load = insns
            .get_mut(*index)
            .filter(|i| i.code == insn::LD | insn::IMM | insn::DW)
            .ok_or_else(|| io::Error::other("a map reference is not an ld_imm64"))?;
        load.src = PSEUDO_MAP_FD;
        load.imm = map.1.fd().as_fd().as_raw_fd();
    }
    prog_load(
        prog_type::KPROBE,
        attach_type::TRACE_UPROBE_MULTI,
        &meta.name,
        &insns,
    )
}

/// The maps the aya-loaded copy uses, by the names `map_refs` gives them.
///
/// Some maps (the ring buffer) have been taken out of `ebpf` by now, so they are reopened by id:
/// the kernel lists a program's maps in the order the instructions first refer to them, which is
/// the order of first appearance in `map_refs`.
fn used_maps(ebpf: &Ebpf, meta: &ProgramMeta) -> io::Result<Vec<(String, MapData)>> {
    let program = ebpf
        .program(&meta.name)
        .ok_or_else(|| io::Error::other("the program is missing"))?;
    let ids = program
        .info()
        .and_then(|i| i.map_ids())
        .map_err(io::Error::other)?
        .unwrap_or_default();
    let mut names: Vec<&str> = Vec::new();
    let mut refs: Vec<&(usize, String)> = meta.map_refs.iter().collect();
    refs.sort_by_key(|(index, _)| *index);
    for (_, name) in refs {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    if names.len() != ids.len() {
        return Err(io::Error::other(format!(
            "the program uses {} maps, its instructions name {}",
            ids.len(),
            names.len()
        )));
    }
    names
        .into_iter()
        .zip(ids)
        .map(|(name, id)| {
            let map = MapData::from_id(id).map_err(io::Error::other)?;
            check_name(&map, name)?;
            Ok((name.to_string(), map))
        })
        .collect()
}

/// The kernel keeps the first 15 bytes of a map's name: they must agree with the name the
/// instructions use, or the order assumed above does not hold.
fn check_name(map: &MapData, expected: &str) -> io::Result<()> {
    let info = map.info().map_err(io::Error::other)?;
    let actual = info.name_as_str().unwrap_or("");
    if actual.is_empty() || !expected.starts_with(actual) {
        return Err(io::Error::other(format!(
            "map {expected} came back as `{actual}`"
        )));
    }
    Ok(())
}
