//! One user-space ELF object (an executable or a shared library): its function symbols, its
//! USDT notes, and the translation from virtual addresses to the file offsets that the kernel's
//! uprobe interface takes.

use crate::stapsdt::{self, UsdtProbe};
use crate::ElfError;
use object::elf::{PF_X, PT_LOAD, STT_GNU_IFUNC};
use object::read::elf::{ElfFile64, ProgramHeader};
use object::{Endianness, Object, ObjectSymbol, SymbolKind};
use std::path::{Path, PathBuf};

/// A function symbol of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The name as stored (mangled for C++ and Rust).
    pub name: String,
    /// The demangled name, when the stored one is mangled.
    pub demangled: Option<String>,
    /// Link-time virtual address.
    pub address: u64,
    pub size: u64,
    /// A GNU indirect function: the symbol is the resolver the dynamic linker calls once to
    /// pick an implementation (`strlen` → `__strlen_avx2`), not the code callers run.
    pub ifunc: bool,
}

impl Symbol {
    /// The name a user sees and matches against: demangled when that differs.
    pub fn display_name(&self) -> &str {
        self.demangled.as_deref().unwrap_or(&self.name)
    }
}

/// A parsed ELF file, kept in memory.
pub struct ElfObject {
    path: PathBuf,
    data: Vec<u8>,
}

/// A PT_LOAD segment: where file bytes land in memory.
#[derive(Debug, Clone, Copy)]
struct Segment {
    vaddr: u64,
    offset: u64,
    filesz: u64,
    executable: bool,
}

impl ElfObject {
    pub fn open(path: &Path) -> Result<ElfObject, ElfError> {
        let data = std::fs::read(path).map_err(|e| ElfError::io(path, &e))?;
        let object = ElfObject {
            path: path.to_path_buf(),
            data,
        };
        object.parse()?;
        Ok(object)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn parse(&self) -> Result<ElfFile64<'_, Endianness>, ElfError> {
        ElfFile64::parse(self.data.as_slice()).map_err(|e| ElfError::Parse {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }

    /// Every defined function symbol of `.symtab` and `.dynsym`, one per name, sorted by name.
    pub fn functions(&self) -> Result<Vec<Symbol>, ElfError> {
        let file = self.parse()?;
        let mut out: Vec<Symbol> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for sym in file.symbols().chain(file.dynamic_symbols()) {
            if sym.kind() != SymbolKind::Text || sym.is_undefined() || sym.address() == 0 {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            if name.is_empty() || !seen.insert(name.to_string()) {
                continue;
            }
            out.push(Symbol {
                name: name.to_string(),
                demangled: crate::demangle::demangle(name),
                address: sym.address(),
                size: sym.size(),
                ifunc: sym.elf_symbol().st_type() == STT_GNU_IFUNC,
            });
        }
        out.sort_by(|a, b| a.display_name().cmp(b.display_name()));
        Ok(out)
    }

    /// The address of a data or function symbol by its stored name (for `sym(%rip)` operands).
    pub fn symbol_address(&self, name: &str) -> Result<Option<u64>, ElfError> {
        let file = self.parse()?;
        Ok(file
            .symbols()
            .chain(file.dynamic_symbols())
            .find(|s| !s.is_undefined() && s.name() == Ok(name))
            .map(|s| s.address()))
    }

    /// The file offset the bytes at virtual address `vaddr` come from, for a uprobe.
    pub fn file_offset(&self, vaddr: u64) -> Result<Option<u64>, ElfError> {
        Ok(self
            .segments()?
            .into_iter()
            .find(|s| vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz)
            .map(|s| vaddr - s.vaddr + s.offset))
    }

    /// Whether `vaddr` lies in an executable segment (an address a uprobe may be placed on).
    pub fn is_code(&self, vaddr: u64) -> Result<bool, ElfError> {
        Ok(self
            .segments()?
            .iter()
            .any(|s| s.executable && vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz))
    }

    fn segments(&self) -> Result<Vec<Segment>, ElfError> {
        let file = self.parse()?;
        let endian = file.endian();
        Ok(file
            .elf_program_headers()
            .iter()
            .filter(|ph| ph.p_type(endian) == PT_LOAD)
            .map(|ph| Segment {
                vaddr: ph.p_vaddr(endian),
                offset: ph.p_offset(endian),
                filesz: ph.p_filesz(endian),
                executable: ph.p_flags(endian) & PF_X != 0,
            })
            .collect())
    }

    /// The USDT probes of `.note.stapsdt`, with addresses adjusted for prelinking.
    pub fn usdt_probes(&self) -> Result<Vec<UsdtProbe>, ElfError> {
        let file = self.parse()?;
        stapsdt::probes(&file).map_err(|reason| ElfError::Parse {
            path: self.path.clone(),
            reason,
        })
    }
}
