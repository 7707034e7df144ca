//! Loading every program, where the fentry/fexit programs of one wildcard (one per function,
//! all with the probe description's span) are settled together: a function the kernel refuses
//! a trampoline program for (a union return type, too many arguments) is skipped with one
//! warning, like a refused kprobe; only a wildcard of which nothing loaded is an error.

use super::skipped::Skipped;
use crate::error::RuntimeError;
use crate::load;
use crate::load::Loaded;
use rdt_codegen::{Attach, ProgType, ProgramMeta};
use rdt_syntax::Span;

/// Loads every program; returns the names of the programs skipped (not to be attached).
pub fn load_all(ebpf: &mut Loaded, programs: &[ProgramMeta]) -> Result<Vec<String>, RuntimeError> {
    let mut wildcards: Vec<(Span, &'static str, Skipped, usize)> = Vec::new();
    let mut skipped_programs = Vec::new();
    for meta in programs {
        if !is_fentry_wildcard(meta, programs) {
            load::load_program(ebpf, meta)?;
            continue;
        }
        let at = match wildcards.iter().position(|w| w.0 == meta.probe_span) {
            Some(at) => at,
            None => {
                let kind = if meta.prog_type == ProgType::Fexit {
                    "fexit"
                } else {
                    "fentry"
                };
                wildcards.push((meta.probe_span, kind, Skipped::default(), 0));
                wildcards.len() - 1
            }
        };
        match load::load_program(ebpf, meta) {
            Ok(()) => wildcards[at].3 += 1,
            Err(why) => {
                wildcards[at].2.push(function(meta), why);
                skipped_programs.push(meta.name.clone());
            }
        }
    }
    for (_, kind, skipped, loaded) in wildcards {
        if let Some(warning) = skipped.settle(kind, loaded)? {
            eprintln!("{warning}");
        }
    }
    Ok(skipped_programs)
}

/// Whether `meta` is one of several fentry/fexit programs of one probe description.
fn is_fentry_wildcard(meta: &ProgramMeta, programs: &[ProgramMeta]) -> bool {
    matches!(meta.prog_type, ProgType::Fentry | ProgType::Fexit)
        && programs
            .iter()
            .filter(|p| p.probe_span == meta.probe_span)
            .count()
            > 1
}

fn function(meta: &ProgramMeta) -> &str {
    meta.attach
        .iter()
        .find_map(|a| match a {
            Attach::Fentry { function } => Some(function.as_str()),
            _ => None,
        })
        .unwrap_or(&meta.name)
}
