//! Loading every program, where the fentry/fexit programs of one wildcard (one per function,
//! all with the probe description's span) are settled together: a function the kernel refuses
//! a trampoline program for (a union return type, too many arguments) is skipped with one
//! warning, like a refused kprobe; only a wildcard of which nothing loaded is an error.

use super::fentry;
use super::skipped::Skipped;
use crate::error::RuntimeError;
use crate::load::Object;
use rdt_codegen::{ProgType, ProgramMeta};
use rdt_syntax::Span;

/// Loads every program; returns the names of the programs skipped (not to be attached).
pub fn load_all(obj: &mut Object, programs: &[ProgramMeta]) -> Result<Vec<String>, RuntimeError> {
    let mut wildcards: Vec<(Span, &'static str, Skipped, usize)> = Vec::new();
    let mut skipped_programs = Vec::new();
    for meta in programs {
        if !is_fentry_wildcard(meta, programs) {
            obj.load_program(meta)?;
            continue;
        }
        let at = match wildcards.iter().position(|w| w.0 == meta.probe_span) {
            Some(at) => at,
            None => {
                wildcards.push((meta.probe_span, fentry::kind(meta), Skipped::default(), 0));
                wildcards.len() - 1
            }
        };
        match obj.load_program(meta) {
            Ok(()) => wildcards[at].3 += 1,
            Err(why) => {
                let function = fentry::function(meta).unwrap_or(&meta.name);
                wildcards[at].2.push(function, why);
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
