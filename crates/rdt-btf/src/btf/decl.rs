//! C declarations of BTF structs, unions and enums, as `rdt -lv 'struct NAME'` prints them
//! (the layout bpftrace's `-lv` shows): one member per line, a tab per level, anonymous
//! struct and union members written out in place, bitfields with their width.

use super::{name, Btf, Kind, TypeId};

/// How deep anonymous members are written out before the declaration stops nesting.
const MAX_NESTING: usize = 16;

/// The declaration of the struct, union or enum `id` (typedefs and qualifiers skipped), one
/// line per element of the returned vector: `struct ethhdr {`, `\tunsigned char h_dest[6];`,
/// …, `};`. `None` for other kinds.
pub fn c_declaration(btf: &Btf, id: TypeId) -> Option<Vec<String>> {
    let id = btf.resolve(id).ok()?;
    let t = btf.ty(id).ok()?;
    if !matches!(
        t.kind,
        Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64
    ) {
        return None;
    }
    let mut lines = vec![format!("{} {{", name::c_name(btf, id))];
    body(btf, id, 1, &mut lines);
    lines.push("};".to_string());
    Some(lines)
}

/// The lines between the braces of a struct, union or enum, indented `depth` tabs.
fn body(btf: &Btf, id: TypeId, depth: usize, lines: &mut Vec<String>) {
    let indent = "\t".repeat(depth);
    let Ok(t) = btf.ty(id) else { return };
    if matches!(t.kind, Kind::Enum | Kind::Enum64) {
        for v in btf.enum_values(id).unwrap_or_default() {
            lines.push(format!("{indent}{} = {},", v.name, v.value));
        }
        return;
    }
    for m in btf.members(id).unwrap_or_default() {
        // Not resolved: a typedef of an anonymous struct (`atomic_t`) is written by its name.
        let inner = btf.ty(m.ty).ok();
        let anonymous_record = inner.as_ref().filter(|i| {
            i.name.is_empty() && matches!(i.kind, Kind::Struct | Kind::Union) && depth < MAX_NESTING
        });
        if let Some(inner) = anonymous_record {
            let keyword = if inner.kind == Kind::Union {
                "union"
            } else {
                "struct"
            };
            lines.push(format!("{indent}{keyword} {{"));
            body(btf, inner.id, depth + 1, lines);
            let named = if m.name.is_empty() {
                String::new()
            } else {
                format!(" {}", m.name)
            };
            lines.push(format!("{indent}}}{named};"));
            continue;
        }
        let declared = name::c_declarator(btf, m.ty, m.name);
        if m.bitfield_size > 0 {
            lines.push(format!("{indent}{declared}: {};", m.bitfield_size));
        } else {
            lines.push(format!("{indent}{declared};"));
        }
    }
}
