//! Generates the parser from `grammar/rdt.lalrpop` at the repository root into `OUT_DIR`.

use std::path::PathBuf;
use std::process::exit;

fn main() {
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        fail("CARGO_MANIFEST_DIR is not set");
    };
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        fail("OUT_DIR is not set");
    };
    let grammar_dir = PathBuf::from(manifest_dir).join("../../grammar");
    let grammar = grammar_dir.join("rdt.lalrpop");
    println!("cargo:rerun-if-changed={}", grammar.display());
    println!("cargo:rerun-if-changed=build.rs");
    let result = lalrpop::Configuration::new()
        .set_in_dir(&grammar_dir)
        .set_out_dir(out_dir)
        .process_file(&grammar);
    if let Err(e) = result {
        fail(&format!(
            "cannot generate the parser from {}: {e}",
            grammar.display()
        ));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1)
}
