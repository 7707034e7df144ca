//! Member offsets of a kernel struct, read from `/sys/kernel/btf/vmlinux` on demand: enough for
//! builtins such as `ppid` (`task_struct.real_parent->tgid`). Only the type section is walked,
//! once per lookup, and only by scripts that use such a builtin; a full BTF reader (types,
//! pretty-printing, CO-RE) can replace this without changing its callers.

use std::fmt;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const MAGIC: u16 = 0xeb9f;
const KIND_STRUCT: u32 = 4;

#[derive(Debug)]
pub enum MemberError {
    /// The BTF file cannot be read or is malformed.
    Btf(String),
    NoStruct(String),
    NoMember {
        strct: String,
        member: String,
    },
}

impl fmt::Display for MemberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemberError::Btf(m) => write!(f, "cannot read kernel BTF ({VMLINUX}): {m}"),
            MemberError::NoStruct(s) => write!(f, "kernel BTF has no `struct {s}`"),
            MemberError::NoMember { strct, member } => {
                write!(f, "kernel `struct {strct}` has no member `{member}`")
            }
        }
    }
}

/// Byte offsets of `members` in the kernel's `struct strct`, in the order asked.
pub fn member_offsets(strct: &str, members: &[&str]) -> Result<Vec<u32>, MemberError> {
    let data = std::fs::read(VMLINUX).map_err(|e| MemberError::Btf(e.to_string()))?;
    member_offsets_in(&data, strct, members)
}

pub fn member_offsets_in(
    data: &[u8],
    strct: &str,
    members: &[&str],
) -> Result<Vec<u32>, MemberError> {
    let btf = Btf::new(data).ok_or_else(|| MemberError::Btf("bad header".into()))?;
    let fields = btf
        .find_struct(strct)
        .ok_or_else(|| MemberError::NoStruct(strct.to_string()))?;
    members
        .iter()
        .map(|m| {
            fields
                .iter()
                .find(|(name, _)| name == m)
                .map(|(_, off)| *off)
                .ok_or_else(|| MemberError::NoMember {
                    strct: strct.to_string(),
                    member: m.to_string(),
                })
        })
        .collect()
}

struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Btf<'a> {
    fn new(data: &'a [u8]) -> Option<Btf<'a>> {
        if u16::from_le_bytes(data.get(0..2)?.try_into().ok()?) != MAGIC {
            return None;
        }
        let hdr_len = u32_at(data, 4)? as usize;
        let (type_off, type_len) = (u32_at(data, 8)? as usize, u32_at(data, 12)? as usize);
        let (str_off, str_len) = (u32_at(data, 16)? as usize, u32_at(data, 20)? as usize);
        let types = data.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
        let strings = data.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
        Some(Btf { types, strings })
    }

    fn name(&self, off: u32) -> &'a [u8] {
        let rest = self.strings.get(off as usize..).unwrap_or(&[]);
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        &rest[..end]
    }

    /// The named members of the first complete `struct name`, with their byte offsets.
    fn find_struct(&self, name: &str) -> Option<Vec<(String, u32)>> {
        let mut at = 0usize;
        while at + 12 <= self.types.len() {
            let name_off = u32_at(self.types, at)?;
            let info = u32_at(self.types, at + 4)?;
            let (kind, vlen, kind_flag) = ((info >> 24) & 0x1f, info & 0xffff, info >> 31);
            let body = at + 12;
            if kind == KIND_STRUCT && vlen > 0 && self.name(name_off) == name.as_bytes() {
                return Some(
                    (0..vlen as usize)
                        .filter_map(|i| {
                            let m = body + i * 12;
                            let member_name = self.name(u32_at(self.types, m)?);
                            let raw = u32_at(self.types, m + 8)?;
                            let bits = if kind_flag == 1 { raw & 0xff_ffff } else { raw };
                            Some((String::from_utf8_lossy(member_name).into_owned(), bits / 8))
                        })
                        .collect(),
                );
            }
            at = body + extra_bytes(kind, vlen as usize)?;
        }
        None
    }
}

/// Bytes that follow a type's 12-byte header, by kind.
fn extra_bytes(kind: u32, vlen: usize) -> Option<usize> {
    Some(match kind {
        1 | 14 | 17 => 4,             // INT, VAR, DECL_TAG
        2 | 7..=12 | 16 | 18 => 0, // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
        3 => 12,                   // ARRAY
        4 | 5 | 15 | 19 => vlen * 12, // STRUCT, UNION, DATASEC, ENUM64
        6 | 13 => vlen * 8,        // ENUM, FUNC_PROTO
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_struct_has_real_parent_and_tgid_on_this_kernel() {
        let Ok(offsets) = member_offsets("task_struct", &["real_parent", "tgid"]) else {
            eprintln!("skipped: no readable kernel BTF");
            return;
        };
        assert!(offsets[0] > 0 && offsets[1] > 0);
        assert_eq!(offsets[0] % 8, 0);
    }

    #[test]
    fn a_missing_member_is_named() {
        let Err(e) = member_offsets("task_struct", &["no_such_member"]) else {
            panic!("found a member that does not exist");
        };
        assert!(e.to_string().contains("no_such_member") || e.to_string().contains("BTF"));
    }
}
