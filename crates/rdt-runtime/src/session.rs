//! One tracing session: load, run BEGIN, attach, read events until told to stop, then detach,
//! run END, drain the last events and print the maps.

use crate::actions::{self, MapRef, OutputFormat};
use crate::attach::{self, Link};
use crate::error::RuntimeError;
use crate::load::Object;
use crate::output::{json, PrintOpts};
use crate::signals::{Signal, SignalFd};
use crate::target::{self, PausedChild, Target};
use crate::{maps, printf};
use aya::maps::{Map, MapData, RingBuf};
use rdt_codegen::{Artifact, Attach, Counter, EventKind, MapOp, ProgramMeta};
use std::collections::HashMap;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

pub struct RunOptions {
    pub target: Target,
    /// Load the programs (the verifier runs) but attach nothing.
    pub dry_run: bool,
    /// No "Attached N probes" line.
    pub quiet: bool,
    /// `-f text|json`.
    pub format: OutputFormat,
    /// The script's name and text, to give `errorf()` its source location.
    pub source: (String, String),
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

/// Runs the session to its end. Returns normally on exit(), a signal or the target's exit,
/// with the status rdt should exit with: the one the script gave `exit(status)`, else 0.
pub fn run(artifact: &Artifact, mut opts: RunOptions) -> Result<u8, RuntimeError> {
    let signals = SignalFd::new()
        .map_err(|e| RuntimeError::Other(format!("cannot set up signal handling: {e}")))?;
    let mut obj = Object::open(artifact)?;
    let not_loaded = attach::load_all(&mut obj, &artifact.programs)?;
    if opts.dry_run {
        return Ok(0);
    }
    let ring = take_ring(&mut obj, &artifact.ringbuf_map)?;
    let map_fds = artifact
        .maps
        .iter()
        .map(|m| take_map_fd(&mut obj, &m.kernel_name))
        .collect::<Result<Vec<_>, _>>()?;
    let counters = take_map_fd(&mut obj, &artifact.counters_map)?;
    let lens = match &artifact.lens_map {
        Some(name) => Some(take_map_fd(&mut obj, name)?),
        None => None,
    };
    let mut session = Session {
        artifact,
        ring,
        out: opts.out.as_mut(),
        stop: false,
        exit_status: None,
        stacks: &opts.stacks,
        format: opts.format,
        map_fds,
        normalize: HashMap::new(),
        source: &opts.source,
        counters,
        lens,
    };

    if opts.format == OutputFormat::Json {
        // First, as bpftrace does, so JSON readers see it before any output of BEGIN.
        let planned: usize = artifact
            .programs
            .iter()
            .map(|p| if is_special(p) { 1 } else { p.attach.len() })
            .sum();
        session.write(&json::count_record(
            "attached_probes",
            "probes",
            planned as u64,
        ))?;
    }
    session.run_begin(&obj)?;
    let mut links: Vec<Link> = Vec::new();
    if !session.stop {
        let programs = artifact
            .programs
            .iter()
            .filter(|p| !is_special(p) && !not_loaded.contains(&p.name));
        links.extend(attach::attach_all(&mut obj, programs, opts.target.pid())?);
    }
    if opts.format == OutputFormat::Text && !opts.quiet && !session.stop {
        let specials = artifact.programs.iter().filter(|p| is_special(p)).count();
        let n = links.len() + specials;
        eprintln!("Attached {n} probe{}", if n == 1 { "" } else { "s" });
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
    // BEGIN's output, after the "Attached" line.
    session.drain()?;
    if let (Some(c), false) = (child.as_mut(), session.stop) {
        c.release();
    }
    session.event_loop(&signals, child.as_mut(), pid_watch.as_ref())?;

    attach::detach_all(links);
    session.drain()?;
    session.run_end(&obj)?;
    session.drain()?;
    session.print_maps()?;
    let lost = report_counters(&session.counters, artifact);
    if lost > 0 && session.format == OutputFormat::Json {
        session.write(&json::count_record("lost_events", "events", lost))?;
    }
    if let Some(c) = child.as_mut() {
        c.finish();
    }
    Ok(session.exit_status.unwrap_or(0))
}

/// How long the event loop waits on a quiet ring buffer before checking for a lost exit().
const EXIT_CHECK_MS: libc::c_int = 250;

fn is_special(p: &ProgramMeta) -> bool {
    p.attach
        .iter()
        .all(|a| matches!(a, Attach::Begin | Attach::End))
}

/// The ring buffer, read with aya's `RingBuf` (the one map rdt does not read with its own
/// `bpf()` commands: the consumer is memory-mapped).
fn take_ring(obj: &mut Object, name: &str) -> Result<RingBuf<MapData>, RuntimeError> {
    let fd = obj
        .take_map_fd(name)
        .ok_or_else(|| RuntimeError::Other("internal error: no ring buffer map".into()))?;
    let cannot = |e: &dyn std::fmt::Display| {
        RuntimeError::Other(format!("cannot open the ring buffer: {e}"))
    };
    let map = MapData::from_fd(fd).map_err(|e| cannot(&e))?;
    RingBuf::try_from(Map::RingBuf(map)).map_err(|e| cannot(&e))
}

fn take_map_fd(obj: &mut Object, name: &str) -> Result<OwnedFd, RuntimeError> {
    obj.take_map_fd(name)
        .ok_or_else(|| RuntimeError::Other(format!("internal error: map {name} is missing")))
}

struct Session<'a> {
    artifact: &'a Artifact,
    ring: RingBuf<MapData>,
    out: &'a mut dyn Write,
    /// exit() was called.
    stop: bool,
    /// The status of the first exit() whose record arrived.
    exit_status: Option<u8>,
    stacks: &'a StackOutput,
    format: OutputFormat,
    /// A descriptor of each script map, in the order of `artifact.maps`.
    map_fds: Vec<OwnedFd>,
    /// D's `normalize(@m, n)` factors by map name.
    normalize: HashMap<String, u64>,
    source: &'a (String, String),
    /// The kernel's problem counters (see [`Counter`]).
    counters: OwnedFd,
    /// The entry counters of maps given to `len()`.
    lens: Option<OwnedFd>,
}

impl<'a> Session<'a> {
    /// Runs every BEGIN program once, in script order, until one calls exit(). Their output
    /// stays in the ring buffer until the probes are attached: a probe that cannot attach
    /// ends the run before BEGIN's header is printed, and "Attached N probes" comes first,
    /// as in bpftrace; BEGIN still runs before any probe can fire, as in DTrace.
    fn run_begin(&mut self, obj: &Object) -> Result<(), RuntimeError> {
        for p in self.specials(Attach::Begin) {
            obj.run_once(p)?;
            if self.exit_requested() {
                self.stop = true;
                break;
            }
        }
        Ok(())
    }

    /// Runs every END program once, in script order, printing what each one emits.
    fn run_end(&mut self, obj: &Object) -> Result<(), RuntimeError> {
        for p in self.specials(Attach::End) {
            obj.run_once(p)?;
            self.drain()?;
        }
        Ok(())
    }

    fn specials(&self, which: Attach) -> Vec<&'a ProgramMeta> {
        self.artifact
            .programs
            .iter()
            .filter(|p| p.attach.contains(&which))
            .collect()
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
            let n =
                unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, EXIT_CHECK_MS) };
            if n == 0 {
                // Quiet for a while: an exit() whose record a full ring buffer lost still ends
                // the session.
                self.stop = self.exit_requested();
                continue;
            }
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
        let artifact = self.artifact;
        loop {
            let Some(item) = self.ring.next() else {
                break;
            };
            let record: &[u8] = &item;
            let id = maps::read_u64(record) as usize;
            let body = record.get(8..).unwrap_or(&[]);
            let text = match artifact.events.get(id).map(|e| &e.kind) {
                // The hot path formats in place, while the record is still in the ring.
                Some(EventKind::Printf {
                    format,
                    args,
                    time_formats,
                }) => {
                    let text = printf::format_printf_with_times(format, args, body, time_formats);
                    match self.format {
                        OutputFormat::Text => text,
                        OutputFormat::Json => json::text_record("printf", &text),
                    }
                }
                Some(_) => {
                    // Map operations touch the maps: release the ring slot first.
                    let body = body.to_vec();
                    drop(item);
                    self.other_record(id, &body)?
                }
                None => String::new(),
            };
            self.out.write_all(text.as_bytes()).map_err(output_error)?;
        }
        self.out.flush().map_err(output_error)
    }

    /// Carries out a record other than printf; returns what it prints.
    fn other_record(&mut self, id: usize, body: &[u8]) -> Result<String, RuntimeError> {
        let artifact = self.artifact;
        let Some(event) = artifact.events.get(id) else {
            return Ok(String::new());
        };
        Ok(match &event.kind {
            EventKind::Printf { .. } => String::new(),
            EventKind::System { format, args } => {
                // The command writes to our output itself, after what came before it.
                let command = printf::format_printf(format, args, body);
                crate::system::run(self.out, &command).map_err(output_error)?;
                String::new()
            }
            EventKind::Cat { format, args } => {
                let text = crate::output::cat::contents(&printf::format_printf(format, args, body));
                match self.format {
                    OutputFormat::Text => text,
                    OutputFormat::Json => json::text_record("cat", &text),
                }
            }
            EventKind::Join {
                sep,
                max_args,
                arg_size,
            } => {
                let text = crate::output::join::format_join(body, sep, *max_args, *arg_size);
                match self.format {
                    OutputFormat::Text => text,
                    OutputFormat::Json => json::text_record("join", &text),
                }
            }
            EventKind::ReadFault => {
                let err = maps::read_u64(body) as i64;
                let start = maps::read_u64(maps::field(body, 8, 4)) as u32;
                let end = maps::read_u64(maps::field(body, 12, 4)) as u32;
                let (name, source) = self.source;
                let at = actions::location(name, source, rdt_syntax::Span { start, end });
                eprintln!(
                    "{at}: WARNING: a memory read failed: {}",
                    read_fault_reason(err)
                );
                String::new()
            }
            EventKind::ProcessSeen => {
                crate::symbolize::remember_process(maps::read_u64(body) as u32);
                String::new()
            }
            EventKind::Exit { .. } => {
                // A status is one byte: a computed one keeps its low byte, as in C.
                let status = maps::read_u64(body) as u8;
                self.exit_status.get_or_insert(status);
                self.stop = true;
                String::new()
            }
            EventKind::MapOp { op, map } => self.map_op(*op, map)?,
            EventKind::PrintValue { args } => {
                let value = args.first().map_or(maps::Value::Uint(0), |(at, ty)| {
                    maps::decode(ty, maps::field(body, *at, ty.size()))
                });
                actions::print_value(&value, self.format)
            }
            EventKind::Time { format } => actions::time(format, self.format),
            EventKind::Errorf { format, args } => {
                let text = printf::format_printf(format, args, body);
                let (name, source) = self.source;
                let newline = if text.ends_with('\n') { "" } else { "\n" };
                let at = actions::location(name, source, event.span);
                eprint!("{at}: ERROR: {text}{newline}");
                String::new()
            }
            EventKind::Printa { format, maps } => {
                let refs: Vec<MapRef> = maps.iter().filter_map(|m| self.map_ref(m)).collect();
                let normalize = |name: &str| self.normalize.get(name).copied().unwrap_or(1);
                actions::printa(format.as_deref(), &refs, &normalize, self.format)
                    .map_err(map_error)?
            }
        })
    }

    fn exit_requested(&self) -> bool {
        maps::read_counters(self.counters.as_fd())
            .is_ok_and(|c| c[Counter::ExitRequested as usize] > 0)
    }

    fn write(&mut self, text: &str) -> Result<(), RuntimeError> {
        self.out.write_all(text.as_bytes()).map_err(output_error)?;
        self.out.flush().map_err(output_error)
    }

    fn map_ref(&self, name: &str) -> Option<MapRef<'_>> {
        let i = self.artifact.maps.iter().position(|m| m.name == name)?;
        Some(MapRef {
            meta: &self.artifact.maps[i],
            fd: self.map_fds.get(i)?.as_fd(),
        })
    }

    /// Carries out a whole-map operation; returns what it prints.
    fn map_op(&mut self, op: MapOp, name: &str) -> Result<String, RuntimeError> {
        if let MapOp::Normalize { factor } = op {
            self.normalize.insert(name.to_string(), factor);
            return Ok(String::new());
        }
        let factor = self.normalize.get(name).copied().unwrap_or(1);
        let Some(m) = self.map_ref(name) else {
            return Ok(String::new());
        };
        let slot = self.artifact.len_slots.iter().find(|(n, _)| n == name);
        let lens = self
            .lens
            .as_ref()
            .zip(slot)
            .map(|(fd, (_, s))| (fd.as_fd(), *s));
        match op {
            MapOp::Clear => m
                .clear()
                .and_then(|_| m.recount(lens))
                .map(|_| String::new()),
            MapOp::Zero => m.zero().map(|_| String::new()),
            MapOp::Trunc { keep } => m
                .trunc(keep)
                .and_then(|_| m.recount(lens))
                .map(|_| String::new()),
            MapOp::Print { top, div } => m.print(
                PrintOpts {
                    top,
                    div: div.saturating_mul(factor),
                },
                self.format,
            ),
            MapOp::Normalize { .. } => Ok(String::new()),
        }
        .map_err(map_error)
    }

    fn print_maps(&mut self) -> Result<(), RuntimeError> {
        if !self.artifact.maps.iter().any(|m| m.printed_at_exit) {
            return Ok(());
        }
        let mut text = match self.format {
            OutputFormat::Text => String::from("\n\n"),
            OutputFormat::Json => String::new(),
        };
        // --folded prints stack-keyed maps folded; --flamegraph draws them all.
        let wants_folded = self.stacks.folded || self.stacks.flamegraph.is_some();
        let mut folded_all = String::new();
        for meta in self.artifact.maps.iter().filter(|m| m.printed_at_exit) {
            let Some(m) = self.map_ref(&meta.name) else {
                continue;
            };
            let folded = if wants_folded {
                crate::output::stack::folded_map(meta, &m.entries().map_err(map_error)?)
            } else {
                None
            };
            match &folded {
                Some(lines) if self.stacks.folded => text.push_str(lines),
                _ => {
                    let div = self.normalize.get(&meta.name).copied().unwrap_or(1);
                    text.push_str(
                        &m.print(PrintOpts { top: 0, div }, self.format)
                            .map_err(map_error)?,
                    );
                }
            }
            folded_all.push_str(folded.as_deref().unwrap_or(""));
        }
        if let Some(path) = &self.stacks.flamegraph {
            write_flamegraph(path, &folded_all)?;
        }
        self.write(&text)
    }
}

fn map_error(e: io::Error) -> RuntimeError {
    RuntimeError::Other(format!("cannot read or update a map: {e}"))
}

fn write_flamegraph(path: &std::path::Path, folded: &str) -> Result<(), RuntimeError> {
    if folded.is_empty() {
        return Err(RuntimeError::Other(format!(
            "no stacks to draw in {}: --flamegraph draws maps keyed by kstack or ustack, and none has entries",
            path.display()
        )));
    }
    crate::flamegraph::write_svg(path, folded, "rdt").map_err(|e| {
        RuntimeError::Other(format!(
            "cannot write the flame graph {}: {e}",
            path.display()
        ))
    })
}

/// Words for the error a `bpf_probe_read_*` helper returned.
fn read_fault_reason(err: i64) -> String {
    match -err {
        14 => "bad address (EFAULT): the pointer is invalid or the page is not resident".into(),
        34 => "not a kernel address (ERANGE): a user-space pointer read as kernel memory?".into(),
        n => format!("{} ({err})", io::Error::from_raw_os_error(n as i32)),
    }
}

fn output_error(e: io::Error) -> RuntimeError {
    RuntimeError::Other(format!("cannot write the output: {e}"))
}

/// Warns about what the kernel side could not do: nothing is lost silently. Returns the number
/// of lost events.
fn report_counters(counters: &OwnedFd, artifact: &Artifact) -> u64 {
    let Ok(counts) = maps::read_counters(counters.as_fd()) else {
        eprintln!("WARNING: cannot read the kernel's error counters");
        return 0;
    };
    for counter in Counter::ALL {
        let n = counts[counter as usize];
        if n == 0 {
            continue;
        }
        let what = match counter {
            Counter::LostEvents => "events were lost because the ring buffer was full",
            Counter::MapFull => &format!(
                "map updates failed because a map was full ({} entries; raise it with `config = {{ max_map_keys = N }}`)",
                artifact.max_map_keys
            ),
            Counter::ReadFaults => "reads of kernel or user memory failed and gave empty values",
            Counter::LoopLimit => "loops stopped after 1024 iterations (the loop limit)",
            Counter::RangeLimit => {
                "range loops stopped after 8388608 iterations (the bpf_loop helper's limit)"
            }
            Counter::StackFaults => {
                "stacks could not be captured and are empty (no user stack in kernel threads, or a fault while walking it)"
            }
            Counter::ExitRequested => continue,
        };
        eprintln!("WARNING: {n} {what}");
    }
    counts[Counter::LostEvents as usize]
}
