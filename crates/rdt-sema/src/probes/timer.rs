//! `interval:UNIT:N` (one CPU) and `profile:UNIT:N` (every CPU): software cpu-clock perf events.
//! D spellings: `tick-1s`, `profile-997` (a bare number is hertz).

use super::{unlocated, Context, Instance, Resolved};
use crate::ir::{Attach, ExprKind, ProgType, TimerPeriod};
use crate::Type;
use rdt_syntax::ast::BinOp;
use rdt_syntax::{Diagnostic, Span};

pub fn expand(kind: &str, rest: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let all_cpus = matches!(kind, "profile" | "p");
    let period = match rest.split_once(':') {
        Some((unit, count)) => period(unit, count, span)?,
        // `interval:1s`, `profile:99hz`, `profile:997` (a bare number is hertz).
        None => suffixed_period(rest, span)?,
    };
    Ok(vec![instance(kind, period, all_cpus)])
}

pub fn expand_d(kind: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let (name, spec) = kind.split_once('-').unwrap_or((kind, ""));
    let all_cpus = name == "profile";
    let period = suffixed_period(spec, span)?;
    let mut instance = instance(name, period, all_cpus);
    instance.context = Context::DTimer;
    Ok(vec![instance])
}

/// Where a perf event program's context (`struct bpf_perf_event_data`, whose first member is
/// the interrupted `struct pt_regs`) holds the x86-64 instruction pointer and code segment.
const REGS_IP: u32 = 16 * 8;
const REGS_CS: u32 = 17 * 8;

/// D's `arg0` / `arg1` in `profile-N` and `tick-N`: the PC the timer interrupted, as `arg0`
/// when it was in the kernel and as `arg1` when it was in user space (the other one is 0), so
/// `profile-99 /arg1/` samples only user code. The privilege level is the low 2 bits of CS.
pub fn d_arg(index: u8) -> Option<Resolved> {
    let want_user = match index {
        0 => false,
        1 => true,
        _ => return None,
    };
    let e = |kind| Box::new(unlocated(kind, Type::U64));
    let binary = |op, lhs, rhs| e(ExprKind::Binary { op, lhs, rhs });
    let cpl = binary(
        BinOp::BitAnd,
        e(ExprKind::CtxField { offset: REGS_CS }),
        e(ExprKind::Int(3)),
    );
    let in_user = binary(BinOp::Eq, cpl, e(ExprKind::Int(3)));
    let pc = e(ExprKind::CtxField { offset: REGS_IP });
    let zero = e(ExprKind::Int(0));
    let (then, els) = if want_user { (pc, zero) } else { (zero, pc) };
    Some(Resolved {
        kind: ExprKind::Ternary {
            cond: in_user,
            then,
            els,
        },
        ty: Type::U64,
    })
}

/// `997`, `10ms`, `1sec`, `2h`: a count with DTrace's optional unit suffix (hertz without one).
fn suffixed_period(spec: &str, span: Span) -> Result<TimerPeriod, Diagnostic> {
    let digits = spec
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(spec.len());
    let (count, unit) = spec.split_at(digits);
    let unit = match unit {
        "" | "hz" => "hz",
        "ns" | "nsec" => "ns",
        "us" | "usec" => "us",
        "ms" | "msec" => "ms",
        "s" | "sec" => "s",
        "m" | "min" => "m",
        "h" | "hour" => "h",
        "d" | "day" => "d",
        other => other,
    };
    period(unit, count, span)
}

fn instance(kind: &str, period: TimerPeriod, all_cpus: bool) -> Instance {
    let label = match period {
        TimerPeriod::Nanos(ns) => format!("{kind}_{ns}ns"),
        TimerPeriod::Hz(hz) => format!("{kind}_{hz}hz"),
    };
    Instance {
        prog_type: ProgType::PerfEvent,
        attach: Attach::Timer { period, all_cpus },
        context: Context::None,
        guard: None,
        label,
        names: None,
    }
}

fn period(unit: &str, count: &str, span: Span) -> Result<TimerPeriod, Diagnostic> {
    let n: u64 = count.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Diagnostic::error(span, format!("invalid timer count `{count}`"))
            .with_label("expected a positive integer")
            .with_help("for example `interval:ms:100` or `profile:hz:99`")
    })?;
    let scale = match unit {
        "hz" => return Ok(TimerPeriod::Hz(n)),
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => {
            return Err(
                Diagnostic::error(span, format!("invalid timer unit `{unit}`"))
                    .with_label("unknown unit")
                    .with_help("units: hz, s, ms, us, ns, m, h, d"),
            )
        }
    };
    Ok(TimerPeriod::Nanos(n.saturating_mul(scale)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bpftrace_and_d_spellings() {
        let s = Span::default();
        let i = &expand("interval", "ms:100", s).unwrap()[0];
        assert_eq!(
            i.attach,
            Attach::Timer {
                period: TimerPeriod::Nanos(100_000_000),
                all_cpus: false
            }
        );
        let p = &expand("profile", "hz:99", s).unwrap()[0];
        assert_eq!(
            p.attach,
            Attach::Timer {
                period: TimerPeriod::Hz(99),
                all_cpus: true
            }
        );
        let t = &expand_d("tick-1s", s).unwrap()[0];
        assert_eq!(
            t.attach,
            Attach::Timer {
                period: TimerPeriod::Nanos(1_000_000_000),
                all_cpus: false
            }
        );
        let d = &expand_d("profile-997", s).unwrap()[0];
        assert_eq!(
            d.attach,
            Attach::Timer {
                period: TimerPeriod::Hz(997),
                all_cpus: true
            }
        );
        let i = &expand("interval", "250ms", s).unwrap()[0];
        assert_eq!(
            i.attach,
            Attach::Timer {
                period: TimerPeriod::Nanos(250_000_000),
                all_cpus: false
            }
        );
        let p = &expand("profile", "997", s).unwrap()[0];
        assert_eq!(
            p.attach,
            Attach::Timer {
                period: TimerPeriod::Hz(997),
                all_cpus: true
            }
        );
        let h = &expand_d("tick-1hour", s).unwrap()[0];
        assert_eq!(
            h.attach,
            Attach::Timer {
                period: TimerPeriod::Nanos(3_600_000_000_000),
                all_cpus: false
            }
        );
        assert!(expand("interval", "ms:0", s).is_err());
        assert!(expand("interval", "fortnight:1", s).is_err());
    }
}
