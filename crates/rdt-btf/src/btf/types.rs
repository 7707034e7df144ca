//! Views of single BTF types: the 12-byte header and the kind-specific data that follows it.

use super::{malformed, u32_at, Btf, BtfError, TypeId};

/// The BTF kinds (the numbers are the kernel's `BTF_KIND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Void,
    Int,
    Ptr,
    Array,
    Struct,
    Union,
    Enum,
    Fwd,
    Typedef,
    Volatile,
    Const,
    Restrict,
    Func,
    FuncProto,
    Var,
    Datasec,
    Float,
    DeclTag,
    TypeTag,
    Enum64,
}

impl Kind {
    pub(super) fn from_info(info: u32) -> Option<Kind> {
        Some(match (info >> 24) & 0x1f {
            1 => Kind::Int,
            2 => Kind::Ptr,
            3 => Kind::Array,
            4 => Kind::Struct,
            5 => Kind::Union,
            6 => Kind::Enum,
            7 => Kind::Fwd,
            8 => Kind::Typedef,
            9 => Kind::Volatile,
            10 => Kind::Const,
            11 => Kind::Restrict,
            12 => Kind::Func,
            13 => Kind::FuncProto,
            14 => Kind::Var,
            15 => Kind::Datasec,
            16 => Kind::Float,
            17 => Kind::DeclTag,
            18 => Kind::TypeTag,
            19 => Kind::Enum64,
            _ => return None,
        })
    }

    /// Kinds that only rename or qualify another type.
    pub fn is_alias(self) -> bool {
        matches!(
            self,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
        )
    }
}

/// Bytes of kind-specific data after a type header with this `info` word.
pub(super) fn extra_len(info: u32) -> Result<usize, BtfError> {
    let vlen = (info & 0xffff) as usize;
    let Some(kind) = Kind::from_info(info) else {
        return malformed(format!("unknown type kind {}", (info >> 24) & 0x1f));
    };
    Ok(match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => 4,
        Kind::Array => 12,
        Kind::Struct | Kind::Union | Kind::Datasec | Kind::Enum64 => 12 * vlen,
        Kind::Enum | Kind::FuncProto => 8 * vlen,
        _ => 0,
    })
}

/// One type, borrowed from its BTF.
#[derive(Debug, Clone, Copy)]
pub struct BtfType<'a> {
    pub id: TypeId,
    pub kind: Kind,
    pub name: &'a str,
    /// `vlen`: members, enum values, parameters.
    pub vlen: u16,
    pub kind_flag: bool,
    /// The size (int, struct, union, enum, float) or the referenced type (everything else).
    pub size_or_type: u32,
    extra: &'a [u8],
}

/// A struct or union member. Offsets are in bits from the start of the outer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    /// Empty for an anonymous struct or union member.
    pub name: &'a str,
    pub ty: TypeId,
    pub bit_offset: u32,
    /// Width of a bitfield; 0 for an ordinary member.
    pub bitfield_size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue<'a> {
    pub name: &'a str,
    pub value: i64,
}

/// A function parameter; `name` is empty in prototypes that do not name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    pub name: &'a str,
    pub ty: TypeId,
}

/// An array's element type and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayInfo {
    pub elem: TypeId,
    pub len: u32,
}

/// An integer's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntInfo {
    pub signed: bool,
    pub char: bool,
    pub bool: bool,
    /// Bit offset within the storage (old-style bitfields).
    pub offset: u32,
    pub bits: u32,
}

impl<'a> BtfType<'a> {
    pub(super) fn void(_btf: &'a Btf) -> BtfType<'a> {
        BtfType {
            id: 0,
            kind: Kind::Void,
            name: "void",
            vlen: 0,
            kind_flag: false,
            size_or_type: 0,
            extra: &[],
        }
    }

    pub(super) fn at(
        btf: &'a Btf,
        id: TypeId,
        section: &'a [u8],
        at: usize,
    ) -> Result<BtfType<'a>, BtfError> {
        let word = |i: usize| {
            u32_at(section, at + 4 * i)
                .ok_or_else(|| BtfError::Malformed(format!("truncated type {id}")))
        };
        let (name_off, info, size_or_type) = (word(0)?, word(1)?, word(2)?);
        let kind = Kind::from_info(info)
            .ok_or_else(|| BtfError::Malformed(format!("type {id} has an unknown kind")))?;
        let start = at + 12;
        let extra = section
            .get(start..start + extra_len(info)?)
            .ok_or_else(|| BtfError::Malformed(format!("type {id} is truncated")))?;
        Ok(BtfType {
            id,
            kind,
            name: btf.string(name_off),
            vlen: (info & 0xffff) as u16,
            kind_flag: info & (1 << 31) != 0,
            size_or_type,
            extra,
        })
    }

    fn word(&self, i: usize) -> u32 {
        u32_at(self.extra, 4 * i).unwrap_or(0)
    }

    pub fn int(&self) -> Option<IntInfo> {
        (self.kind == Kind::Int).then(|| {
            let e = self.word(0);
            let encoding = (e >> 24) & 0xf;
            IntInfo {
                signed: encoding & 1 != 0,
                char: encoding & 2 != 0,
                bool: encoding & 4 != 0,
                offset: (e >> 16) & 0xff,
                bits: e & 0xff,
            }
        })
    }

    pub fn array(&self) -> Result<ArrayInfo, BtfError> {
        if self.kind != Kind::Array {
            return malformed(format!("type {} is not an array", self.id));
        }
        Ok(ArrayInfo {
            elem: self.word(0),
            len: self.word(2),
        })
    }

    /// Whether an enum's values are signed (the kind flag, BTF since 6.0).
    pub fn enum_signed(&self) -> bool {
        self.kind_flag
    }

    pub(super) fn members(&self, btf: &'a Btf) -> Result<Vec<Member<'a>>, BtfError> {
        if !matches!(self.kind, Kind::Struct | Kind::Union) {
            return malformed(format!("type {} is not a struct or union", self.id));
        }
        let mut out = Vec::with_capacity(self.vlen as usize);
        for i in 0..self.vlen as usize {
            let (name_off, ty, offset) =
                (self.word(3 * i), self.word(3 * i + 1), self.word(3 * i + 2));
            let (bit_offset, mut bitfield_size) = if self.kind_flag {
                (offset & 0xff_ffff, offset >> 24)
            } else {
                (offset, 0)
            };
            if bitfield_size == 0 {
                bitfield_size = legacy_bitfield_size(btf, ty);
            }
            out.push(Member {
                name: btf.string(name_off),
                ty,
                bit_offset,
                bitfield_size,
            });
        }
        Ok(out)
    }

    pub(super) fn enum_values(&self, btf: &'a Btf) -> Result<Vec<EnumValue<'a>>, BtfError> {
        let signed = self.enum_signed();
        match self.kind {
            Kind::Enum => Ok((0..self.vlen as usize)
                .map(|i| {
                    let raw = self.word(2 * i + 1);
                    EnumValue {
                        name: btf.string(self.word(2 * i)),
                        value: if signed {
                            i64::from(raw as i32)
                        } else {
                            i64::from(raw)
                        },
                    }
                })
                .collect()),
            Kind::Enum64 => Ok((0..self.vlen as usize)
                .map(|i| EnumValue {
                    name: btf.string(self.word(3 * i)),
                    value: (u64::from(self.word(3 * i + 2)) << 32 | u64::from(self.word(3 * i + 1)))
                        as i64,
                })
                .collect()),
            _ => malformed(format!("type {} is not an enum", self.id)),
        }
    }

    pub(super) fn params(&self, btf: &'a Btf) -> Result<Vec<Param<'a>>, BtfError> {
        if self.kind != Kind::FuncProto {
            return malformed(format!("type {} is not a function prototype", self.id));
        }
        Ok((0..self.vlen as usize)
            .map(|i| Param {
                name: btf.string(self.word(2 * i)),
                ty: self.word(2 * i + 1),
            })
            .collect())
    }
}

/// Without the kind flag, a bitfield is an int member whose encoding is narrower than its size.
fn legacy_bitfield_size(btf: &Btf, ty: TypeId) -> u32 {
    let Ok(t) = btf.resolve(ty).and_then(|id| btf.ty(id)) else {
        return 0;
    };
    match t.int() {
        Some(i) if i.bits != t.size_or_type * 8 => i.bits,
        _ => 0,
    }
}
