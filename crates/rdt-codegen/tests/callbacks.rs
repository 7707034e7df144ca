//! Loop callbacks in the emitted object, read back with aya-obj, the ELF reader and linker
//! rdt-runtime loads with. Root-free: nothing is loaded into the kernel.

use aya_obj::generated::bpf_insn;
use aya_obj::Object;
use rdt_codegen::{Artifact, Options, ProgramMeta};
use std::collections::HashSet;

/// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 64-bit load, whose immediate the loader
/// rewrites (map fds, callback offsets).
const LD_IMM64: u8 = 0x18;
const MOV64_IMM: u8 = 0xb7;
const EXIT: u8 = 0x95;

fn has_bpf_loop() -> Result<(), String> {
    Ok(())
}

/// Compiles a script as for a kernel with bpf_loop.
fn compile(script: &str) -> Artifact {
    let ast = rdt_syntax::parse(script).expect("parses");
    let params = rdt_sema::Params {
        bpf_loop_check: Some(has_bpf_loop),
        ..Default::default()
    };
    let ir = rdt_sema::analyze(&ast, &params).expect("checks");
    assert_ne!(
        ir.bpf_loop,
        Some(false),
        "range loops compiled without bpf_loop"
    );
    let options = Options {
        ncpus: 2,
        start_ns: 0,
        warn_faults: false,
    };
    rdt_codegen::generate(&ir, &options).expect("compiles")
}

/// The object as aya-obj reads it, with every program's callbacks linked in (what the runtime
/// loads, before map fds are patched in: those need root).
fn linked(artifact: &Artifact) -> Object {
    let mut obj = Object::parse(&artifact.elf).expect("aya-obj parses the object");
    let text_sections: HashSet<usize> = obj.functions.keys().map(|(section, _)| *section).collect();
    obj.relocate_calls(&text_sections)
        .expect("aya-obj links the callbacks");
    obj
}

fn linked_code<'o>(obj: &'o Object, meta: &ProgramMeta) -> &'o [bpf_insn] {
    let program = obj.programs.get(&meta.name).expect("program in the object");
    &obj.functions
        .get(&program.function_key())
        .expect("its function")
        .instructions
}

/// Whether two instructions agree on everything but a 64-bit load's immediates, which the
/// loader fills in.
fn same_instruction(linked: &bpf_insn, ours: &rdt_codegen::insn::Insn, in_ld_imm64: bool) -> bool {
    linked.code == ours.code && linked.off == ours.off && (in_ld_imm64 || linked.imm == ours.imm)
}

/// Asserts that the instructions the metadata lists (whose indices the runtime uses to place
/// verifier errors in the script) are the ones aya-obj links, in the same order.
fn assert_metadata_matches_linked_code(script: &str) {
    let artifact = compile(script);
    let obj = linked(&artifact);
    for meta in &artifact.programs {
        let code = linked_code(&obj, meta);
        assert_eq!(code.len(), meta.insns.len(), "{}: length", meta.name);
        let mut in_ld_imm64 = false;
        for (at, (theirs, ours)) in code.iter().zip(&meta.insns).enumerate() {
            let ld_imm64 = ours.code == LD_IMM64;
            assert!(
                same_instruction(theirs, ours, ld_imm64 || in_ld_imm64),
                "{}: instruction {at} differs: aya-obj linked {:#x} off {} imm {}, the metadata has {:#x} off {} imm {}",
                meta.name,
                theirs.code,
                theirs.off,
                theirs.imm,
                ours.code,
                ours.off,
                ours.imm
            );
            in_ld_imm64 = ld_imm64;
        }
    }
}

#[test]
fn nested_range_loops_link_in_metadata_order() {
    assert_metadata_matches_linked_code(
        r#"BEGIN {
            for ($i : 0..2) {
                for ($j : 0..3) { printf("inner %d\n", $j + 11); }
                printf("middle %d\n", $i + 22);
                for ($k : 0..4) { printf("second %d\n", $k + 33); }
            }
            for ($l : 0..5) { printf("last %d\n", $l + 44); }
            exit();
        }"#,
    );
}

#[test]
fn nested_map_and_range_loops_link_in_metadata_order() {
    assert_metadata_matches_linked_code(
        r#"BEGIN { @m[1] = 10; @m[2] = 20; }
        END {
            for ($kv : @m) {
                $n = 0;
                while ($n < 3) { $n++; @w[$n] = 55; }
                for ($kv2 : @m) { printf("pair %d %d\n", $kv.0, $kv2.0 + 66); }
            }
            for ($i : 0..2) { for ($kv3 : @m) { printf("inside %d\n", $kv3.1 + 77); } }
        }"#,
    );
}

/// The names of the `.text` functions (the callbacks) that contain `return 1`.
fn callbacks_returning_one(obj: &Object) -> Vec<String> {
    obj.functions
        .values()
        .filter(|f| f.name.starts_with("cb"))
        .filter(|f| {
            f.instructions.windows(2).any(|w| {
                w[0].code == MOV64_IMM && w[0].dst_reg() == 0 && w[0].imm == 1 && w[1].code == EXIT
            })
        })
        .map(|f| f.name.clone())
        .collect()
}

/// bpf_for_each_map_elem stops when the callback returns 1 and goes on to the next entry on 0:
/// `break` must return 1, or the helper calls the callback for every remaining entry. (Which
/// entries the helper visits is not visible to a script, so this is checked in the code.)
#[test]
fn map_loop_break_stops_the_helper() {
    let with_break = compile(
        "BEGIN { @m[1] = 1; @m[2] = 2; for ($kv : @m) { @seen = count(); if ($kv.0 == 1) { break; } } exit(); }",
    );
    assert_eq!(callbacks_returning_one(&linked(&with_break)).len(), 1);
    // Without `break` (or `return`) the callback only ever returns 0.
    let without = compile("BEGIN { @m[1] = 1; for ($kv : @m) { @seen = count(); } exit(); }");
    assert!(callbacks_returning_one(&linked(&without)).is_empty());
}
