//! kprobes through tracefs `kprobe_events`, for kernels that have kprobes but no kprobe PMU
//! (or when `RDT_KPROBE_EVENTS=1` asks for it): the probe is written to
//! `kprobe_events` as `p:rdt_<pid>/<name> fn+off` (or `r:` for a return probe), opened as a
//! tracepoint perf event, and the program attached with PERF_EVENT_IOC_SET_BPF. Dropping the
//! link closes the event and removes the probe from `kprobe_events` again.
//!
//! `RDT_KPROBE_EVENTS=1` picks this path even when the PMU exists (how the VM lane tests it; the
//! choice is made in rdt_btf::kprobes).

use super::perf_event::{self, PerfEventAttr};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A kprobe created in `kprobe_events` with a program attached; removed when dropped.
pub struct TracefsKprobe {
    perf: Option<OwnedFd>,
    events_file: PathBuf,
    /// `rdt_<pid>/<name>`.
    event: String,
}

impl Drop for TracefsKprobe {
    fn drop(&mut self) {
        // The perf event holds the probe busy: close it first.
        self.perf = None;
        let _ = append(&self.events_file, &format!("-:{}\n", self.event));
    }
}

/// Creates the probe and attaches `prog` to it. The error is a sentence for the user.
pub fn attach(
    prog: impl AsFd,
    tracefs: &Path,
    function: &str,
    offset: u64,
    ret: bool,
) -> Result<TracefsKprobe, String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let group = format!("rdt_{}", std::process::id());
    let clean: String = function
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let name = format!(
        "{}_{clean}_{}",
        if ret { 'r' } else { 'p' },
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let event = format!("{group}/{name}");
    let target = if ret || offset == 0 {
        function.to_string()
    } else {
        format!("{function}+{offset}")
    };
    let events_file = tracefs.join("kprobe_events");
    let definition = format!("{}:{event} {target}\n", if ret { 'r' } else { 'p' });
    append(&events_file, &definition).map_err(|e| {
        let refused = format!("{} refused `{}`", events_file.display(), definition.trim());
        match super::kprobe::kprobe_reason(&e) {
            Some(words) => format!("{words} ({refused})"),
            None => format!("{refused}: {e}"),
        }
    })?;
    // From here on, dropping `probe` removes the definition again.
    let mut probe = TracefsKprobe {
        perf: None,
        events_file,
        event,
    };
    let id_file = tracefs.join("events").join(&group).join(&name).join("id");
    let id: u64 = std::fs::read_to_string(&id_file)
        .map_err(|e| format!("{}: {e}", id_file.display()))?
        .trim()
        .parse()
        .map_err(|_| format!("{}: not a number", id_file.display()))?;
    let perf = open_tracepoint(id).map_err(|e| format!("perf_event_open: {e}"))?;
    perf_event::set_bpf_and_enable(&perf, prog.as_fd())
        .map_err(|e| format!("PERF_EVENT_IOC_SET_BPF: {e}"))?;
    probe.perf = Some(perf);
    Ok(probe)
}

fn append(file: &Path, text: &str) -> io::Result<()> {
    OpenOptions::new()
        .append(true)
        .open(file)?
        .write_all(text.as_bytes())
}

fn open_tracepoint(id: u64) -> io::Result<OwnedFd> {
    let attr = PerfEventAttr {
        wakeup_events: 1,
        ..PerfEventAttr::new(perf_event::TYPE_TRACEPOINT, id)
    };
    // A tracepoint's BPF program runs on every CPU; one event (on CPU 0, any process) is enough.
    perf_event::open(&attr, None, 0)
}
