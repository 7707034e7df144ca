//! `.note.stapsdt`: one ELF note per USDT probe site, written by `sys/sdt.h`.
//!
//! Each note's descriptor holds three addresses (the probe site `pc`, the link-time address of
//! `.stapsdt.base`, and the semaphore or 0) followed by three NUL-terminated strings: provider,
//! name and the argument specs. When the object was prelinked after the note was written, the
//! `.stapsdt.base` section moved and every address moves by the same amount.

use object::read::elf::{ElfFile64, SectionHeader};
use object::{Endianness, Object, ObjectSection};

const NT_STAPSDT: u32 = 3;

/// One probe site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtProbe {
    pub provider: String,
    pub name: String,
    /// Virtual address of the probe's `nop`.
    pub pc: u64,
    /// Virtual address of the semaphore (a u16 the tracer increments), 0 when there is none.
    pub semaphore: u64,
    /// The argument specs as written (`-4@%edi 8@-8(%rbp)`).
    pub args: String,
}

pub(crate) fn probes(file: &ElfFile64<'_, Endianness>) -> Result<Vec<UsdtProbe>, String> {
    let Some(section) = file.section_by_name(".note.stapsdt") else {
        return Ok(Vec::new());
    };
    let endian = file.endian();
    let base_now = file.section_by_name(".stapsdt.base").map(|s| s.address());
    let mut notes = section
        .elf_section_header()
        .notes(endian, file.data())
        .map_err(|e| e.to_string())?
        .ok_or("`.note.stapsdt` is not a note section")?;
    let mut out = Vec::new();
    while let Some(note) = notes.next().map_err(|e| e.to_string())? {
        if note.name() != b"stapsdt" || note.n_type(endian) != NT_STAPSDT {
            continue;
        }
        out.push(parse_desc(note.desc(), base_now)?);
    }
    Ok(out)
}

fn parse_desc(desc: &[u8], base_now: Option<u64>) -> Result<UsdtProbe, String> {
    let word = |i: usize| -> Result<u64, String> {
        desc.get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| "a stapsdt note is truncated".to_string())
    };
    let (mut pc, base, mut semaphore) = (word(0)?, word(1)?, word(2)?);
    if let Some(now) = base_now {
        if base != 0 && now != base {
            let shift = now.wrapping_sub(base);
            pc = pc.wrapping_add(shift);
            if semaphore != 0 {
                semaphore = semaphore.wrapping_add(shift);
            }
        }
    }
    let mut strings = desc[24..].split(|&b| b == 0);
    let mut next = || {
        strings
            .next()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .ok_or_else(|| "a stapsdt note lacks its strings".to_string())
    };
    Ok(UsdtProbe {
        provider: next()?,
        name: next()?,
        args: next()?,
        pc,
        semaphore,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(pc: u64, base: u64, sema: u64, strings: &[&str]) -> Vec<u8> {
        let mut d = Vec::new();
        for w in [pc, base, sema] {
            d.extend_from_slice(&w.to_le_bytes());
        }
        for s in strings {
            d.extend_from_slice(s.as_bytes());
            d.push(0);
        }
        d
    }

    #[test]
    fn decodes_a_note() {
        let p = parse_desc(
            &desc(0x1139, 0x2004, 0x4010, &["app", "start", "-4@%edi"]),
            Some(0x2004),
        )
        .unwrap();
        assert_eq!(
            p,
            UsdtProbe {
                provider: "app".into(),
                name: "start".into(),
                pc: 0x1139,
                semaphore: 0x4010,
                args: "-4@%edi".into()
            }
        );
    }

    #[test]
    fn prelinked_addresses_move_with_the_base() {
        let p = parse_desc(&desc(0x1139, 0x2004, 0x4010, &["a", "b", ""]), Some(0x3004)).unwrap();
        assert_eq!((p.pc, p.semaphore), (0x2139, 0x5010));
        let no_sema = parse_desc(&desc(0x1139, 0x2004, 0, &["a", "b", ""]), Some(0x3004)).unwrap();
        assert_eq!(no_sema.semaphore, 0);
    }

    #[test]
    fn truncated_notes_are_errors() {
        assert!(parse_desc(&[0; 20], None).is_err());
        assert!(parse_desc(&desc(1, 2, 3, &[]), None).is_err());
    }
}
