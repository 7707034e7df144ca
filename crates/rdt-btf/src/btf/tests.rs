//! Hand-built BTF blobs: the parts of the format the real vmlinux (tests/btf_vmlinux.rs) may not
//! show on every kernel, such as split BTF and old-style bitfields.

use super::*;

/// Builds a BTF blob from type records (already encoded) and a string table.
struct Builder {
    types: Vec<u8>,
    strings: Vec<u8>,
    /// Length of the base's string section (split blobs number their strings after it).
    base_strings: usize,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            types: Vec::new(),
            strings: vec![0],
            base_strings: 0,
        }
    }

    /// A split blob continues the base's string offsets.
    fn split(base_strings: usize) -> Builder {
        let mut b = Builder::new();
        b.strings.clear();
        b.base_strings = base_strings;
        b
    }

    fn str(&mut self, s: &str) -> u32 {
        let at = self.strings.len() + self.base_strings;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        at as u32
    }

    fn words(&mut self, words: &[u32]) {
        for w in words {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
    }

    fn ty(&mut self, name: &str, kind: u32, vlen: u32, kind_flag: bool, size_or_type: u32) {
        let name = if name.is_empty() { 0 } else { self.str(name) };
        let info = kind << 24 | vlen | u32::from(kind_flag) << 31;
        self.words(&[name, info, size_or_type]);
    }

    fn build(self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&[1, 0]);
        let words = [
            24u32,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strings.len() as u32,
        ];
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

fn base() -> &'static Btf {
    let mut b = Builder::new();
    // 1: int (signed, 32 bits)
    b.ty("int", 1, 0, false, 4);
    b.words(&[1 << 24 | 32]);
    // 2: struct pair { int a; int b:3 (old style: int with 3 bits at offset 35) }
    b.ty("pair", 4, 2, false, 8);
    let a = b.str("a");
    b.words(&[a, 1, 0]);
    let bf = b.str("b");
    b.words(&[bf, 3, 35]);
    // 3: int with 3 bits (old-style bitfield type)
    b.ty("int", 1, 0, false, 4);
    b.words(&[1 << 24 | 3]);
    // 4: enum color { RED = 0, GREEN = -1 (signed) }
    b.ty("color", 6, 2, true, 4);
    let red = b.str("RED");
    b.words(&[red, 0]);
    let green = b.str("GREEN");
    b.words(&[green, u32::MAX]);
    // 5: typedef pair pair_t
    b.ty("pair_t", 8, 0, false, 2);
    // 6: const pair_t
    b.ty("", 10, 0, false, 5);
    // 7: pointer to 6
    b.ty("", 2, 0, false, 6);
    // 8: int[4]
    b.ty("", 3, 0, false, 0);
    b.words(&[1, 1, 4]);
    // 9: int (*)(const pair_t *p, int n)
    b.ty("", 13, 2, false, 1);
    let p = b.str("p");
    b.words(&[p, 7]);
    let n = b.str("n");
    b.words(&[n, 1]);
    // 10: func use_pair
    b.ty("use_pair", 12, 0, false, 9);
    Box::leak(Box::new(Btf::parse(b.build()).expect("base parses")))
}

#[test]
fn finds_types_by_kind_and_name() {
    let btf = base();
    assert_eq!(btf.find(NameKind::Struct, "pair"), Some(2));
    assert_eq!(btf.find(NameKind::Union, "pair"), None);
    assert_eq!(btf.find(NameKind::Typedef, "pair_t"), Some(5));
    assert_eq!(btf.find(NameKind::Func, "use_pair"), Some(10));
    assert_eq!(btf.find(NameKind::Struct, "pai"), None);
    assert_eq!(btf.last_id(), Ok(10));
}

#[test]
fn members_bitfields_and_resolution() {
    let btf = base();
    assert_eq!(btf.resolve(6), Ok(2));
    assert_eq!(btf.size_of(6), Ok(Some(8)));
    assert_eq!(btf.size_of(8), Ok(Some(16)));
    let b = btf.member(5, "b").unwrap().unwrap();
    assert_eq!((b.bit_offset, b.bitfield_size), (35, 3));
    let a = btf.member(2, "a").unwrap().unwrap();
    assert_eq!((a.bit_offset, a.bitfield_size), (0, 0));
}

#[test]
fn enums_and_prototypes() {
    let btf = base();
    assert_eq!(btf.enum_name(4, -1), Ok(Some("GREEN")));
    assert_eq!(btf.enum_name(4, 7), Ok(None));
    let (params, ret) = btf.func_params(10).unwrap();
    assert_eq!(ret, 1);
    assert_eq!(
        params.iter().map(|p| p.name).collect::<Vec<_>>(),
        ["p", "n"]
    );
    assert_eq!(btf.type_name(params[0].ty), "const pair_t *");
    assert_eq!(btf.type_name(8), "int[4]");
    assert_eq!(btf.type_name(9), "int (*)(const pair_t *, int)");
}

#[test]
fn split_btf_continues_ids_and_strings() {
    let base = base();
    let base_strings = base.strings.len();
    let mut m = Builder::split(base_strings);
    // 11: struct holder { pair_t *p; } referring to base type 7's pointee via a new pointer
    m.ty("holder", 4, 1, false, 8);
    let p = m.str("p");
    m.words(&[p, 12, 0]);
    // 12: pointer to base type 2
    m.ty("", 2, 0, false, 2);
    let split = Btf::parse_split(m.build(), base).expect("split parses");
    assert_eq!(split.first_id(), 11);
    assert_eq!(split.find(NameKind::Struct, "holder"), Some(11));
    assert_eq!(split.find(NameKind::Struct, "pair"), Some(2));
    let member = split.member(11, "p").unwrap().unwrap();
    assert_eq!(split.type_name(member.ty), "struct pair *");
}

#[test]
fn damaged_blobs_are_errors_not_panics() {
    assert!(Btf::parse(vec![0; 8]).is_err());
    let mut bytes = base_bytes_with_bad_kind();
    assert!(Btf::parse(bytes.clone())
        .map(|b| b.ty(1).is_err())
        .unwrap_or(true));
    bytes.truncate(30);
    assert!(Btf::parse(bytes).is_err());
}

fn base_bytes_with_bad_kind() -> Vec<u8> {
    let mut b = Builder::new();
    b.ty("bad", 31, 0, false, 0);
    b.build()
}
