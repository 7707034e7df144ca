//! The smallest BTF that lets a program pass callbacks to bpf_for_each_map_elem: the kernel
//! wants `func_info` naming every function of such a program, with the callbacks `static`.
//! Written only when a script has a `for` over a map; other objects carry no BTF.
//!
//! `.BTF`: one integer type, two function prototypes (a program's and a callback's), one FUNC per
//! function. `.BTF.ext`: one `func_info` record per function, by section, at byte offsets.

const MAGIC: u16 = 0xeb9f;
const KIND_INT: u32 = 1;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const LINKAGE_STATIC: u32 = 0;
const LINKAGE_GLOBAL: u32 = 1;
const INT_SIGNED: u32 = 1;

const TYPE_LONG: u32 = 1;
const TYPE_PROGRAM_PROTO: u32 = 2;
const TYPE_CALLBACK_PROTO: u32 = 3;

/// One function to describe: its ELF section, its symbol, where it starts in the section.
pub struct BtfFunction<'a> {
    pub section: &'a str,
    pub name: &'a str,
    pub byte_offset: u32,
    pub callback: bool,
}

/// `(.BTF, .BTF.ext)` section contents.
pub fn encode(functions: &[BtfFunction]) -> (Vec<u8>, Vec<u8>) {
    let mut strings = Strings::default();
    let mut types = Vec::new();
    // [1] long
    push_type(&mut types, strings.add("long"), KIND_INT << 24, 8);
    push_u32(&mut types, (INT_SIGNED << 24) | 64);
    // [2] long (*)(long ctx)
    push_type(&mut types, 0, (KIND_FUNC_PROTO << 24) | 1, TYPE_LONG);
    push_u32(&mut types, strings.add("ctx"));
    push_u32(&mut types, TYPE_LONG);
    // [3] long (*)(long map, long key, long value, long ctx)
    push_type(&mut types, 0, (KIND_FUNC_PROTO << 24) | 4, TYPE_LONG);
    for param in ["map", "key", "value", "ctx"] {
        push_u32(&mut types, strings.add(param));
        push_u32(&mut types, TYPE_LONG);
    }
    // [4…] one FUNC per function.
    let mut records: Vec<(u32, u32, u32)> = Vec::new(); // (section name, byte offset, type id)
    for (i, f) in functions.iter().enumerate() {
        let (linkage, proto) = if f.callback {
            (LINKAGE_STATIC, TYPE_CALLBACK_PROTO)
        } else {
            (LINKAGE_GLOBAL, TYPE_PROGRAM_PROTO)
        };
        push_type(
            &mut types,
            strings.add(f.name),
            (KIND_FUNC << 24) | linkage,
            proto,
        );
        records.push((strings.add(f.section), f.byte_offset, 4 + i as u32));
    }
    (btf(&types, &strings.bytes), btf_ext(&records))
}

fn btf(types: &[u8], strings: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.push(1); // version
    out.push(0); // flags
    for v in [
        24,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        push_u32(&mut out, v);
    }
    out.extend_from_slice(types);
    out.extend_from_slice(strings);
    out
}

/// `.BTF.ext` with `func_info` only, grouped by section in first-seen order.
fn btf_ext(records: &[(u32, u32, u32)]) -> Vec<u8> {
    let mut info = Vec::new();
    push_u32(&mut info, 8); // record size
    let mut sections: Vec<u32> = Vec::new();
    for r in records {
        if !sections.contains(&r.0) {
            sections.push(r.0);
        }
    }
    for section in sections {
        let mut of_section: Vec<_> = records.iter().filter(|r| r.0 == section).collect();
        of_section.sort_by_key(|r| r.1);
        push_u32(&mut info, section);
        push_u32(&mut info, of_section.len() as u32);
        for r in of_section {
            push_u32(&mut info, r.1);
            push_u32(&mut info, r.2);
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.push(1);
    out.push(0);
    let len = info.len() as u32;
    // hdr_len, func_info (off, len), line_info (off, len), core_relo (off, len)
    for v in [32, 0, len, len, 0, len, 0] {
        push_u32(&mut out, v);
    }
    out.extend_from_slice(&info);
    out
}

fn push_type(out: &mut Vec<u8>, name: u32, info: u32, size_or_type: u32) {
    push_u32(out, name);
    push_u32(out, info);
    push_u32(out, size_or_type);
}

fn push_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The string section: offset 0 is the empty string; each string is stored once.
struct Strings {
    bytes: Vec<u8>,
}

impl Default for Strings {
    fn default() -> Self {
        Strings { bytes: vec![0] }
    }
}

impl Strings {
    fn add(&mut self, s: &str) -> u32 {
        let mut needle = s.as_bytes().to_vec();
        needle.push(0);
        if let Some(at) = self
            .bytes
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
            .filter(|&at| at == 0 || self.bytes[at - 1] == 0)
        {
            return at as u32;
        }
        let at = self.bytes.len() as u32;
        self.bytes.extend_from_slice(&needle);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_sizes_are_consistent() {
        let (btf, ext) = encode(&[
            BtfFunction {
                section: "tracepoint/p0",
                name: "p0",
                byte_offset: 0,
                callback: false,
            },
            BtfFunction {
                section: ".text",
                name: "cb0_0",
                byte_offset: 0,
                callback: true,
            },
        ]);
        let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        assert_eq!(u16::from_le_bytes([btf[0], btf[1]]), MAGIC);
        let (type_len, str_len) = (u32_at(&btf, 12), u32_at(&btf, 20));
        assert_eq!(btf.len(), 24 + (type_len + str_len) as usize);
        assert_eq!(u32_at(&ext, 4), 32);
        assert_eq!(ext.len(), 32 + u32_at(&ext, 12) as usize);
        // Two sections, one record each.
        assert_eq!(u32_at(&ext, 32), 8);
        assert_eq!(u32_at(&ext, 40), 1);
    }
}
