//! Command-line behaviour that is not a script's output.

use std::process::Command;

fn rdt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rdt"))
}

#[test]
fn emit_elf_writes_an_object_readelf_calls_linux_bpf() {
    let dir = std::env::temp_dir().join(format!("rdt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("o.o");
    let status = rdt()
        .args([
            "--emit-elf",
            path.to_str().unwrap(),
            "-e",
            r#"BEGIN { @[comm] = count(); printf("%d\n", pid); exit(); }"#,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new("readelf")
        .args(["-h", "-S", "-s", "-r"])
        .arg(&path)
        .output()
        .expect("readelf (binutils) must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Linux BPF"),
        "readelf -h does not say Linux BPF:\n{text}"
    );
    // binutils calls relocation type 1 R_BPF_INSN_64; LLVM calls it R_BPF_64_64.
    assert!(
        text.contains("R_BPF_INSN_64") || text.contains("R_BPF_64_64"),
        "no map relocations:\n{text}"
    );
    for needle in ["raw_tracepoint/p0_BEGIN", "maps", "license", "m0_"] {
        assert!(
            text.contains(needle),
            "the object lacks `{needle}`:\n{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn debug_bpf_prints_instructions_with_source_lines() {
    let out = rdt()
        .args(["-d", "bpf", "-e", "BEGIN {\n  @x = count();\n}"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains(";  2: @x = count();"), "{text}");
    assert!(text.contains("call map_lookup_elem"), "{text}");
}

#[test]
fn a_missing_script_file_is_an_error_not_a_panic() {
    let out = rdt().arg("/nonexistent/script.d").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/script.d"));
}
