//! Records that user space acts on in stream order: `join()` lines, and `system()` (allowed
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

/// A `join()` record (a u64 count, then fixed-size string slots) as one line.
pub fn format_join(body: &[u8], sep: &str, max_args: u32, arg_size: u32) -> String {
    let count = body
        .get(..8)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    let count = count.min(u64::from(max_args)) as usize;
    let size = arg_size as usize;
    let words: Vec<String> = (0..count)
        .map(|i| {
            let slot = body.get(8 + i * size..8 + (i + 1) * size).unwrap_or(&[]);
            let end = slot.iter().position(|&b| b == 0).unwrap_or(slot.len());
            String::from_utf8_lossy(&slot[..end]).into_owned()
        })
        .collect();
    let mut line = words.join(sep);
    line.push('\n');
    line
}
