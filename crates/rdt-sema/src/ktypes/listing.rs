//! `rdt -l 'struct GLOB'` lists the kernel's struct (or union, or enum) types whose names match;
//! `-lv 'struct NAME'` prints each one's C declaration, as bpftrace's `-lv` does.

use super::vmlinux;
use crate::probes::list::Listed;
use rdt_btf::btf::{self, NameKind, TypeRef};
use rdt_btf::tracefs::glob_match;

/// `pattern` split into the kind of type it asks for and the glob of names (`struct task*`).
pub fn type_pattern(pattern: &str) -> Option<(&'static str, NameKind, &str)> {
    let (keyword, glob) = pattern.split_once(' ')?;
    let (keyword, kind) = match keyword {
        "struct" => ("struct", NameKind::Struct),
        "union" => ("union", NameKind::Union),
        "enum" => ("enum", NameKind::Enum),
        _ => return None,
    };
    Some((keyword, kind, glob.trim()))
}

/// The types `glob` matches among vmlinux's (a name without wildcards is also looked up in the
/// modules' BTF), sorted; with `verbose`, each with its declaration: `name` is its first line
/// (`struct ethhdr {`) and `args` the rest.
pub fn list(
    keyword: &str,
    kind: NameKind,
    glob: &str,
    verbose: bool,
) -> Result<Vec<Listed>, String> {
    let vmlinux = vmlinux()?;
    let mut found: Vec<TypeRef> = Vec::new();
    if glob.contains(['*', '?', '[']) {
        let mut names = vmlinux.names_of(kind);
        names.retain(|n| glob_match(glob, n));
        names.sort_unstable();
        names.dedup();
        found.extend(
            names
                .iter()
                .filter_map(|n| vmlinux.find(kind, n))
                .map(|id| TypeRef { btf: vmlinux, id }),
        );
    } else if let Some(r) = TypeRef::find(kind, glob).map_err(|e| e.to_string())? {
        found.push(r);
    }
    Ok(found
        .into_iter()
        .map(|r| listed(keyword, r, verbose))
        .collect())
}

fn listed(keyword: &str, r: TypeRef, verbose: bool) -> Listed {
    let name = format!(
        "{keyword} {}",
        r.btf.ty(r.id).map(|t| t.name).unwrap_or_default()
    );
    if !verbose {
        return Listed {
            name,
            args: Vec::new(),
        };
    }
    let mut lines = btf::c_declaration(r.btf, r.id).unwrap_or_else(|| vec![name]);
    let first = lines.remove(0);
    Listed {
        name: first,
        args: lines,
    }
}
