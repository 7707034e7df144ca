//! The reference in docs/ and the README names, beside each example, the e2e case that runs it
//! (`funcs/cgroupid_and_path.case`, `tests/vm/cases/kprobe/offset.case`). A renamed or deleted
//! case would leave the docs pointing at nothing, and the example untested: every name must be
//! a case file.

use regex::Regex;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn documents() -> Vec<PathBuf> {
    let mut docs = vec![repo().join("README.md")];
    if let Ok(entries) = std::fs::read_dir(repo().join("docs")) {
        docs.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "md")),
        );
    }
    docs
}

/// Where a case named in the docs lives: under tests/vm/cases when the name says so, else under
/// tests/cases (or tests/vm/cases, for VM cases named by their area alone).
fn exists(name: &str) -> bool {
    let root = repo();
    let name = name.trim_start_matches("./");
    if let Some(rest) = name.strip_prefix("tests/") {
        return root.join("tests").join(rest).is_file();
    }
    root.join("tests/cases").join(name).is_file()
        || root.join("tests/vm/cases").join(name).is_file()
}

#[test]
fn every_case_named_in_the_docs_exists() {
    let case = Regex::new(r"[A-Za-z0-9_./-]*[a-z0-9_]+/[a-z0-9_/]+\.case").expect("a valid regex");
    let mut named = 0;
    let mut missing = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap_or_default();
        for m in case.find_iter(&text) {
            named += 1;
            if !exists(m.as_str()) {
                missing.push(format!("{}: {}", doc.display(), m.as_str()));
            }
        }
    }
    assert!(
        named > 50,
        "only {named} case names found in the docs: is the pattern right?"
    );
    assert!(
        missing.is_empty(),
        "docs name cases that do not exist:\n{}",
        missing.join("\n")
    );
}
