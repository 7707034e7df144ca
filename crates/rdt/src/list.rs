//! `rdt -l [PATTERN]` / `-lv`: prints what the probe kinds list (rdt_sema::probes::list).

use std::io::{self, Write};

/// Prints the probes matching `pattern`, one per line (`-lv`: with their arguments). A kind
/// that cannot be listed here is a warning on stderr; nothing matching at all is an error.
pub fn list(pattern: Option<&str>, verbose: bool, pid: Option<u32>) -> Result<(), ()> {
    let pattern = pattern.unwrap_or("*");
    let listing = rdt_sema::probes::list::list(pattern, verbose, pid);
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
        let what = match rdt_sema::ktypes::listing::type_pattern(pattern) {
            Some(_) => "kernel types",
            None => "probes",
        };
        eprintln!("error: no {what} match `{pattern}`");
        return Err(());
    }
    Ok(())
}
