//! x86-64 USDT argument specs, as `sys/sdt.h` writes them into `.note.stapsdt`: one
//! space-separated `[-]SIZE@OPERAND` per argument, the operand in AT&T syntax — a register
//! (`-4@%edi`), an immediate (`4@$5`), or memory (`8@-8(%rbp)`, `8@(%rax,%rdx,8)`,
//! `4@counter(%rip)`).

use std::fmt;

/// One decoded argument: how wide it is, whether it is signed, and where its value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgSpec {
    /// Width in bytes: 1, 2, 4 or 8.
    pub size: u8,
    pub signed: bool,
    pub loc: ArgLoc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgLoc {
    /// `$5`: the value itself.
    Imm(i64),
    /// `%edi`: a register's value.
    Reg(Reg),
    /// `disp(%base,%index,scale)`: memory at `base + index*scale + disp`; `base` and `index`
    /// may be absent (`(,%rax,8)`, or a bare absolute address).
    Mem {
        base: Option<Reg>,
        index: Option<(Reg, u8)>,
        disp: i64,
    },
    /// `sym+disp(%rip)`: memory at the symbol's address plus `disp` (the assembler made the
    /// displacement relative to the instruction, so only the symbol's address matters).
    RipRel { symbol: String, disp: i64 },
}

/// A general-purpose register as the operand names it (`%eax` is `rax`, 4 bytes wide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg {
    /// The 64-bit register's name (`rax`, `r8`, `rip`).
    pub name: &'static str,
    /// Offset of the register in the kernel's x86-64 `struct pt_regs`.
    pub pt_regs_offset: u32,
    /// Bytes the operand names (8 for `%rax`, 4 for `%eax`, 1 for `%al`).
    pub width: u8,
    /// `%ah`, `%bh`, `%ch`, `%dh`: bits 8..16 of the register.
    pub high_byte: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgSpecError {
    pub spec: String,
    pub reason: String,
}

impl fmt::Display for ArgSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode USDT argument `{}`: {}",
            self.spec, self.reason
        )
    }
}

impl std::error::Error for ArgSpecError {}

/// (64-bit name, [64-, 32-, 16-, 8-bit names]); offsets come from [`rdt_btf::pt_regs`].
const REGISTERS: &[(&str, [&str; 4])] = &[
    ("rax", ["rax", "eax", "ax", "al"]),
    ("rbx", ["rbx", "ebx", "bx", "bl"]),
    ("rcx", ["rcx", "ecx", "cx", "cl"]),
    ("rdx", ["rdx", "edx", "dx", "dl"]),
    ("rsi", ["rsi", "esi", "si", "sil"]),
    ("rdi", ["rdi", "edi", "di", "dil"]),
    ("rbp", ["rbp", "ebp", "bp", "bpl"]),
    ("rsp", ["rsp", "esp", "sp", "spl"]),
    ("r8", ["r8", "r8d", "r8w", "r8b"]),
    ("r9", ["r9", "r9d", "r9w", "r9b"]),
    ("r10", ["r10", "r10d", "r10w", "r10b"]),
    ("r11", ["r11", "r11d", "r11w", "r11b"]),
    ("r12", ["r12", "r12d", "r12w", "r12b"]),
    ("r13", ["r13", "r13d", "r13w", "r13b"]),
    ("r14", ["r14", "r14d", "r14w", "r14b"]),
    ("r15", ["r15", "r15d", "r15w", "r15b"]),
    ("rip", ["rip", "eip", "ip", ""]),
];

const HIGH_BYTES: &[(&str, &str)] = &[("ah", "rax"), ("bh", "rbx"), ("ch", "rcx"), ("dh", "rdx")];

/// The register an AT&T name (without `%`) stands for, or `None`.
pub fn register(name: &str) -> Option<Reg> {
    let name = name.to_ascii_lowercase();
    // `%r8l` is another spelling of `%r8b`.
    let name = match name.strip_suffix('l') {
        Some(n) if n.starts_with('r') && n[1..].parse::<u8>().is_ok() => format!("{n}b"),
        _ => name,
    };
    for &(full, names) in REGISTERS {
        if let Some(i) = names.iter().position(|n| !n.is_empty() && *n == name) {
            return Some(Reg {
                name: full,
                pt_regs_offset: rdt_btf::pt_regs::offset(full)?,
                width: [8, 4, 2, 1][i],
                high_byte: false,
            });
        }
    }
    let &(_, full) = HIGH_BYTES.iter().find(|(h, _)| *h == name)?;
    let mut reg = register(full)?;
    reg.width = 1;
    reg.high_byte = true;
    Some(reg)
}

/// Decodes a note's whole argument string (`-4@%edi 8@-8(%rbp)`); empty for no arguments.
pub fn parse_args(text: &str) -> Result<Vec<ArgSpec>, ArgSpecError> {
    text.split_ascii_whitespace().map(parse_arg).collect()
}

/// Decodes one `[-]SIZE@OPERAND`.
pub fn parse_arg(spec: &str) -> Result<ArgSpec, ArgSpecError> {
    let err = |reason: &str| ArgSpecError {
        spec: spec.to_string(),
        reason: reason.to_string(),
    };
    // Very old sdt.h wrote the operand alone; such an argument is a signed long.
    let (size, signed, operand) = match spec.split_once('@') {
        Some((size, operand)) if !size.is_empty() && !operand.is_empty() => {
            let n: i32 = size.parse().map_err(|_| err("the size is not a number"))?;
            let bytes = n.unsigned_abs();
            if !matches!(bytes, 1 | 2 | 4 | 8) {
                return Err(err("the size must be 1, 2, 4 or 8 bytes"));
            }
            (bytes as u8, n < 0, operand)
        }
        Some(_) => return Err(err("expected SIZE@OPERAND")),
        None => (8, true, spec),
    };
    // AT&T operands are ASCII; the note text was decoded lossily, so anything else is garbage.
    if !operand.is_ascii() {
        return Err(err("the operand has non-ASCII characters"));
    }
    let loc = parse_operand(operand).map_err(|r| err(&r))?;
    Ok(ArgSpec { size, signed, loc })
}

fn parse_operand(op: &str) -> Result<ArgLoc, String> {
    if let Some(imm) = op.strip_prefix('$') {
        return parse_int(imm)
            .map(ArgLoc::Imm)
            .ok_or_else(|| format!("`{imm}` is not an immediate number"));
    }
    if let Some(name) = op.strip_prefix('%') {
        if name.contains(':') {
            return Err("segment-relative operands are not supported".into());
        }
        return register(name)
            .map(ArgLoc::Reg)
            .ok_or_else(|| format!("unknown register `%{name}`"));
    }
    let (disp_text, inner) = match op.find('(') {
        Some(open) => {
            let inner = op[open + 1..]
                .strip_suffix(')')
                .ok_or("unbalanced parentheses")?;
            (&op[..open], Some(inner))
        }
        None => (op, None),
    };
    let Some(inner) = inner else {
        // A bare absolute address.
        return parse_int(disp_text)
            .map(|disp| ArgLoc::Mem {
                base: None,
                index: None,
                disp,
            })
            .ok_or_else(|| format!("cannot read operand `{op}`"));
    };
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    let base = match parts[0] {
        "" => None,
        b => Some(parse_reg(b)?),
    };
    if base.is_some_and(|r| r.name == "rip") {
        if parts.len() > 1 {
            return Err("%rip cannot take an index".into());
        }
        let (symbol, disp) = split_symbol(disp_text)?;
        return Ok(match symbol {
            Some(symbol) => ArgLoc::RipRel { symbol, disp },
            None => return Err("a %rip-relative operand needs a symbol".into()),
        });
    }
    let disp = if disp_text.is_empty() {
        0
    } else {
        parse_int(disp_text).ok_or_else(|| format!("`{disp_text}` is not a displacement"))?
    };
    let index = match parts.get(1) {
        None => None,
        Some(i) => {
            let reg = parse_reg(i)?;
            let scale = match parts.get(2) {
                None => 1,
                Some(s) => match s.parse::<u8>() {
                    Ok(n @ (1 | 2 | 4 | 8)) => n,
                    _ => return Err(format!("scale `{s}` must be 1, 2, 4 or 8")),
                },
            };
            Some((reg, scale))
        }
    };
    if parts.len() > 3 {
        return Err("too many parts in a memory operand".into());
    }
    if base.is_none() && index.is_none() {
        return Err("a memory operand needs a base or an index register".into());
    }
    Ok(ArgLoc::Mem { base, index, disp })
}

fn parse_reg(text: &str) -> Result<Reg, String> {
    let name = text
        .strip_prefix('%')
        .ok_or_else(|| format!("expected a register, found `{text}`"))?;
    register(name).ok_or_else(|| format!("unknown register `%{name}`"))
}

/// `counter`, `counter+8`, `counter-4`, `8` → (symbol, displacement).
fn split_symbol(text: &str) -> Result<(Option<String>, i64), String> {
    if text.is_empty() {
        return Ok((None, 0));
    }
    if let Some(n) = parse_int(text) {
        return Ok((None, n));
    }
    // The symbol comes first, so a sign at position 0 cannot start the displacement.
    let cut = text
        .char_indices()
        .skip(1)
        .find(|&(_, c)| matches!(c, '+' | '-'))
        .map(|(i, _)| i);
    let (sym, disp) = match cut {
        Some(i) => {
            let d = &text[i..];
            let d = d.strip_prefix('+').unwrap_or(d);
            let n = parse_int(d).ok_or_else(|| format!("`{d}` is not a displacement"))?;
            (&text[..i], n)
        }
        None => (text, 0),
    };
    let valid = sym
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '@'));
    if !valid {
        return Err(format!("`{sym}` is not a symbol"));
    }
    Ok((Some(sym.to_string()), disp))
}

/// A decimal or `0x` hexadecimal number, optionally negative.
fn parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()? as i64,
        None => digits.parse::<u64>().ok()? as i64,
    };
    Some(if neg { value.wrapping_neg() } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(name: &str) -> Reg {
        register(name).unwrap()
    }

    fn arg(spec: &str) -> ArgSpec {
        parse_arg(spec).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn register_aliases_name_the_same_register() {
        for (alias, width) in [("rax", 8), ("eax", 4), ("ax", 2), ("al", 1)] {
            let r = reg(alias);
            assert_eq!((r.name, r.pt_regs_offset, r.width), ("rax", 80, width));
        }
        for (alias, width) in [("r8", 8), ("r8d", 4), ("r8w", 2), ("r8b", 1), ("r8l", 1)] {
            let r = reg(alias);
            assert_eq!((r.name, r.pt_regs_offset, r.width), ("r8", 72, width));
        }
        assert_eq!(reg("dil").name, "rdi");
        assert_eq!(reg("sil").pt_regs_offset, 104);
        assert_eq!(reg("r15d").pt_regs_offset, 0);
        assert_eq!(reg("rsp").pt_regs_offset, 152);
        assert_eq!(reg("RBP").pt_regs_offset, 32);
        let ah = reg("ah");
        assert!(ah.high_byte && ah.width == 1 && ah.name == "rax");
        assert!(register("xmm0").is_none());
        assert!(register("r16").is_none());
    }

    #[test]
    fn every_argument_register_has_its_pt_regs_offset() {
        let abi = [
            ("rdi", 112),
            ("rsi", 104),
            ("rdx", 96),
            ("rcx", 88),
            ("r8", 72),
            ("r9", 64),
        ];
        for (name, offset) in abi {
            assert_eq!(reg(name).pt_regs_offset, offset, "{name}");
        }
    }

    #[test]
    fn register_operands() {
        assert_eq!(
            arg("-4@%edi"),
            ArgSpec {
                size: 4,
                signed: true,
                loc: ArgLoc::Reg(reg("edi"))
            }
        );
        let a = arg("8@%rax");
        assert_eq!((a.size, a.signed), (8, false));
        assert_eq!(a.loc, ArgLoc::Reg(reg("rax")));
        assert_eq!(arg("1@%al").loc, ArgLoc::Reg(reg("al")));
        assert_eq!(arg("-2@%r9w").loc, ArgLoc::Reg(reg("r9w")));
    }

    #[test]
    fn immediates() {
        assert_eq!(arg("4@$5").loc, ArgLoc::Imm(5));
        assert_eq!(arg("-4@$-17").loc, ArgLoc::Imm(-17));
        assert_eq!(arg("8@$0x10").loc, ArgLoc::Imm(16));
        assert_eq!(
            arg("8@$0xffffffffffffffff").loc,
            ArgLoc::Imm(-1),
            "a 64-bit pattern keeps its bits"
        );
    }

    #[test]
    fn memory_with_base_and_displacement() {
        assert_eq!(
            arg("8@-8(%rbp)").loc,
            ArgLoc::Mem {
                base: Some(reg("rbp")),
                index: None,
                disp: -8
            }
        );
        assert_eq!(
            arg("-4@(%rsp)").loc,
            ArgLoc::Mem {
                base: Some(reg("rsp")),
                index: None,
                disp: 0
            }
        );
        assert_eq!(
            arg("4@0x10(%rdi)").loc,
            ArgLoc::Mem {
                base: Some(reg("rdi")),
                index: None,
                disp: 16
            }
        );
    }

    #[test]
    fn memory_with_index_and_scale() {
        assert_eq!(
            arg("8@(%rax,%rdx,8)").loc,
            ArgLoc::Mem {
                base: Some(reg("rax")),
                index: Some((reg("rdx"), 8)),
                disp: 0
            }
        );
        assert_eq!(
            arg("-4@12(%rbx,%rcx)").loc,
            ArgLoc::Mem {
                base: Some(reg("rbx")),
                index: Some((reg("rcx"), 1)),
                disp: 12
            }
        );
        assert_eq!(
            arg("4@(,%r8,4)").loc,
            ArgLoc::Mem {
                base: None,
                index: Some((reg("r8"), 4)),
                disp: 0
            }
        );
        assert_eq!(
            arg("4@-4(%rax,%r12d,2)").loc,
            ArgLoc::Mem {
                base: Some(reg("rax")),
                index: Some((reg("r12d"), 2)),
                disp: -4
            }
        );
    }

    #[test]
    fn rip_relative_symbols() {
        assert_eq!(
            arg("-4@counter(%rip)").loc,
            ArgLoc::RipRel {
                symbol: "counter".into(),
                disp: 0
            }
        );
        assert_eq!(
            arg("8@table+16(%rip)").loc,
            ArgLoc::RipRel {
                symbol: "table".into(),
                disp: 16
            }
        );
        assert_eq!(
            arg("1@buf.1234-1(%rip)").loc,
            ArgLoc::RipRel {
                symbol: "buf.1234".into(),
                disp: -1
            }
        );
    }

    #[test]
    fn absolute_address_and_legacy_form() {
        assert_eq!(
            arg("8@0x601040").loc,
            ArgLoc::Mem {
                base: None,
                index: None,
                disp: 0x601040
            }
        );
        let legacy = arg("%rdi");
        assert_eq!((legacy.size, legacy.signed), (8, true));
    }

    #[test]
    fn argument_lists() {
        let args = parse_args("-4@%edi 8@-8(%rbp)  4@$5").unwrap();
        assert_eq!(args.len(), 3);
        assert_eq!(args[2].loc, ArgLoc::Imm(5));
        assert!(parse_args("").unwrap().is_empty());
    }

    #[test]
    fn malformed_specs_are_errors() {
        for bad in [
            "3@%eax",
            "x@%eax",
            "4@%xmm0",
            "4@",
            "@%eax",
            "4@$abc",
            "4@(%rax",
            "4@(%rax,%rbx,3)",
            "4@8(%rip,%rax)",
            "4@(%rip)",
            "8@%fs:0x28",
            "4@()",
            "4@a b(%rax)",
            // Note strings are decoded lossily: a multi-byte first character must not panic.
            "8@é(%rip)",
            "8@é+4(%rip)",
            "4@é",
            "4@$é",
        ] {
            assert!(parse_arg(bad).is_err(), "{bad} should not decode");
        }
        let e = parse_arg("4@%xmm0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot decode USDT argument `4@%xmm0`: unknown register `%xmm0`"
        );
    }
}
