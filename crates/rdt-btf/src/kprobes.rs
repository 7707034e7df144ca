//! Which kprobe mechanism this kernel offers: the kprobe PMU (perf_event_open), else tracefs
//! `kprobe_events`, else none. The probe module (crates/rdt-sema/src/probes/kprobe.rs) asks it to
//! decide whether fentry stands in; the runtime asks it how to attach; `--info` reports it.
//!
//! Test switches: `RDT_KPROBE_EVENTS=1` picks `kprobe_events` even where the PMU exists;
//! `RDT_NO_KPROBES=1` treats kprobes as missing (how the VM lane tests the fentry stand-in).

use std::path::{Path, PathBuf};

/// Where the kprobe PMU announces its perf event type.
pub const KPROBE_PMU: &str = "/sys/bus/event_source/devices/kprobe/type";

/// How kprobes attach on this kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// perf_event_open on the kprobe PMU.
    Pmu,
    /// A probe written to this `kprobe_events` file, opened as a tracepoint.
    Events(PathBuf),
}

/// `RDT_NO_KPROBES=1`: behave as on a kernel without kprobes.
pub fn disabled_by_env() -> bool {
    env_is_one("RDT_NO_KPROBES")
}

/// `RDT_KPROBE_EVENTS=1`: use `kprobe_events` even where the PMU exists.
pub fn events_forced() -> bool {
    env_is_one("RDT_KPROBE_EVENTS")
}

fn env_is_one(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v == "1")
}

/// The mechanism kprobes attach with, or why there is none.
pub fn mechanism() -> Result<Mechanism, String> {
    if disabled_by_env() {
        return Err("RDT_NO_KPROBES=1 treats this kernel as having no kprobes".to_string());
    }
    if Path::new(KPROBE_PMU).exists() && !events_forced() {
        return Ok(Mechanism::Pmu);
    }
    match events_file() {
        Some(file) => Ok(Mechanism::Events(file)),
        None => Err("this kernel has no kprobe PMU (/sys/bus/event_source/devices/kprobe) and no `kprobe_events` in tracefs: it was built without CONFIG_KPROBES".to_string()),
    }
}

/// tracefs `kprobe_events`, when the kernel has it.
fn events_file() -> Option<PathBuf> {
    crate::tracefs::root()
        .ok()
        .map(|root| root.join("kprobe_events"))
        .filter(|file| file.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_switch_removes_kprobes() {
        // Only this test sets the variable in this test binary.
        std::env::set_var("RDT_NO_KPROBES", "1");
        let r = mechanism();
        std::env::remove_var("RDT_NO_KPROBES");
        assert!(r.unwrap_err().contains("RDT_NO_KPROBES=1"));
    }
}
