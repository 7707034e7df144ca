//! Golden tests for diagnostics: each `golden/NAME.d` must fail to parse, and the rendered
//! diagnostics must equal `golden/NAME.expected` exactly. `BLESS=1 cargo test` rewrites the
//! expected files; review the diff before committing it.

use std::fs;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn rendered(name: &str, source: &str) -> String {
    match rdt_syntax::parse(source) {
        Ok(program) => format!("unexpectedly parsed: {program:#?}\n"),
        Err(diagnostics) => rdt_syntax::render(name, source, &diagnostics),
    }
}

#[test]
fn golden_diagnostics() {
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    let mut cases: Vec<PathBuf> = fs::read_dir(golden_dir())
        .expect("golden directory exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "d"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 12,
        "expected at least 12 golden cases, found {}",
        cases.len()
    );

    let mut mismatches = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        let source = fs::read_to_string(case).expect("readable case");
        let actual = rendered(name, &source);
        let expected_path = case.with_extension("expected");
        if bless {
            fs::write(&expected_path, &actual).expect("writable expected file");
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            mismatches.push(format!(
                "--- {name}: expected\n{expected}\n--- {name}: actual\n{actual}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden mismatches (run with BLESS=1 to update):\n{}",
        mismatches.join("\n")
    );
}
