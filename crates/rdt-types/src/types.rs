//! The types of rdt values, with the byte layout that BPF code and the user-space reader share.

use crate::ktypes::KernelType;
use std::fmt;

mod stack;
pub use stack::{StackMode, StackType};
mod text;
pub use text::TextKind;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// An integer of 8, 16, 32 or 64 bits. Arithmetic happens in 64 bits.
    Int { bits: u8, signed: bool },
    /// A NUL-terminated string in a fixed buffer of `size` bytes (the NUL included).
    Str { size: u32 },
    /// A tuple; fields are laid out with [`Type::tuple_offsets`].
    Tuple(Vec<Type>),
    /// A pointer; `user` is true for a user-space address (read with probe_read_user).
    Ptr { to: Box<Type>, user: bool },
    /// A call stack captured in the kernel (`kstack`, `ustack`); layout in [`StackType`].
    Stack(StackType),
    /// An address printed as the symbol it falls in (`ksym`, `usym`): a u64 address, then a u64
    /// process id (0 for kernel addresses) so user addresses can be resolved later.
    Symbol { user: bool },
    /// A value printed as text made in user space (`username`, `ntop()`, `buf()`, …).
    Text(TextKind),
    /// No value (a statement-only call such as `printf`).
    Void,
    /// A kernel struct, union or array, known from BTF (see [`crate::ktypes`]).
    Kernel(KernelType),
}

impl Type {
    pub const U64: Type = Type::Int {
        bits: 64,
        signed: false,
    };
    pub const I64: Type = Type::Int {
        bits: 64,
        signed: true,
    };
    pub const U32: Type = Type::Int {
        bits: 32,
        signed: false,
    };

    pub fn is_int(&self) -> bool {
        matches!(self, Type::Int { .. })
    }

    pub fn is_str(&self) -> bool {
        matches!(self, Type::Str { .. })
    }

    /// Values that `printf` prints with `%s` and that user space turns into text: strings,
    /// stacks and symbols.
    pub fn prints_as_text(&self) -> bool {
        matches!(
            self,
            Type::Str { .. } | Type::Stack(_) | Type::Symbol { .. } | Type::Text(_)
        )
    }

    /// Integers and pointers both live in one register.
    pub fn is_scalar(&self) -> bool {
        matches!(self, Type::Int { .. } | Type::Ptr { .. })
    }

    pub fn size(&self) -> u32 {
        match self {
            Type::Int { bits, .. } => u32::from(*bits / 8),
            Type::Str { size } => *size,
            Type::Tuple(fields) => {
                let offsets = Type::tuple_offsets(fields);
                let end = offsets
                    .last()
                    .map_or(0, |o| o + fields.last().map_or(0, Type::size));
                round_up(end, 8)
            }
            Type::Ptr { .. } => 8,
            Type::Stack(st) => st.size(),
            Type::Symbol { .. } => 16,
            Type::Text(kind) => kind.size(),
            Type::Void => 0,
            Type::Kernel(k) => k.size(),
        }
    }

    pub fn align(&self) -> u32 {
        match self {
            Type::Int { bits, .. } => u32::from(*bits / 8),
            Type::Str { .. } => 1,
            Type::Tuple(_) | Type::Ptr { .. } | Type::Stack(_) | Type::Symbol { .. } => 8,
            Type::Text(_) => 8,
            Type::Void => 1,
            Type::Kernel(k) => k.align(),
        }
    }

    /// Byte offset of each field of a tuple: each field aligned to its own alignment.
    pub fn tuple_offsets(fields: &[Type]) -> Vec<u32> {
        let mut offset = 0;
        fields
            .iter()
            .map(|f| {
                let at = round_up(offset, f.align());
                offset = at + f.size();
                at
            })
            .collect()
    }
}

pub fn round_up(n: u32, to: u32) -> u32 {
    n.div_ceil(to) * to
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int { bits, signed: true } => write!(f, "int{bits}"),
            Type::Int {
                bits,
                signed: false,
            } => write!(f, "uint{bits}"),
            Type::Str { size } => write!(f, "string[{size}]"),
            Type::Tuple(fields) => {
                write!(f, "(")?;
                for (i, t) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, ")")
            }
            Type::Ptr { to, .. } => write!(f, "{to} *"),
            Type::Stack(st) => write!(f, "{st}"),
            Type::Symbol { user: false } => write!(f, "ksym"),
            Type::Symbol { user: true } => write!(f, "usym"),
            Type::Text(kind) => write!(f, "{kind}"),
            Type::Void => write!(f, "void"),
            Type::Kernel(k) => write!(f, "{k}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_fields_are_naturally_aligned_and_padded_to_eight() {
        let t = Type::Tuple(vec![Type::Str { size: 16 }, Type::U32, Type::U64]);
        assert_eq!(
            Type::tuple_offsets(match &t {
                Type::Tuple(f) => f,
                _ => unreachable!(),
            }),
            vec![0, 16, 24]
        );
        assert_eq!(t.size(), 32);
        let t = Type::Tuple(vec![Type::U64, Type::Str { size: 3 }]);
        assert_eq!(t.size(), 16);
    }
}
