//! `rdt -l [GLOB]` and `-lv`: every probe kind lists its own probes; this module only picks
//! which kinds a pattern concerns and joins their answers. A new kind adds one row to
//! [`LISTERS`].

use super::{fentry, kprobe, perf, rawtracepoint, tracepoint};
use rdt_btf::tracefs::glob_match;

/// One listed probe: its full name (`tracepoint:sched:sched_switch`) and, for `-lv`, its
/// arguments (`    char prev_comm[16]`), one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub args: Vec<String>,
}

/// A kind's lister: the probes whose name after `kind:` matches the glob, sorted; `verbose`
/// asks for argument types. The error says why the kind cannot be listed here.
pub type Lister = fn(glob: &str, verbose: bool) -> Result<Vec<Listed>, String>;

/// The kinds that can be listed: the name printed, its aliases, its lister.
pub const LISTERS: &[(&str, &[&str], Lister)] = &[
    ("tracepoint", &["t"], tracepoint::list),
    ("rawtracepoint", &["rt"], rawtracepoint::list),
    ("kprobe", &["k", "kretprobe", "kr"], kprobe::list),
    (
        "fentry",
        &["f", "kfunc", "fexit", "fr", "kretfunc"],
        fentry::list,
    ),
    ("software", &["s"], perf::list_software),
    ("hardware", &["h"], perf::list_hardware),
];

/// What `-l PATTERN` prints, and a warning per kind that could not be listed.
pub struct Listing {
    pub probes: Vec<Listed>,
    pub warnings: Vec<String>,
}

/// Lists the probes `pattern` matches: `kind:glob` asks one kind; a pattern without a known
/// kind is matched against every kind's full probe names (`*sched_switch*`).
pub fn list(pattern: &str, verbose: bool) -> Listing {
    let mut listing = Listing {
        probes: Vec::new(),
        warnings: Vec::new(),
    };
    let pattern = if pattern.is_empty() { "*" } else { pattern };
    if let Some((kind, rest)) = pattern.split_once(':') {
        if let Some((name, _, lister)) = LISTERS
            .iter()
            .find(|(name, aliases, _)| *name == kind || aliases.contains(&kind))
        {
            let rest = if rest.is_empty() { "*" } else { rest };
            match lister(rest, verbose) {
                Ok(found) => listing.probes = found,
                Err(why) => listing
                    .warnings
                    .push(format!("cannot list {name} probes: {why}")),
            }
            return listing;
        }
    }
    for (name, _, lister) in LISTERS {
        match lister("*", verbose) {
            Ok(found) => listing.probes.extend(found.into_iter().filter(|p| {
                glob_match(pattern, &p.name) || glob_match(&format!("*:{pattern}"), &p.name)
            })),
            // Listing everything: a kind this kernel lacks is worth a note, not a failure.
            Err(why) => listing
                .warnings
                .push(format!("cannot list {name} probes: {why}")),
        }
    }
    listing
}
