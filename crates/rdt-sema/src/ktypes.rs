//! Kernel types in rdt's type system: BTF structs, unions and arrays, and the conversion of any
//! BTF type to the [`Type`] a script sees.
//!
//! A struct or array value is never copied whole: it is a *place* — an address and the memory it
//! is in — and member access and indexing move the address; only a scalar or string at the end
//! of a chain is read (with `bpf_probe_read_kernel`/`_user`).

pub mod listing;

use crate::Type;
use rdt_btf::btf::{self, Btf, BtfError, Kind, NameKind, TypeRef};

// The kernel types themselves are shared vocabulary (the runtime prints them); only the BTF → rdt
// type conversion lives here.
pub use rdt_types::ktypes::{as_enum, KernelType};

/// vmlinux's BTF, or why there is none, worded for a diagnostic.
pub fn vmlinux() -> Result<&'static Btf, String> {
    btf::vmlinux().map_err(|e| {
        format!("kernel types need BTF, and this kernel has none usable ({e}); it needs CONFIG_DEBUG_INFO_BTF")
    })
}

/// The rdt type of `struct x` / `union x` / `enum x` as a script spells it.
pub fn named(spelling: &str) -> Result<Option<Type>, String> {
    let (kind, name) = if let Some(n) = spelling.strip_prefix("struct ") {
        (NameKind::StructOrUnion, n)
    } else if let Some(n) = spelling.strip_prefix("union ") {
        (NameKind::Union, n)
    } else if let Some(n) = spelling.strip_prefix("enum ") {
        (NameKind::Enum, n)
    } else {
        // A typedef or base type of the kernel: `size_t`, `pid_t`, `bool`.
        vmlinux()?;
        let found = TypeRef::find(NameKind::Typedef, spelling)
            .and_then(|t| match t {
                Some(t) => Ok(Some(t)),
                None => TypeRef::find(NameKind::Int, spelling),
            })
            .map_err(|e| e.to_string())?;
        return Ok(found.map(|r| from_btf(r, false)));
    };
    vmlinux()?;
    let found = TypeRef::find(kind, name.trim()).map_err(|e: BtfError| e.to_string())?;
    Ok(found.map(|r| from_btf(r, false)))
}

/// Struct (or union, or enum) names close to `spelling`'s, for "did you mean".
pub fn similar_names(spelling: &str) -> Vec<String> {
    let Ok(btf) = vmlinux() else {
        return Vec::new();
    };
    let (kind, prefix) = match spelling.split_once(' ') {
        Some(("union", _)) => (NameKind::Union, "union "),
        Some(("enum", _)) => (NameKind::Enum, "enum "),
        _ => (NameKind::Struct, "struct "),
    };
    btf.names_of(kind)
        .into_iter()
        .map(|n| format!("{prefix}{n}"))
        .collect()
}

/// The rdt type of a BTF type. Pointers found in user memory point to user memory (`user`).
pub fn from_btf(r: TypeRef, user: bool) -> Type {
    from_btf_at(r, user, 0)
}

/// Damaged BTF could chain pointers or arrays in a cycle; no real type nests this deep.
const MAX_DEPTH: u32 = 32;

fn from_btf_at(r: TypeRef, user: bool, depth: u32) -> Type {
    if depth > MAX_DEPTH {
        return Type::Void;
    }
    let btf = r.btf;
    let Ok(id) = btf.resolve(r.id) else {
        return Type::Void;
    };
    let Ok(t) = btf.ty(id) else {
        return Type::Void;
    };
    match t.kind {
        Kind::Int => int_type(t.size_or_type, t.int().is_some_and(|i| i.signed && !i.bool)),
        Kind::Enum | Kind::Enum64 => int_type(t.size_or_type, t.enum_signed()),
        Kind::Float => int_type(t.size_or_type, false),
        Kind::Ptr => {
            // Kernels built with clang tag user pointers: `const char __attribute__((btf_type_tag("user"))) *`.
            let user = user || tagged_user(btf, t.size_or_type);
            let pointee = btf.ty(t.size_or_type).map(|p| p.kind);
            let to = match pointee {
                Ok(Kind::FuncProto) => Type::Void,
                _ => from_btf_at(r.with_id(t.size_or_type), user, depth + 1),
            };
            Type::Ptr {
                to: Box::new(to),
                user,
            }
        }
        Kind::Array => {
            let Ok(a) = t.array() else {
                return Type::Void;
            };
            if is_char(btf, a.elem) && a.len > 0 {
                return Type::Str { size: a.len };
            }
            Type::Kernel(KernelType::Array {
                elem: Box::new(from_btf_at(r.with_id(a.elem), user, depth + 1)),
                len: a.len,
            })
        }
        Kind::Struct | Kind::Union => Type::Kernel(KernelType::Record {
            r: r.with_id(id),
            name: btf.type_name(id),
            size: t.size_or_type,
        }),
        Kind::Fwd => {
            // A forward declaration: the definition lives elsewhere (often in vmlinux).
            let kind = if t.kind_flag {
                NameKind::Union
            } else {
                NameKind::Struct
            };
            match TypeRef::find(kind, t.name) {
                Ok(Some(full)) if full != r => from_btf_at(full, user, depth + 1),
                _ => Type::Void,
            }
        }
        _ => Type::Void,
    }
}

/// Whether a pointee carries the `user` BTF type tag (before any other qualifier).
fn tagged_user(btf: &Btf, mut id: btf::TypeId) -> bool {
    for _ in 0..8 {
        let Ok(t) = btf.ty(id) else { return false };
        match t.kind {
            Kind::TypeTag if t.name == "user" => return true,
            Kind::TypeTag | Kind::Const | Kind::Volatile | Kind::Restrict => id = t.size_or_type,
            _ => return false,
        }
    }
    false
}

fn int_type(size: u32, signed: bool) -> Type {
    match size {
        1 | 2 | 4 | 8 => Type::Int {
            bits: (size * 8) as u8,
            signed,
        },
        // `__int128` and the like: bytes the script can index.
        n => Type::Kernel(KernelType::Array {
            elem: Box::new(Type::Int {
                bits: 8,
                signed: false,
            }),
            len: n,
        }),
    }
}

/// Plain `char`: bpftrace types arrays of it as strings, while `unsigned char`, `signed char`
/// and `__u8` arrays (a MAC or IPv6 address) stay byte arrays, printed `[1,2,…]`.
fn is_char(btf: &Btf, id: btf::TypeId) -> bool {
    let Ok(t) = btf.resolve(id).and_then(|id| btf.ty(id)) else {
        return false;
    };
    t.size_or_type == 1 && t.int().is_some() && t.name == "char"
}

/// The type of a pointer field as a tracepoint `format` file spells it (`struct sockaddr *
/// uservaddr`, `const char __user *`): a pointer to the BTF type when rdt knows it.
pub fn pointer_from_c(c_type: &str, user: bool) -> Option<Type> {
    let depth = c_type.matches('*').count();
    if depth == 0 {
        return None;
    }
    let base: Vec<&str> = c_type
        .split(|c: char| c == '*' || c.is_whitespace())
        .filter(|w| !w.is_empty() && !matches!(*w, "const" | "volatile" | "__user" | "__rcu"))
        .collect();
    let base = base.join(" ");
    let user = user || c_type.contains("__user");
    let mut ty = if base.starts_with("struct ") || base.starts_with("union ") {
        named(&base).ok().flatten()?
    } else if base == "void" {
        Type::Void
    } else {
        c_int(&base).or_else(|| typedef(&base))?
    };
    for _ in 0..depth {
        ty = Type::Ptr {
            to: Box::new(ty),
            user,
        };
    }
    Some(ty)
}

fn typedef(name: &str) -> Option<Type> {
    let r = TypeRef::find(NameKind::Typedef, name).ok()??;
    Some(from_btf(r, false))
}

fn c_int(c: &str) -> Option<Type> {
    let (bits, signed) = match c {
        "char" | "signed char" => (8, true),
        "unsigned char" | "u8" | "bool" => (8, false),
        "short" | "short int" => (16, true),
        "unsigned short" | "u16" => (16, false),
        "int" | "signed int" => (32, true),
        "unsigned int" | "unsigned" | "u32" => (32, false),
        "long" | "long int" | "long long" => (64, true),
        "unsigned long" | "unsigned long long" | "u64" => (64, false),
        _ => return None,
    };
    Some(Type::Int { bits, signed })
}
