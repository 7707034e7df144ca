//! Wildcard attach points the kernel refuses. Like bpftrace, a function of a kprobe wildcard
//! that cannot be attached (blacklisted, `notrace`, gone since the wildcard was expanded) is
//! skipped rather than failing the whole probe; unlike bpftrace, the skipped functions are
//! reported in one warning with their count and names. When none attached, the first error
//! stands.

use crate::error::RuntimeError;

/// How many skipped names the warning spells out before summarising the rest.
const NAMED: usize = 10;

/// The attach points of one wildcard program that failed, with why.
#[derive(Default)]
pub(crate) struct Skipped {
    failures: Vec<(String, RuntimeError)>,
}

impl Skipped {
    pub(crate) fn push(&mut self, point: &str, why: RuntimeError) {
        self.failures.push((point.to_string(), why));
    }

    /// Decides the program's fate once every attach point was tried: an error when nothing
    /// attached, otherwise the warning to print (none when nothing failed).
    pub(crate) fn settle(
        mut self,
        kind: &str,
        attached: usize,
    ) -> Result<Option<String>, RuntimeError> {
        if self.failures.is_empty() {
            return Ok(None);
        }
        if attached == 0 {
            return Err(self.failures.swap_remove(0).1);
        }
        Ok(Some(self.warning(kind, attached)))
    }

    fn warning(&self, kind: &str, attached: usize) -> String {
        let n = self.failures.len();
        let total = n + attached;
        let mut names: Vec<&str> = self
            .failures
            .iter()
            .take(NAMED)
            .map(|(p, _)| p.as_str())
            .collect();
        let more = n.saturating_sub(NAMED);
        let extra = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        names.dedup();
        let (point, why) = &self.failures[0];
        format!(
            "warning: {n} of {total} functions matched by a {kind} wildcard could not be attached and are skipped: {}{extra} ({point}: {})",
            names.join(", "),
            cause(why)
        )
    }
}

/// The error's message and, for a located one, its label (the kernel's reason).
fn cause(e: &RuntimeError) -> String {
    match e {
        RuntimeError::Located(d) if !d.label.is_empty() => format!("{}: {}", d.message, d.label),
        e => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdt_syntax::{Diagnostic, Span};

    fn refused(f: &str) -> RuntimeError {
        RuntimeError::located(
            Diagnostic::error(Span::default(), format!("cannot attach kprobe {f}"))
                .with_label("Invalid argument (os error 22)"),
        )
    }

    #[test]
    fn nothing_failed_is_silent() {
        assert!(matches!(Skipped::default().settle("kprobe", 3), Ok(None)));
    }

    #[test]
    fn some_failed_warns_once_with_count_names_and_cause() {
        let mut s = Skipped::default();
        s.push("notifier_call_chain", refused("notifier_call_chain"));
        s.push(
            "atomic_notifier_call_chain",
            refused("atomic_notifier_call_chain"),
        );
        let w = s.settle("kprobe", 3).unwrap().unwrap();
        assert_eq!(
            w,
            "warning: 2 of 5 functions matched by a kprobe wildcard could not be attached and are skipped: notifier_call_chain, atomic_notifier_call_chain (notifier_call_chain: cannot attach kprobe notifier_call_chain: Invalid argument (os error 22))"
        );
    }

    #[test]
    fn many_failures_are_summarised() {
        let mut s = Skipped::default();
        for i in 0..12 {
            s.push(&format!("f{i}"), refused("f"));
        }
        let w = s.settle("kprobe", 1).unwrap().unwrap();
        assert!(w.starts_with("warning: 12 of 13 functions"), "{w}");
        assert!(w.contains("f9 and 2 more ("), "{w}");
    }

    #[test]
    fn all_failed_is_the_first_error() {
        let mut s = Skipped::default();
        s.push("a", refused("a"));
        s.push("b", refused("b"));
        match s.settle("kprobe", 0) {
            Err(RuntimeError::Located(d)) => assert_eq!(d.message, "cannot attach kprobe a"),
            _ => panic!("expected the first error"),
        }
    }
}
