//! The bytes of a BTF blob: read into memory, or mapped read-only from sysfs. Kernels since 6.16
//! let `/sys/kernel/btf/vmlinux` be mapped, which spares copying its ~6 MB at every start.

use std::fs::File;
use std::ops::Deref;
use std::os::fd::AsRawFd;
use std::path::Path;

pub enum Bytes {
    Owned(Vec<u8>),
    Mapped { ptr: *const u8, len: usize },
}

// SAFETY: the mapping is read-only and never unmapped while a `Bytes` refers to it, so sharing
// it between threads is as safe as sharing a `&[u8]`.
unsafe impl Send for Bytes {}
unsafe impl Sync for Bytes {}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives.
            Bytes::Mapped { ptr, len } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
        }
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        if let Bytes::Mapped { ptr, len } = *self {
            // SAFETY: unmaps exactly the region `map` created; nothing borrows it any more.
            unsafe {
                libc::munmap(ptr as *mut libc::c_void, len);
            }
        }
    }
}

/// Maps the file read-only, or reads it when mapping is refused (older kernels).
pub fn map_or_read(path: &Path) -> std::io::Result<Bytes> {
    let file = File::open(path)?;
    let len = file.metadata()?.len() as usize;
    if len > 0 {
        // SAFETY: a fresh private read-only mapping of an open file; checked for MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr != libc::MAP_FAILED {
            return Ok(Bytes::Mapped {
                ptr: ptr as *const u8,
                len,
            });
        }
    }
    std::fs::read(path).map(Bytes::Owned)
}
