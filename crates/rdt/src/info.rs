//! `rdt -l [GLOB]` / `-lv` (probe listing, from each probe kind) and `rdt --info` (what this
//! kernel offers, probed for real).

use std::io::{self, Write};

/// Prints the probes matching `pattern`, one per line (`-lv`: with their arguments). A kind
/// that cannot be listed here is a warning on stderr; nothing matching at all is an error.
pub fn list(pattern: Option<&str>, verbose: bool) -> Result<(), ()> {
    let listing = rdt_sema::probes::list::list(pattern.unwrap_or("*"), verbose);
    for w in &listing.warnings {
        eprintln!("warning: {w}");
    }
    let mut out = io::stdout().lock();
    for p in &listing.probes {
        let _ = writeln!(out, "{}", p.name);
        for a in &p.args {
            let _ = writeln!(out, "{a}");
        }
    }
    if listing.probes.is_empty() {
        eprintln!("error: no probes match `{}`", pattern.unwrap_or("*"));
        return Err(());
    }
    Ok(())
}

/// Prints the kernel feature report.
pub fn info() -> Result<(), ()> {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "System");
    let _ = writeln!(out, "  kernel: {}", rdt_runtime::features::kernel_release());
    let cpus = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let _ = writeln!(out, "  online CPUs: {}", cpus.trim());
    let _ = writeln!(out, "\nKernel features");
    for f in rdt_runtime::features::probe_all() {
        let state = if f.available { "yes" } else { "no" };
        let note = if f.note.is_empty() {
            String::new()
        } else {
            format!(" - {}", f.note)
        };
        let _ = writeln!(out, "  {}: {state}{note}", f.name);
    }
    Ok(())
}
