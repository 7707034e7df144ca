//! C-like spellings of BTF types, for messages and listings.

use super::{Btf, Kind, TypeId};

/// `struct task_struct *`, `const char *`, `int[16]`, `void (*)(int)`.
pub fn c_name(btf: &Btf, id: TypeId) -> String {
    let mut suffix = String::new();
    let base = spell(btf, id, &mut suffix, 0);
    if suffix.is_empty() {
        base
    } else if suffix.starts_with('[') {
        format!("{base}{suffix}")
    } else {
        format!("{base} {suffix}")
    }
}

/// The spelling of the type's base, with pointer stars and array bounds gathered in `suffix`.
fn spell(btf: &Btf, id: TypeId, suffix: &mut String, depth: u32) -> String {
    let Ok(t) = btf.ty(id) else {
        return format!("<type {id}>");
    };
    if depth > 32 {
        return "…".into();
    }
    let named = |what: &str| {
        if t.name.is_empty() {
            format!("{what} (anonymous)")
        } else {
            format!("{what} {}", t.name)
        }
    };
    match t.kind {
        Kind::Void => "void".into(),
        Kind::Int | Kind::Float | Kind::Typedef => t.name.to_string(),
        Kind::Struct => named("struct"),
        Kind::Union => named("union"),
        Kind::Enum | Kind::Enum64 => named("enum"),
        Kind::Fwd if t.kind_flag => named("union"),
        Kind::Fwd => named("struct"),
        Kind::Ptr => {
            let pointee = btf.ty(t.size_or_type).map(|p| p.kind).ok();
            if pointee == Some(Kind::FuncProto) {
                // The prototype's spelling already has the `(*)`.
                return c_name(btf, t.size_or_type);
            }
            suffix.insert(0, '*');
            spell(btf, t.size_or_type, suffix, depth + 1)
        }
        Kind::Array => {
            let Ok(a) = t.array() else {
                return "?".into();
            };
            suffix.push_str(&format!("[{}]", a.len));
            spell(btf, a.elem, suffix, depth + 1)
        }
        Kind::Const | Kind::Volatile | Kind::Restrict => {
            let q = match t.kind {
                Kind::Const => "const",
                Kind::Volatile => "volatile",
                _ => "restrict",
            };
            format!("{q} {}", spell(btf, t.size_or_type, suffix, depth + 1))
        }
        Kind::TypeTag => spell(btf, t.size_or_type, suffix, depth + 1),
        Kind::FuncProto => {
            let (params, ret) = btf.func_params(id).unwrap_or_default();
            let list: Vec<String> = params
                .iter()
                .map(|p| {
                    if p.ty == 0 {
                        "...".into()
                    } else {
                        c_name(btf, p.ty)
                    }
                })
                .collect();
            format!("{} (*)({})", c_name(btf, ret), list.join(", "))
        }
        Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag => t.name.to_string(),
    }
}

/// A C declaration of `name` with type `id`: `unsigned char h_dest[6]`, `struct sk_buff *next`,
/// `void (*destructor)(struct sk_buff *)`. An empty name gives the type alone.
pub fn c_declarator(btf: &Btf, id: TypeId, name: &str) -> String {
    if name.is_empty() {
        return c_name(btf, id);
    }
    let mut suffix = String::new();
    let base = spell(btf, id, &mut suffix, 0);
    let stars = suffix.len() - suffix.trim_start_matches('*').len();
    let declarator = format!("{}{name}{}", &suffix[..stars], &suffix[stars..]);
    // A function pointer's name goes inside its `(*)`.
    match base.split_once("(*)") {
        Some((ret, params)) => format!("{ret}(*{declarator}){params}"),
        None => format!("{base} {declarator}"),
    }
}
