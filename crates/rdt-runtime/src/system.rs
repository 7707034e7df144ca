//! `system()` records (allowed
//! with `--unsafe`), whose command runs with `/bin/sh -c` when its record is read, so its
//! output appears between the printf output around it.

use std::io::Write;
use std::process::Command;

/// Runs `command` to completion; its standard output and error are rdt's.
pub fn run(out: &mut dyn Write, command: &str) -> std::io::Result<()> {
    out.flush()?;
    match Command::new("/bin/sh").arg("-c").arg(command).status() {
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!("WARNING: system(\"{command}\") could not run: {e}");
            Ok(())
        }
    }
}
