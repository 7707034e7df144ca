//! The bpf_loop question (`Params::bpf_loop_check`): asked only for scripts with a range `for`
//! or `while`, at most once however many loops there are, and its answer recorded in the IR for
//! codegen and the runtime.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

static ASKED: AtomicUsize = AtomicUsize::new(0);

fn kernel_has_bpf_loop() -> Result<(), String> {
    ASKED.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

fn checked(script: &str) -> ir::Program {
    let ast = rdt_syntax::parse(script).expect("parses");
    let params = Params {
        bpf_loop_check: Some(kernel_has_bpf_loop),
        ..Params::default()
    };
    analyze(&ast, &params).expect("checks")
}

// One test, so that no other test's question lands in the shared counter between reads.
#[test]
fn bpf_loop_is_asked_once_and_only_for_loops() {
    let before = ASKED.load(Ordering::SeqCst);
    let plain = checked("BEGIN { @x[1] = 1; for ($kv : @x) { print($kv); } exit(); }");
    assert_eq!(plain.bpf_loop, None);
    assert_eq!(ASKED.load(Ordering::SeqCst), before, "asked without a loop");

    let looped = checked(
        "BEGIN { $i = 0; while ($i < 3) { $i++; } exit(); }
         END { for ($j : 0..3) { printf(\"%d\\n\", $j); } }",
    );
    assert_eq!(looped.bpf_loop, Some(true));
    assert_eq!(ASKED.load(Ordering::SeqCst), before + 1, "asked once");
}

#[test]
fn without_a_check_loops_are_verifier_bounded() {
    let ast = rdt_syntax::parse("BEGIN { for ($j : 0..3) { } exit(); }").expect("parses");
    let program = analyze(&ast, &Params::default()).expect("checks");
    assert_eq!(program.bpf_loop, Some(false));
}
