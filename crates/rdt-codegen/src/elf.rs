//! Writes the BPF ELF relocatable object: one executable section per program with a FUNC symbol,
//! a legacy `maps` section of `struct bpf_map_def`s, `R_BPF_64_64` relocations on every map
//! reference, and `license`. libbpf, bpftool and aya all read this layout.

use crate::emit::Encoded;
use object::write::{Object, Relocation, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};

/// `struct bpf_map_def` as the loaders read it (7 × u32).
#[derive(Debug, Clone)]
pub struct MapDef {
    pub name: String,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub flags: u32,
}

pub const MAP_DEF_SIZE: usize = 28;
const R_BPF_64_64: u32 = 1;

pub struct ElfProgram<'a> {
    pub section: &'a str,
    pub name: &'a str,
    pub code: &'a Encoded,
    /// Index in the callback list of each callback this program refers to.
    pub callbacks: &'a [usize],
}

/// A bpf_for_each_map_elem or bpf_loop callback, written to `.text` as a static function.
pub struct ElfCallback {
    pub name: String,
    pub code: Encoded,
    /// Index in the callback list of its probe's first callback: a nested loop's callback
    /// address in `code` names a sibling by its index in the probe's own list.
    pub first_sibling: usize,
}

/// Writes the object; `btf` is `(.BTF, .BTF.ext)`, present when there are callbacks.
pub fn write(
    programs: &[ElfProgram],
    callbacks: &[ElfCallback],
    btf: Option<(Vec<u8>, Vec<u8>)>,
    maps: &[MapDef],
) -> Result<Vec<u8>, object::write::Error> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
    let map_symbols = if maps.is_empty() {
        Vec::new()
    } else {
        write_maps(&mut obj, maps)
    };
    let callback_symbols = write_callbacks(&mut obj, callbacks, &map_symbols)?;
    for p in programs {
        let section = obj.add_section(Vec::new(), p.section.as_bytes().to_vec(), SectionKind::Text);
        let bytes: Vec<u8> = p.code.insns.iter().flat_map(|i| i.to_bytes()).collect();
        let size = bytes.len() as u64;
        let offset = obj.append_section_data(section, &bytes, 8);
        obj.add_symbol(Symbol {
            name: p.name.as_bytes().to_vec(),
            value: offset,
            size,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
        add_map_relocations(&mut obj, section, offset, p.code, &map_symbols)?;
        relocate_callbacks(&mut obj, section, offset, p, &callback_symbols)?;
    }
    if let Some((types, ext)) = btf {
        let section = obj.add_section(Vec::new(), b".BTF".to_vec(), SectionKind::Metadata);
        obj.append_section_data(section, &types, 4);
        let section = obj.add_section(Vec::new(), b".BTF.ext".to_vec(), SectionKind::Metadata);
        obj.append_section_data(section, &ext, 4);
    }
    let license = obj.add_section(Vec::new(), b"license".to_vec(), SectionKind::Data);
    obj.append_section_data(license, b"GPL\0", 1);
    obj.write()
}

/// `.text` holding every callback, each a sized local FUNC symbol with its map relocations.
fn write_callbacks(
    obj: &mut Object,
    callbacks: &[ElfCallback],
    map_symbols: &[object::write::SymbolId],
) -> Result<Vec<object::write::SymbolId>, object::write::Error> {
    if callbacks.is_empty() {
        return Ok(Vec::new());
    }
    let section = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
    let mut symbols = Vec::new();
    for cb in callbacks {
        let bytes: Vec<u8> = cb.code.insns.iter().flat_map(|i| i.to_bytes()).collect();
        let offset = obj.append_section_data(section, &bytes, 8);
        symbols.push(obj.add_symbol(Symbol {
            name: cb.name.as_bytes().to_vec(),
            value: offset,
            size: bytes.len() as u64,
            kind: SymbolKind::Text,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        }));
        add_map_relocations(obj, section, offset, &cb.code, map_symbols)?;
        // A nested callback comes before the one calling it, so its symbol exists already.
        for &(insn, local) in &cb.code.func_relocs {
            let Some(&symbol) = symbols.get(cb.first_sibling + local) else {
                continue;
            };
            relocate_load(obj, section, offset, insn, symbol)?;
        }
    }
    Ok(symbols)
}

/// `R_BPF_64_64` on the 64-bit load at instruction `insn` of code placed at `offset`: the
/// loader patches the symbol's map fd or function address into it.
fn relocate_load(
    obj: &mut Object,
    section: object::write::SectionId,
    offset: u64,
    insn: usize,
    symbol: object::write::SymbolId,
) -> Result<(), object::write::Error> {
    obj.add_relocation(
        section,
        Relocation {
            offset: offset + insn as u64 * 8,
            symbol,
            addend: 0,
            flags: RelocationFlags::Elf {
                r_type: R_BPF_64_64,
            },
        },
    )
}

/// `R_BPF_64_64` from each map-address load of code placed at `offset` in `section` to the
/// map's symbol.
fn add_map_relocations(
    obj: &mut Object,
    section: object::write::SectionId,
    offset: u64,
    code: &Encoded,
    map_symbols: &[object::write::SymbolId],
) -> Result<(), object::write::Error> {
    for &(insn, map) in &code.map_relocs {
        relocate_load(obj, section, offset, insn, map_symbols[map])?;
    }
    Ok(())
}

/// `R_BPF_64_64` from each callback-address load of a program to the callback's symbol.
fn relocate_callbacks(
    obj: &mut Object,
    section: object::write::SectionId,
    offset: u64,
    p: &ElfProgram,
    callback_symbols: &[object::write::SymbolId],
) -> Result<(), object::write::Error> {
    for &(insn, local) in &p.code.func_relocs {
        let Some(&symbol) = p
            .callbacks
            .get(local)
            .and_then(|g| callback_symbols.get(*g))
        else {
            continue;
        };
        relocate_load(obj, section, offset, insn, symbol)?;
    }
    Ok(())
}

fn write_maps(obj: &mut Object, maps: &[MapDef]) -> Vec<object::write::SymbolId> {
    let section = obj.add_section(Vec::new(), b"maps".to_vec(), SectionKind::Data);
    maps.iter()
        .map(|m| {
            let mut def = Vec::with_capacity(MAP_DEF_SIZE);
            for v in [
                m.map_type,
                m.key_size,
                m.value_size,
                m.max_entries,
                m.flags,
                0,
                0,
            ] {
                def.extend_from_slice(&v.to_le_bytes());
            }
            let offset = obj.append_section_data(section, &def, 4);
            obj.add_symbol(Symbol {
                name: m.name.as_bytes().to_vec(),
                value: offset,
                size: MAP_DEF_SIZE as u64,
                kind: SymbolKind::Data,
                scope: SymbolScope::Dynamic,
                weak: false,
                section: SymbolSection::Section(section),
                flags: SymbolFlags::None,
            })
        })
        .collect()
}
