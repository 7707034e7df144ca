//! A reader of BTF, the kernel's type information (`/sys/kernel/btf/vmlinux` and the split BTF
//! of modules in `/sys/kernel/btf/<module>`).
//!
//! The format: a header, a type section (each type a 12-byte header followed by kind-specific
//! data) and a string section. Types are numbered from 1 in file order (0 is `void`); a module's
//! split BTF numbers its types after the last type of vmlinux and refers to vmlinux's types and
//! strings by their ids and offsets.
//!
//! Startup matters more than throughput here: a script that names one struct must not pay for
//! indexing 100k kernel types. So parsing only checks the header; the table of type offsets is
//! built by one pass over the type headers the first time a type is needed, and a name lookup is
//! a scan of that table comparing names in place (no map of all names is ever built). Results of
//! name lookups are cached. bench/README.md has the measured costs.

mod bytes;
mod decl;
mod enumerators;
mod kernel;
mod name;
mod types;

pub use decl::c_declaration;
pub use kernel::{kernel_btf_dir, module, module_names, vmlinux, TypeRef};
pub use types::{BtfType, EnumValue, Kind, Member, Param};

use bytes::Bytes;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

/// A BTF type id: 0 is `void`, vmlinux's types are 1…, a module's follow vmlinux's.
pub type TypeId = u32;

const MAGIC: u16 = 0xeb9f;
const HEADER_MIN: usize = 24;
const TYPE_HEADER: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BtfError {
    /// Reading the file failed.
    Io { path: String, message: String },
    /// The bytes are not BTF, or are damaged.
    Malformed(String),
}

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BtfError::Io { path, message } => write!(f, "cannot read kernel BTF {path}: {message}"),
            BtfError::Malformed(m) => write!(f, "malformed BTF: {m}"),
        }
    }
}

impl std::error::Error for BtfError {}

fn malformed<T>(what: impl Into<String>) -> Result<T, BtfError> {
    Err(BtfError::Malformed(what.into()))
}

/// Which named types a lookup accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    Struct,
    Union,
    /// A struct or a union (`struct x` in scripts where the user may not know which).
    StructOrUnion,
    Enum,
    Typedef,
    Func,
    Int,
    /// Any kind that carries a name.
    Any,
}

impl NameKind {
    fn accepts(self, kind: Kind) -> bool {
        match self {
            NameKind::Struct => kind == Kind::Struct,
            NameKind::Union => kind == Kind::Union,
            NameKind::StructOrUnion => matches!(kind, Kind::Struct | Kind::Union),
            NameKind::Enum => matches!(kind, Kind::Enum | Kind::Enum64),
            NameKind::Typedef => kind == Kind::Typedef,
            NameKind::Func => kind == Kind::Func,
            NameKind::Int => kind == Kind::Int,
            NameKind::Any => true,
        }
    }
}

/// One BTF blob: vmlinux's, or a module's split on top of vmlinux's.
pub struct Btf {
    data: Bytes,
    types: std::ops::Range<usize>,
    strings: std::ops::Range<usize>,
    /// The BTF this one is split from (vmlinux for a module).
    base: Option<&'static Btf>,
    /// Id of this blob's first type.
    first_id: TypeId,
    /// Byte offset (within the type section) of each of this blob's types; built on first use.
    offsets: OnceLock<Result<Vec<u32>, BtfError>>,
    found: Mutex<HashMap<(NameKind, String), Option<TypeId>>>,
}

impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("bytes", &self.data.len())
            .field("first_id", &self.first_id)
            .field("split", &self.base.is_some())
            .finish()
    }
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

impl Btf {
    /// Takes a complete BTF blob (vmlinux's). Only the header is checked here.
    pub fn parse(data: Vec<u8>) -> Result<Btf, BtfError> {
        Btf::parse_inner(Bytes::Owned(data), None)
    }

    /// Takes a module's split BTF, whose ids and strings continue `base`'s.
    pub fn parse_split(data: Vec<u8>, base: &'static Btf) -> Result<Btf, BtfError> {
        Btf::parse_inner(Bytes::Owned(data), Some(base))
    }

    pub(crate) fn parse_bytes(data: Bytes, base: Option<&'static Btf>) -> Result<Btf, BtfError> {
        Btf::parse_inner(data, base)
    }

    fn parse_inner(data: Bytes, base: Option<&'static Btf>) -> Result<Btf, BtfError> {
        if u16_at(&data, 0) != Some(MAGIC) {
            return malformed("bad magic (not little-endian BTF)");
        }
        let field = |i: usize| u32_at(&data, 4 + 4 * i).map(|v| v as usize);
        let (Some(hdr_len), Some(type_off), Some(type_len), Some(str_off), Some(str_len)) =
            (field(0), field(1), field(2), field(3), field(4))
        else {
            return malformed("truncated header");
        };
        if hdr_len < HEADER_MIN {
            return malformed(format!("header length {hdr_len}"));
        }
        let types = hdr_len + type_off..hdr_len + type_off + type_len;
        let strings = hdr_len + str_off..hdr_len + str_off + str_len;
        if types.end > data.len() || strings.end > data.len() {
            return malformed("sections run past the end of the data");
        }
        let first_id = match base {
            Some(b) => b.first_id + b.own_type_count()? as u32,
            None => 1,
        };
        Ok(Btf {
            data,
            types,
            strings,
            base,
            first_id,
            offsets: OnceLock::new(),
            found: Mutex::new(HashMap::new()),
        })
    }

    fn offsets(&self) -> Result<&[u32], BtfError> {
        self.offsets
            .get_or_init(|| self.index_types())
            .as_ref()
            .map(Vec::as_slice)
            .map_err(Clone::clone)
    }

    /// One pass over the type headers: where each type starts.
    fn index_types(&self) -> Result<Vec<u32>, BtfError> {
        let section = &self.data[self.types.clone()];
        // vmlinux averages ~40 bytes a type; reserving avoids regrowing the table.
        let mut offsets = Vec::with_capacity(section.len() / 32);
        let mut at = 0usize;
        while at < section.len() {
            offsets.push(at as u32);
            let Some(info) = u32_at(section, at + 4) else {
                return malformed(format!("truncated type header at offset {at}"));
            };
            at += TYPE_HEADER + types::extra_len(info)?;
        }
        if at != section.len() {
            return malformed("the last type runs past the type section");
        }
        Ok(offsets)
    }

    fn own_type_count(&self) -> Result<usize, BtfError> {
        Ok(self.offsets()?.len())
    }

    /// The number of the last type id (vmlinux's count for vmlinux; including base types for a
    /// split BTF).
    pub fn last_id(&self) -> Result<TypeId, BtfError> {
        Ok(self.first_id + self.own_type_count()? as u32 - 1)
    }

    /// Id of the first type of this blob (1 for vmlinux).
    pub fn first_id(&self) -> TypeId {
        self.first_id
    }

    /// The string at `offset` in the string section (split BTF continues the base's strings).
    pub fn string(&self, offset: u32) -> &str {
        if let Some(base) = self.base {
            let base_len = base.strings.len() as u32;
            if offset < base_len {
                return base.string(offset);
            }
            return self.own_string(offset - base_len);
        }
        self.own_string(offset)
    }

    fn own_string(&self, offset: u32) -> &str {
        let section = &self.data[self.strings.clone()];
        let Some(tail) = section.get(offset as usize..) else {
            return "";
        };
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        std::str::from_utf8(&tail[..end]).unwrap_or("")
    }

    /// Type `id`, looked up in the base BTF when it belongs there.
    pub fn ty(&self, id: TypeId) -> Result<BtfType<'_>, BtfError> {
        if id == 0 {
            return Ok(BtfType::void(self));
        }
        if id < self.first_id {
            return match self.base {
                Some(base) => base.ty(id),
                None => malformed(format!("type id {id}")),
            };
        }
        let offsets = self.offsets()?;
        let Some(&at) = offsets.get((id - self.first_id) as usize) else {
            return malformed(format!("type id {id} is out of range"));
        };
        BtfType::at(self, id, &self.data[self.types.clone()], at as usize)
    }

    /// The first type of kind `kind` named `name`, in this blob or its base.
    pub fn find(&self, kind: NameKind, name: &str) -> Option<TypeId> {
        if let Some(base) = self.base {
            if let Some(id) = base.find(kind, name) {
                return Some(id);
            }
        }
        let key = (kind, name.to_string());
        if let Some(hit) = self.found.lock().ok().and_then(|m| m.get(&key).copied()) {
            return hit;
        }
        let hit = self.scan_for(kind, name);
        if let Ok(mut m) = self.found.lock() {
            m.insert(key, hit);
        }
        hit
    }

    /// Compares names in place: the name offset of each type, then its bytes.
    fn scan_for(&self, kind: NameKind, name: &str) -> Option<TypeId> {
        let offsets = self.offsets().ok()?;
        let section = &self.data[self.types.clone()];
        let wanted = name.as_bytes();
        for (index, &at) in offsets.iter().enumerate() {
            let at = at as usize;
            let name_off = u32_at(section, at)?;
            if name_off == 0 {
                continue;
            }
            if !self.string_is(name_off, wanted) {
                continue;
            }
            let kind_here = Kind::from_info(u32_at(section, at + 4)?);
            if kind_here.is_some_and(|k| kind.accepts(k)) {
                return Some(self.first_id + index as u32);
            }
        }
        None
    }

    fn string_is(&self, offset: u32, wanted: &[u8]) -> bool {
        let (section, offset) = match self.base {
            Some(base) if offset < base.strings.len() as u32 => {
                (&base.data[base.strings.clone()], offset)
            }
            Some(base) => (
                &self.data[self.strings.clone()],
                offset - base.strings.len() as u32,
            ),
            None => (&self.data[self.strings.clone()], offset),
        };
        let start = offset as usize;
        let end = start + wanted.len();
        section.get(start..end) == Some(wanted) && section.get(end) == Some(&0)
    }

    /// Every type name of a kind (for "did you mean" suggestions: a full scan, run only on
    /// errors).
    pub fn names_of(&self, kind: NameKind) -> Vec<&str> {
        let mut out = self.base.map(|b| b.names_of(kind)).unwrap_or_default();
        let Ok(offsets) = self.offsets() else {
            return out;
        };
        let section = &self.data[self.types.clone()];
        for &at in offsets {
            let at = at as usize;
            let (Some(name_off), Some(info)) = (u32_at(section, at), u32_at(section, at + 4))
            else {
                continue;
            };
            if name_off != 0 && Kind::from_info(info).is_some_and(|k| kind.accepts(k)) {
                out.push(self.string(name_off));
            }
        }
        out
    }

    /// Skips typedefs and qualifiers (const, volatile, restrict, type tags).
    pub fn resolve(&self, mut id: TypeId) -> Result<TypeId, BtfError> {
        // A cycle in damaged BTF must not hang us: no C type nests this deep.
        for _ in 0..64 {
            let t = self.ty(id)?;
            if !t.kind.is_alias() {
                return Ok(id);
            }
            id = t.size_or_type;
        }
        malformed(format!("typedef chain too long at type {id}"))
    }

    /// Size in bytes of a type (pointers 8); `None` for void and functions.
    pub fn size_of(&self, id: TypeId) -> Result<Option<u32>, BtfError> {
        let id = self.resolve(id)?;
        let t = self.ty(id)?;
        Ok(match t.kind {
            Kind::Int | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Float => {
                Some(t.size_or_type)
            }
            Kind::Ptr => Some(8),
            Kind::Array => {
                let a = t.array()?;
                self.size_of(a.elem)?.map(|s| s.saturating_mul(a.len))
            }
            _ => None,
        })
    }

    /// The members of a struct or union, in order (anonymous members are not flattened).
    pub fn members(&self, id: TypeId) -> Result<Vec<Member<'_>>, BtfError> {
        let id = self.resolve(id)?;
        self.ty(id)?.members(self)
    }

    /// The member called `name`, looking inside anonymous struct and union members the way C
    /// does; its offset is from the start of the outer type.
    pub fn member(&self, id: TypeId, name: &str) -> Result<Option<Member<'_>>, BtfError> {
        for m in self.members(id)? {
            if m.name == name {
                return Ok(Some(m));
            }
            if m.name.is_empty() {
                let inner = self.ty(self.resolve(m.ty)?)?;
                if matches!(inner.kind, Kind::Struct | Kind::Union) {
                    if let Some(mut found) = self.member(inner.id, name)? {
                        found.bit_offset += m.bit_offset;
                        return Ok(Some(found));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Names of the members reachable with `.` (anonymous members flattened), for suggestions.
    pub fn member_names(&self, id: TypeId) -> Vec<&str> {
        let mut out = Vec::new();
        let Ok(members) = self.members(id) else {
            return out;
        };
        for m in members {
            if m.name.is_empty() {
                out.extend(self.member_names(m.ty));
            } else {
                out.push(m.name);
            }
        }
        out
    }

    /// The values of an enum.
    pub fn enum_values(&self, id: TypeId) -> Result<Vec<EnumValue<'_>>, BtfError> {
        let id = self.resolve(id)?;
        self.ty(id)?.enum_values(self)
    }

    /// The name of `value` in an enum, if it has one.
    pub fn enum_name(&self, id: TypeId, value: i64) -> Result<Option<&str>, BtfError> {
        Ok(self
            .enum_values(id)?
            .into_iter()
            .find(|v| v.value == value)
            .map(|v| v.name))
    }

    /// The parameters of a FUNC (through its prototype) or a FUNC_PROTO, and its return type.
    pub fn func_params(&self, id: TypeId) -> Result<(Vec<Param<'_>>, TypeId), BtfError> {
        let mut t = self.ty(id)?;
        if t.kind == Kind::Func {
            t = self.ty(t.size_or_type)?;
        }
        if t.kind != Kind::FuncProto {
            return malformed(format!("type {id} is not a function"));
        }
        Ok((t.params(self)?, t.size_or_type))
    }

    /// A C-like spelling of a type: `struct task_struct *`, `const char *`, `int[16]`.
    pub fn type_name(&self, id: TypeId) -> String {
        name::c_name(self, id)
    }
}

#[cfg(test)]
mod tests;
