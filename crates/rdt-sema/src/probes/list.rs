//! `rdt -l [GLOB]` and `-lv`: every probe kind lists its own probes; this module only picks
//! which kinds a pattern concerns and joins their answers. A new kind adds one row to
//! [`LISTERS`].

use super::{d_providers, fentry, kprobe, perf, rawtracepoint, tracepoint, uprobe, usdt};
use rdt_btf::tracefs::glob_match;

/// One listed probe: its full name (`tracepoint:sched:sched_switch`) and, for `-lv`, its
/// arguments (`    char prev_comm[16]`), one per line. A listed kernel type
/// (ktypes/listing.rs) is its declaration's first line and the lines after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub args: Vec<String>,
}

/// What a lister is asked: the part of the pattern after `kind:` (`sched:*`,
/// `/bin/bash:readline*`), whether `-lv` wants argument types, and `-p PID` (whose mapped
/// objects user-space kinds list when no binary is named).
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub glob: &'a str,
    pub verbose: bool,
    pub pid: Option<u32>,
}

/// A kind's lister: the probes the query matches, sorted. The error says why the kind cannot
/// be listed here.
pub type Lister = fn(&Query) -> Result<Vec<Listed>, String>;

/// A kind that can be listed.
pub struct ListedKind {
    /// The kind as listings print it.
    pub name: &'static str,
    /// Other spellings a pattern may use.
    pub aliases: &'static [&'static str],
    pub lister: Lister,
    /// User-space kinds list the probes of a binary: a pattern without a kind reaches them
    /// only through `-p PID`.
    pub needs_target: bool,
}

const fn kernel(
    name: &'static str,
    aliases: &'static [&'static str],
    lister: Lister,
) -> ListedKind {
    ListedKind {
        name,
        aliases,
        lister,
        needs_target: false,
    }
}

const fn user(name: &'static str, aliases: &'static [&'static str], lister: Lister) -> ListedKind {
    ListedKind {
        name,
        aliases,
        lister,
        needs_target: true,
    }
}

/// The kinds that can be listed.
pub const LISTERS: &[ListedKind] = &[
    kernel("tracepoint", &["t"], |q| {
        tracepoint::list(q.glob, q.verbose)
    }),
    kernel("rawtracepoint", &["rt"], |q| {
        rawtracepoint::list(q.glob, q.verbose)
    }),
    kernel("kprobe", &["k", "kretprobe", "kr"], |q| {
        kprobe::list(q.glob, q.verbose)
    }),
    kernel("fentry", &["f", "kfunc"], fentry::list_fentry),
    kernel("fexit", &["fr", "kretfunc"], fentry::list_fexit),
    kernel("software", &["s"], |q| {
        perf::list_software(q.glob, q.verbose)
    }),
    kernel("hardware", &["h"], |q| {
        perf::list_hardware(q.glob, q.verbose)
    }),
    user("uprobe", &["u"], uprobe::list_uprobes),
    user("uretprobe", &["ur"], uprobe::list_uretprobes),
    user("usdt", &["U"], usdt::list),
    kernel("proc", &[], |q| {
        d_providers::list("proc", q.glob, q.verbose)
    }),
    kernel("sched", &[], |q| {
        d_providers::list("sched", q.glob, q.verbose)
    }),
    kernel("io", &[], |q| d_providers::list("io", q.glob, q.verbose)),
];

/// What `-l PATTERN` prints, and a warning per kind that could not be listed.
pub struct Listing {
    pub probes: Vec<Listed>,
    pub warnings: Vec<String>,
}

/// Lists the probes `pattern` matches: `kind:glob` asks one kind; a pattern without a known
/// kind is matched against every kind's full probe names (`*sched_switch*`), the user-space
/// kinds' only with `-p PID`.
pub fn list(pattern: &str, verbose: bool, pid: Option<u32>) -> Listing {
    let mut listing = Listing {
        probes: Vec::new(),
        warnings: Vec::new(),
    };
    let pattern = if pattern.is_empty() { "*" } else { pattern };
    if let Some((keyword, kind, glob)) = crate::ktypes::listing::type_pattern(pattern) {
        match crate::ktypes::listing::list(keyword, kind, glob, verbose) {
            Ok(found) => listing.probes = found,
            Err(why) => listing
                .warnings
                .push(format!("cannot list {keyword} types: {why}")),
        }
        return listing;
    }
    if let Some((kind, rest)) = pattern.split_once(':') {
        if let Some(k) = LISTERS
            .iter()
            .find(|k| k.name == kind || k.aliases.contains(&kind))
        {
            let glob = if rest.is_empty() && !k.needs_target {
                "*"
            } else {
                rest
            };
            match (k.lister)(&Query { glob, verbose, pid }) {
                Ok(found) => listing.probes = found,
                Err(why) => listing
                    .warnings
                    .push(format!("cannot list {} probes: {why}", k.name)),
            }
            return listing;
        }
    }
    let everything = Query {
        glob: "*",
        verbose,
        pid,
    };
    let mut failures: Vec<(&str, String)> = Vec::new();
    for k in LISTERS.iter().filter(|k| pid.is_some() || !k.needs_target) {
        match (k.lister)(&everything) {
            Ok(found) => listing.probes.extend(found.into_iter().filter(|p| {
                glob_match(pattern, &p.name) || glob_match(&format!("*:{pattern}"), &p.name)
            })),
            // Listing everything: a kind this kernel lacks is worth a note, not a failure.
            Err(why) => failures.push((k.name, why)),
        }
    }
    listing.warnings = warnings_by_reason(&failures);
    listing
}

/// One warning per reason (kprobe, fentry and fexit all read `available_filter_functions`).
fn warnings_by_reason(failures: &[(&str, String)]) -> Vec<String> {
    let mut reasons: Vec<&str> = Vec::new();
    for (_, why) in failures {
        if !reasons.contains(&why.as_str()) {
            reasons.push(why);
        }
    }
    reasons
        .into_iter()
        .map(|why| {
            let kinds: Vec<&str> = failures
                .iter()
                .filter(|(_, w)| w == why)
                .map(|(k, _)| *k)
                .collect();
            format!("cannot list {} probes: {why}", kinds.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_failing_alike_share_a_warning_in_listing_order() {
        let failures = [
            ("kprobe", "no ftrace".to_string()),
            ("hardware", "no PMU".to_string()),
            ("fentry", "no ftrace".to_string()),
        ];
        assert_eq!(
            warnings_by_reason(&failures),
            vec![
                "cannot list kprobe, fentry probes: no ftrace",
                "cannot list hardware probes: no PMU",
            ]
        );
    }

    #[test]
    fn every_kind_and_alias_is_listed_once() {
        let mut names: Vec<&str> = LISTERS
            .iter()
            .flat_map(|k| std::iter::once(k.name).chain(k.aliases.iter().copied()))
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }
}
