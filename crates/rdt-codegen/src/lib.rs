//! rdt-codegen: typed IR → BPF instructions → an ELF relocatable object, plus the metadata the
//! runtime needs to attach the programs and decode their output.
//!
//! Stages: [`lower`] (typed IR → LIR with virtual registers), [`regalloc`] (linear scan with
//! spilling), [`emit`] (LIR → instructions with source spans), [`elf`] (the object file).

mod artifact;
mod btf_min;
mod disasm;
mod elf;
mod emit;
pub mod insn;
mod lir;
mod lower;
mod regalloc;

pub use artifact::{
    Artifact, Attach, Buckets, Counter, EventKind, EventMeta, MapMeta, MapOp, PerfCounter,
    ProgType, ProgramMeta, TimerPeriod, ValueKind,
};

use elf::{ElfCallback, ElfProgram, MapDef};
use lower::{Globals, Lowerer};
use rdt_sema::ir::{self, Event, MapValue};
use rdt_sema::Type;
use rdt_syntax::{Diagnostic, Span};

/// Facts about the machine the programs will run on.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of possible CPUs (per-CPU aggregations are summed over them in the kernel).
    pub ncpus: u32,
    /// CLOCK_MONOTONIC when tracing starts, the zero of `elapsed`.
    pub start_ns: u64,
    /// `-k`: every failed memory read also sends a record naming its place in the script.
    pub warn_faults: bool,
}

use insn::map_type::{
    ARRAY as MAP_ARRAY, HASH as MAP_HASH, PERCPU_ARRAY as MAP_PERCPU_ARRAY,
    PERCPU_HASH as MAP_PERCPU_HASH, RINGBUF as MAP_RINGBUF,
};
const PAGE_SIZE: u32 = 4096;
/// The largest per-CPU map value the kernel allows (PCPU_MIN_UNIT_SIZE).
const SCRATCH_LIMIT: u32 = 32 * 1024;

/// Compiles the typed IR into a BPF ELF object and the metadata the runtime needs to load,
/// attach and read it.
pub fn generate(program: &ir::Program, options: &Options) -> Result<Artifact, Vec<Diagnostic>> {
    let mut maps = define_maps(program);
    let mut events = layout_events(&program.events, &program.maps);
    let seen_processes = track_seen_processes(program, &mut maps, &mut events);
    let fault_event = options.warn_faults.then(|| {
        events.push(EventMeta {
            kind: EventKind::ReadFault,
            span: Span::default(),
        });
        events.len() - 1
    });
    let globals = Globals {
        fault_event,
        lens: maps.lens,
        zeroes: maps.zeroes,
        program,
        user_maps: &maps.user_maps,
        ringbuf: maps.ringbuf,
        counters: maps.counters,
        ncpus: options.ncpus.max(1),
        start_ns: options.start_ns,
        events: &events,
        seen_processes,
        // The checker's answer: it accepted the loops for this way of running them.
        bpf_loop: program.bpf_loop == Some(true),
    };
    let lowered = lower_probes(program, &globals, maps.scratch)?;
    maps.defs[maps.scratch].value_size = lowered.scratch_size;
    let sections: Vec<String> = program
        .probes
        .iter()
        .map(|p| format!("{}/{}", section_prefix(p), p.name))
        .collect();
    let elf = write_object(program, &lowered, &sections, &maps.defs)?;
    let programs = program_metas(program, lowered, sections, &maps.defs);
    Ok(Artifact {
        elf,
        programs,
        maps: map_metas(program, &maps),
        events,
        ringbuf_map: maps.defs[maps.ringbuf].name.clone(),
        counters_map: maps.defs[maps.counters].name.clone(),
        max_map_keys: program.options.max_map_keys,
        lens_map: maps.lens.map(|l| maps.defs[l].name.clone()),
        len_slots: program
            .counted_maps
            .iter()
            .map(|&m| (program.maps[m].name.clone(), m as u32))
            .collect(),
    })
}

/// The object's maps: the script's own, then those rdt's code uses.
struct MapLayout {
    defs: Vec<MapDef>,
    /// Object map index of each script map.
    user_maps: Vec<usize>,
    ringbuf: usize,
    counters: usize,
    /// Per-CPU scratch memory; its size is known once every probe is lowered.
    scratch: usize,
    zeroes: Option<usize>,
    lens: Option<usize>,
}

fn define_maps(program: &ir::Program) -> MapLayout {
    let mut maps: Vec<MapDef> = Vec::new();
    let user_maps: Vec<usize> = program
        .maps
        .iter()
        .enumerate()
        .map(|(i, m)| push_user_map(&mut maps, i, m, program.options.max_map_keys))
        .collect();
    let ringbuf_bytes = program.options.perf_rb_pages * PAGE_SIZE;
    let ringbuf = push_map(&mut maps, "ringbuf", MAP_RINGBUF, 0, 0, ringbuf_bytes);
    let counters = push_map(
        &mut maps,
        "counters",
        MAP_PERCPU_ARRAY,
        4,
        8,
        Counter::ALL.len() as u32,
    );
    let scratch = push_map(
        &mut maps,
        "scratch",
        MAP_PERCPU_ARRAY,
        4,
        8,
        program.probes.len().max(1) as u32,
    );

    // A never-written array entry as large as the largest aggregation: the zero value a new
    // aggregation key is inserted with, whatever its size.
    let largest_aggregation = program
        .maps
        .iter()
        .filter(|m| m.value.is_aggregation() && !m.is_single_slot())
        .map(|m| value_kind(&m.value).words() * 8)
        .max()
        .unwrap_or(0);
    let zeroes = (largest_aggregation > 0)
        .then(|| push_map(&mut maps, "zeroes", MAP_ARRAY, 4, largest_aggregation, 1));

    // Entry counters of the maps given to len(), one per-CPU slot per script map.
    let lens = (!program.counted_maps.is_empty()).then(|| {
        push_map(
            &mut maps,
            "lens",
            MAP_PERCPU_ARRAY,
            4,
            8,
            program.maps.len() as u32,
        )
    });
    MapLayout {
        defs: maps,
        user_maps,
        ringbuf,
        counters,
        scratch,
        zeroes,
        lens,
    }
}

/// When the script captures user addresses: the map of processes already announced and the
/// event announcing a new one (so user space reads its mappings while it still runs).
fn track_seen_processes(
    program: &ir::Program,
    maps: &mut MapLayout,
    events: &mut Vec<EventMeta>,
) -> Option<lower::stacks::SeenProcesses> {
    if !lower::stacks::uses_user_addresses(program) {
        return None;
    }
    events.push(EventMeta {
        kind: EventKind::ProcessSeen,
        span: Span::default(),
    });
    Some(lower::stacks::SeenProcesses {
        map: push_map(
            &mut maps.defs,
            "seen_procs",
            MAP_HASH,
            lower::stacks::SEEN_KEY_SIZE,
            8,
            program.options.max_map_keys,
        ),
        event: events.len() - 1,
    })
}

/// Every probe's program and callbacks, encoded.
struct Lowered {
    /// One per probe, in order.
    encoded: Vec<emit::Encoded>,
    callbacks: Vec<ElfCallback>,
    /// Per probe, where its own are in `callbacks`.
    probe_callbacks: Vec<std::ops::Range<usize>>,
    /// The largest scratch memory any probe needs.
    scratch_size: u32,
}

fn lower_probes(
    program: &ir::Program,
    globals: &Globals,
    scratch: usize,
) -> Result<Lowered, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut lowered = Lowered {
        encoded: Vec::new(),
        callbacks: Vec::new(),
        probe_callbacks: Vec::new(),
        scratch_size: 8,
    };
    for (index, probe) in program.probes.iter().enumerate() {
        let (function, scratch_bytes, bodies) =
            Lowerer::new(globals, probe.prog_type).lower_probe(probe);
        let first = lowered.callbacks.len();
        // Callback N of the probe is at `first + N` (after an emit error nothing is written).
        let mine = first..first + bodies.len();
        for (n, body) in bodies.iter().enumerate() {
            match emit::emit_callback(body, scratch, index as u32, probe.span) {
                Ok(code) => lowered.callbacks.push(ElfCallback {
                    name: format!("cb{index}_{n}"),
                    code,
                    probe_callbacks: mine.clone(),
                }),
                Err(e) => diags.push(emit_error(probe.span, e)),
            }
        }
        lowered.probe_callbacks.push(mine);
        if scratch_bytes > SCRATCH_LIMIT {
            diags.push(Diagnostic::error(probe.span, format!("this probe needs {scratch_bytes} bytes of scratch memory, more than the {SCRATCH_LIMIT} the kernel allows"))
                .with_label("too many strings or keys in one clause")
                .with_help("split the clause, or lower `strsize`"));
            continue;
        }
        lowered.scratch_size = lowered.scratch_size.max(scratch_bytes);
        match emit::emit(&function, scratch, index as u32, probe.span) {
            Ok(code) => lowered.encoded.push(code),
            Err(e) => diags.push(emit_error(probe.span, e)),
        }
    }
    if diags.is_empty() {
        Ok(lowered)
    } else {
        Err(diags)
    }
}

/// The ELF relocatable: one section per program, callbacks in `.text`, maps, BTF, license.
fn write_object(
    program: &ir::Program,
    lowered: &Lowered,
    sections: &[String],
    maps: &[MapDef],
) -> Result<Vec<u8>, Vec<Diagnostic>> {
    let elf_programs: Vec<ElfProgram> = program
        .probes
        .iter()
        .zip(&lowered.encoded)
        .zip(sections)
        .zip(&lowered.probe_callbacks)
        .map(|(((p, code), section), callbacks)| ElfProgram {
            section,
            name: &p.name,
            code,
            probe_callbacks: callbacks.clone(),
        })
        .collect();
    let callbacks = &lowered.callbacks;
    let btf = (!callbacks.is_empty()).then(|| btf_for(&elf_programs, callbacks));
    elf::write(&elf_programs, callbacks, btf, maps).map_err(|e| {
        vec![Diagnostic::error(
            Span::default(),
            format!("internal error writing the BPF object: {e}"),
        )]
    })
}

/// What the runtime knows of each program: its instructions (callbacks appended, as the loader
/// places them), their source spans, map references and attach points.
fn program_metas(
    program: &ir::Program,
    lowered: Lowered,
    sections: Vec<String>,
    maps: &[MapDef],
) -> Vec<ProgramMeta> {
    let Lowered {
        encoded,
        callbacks,
        probe_callbacks,
        ..
    } = lowered;
    program
        .probes
        .iter()
        .zip(encoded)
        .zip(sections)
        .zip(&probe_callbacks)
        .map(|(((p, code), section), mine)| {
            // The loader appends each callback after the program, in order of first use:
            // the metadata does the same, so verifier errors and `-d bpf` cover callbacks too.
            let mine: Vec<&emit::Encoded> =
                callbacks[mine.clone()].iter().map(|cb| &cb.code).collect();
            let order = link_order(&code, &mine);
            let code = with_callbacks(code, order.into_iter().map(|local| mine[local]));
            ProgramMeta {
                name: p.name.clone(),
                section,
                prog_type: p.prog_type,
                attach: p.attach.clone(),
                probe_span: p.span,
                map_refs: code
                    .map_relocs
                    .iter()
                    .map(|&(at, m)| (at, maps[m].name.clone()))
                    .collect(),
                insns: code.insns,
                insn_spans: code.spans,
                bpf_loop: program.bpf_loop,
            }
        })
        .collect()
}

/// The script's printable maps, by name. `self->x` and `this->x` live in maps without `@`:
/// never printed.
fn map_metas(program: &ir::Program, maps: &MapLayout) -> Vec<MapMeta> {
    let mut metas: Vec<MapMeta> = program
        .maps
        .iter()
        .zip(&maps.user_maps)
        .filter(|(m, _)| m.name.starts_with('@'))
        .map(|(m, &index)| map_meta(m, &maps.defs[index]))
        .collect();
    metas.sort_by(|a, b| a.name.cmp(&b.name));
    metas
}

/// The order in which the loader (aya-obj's `relocate_calls`) appends a program's callbacks:
/// depth first, each at its first reference, its own callees (a nested loop's) right after it.
/// Indices into `callbacks`. tests/callbacks.rs checks this against aya-obj itself.
fn link_order(code: &emit::Encoded, callbacks: &[&emit::Encoded]) -> Vec<usize> {
    fn visit(code: &emit::Encoded, callbacks: &[&emit::Encoded], order: &mut Vec<usize>) {
        for &(_, local) in &code.func_relocs {
            if local < callbacks.len() && !order.contains(&local) {
                order.push(local);
                visit(callbacks[local], callbacks, order);
            }
        }
    }
    let mut order = Vec::new();
    visit(code, callbacks, &mut order);
    order
}

/// A program's code with its callbacks appended, map references shifted to match.
fn with_callbacks<'a>(
    mut code: emit::Encoded,
    callbacks: impl Iterator<Item = &'a emit::Encoded>,
) -> emit::Encoded {
    for cb in callbacks {
        let base = code.insns.len();
        code.insns.extend_from_slice(&cb.insns);
        code.spans.extend_from_slice(&cb.spans);
        code.map_relocs
            .extend(cb.map_relocs.iter().map(|&(at, m)| (base + at, m)));
    }
    code
}

fn emit_error(probe: Span, e: emit::EmitError) -> Diagnostic {
    match e {
        emit::EmitError::TooMuchStack { bytes } => too_much_stack(probe, bytes),
        emit::EmitError::JumpTooFar { span, insns } => Diagnostic::error(
            span,
            format!(
                "this clause compiles to {insns} BPF instructions, too many for a jump to cross once the kernel inlines its helper calls (a jump reaches at most 32767)"
            ),
        )
        .with_label("this jumps too far")
        .with_secondary(probe, "in this probe")
        .with_help("split the clause into several clauses for the same probe, or lower `strsize`"),
    }
}

fn too_much_stack(span: Span, bytes: u32) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("this clause needs {bytes} bytes of BPF stack, more than the 512 allowed"),
    )
    .with_label("expressions too deeply nested")
    .with_help("break long expressions into `$variables`")
}

/// BTF naming every program and callback (the kernel requires it for callbacks).
fn btf_for(programs: &[ElfProgram], callbacks: &[ElfCallback]) -> (Vec<u8>, Vec<u8>) {
    let mut functions: Vec<btf_min::BtfFunction> = programs
        .iter()
        .map(|p| btf_min::BtfFunction {
            section: p.section,
            name: p.name,
            byte_offset: 0,
            callback: false,
        })
        .collect();
    let mut offset = 0;
    for cb in callbacks {
        functions.push(btf_min::BtfFunction {
            section: ".text",
            name: &cb.name,
            byte_offset: offset,
            callback: true,
        });
        offset += cb.code.insns.len() as u32 * 8;
    }
    btf_min::encode(&functions)
}

/// `-d bpf`: every program's instructions, annotated with the script lines they came from.
pub fn disassemble(artifact: &Artifact, source: &str) -> String {
    artifact
        .programs
        .iter()
        .map(|p| {
            format!(
                "{}:\n{}",
                p.section,
                disasm::disassemble(&p.insns, &p.insn_spans, source, &p.map_refs)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn push_map(
    maps: &mut Vec<MapDef>,
    name: &str,
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
) -> usize {
    maps.push(MapDef {
        name: name.to_string(),
        map_type,
        key_size,
        value_size,
        max_entries,
        flags: 0,
    });
    maps.len() - 1
}

fn push_user_map(
    maps: &mut Vec<MapDef>,
    index: usize,
    decl: &ir::MapDecl,
    max_entries: u32,
) -> usize {
    let key_size = decl.key.as_ref().map_or(8, |k| k.size().max(1));
    let (map_type, key_size, value_size, max_entries) = match (&decl.value, &decl.key) {
        (MapValue::Plain(t), _) => (MAP_HASH, key_size, t.size().max(8), max_entries),
        // One slot per CPU, never inserted (see MapDecl::is_single_slot).
        (other, None) if decl.is_single_slot() => {
            (MAP_PERCPU_ARRAY, 4, value_kind(other).words() * 8, 1)
        }
        (other, _) => (
            MAP_PERCPU_HASH,
            key_size,
            value_kind(other).words() * 8,
            max_entries,
        ),
    };
    // Kernel object names are at most 15 characters of [A-Za-z0-9_.].
    let clean: String = decl
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut name = format!("m{index}_{clean}");
    name.truncate(15);
    push_map(maps, &name, map_type, key_size, value_size, max_entries)
}

fn value_kind(value: &MapValue) -> ValueKind {
    match value {
        MapValue::Count => ValueKind::Count,
        MapValue::Sum => ValueKind::Sum,
        MapValue::Plain(t) => ValueKind::Plain(t.clone()),
        MapValue::Avg => ValueKind::Avg,
        MapValue::Min => ValueKind::Min,
        MapValue::Max => ValueKind::Max,
        MapValue::Stats => ValueKind::Stats,
        MapValue::Stddev => ValueKind::Stddev,
        MapValue::Hist(b) => ValueKind::Hist(*b),
    }
}

fn map_meta(decl: &ir::MapDecl, def: &MapDef) -> MapMeta {
    let value = value_kind(&decl.value);
    MapMeta {
        name: decl.name.clone(),
        kernel_name: def.name.clone(),
        key: decl.key.clone(),
        key_size: def.key_size,
        value,
        value_size: def.value_size,
        single_slot: decl.is_single_slot(),
        printed_at_exit: !decl.d_global,
    }
}

/// The arguments' place in a record, after its id: each at its natural alignment.
fn record_fields(args: &[Type]) -> Vec<(u32, Type)> {
    let types: Vec<Type> = args.iter().map(lower::record_type).collect();
    Type::tuple_offsets(&types).into_iter().zip(types).collect()
}

/// Record layout of each event: after the u64 id, each argument at its natural alignment.
/// Offsets are relative to the end of the id.
fn layout_events(events: &[Event], maps: &[ir::MapDecl]) -> Vec<EventMeta> {
    let map_name = |id: usize| maps[id].name.clone();
    events
        .iter()
        .map(|event| match event {
            Event::MapOp { op, map, span } => EventMeta {
                kind: EventKind::MapOp {
                    op: *op,
                    map: map_name(*map),
                },
                span: *span,
            },
            Event::PrintValue { ty, span } => EventMeta {
                kind: EventKind::PrintValue {
                    args: vec![(0, lower::record_type(ty))],
                },
                span: *span,
            },
            Event::Errorf { format, args, span } => EventMeta {
                kind: EventKind::Errorf {
                    format: format.clone(),
                    args: record_fields(args),
                },
                span: *span,
            },
            Event::Time { format, span } => EventMeta {
                kind: EventKind::Time {
                    format: format.clone(),
                },
                span: *span,
            },
            Event::Printa { format, maps, span } => EventMeta {
                kind: EventKind::Printa {
                    format: format.clone(),
                    maps: maps.iter().map(|m| map_name(*m)).collect(),
                },
                span: *span,
            },
            Event::Printf {
                format,
                args,
                span,
                time_formats,
            } => EventMeta {
                kind: EventKind::Printf {
                    format: format.clone(),
                    args: record_fields(args),
                    time_formats: time_formats.clone(),
                },
                span: *span,
            },
            Event::Cat { format, args, span } => EventMeta {
                kind: EventKind::Cat {
                    format: format.clone(),
                    args: record_fields(args),
                },
                span: *span,
            },
            Event::System { format, args, span } => EventMeta {
                kind: EventKind::System {
                    format: format.clone(),
                    args: record_fields(args),
                },
                span: *span,
            },
            Event::Join {
                sep,
                max_args,
                arg_size,
                span,
            } => EventMeta {
                kind: EventKind::Join {
                    sep: sep.clone(),
                    max_args: *max_args,
                    arg_size: *arg_size,
                },
                span: *span,
            },
            Event::Exit { span } => EventMeta {
                kind: EventKind::Exit {
                    args: vec![(0, Type::I64)],
                },
                span: *span,
            },
        })
        .collect()
}

/// The ELF section prefix, which tells loaders the program type; aya also takes a kprobe's
/// direction (entry or return) from it.
fn section_prefix(p: &rdt_sema::ir::Probe) -> &'static str {
    let kretprobe = p
        .attach
        .iter()
        .any(|a| matches!(a, Attach::Kprobe { ret: true, .. }));
    if kretprobe {
        "kretprobe"
    } else {
        p.prog_type.section_prefix()
    }
}

#[cfg(test)]
mod link_order_tests {
    use super::{emit::Encoded, link_order};

    fn calling(callbacks: &[usize]) -> Encoded {
        Encoded {
            func_relocs: callbacks
                .iter()
                .enumerate()
                .map(|(at, &c)| (at, c))
                .collect(),
            ..Encoded::default()
        }
    }

    #[test]
    fn nested_callbacks_follow_their_caller_depth_first() {
        // Lowering lists an inner loop's callback (0) before the outer one calling it (1); a
        // second loop (2) follows. The loader appends 1, then 0 (called by 1), then 2.
        let callbacks = [calling(&[]), calling(&[0]), calling(&[])];
        let refs: Vec<&Encoded> = callbacks.iter().collect();
        assert_eq!(link_order(&calling(&[1, 2]), &refs), vec![1, 0, 2]);
    }
}
