//! Writes the BPF ELF relocatable object: one executable section per program with a FUNC symbol,
//! a legacy `maps` section of `struct bpf_map_def`s, `R_BPF_64_64` relocations on every map
//! reference, and `license`. libbpf, bpftool and aya all read this layout.

use crate::emit::Encoded;
use object::write::{Object, Relocation, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};
use std::ops::Range;

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
    /// Where its probe's callbacks are in the callback list (see [`ElfCallback`]).
    pub probe_callbacks: Range<usize>,
}

/// A bpf_for_each_map_elem or bpf_loop callback, written to `.text` as a static function.
pub struct ElfCallback {
    pub name: String,
    pub code: Encoded,
    /// Where its probe's callbacks are in the callback list: they are contiguous there, and a
    /// callback address in a program or callback names one by its index among its probe's own.
    pub probe_callbacks: Range<usize>,
}

/// Why the object could not be written.
#[derive(Debug)]
pub enum WriteError {
    Object(object::write::Error),
    /// A callback address names a callback the probe does not have: codegen broke its own
    /// bookkeeping. Written anyway, the load would stay unrelocated and the verifier would
    /// reject it far from the cause.
    UnknownCallback {
        function: String,
        callback: usize,
    },
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Object(e) => e.fmt(f),
            WriteError::UnknownCallback { function, callback } => write!(
                f,
                "{function} refers to callback {callback} of its probe, which has no such callback"
            ),
        }
    }
}

impl From<object::write::Error> for WriteError {
    fn from(e: object::write::Error) -> Self {
        WriteError::Object(e)
    }
}

/// Writes the object; `btf` is `(.BTF, .BTF.ext)`, present when there are callbacks.
pub fn write(
    programs: &[ElfProgram],
    callbacks: &[ElfCallback],
    btf: Option<(Vec<u8>, Vec<u8>)>,
    maps: &[MapDef],
) -> Result<Vec<u8>, WriteError> {
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
        let placed = Placed {
            name: p.name,
            section,
            offset,
            code: p.code,
            probe_callbacks: p.probe_callbacks.clone(),
        };
        relocate_callback_loads(&mut obj, &placed, &callback_symbols)?;
    }
    if let Some((types, ext)) = btf {
        let section = obj.add_section(Vec::new(), b".BTF".to_vec(), SectionKind::Metadata);
        obj.append_section_data(section, &types, 4);
        let section = obj.add_section(Vec::new(), b".BTF.ext".to_vec(), SectionKind::Metadata);
        obj.append_section_data(section, &ext, 4);
    }
    let license = obj.add_section(Vec::new(), b"license".to_vec(), SectionKind::Data);
    obj.append_section_data(license, b"GPL\0", 1);
    Ok(obj.write()?)
}

/// Code written into the object, as callback relocations need to know it.
struct Placed<'a> {
    name: &'a str,
    section: object::write::SectionId,
    /// Byte offset of its first instruction in `section`.
    offset: u64,
    code: &'a Encoded,
    probe_callbacks: Range<usize>,
}

/// `.text` holding every callback, each a sized local FUNC symbol with its map and callback
/// relocations.
fn write_callbacks(
    obj: &mut Object,
    callbacks: &[ElfCallback],
    map_symbols: &[object::write::SymbolId],
) -> Result<Vec<object::write::SymbolId>, WriteError> {
    if callbacks.is_empty() {
        return Ok(Vec::new());
    }
    let section = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
    let mut symbols = Vec::new();
    let mut placed = Vec::new();
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
        placed.push(Placed {
            name: &cb.name,
            section,
            offset,
            code: &cb.code,
            probe_callbacks: cb.probe_callbacks.clone(),
        });
    }
    // Every callback's symbol exists now, whatever order nested loops were lowered in.
    for cb in &placed {
        relocate_callback_loads(obj, cb, &symbols)?;
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

/// `R_BPF_64_64` from each callback-address load of a program or callback to the callback's
/// symbol; an address naming no callback is an error, never a load left unrelocated.
fn relocate_callback_loads(
    obj: &mut Object,
    code: &Placed,
    callback_symbols: &[object::write::SymbolId],
) -> Result<(), WriteError> {
    for &(insn, local) in &code.code.func_relocs {
        let symbol = code
            .probe_callbacks
            .clone()
            .nth(local)
            .and_then(|global| callback_symbols.get(global))
            .ok_or_else(|| WriteError::UnknownCallback {
                function: code.name.to_string(),
                callback: local,
            })?;
        relocate_load(obj, code.section, code.offset, insn, *symbol)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn;

    /// Code that loads the address of its probe's callback `callback` and returns.
    fn loading_callback(callback: usize) -> Encoded {
        let [lo, hi] = insn::ld_imm64(insn::R2, 4, 0);
        Encoded {
            insns: vec![lo, hi, insn::mov_imm(insn::R0, 0), insn::exit()],
            func_relocs: vec![(0, callback)],
            ..Encoded::default()
        }
    }

    fn returning() -> Encoded {
        Encoded {
            insns: vec![insn::mov_imm(insn::R0, 0), insn::exit()],
            ..Encoded::default()
        }
    }

    fn callback(name: &str, code: Encoded, probe_callbacks: Range<usize>) -> ElfCallback {
        ElfCallback {
            name: name.to_string(),
            code,
            probe_callbacks,
        }
    }

    fn write_program(code: &Encoded, callbacks: &[ElfCallback]) -> Result<Vec<u8>, WriteError> {
        let program = ElfProgram {
            section: "tracepoint/p0",
            name: "p0",
            code,
            probe_callbacks: 0..1,
        };
        write(&[program], callbacks, None, &[])
    }

    #[test]
    fn a_callback_address_is_relocated_to_its_probes_callback() {
        let callbacks = [callback("cb0_0", returning(), 0..1)];
        assert!(write_program(&loading_callback(0), &callbacks).is_ok());
    }

    #[test]
    fn a_program_naming_a_callback_its_probe_lacks_is_an_error() {
        // Callback 1 exists in the list, but it is another probe's.
        let callbacks = [
            callback("cb0_0", returning(), 0..1),
            callback("cb1_0", returning(), 1..2),
        ];
        let err = write_program(&loading_callback(1), &callbacks).unwrap_err();
        assert!(
            matches!(&err, WriteError::UnknownCallback { function, callback: 1 } if function == "p0"),
            "{err}"
        );
    }

    #[test]
    fn a_callback_naming_a_missing_sibling_is_an_error() {
        let callbacks = [callback("cb0_0", loading_callback(3), 0..1)];
        let err = write_program(&returning(), &callbacks).unwrap_err();
        assert!(
            matches!(&err, WriteError::UnknownCallback { function, callback: 3 } if function == "cb0_0"),
            "{err}"
        );
    }
}
