//! A BPF disassembler for `-d bpf`: one line per instruction, with the script line each run of
//! instructions came from.

use crate::insn::{self, Insn};
use rdt_syntax::Span;

pub fn disassemble(
    insns: &[Insn],
    spans: &[Span],
    source: &str,
    map_names: &[(usize, String)],
) -> String {
    let mut out = String::new();
    let mut last_line = None;
    let mut i = 0;
    while i < insns.len() {
        let span = spans.get(i).copied().unwrap_or_default();
        let line = line_of(source, span);
        if line != last_line {
            if let Some((n, text)) = line {
                out.push_str(&format!(";  {n}: {}\n", text.trim()));
            }
            last_line = line;
        }
        let map = map_names
            .iter()
            .find(|(at, _)| *at == i)
            .map(|(_, n)| n.as_str());
        let (text, width) = insn_text(insns, i, map);
        out.push_str(&format!("{i:5}: {text}\n"));
        i += width;
    }
    out
}

fn line_of(source: &str, span: Span) -> Option<(usize, &str)> {
    if span == Span::default() {
        return None;
    }
    let start = (span.start as usize).min(source.len());
    let line_no = source[..start].matches('\n').count() + 1;
    let line = source.lines().nth(line_no - 1).unwrap_or("");
    Some((line_no, line))
}

fn insn_text(insns: &[Insn], i: usize, map: Option<&str>) -> (String, usize) {
    let x = insns[i];
    let class = x.code & 0x07;
    let size = match x.code & 0x18 {
        insn::B => "u8",
        insn::H => "u16",
        insn::W => "u32",
        _ => "u64",
    };
    let text = match class {
        insn::LD => {
            let hi = insns.get(i + 1).map_or(0, |n| n.imm);
            let imm = (i64::from(hi) << 32) | i64::from(x.imm as u32);
            let what = map.map_or(format!("{imm:#x}"), |m| format!("map[{m}]"));
            return (format!("r{} = {what} ll", x.dst), 2);
        }
        insn::LDX => format!("r{} = *({size} *)(r{} {:+})", x.dst, x.src, x.off),
        insn::ST => format!("*({size} *)(r{} {:+}) = {}", x.dst, x.off, x.imm),
        insn::STX => format!("*({size} *)(r{} {:+}) = r{}", x.dst, x.off, x.src),
        insn::ALU64 => alu_text(x),
        insn::JMP => jump_text(x, i),
        _ => format!("<{:#04x}>", x.code),
    };
    (text, 1)
}

fn alu_text(x: Insn) -> String {
    let op = match x.code & 0xf0 {
        insn::ADD => "+=",
        insn::SUB => "-=",
        insn::MUL => "*=",
        insn::DIV => "/=",
        insn::OR => "|=",
        insn::AND => "&=",
        insn::LSH => "<<=",
        insn::RSH => ">>=",
        insn::NEG => return format!("r{} = -r{}", x.dst, x.dst),
        insn::MOD => "%=",
        insn::XOR => "^=",
        insn::MOV => "=",
        insn::ARSH => "s>>=",
        _ => "?=",
    };
    let src = if x.code & insn::X != 0 {
        format!("r{}", x.src)
    } else {
        x.imm.to_string()
    };
    format!("r{} {op} {src}", x.dst)
}

fn jump_text(x: Insn, i: usize) -> String {
    let target = i as i64 + 1 + i64::from(x.off);
    let op = match x.code & 0xf0 {
        insn::JA => return format!("goto {target}"),
        insn::CALL => return format!("call {}", insn::helper::name(x.imm)),
        insn::EXIT => return "exit".to_string(),
        insn::JEQ => "==",
        insn::JGT => ">",
        insn::JGE => ">=",
        insn::JSET => "&",
        insn::JNE => "!=",
        insn::JSGT => "s>",
        insn::JSGE => "s>=",
        insn::JLT => "<",
        insn::JLE => "<=",
        insn::JSLT => "s<",
        insn::JSLE => "s<=",
        _ => "?",
    };
    let src = if x.code & insn::X != 0 {
        format!("r{}", x.src)
    } else {
        x.imm.to_string()
    };
    format!("if r{} {op} {src} goto {target}", x.dst)
}
