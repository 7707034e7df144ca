//! rdt's layer over the `bpf()` system call: the map commands here (key and value sizes are only
//! known at run time), the program, BTF and link commands in [`prog`].
//!
//! Each command fills the part of `union bpf_attr` it uses, as a `#[repr(C)]` struct with explicit
//! padding fields so that no byte handed to the kernel is uninitialised (the kernel rejects
//! non-zero bytes past the fields a command knows).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;

mod prog;
pub(crate) use prog::{
    attach_type, btf_load, link_create, prog_load, prog_load_at, prog_test_run, prog_type,
    raw_tracepoint_open, ProgBtf, ProgLoad,
};

/// `enum bpf_cmd` values used here.
mod cmd {
    pub const MAP_CREATE: u32 = 0;
    pub const MAP_LOOKUP_ELEM: u32 = 1;
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const MAP_DELETE_ELEM: u32 = 3;
    pub const MAP_GET_NEXT_KEY: u32 = 4;
    pub const MAP_LOOKUP_BATCH: u32 = 24;
}

/// `enum bpf_map_type` values (one list, shared with codegen).
pub use rdt_codegen::insn::map_type;

/// Flags of `BPF_MAP_UPDATE_ELEM`.
pub mod update_flags {
    /// Create or replace.
    pub const ANY: u64 = 0;
    /// Create only.
    pub const NOEXIST: u64 = 1;
    /// Replace only.
    pub const EXIST: u64 = 2;
}

/// `BPF_OBJ_NAME_LEN`.
const OBJ_NAME_LEN: usize = 16;

/// The `BPF_MAP_CREATE` member of `union bpf_attr`, up to `map_extra`.
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; OBJ_NAME_LEN],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
}

/// The `BPF_MAP_*_ELEM` member of `union bpf_attr`; `value` doubles as `next_key`.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// The `batch` member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct MapBatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

pub(crate) fn sys_bpf<T>(command: u32, attr: &mut T) -> io::Result<i64> {
    // SAFETY: `attr` is a #[repr(C)] prefix of `union bpf_attr`, fully initialised, and its size
    // is passed along; every pointer inside it refers to a live buffer of the size the kernel
    // derives from the map's key/value sizes (the callers check those lengths).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            command as libc::c_long,
            attr as *mut T,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn ptr(buf: &[u8]) -> u64 {
    buf.as_ptr() as u64
}

fn mut_ptr(buf: &mut [u8]) -> u64 {
    buf.as_mut_ptr() as u64
}

fn fd_u32(fd: BorrowedFd) -> u32 {
    fd.as_raw_fd() as u32
}

/// A kernel object name (`BPF_OBJ_NAME_LEN`): at most 15 bytes, NUL-terminated, and only
/// `[A-Za-z0-9_.]`, which is all the kernel accepts (anything else becomes `_`).
fn object_name(name: &str) -> [u8; OBJ_NAME_LEN] {
    let mut out = [0u8; OBJ_NAME_LEN];
    for (dst, src) in out.iter_mut().zip(name.bytes().take(OBJ_NAME_LEN - 1)) {
        *dst = if src.is_ascii_alphanumeric() || src == b'_' || src == b'.' {
            src
        } else {
            b'_'
        };
    }
    out
}

fn is_enoent(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ENOENT)
}

/// Creates a map (feature probes and tests).
pub fn map_create(
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    name: &str,
) -> io::Result<OwnedFd> {
    map_create_with_flags(map_type, key_size, value_size, max_entries, 0, name)
}

/// Creates a map with `BPF_F_*` creation flags (the loader creates scripts' maps this way).
pub fn map_create_with_flags(
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    name: &str,
) -> io::Result<OwnedFd> {
    let mut attr = MapCreateAttr {
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags,
        map_name: object_name(name),
        ..Default::default()
    };
    let fd = sys_bpf(cmd::MAP_CREATE, &mut attr)?;
    // SAFETY: BPF_MAP_CREATE returned a fresh file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Writes into `next` the key that follows `key` (the first key when `key` is `None`).
/// Returns `false` when there is no next key. `next` must be the map's key size.
pub fn map_get_next_key(fd: BorrowedFd, key: Option<&[u8]>, next: &mut [u8]) -> io::Result<bool> {
    let mut attr = MapElemAttr {
        map_fd: fd_u32(fd),
        key: key.map_or(0, ptr),
        value: mut_ptr(next),
        ..Default::default()
    };
    match sys_bpf(cmd::MAP_GET_NEXT_KEY, &mut attr) {
        Ok(_) => Ok(true),
        Err(e) if is_enoent(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads the value under `key` into `value` (for per-CPU maps, all CPUs' slots: see
/// [`per_cpu_value_size`]). Returns `false` when the key is absent.
pub fn map_lookup(fd: BorrowedFd, key: &[u8], value: &mut [u8]) -> io::Result<bool> {
    let mut attr = MapElemAttr {
        map_fd: fd_u32(fd),
        key: ptr(key),
        value: mut_ptr(value),
        ..Default::default()
    };
    match sys_bpf(cmd::MAP_LOOKUP_ELEM, &mut attr) {
        Ok(_) => Ok(true),
        Err(e) if is_enoent(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes `value` under `key`; `flags` is one of [`update_flags`].
pub fn map_update(fd: BorrowedFd, key: &[u8], value: &[u8], flags: u64) -> io::Result<()> {
    let mut attr = MapElemAttr {
        map_fd: fd_u32(fd),
        key: ptr(key),
        value: ptr(value),
        flags,
        ..Default::default()
    };
    sys_bpf(cmd::MAP_UPDATE_ELEM, &mut attr).map(drop)
}

/// Deletes `key`. Returns `false` when it was not there.
pub fn map_delete(fd: BorrowedFd, key: &[u8]) -> io::Result<bool> {
    let mut attr = MapElemAttr {
        map_fd: fd_u32(fd),
        key: ptr(key),
        ..Default::default()
    };
    match sys_bpf(cmd::MAP_DELETE_ELEM, &mut attr) {
        Ok(_) => Ok(true),
        Err(e) if is_enoent(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// How many entries one batch call asks for.
const BATCH_ENTRIES: usize = 256;

/// Reads every entry with `BPF_MAP_LOOKUP_BATCH`: one system call per [`BATCH_ENTRIES`] entries
/// instead of two per entry. `value_size` is the whole value as user space sees it (all CPUs'
/// slots for a per-CPU map). Fails (typically EINVAL or ENOTSUPP) where the kernel or the map
/// type has no batch support; [`map_entries`] falls back to key iteration then.
pub fn map_lookup_batch(
    fd: BorrowedFd,
    key_size: usize,
    value_size: usize,
) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    lookup_batch_in_chunks(fd, key_size, value_size, BATCH_ENTRIES)
}

fn lookup_batch_in_chunks(
    fd: BorrowedFd,
    key_size: usize,
    value_size: usize,
    mut chunk: usize,
) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut entries = Vec::new();
    // The batch token is opaque (a bucket index for hash maps, a key for arrays); the kernel
    // copies at most key_size bytes into it, and at least 4 for hash maps.
    let token_size = key_size.max(8);
    let mut in_token = vec![0u8; token_size];
    let mut out_token = vec![0u8; token_size];
    let mut first = true;
    loop {
        let mut keys = vec![0u8; key_size * chunk];
        let mut values = vec![0u8; value_size * chunk];
        let mut attr = MapBatchAttr {
            in_batch: if first { 0 } else { ptr(&in_token) },
            out_batch: mut_ptr(&mut out_token),
            keys: mut_ptr(&mut keys),
            values: mut_ptr(&mut values),
            count: chunk as u32,
            map_fd: fd_u32(fd),
            ..Default::default()
        };
        let result = sys_bpf(cmd::MAP_LOOKUP_BATCH, &mut attr);
        let done = match result {
            Ok(_) => false,
            Err(e) if is_enoent(&e) => true,
            // One hash bucket holds more entries than `chunk`: retry the same batch, larger.
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && chunk < 1 << 16 => {
                chunk *= 4;
                continue;
            }
            Err(e) => return Err(e),
        };
        let filled = (attr.count as usize).min(chunk);
        for i in 0..filled {
            let key = keys[i * key_size..(i + 1) * key_size].to_vec();
            let value = values[i * value_size..(i + 1) * value_size].to_vec();
            entries.push((key, value));
        }
        if done {
            return Ok(entries);
        }
        std::mem::swap(&mut in_token, &mut out_token);
        first = false;
    }
}

/// Reads every entry of a map: in batches when the kernel can, else key by key. Keys deleted
/// while iterating are skipped. `value_size` as for [`map_lookup_batch`].
pub fn map_entries(
    fd: BorrowedFd,
    key_size: usize,
    value_size: usize,
) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    match map_lookup_batch(fd, key_size, value_size) {
        Ok(entries) => Ok(entries),
        Err(_) => map_entries_by_key(fd, key_size, value_size),
    }
}

/// Reads every entry with get_next_key + lookup (works on every kernel and map type).
pub fn map_entries_by_key(
    fd: BorrowedFd,
    key_size: usize,
    value_size: usize,
) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut entries = Vec::new();
    let mut key: Option<Vec<u8>> = None;
    let mut next = vec![0u8; key_size];
    while map_get_next_key(fd, key.as_deref(), &mut next)? {
        let mut value = vec![0u8; value_size];
        // The key may be deleted between the two calls (the kernel side runs concurrently).
        if map_lookup(fd, &next, &mut value)? {
            entries.push((next.clone(), value));
        }
        key = Some(next.clone());
    }
    Ok(entries)
}

/// Bytes of one value as user space reads it from a per-CPU map: each CPU's slot is rounded up
/// to 8 bytes, one slot per possible CPU.
pub fn per_cpu_value_size(value_size: u32) -> io::Result<usize> {
    Ok(round_up_8(value_size as usize) * possible_cpus()? as usize)
}

pub fn round_up_8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`), which sizes per-CPU values.
pub fn possible_cpus() -> io::Result<u32> {
    static CACHE: OnceLock<u32> = OnceLock::new();
    if let Some(n) = CACHE.get() {
        return Ok(*n);
    }
    let n = rdt_btf::machine::possible_cpus()?;
    Ok(*CACHE.get_or_init(|| n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn attr_layouts_match_the_kernel() {
        assert_eq!(std::mem::size_of::<MapCreateAttr>(), 72);
        assert_eq!(std::mem::offset_of!(MapCreateAttr, map_name), 28);
        assert_eq!(std::mem::offset_of!(MapCreateAttr, map_ifindex), 44);
        assert_eq!(std::mem::offset_of!(MapCreateAttr, map_extra), 64);
        assert_eq!(std::mem::size_of::<MapElemAttr>(), 32);
        assert_eq!(std::mem::offset_of!(MapElemAttr, key), 8);
        assert_eq!(std::mem::offset_of!(MapElemAttr, flags), 24);
        assert_eq!(std::mem::size_of::<MapBatchAttr>(), 56);
        assert_eq!(std::mem::offset_of!(MapBatchAttr, count), 32);
        assert_eq!(std::mem::offset_of!(MapBatchAttr, map_fd), 36);
        assert_eq!(std::mem::offset_of!(MapBatchAttr, elem_flags), 40);
    }

    #[test]
    fn batch_grows_its_chunk_when_a_bucket_does_not_fit() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            println!("skipped: needs root");
            return;
        }
        // 64 entries in 64 buckets: some bucket holds two, which a chunk of 1 cannot take
        // (ENOSPC), so the reader must retry that batch with a bigger chunk.
        let map = map_create(map_type::HASH, 4, 4, 64, "rdt_chunk").expect("create");
        let fd = map.as_fd();
        for i in 0..64u32 {
            map_update(
                fd,
                &i.to_le_bytes(),
                &(i * 2).to_le_bytes(),
                update_flags::ANY,
            )
            .expect("update");
        }
        let mut entries = lookup_batch_in_chunks(fd, 4, 4, 1).expect("batch");
        entries.sort();
        let expected: Vec<_> = (0..64u32)
            .map(|i| (i.to_le_bytes().to_vec(), (i * 2).to_le_bytes().to_vec()))
            .collect();
        assert_eq!(entries, expected);
    }

    #[test]
    fn object_names_are_truncated_and_sanitised() {
        assert_eq!(&object_name("p0_sys_enter_openat"), b"p0_sys_enter_op\0");
        assert_eq!(&object_name("a:b")[..4], b"a_b\0");
    }

    #[test]
    fn possible_cpus_reads_sysfs() {
        let n = possible_cpus().expect("possible cpus");
        assert!(n >= 1);
        assert_eq!(per_cpu_value_size(4).expect("size"), 8 * n as usize);
    }
}
