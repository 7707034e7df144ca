//! Text made in user space from the raw bytes the kernel captured for a [`TextKind`] value:
//! `username` names the uid from `/etc/passwd`, `cwd` reads `/proc/PID/cwd`, `ntop` writes an
//! IPv4 or IPv6 address and `macaddr` a MAC address, `cgroup_path` finds the cgroup2 directory
//! with that id, and `buf` escapes bytes like bpftrace (`\xNN` for anything but printable ASCII).

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rdt_types::types::TextKind;

use crate::maps::{field, read_u64};

const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;
/// How deep `cgroup_path` looks under the cgroup2 mount.
const MAX_CGROUP_DEPTH: usize = 32;

/// The text a `kind` value laid out in `bytes` prints as.
pub fn format(kind: TextKind, bytes: &[u8]) -> String {
    let header = read_u64(field(bytes, 0, TextKind::HEADER));
    let body = |len: u32| field(bytes, TextKind::HEADER, len);
    match kind {
        TextKind::Username => username(header as u32),
        TextKind::Cwd => cwd(header as u32),
        TextKind::Ntop => ntop(header, body(TextKind::NTOP_ADDR)),
        TextKind::Macaddr => macaddr(body(TextKind::MAC_ADDR)),
        TextKind::CgroupPath => cgroup_path(header),
        TextKind::Strerror => strerror(header as i32),
        TextKind::Buf { size } => escape_bytes(body((header as u32).min(size))),
    }
}

/// C's `strerror(errno)` text: `No such file or directory` for 2, `Unknown error N` for
/// numbers the C library does not know.
pub fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    let os_suffix = format!(" (os error {errno})");
    text.strip_suffix(&os_suffix).unwrap_or(&text).to_string()
}

/// The user's name from `/etc/passwd`, or the uid as a number when it has none.
pub fn username(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd_name(&passwd, uid).unwrap_or_else(|| uid.to_string())
}

fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u32>().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// The process's working directory now; a process that is gone says so.
pub fn cwd(pid: u32) -> String {
    match std::fs::read_link(format!("/proc/{pid}/cwd")) {
        Ok(path) => path.to_string_lossy().into_owned(),
        Err(_) => format!("(pid {pid} has exited)"),
    }
}

/// An IPv4 or IPv6 address written like `inet_ntop`.
pub fn ntop(family: u64, addr: &[u8]) -> String {
    match family {
        AF_INET => {
            let octets: [u8; 4] = field(addr, 0, 4).try_into().unwrap_or([0; 4]);
            Ipv4Addr::from(octets).to_string()
        }
        AF_INET6 => {
            let octets: [u8; 16] = field(addr, 0, 16).try_into().unwrap_or([0; 16]);
            Ipv6Addr::from(octets).to_string()
        }
        other => format!("(address family {other})"),
    }
}

/// A MAC address as bpftrace writes it: upper-case hex bytes joined by colons.
pub fn macaddr(bytes: &[u8]) -> String {
    let mut mac = [0u8; TextKind::MAC_ADDR as usize];
    for (m, b) in mac.iter_mut().zip(bytes) {
        *m = *b;
    }
    let hex: Vec<String> = mac.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// `buf()`'s bytes: printable ASCII as itself, every other byte as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// bpftrace's form for the cgroup2 hierarchy, `unified:/path`, or the id when no cgroup2
/// directory has it (the cgroup is gone, or cgroup2 is not mounted).
pub fn cgroup_path(id: u64) -> String {
    static CACHE: Mutex<Option<HashMap<u64, String>>> = Mutex::new(None);
    let Ok(mut cache) = CACHE.lock() else {
        return id.to_string();
    };
    let known = cache.as_ref().and_then(|c| c.get(&id).cloned());
    let path = known.or_else(|| {
        let fresh = cgroup_paths();
        let found = fresh.get(&id).cloned();
        *cache = Some(fresh);
        found
    });
    match path {
        Some(p) => format!("unified:{p}"),
        None => format!("(unknown cgroup {id})"),
    }
}

/// Every directory under the cgroup2 mount by inode number (the cgroup id), as `/a/b`.
fn cgroup_paths() -> HashMap<u64, String> {
    let mut paths = HashMap::new();
    if let Some(root) = cgroup2_mount() {
        walk(&root, &root, 0, &mut paths);
    }
    paths
}

fn walk(root: &Path, dir: &Path, depth: usize, paths: &mut HashMap<u64, String>) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(dir) else {
        return;
    };
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    paths.insert(meta.ino(), format!("/{}", rel.to_string_lossy()));
    if depth >= MAX_CGROUP_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &entry.path(), depth + 1, paths);
        }
    }
}

/// Where cgroup2 is mounted, from `/proc/self/mountinfo`.
fn cgroup2_mount() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2")
            .then(|| left.split_whitespace().nth(4).map(PathBuf::from))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_escape_like_bpftrace() {
        assert_eq!(escape_bytes(b"hi\x00\xff\n"), "hi\\x00\\xff\\x0a");
    }

    #[test]
    fn addresses_print_like_inet_ntop() {
        assert_eq!(ntop(AF_INET, &[127, 0, 0, 1]), "127.0.0.1");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(ntop(AF_INET6, &v6), "::1");
        assert_eq!(ntop(99, &[]), "(address family 99)");
    }

    #[test]
    fn passwd_lines_name_their_uid() {
        let passwd =
            "root:x:0:0:root:/root:/bin/sh\nbad line\nnobody:x:65534:65534::/:/bin/false\n";
        assert_eq!(passwd_name(passwd, 65534).as_deref(), Some("nobody"));
        assert_eq!(passwd_name(passwd, 7), None);
    }

    #[test]
    fn short_records_do_not_panic() {
        assert_eq!(format(TextKind::Buf { size: 8 }, &[3, 0]), "");
        assert_eq!(format(TextKind::Ntop, &[2]), "0.0.0.0");
        assert_eq!(format(TextKind::Macaddr, &[0; 9]), "00:00:00:00:00:00");
    }

    #[test]
    fn mac_addresses_are_upper_case_hex_joined_by_colons() {
        let record = [0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0x0c, 0, 0xff, 1, 0x2d, 0, 0];
        assert_eq!(format(TextKind::Macaddr, &record), "AB:0C:00:FF:01:2D");
    }
}
