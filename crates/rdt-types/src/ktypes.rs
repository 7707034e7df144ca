//! Kernel types as rdt values: BTF structs, unions, arrays and enums, with their size, alignment
//! and printed names. Converting a BTF type to the [`Type`] a script sees is the checker's job
//! (`rdt_sema::ktypes`).
//!
//! A struct or array value is never copied whole: it is a *place* — an address and the memory it
//! is in — and member access and indexing move the address; only a scalar or string at the end
//! of a chain is read (with `bpf_probe_read_kernel`/`_user`).

use crate::Type;
use rdt_btf::btf::{Kind, TypeRef};
use std::fmt;

/// A kernel type that is not a scalar or string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KernelType {
    /// A struct or union (`name` as C spells it: `struct task_struct`).
    Record { r: TypeRef, name: String, size: u32 },
    /// A fixed-size array of something other than `char` (those are strings).
    Array { elem: Box<Type>, len: u32 },
    /// An enum value printed with `%s`: a 64-bit integer in the record, shown by its name.
    /// Only printf records use it; in expressions an enum is an integer.
    Enum { r: TypeRef, name: String },
}

impl KernelType {
    pub fn size(&self) -> u32 {
        match self {
            KernelType::Record { size, .. } => *size,
            KernelType::Array { elem, len } => elem.size().saturating_mul(*len),
            KernelType::Enum { .. } => 8,
        }
    }

    pub fn align(&self) -> u32 {
        match self {
            KernelType::Record { .. } | KernelType::Enum { .. } => 8,
            KernelType::Array { elem, .. } => elem.align(),
        }
    }
}

impl KernelType {
    /// The name of an enum value, if the enum has one for it.
    pub fn enum_name(&self, value: i64) -> Option<&'static str> {
        match self {
            KernelType::Enum { r, .. } => r.btf.enum_name(r.id, value).ok().flatten(),
            _ => None,
        }
    }
}

/// The enum a BTF type is (through typedefs and qualifiers), for `%s`.
pub fn as_enum(r: TypeRef) -> Option<Type> {
    let id = r.btf.resolve(r.id).ok()?;
    let t = r.btf.ty(id).ok()?;
    matches!(t.kind, Kind::Enum | Kind::Enum64).then(|| {
        Type::Kernel(KernelType::Enum {
            r: r.with_id(id),
            name: r.btf.type_name(id),
        })
    })
}

impl fmt::Display for KernelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelType::Record { name, .. } => write!(f, "{name}"),
            KernelType::Array { elem, len } => write!(f, "{elem}[{len}]"),
            KernelType::Enum { name, .. } => write!(f, "{name}"),
        }
    }
}
