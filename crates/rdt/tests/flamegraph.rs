//! `--flamegraph FILE.svg` end to end: trace the stack_chain test target's user stacks, then
//! parse the SVG as XML and look for frames named after its functions.

use quick_xml::events::Event;
use quick_xml::Reader;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory of the test's own: the tests of this file run in parallel.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rdt-flamegraph-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("cannot create a temporary directory");
    dir
}

/// Builds tests/targets/stack_chain.c the way the e2e harness does.
fn build_stack_chain(dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/targets/stack_chain.c");
    let binary = dir.join("stack_chain");
    let status = Command::new("gcc")
        .args(["-g", "-O1", "-fno-omit-frame-pointer", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .expect("gcc must be installed");
    assert!(status.success(), "cannot build {}", source.display());
    binary
}

/// Every `<title>` text of the SVG; panics if the document is not well-formed XML.
fn svg_titles(svg: &str) -> Vec<String> {
    let mut reader = Reader::from_str(svg);
    let mut titles = Vec::new();
    let mut in_title = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => in_title = e.name().as_ref() == b"title",
            Ok(Event::End(_)) => in_title = false,
            Ok(Event::Text(t)) if in_title => {
                let text = t.decode().expect("title text is not UTF-8");
                titles.push(text.into_owned());
            }
            Ok(Event::Eof) => return titles,
            Ok(_) => {}
            Err(e) => panic!("the flame graph is not well-formed XML: {e}"),
        }
    }
}

#[test]
fn flamegraph_svg_has_the_traced_call_chain() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: loading BPF programs needs root");
        return;
    }
    let dir = scratch_dir("chain");
    let target = build_stack_chain(&dir);
    let svg_path = dir.join("stacks.svg");
    let output = Command::new(env!("CARGO_BIN_EXE_rdt"))
        .arg("--flamegraph")
        .arg(&svg_path)
        .arg("-c")
        .arg(&target)
        .arg("-e")
        .arg("tracepoint:syscalls:sys_enter_getpid /pid == cpid/ { @[ustack, comm] = count(); }")
        .output()
        .expect("cannot run rdt");
    assert!(
        output.status.success(),
        "rdt failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let svg = std::fs::read_to_string(&svg_path).expect("no flame graph written");
    let titles = svg_titles(&svg);
    for frame in ["stack_chain", "main", "outer", "middle", "leaf"] {
        assert!(
            titles.iter().any(|t| t.starts_with(&format!("{frame} ("))),
            "no frame `{frame}` among {titles:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flamegraph_without_stacks_is_an_error() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: loading BPF programs needs root");
        return;
    }
    let dir = scratch_dir("empty");
    let svg_path = dir.join("none.svg");
    let output = Command::new(env!("CARGO_BIN_EXE_rdt"))
        .arg("--flamegraph")
        .arg(&svg_path)
        .arg("-e")
        .arg("BEGIN { @x = count(); exit(); }")
        .output()
        .expect("cannot run rdt");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no stacks to draw"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
