//! Values captured in the kernel as a few raw bytes and turned into text in user space when
//! printed: `username`, `cwd`, `ntop()`, `macaddr()`, `cgroup_path()`, `buf()` and `strerror()`. Every layout starts with a
//! u64 (the uid, pid, address family, cgroup id or byte count) so the record is 8-aligned.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextKind {
    /// `username`: the uid, named from `/etc/passwd` when printed.
    Username,
    /// D's `cwd`: the pid, whose `/proc/PID/cwd` is read when printed.
    Cwd,
    /// `ntop([af,] addr)`: the address family, then 16 address bytes (4 used for IPv4).
    Ntop,
    /// `macaddr(addr)`: a zero header, then the 6 bytes of a MAC address (padded to 8).
    Macaddr,
    /// `cgroup_path(id)`: the cgroup id, found under the cgroup2 mount when printed.
    CgroupPath,
    /// `buf(p, n)`: the number of bytes read, then `size` bytes, printed as `\xNN` escapes.
    Buf { size: u32 },
    /// `strerror(errno)`: the error number, described as C's `strerror` does when printed.
    Strerror,
}

impl TextKind {
    /// Bytes of the header word every layout starts with.
    pub const HEADER: u32 = 8;
    /// Address bytes after an `ntop` header: room for IPv6.
    pub const NTOP_ADDR: u32 = 16;
    /// Bytes of a MAC address after a `macaddr` header.
    pub const MAC_ADDR: u32 = 6;

    pub fn size(self) -> u32 {
        match self {
            TextKind::Username | TextKind::Cwd | TextKind::CgroupPath | TextKind::Strerror => {
                Self::HEADER
            }
            TextKind::Ntop => Self::HEADER + Self::NTOP_ADDR,
            TextKind::Macaddr => Self::HEADER + 8,
            TextKind::Buf { size } => Self::HEADER + size.div_ceil(8) * 8,
        }
    }
}

impl fmt::Display for TextKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextKind::Username => write!(f, "username"),
            TextKind::Cwd => write!(f, "cwd"),
            TextKind::Ntop => write!(f, "inet"),
            TextKind::Macaddr => write!(f, "macaddr"),
            TextKind::CgroupPath => write!(f, "cgroup_path"),
            TextKind::Strerror => write!(f, "strerror"),
            TextKind::Buf { size } => write!(f, "buffer[{size}]"),
        }
    }
}
