//! Odd command lines and script files: each gets a clear error (never a panic, never silence).

use std::process::Command;

/// Runs rdt; returns its exit code and standard error.
fn rdt(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rdt"))
        .args(args)
        .output()
        .expect("run rdt");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "rdt panicked:\n{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

fn fails_with(args: &[&str], needle: &str) {
    let (code, stderr) = rdt(args);
    assert_ne!(code, 0, "rdt {args:?} succeeded; stderr:\n{stderr}");
    assert!(
        stderr.contains(needle),
        "rdt {args:?}: stderr lacks `{needle}`:\n{stderr}"
    );
}

fn scratch_file(name: &str, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("rdt-odd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path.to_string_lossy().into_owned()
}

#[test]
fn an_empty_program_has_no_probes() {
    fails_with(&["-e", ""], "the program has no probes");
    fails_with(&["-e", "   \n"], "the program has no probes");
}

#[test]
fn a_program_of_comments_has_no_probes() {
    fails_with(
        &["-e", "// nothing"],
        "comments and options alone do nothing",
    );
    fails_with(
        &["-e", "/* a */ // b"],
        "comments and options alone do nothing",
    );
}

#[test]
fn an_empty_script_file_has_no_probes() {
    let f = scratch_file("empty.d", b"");
    fails_with(&[&f], "the program has no probes");
}

#[test]
fn an_integer_beyond_64_bits_is_located() {
    fails_with(
        &[
            "-e",
            r#"BEGIN { printf("%d\n", 99999999999999999999999); }"#,
        ],
        "does not fit in 64 bits",
    );
    fails_with(
        &["-e", r#"BEGIN { printf("%d\n", 0x1ffffffffffffffff); }"#],
        "<program>:1:24",
    );
}

#[test]
fn a_script_file_that_is_not_utf8_is_refused_at_the_bad_byte() {
    let f = scratch_file("latin1.d", b"BEGIN {\n  printf(\"caf\xe9\\n\");\n}\n");
    fails_with(
        &[&f],
        "latin1.d:2:14: the script is not valid UTF-8 (byte 0xe9)",
    );
}

#[test]
fn a_missing_or_unreadable_script_file_is_named() {
    fails_with(
        &["/nonexistent/script.d"],
        "cannot read /nonexistent/script.d",
    );
    fails_with(&["/tmp"], "cannot read /tmp: Is a directory");
}

#[test]
fn a_dead_pid_is_refused() {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id().to_string();
    child.wait().expect("reap true");
    fails_with(
        &["-p", &pid, "-e", "BEGIN { exit(); }"],
        "cannot watch process",
    );
}

#[test]
fn a_command_that_cannot_run_is_refused_before_tracing() {
    fails_with(
        &["-c", "/nonexistent/prog", "-e", "BEGIN { exit(); }"],
        "cannot run `/nonexistent/prog`: no such file",
    );
    fails_with(
        &[
            "-c",
            "no_such_program_rdt_test arg",
            "-e",
            "BEGIN { exit(); }",
        ],
        "no such program in $PATH",
    );
    let data = scratch_file("data.txt", b"not a program\n");
    fails_with(
        &["-c", &data, "-e", "BEGIN { exit(); }"],
        "not an executable file",
    );
    fails_with(
        &["-c", "", "-e", "BEGIN { exit(); }"],
        "the command is empty",
    );
}

#[test]
fn bad_x_options_are_reported() {
    fails_with(
        &["-x", "strsize=abc", "-e", "BEGIN { exit(); }"],
        "invalid strsize `abc`",
    );
    fails_with(
        &["-x", "strsize=99999999999", "-e", "BEGIN { exit(); }"],
        "expected a number from 1 to 1024",
    );
    let (_, stderr) = rdt(&["--dry-run", "-x", "=5", "-e", "BEGIN { exit(); }"]);
    assert!(stderr.contains("unknown option"), "{stderr}");
}

#[test]
fn output_into_a_missing_directory_is_refused() {
    fails_with(
        &["-o", "/nonexistent/dir/out.txt", "-e", "BEGIN { exit(); }"],
        "cannot write /nonexistent/dir/out.txt",
    );
}
