//! One tracing session: load, run BEGIN, attach, read events until told to stop, then detach,
//! run END, drain the last events and print the maps.

use crate::attach::{self, Link};
use crate::error::RuntimeError;
use crate::signals::{Signal, SignalFd};
use crate::target::{self, PausedChild, Target};
use crate::{load, maps, output, printf};
use aya::maps::{Map, MapData, RingBuf};
use aya::programs::{RawTracePoint, RawTracePointRunOptions, TestRun};
use aya::Ebpf;
use rdt_codegen::{Artifact, Attach, Counter, EventKind, ProgramMeta};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub struct RunOptions {
    pub target: Target,
    /// Load the programs (the verifier runs) but attach nothing.
    pub dry_run: bool,
    /// No "Attached N probes" line.
    pub quiet: bool,
    pub out: Box<dyn Write>,
    /// How stack-keyed maps print at exit.
    pub stacks: StackOutput,
}

/// `--folded` and `--flamegraph`.
#[derive(Debug, Clone, Default)]
pub struct StackOutput {
    /// Print stack-keyed maps as folded stacks (`comm;caller;callee 12`).
    pub folded: bool,
    /// Write a flame graph of the stack-keyed maps to this SVG file.
    pub flamegraph: Option<std::path::PathBuf>,
}

/// Runs the session to its end. Returns normally on exit(), a signal or the target's exit.
pub fn run(artifact: &Artifact, mut opts: RunOptions) -> Result<(), RuntimeError> {
    let signals = SignalFd::new()
        .map_err(|e| RuntimeError::Other(format!("cannot set up signal handling: {e}")))?;
    let mut ebpf = load::open(artifact)?;
    let not_loaded = attach::load_all(&mut ebpf, &artifact.programs)?;
    if opts.dry_run {
        return Ok(());
    }
    let ring = take_ring(&mut ebpf, &artifact.ringbuf_map)?;
    let mut session = Session {
        artifact,
        ring,
        out: opts.out.as_mut(),
        stop: false,
        stacks: &opts.stacks,
    };

    session.run_special(&mut ebpf, Attach::Begin)?;
    let mut links: Vec<Link> = Vec::new();
    if !session.stop {
        let programs = artifact
            .programs
            .iter()
            .filter(|p| !is_special(p) && !not_loaded.contains(&p.name));
        links.extend(attach::attach_all(&mut ebpf, programs, opts.target.pid())?);
        if !opts.quiet {
            let specials = artifact.programs.iter().filter(|p| is_special(p)).count();
            let n = links.len() + specials;
            eprintln!("Attached {n} probe{}", if n == 1 { "" } else { "s" });
        }
    }
    let (mut child, pid_watch) = match opts.target {
        Target::Command(c) => (Some(c), None),
        Target::Pid(pid) => {
            let watch = target::pidfd(pid)
                .map_err(|e| RuntimeError::Other(format!("cannot watch process {pid}: {e}")))?;
            (None, Some(watch))
        }
        Target::None => (None, None),
    };
    if let (Some(c), false) = (child.as_mut(), session.stop) {
        c.release();
    }
    session.event_loop(&signals, child.as_mut(), pid_watch.as_ref())?;

    attach::detach_all(links);
    session.drain()?;
    session.run_special(&mut ebpf, Attach::End)?;
    session.drain()?;
    session.print_maps(&ebpf)?;
    report_counters(&ebpf, artifact);
    if let Some(c) = child.as_mut() {
        c.finish();
    }
    Ok(())
}

fn is_special(p: &ProgramMeta) -> bool {
    p.attach
        .iter()
        .all(|a| matches!(a, Attach::Begin | Attach::End))
}

fn take_ring(ebpf: &mut Ebpf, name: &str) -> Result<RingBuf<MapData>, RuntimeError> {
    let map = ebpf
        .take_map(name)
        .ok_or_else(|| RuntimeError::Other("internal error: no ring buffer map".into()))?;
    RingBuf::try_from(map)
        .map_err(|e| RuntimeError::Other(format!("cannot open the ring buffer: {e}")))
}

struct Session<'a> {
    artifact: &'a Artifact,
    ring: RingBuf<MapData>,
    out: &'a mut dyn Write,
    /// exit() was called.
    stop: bool,
    stacks: &'a StackOutput,
}

impl Session<'_> {
    /// Runs every BEGIN (or END) program once, in script order.
    fn run_special(&mut self, ebpf: &mut Ebpf, which: Attach) -> Result<(), RuntimeError> {
        for p in self
            .artifact
            .programs
            .iter()
            .filter(|p| p.attach.contains(&which))
        {
            let program = ebpf.program_mut(&p.name).ok_or_else(|| {
                RuntimeError::Other(format!("internal error: {} missing", p.name))
            })?;
            let raw: &mut RawTracePoint = program.try_into().map_err(|_| attach::wrong_type(p))?;
            raw.test_run(RawTracePointRunOptions::new()).map_err(|e| {
                attach::failed(p.probe_span, "run this probe (BPF_PROG_TEST_RUN)", &e)
            })?;
            self.drain()?;
            if self.stop && which == Attach::Begin {
                break;
            }
        }
        Ok(())
    }

    fn event_loop(
        &mut self,
        signals: &SignalFd,
        mut child: Option<&mut PausedChild>,
        pid_watch: Option<&OwnedFd>,
    ) -> Result<(), RuntimeError> {
        while !self.stop {
            let mut fds = vec![
                libc::pollfd {
                    fd: self.ring.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: signals.raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            if let Some(p) = pid_watch {
                fds.push(libc::pollfd {
                    fd: p.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            // SAFETY: fds is a valid array of pollfd for the duration of the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(RuntimeError::Other(format!("poll failed: {e}")));
            }
            self.drain()?;
            for s in signals.read() {
                match s {
                    Signal::Stop => self.stop = true,
                    Signal::Child => {
                        if child.as_deref_mut().is_some_and(PausedChild::exited) {
                            self.stop = true;
                        }
                    }
                    Signal::Other => {}
                }
            }
            if fds.get(2).is_some_and(|f| f.revents != 0) {
                self.stop = true;
            }
        }
        Ok(())
    }

    /// Formats every record waiting in the ring buffer.
    fn drain(&mut self) -> Result<(), RuntimeError> {
        while let Some(item) = self.ring.next() {
            let record: &[u8] = &item;
            let id = maps::read_u64(record) as usize;
            let body = record.get(8..).unwrap_or(&[]);
            match self.artifact.events.get(id).map(|e| &e.kind) {
                Some(EventKind::Printf { format, args }) => {
                    let text = printf::format_printf(format, args, body);
                    self.out.write_all(text.as_bytes()).map_err(output_error)?;
                }
                Some(EventKind::System { format, args }) => {
                    let command = printf::format_printf(format, args, body);
                    crate::system::run(self.out, &command).map_err(output_error)?;
                }
                Some(EventKind::Exit) => self.stop = true,
                Some(EventKind::ProcessSeen) => {
                    crate::symbolize::remember_process(maps::read_u64(body) as u32)
                }
                None => {}
            }
        }
        self.out.flush().map_err(output_error)
    }

    fn print_maps(&mut self, ebpf: &Ebpf) -> Result<(), RuntimeError> {
        if self.artifact.maps.is_empty() {
            return Ok(());
        }
        let mut text = String::from("\n\n");
        let mut folded_all = String::new();
        for meta in &self.artifact.maps {
            let fd = map_fd(ebpf, &meta.kernel_name)?;
            let entries = maps::read_map(fd, meta)
                .map_err(|e| RuntimeError::Other(format!("cannot read map {}: {e}", meta.name)))?;
            let folded = (self.stacks.folded || self.stacks.flamegraph.is_some())
                .then(|| output::stack::folded_map(meta, &entries))
                .flatten();
            match &folded {
                Some(lines) if self.stacks.folded => text.push_str(lines),
                _ => text.push_str(&output::format_map(meta, &entries)),
            }
            folded_all.push_str(folded.as_deref().unwrap_or(""));
        }
        if let Some(path) = &self.stacks.flamegraph {
            write_flamegraph(path, &folded_all)?;
        }
        self.out.write_all(text.as_bytes()).map_err(output_error)?;
        self.out.flush().map_err(output_error)
    }
}

fn write_flamegraph(path: &std::path::Path, folded: &str) -> Result<(), RuntimeError> {
    if folded.is_empty() {
        return Err(RuntimeError::Other(format!(
            "no stacks to draw in {}: --flamegraph draws maps keyed by kstack or ustack, and none has entries",
            path.display()
        )));
    }
    crate::flamegraph::write_svg(path, folded, "rdt").map_err(|e| {
        RuntimeError::Other(format!("cannot write the flame graph {}: {e}", path.display()))
    })
}

fn output_error(e: io::Error) -> RuntimeError {
    RuntimeError::Other(format!("cannot write the output: {e}"))
}

fn map_fd<'a>(ebpf: &'a Ebpf, name: &str) -> Result<BorrowedFd<'a>, RuntimeError> {
    let data = match ebpf.map(name) {
        Some(Map::HashMap(d) | Map::PerCpuHashMap(d) | Map::PerCpuArray(d) | Map::Array(d)) => d,
        _ => {
            return Err(RuntimeError::Other(format!(
                "internal error: map {name} is missing"
            )))
        }
    };
    Ok(data.fd().as_fd())
}

/// Warns about what the kernel side could not do: nothing is lost silently.
fn report_counters(ebpf: &Ebpf, artifact: &Artifact) {
    let Ok(fd) = map_fd(ebpf, &artifact.counters_map) else {
        return;
    };
    let Ok(counts) = maps::read_counters(fd) else {
        return;
    };
    for counter in Counter::ALL {
        let n = counts[counter as usize];
        if n == 0 {
            continue;
        }
        let what = match counter {
            Counter::LostEvents => "events were lost because the ring buffer was full",
            Counter::MapFull => "map updates failed because a map was full (4096 entries)",
            Counter::ReadFaults => "reads of kernel or user memory failed and gave empty values",
            Counter::LoopLimit => "loops stopped after 1024 iterations (the loop limit)",
            Counter::StackFaults => {
                "stacks could not be captured and are empty (no user stack in kernel threads, or a fault while walking it)"
            }
        };
        eprintln!("WARNING: {n} {what}");
    }
}
