//! `software:event[:period]` (`s`) and `hardware:event[:period]` (`h`): a perf counter on every
//! CPU that runs the program once every `period` occurrences of the event. Event names follow
//! perf and bpftrace (`page-faults` = `faults`, `context-switches` = `cs`, `branch-instructions`
//! = `branches`, …). Whether the CPU has a hardware PMU is the runtime's question.

use super::{Context, Instance};
use crate::ir::{Attach, PerfCounter, ProgType};
use rdt_syntax::{Diagnostic, Span};

/// A perf event name, its aliases, its `config` value and bpftrace's default period.
pub struct EventDef {
    pub names: &'static [&'static str],
    pub config: u64,
    pub default_period: u64,
}

/// `PERF_COUNT_SW_*`.
pub const SOFTWARE: &[EventDef] = &[
    ev(&["cpu-clock", "cpu"], 0, 1_000_000),
    ev(&["task-clock"], 1, 1_000_000),
    ev(&["page-faults", "faults"], 2, 100),
    ev(&["context-switches", "cs"], 3, 1_000),
    ev(&["cpu-migrations"], 4, 1),
    ev(&["minor-faults"], 5, 100),
    ev(&["major-faults"], 6, 1),
    ev(&["alignment-faults"], 7, 1),
    ev(&["emulation-faults"], 8, 1),
    ev(&["dummy"], 9, 1),
    ev(&["bpf-output"], 10, 1),
];

/// `PERF_COUNT_HW_*`.
pub const HARDWARE: &[EventDef] = &[
    ev(&["cpu-cycles", "cycles"], 0, 1_000_000),
    ev(&["instructions"], 1, 1_000_000),
    ev(&["cache-references"], 2, 1_000_000),
    ev(&["cache-misses"], 3, 1_000_000),
    ev(&["branch-instructions", "branches"], 4, 100_000),
    ev(&["branch-misses"], 5, 100_000),
    ev(&["bus-cycles"], 6, 100_000),
    ev(
        &["stalled-cycles-frontend", "idle-cycles-frontend"],
        7,
        1_000_000,
    ),
    ev(
        &["stalled-cycles-backend", "idle-cycles-backend"],
        8,
        1_000_000,
    ),
    ev(&["ref-cycles"], 9, 1_000_000),
];

const fn ev(names: &'static [&'static str], config: u64, default_period: u64) -> EventDef {
    EventDef {
        names,
        config,
        default_period,
    }
}

pub fn expand(kind: &str, rest: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let hardware = matches!(kind, "hardware" | "h");
    let (table, what) = if hardware {
        (HARDWARE, "hardware")
    } else {
        (SOFTWARE, "software")
    };
    let (name, period) = match rest.split_once(':') {
        Some((name, period)) => (name, Some(period)),
        None => (rest, None),
    };
    let Some(def) = table.iter().find(|d| d.names.contains(&name)) else {
        let all = table.iter().flat_map(|d| d.names.iter().copied());
        let mut d = Diagnostic::error(span, format!("unknown {what} event `{name}`"))
            .with_label(format!("not a {what} event"));
        d = match rdt_syntax::did_you_mean(name, all) {
            Some(near) => d.with_help(format!("did you mean `{near}`?")),
            None => d.with_help(format!("`rdt -l '{what}:*'` lists them")),
        };
        return Err(d);
    };
    let period = match period {
        None => def.default_period,
        Some(text) => text.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            Diagnostic::error(span, format!("invalid {what} event period `{text}`"))
                .with_label("expected a positive integer")
                .with_help(format!("for example `{what}:{}:1000`", def.names[0]))
        })?,
    };
    Ok(vec![Instance {
        prog_type: ProgType::PerfEvent,
        attach: Attach::PerfCounter(PerfCounter {
            hardware,
            config: def.config,
            period,
            event: def.names[0].to_string(),
        }),
        context: Context::None,
        guard: None,
        label: def.names[0].to_string(),
        names: None,
    }])
}

/// `rdt -l 'software:GLOB'`: the software events, aliases included.
pub fn list_software(glob: &str, _verbose: bool) -> Result<Vec<super::list::Listed>, String> {
    Ok(listed("software", SOFTWARE, glob))
}

/// `rdt -l 'hardware:GLOB'`: the generic hardware events (whether the CPU counts them is
/// known only when attaching).
pub fn list_hardware(glob: &str, _verbose: bool) -> Result<Vec<super::list::Listed>, String> {
    Ok(listed("hardware", HARDWARE, glob))
}

fn listed(kind: &str, table: &[EventDef], glob: &str) -> Vec<super::list::Listed> {
    // bpftrace prints `software:cs:` (the trailing colon is where the period goes).
    let glob = glob.trim_end_matches(':');
    table
        .iter()
        .flat_map(|d| d.names.iter())
        .filter(|n| rdt_btf::glob_match(glob, n))
        .map(|n| super::list::Listed {
            name: format!("{kind}:{n}:"),
            args: Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(kind: &str, rest: &str) -> PerfCounter {
        match &expand(kind, rest, Span::default()).unwrap()[0].attach {
            Attach::PerfCounter(c) => c.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_aliases_and_periods() {
        let c = counter("software", "faults:10");
        assert_eq!((c.hardware, c.config, c.period), (false, 2, 10));
        assert_eq!(c.event, "page-faults");
        let c = counter("s", "cs");
        assert_eq!((c.config, c.period), (3, 1_000));
        let c = counter("hardware", "branches:5");
        assert_eq!((c.hardware, c.config, c.period), (true, 4, 5));
        assert!(expand("software", "page-fault", Span::default()).is_err());
        assert!(expand("software", "cs:0", Span::default()).is_err());
    }
}
