//! rdt-codegen: typed IR → BPF instructions → an ELF relocatable object, plus the metadata the
//! runtime needs to attach the programs and decode their output.
//!
//! Stages: [`lower`] (typed IR → LIR with virtual registers), [`regalloc`] (linear scan with
//! spilling), [`emit`] (LIR → instructions with source spans), [`elf`] (the object file).

pub mod artifact;
mod btf_min;
mod disasm;
mod elf;
mod emit;
pub mod insn;
mod lir;
mod lower;
mod regalloc;

pub use artifact::{
    Artifact, Attach, Counter, EventKind, EventMeta, MapMeta, PerfCounter, ProgType, ProgramMeta,
    TimerPeriod, ValueKind,
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
}

const MAP_HASH: u32 = 1;
const MAP_PERCPU_HASH: u32 = 5;
const MAP_PERCPU_ARRAY: u32 = 6;
const MAP_RINGBUF: u32 = 27;
/// Entries per script map, as in bpftrace.
const MAP_MAX_ENTRIES: u32 = 4096;
const RINGBUF_BYTES: u32 = 512 * 1024;
/// The largest per-CPU map value the kernel allows (PCPU_MIN_UNIT_SIZE).
const SCRATCH_LIMIT: u32 = 32 * 1024;

pub fn generate(program: &ir::Program, options: &Options) -> Result<Artifact, Vec<Diagnostic>> {
    let mut maps: Vec<MapDef> = Vec::new();
    let user_maps: Vec<usize> = program
        .maps
        .iter()
        .enumerate()
        .map(|(i, m)| push_user_map(&mut maps, i, m))
        .collect();
    let ringbuf = push_map(&mut maps, "ringbuf", MAP_RINGBUF, 0, 0, RINGBUF_BYTES);
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

    let mut events = layout_events(&program.events);
    let seen_processes = lower::stacks::uses_user_addresses(program).then(|| {
        events.push(EventMeta {
            kind: EventKind::ProcessSeen,
            span: Span::default(),
        });
        lower::stacks::SeenProcesses {
            map: push_map(
                &mut maps,
                "seen_procs",
                MAP_HASH,
                lower::stacks::SEEN_KEY_SIZE,
                8,
                MAP_MAX_ENTRIES,
            ),
            event: events.len() - 1,
        }
    });
    let globals = Globals {
        program,
        user_maps: &user_maps,
        ringbuf,
        counters,
        ncpus: options.ncpus.max(1),
        start_ns: options.start_ns,
        events: &events,
        seen_processes,
    };

    let mut diags = Vec::new();
    let mut encoded = Vec::new();
    let mut callbacks: Vec<ElfCallback> = Vec::new();
    let mut probe_callbacks: Vec<Vec<usize>> = Vec::new();
    let mut scratch_size = 8;
    for (index, probe) in program.probes.iter().enumerate() {
        let (function, scratch_bytes, bodies) =
            Lowerer::new(&globals, probe.prog_type).lower_probe(probe);
        let mut mine = Vec::new();
        for body in &bodies {
            match emit::emit_callback(body, scratch, index as u32, probe.span) {
                Ok(code) => {
                    mine.push(callbacks.len());
                    callbacks.push(ElfCallback {
                        name: format!("cb{index}_{}", mine.len() - 1),
                        code,
                    });
                }
                Err(e) => diags.push(emit_error(probe.span, e)),
            }
        }
        probe_callbacks.push(mine);
        if scratch_bytes > SCRATCH_LIMIT {
            diags.push(Diagnostic::error(probe.span, format!("this probe needs {scratch_bytes} bytes of scratch memory, more than the {SCRATCH_LIMIT} the kernel allows"))
                .with_label("too many strings or keys in one clause")
                .with_help("split the clause, or lower `strsize`"));
            continue;
        }
        scratch_size = scratch_size.max(scratch_bytes);
        match emit::emit(&function, scratch, index as u32, probe.span) {
            Ok(code) => encoded.push(code),
            Err(e) => diags.push(emit_error(probe.span, e)),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    maps[scratch].value_size = scratch_size;

    let sections: Vec<String> = program
        .probes
        .iter()
        .map(|p| format!("{}/{}", section_prefix(p), p.name))
        .collect();
    let elf_programs: Vec<ElfProgram> = program
        .probes
        .iter()
        .zip(&encoded)
        .zip(&sections)
        .zip(&probe_callbacks)
        .map(|(((p, code), section), callbacks)| ElfProgram {
            section,
            name: &p.name,
            code,
            callbacks,
        })
        .collect();
    let btf = (!callbacks.is_empty()).then(|| btf_for(&elf_programs, &callbacks));
    let elf = elf::write(&elf_programs, &callbacks, btf, &maps).map_err(|e| {
        vec![Diagnostic::error(
            Span::default(),
            format!("internal error writing the BPF object: {e}"),
        )]
    })?;

    let programs = program
        .probes
        .iter()
        .zip(encoded)
        .zip(sections)
        .zip(&probe_callbacks)
        .map(|(((p, code), section), mine)| {
            // The loader appends each callback after the program, in order of first use:
            // the metadata does the same, so verifier errors and `-d bpf` cover callbacks too.
            let code = with_callbacks(code, mine.iter().map(|&i| &callbacks[i].code));
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
            }
        })
        .collect();
    // `self->x` and `this->x` live in maps without `@`: never printed.
    let mut map_metas: Vec<MapMeta> = program
        .maps
        .iter()
        .zip(&user_maps)
        .filter(|(m, _)| m.name.starts_with('@'))
        .map(|(m, &index)| map_meta(m, &maps[index]))
        .collect();
    map_metas.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Artifact {
        elf,
        programs,
        maps: map_metas,
        events,
        ringbuf_map: maps[ringbuf].name.clone(),
        counters_map: maps[counters].name.clone(),
    })
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
                "this clause compiles to {insns} BPF instructions, too many for a jump to cross (at most 32767)"
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

fn push_user_map(maps: &mut Vec<MapDef>, index: usize, decl: &ir::MapDecl) -> usize {
    let key_size = decl.key.as_ref().map_or(8, |k| k.size().max(1));
    let (map_type, value_size) = match &decl.value {
        MapValue::Count | MapValue::Sum => (MAP_PERCPU_HASH, 8),
        MapValue::Plain(t) => (MAP_HASH, t.size().max(8)),
    };
    // Kernel object names are at most 15 characters of [A-Za-z0-9_.].
    let clean: String = decl
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut name = format!("m{index}_{clean}");
    name.truncate(15);
    push_map(maps, &name, map_type, key_size, value_size, MAP_MAX_ENTRIES)
}

fn map_meta(decl: &ir::MapDecl, def: &MapDef) -> MapMeta {
    let value = match &decl.value {
        MapValue::Count => ValueKind::Count,
        MapValue::Sum => ValueKind::Sum,
        MapValue::Plain(t) => ValueKind::Plain(t.clone()),
    };
    MapMeta {
        name: decl.name.clone(),
        kernel_name: def.name.clone(),
        key: decl.key.clone(),
        key_size: def.key_size,
        value,
        value_size: def.value_size,
    }
}

/// Record layout of each event: after the u64 id, each argument at its natural alignment.
/// Offsets are relative to the end of the id.
fn layout_events(events: &[Event]) -> Vec<EventMeta> {
    events
        .iter()
        .map(|event| match event {
            Event::Printf { format, args, span } => {
                let types: Vec<Type> = args.iter().map(lower::record_type).collect();
                let offsets = Type::tuple_offsets(&types);
                let args = offsets.into_iter().zip(types).collect();
                EventMeta {
                    kind: EventKind::Printf {
                        format: format.clone(),
                        args,
                    },
                    span: *span,
                }
            }
            Event::System { format, args, span } => {
                let types: Vec<Type> = args.iter().map(lower::record_type).collect();
                let offsets = Type::tuple_offsets(&types);
                EventMeta {
                    kind: EventKind::System {
                        format: format.clone(),
                        args: offsets.into_iter().zip(types).collect(),
                    },
                    span: *span,
                }
            }
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
                kind: EventKind::Exit,
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
