//! `rdt --info`: what this kernel offers a tracer, probed for real.

use std::io::{self, Write};

/// Prints the kernel feature report.
pub fn info() -> Result<(), ()> {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "System");
    let _ = writeln!(out, "  kernel: {}", rdt_runtime::features::kernel_release());
    let cpus = rdt_btf::machine::online_cpu_list().unwrap_or_default();
    let _ = writeln!(out, "  online CPUs: {cpus}");
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
