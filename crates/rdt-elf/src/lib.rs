//! rdt-elf: what rdt needs to know about user-space objects to place uprobes and USDT probes.
//!
//! - [`ElfObject`]: function symbols (`.symtab` and `.dynsym`, demangled), address → file
//!   offset translation through the program headers, USDT notes.
//! - [`argspec`]: the x86-64 USDT argument specs of those notes.
//! - [`resolve`]: a path, a library short name (`libc`, via `/etc/ld.so.cache` or a process's
//!   maps), or a program on `PATH`.

pub mod argspec;
mod demangle;
mod libpath;
mod object;
mod stapsdt;

pub use crate::object::{ElfObject, Symbol};
pub use argspec::{ArgLoc, ArgSpec, Reg};
pub use demangle::demangle;
pub use libpath::{mapped_objects, resolve};
pub use stapsdt::UsdtProbe;

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum ElfError {
    /// No file, library or program by that name.
    NotFound {
        target: String,
    },
    Io {
        path: PathBuf,
        reason: String,
    },
    /// The file is not an ELF object rdt can read.
    Parse {
        path: PathBuf,
        reason: String,
    },
}

impl ElfError {
    fn io(path: &Path, e: &std::io::Error) -> ElfError {
        ElfError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::NotFound { target } => {
                write!(f, "no binary, library or program named `{target}`")
            }
            ElfError::Io { path, reason } => write!(f, "cannot read {}: {reason}", path.display()),
            ElfError::Parse { path, reason } => {
                write!(
                    f,
                    "{} is not a readable ELF object: {reason}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for ElfError {}
