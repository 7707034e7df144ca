//! `uaddr("symbol")`: the run-time address of a symbol of the traced program, found when
//! compiling. The program is the uprobe's object in a user-space probe, else the `-c` command's
//! program or the `-p` process's executable. A position-dependent executable loads at its link
//! addresses; a position-independent one (PIE) is placed at a random base, which rdt reads from
//! `/proc/PID/maps` and so needs `-p PID` (a `-c` command has not been loaded yet when the
//! script is compiled).

use super::{typed, ClauseChecker};
use crate::ir::{Expr, ExprKind};
use crate::Type;
use rdt_elf::ElfObject;
use rdt_syntax::ast;
use rdt_syntax::{Diagnostic, Span};
use std::path::{Path, PathBuf};

/// `e_type` of a position-dependent executable.
const ET_EXEC: u16 = 2;

impl ClauseChecker<'_> {
    pub(super) fn uaddr_call(&mut self, arg: &ast::Expr, span: Span) -> Option<Expr> {
        let ast::ExprKind::Str(name) = &arg.kind else {
            self.error(
                Diagnostic::error(
                    arg.span,
                    "uaddr() needs the symbol's name as a string literal",
                )
                .with_label("not a string literal")
                .with_help("for example `uaddr(\"main\")`"),
            );
            return None;
        };
        match self.user_symbol_address(name) {
            Ok(addr) => Some(typed(ExprKind::Int(addr as i64), Type::U64, span)),
            Err((message, help)) => {
                self.error(
                    Diagnostic::error(arg.span, message)
                        .with_label("cannot resolve this symbol")
                        .with_help(help),
                );
                None
            }
        }
    }

    fn user_symbol_address(&self, name: &str) -> Result<u64, (String, String)> {
        let pid = self.params.target_pid;
        let path = self.uaddr_object()?;
        let shown = path.display().to_string();
        let object = ElfObject::open(&path).map_err(|e| (e.to_string(), read_help()))?;
        let vaddr = object
            .symbol_address(name)
            .map_err(|e| (e.to_string(), read_help()))?
            .ok_or_else(|| {
                (
                    format!("{shown} has no symbol `{name}`"),
                    format!("`nm {shown}` lists its symbols"),
                )
            })?;
        if elf_type(&path) == Some(ET_EXEC) {
            return Ok(vaddr);
        }
        let running = pid.filter(|_| self.params.target_program.is_none());
        let Some(pid) = running else {
            return Err((
                format!("{shown} is position-independent: `{name}` has no fixed address"),
                "run with `-p PID` on a running process, whose load address rdt can read, or build the program with `-no-pie`".into(),
            ));
        };
        let base = load_base(pid, &path).ok_or_else(|| {
            (
                format!("process {pid} has not mapped {shown}"),
                "uaddr() looks in the program the -p process runs".to_string(),
            )
        })?;
        Ok(base + vaddr)
    }

    /// The object uaddr() looks in.
    fn uaddr_object(&self) -> Result<PathBuf, (String, String)> {
        if self.context.user_space() {
            return Ok(PathBuf::from(&self.lang.probe.module));
        }
        if let Some(program) = &self.params.target_program {
            return rdt_elf::resolve(program, None)
                .map_err(|e| (e.to_string(), "give the program's path to -c".into()));
        }
        if let Some(pid) = self.params.target_pid {
            return std::fs::read_link(format!("/proc/{pid}/exe")).map_err(|e| {
                (
                    format!("cannot find process {pid}'s program: {e}"),
                    read_help(),
                )
            });
        }
        Err((
            "uaddr() has no program to look in".into(),
            "use it in a uprobe, or name the program with `-c CMD` or `-p PID`".into(),
        ))
    }
}

fn read_help() -> String {
    "uaddr() reads the symbols of the traced program's ELF file".into()
}

/// The ELF header's `e_type` (little-endian x86-64 objects).
fn elf_type(path: &Path) -> Option<u16> {
    use std::io::Read;
    let mut header = [0u8; 18];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut header)
        .ok()?;
    Some(u16::from_le_bytes([header[16], header[17]]))
}

/// Where process `pid` mapped the start of `path` (its file offset 0), from `/proc/PID/maps`.
fn load_base(pid: u32, path: &Path) -> Option<u64> {
    let wanted = std::fs::canonicalize(path).ok()?;
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    maps.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (range, offset, file) = (fields.first()?, fields.get(2)?, fields.get(5)?);
        if Path::new(file) != wanted || u64::from_str_radix(offset, 16).ok()? != 0 {
            return None;
        }
        u64::from_str_radix(range.split('-').next()?, 16).ok()
    })
}
