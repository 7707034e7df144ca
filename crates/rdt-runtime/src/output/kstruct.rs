//! Kernel structs and arrays printed whole (`print(*curtask)`), laid out from BTF the way
//! bpftrace prints them: `{ .pid = 12, .comm = bash, .parent = 0xffff…, .se = { … } }`, arrays as
//! `[1,2,3]`. Members of anonymous structs and unions are printed in their parent's braces.

use crate::bytes::{c_string, field, read_u64};
use rdt_btf::btf::{Btf, Kind, TypeId, TypeRef};

/// No real kernel type nests deeper; damaged BTF must not recurse forever.
const MAX_DEPTH: u32 = 16;

/// Formats the bytes of a value of BTF type `r`.
pub fn format(r: TypeRef, bytes: &[u8]) -> String {
    value(r.btf, r.id, bytes, 0)
}

fn value(btf: &Btf, id: TypeId, bytes: &[u8], depth: u32) -> String {
    let Ok(id) = btf.resolve(id) else {
        return String::new();
    };
    let Ok(t) = btf.ty(id) else {
        return String::new();
    };
    if depth > MAX_DEPTH {
        return "…".into();
    }
    match t.kind {
        Kind::Int => {
            let signed = t.int().is_some_and(|i| i.signed);
            int(bytes, t.size_or_type, signed)
        }
        Kind::Enum | Kind::Enum64 => int(bytes, t.size_or_type, t.enum_signed()),
        Kind::Ptr => format!("0x{:x}", le(bytes, 8)),
        Kind::Float => float(bytes, t.size_or_type),
        Kind::Array => array(btf, &t, bytes, depth),
        Kind::Struct | Kind::Union => {
            let mut fields = Vec::new();
            members(btf, id, bytes, depth, &mut fields);
            if fields.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", fields.join(", "))
            }
        }
        _ => String::new(),
    }
}

/// `.name = value` for each member, flattening anonymous members.
fn members(btf: &Btf, id: TypeId, bytes: &[u8], depth: u32, out: &mut Vec<String>) {
    let Ok(list) = btf.members(id) else { return };
    for m in list {
        let start = (m.bit_offset / 8) as usize;
        if m.bitfield_size > 0 {
            let v = bitfield(bytes, m.bit_offset, m.bitfield_size);
            out.push(format!(".{} = {v}", m.name));
            continue;
        }
        let size = btf.size_of(m.ty).ok().flatten().unwrap_or(0) as usize;
        let part = bytes.get(start..start + size).unwrap_or(&[]);
        if m.name.is_empty() {
            if let Ok(inner) = btf.resolve(m.ty) {
                members(btf, inner, part, depth + 1, out);
            }
            continue;
        }
        out.push(format!(
            ".{} = {}",
            m.name,
            value(btf, m.ty, part, depth + 1)
        ));
    }
}

fn array(btf: &Btf, t: &rdt_btf::btf::BtfType, bytes: &[u8], depth: u32) -> String {
    let Ok(a) = t.array() else {
        return String::new();
    };
    let elem = btf.resolve(a.elem).and_then(|e| btf.ty(e));
    if let Ok(e) = &elem {
        if e.size_or_type == 1 && e.int().is_some_and(|i| i.char || e.name.contains("char")) {
            return c_string(bytes);
        }
    }
    let size = btf.size_of(a.elem).ok().flatten().unwrap_or(0) as usize;
    if size == 0 {
        return "[]".into();
    }
    let items: Vec<String> = bytes
        .chunks(size)
        .take(a.len as usize)
        .map(|chunk| value(btf, a.elem, chunk, depth + 1))
        .collect();
    format!("[{}]", items.join(","))
}

fn le(bytes: &[u8], size: u32) -> u64 {
    read_u64(field(bytes, 0, size))
}

fn int(bytes: &[u8], size: u32, signed: bool) -> String {
    let raw = le(bytes, size);
    let bits = (size.min(8) * 8).max(8);
    if signed && bits < 64 {
        let shift = 64 - bits;
        (((raw << shift) as i64) >> shift).to_string()
    } else if signed {
        (raw as i64).to_string()
    } else {
        raw.to_string()
    }
}

fn float(bytes: &[u8], size: u32) -> String {
    match size {
        4 => f32::from_bits(le(bytes, 4) as u32).to_string(),
        8 => f64::from_bits(le(bytes, 8)).to_string(),
        _ => le(bytes, size).to_string(),
    }
}

/// The `bits`-wide field at `bit_offset` of a little-endian struct.
fn bitfield(bytes: &[u8], bit_offset: u32, bits: u32) -> u64 {
    let mut v: u64 = 0;
    for i in 0..bits.min(64) {
        let bit = bit_offset + i;
        let byte = bytes.get((bit / 8) as usize).copied().unwrap_or(0);
        if byte >> (bit % 8) & 1 == 1 {
            v |= 1 << i;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitfields_are_read_little_endian() {
        // bits 3..6 of 0b0110_1000 = 0b101
        assert_eq!(bitfield(&[0b0110_1000], 3, 3), 0b101);
        assert_eq!(bitfield(&[0xff, 0x01], 7, 2), 0b11);
        assert_eq!(bitfield(&[], 0, 4), 0);
    }

    #[test]
    fn list_head_prints_its_pointers() {
        let Ok(btf) = rdt_btf::btf::vmlinux() else {
            eprintln!("skipped: no kernel BTF");
            return;
        };
        let id = btf
            .find(rdt_btf::btf::NameKind::Struct, "list_head")
            .unwrap();
        let mut bytes = 0xffff_8880_0000_1000u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&0u64.to_le_bytes());
        assert_eq!(
            format(TypeRef { btf, id }, &bytes),
            "{ .next = 0xffff888000001000, .prev = 0x0 }"
        );
    }
}
